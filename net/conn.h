/*
 * net/conn.h: one HTTP/1.x connection on a libuv TCP stream, plain or TLS
 * (net/tls_session.h), shared by the server and the client pool.
 *
 * It owns the read side: a read buffer whose bytes are parsed in place
 * (net/http_parse.h), bodies received once (a view of the read buffer, or
 * read straight into a buffer sized from Content-Length), backpressure
 * (pause / resume), one timer for its owner, writes of iovecs (encrypted
 * first under TLS), graceful finish with lingering, and asynchronous
 * close.  The owner embeds the struct, fills ops, and frees its memory in
 * on_close only.
 *
 * Per-message cost: a write is first tried at once (uv_try_write), and
 * only what the socket does not take is queued with uv_write; libuv's
 * queued writes cost an epoll_ctl each when they complete, which a
 * small request or response never needs.  The owner's timer is a
 * deadline: re-arming it moves a number, and the entry in the loop's
 * timing wheel (net/wheel.h) only moves when the new deadline is earlier
 * than the armed one.  A busy
 * connection reads every message into the same read buffer, and gives it
 * back once idle for a moment.
 *
 * Memory per connection: what an idle keep-alive connection needs stays
 * in the struct; what only a busy or closing one needs is shared or
 * allocated then.  The parser (over a kilobyte: room for every field of a
 * head) and the read buffer exist while messages arrive and go when the
 * connection is idle between messages, by the read buffer's rule above;
 * the callbacks of writes sent at once run from one idle handle per loop
 * and the deadlines from one timing wheel per loop (a per-thread context
 * of the loop's connections); the uv_shutdown_t is allocated by
 * teep_http__conn_finish.
 */
#ifndef TEEP_NET_CONN_H
#define TEEP_NET_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "http_parse.h"
#include "teep/buf.h"
#include "tls_session.h"
#include "wheel.h"

typedef struct teep_http__conn teep_http__conn_t;
typedef struct teep_http__write teep_http__write_t;
typedef struct teep_http__conn_loop teep_http__conn_loop_t; /* conn.c */

typedef void (*teep_http__write_cb)(teep_http__write_t *w, int status);

/* A write in flight; the owner embeds one per message it sends. */
struct teep_http__write {
    uv_write_t req;
    teep_http__conn_t *conn;
    teep_buf_t *cipher; /* TLS: the encrypted bytes (owned) */
    teep_http__write_cb cb;
    teep_http__write_t *next_done; /* sent at once: cb is due */
};

typedef struct teep_http__conn_ops {
    /* A head is complete: c->parser->head, relative to c->parser->base,
     * inside c->head_buf (held by the connection until on_message
     * returns).  Return 0, TEEP_HTTP__SKIP_BODY, or a negative code to
     * stop reading (on_read_end follows with it). */
    int (*on_head)(teep_http__conn_t *c);
    /* A message is complete.  body: NULL or a reference handed over.
     * Return 0 to go on, 1 to pause reading after this message. */
    int (*on_message)(teep_http__conn_t *c, teep_buf_t *body);
    /* Bytes were read and parsed (for timers). */
    void (*on_data)(teep_http__conn_t *c);
    /* Reading ended for good: UV_EOF, a socket -errno, TEEP_HTTP_E_RESET
     * (a message cut short), a parse error, TEEP_HTTP_E_TLS, -ENOMEM. */
    void (*on_read_end)(teep_http__conn_t *c, int code);
    /* TLS handshake complete. */
    void (*on_handshake)(teep_http__conn_t *c);
    void (*on_timeout)(teep_http__conn_t *c);
    /* Every handle is closed: free the memory now. */
    void (*on_close)(teep_http__conn_t *c);
} teep_http__conn_ops_t;

typedef struct teep_http__conn_limits {
    size_t max_head_size;
    size_t max_fields;
    size_t max_body;
    size_t read_buffer_size;
    size_t body_headroom;
} teep_http__conn_limits_t;

struct teep_http__conn {
    uv_tcp_t tcp;
    teep_http__conn_loop_t *shared; /* the loop's: done writes, deadlines */
    teep_http__timer_t timer;       /* due: when the wheel calls us */
    teep_http__link_t done_link; /* in shared's queue while done_head is set */
    teep_http__write_t *done_head; /* writes sent at once, cb not run yet */
    teep_http__write_t **done_tail;
    uint64_t deadline;        /* loop ms of the owner's timeout, 0: none */
    uint64_t rbuf_release_at; /* loop ms an idle rbuf is given back */
    uint64_t last_message_at; /* loop ms of the last two messages read */
    uint64_t prev_message_at;
    const teep_http__conn_ops_t *ops;
    teep_http__conn_limits_t limits;
    teep_tls__session_t tls;
    uint8_t *cipher_in;        /* TLS: socket reads land here */
    teep_buf_t *rbuf;          /* pos: next unparsed byte; last: end of data */
    teep_buf_t *head_buf;      /* the buffer holding the current head */
    teep_buf_t *body;          /* a body being read straight or assembled */
    const uint8_t *view_start; /* a body being received inside rbuf */
    size_t body_len;           /* bytes of a body inside rbuf */
    size_t body_unparsed;      /* bytes read into body not parsed yet */
    uint64_t body_expected;
    teep_http__parser_t *parser; /* while messages arrive, else NULL */
    uint64_t bytes_in;           /* socket bytes (TLS: ciphertext) */
    uint64_t bytes_out;
    uint64_t *bytes_in_total; /* the owner's counters, or NULL */
    uint64_t *bytes_out_total;
    uint64_t linger_ms;
    uint8_t body_mode;
    uint8_t parser_type; /* TEEP_HTTP__REQUEST or TEEP_HTTP__RESPONSE */
    uint8_t handles;     /* open libuv handles */
    bool reading;
    bool paused;
    bool read_ended;
    bool handshake_seen;
    bool finishing; /* shutdown sent: only draining is left */
    bool draining;
    bool closing;
    bool read_to_body; /* the last read space given was in body */
};

/* Where the connection is in a message: TEEP_HTTP__IDLE (also when it
 * holds no parser), TEEP_HTTP__HEAD or TEEP_HTTP__BODY. */
static inline int teep_http__conn_parse_state(const teep_http__conn_t *c)
{
    return c->parser != NULL ? c->parser->state : TEEP_HTTP__IDLE;
}

/* Initialise the handles on loop (type: TEEP_HTTP__REQUEST to read
 * requests, TEEP_HTTP__RESPONSE to read responses).  Returns 0 or a
 * -errno; on failure nothing needs closing. */
int teep_http__conn_init(teep_http__conn_t *c, uv_loop_t *loop, int type,
                         const teep_http__conn_ops_t *ops,
                         const teep_http__conn_limits_t *limits);

/* Run TLS on this connection (before teep_http__conn_start); host as in
 * teep_tls__session_init.  Returns 0, -EINVAL, -ENOMEM. */
int teep_http__conn_tls(teep_http__conn_t *c, const teep_tls_ctx_t *ctx,
                        const char *host);

/* Start reading (a TLS client also sends its ClientHello).  Returns 0 or
 * a -errno. */
int teep_http__conn_start(teep_http__conn_t *c);

/* Stop reading after the current message / go on (from a safe point: a
 * write callback, not from inside a callback of this connection). */
void teep_http__conn_pause(teep_http__conn_t *c);
void teep_http__conn_resume(teep_http__conn_t *c);

/* Write the buffers in order (borrowed until cb: keep them alive).  cb
 * runs once, never inside this call (on the next loop turn when the
 * socket took everything at once), also with UV_ECANCELED when the
 * connection closes first.  Returns 0 or a negative code (then cb will
 * not run). */
int teep_http__conn_write(teep_http__conn_t *c, teep_http__write_t *w,
                          const uv_buf_t *bufs, unsigned nbufs,
                          teep_http__write_cb cb);

/* Arm the owner's timer for ms from the loop's time (0: stop it).
 * Cheap enough to call for every message. */
void teep_http__conn_timer(teep_http__conn_t *c, uint64_t ms);

/* Graceful end: stop reading, send TLS close_notify, shut the write side
 * down once every write is out, then read and drop what the peer still
 * sends for up to linger_ms (so it sees the last response rather than a
 * reset), then close. */
void teep_http__conn_finish(teep_http__conn_t *c, uint64_t linger_ms);

/* Close now (pending writes are canceled).  Idempotent. */
void teep_http__conn_close(teep_http__conn_t *c);

#endif
