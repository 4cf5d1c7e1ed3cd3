/*
 * teep/pd.h: personalization data (PD), and any other SUIT payload,
 * encrypted to the key of one attested TEE (draft-ietf-suit-firmware-
 * encryption, RFC 9052 / RFC 9053, RFC 9459 for AES-CTR).
 *
 * What is produced is what SUIT carries: a SUIT_Encryption_Info, i.e. a
 * COSE_Encrypt (tag 96) whose ciphertext is detached (nil), and the
 * ciphertext itself, which the manifest puts in parameter content (18) or
 * which the device fetches as a component.  The one recipient uses
 * ephemeral-static ECDH (ECDH-ES) with the TEE's P-256 or X25519 key:
 *
 *   96([ protected   h'' (AES-CTR) or << {1: content alg} >> (AEADs),
 *        unprotected {? 1: -65534 (AES-CTR only), 5: IV},
 *        ciphertext  nil,
 *        recipients  [[ << {1: -29 or -25} >>,
 *                       {? 4: kid, -1: ephemeral COSE_Key},
 *                       wrapped CEK (-29) or h'' (-25) ]] ])
 *
 * Key distribution: ECDH-ES + A128KW (-29): HKDF-SHA-256 of the shared
 * secret gives a 128-bit KEK that AES-key-wraps a random CEK; or ECDH-ES +
 * HKDF-256 (-25, "direct"): HKDF gives the CEK itself (RFC 9052 section
 * 8.5.4, the recipient's ciphertext is empty).  The HKDF info is the
 * COSE_KDF_Context [AlgorithmID, [nil, nil, nil], [nil, nil, nil],
 * [keyDataLength, recipient protected, 'SUIT Payload Encryption']] with
 * `other` a byte string; no salt.  Content: A128GCM (1), ChaCha20/Poly1305
 * (24), both with AAD = Enc_structure ["Encrypt", protected, h''], or
 * A128CTR (-65534), which authenticates nothing: the manifest's
 * image-digest of the plaintext is then the only integrity check (see
 * docs/pd.md).  ECDH-ES direct with A128CTR is refused: nothing at all
 * would notice a wrong key.
 *
 * The four SUIT COSE profiles a TAM must support map onto this as
 * teep_pd_profiles() lists; the digest and signing algorithms of a profile
 * belong to the manifest, not to the encryption.
 *
 * For shipping PD as one file, the PD blob is
 *
 *   TEEP_PD_Blob = [ encryption-info: bstr .cbor SUIT_Encryption_Info,
 *                    ciphertext: bstr ]
 *
 * Decoding is bounded and zero-copy (slices point into the input), nothing
 * is allocated; the only buffers are the caller's.  Errors follow
 * teep/common.h: 0 or a negative code, with a teep_diag_t (may be NULL)
 * that says why and at which byte.  Crypto runs in the library's backend
 * (teep_crypto_backend()): OpenSSL and mbedtls both do P-256 and X25519.
 */
#ifndef TEEP_PD_H
#define TEEP_PD_H

#include <stdbool.h>

#include "teep/common.h"
#include "teep/cose.h"

#ifdef __cplusplus
extern "C" {
#endif

/* COSE algorithm identifiers (IANA COSE Algorithms) and the tag. */
enum {
    TEEP_PD_ALG_A128GCM = 1,
    TEEP_PD_ALG_CHACHA20_POLY1305 = 24,
    TEEP_PD_ALG_A128CTR = -65534,
    TEEP_PD_ALG_ECDH_ES_HKDF_256 = -25,
    TEEP_PD_ALG_ECDH_ES_A128KW = -29,
    TEEP_PD_TAG_COSE_ENCRYPT = 96,
};

/* Bounds: recipients a decoded SUIT_Encryption_Info may have, a kid we
 * write, the longest authentication tag, and a SUIT_Encryption_Info we
 * write (one recipient, kid included). */
#define TEEP_PD_MAX_RECIPIENTS 4
#define TEEP_PD_KID_MAX        64
#define TEEP_PD_TAG_MAX        16
#define TEEP_PD_INFO_MAX       320
/* Room that always suffices for the ciphertext of len plaintext bytes,
 * and for a whole PD blob (two byte-string heads of at most 9 bytes and
 * the array head). */
#define TEEP_PD_CIPHERTEXT_MAX(len) ((size_t)(len) + TEEP_PD_TAG_MAX)
#define TEEP_PD_BLOB_MAX(len)                                                  \
    (TEEP_PD_CIPHERTEXT_MAX(len) + TEEP_PD_INFO_MAX + 19)

/* How to encrypt.  Zero fields take the defaults. */
typedef struct teep_pd_params {
    int64_t key_alg;     /* TEEP_PD_ALG_ECDH_ES_A128KW (default) or
                            TEEP_PD_ALG_ECDH_ES_HKDF_256 */
    int64_t content_alg; /* A128GCM (default for a P-256 recipient),
                            ChaCha20/Poly1305 (default for X25519) or
                            A128CTR */
    teep_slice_t kid;    /* the recipient's kid (4) to write, e.g. its
                            RFC 9679 thumbprint key->kid; empty: none;
                            at most TEEP_PD_KID_MAX bytes */
} teep_pd_params_t;

/* A named combination: the four SUIT COSE profiles of TEEP and the direct
 * HKDF variants. */
typedef struct teep_pd_profile {
    const char *name;         /* "esp256-a128kw-a128gcm", for the CLI */
    const char *suit_name;    /* "suit-sha256-esp256-ecdh-a128gcm", or NULL
                                 for a combination no SUIT profile names */
    int64_t suit_profile[4];  /* [digest, signing, key, content] algs, or
                                 zeros */
    teep_key_type_t key_type; /* the recipient key it takes */
    int64_t key_alg;
    int64_t content_alg;
} teep_pd_profile_t;

/* The table of profiles (static storage), and its length in *count. */
const teep_pd_profile_t *teep_pd_profiles(size_t *count);

/* The profile called name (its name or its suit_name), or NULL. */
const teep_pd_profile_t *teep_pd_profile_find(const char *name);

/* Printable name of a key-distribution or content algorithm ("A128GCM",
 * "ECDH-ES+A128KW", ...); "unknown" otherwise, never NULL. */
const char *teep_pd_alg_name(int64_t alg);

/*
 * Encrypt plaintext[0..len) to the public key of recipient (P-256 or
 * X25519; a private part is not used) with a fresh ephemeral key, CEK and
 * IV.  Writes the SUIT_Encryption_Info into info[0..info_cap)
 * (TEEP_PD_INFO_MAX always suffices) and the ciphertext, with the tag
 * appended for the AEADs, into ciphertext[0..ct_cap)
 * (TEEP_PD_CIPHERTEXT_MAX(len) always suffices); ciphertext may not
 * overlap plaintext.  params may be NULL (all defaults).  Copies
 * everything it is given; key material it makes is wiped before it
 * returns.  Returns 0, -EINVAL (NULL pointers, a kid that is too long),
 * -ENOSPC (*info_len and *ct_len then hold the sizes needed), TEEP_E_KEY
 * (Ed25519 or an unusable recipient key), TEEP_E_ALG (an unknown
 * algorithm, direct HKDF with A128CTR, or a curve the backend lacks),
 * TEEP_E_CRYPTO.  On failure nothing usable is left in the outputs.
 */
int teep_pd_encrypt(const teep_key_t *recipient, const teep_pd_params_t *params,
                    const uint8_t *plaintext, size_t len, uint8_t *info,
                    size_t info_cap, size_t *info_len, uint8_t *ciphertext,
                    size_t ct_cap, size_t *ct_len);

/* The same, written as one PD blob into out[0..cap)
 * (TEEP_PD_BLOB_MAX(len) always suffices).  Same return codes; -ENOSPC
 * sets *out_len to the size needed. */
int teep_pd_encrypt_blob(const teep_key_t *recipient,
                         const teep_pd_params_t *params,
                         const uint8_t *plaintext, size_t len, uint8_t *out,
                         size_t cap, size_t *out_len);

/* One decoded recipient. */
typedef struct teep_pd_recipient {
    int64_t key_alg;            /* -29 or -25 */
    teep_slice_t protected_hdr; /* the bstr's content (KDF context input) */
    teep_slice_t kid;           /* empty if none */
    teep_key_type_t ephemeral_type;
    uint8_t ephemeral_x[32];  /* the sender's ephemeral public key */
    uint8_t ephemeral_y[32];  /* P-256 only */
    teep_slice_t wrapped_cek; /* empty for direct HKDF */
    size_t offset;            /* of the recipient in the input */
} teep_pd_recipient_t;

/* A decoded SUIT_Encryption_Info.  Slices point into the input. */
typedef struct teep_pd_info {
    int64_t content_alg;
    teep_slice_t protected_hdr; /* outer, the bstr's content (AAD input) */
    teep_slice_t iv;
    teep_slice_t ciphertext; /* attached ciphertext; ptr NULL when nil
                                (detached, as SUIT has it) */
    size_t n_recipients;
    teep_pd_recipient_t recipients[TEEP_PD_MAX_RECIPIENTS];
} teep_pd_info_t;

/*
 * Decode a SUIT_Encryption_Info that is the whole of buf[0..len).  Checks
 * the tag (96), the shape, the algorithms (content A128GCM / A128CTR /
 * ChaCha20-Poly1305 with the IV size each needs; recipients ECDH-ES +
 * A128KW or + HKDF-256 with an ephemeral P-256 or X25519 public key, a
 * wrapped CEK of the size the content key needs, direct HKDF alone and
 * never with A128CTR), that alg is protected for the AEADs and the
 * protected header empty for A128CTR (RFC 9459), and refuses header
 * parameters it would have to understand but does not (crit, KDF party
 * info and salt, -20..-26).  Returns 0 or TEEP_E_COSE (not a
 * COSE_Encrypt, or a rule above), TEEP_E_ALG, TEEP_E_MISSING, TEEP_E_RANGE
 * (an IV or wrapped CEK of the wrong size), TEEP_E_LIMIT (more than
 * TEEP_PD_MAX_RECIPIENTS), TEEP_E_DUPLICATE, TEEP_E_KEY (a bad ephemeral
 * key), or a CBOR error (TEEP_E_TRUNCATED, TEEP_E_TYPE, TEEP_E_TRAILING
 * ...), recorded in diag.
 */
int teep_pd_info_parse(const uint8_t *buf, size_t len, teep_pd_info_t *out,
                       teep_diag_t *diag);

/*
 * Decrypt with the private key (P-256 or X25519) of the TEE: parse
 * encryption_info (as above), find the recipient for key (those whose kid
 * is key->kid first, then any of the key's type), derive the CEK and
 * decrypt ciphertext (the detached one; pass {NULL, 0} when the
 * structure carries it attached) into out[0..cap).  The plaintext is the
 * ciphertext less its 16-byte tag (AEADs) or as long (A128CTR); cap may
 * be ciphertext.len.  out may be ciphertext.ptr (decrypt in place); no
 * other overlap.  Slices are read during the call only.  Returns 0 with
 * *out_len set, the parse errors above, TEEP_E_MISSING (nil ciphertext
 * and none given), TEEP_E_COSE (attached and given), TEEP_E_TRUNCATED
 * (shorter than the tag), -ENOSPC (*out_len = the size needed),
 * TEEP_E_KEY (no private part, no recipient for this key type, a bad
 * ephemeral point), TEEP_E_DECRYPT (the wrapped CEK or the tag does not
 * check: wrong key or altered data; out is wiped), TEEP_E_CRYPTO.  With
 * A128CTR and key wrap a wrong key is still caught by AES-KW, an altered
 * ciphertext is not: check the manifest's image-digest.
 */
int teep_pd_decrypt(const teep_key_t *key, teep_slice_t encryption_info,
                    teep_slice_t ciphertext, uint8_t *out, size_t cap,
                    size_t *out_len, teep_diag_t *diag);

/* Split a PD blob that is the whole of buf[0..len) into its encryption
 * info and ciphertext (slices into buf, never NULL).  Returns 0,
 * TEEP_E_TYPE (not an array of byte strings), TEEP_E_RANGE (not two
 * elements) or a CBOR error, in diag. */
int teep_pd_blob_parse(const uint8_t *buf, size_t len, teep_slice_t *info,
                       teep_slice_t *ciphertext, teep_diag_t *diag);

/* teep_pd_blob_parse then teep_pd_decrypt; diag offsets count from the
 * start of the blob.  Same return codes. */
int teep_pd_decrypt_blob(const teep_key_t *key, const uint8_t *blob, size_t len,
                         uint8_t *out, size_t cap, size_t *out_len,
                         teep_diag_t *diag);

#ifdef __cplusplus
}
#endif
#endif
