/*
 * teep/cose.h: keys and COSE signing (RFC 9052) as TEEP uses them:
 * COSE_Sign1 (tag 18) and COSE_Sign (tag 98, one signature per signer),
 * with ESP256 (-9) and Ed25519 (-19), and the legacy ES256 (-7) and EdDSA
 * (-8) that libteep and tamproto use.
 *
 * Headers written: protected {1: alg}, unprotected {4: kid} where kid is the
 * RFC 9679 COSE_Key thumbprint (SHA-256).  For COSE_Sign the body's
 * protected header is h'' and each signer has its own {1: alg} / {4: kid}.
 *
 * Crypto runs in one of two backends chosen at build time (libteepproto
 * links OpenSSL libcrypto, libteepproto-mbedtls links mbedtls 2.28, which
 * has no Ed25519: its Ed25519 operations return TEEP_E_ALG).
 */
#ifndef TEEP_COSE_H
#define TEEP_COSE_H

#include <stdbool.h>

#include "teep/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Key types. */
typedef enum teep_key_type {
    TEEP_KEY_P256 = 1,    /* EC2, crv 1 */
    TEEP_KEY_ED25519 = 2, /* OKP, crv 6 */
    TEEP_KEY_X25519 = 3,  /* OKP, crv 4 (key agreement only) */
} teep_key_type_t;

/*
 * A key: public part always, private part when has_private.  Caller-owned
 * (stack or embedded); teep_key_clear() releases the backend's cached
 * native object and wipes the private part.  x is the EC x coordinate or
 * the OKP public key; y only for P-256.  native is made when the key is
 * loaded or generated and only read afterwards, so a loaded key may be
 * shared by threads (OpenSSL backend); a key filled in by hand (native
 * NULL) works too, at the cost of a temporary object per operation.  Do
 * not copy a loaded key by value: the copies would share native.
 */
typedef struct teep_key {
    teep_key_type_t type;
    bool has_private;
    uint8_t x[32];
    uint8_t y[32];
    uint8_t d[32];
    uint8_t kid[32]; /* RFC 9679 thumbprint, computed on load */
    void *native;    /* backend object, made when loaded */
    void *data;      /* for the user */
} teep_key_t;

/* Name of the crypto backend this library was built with: "openssl" or
 * "mbedtls". */
const char *teep_crypto_backend(void);

/* Fresh key of the given type from the backend's CSPRNG. */
int teep_key_generate(teep_key_t *key, teep_key_type_t type);

/* Load a key from PEM text (SEC1 "EC PRIVATE KEY", PKCS#8 "PRIVATE KEY",
 * SPKI "PUBLIC KEY") or from an encoded COSE_Key (kty 2/crv 1, kty 1/crv
 * 6 or 4, with or without d).  Copies what it needs from buf. */
int teep_key_from_pem(teep_key_t *key, const uint8_t *buf, size_t len);
int teep_key_from_cose(teep_key_t *key, const uint8_t *buf, size_t len);
/* The RFC 9679 thumbprint (*kid) and type of an encoded public COSE_Key,
 * without the backend's key object, whose making costs about as much as
 * a signature: for a caller that only names the key.  The point is not
 * checked against its curve (teep_key_from_cose does that for a key that
 * is used).  Returns 0, teep_key_from_cose's parse codes, or -EINVAL for
 * a key with d or without its public part. */
int teep_key_cose_thumbprint(const uint8_t *buf, size_t len,
                             teep_key_type_t *type, uint8_t kid[32]);
/* Either of the above, guessing from the content; hex text of a COSE_Key
 * is accepted too (the vectors ship keys that way). */
int teep_key_load(teep_key_t *key, const uint8_t *buf, size_t len);
/* Read a file and teep_key_load it. */
int teep_key_load_file(teep_key_t *key, const char *path);

/* Write the key as PEM (PKCS#8 with the private part when include_private,
 * else SPKI; NUL-terminated, *out_len excludes the NUL) or as a COSE_Key.
 * -ENOSPC if cap is too small, -EINVAL if include_private and the key has
 * no private part. */
int teep_key_to_pem(const teep_key_t *key, bool include_private, char *out,
                    size_t cap, size_t *out_len);
int teep_key_to_cose(const teep_key_t *key, bool include_private, uint8_t *out,
                     size_t cap, size_t *out_len);

void teep_key_clear(teep_key_t *key);

/* Default signing algorithm of a key: ESP256 for P-256, Ed25519 for
 * Ed25519. */
int64_t teep_key_default_alg(const teep_key_t *key);
/* Whether alg can be used with key (ESP256/ES256 with P-256,
 * Ed25519/EdDSA with Ed25519). */
bool teep_key_supports_alg(const teep_key_t *key, int64_t alg);

/* Hash helper the COSE, SUIT and EAT code share. */
int teep_sha256(const uint8_t *in, size_t len, uint8_t out[32]);
/* Bytes from the backend's CSPRNG. */
int teep_random(uint8_t *out, size_t len);

/* One signer: a key with its private part, and the algorithm to use
 * (0 = teep_key_default_alg). */
typedef struct teep_signer {
    const teep_key_t *key;
    int64_t alg;
} teep_signer_t;

/*
 * COSE_Sign1_Tagged over payload[0..len) with one signer, or
 * COSE_Sign_Tagged with n signers (n >= 1; teep_cose_sign with n == 1 still
 * makes a COSE_Sign; at most TEEP_COSE_MAX_SIGNERS).  Writes into
 * out[0..cap), which must not overlap the payload; copies the payload.
 * Returns 0, -EINVAL, -ENOSPC (*out_len then holds the size needed),
 * TEEP_E_ALG, TEEP_E_KEY or TEEP_E_CRYPTO.
 */
int teep_cose_sign1(const teep_signer_t *signer, const uint8_t *payload,
                    size_t len, uint8_t *out, size_t cap, size_t *out_len);
int teep_cose_sign(const teep_signer_t *signers, size_t n,
                   const uint8_t *payload, size_t len, uint8_t *out, size_t cap,
                   size_t *out_len);

/* A parsed COSE_Sign1 / COSE_Sign.  All slices point into the input. */
#define TEEP_COSE_MAX_SIGNERS 8
typedef struct teep_cose_signature {
    teep_slice_t protected_hdr; /* the bstr content */
    int64_t alg;                /* from the protected header */
    teep_slice_t kid;           /* from either header, empty if none */
    teep_slice_t signature;
} teep_cose_signature_t;

typedef struct teep_cose {
    uint64_t tag;               /* 18 (Sign1) or 98 (Sign) */
    teep_slice_t protected_hdr; /* body protected (Sign1: the signer's) */
    teep_slice_t payload;       /* empty slice with ptr NULL if nil */
    size_t n_signatures;        /* 1 for Sign1 */
    teep_cose_signature_t signatures[TEEP_COSE_MAX_SIGNERS];
} teep_cose_t;

/*
 * Parse a tagged COSE_Sign1 or COSE_Sign (untagged input is refused: the
 * two are ambiguous).  Bounded like every decoder; the whole buffer must be
 * the one item.  Header parameters other than alg (1), crit (2), content
 * type (3), kid (4) and IV (5) in a protected header are refused (draft
 * "Validating": only understood parameters).
 */
int teep_cose_parse(const uint8_t *buf, size_t len, teep_cose_t *out,
                    teep_diag_t *diag);

/*
 * Verify parsed COSE against key.  Sign1: the one signature must verify.
 * Sign: the signatures whose algorithm fits the key are tried (those whose
 * kid equals the key's first); success if one verifies.  detached_payload
 * is used when the structure's payload is nil (SUIT: the content of the
 * bstr-wrapped SUIT_Digest), else pass NULL/0.  Alg -7 / -8 verify as
 * ESP256 / Ed25519.  Returns 0, TEEP_E_SIGNATURE, TEEP_E_ALG (no signature
 * usable with this key), TEEP_E_MISSING (nil payload and none given),
 * TEEP_E_COSE (payload attached and one given too) or TEEP_E_CRYPTO.
 */
int teep_cose_verify(const teep_cose_t *cose, const teep_key_t *key,
                     const uint8_t *detached_payload, size_t detached_len);

/* Sign / verify raw bytes with an algorithm (signature: r||s for ECDSA,
 * 64 bytes).  The building blocks of the above, used by SUIT and EAT. */
int teep_sign_raw(const teep_key_t *key, int64_t alg, const uint8_t *msg,
                  size_t len, uint8_t sig[64]);
int teep_verify_raw(const teep_key_t *key, int64_t alg, const uint8_t *msg,
                    size_t len, const uint8_t *sig, size_t sig_len);

#ifdef __cplusplus
}
#endif
#endif
