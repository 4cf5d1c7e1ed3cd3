/*
 * ws_internal.h (private to plugins/transport/ws): the WebSocket transport
 * plugin, TEEP over WebSocket (docs/transport-ws.md) on libwebsockets,
 * which runs on the broker worker's own libuv loop (a foreign loop to
 * lws: lws_service is never called).
 *
 * Files, one concern each:
 *   ws_transport.c  the plugin ops and descriptor
 *   ws_options.c    listener URI and options
 *   ws_listen.c     the listening socket (SO_REUSEPORT, as every worker
 *                   listens on the port), handing connections to lws
 *   ws_lws.c        the lws context and callbacks
 *   ws_conn.c       one device connection: messages in, exchanges,
 *                   answers, pushes, closing; knows nothing of lws
 *   ws_table.c      the device (push) and peer (per-address limit) tables
 * and, shared with the device agent (tools/teep-agent) and the tests:
 *   ws_binding.c    the control vocabulary
 *   ws_rx.c         assembling a message from frames, with the limits
 *   ws_loop.c       an lws context on a foreign libuv loop
 *   ws_client.c     WebSocket client connections
 */
#ifndef TEEP_WS_INTERNAL_H
#define TEEP_WS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libwebsockets.h>
#include <uv.h>

#include "teep/buf.h"
#include "teep/transport_plugin.h"
#include "ws_binding.h"
#include "ws_loop.h"
#include "ws_rx.h"

typedef struct ws_conn ws_conn_t;
typedef struct ws_instance ws_instance_t;

/* ---- ws_table.c -------------------------------------------------------- */

/* One key (a device name, a peer address) and what is kept for it. */
typedef struct ws_entry {
    struct ws_entry *next;
    void *value;    /* devices: the newest connection with that name */
    uint32_t count; /* connections with that key */
    uint8_t key_len;
    uint8_t key[];
} ws_entry_t;

/* A chained hash table with a fixed number of buckets and a random seed
 * (names and addresses come from the network: no chosen collisions). */
typedef struct ws_table {
    ws_entry_t **buckets;
    size_t n_buckets; /* a power of two */
    uint32_t seed;
} ws_table_t;

/* Make an empty table of n_buckets (a power of two).  0 or -ENOMEM. */
int ws_table_init(ws_table_t *t, size_t n_buckets);
/* Free every entry and the buckets. */
void ws_table_free(ws_table_t *t);
/* The entry for key[0..len), or NULL. */
ws_entry_t *ws_table_find(const ws_table_t *t, const void *key, size_t len);
/* The entry for key, made (value NULL, count 0) when missing; len is at
 * most 255.  NULL when out of memory. */
ws_entry_t *ws_table_get(ws_table_t *t, const void *key, size_t len);
/* Unlink and free e. */
void ws_table_remove(ws_table_t *t, ws_entry_t *e);

/* ---- ws_options.c ------------------------------------------------------ */

typedef struct ws_options {
    bool tls;         /* wss */
    bool v6;          /* host is an IPv6 literal */
    char host[64];    /* address literal, no brackets */
    uint16_t port;    /* 0: ephemeral */
    char prefix[128]; /* route prefix, default /tam */
    size_t prefix_len;
    ws_rx_limits_t rx;               /* max_message, max_fragments */
    size_t max_connections;          /* established, this instance */
    size_t max_connections_per_peer; /* established, one address */
    size_t max_assembling;           /* bytes of partly received
                                        messages, all connections */
    unsigned max_handshakes;         /* upgrades in progress at once */
    unsigned handshake_timeout_s;
    unsigned ping_interval_s; /* 0: no pings */
    size_t rx_buffer_size;    /* lws' per-connection rx buffer */
    char tls_cert[512];
    char tls_key[512];
} ws_options_t;

/* Parse listen_uri ("ws://127.0.0.1:8089[/prefix]", "wss://[::1]:0") and
 * options into *o (defaults first).  Logs the reason through host and
 * returns -EINVAL on a bad URI or option. */
int ws_options_parse(ws_options_t *o, const teep_transport_host_t *host,
                     const char *listen_uri,
                     const teep_transport_option_t *options, size_t n);

/* ---- ws_conn.c --------------------------------------------------------- */

/* What a connection wants written next (ws_conn_next). */
typedef enum ws_out_kind {
    WS_OUT_NONE = 0,
    WS_OUT_BINARY, /* buf: a TEEP message with LWS_PRE headroom */
    WS_OUT_TEXT,   /* text[0..len): a control line */
    WS_OUT_CLOSE,  /* code: close the connection */
} ws_out_kind_t;

typedef struct ws_out {
    ws_out_kind_t kind;
    teep_buf_t *buf;  /* BINARY or TEXT: the caller drops this reference
                         once written (TEXT: may be NULL) */
    const char *text; /* TEXT */
    size_t len;
    uint16_t code; /* CLOSE */
} ws_out_t;

/* How ws_conn.c reaches the connection's socket (ws_lws.c, or a test). */
typedef struct ws_io {
    /* Ask for a writeable callback on c's connection. */
    void (*want_write)(ws_conn_t *c);
    /* The peer's address as text ("127.0.0.1:5123") in buf, or NULL. */
    const char *(*peer)(ws_conn_t *c, char *buf, size_t cap);
} ws_io_t;

/* One established device connection. */
struct ws_conn {
    ws_instance_t *in;
    void *io_handle; /* the lws wsi (ws_lws.c); NULL once it is gone */
    ws_conn_t *prev, *next;
    ws_entry_t *device;        /* its name in in->devices, or NULL */
    ws_entry_t *peer;          /* its address in in->peers, or NULL */
    teep_exchange_t *exchange; /* the one in flight, or NULL */
    ws_rx_t rx;
    teep_buf_t *out;     /* a TEEP message to send */
    teep_buf_t *control; /* a control line to send */
    uint16_t close_code; /* close once out and control are written */
    bool push;           /* send check-in */
    uint8_t route_len;
    char route[]; /* the TAM route from the path, route_len bytes */
};

/*
 * A connection was upgraded: route (from the path), device (may be
 * empty) and the peer's address bytes (4 or 16) are borrowed for the
 * call.  Returns 0 with *out set; TEEP_WS_CLOSE_TRY_LATER when the
 * instance or the address is at its connection limit (nothing made);
 * -ENOMEM.
 */
int ws_conn_open(ws_instance_t *in, void *io_handle, const char *route,
                 size_t route_len, const char *device, size_t device_len,
                 const uint8_t *peer, size_t peer_len, ws_conn_t **out);

/* The connection is gone: cancel its exchange, release and free c. */
void ws_conn_gone(ws_conn_t *c);

/* A chunk arrived (ws_rx_feed's ch).  A complete message is submitted to
 * the host.  Returns 0, or the close code to end the connection with. */
int ws_conn_receive(ws_conn_t *c, const uint8_t *p, size_t n,
                    const ws_chunk_t *ch);

/* Take the next thing to write off c's queue (an answer, a control line,
 * check-in, then a close). */
void ws_conn_next(ws_conn_t *c, ws_out_t *out);

/* Whether ws_conn_next has something. */
bool ws_conn_has_output(const ws_conn_t *c);

/* The instance is draining: close c once its exchange is answered. */
void ws_conn_drain(ws_conn_t *c);

/* Queue check-in for c. */
void ws_conn_push(ws_conn_t *c);

/* ---- the instance (ws_transport.c, ws_lws.c) --------------------------- */

struct ws_instance {
    const teep_transport_host_t *host;
    ws_options_t opt;
    ws_rx_limits_t rx_limits; /* opt.rx and the host's buffers */
    ws_io_t io;
    char listen_uri[512];
    struct lws_context *context; /* after start, until destroyed */
    struct lws_vhost *vhost;     /* the context's one vhost */
    int listen_fd;               /* -1 when not listening */
    uv_poll_t listen_poll;
    bool listening;             /* listen_poll is open */
    lws_retry_bo_t idle_policy; /* pings; lws keeps a pointer */
    struct lws_protocols protocols[2];
    int bound_port;
    ws_conn_t *conns; /* every established connection */
    size_t n_conns;
    ws_table_t devices; /* device name -> connection, for push */
    ws_table_t peers;   /* address -> connections, for the limit */
    size_t assembling;  /* bytes held in partly received messages */
    bool stopping;
    bool finishing;              /* stopping, and no connection is left */
    teep_ws_lws_reaper_t reaper; /* its timer also defers the
                                    destruction out of lws callbacks */
    void (*done)(void *arg);
    void *done_arg;
};

/* Set in->rx_limits from in->opt.rx and the host's buf_new. */
void ws__rx_limits(ws_instance_t *in);

/* Count a transport counter (host->count) by name. */
void ws__count(ws_instance_t *in, const char *name, uint64_t delta);

/* A connection went away: when the instance is draining and it was the
 * last, destroy the lws context (from the reaper timer, outside lws). */
void ws__maybe_finish(ws_instance_t *in);

/* ---- ws_listen.c ------------------------------------------------------- */

/* Listen on the options' address and port (SO_REUSEPORT) and hand every
 * connection to in->vhost.  Sets in->bound_port.  0 or -errno
 * (-EADDRINUSE). */
int ws_listen_start(ws_instance_t *in);

/* Stop accepting; the socket closes on the loop, then ws__maybe_finish
 * runs. */
void ws_listen_stop(ws_instance_t *in);

/* ---- ws_lws.c ---------------------------------------------------------- */

/* Create the lws context (not listening itself: ws_listen.c adopts the
 * connections) on host->loop.  0, -EINVAL (TLS files), -EIO. */
int ws_lws_start(ws_instance_t *in);

/* The ws_io_t of connections on lws. */
extern const ws_io_t ws_lws_io;

#endif
