/*
 * teep/peek.h: what the broker's relay path needs to know about a TEEP
 * message without decoding it: is it well-formed, which COSE structure,
 * which TEEP message type, which token.  No heap, no copy, no signature
 * check (the receiver verifies end to end).
 */
#ifndef TEEP_PEEK_H
#define TEEP_PEEK_H

#include "teep/common.h"
#include "teep/message.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Profile hint for peek: a fixed one, or detect it from the token label
 * (legacy 20 vs rfc 19, which legacy uses for an array, never a bstr). */
#define TEEP_PEEK_AUTO (-1)

typedef struct teep_peek {
    uint64_t cose_tag;    /* 18 (COSE_Sign1) or 98 (COSE_Sign) */
    uint64_t wire_type;   /* the TEEP type number as on the wire */
    teep_msg_type_t type; /* translated with the (detected) profile; 0 if
                             the number is unknown in it */
    int profile;          /* the profile used, or TEEP_PEEK_AUTO when no
                             token told and none was given */
    teep_slice_t token;   /* into the input; ptr NULL if absent */
    teep_slice_t payload; /* the TEEP message bytes inside the COSE */
} teep_peek_t;

/*
 * Check that buf[0..len) is exactly one well-formed, definite-length CBOR
 * item nested at most TEEP_MAX_DEPTH deep, that it is a tagged COSE_Sign1
 * or COSE_Sign whose payload is a CBOR array starting with a type and an
 * options map, and report type and token.  profile is a teep_profile_t or
 * TEEP_PEEK_AUTO.  Returns 0 or a TEEP_E_* code with diag (may be NULL).
 * Runs libcbor's streaming decoder over each byte once.
 */
int teep_peek(const uint8_t *buf, size_t len, int profile, teep_peek_t *out,
              teep_diag_t *diag);

#ifdef __cplusplus
}
#endif
#endif
