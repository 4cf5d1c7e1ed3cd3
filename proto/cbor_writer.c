/* cbor_writer.c: see cbor_writer.h. */
#include "cbor_writer.h"

#include <cbor.h>
#include <errno.h>
#include <string.h>

void tp_cw_init(tp_cbor_writer_t *w, uint8_t *buf, size_t cap)
{
    w->buf = buf;
    w->cap = buf != NULL ? cap : 0;
    w->len = 0;
    w->err = 0;
}

size_t tp_cw_head_size(uint64_t n)
{
    return n < 24            ? 1
           : n <= UINT8_MAX  ? 2
           : n <= UINT16_MAX ? 3
           : n <= UINT32_MAX ? 5
                             : 9;
}

/* libcbor's encoders return 0 when the buffer is too small; we still count
 * the bytes so a caller can learn the size it needs. */
static void account(tp_cbor_writer_t *w, size_t written, size_t expected)
{
    if (written == 0)
        w->err = -ENOSPC;
    w->len += expected;
}

static uint8_t *cursor(tp_cbor_writer_t *w, size_t *room)
{
    if (w->err != 0 || w->len >= w->cap) {
        *room = 0;
        return NULL;
    }
    *room = w->cap - w->len;
    return w->buf + w->len;
}

#define EMIT(w, call, expected)                                                \
    do {                                                                       \
        size_t room_;                                                          \
        uint8_t *at_ = cursor((w), &room_);                                    \
        (void)at_;                                                             \
        account((w), at_ != NULL ? (call) : 0, (expected));                    \
    } while (0)

void tp_cw_uint(tp_cbor_writer_t *w, uint64_t v)
{
    EMIT(w, cbor_encode_uint(v, at_, room_), tp_cw_head_size(v));
}

void tp_cw_int(tp_cbor_writer_t *w, int64_t v)
{
    if (v >= 0) {
        tp_cw_uint(w, (uint64_t)v);
        return;
    }
    uint64_t u = (uint64_t)(-1 - v);
    EMIT(w, cbor_encode_negint(u, at_, room_), tp_cw_head_size(u));
}

void tp_cw_bstr_head(tp_cbor_writer_t *w, size_t n)
{
    EMIT(w, cbor_encode_bytestring_start(n, at_, room_), tp_cw_head_size(n));
}

void tp_cw_raw(tp_cbor_writer_t *w, const uint8_t *p, size_t n)
{
    size_t room;
    uint8_t *at = cursor(w, &room);
    if (at != NULL && n <= room) {
        if (n > 0)
            memcpy(at, p, n);
    } else if (n > 0) {
        w->err = -ENOSPC;
    }
    w->len += n;
}

void tp_cw_bstr(tp_cbor_writer_t *w, const uint8_t *p, size_t n)
{
    tp_cw_bstr_head(w, n);
    tp_cw_raw(w, p, n);
}

void tp_cw_tstr(tp_cbor_writer_t *w, const char *p, size_t n)
{
    EMIT(w, cbor_encode_string_start(n, at_, room_), tp_cw_head_size(n));
    tp_cw_raw(w, (const uint8_t *)p, n);
}

void tp_cw_array(tp_cbor_writer_t *w, size_t n)
{
    EMIT(w, cbor_encode_array_start(n, at_, room_), tp_cw_head_size(n));
}

void tp_cw_map(tp_cbor_writer_t *w, size_t n)
{
    EMIT(w, cbor_encode_map_start(n, at_, room_), tp_cw_head_size(n));
}

void tp_cw_tag(tp_cbor_writer_t *w, uint64_t tag)
{
    EMIT(w, cbor_encode_tag(tag, at_, room_), tp_cw_head_size(tag));
}

void tp_cw_bool(tp_cbor_writer_t *w, bool v)
{
    EMIT(w, cbor_encode_bool(v, at_, room_), 1);
}

void tp_cw_null(tp_cbor_writer_t *w)
{
    EMIT(w, cbor_encode_null(at_, room_), 1);
}

int tp_cw_result(const tp_cbor_writer_t *w)
{
    return w->err;
}
