/*
 * crypto.h (private to proto/): the primitives a crypto backend provides.
 * Exactly one of crypto_openssl.c and crypto_mbedtls.c is linked into a
 * library; key.c and cose.c call only these functions, so they hold no
 * backend-specific code.
 *
 * Keys travel as teep_key_t with raw fields (x, y, d: 32 bytes each, big
 * endian for P-256, RFC 8032 / RFC 7748 byte strings for the OKP curves).
 * key->native is the backend's object for the key, made by
 * tp_crypto_key_prepare() and only read afterwards, so a prepared key can
 * be shared by threads as far as the backend allows (OpenSSL: yes;
 * mbedtls: the group caches its comb table on first use, so one thread).
 * The mechanism follows from the key type alone: P-256 signs ECDSA with
 * SHA-256, Ed25519 signs PureEdDSA; algorithm checks happen in cose.c.
 *
 * Every function returns 0 or a negative code: TEEP_E_ALG when the backend
 * lacks the key type, TEEP_E_KEY for an unusable key, TEEP_E_CRYPTO when
 * the library fails, -ENOMEM / -ENOSPC / -EINVAL as usual.
 */
#ifndef TP_CRYPTO_H
#define TP_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "teep/cose.h"

/* Name of the backend: "openssl" or "mbedtls". */
const char *tp_crypto_name(void);

/* SHA-256 of in[0..len) into out. */
int tp_crypto_sha256(const uint8_t *in, size_t len, uint8_t out[32]);

/* len bytes from the backend's CSPRNG into out. */
int tp_crypto_random(uint8_t *out, size_t len);

/* Overwrite len bytes at p with zeros in a way the compiler keeps. */
void tp_crypto_wipe(void *p, size_t len);

/* A fresh key pair of the given type: sets key->type, x, y (P-256 only),
 * d and has_private; leaves kid, native and data alone. */
int tp_crypto_generate(teep_key_t *key, teep_key_type_t type);

/* The public key belonging to private scalar / seed d: x (and y for
 * P-256).  TEEP_E_KEY if d is not a valid private key for the curve. */
int tp_crypto_public_from_private(teep_key_type_t type, const uint8_t d[32],
                                  uint8_t x[32], uint8_t y[32]);

/* Check the key's public part (a P-256 point must lie on the curve) and
 * create key->native.  TEEP_E_ALG leaves native NULL: the key stays usable
 * as data (thumbprint, COSE_Key) but not for operations. */
int tp_crypto_key_prepare(teep_key_t *key);

/* Free key->native (may be NULL) and set it to NULL. */
void tp_crypto_key_release(teep_key_t *key);

/* Sign msg[0..len) with the private key: ECDSA P-256 / SHA-256 as r||s, or
 * Ed25519; 64 bytes into sig either way.  Uses key->native when set, else
 * a temporary object. */
int tp_crypto_sign(const teep_key_t *key, const uint8_t *msg, size_t len,
                   uint8_t sig[64]);

/* Verify a 64-byte signature (r||s or Ed25519) over msg[0..len).
 * Returns 0 or TEEP_E_SIGNATURE, TEEP_E_ALG, TEEP_E_CRYPTO. */
int tp_crypto_verify(const teep_key_t *key, const uint8_t *msg, size_t len,
                     const uint8_t sig[64]);

/* What a PEM block holds, from its label (key.c finds the block). */
typedef enum tp_pem_kind {
    TP_PEM_PUBLIC,  /* "PUBLIC KEY": SPKI */
    TP_PEM_PRIVATE, /* "PRIVATE KEY" (PKCS#8) or "EC PRIVATE KEY" (SEC1) */
} tp_pem_kind_t;

/* Decode one PEM block (from its BEGIN line through its END line, not
 * NUL-terminated) into key->type, x, y, d, has_private.  The public part
 * is always filled (derived when a SEC1 key omits it); key.c checks it
 * against d.  TEEP_E_ALG for a key type or curve TEEP does not use,
 * TEEP_E_KEY for anything unreadable (including encrypted keys). */
int tp_crypto_pem_import(teep_key_t *key, tp_pem_kind_t kind,
                         const uint8_t *pem, size_t len);

/* Encode the key as PKCS#8 PEM (include_private, key->has_private must be
 * set) or SPKI PEM into out[0..cap), NUL-terminated; *out_len excludes the
 * NUL.  -ENOSPC if cap is too small. */
int tp_crypto_pem_export(const teep_key_t *key, bool include_private, char *out,
                         size_t cap, size_t *out_len);

#endif
