/*
 * ws_client.c: WebSocket client connections on a libuv loop
 * (ws_client.h), libwebsockets 4.1 underneath (ws_loop.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "teep/authority.h"
#include "ws_binding.h"
#include "ws_client.h"

/* A queued message. */
struct out_item {
    struct out_item *next;
    teep_buf_t *buf; /* LWS_PRE headroom in front of the bytes */
    size_t fragment; /* frame size, 0: one frame */
    size_t sent;
    bool binary;
};

enum { ST_IDLE = 0, ST_PENDING, ST_CONNECTING, ST_OPEN, ST_DONE };

struct teep_ws_client_ctx {
    uv_loop_t *loop;
    struct lws_context *context;
    struct lws_protocols protocols[2];
    teep_ws_client_config_t cfg;
    teep_ws_client_t *pending; /* waiting for connect_timer */
    uv_timer_t connect_timer;
    teep_ws_lws_reaper_t reaper;
    unsigned open_handles; /* of the two timers, for freeing */
    void (*done)(void *arg);
    void *done_arg;
    bool closing;
};

int teep_ws_url_parse(const char *url, teep_ws_url_t *out)
{
    memset(out, 0, sizeof(*out));
    const char *p;
    if (strncmp(url, "ws://", 5) == 0) {
        p = url + 5;
    } else if (strncmp(url, "wss://", 6) == 0) {
        out->tls = true;
        p = url + 6;
    } else {
        return -EINVAL;
    }
    size_t auth_len = teep_authority_span(p);
    teep_authority_t a;
    if (teep_authority_parse(p, auth_len, out->tls ? 443 : 80, 0, &a) < 0 ||
        a.host_len >= sizeof(out->host))
        return -EINVAL;
    memcpy(out->host, a.host, a.host_len + 1);
    out->port = a.port;
    p += auth_len; /* at '/', '?', '#' or the end */
    if (*p == '#')
        return -EINVAL;
    int len =
        snprintf(out->path, sizeof(out->path), "%s%s", *p == '/' ? "" : "/", p);
    if (len < 0 || (size_t)len >= sizeof(out->path) ||
        strchr(out->path, '#') != NULL)
        return -EINVAL;
    return 0;
}

/* ------------------------------------------------------------ state */

static void drop_queue(teep_ws_client_t *c)
{
    while (c->out_head != NULL) {
        struct out_item *it = c->out_head;
        c->out_head = it->next;
        teep_buf_unref(it->buf);
        free(it);
    }
    c->out_tail = NULL;
    ws_rx_reset(&c->rx);
}

/* The one place a connection ends: exactly one on_close per connect. */
static void report_close(teep_ws_client_t *c, int code, const char *reason)
{
    if (c->state == ST_DONE || c->state == ST_IDLE)
        return;
    c->state = ST_DONE;
    if (c->wsi != NULL)
        lws_set_opaque_user_data(c->wsi, NULL);
    c->wsi = NULL;
    drop_queue(c);
    c->cbs->on_close(c, code, reason != NULL ? reason : "");
}

/* ------------------------------------------------------ lws callback */

static int write_next(teep_ws_client_t *c, struct lws *wsi)
{
    struct out_item *it = c->out_head;
    if (it == NULL) {
        if (c->close_code == 0)
            return 0;
        lws_close_reason(wsi, (enum lws_close_status)c->close_code, NULL, 0);
        return -1;
    }
    size_t len = teep_buf_len(it->buf), rest = len - it->sent;
    size_t n = it->fragment > 0 && it->fragment < rest ? it->fragment : rest;
    bool first = it->sent == 0, last = it->sent + n == len;
    int flags = first ? (it->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT)
                      : LWS_WRITE_CONTINUATION;
    if (!last)
        flags |= LWS_WRITE_NO_FIN;
    /* The LWS_PRE bytes in front of a later fragment are bytes already
     * sent: lws may write its frame header over them. */
    if (lws_write(wsi, it->buf->pos + it->sent, n,
                  (enum lws_write_protocol)flags) < 0)
        return -1;
    it->sent += n;
    if (last) {
        c->out_head = it->next;
        if (c->out_head == NULL)
            c->out_tail = NULL;
        teep_buf_unref(it->buf);
        free(it);
    }
    if (c->out_head != NULL || c->close_code != 0)
        lws_callback_on_writable(wsi);
    return 0;
}

static int received(teep_ws_client_t *c, struct lws *wsi, const void *data,
                    size_t len)
{
    const ws_chunk_t ch = {
        .first = lws_is_first_fragment(wsi) != 0,
        .final = lws_is_final_fragment(wsi) != 0,
        .binary = lws_frame_is_binary(wsi) != 0,
        .remaining = lws_remaining_packet_payload(wsi),
    };
    const ws_rx_limits_t lim = {
        .max_message = c->ctx->cfg.max_message,
        .max_fragments = UINT32_MAX,
        .text_ok = true,
    };
    int rc = ws_rx_feed(&c->rx, data, len, &ch, &lim);
    if (rc < 0) {
        lws_close_reason(wsi, (enum lws_close_status) - rc, NULL, 0);
        return -1;
    }
    if (rc == WS_RX_DONE) {
        bool binary = c->rx.binary;
        teep_buf_t *msg = ws_rx_take(&c->rx);
        c->cbs->on_message(c, binary, msg);
        teep_buf_unref(msg);
    }
    return 0;
}

static void peer_closing(teep_ws_client_t *c, const uint8_t *p, size_t len)
{
    if (len >= 2)
        c->peer_code = p[0] << 8 | p[1];
    size_t n = len > 2 ? len - 2 : 0;
    if (n >= sizeof(c->reason))
        n = sizeof(c->reason) - 1;
    memcpy(c->reason, p + 2, n);
    c->reason[n] = '\0';
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason,
                    void *user, void *data, size_t len)
{
    teep_ws_client_t *c = lws_get_opaque_user_data(wsi);
    if (c == NULL)
        return 0;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        c->state = ST_OPEN;
        if (c->cbs->on_open != NULL)
            c->cbs->on_open(c);
        if (c->out_head != NULL || c->close_code != 0)
            lws_callback_on_writable(wsi);
        return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE: return received(c, wsi, data, len);
    case LWS_CALLBACK_CLIENT_WRITEABLE: return write_next(c, wsi);
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        peer_closing(c, data, len);
        return 0;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        report_close(c, 0, data != NULL ? data : "connection failed");
        return 0;
    case LWS_CALLBACK_CLIENT_CLOSED:
    case LWS_CALLBACK_WSI_DESTROY:
        report_close(c, c->peer_code, c->reason[0] ? c->reason : "closed");
        return 0;
    default: return 0;
    }
}

/* ------------------------------------------------------- connecting */

static void connect_now(teep_ws_client_ctx_t *ctx, teep_ws_client_t *c)
{
    char host[sizeof(c->url.host) + 8];
    snprintf(host, sizeof(host), "%s:%u", c->url.host, c->url.port);
    struct lws_client_connect_info info;
    memset(&info, 0, sizeof(info));
    info.context = ctx->context;
    info.address = c->url.host;
    info.port = c->url.port;
    info.path = c->url.path;
    info.host = host;
    info.origin = host;
    info.protocol = TEEP_WS_SUBPROTOCOL;
    info.ssl_connection = c->url.tls ? LCCSCF_USE_SSL : 0;
    info.opaque_user_data = c;
    info.pwsi = &c->wsi;
    /* lws 4.1 binds the client socket to iface, port 0, before connect:
     * an interface name or, when no interface has that name, an address
     * literal (lws_socket_bind). */
    info.iface = c->local[0] != '\0' ? c->local : NULL;
    c->state = ST_CONNECTING;
    if (lws_client_connect_via_info(&info) == NULL)
        report_close(c, 0, "connection refused at once");
}

static void on_connect_timer(uv_timer_t *t)
{
    teep_ws_client_ctx_t *ctx = t->data;
    teep_ws_client_t *list = ctx->pending;
    ctx->pending = NULL;
    while (list != NULL) {
        teep_ws_client_t *c = list;
        list = c->next_pending;
        c->next_pending = NULL;
        if (c->close_code != 0)
            report_close(c, 0, "closed before connecting");
        else
            connect_now(ctx, c);
    }
}

int teep_ws_client_connect(teep_ws_client_ctx_t *ctx, teep_ws_client_t *c,
                           const char *url)
{
    return teep_ws_client_connect_from(ctx, c, url, NULL);
}

/* local is a literal, so that lws never takes it for an interface name. */
static bool address_literal(const char *local)
{
    uint8_t addr[16];
    return inet_pton(AF_INET, local, addr) == 1 ||
           inet_pton(AF_INET6, local, addr) == 1;
}

int teep_ws_client_connect_from(teep_ws_client_ctx_t *ctx, teep_ws_client_t *c,
                                const char *url, const char *local)
{
    if (ctx->closing || teep_ws_url_parse(url, &c->url) != 0 ||
        (local != NULL &&
         (strlen(local) >= sizeof(c->local) || !address_literal(local))))
        return -EINVAL;
    snprintf(c->local, sizeof(c->local), "%s", local != NULL ? local : "");
    c->ctx = ctx;
    c->wsi = NULL;
    c->rx = (ws_rx_t){0};
    c->out_head = c->out_tail = NULL;
    c->close_code = c->peer_code = 0;
    c->reason[0] = '\0';
    c->state = ST_PENDING;
    c->next_pending = ctx->pending;
    ctx->pending = c;
    uv_timer_start(&ctx->connect_timer, on_connect_timer, 0, 0);
    return 0;
}

int teep_ws_client_send(teep_ws_client_t *c, bool binary, const void *p,
                        size_t len, size_t fragment)
{
    int st = c->state;
    if (st == ST_DONE || st == ST_IDLE || c->close_code != 0)
        return -ENOTCONN;
    struct out_item *it = calloc(1, sizeof(*it));
    teep_buf_t *b = teep_buf_new(LWS_PRE, len);
    if (it == NULL || b == NULL) {
        free(it);
        teep_buf_unref(b);
        return -ENOMEM;
    }
    if (len > 0)
        memcpy(b->pos, p, len);
    b->last += len;
    *it = (struct out_item){.buf = b, .fragment = fragment, .binary = binary};
    if (c->out_tail != NULL)
        c->out_tail->next = it;
    else
        c->out_head = it;
    c->out_tail = it;
    if (st == ST_OPEN)
        lws_callback_on_writable(c->wsi);
    return 0;
}

void teep_ws_client_close(teep_ws_client_t *c, int code)
{
    int st = c->state;
    if (st == ST_DONE || st == ST_IDLE || c->close_code != 0)
        return;
    c->close_code = code > 0 ? code : TEEP_WS_CLOSE_NORMAL;
    if (st == ST_OPEN)
        lws_callback_on_writable(c->wsi);
}

/* ---------------------------------------------------------- context */

int teep_ws_client_ctx_new(uv_loop_t *loop, const teep_ws_client_config_t *cfg,
                           teep_ws_client_ctx_t **out)
{
    teep_ws_client_ctx_t *ctx = calloc(1, sizeof(*ctx));
    if (ctx == NULL)
        return -ENOMEM;
    ctx->loop = loop;
    if (cfg != NULL)
        ctx->cfg = *cfg;
    if (ctx->cfg.max_message == 0)
        ctx->cfg.max_message = 16u << 20;
    if (ctx->cfg.rx_buffer_size == 0)
        ctx->cfg.rx_buffer_size = 4096;
    if (ctx->cfg.connect_timeout_s == 0)
        ctx->cfg.connect_timeout_s = 10;
    ctx->protocols[0] = (struct lws_protocols){
        .name = TEEP_WS_SUBPROTOCOL,
        .callback = callback,
        .rx_buffer_size = ctx->cfg.rx_buffer_size,
        .tx_packet_size = 16u << 20,
    };
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = ctx->protocols;
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.client_ssl_ca_filepath = ctx->cfg.ca_file;
    info.timeout_secs = ctx->cfg.connect_timeout_s;
    info.connect_timeout_secs = ctx->cfg.connect_timeout_s;
    info.fd_limit_per_thread = 4096;
    info.pcontext = &ctx->context;
    int err;
    ctx->context = teep_ws_lws_create(&info, loop, &err);
    if (ctx->context == NULL) {
        free(ctx);
        return -EIO;
    }
    uv_timer_init(loop, &ctx->connect_timer);
    uv_timer_init(loop, &ctx->reaper.timer);
    ctx->connect_timer.data = ctx;
    *out = ctx;
    return 0;
}

static void handle_closed(uv_handle_t *h)
{
    teep_ws_client_ctx_t *ctx = h->data;
    if (--ctx->open_handles > 0)
        return;
    void (*done)(void *) = ctx->done;
    void *arg = ctx->done_arg;
    free(ctx);
    done(arg);
}

static void lws_gone(void *arg)
{
    teep_ws_client_ctx_t *ctx = arg;
    ctx->open_handles = 2;
    ctx->connect_timer.data = ctx;
    ctx->reaper.timer.data = ctx;
    uv_close((uv_handle_t *)&ctx->connect_timer, handle_closed);
    uv_close((uv_handle_t *)&ctx->reaper.timer, handle_closed);
}

void teep_ws_client_ctx_free(teep_ws_client_ctx_t *ctx, void (*done)(void *arg),
                             void *arg)
{
    if (ctx->closing)
        return;
    ctx->closing = true;
    ctx->done = done;
    ctx->done_arg = arg;
    uv_timer_stop(&ctx->connect_timer);
    teep_ws_client_t *list = ctx->pending;
    ctx->pending = NULL;
    while (list != NULL) {
        teep_ws_client_t *c = list;
        list = c->next_pending;
        report_close(c, 0, "client context closing");
    }
    /* Open connections get their on_close from lws as it destroys them. */
    teep_ws_lws_destroy(&ctx->reaper, ctx->context, lws_gone, ctx);
}
