/* Unit tests of the TEEP message codec (proto/message_decode.c and
 * proto/message_encode.c). */
/* cmocka.h needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <errno.h>

#include "cbor_writer.h"
#include "teep/message.h"
#include "vectors.h"

#define LEGACY       TEEP_PROFILE_LEGACY
#define RFC          TEEP_PROFILE_RFC
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Arena memory for one decode; 8-byte aligned. */
static uint64_t arena_mem[TEEP_ARENA_DEFAULT / sizeof(uint64_t)];
static uint64_t arena_mem2[TEEP_ARENA_DEFAULT / sizeof(uint64_t)];

static teep_arena_t fresh_arena(uint64_t *mem, size_t size)
{
    teep_arena_t a;
    teep_arena_init(&a, mem, size);
    return a;
}

static int decode(const uint8_t *buf, size_t len, teep_profile_t profile,
                  teep_message_t *m, teep_diag_t *diag)
{
    teep_arena_t a = fresh_arena(arena_mem, sizeof(arena_mem));
    return teep_message_decode(buf, len, profile, &a, m, diag);
}

/* Decode a message that must be valid; prints diag when it is not. */
static void decode_ok(const uint8_t *buf, size_t len, teep_profile_t profile,
                      teep_message_t *m)
{
    teep_diag_t diag = {0};
    int rc = decode(buf, len, profile, m, &diag);
    if (rc != 0)
        print_error("decode: %s at %zu\n", diag.reason, diag.offset);
    assert_int_equal(rc, 0);
}

static void assert_encodes_to(const teep_message_t *m, teep_profile_t profile,
                              const uint8_t *want, size_t want_len)
{
    uint8_t out[4096];
    size_t len = 0;
    assert_int_equal(teep_message_encode(m, profile, out, sizeof(out), &len),
                     0);
    assert_int_equal(len, want_len);
    assert_memory_equal(out, want, want_len);
}

static uint8_t *load(const char *name, size_t *len)
{
    uint8_t *buf = vector_load_hex(name, len);
    if (buf == NULL)
        print_error("cannot load %s\n", name);
    assert_non_null(buf);
    return buf;
}

/* Decode vector name and check that encoding gives its bytes back. */
static uint8_t *decode_vector(const char *name, teep_profile_t profile,
                              teep_message_t *m)
{
    size_t len;
    uint8_t *buf = load(name, &len);
    decode_ok(buf, len, profile, m);
    assert_encodes_to(m, profile, buf, len);
    return buf;
}

static bool slice_is(teep_slice_t s, const char *text)
{
    return s.len == strlen(text) && memcmp(s.ptr, text, s.len) == 0;
}

/* Hex text -> bytes in out; returns the length. */
static size_t from_hex(const char *hex, uint8_t *out)
{
    size_t n = 0;
    for (; hex[0] != 0 && hex[1] != 0; hex += 2) {
        unsigned v;
        sscanf(hex, "%2x", &v);
        out[n++] = (uint8_t)v;
    }
    return n;
}

static int decode_hex(const char *hex, teep_profile_t profile,
                      teep_message_t *m, teep_diag_t *diag)
{
    uint8_t buf[1024];
    size_t len = from_hex(hex, buf);
    return decode(buf, len, profile, m, diag);
}

/* ---- published vectors ------------------------------------------------ */

struct vector {
    const char *name;
    teep_profile_t profile;
    teep_msg_type_t type;
};

static void vectors_round_trip(const struct vector *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        teep_message_t m;
        uint8_t *buf = decode_vector(v[i].name, v[i].profile, &m);
        assert_int_equal(m.type, v[i].type);
        assert_true(m.present & TEEP_OPT_BIT(TEEP_OPT_TOKEN));
        assert_int_equal(m.token.len, 16);
        assert_int_equal(m.token.ptr[0], 0xA0);
        free(buf);
    }
}

static void tp_vectors_round_trip_in_legacy(void **state)
{
    static const struct vector v[] = {
        {"tp_query_request.hex", LEGACY, TEEP_QUERY_REQUEST},
        {"tp_query_response.hex", LEGACY, TEEP_QUERY_RESPONSE},
        {"tp_update.hex", LEGACY, TEEP_UPDATE},
        {"tp_teep_success.hex", LEGACY, TEEP_SUCCESS},
        {"tp_teep_error.hex", LEGACY, TEEP_ERROR},
    };
    vectors_round_trip(v, ARRAY_LEN(v));
}

static void tp26_vectors_round_trip_in_rfc(void **state)
{
    static const struct vector v[] = {
        {"tp26_query_request.hex", RFC, TEEP_QUERY_REQUEST},
        {"tp26_query_response.hex", RFC, TEEP_QUERY_RESPONSE},
        {"tp26_update.hex", RFC, TEEP_UPDATE},
        {"tp26_teep_success.hex", RFC, TEEP_SUCCESS},
        {"tp26_teep_error.hex", RFC, TEEP_ERROR},
    };
    vectors_round_trip(v, ARRAY_LEN(v));
}

static void libteep_vectors_round_trip_in_legacy(void **state)
{
    static const struct vector v[] = {
        {"libteep_query_request.hex", LEGACY, TEEP_QUERY_REQUEST},
        {"libteep_query_response.hex", LEGACY, TEEP_QUERY_RESPONSE},
        {"libteep_update.hex", LEGACY, TEEP_UPDATE},
        {"libteep_teep_success.hex", LEGACY, TEEP_SUCCESS},
        {"libteep_teep_error.hex", LEGACY, TEEP_ERROR},
    };
    vectors_round_trip(v, ARRAY_LEN(v));
}

static void query_request_vectors_carry_positional_elements(void **state)
{
    static const struct vector v[] = {
        {"tp_query_request.hex", LEGACY, 0},
        {"tp26_query_request.hex", RFC, 0},
    };
    for (size_t i = 0; i < ARRAY_LEN(v); i++) {
        teep_message_t m;
        uint8_t *buf = decode_vector(v[i].name, v[i].profile, &m);
        assert_int_equal(m.data_item_requested, 3);
        assert_int_equal(m.present, TEEP_OPT_BIT(TEEP_OPT_TOKEN) |
                                        TEEP_OPT_BIT(TEEP_OPT_VERSIONS));
        assert_int_equal(m.versions.count, 1);
        assert_int_equal(m.versions.items[0], 0);
        assert_int_equal(m.cipher_suites.count, 2);
        assert_int_equal(m.cipher_suites.items[0].n_ops, 1);
        assert_int_equal(m.cipher_suites.items[0].ops[0].cose_type,
                         TEEP_COSE_SIGN1);
        assert_int_equal(m.cipher_suites.items[0].ops[0].alg, TEEP_ALG_ESP256);
        assert_int_equal(m.cipher_suites.items[1].ops[0].alg, TEEP_ALG_ED25519);
        assert_int_equal(m.suit_profiles.count, 4);
        assert_int_equal(m.suit_profiles.items[0].n, 4);
        assert_int_equal(m.suit_profiles.items[0].alg[3], -65534);
        free(buf);
    }
}

static void libteep_query_request_has_old_algorithms(void **state)
{
    teep_message_t m;
    uint8_t *buf = decode_vector("libteep_query_request.hex", LEGACY, &m);
    assert_int_equal(m.data_item_requested, 3);
    assert_int_equal(m.cipher_suites.items[0].ops[0].alg, TEEP_ALG_ES256);
    assert_int_equal(m.cipher_suites.items[1].ops[0].alg, TEEP_ALG_EDDSA);
    assert_int_equal(m.suit_profiles.count, 2);
    free(buf);
}

static void error_vectors_carry_manifest_processing_failed(void **state)
{
    static const struct vector v[] = {
        {"tp_teep_error.hex", LEGACY, 0},
        {"tp26_teep_error.hex", RFC, 0},
        {"libteep_teep_error.hex", LEGACY, 0},
    };
    for (size_t i = 0; i < ARRAY_LEN(v); i++) {
        teep_message_t m;
        uint8_t *buf = decode_vector(v[i].name, v[i].profile, &m);
        assert_int_equal(m.err_code, TEEP_ERR_MANIFEST_PROCESSING_FAILED);
        assert_true(slice_is(m.err_msg, "disk-full"));
        /* err-code is positional in Error: no present bit */
        assert_false(m.present & TEEP_OPT_BIT(TEEP_OPT_ERR_CODE));
        free(buf);
    }
}

static void update_vectors_carry_one_manifest(void **state)
{
    static const struct vector v[] = {
        {"tp_update.hex", LEGACY, 0},
        {"tp26_update.hex", RFC, 0},
        {"libteep_update.hex", LEGACY, 0},
    };
    for (size_t i = 0; i < ARRAY_LEN(v); i++) {
        teep_message_t m;
        uint8_t *buf = decode_vector(v[i].name, v[i].profile, &m);
        assert_int_equal(m.manifest_list.count, 1);
        /* the manifest slice is the bstr contents: a SUIT_Envelope map */
        assert_int_equal(m.manifest_list.items[0].ptr[0] >> 5, 5);
        free(buf);
    }
}

static void query_response_vectors_carry_tc_list(void **state)
{
    static const struct vector v[] = {
        {"tp_query_response.hex", LEGACY, 0},
        {"tp26_query_response.hex", RFC, 0},
    };
    for (size_t i = 0; i < ARRAY_LEN(v); i++) {
        teep_message_t m;
        uint8_t *buf = decode_vector(v[i].name, v[i].profile, &m);
        assert_int_equal(m.tc_list.count, 1);
        assert_int_equal(m.tc_list.items[0].ptr[0], 0xA2);
        assert_true(m.present & TEEP_OPT_BIT(TEEP_OPT_SELECTED_VERSION));
        assert_int_equal(m.selected_version, 0);
        assert_true(m.present & TEEP_OPT_BIT(TEEP_OPT_ATTESTATION_PAYLOAD));
        assert_int_equal(m.attestation_payload.len, 0);
        assert_int_equal(m.unknown_options.count, 0);
        free(buf);
    }
}

static void libteep_query_response_keeps_obsolete_label_5(void **state)
{
    teep_message_t m;
    uint8_t *buf = decode_vector("libteep_query_response.hex", LEGACY, &m);
    assert_int_equal(m.tc_list.count, 2);
    assert_int_equal(m.unknown_options.count, 1);
    assert_int_equal(m.unknown_options.items[0].label, 5);
    /* [[18, -7]] */
    static const uint8_t value[] = {0x81, 0x82, 0x12, 0x26};
    assert_int_equal(m.unknown_options.items[0].value.len, sizeof(value));
    assert_memory_equal(m.unknown_options.items[0].value.ptr, value,
                        sizeof(value));
    free(buf);
}

static void vector_in_the_other_profile_is_refused(void **state)
{
    size_t len;
    teep_message_t m;
    teep_diag_t diag;
    uint8_t *buf = load("tp_teep_error.hex", &len);
    /* type 6 does not exist in the rfc numbering */
    assert_int_equal(decode(buf, len, RFC, &m, &diag), TEEP_E_MSG_TYPE);
    assert_int_equal(diag.offset, 1);
    free(buf);
}

/* ---- libteep negative vectors ------------------------------------------ */

/* err1 is a draft-08 QueryRequest [1, {token, versions: [1]}, 3]: besides
 * the version it lacks the positional cipher suites and SUIT profiles
 * that the CDDL makes mandatory, so the codec refuses it for that. */
static void libteep_err1_lacks_positional_elements(void **state)
{
    size_t len;
    teep_message_t m;
    teep_diag_t diag;
    uint8_t *buf = load("libteep_query_request_err1.hex", &len);
    assert_int_equal(decode(buf, len, LEGACY, &m, &diag), TEEP_E_MISSING);
    assert_non_null(strstr(diag.reason, "needs 5"));
    free(buf);
}

/* What err1 wants to test, versions [1], is the Agent's decision: in a
 * complete QueryRequest the codec passes it on. */
static void unsupported_version_is_not_a_codec_error(void **state)
{
    size_t len;
    teep_message_t m;
    uint8_t *buf = load("tp_query_request.hex", &len);
    /* "03 81 00": versions [0] -> [1] */
    uint8_t *v = memmem(buf, len, "\x03\x81\x00", 3);
    assert_non_null(v);
    v[2] = 0x01;
    decode_ok(buf, len, LEGACY, &m);
    assert_int_equal(m.versions.count, 1);
    assert_int_equal(m.versions.items[0], 1);
    free(buf);
}

static void libteep_err2_is_refused(void **state)
{
    size_t len;
    teep_message_t m;
    teep_diag_t diag;
    uint8_t *buf = load("libteep_query_request_err2.hex", &len);
    int rc = decode(buf, len, LEGACY, &m, &diag);
    assert_true(rc == TEEP_E_MISSING || rc == TEEP_E_TYPE);
    free(buf);
}

static void libteep_err3_short_token_is_refused(void **state)
{
    size_t len;
    teep_message_t m;
    teep_diag_t diag;
    uint8_t *buf = load("libteep_query_request_err3.hex", &len);
    assert_int_equal(decode(buf, len, LEGACY, &m, &diag), TEEP_E_RANGE);
    assert_string_equal(diag.reason, "token: 2 bytes, must be 8..64");
    assert_int_equal(diag.offset, 4);
    free(buf);
}

/* ---- generated messages with every option ------------------------------ */

static const uint8_t token[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
static const uint8_t challenge[32] = {0xC0, 0xC1, 0xC2};
static const uint8_t evidence[] = {0xD2, 0x84, 0x40, 0xA0, 0x40, 0x40};
static const char format[] = "application/eat+cwt";
static const uint8_t envelope[] = {0xA1, 0x02, 0x40};
static const uint8_t report[] = {0xA1, 0x03, 0x80};
static const uint8_t claims[] = {0xA1, 0x00, 0x81, 0x41,
                                 0x01}; /* {0:[h'01']} */
static const uint8_t claims2[] = {0xA1, 0x0F, 0x01};
static const uint8_t comp_id[] = {0x82, 0x41, 0x61, 0x42, 0x62, 0x63};
static const uint8_t comp_id2[] = {0x81, 0x41, 0x61};
static const uint8_t ext_value[] = {0x82, 0x01, 0x02}; /* [1, 2] */
static const uint8_t text_value[] = {0x61, 0x78};      /* "x" */

static uint32_t versions[] = {0, 1, 0xFFFFFFFF};
static uint32_t ext_list[] = {7, 70000};
static uint64_t freshness[] = {TEEP_FRESHNESS_NONCE, TEEP_FRESHNESS_TIMESTAMP};
static teep_slice_t manifests[] = {{envelope, sizeof(envelope)}, {envelope, 1}};
static teep_slice_t reports[] = {{report, sizeof(report)}};
static teep_slice_t tcs[] = {{claims, sizeof(claims)},
                             {claims2, sizeof(claims2)}};
static teep_slice_t unneeded[] = {{comp_id, sizeof(comp_id)}};
static teep_requested_tc_t requested[] = {
    {.component_id = {comp_id, sizeof(comp_id)}},
    {.component_id = {comp_id, sizeof(comp_id)},
     .has_sequence_number = true,
     .sequence_number = 1ull << 40,
     .has_have_binary = true,
     .have_binary = true},
    {.component_id = {comp_id2, sizeof(comp_id2)}, .has_have_binary = true},
};
static teep_cipher_suite_t suites[] = {
    {1, {{TEEP_COSE_SIGN1, TEEP_ALG_ESP256}}},
    {2, {{TEEP_COSE_SIGN1, TEEP_ALG_ED25519}, {96, -65536}}},
};
static teep_suit_profile_t profiles[] = {
    {4, {-16, -9, -29, -65534}},
    {2, {-16, -19}},
};
static teep_unknown_option_t unknown[] = {
    {40, {ext_value, sizeof(ext_value)}},
    {60, {text_value, sizeof(text_value)}},
};

#define SET_LIST(list, array)                                                  \
    do {                                                                       \
        (list).items = (array);                                                \
        (list).count = ARRAY_LEN(array);                                       \
    } while (0)

static void set_list_option(teep_message_t *m, teep_option_t o)
{
    switch (o) {
    case TEEP_OPT_VERSIONS: SET_LIST(m->versions, versions); break;
    case TEEP_OPT_EXT_LIST: SET_LIST(m->ext_list, ext_list); break;
    case TEEP_OPT_SUPPORTED_FRESHNESS_MECHANISMS:
        SET_LIST(m->freshness_mechanisms, freshness);
        break;
    case TEEP_OPT_MANIFEST_LIST: SET_LIST(m->manifest_list, manifests); break;
    case TEEP_OPT_SUIT_REPORTS: SET_LIST(m->suit_reports, reports); break;
    case TEEP_OPT_TC_LIST: SET_LIST(m->tc_list, tcs); break;
    case TEEP_OPT_UNNEEDED_MANIFEST_LIST:
        SET_LIST(m->unneeded_manifest_list, unneeded);
        break;
    case TEEP_OPT_REQUESTED_TC_LIST:
        SET_LIST(m->requested_tc_list, requested);
        break;
    case TEEP_OPT_SUPPORTED_TEEP_CIPHER_SUITES:
        SET_LIST(m->cipher_suites, suites);
        break;
    default: SET_LIST(m->suit_profiles, profiles); break;
    }
}

static teep_slice_t text(const char *s)
{
    return (teep_slice_t){(const uint8_t *)s, strlen(s)};
}

static void set_option(teep_message_t *m, teep_option_t o)
{
    switch (o) {
    case TEEP_OPT_TOKEN: m->token = (teep_slice_t){token, 16}; break;
    case TEEP_OPT_CHALLENGE:
        m->challenge = (teep_slice_t){challenge, sizeof(challenge)};
        break;
    case TEEP_OPT_ATTESTATION_PAYLOAD:
        m->attestation_payload = (teep_slice_t){evidence, sizeof(evidence)};
        break;
    case TEEP_OPT_ATTESTATION_PAYLOAD_FORMAT:
        m->attestation_payload_format = text(format);
        break;
    case TEEP_OPT_MSG: m->msg = text("installed"); break;
    case TEEP_OPT_ERR_MSG: m->err_msg = text("disk-full"); break;
    case TEEP_OPT_ERR_LANG: m->err_lang = text("en-US"); break;
    case TEEP_OPT_ERR_CODE:
        m->err_code = TEEP_ERR_MANIFEST_PROCESSING_FAILED;
        break;
    case TEEP_OPT_SELECTED_VERSION: m->selected_version = 0xFFFFFFFF; break;
    default: set_list_option(m, o); break;
    }
}

/* A message of type t with every option its CDDL allows, its positional
 * elements and two unknown options. */
static teep_message_t full_message(teep_msg_type_t t)
{
    teep_message_t m = {.type = t};
    for (int o = 0; o < TEEP_OPT_COUNT; o++) {
        if (!teep_option_allowed(t, (teep_option_t)o))
            continue;
        m.present |= TEEP_OPT_BIT(o);
        set_option(&m, (teep_option_t)o);
    }
    if (t == TEEP_QUERY_REQUEST) {
        SET_LIST(m.cipher_suites, suites);
        SET_LIST(m.suit_profiles, profiles);
        m.data_item_requested = TEEP_DATA_ATTESTATION | TEEP_DATA_SUIT_REPORTS;
    } else if (t == TEEP_ERROR) {
        m.err_code = TEEP_ERR_MANIFEST_PROCESSING_FAILED;
    }
    SET_LIST(m.unknown_options, unknown);
    return m;
}

static void assert_slice_equal(teep_slice_t a, teep_slice_t b)
{
    assert_int_equal(a.len, b.len);
    if (a.len > 0)
        assert_memory_equal(a.ptr, b.ptr, a.len);
}

#define ASSERT_LISTS(a, b, cmp)                                                \
    do {                                                                       \
        assert_int_equal((a).count, (b).count);                                \
        for (size_t i_ = 0; i_ < (a).count; i_++)                              \
            cmp(&(a).items[i_], &(b).items[i_]);                               \
    } while (0)

static void cmp_u32(const uint32_t *a, const uint32_t *b)
{
    assert_int_equal(*a, *b);
}

static void cmp_u64(const uint64_t *a, const uint64_t *b)
{
    assert_int_equal(*a, *b);
}

static void cmp_slice(const teep_slice_t *a, const teep_slice_t *b)
{
    assert_slice_equal(*a, *b);
}

static void cmp_suite(const teep_cipher_suite_t *a,
                      const teep_cipher_suite_t *b)
{
    assert_int_equal(a->n_ops, b->n_ops);
    for (int k = 0; k < a->n_ops; k++) {
        assert_int_equal(a->ops[k].cose_type, b->ops[k].cose_type);
        assert_int_equal(a->ops[k].alg, b->ops[k].alg);
    }
}

static void cmp_profile(const teep_suit_profile_t *a,
                        const teep_suit_profile_t *b)
{
    assert_int_equal(a->n, b->n);
    for (int k = 0; k < a->n; k++)
        assert_int_equal(a->alg[k], b->alg[k]);
}

static void cmp_requested(const teep_requested_tc_t *a,
                          const teep_requested_tc_t *b)
{
    assert_slice_equal(a->component_id, b->component_id);
    assert_int_equal(a->has_sequence_number, b->has_sequence_number);
    if (a->has_sequence_number)
        assert_int_equal(a->sequence_number, b->sequence_number);
    assert_int_equal(a->has_have_binary, b->has_have_binary);
    if (a->has_have_binary)
        assert_int_equal(a->have_binary, b->have_binary);
}

static void cmp_unknown(const teep_unknown_option_t *a,
                        const teep_unknown_option_t *b)
{
    assert_int_equal(a->label, b->label);
    assert_slice_equal(a->value, b->value);
}

static void assert_same_message(const teep_message_t *a,
                                const teep_message_t *b)
{
    assert_int_equal(a->type, b->type);
    assert_int_equal(a->present, b->present);
    assert_slice_equal(a->token, b->token);
    assert_slice_equal(a->challenge, b->challenge);
    assert_slice_equal(a->attestation_payload, b->attestation_payload);
    assert_slice_equal(a->attestation_payload_format,
                       b->attestation_payload_format);
    assert_slice_equal(a->msg, b->msg);
    assert_slice_equal(a->err_msg, b->err_msg);
    assert_slice_equal(a->err_lang, b->err_lang);
    assert_int_equal(a->selected_version, b->selected_version);
    assert_int_equal(a->err_code, b->err_code);
    assert_int_equal(a->data_item_requested, b->data_item_requested);
    ASSERT_LISTS(a->cipher_suites, b->cipher_suites, cmp_suite);
    ASSERT_LISTS(a->suit_profiles, b->suit_profiles, cmp_profile);
    ASSERT_LISTS(a->versions, b->versions, cmp_u32);
    ASSERT_LISTS(a->freshness_mechanisms, b->freshness_mechanisms, cmp_u64);
    ASSERT_LISTS(a->ext_list, b->ext_list, cmp_u32);
    ASSERT_LISTS(a->suit_reports, b->suit_reports, cmp_slice);
    ASSERT_LISTS(a->tc_list, b->tc_list, cmp_slice);
    ASSERT_LISTS(a->requested_tc_list, b->requested_tc_list, cmp_requested);
    ASSERT_LISTS(a->unneeded_manifest_list, b->unneeded_manifest_list,
                 cmp_slice);
    ASSERT_LISTS(a->manifest_list, b->manifest_list, cmp_slice);
    ASSERT_LISTS(a->unknown_options, b->unknown_options, cmp_unknown);
}

/* Encode the full message of type t, decode it, compare, re-encode. */
static void full_message_round_trips(teep_msg_type_t t)
{
    static const teep_profile_t profiles_to_test[] = {RFC, LEGACY};
    for (size_t p = 0; p < ARRAY_LEN(profiles_to_test); p++) {
        teep_message_t m = full_message(t), back;
        uint8_t out[4096];
        size_t len;
        assert_int_equal(teep_message_encode(&m, profiles_to_test[p], out,
                                             sizeof(out), &len),
                         0);
        decode_ok(out, len, profiles_to_test[p], &back);
        assert_same_message(&m, &back);
        assert_encodes_to(&back, profiles_to_test[p], out, len);
    }
}

static void full_query_request_round_trips(void **state)
{
    full_message_round_trips(TEEP_QUERY_REQUEST);
}

static void full_query_response_round_trips(void **state)
{
    full_message_round_trips(TEEP_QUERY_RESPONSE);
}

static void full_update_round_trips(void **state)
{
    full_message_round_trips(TEEP_UPDATE);
}

static void full_success_round_trips(void **state)
{
    full_message_round_trips(TEEP_SUCCESS);
}

static void full_error_round_trips(void **state)
{
    full_message_round_trips(TEEP_ERROR);
}

static void encoding_puts_token_first_then_labels_ascending(void **state)
{
    /* legacy Success {40: 0, 11: "a", 20: token}: decodes in any order,
     * encodes as {20: token, 11: "a", 40: 0} */
    static const char in[] = "8205A31828000B61611450"
                             "A0A1A2A3A4A5A6A7A8A9AAABACADAEAF";
    static const char want[] = "8205A3145"
                               "0A0A1A2A3A4A5A6A7A8A9AAABACADAEAF"
                               "0B6161182800";
    teep_message_t m;
    uint8_t buf[64], expect[64];
    size_t len = from_hex(in, buf);
    decode_ok(buf, len, LEGACY, &m);
    assert_true(slice_is(m.msg, "a"));
    assert_encodes_to(&m, LEGACY, expect, from_hex(want, expect));
}

static void unknown_options_come_back_sorted(void **state)
{
    /* legacy Success {41: 1, 40: 2, 5: 3} */
    teep_message_t m;
    teep_diag_t diag;
    assert_int_equal(decode_hex("8205A31829011828020503", LEGACY, &m, &diag),
                     0);
    assert_int_equal(m.unknown_options.count, 3);
    assert_int_equal(m.unknown_options.items[0].label, 5);
    assert_int_equal(m.unknown_options.items[1].label, 40);
    assert_int_equal(m.unknown_options.items[2].label, 41);
}

static void two_element_suit_profiles_round_trip(void **state)
{
    /* QueryRequest [1, {}, [[[18, -7]]], [[-16, -7]], 1] */
    static const char hex[] = "8501A0818182122681822F2601";
    teep_message_t m;
    uint8_t buf[64];
    size_t len = from_hex(hex, buf);
    decode_ok(buf, len, RFC, &m);
    assert_int_equal(m.suit_profiles.count, 1);
    assert_int_equal(m.suit_profiles.items[0].n, 2);
    assert_int_equal(m.suit_profiles.items[0].alg[1], TEEP_ALG_ES256);
    assert_encodes_to(&m, RFC, buf, len);
}

/* ---- rejections -------------------------------------------------------- */

static void every_truncated_prefix_is_refused(void **state)
{
    static const struct vector v[] = {
        {"tp_query_request.hex", LEGACY, 0},
        {"tp26_query_response.hex", RFC, 0},
        {"tp_update.hex", LEGACY, 0},
        {"tp26_teep_error.hex", RFC, 0},
        {"libteep_query_response.hex", LEGACY, 0},
    };
    for (size_t i = 0; i < ARRAY_LEN(v); i++) {
        size_t len;
        uint8_t *buf = load(v[i].name, &len);
        for (size_t cut = 0; cut < len; cut++) {
            /* an exact-size copy, so ASan sees any read past the end */
            uint8_t *prefix = malloc(cut + 1);
            memcpy(prefix, buf, cut);
            teep_message_t m;
            teep_diag_t diag;
            assert_int_equal(decode(prefix, cut, v[i].profile, &m, &diag),
                             TEEP_E_TRUNCATED);
            free(prefix);
        }
        free(buf);
    }
}

static void trailing_byte_is_refused(void **state)
{
    size_t len;
    uint8_t *buf = load("tp_teep_success.hex", &len);
    uint8_t *longer = malloc(len + 1);
    memcpy(longer, buf, len);
    longer[len] = 0x00;
    teep_message_t m;
    teep_diag_t diag;
    assert_int_equal(decode(longer, len + 1, LEGACY, &m, &diag),
                     TEEP_E_TRAILING);
    assert_int_equal(diag.offset, len);
    free(longer);
    free(buf);
}

static void token_of_wrong_type_is_refused(void **state)
{
    /* Success {20: "...16 chars..."} */
    teep_message_t m;
    teep_diag_t diag;
    assert_int_equal(decode_hex("8205A11470"
                                "41414141414141414141414141414141",
                                LEGACY, &m, &diag),
                     TEEP_E_TYPE);
    assert_int_equal(diag.offset, 4);
    assert_non_null(strstr(diag.reason, "token"));
}

/* Success {40: [[[...0...]]]} with n nested arrays. */
static size_t nested_option(uint8_t *buf, size_t n)
{
    size_t len = from_hex("8205A11828", buf);
    memset(buf + len, 0x81, n);
    buf[len + n] = 0x00;
    return len + n + 1;
}

static void deep_nesting_in_unknown_option_is_refused(void **state)
{
    uint8_t buf[64];
    teep_message_t m;
    teep_diag_t diag;
    /* message array, options map and 14 arrays: TEEP_MAX_DEPTH levels */
    size_t len = nested_option(buf, TEEP_MAX_DEPTH - 2);
    decode_ok(buf, len, LEGACY, &m);
    assert_int_equal(m.unknown_options.count, 1);
    assert_encodes_to(&m, LEGACY, buf, len);
    len = nested_option(buf, TEEP_MAX_DEPTH - 1);
    assert_int_equal(decode(buf, len, LEGACY, &m, &diag), TEEP_E_DEPTH);
}

static void duplicate_labels_are_refused(void **state)
{
    teep_message_t m;
    teep_diag_t diag;
    /* known: Error {12: "a", 12: "b"}, 1 */
    assert_int_equal(decode_hex("8306A20C61610C616201", LEGACY, &m, &diag),
                     TEEP_E_DUPLICATE);
    assert_int_equal(diag.offset, 6);
    assert_non_null(strstr(diag.reason, "err-msg"));
    /* unknown: Success {40: 1, 41: 2, 40: 3} */
    assert_int_equal(decode_hex("8205A3182801182902182803", LEGACY, &m, &diag),
                     TEEP_E_DUPLICATE);
    assert_int_equal(diag.offset, 11);
    /* known but not allowed here: Success {10: [], 10: []} */
    assert_int_equal(decode_hex("8205A20A800A80", LEGACY, &m, &diag),
                     TEEP_E_DUPLICATE);
}

static void unknown_message_type_is_refused(void **state)
{
    teep_message_t m;
    teep_diag_t diag;
    /* 4 is reserved in legacy, 6 unassigned in rfc, 0 in both */
    assert_int_equal(decode_hex("8204A0", LEGACY, &m, &diag), TEEP_E_MSG_TYPE);
    assert_int_equal(decode_hex("8306A001", RFC, &m, &diag), TEEP_E_MSG_TYPE);
    assert_int_equal(decode_hex("8200A0", RFC, &m, &diag), TEEP_E_MSG_TYPE);
    assert_int_equal(diag.offset, 1);
}

static void wrong_element_counts_are_refused(void **state)
{
    teep_message_t m;
    teep_diag_t diag;
    assert_int_equal(decode_hex("8304A000", RFC, &m, &diag), TEEP_E_RANGE);
    assert_int_equal(decode_hex("8205A0", RFC, &m, &diag), TEEP_E_MISSING);
    assert_non_null(strstr(diag.reason, "err-code"));
    assert_int_equal(decode_hex("8104", RFC, &m, &diag), TEEP_E_MISSING);
    assert_int_equal(decode_hex("A0", RFC, &m, &diag), TEEP_E_TYPE);
}

/* Legacy Error with one option: {label: tstr/bstr of n bytes}, code 1. */
static size_t error_with(uint8_t *buf, size_t cap, uint64_t label, bool bytes,
                         size_t n)
{
    static const char filler[600] = {0};
    tp_cbor_writer_t w;
    tp_cw_init(&w, buf, cap);
    tp_cw_array(&w, 3);
    tp_cw_uint(&w, 6);
    tp_cw_map(&w, 1);
    tp_cw_uint(&w, label);
    if (bytes)
        tp_cw_bstr(&w, (const uint8_t *)filler, n);
    else
        tp_cw_tstr(&w, filler, n);
    tp_cw_uint(&w, 1);
    assert_int_equal(tp_cw_result(&w), 0);
    return w.len;
}

static int decode_error_with(uint64_t label, bool bytes, size_t n,
                             teep_diag_t *diag)
{
    uint8_t buf[700];
    teep_message_t m;
    size_t len = error_with(buf, sizeof(buf), label, bytes, n);
    return decode(buf, len, LEGACY, &m, diag);
}

static void oversized_token_is_refused(void **state)
{
    teep_diag_t diag;
    assert_int_equal(decode_error_with(20, true, 64, &diag), 0);
    assert_int_equal(decode_error_with(20, true, 65, &diag), TEEP_E_RANGE);
    assert_string_equal(diag.reason, "token: 65 bytes, must be 8..64");
    assert_int_equal(diag.offset, 4);
}

static void oversized_challenge_is_refused(void **state)
{
    teep_diag_t diag;
    assert_int_equal(decode_error_with(2, true, 512, &diag), 0);
    assert_int_equal(decode_error_with(2, true, 513, &diag), TEEP_E_RANGE);
    assert_int_equal(decode_error_with(2, true, 7, &diag), TEEP_E_RANGE);
    assert_non_null(strstr(diag.reason, "challenge"));
}

static void oversized_err_msg_is_refused(void **state)
{
    teep_diag_t diag;
    assert_int_equal(decode_error_with(12, false, 128, &diag), 0);
    assert_int_equal(decode_error_with(12, false, 129, &diag), TEEP_E_RANGE);
    assert_non_null(strstr(diag.reason, "err-msg"));
    assert_int_equal(decode_error_with(12, false, 0, &diag), TEEP_E_RANGE);
    assert_int_equal(decode_error_with(22, false, 36, &diag), TEEP_E_RANGE);
    assert_non_null(strstr(diag.reason, "err-lang"));
}

static void non_uint_label_is_refused(void **state)
{
    teep_message_t m;
    teep_diag_t diag;
    /* Success {"a": 1} */
    assert_int_equal(decode_hex("8205A1616101", LEGACY, &m, &diag),
                     TEEP_E_TYPE);
    assert_int_equal(diag.offset, 3);
}

static void empty_list_is_refused(void **state)
{
    teep_message_t m;
    teep_diag_t diag;
    /* Error {3: []}, 1 */
    assert_int_equal(decode_hex("8306A1038001", LEGACY, &m, &diag),
                     TEEP_E_RANGE);
    assert_non_null(strstr(diag.reason, "versions"));
}

static void malformed_lists_are_refused(void **state)
{
    teep_message_t m;
    teep_diag_t diag;
    /* QueryRequest with a 3-algorithm SUIT profile */
    assert_int_equal(decode_hex("8501A0818182122681832F262601", RFC, &m, &diag),
                     TEEP_E_RANGE);
    /* QueryResponse tc-list [1]: entries must be maps */
    assert_int_equal(decode_hex("8202A1078101", RFC, &m, &diag), TEEP_E_TYPE);
    /* Update unneeded-manifest-list [[1]]: component ids are [+ bstr] */
    assert_int_equal(decode_hex("8203A10E818101", RFC, &m, &diag), TEEP_E_TYPE);
    /* versions [2^32] */
    assert_int_equal(
        decode_hex("8306A103811B000000010000000001", LEGACY, &m, &diag),
        TEEP_E_RANGE);
    /* err-code 0 is reserved */
    assert_int_equal(decode_hex("8305A000", RFC, &m, &diag), TEEP_E_RANGE);
}

static void have_binary_needs_sequence_number(void **state)
{
    teep_message_t m;
    teep_diag_t diag;
    /* rfc QueryResponse {13: [{15: [h'61'], 17: true}]} */
    assert_int_equal(decode_hex("8202A10D81A20F81416111F5", RFC, &m, &diag),
                     TEEP_E_MISSING);
    /* ... with 16: 3 it is fine, and re-encodes with keys in order */
    uint8_t buf[32], want[32];
    size_t len = from_hex("8202A10D81A30F81416111F51003", buf);
    decode_ok(buf, len, RFC, &m);
    assert_int_equal(m.requested_tc_list.items[0].sequence_number, 3);
    assert_true(m.requested_tc_list.items[0].have_binary);
    assert_encodes_to(&m, RFC, want,
                      from_hex("8202A10D81A30F8141611003"
                               "11F5",
                               want));
    /* without component-id */
    assert_int_equal(decode_hex("8202A10D81A11003", RFC, &m, &diag),
                     TEEP_E_MISSING);
}

static void arena_too_small_is_limit(void **state)
{
    size_t len;
    uint8_t *buf = load("tp_query_request.hex", &len);
    teep_arena_t a = fresh_arena(arena_mem, 64);
    teep_message_t m;
    teep_diag_t diag;
    assert_int_equal(teep_message_decode(buf, len, LEGACY, &a, &m, &diag),
                     TEEP_E_LIMIT);
    assert_int_equal(a.used, 0);
    assert_int_equal(m.type, 0);
    assert_non_null(strstr(diag.reason, "arena"));
    /* no arena at all: a message without lists still decodes */
    free(buf);
    buf = load("tp_teep_success.hex", &len);
    assert_int_equal(teep_message_decode(buf, len, LEGACY, NULL, &m, &diag), 0);
    free(buf);
}

static void arena_too_small_for_unknown_options_is_limit(void **state)
{
    size_t len;
    uint8_t *buf = load("libteep_query_response.hex", &len);
    teep_message_t m;
    teep_diag_t diag;
    /* room for the tc-list (2 slices) but not for the unknown option */
    teep_arena_t a = fresh_arena(arena_mem2, 2 * sizeof(teep_slice_t));
    assert_int_equal(teep_message_decode(buf, len, LEGACY, &a, &m, &diag),
                     TEEP_E_LIMIT);
    /* exactly enough */
    a = fresh_arena(arena_mem2,
                    2 * sizeof(teep_slice_t) + sizeof(teep_unknown_option_t));
    assert_int_equal(teep_message_decode(buf, len, LEGACY, &a, &m, &diag), 0);
    assert_int_equal(a.used, a.size);
    assert_int_equal(m.unknown_options.items[0].label, 5);
    free(buf);
}

static void lists_are_aligned_in_an_unaligned_arena(void **state)
{
    size_t len;
    uint8_t *buf = load("libteep_query_response.hex", &len);
    teep_arena_t a;
    teep_message_t m;
    teep_diag_t diag;
    teep_arena_init(&a, (uint8_t *)arena_mem + 3, 1001);
    assert_int_equal(teep_message_decode(buf, len, LEGACY, &a, &m, &diag), 0);
    assert_int_equal((uintptr_t)m.tc_list.items % 8, 0);
    assert_int_equal((uintptr_t)m.unknown_options.items % 8, 0);
    assert_int_equal(m.unknown_options.items[0].label, 5);
    free(buf);
}

static void encode_into_small_buffer_is_enospc(void **state)
{
    teep_message_t m;
    size_t len, out_len;
    uint8_t *buf = load("tp_update.hex", &len);
    decode_ok(buf, len, LEGACY, &m);
    uint8_t *out = malloc(len);
    assert_int_equal(teep_message_encode(&m, LEGACY, out, len - 1, &out_len),
                     -ENOSPC);
    assert_int_equal(out_len, len);
    assert_int_equal(teep_message_encode(&m, LEGACY, NULL, 0, &out_len),
                     -ENOSPC);
    assert_int_equal(out_len, len);
    free(out);
    free(buf);
}

static void encode_refuses_what_breaks_the_cddl(void **state)
{
    uint8_t out[1024];
    size_t len;
    teep_message_t m = full_message(TEEP_SUCCESS);
    m.token.len = 3;
    assert_int_equal(teep_message_encode(&m, RFC, out, sizeof(out), &len),
                     TEEP_E_RANGE);
    m = full_message(TEEP_ERROR);
    m.err_code = 0;
    assert_int_equal(teep_message_encode(&m, RFC, out, sizeof(out), &len),
                     TEEP_E_MISSING);
    m = full_message(TEEP_QUERY_REQUEST);
    m.cipher_suites.count = 0;
    assert_int_equal(teep_message_encode(&m, RFC, out, sizeof(out), &len),
                     TEEP_E_MISSING);
    m = full_message(TEEP_SUCCESS);
    m.suit_reports.count = 0;
    assert_int_equal(teep_message_encode(&m, RFC, out, sizeof(out), &len),
                     TEEP_E_RANGE);
    /* an option Update's CDDL does not have */
    m = full_message(TEEP_UPDATE);
    m.present |= TEEP_OPT_BIT(TEEP_OPT_REQUESTED_TC_LIST);
    assert_int_equal(teep_message_encode(&m, RFC, out, sizeof(out), &len),
                     -EINVAL);
    /* a tc-list entry that is not a map */
    m = full_message(TEEP_QUERY_RESPONSE);
    m.tc_list.count = 1;
    m.tc_list.items = &(teep_slice_t){comp_id, sizeof(comp_id)};
    assert_int_equal(teep_message_encode(&m, RFC, out, sizeof(out), &len),
                     -EINVAL);
}

static void encode_refuses_bad_unknown_options(void **state)
{
    uint8_t out[1024];
    size_t len;
    teep_message_t m = full_message(TEEP_SUCCESS);
    teep_unknown_option_t swapped[] = {unknown[1], unknown[0]};
    SET_LIST(m.unknown_options, swapped);
    assert_int_equal(teep_message_encode(&m, RFC, out, sizeof(out), &len),
                     -EINVAL);
    /* the rfc token label: that option has a model field */
    teep_unknown_option_t token_label[] = {{19, unknown[0].value}};
    SET_LIST(m.unknown_options, token_label);
    assert_int_equal(teep_message_encode(&m, RFC, out, sizeof(out), &len),
                     -EINVAL);
    /* ... but in legacy 19 is suit-reports, which Success allows too */
    assert_int_equal(teep_message_encode(&m, LEGACY, out, sizeof(out), &len),
                     -EINVAL);
    /* two items in one value */
    teep_unknown_option_t two[] = {{40, {ext_value + 1, 2}}};
    SET_LIST(m.unknown_options, two);
    assert_int_equal(teep_message_encode(&m, RFC, out, sizeof(out), &len),
                     -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tp_vectors_round_trip_in_legacy),
        cmocka_unit_test(tp26_vectors_round_trip_in_rfc),
        cmocka_unit_test(libteep_vectors_round_trip_in_legacy),
        cmocka_unit_test(query_request_vectors_carry_positional_elements),
        cmocka_unit_test(libteep_query_request_has_old_algorithms),
        cmocka_unit_test(error_vectors_carry_manifest_processing_failed),
        cmocka_unit_test(update_vectors_carry_one_manifest),
        cmocka_unit_test(query_response_vectors_carry_tc_list),
        cmocka_unit_test(libteep_query_response_keeps_obsolete_label_5),
        cmocka_unit_test(vector_in_the_other_profile_is_refused),
        cmocka_unit_test(libteep_err1_lacks_positional_elements),
        cmocka_unit_test(unsupported_version_is_not_a_codec_error),
        cmocka_unit_test(libteep_err2_is_refused),
        cmocka_unit_test(libteep_err3_short_token_is_refused),
        cmocka_unit_test(full_query_request_round_trips),
        cmocka_unit_test(full_query_response_round_trips),
        cmocka_unit_test(full_update_round_trips),
        cmocka_unit_test(full_success_round_trips),
        cmocka_unit_test(full_error_round_trips),
        cmocka_unit_test(encoding_puts_token_first_then_labels_ascending),
        cmocka_unit_test(unknown_options_come_back_sorted),
        cmocka_unit_test(two_element_suit_profiles_round_trip),
        cmocka_unit_test(every_truncated_prefix_is_refused),
        cmocka_unit_test(trailing_byte_is_refused),
        cmocka_unit_test(token_of_wrong_type_is_refused),
        cmocka_unit_test(deep_nesting_in_unknown_option_is_refused),
        cmocka_unit_test(duplicate_labels_are_refused),
        cmocka_unit_test(unknown_message_type_is_refused),
        cmocka_unit_test(wrong_element_counts_are_refused),
        cmocka_unit_test(oversized_token_is_refused),
        cmocka_unit_test(oversized_challenge_is_refused),
        cmocka_unit_test(oversized_err_msg_is_refused),
        cmocka_unit_test(non_uint_label_is_refused),
        cmocka_unit_test(empty_list_is_refused),
        cmocka_unit_test(malformed_lists_are_refused),
        cmocka_unit_test(have_binary_needs_sequence_number),
        cmocka_unit_test(arena_too_small_is_limit),
        cmocka_unit_test(arena_too_small_for_unknown_options_is_limit),
        cmocka_unit_test(lists_are_aligned_in_an_unaligned_arena),
        cmocka_unit_test(encode_into_small_buffer_is_enospc),
        cmocka_unit_test(encode_refuses_what_breaks_the_cddl),
        cmocka_unit_test(encode_refuses_bad_unknown_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
