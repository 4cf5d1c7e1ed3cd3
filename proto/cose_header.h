/*
 * cose_header.h (private to proto/): the walk over one COSE header map
 * (RFC 9052 section 3) that every COSE layer shares (COSE_Sign1 / COSE_Sign
 * in cose.c, COSE_Encrypt and its recipients in pd_info.c).  The walker
 * checks what holds for any header map — labels are integers or text, none
 * twice in the map, at most TP_COSE_HEADER_MAX of them — and hands each
 * label to the layer, which reads the values it knows.  What the layer
 * does not know is refused in the protected bucket (it would have to be
 * understood) and skipped, depth bounded, in the unprotected one.
 */
#ifndef TP_COSE_HEADER_H
#define TP_COSE_HEADER_H

#include <stdbool.h>
#include <stdint.h>

#include "cbor_reader.h"

#define TP_COSE_HEADER_MAX 16

/* What a layer's param callback returns for a label it does not read. */
#define TP_COSE_HEADER_UNKNOWN 1

/*
 * Called with the reader on the label's value.  label is the integer
 * label, or 0 when it is text or an integer beyond int64 (no COSE label
 * we read is either).  Read the value and return 0, return
 * TP_COSE_HEADER_UNKNOWN without reading it, or fail with a negative code
 * (recorded with tp_cbor_fail).  offset is the label's, for diagnostics.
 */
typedef int (*tp_cose_param_cb)(void *ctx, tp_cbor_reader_t *r, int64_t label,
                                bool is_protected, size_t offset);

/* Walk the header map at the reader.  depth is the map's nesting in the
 * input (skipped values may nest TEEP_MAX_DEPTH - depth deeper).
 * Returns 0 or the first failure. */
int tp_cose_header_walk(tp_cbor_reader_t *r, bool is_protected, unsigned depth,
                        tp_cose_param_cb param, void *ctx);

#endif
