/*
 * ws_rx.c: one message from its frames (ws_rx.h).  Limits are checked
 * before bytes are kept: a frame header that announces more than
 * max_message ends the connection at once, without buffering anything of
 * it.
 */
#include <errno.h>
#include <string.h>

#include "ws_binding.h"
#include "ws_rx.h"

void ws_rx_reset(ws_rx_t *rx)
{
    teep_buf_unref(rx->buf);
    *rx = (ws_rx_t){0};
}

teep_buf_t *ws_rx_take(ws_rx_t *rx)
{
    teep_buf_t *b = rx->buf;
    *rx = (ws_rx_t){0};
    return b;
}

static int fail(ws_rx_t *rx, int code)
{
    ws_rx_reset(rx);
    return -code;
}

/* What a frame header alone may make us allocate ahead of its bytes. */
#define AHEAD_MAX 16384

static teep_buf_t *buf_new(const ws_rx_limits_t *lim, size_t size)
{
    return lim->buf_new != NULL ? lim->buf_new(lim->buf_ctx, 0, size)
                                : teep_buf_new(0, size);
}

/* Room for n more bytes, of which the frame announced frame_rest more. */
static int make_room(ws_rx_t *rx, size_t n, size_t frame_rest,
                     const ws_rx_limits_t *lim)
{
    if (rx->buf == NULL) {
        /* Sized for the whole frame when it is small, so a message of one
         * frame (the usual case) needs no reallocation; a large announced
         * frame gets room as its bytes arrive, so a peer that announces
         * much and sends little costs little. */
        size_t ahead = frame_rest < AHEAD_MAX ? frame_rest : AHEAD_MAX;
        rx->buf = buf_new(lim, n + ahead);
        return rx->buf != NULL ? 0 : -ENOMEM;
    }
    if (teep_buf_tailroom(rx->buf) >= n)
        return 0;
    /* Grown through the same allocator (so that the host counts every
     * buffer), doubling so that a message costs O(its size) in copies. */
    size_t len = teep_buf_len(rx->buf);
    size_t want = len + n > 2 * len ? len + n : 2 * len;
    teep_buf_t *b = buf_new(lim, want);
    if (b == NULL)
        return -ENOMEM;
    memcpy(b->pos, rx->buf->pos, len);
    b->last += len;
    teep_buf_unref(rx->buf);
    rx->buf = b;
    return 0;
}

int ws_rx_feed(ws_rx_t *rx, const uint8_t *p, size_t n, const ws_chunk_t *ch,
               const ws_rx_limits_t *lim)
{
    if (!rx->active) {
        /* lws marks the first chunk; anything else here would be a
         * continuation without a start, which lws refuses itself. */
        rx->active = true;
        rx->binary = ch->binary;
        rx->frames = 0;
    }
    if (!rx->binary && !lim->text_ok)
        return fail(rx, TEEP_WS_CLOSE_UNSUPPORTED);
    size_t have = rx->buf != NULL ? teep_buf_len(rx->buf) : 0;
    if (n > lim->max_message - have ||
        ch->remaining > lim->max_message - have - n)
        return fail(rx, TEEP_WS_CLOSE_TOO_BIG);
    if (n > 0) {
        if (make_room(rx, n, ch->remaining, lim) != 0)
            return fail(rx, TEEP_WS_CLOSE_INTERNAL);
        memcpy(rx->buf->last, p, n);
        rx->buf->last += n;
    }
    if (ch->remaining == 0 && ++rx->frames > lim->max_fragments)
        return fail(rx, TEEP_WS_CLOSE_POLICY);
    return ch->final ? WS_RX_DONE : WS_RX_MORE;
}
