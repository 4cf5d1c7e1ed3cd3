/*
 * ws_transport.c: the WebSocket transport plugin (teep/transport_plugin.h):
 * TEEP over WebSocket (docs/transport-ws.md), the broker as the server
 * devices keep a connection open to.
 *
 * A device connects to ws[s]://HOST:PORT/tam[/ROUTE][?device=NAME] with
 * subprotocol teep.v1; every binary message it sends is an exchange with
 * the TAM route (an empty one starts a session), answered with a binary
 * message or a control line; the broker pushes check-in to a named
 * device.  The TAM's answer buffer is written as it was read: the host
 * reads it with ops->headroom = LWS_PRE bytes in front.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ws_internal.h"

void ws__count(ws_instance_t *in, const char *name, uint64_t delta)
{
    in->host->count(in->host->host_data, name, delta);
}

/* Received messages go in buffers from the host when it offers them (it
 * counts them on /metrics). */
static teep_buf_t *host_buf_new(void *ctx, size_t headroom, size_t size)
{
    const teep_transport_host_t *h = ctx;
    return h->buf_new(h->host_data, headroom, size);
}

void ws__rx_limits(ws_instance_t *in)
{
    const teep_transport_host_t *h = in->host;
    in->rx_limits = in->opt.rx;
    if (TEEP_TRANSPORT_HAS(h, teep_transport_host_t, buf_new) &&
        h->buf_new != NULL) {
        in->rx_limits.buf_new = host_buf_new;
        in->rx_limits.buf_ctx = (void *)h;
    }
}

static int create(const teep_transport_host_t *host, const char *listen_uri,
                  const teep_transport_option_t *options, size_t n_options,
                  void **out)
{
    ws_instance_t *in = calloc(1, sizeof(*in));
    if (in == NULL)
        return -ENOMEM;
    in->host = host;
    in->io = ws_lws_io;
    in->listen_fd = -1;
    snprintf(in->listen_uri, sizeof(in->listen_uri), "%s", listen_uri);
    int rc = ws_options_parse(&in->opt, host, listen_uri, options, n_options);
    ws__rx_limits(in);
    if (rc == 0 && (ws_table_init(&in->devices, 4096) != 0 ||
                    ws_table_init(&in->peers, 1024) != 0))
        rc = -ENOMEM;
    if (rc == 0)
        rc = uv_timer_init(host->loop, &in->reaper.timer);
    if (rc != 0) {
        ws_table_free(&in->devices);
        ws_table_free(&in->peers);
        free(in);
        return rc;
    }
    *out = in;
    return 0;
}

static int start(void *instance)
{
    ws_instance_t *in = instance;
    int rc = ws_lws_start(in);
    if (rc < 0) {
        in->host->log(in->host->host_data, TEEP_LOG_ERROR, "listen %s: %s",
                      in->listen_uri,
                      rc == -EINVAL ? "TLS certificate or key unusable"
                                    : "libwebsockets refused to start");
        return rc;
    }
    rc = ws_listen_start(in);
    if (rc < 0)
        in->host->log(in->host->host_data, TEEP_LOG_ERROR, "listen %s: %s",
                      in->listen_uri, strerror(-rc));
    return rc;
}

static int local_uri(void *instance, char *buf, size_t cap)
{
    ws_instance_t *in = instance;
    const ws_options_t *o = &in->opt;
    if (!in->listening || in->bound_port <= 0)
        return -EINVAL;
    int n = snprintf(buf, cap, "%s://%s%s%s:%d%s", o->tls ? "wss" : "ws",
                     o->v6 ? "[" : "", o->host, o->v6 ? "]" : "",
                     in->bound_port, o->prefix);
    return n > 0 && (size_t)n < cap ? 0 : -ENOSPC;
}

static void timer_closed(uv_handle_t *h)
{
    ws_instance_t *in = h->data;
    in->done(in->done_arg);
}

static void lws_gone(void *arg)
{
    ws_instance_t *in = arg;
    in->reaper.timer.data = in;
    uv_close((uv_handle_t *)&in->reaper.timer, timer_closed);
}

static void on_finish_timer(uv_timer_t *t)
{
    ws_instance_t *in = t->data;
    teep_ws_lws_destroy(&in->reaper, in->context, lws_gone, in);
}

void ws__maybe_finish(ws_instance_t *in)
{
    if (!in->stopping || in->finishing || in->n_conns > 0 || in->listening)
        return;
    in->finishing = true;
    /* Often called from inside an lws callback (the last close), where
     * the context must not be destroyed: the next loop turn does it. */
    in->reaper.timer.data = in;
    uv_timer_start(&in->reaper.timer, on_finish_timer, 0, 0);
}

static void stop(void *instance, void (*done)(void *arg), void *arg)
{
    ws_instance_t *in = instance;
    if (in->stopping)
        return;
    in->stopping = true;
    in->done = done;
    in->done_arg = arg;
    for (ws_conn_t *c = in->conns; c != NULL; c = c->next)
        ws_conn_drain(c);
    ws_listen_stop(in);
    ws__maybe_finish(in);
}

static void destroy(void *instance)
{
    ws_instance_t *in = instance;
    ws_table_free(&in->devices);
    ws_table_free(&in->peers);
    free(in);
}

static int push(void *instance, const char *device, size_t device_len)
{
    ws_instance_t *in = instance;
    ws_entry_t *e = ws_table_find(&in->devices, device, device_len);
    if (in->stopping || e == NULL || e->value == NULL)
        return -ENOENT;
    ws_conn_push(e->value);
    return 0;
}

static const char *const schemes[] = {"ws", "wss", NULL};

static const teep_transport_ops_t ops = {
    .size = sizeof(teep_transport_ops_t),
    .schemes = schemes,
    .headroom = LWS_PRE,
    .create = create,
    .start = start,
    .local_uri = local_uri,
    .stop = stop,
    .destroy = destroy,
    .push = push,
};

TEEP_PLUGIN_DEFINE(TEEP_PLUGIN_CLASS_TRANSPORT, "ws",
                   "TEEP over WebSocket (docs/transport-ws.md), "
                   "libwebsockets on the worker loop",
                   &ops);
