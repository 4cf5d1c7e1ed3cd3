/* suit_cbor.c: the CBOR shapes every SUIT element is made of: bstr-wrapped
 * items, component identifiers, SUIT_Digest. */
#include <string.h>

#include "suit_internal.h"

int tp_suit_parse_wrapped(tp_cbor_reader_t *r, const tp_cbor_item_t *it,
                          tp_suit_parse_fn fn, void *out)
{
    tp_cbor_reader_t inner;
    tp_cbor_reader_init(&inner, it->ptr, (size_t)it->u, r->diag);
    int rc = fn(&inner, out);
    if (rc == 0)
        rc = tp_cbor_finish(&inner);
    /* The inner reader counts from the start of the bstr content. */
    if (rc != 0 && r->diag != NULL)
        r->diag->offset += (size_t)(it->ptr - r->buf);
    return rc;
}

int tp_suit_read_wrapped(tp_cbor_reader_t *r, const char *what,
                         tp_suit_parse_fn fn, void *out, teep_slice_t *wrapped,
                         teep_slice_t *content)
{
    tp_cbor_item_t it;
    int rc = tp_cbor_expect(r, TP_CBOR_BSTR, &it, what);
    if (rc != 0)
        return rc;
    if (wrapped != NULL)
        *wrapped = (teep_slice_t){r->buf + it.offset, it.end - it.offset};
    if (content != NULL)
        *content = (teep_slice_t){it.ptr, (size_t)it.u};
    return tp_suit_parse_wrapped(r, &it, fn, out);
}

int tp_suit_read_component_id(tp_cbor_reader_t *r, teep_slice_t *encoded)
{
    tp_cbor_item_t arr;
    int rc = tp_cbor_expect(r, TP_CBOR_ARRAY, &arr, "component identifier");
    if (rc != 0)
        return rc;
    if (arr.u > TEEP_SUIT_MAX_COMPONENTS)
        return tp_cbor_fail(r, TEEP_E_LIMIT, arr.offset,
                            "component identifier of %llu segments",
                            (unsigned long long)arr.u);
    for (uint64_t i = 0; i < arr.u; i++) {
        tp_cbor_item_t seg;
        rc = tp_cbor_expect(r, TP_CBOR_BSTR, &seg,
                            "component identifier segment");
        if (rc != 0)
            return rc;
    }
    *encoded = (teep_slice_t){r->buf + arr.offset, r->pos - arr.offset};
    return 0;
}

int tp_suit_parse_digest(tp_cbor_reader_t *r, void *out)
{
    teep_suit_digest_t *d = out;
    tp_cbor_item_t arr, bytes;
    int rc = tp_cbor_expect(r, TP_CBOR_ARRAY, &arr, "SUIT_Digest");
    if (rc != 0)
        return rc;
    if (arr.u < 2)
        return tp_cbor_fail(r, TEEP_E_MISSING, arr.offset,
                            "SUIT_Digest needs [alg, bytes]");
    rc = tp_cbor_read_int(r, &d->alg, "digest algorithm");
    if (rc == 0)
        rc = tp_cbor_expect(r, TP_CBOR_BSTR, &bytes, "digest bytes");
    if (rc != 0)
        return rc;
    d->bytes = (teep_slice_t){bytes.ptr, (size_t)bytes.u};
    /* $$SUIT_Digest-extensions: well-formed, not interpreted. */
    for (uint64_t i = 2; i < arr.u; i++) {
        rc = tp_cbor_skip(r, TEEP_MAX_DEPTH, NULL, NULL);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int tp_suit_parse_any(tp_cbor_reader_t *r, void *out)
{
    (void)out;
    return tp_cbor_skip(r, TEEP_MAX_DEPTH, NULL, NULL);
}

int teep_suit_digest_decode(teep_slice_t encoded, teep_suit_digest_t *out,
                            teep_diag_t *diag)
{
    tp_cbor_reader_t r;
    tp_cbor_reader_init(&r, encoded.ptr, encoded.len, diag);
    int rc = tp_suit_parse_digest(&r, out);
    return rc != 0 ? rc : tp_cbor_finish(&r);
}

bool tp_suit_slice_eq(teep_slice_t a, teep_slice_t b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

bool tp_suit_slice_eq_ct(teep_slice_t a, teep_slice_t b)
{
    if (a.len != b.len)
        return false;
    uint8_t residual = 0;
    for (size_t i = 0; i < a.len; i++)
        residual |= a.ptr[i] ^ b.ptr[i];
    return residual == 0;
}

int tp_suit_digest_check(const teep_suit_digest_t *digest, const uint8_t *data,
                         size_t len)
{
    uint8_t h[32];
    if (digest->alg != TEEP_SUIT_ALG_SHA256)
        return TEEP_E_ALG;
    int rc = teep_sha256(data, len, h);
    if (rc != 0)
        return rc;
    /* Digests are public; constant time costs nothing here anyway. */
    return tp_suit_slice_eq_ct(digest->bytes, (teep_slice_t){h, sizeof(h)})
               ? 0
               : TEEP_E_SUIT_DIGEST;
}

void tp_suit_digest_encode(tp_cbor_writer_t *w, int64_t alg,
                           const uint8_t *bytes, size_t len)
{
    tp_cw_array(w, 2);
    tp_cw_int(w, alg);
    tp_cw_bstr(w, bytes, len);
}
