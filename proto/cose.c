/*
 * cose.c: COSE_Sign1 / COSE_Sign signing, parsing and verification
 * (RFC 9052) as TEEP uses them (teep/cose.h).  The crypto is the
 * backend's (crypto.h); this file only frames bytes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cbor_reader.h"
#include "cbor_writer.h"
#include "cose_header.h"
#include "crypto.h"
#include "teep/cose.h"
#include "teep/message.h"

enum { COSE_TAG_SIGN1 = 18, COSE_TAG_SIGN = 98 };

/* Common header parameter labels (RFC 9052 section 3.1). */
enum {
    HDR_ALG = 1,
    HDR_CRIT = 2,
    HDR_CONTENT_TYPE = 3,
    HDR_KID = 4,
    HDR_IV = 5,
};

/* Encoded {1: alg}: map head, label, and an int of up to 9 bytes. */
#define PROTECTED_MAX 11
/* Sig_structures up to this size are built on the stack (most TEEP
 * messages but an Update); small enough for a TEE's thread stack. */
#define SIG_STRUCTURE_STACK 512
#define SIG_LEN             64

/*
 * Name of the crypto backend the library was built with ("openssl" or
 * "mbedtls"); a static string.
 */
const char *teep_crypto_backend(void)
{
    return tp_crypto_name();
}

/* SHA-256 of in[0..len) into out.  Returns 0 or TEEP_E_CRYPTO. */
int teep_sha256(const uint8_t *in, size_t len, uint8_t out[32])
{
    return tp_crypto_sha256(in, len, out);
}

/* len bytes from the backend's CSPRNG.  Returns 0 or TEEP_E_CRYPTO. */
int teep_random(uint8_t *out, size_t len)
{
    return tp_crypto_random(out, len);
}

/*
 * Sign msg[0..len) with key's private part under alg (ESP256/ES256 for
 * P-256: ECDSA with SHA-256, r||s; Ed25519/EdDSA for Ed25519; the legacy
 * values name the same operation, as teep_key_supports_alg says).  Writes 64
 * bytes to sig.  Returns 0, TEEP_E_KEY (no private part), TEEP_E_ALG (alg
 * does not fit the key, or the backend lacks it), TEEP_E_CRYPTO.
 */
int teep_sign_raw(const teep_key_t *key, int64_t alg, const uint8_t *msg,
                  size_t len, uint8_t sig[64])
{
    if (!teep_key_supports_alg(key, alg))
        return TEEP_E_ALG;
    if (!key->has_private)
        return TEEP_E_KEY;
    return tp_crypto_sign(key, msg, len, sig);
}

/*
 * Verify sig[0..sig_len) over msg[0..len) with key under alg.  Returns 0,
 * TEEP_E_SIGNATURE (mismatch, or not 64 bytes), TEEP_E_ALG, TEEP_E_CRYPTO.
 */
int teep_verify_raw(const teep_key_t *key, int64_t alg, const uint8_t *msg,
                    size_t len, const uint8_t *sig, size_t sig_len)
{
    if (!teep_key_supports_alg(key, alg))
        return TEEP_E_ALG;
    if (sig_len != SIG_LEN)
        return TEEP_E_SIGNATURE;
    return tp_crypto_verify(key, msg, len, sig);
}

/* Sig_structure (RFC 9052 section 4.4): ["Signature1", body_protected,
 * h'', payload] for a COSE_Sign1 (sign_protected NULL), or ["Signature",
 * body_protected, sign_protected, h'', payload] for one signer of a
 * COSE_Sign. */
static void write_sig_structure(tp_cbor_writer_t *w, teep_slice_t body_prot,
                                const teep_slice_t *sign_prot,
                                teep_slice_t payload)
{
    static const char sign1_ctx[] = "Signature1";
    static const char sign_ctx[] = "Signature";
    if (sign_prot == NULL) {
        tp_cw_array(w, 4);
        tp_cw_tstr(w, sign1_ctx, sizeof(sign1_ctx) - 1);
        tp_cw_bstr(w, body_prot.ptr, body_prot.len);
    } else {
        tp_cw_array(w, 5);
        tp_cw_tstr(w, sign_ctx, sizeof(sign_ctx) - 1);
        tp_cw_bstr(w, body_prot.ptr, body_prot.len);
        tp_cw_bstr(w, sign_prot->ptr, sign_prot->len);
    }
    tp_cw_bstr(w, NULL, 0); /* external_aad: TEEP has none */
    tp_cw_bstr(w, payload.ptr, payload.len);
}

/* Build the Sig_structure and either sign it into sig_out or verify
 * sig_in over it.  Every slice is already bounded (by the input being
 * verified, or by the output the signature goes into), so the heap buffer
 * for a large one is sized by data we hold. */
static int sig_structure_op(const teep_key_t *key, int64_t alg,
                            teep_slice_t body_prot,
                            const teep_slice_t *sign_prot, teep_slice_t payload,
                            uint8_t *sig_out, const uint8_t *sig_in,
                            size_t sig_in_len)
{
    tp_cbor_writer_t w;
    tp_cw_init(&w, NULL, 0);
    write_sig_structure(&w, body_prot, sign_prot, payload);
    size_t size = w.len;

    uint8_t stack[SIG_STRUCTURE_STACK];
    uint8_t *buf = size <= sizeof(stack) ? stack : malloc(size);
    if (buf == NULL)
        return -ENOMEM;
    tp_cw_init(&w, buf, size);
    write_sig_structure(&w, body_prot, sign_prot, payload);
    int rc = tp_cw_result(&w);
    if (rc == 0)
        rc = sig_out != NULL
                 ? teep_sign_raw(key, alg, buf, w.len, sig_out)
                 : teep_verify_raw(key, alg, buf, w.len, sig_in, sig_in_len);
    if (buf != stack)
        free(buf);
    return rc;
}

/* Where one signer's pieces land in the output: its protected header
 * bytes (for its Sig_structure) and the 64 bytes its signature fills. */
typedef struct signer_slot {
    size_t prot_off;
    size_t prot_len;
    size_t sig_off;
} signer_slot_t;

/* One signer's part of a COSE_Sign1 or COSE_Signature: protected
 * bstr({1: alg}), unprotected {4: kid}, and for the signature a 64-byte
 * bstr of zeros that is filled once the whole structure fits.  payload
 * (may be NULL) goes between the headers and the signature, as in
 * COSE_Sign1. */
static void write_signer(tp_cbor_writer_t *w, const teep_key_t *key,
                         int64_t alg, const teep_slice_t *payload,
                         signer_slot_t *slot)
{
    static const uint8_t zeros[SIG_LEN];
    uint8_t prot[PROTECTED_MAX];
    tp_cbor_writer_t pw;
    tp_cw_init(&pw, prot, sizeof(prot));
    tp_cw_map(&pw, 1);
    tp_cw_uint(&pw, HDR_ALG);
    tp_cw_int(&pw, alg);

    tp_cw_bstr(w, prot, pw.len);
    slot->prot_off = w->len - pw.len;
    slot->prot_len = pw.len;
    tp_cw_map(w, 1);
    tp_cw_uint(w, HDR_KID);
    tp_cw_bstr(w, key->kid, sizeof(key->kid));
    if (payload != NULL)
        tp_cw_bstr(w, payload->ptr, payload->len);
    tp_cw_bstr_head(w, SIG_LEN);
    slot->sig_off = w->len;
    tp_cw_raw(w, zeros, SIG_LEN);
}

/* Check one signer and resolve its algorithm. */
static int signer_alg(const teep_signer_t *signer, int64_t *alg)
{
    if (signer->key == NULL)
        return -EINVAL;
    *alg = signer->alg != 0 ? signer->alg : teep_key_default_alg(signer->key);
    if (!teep_key_supports_alg(signer->key, *alg))
        return TEEP_E_ALG;
    return signer->key->has_private ? 0 : TEEP_E_KEY;
}

/* COSE_Sign1 (sign1) or COSE_Sign: write the structure with empty
 * signatures first, so a short buffer fails before any signing, then sign
 * each Sig_structure into its slot. */
static int cose_sign(const teep_signer_t *signers, size_t n, bool sign1,
                     const uint8_t *payload, size_t len, uint8_t *out,
                     size_t cap, size_t *out_len)
{
    int64_t algs[TEEP_COSE_MAX_SIGNERS];
    signer_slot_t slots[TEEP_COSE_MAX_SIGNERS];
    if (signers == NULL || n == 0 || n > TEEP_COSE_MAX_SIGNERS ||
        (payload == NULL && len != 0) || out_len == NULL)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        int rc = signer_alg(&signers[i], &algs[i]);
        if (rc != 0)
            return rc;
    }

    teep_slice_t body = {payload, len};
    tp_cbor_writer_t w;
    tp_cw_init(&w, out, cap);
    if (sign1) {
        tp_cw_tag(&w, COSE_TAG_SIGN1);
        tp_cw_array(&w, 4);
        write_signer(&w, signers[0].key, algs[0], &body, &slots[0]);
    } else {
        tp_cw_tag(&w, COSE_TAG_SIGN);
        tp_cw_array(&w, 4);
        tp_cw_bstr(&w, NULL, 0); /* body protected: h'' */
        tp_cw_map(&w, 0);
        tp_cw_bstr(&w, payload, len);
        tp_cw_array(&w, n);
        for (size_t i = 0; i < n; i++) {
            tp_cw_array(&w, 3);
            write_signer(&w, signers[i].key, algs[i], NULL, &slots[i]);
        }
    }
    *out_len = w.len;
    int rc = tp_cw_result(&w);
    for (size_t i = 0; i < n && rc == 0; i++) {
        teep_slice_t prot = {out + slots[i].prot_off, slots[i].prot_len};
        rc = sig_structure_op(
            signers[i].key, algs[i], sign1 ? prot : (teep_slice_t){NULL, 0},
            sign1 ? NULL : &prot, body, out + slots[i].sig_off, NULL, 0);
    }
    /* Leave no half-signed structure behind. */
    if (rc != 0 && rc != -ENOSPC && cap > 0)
        memset(out, 0, *out_len < cap ? *out_len : cap);
    return rc;
}

/*
 * COSE_Sign1_Tagged over payload[0..len) with one signer: protected
 * {1: alg}, unprotected {4: kid}.  Copies the payload into out[0..cap)
 * (which must not overlap it).  Returns 0, -EINVAL, -ENOSPC (*out_len then
 * holds the size needed), TEEP_E_ALG, TEEP_E_KEY, TEEP_E_CRYPTO.
 */
int teep_cose_sign1(const teep_signer_t *signer, const uint8_t *payload,
                    size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
    return cose_sign(signer, 1, true, payload, len, out, cap, out_len);
}

/*
 * COSE_Sign_Tagged with 1..TEEP_COSE_MAX_SIGNERS signers: body protected
 * h'', unprotected {}, one COSE_Signature per signer.  Same ownership and
 * return codes as teep_cose_sign1.
 */
int teep_cose_sign(const teep_signer_t *signers, size_t n,
                   const uint8_t *payload, size_t len, uint8_t *out, size_t cap,
                   size_t *out_len)
{
    return cose_sign(signers, n, false, payload, len, out, cap, out_len);
}

/* What one layer's two header buckets said. */
typedef struct header_info {
    unsigned seen; /* bit per common label 1..5, across both buckets */
    bool has_alg;
    int64_t alg;
    teep_slice_t kid;
} header_info_t;

/* crit: a non-empty array of labels, all of which we must understand;
 * we understand only the common ones. */
static int parse_crit(tp_cbor_reader_t *r)
{
    tp_cbor_item_t arr;
    int rc = tp_cbor_expect(r, TP_CBOR_ARRAY, &arr, "crit");
    if (rc != 0)
        return rc;
    if (arr.u == 0)
        return tp_cbor_fail(r, TEEP_E_COSE, arr.offset, "crit is empty");
    for (uint64_t i = 0; i < arr.u; i++) {
        tp_cbor_item_t l;
        rc = tp_cbor_next(r, &l);
        if (rc != 0)
            return rc;
        if (l.kind != TP_CBOR_UINT || l.u < HDR_ALG || l.u > HDR_IV)
            return tp_cbor_fail(r, TEEP_E_COSE, l.offset,
                                "crit names a header parameter we do not "
                                "understand");
    }
    return 0;
}

/* The value of a common header parameter. */
static int parse_common_param(tp_cbor_reader_t *r, int64_t label,
                              bool is_protected, header_info_t *h)
{
    tp_cbor_item_t it;
    int rc;
    switch (label) {
    case HDR_ALG:
        /* The algorithm must be integrity protected (RFC 9052 3.1). */
        if (!is_protected)
            return tp_cbor_fail(r, TEEP_E_COSE, r->pos,
                                "alg in the unprotected header");
        h->has_alg = true;
        return tp_cbor_read_int(r, &h->alg, "alg");
    case HDR_CRIT:
        if (!is_protected)
            return tp_cbor_fail(r, TEEP_E_COSE, r->pos,
                                "crit in the unprotected header");
        return parse_crit(r);
    case HDR_CONTENT_TYPE:
        rc = tp_cbor_next(r, &it);
        if (rc == 0 && it.kind != TP_CBOR_UINT && it.kind != TP_CBOR_TSTR)
            rc = tp_cbor_fail(r, TEEP_E_TYPE, it.offset,
                              "content type: expected uint or tstr");
        return rc;
    case HDR_KID:
        rc = tp_cbor_expect(r, TP_CBOR_BSTR, &it, "kid");
        if (rc == 0)
            h->kid = (teep_slice_t){it.ptr, (size_t)it.u};
        return rc;
    default: /* HDR_IV */ return tp_cbor_expect(r, TP_CBOR_BSTR, &it, "IV");
    }
}

/* A label of one header map (cose_header.h): the common ones (1..5) are
 * read, each at most once across both buckets; the walker refuses or
 * skips the others. */
static int common_param(void *ctx, tp_cbor_reader_t *r, int64_t label,
                        bool is_protected, size_t offset)
{
    header_info_t *h = ctx;
    if (label < HDR_ALG || label > HDR_IV)
        return TP_COSE_HEADER_UNKNOWN;
    unsigned bit = 1u << label;
    if (h->seen & bit)
        return tp_cbor_fail(r, TEEP_E_DUPLICATE, offset,
                            "header label %lld in both buckets",
                            (long long)label);
    h->seen |= bit;
    return parse_common_param(r, label, is_protected, h);
}

static int parse_header_map(tp_cbor_reader_t *r, bool is_protected,
                            unsigned depth, header_info_t *h)
{
    return tp_cose_header_walk(r, is_protected, depth, common_param, h);
}

/* The protected bucket: a bstr holding a header map, or empty (h''
 * stands for the empty map). */
static int parse_protected(tp_cbor_reader_t *r, teep_slice_t *bytes,
                           header_info_t *h)
{
    tp_cbor_item_t b;
    int rc = tp_cbor_expect(r, TP_CBOR_BSTR, &b, "protected header");
    if (rc != 0)
        return rc;
    *bytes = (teep_slice_t){b.ptr, (size_t)b.u};
    if (b.u == 0)
        return 0;
    /* A reader over just the bstr content, on the same buffer so that
     * offsets in the diagnostics stay absolute. */
    tp_cbor_reader_t sub;
    tp_cbor_reader_init(&sub, r->buf, b.end, r->diag);
    sub.pos = b.end - (size_t)b.u;
    rc = parse_header_map(&sub, true, 1, h);
    return rc != 0 ? rc : tp_cbor_finish(&sub);
}

/* Both buckets of one layer; depth is the nesting of the unprotected
 * map. */
static int parse_headers(tp_cbor_reader_t *r, unsigned depth,
                         teep_slice_t *prot, header_info_t *h)
{
    int rc = parse_protected(r, prot, h);
    return rc != 0 ? rc : parse_header_map(r, false, depth, h);
}

/* The signature's pieces from a signer layer's headers. */
static int take_signer(tp_cbor_reader_t *r, size_t at, const header_info_t *h,
                       teep_slice_t prot, teep_cose_signature_t *sig)
{
    if (!h->has_alg)
        return tp_cbor_fail(r, TEEP_E_MISSING, at,
                            "no alg in the protected header");
    tp_cbor_item_t s;
    int rc = tp_cbor_expect(r, TP_CBOR_BSTR, &s, "signature");
    if (rc != 0)
        return rc;
    sig->protected_hdr = prot;
    sig->alg = h->alg;
    sig->kid = h->kid;
    sig->signature = (teep_slice_t){s.ptr, (size_t)s.u};
    return 0;
}

/* COSE_Sign's signatures array: 1..TEEP_COSE_MAX_SIGNERS COSE_Signature
 * [protected, unprotected, signature]. */
static int parse_signatures(tp_cbor_reader_t *r, teep_cose_t *out)
{
    tp_cbor_item_t arr;
    int rc = tp_cbor_expect(r, TP_CBOR_ARRAY, &arr, "signatures");
    if (rc != 0)
        return rc;
    if (arr.u == 0)
        return tp_cbor_fail(r, TEEP_E_COSE, arr.offset,
                            "COSE_Sign without signatures");
    if (arr.u > TEEP_COSE_MAX_SIGNERS)
        return tp_cbor_fail(r, TEEP_E_LIMIT, arr.offset,
                            "%llu signatures, at most %d",
                            (unsigned long long)arr.u, TEEP_COSE_MAX_SIGNERS);
    for (size_t i = 0; i < arr.u; i++) {
        tp_cbor_item_t sa;
        rc = tp_cbor_expect(r, TP_CBOR_ARRAY, &sa, "COSE_Signature");
        if (rc == 0 && sa.u != 3)
            rc = tp_cbor_fail(r, TEEP_E_COSE, sa.offset,
                              "COSE_Signature of %llu elements",
                              (unsigned long long)sa.u);
        header_info_t h = {0};
        teep_slice_t prot;
        if (rc == 0)
            rc = parse_headers(r, 5, &prot, &h);
        if (rc == 0)
            rc = take_signer(r, sa.offset, &h, prot, &out->signatures[i]);
        if (rc != 0)
            return rc;
        out->n_signatures = i + 1;
    }
    return 0;
}

/*
 * Parse a COSE_Sign1_Tagged or COSE_Sign_Tagged that is the whole of
 * buf[0..len).  Slices in *out point into buf.  Returns 0, TEEP_E_COSE
 * (untagged, other tag, wrong shape, protected parameter not understood),
 * TEEP_E_MISSING (no alg), TEEP_E_LIMIT, TEEP_E_DUPLICATE, or a CBOR error
 * (TEEP_E_TRUNCATED, TEEP_E_TRAILING, TEEP_E_TYPE ...), recorded in diag
 * (may be NULL).
 */
int teep_cose_parse(const uint8_t *buf, size_t len, teep_cose_t *out,
                    teep_diag_t *diag)
{
    memset(out, 0, sizeof(*out));
    tp_cbor_reader_t r;
    tp_cbor_reader_init(&r, buf, len, diag);
    tp_cbor_item_t it;
    int rc = tp_cbor_next(&r, &it);
    if (rc != 0)
        return rc;
    if (it.kind != TP_CBOR_TAG)
        return tp_cbor_fail(&r, TEEP_E_COSE, it.offset,
                            "untagged: COSE_Sign1 and COSE_Sign must carry "
                            "tag 18 or 98");
    if (it.u != COSE_TAG_SIGN1 && it.u != COSE_TAG_SIGN)
        return tp_cbor_fail(&r, TEEP_E_COSE, it.offset,
                            "tag %llu is neither COSE_Sign1 nor COSE_Sign",
                            (unsigned long long)it.u);
    out->tag = it.u;
    bool sign1 = it.u == COSE_TAG_SIGN1;
    tp_cbor_item_t arr;
    rc = tp_cbor_expect(&r, TP_CBOR_ARRAY, &arr,
                        sign1 ? "COSE_Sign1" : "COSE_Sign");
    if (rc != 0)
        return rc;
    if (arr.u != 4)
        return tp_cbor_fail(&r, TEEP_E_COSE, arr.offset,
                            "array of %llu elements, COSE has 4",
                            (unsigned long long)arr.u);

    header_info_t h = {0};
    rc = parse_headers(&r, 3, &out->protected_hdr, &h);
    if (rc != 0)
        return rc;
    rc = tp_cbor_next(&r, &it);
    if (rc != 0)
        return rc;
    if (it.kind == TP_CBOR_BSTR)
        out->payload = (teep_slice_t){it.ptr, (size_t)it.u};
    else if (it.kind != TP_CBOR_NULL)
        return tp_cbor_fail(&r, TEEP_E_TYPE, it.offset,
                            "payload: expected bstr or nil, got %s",
                            tp_cbor_kind_name(it.kind));
    if (sign1) {
        rc = take_signer(&r, arr.offset, &h, out->protected_hdr,
                         &out->signatures[0]);
        out->n_signatures = rc == 0 ? 1 : 0;
    } else {
        rc = parse_signatures(&r, out);
    }
    return rc != 0 ? rc : tp_cbor_finish(&r);
}

/* One signature over its Sig_structure. */
static int verify_one(const teep_cose_t *cose, const teep_cose_signature_t *s,
                      const teep_key_t *key, teep_slice_t payload)
{
    bool sign1 = cose->tag == COSE_TAG_SIGN1;
    return sig_structure_op(key, s->alg, cose->protected_hdr,
                            sign1 ? NULL : &s->protected_hdr, payload, NULL,
                            s->signature.ptr, s->signature.len);
}

/*
 * Verify parsed COSE against key (see teep/cose.h): the signatures whose
 * algorithm fits the key, those naming the key's kid first; success when
 * one verifies.  detached_payload is required when the payload is nil
 * and refused otherwise.  Returns 0, TEEP_E_SIGNATURE, TEEP_E_ALG,
 * TEEP_E_MISSING (nil payload, none given), TEEP_E_COSE (payload both
 * attached and given), -EINVAL, -ENOMEM, TEEP_E_CRYPTO.
 */
int teep_cose_verify(const teep_cose_t *cose, const teep_key_t *key,
                     const uint8_t *detached_payload, size_t detached_len)
{
    if (cose == NULL || key == NULL || cose->n_signatures == 0 ||
        cose->n_signatures > TEEP_COSE_MAX_SIGNERS)
        return -EINVAL;
    teep_slice_t payload = cose->payload;
    if (payload.ptr == NULL) {
        if (detached_payload == NULL)
            return TEEP_E_MISSING;
        payload = (teep_slice_t){detached_payload, detached_len};
    } else if (detached_payload != NULL) {
        return TEEP_E_COSE;
    }

    /* A bad signature outranks a failure, which outranks "no signature
     * for this key". */
    int result = TEEP_E_ALG;
    for (int kid_pass = 1; kid_pass >= 0; kid_pass--) {
        for (size_t i = 0; i < cose->n_signatures; i++) {
            const teep_cose_signature_t *s = &cose->signatures[i];
            bool named = s->kid.len == sizeof(key->kid) &&
                         memcmp(s->kid.ptr, key->kid, sizeof(key->kid)) == 0;
            if (named != (kid_pass == 1) || !teep_key_supports_alg(key, s->alg))
                continue;
            int rc = verify_one(cose, s, key, payload);
            if (rc == 0)
                return 0;
            if (rc == TEEP_E_SIGNATURE || result == TEEP_E_ALG)
                result = rc;
        }
    }
    return result;
}
