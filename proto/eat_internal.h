/*
 * eat_internal.h (private to proto/): what the claims codec (eat.c) shares
 * with the verifier (eat_verify.c).
 */
#ifndef TP_EAT_INTERNAL_H
#define TP_EAT_INTERNAL_H

#include "teep/eat.h"

/*
 * Parse buf[0..len) as an EAT in CWT form: a COSE_Sign1, optionally inside
 * the CWT tag 61, with an attached payload.  The claims are not decoded and
 * the signature is not checked.  Returns 0 or a TEEP_E_* code with diag
 * (may be NULL); offsets count from the start of buf.
 */
int eat__open(const uint8_t *buf, size_t len, teep_cose_t *cose,
              teep_diag_t *diag);

/* Move an offset recorded while decoding a part of a buffer (a payload, a
 * bstr-wrapped item) so that it counts from the start of the buffer.
 * Returns code. */
int eat__shift_diag(teep_diag_t *diag, int code, size_t base);

/* Name of the claim with present bit `bit` (one TEEP_EAT_HAS_* value). */
const char *eat__claim_name_by_bit(uint32_t bit);

#endif
