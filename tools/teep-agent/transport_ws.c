/*
 * transport_ws.c: TEEP over WebSocket from the device
 * (docs/transport-ws.md): one connection to the broker, opened at start
 * and kept open (reconnected with a growing delay when it drops) so that
 * the broker can push check-in; each exchange is a binary message
 * answered by a binary message or a control line.  The connection names
 * the device (?device=NAME) so that pushes find it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "device.h"
#include "ws_binding.h"
#include "ws_client.h"

#define RETRY_FIRST_MS 1000
#define RETRY_MAX_MS   30000
#define CLOSE_GRACE_MS 1000

typedef struct ws {
    dev_transport_t base;
    teep_ws_client_ctx_t *ctx;
    teep_ws_client_t client;
    char url[TEEP_TEE_URI_MAX + TEEP_WS_DEVICE_MAX + 16];
    bool active; /* client connecting or open */
    bool open;
    unsigned retry_ms;
    uv_timer_t retry_timer; /* reconnects; when closing, the last step */
    uv_timer_t answer_timer;
    /* the exchange in flight, or waiting for the connection */
    bool pending;
    teep_buf_t *out; /* not sent yet */
    dev_answer_cb cb;
    void *cb_arg;
    bool closing;
    bool ctx_freeing;
    unsigned handles;
    void (*done)(void *arg);
    void *done_arg;
} ws_t;

static void connect_now(ws_t *t);
static void free_ctx(ws_t *t);

static void answer(ws_t *t, const dev_answer_t *a)
{
    if (!t->pending)
        return;
    t->pending = false;
    teep_buf_unref(t->out);
    t->out = NULL;
    uv_timer_stop(&t->answer_timer);
    t->cb(t->cb_arg, a);
}

static void fail(ws_t *t, int code, const char *reason)
{
    const dev_answer_t a = {
        .kind = DEV_ANSWER_FAILED, .code = code, .reason = reason};
    answer(t, &a);
}

static void send_pending(ws_t *t)
{
    if (!t->pending || t->out == NULL || !t->open)
        return;
    teep_buf_t *b = t->out;
    t->out = NULL;
    int rc = teep_ws_client_send(&t->client, true, b->pos, teep_buf_len(b), 0);
    teep_buf_unref(b);
    if (rc < 0)
        fail(t, rc, "the connection is closing");
}

/* ------------------------------------------------------- callbacks */

static void on_open(teep_ws_client_t *c)
{
    ws_t *t = c->data;
    t->open = true;
    t->retry_ms = 0;
    dev_log(t->base.dev, TEEP_LOG_INFO, "%s: connected", t->base.uri);
    send_pending(t);
}

static void on_control(ws_t *t, const teep_buf_t *msg)
{
    teep_ws_control_t ctl;
    char reason[TEEP_WS_CONTROL_MAX + 1];
    if (msg == NULL ||
        teep_ws_control_parse(msg->pos, teep_buf_len(msg), &ctl) != 0) {
        dev_log(t->base.dev, TEEP_LOG_WARN,
                "%s: a text message outside the binding, ignored", t->base.uri);
        return;
    }
    switch (ctl.kind) {
    case TEEP_WS_CHECK_IN: dev_policy_check(t->base.dev, "pushed"); return;
    case TEEP_WS_NO_CONTENT: {
        const dev_answer_t a = {.kind = DEV_ANSWER_NONE};
        answer(t, &a);
        return;
    }
    case TEEP_WS_ERROR:
        snprintf(reason, sizeof(reason), "%.*s", (int)ctl.reason_len,
                 ctl.reason);
        fail(t, ctl.status, reason);
        return;
    }
}

static void on_message(teep_ws_client_t *c, bool binary, teep_buf_t *msg)
{
    ws_t *t = c->data;
    if (!binary) {
        on_control(t, msg);
        return;
    }
    if (!t->pending || t->out != NULL || msg == NULL) {
        dev_log(t->base.dev, TEEP_LOG_WARN,
                "%s: a message nobody asked for, ignored", t->base.uri);
        return;
    }
    const dev_answer_t a = {.kind = DEV_ANSWER_MESSAGE, .body = msg};
    answer(t, &a);
}

static void on_retry(uv_timer_t *timer)
{
    ws_t *t = timer->data;
    if (t->closing) {
        /* Out of the client's callbacks: the context may go now. */
        free_ctx(t);
        return;
    }
    connect_now(t);
}

static void on_close(teep_ws_client_t *c, int code, const char *reason)
{
    ws_t *t = c->data;
    bool was_open = t->open;
    t->active = t->open = false;
    char why[160];
    snprintf(why, sizeof(why), "connection %s (%d %s)",
             was_open ? "closed" : "failed", code, reason);
    fail(t, -ECONNRESET, why);
    if (t->closing) {
        uv_timer_start(&t->retry_timer, on_retry, 0, 0);
        return;
    }
    t->retry_ms =
        t->retry_ms == 0
            ? RETRY_FIRST_MS
            : (t->retry_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : t->retry_ms * 2);
    dev_log(t->base.dev, was_open ? TEEP_LOG_WARN : TEEP_LOG_INFO,
            "%s: %s; again in %u ms", t->base.uri, why, t->retry_ms);
    uv_timer_start(&t->retry_timer, on_retry, t->retry_ms, 0);
}

static const teep_ws_client_cbs_t client_cbs = {
    .on_open = on_open,
    .on_message = on_message,
    .on_close = on_close,
};

static void on_answer_timeout(uv_timer_t *timer)
{
    ws_t *t = timer->data;
    fail(t, -ETIMEDOUT, "no answer in time");
    /* A late answer would be taken for the next exchange's. */
    if (t->active)
        teep_ws_client_close(&t->client, TEEP_WS_CLOSE_NORMAL);
}

static void connect_now(ws_t *t)
{
    if (t->active || t->closing)
        return;
    uv_timer_stop(&t->retry_timer);
    t->client.data = t;
    t->client.cbs = &client_cbs;
    if (teep_ws_client_connect(t->ctx, &t->client, t->url) == 0)
        t->active = true;
    else
        fail(t, -EINVAL, "bad WebSocket URL");
}

/* ------------------------------------------------------------- ops */

static int exchange(dev_transport_t *base, const uint8_t *body, size_t len,
                    dev_answer_cb cb, void *arg)
{
    ws_t *t = (ws_t *)base;
    if (t->pending)
        return -EBUSY;
    teep_buf_t *b = teep_buf_copy(0, body, len);
    if (b == NULL)
        return -ENOMEM;
    t->pending = true;
    t->out = b;
    t->cb = cb;
    t->cb_arg = arg;
    uv_timer_start(&t->answer_timer, on_answer_timeout,
                   (uint64_t)base->dev->opt.timeout_s * 1000, 0);
    if (t->open)
        send_pending(t);
    else
        connect_now(t); /* at once rather than after the retry delay */
    return 0;
}

/* url with ?device=NAME (or &device=NAME) added. */
static int device_url(device_t *dev, const char *uri, char *out, size_t cap)
{
    char host[TEEP_WS_DEVICE_MAX + 1];
    const char *name = dev->opt.device;
    if (name == NULL && gethostname(host, sizeof(host)) == 0) {
        host[sizeof(host) - 1] = '\0';
        name = host;
    }
    if (name == NULL || !teep_ws_device_name_ok(name, strlen(name))) {
        dev_log(dev, TEEP_LOG_WARN,
                "no usable device name (--device): pushes cannot reach "
                "this device");
        name = NULL;
    }
    int n = name != NULL ? snprintf(out, cap, "%s%c" TEEP_WS_DEVICE_ARG "=%s",
                                    uri, strchr(uri, '?') ? '&' : '?', name)
                         : snprintf(out, cap, "%s", uri);
    return n > 0 && (size_t)n < cap ? 0 : -ENAMETOOLONG;
}

static int open_ws(device_t *dev, const char *uri, dev_transport_t **out)
{
    teep_ws_url_t parsed;
    ws_t *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return -ENOMEM;
    int rc = teep_ws_url_parse(uri, &parsed);
    if (rc == 0)
        rc = device_url(dev, uri, t->url, sizeof(t->url));
    const teep_ws_client_config_t cfg = {
        .ca_file = dev->opt.ca_file,
        .max_message = 64u << 20, /* Updates carry whole TAs */
        .connect_timeout_s = dev->opt.timeout_s,
    };
    if (rc == 0)
        rc = teep_ws_client_ctx_new(dev->loop, &cfg, &t->ctx);
    if (rc != 0) {
        dev_log(dev, TEEP_LOG_ERROR, "%s: cannot use it for WebSocket (%s)",
                uri, strerror(-rc));
        free(t);
        return rc;
    }
    t->base.dev = dev;
    snprintf(t->base.uri, sizeof(t->base.uri), "%s", uri);
    uv_timer_init(dev->loop, &t->retry_timer);
    uv_timer_init(dev->loop, &t->answer_timer);
    t->retry_timer.data = t->answer_timer.data = t;
    /* Connected from the start: pushes need the connection. */
    connect_now(t);
    *out = &t->base;
    return 0;
}

static void handle_closed(uv_handle_t *h)
{
    ws_t *t = h->data;
    if (--t->handles > 0)
        return;
    void (*done)(void *) = t->done;
    void *arg = t->done_arg;
    free(t);
    done(arg);
}

static void ctx_freed(void *arg)
{
    ws_t *t = arg;
    t->handles = 2;
    uv_close((uv_handle_t *)&t->retry_timer, handle_closed);
    uv_close((uv_handle_t *)&t->answer_timer, handle_closed);
}

static void free_ctx(ws_t *t)
{
    if (t->ctx_freeing)
        return;
    t->ctx_freeing = true;
    teep_ws_client_ctx_free(t->ctx, ctx_freed, t);
}

static void on_close_grace(uv_timer_t *timer)
{
    free_ctx(timer->data);
}

static void close_ws(dev_transport_t *base, void (*done)(void *arg), void *arg)
{
    ws_t *t = (ws_t *)base;
    t->closing = true;
    t->done = done;
    t->done_arg = arg;
    fail(t, -ECANCELED, "the device agent is stopping");
    uv_timer_stop(&t->retry_timer);
    if (!t->active) {
        free_ctx(t);
        return;
    }
    /* A close frame first; the context goes once the broker answered it
     * (on_close schedules it) or after a grace period. */
    teep_ws_client_close(&t->client, TEEP_WS_CLOSE_NORMAL);
    uv_timer_start(&t->answer_timer, on_close_grace, CLOSE_GRACE_MS, 0);
}

static const char *const schemes[] = {"ws", "wss", NULL};

const dev_transport_ops_t dev_transport_ws = {
    .name = "WebSocket",
    .schemes = schemes,
    .open = open_ws,
    .exchange = exchange,
    .close = close_ws,
};
