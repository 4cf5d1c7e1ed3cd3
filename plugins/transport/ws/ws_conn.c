/*
 * ws_conn.c: one device connection of the WebSocket transport
 * (ws_internal.h, docs/transport-ws.md): a complete binary message
 * becomes an exchange with the host, one at a time; the exchange's answer
 * goes back as a binary message (the TAM's buffer, written in place with
 * its LWS_PRE headroom) or a control line; pushes and closes queue behind
 * answers.  Nothing here calls lws: ws_lws.c writes what ws_conn_next
 * hands out, through in->io.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ws_internal.h"

int ws_conn_open(ws_instance_t *in, void *io_handle, const char *route,
                 size_t route_len, const char *device, size_t device_len,
                 const uint8_t *peer, size_t peer_len, ws_conn_t **out)
{
    *out = NULL;
    if (route_len > UINT8_MAX)
        return -EINVAL;
    ws_entry_t *pe = ws_table_get(&in->peers, peer, peer_len);
    if (pe == NULL)
        return -ENOMEM;
    if (in->n_conns >= in->opt.max_connections ||
        pe->count >= in->opt.max_connections_per_peer) {
        if (pe->count == 0)
            ws_table_remove(&in->peers, pe);
        return TEEP_WS_CLOSE_TRY_LATER;
    }
    ws_conn_t *c = calloc(1, sizeof(*c) + route_len);
    ws_entry_t *de = NULL;
    if (c != NULL && device_len > 0 &&
        (de = ws_table_get(&in->devices, device, device_len)) == NULL) {
        free(c);
        c = NULL;
    }
    if (c == NULL) {
        if (pe->count == 0)
            ws_table_remove(&in->peers, pe);
        return -ENOMEM;
    }
    c->in = in;
    c->io_handle = io_handle;
    c->peer = pe;
    pe->count++;
    if (de != NULL) {
        /* The newest connection of a device gets its pushes: an older
         * one is usually a connection the device gave up on. */
        c->device = de;
        de->count++;
        de->value = c;
    }
    c->route_len = (uint8_t)route_len;
    memcpy(c->route, route, route_len);
    c->next = in->conns;
    if (in->conns != NULL)
        in->conns->prev = c;
    in->conns = c;
    in->n_conns++;
    in->host->gauge(in->host->host_data, "connections", in->n_conns);
    *out = c;
    return 0;
}

static void forget_assembly(ws_conn_t *c)
{
    if (c->rx.buf != NULL)
        c->in->assembling -= teep_buf_len(c->rx.buf);
    ws_rx_reset(&c->rx);
}

void ws_conn_gone(ws_conn_t *c)
{
    ws_instance_t *in = c->in;
    if (c->exchange != NULL)
        in->host->cancel(in->host->host_data, c->exchange);
    forget_assembly(c);
    teep_buf_unref(c->out);
    teep_buf_unref(c->control);
    if (c->device != NULL) {
        if (c->device->value == c)
            c->device->value = NULL;
        if (--c->device->count == 0)
            ws_table_remove(&in->devices, c->device);
    }
    if (--c->peer->count == 0)
        ws_table_remove(&in->peers, c->peer);
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        in->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    in->n_conns--;
    in->host->gauge(in->host->host_data, "connections", in->n_conns);
    free(c);
    ws__maybe_finish(in);
}

/* Queue the control line for a reply that is not a message. */
static void queue_control(ws_conn_t *c, const teep_exchange_reply_t *r)
{
    char line[TEEP_WS_CONTROL_MAX + 1];
    int n = teep_ws_control_for_reply(r, line, sizeof(line));
    if (n < 0) {
        /* Every outcome has a line; this is a reply the host should not
         * have made (an empty MESSAGE): say so rather than go silent. */
        static const teep_exchange_reply_t internal = {
            .outcome = TEEP_EXCHANGE_FAILED,
            .error = TEEP_XERR_INTERNAL,
            .reason = "the broker produced no answer",
        };
        n = teep_ws_control_for_reply(&internal, line, sizeof(line));
    }
    c->control = teep_buf_copy(0, line, (size_t)n);
}

/* The answer as written: the TAM's buffer itself when it has the LWS_PRE
 * headroom the host was asked for (ops->headroom), else one copy. */
static teep_buf_t *with_headroom(ws_conn_t *c, teep_buf_t *body)
{
    if (teep_buf_headroom(body) >= LWS_PRE)
        return teep_buf_ref(body);
    ws__count(c->in, "payload_copied_bytes", teep_buf_len(body));
    return teep_buf_copy(LWS_PRE, body->pos, teep_buf_len(body));
}

static void on_exchange_done(void *cb_data, const teep_exchange_reply_t *r)
{
    ws_conn_t *c = cb_data;
    c->exchange = NULL;
    if (r->outcome == TEEP_EXCHANGE_MESSAGE && r->body != NULL &&
        teep_buf_len(r->body) > 0) {
        c->out = with_headroom(c, r->body);
        if (c->out == NULL) {
            static const teep_exchange_reply_t oom = {
                .outcome = TEEP_EXCHANGE_FAILED,
                .error = TEEP_XERR_INTERNAL,
                .reason = "out of memory",
            };
            queue_control(c, &oom);
        }
    } else {
        queue_control(c, r);
    }
    if (c->out == NULL && c->control == NULL)
        c->close_code = TEEP_WS_CLOSE_INTERNAL; /* no memory for a line */
    c->in->io.want_write(c);
}

static int submit(ws_conn_t *c, teep_buf_t *body)
{
    ws_instance_t *in = c->in;
    char peer[64];
    const teep_exchange_request_t x = {
        .size = sizeof(x),
        .route = c->route,
        .route_len = c->route_len,
        .device = c->device != NULL ? (const char *)c->device->key : "",
        .device_len = c->device != NULL ? c->device->key_len : 0,
        .peer = in->io.peer(c, peer, sizeof(peer)),
        .body = body,
        .cb = on_exchange_done,
        .cb_data = c,
    };
    ws__count(in, "messages_in", 1);
    int rc = in->host->submit(in->host->host_data, &x, &c->exchange);
    if (rc < 0) {
        c->exchange = NULL;
        static const teep_exchange_reply_t refused = {
            .outcome = TEEP_EXCHANGE_FAILED,
            .error = TEEP_XERR_INTERNAL,
            .reason = "the broker cannot take the message",
        };
        queue_control(c, &refused);
        if (c->control == NULL)
            return TEEP_WS_CLOSE_INTERNAL;
        in->io.want_write(c);
    }
    return 0;
}

static int close_for(ws_conn_t *c, int code)
{
    static const struct {
        int code;
        const char *counter;
    } counters[] = {
        {TEEP_WS_CLOSE_UNSUPPORTED, "close_1003"},
        {TEEP_WS_CLOSE_POLICY, "close_1008"},
        {TEEP_WS_CLOSE_TOO_BIG, "close_1009"},
        {TEEP_WS_CLOSE_INTERNAL, "close_1011"},
        {TEEP_WS_CLOSE_TRY_LATER, "close_1013"},
    };
    for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
        if (counters[i].code == code)
            ws__count(c->in, counters[i].counter, 1);
    return code;
}

int ws_conn_receive(ws_conn_t *c, const uint8_t *p, size_t n,
                    const ws_chunk_t *ch)
{
    ws_instance_t *in = c->in;
    if (c->close_code != 0)
        return 0; /* closing: what still arrives is not read */
    if (n > in->opt.max_assembling - in->assembling) {
        /* Every connection together may hold this much of messages
         * not yet complete: past it, the one that asks for more is
         * told to come back later, and the others carry on. */
        forget_assembly(c);
        return close_for(c, TEEP_WS_CLOSE_TRY_LATER);
    }
    size_t before = c->rx.buf != NULL ? teep_buf_len(c->rx.buf) : 0;
    int rc = ws_rx_feed(&c->rx, p, n, ch, &in->rx_limits);
    if (rc < 0) {
        in->assembling -= before;
        return close_for(c, -rc);
    }
    in->assembling += n;
    if (rc == WS_RX_MORE)
        return 0;
    teep_buf_t *body = ws_rx_take(&c->rx);
    in->assembling -= before + n;
    if (c->exchange != NULL || c->out != NULL || c->control != NULL) {
        /* TEEP over WebSocket is one exchange at a time, as TEEP over
         * HTTP without pipelining: a device cannot have read the answer
         * it has not been sent yet. */
        teep_buf_unref(body);
        return close_for(c, TEEP_WS_CLOSE_POLICY);
    }
    rc = submit(c, body);
    teep_buf_unref(body);
    return rc > 0 ? close_for(c, rc) : 0;
}

void ws_conn_next(ws_conn_t *c, ws_out_t *out)
{
    *out = (ws_out_t){.kind = WS_OUT_NONE};
    if (c->out != NULL) {
        out->kind = WS_OUT_BINARY;
        out->buf = c->out;
        c->out = NULL;
        ws__count(c->in, "messages_out", 1);
    } else if (c->control != NULL) {
        out->kind = WS_OUT_TEXT;
        out->buf = c->control;
        out->text = (const char *)c->control->pos;
        out->len = teep_buf_len(c->control);
        c->control = NULL;
    } else if (c->push) {
        c->push = false;
        out->kind = WS_OUT_TEXT;
        out->text = TEEP_WS_WORD_CHECK_IN;
        out->len = sizeof(TEEP_WS_WORD_CHECK_IN) - 1;
        ws__count(c->in, "pushes", 1);
    } else if (c->close_code != 0) {
        out->kind = WS_OUT_CLOSE;
        out->code = c->close_code;
    } else if (c->in->stopping && c->exchange == NULL) {
        out->kind = WS_OUT_CLOSE;
        out->code = TEEP_WS_CLOSE_GOING_AWAY;
    }
}

bool ws_conn_has_output(const ws_conn_t *c)
{
    return c->out != NULL || c->control != NULL || c->push ||
           c->close_code != 0 || (c->in->stopping && c->exchange == NULL);
}

void ws_conn_drain(ws_conn_t *c)
{
    if (ws_conn_has_output(c))
        c->in->io.want_write(c);
}

void ws_conn_push(ws_conn_t *c)
{
    c->push = true;
    c->in->io.want_write(c);
}
