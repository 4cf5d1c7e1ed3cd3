/*
 * teep/transport_plugin.h: the ABI between teep-broker and a transport
 * plugin (HTTP, CoAP, WebSocket ...).  A transport accepts agent-side
 * traffic and submits "this TEEP message (or an empty body: a new session)
 * for TAM route R"; the host relays it and completes the exchange with the
 * TAM's answer: a message, no content, or an error of a known kind, which
 * the transport maps onto its own status codes.
 *
 * A transport plugin exports one teep_plugin_descriptor_t (teep/plugin.h)
 * of class TEEP_PLUGIN_CLASS_TRANSPORT whose ops point to a
 * teep_transport_ops_t.  plugins/transport/http is the reference.
 *
 * Threads and loops: the broker runs one libuv loop per worker thread and
 * creates one instance of each configured listener per worker, on that
 * worker's loop (host->loop), listening with SO_REUSEPORT.  Every op and
 * every host function is called on that loop's thread; nothing is shared
 * between instances, so no locks.  Timers are libuv timers on host->loop.
 *
 * Buffers: messages travel as teep_buf_t (teep/buf.h) and are never copied
 * on the relay path: the bytes a transport received are the bytes the host
 * writes upstream, and the TAM's answer is handed back in the buffer it was
 * read into.  A transport that needs framing room in front of payloads
 * (WebSocket: LWS_PRE) says so in ops->headroom; the host reads upstream
 * answers into buffers with that much headroom when it can, and otherwise
 * copies the answer once into one that has it (counted on /metrics as
 * teep_broker_payload_copied_bytes_total).
 *
 * Versions: the ops table, the host table and the submission start with
 * their size; a minor version only appends members, and each side reads a
 * member of the other's struct only when that size covers it
 * (TEEP_TRANSPORT_HAS).
 */
#ifndef TEEP_TRANSPORT_PLUGIN_H
#define TEEP_TRANSPORT_PLUGIN_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "teep/buf.h"
#include "teep/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Whether a struct that starts with size_t size has member m. */
#define TEEP_TRANSPORT_HAS(ptr, type, m)                                       \
    ((ptr)->size >= offsetof(type, m) + sizeof(((type *)0)->m))

/* The media type of TEEP messages (draft-ietf-teep-otrp-over-http). */
#define TEEP_MEDIA_TYPE "application/teep+cbor"

/* Its CoAP Content-Format until IANA assigns one: from the experimental
 * range 65000-65535 of RFC 7252 12.3 (the 60 recalls application/cbor).
 * The broker's CoAP listener may be configured for another
 * (docs/transport-coap.md, "Content-Format"). */
#define TEEP_COAP_CONTENT_FORMAT 65060

/* How an exchange ended. */
typedef enum teep_exchange_outcome {
    TEEP_EXCHANGE_MESSAGE = 0,    /* the TAM answered with a TEEP message */
    TEEP_EXCHANGE_NO_CONTENT = 1, /* the TAM has nothing more (HTTP 204) */
    TEEP_EXCHANGE_FAILED = 2,     /* see teep_exchange_error_t */
} teep_exchange_outcome_t;

/* Why an exchange failed, independent of any transport.  The mapping a
 * transport uses (HTTP status / CoAP code) is given after each. */
typedef enum teep_exchange_error {
    TEEP_XERR_NONE = 0,
    TEEP_XERR_BAD_MESSAGE,       /* not a well-formed TEEP message: 400/4.00 */
    TEEP_XERR_MEDIA_TYPE,        /* wrong content type: 415/4.15 (found by
                                    the transport itself) */
    TEEP_XERR_TOO_LARGE,         /* over the body limit: 413/4.13 */
    TEEP_XERR_UNKNOWN_ROUTE,     /* no TAM route of that name: 404/4.04 */
    TEEP_XERR_OVERLOADED,        /* pending bound reached: 503/5.03 +
                                    retry_after_s */
    TEEP_XERR_DRAINING,          /* broker shutting down: 503/5.03 +
                                    retry_after_s */
    TEEP_XERR_UPSTREAM_DOWN,     /* no TAM endpoint reachable, or the TAM
                                    closed the connection: 502/5.02 */
    TEEP_XERR_UPSTREAM_TIMEOUT,  /* the TAM did not answer in time:
                                    504/5.04 */
    TEEP_XERR_UPSTREAM_STATUS,   /* the TAM answered an error status:
                                    upstream_status carries it, pass it on */
    TEEP_XERR_UPSTREAM_PROTOCOL, /* the TAM's answer is not TEEP over HTTP
                                    (malformed, wrong media type, too
                                    large, TLS failure): 502/5.02 */
    TEEP_XERR_INTERNAL,          /* 500/5.00 */
    TEEP_XERR_COUNT              /* number of kinds, for tables */
} teep_exchange_error_t;

/* The completion of an exchange.  Borrowed for the callback: take a
 * reference to body to keep it. */
typedef struct teep_exchange_reply {
    teep_exchange_outcome_t outcome;
    teep_buf_t *body;            /* MESSAGE: the TAM's bytes, with at least
                                    ops->headroom bytes of headroom */
    teep_exchange_error_t error; /* FAILED */
    int upstream_status;         /* UPSTREAM_STATUS: the TAM's HTTP status */
    uint32_t retry_after_s;      /* OVERLOADED / DRAINING: > 0 */
    const char *reason;          /* FAILED: one line for logs and error
                                    bodies, static or valid for the call */
} teep_exchange_reply_t;

/* The HTTP status TEEP over HTTP answers for a failed exchange: the
 * reference mapping, which bindings built on HTTP statuses (the WebSocket
 * control vocabulary) reuse and others (CoAP) translate.  The TAM's own
 * refusal or failure (4xx, 5xx) goes to the device as it was; anything
 * else it said is not TEEP over HTTP (502).  Inline: plugins share it
 * without linking the host. */
static inline int teep_exchange_http_status(const teep_exchange_reply_t *r)
{
    switch (r->error) {
    case TEEP_XERR_BAD_MESSAGE: return 400;
    case TEEP_XERR_MEDIA_TYPE: return 415;
    case TEEP_XERR_TOO_LARGE: return 413;
    case TEEP_XERR_UNKNOWN_ROUTE: return 404;
    case TEEP_XERR_OVERLOADED:
    case TEEP_XERR_DRAINING: return 503;
    case TEEP_XERR_UPSTREAM_DOWN:
    case TEEP_XERR_UPSTREAM_PROTOCOL: return 502;
    case TEEP_XERR_UPSTREAM_TIMEOUT: return 504;
    case TEEP_XERR_UPSTREAM_STATUS:
        return r->upstream_status >= 400 && r->upstream_status <= 599
                   ? r->upstream_status
                   : 502;
    default: return 500;
    }
}

typedef struct teep_exchange teep_exchange_t; /* the host's, opaque */

/* Called exactly once per accepted submission, on the instance's loop,
 * never from inside submit, and never after cancel. */
typedef void (*teep_exchange_cb)(void *cb_data,
                                 const teep_exchange_reply_t *reply);

/* One submission: everything borrowed for the call except body, to which
 * the host takes its own reference. */
typedef struct teep_exchange_request {
    size_t size;       /* sizeof(teep_exchange_request_t) */
    const char *route; /* the TAM route's name, route_len bytes, not
                          NUL-terminated; empty: the default route */
    size_t route_len;
    const char *device; /* names the agent for logs and push; may be
                           empty */
    size_t device_len;
    const char *peer; /* the agent's address for logs ("127.0.0.1:
                         5123"), NUL-terminated, or NULL */
    teep_buf_t *body; /* the COSE-wrapped message, or NULL for an
                         empty body (a new session) */
    teep_exchange_cb cb;
    void *cb_data;
} teep_exchange_request_t;

/* What the host gives a transport instance.  Starts with its size so that
 * a newer minor can add members at the end. */
typedef struct teep_transport_host {
    size_t size;
    void *host_data; /* pass back as the first argument of every call */
    uv_loop_t *loop; /* the worker loop this instance runs on */
    unsigned worker; /* index of that worker, for logs */

    /* One log line; the host adds time, worker and plugin name. */
    void (*log)(void *host_data, teep_log_level_t level, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

    /* Submit an exchange (see teep_exchange_request_t).  On success
     * *handle identifies the exchange until its callback runs.  Returns 0,
     * or -EINVAL (a malformed request) / -ENOMEM when it cannot even be
     * accepted; every other failure (bad message, unknown route, overload,
     * TAM down ...) comes through the callback. */
    int (*submit)(void *host_data, const teep_exchange_request_t *req,
                  teep_exchange_t **handle);

    /* The agent went away: drop the exchange.  Its callback will not run;
     * handle is invalid after the call. */
    void (*cancel)(void *host_data, teep_exchange_t *handle);

    /* Add delta to a transport-specific counter, exposed on /metrics as
     * teep_broker_transport_<name>_total{plugin="<plugin name>"} summed
     * over workers; name is a static string of [a-z0-9_]. */
    void (*count)(void *host_data, const char *name, uint64_t delta);

    /* Set a transport-specific gauge, exposed as
     * teep_broker_transport_<name>{plugin="..."} summed over workers. */
    void (*gauge)(void *host_data, const char *name, uint64_t value);

    /* A buffer of size bytes after headroom bytes of headroom for what the
     * transport receives, from the host (teep_buf_new), counted on
     * /metrics as teep_broker_transport_buffer_bytes_total{plugin=...}.
     * The caller owns the one reference.  NULL when out of memory. */
    teep_buf_t *(*buf_new)(void *host_data, size_t headroom, size_t size);

    void *reserved[4];
} teep_transport_host_t;

/* One listener option from the configuration (key = value, strings). */
typedef struct teep_transport_option {
    const char *key;
    const char *value;
} teep_transport_option_t;

typedef struct teep_transport_ops {
    size_t size; /* sizeof(teep_transport_ops_t) the plugin was built with */

    /* URI schemes served, NULL-terminated: {"http", "https", NULL}. */
    const char *const *schemes;

    /* Headroom the plugin needs in front of every body handed to it. */
    size_t headroom;

    /* Create an instance for one listener URI ("http://127.0.0.1:8088")
     * on host->loop.  host stays valid until destroy.  options are
     * borrowed for the call.  Returns 0 with *instance set, -EINVAL with a
     * logged reason for a bad URI or option, other -errno. */
    int (*create)(const teep_transport_host_t *host, const char *listen_uri,
                  const teep_transport_option_t *options, size_t n_options,
                  void **instance);

    /* Start accepting.  Returns 0, -EADDRINUSE (the port is taken: refuse
     * to start), other -errno. */
    int (*start)(void *instance);

    /* The URI actually listened on, after start: a port 0 in the listener
     * URI is replaced by the port the system chose ("http://127.0.0.1:
     * 40123").  The host starts worker 0 first and gives the other workers
     * this URI, so that all share the port.  Writes a NUL-terminated
     * string into buf[0..cap).  Returns 0, -ENOSPC. */
    int (*local_uri)(void *instance, char *buf, size_t cap);

    /* Drain: stop accepting, let exchanges in flight complete and their
     * answers be delivered, close idle connections, then call done(arg)
     * once on the loop (possibly from inside stop, when nothing was left
     * to wait for).  After done only destroy may be called. */
    void (*stop)(void *instance, void (*done)(void *arg), void *arg);

    /* Free the instance, only after stop's done: an instance whose start
     * failed is stopped too, so that its handles close first. */
    void (*destroy)(void *instance);

    /* Optional (NULL if unsupported): ask the connected device named
     * device to check in now (WebSocket push, CoAP Observe notification).
     * Returns 0, -ENOENT (not connected here), -ENOTSUP. */
    int (*push)(void *instance, const char *device, size_t device_len);

    void *reserved[4];
} teep_transport_ops_t;

#ifdef __cplusplus
}
#endif
#endif
