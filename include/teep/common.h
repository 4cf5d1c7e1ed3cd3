/*
 * teep/common.h: types and conventions shared by every libteepproto module.
 *
 * Error convention (libuv style): functions return 0 on success and a
 * negative code on failure.  Codes in the range -1..-4095 are negated errno
 * values (-ENOMEM, -EINVAL, -ENOSPC ...); the TEEP_E_* codes below lie
 * outside that range and name what was wrong with an input.
 *
 * Buffers: a teep_slice_t never owns memory.  A decoder that returns slices
 * points into the caller's input; the input must outlive the slices.
 */
#ifndef TEEP_COMMON_H
#define TEEP_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A view of bytes owned by someone else. */
typedef struct teep_slice {
    const uint8_t *ptr;
    size_t len;
} teep_slice_t;

/* Input errors.  Each has a stable name (teep_strerror) and a TEEP err-code
 * (teep_error_to_err_code) that an Agent puts in its Error message. */
enum {
    TEEP_E_CBOR = -5000,       /* not well-formed CBOR (reserved value ...) */
    TEEP_E_TRUNCATED = -5001,  /* an item or length runs past the end */
    TEEP_E_TRAILING = -5002,   /* bytes after the top-level item */
    TEEP_E_DEPTH = -5003,      /* nesting deeper than TEEP_MAX_DEPTH */
    TEEP_E_INDEFINITE = -5004, /* indefinite length (TEEP uses definite) */
    TEEP_E_TYPE = -5005,       /* wrong CBOR major type for this element */
    TEEP_E_MISSING = -5006,    /* a mandatory element is absent */
    TEEP_E_RANGE = -5007,      /* a size or value outside the allowed range */
    TEEP_E_DUPLICATE = -5008,  /* a map key appears twice */
    TEEP_E_MSG_TYPE = -5009,   /* unknown TEEP message type */
    TEEP_E_LIMIT = -5010,      /* more elements than this build holds */
    TEEP_E_COSE = -5011,       /* not a COSE_Sign1 / COSE_Sign structure */
    TEEP_E_ALG = -5012,        /* algorithm not supported */
    TEEP_E_SIGNATURE = -5013,  /* signature does not verify */
    TEEP_E_KEY = -5014,        /* key unusable (wrong type, bad encoding) */
    TEEP_E_VERSION = -5015,    /* no supported TEEP version offered */
    TEEP_E_CRYPTO = -5016,     /* the crypto backend failed */
    TEEP_E_DECRYPT = -5017,    /* authentication failed: wrong key or
                                  altered ciphertext (AEAD tag, AES-KW) */
};

/* Limits that bound every decoder: no allocation or recursion depends on
 * the input beyond these. */
#define TEEP_MAX_DEPTH     16
#define TEEP_TOKEN_MIN     8
#define TEEP_TOKEN_MAX     64
#define TEEP_CHALLENGE_MIN 8
#define TEEP_CHALLENGE_MAX 512

/* Where and why an input was refused.  Filled by decoders on failure. */
typedef struct teep_diag {
    int code;      /* the TEEP_E_* or -errno value that was returned */
    size_t offset; /* byte offset in the input where the problem is */
    char reason[160];
} teep_diag_t;

/* Record an error in diag (may be NULL) and return code.  printf-style. */
int teep_diag_set(teep_diag_t *diag, int code, size_t offset, const char *fmt,
                  ...) __attribute__((format(printf, 4, 5)));

/* Stable short name of an error code ("truncated", "bad signature", ...).
 * Never returns NULL. */
const char *teep_strerror(int code);

/* The TEEP err-code (draft section "Error Message") an Agent reports for a
 * failure with this code: ERR_PERMANENT_ERROR for malformed input,
 * ERR_UNSUPPORTED_CIPHER_SUITES for an unknown algorithm, and so on.
 * The value is in the renumbered (rfc) space; teep_profile_err_code()
 * translates it for a peer. */
uint64_t teep_error_to_err_code(int code);

#ifdef __cplusplus
}
#endif
#endif
