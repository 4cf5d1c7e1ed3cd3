/*
 * test_agent_tam.h: a test TAM for the Agent and TEE plugin tests
 * (test_agent*.c, test_tee*.c): it signs QueryRequest and Update messages
 * with the published TAM key, builds TA / UA / PD manifests with the SUIT
 * builder, signed by a TC signer key it makes, and opens the Agent's
 * replies.  Every helper fails the running cmocka test on error.
 */
#ifndef TEST_AGENT_TAM_H
#define TEST_AGENT_TAM_H

#include <stdlib.h>
#include <string.h>

#include "teep/cose.h"
#include "teep/eat.h"
#include "teep/message.h"
#include "teep/pd.h"
#include "teep/suit.h"
#include "vectors.h"

#define TAM_KEY_PEM  "keys/libteep_tam_prime256v1.pem"
#define TAM_PUB_PEM  "keys/libteep_tam_prime256v1_pub.pem"
#define TAM_MSG_MAX  (4u << 20)
#define TAM_SLICE(a) ((teep_slice_t){(a), sizeof(a)})
#define TAM_TEXT(s)  ((teep_slice_t){(const uint8_t *)(s), strlen(s)})

static const uint8_t tam_token[16] = {0x10, 0x11, 0x12, 0x13, 0x14, 0x15,
                                      0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b,
                                      0x1c, 0x1d, 0x1e, 0x1f};
static const uint8_t tam_challenge[32] = {
    0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca,
    0xcb, 0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5,
    0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf};

typedef struct test_tam {
    teep_key_t key;    /* TAM signing key (private) */
    teep_key_t pub;    /* its public part: the Agent's trust anchor */
    teep_key_t signer; /* TC signer (private), made per test run */
} test_tam_t;

static inline void tam_load_key(teep_key_t *key, const char *name)
{
    size_t len = 0;
    char *pem = vector_load_text(name, &len);
    assert_non_null(pem);
    assert_int_equal(teep_key_load(key, (const uint8_t *)pem, len), 0);
    free(pem);
}

static inline void tam_init(test_tam_t *t)
{
    memset(t, 0, sizeof(*t));
    tam_load_key(&t->key, TAM_KEY_PEM);
    tam_load_key(&t->pub, TAM_PUB_PEM);
    assert_int_equal(teep_key_generate(&t->signer, TEEP_KEY_P256), 0);
}

static inline void tam_clear(test_tam_t *t)
{
    teep_key_clear(&t->key);
    teep_key_clear(&t->pub);
    teep_key_clear(&t->signer);
}

/* Encode m in profile and COSE_Sign1 it with key into a malloc'd buffer. */
static inline uint8_t *tam_sign(const teep_key_t *key, const teep_message_t *m,
                                teep_profile_t profile, size_t *len)
{
    size_t n = 0;
    int rc = teep_message_encode(m, profile, NULL, 0, &n);
    assert_true(rc == -ENOSPC || rc == 0);
    uint8_t *payload = malloc(n);
    assert_int_equal(teep_message_encode(m, profile, payload, n, &n), 0);
    uint8_t *out = malloc(n + 256);
    teep_signer_t s = {key, 0};
    assert_int_equal(teep_cose_sign1(&s, payload, n, out, n + 256, len), 0);
    free(payload);
    return out;
}

static const teep_cipher_suite_t tam_suites[] = {
    {.n_ops = 1, .ops = {{TEEP_COSE_SIGN1, TEEP_ALG_ESP256}}},
};
static const teep_suit_profile_t tam_profiles[] = {
    {.n = 4, .alg = {-16, TEEP_ALG_ESP256, -29, 1}},
};
static const uint32_t tam_versions[] = {0};

/* A QueryRequest: token, challenge when with_challenge, the given
 * data-item-requested bits, versions (NULL: none sent). */
static inline uint8_t *tam_query(const test_tam_t *t, bool with_challenge,
                                 uint64_t bits, const uint32_t *versions,
                                 size_t n_versions, teep_profile_t profile,
                                 size_t *len)
{
    teep_message_t m;
    memset(&m, 0, sizeof(m));
    m.type = TEEP_QUERY_REQUEST;
    m.present = TEEP_OPT_BIT(TEEP_OPT_TOKEN);
    m.token = TAM_SLICE(tam_token);
    if (with_challenge) {
        m.present |= TEEP_OPT_BIT(TEEP_OPT_CHALLENGE);
        m.challenge = TAM_SLICE(tam_challenge);
    }
    if (versions != NULL) {
        m.present |= TEEP_OPT_BIT(TEEP_OPT_VERSIONS);
        m.versions.items = (uint32_t *)versions;
        m.versions.count = n_versions;
    }
    m.cipher_suites.items = (teep_cipher_suite_t *)tam_suites;
    m.cipher_suites.count = 1;
    m.suit_profiles.items = (teep_suit_profile_t *)tam_profiles;
    m.suit_profiles.count = 1;
    m.data_item_requested = bits;
    return tam_sign(&t->key, &m, profile, len);
}

/* An Update with the envelopes and unneeded manifest ids given. */
static inline uint8_t *tam_update(const test_tam_t *t, const teep_slice_t *envs,
                                  size_t n_envs, const teep_slice_t *unneeded,
                                  size_t n_unneeded, size_t *len)
{
    teep_message_t m;
    memset(&m, 0, sizeof(m));
    m.type = TEEP_UPDATE;
    m.present = TEEP_OPT_BIT(TEEP_OPT_TOKEN);
    m.token = TAM_SLICE(tam_token);
    if (n_envs > 0) {
        m.present |= TEEP_OPT_BIT(TEEP_OPT_MANIFEST_LIST);
        m.manifest_list.items = (teep_slice_t *)envs;
        m.manifest_list.count = n_envs;
    }
    if (n_unneeded > 0) {
        m.present |= TEEP_OPT_BIT(TEEP_OPT_UNNEEDED_MANIFEST_LIST);
        m.unneeded_manifest_list.items = (teep_slice_t *)unneeded;
        m.unneeded_manifest_list.count = n_unneeded;
    }
    return tam_sign(&t->key, &m, TEEP_PROFILE_RFC, len);
}

/* Encoded component identifier of text ("a/b/ta") into out. */
static inline teep_slice_t tam_id(const char *text, uint8_t *out, size_t cap)
{
    size_t n = 0;
    assert_int_equal(teep_suit_component_id_from_text(text, out, cap, &n), 0);
    return (teep_slice_t){out, n};
}

/* Build and sign (TC signer) a manifest for one component. */
static inline uint8_t *tam_build(const test_tam_t *t, teep_suit_build_t *b,
                                 size_t *len)
{
    teep_signer_t s = {&t->signer, 0};
    size_t need = 0;
    assert_int_equal(teep_suit_build(b, &s, NULL, 0, &need), 0);
    uint8_t *out = malloc(need);
    assert_int_equal(teep_suit_build(b, &s, out, need, len), 0);
    return out;
}

/* A manifest that installs payload as component id_text (integrated
 * payload "#c"), manifest id id_text + ".suit". */
static inline uint8_t *tam_manifest(const test_tam_t *t, const char *id_text,
                                    uint64_t seq, const uint8_t *payload,
                                    size_t payload_len, size_t *len)
{
    uint8_t cid[256], mid[256];
    char mtext[256];
    snprintf(mtext, sizeof(mtext), "%s.suit", id_text);
    teep_suit_build_t b = {
        .component_id = tam_id(id_text, cid, sizeof(cid)),
        .manifest_component_id = tam_id(mtext, mid, sizeof(mid)),
        .sequence_number = seq,
        .payload = {payload, payload_len},
        .integrated_name = TAM_TEXT("#c"),
    };
    return tam_build(t, &b, len);
}

/* A manifest that writes plaintext encrypted to pd_key (the Agent's
 * attested PD key) as component id_text. */
static inline uint8_t *tam_pd_manifest(const test_tam_t *t,
                                       const teep_key_t *pd_key,
                                       const char *id_text, uint64_t seq,
                                       const uint8_t *plain, size_t plain_len,
                                       size_t *len)
{
    uint8_t info[TEEP_PD_INFO_MAX];
    uint8_t *ct = malloc(TEEP_PD_CIPHERTEXT_MAX(plain_len));
    size_t info_len = 0, ct_len = 0;
    assert_int_equal(teep_pd_encrypt(pd_key, NULL, plain, plain_len, info,
                                     sizeof(info), &info_len, ct,
                                     TEEP_PD_CIPHERTEXT_MAX(plain_len),
                                     &ct_len),
                     0);
    uint8_t digest[32];
    assert_int_equal(teep_sha256(plain, plain_len, digest), 0);
    uint8_t cid[256], mid[256];
    char mtext[256];
    snprintf(mtext, sizeof(mtext), "%s.suit", id_text);
    teep_suit_build_t b = {
        .component_id = tam_id(id_text, cid, sizeof(cid)),
        .manifest_component_id = tam_id(mtext, mid, sizeof(mid)),
        .sequence_number = seq,
        .payload = {ct, ct_len},
        .encryption_info = {info, info_len},
        .plaintext_digest = digest,
        .plaintext_size = plain_len,
    };
    uint8_t *out = tam_build(t, &b, len);
    free(ct);
    return out;
}

/* Open a reply: COSE_Sign1 (verified with agent_key unless NULL) around
 * a TEEP message of type want in profile.  msg slices point into buf,
 * lists into arena (TEEP_ARENA_DEFAULT bytes). */
static inline void tam_open_reply(const uint8_t *buf, size_t len,
                                  const teep_key_t *agent_key,
                                  teep_profile_t profile, teep_msg_type_t want,
                                  void *arena_mem, teep_message_t *msg)
{
    teep_cose_t cose;
    teep_diag_t diag = {0};
    assert_non_null(buf);
    assert_int_equal(teep_cose_parse(buf, len, &cose, &diag), 0);
    assert_int_equal(cose.tag, 18);
    assert_int_equal(cose.signatures[0].alg, TEEP_ALG_ESP256);
    if (agent_key != NULL)
        assert_int_equal(teep_cose_verify(&cose, agent_key, NULL, 0), 0);
    teep_arena_t arena;
    teep_arena_init(&arena, arena_mem, TEEP_ARENA_DEFAULT);
    int rc = teep_message_decode(cose.payload.ptr, cose.payload.len, profile,
                                 &arena, msg, &diag);
    if (rc != 0)
        print_error("reply: %s at %zu\n", diag.reason, diag.offset);
    assert_int_equal(rc, 0);
    if (msg->type != want && msg->type == TEEP_ERROR)
        print_error("Error %llu: %.*s\n", (unsigned long long)msg->err_code,
                    (int)msg->err_msg.len, (const char *)msg->err_msg.ptr);
    assert_int_equal(msg->type, want);
}

/* The pd-key claim of Evidence (not verified: the test plays the data
 * owner after the TAM's appraisal) as a key. */
static inline void tam_evidence_pd_key(teep_slice_t evidence, teep_key_t *key)
{
    teep_cose_t cose;
    teep_eat_claims_t *claims = malloc(sizeof(*claims));
    assert_int_equal(
        teep_eat_parse(evidence.ptr, evidence.len, &cose, claims, NULL), 0);
    assert_true(claims->present & TEEP_EAT_HAS_PD_KEY);
    assert_int_equal(
        teep_key_from_cose(key, claims->pd_key.ptr, claims->pd_key.len), 0);
    free(claims);
}

#endif
