/*
 * ws_client.h: WebSocket client connections speaking TEEP over WebSocket
 * (ws_binding.h) on a libuv loop, for the device agent (tools/teep-agent)
 * and the tests.  One client context per loop holds any number of
 * connections.
 *
 * Objects (libuv style): the caller allocates teep_ws_client_t and keeps
 * it in place from teep_ws_client_connect until its on_close callback,
 * which is always called exactly once per connect (also when the
 * connection could not be made) and after which the library no longer
 * touches it.  Connecting is always deferred to the loop (a 0 ms timer):
 * lws must not start a connection from inside one of its receive
 * callbacks, and this way no caller can.
 */
#ifndef TEEP_WS_CLIENT_H
#define TEEP_WS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "teep/buf.h"
#include "ws_loop.h"
#include "ws_rx.h"

typedef struct teep_ws_client teep_ws_client_t;
typedef struct teep_ws_client_ctx teep_ws_client_ctx_t;

typedef struct teep_ws_client_cbs {
    /* The upgrade succeeded (may be NULL). */
    void (*on_open)(teep_ws_client_t *c);
    /* A complete message; msg is borrowed for the call (NULL: empty). */
    void (*on_message)(teep_ws_client_t *c, bool binary, teep_buf_t *msg);
    /* The connection ended: code is the peer's close code, or 0 when it
     * could not be made or ended without one (reason says why). */
    void (*on_close)(teep_ws_client_t *c, int code, const char *reason);
} teep_ws_client_cbs_t;

/* A parsed ws[s]://host[:port]/path[?query] URL. */
typedef struct teep_ws_url {
    bool tls;
    char host[256]; /* without IPv6 brackets */
    uint16_t port;  /* 80 / 443 when absent */
    char path[512]; /* path and query, "/" when absent */
} teep_ws_url_t;

/* Parse url.  Returns 0, or -EINVAL (not ws:// or wss://, too long). */
int teep_ws_url_parse(const char *url, teep_ws_url_t *out);

/* One connection.  Fields before the private part are the caller's. */
struct teep_ws_client {
    void *data;
    const teep_ws_client_cbs_t *cbs;
    /* private */
    teep_ws_client_ctx_t *ctx;
    teep_ws_client_t *next_pending;
    struct lws *wsi;
    teep_ws_url_t url;
    ws_rx_t rx;
    struct out_item *out_head, *out_tail;
    int close_code; /* to send (ours) */
    int peer_code;  /* received (theirs) */
    char reason[128];
    char local[48]; /* address literal to bind, "" for the system's */
    uint8_t state;
};

/* Settings of a client context. */
typedef struct teep_ws_client_config {
    const char *ca_file;        /* wss trust anchors; NULL: the system's */
    size_t max_message;         /* bytes of a received message, default
                                   16 MiB */
    size_t rx_buffer_size;      /* lws rx chunk, default 4096 */
    unsigned connect_timeout_s; /* TCP, TLS and upgrade, default 10 */
} teep_ws_client_config_t;

/* Make a context on loop.  cfg may be NULL (defaults).  Returns 0 with
 * *out set, -ENOMEM, -EIO (lws refused, e.g. an unusable ca_file). */
int teep_ws_client_ctx_new(uv_loop_t *loop, const teep_ws_client_config_t *cfg,
                           teep_ws_client_ctx_t **out);

/* Close every connection (each gets its on_close), then free the
 * context and call done(arg) on the loop.  Not from inside a callback of
 * this module: from a timer, a signal or another handle's callback. */
void teep_ws_client_ctx_free(teep_ws_client_ctx_t *ctx, void (*done)(void *arg),
                             void *arg);

/* Connect c (cbs and data set by the caller) to url with subprotocol
 * teep.v1.  Returns 0 (the outcome comes through the callbacks) or
 * -EINVAL (bad URL). */
int teep_ws_client_connect(teep_ws_client_ctx_t *ctx, teep_ws_client_t *c,
                           const char *url);

/* As teep_ws_client_connect, from the local address local: an IPv4 or
 * IPv6 literal (copied), the port the system's choice; NULL is the
 * system's address, as teep_ws_client_connect.  Many addresses give a
 * client more connections to one server than one address's ephemeral
 * ports (about 28 000), and each its own share of a server's per-address
 * limits.  Returns 0 or -EINVAL (bad URL, local not an address literal);
 * an address that cannot be bound (not the host's) ends the connection
 * through on_close. */
int teep_ws_client_connect_from(teep_ws_client_ctx_t *ctx, teep_ws_client_t *c,
                                const char *url, const char *local);

/*
 * Queue a message: binary or text, len bytes copied from p (p may be NULL
 * when len is 0: an empty message).  fragment > 0 sends it in frames of
 * that many bytes (the first and continuation frames of RFC 6455 5.4).
 * Messages leave in order once the connection is open.  Returns 0,
 * -ENOMEM, -ENOTCONN (closed or closing).
 */
int teep_ws_client_send(teep_ws_client_t *c, bool binary, const void *p,
                        size_t len, size_t fragment);

/* Close with code (1000 normally) after what is queued. */
void teep_ws_client_close(teep_ws_client_t *c, int code);

#endif
