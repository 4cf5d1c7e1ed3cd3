/* suit_params.c: the {+ SUIT_Parameters} map, decoded and encoded. */
#include <string.h>

#include "suit_internal.h"

/* How each parameter is carried; the table drives decode and encode. */
typedef enum param_kind {
    PK_BSTR,    /* bstr */
    PK_VENDOR,  /* bstr or #6.112(bstr) */
    PK_DIGEST,  /* bstr .cbor SUIT_Digest */
    PK_WRAPPED, /* bstr .cbor any (encryption info) */
    PK_TSTR,
    PK_UINT,
    PK_BOOL,
} param_kind_t;

typedef struct param_desc {
    teep_suit_param_t key;
    param_kind_t kind;
    size_t field; /* offset of the slice / uint64_t / bool */
} param_desc_t;

#define F(m) offsetof(teep_suit_params_t, m)
/* Ascending key order: encoding walks it as is (canonical CBOR). */
static const param_desc_t params[] = {
    {TEEP_SUIT_PARAM_VENDOR_ID, PK_VENDOR, F(vendor_id)},
    {TEEP_SUIT_PARAM_CLASS_ID, PK_BSTR, F(class_id)},
    {TEEP_SUIT_PARAM_IMAGE_DIGEST, PK_DIGEST, F(image_digest)},
    {TEEP_SUIT_PARAM_COMPONENT_SLOT, PK_UINT, F(component_slot)},
    {TEEP_SUIT_PARAM_STRICT_ORDER, PK_BOOL, F(strict_order)},
    {TEEP_SUIT_PARAM_SOFT_FAILURE, PK_BOOL, F(soft_failure)},
    {TEEP_SUIT_PARAM_IMAGE_SIZE, PK_UINT, F(image_size)},
    {TEEP_SUIT_PARAM_CONTENT, PK_BSTR, F(content)},
    {TEEP_SUIT_PARAM_ENCRYPTION_INFO, PK_WRAPPED, F(encryption_info)},
    {TEEP_SUIT_PARAM_URI, PK_TSTR, F(uri)},
    {TEEP_SUIT_PARAM_SOURCE_COMPONENT, PK_UINT, F(source_component)},
    {TEEP_SUIT_PARAM_INVOKE_ARGS, PK_BSTR, F(invoke_args)},
    {TEEP_SUIT_PARAM_DEVICE_ID, PK_BSTR, F(device_id)},
    {TEEP_SUIT_PARAM_FETCH_ARGS, PK_BSTR, F(fetch_args)},
};
#undef F

#define N_PARAMS     (sizeof(params) / sizeof(params[0]))
#define CBOR_TAG_PEN 112

static const param_desc_t *find_param(int64_t key)
{
    for (size_t i = 0; i < N_PARAMS; i++)
        if ((int64_t)params[i].key == key)
            return &params[i];
    return NULL;
}

static int read_value(tp_cbor_reader_t *r, const param_desc_t *d,
                      teep_suit_params_t *out)
{
    void *field = (uint8_t *)out + d->field;
    tp_cbor_item_t it;
    int rc = tp_cbor_next(r, &it);
    if (rc != 0)
        return rc;
    tp_cbor_kind_t want = d->kind == PK_TSTR   ? TP_CBOR_TSTR
                          : d->kind == PK_UINT ? TP_CBOR_UINT
                                               : TP_CBOR_BSTR;
    if (d->kind == PK_VENDOR && it.kind == TP_CBOR_TAG &&
        it.u == CBOR_TAG_PEN) {
        out->vendor_id_pen = true;
        rc = tp_cbor_next(r, &it);
        if (rc != 0)
            return rc;
    }
    if (d->kind == PK_BOOL) {
        if (it.kind != TP_CBOR_TRUE && it.kind != TP_CBOR_FALSE)
            return tp_cbor_fail(r, TEEP_E_TYPE, it.offset,
                                "parameter %d: expected a bool, got %s",
                                (int)d->key, tp_cbor_kind_name(it.kind));
        *(bool *)field = it.kind == TP_CBOR_TRUE;
        return 0;
    }
    if (it.kind != want)
        return tp_cbor_fail(
            r, TEEP_E_TYPE, it.offset, "parameter %d: expected %s, got %s",
            (int)d->key, tp_cbor_kind_name(want), tp_cbor_kind_name(it.kind));
    if (d->kind == PK_UINT) {
        *(uint64_t *)field = it.u;
        return 0;
    }
    *(teep_slice_t *)field = (teep_slice_t){it.ptr, (size_t)it.u};
    if (d->kind == PK_DIGEST) {
        teep_suit_digest_t digest;
        return tp_suit_parse_wrapped(r, &it, tp_suit_parse_digest, &digest);
    }
    if (d->kind == PK_WRAPPED)
        return tp_suit_parse_wrapped(r, &it, tp_suit_parse_any, NULL);
    return 0;
}

int teep_suit_params_decode(teep_slice_t map, teep_suit_params_t *out,
                            teep_diag_t *diag)
{
    tp_cbor_reader_t r;
    tp_cbor_item_t m;
    *out = (teep_suit_params_t){0};
    tp_cbor_reader_init(&r, map.ptr, map.len, diag);
    int rc = tp_cbor_expect(&r, TP_CBOR_MAP, &m, "parameters");
    for (uint64_t i = 0; rc == 0 && i < m.u; i++) {
        size_t at = r.pos;
        int64_t key;
        rc = tp_cbor_read_int(&r, &key, "parameter key");
        if (rc != 0)
            break;
        const param_desc_t *d = find_param(key);
        if (d == NULL && key < 0) {
            /* Custom parameters belong to custom commands, which this
             * processor does not run: nothing consumes them. */
            rc = tp_cbor_skip(&r, TEEP_MAX_DEPTH, NULL, NULL);
            continue;
        }
        if (d == NULL)
            return tp_cbor_fail(&r, TEEP_E_SUIT_UNSUPPORTED, at,
                                "parameter %lld is not supported",
                                (long long)key);
        if (out->present & TEEP_SUIT_PARAM_BIT(d->key))
            return tp_cbor_fail(&r, TEEP_E_DUPLICATE, at,
                                "parameter %lld given twice", (long long)key);
        out->present |= TEEP_SUIT_PARAM_BIT(d->key);
        rc = read_value(&r, d, out);
    }
    return rc != 0 ? rc : tp_cbor_finish(&r);
}

size_t tp_suit_params_count(const teep_suit_params_t *p)
{
    size_t n = 0;
    for (size_t i = 0; i < N_PARAMS; i++)
        n += (p->present & TEEP_SUIT_PARAM_BIT(params[i].key)) != 0;
    return n;
}

void tp_suit_params_encode_entries(tp_cbor_writer_t *w,
                                   const teep_suit_params_t *p)
{
    for (size_t i = 0; i < N_PARAMS; i++) {
        const param_desc_t *d = &params[i];
        if (!(p->present & TEEP_SUIT_PARAM_BIT(d->key)))
            continue;
        const void *field = (const uint8_t *)p + d->field;
        const teep_slice_t *s = field;
        tp_cw_uint(w, d->key);
        switch (d->kind) {
        case PK_UINT: tp_cw_uint(w, *(const uint64_t *)field); break;
        case PK_BOOL: tp_cw_bool(w, *(const bool *)field); break;
        case PK_TSTR: tp_cw_tstr(w, (const char *)s->ptr, s->len); break;
        case PK_VENDOR:
            if (p->vendor_id_pen)
                tp_cw_tag(w, CBOR_TAG_PEN);
            tp_cw_bstr(w, s->ptr, s->len);
            break;
        case PK_BSTR:
        case PK_DIGEST:
        case PK_WRAPPED: tp_cw_bstr(w, s->ptr, s->len); break;
        }
    }
}

void tp_suit_params_encode(tp_cbor_writer_t *w, const teep_suit_params_t *p)
{
    tp_cw_map(w, tp_suit_params_count(p));
    tp_suit_params_encode_entries(w, p);
}

static size_t field_size(param_kind_t kind)
{
    switch (kind) {
    case PK_UINT: return sizeof(uint64_t);
    case PK_BOOL: return sizeof(bool);
    default: return sizeof(teep_slice_t);
    }
}

void tp_suit_params_merge(teep_suit_params_t *dst,
                          const teep_suit_params_t *src, bool override,
                          uint32_t mask)
{
    for (size_t i = 0; i < N_PARAMS; i++) {
        const param_desc_t *d = &params[i];
        uint32_t bit = TEEP_SUIT_PARAM_BIT(d->key);
        if (!(src->present & mask & bit) || (!override && (dst->present & bit)))
            continue;
        memcpy((uint8_t *)dst + d->field, (const uint8_t *)src + d->field,
               field_size(d->kind));
        if (d->kind == PK_VENDOR)
            dst->vendor_id_pen = src->vendor_id_pen;
        dst->present |= bit;
    }
}
