/*
 * pd_internal.h (private to proto/): what pd.c (the key agreement, key
 * derivation and content encryption) and pd_info.c (the CBOR of
 * SUIT_Encryption_Info and of the PD blob) share.
 */
#ifndef TP_PD_INTERNAL_H
#define TP_PD_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "teep/pd.h"

/* Longest encoded {1: alg} (map head, label, an int of up to 9 bytes). */
#define PD_ALG_HEADER_MAX 11
/* Longest protected header accepted in a SUIT_Encryption_Info: room for
 * alg, IV and an ephemeral key, which is all a layer of ours could
 * protect.  Bounds the stack buffers the AAD and the KDF context are
 * built in. */
#define PD_PROTECTED_MAX 128

/* A content encryption algorithm and the sizes it implies. */
typedef struct pd_content_alg {
    int64_t alg;
    const char *name;
    tp_cipher_t cipher;
    size_t key_len;
    size_t iv_len;
    size_t tag_len; /* 0: not authenticated (A128CTR) */
} pd_content_alg_t;

/* The entry for a COSE content algorithm, or NULL if unsupported. */
const pd_content_alg_t *pd__content_alg(int64_t alg);

/* Whether alg is a key distribution this code does (-29, -25). */
bool pd__key_alg_supported(int64_t alg);

/* The encoded header map {1: alg} into buf; returns its length. */
size_t pd__alg_header(int64_t alg, uint8_t buf[PD_ALG_HEADER_MAX]);

/* The outer protected header of a content algorithm: {1: alg} for the
 * AEADs, empty for A128CTR (RFC 9459: it could protect nothing).  Returns
 * its length. */
size_t pd__content_protected(const pd_content_alg_t *c,
                             uint8_t buf[PD_ALG_HEADER_MAX]);

/* What one SUIT_Encryption_Info we write says.  Counting with out NULL
 * only needs the sizes right: ephemeral->type, kid.len, wrapped_len. */
typedef struct pd_info_fields {
    const pd_content_alg_t *content;
    int64_t key_alg;
    const uint8_t *iv;           /* content->iv_len bytes */
    const teep_key_t *ephemeral; /* its public part is written */
    teep_slice_t kid;            /* may be empty */
    const uint8_t *wrapped_cek;  /* wrapped_len bytes */
    size_t wrapped_len;          /* 0 for direct HKDF */
} pd_info_fields_t;

/* Encode the SUIT_Encryption_Info (detached ciphertext) into out[0..cap);
 * with out NULL and cap 0 only *len is computed.  Returns 0, -ENOSPC
 * (*len is then the size needed), or what teep_key_to_cose returns. */
int pd__info_encode(const pd_info_fields_t *f, uint8_t *out, size_t cap,
                    size_t *len);

/* Decode the SUIT_Encryption_Info that is the whole of buf[start..end),
 * with diagnostics offsets counted from buf (so that an info inside a PD
 * blob reports positions in the blob).  See teep_pd_info_parse. */
int pd__info_parse(const uint8_t *buf, size_t start, size_t end,
                   teep_pd_info_t *out, teep_diag_t *diag);

#endif
