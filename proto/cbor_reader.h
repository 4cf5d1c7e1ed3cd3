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
 */
#ifndef TP_CBOR_READER_H
#define TP_CBOR_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "teep/common.h"

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

#endif
