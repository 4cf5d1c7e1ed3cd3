/*
 * One HTTP/1.x connection on a libuv TCP stream (net/conn.h).
 *
 * Read buffer discipline (nginx pos/last): rbuf->pos is the next byte to
 * parse, rbuf->last the end of what was received, and reads append after
 * last.  Parsed bytes stay where they are, so head fields and a body that
 * fits are used in place; an incomplete head is carried over to a fresh
 * buffer when the room runs out.  A buffer still referenced by a request
 * (its head) or a body view is never moved, only replaced.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "http_internal.h"

enum { BODY_NONE = 0, BODY_VIEW, BODY_DIRECT, BODY_GROW };

/* Below this much free room the read buffer is compacted or replaced, so
 * reads are never tiny. */
#define MIN_READ_SPACE 2048
/* TLS reads one record at a time at most: 16 KiB plus overhead. */
#define CIPHER_BUF_SIZE (16384 + 2048)
/* First allocation of a body without Content-Length (chunked). */
#define GROW_INITIAL 4096
/* A peer that does not take its last response in this time is cut. */
#define FINISH_SEND_TIMEOUT_MS 10000
/* An idle connection keeps its empty read buffer this long (ms). */
#define RBUF_LINGER_MS 250
/* Writes of up to this many buffers are tried at once (HTTP: head and
 * body). */
#define TRY_WRITE_MAX_BUFS 4

static void conn_parse(teep_http__conn_t *c);
static void tls_pump(teep_http__conn_t *c);
static void timer_due_at(teep_http__conn_t *c, uint64_t due);

/* ------------------------------------------------ the loop's context */

/* What a loop's connections share.  Writes the socket took at once
 * complete on the next loop turn, as a queued uv_write's would: one idle
 * handle per loop runs them for every connection of that loop (a handle
 * per connection cost 120 bytes in each, idle ones included, and a start
 * and a stop per write).  Deadlines are entries of one timing wheel per
 * loop instead of a 152-byte uv_timer_t each.  A loop runs on one thread,
 * so the contexts are found by loop in a per-thread list (one entry, in
 * practice); a context lives while connections use it, and its handles
 * are closed with the last of them. */
struct teep_http__conn_loop {
    teep_http__wheel_t wheel; /* first: its timer's data is the context */
    uv_idle_t idle;
    uv_loop_t *loop;
    teep_http__link_t done; /* connections whose write callbacks are due */
    size_t users;           /* connections initialised on this loop */
    unsigned open_handles;  /* while closing */
    teep_http__conn_loop_t *next;
};

static __thread teep_http__conn_loop_t *conn_loops;

static void run_done(uv_idle_t *idle);
static void timer_cb(teep_http__wheel_t *w, teep_http__timer_t *t);

static teep_http__conn_loop_t *conn_loop_acquire(uv_loop_t *loop)
{
    teep_http__conn_loop_t *l;
    for (l = conn_loops; l != NULL; l = l->next)
        if (l->loop == loop) {
            l->users++;
            return l;
        }
    l = calloc(1, sizeof(*l));
    if (l == NULL)
        return NULL;
    teep_http__wheel_init(&l->wheel, loop, timer_cb);
    uv_idle_init(loop, &l->idle); /* cannot fail */
    l->idle.data = l;
    l->loop = loop;
    teep_http__list_init(&l->done);
    l->users = 1;
    l->next = conn_loops;
    conn_loops = l;
    return l;
}

static void conn_loop_closed(uv_handle_t *h)
{
    teep_http__conn_loop_t *l = h->data;
    if (--l->open_handles == 0)
        free(l);
}

static void conn_loop_release(teep_http__conn_loop_t *l)
{
    if (--l->users > 0)
        return;
    teep_http__conn_loop_t **p = &conn_loops;
    while (*p != l)
        p = &(*p)->next;
    *p = l->next;
    l->open_handles = 2; /* the wheel's timer has the wheel, l, as data */
    teep_http__wheel_close(&l->wheel, conn_loop_closed);
    uv_close((uv_handle_t *)&l->idle, conn_loop_closed);
}

static void read_stop(teep_http__conn_t *c)
{
    if (c->reading) {
        uv_read_stop((uv_stream_t *)&c->tcp);
        c->reading = false;
    }
}

static void conn_read_end(teep_http__conn_t *c, int code)
{
    if (c->read_ended || c->closing)
        return;
    c->read_ended = true;
    read_stop(c);
    c->ops->on_read_end(c, code);
}

/* ----------------------------------------------------------- parsing */

static int parse_on_head(void *ctx)
{
    teep_http__conn_t *c = ctx;
    teep_buf_unref(c->head_buf);
    c->head_buf = teep_buf_ref(c->rbuf);
    c->body_mode = BODY_NONE;
    c->body_len = 0;
    return c->ops->on_head(c);
}

/* The first body bytes are at at (in rbuf): choose where the body goes. */
static int body_begin(teep_http__conn_t *c, const uint8_t *at)
{
    const teep_http__head_t *h = &c->parser->head;
    const teep_buf_t *r = c->rbuf;
    if (h->content_length >= 0 && !h->chunked) {
        uint64_t length = (uint64_t)h->content_length;
        if (length > c->limits.max_body)
            return TEEP_HTTP_E_BODY_TOO_LARGE;
        if (at >= r->start && at <= r->end && length <= (size_t)(r->end - at)) {
            /* It fits after the head: receive it in place, no copy. */
            c->body_mode = BODY_VIEW;
            c->view_start = at;
            return 0;
        }
        c->body = teep_buf_new(c->limits.body_headroom, (size_t)length);
        c->body_mode = BODY_DIRECT;
        c->body_expected = length;
    } else {
        size_t first = c->limits.max_body < GROW_INITIAL ? c->limits.max_body
                                                         : GROW_INITIAL;
        c->body = teep_buf_new(c->limits.body_headroom, first);
        c->body_mode = BODY_GROW;
    }
    return c->body != NULL ? 0 : -ENOMEM;
}

static int parse_on_body(void *ctx, const uint8_t *at, size_t len)
{
    teep_http__conn_t *c = ctx;
    if (c->body_mode == BODY_NONE) {
        int rc = body_begin(c, at);
        if (rc < 0)
            return rc;
    }
    if (c->body_mode == BODY_VIEW) {
        c->body_len += len;
        return 0;
    }
    if (at == c->body->last) { /* read straight into the body */
        c->body->last += len;
        return 0;
    }
    if (teep_buf_len(c->body) + len > c->limits.max_body)
        return TEEP_HTTP_E_BODY_TOO_LARGE;
    int rc = teep_buf_reserve(&c->body, len);
    if (rc < 0)
        return rc;
    teep_http__put(c->body, at, len);
    return 0;
}

static const teep_http__parse_cbs_t parse_cbs = {
    .on_head = parse_on_head,
    .on_body = parse_on_body,
};

/* A message is complete: hand it over.  Returns non-zero to stop the
 * parse loop. */
static int message_done(teep_http__conn_t *c)
{
    teep_buf_t *body = NULL;
    if (c->body_mode == BODY_VIEW && c->body_len > 0) {
        body = teep_buf_view(c->rbuf, c->view_start, c->body_len);
        if (body == NULL) {
            conn_read_end(c, -ENOMEM);
            return -1;
        }
    } else if (c->body != NULL) {
        body = c->body;
        c->body = NULL;
        if (teep_buf_len(body) == 0) {
            teep_buf_unref(body);
            body = NULL;
        }
    }
    c->body_mode = BODY_NONE;
    c->body_len = 0;
    c->prev_message_at = c->last_message_at;
    c->last_message_at = uv_now(c->tcp.loop);
    int rc = c->ops->on_message(c, body);
    teep_buf_unref(c->head_buf);
    c->head_buf = NULL;
    if (rc == 1)
        teep_http__conn_pause(c);
    return rc;
}

/* A parser for the next message (none is kept while the connection is
 * idle: net/conn.h).  Returns 0 or -ENOMEM. */
static int parser_new(teep_http__conn_t *c)
{
    c->parser = malloc(sizeof(*c->parser));
    if (c->parser == NULL)
        return -ENOMEM;
    teep_http__parser_init(c->parser, c->parser_type, c->limits.max_head_size,
                           c->limits.max_fields, &parse_cbs, c);
    return 0;
}

/* Idle between messages: the read buffer and the parser go, and under
 * TLS the ciphertext landing area (its bytes are fed to the TLS session
 * as soon as they are read).  A fresh parser starts the next message as
 * the old one would have, since each message is parsed on its own
 * (parsing stops after each). */
static void rest(teep_http__conn_t *c)
{
    teep_buf_unref(c->rbuf);
    c->rbuf = NULL;
    free(c->parser);
    c->parser = NULL;
    free(c->cipher_in);
    c->cipher_in = NULL;
}

/* Whether the read buffer holds nothing for the connection: between
 * messages, nothing unparsed. */
static bool rbuf_unused(const teep_http__conn_t *c)
{
    return c->rbuf != NULL &&
           teep_http__conn_parse_state(c) == TEEP_HTTP__IDLE &&
           c->body_mode == BODY_NONE && teep_buf_len(c->rbuf) == 0;
}

/* Between messages a keep-alive connection gives its read buffer back:
 * an idle connection then costs no buffer (nginx does the same), and the
 * next read allocates one again.  A busy connection (its last two
 * messages less than RBUF_LINGER_MS apart) keeps it until it has been
 * idle that long, and reads every message into the same buffer: a fresh
 * 16 KiB buffer per message cost a malloc and a free, and the allocator
 * trimming and re-faulting those pages cost more than the relay itself.
 * A connection that sent one message and went quiet (most agents) gives
 * it back at once, so a burst of them does not hold a buffer each.  A
 * request still being answered keeps the bytes it points to through its
 * own reference. */
static void rbuf_idle(teep_http__conn_t *c)
{
    if (!rbuf_unused(c))
        return;
    if (c->prev_message_at == 0 ||
        c->last_message_at - c->prev_message_at >= RBUF_LINGER_MS) {
        rest(c);
        return;
    }
    c->rbuf_release_at = uv_now(c->tcp.loop) + RBUF_LINGER_MS;
    timer_due_at(c, c->rbuf_release_at);
}

static void conn_parse(teep_http__conn_t *c)
{
    while (!c->paused && !c->read_ended && !c->closing) {
        bool in_body = c->body_unparsed > 0;
        const uint8_t *data;
        size_t len;
        if (in_body) {
            data = c->body->last;
            len = c->body_unparsed;
        } else if (c->rbuf != NULL) {
            data = c->rbuf->pos;
            len = teep_buf_len(c->rbuf);
        } else {
            return;
        }
        if (len == 0) {
            rbuf_idle(c);
            return;
        }
        size_t used;
        if (c->parser == NULL && parser_new(c) < 0) {
            conn_read_end(c, -ENOMEM);
            return;
        }
        int rc = teep_http__parse(c->parser, data, len, &used);
        if (in_body)
            c->body_unparsed -= used;
        else
            c->rbuf->pos += used;
        if (rc < 0) {
            conn_read_end(c, rc);
            return;
        }
        if (rc == TEEP_HTTP__DONE) {
            if (message_done(c) != 0)
                return;
        } else if (used == 0) {
            return;
        }
    }
}

static void conn_eof(teep_http__conn_t *c)
{
    int rc = c->parser != NULL ? teep_http__parse_eof(c->parser) : 0;
    if (rc == TEEP_HTTP__DONE) {
        if (message_done(c) < 0)
            return;
        rc = UV_EOF;
    }
    conn_read_end(c, rc < 0 ? rc : UV_EOF);
}

/* ------------------------------------------------------- read buffers */

/* Make room after rbuf->last, keeping unparsed bytes and an incomplete
 * head (whose spans are relative to parser->base, so only base moves). */
static int rbuf_make_space(teep_http__conn_t *c)
{
    size_t size = c->limits.read_buffer_size;
    teep_buf_t *b = c->rbuf;
    if (b == NULL) {
        c->rbuf = teep_buf_new(0, size);
        return c->rbuf != NULL ? 0 : -ENOMEM;
    }
    /* A body in place was checked to fit in what is left. */
    if (c->body_mode == BODY_VIEW || teep_buf_tailroom(b) >= MIN_READ_SPACE)
        return 0;
    const uint8_t *keep = b->pos;
    bool in_head = teep_http__conn_parse_state(c) == TEEP_HTTP__HEAD;
    if (in_head && c->parser->base < keep)
        keep = c->parser->base;
    size_t n = (size_t)(b->last - keep);
    size_t pos_off = (size_t)(b->pos - keep);
    size_t base_off = in_head ? (size_t)(c->parser->base - keep) : 0;
    teep_buf_t *dst = b;
    if (b->refs == 1) {
        if (keep == b->start)
            return teep_buf_tailroom(b) > 0 ? 0 : TEEP_HTTP_E_HEADER_TOO_LARGE;
        memmove(b->start, keep, n);
    } else {
        dst = teep_buf_new(0, size);
        if (dst == NULL)
            return -ENOMEM;
        memcpy(dst->start, keep, n);
        c->rbuf = dst;
        teep_buf_unref(b);
    }
    dst->pos = dst->start + pos_off;
    dst->last = dst->start + n;
    if (in_head)
        teep_http__parse_rebase(c->parser, dst->start + base_off);
    return 0;
}

/* Where the next plaintext goes: straight into a body of known length
 * when nothing else is waiting, else after rbuf->last. */
static uv_buf_t conn_space(teep_http__conn_t *c)
{
    c->read_to_body = false;
    if (c->body_mode == BODY_DIRECT && c->body_unparsed == 0 &&
        (c->rbuf == NULL || teep_buf_len(c->rbuf) == 0)) {
        size_t want = (size_t)c->body_expected - teep_buf_len(c->body);
        if (want > UINT32_MAX) /* uv_buf_t lengths are unsigned int */
            want = UINT32_MAX;
        if (want > 0) {
            c->read_to_body = true;
            return uv_buf_init((char *)c->body->last, (unsigned)want);
        }
    }
    if (rbuf_make_space(c) < 0)
        return uv_buf_init(NULL, 0);
    return uv_buf_init((char *)c->rbuf->last,
                       (unsigned)teep_buf_tailroom(c->rbuf));
}

static void commit(teep_http__conn_t *c, size_t n)
{
    if (c->read_to_body)
        c->body_unparsed += n;
    else
        c->rbuf->last += n;
    conn_parse(c);
}

static teep_http__conn_t *conn_of(uv_handle_t *h)
{
    return h->data;
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *out)
{
    teep_http__conn_t *c = conn_of(h);
    if (c->tls.ssl != NULL || c->draining) {
        if (c->cipher_in == NULL)
            c->cipher_in = malloc(CIPHER_BUF_SIZE);
        *out = uv_buf_init((char *)c->cipher_in,
                           c->cipher_in != NULL ? CIPHER_BUF_SIZE : 0);
        return;
    }
    *out = conn_space(c);
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    teep_http__conn_t *c = conn_of((uv_handle_t *)s);
    if (nread == 0)
        return;
    if (c->draining) { /* only waiting for the peer to close */
        if (nread < 0)
            teep_http__conn_close(c);
        return;
    }
    if (nread < 0) {
        if (nread == UV_EOF)
            conn_eof(c);
        else
            conn_read_end(c, nread == UV_ENOBUFS ? -ENOMEM : (int)nread);
        return;
    }
    c->bytes_in += (uint64_t)nread;
    if (c->bytes_in_total != NULL)
        *c->bytes_in_total += (uint64_t)nread;
    if (c->tls.ssl != NULL) {
        if (teep_tls__feed(&c->tls, (const uint8_t *)buf->base, (size_t)nread) <
            0) {
            conn_read_end(c, -ENOMEM);
            return;
        }
        tls_pump(c);
    } else {
        commit(c, (size_t)nread);
    }
    if (!c->closing && c->ops->on_data != NULL)
        c->ops->on_data(c);
}

static int read_start(teep_http__conn_t *c)
{
    if (c->reading || c->closing)
        return 0;
    int rc = uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb);
    if (rc == 0)
        c->reading = true;
    return rc;
}

/* ---------------------------------------------------------------- TLS */

static void count_out(teep_http__conn_t *c, size_t n)
{
    c->bytes_out += n;
    if (c->bytes_out_total != NULL)
        *c->bytes_out_total += n;
}

static void write_done(uv_write_t *req, int status)
{
    teep_http__write_t *w =
        teep_http__container_of(req, teep_http__write_t, req);
    teep_buf_unref(w->cipher);
    w->cipher = NULL;
    w->cb(w, status);
}

static void flush_done(teep_http__write_t *w, int status)
{
    free(w);
}

/* Send what the TLS session produced by itself (handshake, alerts,
 * tickets, close_notify). */
static void tls_flush(teep_http__conn_t *c)
{
    size_t n = teep_tls__pending(&c->tls);
    if (n == 0 || c->closing)
        return;
    teep_http__write_t *w = malloc(sizeof(*w));
    teep_buf_t *cipher = teep_buf_new(0, n);
    if (w == NULL || cipher == NULL) {
        free(w);
        teep_buf_unref(cipher);
        teep_http__conn_close(c);
        return;
    }
    cipher->last += teep_tls__take(&c->tls, cipher->pos, n);
    uv_buf_t b =
        uv_buf_init((char *)cipher->pos, (unsigned)teep_buf_len(cipher));
    w->conn = c;
    w->cipher = cipher;
    w->cb = flush_done;
    count_out(c, b.len);
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, write_done) < 0) {
        teep_buf_unref(cipher);
        free(w);
        teep_http__conn_close(c);
    }
}

static void tls_pump(teep_http__conn_t *c)
{
    while (!c->paused && !c->read_ended && !c->closing) {
        uv_buf_t space = conn_space(c);
        if (space.len == 0) {
            conn_read_end(c, -ENOMEM);
            break;
        }
        size_t n;
        int rc = teep_tls__read(&c->tls, (uint8_t *)space.base, space.len, &n);
        if (!c->handshake_seen && teep_tls__handshake_done(&c->tls)) {
            c->handshake_seen = true;
            tls_flush(c);
            if (c->ops->on_handshake != NULL)
                c->ops->on_handshake(c);
            if (c->closing)
                return;
        }
        if (rc != 0) {
            tls_flush(c); /* the alert, if any */
            if (rc == UV_EOF)
                conn_eof(c);
            else
                conn_read_end(c, rc);
            return;
        }
        if (n == 0)
            break;
        commit(c, n);
    }
    tls_flush(c);
}

/* ------------------------------------------------------------- writes */

/* A write the socket took at once: its callback runs on the next loop
 * turn (idle handles run before the loop polls again, and an active one
 * keeps that poll from blocking), as a uv_write's would. */
static void write_sent(teep_http__conn_t *c, teep_http__write_t *w)
{
    teep_http__conn_loop_t *l = c->shared;
    w->next_done = NULL;
    *c->done_tail = w;
    c->done_tail = &w->next_done;
    if (teep_http__list_empty(&c->done_link))
        teep_http__list_insert_tail(&l->done, &c->done_link);
    if (!uv_is_active((uv_handle_t *)&l->idle))
        uv_idle_start(&l->idle, run_done);
}

/* Callbacks of writes sent at once.  A callback may write again: that
 * write waits for the next turn. */
static void run_done_list(teep_http__conn_t *c)
{
    teep_http__write_t *w = c->done_head;
    c->done_head = NULL;
    c->done_tail = &c->done_head;
    while (w != NULL) {
        teep_http__write_t *next = w->next_done;
        teep_buf_unref(w->cipher);
        w->cipher = NULL;
        w->cb(w, 0);
        w = next;
    }
}

/* Every connection queued so far; one whose callback writes again is
 * queued anew and waits for the next turn.  A connection is freed only
 * in its close callback, which never runs inside this one. */
static void run_done(uv_idle_t *idle)
{
    teep_http__conn_loop_t *l = idle->data;
    uv_idle_stop(idle);
    teep_http__link_t due;
    if (teep_http__list_empty(&l->done))
        return;
    due.next = l->done.next;
    due.prev = l->done.prev;
    due.next->prev = &due;
    due.prev->next = &due;
    teep_http__list_init(&l->done);
    while (!teep_http__list_empty(&due)) {
        teep_http__conn_t *c =
            teep_http__container_of(due.next, teep_http__conn_t, done_link);
        teep_http__list_remove(&c->done_link);
        run_done_list(c);
    }
}

int teep_http__conn_write(teep_http__conn_t *c, teep_http__write_t *w,
                          const uv_buf_t *bufs, unsigned nbufs,
                          teep_http__write_cb cb)
{
    if (c->closing || c->finishing)
        return UV_EPIPE;
    w->conn = c;
    w->cb = cb;
    w->cipher = NULL;
    uv_buf_t sealed;
    if (c->tls.ssl != NULL) {
        /* Encryption is the one copy TLS cannot avoid. */
        int rc = teep_tls__write(&c->tls, bufs, nbufs);
        if (rc < 0)
            return rc;
        size_t n = teep_tls__pending(&c->tls);
        w->cipher = teep_buf_new(0, n);
        if (w->cipher == NULL)
            return -ENOMEM;
        w->cipher->last += teep_tls__take(&c->tls, w->cipher->pos, n);
        sealed = uv_buf_init((char *)w->cipher->pos,
                             (unsigned)teep_buf_len(w->cipher));
        bufs = &sealed;
        nbufs = 1;
    }
    size_t total = 0;
    for (unsigned i = 0; i < nbufs; i++)
        total += bufs[i].len;
    count_out(c, total);
    uv_buf_t rest[TRY_WRITE_MAX_BUFS];
    if (nbufs <= TRY_WRITE_MAX_BUFS) {
        /* Fails with UV_EAGAIN while earlier writes are queued, so the
         * order holds; any other error is left to uv_write to report. */
        int n = uv_try_write((uv_stream_t *)&c->tcp, bufs, nbufs);
        if (n >= 0 && (size_t)n == total) {
            write_sent(c, w);
            return 0;
        }
        if (n > 0) {
            size_t skip = (size_t)n;
            unsigned k = 0;
            for (unsigned i = 0; i < nbufs; i++) {
                if (skip >= bufs[i].len) {
                    skip -= bufs[i].len;
                    continue;
                }
                rest[k++] = uv_buf_init(bufs[i].base + skip,
                                        (unsigned)(bufs[i].len - skip));
                skip = 0;
            }
            bufs = rest;
            nbufs = k;
        }
    }
    int rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, bufs, nbufs, write_done);
    if (rc < 0) {
        teep_buf_unref(w->cipher);
        w->cipher = NULL;
    }
    return rc;
}

/* ---------------------------------------------------- timers, closing */

/* Two deadlines share the wheel entry: the owner's (deadline) and the
 * read buffer's (rbuf_release_at).  They move on every message; the
 * entry only moves when it would come due too late, and coming due early
 * re-arms it for what is left. */
static void timer_due_at(teep_http__conn_t *c, uint64_t due)
{
    if (c->timer.due != 0 && c->timer.due <= due)
        return;
    teep_http__timer_start(&c->shared->wheel, &c->timer, due);
}

static void arm(teep_http__conn_t *c, uint64_t ms)
{
    c->deadline = uv_now(c->tcp.loop) + ms;
    timer_due_at(c, c->deadline);
}

static void timer_cb(teep_http__wheel_t *w, teep_http__timer_t *t)
{
    teep_http__conn_t *c = teep_http__container_of(t, teep_http__conn_t, timer);
    uint64_t now = uv_now(w->timer.loop);
    if (c->rbuf_release_at != 0 && c->rbuf_release_at <= now) {
        c->rbuf_release_at = 0;
        if (rbuf_unused(c))
            rest(c);
    }
    if (c->deadline != 0 && c->deadline <= now) {
        c->deadline = 0;
        if (c->finishing)
            teep_http__conn_close(c);
        else
            c->ops->on_timeout(c); /* may close, or arm again */
    }
    if (c->closing)
        return;
    if (c->rbuf_release_at != 0)
        timer_due_at(c, c->rbuf_release_at);
    if (c->deadline != 0)
        timer_due_at(c, c->deadline);
}

void teep_http__conn_timer(teep_http__conn_t *c, uint64_t ms)
{
    if (c->closing || c->finishing)
        return;
    if (ms == 0)
        c->deadline = 0; /* the armed timer finds nothing due */
    else
        arm(c, ms);
}

/* libuv runs this also when the connection closes first (UV_ECANCELED,
 * before the close callbacks), so the request is always freed here. */
static void shutdown_cb(uv_shutdown_t *req, int status)
{
    teep_http__conn_t *c = req->data;
    free(req);
    if (c->closing)
        return;
    if (status < 0 || c->linger_ms == 0) {
        teep_http__conn_close(c);
        return;
    }
    c->draining = true;
    arm(c, c->linger_ms);
    if (read_start(c) < 0)
        teep_http__conn_close(c);
}

void teep_http__conn_finish(teep_http__conn_t *c, uint64_t linger_ms)
{
    if (c->closing || c->finishing)
        return;
    c->paused = true;
    read_stop(c);
    if (c->tls.ssl != NULL && c->handshake_seen) {
        teep_tls__shutdown(&c->tls);
        tls_flush(c);
    }
    c->finishing = true;
    c->linger_ms = linger_ms;
    arm(c, FINISH_SEND_TIMEOUT_MS);
    uv_shutdown_t *req = malloc(sizeof(*req));
    if (req != NULL)
        req->data = c;
    if (req == NULL ||
        uv_shutdown(req, (uv_stream_t *)&c->tcp, shutdown_cb) < 0) {
        free(req);
        teep_http__conn_close(c);
    }
}

static void close_cb(uv_handle_t *h)
{
    teep_http__conn_t *c = conn_of(h);
    /* Writes the socket took before the close completed (as libuv does
     * for its own), before the owner frees anything. */
    teep_http__list_remove(&c->done_link);
    run_done_list(c);
    if (--c->handles > 0)
        return;
    conn_loop_release(c->shared);
    rest(c);
    teep_buf_unref(c->head_buf);
    teep_buf_unref(c->body);
    c->head_buf = c->body = NULL;
    if (c->tls.ssl != NULL)
        teep_tls__session_free(&c->tls);
    c->ops->on_close(c);
}

void teep_http__conn_close(teep_http__conn_t *c)
{
    if (c->closing)
        return;
    c->closing = true;
    read_stop(c);
    teep_http__timer_stop(&c->shared->wheel, &c->timer);
    uv_close((uv_handle_t *)&c->tcp, close_cb);
}

/* ------------------------------------------------------------ set-up */

int teep_http__conn_init(teep_http__conn_t *c, uv_loop_t *loop, int type,
                         const teep_http__conn_ops_t *ops,
                         const teep_http__conn_limits_t *limits)
{
    memset(c, 0, sizeof(*c));
    c->shared = conn_loop_acquire(loop);
    if (c->shared == NULL)
        return -ENOMEM;
    int rc = uv_tcp_init(loop, &c->tcp);
    if (rc < 0) {
        conn_loop_release(c->shared);
        return rc;
    }
    c->tcp.data = c;
    teep_http__timer_init(&c->timer);
    teep_http__list_init(&c->done_link);
    c->done_tail = &c->done_head;
    c->handles = 1;
    c->ops = ops;
    c->limits = *limits;
    c->parser_type = (uint8_t)type;
    return 0;
}

int teep_http__conn_tls(teep_http__conn_t *c, const teep_tls_ctx_t *ctx,
                        const char *host)
{
    return teep_tls__session_init(&c->tls, ctx, host);
}

int teep_http__conn_start(teep_http__conn_t *c)
{
    int rc = read_start(c);
    if (rc == 0 && c->tls.ssl != NULL)
        tls_pump(c); /* a client's ClientHello */
    return rc;
}

void teep_http__conn_pause(teep_http__conn_t *c)
{
    c->paused = true;
    read_stop(c);
}

void teep_http__conn_resume(teep_http__conn_t *c)
{
    if (!c->paused || c->closing || c->read_ended || c->finishing)
        return;
    c->paused = false;
    /* Bytes that arrived behind the message that paused us. */
    conn_parse(c);
    if (c->tls.ssl != NULL)
        tls_pump(c);
    if (!c->paused && !c->read_ended && !c->closing) {
        int rc = read_start(c);
        if (rc < 0)
            conn_read_end(c, rc);
    }
    if (!c->closing && c->ops->on_data != NULL)
        c->ops->on_data(c);
}
