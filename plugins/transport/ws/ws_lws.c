/*
 * ws_lws.c: the WebSocket transport's use of libwebsockets 4.1: the lws
 * context of an instance (on the worker's libuv loop, ws_loop.h; it does
 * not listen itself, ws_listen.c hands it the connections) and its
 * callbacks: upgrade checks, receive, writeable, close.
 *
 * What lws 4.1 needs from a server, learned the hard way:
 *  - rx_buffer_size is allocated for every connection for as long as it
 *    is open (the default costs 4 KiB each), and tx_packet_size must then
 *    be set, or every send() is cut to rx_buffer_size;
 *  - a close callback may come without session data (on context
 *    destruction): connections are found through the opaque user pointer
 *    and released from whichever of CLOSED / WSI_DESTROY comes first;
 *  - closing with a code works from a receive callback (set the reason,
 *    return -1) but not from a writeable one nor from ESTABLISHED (see
 *    close_from_writeable and established).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "ws_internal.h"
#include "ws_loop.h"

/* ------------------------------------------------------- the ws_io_t */

static void want_write(ws_conn_t *c)
{
    if (c->io_handle != NULL)
        lws_callback_on_writable(c->io_handle);
}

static const char *peer_text(ws_conn_t *c, char *buf, size_t cap)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    char ip[INET6_ADDRSTRLEN];
    if (c->io_handle == NULL || getpeername(lws_get_socket_fd(c->io_handle),
                                            (struct sockaddr *)&ss, &sl) != 0)
        return NULL;
    bool v6 = ss.ss_family == AF_INET6;
    const void *a = v6 ? (const void *)&((struct sockaddr_in6 *)&ss)->sin6_addr
                       : (const void *)&((struct sockaddr_in *)&ss)->sin_addr;
    unsigned port = ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                             : ((struct sockaddr_in *)&ss)->sin_port);
    if (inet_ntop(ss.ss_family, a, ip, sizeof(ip)) == NULL)
        return NULL;
    snprintf(buf, cap, v6 ? "[%s]:%u" : "%s:%u", ip, port);
    return buf;
}

const ws_io_t ws_lws_io = {.want_write = want_write, .peer = peer_text};

/* --------------------------------------------------------- upgrades */

/* Where an upgrade goes: the route (from the path) and the device (from
 * the query), pointing into the struct's own buffers. */
typedef struct target {
    char path[256];
    const char *route;
    size_t route_len;
    char arg[TEEP_WS_DEVICE_MAX + 16];
    const char *device;
    size_t device_len;
} target_t;

/* Fill *t from the upgrade's headers.  Returns 0, or -1 when the path is
 * not one of ours or the device name is not valid. */
static int target_of(ws_instance_t *in, struct lws *wsi, target_t *t)
{
    const ws_options_t *o = &in->opt;
    int n = lws_hdr_copy(wsi, t->path, sizeof(t->path), WSI_TOKEN_GET_URI);
    if (n <= 0 || (size_t)n < o->prefix_len ||
        memcmp(t->path, o->prefix, o->prefix_len) != 0)
        return -1;
    const char *rest = t->path + o->prefix_len;
    if (*rest == '/' && o->prefix_len > 1)
        rest++;
    else if (*rest != '\0')
        return -1;
    t->route = rest;
    t->route_len = strlen(rest);
    if (t->route_len > UINT8_MAX || memchr(rest, '/', t->route_len) != NULL)
        return -1;
    t->device = lws_get_urlarg_by_name(wsi, TEEP_WS_DEVICE_ARG "=", t->arg,
                                       (int)sizeof(t->arg));
    t->device_len = t->device != NULL ? strlen(t->device) : 0;
    if (t->device != NULL && !teep_ws_device_name_ok(t->device, t->device_len))
        return -1;
    return 0;
}

/* Whether the offered subprotocols (a comma-separated list) include
 * ours: lws binds an upgrade without any to our protocol anyway. */
static bool offers_teep(const char *list)
{
    size_t n = sizeof(TEEP_WS_SUBPROTOCOL) - 1;
    for (const char *p = list; p != NULL && *p != '\0';) {
        while (*p == ' ' || *p == ',')
            p++;
        if (strncmp(p, TEEP_WS_SUBPROTOCOL, n) == 0 &&
            (p[n] == '\0' || p[n] == ',' || p[n] == ' '))
            return true;
        p = strchr(p, ',');
    }
    return false;
}

static int filter_upgrade(ws_instance_t *in, struct lws *wsi)
{
    target_t t;
    char offered[128];
    const char *why = NULL;
    unsigned status = HTTP_STATUS_BAD_REQUEST;
    if (lws_hdr_copy(wsi, offered, sizeof(offered), WSI_TOKEN_PROTOCOL) <= 0 ||
        !offers_teep(offered)) {
        why = "offer subprotocol " TEEP_WS_SUBPROTOCOL;
    } else if (target_of(in, wsi, &t) != 0) {
        why = "no TAM route at this path, or a bad device name";
        status = HTTP_STATUS_NOT_FOUND;
    }
    if (why == NULL)
        return 0;
    /* Still HTTP: the client is told why before the connection ends. */
    ws__count(in, "upgrades_refused", 1);
    lws_return_http_status(wsi, status, why);
    return -1;
}

/* The peer's address bytes: 4 for IPv4 (also when mapped in IPv6), 16
 * for IPv6. */
static size_t peer_key(struct lws *wsi, uint8_t out[16])
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    if (getpeername(lws_get_socket_fd(wsi), (struct sockaddr *)&ss, &sl) != 0)
        return 0;
    if (ss.ss_family == AF_INET) {
        memcpy(out, &((struct sockaddr_in *)&ss)->sin_addr, 4);
        return 4;
    }
    const struct in6_addr *a = &((struct sockaddr_in6 *)&ss)->sin6_addr;
    if (IN6_IS_ADDR_V4MAPPED(a)) {
        memcpy(out, &a->s6_addr[12], 4);
        return 4;
    }
    memcpy(out, a->s6_addr, 16);
    return 16;
}

static const char *close_text(int code)
{
    switch (code) {
    case TEEP_WS_CLOSE_GOING_AWAY: return "broker draining";
    case TEEP_WS_CLOSE_UNSUPPORTED: return "TEEP messages are binary";
    case TEEP_WS_CLOSE_POLICY: return "one message at a time, in few fragments";
    case TEEP_WS_CLOSE_TOO_BIG: return "message too big";
    case TEEP_WS_CLOSE_TRY_LATER: return "busy: try again later";
    default: return "broker error";
    }
}

/* Close from a receive callback: lws sends the close frame with the
 * reason set here when the callback returns -1. */
static int close_with(struct lws *wsi, int code)
{
    const char *text = close_text(code);
    lws_close_reason(wsi, (enum lws_close_status)code, (unsigned char *)text,
                     strlen(text));
    return -1;
}

/* Close from a writeable callback.  Returning -1 there is taken by lws
 * for a failed write: it drops the socket without a close frame, and so
 * does a timeout.  A synchronous close of an established connection
 * with a reason set sends the close frame, waits for the peer's, and
 * only then frees the connection. */
static void close_from_writeable(struct lws *wsi, int code)
{
    close_with(wsi, code);
    lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
}

static int established(ws_instance_t *in, struct lws *wsi)
{
    target_t t;
    ws_conn_t *c = NULL;
    int rc;
    uint8_t key[16];
    size_t key_len = peer_key(wsi, key);
    if (target_of(in, wsi, &t) != 0 || key_len == 0)
        rc = TEEP_WS_CLOSE_INTERNAL;
    else
        rc = ws_conn_open(in, wsi, t.route, t.route_len, t.device, t.device_len,
                          key, key_len, &c);
    if (rc != 0) {
        /* Returning -1 here makes lws close with 1002 whatever the
         * reason: the reason is set now and the close sent from the
         * first writeable callback, which finds no connection. */
        ws__count(in, "connections_refused", 1);
        close_with(wsi, rc > 0 ? rc : TEEP_WS_CLOSE_INTERNAL);
        lws_callback_on_writable(wsi);
        return 0;
    }
    lws_set_opaque_user_data(wsi, c);
    ws__count(in, "connections_accepted", 1);
    if (in->stopping)
        ws_conn_drain(c);
    return 0;
}

/* ------------------------------------------------------ data phase */

static int receive(struct lws *wsi, const void *data, size_t len)
{
    ws_conn_t *c = lws_get_opaque_user_data(wsi);
    if (c == NULL)
        return -1;
    const ws_chunk_t ch = {
        .first = lws_is_first_fragment(wsi) != 0,
        .final = lws_is_final_fragment(wsi) != 0,
        .binary = lws_frame_is_binary(wsi) != 0,
        .remaining = lws_remaining_packet_payload(wsi),
    };
    int code = ws_conn_receive(c, data, len, &ch);
    return code != 0 ? close_with(wsi, code) : 0;
}

static int writeable(struct lws *wsi)
{
    ws_conn_t *c = lws_get_opaque_user_data(wsi);
    if (c == NULL) {
        /* Refused when established: the reason is set. */
        lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
        return 0;
    }
    ws_out_t o;
    ws_conn_next(c, &o);
    int n = 0;
    switch (o.kind) {
    case WS_OUT_NONE: return 0;
    case WS_OUT_CLOSE: close_from_writeable(wsi, o.code); return 0;
    case WS_OUT_BINARY:
        /* In place: lws writes the frame header into the LWS_PRE bytes
         * in front of pos (the buffer was made with that headroom). */
        n = lws_write(wsi, o.buf->pos, teep_buf_len(o.buf), LWS_WRITE_BINARY);
        break;
    case WS_OUT_TEXT: {
        uint8_t line[LWS_PRE + TEEP_WS_CONTROL_MAX];
        size_t len = o.len < TEEP_WS_CONTROL_MAX ? o.len : TEEP_WS_CONTROL_MAX;
        memcpy(line + LWS_PRE, o.text, len);
        n = lws_write(wsi, line + LWS_PRE, len, LWS_WRITE_TEXT);
        break;
    }
    }
    /* lws has sent the bytes or kept its own copy of what the socket did
     * not take: the buffer is ours to drop. */
    teep_buf_unref(o.buf);
    if (n < 0)
        return -1;
    if (ws_conn_has_output(c))
        lws_callback_on_writable(wsi);
    return 0;
}

static void gone(struct lws *wsi)
{
    ws_conn_t *c = lws_get_opaque_user_data(wsi);
    if (c == NULL)
        return;
    lws_set_opaque_user_data(wsi, NULL);
    c->io_handle = NULL;
    ws_conn_gone(c);
}

/* A plain HTTP request on the WebSocket port. */
static int http_request(ws_instance_t *in, struct lws *wsi)
{
    target_t t;
    bool ours = target_of(in, wsi, &t) == 0;
    ws__count(in, "http_refused", 1);
    /* 426 tells a client that came without an upgrade what to do. */
    if (lws_return_http_status(wsi, ours ? 426 : HTTP_STATUS_NOT_FOUND,
                               ours ? "TEEP over WebSocket: upgrade with "
                                      "subprotocol " TEEP_WS_SUBPROTOCOL
                                    : "no TAM route at this path") != 0)
        return -1;
    return lws_http_transaction_completed(wsi) != 0 ? -1 : 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason,
                    void *user, void *data, size_t len)
{
    ws_instance_t *in = lws_context_user(lws_get_context(wsi));
    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return filter_upgrade(in, wsi);
    case LWS_CALLBACK_ESTABLISHED: return established(in, wsi);
    case LWS_CALLBACK_RECEIVE: return receive(wsi, data, len);
    case LWS_CALLBACK_SERVER_WRITEABLE: return writeable(wsi);
    case LWS_CALLBACK_CLOSED:
    case LWS_CALLBACK_WSI_DESTROY: gone(wsi); return 0;
    case LWS_CALLBACK_HTTP: return http_request(in, wsi);
    default: return 0;
    }
}

/* ------------------------------------------------- context lifetime */

int ws_lws_start(ws_instance_t *in)
{
    const ws_options_t *o = &in->opt;
    in->protocols[0] = (struct lws_protocols){
        .name = TEEP_WS_SUBPROTOCOL,
        .callback = callback,
        .rx_buffer_size = o->rx_buffer_size,
        /* Sends are not cut to rx_buffer_size: an answer goes out in one
         * send() when the socket takes it. */
        .tx_packet_size = 16u << 20,
    };
    in->idle_policy = (lws_retry_bo_t){
        .secs_since_valid_ping = (uint16_t)o->ping_interval_s,
        .secs_since_valid_hangup = (uint16_t)(o->ping_interval_s * 2 + 10),
    };
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    /* ws_listen.c listens and adopts: lws keeps no listening socket. */
    info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
    info.protocols = in->protocols;
    if (o->tls) {
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT |
                        LWS_SERVER_OPTION_CREATE_VHOST_SSL_CTX;
        info.ssl_cert_filepath = o->tls_cert;
        info.ssl_private_key_filepath = o->tls_key;
    }
    info.pcontext = &in->context;
    info.user = in;
    info.vhost_name = "default";
    info.server_string = "teep-broker";
    info.max_http_header_pool = (unsigned short)o->max_handshakes;
    /* An upgrade's head is a few hundred bytes; lws allocates this much
     * (default 4096) for each handshake in progress. */
    info.max_http_header_data = 1024;
    info.timeout_secs = o->handshake_timeout_s;
    /* fd_limit_per_thread stays 0: lws then indexes connections by
     * descriptor in a table of the process' descriptor limit; a smaller
     * table makes it look every event's descriptor up by a linear
     * search. */
    if (o->ping_interval_s > 0)
        info.retry_and_idle_policy = &in->idle_policy;
    int err;
    in->context = teep_ws_lws_create(&info, in->host->loop, &err);
    if (in->context == NULL)
        return o->tls ? -EINVAL : -EIO;
    in->vhost = lws_get_vhost_by_name(in->context, "default");
    return in->vhost != NULL ? 0 : -EIO;
}
