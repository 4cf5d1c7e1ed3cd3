/*
 * message_decode.c: teep_message_decode(), the strict and bounded decoder
 * of the five TEEP messages (digest 1.1-1.13).
 *
 * Nesting levels: the message array is level 1, the options map and the
 * positional elements level 2, an option's value level 3, the entries of
 * a list option level 4.  Items kept as encoded CBOR (unknown options,
 * tc-list entries, component identifiers) are skipped with the depth left
 * at their level, so the whole message never nests deeper than
 * TEEP_MAX_DEPTH, the bound teep_peek() applies too.
 *
 * Lists live in the caller's arena: list options are carved from its
 * bottom, unknown options (whose number is known only after the whole map)
 * are stacked at its top and moved down behind the lists once the map is
 * read.
 */
#include <errno.h>
#include <string.h>

#include "cbor_reader.h"
#include "teep/message.h"

#define LEVEL_OPTION     3
#define LEVEL_LIST_ENTRY 4
#define ARENA_ALIGN      8

#define TEXT_MSG_MAX  128
#define TEXT_LANG_MAX 35

typedef struct decoder {
    tp_cbor_reader_t r;
    teep_profile_t profile;
    teep_message_t *m;
    uint8_t *base; /* arena memory; NULL when there is none */
    size_t lo;     /* first free byte above the lists */
    size_t hi;     /* first byte of the unknown options stacked on top */
    size_t top;    /* end of the usable arena */
    size_t n_unknown;
} decoder_t;

/* Decodes one list element whose head has been read into *slice. */
typedef int (*slice_item_fn)(decoder_t *d, const tp_cbor_item_t *head,
                             const char *what, teep_slice_t *slice);

static unsigned depth_left(unsigned level)
{
    return TEEP_MAX_DEPTH + 1 - level;
}

static size_t align_up(const decoder_t *d, size_t off)
{
    uintptr_t at = (uintptr_t)d->base + off;
    return off + ((ARENA_ALIGN - at % ARENA_ALIGN) % ARENA_ALIGN);
}

static size_t align_down(const decoder_t *d, size_t off)
{
    size_t excess = ((uintptr_t)d->base + off) % ARENA_ALIGN;
    return excess <= off ? off - excess : 0;
}

/* Carve count elements of size bytes from the bottom of the arena.  The
 * count comes from the input, so it is checked against the room left
 * before anything is written. */
static int arena_take(decoder_t *d, size_t count, size_t size, const char *what,
                      size_t offset, void **items)
{
    size_t start = d->base != NULL ? align_up(d, d->lo) : 0;
    size_t room = start <= d->hi ? (d->hi - start) / size : 0;
    if (count > room)
        return tp_cbor_fail(&d->r, TEEP_E_LIMIT, offset,
                            "%s: %zu items, the arena has room for %zu", what,
                            count, room);
    if (count == 0)
        return 0;
    *items = d->base + start;
    d->lo = start + count * size;
    return 0;
}

/* Stack one unknown option at the top of the arena. */
static int arena_push_unknown(decoder_t *d, uint64_t label, size_t start,
                              size_t end, size_t key_offset)
{
    size_t size = sizeof(teep_unknown_option_t);
    size_t lo = d->base != NULL ? align_up(d, d->lo) : 0;
    if (d->hi < lo || d->hi - lo < size)
        return tp_cbor_fail(&d->r, TEEP_E_LIMIT, key_offset,
                            "option %llu: no room left in the arena for "
                            "unknown options",
                            (unsigned long long)label);
    d->hi -= size;
    teep_unknown_option_t *u = (teep_unknown_option_t *)(d->base + d->hi);
    u->label = label;
    u->value = (teep_slice_t){d->r.buf + start, end - start};
    d->n_unknown++;
    return 0;
}

/* Read an array head that must hold 1 or more elements ("[+ ...]") and
 * carve room for them. */
static int read_list_head(decoder_t *d, const char *what, size_t size,
                          void **items, size_t *count)
{
    tp_cbor_item_t it;
    int rc = tp_cbor_expect(&d->r, TP_CBOR_ARRAY, &it, what);
    if (rc != 0)
        return rc;
    if (it.u == 0)
        return tp_cbor_fail(&d->r, TEEP_E_RANGE, it.offset,
                            "%s: empty list, needs at least one entry", what);
    *count = (size_t)it.u;
    return arena_take(d, *count, size, what, it.offset, items);
}

/* A byte string (TP_CBOR_BSTR) or text (TP_CBOR_TSTR) of min..max bytes,
 * as a slice of the input. */
static int read_string(decoder_t *d, tp_cbor_kind_t kind, const char *what,
                       size_t min, size_t max, teep_slice_t *out)
{
    tp_cbor_item_t it;
    int rc = tp_cbor_expect(&d->r, kind, &it, what);
    if (rc != 0)
        return rc;
    if (it.u < min || it.u > max)
        return tp_cbor_fail(&d->r, TEEP_E_RANGE, it.offset,
                            "%s: %s%llu bytes, must be %zu..%zu", what,
                            kind == TP_CBOR_TSTR ? "text of " : "",
                            (unsigned long long)it.u, min, max);
    *out = (teep_slice_t){it.ptr, (size_t)it.u};
    return 0;
}

/* err-code, positional (Error) or option (Update): any code but the
 * reserved 0, translated to the rfc numbering.  Unassigned codes pass:
 * the draft says to treat them as unknown errors, not to drop the
 * message. */
static int read_err_code(decoder_t *d, uint64_t *out)
{
    size_t at = d->r.pos;
    uint64_t wire;
    int rc = tp_cbor_read_uint(&d->r, UINT64_MAX, &wire, "err-code");
    if (rc != 0)
        return rc;
    if (wire == 0)
        return tp_cbor_fail(&d->r, TEEP_E_RANGE, at, "err-code: 0 is reserved");
    *out = teep_profile_err_from_wire(d->profile, wire);
    return 0;
}

/* "[+ uint]" with each value <= max, stored as uint32_t or uint64_t
 * (versions, ext-list, supported-freshness-mechanisms). */
static int read_uint_list(decoder_t *d, const char *what, uint64_t max,
                          size_t width, void **items, size_t *count)
{
    int rc = read_list_head(d, what, width, items, count);
    for (size_t i = 0; rc == 0 && i < *count; i++) {
        uint64_t v;
        rc = tp_cbor_read_uint(&d->r, max, &v, what);
        if (rc == 0 && width == sizeof(uint32_t))
            ((uint32_t *)*items)[i] = (uint32_t)v;
        else if (rc == 0)
            ((uint64_t *)*items)[i] = v;
    }
    return rc;
}

/* "[+ X]" where each X is read by read_item into its slot of size bytes
 * (cipher suites, SUIT COSE profiles, requested-tc-info). */
typedef int (*list_item_fn)(decoder_t *d, const char *what, void *slot);

static int read_list(decoder_t *d, const char *what, size_t size,
                     list_item_fn read_item, void **items, size_t *count)
{
    int rc = read_list_head(d, what, size, items, count);
    for (size_t i = 0; rc == 0 && i < *count; i++)
        rc = read_item(d, what, (uint8_t *)*items + i * size);
    return rc;
}

/* "[+ X]" where each X is kept as a slice: the contents of a bstr, or an
 * encoded item checked by item. */
static int read_slice_list(decoder_t *d, const char *what, slice_item_fn item,
                           teep_slice_t **items, size_t *count)
{
    void *mem = NULL;
    int rc = read_list_head(d, what, sizeof(teep_slice_t), &mem, count);
    *items = mem;
    for (size_t i = 0; rc == 0 && i < *count; i++) {
        tp_cbor_item_t head;
        rc = tp_cbor_next(&d->r, &head);
        if (rc == 0)
            rc = item(d, &head, what, &(*items)[i]);
    }
    return rc;
}

/* manifest-list and suit-reports entries: "bstr .cbor ...".  The bytes
 * are the SUIT processor's to parse; here they are only a bstr. */
static int item_bstr(decoder_t *d, const tp_cbor_item_t *head, const char *what,
                     teep_slice_t *slice)
{
    if (head->kind != TP_CBOR_BSTR)
        return tp_cbor_fail(&d->r, TEEP_E_TYPE, head->offset,
                            "%s: entry must be a byte string, got %s", what,
                            tp_cbor_kind_name(head->kind));
    *slice = (teep_slice_t){head->ptr, (size_t)head->u};
    return 0;
}

/* tc-list entries: system-property-claims maps, kept encoded. */
static int item_map(decoder_t *d, const tp_cbor_item_t *head, const char *what,
                    teep_slice_t *slice)
{
    if (head->kind != TP_CBOR_MAP)
        return tp_cbor_fail(&d->r, TEEP_E_TYPE, head->offset,
                            "%s: entry must be a map, got %s", what,
                            tp_cbor_kind_name(head->kind));
    int rc = tp_cbor_skip_rest(&d->r, head, depth_left(LEVEL_LIST_ENTRY));
    if (rc == 0)
        *slice =
            (teep_slice_t){d->r.buf + head->offset, d->r.pos - head->offset};
    return rc;
}

/* SUIT_Component_Identifier = [+ bstr], kept encoded. */
static int component_id(decoder_t *d, const tp_cbor_item_t *head,
                        const char *what, teep_slice_t *slice)
{
    if (head->kind != TP_CBOR_ARRAY)
        return tp_cbor_fail(&d->r, TEEP_E_TYPE, head->offset,
                            "%s: component identifier must be an array of "
                            "byte strings, got %s",
                            what, tp_cbor_kind_name(head->kind));
    if (head->u == 0)
        return tp_cbor_fail(&d->r, TEEP_E_RANGE, head->offset,
                            "%s: empty component identifier", what);
    for (uint64_t i = 0; i < head->u; i++) {
        tp_cbor_item_t part;
        int rc = tp_cbor_expect(&d->r, TP_CBOR_BSTR, &part, what);
        if (rc != 0)
            return rc;
    }
    *slice = (teep_slice_t){d->r.buf + head->offset, d->r.pos - head->offset};
    return 0;
}

/* A cipher suite: [+ [cose-type, cose-alg]], up to TEEP_SUITE_MAX_OPS. */
static int read_cipher_suite(decoder_t *d, const char *what, void *slot)
{
    teep_cipher_suite_t *suite = slot;
    tp_cbor_item_t it;
    int rc = tp_cbor_expect(&d->r, TP_CBOR_ARRAY, &it, what);
    if (rc != 0)
        return rc;
    if (it.u == 0)
        return tp_cbor_fail(&d->r, TEEP_E_RANGE, it.offset,
                            "%s: cipher suite without operations", what);
    if (it.u > TEEP_SUITE_MAX_OPS)
        return tp_cbor_fail(&d->r, TEEP_E_LIMIT, it.offset,
                            "%s: cipher suite of %llu operations, at most %d",
                            what, (unsigned long long)it.u, TEEP_SUITE_MAX_OPS);
    suite->n_ops = (uint8_t)it.u;
    for (uint8_t i = 0; i < suite->n_ops; i++) {
        tp_cbor_item_t op;
        rc = tp_cbor_expect(&d->r, TP_CBOR_ARRAY, &op, what);
        if (rc == 0 && op.u != 2)
            rc = tp_cbor_fail(&d->r, TEEP_E_RANGE, op.offset,
                              "%s: operation of %llu elements, must be "
                              "[cose-type, cose-alg]",
                              what, (unsigned long long)op.u);
        if (rc == 0)
            rc = tp_cbor_read_int(&d->r, &suite->ops[i].cose_type, what);
        if (rc == 0)
            rc = tp_cbor_read_int(&d->r, &suite->ops[i].alg, what);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* A SUIT COSE profile: 4 algorithms, or 2 in drafts <= 15. */
static int read_suit_profile(decoder_t *d, const char *what, void *slot)
{
    teep_suit_profile_t *p = slot;
    tp_cbor_item_t it;
    int rc = tp_cbor_expect(&d->r, TP_CBOR_ARRAY, &it, what);
    if (rc != 0)
        return rc;
    if (it.u != 2 && it.u != 4)
        return tp_cbor_fail(&d->r, TEEP_E_RANGE, it.offset,
                            "%s: profile of %llu algorithms, must be 4 (or "
                            "2, drafts <= 15)",
                            what, (unsigned long long)it.u);
    p->n = (uint8_t)it.u;
    for (uint8_t i = 0; rc == 0 && i < p->n; i++)
        rc = tp_cbor_read_int(&d->r, &p->alg[i], what);
    return rc;
}

/* The inner label of requested-tc-info, or -1 if it is none. */
static int tc_info_label(teep_profile_t profile, uint64_t wire)
{
    for (int l = TEEP_TCI_COMPONENT_ID; l <= TEEP_TCI_HAVE_BINARY; l++)
        if (teep_profile_tc_info_label(profile, (teep_tc_info_label_t)l) ==
            wire)
            return l;
    return -1;
}

static int read_tc_info_value(decoder_t *d, int label, teep_requested_tc_t *tc)
{
    static const char what[] = "requested-tc-list";
    tp_cbor_item_t it;
    int rc;
    switch (label) {
    case TEEP_TCI_COMPONENT_ID:
        rc = tp_cbor_next(&d->r, &it);
        return rc != 0 ? rc : component_id(d, &it, what, &tc->component_id);
    case TEEP_TCI_TC_MANIFEST_SEQUENCE_NUMBER:
        tc->has_sequence_number = true;
        return tp_cbor_read_uint(&d->r, UINT64_MAX, &tc->sequence_number,
                                 "requested-tc-list: "
                                 "tc-manifest-sequence-number");
    default:
        rc = tp_cbor_next(&d->r, &it);
        if (rc != 0)
            return rc;
        if (it.kind != TP_CBOR_TRUE && it.kind != TP_CBOR_FALSE)
            return tp_cbor_fail(&d->r, TEEP_E_TYPE, it.offset,
                                "%s: have-binary must be a bool, got %s", what,
                                tp_cbor_kind_name(it.kind));
        tc->has_have_binary = true;
        tc->have_binary = it.kind == TP_CBOR_TRUE;
        return 0;
    }
}

/* requested-tc-info = {component-id, ? tc-manifest-sequence-number,
 * ? have-binary}.  The map has no extension point, so any other key is
 * refused rather than silently dropped. */
static int read_requested_tc(decoder_t *d, const char *what, void *slot)
{
    teep_requested_tc_t *tc = slot;
    tp_cbor_item_t map;
    int rc = tp_cbor_expect(&d->r, TP_CBOR_MAP, &map, what);
    unsigned seen = 0;
    *tc = (teep_requested_tc_t){0};
    for (uint64_t i = 0; rc == 0 && i < map.u; i++) {
        tp_cbor_item_t key;
        rc =
            tp_cbor_expect(&d->r, TP_CBOR_UINT, &key, "requested-tc-list: key");
        int label = rc == 0 ? tc_info_label(d->profile, key.u) : 0;
        if (rc == 0 && label < 0)
            rc = tp_cbor_fail(&d->r, TEEP_E_RANGE, key.offset,
                              "%s: unknown key %llu in requested-tc-info", what,
                              (unsigned long long)key.u);
        else if (rc == 0 && (seen & 1u << label) != 0)
            rc = tp_cbor_fail(&d->r, TEEP_E_DUPLICATE, key.offset,
                              "%s: key %llu appears twice", what,
                              (unsigned long long)key.u);
        if (rc == 0) {
            seen |= 1u << label;
            rc = read_tc_info_value(d, label, tc);
        }
    }
    if (rc == 0 && (seen & 1u << TEEP_TCI_COMPONENT_ID) == 0)
        rc = tp_cbor_fail(&d->r, TEEP_E_MISSING, map.offset,
                          "%s: requested-tc-info without component-id", what);
    if (rc == 0 && tc->have_binary && !tc->has_sequence_number)
        rc = tp_cbor_fail(&d->r, TEEP_E_MISSING, map.offset,
                          "%s: have-binary true needs "
                          "tc-manifest-sequence-number",
                          what);
    return rc;
}

static int read_list_option(decoder_t *d, teep_option_t o)
{
    teep_message_t *m = d->m;
    const char *what = teep_option_name(o);
    void *mem = NULL;
    int rc;
    switch (o) {
    case TEEP_OPT_VERSIONS:
        rc = read_uint_list(d, what, UINT32_MAX, sizeof(uint32_t), &mem,
                            &m->versions.count);
        m->versions.items = mem;
        return rc;
    case TEEP_OPT_EXT_LIST:
        rc = read_uint_list(d, what, UINT32_MAX, sizeof(uint32_t), &mem,
                            &m->ext_list.count);
        m->ext_list.items = mem;
        return rc;
    case TEEP_OPT_SUPPORTED_FRESHNESS_MECHANISMS:
        rc = read_uint_list(d, what, UINT64_MAX, sizeof(uint64_t), &mem,
                            &m->freshness_mechanisms.count);
        m->freshness_mechanisms.items = mem;
        return rc;
    case TEEP_OPT_SUIT_REPORTS:
        return read_slice_list(d, what, item_bstr, &m->suit_reports.items,
                               &m->suit_reports.count);
    case TEEP_OPT_MANIFEST_LIST:
        return read_slice_list(d, what, item_bstr, &m->manifest_list.items,
                               &m->manifest_list.count);
    case TEEP_OPT_TC_LIST:
        return read_slice_list(d, what, item_map, &m->tc_list.items,
                               &m->tc_list.count);
    case TEEP_OPT_UNNEEDED_MANIFEST_LIST:
        return read_slice_list(d, what, component_id,
                               &m->unneeded_manifest_list.items,
                               &m->unneeded_manifest_list.count);
    case TEEP_OPT_REQUESTED_TC_LIST:
        rc = read_list(d, what, sizeof(teep_requested_tc_t), read_requested_tc,
                       &mem, &m->requested_tc_list.count);
        m->requested_tc_list.items = mem;
        return rc;
    case TEEP_OPT_SUPPORTED_TEEP_CIPHER_SUITES:
        rc = read_list(d, what, sizeof(teep_cipher_suite_t), read_cipher_suite,
                       &mem, &m->cipher_suites.count);
        m->cipher_suites.items = mem;
        return rc;
    case TEEP_OPT_SUPPORTED_SUIT_COSE_PROFILES:
    default:
        rc = read_list(d, what, sizeof(teep_suit_profile_t), read_suit_profile,
                       &mem, &m->suit_profiles.count);
        m->suit_profiles.items = mem;
        return rc;
    }
}

/* The value of a known option the CDDL allows in this message type. */
static int read_option(decoder_t *d, teep_option_t o)
{
    teep_message_t *m = d->m;
    const char *what = teep_option_name(o);
    uint64_t v;
    int rc;
    switch (o) {
    case TEEP_OPT_TOKEN:
        return read_string(d, TP_CBOR_BSTR, what, TEEP_TOKEN_MIN,
                           TEEP_TOKEN_MAX, &m->token);
    case TEEP_OPT_CHALLENGE:
        return read_string(d, TP_CBOR_BSTR, what, TEEP_CHALLENGE_MIN,
                           TEEP_CHALLENGE_MAX, &m->challenge);
    case TEEP_OPT_ATTESTATION_PAYLOAD:
        return read_string(d, TP_CBOR_BSTR, what, 0, SIZE_MAX,
                           &m->attestation_payload);
    case TEEP_OPT_ATTESTATION_PAYLOAD_FORMAT:
        return read_string(d, TP_CBOR_TSTR, what, 0, SIZE_MAX,
                           &m->attestation_payload_format);
    case TEEP_OPT_MSG:
        return read_string(d, TP_CBOR_TSTR, what, 1, TEXT_MSG_MAX, &m->msg);
    case TEEP_OPT_ERR_MSG:
        return read_string(d, TP_CBOR_TSTR, what, 1, TEXT_MSG_MAX, &m->err_msg);
    case TEEP_OPT_ERR_LANG:
        return read_string(d, TP_CBOR_TSTR, what, 1, TEXT_LANG_MAX,
                           &m->err_lang);
    case TEEP_OPT_ERR_CODE: return read_err_code(d, &m->err_code);
    case TEEP_OPT_SELECTED_VERSION:
        rc = tp_cbor_read_uint(&d->r, UINT32_MAX, &v, what);
        m->selected_version = (uint32_t)v;
        return rc;
    default: return read_list_option(d, o);
    }
}

/* The option a wire label names in this profile, or TEEP_OPT_COUNT. */
static teep_option_t option_of_label(teep_profile_t profile, uint64_t label)
{
    for (int o = 0; o < TEEP_OPT_COUNT; o++)
        if (teep_profile_option_label(profile, (teep_option_t)o) == label)
            return (teep_option_t)o;
    return TEEP_OPT_COUNT;
}

/* One entry of the options map: a known option this type allows is
 * parsed strictly; anything else is kept encoded, after a well-formedness
 * and depth check. */
static int read_map_entry(decoder_t *d)
{
    tp_cbor_item_t key;
    int rc = tp_cbor_next(&d->r, &key);
    if (rc != 0)
        return rc;
    if (key.kind != TP_CBOR_UINT)
        return tp_cbor_fail(&d->r, TEEP_E_TYPE, key.offset,
                            "options: label must be an unsigned integer, "
                            "got %s",
                            tp_cbor_kind_name(key.kind));
    teep_option_t o = option_of_label(d->profile, key.u);
    if (o == TEEP_OPT_COUNT || !teep_option_allowed(d->m->type, o)) {
        size_t start, end;
        rc = tp_cbor_skip(&d->r, depth_left(LEVEL_OPTION), &start, &end);
        return rc != 0 ? rc
                       : arena_push_unknown(d, key.u, start, end, key.offset);
    }
    if ((d->m->present & TEEP_OPT_BIT(o)) != 0)
        return tp_cbor_fail(&d->r, TEEP_E_DUPLICATE, key.offset,
                            "%s: label %llu appears twice", teep_option_name(o),
                            (unsigned long long)key.u);
    d->m->present |= TEEP_OPT_BIT(o);
    return read_option(d, o);
}

static void sift_down(teep_unknown_option_t *a, size_t root, size_t n)
{
    for (size_t child; (child = 2 * root + 1) < n; root = child) {
        if (child + 1 < n && a[child + 1].label > a[child].label)
            child++;
        if (a[root].label >= a[child].label)
            return;
        teep_unknown_option_t t = a[root];
        a[root] = a[child];
        a[child] = t;
    }
}

/* Heapsort: O(n log n) whatever the input, no recursion, no memory. */
static void sort_unknown(teep_unknown_option_t *a, size_t n)
{
    for (size_t i = n / 2; i-- > 0;)
        sift_down(a, i, n);
    for (size_t end = n; end-- > 1;) {
        teep_unknown_option_t t = a[0];
        a[0] = a[end];
        a[end] = t;
        sift_down(a, 0, end);
    }
}

/* Move the unknown options from the top of the arena to the bottom, sort
 * them by label (the order encode writes them in) and find duplicates,
 * which sorting puts side by side. */
static int settle_unknown(decoder_t *d)
{
    teep_message_t *m = d->m;
    size_t n = d->n_unknown;
    if (n == 0)
        return 0;
    size_t start = align_up(d, d->lo);
    teep_unknown_option_t *a = (teep_unknown_option_t *)(d->base + start);
    memmove(a, d->base + d->hi, n * sizeof(*a));
    d->lo = start + n * sizeof(*a);
    d->hi = d->top;
    sort_unknown(a, n);
    m->unknown_options.items = a;
    m->unknown_options.count = n;
    for (size_t i = 1; i < n; i++) {
        if (a[i].label != a[i - 1].label)
            continue;
        const uint8_t *later = a[i].value.ptr > a[i - 1].value.ptr
                                   ? a[i].value.ptr
                                   : a[i - 1].value.ptr;
        return tp_cbor_fail(&d->r, TEEP_E_DUPLICATE, (size_t)(later - d->r.buf),
                            "option label %llu appears twice",
                            (unsigned long long)a[i].label);
    }
    return 0;
}

static int read_options(decoder_t *d)
{
    tp_cbor_item_t map;
    int rc = tp_cbor_expect(&d->r, TP_CBOR_MAP, &map, "options");
    for (uint64_t i = 0; rc == 0 && i < map.u; i++)
        rc = read_map_entry(d);
    return rc != 0 ? rc : settle_unknown(d);
}

/* Elements of the message array each type has: type, options and its
 * positional elements. */
static uint64_t element_count(teep_msg_type_t t)
{
    return t == TEEP_QUERY_REQUEST ? 5 : t == TEEP_ERROR ? 3 : 2;
}

static int read_type(decoder_t *d)
{
    tp_cbor_item_t it;
    int rc = tp_cbor_expect(&d->r, TP_CBOR_UINT, &it, "message type");
    if (rc != 0)
        return rc;
    d->m->type = teep_profile_type_from_wire(d->profile, it.u);
    if (d->m->type == 0)
        return tp_cbor_fail(&d->r, TEEP_E_MSG_TYPE, it.offset,
                            "message type %llu is not defined in the %s "
                            "profile",
                            (unsigned long long)it.u,
                            teep_profile_name(d->profile));
    return 0;
}

/* The elements after type and options each type's CDDL lists. */
static const char *positional_names(teep_msg_type_t t)
{
    if (t == TEEP_QUERY_REQUEST)
        return ", supported-teep-cipher-suites, "
               "supported-suit-cose-profiles, data-item-requested";
    return t == TEEP_ERROR ? ", err-code" : "";
}

/* The array must hold exactly the elements the type's CDDL lists.
 * Checked after the options, where the positional elements start, so a
 * broken option is reported first, in input order. */
static int check_element_count(decoder_t *d, const tp_cbor_item_t *array)
{
    teep_msg_type_t t = d->m->type;
    uint64_t need = element_count(t);
    if (array->u < need)
        return tp_cbor_fail(&d->r, TEEP_E_MISSING, d->r.pos,
                            "%s: array of %llu elements, needs %llu (type, "
                            "options%s)",
                            teep_msg_type_name(t), (unsigned long long)array->u,
                            (unsigned long long)need, positional_names(t));
    if (array->u > need)
        return tp_cbor_fail(&d->r, TEEP_E_RANGE, array->offset,
                            "%s: array of %llu elements, its CDDL has "
                            "exactly %llu (type, options%s)",
                            teep_msg_type_name(t), (unsigned long long)array->u,
                            (unsigned long long)need, positional_names(t));
    return 0;
}

static int read_positional(decoder_t *d)
{
    teep_message_t *m = d->m;
    int rc = 0;
    if (m->type == TEEP_ERROR)
        return read_err_code(d, &m->err_code);
    if (m->type != TEEP_QUERY_REQUEST)
        return 0;
    /* Positional in a QueryRequest, read as the options of the same
     * name. */
    rc = read_list_option(d, TEEP_OPT_SUPPORTED_TEEP_CIPHER_SUITES);
    if (rc == 0)
        rc = read_list_option(d, TEEP_OPT_SUPPORTED_SUIT_COSE_PROFILES);
    if (rc == 0)
        rc = tp_cbor_read_uint(&d->r, UINT64_MAX, &m->data_item_requested,
                               "data-item-requested");
    return rc;
}

static int read_message(decoder_t *d)
{
    tp_cbor_item_t array;
    int rc = tp_cbor_expect(&d->r, TP_CBOR_ARRAY, &array, "message");
    if (rc != 0)
        return rc;
    if (array.u < 2)
        return tp_cbor_fail(&d->r, TEEP_E_MISSING, array.offset,
                            "message: %llu elements, needs type and options",
                            (unsigned long long)array.u);
    rc = read_type(d);
    if (rc == 0)
        rc = read_options(d);
    if (rc == 0)
        rc = check_element_count(d, &array);
    if (rc == 0)
        rc = read_positional(d);
    return rc != 0 ? rc : tp_cbor_finish(&d->r);
}

static void decoder_init(decoder_t *d, const uint8_t *buf, size_t len,
                         teep_profile_t profile, teep_arena_t *arena,
                         teep_message_t *out, teep_diag_t *diag)
{
    *d = (decoder_t){.profile = profile, .m = out};
    tp_cbor_reader_init(&d->r, buf, len, diag);
    if (arena != NULL && arena->base != NULL && arena->used <= arena->size) {
        d->base = arena->base;
        d->lo = arena->used;
        d->top = align_down(d, arena->size);
        if (d->top < d->lo)
            d->top = d->lo;
        d->hi = d->top;
    }
}

/* Contract in teep/message.h: strict, bounded, no heap; lists in arena. */
int teep_message_decode(const uint8_t *buf, size_t len, teep_profile_t profile,
                        teep_arena_t *arena, teep_message_t *out,
                        teep_diag_t *diag)
{
    if (out == NULL || (buf == NULL && len > 0) ||
        (profile != TEEP_PROFILE_RFC && profile != TEEP_PROFILE_LEGACY))
        return teep_diag_set(diag, -EINVAL, 0, "invalid argument");
    *out = (teep_message_t){0};
    decoder_t d;
    decoder_init(&d, buf, len, profile, arena, out, diag);
    int rc = read_message(&d);
    if (rc != 0) {
        *out = (teep_message_t){0};
        return rc;
    }
    if (d.base != NULL)
        arena->used = d.lo;
    return 0;
}
