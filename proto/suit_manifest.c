/* suit_manifest.c: SUIT_Manifest and SUIT_Common decoding. */
#include <string.h>

#include "suit_internal.h"

int tp_suit_member_index(int64_t key, bool *severable)
{
    *severable = key == TEEP_SUIT_DEPENDENCY_RESOLUTION ||
                 key == TEEP_SUIT_PAYLOAD_FETCH ||
                 key == TEEP_SUIT_CANDIDATE_VERIFICATION ||
                 key == TEEP_SUIT_INSTALL || key == TEEP_SUIT_TEXT;
    if (key == TEEP_SUIT_TEXT)
        return TEEP_SUIT_SEQ_COUNT;
    for (int s = 0; s < TEEP_SUIT_SEQ_COUNT; s++)
        if (teep_suit_sequence_key((teep_suit_seq_t)s) == key)
            return s;
    *severable = false;
    return -1;
}

/* A member: bstr-wrapped CBOR in place, or (severable) the SUIT_Digest of
 * the bstr the envelope carries. */
static int read_member(tp_cbor_reader_t *r, bool severable,
                       teep_suit_member_t *m)
{
    size_t at = r->pos;
    tp_cbor_item_t it;
    int rc = tp_cbor_next(r, &it);
    if (rc != 0)
        return rc;
    m->present = true;
    if (it.kind == TP_CBOR_ARRAY && severable) {
        r->pos = at;
        m->severed = true;
        return tp_suit_parse_digest(r, &m->digest);
    }
    if (it.kind != TP_CBOR_BSTR)
        return tp_cbor_fail(r, TEEP_E_TYPE, it.offset,
                            "manifest member: expected bstr%s, got %s",
                            severable ? " or SUIT_Digest" : "",
                            tp_cbor_kind_name(it.kind));
    m->wrapped = (teep_slice_t){r->buf + it.offset, it.end - it.offset};
    m->value = (teep_slice_t){it.ptr, (size_t)it.u};
    return tp_suit_parse_wrapped(r, &it, tp_suit_parse_any, NULL);
}

static int read_dependencies(tp_cbor_reader_t *r, teep_suit_manifest_t *m)
{
    tp_cbor_item_t map;
    int rc = tp_cbor_expect(r, TP_CBOR_MAP, &map, "dependencies");
    if (rc != 0)
        return rc;
    if (map.u > TEEP_SUIT_MAX_DEPENDENCIES)
        return tp_cbor_fail(
            r, TEEP_E_LIMIT, map.offset, "%llu dependencies, at most %d",
            (unsigned long long)map.u, TEEP_SUIT_MAX_DEPENDENCIES);
    for (uint64_t i = 0; i < map.u; i++) {
        size_t at = r->pos;
        uint64_t index;
        rc = tp_cbor_read_uint(r, TEEP_SUIT_MAX_INDEX - 1, &index,
                               "dependency component index");
        if (rc != 0)
            return rc == TEEP_E_RANGE ? tp_cbor_fail(r, TEEP_E_LIMIT, at,
                                                     "dependency index "
                                                     "beyond %d",
                                                     TEEP_SUIT_MAX_INDEX - 1)
                                      : rc;
        for (size_t j = 0; j < m->n_dependencies; j++)
            if (m->dependencies[j].index == index)
                return tp_cbor_fail(r, TEEP_E_DUPLICATE, at,
                                    "dependency %llu given twice",
                                    (unsigned long long)index);
        teep_suit_dependency_t *d = &m->dependencies[m->n_dependencies++];
        *d = (teep_suit_dependency_t){.index = (uint32_t)index};
        tp_cbor_item_t meta;
        rc = tp_cbor_expect(r, TP_CBOR_MAP, &meta, "dependency metadata");
        for (uint64_t k = 0; rc == 0 && k < meta.u; k++) {
            int64_t key;
            at = r->pos;
            rc = tp_cbor_read_int(r, &key, "dependency metadata key");
            if (rc == 0 && key == TEEP_SUIT_DEPENDENCY_PREFIX) {
                if (d->prefix.ptr != NULL)
                    return tp_cbor_fail(r, TEEP_E_DUPLICATE, at,
                                        "dependency prefix given twice");
                rc = tp_suit_read_component_id(r, &d->prefix);
            } else if (rc == 0) {
                /* $$SUIT_Dependency_Extensions: none is defined. */
                rc = tp_cbor_skip(r, TEEP_MAX_DEPTH, NULL, NULL);
            }
        }
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int read_components(tp_cbor_reader_t *r, teep_suit_manifest_t *m)
{
    tp_cbor_item_t arr;
    int rc = tp_cbor_expect(r, TP_CBOR_ARRAY, &arr, "components");
    if (rc != 0)
        return rc;
    if (arr.u == 0)
        return tp_cbor_fail(r, TEEP_E_MISSING, arr.offset,
                            "components: empty list");
    if (arr.u > TEEP_SUIT_MAX_COMPONENTS)
        return tp_cbor_fail(
            r, TEEP_E_LIMIT, arr.offset, "%llu components, at most %d",
            (unsigned long long)arr.u, TEEP_SUIT_MAX_COMPONENTS);
    for (uint64_t i = 0; i < arr.u; i++) {
        rc = tp_suit_read_component_id(r, &m->components[i]);
        if (rc != 0)
            return rc;
    }
    m->n_components = (size_t)arr.u;
    return 0;
}

/* SUIT_Common; out: the manifest. */
static int parse_common(tp_cbor_reader_t *r, void *out)
{
    teep_suit_manifest_t *m = out;
    tp_cbor_item_t map;
    uint32_t seen = 0;
    int rc = tp_cbor_expect(r, TP_CBOR_MAP, &map, "suit-common");
    for (uint64_t i = 0; rc == 0 && i < map.u; i++) {
        size_t at = r->pos;
        uint64_t key;
        rc = tp_cbor_read_uint(r, 31, &key, "suit-common key");
        if (rc != 0)
            return rc == TEEP_E_RANGE || rc == TEEP_E_TYPE
                       ? tp_cbor_fail(r, TEEP_E_SUIT_UNSUPPORTED, at,
                                      "suit-common element not supported")
                       : rc;
        if (seen & (1u << key))
            return tp_cbor_fail(r, TEEP_E_DUPLICATE, at,
                                "suit-common key %llu given twice",
                                (unsigned long long)key);
        seen |= 1u << key;
        switch (key) {
        case TEEP_SUIT_DEPENDENCIES: rc = read_dependencies(r, m); break;
        case TEEP_SUIT_COMPONENTS: rc = read_components(r, m); break;
        case TEEP_SUIT_SHARED_SEQUENCE:
            rc = tp_suit_read_wrapped(r, "shared sequence", tp_suit_parse_any,
                                      NULL, NULL, &m->shared_sequence);
            break;
        default:
            return tp_cbor_fail(r, TEEP_E_SUIT_UNSUPPORTED, at,
                                "suit-common element %llu not supported",
                                (unsigned long long)key);
        }
    }
    return rc;
}

/* SUIT_Manifest; out: teep_suit_manifest_t.  A tp_suit_parse_fn so the
 * envelope reads it through the bstr-wrapped helper. */
int tp_suit_parse_manifest(tp_cbor_reader_t *r, void *out)
{
    teep_suit_manifest_t *m = out;
    tp_cbor_item_t map;
    uint64_t seen = 0;
    memset(m, 0, sizeof(*m));
    int rc = tp_cbor_expect(r, TP_CBOR_MAP, &map, "SUIT_Manifest");
    if (rc != 0)
        return rc;
    m->raw = (teep_slice_t){r->buf + map.offset, r->len - map.offset};
    for (uint64_t i = 0; i < map.u; i++) {
        size_t at = r->pos;
        int64_t key;
        rc = tp_cbor_read_int(r, &key, "manifest key");
        if (rc != 0)
            return rc;
        if (key <= 0 || key > 63)
            return tp_cbor_fail(r, TEEP_E_SUIT_UNSUPPORTED, at,
                                "manifest element %lld not supported",
                                (long long)key);
        if (seen & (1ull << key))
            return tp_cbor_fail(r, TEEP_E_DUPLICATE, at,
                                "manifest key %lld given twice",
                                (long long)key);
        seen |= 1ull << key;
        bool severable;
        int member = tp_suit_member_index(key, &severable);
        tp_cbor_item_t it;
        if (member >= 0) {
            rc =
                read_member(r, severable,
                            member < TEEP_SUIT_SEQ_COUNT ? &m->sequences[member]
                                                         : &m->text);
        } else if (key == TEEP_SUIT_MANIFEST_VERSION) {
            rc = tp_cbor_read_uint(r, UINT64_MAX, &m->version,
                                   "manifest version");
            if (rc == 0 && m->version != 1)
                return tp_cbor_fail(r, TEEP_E_VERSION, at + 1,
                                    "manifest version %llu, only 1 exists",
                                    (unsigned long long)m->version);
        } else if (key == TEEP_SUIT_MANIFEST_SEQUENCE_NUMBER) {
            rc = tp_cbor_read_uint(r, UINT64_MAX, &m->sequence_number,
                                   "sequence number");
        } else if (key == TEEP_SUIT_COMMON) {
            rc = tp_suit_read_wrapped(r, "suit-common", parse_common, m, NULL,
                                      &m->common);
        } else if (key == TEEP_SUIT_REFERENCE_URI) {
            rc = tp_cbor_expect(r, TP_CBOR_TSTR, &it, "reference URI");
            m->reference_uri = (teep_slice_t){it.ptr, (size_t)it.u};
        } else if (key == TEEP_SUIT_MANIFEST_COMPONENT_ID) {
            rc = tp_suit_read_component_id(r, &m->component_id);
        } else {
            return tp_cbor_fail(r, TEEP_E_SUIT_UNSUPPORTED, at,
                                "manifest element %lld not supported",
                                (long long)key);
        }
        if (rc != 0)
            return rc;
    }
    m->raw.len = r->pos - (size_t)(m->raw.ptr - r->buf);
    static const int64_t required[] = {TEEP_SUIT_MANIFEST_VERSION,
                                       TEEP_SUIT_MANIFEST_SEQUENCE_NUMBER,
                                       TEEP_SUIT_COMMON};
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
        if (!(seen & (1ull << required[i])))
            return tp_cbor_fail(r, TEEP_E_MISSING, map.offset,
                                "manifest without element %lld",
                                (long long)required[i]);
    return 0;
}

int teep_suit_manifest_decode(const uint8_t *buf, size_t len,
                              teep_suit_manifest_t *m, teep_diag_t *diag)
{
    tp_cbor_reader_t r;
    tp_cbor_reader_init(&r, buf, len, diag);
    int rc = tp_suit_parse_manifest(&r, m);
    return rc != 0 ? rc : tp_cbor_finish(&r);
}
