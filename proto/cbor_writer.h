/*
 * cbor_writer.h (private to proto/): appends CBOR to a caller buffer with
 * libcbor's cbor_encode_* functions.  Errors are sticky: after the buffer
 * runs out every call is a no-op and tp_cw_result() returns -ENOSPC, so an
 * encoder writes straight-line code and checks once at the end.  Every
 * function copies the bytes it is given.
 */
#ifndef TP_CBOR_WRITER_H
#define TP_CBOR_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tp_cbor_writer {
    uint8_t *buf; /* may be NULL with cap 0: only counts */
    size_t cap;
    size_t len; /* bytes written, or that would have been */
    int err;    /* 0 or -ENOSPC */
} tp_cbor_writer_t;

void tp_cw_init(tp_cbor_writer_t *w, uint8_t *buf, size_t cap);
void tp_cw_uint(tp_cbor_writer_t *w, uint64_t v);
void tp_cw_int(tp_cbor_writer_t *w, int64_t v);
void tp_cw_bstr(tp_cbor_writer_t *w, const uint8_t *p, size_t n);
void tp_cw_tstr(tp_cbor_writer_t *w, const char *p, size_t n);
/* A byte string head only: the caller appends n bytes of content next
 * (bstr-wrapped CBOR written in place). */
void tp_cw_bstr_head(tp_cbor_writer_t *w, size_t n);
void tp_cw_array(tp_cbor_writer_t *w, size_t n);
void tp_cw_map(tp_cbor_writer_t *w, size_t n);
void tp_cw_tag(tp_cbor_writer_t *w, uint64_t tag);
void tp_cw_bool(tp_cbor_writer_t *w, bool v);
void tp_cw_null(tp_cbor_writer_t *w);
/* Pre-encoded CBOR, copied as is. */
void tp_cw_raw(tp_cbor_writer_t *w, const uint8_t *p, size_t n);
/* 0 or -ENOSPC. */
int tp_cw_result(const tp_cbor_writer_t *w);
/* Size in bytes of the head of a byte string of length n. */
size_t tp_cw_head_size(uint64_t n);

#endif
