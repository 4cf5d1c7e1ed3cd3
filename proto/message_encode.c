/*
 * message_encode.c: teep_message_encode(), the deterministic encoder of
 * the five TEEP messages (digest 1.1-1.13).
 *
 * The message is checked completely before a byte is written, with the
 * rules the decoder applies, so that whatever this function accepts
 * teep_message_decode() accepts too and decodes to the same model.  Items
 * the model carries encoded (tc-list entries, component identifiers,
 * unknown option values) are copied as they are, after a check that each
 * is one well-formed item nested no deeper than the decoder allows at its
 * place in the message.
 */
#include <errno.h>

#include "cbor_reader.h"
#include "cbor_writer.h"
#include "teep/message.h"

#define TEXT_MSG_MAX     128
#define TEXT_LANG_MAX    35
#define LEVEL_OPTION     3
#define LEVEL_LIST_ENTRY 4
#define ANY_KIND         (-1)

/* Checks one list entry kept as a slice; 0 or an error code. */
typedef int (*slice_check_fn)(teep_slice_t s);

/* Positional elements: the present bits of these options mean nothing
 * for these types (the elements are always there) and are ignored. */
static uint32_t positional_bits(teep_msg_type_t t)
{
    if (t == TEEP_QUERY_REQUEST)
        return TEEP_OPT_BIT(TEEP_OPT_SUPPORTED_TEEP_CIPHER_SUITES) |
               TEEP_OPT_BIT(TEEP_OPT_SUPPORTED_SUIT_COSE_PROFILES);
    return t == TEEP_ERROR ? TEEP_OPT_BIT(TEEP_OPT_ERR_CODE) : 0;
}

static uint32_t allowed_bits(teep_msg_type_t t)
{
    uint32_t bits = 0;
    for (int o = 0; o < TEEP_OPT_COUNT; o++)
        if (teep_option_allowed(t, (teep_option_t)o))
            bits |= TEEP_OPT_BIT(o);
    return bits;
}

static size_t element_count(teep_msg_type_t t)
{
    return t == TEEP_QUERY_REQUEST ? 5 : t == TEEP_ERROR ? 3 : 2;
}

static teep_option_t option_of_label(teep_profile_t profile, uint64_t label)
{
    for (int o = 0; o < TEEP_OPT_COUNT; o++)
        if (teep_profile_option_label(profile, (teep_option_t)o) == label)
            return (teep_option_t)o;
    return TEEP_OPT_COUNT;
}

static bool slice_ok(teep_slice_t s)
{
    return s.ptr != NULL || s.len == 0;
}

static int check_size(teep_slice_t s, size_t min, size_t max)
{
    if (!slice_ok(s))
        return -EINVAL;
    return s.len < min || s.len > max ? TEEP_E_RANGE : 0;
}

/* "[+ ...]": at least one entry, and entries to read. */
static int check_list(const void *items, size_t count)
{
    if (count == 0)
        return TEEP_E_RANGE;
    return items == NULL ? -EINVAL : 0;
}

/* s is exactly one well-formed item of kind (or ANY_KIND) that the
 * decoder's depth bound accepts at level. */
static int check_encoded(teep_slice_t s, int kind, unsigned level)
{
    tp_cbor_reader_t r;
    tp_cbor_item_t it;
    if (!slice_ok(s))
        return -EINVAL;
    tp_cbor_reader_init(&r, s.ptr, s.len, NULL);
    if (tp_cbor_next(&r, &it) != 0 ||
        (kind != ANY_KIND && (int)it.kind != kind))
        return -EINVAL;
    if (tp_cbor_skip_rest(&r, &it, TEEP_MAX_DEPTH + 1 - level) != 0)
        return -EINVAL;
    return tp_cbor_finish(&r) == 0 ? 0 : -EINVAL;
}

static int check_bytes(teep_slice_t s)
{
    return slice_ok(s) ? 0 : -EINVAL;
}

static int check_map_entry(teep_slice_t s)
{
    return check_encoded(s, TP_CBOR_MAP, LEVEL_LIST_ENTRY);
}

/* SUIT_Component_Identifier = [+ bstr]. */
static int check_component_id(teep_slice_t s)
{
    tp_cbor_reader_t r;
    tp_cbor_item_t it;
    if (!slice_ok(s))
        return -EINVAL;
    tp_cbor_reader_init(&r, s.ptr, s.len, NULL);
    if (tp_cbor_expect(&r, TP_CBOR_ARRAY, &it, "component-id") != 0 ||
        it.u == 0)
        return -EINVAL;
    for (uint64_t i = 0; i < it.u; i++) {
        tp_cbor_item_t part;
        if (tp_cbor_expect(&r, TP_CBOR_BSTR, &part, "component-id") != 0)
            return -EINVAL;
    }
    return tp_cbor_finish(&r) == 0 ? 0 : -EINVAL;
}

static int check_slices(const teep_slice_t *items, size_t count,
                        slice_check_fn check)
{
    int rc = check_list(items, count);
    for (size_t i = 0; rc == 0 && i < count; i++)
        rc = check(items[i]);
    return rc;
}

static int check_cipher_suites(const teep_cipher_suite_t *items, size_t count)
{
    int rc = check_list(items, count);
    for (size_t i = 0; rc == 0 && i < count; i++) {
        if (items[i].n_ops > TEEP_SUITE_MAX_OPS)
            rc = -EINVAL;
        else if (items[i].n_ops == 0)
            rc = TEEP_E_RANGE;
    }
    return rc;
}

static int check_suit_profiles(const teep_suit_profile_t *items, size_t count)
{
    int rc = check_list(items, count);
    for (size_t i = 0; rc == 0 && i < count; i++)
        if (items[i].n != 2 && items[i].n != 4)
            rc = TEEP_E_RANGE;
    return rc;
}

static int check_requested_tcs(const teep_requested_tc_t *items, size_t count)
{
    int rc = check_list(items, count);
    for (size_t i = 0; rc == 0 && i < count; i++) {
        rc = check_component_id(items[i].component_id);
        if (rc == 0 && items[i].has_have_binary && items[i].have_binary &&
            !items[i].has_sequence_number)
            rc = TEEP_E_MISSING;
    }
    return rc;
}

static int check_list_option(const teep_message_t *m, teep_option_t o)
{
    switch (o) {
    case TEEP_OPT_VERSIONS:
        return check_list(m->versions.items, m->versions.count);
    case TEEP_OPT_EXT_LIST:
        return check_list(m->ext_list.items, m->ext_list.count);
    case TEEP_OPT_SUPPORTED_FRESHNESS_MECHANISMS:
        return check_list(m->freshness_mechanisms.items,
                          m->freshness_mechanisms.count);
    case TEEP_OPT_SUIT_REPORTS:
        return check_slices(m->suit_reports.items, m->suit_reports.count,
                            check_bytes);
    case TEEP_OPT_MANIFEST_LIST:
        return check_slices(m->manifest_list.items, m->manifest_list.count,
                            check_bytes);
    case TEEP_OPT_TC_LIST:
        return check_slices(m->tc_list.items, m->tc_list.count,
                            check_map_entry);
    case TEEP_OPT_UNNEEDED_MANIFEST_LIST:
        return check_slices(m->unneeded_manifest_list.items,
                            m->unneeded_manifest_list.count,
                            check_component_id);
    case TEEP_OPT_REQUESTED_TC_LIST:
        return check_requested_tcs(m->requested_tc_list.items,
                                   m->requested_tc_list.count);
    case TEEP_OPT_SUPPORTED_TEEP_CIPHER_SUITES:
        return check_cipher_suites(m->cipher_suites.items,
                                   m->cipher_suites.count);
    case TEEP_OPT_SUPPORTED_SUIT_COSE_PROFILES:
    default:
        return check_suit_profiles(m->suit_profiles.items,
                                   m->suit_profiles.count);
    }
}

/* The CDDL rules of one option, as teep_message_decode applies them. */
static int check_option(const teep_message_t *m, teep_option_t o)
{
    switch (o) {
    case TEEP_OPT_TOKEN:
        return check_size(m->token, TEEP_TOKEN_MIN, TEEP_TOKEN_MAX);
    case TEEP_OPT_CHALLENGE:
        return check_size(m->challenge, TEEP_CHALLENGE_MIN, TEEP_CHALLENGE_MAX);
    case TEEP_OPT_ATTESTATION_PAYLOAD:
        return check_size(m->attestation_payload, 0, SIZE_MAX);
    case TEEP_OPT_ATTESTATION_PAYLOAD_FORMAT:
        return check_size(m->attestation_payload_format, 0, SIZE_MAX);
    case TEEP_OPT_MSG: return check_size(m->msg, 1, TEXT_MSG_MAX);
    case TEEP_OPT_ERR_MSG: return check_size(m->err_msg, 1, TEXT_MSG_MAX);
    case TEEP_OPT_ERR_LANG: return check_size(m->err_lang, 1, TEXT_LANG_MAX);
    case TEEP_OPT_ERR_CODE: return m->err_code == 0 ? TEEP_E_RANGE : 0;
    case TEEP_OPT_SELECTED_VERSION: return 0;
    default: return check_list_option(m, o);
    }
}

/* Unknown options: strictly ascending labels (the order they are
 * written in, as decode leaves them), none that names an option this
 * type has a model field for, each value one well-formed item. */
static int check_unknown(const teep_message_t *m, teep_profile_t profile)
{
    const teep_unknown_option_t *u = m->unknown_options.items;
    if (m->unknown_options.count > 0 && u == NULL)
        return -EINVAL;
    for (size_t i = 0; i < m->unknown_options.count; i++) {
        teep_option_t o = option_of_label(profile, u[i].label);
        if (i > 0 && u[i].label <= u[i - 1].label)
            return -EINVAL;
        if (o != TEEP_OPT_COUNT && teep_option_allowed(m->type, o))
            return -EINVAL;
        int rc = check_encoded(u[i].value, ANY_KIND, LEVEL_OPTION);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int check_positional(const teep_message_t *m)
{
    if (m->type == TEEP_ERROR)
        return m->err_code == 0 ? TEEP_E_MISSING : 0;
    if (m->type != TEEP_QUERY_REQUEST)
        return 0;
    if (m->cipher_suites.count == 0 || m->suit_profiles.count == 0)
        return TEEP_E_MISSING;
    int rc = check_option(m, TEEP_OPT_SUPPORTED_TEEP_CIPHER_SUITES);
    return rc != 0 ? rc
                   : check_option(m, TEEP_OPT_SUPPORTED_SUIT_COSE_PROFILES);
}

static int check_message(const teep_message_t *m, teep_profile_t profile)
{
    if (m->type < TEEP_QUERY_REQUEST || m->type > TEEP_ERROR ||
        (profile != TEEP_PROFILE_RFC && profile != TEEP_PROFILE_LEGACY))
        return -EINVAL;
    uint32_t allowed = allowed_bits(m->type);
    if ((m->present & ~(allowed | positional_bits(m->type))) != 0)
        return -EINVAL;
    for (int o = 0; o < TEEP_OPT_COUNT; o++) {
        if ((m->present & allowed & TEEP_OPT_BIT(o)) == 0)
            continue;
        int rc = check_option(m, (teep_option_t)o);
        if (rc != 0)
            return rc;
    }
    int rc = check_positional(m);
    return rc != 0 ? rc : check_unknown(m, profile);
}

static void put_uint_list(tp_cbor_writer_t *w, const void *items, size_t count,
                          size_t width)
{
    tp_cw_array(w, count);
    for (size_t i = 0; i < count; i++)
        tp_cw_uint(w, width == sizeof(uint32_t) ? ((const uint32_t *)items)[i]
                                                : ((const uint64_t *)items)[i]);
}

/* put is tp_cw_bstr (bstr contents) or tp_cw_raw (encoded items). */
static void
put_slice_list(tp_cbor_writer_t *w, const teep_slice_t *items, size_t count,
               void (*put)(tp_cbor_writer_t *, const uint8_t *, size_t))
{
    tp_cw_array(w, count);
    for (size_t i = 0; i < count; i++)
        put(w, items[i].ptr, items[i].len);
}

static void put_cipher_suites(tp_cbor_writer_t *w, const teep_message_t *m)
{
    tp_cw_array(w, m->cipher_suites.count);
    for (size_t i = 0; i < m->cipher_suites.count; i++) {
        const teep_cipher_suite_t *s = &m->cipher_suites.items[i];
        tp_cw_array(w, s->n_ops);
        for (uint8_t k = 0; k < s->n_ops; k++) {
            tp_cw_array(w, 2);
            tp_cw_int(w, s->ops[k].cose_type);
            tp_cw_int(w, s->ops[k].alg);
        }
    }
}

static void put_suit_profiles(tp_cbor_writer_t *w, const teep_message_t *m)
{
    tp_cw_array(w, m->suit_profiles.count);
    for (size_t i = 0; i < m->suit_profiles.count; i++) {
        const teep_suit_profile_t *p = &m->suit_profiles.items[i];
        tp_cw_array(w, p->n);
        for (uint8_t k = 0; k < p->n; k++)
            tp_cw_int(w, p->alg[k]);
    }
}

/* requested-tc-info, its keys in ascending order. */
static void put_requested_tc(tp_cbor_writer_t *w, teep_profile_t profile,
                             const teep_requested_tc_t *tc)
{
    bool seq = tc->has_sequence_number, bin = tc->has_have_binary;
    tp_cw_map(w, 1 + (size_t)seq + (size_t)bin);
    tp_cw_uint(w, teep_profile_tc_info_label(profile, TEEP_TCI_COMPONENT_ID));
    tp_cw_raw(w, tc->component_id.ptr, tc->component_id.len);
    if (seq) {
        tp_cw_uint(w, teep_profile_tc_info_label(
                          profile, TEEP_TCI_TC_MANIFEST_SEQUENCE_NUMBER));
        tp_cw_uint(w, tc->sequence_number);
    }
    if (bin) {
        tp_cw_uint(w,
                   teep_profile_tc_info_label(profile, TEEP_TCI_HAVE_BINARY));
        tp_cw_bool(w, tc->have_binary);
    }
}

static void put_list_option(tp_cbor_writer_t *w, const teep_message_t *m,
                            teep_profile_t profile, teep_option_t o)
{
    switch (o) {
    case TEEP_OPT_VERSIONS:
        put_uint_list(w, m->versions.items, m->versions.count,
                      sizeof(uint32_t));
        break;
    case TEEP_OPT_EXT_LIST:
        put_uint_list(w, m->ext_list.items, m->ext_list.count,
                      sizeof(uint32_t));
        break;
    case TEEP_OPT_SUPPORTED_FRESHNESS_MECHANISMS:
        put_uint_list(w, m->freshness_mechanisms.items,
                      m->freshness_mechanisms.count, sizeof(uint64_t));
        break;
    case TEEP_OPT_SUIT_REPORTS:
        put_slice_list(w, m->suit_reports.items, m->suit_reports.count,
                       tp_cw_bstr);
        break;
    case TEEP_OPT_MANIFEST_LIST:
        put_slice_list(w, m->manifest_list.items, m->manifest_list.count,
                       tp_cw_bstr);
        break;
    case TEEP_OPT_TC_LIST:
        put_slice_list(w, m->tc_list.items, m->tc_list.count, tp_cw_raw);
        break;
    case TEEP_OPT_UNNEEDED_MANIFEST_LIST:
        put_slice_list(w, m->unneeded_manifest_list.items,
                       m->unneeded_manifest_list.count, tp_cw_raw);
        break;
    case TEEP_OPT_REQUESTED_TC_LIST:
        tp_cw_array(w, m->requested_tc_list.count);
        for (size_t i = 0; i < m->requested_tc_list.count; i++)
            put_requested_tc(w, profile, &m->requested_tc_list.items[i]);
        break;
    case TEEP_OPT_SUPPORTED_TEEP_CIPHER_SUITES: put_cipher_suites(w, m); break;
    case TEEP_OPT_SUPPORTED_SUIT_COSE_PROFILES:
    default: put_suit_profiles(w, m); break;
    }
}

static void put_text(tp_cbor_writer_t *w, teep_slice_t s)
{
    tp_cw_tstr(w, (const char *)s.ptr, s.len);
}

/* One known option: its wire label, then its value. */
static void put_option(tp_cbor_writer_t *w, const teep_message_t *m,
                       teep_profile_t profile, teep_option_t o)
{
    tp_cw_uint(w, teep_profile_option_label(profile, o));
    switch (o) {
    case TEEP_OPT_TOKEN: tp_cw_bstr(w, m->token.ptr, m->token.len); break;
    case TEEP_OPT_CHALLENGE:
        tp_cw_bstr(w, m->challenge.ptr, m->challenge.len);
        break;
    case TEEP_OPT_ATTESTATION_PAYLOAD:
        tp_cw_bstr(w, m->attestation_payload.ptr, m->attestation_payload.len);
        break;
    case TEEP_OPT_ATTESTATION_PAYLOAD_FORMAT:
        put_text(w, m->attestation_payload_format);
        break;
    case TEEP_OPT_MSG: put_text(w, m->msg); break;
    case TEEP_OPT_ERR_MSG: put_text(w, m->err_msg); break;
    case TEEP_OPT_ERR_LANG: put_text(w, m->err_lang); break;
    case TEEP_OPT_ERR_CODE:
        tp_cw_uint(w, teep_profile_err_to_wire(profile, m->err_code));
        break;
    case TEEP_OPT_SELECTED_VERSION: tp_cw_uint(w, m->selected_version); break;
    default: put_list_option(w, m, profile, o); break;
    }
}

/* The options to write after the token, in ascending wire label order
 * (insertion sort of at most TEEP_OPT_COUNT entries). */
static size_t sorted_options(uint32_t bits, teep_profile_t profile,
                             teep_option_t order[TEEP_OPT_COUNT])
{
    size_t n = 0;
    for (int o = 0; o < TEEP_OPT_COUNT; o++) {
        if (o == TEEP_OPT_TOKEN || (bits & TEEP_OPT_BIT(o)) == 0)
            continue;
        uint64_t label = teep_profile_option_label(profile, (teep_option_t)o);
        size_t i = n++;
        for (;
             i > 0 && teep_profile_option_label(profile, order[i - 1]) > label;
             i--)
            order[i] = order[i - 1];
        order[i] = (teep_option_t)o;
    }
    return n;
}

/* The options map: the token first, then known and unknown options
 * merged by ascending label. */
static void put_options(tp_cbor_writer_t *w, const teep_message_t *m,
                        teep_profile_t profile)
{
    uint32_t bits = m->present & allowed_bits(m->type);
    teep_option_t order[TEEP_OPT_COUNT];
    size_t n = sorted_options(bits, profile, order);
    const teep_unknown_option_t *u = m->unknown_options.items;
    size_t nu = m->unknown_options.count;
    bool token = (bits & TEEP_OPT_BIT(TEEP_OPT_TOKEN)) != 0;

    tp_cw_map(w, (size_t)token + n + nu);
    if (token)
        put_option(w, m, profile, TEEP_OPT_TOKEN);
    for (size_t i = 0, j = 0; i < n || j < nu;) {
        if (j == nu || (i < n && teep_profile_option_label(profile, order[i]) <
                                     u[j].label)) {
            put_option(w, m, profile, order[i++]);
        } else {
            tp_cw_uint(w, u[j].label);
            tp_cw_raw(w, u[j].value.ptr, u[j].value.len);
            j++;
        }
    }
}

static void put_message(tp_cbor_writer_t *w, const teep_message_t *m,
                        teep_profile_t profile)
{
    tp_cw_array(w, element_count(m->type));
    tp_cw_uint(w, teep_profile_type_to_wire(profile, m->type));
    put_options(w, m, profile);
    if (m->type == TEEP_QUERY_REQUEST) {
        put_cipher_suites(w, m);
        put_suit_profiles(w, m);
        tp_cw_uint(w, m->data_item_requested);
    } else if (m->type == TEEP_ERROR) {
        tp_cw_uint(w, teep_profile_err_to_wire(profile, m->err_code));
    }
}

/* Contract in teep/message.h: check everything, then write; the writer's
 * error is sticky, so the size needed is known even on -ENOSPC. */
int teep_message_encode(const teep_message_t *msg, teep_profile_t profile,
                        uint8_t *out, size_t cap, size_t *out_len)
{
    if (out_len != NULL)
        *out_len = 0;
    if (msg == NULL || out_len == NULL || (out == NULL && cap > 0))
        return -EINVAL;
    int rc = check_message(msg, profile);
    if (rc != 0)
        return rc;
    tp_cbor_writer_t w;
    tp_cw_init(&w, out, cap);
    put_message(&w, msg, profile);
    *out_len = w.len;
    return tp_cw_result(&w);
}
