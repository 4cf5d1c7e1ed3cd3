/*
 * crypto.h (private to proto/): the primitives a crypto backend provides.
 * Exactly one of crypto_openssl.c and crypto_mbedtls.c is linked into a
 * library; key.c, cose.c and pd.c call only these functions, so they hold
 * no backend-specific code.
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
 * lacks the key type, TEEP_E_KEY for an unusable key, TEEP_E_DECRYPT when
 * an integrity check fails, TEEP_E_CRYPTO when the library fails, -ENOMEM /
 * -ENOSPC / -EINVAL as usual.  Secrets a function derives on its way
 * (shared points, key schedules) are wiped before it returns.
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

/* ---- Key agreement and content encryption (SUIT encryption, teep/pd.h) */

/*
 * ECDH between priv's private part and peer's public key, which must be of
 * the same type: P-256 (the x coordinate of d*Q, big endian) or X25519
 * (RFC 7748, the u coordinate, little endian); 32 bytes into secret.  The
 * peer's point is validated (on the curve for P-256).  Returns 0,
 * TEEP_E_KEY (types differ, no private part, a bad peer point),
 * TEEP_E_ALG (Ed25519, or a curve the backend lacks), TEEP_E_CRYPTO.  An
 * all-zero X25519 result (low-order peer point) is either refused with
 * TEEP_E_KEY or returned; callers check (pd.c does).
 */
int tp_crypto_ecdh(const teep_key_t *priv, const teep_key_t *peer,
                   uint8_t secret[32]);

/* HKDF-SHA-256 (RFC 5869) extract and expand: okm_len (1..8160) bytes from
 * ikm, with salt (NULL/0: none, i.e. 32 zero bytes) and info. */
int tp_crypto_hkdf_sha256(const uint8_t *salt, size_t salt_len,
                          const uint8_t *ikm, size_t ikm_len,
                          const uint8_t *info, size_t info_len, uint8_t *okm,
                          size_t okm_len);

/* AES key wrap (RFC 3394, default IV) under a 128-bit KEK.  wrap: in is
 * len bytes, a multiple of 8 and at least 16, out receives len + 8.
 * unwrap: in is len bytes (a multiple of 8, at least 24), out receives
 * len - 8; TEEP_E_DECRYPT when the integrity check fails (wrong KEK or
 * altered input), out is then wiped.  -EINVAL for a bad length.  out must
 * not overlap in. */
int tp_crypto_aes_kw_wrap(const uint8_t kek[16], const uint8_t *in, size_t len,
                          uint8_t *out);
int tp_crypto_aes_kw_unwrap(const uint8_t kek[16], const uint8_t *in,
                            size_t len, uint8_t *out);

/* Content ciphers, with the key, IV and tag sizes each one implies. */
typedef enum tp_cipher {
    TP_CIPHER_AES128_GCM,        /* key 16, IV 12, tag 16 */
    TP_CIPHER_AES128_CTR,        /* key 16, IV 16 (first counter block) */
    TP_CIPHER_CHACHA20_POLY1305, /* key 32, nonce 12, tag 16 (RFC 8439) */
} tp_cipher_t;

/*
 * Encrypt or decrypt in[0..len) into out[0..len) (out may equal in; no
 * other overlap).  The AEADs authenticate aad[0..aad_len) too and write
 * (encrypt) or check (decrypt) the 16-byte tag; AES-CTR ignores aad and
 * tag (both may be NULL) and its 128-bit counter block wraps around.
 * Returns 0, TEEP_E_DECRYPT (tag mismatch: out is wiped), -EINVAL,
 * -ENOMEM, TEEP_E_CRYPTO.
 */
int tp_crypto_cipher(tp_cipher_t cipher, bool encrypt, const uint8_t *key,
                     const uint8_t *iv, const uint8_t *aad, size_t aad_len,
                     const uint8_t *in, size_t len, uint8_t *out,
                     uint8_t tag[16]);

#endif
