/*
 * eat.c: the EAT claims codec of the TEEP profile (teep/eat.h): strict,
 * bounded, zero-copy decoding, deterministic encoding, and the COSE_Sign1
 * framing of a token.
 *
 * One table drives both directions: each modelled claim has its label, its
 * present bit, its name, the shape of its value and where it lives in
 * teep_eat_claims_t.  The table is in deterministic encoding order, so the
 * encoder walks it once.
 *
 * Nesting levels: the claims map is level 1, a claim's value level 2; the
 * deepest modelled value (manifests: array, entry array, bstr) stays at
 * level 3 and a bstr-wrapped SUIT_Reference is read by a reader of its own.
 * Unknown claims are skipped with the depth left below level 1.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "cbor_reader.h"
#include "cbor_writer.h"
#include "eat_internal.h"
#include "teep/eat.h"

/* CWT tag (RFC 8392) an EAT may carry around its COSE structure. */
#define CWT_TAG        61
#define COSE_SIGN1_TAG 18
/* cnf confirmation method "kid" (RFC 8747). */
#define CNF_KID 3
/* CoAP content-formats are 16-bit. */
#define CONTENT_FORMAT_MAX 65535

typedef enum claim_kind {
    KIND_BSTR,      /* teep_slice_t, min..max bytes */
    KIND_TEXT,      /* teep_slice_t, UTF-8, min..max bytes */
    KIND_INT,       /* int64_t */
    KIND_CNF,       /* {3: kid} */
    KIND_OEMID,     /* teep_eat_oemid_t */
    KIND_VERSION,   /* teep_eat_version_t */
    KIND_PROFILE,   /* URI text or OID bytes */
    KIND_MANIFESTS, /* [+ [content-type, bstr]] */
    KIND_STATUS,    /* AR4SI tier */
    KIND_REASONS,   /* [* reason code] */
    KIND_TA_KEYS,   /* [+ [component-id, key-sha256]] */
} claim_kind_t;

typedef struct claim_def {
    int64_t label;
    uint32_t bit;
    const char *name;
    claim_kind_t kind;
    size_t field; /* offset in teep_eat_claims_t */
    size_t min;   /* sizes of KIND_BSTR / KIND_TEXT */
    size_t max;
} claim_def_t;

#define FIELD(f) offsetof(teep_eat_claims_t, f)

static const claim_def_t claim_defs[] = {
    {TEEP_EAT_LABEL_ISS, TEEP_EAT_HAS_ISS, "iss", KIND_TEXT, FIELD(iss), 1,
     TEEP_EAT_TEXT_MAX},
    {TEEP_EAT_LABEL_IAT, TEEP_EAT_HAS_IAT, "iat", KIND_INT, FIELD(iat), 0, 0},
    {TEEP_EAT_LABEL_CNF, TEEP_EAT_HAS_CNF, "cnf", KIND_CNF, FIELD(cnf_kid), 1,
     TEEP_EAT_KID_MAX},
    {TEEP_EAT_LABEL_NONCE, TEEP_EAT_HAS_NONCE, "eat_nonce", KIND_BSTR,
     FIELD(nonce), TEEP_EAT_NONCE_MIN, TEEP_EAT_NONCE_MAX},
    {TEEP_EAT_LABEL_UEID, TEEP_EAT_HAS_UEID, "ueid", KIND_BSTR, FIELD(ueid),
     TEEP_EAT_UEID_MIN, TEEP_EAT_UEID_MAX},
    {TEEP_EAT_LABEL_OEMID, TEEP_EAT_HAS_OEMID, "oemid", KIND_OEMID,
     FIELD(oemid), 0, 0},
    {TEEP_EAT_LABEL_HWMODEL, TEEP_EAT_HAS_HWMODEL, "hwmodel", KIND_BSTR,
     FIELD(hwmodel), 1, TEEP_EAT_HWMODEL_MAX},
    {TEEP_EAT_LABEL_HWVERSION, TEEP_EAT_HAS_HWVERSION, "hwversion",
     KIND_VERSION, FIELD(hwversion), 1, TEEP_EAT_TEXT_MAX},
    {TEEP_EAT_LABEL_PROFILE, TEEP_EAT_HAS_PROFILE, "eat_profile", KIND_PROFILE,
     FIELD(profile), 1, TEEP_EAT_TEXT_MAX},
    {TEEP_EAT_LABEL_SWNAME, TEEP_EAT_HAS_SWNAME, "swname", KIND_TEXT,
     FIELD(swname), 1, TEEP_EAT_TEXT_MAX},
    {TEEP_EAT_LABEL_SWVERSION, TEEP_EAT_HAS_SWVERSION, "swversion",
     KIND_VERSION, FIELD(swversion), 1, TEEP_EAT_TEXT_MAX},
    {TEEP_EAT_LABEL_MANIFESTS, TEEP_EAT_HAS_MANIFESTS, "manifests",
     KIND_MANIFESTS, FIELD(manifests), 1, TEEP_EAT_MAX_MANIFESTS},
    {TEEP_EAT_LABEL_AR_STATUS, TEEP_EAT_HAS_AR_STATUS, "ar-status", KIND_STATUS,
     FIELD(ar_status), 0, 0},
    {TEEP_EAT_LABEL_AR_REASONS, TEEP_EAT_HAS_AR_REASONS, "ar-reasons",
     KIND_REASONS, FIELD(ar_reasons), 0, TEEP_EAT_MAX_REASONS},
    {TEEP_EAT_LABEL_PD_KEY, TEEP_EAT_HAS_PD_KEY, "pd-key", KIND_BSTR,
     FIELD(pd_key), 1, TEEP_EAT_PD_KEY_MAX},
    {TEEP_EAT_LABEL_TA_KEYS, TEEP_EAT_HAS_TA_KEYS, "ta-keys", KIND_TA_KEYS,
     FIELD(ta_keys), 1, TEEP_EAT_MAX_TA_KEYS},
};

#define N_CLAIM_DEFS (sizeof(claim_defs) / sizeof(claim_defs[0]))

static const claim_def_t *find_def(int64_t label)
{
    for (size_t i = 0; i < N_CLAIM_DEFS; i++)
        if (claim_defs[i].label == label)
            return &claim_defs[i];
    return NULL;
}

const char *teep_eat_claim_name(int64_t label)
{
    const claim_def_t *def = find_def(label);
    return def != NULL ? def->name : NULL;
}

const char *eat__claim_name_by_bit(uint32_t bit)
{
    for (size_t i = 0; i < N_CLAIM_DEFS; i++)
        if (claim_defs[i].bit == bit)
            return claim_defs[i].name;
    return "claim";
}

int eat__shift_diag(teep_diag_t *diag, int code, size_t base)
{
    if (diag != NULL && code != 0)
        diag->offset += base;
    return code;
}

static void *field_of(teep_eat_claims_t *c, const claim_def_t *def)
{
    return (uint8_t *)c + def->field;
}

static const void *cfield_of(const teep_eat_claims_t *c, const claim_def_t *def)
{
    return (const uint8_t *)c + def->field;
}

/* ---- Decoding ---------------------------------------------------------- */

/* RFC 3629 UTF-8: no overlong forms, no surrogates, nothing past U+10FFFF.
 * CBOR text must be valid UTF-8 (RFC 8949 section 3.1), and the claims end
 * up in JSON and logs. */
static bool utf8_valid(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = p[i];
        size_t more;
        uint32_t cp, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            more = 1, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            more = 2, cp = c & 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            more = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if (n - i <= more)
            return false;
        for (size_t k = 1; k <= more; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (p[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += more + 1;
    }
    return true;
}

/* Check the size of the string whose head was just read. */
static int check_size(tp_cbor_reader_t *r, const tp_cbor_item_t *it,
                      const char *what, size_t min, size_t max)
{
    if (it->u < min || it->u > max)
        return tp_cbor_fail(r, TEEP_E_RANGE, it->offset,
                            "%s: %llu bytes, must be %zu..%zu", what,
                            (unsigned long long)it->u, min, max);
    return 0;
}

static int check_text(tp_cbor_reader_t *r, const tp_cbor_item_t *it,
                      const char *what, size_t min, size_t max)
{
    int rc = check_size(r, it, what, min, max);
    if (rc == 0 && !utf8_valid(it->ptr, (size_t)it->u))
        rc = tp_cbor_fail(r, TEEP_E_CBOR, it->offset,
                          "%s: text is not valid UTF-8", what);
    return rc;
}

static int read_bstr(tp_cbor_reader_t *r, const char *what, size_t min,
                     size_t max, teep_slice_t *out)
{
    tp_cbor_item_t it;
    int rc = tp_cbor_expect(r, TP_CBOR_BSTR, &it, what);
    if (rc == 0)
        rc = check_size(r, &it, what, min, max);
    if (rc == 0)
        *out = (teep_slice_t){it.ptr, (size_t)it.u};
    return rc;
}

static int read_text(tp_cbor_reader_t *r, const char *what, size_t min,
                     size_t max, teep_slice_t *out)
{
    tp_cbor_item_t it;
    int rc = tp_cbor_expect(r, TP_CBOR_TSTR, &it, what);
    if (rc == 0)
        rc = check_text(r, &it, what, min, max);
    if (rc == 0)
        *out = (teep_slice_t){it.ptr, (size_t)it.u};
    return rc;
}

/* An array head with min..max elements; more than the build holds is
 * TEEP_E_LIMIT, fewer than the CDDL allows TEEP_E_RANGE. */
static int read_array(tp_cbor_reader_t *r, const char *what, uint64_t min,
                      uint64_t max, int over_code, size_t *count)
{
    tp_cbor_item_t it;
    int rc = tp_cbor_expect(r, TP_CBOR_ARRAY, &it, what);
    if (rc != 0)
        return rc;
    if (it.u < min)
        return tp_cbor_fail(r, TEEP_E_RANGE, it.offset,
                            "%s: %llu elements, needs at least %llu", what,
                            (unsigned long long)it.u, (unsigned long long)min);
    if (it.u > max)
        return tp_cbor_fail(r, over_code, it.offset,
                            "%s: %llu elements, at most %llu", what,
                            (unsigned long long)it.u, (unsigned long long)max);
    *count = (size_t)it.u;
    return 0;
}

/* cnf = {3: kid}: RFC 8747 allows one confirmation method per cnf; the
 * TEEP profile identifies keys by kid only. */
static int decode_cnf(tp_cbor_reader_t *r, const claim_def_t *def,
                      teep_slice_t *kid)
{
    tp_cbor_item_t it;
    int rc = tp_cbor_expect(r, TP_CBOR_MAP, &it, "cnf");
    if (rc != 0)
        return rc;
    if (it.u != 1)
        return tp_cbor_fail(r, TEEP_E_RANGE, it.offset,
                            "cnf: %llu members, exactly one confirmation "
                            "method expected",
                            (unsigned long long)it.u);
    size_t at = r->pos;
    int64_t method;
    rc = tp_cbor_read_int(r, &method, "cnf method");
    if (rc != 0)
        return rc;
    if (method != CNF_KID)
        return tp_cbor_fail(r, TEEP_E_RANGE, at,
                            "cnf: method %lld, the TEEP profile uses kid (3)",
                            (long long)method);
    return read_bstr(r, "cnf kid", def->min, def->max, kid);
}

/* oemid = int (PEN) / bstr .size 3 (IEEE OUI) / bstr .size 16 (random). */
static int decode_oemid(tp_cbor_reader_t *r, teep_eat_oemid_t *oemid)
{
    tp_cbor_item_t it;
    int rc = tp_cbor_next(r, &it);
    if (rc != 0)
        return rc;
    switch (it.kind) {
    case TP_CBOR_UINT:
    case TP_CBOR_NEGINT:
        if (it.u > (uint64_t)INT64_MAX)
            return tp_cbor_fail(r, TEEP_E_RANGE, it.offset,
                                "oemid: integer out of range");
        oemid->is_pen = true;
        oemid->pen =
            it.kind == TP_CBOR_UINT ? (int64_t)it.u : -1 - (int64_t)it.u;
        return 0;
    case TP_CBOR_BSTR:
        if (it.u != 3 && it.u != 16)
            return tp_cbor_fail(r, TEEP_E_RANGE, it.offset,
                                "oemid: %llu bytes, must be 3 (IEEE OUI) or "
                                "16 (random)",
                                (unsigned long long)it.u);
        oemid->id = (teep_slice_t){it.ptr, (size_t)it.u};
        return 0;
    default:
        return tp_cbor_fail(r, TEEP_E_TYPE, it.offset,
                            "oemid: expected an integer or a byte string, "
                            "got %s",
                            tp_cbor_kind_name(it.kind));
    }
}

/* [version, ? scheme]: version is text (RFC 9711) or bytes (libteep). */
static int decode_version(tp_cbor_reader_t *r, const claim_def_t *def,
                          teep_eat_version_t *v)
{
    size_t n = 0;
    int rc = read_array(r, def->name, 1, 2, TEEP_E_RANGE, &n);
    if (rc != 0)
        return rc;
    tp_cbor_item_t it;
    rc = tp_cbor_next(r, &it);
    if (rc != 0)
        return rc;
    if (it.kind == TP_CBOR_TSTR)
        rc = check_text(r, &it, def->name, def->min, def->max);
    else if (it.kind == TP_CBOR_BSTR)
        rc = check_size(r, &it, def->name, def->min, def->max);
    else
        rc = tp_cbor_fail(r, TEEP_E_TYPE, it.offset,
                          "%s: version: expected text, got %s", def->name,
                          tp_cbor_kind_name(it.kind));
    if (rc != 0)
        return rc;
    v->version = (teep_slice_t){it.ptr, (size_t)it.u};
    v->as_bytes = it.kind == TP_CBOR_BSTR;
    if (n == 2) {
        v->has_scheme = true;
        rc = tp_cbor_read_int(r, &v->scheme, "version scheme");
    }
    return rc;
}

/* eat_profile: a URI (text) or an OID (bytes), untagged (the TEEP profile
 * allows no tags). */
static int decode_profile(tp_cbor_reader_t *r, const claim_def_t *def,
                          teep_eat_claims_t *c)
{
    tp_cbor_item_t it;
    int rc = tp_cbor_next(r, &it);
    if (rc != 0)
        return rc;
    if (it.kind == TP_CBOR_TSTR)
        rc = check_text(r, &it, def->name, def->min, def->max);
    else if (it.kind == TP_CBOR_BSTR)
        rc = check_size(r, &it, def->name, def->min, def->max);
    else
        rc = tp_cbor_fail(r, TEEP_E_TYPE, it.offset,
                          "eat_profile: expected a URI or an OID, got %s",
                          tp_cbor_kind_name(it.kind));
    if (rc == 0) {
        c->profile = (teep_slice_t){it.ptr, (size_t)it.u};
        c->profile_is_oid = it.kind == TP_CBOR_BSTR;
    }
    return rc;
}

/* A manifests body of our content type: bstr .cbor SUIT_Reference =
 * [uri, SUIT_Digest = [alg, bytes]].  Read with a reader of its own over
 * the bstr contents; offsets are moved back to the whole input. */
static int decode_suit_reference(tp_cbor_reader_t *outer,
                                 teep_eat_manifest_t *m)
{
    tp_cbor_reader_t r;
    size_t n = 0;
    tp_cbor_reader_init(&r, m->body.ptr, m->body.len, outer->diag);
    int rc = read_array(&r, "SUIT_Reference", 2, 2, TEEP_E_RANGE, &n);
    if (rc == 0)
        rc = read_text(&r, "SUIT_Reference uri", 1, TEEP_EAT_TEXT_MAX, &m->uri);
    if (rc == 0)
        rc = read_array(&r, "SUIT_Digest", 2, 2, TEEP_E_RANGE, &n);
    if (rc == 0)
        rc = tp_cbor_read_int(&r, &m->digest_alg, "SUIT_Digest algorithm");
    if (rc == 0)
        rc = read_bstr(&r, "SUIT_Digest bytes", 1, TEEP_EAT_DIGEST_MAX,
                       &m->digest);
    if (rc == 0)
        rc = tp_cbor_finish(&r);
    return eat__shift_diag(outer->diag, rc, (size_t)(m->body.ptr - outer->buf));
}

static int decode_manifests(tp_cbor_reader_t *r, const claim_def_t *def,
                            teep_eat_claims_t *c)
{
    size_t n = 0;
    int rc = read_array(r, "manifests", def->min, def->max, TEEP_E_LIMIT, &n);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        teep_eat_manifest_t *m = &c->manifests[i];
        size_t two;
        uint64_t type;
        rc = read_array(r, "manifests entry", 2, 2, TEEP_E_RANGE, &two);
        if (rc == 0)
            rc = tp_cbor_read_uint(r, CONTENT_FORMAT_MAX, &type,
                                   "manifest content-type");
        if (rc == 0)
            rc = read_bstr(r, "manifest body", 0, SIZE_MAX, &m->body);
        if (rc != 0)
            break;
        m->content_type = type;
        if (type == TEEP_EAT_MANIFEST_CONTENT_TYPE)
            rc = decode_suit_reference(r, m);
        c->n_manifests = i + 1;
    }
    return rc;
}

static int decode_status(tp_cbor_reader_t *r, teep_eat_claims_t *c)
{
    size_t at = r->pos;
    uint64_t v;
    int rc =
        tp_cbor_read_uint(r, TEEP_EAT_STATUS_CONTRAINDICATED, &v, "ar-status");
    if (rc != 0)
        return rc;
    if (v != TEEP_EAT_STATUS_NONE && v != TEEP_EAT_STATUS_AFFIRMING &&
        v != TEEP_EAT_STATUS_WARNING && v != TEEP_EAT_STATUS_CONTRAINDICATED)
        return tp_cbor_fail(r, TEEP_E_RANGE, at,
                            "ar-status: %llu is no AR4SI tier (0, 2, 32, 96)",
                            (unsigned long long)v);
    c->ar_status = (teep_eat_status_t)v;
    return 0;
}

static int decode_reasons(tp_cbor_reader_t *r, const claim_def_t *def,
                          teep_eat_claims_t *c)
{
    size_t n = 0;
    int rc = read_array(r, def->name, 0, def->max, TEEP_E_LIMIT, &n);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        uint64_t v;
        rc = tp_cbor_read_uint(r, UINT16_MAX, &v, "ar-reasons entry");
        if (rc == 0)
            c->ar_reasons[c->n_ar_reasons++] = (uint16_t)v;
    }
    return rc;
}

/* ta-keys: [+ [component-id, key-sha256]]; a TA named twice is refused
 * (which key would be its?). */
static int decode_ta_keys(tp_cbor_reader_t *r, const claim_def_t *def,
                          teep_eat_claims_t *c)
{
    size_t n = 0;
    int rc = read_array(r, def->name, def->min, def->max, TEEP_E_LIMIT, &n);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        teep_eat_ta_key_t *k = &c->ta_keys[i];
        size_t two, at = r->pos;
        rc = read_array(r, "ta-keys entry", 2, 2, TEEP_E_RANGE, &two);
        if (rc == 0)
            rc = read_bstr(r, "ta-keys component-id", 1, TEEP_EAT_COMPONENT_MAX,
                           &k->component_id);
        if (rc == 0)
            rc = read_bstr(r, "ta-keys key-sha256", TEEP_EAT_KEY_HASH_LEN,
                           TEEP_EAT_KEY_HASH_LEN, &k->key_sha256);
        for (size_t j = 0; rc == 0 && j < i; j++)
            if (c->ta_keys[j].component_id.len == k->component_id.len &&
                memcmp(c->ta_keys[j].component_id.ptr, k->component_id.ptr,
                       k->component_id.len) == 0)
                rc = tp_cbor_fail(r, TEEP_E_DUPLICATE, at,
                                  "ta-keys: a component appears twice");
        if (rc == 0)
            c->n_ta_keys = i + 1;
    }
    return rc;
}

static int decode_claim(tp_cbor_reader_t *r, const claim_def_t *def,
                        teep_eat_claims_t *c)
{
    switch (def->kind) {
    case KIND_BSTR:
        return read_bstr(r, def->name, def->min, def->max, field_of(c, def));
    case KIND_TEXT:
        return read_text(r, def->name, def->min, def->max, field_of(c, def));
    case KIND_INT: return tp_cbor_read_int(r, field_of(c, def), def->name);
    case KIND_CNF: return decode_cnf(r, def, field_of(c, def));
    case KIND_OEMID: return decode_oemid(r, field_of(c, def));
    case KIND_VERSION: return decode_version(r, def, field_of(c, def));
    case KIND_PROFILE: return decode_profile(r, def, c);
    case KIND_MANIFESTS: return decode_manifests(r, def, c);
    case KIND_STATUS: return decode_status(r, c);
    case KIND_REASONS: return decode_reasons(r, def, c);
    case KIND_TA_KEYS: return decode_ta_keys(r, def, c);
    }
    return tp_cbor_fail(r, TEEP_E_TYPE, r->pos, "%s: no decoder", def->name);
}

static bool same_unknown_label(const teep_eat_unknown_t *u, int64_t label,
                               teep_slice_t text)
{
    if ((u->text_label.ptr != NULL) != (text.ptr != NULL))
        return false;
    if (text.ptr == NULL)
        return u->label == label;
    return u->text_label.len == text.len &&
           memcmp(u->text_label.ptr, text.ptr, text.len) == 0;
}

/* Keep an unknown claim (its value not yet read). */
static int decode_unknown(tp_cbor_reader_t *r, const tp_cbor_item_t *key,
                          int64_t label, teep_slice_t text,
                          teep_eat_claims_t *c)
{
    for (size_t i = 0; i < c->n_unknown; i++)
        if (same_unknown_label(&c->unknown[i], label, text))
            return tp_cbor_fail(r, TEEP_E_DUPLICATE, key->offset,
                                "claim label appears twice");
    if (c->n_unknown == TEEP_EAT_MAX_UNKNOWN)
        return tp_cbor_fail(r, TEEP_E_LIMIT, key->offset,
                            "more than %d claims this profile does not "
                            "define",
                            TEEP_EAT_MAX_UNKNOWN);
    size_t start, end;
    int rc = tp_cbor_skip(r, TEEP_MAX_DEPTH - 1, &start, &end);
    if (rc != 0)
        return rc;
    c->unknown[c->n_unknown++] = (teep_eat_unknown_t){
        .label = label,
        .text_label = text,
        .value = {r->buf + start, end - start},
    };
    return 0;
}

/* One claim: its label, then its value. */
static int decode_entry(tp_cbor_reader_t *r, teep_eat_claims_t *c)
{
    tp_cbor_item_t key;
    int rc = tp_cbor_next(r, &key);
    if (rc != 0)
        return rc;
    int64_t label = 0;
    teep_slice_t text = {NULL, 0};
    switch (key.kind) {
    case TP_CBOR_UINT:
    case TP_CBOR_NEGINT:
        if (key.u > (uint64_t)INT64_MAX)
            return tp_cbor_fail(r, TEEP_E_RANGE, key.offset,
                                "claim label out of range");
        label = key.kind == TP_CBOR_UINT ? (int64_t)key.u : -1 - (int64_t)key.u;
        break;
    case TP_CBOR_TSTR:
        rc = check_text(r, &key, "claim label", 0, TEEP_EAT_TEXT_MAX);
        if (rc != 0)
            return rc;
        text = (teep_slice_t){key.ptr, (size_t)key.u};
        break;
    default:
        return tp_cbor_fail(r, TEEP_E_TYPE, key.offset,
                            "claim label: expected an integer or text, got "
                            "%s",
                            tp_cbor_kind_name(key.kind));
    }
    const claim_def_t *def = text.ptr == NULL ? find_def(label) : NULL;
    if (def == NULL)
        return decode_unknown(r, &key, label, text, c);
    if (c->present & def->bit)
        return tp_cbor_fail(r, TEEP_E_DUPLICATE, key.offset, "%s appears twice",
                            def->name);
    rc = decode_claim(r, def, c);
    if (rc == 0)
        c->present |= def->bit;
    return rc;
}

int teep_eat_claims_decode(const uint8_t *buf, size_t len,
                           teep_eat_claims_t *out, teep_diag_t *diag)
{
    tp_cbor_reader_t r;
    tp_cbor_item_t map;
    memset(out, 0, sizeof(*out));
    tp_cbor_reader_init(&r, buf, len, diag);
    int rc = tp_cbor_expect(&r, TP_CBOR_MAP, &map, "claims");
    for (uint64_t i = 0; rc == 0 && i < map.u; i++)
        rc = decode_entry(&r, out);
    if (rc == 0)
        rc = tp_cbor_finish(&r);
    if (rc != 0)
        memset(out, 0, sizeof(*out));
    return rc;
}

/* ---- Encoding ---------------------------------------------------------- */

static void encode_version(tp_cbor_writer_t *w, const teep_eat_version_t *v)
{
    tp_cw_array(w, v->has_scheme ? 2 : 1);
    if (v->as_bytes)
        tp_cw_bstr(w, v->version.ptr, v->version.len);
    else
        tp_cw_tstr(w, (const char *)v->version.ptr, v->version.len);
    if (v->has_scheme)
        tp_cw_int(w, v->scheme);
}

static void encode_suit_reference(tp_cbor_writer_t *w,
                                  const teep_eat_manifest_t *m)
{
    tp_cw_array(w, 2);
    tp_cw_tstr(w, (const char *)m->uri.ptr, m->uri.len);
    tp_cw_array(w, 2);
    tp_cw_int(w, m->digest_alg);
    tp_cw_bstr(w, m->digest.ptr, m->digest.len);
}

static void encode_manifest(tp_cbor_writer_t *w, const teep_eat_manifest_t *m)
{
    tp_cw_array(w, 2);
    tp_cw_uint(w, m->content_type);
    if (m->content_type != TEEP_EAT_MANIFEST_CONTENT_TYPE) {
        tp_cw_bstr(w, m->body.ptr, m->body.len);
        return;
    }
    /* The reference is written in place inside its bstr: measure it
     * first to write the head. */
    tp_cbor_writer_t measure;
    tp_cw_init(&measure, NULL, 0);
    encode_suit_reference(&measure, m);
    tp_cw_bstr_head(w, measure.len);
    encode_suit_reference(w, m);
}

static void encode_claim(tp_cbor_writer_t *w, const claim_def_t *def,
                         const teep_eat_claims_t *c)
{
    const teep_slice_t *s = cfield_of(c, def);
    switch (def->kind) {
    case KIND_BSTR: tp_cw_bstr(w, s->ptr, s->len); break;
    case KIND_TEXT: tp_cw_tstr(w, (const char *)s->ptr, s->len); break;
    case KIND_INT: tp_cw_int(w, *(const int64_t *)cfield_of(c, def)); break;
    case KIND_CNF:
        tp_cw_map(w, 1);
        tp_cw_uint(w, CNF_KID);
        tp_cw_bstr(w, c->cnf_kid.ptr, c->cnf_kid.len);
        break;
    case KIND_OEMID:
        if (c->oemid.is_pen)
            tp_cw_int(w, c->oemid.pen);
        else
            tp_cw_bstr(w, c->oemid.id.ptr, c->oemid.id.len);
        break;
    case KIND_VERSION: encode_version(w, cfield_of(c, def)); break;
    case KIND_PROFILE:
        if (c->profile_is_oid)
            tp_cw_bstr(w, c->profile.ptr, c->profile.len);
        else
            tp_cw_tstr(w, (const char *)c->profile.ptr, c->profile.len);
        break;
    case KIND_MANIFESTS:
        tp_cw_array(w, c->n_manifests);
        for (size_t i = 0; i < c->n_manifests; i++)
            encode_manifest(w, &c->manifests[i]);
        break;
    case KIND_STATUS: tp_cw_uint(w, c->ar_status); break;
    case KIND_REASONS:
        tp_cw_array(w, c->n_ar_reasons);
        for (size_t i = 0; i < c->n_ar_reasons; i++)
            tp_cw_uint(w, c->ar_reasons[i]);
        break;
    case KIND_TA_KEYS:
        tp_cw_array(w, c->n_ta_keys);
        for (size_t i = 0; i < c->n_ta_keys; i++) {
            tp_cw_array(w, 2);
            tp_cw_bstr(w, c->ta_keys[i].component_id.ptr,
                       c->ta_keys[i].component_id.len);
            tp_cw_bstr(w, c->ta_keys[i].key_sha256.ptr,
                       c->ta_keys[i].key_sha256.len);
        }
        break;
    }
}

int teep_eat_claims_encode(const teep_eat_claims_t *claims, uint8_t *out,
                           size_t cap, size_t *out_len)
{
    size_t n = 0;
    *out_len = 0;
    for (size_t i = 0; i < N_CLAIM_DEFS; i++)
        if (claims->present & claim_defs[i].bit)
            n++;
    /* The counts index fixed arrays: check them before anything reads
     * the arrays; everything else the decode below checks. */
    if (n == 0 || claims->n_manifests > TEEP_EAT_MAX_MANIFESTS ||
        claims->n_ar_reasons > TEEP_EAT_MAX_REASONS ||
        claims->n_ta_keys > TEEP_EAT_MAX_TA_KEYS)
        return -EINVAL;
    tp_cbor_writer_t w;
    tp_cw_init(&w, out, cap);
    tp_cw_map(&w, n);
    for (size_t i = 0; i < N_CLAIM_DEFS; i++) {
        if (claims->present & claim_defs[i].bit) {
            tp_cw_int(&w, claim_defs[i].label);
            encode_claim(&w, &claim_defs[i], claims);
        }
    }
    *out_len = w.len;
    int rc = tp_cw_result(&w);
    if (rc != 0)
        return rc;
    /* What we write, we read: the decoder holds every size and type rule,
     * so a claim set it would refuse is refused here rather than by the
     * peer. */
    teep_eat_claims_t check;
    if (teep_eat_claims_decode(out, w.len, &check, NULL) != 0)
        return -EINVAL;
    return 0;
}

/* ---- Tokens ------------------------------------------------------------ */

int teep_eat_sign(const teep_signer_t *signer, const teep_eat_claims_t *claims,
                  uint8_t *out, size_t cap, size_t *out_len)
{
    size_t n = 0;
    int rc = teep_eat_claims_encode(claims, NULL, 0, &n);
    *out_len = 0;
    if (rc != 0 && rc != -ENOSPC)
        return rc;
    if (out == NULL || n > cap)
        return -ENOSPC;
    /* Staged at the end of out, so the signature structure written from
     * the start never overlaps the payload it copies. */
    uint8_t *staged = out + cap - n;
    rc = teep_eat_claims_encode(claims, staged, n, &n);
    if (rc != 0)
        return rc;
    return teep_cose_sign1(signer, staged, n, out, cap - n, out_len);
}

int eat__open(const uint8_t *buf, size_t len, teep_cose_t *cose,
              teep_diag_t *diag)
{
    size_t skip = 0;
    if (len >= 2 && buf[0] == 0xd8 && buf[1] == CWT_TAG)
        skip = 2;
    int rc = teep_cose_parse(buf + skip, len - skip, cose, diag);
    if (rc != 0)
        return eat__shift_diag(diag, rc, skip);
    if (cose->tag != COSE_SIGN1_TAG)
        return teep_diag_set(diag, TEEP_E_COSE, skip,
                             "EAT: COSE_Sign1 expected, got tag %llu",
                             (unsigned long long)cose->tag);
    if (cose->payload.ptr == NULL)
        return teep_diag_set(diag, TEEP_E_MISSING, skip,
                             "EAT: the claims payload is detached");
    return 0;
}

int teep_eat_parse(const uint8_t *buf, size_t len, teep_cose_t *cose,
                   teep_eat_claims_t *claims, teep_diag_t *diag)
{
    memset(claims, 0, sizeof(*claims));
    int rc = eat__open(buf, len, cose, diag);
    if (rc != 0)
        return rc;
    rc = teep_eat_claims_decode(cose->payload.ptr, cose->payload.len, claims,
                                diag);
    return eat__shift_diag(diag, rc, (size_t)(cose->payload.ptr - buf));
}
