/* cose_header.c: see cose_header.h. */
#include "cose_header.h"

#include <string.h>

/* A label as read, to find duplicates however they are encoded. */
typedef struct seen_label {
    tp_cbor_kind_t kind;
    uint64_t u;
    const uint8_t *ptr;
} seen_label_t;

static bool same_label(const seen_label_t *a, const tp_cbor_item_t *b)
{
    return a->kind == b->kind && a->u == b->u &&
           (a->kind != TP_CBOR_TSTR || memcmp(a->ptr, b->ptr, b->u) == 0);
}

int tp_cose_header_walk(tp_cbor_reader_t *r, bool is_protected, unsigned depth,
                        tp_cose_param_cb param, void *ctx)
{
    tp_cbor_item_t map;
    int rc = tp_cbor_expect(r, TP_CBOR_MAP, &map,
                            is_protected ? "protected header"
                                         : "unprotected header");
    if (rc != 0)
        return rc;
    if (map.u > TP_COSE_HEADER_MAX)
        return tp_cbor_fail(r, TEEP_E_LIMIT, map.offset,
                            "header map of %llu entries",
                            (unsigned long long)map.u);
    seen_label_t labels[TP_COSE_HEADER_MAX];
    for (uint64_t i = 0; i < map.u; i++) {
        tp_cbor_item_t l;
        rc = tp_cbor_next(r, &l);
        if (rc != 0)
            return rc;
        if (l.kind != TP_CBOR_UINT && l.kind != TP_CBOR_NEGINT &&
            l.kind != TP_CBOR_TSTR)
            return tp_cbor_fail(r, TEEP_E_TYPE, l.offset,
                                "header label: expected int or tstr, got %s",
                                tp_cbor_kind_name(l.kind));
        for (uint64_t j = 0; j < i; j++)
            if (same_label(&labels[j], &l))
                return tp_cbor_fail(r, TEEP_E_DUPLICATE, l.offset,
                                    "header label twice in a map");
        labels[i] = (seen_label_t){l.kind, l.u, l.ptr};

        int64_t label = 0;
        if (l.kind != TP_CBOR_TSTR && l.u <= INT64_MAX)
            label = l.kind == TP_CBOR_UINT ? (int64_t)l.u : -1 - (int64_t)l.u;
        rc = param(ctx, r, label, is_protected, l.offset);
        if (rc == TP_COSE_HEADER_UNKNOWN && is_protected)
            rc = tp_cbor_fail(r, TEEP_E_COSE, l.offset,
                              "protected header parameter not understood");
        else if (rc == TP_COSE_HEADER_UNKNOWN)
            rc = tp_cbor_skip(r, TEEP_MAX_DEPTH - depth, NULL, NULL);
        if (rc != 0)
            return rc;
    }
    return 0;
}
