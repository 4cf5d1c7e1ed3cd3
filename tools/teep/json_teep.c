/* json_teep.c: see json_teep.h. */
#include "json_teep.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbor_json.h"
#include "io.h"
#include "names.h"

/* ---- how one value converts ----------------------------------------- */

/* Context of a JSON -> message conversion: where we are, for messages,
 * and who owns the memory the message will point to. */
typedef struct from_ctx {
    teep_profile_t profile;
    json_teep_owned_t *owned;
    char *err;
    size_t err_cap;
    const char *where; /* "options.token", "err-code" ... */
} from_ctx_t;

static int fail(from_ctx_t *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int fail(from_ctx_t *c, const char *fmt, ...)
{
    int n = snprintf(c->err, c->err_cap, "%s: ", c->where);
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < c->err_cap)
        vsnprintf(c->err + n, c->err_cap - (size_t)n, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

/* calloc'd memory that lives as long as owned. */
static void *owned_alloc(json_teep_owned_t *owned, size_t size)
{
    if (owned->count == owned->cap) {
        size_t cap = owned->cap == 0 ? 16 : owned->cap * 2;
        void **grown = realloc(owned->blocks, cap * sizeof(*grown));
        if (grown == NULL)
            return NULL;
        owned->blocks = grown;
        owned->cap = cap;
    }
    void *p = calloc(1, size > 0 ? size : 1);
    if (p != NULL)
        owned->blocks[owned->count++] = p;
    return p;
}

void json_teep_owned_free(json_teep_owned_t *owned)
{
    for (size_t i = 0; i < owned->count; i++)
        free(owned->blocks[i]);
    free(owned->blocks);
    *owned = (json_teep_owned_t){0};
}

/*
 * One kind of value: its C size, both conversions, and an optional
 * readable annotation (a name, or a list of names) that goes next to it
 * under "<name>_name(s)".  A list field applies the same ops per element.
 */
typedef struct value_ops {
    size_t size;
    json_t *(*to_json)(const void *value, teep_profile_t profile);
    int (*from_json)(const json_t *j, void *value, from_ctx_t *c);
    json_t *(*annotate)(const void *value);
} value_ops_t;

/* Integers, checked against the C type's range. */
static int integer_from_json(const json_t *j, json_int_t min, json_int_t max,
                             json_int_t *v, from_ctx_t *c)
{
    *v = 0;
    if (!json_is_integer(j) || json_integer_value(j) < min ||
        json_integer_value(j) > max)
        return fail(c, "expected an integer from %lld to %lld", (long long)min,
                    (long long)max);
    *v = json_integer_value(j);
    return 0;
}

static json_t *u32_to_json(const void *v, teep_profile_t p)
{
    return json_integer(*(const uint32_t *)v);
}

static int u32_from_json(const json_t *j, void *v, from_ctx_t *c)
{
    json_int_t i;
    int rc = integer_from_json(j, 0, UINT32_MAX, &i, c);
    if (rc == 0)
        *(uint32_t *)v = (uint32_t)i;
    return rc;
}

static json_t *u64_to_json(const void *v, teep_profile_t p)
{
    uint64_t u = *(const uint64_t *)v;
    return u <= INT64_MAX ? json_integer((json_int_t)u) : NULL;
}

static int u64_from_json(const json_t *j, void *v, from_ctx_t *c)
{
    json_int_t i;
    int rc = integer_from_json(j, 0, INT64_MAX, &i, c);
    if (rc == 0)
        *(uint64_t *)v = (uint64_t)i;
    return rc;
}

/* err-code: the model holds the rfc number, JSON the wire number. */
static json_t *err_code_to_json(const void *v, teep_profile_t p)
{
    uint64_t wire = teep_profile_err_to_wire(p, *(const uint64_t *)v);
    return u64_to_json(&wire, p);
}

static int err_code_from_json(const json_t *j, void *v, from_ctx_t *c)
{
    uint64_t wire;
    int rc = u64_from_json(j, &wire, c);
    if (rc == 0)
        *(uint64_t *)v = teep_profile_err_from_wire(c->profile, wire);
    return rc;
}

static json_t *err_code_annotate(const void *v)
{
    const char *name = teep_err_code_name(*(const uint64_t *)v);
    return name != NULL ? json_string(name) : NULL;
}

static json_t *data_items_annotate(const void *v)
{
    uint64_t bits = *(const uint64_t *)v;
    json_t *names = json_array();
    for (unsigned bit = 0; names != NULL && bit < 64; bit++) {
        const char *name = cli_data_item_name(bit);
        if ((bits >> bit & 1) != 0 && name != NULL)
            json_array_append_new(names, json_string(name));
    }
    return names;
}

static json_t *bstr_to_json(const void *v, teep_profile_t p)
{
    const teep_slice_t *s = v;
    char *hex = cli_hex(s->ptr, s->len);
    json_t *j = hex != NULL ? json_string(hex) : NULL;
    free(hex);
    return j;
}

static int bstr_from_json(const json_t *j, void *v, from_ctx_t *c)
{
    teep_slice_t *s = v;
    size_t digits = json_string_length(j);
    if (!json_is_string(j) || digits % 2 != 0)
        return fail(c, "expected a hex string of even length");
    uint8_t *bytes = owned_alloc(c->owned, digits / 2);
    if (bytes == NULL)
        return -ENOMEM;
    if (cli_unhex(json_string_value(j), digits, bytes) != 0)
        return fail(c, "expected a hex string, got '%s'", json_string_value(j));
    *s = (teep_slice_t){bytes, digits / 2};
    return 0;
}

static json_t *text_to_json(const void *v, teep_profile_t p)
{
    const teep_slice_t *s = v;
    return json_stringn((const char *)s->ptr, s->len);
}

static int text_from_json(const json_t *j, void *v, from_ctx_t *c)
{
    teep_slice_t *s = v;
    if (!json_is_string(j))
        return fail(c, "expected a string");
    size_t len = json_string_length(j);
    uint8_t *text = owned_alloc(c->owned, len);
    if (text == NULL)
        return -ENOMEM;
    memcpy(text, json_string_value(j), len);
    *s = (teep_slice_t){text, len};
    return 0;
}

/* An encoded CBOR item the message does not interpret: a cbor_json view. */
static json_t *cbor_to_json(const void *v, teep_profile_t p)
{
    const teep_slice_t *s = v;
    return cbor_json_view(s->ptr, s->len);
}

static int cbor_from_json(const json_t *j, void *v, from_ctx_t *c)
{
    teep_slice_t *s = v;
    uint8_t *bytes;
    size_t len;
    int rc = cbor_json_encode(j, &bytes, &len);
    if (rc == -EINVAL)
        return fail(c, "not a CBOR view (see docs/cli.md)");
    if (rc != 0)
        return rc;
    uint8_t *copy = owned_alloc(c->owned, len);
    if (copy != NULL)
        memcpy(copy, bytes, len);
    free(bytes);
    if (copy == NULL)
        return -ENOMEM;
    *s = (teep_slice_t){copy, len};
    return 0;
}

/* An array of up to max integers. */
static int int_array_from_json(const json_t *j, size_t max, int64_t *out,
                               size_t *n, from_ctx_t *c)
{
    size_t i;
    const json_t *e;
    if (!json_is_array(j) || json_array_size(j) == 0 ||
        json_array_size(j) > max)
        return fail(c, "expected an array of 1 to %zu integers", max);
    json_array_foreach(j, i, e)
    {
        if (!json_is_integer(e))
            return fail(c, "expected integers, element %zu is not", i);
        out[i] = json_integer_value(e);
    }
    *n = json_array_size(j);
    return 0;
}

static json_t *int_array_to_json(const int64_t *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && i < n; i++)
        json_array_append_new(a, json_integer(v[i]));
    return a;
}

/* A cipher suite: [[cose-type, alg], ...]. */
static json_t *suite_to_json(const void *v, teep_profile_t p)
{
    const teep_cipher_suite_t *suite = v;
    json_t *ops = json_array();
    for (size_t i = 0; ops != NULL && i < suite->n_ops; i++) {
        int64_t op[2] = {suite->ops[i].cose_type, suite->ops[i].alg};
        json_array_append_new(ops, int_array_to_json(op, 2));
    }
    return ops;
}

static int suite_from_json(const json_t *j, void *v, from_ctx_t *c)
{
    teep_cipher_suite_t *suite = v;
    size_t i;
    const json_t *op;
    if (!json_is_array(j) || json_array_size(j) == 0 ||
        json_array_size(j) > TEEP_SUITE_MAX_OPS)
        return fail(c, "expected a cipher suite: 1 to %d [cose-type, alg]",
                    TEEP_SUITE_MAX_OPS);
    json_array_foreach(j, i, op)
    {
        int64_t pair[2];
        size_t n = 0;
        int rc = int_array_from_json(op, 2, pair, &n, c);
        if (rc == 0 && n != 2)
            rc = fail(c, "an operation is [cose-type, alg]");
        if (rc != 0)
            return rc;
        suite->ops[i].cose_type = pair[0];
        suite->ops[i].alg = pair[1];
    }
    suite->n_ops = (uint8_t)json_array_size(j);
    return 0;
}

static json_t *suite_annotate(const void *v)
{
    char name[128];
    cli_suite_name(v, name, sizeof(name));
    return json_string(name);
}

/* A SUIT COSE profile: [digest, auth, key distribution, encryption]. */
static json_t *suit_profile_to_json(const void *v, teep_profile_t p)
{
    const teep_suit_profile_t *profile = v;
    return int_array_to_json(profile->alg, profile->n);
}

static int suit_profile_from_json(const json_t *j, void *v, from_ctx_t *c)
{
    teep_suit_profile_t *profile = v;
    size_t n = 0;
    int rc = int_array_from_json(j, 4, profile->alg, &n, c);
    profile->n = (uint8_t)n;
    return rc;
}

static json_t *suit_profile_annotate(const void *v)
{
    const char *name = cli_suit_profile_name(v);
    return name != NULL ? json_string(name) : json_null();
}

/* requested-tc-info: {component-id, ? tc-manifest-sequence-number,
 * ? have-binary}. */
#define TCI_COMPONENT_ID "component-id"
#define TCI_SEQUENCE     "tc-manifest-sequence-number"
#define TCI_HAVE_BINARY  "have-binary"

static json_t *requested_tc_to_json(const void *v, teep_profile_t p)
{
    const teep_requested_tc_t *tc = v;
    json_t *o = json_object();
    if (o == NULL)
        return NULL;
    int rc = json_object_set_new(o, TCI_COMPONENT_ID,
                                 cbor_to_json(&tc->component_id, p));
    if (tc->has_sequence_number)
        rc |= json_object_set_new(o, TCI_SEQUENCE,
                                  u64_to_json(&tc->sequence_number, p));
    if (tc->has_have_binary)
        rc |= json_object_set_new(o, TCI_HAVE_BINARY,
                                  json_boolean(tc->have_binary));
    if (rc != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static int requested_tc_from_json(const json_t *j, void *v, from_ctx_t *c)
{
    teep_requested_tc_t *tc = v;
    const json_t *id = json_object_get(j, TCI_COMPONENT_ID);
    const json_t *seq = json_object_get(j, TCI_SEQUENCE);
    const json_t *have = json_object_get(j, TCI_HAVE_BINARY);
    if (!json_is_object(j) || id == NULL)
        return fail(c, "expected {\"" TCI_COMPONENT_ID "\": ...}");
    int rc = cbor_from_json(id, &tc->component_id, c);
    if (rc == 0 && seq != NULL) {
        tc->has_sequence_number = true;
        rc = u64_from_json(seq, &tc->sequence_number, c);
    }
    if (rc == 0 && have != NULL) {
        if (!json_is_boolean(have))
            return fail(c, TCI_HAVE_BINARY " must be true or false");
        tc->has_have_binary = true;
        tc->have_binary = json_is_true(have);
    }
    return rc;
}

static const value_ops_t u32_ops = {sizeof(uint32_t), u32_to_json,
                                    u32_from_json, NULL};
static const value_ops_t u64_ops = {sizeof(uint64_t), u64_to_json,
                                    u64_from_json, NULL};
static const value_ops_t err_code_ops = {sizeof(uint64_t), err_code_to_json,
                                         err_code_from_json, err_code_annotate};
static const value_ops_t data_items_ops = {sizeof(uint64_t), u64_to_json,
                                           u64_from_json, data_items_annotate};
static const value_ops_t bstr_ops = {sizeof(teep_slice_t), bstr_to_json,
                                     bstr_from_json, NULL};
static const value_ops_t text_ops = {sizeof(teep_slice_t), text_to_json,
                                     text_from_json, NULL};
static const value_ops_t cbor_ops = {sizeof(teep_slice_t), cbor_to_json,
                                     cbor_from_json, NULL};
static const value_ops_t suite_ops = {sizeof(teep_cipher_suite_t),
                                      suite_to_json, suite_from_json,
                                      suite_annotate};
static const value_ops_t suit_profile_ops = {
    sizeof(teep_suit_profile_t), suit_profile_to_json, suit_profile_from_json,
    suit_profile_annotate};
static const value_ops_t requested_tc_ops = {sizeof(teep_requested_tc_t),
                                             requested_tc_to_json,
                                             requested_tc_from_json, NULL};

/* ---- the table: every element of a message -------------------------- */

/* Where an element lives in teep_message_t: a value, or a list's items
 * pointer and count. */
typedef struct field {
    const value_ops_t *ops;
    bool list;
    size_t off;
    size_t count_off;
} field_t;

/* clang-format off */
#define VALUE(o, member) {&o, false, offsetof(teep_message_t, member), 0}
#define LIST(o, member)                                                        \
    {&o, true, offsetof(teep_message_t, member.items),                         \
     offsetof(teep_message_t, member.count)}
/* clang-format on */

/* The options, indexed by teep_option_t, and one more element that is
 * never an option: QueryRequest's positional data-item-requested. */
#define ELEM_DATA_ITEM_REQUESTED TEEP_OPT_COUNT
#define N_ELEMS                  (TEEP_OPT_COUNT + 1)

static const field_t fields[N_ELEMS] = {
    [TEEP_OPT_SUPPORTED_TEEP_CIPHER_SUITES] = LIST(suite_ops, cipher_suites),
    [TEEP_OPT_CHALLENGE] = VALUE(bstr_ops, challenge),
    [TEEP_OPT_VERSIONS] = LIST(u32_ops, versions),
    [TEEP_OPT_SUPPORTED_SUIT_COSE_PROFILES] =
        LIST(suit_profile_ops, suit_profiles),
    [TEEP_OPT_SELECTED_VERSION] = VALUE(u32_ops, selected_version),
    [TEEP_OPT_ATTESTATION_PAYLOAD] = VALUE(bstr_ops, attestation_payload),
    [TEEP_OPT_TC_LIST] = LIST(cbor_ops, tc_list),
    [TEEP_OPT_EXT_LIST] = LIST(u32_ops, ext_list),
    [TEEP_OPT_MANIFEST_LIST] = LIST(bstr_ops, manifest_list),
    [TEEP_OPT_MSG] = VALUE(text_ops, msg),
    [TEEP_OPT_ERR_MSG] = VALUE(text_ops, err_msg),
    [TEEP_OPT_ATTESTATION_PAYLOAD_FORMAT] =
        VALUE(text_ops, attestation_payload_format),
    [TEEP_OPT_REQUESTED_TC_LIST] = LIST(requested_tc_ops, requested_tc_list),
    [TEEP_OPT_UNNEEDED_MANIFEST_LIST] = LIST(cbor_ops, unneeded_manifest_list),
    [TEEP_OPT_SUIT_REPORTS] = LIST(bstr_ops, suit_reports),
    [TEEP_OPT_TOKEN] = VALUE(bstr_ops, token),
    [TEEP_OPT_SUPPORTED_FRESHNESS_MECHANISMS] =
        LIST(u64_ops, freshness_mechanisms),
    [TEEP_OPT_ERR_LANG] = VALUE(text_ops, err_lang),
    [TEEP_OPT_ERR_CODE] = VALUE(err_code_ops, err_code),
    [ELEM_DATA_ITEM_REQUESTED] = VALUE(data_items_ops, data_item_requested),
};

static const char *elem_name(unsigned elem)
{
    return elem == ELEM_DATA_ITEM_REQUESTED
               ? "data-item-requested"
               : teep_option_name((teep_option_t)elem);
}

/* The elements after the options map (digest 1.1), in wire order. */
static const struct {
    teep_msg_type_t type;
    unsigned elem;
} positionals[] = {
    {TEEP_QUERY_REQUEST, TEEP_OPT_SUPPORTED_TEEP_CIPHER_SUITES},
    {TEEP_QUERY_REQUEST, TEEP_OPT_SUPPORTED_SUIT_COSE_PROFILES},
    {TEEP_QUERY_REQUEST, ELEM_DATA_ITEM_REQUESTED},
    {TEEP_ERROR, TEEP_OPT_ERR_CODE},
};

#define N_POSITIONALS (sizeof(positionals) / sizeof(positionals[0]))

static bool is_positional(teep_msg_type_t type, unsigned elem)
{
    for (size_t i = 0; i < N_POSITIONALS; i++)
        if (positionals[i].type == type && positionals[i].elem == elem)
            return true;
    return false;
}

/* A list's items pointer is a T * for a T that depends on the field;
 * memcpy moves it as bytes (every object pointer has one representation
 * on the platforms we build for) instead of reading it through a
 * differently typed lvalue. */
static void list_get(const teep_message_t *m, const field_t *f,
                     const uint8_t **items, size_t *count)
{
    memcpy(items, (const char *)m + f->off, sizeof(*items));
    memcpy(count, (const char *)m + f->count_off, sizeof(*count));
}

static void list_set(teep_message_t *m, const field_t *f, uint8_t *items,
                     size_t count)
{
    memcpy((char *)m + f->off, &items, sizeof(items));
    memcpy((char *)m + f->count_off, &count, sizeof(count));
}

/* ---- message -> JSON ------------------------------------------------ */

/* The element's value, and its annotation in *note (or NULL). */
static json_t *field_to_json(const teep_message_t *m, const field_t *f,
                             teep_profile_t profile, json_t **note)
{
    const value_ops_t *ops = f->ops;
    *note = NULL;
    if (!f->list) {
        const void *v = (const char *)m + f->off;
        if (ops->annotate != NULL)
            *note = ops->annotate(v);
        return ops->to_json(v, profile);
    }
    const uint8_t *items;
    size_t count;
    list_get(m, f, &items, &count);
    json_t *a = json_array();
    if (ops->annotate != NULL)
        *note = json_array();
    for (size_t i = 0; a != NULL && i < count; i++) {
        const void *item = items + i * ops->size;
        if (json_array_append_new(a, ops->to_json(item, profile)) != 0) {
            json_decref(a);
            a = NULL;
        } else if (*note != NULL) {
            json_array_append_new(*note, ops->annotate(item));
        }
    }
    return a;
}

/* parent[name] = value, and parent[name + "_name(s)"] = its annotation. */
static int put_elem(json_t *parent, unsigned elem, const teep_message_t *m,
                    teep_profile_t profile)
{
    const char *name = elem_name(elem);
    json_t *note;
    json_t *value = field_to_json(m, &fields[elem], profile, &note);
    int rc = json_object_set_new(parent, name, value);
    if (note != NULL) {
        char key[64];
        snprintf(key, sizeof(key), "%s_%s", name,
                 json_is_array(note) ? "names" : "name");
        rc |= json_object_set_new(parent, key, note);
    }
    return rc;
}

static json_t *unknown_to_json(const teep_message_t *m)
{
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && i < m->unknown_options.count; i++) {
        const teep_unknown_option_t *u = &m->unknown_options.items[i];
        json_t *o = json_object();
        json_object_set_new(o, "label", json_integer((json_int_t)u->label));
        json_object_set_new(o, "cbor", bstr_to_json(&u->value, 0));
        if (json_array_append_new(a, o) != 0 || json_object_size(o) != 2) {
            json_decref(a);
            a = NULL;
        }
    }
    return a;
}

static json_t *options_to_json(const teep_message_t *m, teep_profile_t profile)
{
    json_t *options = json_object();
    int rc = options == NULL;
    /* Wire order, as the encoder writes and cbor-diag shows: the token
     * first, then the rest by label (the enum's order in both profiles). */
    if (rc == 0 && (m->present & TEEP_OPT_BIT(TEEP_OPT_TOKEN)) != 0)
        rc = put_elem(options, TEEP_OPT_TOKEN, m, profile);
    for (unsigned o = 0; rc == 0 && o < TEEP_OPT_COUNT; o++)
        if ((m->present & TEEP_OPT_BIT(o)) != 0 && o != TEEP_OPT_TOKEN &&
            !is_positional(m->type, o))
            rc = put_elem(options, o, m, profile);
    if (rc == 0 && m->unknown_options.count > 0)
        rc = json_object_set_new(options, "unknown", unknown_to_json(m));
    if (rc != 0) {
        json_decref(options);
        return NULL;
    }
    return options;
}

json_t *json_teep_from_message(const teep_message_t *msg,
                               teep_profile_t profile)
{
    json_t *root = json_object();
    if (root == NULL)
        return NULL;
    int rc = json_object_set_new(root, "profile",
                                 json_string(teep_profile_name(profile)));
    rc |= json_object_set_new(root, "type",
                              json_string(teep_msg_type_name(msg->type)));
    rc |= json_object_set_new(root, "options", options_to_json(msg, profile));
    for (size_t i = 0; rc == 0 && i < N_POSITIONALS; i++)
        if (positionals[i].type == msg->type)
            rc = put_elem(root, positionals[i].elem, msg, profile);
    if (rc != 0) {
        json_decref(root);
        return NULL;
    }
    return root;
}

json_t *json_teep_from_cose(const teep_cose_t *cose)
{
    json_t *sigs = json_array();
    for (size_t i = 0; sigs != NULL && i < cose->n_signatures; i++) {
        const teep_cose_signature_t *s = &cose->signatures[i];
        const char *alg = cli_alg_name(s->alg);
        json_t *o = json_object();
        if (alg != NULL)
            json_object_set_new(o, "alg", json_string(alg));
        json_object_set_new(o, "alg_id", json_integer(s->alg));
        if (s->kid.len > 0)
            json_object_set_new(o, "kid", bstr_to_json(&s->kid, 0));
        json_array_append_new(sigs, o);
    }
    const char *structure = cli_cose_structure_name(cose->tag);
    return json_pack("{s:s?,s:o}", "structure", structure, "signatures", sigs);
}

/* ---- JSON -> message ------------------------------------------------ */

static int field_from_json(const json_t *j, teep_message_t *m, const field_t *f,
                           from_ctx_t *c)
{
    const value_ops_t *ops = f->ops;
    if (!f->list)
        return ops->from_json(j, (char *)m + f->off, c);
    if (!json_is_array(j))
        return fail(c, "expected an array");
    size_t count = json_array_size(j);
    uint8_t *items = owned_alloc(c->owned, count * ops->size);
    if (items == NULL)
        return -ENOMEM;
    const char *list_where = c->where;
    char where[96];
    c->where = where;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < count; i++) {
        snprintf(where, sizeof(where), "%s[%zu]", list_where, i);
        rc = ops->from_json(json_array_get(j, i), items + i * ops->size, c);
    }
    c->where = list_where;
    list_set(m, f, items, count);
    return rc;
}

static int find_option(const char *name, teep_option_t *o)
{
    for (unsigned i = 0; i < TEEP_OPT_COUNT; i++) {
        if (strcmp(teep_option_name((teep_option_t)i), name) == 0) {
            *o = (teep_option_t)i;
            return 0;
        }
    }
    return -ENOENT;
}

/* One entry of options.unknown: {"label": N, "cbor": "HEX"}. */
static int unknown_entry_from_json(const json_t *j, void *v, from_ctx_t *c)
{
    teep_unknown_option_t *u = v;
    json_int_t label;
    const json_t *cbor = json_object_get(j, "cbor");
    if (!json_is_object(j) || cbor == NULL)
        return fail(c, "expected {\"label\": N, \"cbor\": \"HEX\"}");
    int rc =
        integer_from_json(json_object_get(j, "label"), 0, INT64_MAX, &label, c);
    if (rc != 0)
        return rc;
    u->label = (uint64_t)label;
    /* {"cbor": HEX} is the raw form of a view: checked to be one item. */
    json_t *raw = json_pack("{sO}", "cbor", cbor);
    if (raw == NULL)
        return -ENOMEM;
    rc = cbor_from_json(raw, &u->value, c);
    json_decref(raw);
    return rc;
}

static int unknown_label_cmp(const void *a, const void *b)
{
    uint64_t la = ((const teep_unknown_option_t *)a)->label;
    uint64_t lb = ((const teep_unknown_option_t *)b)->label;
    return (la > lb) - (la < lb);
}

static const value_ops_t unknown_ops = {sizeof(teep_unknown_option_t), NULL,
                                        unknown_entry_from_json, NULL};
static const field_t unknown_field = LIST(unknown_ops, unknown_options);

static int options_from_json(const json_t *options, teep_message_t *m,
                             from_ctx_t *c)
{
    const char *key;
    const json_t *value;
    char where[96];
    if (!json_is_object(options)) {
        c->where = "options";
        return fail(c, "expected an object");
    }
    json_object_foreach((json_t *)options, key, value)
    {
        teep_option_t o;
        int rc = 0;
        snprintf(where, sizeof(where), "options.%s", key);
        c->where = where;
        if (strchr(key, '_') != NULL)
            continue; /* an annotation */
        if (strcmp(key, "unknown") == 0) {
            rc = field_from_json(value, m, &unknown_field, c);
            /* The encoder writes them as given and wants label order. */
            qsort(m->unknown_options.items, m->unknown_options.count,
                  sizeof(teep_unknown_option_t), unknown_label_cmp);
        } else if (find_option(key, &o) != 0)
            rc = fail(c, "no such option (other labels go in "
                         "\"unknown\": [{\"label\": N, \"cbor\": HEX}])");
        else if (is_positional(m->type, o))
            rc = fail(c, "is positional in %s, not an option",
                      teep_msg_type_name(m->type));
        else {
            rc = field_from_json(value, m, &fields[o], c);
            m->present |= TEEP_OPT_BIT(o);
        }
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int type_from_json(const json_t *j, teep_msg_type_t *type, from_ctx_t *c)
{
    c->where = "type";
    for (int t = TEEP_QUERY_REQUEST; json_is_string(j) && t <= TEEP_ERROR;
         t++) {
        if (strcmp(json_string_value(j), teep_msg_type_name(t)) == 0) {
            *type = (teep_msg_type_t)t;
            return 0;
        }
    }
    return fail(c, "expected QueryRequest, QueryResponse, Update, Success "
                   "or Error");
}

static int profile_from_json(const json_t *j, teep_profile_t *profile,
                             from_ctx_t *c)
{
    c->where = "profile";
    *profile = TEEP_PROFILE_RFC;
    if (j == NULL || teep_profile_parse(json_string_value(j), profile) == 0)
        return 0;
    return fail(c, "expected \"rfc\" or \"legacy\"");
}

/* Top-level members: the known ones, annotations, and "cose" (what
 * decode says about the signature, meaningless for an unsigned message). */
static int check_members(const json_t *root, teep_msg_type_t type,
                         from_ctx_t *c)
{
    static const char *const known[] = {"cose", "profile", "type", "options"};
    const char *key;
    const json_t *value;
    json_object_foreach((json_t *)root, key, value)
    {
        bool ok = strchr(key, '_') != NULL;
        for (size_t i = 0; !ok && i < sizeof(known) / sizeof(known[0]); i++)
            ok = strcmp(key, known[i]) == 0;
        for (size_t i = 0; !ok && i < N_POSITIONALS; i++)
            ok = positionals[i].type == type &&
                 strcmp(key, elem_name(positionals[i].elem)) == 0;
        if (!ok) {
            c->where = key;
            return fail(c, "not a member of a %s message",
                        teep_msg_type_name(type));
        }
    }
    return 0;
}

static int positionals_from_json(const json_t *root, teep_message_t *m,
                                 from_ctx_t *c)
{
    for (size_t i = 0; i < N_POSITIONALS; i++) {
        if (positionals[i].type != m->type)
            continue;
        const char *name = elem_name(positionals[i].elem);
        const json_t *j = json_object_get(root, name);
        if (j == NULL) {
            c->where = name;
            return fail(c, "missing: %s carries it after the options",
                        teep_msg_type_name(m->type));
        }
        c->where = name;
        int rc = field_from_json(j, m, &fields[positionals[i].elem], c);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int json_teep_to_message(const json_t *root, teep_message_t *msg,
                         teep_profile_t *profile, json_teep_owned_t *owned,
                         char *err, size_t err_cap)
{
    from_ctx_t c = {
        .owned = owned, .err = err, .err_cap = err_cap, .where = "(top level)"};
    memset(msg, 0, sizeof(*msg));
    if (!json_is_object(root))
        return fail(&c, "expected a JSON object as `teep decode` prints");
    const json_t *options = json_object_get(root, "options");
    int rc = profile_from_json(json_object_get(root, "profile"), profile, &c);
    c.profile = *profile;
    if (rc == 0)
        rc = type_from_json(json_object_get(root, "type"), &msg->type, &c);
    if (rc == 0)
        rc = check_members(root, msg->type, &c);
    if (rc == 0 && options != NULL)
        rc = options_from_json(options, msg, &c);
    if (rc == 0)
        rc = positionals_from_json(root, msg, &c);
    if (rc == -ENOMEM)
        snprintf(err, err_cap, "out of memory");
    return rc;
}
