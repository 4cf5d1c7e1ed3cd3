/*
 * teep/tee_plugin.h: the TEE plugin ABI.  A TEE plugin is how the broker
 * reaches a TEEP Agent that lives inside a TEE (SGX, TrustZone, SEV-SNP,
 * TDX, CCA, or the software-simulated TEE in plugins/tee/sim).  It carries
 * the conceptual Broker -> Agent API of RFC 9397 section 6.2.1
 * (RequestTA, UnrequestTA, RequestPolicyCheck, ProcessTeepMessage,
 * ProcessError) plus what a broker needs around it: listing installed
 * components and invoking a TA on behalf of an Untrusted Application.
 *
 * Everything a third-party plugin author needs is in this header and in
 * teep/plugin.h:
 *
 * 1. Export one descriptor, with class TEEP_PLUGIN_CLASS_TEE and ops
 *    pointing at a const teep_tee_ops_t:
 *        static const teep_tee_ops_t ops = {.size = sizeof(ops), ...};
 *        TEEP_PLUGIN_DEFINE(TEEP_PLUGIN_CLASS_TEE, "sgx", "Intel SGX", &ops);
 *    Link with -Wl,--no-undefined; reach the host only through the
 *    teep_tee_host_t given to init.
 *
 * 2. Threads.  Every op may block (a real TEE driver is an ioctl; SUIT
 *    processing may fetch payloads).  The host therefore never calls an op
 *    on its event loop: it calls them from worker threads
 *    (uv_queue_work), and it serialises the calls that name the same
 *    session: two ops on one session never overlap, ops on different
 *    sessions may run at the same time on different threads.  init and
 *    fini are called once, with no session open.  The host's callbacks
 *    (timers) run on the host's event loop, concurrently with ops: the
 *    plugin protects what both touch, and must not block in a callback.
 *
 * 3. Buffers.  Inputs (teep_slice_t, const char *) are borrowed for the
 *    duration of the call: copy what must outlive it.  Outputs that have
 *    a variable size are teep_tee_buf_t filled by the plugin with memory
 *    the plugin allocated; the host hands every such buffer back with
 *    free_buffer once it is done with it, on any thread, also after a
 *    failed op (a plugin that fails leaves its outputs zeroed, so the
 *    call is then a no-op).  The host zeroes every output before a call.
 *
 * 4. Results.  Ops return 0 or a negative code: -errno (-ENOMEM, -EINVAL,
 *    -ENOENT, -ETIMEDOUT ...) or a TEEP_E_* code from teep/common.h.  A
 *    TEEP message the Agent refuses is not a failure of the op: the Agent
 *    answers it with a TEEP Error message, returned as output with 0.
 *
 * 5. Versions.  The ops table, the host table and the parameter structs
 *    start with their size; a minor version only appends members.  The
 *    host reads an op only when ops->size covers it, and a plugin reads a
 *    host member only when host->size covers it (TEEP_TEE_HAS).
 */
#ifndef TEEP_TEE_PLUGIN_H
#define TEEP_TEE_PLUGIN_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "teep/common.h"
#include "teep/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Whether a struct that starts with size_t size has member m. */
#define TEEP_TEE_HAS(ptr, type, m)                                             \
    ((ptr)->size >= offsetof(type, m) + sizeof(((type *)0)->m))

/* What the protected unit of a Trusted Application is (USECASE.md): one
 * process (SGX, TrustZone), one container (TrustZone, SGX, SEV-SNP, CCA,
 * TDX) or a whole VM (SEV-SNP, TDX, CCA).  A plugin that cannot host a
 * type refuses session_open with -ENOTSUP. */
typedef enum teep_tee_instance {
    TEEP_TEE_INSTANCE_PROCESS = 1,
    TEEP_TEE_INSTANCE_CONTAINER = 2,
    TEEP_TEE_INSTANCE_VM = 3,
} teep_tee_instance_t;

/* The name of a type: "process", "container", "vm"; "unknown" otherwise.
 * Inline so that host and plugins share it without a library. */
static inline const char *teep_tee_instance_name(teep_tee_instance_t type)
{
    switch (type) {
    case TEEP_TEE_INSTANCE_PROCESS: return "process";
    case TEEP_TEE_INSTANCE_CONTAINER: return "container";
    case TEEP_TEE_INSTANCE_VM: return "vm";
    }
    return "unknown";
}

/* "process" / "container" / "vm" -> *out; 0, or -EINVAL for any other
 * name. */
static inline int teep_tee_instance_parse(const char *name,
                                          teep_tee_instance_t *out)
{
    for (int t = TEEP_TEE_INSTANCE_PROCESS; t <= TEEP_TEE_INSTANCE_VM; t++) {
        if (name != NULL &&
            strcmp(name, teep_tee_instance_name((teep_tee_instance_t)t)) == 0) {
            *out = (teep_tee_instance_t)t;
            return 0;
        }
    }
    return -EINVAL;
}

/* Bytes the plugin allocated; released with ops->free_buffer. */
typedef struct teep_tee_buf {
    uint8_t *ptr;
    size_t len;
} teep_tee_buf_t;

/* URIs are NUL-terminated text in a fixed field. */
#define TEEP_TEE_URI_MAX 512

/*
 * What RequestTA, UnrequestTA and RequestPolicyCheck return (RFC 9397
 * 6.2.1): the TAM to contact (tam_uri, empty string: nothing to do) and
 * optionally the first message to send it (an unsolicited QueryResponse;
 * message.ptr NULL: send an empty request so that the TAM starts with a
 * QueryRequest).  message is plugin memory (free_buffer).
 */
typedef struct teep_tee_request_result {
    char tam_uri[TEEP_TEE_URI_MAX];
    teep_tee_buf_t message;
} teep_tee_request_result_t;

/* One installed Trusted Component, as list_components reports it. */
typedef struct teep_tee_component {
    teep_slice_t component_id; /* encoded SUIT_Component_Identifier */
    uint64_t sequence_number;  /* of the manifest that installed it */
    teep_tee_instance_t instance;
    bool is_ta;         /* an executable TA (else data, e.g. a manifest) */
    bool running;       /* the TA is running now */
    bool has_pd;        /* personalization data was delivered to it */
    uint8_t digest[32]; /* SHA-256 of its content */
} teep_tee_component_t;

/* list_components' output: items, and the bytes component_id slices
 * point into, in one plugin allocation released by free_buffer(list.
 * storage). */
typedef struct teep_tee_component_list {
    teep_tee_component_t *items;
    size_t count;
    teep_tee_buf_t storage;
} teep_tee_component_list_t;

/* One configuration entry for a session: key = value, both text. */
typedef struct teep_tee_option {
    const char *key;
    const char *value;
} teep_tee_option_t;

/*
 * What opens a TEE session: the TEE's state directory (created 0700 when
 * missing; the plugin keeps its sealed state there and nothing else
 * should read it), the instance type the TAs of this TEE run as, and
 * plugin-specific options.  The sim plugin's options are listed in
 * docs/tee-sim.md (tam_uri, tam_key, tc_signer_key, profile, ...); a
 * plugin refuses an unknown key with -EINVAL and a log line naming it.
 * Everything is borrowed for the call.
 */
typedef struct teep_tee_session_params {
    size_t size;
    const char *state_dir;
    teep_tee_instance_t instance;
    const teep_tee_option_t *options;
    size_t n_options;
} teep_tee_session_params_t;

/* A plugin's session: opaque to the host. */
typedef struct teep_tee_session teep_tee_session_t;

/* ---- Host table -------------------------------------------------------- */

typedef struct teep_tee_host teep_tee_host_t;

/* A timer callback: on the host's event loop; must not block. */
typedef void (*teep_tee_timer_cb)(void *arg);

struct teep_tee_host {
    size_t size;
    /* Log a line (no trailing newline needed).  Any thread. */
    void (*log)(const teep_tee_host_t *host, teep_log_level_t level,
                const char *fmt, ...) __attribute__((format(printf, 3, 4)));
    /*
     * Call cb(arg) on the host loop every period_ms milliseconds (first
     * after one period) until timer_stop.  Any thread.  *timer receives
     * an id for timer_stop.  Returns 0, -EINVAL (period 0), -ENOMEM.
     * A plugin stops its timers before session_close / fini returns; the
     * host guarantees no callback runs after timer_stop returned.
     */
    int (*timer_start)(const teep_tee_host_t *host, uint64_t period_ms,
                       teep_tee_timer_cb cb, void *arg, uint64_t *timer);
    int (*timer_stop)(const teep_tee_host_t *host, uint64_t timer);
    /*
     * Ask the host to run ops->request_policy_check for session soon (on
     * a worker, serialised as usual) and to contact the TAM it names.
     * Non-blocking; callable from a timer callback: this is how a plugin
     * gets "a policy check every N seconds".  Returns 0 or -ENOMEM.
     */
    int (*schedule_policy_check)(const teep_tee_host_t *host,
                                 teep_tee_session_t *session);
    /*
     * Install an Untrusted Application in the REE: the Agent authorised it
     * (it came in a SUIT manifest signed by a trusted TC signer and an
     * Update signed by a trusted TAM).  name is the last segment of its
     * component identifier (text, no '/'), bytes its executable.  Borrowed
     * for the call; called from inside an op (on a worker thread).
     * Returns 0 or -errno.
     */
    int (*install_ua)(const teep_tee_host_t *host, const char *name,
                      const uint8_t *bytes, size_t len);
    void *host_data; /* for the host */
};

/* ---- Ops table --------------------------------------------------------- */

/*
 * tam_session (in the ops below) is a number the host picks for one
 * conversation with one TAM (one HTTP session of TEEP over HTTP): the
 * request_* op or the first TAM message that starts it, every
 * process_teep_message of the exchange, and process_error all carry the
 * same number, and the host never reuses a number while the conversation
 * lasts.  The Agent uses it to know which of its own messages a TAM
 * message answers (principle 1: personalization data is accepted only in
 * the conversation in which this Agent gave its attestation Evidence).
 */
typedef struct teep_tee_ops {
    size_t size;

    /* Once after loading: keep host (valid until fini returns); *state is
     * the plugin's, passed to session_open and free_buffer.  0 or -errno. */
    int (*init)(const teep_tee_host_t *host, void **state);
    /* Once before unloading, every session closed. */
    void (*fini)(void *state);

    /* Start (or resume, from its state directory) a TEE and its Agent.
     * *session is the plugin's.  Returns 0, -EINVAL (bad parameters, an
     * unknown option), -ENOTSUP (instance type), -EACCES / -EIO (state
     * directory), -EBUSY (the state directory is in use by another
     * session), or a TEEP_E_* code (a sealed state that does not open). */
    int (*session_open)(void *state, const teep_tee_session_params_t *params,
                        teep_tee_session_t **session);
    /* Stop the TAs the session runs (they are restarted by the next
     * session_open on the same state directory) and release it. */
    void (*session_close)(teep_tee_session_t *session);

    /*
     * RequestTA: the REE wants the Trusted Component component_id (an
     * encoded SUIT_Component_Identifier); tam_uri_hint (NUL-terminated,
     * may be NULL) is where the caller thinks it comes from.  Fills *out;
     * an empty tam_uri means the component is installed already.  Returns
     * 0, -EINVAL (malformed identifier), -ENOENT (no TAM configured).
     */
    int (*request_ta)(teep_tee_session_t *session, uint64_t tam_session,
                      teep_slice_t component_id, const char *tam_uri_hint,
                      teep_tee_request_result_t *out);
    /* UnrequestTA: the REE no longer needs component_id.  As request_ta;
     * an empty tam_uri means it is not installed. */
    int (*unrequest_ta)(teep_tee_session_t *session, uint64_t tam_session,
                        teep_slice_t component_id, const char *tam_uri_hint,
                        teep_tee_request_result_t *out);
    /* RequestPolicyCheck: one TAM to contact per call, skipping the TAMs
     * contacted recently; an empty tam_uri when none is left. */
    int (*request_policy_check)(teep_tee_session_t *session,
                                uint64_t tam_session,
                                teep_tee_request_result_t *out);

    /*
     * ProcessTeepMessage: message (a COSE-wrapped TEEP message, media type
     * application/teep+cbor) came from the TAM at tam_uri (may be NULL)
     * in conversation tam_session.  *reply receives the message to send
     * back (QueryResponse, Success or Error), or stays empty when there is
     * nothing to send.  Returns 0 (also when the reply is an Error
     * message), -ENOMEM, -EIO (the state could not be saved), or another
     * negative code when no answer can be produced at all.
     */
    int (*process_teep_message)(teep_tee_session_t *session,
                                uint64_t tam_session, const char *tam_uri,
                                teep_slice_t message, teep_tee_buf_t *reply);
    /* ProcessError: the conversation tam_session failed in the REE
     * (transport error, HTTP status) with code (-errno or an HTTP status
     * as a positive number).  The Agent forgets the conversation.
     * Returns 0. */
    int (*process_error)(teep_tee_session_t *session, uint64_t tam_session,
                         const char *tam_uri, int code);

    /* Every installed Trusted Component (*list: one plugin allocation,
     * release list->storage with free_buffer).  0 or -ENOMEM. */
    int (*list_components)(teep_tee_session_t *session,
                           teep_tee_component_list_t *list);
    /*
     * Invoke the TA component_id with request (how a UA reaches its TA):
     * the bytes go to the running TA and its answer comes back in *reply.
     * Returns 0, -ENOENT (no such TA, or not running), -ETIMEDOUT (no
     * answer within the plugin's limit), -EMSGSIZE (request or answer too
     * large for the TA channel, TEEP_TEE_INVOKE_MAX), -EIO.
     */
    int (*invoke_ta)(teep_tee_session_t *session, teep_slice_t component_id,
                     teep_slice_t request, teep_tee_buf_t *reply);

    /* Release a buffer this plugin returned (ptr NULL: nothing).  Sets
     * buf to zero.  Any thread. */
    void (*free_buffer)(void *state, teep_tee_buf_t *buf);
} teep_tee_ops_t;

/* Largest request or answer invoke_ta carries. */
#define TEEP_TEE_INVOKE_MAX 65536

#ifdef __cplusplus
}
#endif
#endif
