/*
 * coap_transport.h: what the CoAP transport plugin's files share.
 *
 *   coap_transport.c  the plugin: ops table, instances, start / stop
 *   coap_options.c    listener options -> teep_coap_config_t
 *   coap_listen.c     the coap:// URI, the port-in-use probe, endpoints
 *   coap_dtls.c       coaps: DTLS with a PSK and / or certificates
 *   coap_io.c         libcoap driven by the worker's libuv loop
 *   coap_exchange.c   POST <prefix>[/ROUTE]: checks, Block1, separate
 *                     responses through libcoap's async API
 *   coap_assembly.c   our own bounded Block1 reassembly
 *   coap_reply.c      exchange outcomes -> CoAP response codes
 *   coap_peers.c      per-source admission (rate and pending bounds)
 *   coap_observe.c    <prefix>/device/NAME: Observe for check-in pushes
 *
 * The binding itself is docs/transport-coap.md.  Names here are
 * teep_coap_* so that nothing clashes with libcoap's coap_* symbols.
 */
#ifndef TEEP_COAP_TRANSPORT_H
#define TEEP_COAP_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <coap3/coap.h>
#include <uv.h>

#include "teep/transport_plugin.h"

/* The payload of a check-in resource is a CBOR unsigned integer. */
#define TEEP_COAP_FORMAT_CBOR 60

/* Longest route or device name: one Uri-Path segment we accept. */
#define TEEP_COAP_NAME_MAX 64

typedef struct teep_coap teep_coap_t;
typedef struct teep_coap_xchg teep_coap_xchg_t;
typedef struct teep_coap_assembly teep_coap_assembly_t;
typedef struct teep_coap_device teep_coap_device_t;
typedef struct teep_coap_seen teep_coap_seen_t;

/* ------------------------------------------------------------ config */

typedef struct teep_coap_config {
    char prefix[64]; /* resource path without the leading '/' */
    size_t prefix_len;
    uint16_t content_format;    /* default TEEP_COAP_CONTENT_FORMAT */
    size_t max_body;            /* largest request body (4.13 above) */
    size_t max_reassembly;      /* bytes of all Block1 bodies in progress */
    uint32_t block_timeout_ms;  /* a Block1 body idle this long is dropped */
    unsigned max_pending;       /* exchanges waiting for the TAM (5.03) */
    unsigned peer_max_pending;  /* the same, per source address (4.29) */
    unsigned peer_rate;         /* requests/s per source address, 0: off */
    unsigned peer_burst;        /* bucket depth of peer_rate */
    unsigned peer_slots;        /* source addresses tracked at once */
    unsigned max_sessions;      /* libcoap idle sessions kept */
    unsigned session_timeout_s; /* libcoap idle session lifetime */
    unsigned max_devices;       /* check-in resources (Observe) */
    unsigned dedup_slots;       /* answered requests remembered */
    unsigned retry_after_s;     /* Max-Age of the transport's own 5.03 */
    uint32_t stop_timeout_ms;   /* longest drain before closing anyway */
    /* coaps: owned copies, NULL when not set */
    char *psk_key;
    char *psk_hint;
    char *cert;
    char *key;
    char *ca;
} teep_coap_config_t;

/* Defaults for every field (no DTLS material). */
void teep_coap_config_default(teep_coap_config_t *cfg);

/* Apply the listener options (borrowed) to cfg: 0, or -EINVAL with one
 * log line through host naming the option, or -ENOMEM. */
int teep_coap_config_apply(teep_coap_config_t *cfg,
                           const teep_transport_host_t *host,
                           const teep_transport_option_t *o, size_t n);

/* Free the strings cfg owns. */
void teep_coap_config_free(teep_coap_config_t *cfg);

/* ------------------------------------------------------------ listen */

typedef struct teep_coap_uri {
    bool secure;   /* coaps */
    char host[64]; /* numeric address as written, without [] */
    uint16_t port; /* 0: let the system choose */
    char path[64]; /* without the leading '/', may be empty */
} teep_coap_uri_t;

/* Parse "coap[s]://ADDRESS[:PORT][/PATH]" (numeric IPv4 or [IPv6]; port
 * 5683 / 5684 when absent).  Returns 0 or -EINVAL. */
int teep_coap_uri_parse(const char *uri, teep_coap_uri_t *out);

/* Fill addr from a parsed URI.  Returns 0 or -EINVAL. */
int teep_coap_uri_address(const teep_coap_uri_t *u, coap_address_t *addr);

/* libcoap binds UDP with SO_REUSEADDR, so binding a port that another
 * socket holds (with SO_REUSEADDR too) "succeeds" and the datagrams go to
 * whichever socket the kernel prefers.  Bind a plain socket first: it
 * fails when anything holds the port.  A port 0 in addr is replaced by
 * the one the system picks.  Returns 0, -EADDRINUSE, other -errno. */
int teep_coap_probe_port(coap_address_t *addr);

/* -------------------------------------------------------------- path */

/* Whether n bytes at p make a route or device name: 1 to
 * TEEP_COAP_NAME_MAX unreserved URI characters, not "." or "..". */
bool teep_coap_name_ok(const char *p, size_t n);

/* When req's Uri-Path is <prefix>/REST, copy REST (without NUL) into
 * rest[0..cap) and set *len: 0.  Otherwise (or REST too long) -1. */
int teep_coap_path_rest(const teep_coap_t *in, const coap_pdu_t *req,
                        char *rest, size_t cap, size_t *len);

/* -------------------------------------------------------------- dtls */

/* Set up coaps on ctx from cfg: a PSK (psk_key, psk_hint) and / or a
 * certificate (cert, key, and ca to require and verify client
 * certificates).  Returns 0, or -EINVAL with a log line. */
int teep_coap_dtls_setup(teep_coap_t *in, coap_context_t *ctx);

/* ---------------------------------------------------------------- io */

/* Process once (libcoap's process-wide start-up, log bridge). */
void teep_coap_io_global_init(void);

/* Initialise the io timer on in->host->loop (counted in open_handles). */
void teep_coap_io_init(teep_coap_t *in);

/* Drive in->ctx from in->host->loop: a uv_poll on libcoap's epoll fd and
 * a timer for its timeouts.  Returns 0 or a libuv error. */
int teep_coap_io_start(teep_coap_t *in);

/* Have libcoap run soon (after an async trigger or a notification made
 * from outside its handlers). */
void teep_coap_io_kick(teep_coap_t *in);

/* Close the io handles (poll and timer); each close callback counts
 * down in->open_handles. */
void teep_coap_io_close(teep_coap_t *in, uv_close_cb closed);

/* ---------------------------------------------------------- exchange */

/* The POST handler of <prefix> and of the unknown resource (<prefix>/
 * ROUTE): see coap_exchange.c. */
void teep_coap_exchange_post(coap_resource_t *r, coap_session_t *s,
                             const coap_pdu_t *req, const coap_string_t *q,
                             coap_pdu_t *resp);

/* Drop every exchange at destroy: cancel those still at the host, free
 * the rest (libcoap frees the asyncs with its context). */
void teep_coap_exchange_drop_all(teep_coap_t *in);

/* ---------------------------------------------------------- assembly */

typedef enum teep_coap_assembly_result {
    TEEP_COAP_ASSEMBLY_MORE = 0,     /* answer 2.31 Continue */
    TEEP_COAP_ASSEMBLY_COMPLETE = 1, /* *body holds the whole body */
} teep_coap_assembly_result_t;

/* Add one Block1 block (data, len) of a request on session s for
 * resource r and route (route_len bytes).  size1 is the Size1 option, 0
 * if absent.  Returns MORE, COMPLETE with *body (the caller
 * owns its reference) or a negative CoAP response code to answer:
 * -4.08 (a block out of sequence), -4.13 (beyond max_body), -4.00 (a
 * non-final block that is not full size), -5.03 (reassembly budget
 * spent). */
int teep_coap_assembly_add(teep_coap_t *in, coap_session_t *s,
                           coap_resource_t *r, const char *route,
                           size_t route_len, const coap_block_t *b,
                           const uint8_t *data, size_t len, size_t size1,
                           teep_buf_t **body);

/* Drop the body in progress on session s, if any. */
void teep_coap_assembly_drop(teep_coap_t *in, coap_session_t *s);

/* Drop bodies idle for longer than block_timeout_ms (all: expire_all). */
void teep_coap_assembly_expire(teep_coap_t *in, bool expire_all);

/* ------------------------------------------------------------- reply */

/* How an exchange ended, kept until its separate response is sent. */
typedef struct teep_coap_answer {
    teep_exchange_outcome_t outcome;
    teep_exchange_error_t error;
    int upstream_status;
    uint32_t retry_after_s;
    teep_buf_t *body; /* MESSAGE: one reference, handed to libcoap */
    int32_t block1;   /* Block1 value to echo (RFC 7959 2.3), -1: none */
    char reason[96];
} teep_coap_answer_t;

/* Fill resp from a: 2.04 with the message (block-wise when large; the
 * body's reference goes to libcoap and is dropped by its release
 * callback) and a->block1 echoed, 2.04 empty, or the failure's code with
 * a diagnostic payload (Max-Age on 5.03, Size1 on 4.13).  a->body is
 * NULL after. */
void teep_coap_reply_answer(teep_coap_t *in, coap_resource_t *r,
                            coap_session_t *s, const coap_pdu_t *req,
                            const coap_string_t *q, coap_pdu_t *resp,
                            teep_coap_answer_t *a);

/* Refuse a request before any exchange: code (COAP_RESPONSE_CODE(n)),
 * Max-Age when max_age >= 0, Size1 on 4.13, a diagnostic payload. */
void teep_coap_reply_refuse(teep_coap_t *in, coap_pdu_t *resp,
                            coap_pdu_code_t code, int max_age,
                            const char *reason);

/* The CoAP code for a failed exchange. */
coap_pdu_code_t teep_coap_reply_code(const teep_coap_answer_t *a);

/* ------------------------------------------------------------- peers */

typedef struct teep_coap_peer teep_coap_peer_t;

typedef struct teep_coap_peers {
    teep_coap_peer_t *slots;
    unsigned n;
    unsigned rate, burst, max_pending;
} teep_coap_peers_t;

/* Allocate the table.  Returns 0 or -ENOMEM. */
int teep_coap_peers_init(teep_coap_peers_t *p, unsigned slots, unsigned rate,
                         unsigned burst, unsigned max_pending);

void teep_coap_peers_free(teep_coap_peers_t *p);

/* Admit one request from a at now_ms (exchange: it would start one):
 * 0 with *slot set (for teep_coap_peers_pending), or -EAGAIN (over the
 * rate), -EBUSY (too many exchanges pending), -ENOSPC (no slot free),
 * with *retry_s the seconds to wait. */
int teep_coap_peers_admit(teep_coap_peers_t *p, const coap_address_t *a,
                          uint64_t now_ms, bool exchange, int *slot,
                          uint32_t *retry_s);

/* Count an exchange of slot as started (+1) or finished (-1). */
void teep_coap_peers_pending(teep_coap_peers_t *p, int slot, int delta);

/* ------------------------------------------------------------- dedup */

/* Allocate the cache of answered requests (slots entries).  Returns 0 or
 * -ENOMEM. */
int teep_coap_dedup_init(teep_coap_t *in, unsigned slots);

void teep_coap_dedup_free(teep_coap_t *in);

/* Remember that the request mid from `from` was answered. */
void teep_coap_dedup_note(teep_coap_t *in, const coap_address_t *from,
                          uint16_t mid);

/* Whether the request mid from `from` was answered within
 * EXCHANGE_LIFETIME. */
bool teep_coap_dedup_seen(teep_coap_t *in, const coap_address_t *from,
                          uint16_t mid);

/* ----------------------------------------------------------- observe */

/* Register the check-in machinery (the unknown resource's GET handler,
 * which creates <prefix>/device/NAME on first use).  */
void teep_coap_observe_init(teep_coap_t *in, coap_resource_t *unknown);

/* ops->push: notify the observers of device's check-in resource.
 * Returns 0, -ENOENT (nobody observes it here). */
int teep_coap_observe_push(teep_coap_t *in, const char *device,
                           size_t device_len);

/* Free the device records (after the context that held the resources). */
void teep_coap_observe_free(teep_coap_t *in);

/* ---------------------------------------------------------- instance */

struct teep_coap {
    const teep_transport_host_t *host;
    teep_coap_config_t cfg;
    teep_coap_uri_t uri;
    char listen_uri[512];
    coap_address_t addr; /* bound address, port known after start */
    bool serving;        /* this instance owns the socket */
    unsigned sessions;   /* libcoap server sessions alive */
    bool stopping;
    coap_context_t *ctx;
    coap_resource_t *tam;     /* <prefix>: the default route */
    coap_resource_t *unknown; /* <prefix>/ROUTE, <prefix>/device/NAME */
    uv_poll_t poll;
    uv_timer_t io_timer;
    uv_timer_t sweep;
    bool poll_open;
    unsigned open_handles;
    teep_coap_xchg_t *xchgs; /* exchanges not yet answered to libcoap */
    unsigned pending;        /* of those, still at the host */
    teep_coap_assembly_t *assemblies;
    size_t assembly_bytes;
    teep_coap_device_t *devices;
    unsigned n_devices;
    teep_coap_peers_t peers;
    teep_coap_seen_t *seen;
    unsigned n_seen;
    uint64_t stop_deadline; /* uv_now at which drain gives up */
    void (*done)(void *arg);
    void *done_arg;
};

/* The instance of the context a handler runs in. */
static inline teep_coap_t *teep_coap_of(coap_session_t *s)
{
    return coap_get_app_data(coap_session_get_context(s));
}

/* A buffer for received bytes: from the host when it offers buf_new (it
 * counts them), else teep_buf_new.  NULL when out of memory. */
static inline teep_buf_t *teep_coap_buf_new(teep_coap_t *in, size_t size)
{
    const teep_transport_host_t *h = in->host;
    if (TEEP_TRANSPORT_HAS(h, teep_transport_host_t, buf_new) &&
        h->buf_new != NULL)
        return h->buf_new(h->host_data, 0, size);
    return teep_buf_new(0, size);
}

/* The instance's counters (host->count) in one place. */
static inline void teep_coap_count(teep_coap_t *in, const char *name,
                                   uint64_t n)
{
    in->host->count(in->host->host_data, name, n);
}

#endif
