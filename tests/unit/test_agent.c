/* Unit tests of the TEEP Agent core (agent/): QueryRequest vectors in,
 * signed QueryResponses and Evidence out; tampered and untrusted
 * messages; Update through the SUIT processor with a mock TEE; principle
 * 1 (PD only in the conversation that attested); anti-rollback; state and
 * keys across a restart. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka.h needs the four above first. */
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "teep_agent.h"
#include "test_agent_tam.h"

static const uint8_t FIRMWARE_DIGEST[32] = {1, 2, 3, 4, 5, 6, 7, 8};
static const uint8_t HWMODEL[] = "teep-test";
static const char PD_TEXT[] = "{\"secret\":\"0123456789abcdef\"}";
static const char TA_BYTES[] = "#!/bin/true a TA executable";

/* The mock TEE: what the Agent asked of it. */
typedef struct mock_tee {
    int ta_installs, ta_restarts, ta_uninstalls, pd_deliveries, ua_installs;
    uint8_t last_pd[256];
    size_t last_pd_len;
    char last_ua[64];
    int fail_ta_install;
    int has_key; /* a TA registered a key: key_sha256 */
    uint8_t key_sha256[32];
} mock_tee_t;

static int mock_ta_install(void *ctx, teep_slice_t id, const uint8_t *bytes,
                           size_t len)
{
    mock_tee_t *m = ctx;
    if (m->fail_ta_install)
        return -EIO;
    if (bytes == NULL)
        m->ta_restarts++;
    else
        m->ta_installs++;
    return 0;
}

static int mock_ta_uninstall(void *ctx, teep_slice_t id)
{
    ((mock_tee_t *)ctx)->ta_uninstalls++;
    return 0;
}

static int mock_pd_deliver(void *ctx, teep_slice_t ta, const uint8_t *pd,
                           size_t len)
{
    mock_tee_t *m = ctx;
    m->pd_deliveries++;
    assert_true(len <= sizeof(m->last_pd));
    memcpy(m->last_pd, pd, len);
    m->last_pd_len = len;
    return 0;
}

static int mock_ua_install(void *ctx, const char *name, const uint8_t *bytes,
                           size_t len)
{
    mock_tee_t *m = ctx;
    m->ua_installs++;
    snprintf(m->last_ua, sizeof(m->last_ua), "%s", name);
    return 0;
}

static int mock_ta_key(void *ctx, teep_slice_t ta, uint8_t sha256[32])
{
    mock_tee_t *m = ctx;
    if (!m->has_key)
        return -ENOENT;
    memcpy(sha256, m->key_sha256, 32);
    return 0;
}

static const teep_agent_tee_ops_t mock_ops = {
    .ta_install = mock_ta_install,
    .ta_uninstall = mock_ta_uninstall,
    .pd_deliver = mock_pd_deliver,
    .ua_install = mock_ua_install,
    .ta_key = mock_ta_key,
};

/* One test's world: a TAM, a state directory, the Agent. */
typedef struct world {
    test_tam_t tam;
    char dir[64];
    const char *uris[1];
    teep_agent_config_t cfg;
    mock_tee_t tee;
    teep_agent_t agent;
    uint8_t arena[TEEP_ARENA_DEFAULT];
} world_t;

static void world_open(world_t *w)
{
    assert_int_equal(teep_agent_open(&w->agent, &w->cfg), 0);
}

static int setup(void **state)
{
    world_t *w = calloc(1, sizeof(*w));
    tam_init(&w->tam);
    snprintf(w->dir, sizeof(w->dir), "/tmp/teep-agent-test-XXXXXX");
    assert_non_null(mkdtemp(w->dir));
    w->uris[0] = "http://tam.example/tam";
    w->cfg = (teep_agent_config_t){
        .state_dir = w->dir,
        .tam_keys = &w->tam.pub,
        .tam_uris = w->uris,
        .n_tams = 1,
        .tc_signer_keys = &w->tam.signer,
        .n_tc_signers = 1,
        .profile = TEEP_AGENT_PROFILE_AUTO,
        .hwmodel = {HWMODEL, sizeof(HWMODEL) - 1},
        .hwversion = "test-1",
        .firmware_uri = "urn:test:agent",
        .firmware_digest = TAM_SLICE(FIRMWARE_DIGEST),
        .tee = &mock_ops,
        .tee_ctx = &w->tee,
    };
    world_open(w);
    *state = w;
    return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
    return remove(path);
}

static int teardown(void **state)
{
    world_t *w = *state;
    teep_agent_close(&w->agent);
    nftw(w->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    tam_clear(&w->tam);
    free(w);
    return 0;
}

/* Process msg in conversation session; the reply must be of type want
 * and verify with the Agent's TEEP key. */
static uint8_t *process(world_t *w, uint64_t session, const uint8_t *msg,
                        size_t len, teep_profile_t profile,
                        teep_msg_type_t want, teep_message_t *reply)
{
    uint8_t *out = NULL;
    size_t out_len = 0;
    assert_int_equal(
        teep_agent_process(&w->agent, session, msg, len, &out, &out_len), 0);
    tam_open_reply(out, out_len, &w->agent.teep_key, profile, want, w->arena,
                   reply);
    return out;
}

/* The Evidence of a QueryResponse appraised as a TAM would. */
static void check_evidence(world_t *w, const teep_message_t *r,
                           teep_slice_t nonce)
{
    assert_true(r->present & TEEP_OPT_BIT(TEEP_OPT_ATTESTATION_PAYLOAD));
    teep_eat_trusted_key_t enrolled = {&w->agent.attest_key, "agent"};
    teep_eat_policy_t policy = {
        .keys = &enrolled,
        .n_keys = 1,
        .nonce = nonce,
        .cnf_kid = {w->agent.teep_key.kid, 32},
    };
    teep_eat_result_t *res = malloc(sizeof(*res));
    assert_int_equal(teep_eat_verify_evidence(r->attestation_payload.ptr,
                                              r->attestation_payload.len,
                                              &policy, res),
                     0);
    for (size_t i = 0; i < res->n_findings; i++)
        print_message("finding %s\n", res->findings[i].text);
    assert_int_equal(res->status, TEEP_EAT_STATUS_AFFIRMING);
    /* The PD key in Evidence is the Agent's. */
    teep_key_t pd;
    tam_evidence_pd_key(r->attestation_payload, &pd);
    assert_memory_equal(pd.kid, w->agent.pd_key.kid, 32);
    teep_key_clear(&pd);
    free(res);
}

static void query_vector(world_t *w, const char *name, teep_profile_t profile)
{
    size_t len = 0;
    uint8_t *qr = vector_load_hex(name, &len);
    assert_non_null(qr);
    teep_message_t r;
    uint8_t *out = process(w, 1, qr, len, profile, TEEP_QUERY_RESPONSE, &r);
    static const uint8_t token[16] = {0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5,
                                      0xA6, 0xA7, 0xA8, 0xA9, 0xAA, 0xAB,
                                      0xAC, 0xAD, 0xAE, 0xAF};
    assert_true(r.present & TEEP_OPT_BIT(TEEP_OPT_TOKEN));
    assert_memory_equal(r.token.ptr, token, 16);
    /* The vectors carry no challenge: the token is the nonce. */
    check_evidence(w, &r, TAM_SLICE(token));
    /* Nothing installed: no tc-list (it is [+ ...]). */
    assert_false(r.present & TEEP_OPT_BIT(TEEP_OPT_TC_LIST));
    free(out);
    free(qr);
}

static void query_request_rfc_vector(void **state)
{
    query_vector(*state, "gen_tp26_query_request_cose_sign1_esp256.hex",
                 TEEP_PROFILE_RFC);
}

static void query_request_legacy_vector(void **state)
{
    query_vector(*state, "gen_tp_query_request_cose_sign1_esp256.hex",
                 TEEP_PROFILE_LEGACY);
}

/* COSE_Sign with an ES256 and an Ed25519 signature: mbedtls checks the
 * one it can. */
static void query_request_cose_sign_vector(void **state)
{
    query_vector(*state, "gen_tp26_query_request_cose_sign.hex",
                 TEEP_PROFILE_RFC);
}

static void query_with_challenge(void **state)
{
    world_t *w = *state;
    size_t len;
    uint8_t *qr = tam_query(&w->tam, true, 3, NULL, 0, TEEP_PROFILE_RFC, &len);
    teep_message_t r;
    uint8_t *out =
        process(w, 2, qr, len, TEEP_PROFILE_RFC, TEEP_QUERY_RESPONSE, &r);
    check_evidence(w, &r, TAM_SLICE(tam_challenge));
    free(out);
    free(qr);
}

static void expect_error(world_t *w, const uint8_t *msg, size_t len,
                         uint64_t err_code)
{
    teep_message_t r;
    uint8_t *out = process(w, 3, msg, len, TEEP_PROFILE_RFC, TEEP_ERROR, &r);
    assert_int_equal(r.err_code, err_code);
    assert_true(r.present & TEEP_OPT_BIT(TEEP_OPT_ERR_MSG));
    free(out);
}

static void tampered_messages_refused(void **state)
{
    world_t *w = *state;
    size_t len;
    uint8_t *qr =
        vector_load_hex("gen_tp26_query_request_cose_sign1_esp256.hex", &len);
    /* A payload byte (the token) changed: the signature fails. */
    for (size_t i = 0; i + 2 < len; i++) {
        if (qr[i] == 0xA0 && qr[i + 1] == 0xA1 && qr[i + 2] == 0xA2) {
            qr[i] ^= 1;
            break;
        }
    }
    expect_error(w, qr, len, TEEP_ERR_PERMANENT_ERROR);
    /* A signature byte changed. */
    qr[len - 1] ^= 0x80;
    expect_error(w, qr, len, TEEP_ERR_PERMANENT_ERROR);
    /* Not CBOR at all. */
    static const uint8_t junk[] = {0xff, 0x00, 0x12};
    expect_error(w, junk, sizeof(junk), TEEP_ERR_PERMANENT_ERROR);
    free(qr);
}

static void untrusted_tam_refused(void **state)
{
    world_t *w = *state;
    teep_key_t other;
    assert_int_equal(teep_key_generate(&other, TEEP_KEY_P256), 0);
    teep_key_clear(&w->tam.key);
    w->tam.key = other;
    size_t len;
    uint8_t *qr = tam_query(&w->tam, true, 3, NULL, 0, TEEP_PROFILE_RFC, &len);
    expect_error(w, qr, len, TEEP_ERR_PERMANENT_ERROR);
    free(qr);
    teep_key_clear(&w->tam.key);
    tam_load_key(&w->tam.key, TAM_KEY_PEM);
}

static void unsupported_version_refused(void **state)
{
    world_t *w = *state;
    static const uint32_t v1[] = {1};
    size_t len;
    uint8_t *qr = tam_query(&w->tam, true, 3, v1, 1, TEEP_PROFILE_RFC, &len);
    teep_message_t r;
    uint8_t *out = process(w, 3, qr, len, TEEP_PROFILE_RFC, TEEP_ERROR, &r);
    assert_int_equal(r.err_code, TEEP_ERR_UNSUPPORTED_MSG_VERSION);
    assert_true(r.present & TEEP_OPT_BIT(TEEP_OPT_VERSIONS));
    assert_int_equal(r.versions.count, 1);
    assert_int_equal(r.versions.items[0], 0);
    free(out);
    free(qr);
}

/* Attest in conversation session: a QueryRequest with a challenge.
 * Returns the PD key the Evidence names. */
static void attest(world_t *w, uint64_t session, teep_key_t *pd_key)
{
    size_t len;
    uint8_t *qr = tam_query(&w->tam, true, 3, NULL, 0, TEEP_PROFILE_RFC, &len);
    teep_message_t r;
    uint8_t *out =
        process(w, session, qr, len, TEEP_PROFILE_RFC, TEEP_QUERY_RESPONSE, &r);
    tam_evidence_pd_key(r.attestation_payload, pd_key);
    free(out);
    free(qr);
}

/* Send an Update with one envelope in session; reply type want, and for
 * an Error, err-msg containing why (unless NULL). */
static void update_why(world_t *w, uint64_t session, uint8_t *env,
                       size_t env_len, teep_msg_type_t want, const char *why)
{
    teep_slice_t e = {env, env_len};
    size_t len;
    uint8_t *up = tam_update(&w->tam, &e, 1, NULL, 0, &len);
    teep_message_t r;
    uint8_t *out = process(w, session, up, len, TEEP_PROFILE_RFC, want, &r);
    /* A report per manifest, nonce = the Update's token. */
    assert_true(r.present & TEEP_OPT_BIT(TEEP_OPT_SUIT_REPORTS));
    assert_int_equal(r.suit_reports.count, 1);
    if (want == TEEP_ERROR)
        assert_int_equal(r.err_code, TEEP_ERR_MANIFEST_PROCESSING_FAILED);
    if (why != NULL) {
        char msg[129];
        snprintf(msg, sizeof(msg), "%.*s", (int)r.err_msg.len,
                 (const char *)r.err_msg.ptr);
        print_message("err-msg: %s\n", msg);
        assert_non_null(strstr(msg, why));
    }
    free(out);
    free(up);
    free(env);
}

static void update_one(world_t *w, uint64_t session, uint8_t *env,
                       size_t env_len, teep_msg_type_t want)
{
    update_why(w, session, env, env_len, want, NULL);
}

static void install_ta(world_t *w, uint64_t seq, teep_msg_type_t want)
{
    size_t len;
    uint8_t *env =
        tam_manifest(&w->tam, "TEEP-Device/hello/ta", seq,
                     (const uint8_t *)TA_BYTES, sizeof(TA_BYTES) - 1, &len);
    update_one(w, 10, env, len, want);
}

/* The claims of the Evidence in a fresh QueryResponse (into *c, pointing
 * into the returned buffer, which the caller frees). */
static uint8_t *evidence_claims(world_t *w, uint64_t session,
                                teep_eat_claims_t *c)
{
    size_t len;
    uint8_t *qr = tam_query(&w->tam, true, 3, NULL, 0, TEEP_PROFILE_RFC, &len);
    teep_message_t r;
    uint8_t *out =
        process(w, session, qr, len, TEEP_PROFILE_RFC, TEEP_QUERY_RESPONSE, &r);
    free(qr);
    check_evidence(w, &r, TAM_SLICE(tam_challenge));
    teep_cose_t cose;
    assert_int_equal(teep_eat_parse(r.attestation_payload.ptr,
                                    r.attestation_payload.len, &cose, c, NULL),
                     0);
    return out;
}

/* ta-keys: the Evidence names the key a running TA registered with the
 * TEE, under the TA's component id; no claim while no TA has one. */
static void evidence_names_ta_key(void **state)
{
    world_t *w = *state;
    install_ta(w, 1, TEEP_SUCCESS);
    teep_eat_claims_t c;
    uint8_t *out = evidence_claims(w, 40, &c);
    assert_false(c.present & TEEP_EAT_HAS_TA_KEYS);
    free(out);
    w->tee.has_key = 1;
    memset(w->tee.key_sha256, 0x5a, 32);
    out = evidence_claims(w, 41, &c);
    assert_true(c.present & TEEP_EAT_HAS_TA_KEYS);
    assert_int_equal(c.n_ta_keys, 1);
    const teep_agent_component_t *ta = &w->agent.components[0];
    assert_int_equal(ta->kind, TEEP_AGENT_KIND_TA);
    assert_int_equal(c.ta_keys[0].component_id.len, ta->id_len);
    assert_memory_equal(c.ta_keys[0].component_id.ptr, ta->id, ta->id_len);
    assert_memory_equal(c.ta_keys[0].key_sha256.ptr, w->tee.key_sha256, 32);
    free(out);
}

static void update_installs_ta_and_rollback_refused(void **state)
{
    world_t *w = *state;
    install_ta(w, 5, TEEP_SUCCESS);
    assert_int_equal(w->tee.ta_installs, 1);
    assert_int_equal(w->agent.n_components, 1);
    /* Same and lower sequence numbers: refused, nothing installed. */
    install_ta(w, 5, TEEP_ERROR);
    install_ta(w, 4, TEEP_ERROR);
    assert_int_equal(w->tee.ta_installs, 1);
    install_ta(w, 6, TEEP_SUCCESS);
    assert_int_equal(w->tee.ta_installs, 2);
    assert_int_equal(w->agent.manifests[0].sequence_number, 6);
}

/* A manifest signed by no trusted TC signer, and an Update whose TEEP
 * signature is broken, install nothing. */
static void tampered_update_refused(void **state)
{
    world_t *w = *state;
    teep_key_t real = w->tam.signer;
    assert_int_equal(teep_key_generate(&w->tam.signer, TEEP_KEY_P256), 0);
    size_t len;
    uint8_t *env =
        tam_manifest(&w->tam, "TEEP-Device/hello/ta", 1,
                     (const uint8_t *)TA_BYTES, sizeof(TA_BYTES) - 1, &len);
    teep_key_clear(&w->tam.signer);
    w->tam.signer = real;
    update_one(w, 12, env, len, TEEP_ERROR);
    env = tam_manifest(&w->tam, "TEEP-Device/hello/ta", 1,
                       (const uint8_t *)TA_BYTES, sizeof(TA_BYTES) - 1, &len);
    teep_slice_t e = {env, len};
    size_t up_len;
    uint8_t *up = tam_update(&w->tam, &e, 1, NULL, 0, &up_len);
    up[up_len - 3] ^= 0x40; /* in the signature */
    expect_error(w, up, up_len, TEEP_ERR_PERMANENT_ERROR);
    assert_int_equal(w->tee.ta_installs, 0);
    assert_int_equal(w->agent.n_components, 0);
    free(up);
    free(env);
}

static void update_installs_ua(void **state)
{
    world_t *w = *state;
    size_t len;
    uint8_t *env = tam_manifest(&w->tam, "TEEP-Device/hello-ua/ua", 1,
                                (const uint8_t *)"ua", 2, &len);
    update_one(w, 11, env, len, TEEP_SUCCESS);
    assert_int_equal(w->tee.ua_installs, 1);
    assert_string_equal(w->tee.last_ua, "hello-ua");
}

static uint8_t *pd_manifest(world_t *w, const teep_key_t *pd_key, uint64_t seq,
                            size_t *len)
{
    return tam_pd_manifest(&w->tam, pd_key, "TEEP-Device/hello/pd", seq,
                           (const uint8_t *)PD_TEXT, sizeof(PD_TEXT) - 1, len);
}

/* Principle 1: PD in a conversation without Evidence is refused, and
 * nothing is delivered; after Evidence in the same conversation it goes
 * to the TA. */
static void pd_only_after_attestation(void **state)
{
    world_t *w = *state;
    install_ta(w, 1, TEEP_SUCCESS);
    /* The key is public anyway (it is in every Evidence). */
    teep_key_t pd_key;
    attest(w, 20, &pd_key);
    size_t len;
    uint8_t *env = pd_manifest(w, &pd_key, 1, &len);
    update_one(w, 21, env, len, TEEP_ERROR); /* another conversation */
    assert_int_equal(w->tee.pd_deliveries, 0);
    env = pd_manifest(w, &pd_key, 1, &len);
    update_one(w, 20, env, len, TEEP_SUCCESS);
    assert_int_equal(w->tee.pd_deliveries, 1);
    assert_int_equal(w->tee.last_pd_len, sizeof(PD_TEXT) - 1);
    assert_memory_equal(w->tee.last_pd, PD_TEXT, sizeof(PD_TEXT) - 1);
    /* The attestation is used up: a second Update needs new Evidence. */
    env = pd_manifest(w, &pd_key, 2, &len);
    update_one(w, 20, env, len, TEEP_ERROR);
    assert_int_equal(w->tee.pd_deliveries, 1);
    teep_key_clear(&pd_key);
}

/* An Update with PD as the first message of a conversation. */
static void pd_before_attestation_refused(void **state)
{
    world_t *w = *state;
    install_ta(w, 1, TEEP_SUCCESS);
    size_t len;
    uint8_t *env = pd_manifest(w, &w->agent.pd_key, 1, &len);
    update_why(w, 30, env, len, TEEP_ERROR, "personalization data refused");
    assert_int_equal(w->tee.pd_deliveries, 0);
    assert_null(w->agent.components[0].pd);
}

static void unneeded_manifest_uninstalled(void **state)
{
    world_t *w = *state;
    install_ta(w, 1, TEEP_SUCCESS);
    uint8_t mid[128];
    teep_slice_t id = tam_id("TEEP-Device/hello/ta.suit", mid, sizeof(mid));
    size_t len;
    uint8_t *up = tam_update(&w->tam, NULL, 0, &id, 1, &len);
    teep_message_t r;
    uint8_t *out = process(w, 40, up, len, TEEP_PROFILE_RFC, TEEP_SUCCESS, &r);
    assert_int_equal(w->tee.ta_uninstalls, 1);
    assert_int_equal(w->agent.n_components, 0);
    assert_int_equal(w->agent.n_manifests, 0);
    free(out);
    free(up);
}

/* Keys, components and PD survive a restart; restore restarts the TA and
 * hands it its PD again. */
static void state_survives_restart(void **state)
{
    world_t *w = *state;
    install_ta(w, 3, TEEP_SUCCESS);
    teep_key_t pd_key;
    attest(w, 50, &pd_key);
    size_t len;
    uint8_t *env = pd_manifest(w, &pd_key, 1, &len);
    update_one(w, 50, env, len, TEEP_SUCCESS);
    uint8_t kid[32], attest_kid[32];
    memcpy(kid, w->agent.teep_key.kid, 32);
    memcpy(attest_kid, w->agent.attest_key.kid, 32);
    teep_agent_close(&w->agent);
    world_open(w);
    assert_memory_equal(w->agent.teep_key.kid, kid, 32);
    assert_memory_equal(w->agent.attest_key.kid, attest_kid, 32);
    assert_memory_equal(w->agent.pd_key.kid, pd_key.kid, 32);
    assert_int_equal(w->agent.n_manifests, 2);
    w->tee.pd_deliveries = 0;
    assert_int_equal(teep_agent_restore(&w->agent), 0);
    assert_int_equal(w->tee.ta_restarts, 1);
    assert_int_equal(w->tee.pd_deliveries, 1);
    /* Rollback protection survived too. */
    install_ta(w, 3, TEEP_ERROR);
    teep_key_clear(&pd_key);
}

/* The public keys a network user registers with the TAM are published in
 * the state directory, and they are the Agent's. */
static void public_keys_published(void **state)
{
    world_t *w = *state;
    static const char *const names[] = {AGENT_PUBLIC_TEEP_KEY,
                                        AGENT_PUBLIC_ATTEST_KEY};
    const teep_key_t *keys[] = {&w->agent.teep_key, &w->agent.attest_key};
    for (size_t i = 0; i < 2; i++) {
        char path[256];
        snprintf(path, sizeof(path), "%s/%s", w->dir, names[i]);
        teep_key_t k;
        assert_int_equal(teep_key_load_file(&k, path), 0);
        assert_false(k.has_private);
        assert_memory_equal(k.kid, keys[i]->kid, 32);
        teep_key_clear(&k);
    }
}

/* A sealed file from elsewhere (or altered) does not open. */
static void tampered_state_refused(void **state)
{
    world_t *w = *state;
    install_ta(w, 1, TEEP_SUCCESS);
    teep_agent_close(&w->agent);
    char path[128];
    snprintf(path, sizeof(path), "%s/state.sealed", w->dir);
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, 30, SEEK_SET);
    int c = fgetc(f);
    fseek(f, 30, SEEK_SET);
    fputc(c ^ 1, f);
    fclose(f);
    assert_int_equal(teep_agent_open(&w->agent, &w->cfg), TEEP_E_SIGNATURE);
    /* Put it back so teardown closes an open agent. */
    f = fopen(path, "r+b");
    fseek(f, 30, SEEK_SET);
    fputc(c, f);
    fclose(f);
    world_open(w);
}

static void request_and_unrequest(void **state)
{
    world_t *w = *state;
    uint8_t buf[128];
    teep_slice_t id = tam_id("TEEP-Device/other/ta", buf, sizeof(buf));
    const char *uri = NULL;
    assert_int_equal(teep_agent_request_ta(&w->agent, id, NULL, &uri), 0);
    assert_string_equal(uri, "http://tam.example/tam");
    /* The next QueryResponse names it in requested-tc-list. */
    size_t len;
    uint8_t *qr = tam_query(&w->tam, true, 3, NULL, 0, TEEP_PROFILE_RFC, &len);
    teep_message_t r;
    uint8_t *out =
        process(w, 60, qr, len, TEEP_PROFILE_RFC, TEEP_QUERY_RESPONSE, &r);
    assert_int_equal(r.requested_tc_list.count, 1);
    assert_memory_equal(r.requested_tc_list.items[0].component_id.ptr, id.ptr,
                        id.len);
    free(out);
    free(qr);
    assert_int_equal(teep_agent_unrequest_ta(&w->agent, id, NULL, &uri), 0);
    assert_null(uri);
    assert_int_equal(w->agent.n_requested, 0);
    const char *tam = NULL;
    teep_agent_policy_check(&w->agent, &tam);
    assert_non_null(tam);
    teep_agent_policy_check(&w->agent, &tam);
    assert_null(tam);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(query_request_rfc_vector),
        T(query_request_legacy_vector),
        T(query_request_cose_sign_vector),
        T(query_with_challenge),
        T(tampered_messages_refused),
        T(untrusted_tam_refused),
        T(unsupported_version_refused),
        T(evidence_names_ta_key),
        T(update_installs_ta_and_rollback_refused),
        T(tampered_update_refused),
        T(update_installs_ua),
        T(pd_only_after_attestation),
        T(pd_before_attestation_refused),
        T(unneeded_manifest_uninstalled),
        T(state_survives_restart),
        T(public_keys_published),
        T(tampered_state_refused),
        T(request_and_unrequest),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
