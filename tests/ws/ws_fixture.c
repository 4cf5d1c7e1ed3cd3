/*
 * ws_fixture.c: the WebSocket tests' fixture (ws_fixture.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ws_fixture.h"

static void on_open(teep_ws_client_t *ws)
{
    fix_client_t *c = ws->data;
    c->opened = true;
}

static void on_message(teep_ws_client_t *ws, bool binary, teep_buf_t *msg)
{
    fix_client_t *c = ws->data;
    if (c->n_messages == FIX_MAX_MESSAGES)
        return;
    c->binary[c->n_messages] = binary;
    c->messages[c->n_messages++] = msg != NULL ? teep_buf_ref(msg) : NULL;
}

static void on_close(teep_ws_client_t *ws, int code, const char *reason)
{
    fix_client_t *c = ws->data;
    c->closed = true;
    c->close_code = code;
    snprintf(c->close_reason, sizeof(c->close_reason), "%s", reason);
}

static const teep_ws_client_cbs_t client_cbs = {
    .on_open = on_open,
    .on_message = on_message,
    .on_close = on_close,
};

int fix_init(fix_t *f, const char *plugin_dir, const char *vectors_dir)
{
    memset(f, 0, sizeof(*f));
    char err[256];
    int rc = uv_loop_init(&f->loop);
    if (rc == 0) {
        rc = teep_plugin_load(plugin_dir, "transport_ws",
                              TEEP_PLUGIN_CLASS_TRANSPORT, &f->plugin, err,
                              sizeof(err));
        if (rc != 0)
            fprintf(stderr, "%s\n", err);
    }
    if (rc == 0) {
        f->ops = f->plugin.desc->ops;
        /* Answers with the headroom the plugin asks for, as the broker. */
        rc = canned_tam_init(&f->tam, &f->loop, vectors_dir, f->ops->headroom);
    }
    if (rc == 0) {
        f->tam.quiet = true;
        rc = teep_ws_client_ctx_new(&f->loop, NULL, &f->clients);
    }
    return rc;
}

int fix_start(fix_t *f, const char *const *options)
{
    teep_transport_option_t opts[16];
    size_t n = 0;
    for (; options != NULL && options[2 * n] != NULL && n < 16; n++)
        opts[n] = (teep_transport_option_t){options[2 * n], options[2 * n + 1]};
    int rc = f->ops->create(&f->tam.host, "ws://127.0.0.1:0/tam", opts, n,
                            &f->instance);
    if (rc == 0)
        rc = f->ops->start(f->instance);
    if (rc == 0)
        rc = f->ops->local_uri(f->instance, f->uri, sizeof(f->uri));
    return rc;
}

static void on_stopped(void *arg)
{
    *(bool *)arg = true;
}

void fix_stop(fix_t *f)
{
    if (f->instance == NULL || f->stopped)
        return;
    bool done = false;
    f->ops->stop(f->instance, on_stopped, &done);
    fix_run_until(f, &done, 5000);
    f->stopped = done;
}

static void clients_freed(void *arg)
{
    *(bool *)arg = true;
}

int fix_finish(fix_t *f)
{
    fix_stop(f);
    if (f->instance != NULL && f->stopped)
        f->ops->destroy(f->instance);
    f->instance = NULL;
    if (f->clients != NULL) {
        teep_ws_client_ctx_free(f->clients, clients_freed, &f->clients_freed);
        fix_run_until(f, &f->clients_freed, 5000);
    }
    /* Let the canned TAM's closed timers run their close callbacks. */
    uv_run(&f->loop, UV_RUN_NOWAIT);
    for (size_t i = 0; i < f->n_owned; i++) {
        fix_client_clear(f->owned[i]);
        free(f->owned[i]);
    }
    canned_tam_free(&f->tam);
    teep_plugin_unload(&f->plugin);
    return uv_loop_close(&f->loop);
}

static void on_deadline(uv_timer_t *t)
{
    *(bool *)t->data = true;
}

bool fix_run_until(fix_t *f, const bool *flag, unsigned ms)
{
    uv_timer_t deadline;
    bool expired = false;
    uv_timer_init(&f->loop, &deadline);
    deadline.data = &expired;
    uv_timer_start(&deadline, on_deadline, ms, 0);
    while (!*flag && !expired)
        uv_run(&f->loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&deadline, NULL);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    return *flag;
}

static void poll_messages(uv_check_t *h)
{
    fix_client_t *c = ((void **)h->data)[0];
    int n = *(int *)((void **)h->data)[1];
    bool *flag = ((void **)h->data)[2];
    *flag = c->n_messages >= n || c->closed;
}

bool fix_wait_messages(fix_t *f, fix_client_t *c, int n, unsigned ms)
{
    bool flag = c->n_messages >= n || c->closed;
    uv_check_t check;
    void *args[3] = {c, &n, &flag};
    uv_check_init(&f->loop, &check);
    check.data = args;
    uv_check_start(&check, poll_messages);
    fix_run_until(f, &flag, ms);
    uv_close((uv_handle_t *)&check, NULL);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    return c->n_messages >= n;
}

static void poll_open(uv_check_t *h)
{
    fix_client_t *c = ((void **)h->data)[0];
    *(bool *)((void **)h->data)[1] = c->opened || c->closed;
}

fix_client_t *fix_connect(fix_t *f, const char *suffix)
{
    char url[512];
    fix_client_t *c = calloc(1, sizeof(*c));
    if (c == NULL || f->n_owned == FIX_MAX_CLIENTS) {
        free(c);
        return NULL;
    }
    f->owned[f->n_owned++] = c;
    c->ws.data = c;
    c->ws.cbs = &client_cbs;
    snprintf(url, sizeof(url), "%s%s", f->uri, suffix != NULL ? suffix : "");
    if (teep_ws_client_connect(f->clients, &c->ws, url) != 0)
        return c;
    bool flag = false;
    uv_check_t check;
    void *args[2] = {c, &flag};
    uv_check_init(&f->loop, &check);
    check.data = args;
    uv_check_start(&check, poll_open);
    fix_run_until(f, &flag, 2000);
    uv_close((uv_handle_t *)&check, NULL);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    return c;
}

void fix_client_clear(fix_client_t *c)
{
    for (int i = 0; i < c->n_messages; i++)
        teep_buf_unref(c->messages[i]);
    c->n_messages = 0;
}

int fix_port(const fix_t *f)
{
    const char *colon = strrchr(f->uri, ':');
    return colon != NULL ? atoi(colon + 1) : -1;
}

/* ------------------------------------------------------------ raw */

static void raw_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    fix_raw_t *r = h->data;
    buf->base = r->in + r->in_len;
    buf->len = sizeof(r->in) - 1 - r->in_len;
}

static void raw_closed(uv_handle_t *h)
{
    fix_raw_t *r = h->data;
    r->done = true;
}

static void raw_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    fix_raw_t *r = s->data;
    if (n > 0)
        r->in_len += (size_t)n;
    r->in[r->in_len] = '\0';
    if (n < 0 || r->in_len == sizeof(r->in) - 1 ||
        (r->enough != NULL && r->enough(r)))
        uv_close((uv_handle_t *)&r->tcp, raw_closed);
}

static void raw_written(uv_write_t *w, int status)
{
    fix_raw_t *r = w->data;
    if (status == 0)
        uv_read_start((uv_stream_t *)&r->tcp, raw_alloc, raw_read);
    else
        uv_close((uv_handle_t *)&r->tcp, raw_closed);
}

static void raw_connected(uv_connect_t *req, int status)
{
    fix_raw_t *r = req->data;
    if (status != 0) {
        uv_close((uv_handle_t *)&r->tcp, raw_closed);
        return;
    }
    r->write.data = r;
    uv_write(&r->write, (uv_stream_t *)&r->tcp, &r->out, 1, raw_written);
}

void fix_raw(fix_t *f, fix_raw_t *r, const void *bytes, size_t len,
             bool (*enough)(const fix_raw_t *r))
{
    fix_raw_from(f, r, NULL, bytes, len, enough);
}

void fix_raw_from(fix_t *f, fix_raw_t *r, const char *source, const void *bytes,
                  size_t len, bool (*enough)(const fix_raw_t *r))
{
    struct sockaddr_in a, src;
    memset(r, 0, sizeof(*r));
    r->enough = enough;
    uv_ip4_addr("127.0.0.1", fix_port(f), &a);
    uv_tcp_init(&f->loop, &r->tcp);
    if (source != NULL) {
        uv_ip4_addr(source, 0, &src);
        uv_tcp_bind(&r->tcp, (const struct sockaddr *)&src, 0);
    }
    r->tcp.data = r;
    r->connect.data = r;
    r->out = uv_buf_init((char *)bytes, (unsigned)len);
    uv_tcp_connect(&r->connect, &r->tcp, (const struct sockaddr *)&a,
                   raw_connected);
    fix_run_until(f, &r->done, 3000);
    if (!r->done && !uv_is_closing((uv_handle_t *)&r->tcp)) {
        uv_close((uv_handle_t *)&r->tcp, raw_closed);
        fix_run_until(f, &r->done, 1000);
    }
}
