/*
 * cbor_reader.h (private to proto/): a bounded pull reader over libcbor's
 * streaming decoder.  One call returns one item head (with the bytes of a
 * definite string); the caller walks the structure.  Nothing is allocated;
 * strings are slices of the input.
 *
 * Refused: indefinite lengths (TEEP and its EAT profile use definite ones),
 * reserved values, lengths past the end.  A container's count is checked
 * against the bytes left (each element needs at least one byte), so a
 * hostile count cannot make a caller loop or allocate beyond the input.
 *
 * Two ways to read a head: tp_cbor_next fills a tp_cbor_item_t; the lean
 * path (tp_cbor_head, tp_cbor_skip_contents) fills a kind and a value and
 * is what hot callers (teep_peek) use.  Both accept and refuse exactly the
 * same input with the same diagnosis.
 */
#ifndef TP_CBOR_READER_H
#define TP_CBOR_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "teep/common.h"

/* The kinds up to TP_CBOR_TAG are numbered as the CBOR major types 0..6;
 * major type 7 splits into the rest. */
typedef enum tp_cbor_kind {
    TP_CBOR_UINT,
    TP_CBOR_NEGINT, /* value is -1 - u */
    TP_CBOR_BSTR,
    TP_CBOR_TSTR,
    TP_CBOR_ARRAY,
    TP_CBOR_MAP,
    TP_CBOR_TAG,
    TP_CBOR_FALSE,
    TP_CBOR_TRUE,
    TP_CBOR_NULL,
    TP_CBOR_UNDEFINED,
    TP_CBOR_FLOAT,
    TP_CBOR_SIMPLE, /* other simple values */
} tp_cbor_kind_t;

typedef struct tp_cbor_item {
    tp_cbor_kind_t kind;
    uint64_t u;         /* uint value, negint's u, string/array/map length,
                           tag number */
    const uint8_t *ptr; /* string bytes (BSTR/TSTR) */
    size_t offset;      /* where the head starts in the input */
    size_t end;         /* just past the head (and string bytes) */
} tp_cbor_item_t;

typedef struct tp_cbor_reader {
    const uint8_t *buf;
    size_t len;
    size_t pos;
    teep_diag_t *diag; /* may be NULL */
} tp_cbor_reader_t;

void tp_cbor_reader_init(tp_cbor_reader_t *r, const uint8_t *buf, size_t len,
                         teep_diag_t *diag);

/* Read the next item head.  Returns 0 or TEEP_E_CBOR / TEEP_E_TRUNCATED /
 * TEEP_E_INDEFINITE, recorded in r->diag. */
int tp_cbor_next(tp_cbor_reader_t *r, tp_cbor_item_t *it);

/* Read the next item head and require a kind: TEEP_E_TYPE otherwise, with
 * "what" naming the element in the reason. */
int tp_cbor_expect(tp_cbor_reader_t *r, tp_cbor_kind_t kind, tp_cbor_item_t *it,
                   const char *what);

/* Skip the whole item whose head was just read (it), checking that it
 * and everything inside is well-formed and that nesting stays within
 * max_depth levels below it.  it may be a string or scalar (no-op). */
int tp_cbor_skip_rest(tp_cbor_reader_t *r, const tp_cbor_item_t *it,
                      unsigned max_depth);

/* Read and skip one whole item; start and end (may be NULL) receive its
 * extent in the input. */
int tp_cbor_skip(tp_cbor_reader_t *r, unsigned max_depth, size_t *start,
                 size_t *end);

/* Read an integer (uint or negint) that fits int64_t. */
int tp_cbor_read_int(tp_cbor_reader_t *r, int64_t *v, const char *what);
/* Read a uint no larger than max. */
int tp_cbor_read_uint(tp_cbor_reader_t *r, uint64_t max, uint64_t *v,
                      const char *what);

/* Whether the reader consumed everything; TEEP_E_TRAILING otherwise. */
int tp_cbor_finish(tp_cbor_reader_t *r);

/* Fail with code at offset (convenience around teep_diag_set). */
int tp_cbor_fail(tp_cbor_reader_t *r, int code, size_t offset, const char *fmt,
                 ...) __attribute__((format(printf, 4, 5)));

const char *tp_cbor_kind_name(tp_cbor_kind_t kind);

/*
 * The lean path: a head as a kind and a value, no tp_cbor_item_t.  What
 * is short (a one-byte integer, array or map, whose value is the initial
 * byte's low five bits) is read inline here; the rest out of line.
 */

/* Read the next item head: *kind and *value as tp_cbor_next would put
 * them in an item's kind and u (0 for floats and simple values).  A
 * string's bytes are the *value bytes just before r->pos:
 * tp_cbor_string_bytes.  Returns 0 or the code tp_cbor_next returns for
 * the same input, with the same diag. */
static inline int tp_cbor_head(tp_cbor_reader_t *r, tp_cbor_kind_t *kind,
                               uint64_t *value);

/* tp_cbor_head requiring a kind: TEEP_E_TYPE otherwise, worded as
 * tp_cbor_expect words it. */
static inline int tp_cbor_expect_head(tp_cbor_reader_t *r, tp_cbor_kind_t kind,
                                      uint64_t *value, const char *what);

/* The bytes of the string (len = its *value) whose head tp_cbor_head or
 * tp_cbor_expect_head just read: a slice of the input. */
static inline const uint8_t *tp_cbor_string_bytes(const tp_cbor_reader_t *r,
                                                  uint64_t len)
{
    return r->buf + r->pos - (size_t)len;
}

/* Skip what the head tp_cbor_head just read opens (an array's or a map's
 * elements, a tag's item; nothing for other kinds), as tp_cbor_skip_rest
 * does for an item: max_depth counts the open item as one level, and a
 * container met with max_depth 0 is refused at r->pos. */
static inline int tp_cbor_skip_contents(tp_cbor_reader_t *r,
                                        tp_cbor_kind_t kind, uint64_t value,
                                        unsigned max_depth);

/* The out-of-line parts of the above (cbor_reader.c), not to be called
 * directly: every head but the inline ones, the TEEP_E_TYPE refusal, the
 * skip of a container or a tag. */
int tp_cbor_head_decode(tp_cbor_reader_t *r, tp_cbor_kind_t *kind,
                        uint64_t *value);
int tp_cbor_type_error(tp_cbor_reader_t *r, size_t offset, tp_cbor_kind_t want,
                       tp_cbor_kind_t got, const char *what)
    __attribute__((cold));
int tp_cbor_skip_open(tp_cbor_reader_t *r, tp_cbor_kind_t kind, uint64_t value,
                      unsigned max_depth);

static inline int tp_cbor_head(tp_cbor_reader_t *r, tp_cbor_kind_t *kind,
                               uint64_t *value)
{
    if (r->pos < r->len) {
        uint8_t ib = r->buf[r->pos];
        unsigned major = ib >> 5, ai = ib & 0x1f;
        /* majors 0, 1, 4, 5 (0x33); a container's count must fit in the
         * bytes after it, two per map entry, as tp_cbor_next checks */
        if (ai < 24 && ((0x33u >> major) & 1) != 0 &&
            (major < 4 || ((size_t)ai << (major == 5)) < r->len - r->pos)) {
            *kind = (tp_cbor_kind_t)major;
            *value = ai;
            r->pos++;
            return 0;
        }
    }
    return tp_cbor_head_decode(r, kind, value);
}

static inline int tp_cbor_expect_head(tp_cbor_reader_t *r, tp_cbor_kind_t kind,
                                      uint64_t *value, const char *what)
{
    size_t at = r->pos;
    tp_cbor_kind_t got;
    int rc = tp_cbor_head(r, &got, value);
    if (rc == 0 && got != kind)
        rc = tp_cbor_type_error(r, at, kind, got, what);
    return rc;
}

static inline int tp_cbor_skip_contents(tp_cbor_reader_t *r,
                                        tp_cbor_kind_t kind, uint64_t value,
                                        unsigned max_depth)
{
    if (kind != TP_CBOR_ARRAY && kind != TP_CBOR_MAP && kind != TP_CBOR_TAG)
        return 0;
    return tp_cbor_skip_open(r, kind, value, max_depth);
}

#endif
