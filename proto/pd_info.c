/*
 * pd_info.c: the CBOR side of teep/pd.h: SUIT_Encryption_Info (a
 * COSE_Encrypt, tag 96, with ECDH-ES recipients) written and read, and
 * the PD blob [info, ciphertext].  No crypto happens here apart from
 * loading the ephemeral key, which checks its point.
 */
#include <errno.h>
#include <string.h>

#include "cbor_reader.h"
#include "cbor_writer.h"
#include "cose_header.h"
#include "pd_internal.h"

/* Header parameter labels (RFC 9052 section 3.1, RFC 9053 section 6.4). */
enum {
    HDR_ALG = 1,
    HDR_CRIT = 2,
    HDR_KID = 4,
    HDR_IV = 5,
    HDR_PARTIAL_IV = 6,
    HDR_EPHEMERAL_KEY = -1,
    HDR_STATIC_KEY_ID = -3, /* -2 static key, -3 its id: ECDH-SS */
    HDR_STATIC_KEY = -2,
    HDR_KDF_FIRST = -26, /* -20 salt ... -26 PartyV other */
    HDR_KDF_LAST = -20,
};

/* Longest COSE_Key we write: kty, crv, x, y. */
#define COSE_KEY_PUBLIC_MAX 96

size_t pd__alg_header(int64_t alg, uint8_t buf[PD_ALG_HEADER_MAX])
{
    tp_cbor_writer_t w;
    tp_cw_init(&w, buf, PD_ALG_HEADER_MAX);
    tp_cw_map(&w, 1);
    tp_cw_uint(&w, HDR_ALG);
    tp_cw_int(&w, alg);
    return w.len;
}

size_t pd__content_protected(const pd_content_alg_t *c,
                             uint8_t buf[PD_ALG_HEADER_MAX])
{
    return c->tag_len > 0 ? pd__alg_header(c->alg, buf) : 0;
}

/*
 * 96([protected, {? 1: alg, 5: IV}, nil,
 *     [[<<{1: key_alg}>>, {? 4: kid, -1: COSE_Key}, wrapped]]])
 * Labels in each map in deterministic order (RFC 8949 4.2.1: 1 before 5,
 * 4 before -1).
 */
int pd__info_encode(const pd_info_fields_t *f, uint8_t *out, size_t cap,
                    size_t *len)
{
    uint8_t prot[PD_ALG_HEADER_MAX], rprot[PD_ALG_HEADER_MAX];
    uint8_t key[COSE_KEY_PUBLIC_MAX];
    size_t prot_len = pd__content_protected(f->content, prot);
    size_t rprot_len = pd__alg_header(f->key_alg, rprot);
    size_t key_len = 0;
    /* Counting needs only the size, which the type fixes. */
    int rc = teep_key_to_cose(f->ephemeral, false, key, sizeof(key), &key_len);
    if (rc != 0)
        return rc;
    bool ctr = f->content->tag_len == 0;

    tp_cbor_writer_t w;
    tp_cw_init(&w, out, cap);
    tp_cw_tag(&w, TEEP_PD_TAG_COSE_ENCRYPT);
    tp_cw_array(&w, 4);
    tp_cw_bstr(&w, prot, prot_len);
    tp_cw_map(&w, ctr ? 2 : 1);
    if (ctr) {
        /* AES-CTR has no protected header, so alg travels here. */
        tp_cw_uint(&w, HDR_ALG);
        tp_cw_int(&w, f->content->alg);
    }
    tp_cw_uint(&w, HDR_IV);
    tp_cw_bstr(&w, f->iv, f->content->iv_len);
    tp_cw_null(&w); /* detached: SUIT carries the ciphertext */
    tp_cw_array(&w, 1);
    tp_cw_array(&w, 3);
    tp_cw_bstr(&w, rprot, rprot_len);
    tp_cw_map(&w, f->kid.len > 0 ? 2 : 1);
    if (f->kid.len > 0) {
        tp_cw_uint(&w, HDR_KID);
        tp_cw_bstr(&w, f->kid.ptr, f->kid.len);
    }
    tp_cw_int(&w, HDR_EPHEMERAL_KEY);
    tp_cw_raw(&w, key, key_len);
    tp_cw_bstr(&w, f->wrapped_cek, f->wrapped_len);
    *len = w.len;
    return tp_cw_result(&w);
}

/* What the two buckets of one layer said. */
typedef struct layer_headers {
    bool has_alg;
    bool alg_protected;
    int64_t alg;
    size_t alg_offset;
    teep_slice_t kid;
    bool has_iv;
    teep_slice_t iv;
    size_t iv_offset;
    bool has_ephemeral;
    teep_key_type_t ephemeral_type;
    uint8_t ephemeral_x[32];
    uint8_t ephemeral_y[32];
    unsigned seen; /* one bit per label we read, across both buckets */
} layer_headers_t;

/* The ephemeral key: a public COSE_Key of a curve we agree keys on.
 * teep_key_from_cose checks it (a P-256 point must be on the curve). */
static int read_ephemeral(tp_cbor_reader_t *r, unsigned depth,
                          layer_headers_t *h)
{
    size_t start, end;
    int rc = tp_cbor_skip(r, TEEP_MAX_DEPTH - depth, &start, &end);
    if (rc != 0)
        return rc;
    teep_key_t key;
    rc = teep_key_from_cose(&key, r->buf + start, end - start);
    if (rc != 0)
        return tp_cbor_fail(r, rc == TEEP_E_ALG ? TEEP_E_ALG : TEEP_E_KEY,
                            start, "ephemeral key: %s", teep_strerror(rc));
    if (key.has_private)
        rc = tp_cbor_fail(r, TEEP_E_KEY, start,
                          "ephemeral key with its private part");
    else if (key.type != TEEP_KEY_P256 && key.type != TEEP_KEY_X25519)
        rc = tp_cbor_fail(r, TEEP_E_ALG, start,
                          "ephemeral key: neither P-256 nor X25519");
    h->has_ephemeral = true;
    h->ephemeral_type = key.type;
    memcpy(h->ephemeral_x, key.x, 32);
    memcpy(h->ephemeral_y, key.y, 32);
    teep_key_clear(&key);
    return rc;
}

/* The value of a label this code reads. */
static int read_param(tp_cbor_reader_t *r, int64_t label, bool is_protected,
                      size_t at, unsigned depth, layer_headers_t *h)
{
    tp_cbor_item_t it;
    int rc;
    switch (label) {
    case HDR_ALG:
        h->has_alg = true;
        h->alg_protected = is_protected;
        h->alg_offset = r->pos;
        return tp_cbor_read_int(r, &h->alg, "alg");
    case HDR_KID:
        rc = tp_cbor_expect(r, TP_CBOR_BSTR, &it, "kid");
        if (rc == 0)
            h->kid = (teep_slice_t){it.ptr, (size_t)it.u};
        return rc;
    case HDR_IV:
        rc = tp_cbor_expect(r, TP_CBOR_BSTR, &it, "IV");
        if (rc == 0) {
            h->has_iv = true;
            h->iv = (teep_slice_t){it.ptr, (size_t)it.u};
            h->iv_offset = it.offset;
        }
        return rc;
    case HDR_EPHEMERAL_KEY: return read_ephemeral(r, depth, h);
    default:
        return tp_cbor_fail(r, TEEP_E_COSE, at, "header label %lld",
                            (long long)label);
    }
}

/* Labels that change how the content is protected and that this code
 * does not do: refusing them beats decrypting with the wrong key. */
static int refuse_param(tp_cbor_reader_t *r, int64_t label, size_t at)
{
    if (label == HDR_CRIT)
        return tp_cbor_fail(r, TEEP_E_COSE, at,
                            "crit: no critical extension is understood");
    if (label == HDR_PARTIAL_IV)
        return tp_cbor_fail(r, TEEP_E_ALG, at, "Partial IV not supported");
    if (label == HDR_STATIC_KEY || label == HDR_STATIC_KEY_ID)
        return tp_cbor_fail(r, TEEP_E_ALG, at,
                            "static sender key (ECDH-SS) not supported");
    if (label >= HDR_KDF_FIRST && label <= HDR_KDF_LAST)
        return tp_cbor_fail(r, TEEP_E_ALG, at,
                            "KDF salt / party info (label %lld) not "
                            "supported",
                            (long long)label);
    return 0;
}

/* The bit of a label we read, 0 for the others. */
static unsigned label_bit(int64_t label)
{
    switch (label) {
    case HDR_ALG: return 1u << 0;
    case HDR_KID: return 1u << 1;
    case HDR_IV: return 1u << 2;
    case HDR_EPHEMERAL_KEY: return 1u << 3;
    default: return 0;
    }
}

/* What a label of one header map (cose_header.h) does to a layer: the
 * labels we read, each at most once across both buckets; a few that would
 * change the crypto refused wherever they stand; the walker refuses or
 * skips the others. */
typedef struct header_walk {
    layer_headers_t *h;
    unsigned depth;
} header_walk_t;

static int layer_param(void *ctx, tp_cbor_reader_t *r, int64_t label,
                       bool is_protected, size_t offset)
{
    header_walk_t *w = ctx;
    unsigned bit = label_bit(label);
    if (bit != 0 && (w->h->seen & bit))
        return tp_cbor_fail(r, TEEP_E_DUPLICATE, offset,
                            "header label %lld in both buckets",
                            (long long)label);
    w->h->seen |= bit;
    int rc = refuse_param(r, label, offset);
    if (rc != 0)
        return rc;
    if (bit == 0)
        return TP_COSE_HEADER_UNKNOWN;
    return read_param(r, label, is_protected, offset, w->depth, w->h);
}

static int parse_header_map(tp_cbor_reader_t *r, bool is_protected,
                            unsigned depth, layer_headers_t *h)
{
    header_walk_t w = {h, depth};
    return tp_cose_header_walk(r, is_protected, depth, layer_param, &w);
}

/* Both buckets of one layer: the protected one is a bstr holding a map,
 * or empty (h'' stands for the empty map).  depth is the nesting of the
 * unprotected map. */
static int parse_headers(tp_cbor_reader_t *r, unsigned depth,
                         teep_slice_t *prot, layer_headers_t *h)
{
    tp_cbor_item_t b;
    int rc = tp_cbor_expect(r, TP_CBOR_BSTR, &b, "protected header");
    if (rc != 0)
        return rc;
    if (b.u > PD_PROTECTED_MAX)
        return tp_cbor_fail(r, TEEP_E_LIMIT, b.offset,
                            "protected header of %llu bytes, at most %d",
                            (unsigned long long)b.u, PD_PROTECTED_MAX);
    *prot = (teep_slice_t){b.ptr, (size_t)b.u};
    if (b.u > 0) {
        /* A reader over the bstr's content, on the same buffer so that
         * offsets stay absolute. */
        tp_cbor_reader_t sub;
        tp_cbor_reader_init(&sub, r->buf, b.end, r->diag);
        sub.pos = b.end - (size_t)b.u;
        rc = parse_header_map(&sub, true, depth, h);
        if (rc == 0)
            rc = tp_cbor_finish(&sub);
        if (rc != 0)
            return rc;
    }
    return parse_header_map(r, false, depth, h);
}

/* One COSE_recipient [protected, unprotected, wrapped CEK] with ECDH-ES,
 * checked against the content algorithm. */
static int parse_recipient(tp_cbor_reader_t *r, const pd_content_alg_t *c,
                           teep_pd_recipient_t *out)
{
    tp_cbor_item_t arr;
    int rc = tp_cbor_expect(r, TP_CBOR_ARRAY, &arr, "COSE_recipient");
    if (rc != 0)
        return rc;
    if (arr.u != 3)
        return tp_cbor_fail(r, TEEP_E_COSE, arr.offset,
                            "COSE_recipient of %llu elements, ECDH-ES has 3",
                            (unsigned long long)arr.u);
    out->offset = arr.offset;
    layer_headers_t h = {0};
    rc = parse_headers(r, 5, &out->protected_hdr, &h);
    if (rc != 0)
        return rc;
    if (!h.has_alg)
        return tp_cbor_fail(r, TEEP_E_MISSING, arr.offset,
                            "recipient without alg");
    if (!h.alg_protected)
        return tp_cbor_fail(r, TEEP_E_COSE, h.alg_offset,
                            "recipient alg in the unprotected header");
    if (!pd__key_alg_supported(h.alg))
        return tp_cbor_fail(r, TEEP_E_ALG, h.alg_offset,
                            "recipient alg %lld: only ECDH-ES + A128KW "
                            "(-29) and ECDH-ES + HKDF-256 (-25)",
                            (long long)h.alg);
    if (h.alg == TEEP_PD_ALG_ECDH_ES_HKDF_256 && c->tag_len == 0)
        return tp_cbor_fail(r, TEEP_E_ALG, h.alg_offset,
                            "ECDH-ES direct with A128CTR: nothing would "
                            "detect a wrong key");
    if (!h.has_ephemeral)
        return tp_cbor_fail(r, TEEP_E_MISSING, arr.offset,
                            "recipient without an ephemeral key (-1)");
    tp_cbor_item_t w;
    rc = tp_cbor_expect(r, TP_CBOR_BSTR, &w, "recipient ciphertext");
    if (rc != 0)
        return rc;
    size_t want = h.alg == TEEP_PD_ALG_ECDH_ES_A128KW ? c->key_len + 8 : 0;
    if (w.u != want)
        return tp_cbor_fail(r, TEEP_E_RANGE, w.offset,
                            "wrapped CEK of %llu bytes, %s with %s has %zu",
                            (unsigned long long)w.u, teep_pd_alg_name(h.alg),
                            c->name, want);
    out->key_alg = h.alg;
    out->kid = h.kid;
    out->ephemeral_type = h.ephemeral_type;
    memcpy(out->ephemeral_x, h.ephemeral_x, 32);
    memcpy(out->ephemeral_y, h.ephemeral_y, 32);
    out->wrapped_cek = (teep_slice_t){w.ptr, (size_t)w.u};
    return 0;
}

static int parse_recipients(tp_cbor_reader_t *r, const pd_content_alg_t *c,
                            teep_pd_info_t *out)
{
    tp_cbor_item_t arr;
    int rc = tp_cbor_expect(r, TP_CBOR_ARRAY, &arr, "recipients");
    if (rc != 0)
        return rc;
    if (arr.u == 0)
        return tp_cbor_fail(r, TEEP_E_COSE, arr.offset,
                            "COSE_Encrypt without recipients");
    if (arr.u > TEEP_PD_MAX_RECIPIENTS)
        return tp_cbor_fail(r, TEEP_E_LIMIT, arr.offset,
                            "%llu recipients, at most %d",
                            (unsigned long long)arr.u, TEEP_PD_MAX_RECIPIENTS);
    for (size_t i = 0; i < arr.u; i++) {
        teep_pd_recipient_t *rec = &out->recipients[i];
        rc = parse_recipient(r, c, rec);
        if (rc != 0)
            return rc;
        out->n_recipients = i + 1;
        /* RFC 9052 8.5.4: direct key agreement has a single recipient. */
        if (rec->key_alg == TEEP_PD_ALG_ECDH_ES_HKDF_256 && arr.u > 1)
            return tp_cbor_fail(r, TEEP_E_COSE, rec->offset,
                                "direct key agreement with %llu recipients",
                                (unsigned long long)arr.u);
    }
    return 0;
}

/* The outer layer's headers: the content algorithm, where it must be,
 * and its IV. */
static int check_content_headers(tp_cbor_reader_t *r, size_t at,
                                 teep_slice_t prot, const layer_headers_t *h,
                                 const pd_content_alg_t **c)
{
    if (!h->has_alg)
        return tp_cbor_fail(r, TEEP_E_MISSING, at, "no content alg");
    *c = pd__content_alg(h->alg);
    if (*c == NULL)
        return tp_cbor_fail(r, TEEP_E_ALG, h->alg_offset,
                            "content alg %lld: only A128GCM (1), A128CTR "
                            "(-65534) and ChaCha20/Poly1305 (24)",
                            (long long)h->alg);
    /* An AEAD must authenticate its alg; AES-CTR authenticates nothing,
     * so a protected header would only pretend to (RFC 9459). */
    if ((*c)->tag_len > 0 && !h->alg_protected)
        return tp_cbor_fail(r, TEEP_E_COSE, h->alg_offset,
                            "%s alg in the unprotected header", (*c)->name);
    if ((*c)->tag_len == 0 && prot.len > 1)
        return tp_cbor_fail(r, TEEP_E_COSE, at,
                            "A128CTR with a protected header");
    if (!h->has_iv)
        return tp_cbor_fail(r, TEEP_E_MISSING, at, "no IV (5)");
    if (h->iv.len != (*c)->iv_len)
        return tp_cbor_fail(r, TEEP_E_RANGE, h->iv_offset,
                            "IV of %zu bytes, %s takes %zu", h->iv.len,
                            (*c)->name, (*c)->iv_len);
    return 0;
}

int pd__info_parse(const uint8_t *buf, size_t start, size_t end,
                   teep_pd_info_t *out, teep_diag_t *diag)
{
    memset(out, 0, sizeof(*out));
    tp_cbor_reader_t r;
    tp_cbor_reader_init(&r, buf, end, diag);
    r.pos = start;
    tp_cbor_item_t it;
    int rc = tp_cbor_next(&r, &it);
    if (rc != 0)
        return rc;
    if (it.kind != TP_CBOR_TAG || it.u != TEEP_PD_TAG_COSE_ENCRYPT)
        return tp_cbor_fail(&r, TEEP_E_COSE, it.offset,
                            "SUIT_Encryption_Info must be a COSE_Encrypt "
                            "with tag 96");
    tp_cbor_item_t arr;
    rc = tp_cbor_expect(&r, TP_CBOR_ARRAY, &arr, "COSE_Encrypt");
    if (rc != 0)
        return rc;
    if (arr.u != 4)
        return tp_cbor_fail(&r, TEEP_E_COSE, arr.offset,
                            "COSE_Encrypt of %llu elements, it has 4",
                            (unsigned long long)arr.u);
    layer_headers_t h = {0};
    rc = parse_headers(&r, 3, &out->protected_hdr, &h);
    const pd_content_alg_t *c = NULL;
    if (rc == 0)
        rc = check_content_headers(&r, arr.offset, out->protected_hdr, &h, &c);
    if (rc != 0)
        return rc;
    out->content_alg = h.alg;
    out->iv = h.iv;
    rc = tp_cbor_next(&r, &it);
    if (rc != 0)
        return rc;
    /* An empty attached ciphertext is not nil: point it at the input. */
    if (it.kind == TP_CBOR_BSTR)
        out->ciphertext = (teep_slice_t){it.ptr != NULL ? it.ptr : buf + it.end,
                                         (size_t)it.u};
    else if (it.kind != TP_CBOR_NULL)
        return tp_cbor_fail(&r, TEEP_E_TYPE, it.offset,
                            "ciphertext: expected bstr or nil, got %s",
                            tp_cbor_kind_name(it.kind));
    rc = parse_recipients(&r, c, out);
    return rc != 0 ? rc : tp_cbor_finish(&r);
}

/*
 * Decode a SUIT_Encryption_Info that is the whole of buf[0..len) (see
 * teep/pd.h for what is checked).  Slices in *out point into buf.
 * Returns 0 or a TEEP_E_* code recorded in diag (may be NULL).
 */
int teep_pd_info_parse(const uint8_t *buf, size_t len, teep_pd_info_t *out,
                       teep_diag_t *diag)
{
    if (buf == NULL || out == NULL)
        return -EINVAL;
    return pd__info_parse(buf, 0, len, out, diag);
}

/*
 * Split the PD blob [bstr .cbor SUIT_Encryption_Info, bstr] that is the
 * whole of buf[0..len).  The slices point into buf.  Returns 0,
 * TEEP_E_TYPE (not an array of two byte strings), TEEP_E_RANGE (another
 * number of elements) or a CBOR error, recorded in diag (may be NULL).
 */
int teep_pd_blob_parse(const uint8_t *buf, size_t len, teep_slice_t *info,
                       teep_slice_t *ciphertext, teep_diag_t *diag)
{
    if (buf == NULL || info == NULL || ciphertext == NULL)
        return -EINVAL;
    tp_cbor_reader_t r;
    tp_cbor_reader_init(&r, buf, len, diag);
    tp_cbor_item_t arr, i, c;
    int rc = tp_cbor_expect(&r, TP_CBOR_ARRAY, &arr, "PD blob");
    if (rc == 0 && arr.u != 2)
        rc = tp_cbor_fail(&r, TEEP_E_RANGE, arr.offset,
                          "PD blob of %llu elements, it has 2 "
                          "[encryption-info, ciphertext]",
                          (unsigned long long)arr.u);
    if (rc == 0)
        rc = tp_cbor_expect(&r, TP_CBOR_BSTR, &i, "encryption-info");
    if (rc == 0)
        rc = tp_cbor_expect(&r, TP_CBOR_BSTR, &c, "ciphertext");
    if (rc == 0)
        rc = tp_cbor_finish(&r);
    if (rc != 0)
        return rc;
    /* Never NULL, also when empty: NULL means "none" to the decrypter. */
    *info = (teep_slice_t){i.ptr != NULL ? i.ptr : buf + i.end, (size_t)i.u};
    *ciphertext =
        (teep_slice_t){c.ptr != NULL ? c.ptr : buf + c.end, (size_t)c.u};
    return 0;
}
