/*
 * Fuzz the WebSocket transport's ingress path (plugins/transport/ws):
 * arbitrary bytes read as the frames a device sends (RFC 6455 5.2:
 * FIN, opcode, 7/16/64-bit length, mask, payload), delivered to the
 * connection the way lws 4.1 delivers them (payload chunks of at most
 * rx_buffer_size, with first / final / binary / bytes of the frame still
 * announced), through message assembly and the limits into exchanges
 * with a host that answers each as the input says (a message with or
 * without LWS_PRE headroom, no content, each kind of failure), and
 * whatever the connection then wants written taken off its queue.
 *
 * Checks: nothing crashes or leaks (ASan, LeakSanitizer), the bytes held
 * in partial messages never exceed max_assembling, no message over
 * max_message is ever submitted, at most one exchange is in flight.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ws_internal.h"

#define MAX_MESSAGE 4096

typedef struct fuzz {
    ws_instance_t in;
    teep_transport_host_t host;
    teep_exchange_t *pending; /* the connection's exchange */
    teep_exchange_cb cb;
    void *cb_data;
    const uint8_t *p, *end; /* the input not read yet */
} fuzz_t;

static uint8_t take(fuzz_t *f)
{
    return f->p < f->end ? *f->p++ : 0;
}

static void host_log(void *d, teep_log_level_t l, const char *fmt, ...)
{
}

static void host_count(void *d, const char *name, uint64_t delta)
{
}

static void host_gauge(void *d, const char *name, uint64_t value)
{
}

static teep_buf_t *host_buf_new(void *d, size_t headroom, size_t size)
{
    return teep_buf_new(headroom, size);
}

static int host_submit(void *d, const teep_exchange_request_t *req,
                       teep_exchange_t **handle)
{
    fuzz_t *f = d;
    if (f->pending != NULL || req->size != sizeof(*req))
        abort(); /* one exchange at a time, a well-formed request */
    if (req->body != NULL && teep_buf_len(req->body) > MAX_MESSAGE)
        abort();
    if (take(f) == 0xff)
        return -12; /* the host cannot take it: -ENOMEM */
    f->pending = (teep_exchange_t *)f;
    f->cb = req->cb;
    f->cb_data = req->cb_data;
    *handle = f->pending;
    return 0;
}

static void host_cancel(void *d, teep_exchange_t *handle)
{
    fuzz_t *f = d;
    if (handle != f->pending)
        abort();
    f->pending = NULL;
}

static void want_write(ws_conn_t *c)
{
}

static const char *peer(ws_conn_t *c, char *buf, size_t cap)
{
    return "fuzz";
}

/* Answer the exchange in flight as the next input byte says. */
static void answer(fuzz_t *f)
{
    uint8_t how = take(f);
    teep_exchange_reply_t r = {.outcome = how % 3};
    if (r.outcome == TEEP_EXCHANGE_MESSAGE) {
        size_t len = take(f);
        r.body = teep_buf_new(how & 8 ? LWS_PRE : 0, len);
        if (r.body == NULL)
            abort();
        memset(r.body->pos, how, len);
        r.body->last += len;
    } else if (r.outcome == TEEP_EXCHANGE_FAILED) {
        r.error = (teep_exchange_error_t)(take(f) % (TEEP_XERR_COUNT + 1));
        r.upstream_status = take(f) * 3;
        r.retry_after_s = take(f);
        r.reason = how & 16 ? "upstream said\nno" : NULL;
    }
    f->pending = NULL;
    f->cb(f->cb_data, &r);
    teep_buf_unref(r.body);
}

/* Take everything the connection wants written. */
static bool drain_output(ws_conn_t *c)
{
    ws_out_t o;
    for (;;) {
        ws_conn_next(c, &o);
        teep_buf_unref(o.buf);
        if (o.kind == WS_OUT_NONE)
            return true;
        if (o.kind == WS_OUT_CLOSE)
            return false;
    }
}

/* One frame's header; false at the end of the input. */
static bool frame_header(fuzz_t *f, bool *fin, int *opcode, uint64_t *len)
{
    if (f->end - f->p < 2)
        return false;
    uint8_t b0 = take(f), b1 = take(f);
    *fin = b0 & 0x80;
    *opcode = b0 & 0x0f;
    *len = b1 & 0x7f;
    int ext = *len == 126 ? 2 : *len == 127 ? 8 : 0;
    if (ext > 0)
        *len = 0;
    for (int i = 0; i < ext; i++)
        *len = *len << 8 | take(f);
    if (b1 & 0x80)
        for (int i = 0; i < 4; i++)
            take(f); /* the mask: lws unmasks before the callback */
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    teep_ws_control_t ctl;
    teep_ws_control_parse(data, size, &ctl);

    fuzz_t f;
    memset(&f, 0, sizeof(f));
    f.p = data;
    f.end = data + size;
    f.host = (teep_transport_host_t){
        .size = sizeof(f.host),
        .host_data = &f,
        .log = host_log,
        .submit = host_submit,
        .cancel = host_cancel,
        .count = host_count,
        .gauge = host_gauge,
        .buf_new = host_buf_new,
    };
    ws_instance_t *in = &f.in;
    in->host = &f.host;
    in->io = (ws_io_t){.want_write = want_write, .peer = peer};
    static const teep_transport_option_t opts[] = {
        {"max_message", "4096"},
        {"max_fragments", "8"},
        {"max_assembling", "6000"},
    };
    if (ws_options_parse(&in->opt, &f.host, "ws://127.0.0.1:0/tam", opts, 3) !=
            0 ||
        ws_table_init(&in->devices, 16) != 0 ||
        ws_table_init(&in->peers, 16) != 0)
        abort();
    ws__rx_limits(in);
    size_t chunk = 16 + take(&f) % 240; /* rx_buffer_size */
    static const uint8_t addr[4] = {127, 0, 0, 1};
    ws_conn_t *c;
    if (ws_conn_open(in, NULL, "", 0, "dev", 3, addr, 4, &c) != 0)
        abort();

    bool open = true, in_message = false;
    bool fin;
    int opcode;
    uint64_t len;
    while (open && frame_header(&f, &fin, &opcode, &len)) {
        if (opcode >= 8)
            continue; /* ping, pong, close: lws answers those itself */
        if ((opcode == 0) != in_message)
            break; /* lws refuses a frame out of sequence (1002) */
        bool binary = opcode == 2 || (opcode == 0 && c->rx.binary);
        do {
            size_t avail = (size_t)(f.end - f.p);
            size_t n = len < chunk ? (size_t)len : chunk;
            if (n > avail)
                n = avail;
            len -= n;
            ws_chunk_t ch = {
                .first = !in_message,
                .final = fin && len == 0,
                .binary = binary,
                .remaining = (size_t)(len < SIZE_MAX ? len : SIZE_MAX),
            };
            int code = ws_conn_receive(c, f.p, n, &ch);
            f.p += n;
            in_message = !ch.final;
            if (in->assembling > in->opt.max_assembling)
                abort();
            if (code != 0) {
                open = false;
                break;
            }
            if (n == 0 && len > 0)
                break; /* the input ended inside a frame */
        } while (len > 0);
        if (open && f.pending != NULL && (take(&f) & 1))
            answer(&f);
        if (open)
            open = drain_output(c);
    }
    if (open && f.pending != NULL) {
        ws_conn_push(c);
        answer(&f);
        drain_output(c);
    }
    ws_conn_gone(c);
    if (f.pending != NULL || in->n_conns != 0 || in->assembling != 0)
        abort();
    ws_table_free(&in->devices);
    ws_table_free(&in->peers);
    return 0;
}
