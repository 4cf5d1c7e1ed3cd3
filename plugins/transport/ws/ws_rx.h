/*
 * ws_rx.h: one WebSocket message from its frames, within limits.  lws
 * hands a message's payload over in chunks of at most rx_buffer_size
 * bytes and says where each sits; ws_rx_feed keeps the bytes in one
 * teep_buf_t and says when the message is complete or which close code
 * ends the connection.  Used by the broker's transport (ws_conn.c) and
 * the client (ws_client.c).
 */
#ifndef TEEP_WS_RX_H
#define TEEP_WS_RX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "teep/buf.h"

/* Where a received chunk sits in its message, as lws reports it. */
typedef struct ws_chunk {
    bool first;       /* the first chunk of a message */
    bool final;       /* the last chunk of the message */
    bool binary;      /* the message is binary (else text) */
    size_t remaining; /* bytes of the current frame still to come (0:
                         this chunk ends its frame) */
} ws_chunk_t;

typedef struct ws_rx_limits {
    size_t max_message;     /* bytes of one message */
    uint32_t max_fragments; /* frames of one message */
    bool text_ok;           /* text messages are accepted */
    /* Where message buffers come from (the broker's host counts them);
     * NULL: teep_buf_new. */
    teep_buf_t *(*buf_new)(void *ctx, size_t headroom, size_t size);
    void *buf_ctx;
} ws_rx_limits_t;

/* The message being assembled.  Zero is an idle assembler. */
typedef struct ws_rx {
    teep_buf_t *buf; /* its bytes so far; NULL until the first byte */
    uint32_t frames; /* frames of it that ended */
    bool active;     /* inside a message */
    bool binary;
} ws_rx_t;

enum { WS_RX_MORE = 0, WS_RX_DONE = 1 };

/*
 * Add the chunk p[0..n) described by ch.  Returns WS_RX_MORE, WS_RX_DONE
 * (complete: take it with ws_rx_take; rx->binary says its kind), or minus
 * the close code the connection must end with: TEEP_WS_CLOSE_UNSUPPORTED
 * for a text message when !text_ok, _TOO_BIG past max_message (found as
 * soon as a frame header announces it), _POLICY past max_fragments,
 * _INTERNAL out of memory.  After a negative result the message is
 * dropped.
 */
int ws_rx_feed(ws_rx_t *rx, const uint8_t *p, size_t n, const ws_chunk_t *ch,
               const ws_rx_limits_t *lim);

/* The completed message (the caller owns the reference; NULL for an empty
 * message); rx is ready for the next one. */
teep_buf_t *ws_rx_take(ws_rx_t *rx);

/* Drop a partial message. */
void ws_rx_reset(ws_rx_t *rx);

#endif
