/*
 * device.h (private to tools/teep-agent): teep-agent, the device side of
 * TEEP through a broker.  It opens a TEE through the TEE plugin host
 * (plugins/host/tee_host.h; the simulated TEE by default, whose Agent
 * answers the TAM) and plays the Broker of RFC 9397 for it: it asks the
 * Agent (RequestPolicyCheck, RequestTA), carries the Agent's messages to
 * the broker named by the TAM URI the Agent returns, and the answers
 * back (digest 4.4), over the transport the URI's scheme names.
 *
 * Files:
 *   main.c            command line, signals, start and stop, exit codes
 *   tee.c             the TEE: plugin, runner, session, op calls
 *   session.c         conversations (plugins/host/tee_conv.h): queue,
 *                     transports, logs
 *   transport.c       transports by URI scheme
 *   transport_http.c  TEEP over HTTP (teepnet client)
 *   transport_ws.c    TEEP over WebSocket (one persistent connection,
 *                     push)
 *   transport_coap.c  TEEP over CoAP (libcoap; Observe for push)
 *   keys.c            the Agent's public keys, for registration
 *
 * Everything runs on one libuv loop; TEE ops run on libuv's worker
 * threads through the runner, one at a time (dev->tee.runner on
 * dev->tee.lane: conversations run them through plugins/host/tee_conv.h).
 */
#ifndef TEEP_AGENT_DEVICE_H
#define TEEP_AGENT_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "tee_host.h"
#include "tee_ua_gateway.h"
#include "teep/buf.h"
#include "teep/tee_plugin.h"

#define DEV_MAX_KEYS     8
#define DEV_MAX_REQUESTS 16

typedef struct dev device_t;

/* ---- options (main.c) -------------------------------------------------- */

typedef struct dev_options {
    const char *broker;     /* the broker's TAM URI */
    const char *state_dir;  /* the TEE's state */
    const char *plugin_dir; /* TEE plugins */
    const char *plugin;     /* TEE plugin name, "tee_sim" */
    teep_tee_instance_t instance;
    const char *tam_keys[DEV_MAX_KEYS]; /* TAM trust anchors */
    size_t n_tam_keys;
    const char *tc_signers[DEV_MAX_KEYS];
    size_t n_tc_signers;
    const char *requests[DEV_MAX_REQUESTS]; /* --request-ta */
    size_t n_requests;
    const char *device;      /* the name the broker knows us by (push) */
    const char *ca_file;     /* https / wss trust anchors */
    const char *ua_dir;      /* where authorised UAs are installed */
    const char *ua_socket;   /* UA gateway socket, or NULL */
    const char *profile;     /* auto, rfc, legacy */
    const char *export_keys; /* copy the public keys here and stop */
    unsigned interval_s;     /* policy checks every S seconds, 0: none */
    unsigned timeout_s;      /* an answer must come within this */
    bool once;
    teep_log_level_t log_level;
} dev_options_t;

/* ---- logging (main.c) -------------------------------------------------- */

/* One line on stderr: "teep-agent: <level>: ...". */
void dev_log(const device_t *dev, teep_log_level_t level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- the TEE (tee.c) --------------------------------------------------- */

typedef struct dev_tee {
    teep_plugin_handle_t plugin;
    teep_tee_runner_t runner;
    bool runner_ready;
    teep_tee_lane_t lane;
    teep_tee_call_t call; /* session_open / session_close */
    teep_tee_ua_gateway_t gateway;
    bool gateway_on;
    bool open;
    void (*opened)(device_t *dev, int rc);
    void (*closed)(device_t *dev);
} dev_tee_t;

/* Load the TEE plugin and start its runner (the plugin's timers ask for
 * policy checks through dev_policy_check).  0 or a negative code, logged. */
int dev_tee_init(device_t *dev);

/* Open the TEE session (state dir, instance, options from the command
 * line) on the lane; opened(dev, rc) runs on the loop. */
void dev_tee_open(device_t *dev, void (*opened)(device_t *dev, int rc));

/* Close the session (if open), then fini the plugin; closed(dev) runs on
 * the loop once nothing of the TEE is left but the loaded library. */
void dev_tee_close(device_t *dev, void (*closed)(device_t *dev));

/* ---- transports (transport*.c) ----------------------------------------- */

typedef enum dev_answer_kind {
    DEV_ANSWER_MESSAGE = 0, /* the TAM's next message */
    DEV_ANSWER_NONE = 1,    /* the TAM has nothing more */
    DEV_ANSWER_FAILED = 2,  /* code: an HTTP status, or -errno */
} dev_answer_kind_t;

typedef struct dev_answer {
    dev_answer_kind_t kind;
    teep_buf_t *body; /* MESSAGE: borrowed for the callback */
    int code;         /* FAILED */
    const char *reason;
} dev_answer_t;

typedef void (*dev_answer_cb)(void *arg, const dev_answer_t *answer);

typedef struct dev_transport dev_transport_t;

typedef struct dev_transport_ops {
    const char *name;
    const char *const *schemes; /* NULL-terminated */
    /* Make a transport to the broker at uri (connecting may start now).
     * 0 or a negative code, logged. */
    int (*open)(device_t *dev, const char *uri, dev_transport_t **out);
    /* One exchange: the Agent's message body[0..len) (copied; len 0: the
     * empty message that asks for a new session).  cb runs exactly once,
     * on the loop, never from inside this call.  0 or -errno (no cb). */
    int (*exchange)(dev_transport_t *t, const uint8_t *body, size_t len,
                    dev_answer_cb cb, void *arg);
    /* Close; done(arg) once everything is released (t is freed). */
    void (*close)(dev_transport_t *t, void (*done)(void *arg), void *arg);
} dev_transport_ops_t;

/* What every transport starts with. */
struct dev_transport {
    const dev_transport_ops_t *ops;
    device_t *dev;
    char uri[TEEP_TEE_URI_MAX];
    dev_transport_t *next;
};

extern const dev_transport_ops_t dev_transport_http;
extern const dev_transport_ops_t dev_transport_ws;
extern const dev_transport_ops_t dev_transport_coap;

/* The transport for uri, opened on first use (its scheme picks which).
 * NULL when no transport serves the scheme or it cannot open (logged). */
dev_transport_t *dev_transport_get(device_t *dev, const char *uri);

/* Close every transport; done(dev) once all are released. */
void dev_transports_close(device_t *dev, void (*done)(device_t *dev));

/* ---- conversations (session.c) ----------------------------------------- */

/* A policy check: RequestPolicyCheck until the Agent names no TAM.  A
 * check asked for while one runs makes one more run afterwards. */
void dev_policy_check(device_t *dev, const char *why);

/* RequestTA for the encoded component identifier id[0..len) (copied).
 * 0 or -ENOMEM. */
int dev_request_ta(device_t *dev, const uint8_t *id, size_t len);

/* Whether no conversation runs or waits. */
bool dev_idle(const device_t *dev);

/* Stopping: drop the conversations that wait.  Returns whether none runs
 * either; else dev_conversations_ended(dev) is called once the running
 * one has ended (the Agent told of its failure when it could not end
 * well). */
bool dev_drop_waiting(device_t *dev);

/* (main.c) The last conversation ended while stopping. */
void dev_conversations_ended(device_t *dev);

/* ---- keys.c ------------------------------------------------------------ */

/* Copy the Agent's public TEEP and attestation keys, which it publishes
 * in opt->state_dir when its session opens (AGENT_PUBLIC_TEEP_KEY,
 * AGENT_PUBLIC_ATTEST_KEY), to out_dir.  The session must have been
 * opened.  0 or a negative code, logged. */
int dev_export_keys(device_t *dev, const char *out_dir);

/* ---- the device agent -------------------------------------------------- */

typedef struct dev_conv dev_conv_t;

struct dev {
    uv_loop_t *loop;
    dev_options_t opt;
    dev_tee_t tee;
    dev_transport_t *transports;
    unsigned transports_closing;
    void (*transports_closed)(device_t *dev);
    /* conversations: one at a time, the others wait in order */
    dev_conv_t *running;
    dev_conv_t *queue_head, *queue_tail;
    bool policy_queued; /* a policy check waits or runs */
    bool policy_again;  /* another was asked for meanwhile */
    uint64_t next_session;
    unsigned sessions_ok, sessions_failed;
    bool stopping;
    int exit_code;
    uv_signal_t sigint, sigterm, sigusr1;
    uv_idle_t idle_check; /* --once: stop when nothing is left */
};

/* Stop: close transports and the TEE, then the loop ends.  exit_code is
 * what main returns. */
void dev_stop(device_t *dev, int exit_code);

#endif
