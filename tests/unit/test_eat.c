/* Unit tests of the EAT claims codec and the Verifier (proto/eat.c,
 * proto/eat_verify.c), against the libteep vectors and tokens made here. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka.h needs the four above first. */
#include <cmocka.h>

#include "cbor_writer.h"
#include "teep/eat.h"
#include "vectors.h"

/* Values of libteep_evidence.diag (and of the claims the libteep
 * attestation result repeats). */
static const uint8_t lt_nonce[16] = {0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5,
                                     0xA6, 0xA7, 0xA8, 0xA9, 0xAA, 0xAB,
                                     0xAC, 0xAD, 0xAE, 0xAF};
static const uint8_t lt_ueid[16] = {0x01, 0x98, 0xF5, 0x0A, 0x4F, 0xF6,
                                    0xC0, 0x58, 0x61, 0xC8, 0x86, 0x0D,
                                    0x13, 0xA6, 0x38, 0xEA};
static const uint8_t lt_oemid[3] = {0x89, 0x48, 0x23};
static const uint8_t lt_hwmodel[16] = {0x54, 0x9D, 0xCE, 0xCC, 0x8B, 0x98,
                                       0x7C, 0x73, 0x7B, 0x44, 0xE4, 0x0F,
                                       0x7C, 0x63, 0x5C, 0xE8};
static const uint8_t lt_cnf[32] = {
    0xFB, 0x30, 0xD5, 0x69, 0x7E, 0x41, 0xAE, 0x46, 0xAB, 0x43, 0x35,
    0x7C, 0xEA, 0x7A, 0xCE, 0xB9, 0x11, 0x32, 0xED, 0x85, 0xC1, 0x63,
    0x48, 0x99, 0xD3, 0xC1, 0x98, 0xD1, 0x6C, 0xBC, 0xE7, 0x18};
static const uint8_t lt_agent_kid[32] = {
    0xE9, 0x67, 0x88, 0xB1, 0x0B, 0x16, 0x10, 0xAB, 0xE4, 0x78, 0xF9,
    0xCE, 0x8D, 0xCF, 0xE2, 0x30, 0x4C, 0x09, 0x11, 0xDD, 0x8C, 0xFE,
    0xAD, 0xDE, 0x25, 0xEC, 0x30, 0xCC, 0xB5, 0xA7, 0xB5, 0xAF};

#define NOW       1760000000
#define TOKEN_CAP 4096
#define SLICE(a)  ((teep_slice_t){(a), sizeof(a)})
#define TEXT(s)   ((teep_slice_t){(const uint8_t *)(s), sizeof(s) - 1})

static void assert_slice(teep_slice_t s, const void *want, size_t len)
{
    assert_int_equal(s.len, len);
    assert_memory_equal(s.ptr, want, len);
}

static void assert_text(teep_slice_t s, const char *want)
{
    assert_slice(s, want, strlen(want));
}

static bool has_reason(const teep_eat_result_t *r, teep_eat_reason_t reason)
{
    for (size_t i = 0; i < r->n_findings; i++)
        if (r->findings[i].reason == reason)
            return true;
    return false;
}

static void print_findings(const teep_eat_result_t *r)
{
    for (size_t i = 0; i < r->n_findings; i++)
        print_message("  finding: %s (%s): %s\n",
                      teep_eat_reason_name(r->findings[i].reason),
                      teep_eat_status_name(r->findings[i].tier),
                      r->findings[i].text);
}

/* Exactly the one reason, and the status its tier gives. */
static void assert_only_reason(const teep_eat_result_t *r,
                               teep_eat_reason_t reason)
{
    if (r->n_findings != 1 || r->findings[0].reason != reason)
        print_findings(r);
    assert_int_equal(r->n_findings, 1);
    assert_int_equal(r->findings[0].reason, reason);
    assert_int_equal(r->status, teep_eat_reason_tier(reason));
}

static void load_key_file(teep_key_t *key, const char *name)
{
    size_t len = 0;
    char *text = vector_load_text(name, &len);
    assert_non_null(text);
    assert_int_equal(teep_key_load(key, (const uint8_t *)text, len), 0);
    free(text);
}

/* The libteep claims that both vectors carry. */
static void assert_libteep_claims(const teep_eat_claims_t *c, const char *iss)
{
    assert_text(c->iss, iss);
    assert_slice(c->cnf_kid, lt_cnf, sizeof(lt_cnf));
    assert_slice(c->nonce, lt_nonce, sizeof(lt_nonce));
    assert_slice(c->ueid, lt_ueid, sizeof(lt_ueid));
    assert_false(c->oemid.is_pen);
    assert_slice(c->oemid.id, lt_oemid, sizeof(lt_oemid));
    assert_slice(c->hwmodel, lt_hwmodel, sizeof(lt_hwmodel));
    assert_text(c->hwversion.version, "1.3.4");
    assert_true(c->hwversion.as_bytes); /* libteep writes a bstr */
    assert_true(c->hwversion.has_scheme);
    assert_int_equal(c->hwversion.scheme, 1);
    assert_int_equal(c->n_unknown, 1);
    assert_int_equal(c->unknown[0].label, -70000);
    assert_null(c->unknown[0].text_label.ptr);
    assert_int_equal(c->unknown[0].value.len, 17); /* 0x50 + 16 bytes */
    assert_int_equal(c->present, TEEP_EAT_HAS_ISS | TEEP_EAT_HAS_CNF |
                                     TEEP_EAT_HAS_NONCE | TEEP_EAT_HAS_UEID |
                                     TEEP_EAT_HAS_OEMID | TEEP_EAT_HAS_HWMODEL |
                                     TEEP_EAT_HAS_HWVERSION);
}

/* ---- libteep vectors ---------------------------------------------------- */

static void libteep_evidence_claims_decode(void **state)
{
    size_t len;
    uint8_t *buf = vector_load_hex("libteep_evidence.hex", &len);
    assert_non_null(buf);
    teep_eat_claims_t c;
    teep_diag_t diag = {0};
    int rc = teep_eat_claims_decode(buf, len, &c, &diag);
    if (rc != 0)
        print_error("%s at %zu\n", diag.reason, diag.offset);
    assert_int_equal(rc, 0);
    assert_libteep_claims(&c, "Intel SGX TEEP Agent");
    /* zero-copy: the slices point into the input */
    assert_true(c.ueid.ptr > buf && c.ueid.ptr < buf + len);
    free(buf);
}

static void libteep_evidence_cose_verifies(void **state)
{
    size_t len;
    uint8_t *buf = vector_load_hex("libteep_evidence_cose.hex", &len);
    assert_non_null(buf);
    teep_key_t agent;
    load_key_file(&agent, "keys/libteep_teep_agent_prime256v1_pub.pem");
    assert_memory_equal(agent.kid, lt_agent_kid, 32);
    const teep_eat_trusted_key_t keys[] = {{&agent, "libteep-agent"}};
    const teep_slice_t models[] = {SLICE(lt_hwmodel)};
    teep_eat_policy_t policy = {
        .keys = keys,
        .n_keys = 1,
        .hwmodels = models,
        .n_hwmodels = 1,
        .nonce = SLICE(lt_nonce),
        .cnf_kid = SLICE(lt_cnf),
        .now = NOW,
    };
    teep_eat_result_t res;
    assert_int_equal(teep_eat_verify_evidence(buf, len, &policy, &res), 0);
    assert_true(res.claims_verified);
    assert_ptr_equal(res.key, &keys[0]);
    assert_slice(res.kid, lt_agent_kid, 32);
    assert_libteep_claims(&res.claims, "Intel SGX TEEP Agent");
    /* Genuine, fresh and bound, but written before the profile required
     * manifests: a warning, not an affirmation. */
    assert_only_reason(&res, TEEP_EAT_R_CLAIM_MISSING);
    assert_non_null(strstr(res.findings[0].text, "manifests"));

    /* the same vector parses for inspection */
    teep_cose_t cose;
    teep_eat_claims_t c;
    assert_int_equal(teep_eat_parse(buf, len, &cose, &c, NULL), 0);
    assert_int_equal(cose.signatures[0].alg, -7);
    assert_libteep_claims(&c, "Intel SGX TEEP Agent");
    teep_key_clear(&agent);
    free(buf);
}

static void libteep_attestation_results_verify(void **state)
{
    size_t len;
    uint8_t *buf =
        vector_load_hex("libteep_attestation_results_cose.hex", &len);
    assert_non_null(buf);
    teep_key_t verifier, agent;
    load_key_file(&verifier, "keys/libteep_verifier_es256_cose_key_public.hex");
    load_key_file(&agent, "keys/libteep_teep_agent_prime256v1_pub.pem");
    const teep_eat_trusted_key_t keys[] = {{&verifier, "naive-verifier"}};
    teep_eat_policy_t policy = {
        .keys = keys,
        .n_keys = 1,
        .nonce = SLICE(lt_nonce),
        .cnf_kid = SLICE(lt_cnf),
        .now = NOW,
    };
    teep_eat_result_t res;
    assert_int_equal(teep_eat_verify_ar(buf, len, &policy, &res), 0);
    assert_true(res.claims_verified);
    assert_ptr_equal(res.key, &keys[0]);
    assert_libteep_claims(&res.claims, "Naive Verifier");
    /* libteep's result states no status: not an affirmation */
    assert_only_reason(&res, TEEP_EAT_R_AR_NO_STATUS);

    /* the Agent's key is no Verifier */
    const teep_eat_trusted_key_t wrong[] = {{&agent, "agent"}};
    policy.keys = wrong;
    assert_int_equal(teep_eat_verify_ar(buf, len, &policy, &res), 0);
    assert_only_reason(&res, TEEP_EAT_R_UNKNOWN_KEY);
    assert_false(res.claims_verified);

    /* the decoded unsigned claims agree */
    uint8_t *claims = vector_load_hex("libteep_attestation_results.hex", &len);
    teep_eat_claims_t c;
    assert_int_equal(teep_eat_claims_decode(claims, len, &c, NULL), 0);
    assert_libteep_claims(&c, "Naive Verifier");
    free(claims);
    teep_key_clear(&verifier);
    teep_key_clear(&agent);
    free(buf);
}

/* ---- Evidence made here ------------------------------------------------- */

static const uint8_t nonce[16] = {1, 2,  3,  4,  5,  6,  7,  8,
                                  9, 10, 11, 12, 13, 14, 15, 16};
static const uint8_t ueid[17] = {0x01, 0x11, 0x22, 0x33, 0x44, 0x55,
                                 0x66, 0x77, 0x88, 0x99, 0xAA, 0xBB,
                                 0xCC, 0xDD, 0xEE, 0xFF, 0x00};
static const uint8_t hwmodel[8] = {'c', 'c', '-', 'n', 'o', 'd', 'e', '1'};
static const uint8_t other_model[8] = {'c', 'c', '-', 'n', 'o', 'd', 'e', '2'};
static const uint8_t digest[32] = {
    0x8C, 0xF7, 0x1A, 0xC8, 0x6A, 0xF3, 0x1B, 0xE2, 0x2F, 0x7E, 0x81,
    0x29, 0x7E, 0x5D, 0x76, 0x59, 0x9D, 0x23, 0xF7, 0x05, 0x7C, 0xFB,
    0x0E, 0x34, 0x2F, 0x3C, 0x4F, 0x2E, 0xB7, 0x44, 0xEC, 0xE8};

typedef struct fixture {
    teep_key_t attestation; /* the device's attestation key */
    teep_key_t teep;        /* the Agent's TEEP signing key: cnf */
    teep_key_t stranger;    /* enrolled nowhere */
    teep_key_t verifier;    /* signs Attestation Results */
    teep_eat_trusted_key_t enrolled[2];
    teep_slice_t models[1];
    teep_eat_sw_ref_t sw[1];
    teep_slice_t digests[1];
    teep_eat_policy_t policy;
    teep_eat_claims_t claims;
    uint8_t token[TOKEN_CAP];
    size_t token_len;
    teep_eat_result_t res;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    assert_int_equal(teep_key_generate(&f->attestation, TEEP_KEY_P256), 0);
    assert_int_equal(teep_key_generate(&f->teep, TEEP_KEY_P256), 0);
    assert_int_equal(teep_key_generate(&f->stranger, TEEP_KEY_P256), 0);
    assert_int_equal(teep_key_generate(&f->verifier, TEEP_KEY_P256), 0);

    teep_eat_claims_t *c = &f->claims;
    c->present = TEEP_EAT_HAS_IAT | TEEP_EAT_HAS_CNF | TEEP_EAT_HAS_NONCE |
                 TEEP_EAT_HAS_UEID | TEEP_EAT_HAS_OEMID | TEEP_EAT_HAS_HWMODEL |
                 TEEP_EAT_HAS_HWVERSION | TEEP_EAT_HAS_PROFILE |
                 TEEP_EAT_HAS_SWNAME | TEEP_EAT_HAS_SWVERSION |
                 TEEP_EAT_HAS_MANIFESTS;
    c->iat = NOW - 5;
    c->cnf_kid = (teep_slice_t){f->teep.kid, sizeof(f->teep.kid)};
    c->nonce = SLICE(nonce);
    c->ueid = SLICE(ueid);
    c->oemid.id = SLICE(lt_oemid);
    c->hwmodel = SLICE(hwmodel);
    c->hwversion = (teep_eat_version_t){
        .version = TEXT("1.3.4"), .has_scheme = true, .scheme = 1};
    c->profile = TEXT(TEEP_EAT_PROFILE_URI);
    c->swname = TEXT("teep-agent");
    c->swversion = (teep_eat_version_t){.version = TEXT("0.1.0")};
    c->n_manifests = 1;
    c->manifests[0] = (teep_eat_manifest_t){
        .content_type = TEEP_EAT_MANIFEST_CONTENT_TYPE,
        .uri = TEXT("https://tam.example/agent.suit"),
        .digest_alg = -16,
        .digest = SLICE(digest),
    };

    f->enrolled[0] = (teep_eat_trusted_key_t){&f->attestation, "device-1"};
    f->enrolled[1] = (teep_eat_trusted_key_t){&f->verifier, "verifier"};
    f->models[0] = SLICE(hwmodel);
    f->sw[0] = (teep_eat_sw_ref_t){"teep-agent", "0.1.0"};
    f->digests[0] = SLICE(digest);
    f->policy = (teep_eat_policy_t){
        .keys = f->enrolled,
        .n_keys = 1,
        .hwmodels = f->models,
        .n_hwmodels = 1,
        .sw = f->sw,
        .n_sw = 1,
        .manifest_digests = f->digests,
        .n_manifest_digests = 1,
        .nonce = SLICE(nonce),
        .cnf_kid = {f->teep.kid, sizeof(f->teep.kid)},
        .now = NOW,
        .challenge_time = NOW - 10,
        .max_age = 300,
        .clock_skew = 2,
    };
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    teep_key_clear(&f->attestation);
    teep_key_clear(&f->teep);
    teep_key_clear(&f->stranger);
    teep_key_clear(&f->verifier);
    free(f);
    return 0;
}

static void sign_with(fixture_t *f, const teep_key_t *key)
{
    teep_signer_t signer = {key, 0};
    int rc = teep_eat_sign(&signer, &f->claims, f->token, sizeof(f->token),
                           &f->token_len);
    assert_int_equal(rc, 0);
}

static void sign(fixture_t *f)
{
    sign_with(f, &f->attestation);
}

static int appraise(fixture_t *f)
{
    return teep_eat_verify_evidence(f->token, f->token_len, &f->policy,
                                    &f->res);
}

static void good_evidence_affirmed(void **state)
{
    fixture_t *f = *state;
    sign(f);
    assert_int_equal(appraise(f), 0);
    if (f->res.n_findings != 0)
        print_findings(&f->res);
    assert_int_equal(f->res.n_findings, 0);
    assert_int_equal(f->res.status, TEEP_EAT_STATUS_AFFIRMING);
    assert_ptr_equal(f->res.key, &f->enrolled[0]);
    assert_slice(f->res.kid, f->attestation.kid, 32);
    const teep_eat_claims_t *c = &f->res.claims;
    assert_slice(c->nonce, nonce, sizeof(nonce));
    assert_slice(c->ueid, ueid, sizeof(ueid));
    assert_slice(c->hwmodel, hwmodel, sizeof(hwmodel));
    assert_int_equal(c->iat, NOW - 5);
    assert_text(c->profile, TEEP_EAT_PROFILE_URI);
    assert_text(c->swname, "teep-agent");
    assert_false(c->hwversion.as_bytes);
    assert_int_equal(c->n_manifests, 1);
    assert_text(c->manifests[0].uri, "https://tam.example/agent.suit");
    assert_slice(c->manifests[0].digest, digest, sizeof(digest));
    /* the device's key also verifies when it is not the first enrolled */
    f->enrolled[1] = f->enrolled[0];
    f->enrolled[0] = (teep_eat_trusted_key_t){&f->stranger, "other"};
    f->policy.n_keys = 2;
    assert_int_equal(appraise(f), 0);
    assert_int_equal(f->res.status, TEEP_EAT_STATUS_AFFIRMING);
    assert_ptr_equal(f->res.key, &f->enrolled[1]);
}

static void wrong_nonce_rejected(void **state)
{
    fixture_t *f = *state;
    static const uint8_t other[16] = {0xFF};
    sign(f);
    f->policy.nonce = SLICE(other);
    assert_int_equal(appraise(f), 0);
    assert_only_reason(&f->res, TEEP_EAT_R_NONCE_MISMATCH);
    assert_int_equal(f->res.status, TEEP_EAT_STATUS_CONTRAINDICATED);
    f->claims.present &= ~(uint32_t)TEEP_EAT_HAS_NONCE;
    sign(f);
    assert_int_equal(appraise(f), 0);
    assert_true(has_reason(&f->res, TEEP_EAT_R_NONCE_MISSING));
    assert_int_equal(f->res.status, TEEP_EAT_STATUS_CONTRAINDICATED);
}

static void stale_rejected(void **state)
{
    fixture_t *f = *state;
    f->claims.iat = NOW - 1000;
    sign(f);
    assert_int_equal(appraise(f), 0);
    assert_only_reason(&f->res, TEEP_EAT_R_STALE);
    /* from the future */
    f->claims.iat = NOW + 60;
    sign(f);
    assert_int_equal(appraise(f), 0);
    assert_only_reason(&f->res, TEEP_EAT_R_STALE);
    /* an iat the clock cannot subtract from */
    f->claims.iat = INT64_MIN;
    sign(f);
    assert_int_equal(appraise(f), 0);
    assert_only_reason(&f->res, TEEP_EAT_R_STALE);
    /* a fresh token answering a challenge that expired */
    f->claims.iat = NOW;
    sign(f);
    f->policy.challenge_time = NOW - 1000;
    assert_int_equal(appraise(f), 0);
    assert_only_reason(&f->res, TEEP_EAT_R_STALE);
    /* no iat and no challenge time: the age cannot be shown */
    f->claims.present &= ~(uint32_t)TEEP_EAT_HAS_IAT;
    sign(f);
    f->policy.challenge_time = 0;
    assert_int_equal(appraise(f), 0);
    assert_only_reason(&f->res, TEEP_EAT_R_STALE);
    /* no freshness asked for at all: a warning */
    f->policy.max_age = 0;
    f->policy.nonce = (teep_slice_t){NULL, 0};
    assert_int_equal(appraise(f), 0);
    assert_only_reason(&f->res, TEEP_EAT_R_NOT_FRESH);
    assert_int_equal(f->res.status, TEEP_EAT_STATUS_WARNING);
}

static void unknown_key_rejected(void **state)
{
    fixture_t *f = *state;
    sign_with(f, &f->stranger);
    assert_int_equal(appraise(f), 0);
    assert_only_reason(&f->res, TEEP_EAT_R_UNKNOWN_KEY);
    assert_false(f->res.claims_verified);
    assert_null(f->res.key);
    assert_int_equal(f->res.claims.present, 0);
    /* nobody enrolled at all */
    f->policy.n_keys = 0;
    assert_int_equal(appraise(f), 0);
    assert_only_reason(&f->res, TEEP_EAT_R_UNKNOWN_KEY);
}

static void unknown_hwmodel_rejected(void **state)
{
    fixture_t *f = *state;
    sign(f);
    f->models[0] = SLICE(other_model);
    assert_int_equal(appraise(f), 0);
    assert_only_reason(&f->res, TEEP_EAT_R_UNKNOWN_MODEL);
    /* an empty list allows any model */
    f->policy.n_hwmodels = 0;
    assert_int_equal(appraise(f), 0);
    assert_int_equal(f->res.status, TEEP_EAT_STATUS_AFFIRMING);
}

static void swname_not_allowed_rejected(void **state)
{
    fixture_t *f = *state;
    sign(f);
    f->sw[0] = (teep_eat_sw_ref_t){"other-agent", NULL};
    assert_int_equal(appraise(f), 0);
    assert_only_reason(&f->res, TEEP_EAT_R_SW_NOT_ALLOWED);
    /* right name, wrong version */
    f->sw[0] = (teep_eat_sw_ref_t){"teep-agent", "0.0.9"};
    assert_int_equal(appraise(f), 0);
    assert_only_reason(&f->res, TEEP_EAT_R_SW_NOT_ALLOWED);
    /* any version of the name */
    f->sw[0] = (teep_eat_sw_ref_t){"teep-agent", NULL};
    assert_int_equal(appraise(f), 0);
    assert_int_equal(f->res.status, TEEP_EAT_STATUS_AFFIRMING);
}

static void manifest_digest_not_allowed_rejected(void **state)
{
    fixture_t *f = *state;
    static const uint8_t other[32] = {0x01};
    sign(f);
    f->digests[0] = SLICE(other);
    assert_int_equal(appraise(f), 0);
    assert_only_reason(&f->res, TEEP_EAT_R_MANIFEST_NOT_ALLOWED);
}

static void cnf_mismatch_rejected(void **state)
{
    fixture_t *f = *state;
    sign(f);
    f->policy.cnf_kid = (teep_slice_t){f->stranger.kid, 32};
    assert_int_equal(appraise(f), 0);
    assert_only_reason(&f->res, TEEP_EAT_R_CNF_MISMATCH);
    /* no cnf in the token */
    f->claims.present &= ~(uint32_t)TEEP_EAT_HAS_CNF;
    sign(f);
    assert_int_equal(appraise(f), 0);
    assert_only_reason(&f->res, TEEP_EAT_R_CNF_MISSING);
    /* the policy does not check possession: two warnings */
    f->policy.cnf_kid = (teep_slice_t){NULL, 0};
    assert_int_equal(appraise(f), 0);
    assert_int_equal(f->res.status, TEEP_EAT_STATUS_WARNING);
    assert_true(has_reason(&f->res, TEEP_EAT_R_CNF_UNCHECKED));
    assert_true(has_reason(&f->res, TEEP_EAT_R_CLAIM_MISSING));
}

static void profile_mismatch_rejected(void **state)
{
    fixture_t *f = *state;
    f->claims.profile = TEXT("tag:example.com,2024:other");
    sign(f);
    assert_int_equal(appraise(f), 0);
    assert_only_reason(&f->res, TEEP_EAT_R_PROFILE_MISMATCH);
}

static void tampered_claim_rejected(void **state)
{
    fixture_t *f = *state;
    sign(f);
    uint8_t *at = memmem(f->token, f->token_len, ueid, sizeof(ueid));
    assert_non_null(at);
    at[5] ^= 0x01;
    assert_int_equal(appraise(f), 0);
    assert_only_reason(&f->res, TEEP_EAT_R_BAD_SIGNATURE);
    assert_false(f->res.claims_verified);
    assert_null(f->res.key);
}

static void truncated_rejected_at_every_length(void **state)
{
    fixture_t *f = *state;
    sign(f);
    for (size_t n = 0; n < f->token_len; n++) {
        /* a copy of exactly n bytes, so the sanitizers see any overread */
        uint8_t *cut = malloc(n > 0 ? n : 1);
        memcpy(cut, f->token, n);
        int rc = teep_eat_verify_evidence(cut, n, &f->policy, &f->res);
        if (rc != TEEP_E_TRUNCATED)
            print_error("length %zu: %s\n", n, f->res.diag.reason);
        assert_int_equal(rc, TEEP_E_TRUNCATED);
        assert_only_reason(&f->res, TEEP_EAT_R_MALFORMED);
        assert_int_equal(f->res.diag.code, TEEP_E_TRUNCATED);
        assert_false(f->res.claims_verified);
        free(cut);
    }
    /* and one byte too many */
    f->token[f->token_len] = 0;
    assert_int_equal(teep_eat_verify_evidence(f->token, f->token_len + 1,
                                              &f->policy, &f->res),
                     TEEP_E_TRAILING);
    assert_only_reason(&f->res, TEEP_EAT_R_MALFORMED);
}

static void cwt_tag_accepted(void **state)
{
    fixture_t *f = *state;
    sign(f);
    memmove(f->token + 2, f->token, f->token_len);
    f->token[0] = 0xD8;
    f->token[1] = 61;
    f->token_len += 2;
    assert_int_equal(appraise(f), 0);
    assert_int_equal(f->res.status, TEEP_EAT_STATUS_AFFIRMING);
}

/* ---- Signed Attestation Results (passport) ----------------------------- */

static void signed_ar_round_trip(void **state)
{
    fixture_t *f = *state;
    sign(f);
    assert_int_equal(appraise(f), 0);
    assert_int_equal(f->res.status, TEEP_EAT_STATUS_AFFIRMING);

    uint8_t ar[TOKEN_CAP];
    size_t ar_len;
    teep_signer_t verifier = {&f->verifier, 0};
    assert_int_equal(teep_eat_ar_sign(&verifier, &f->res, "test-verifier", NOW,
                                      ar, sizeof(ar), &ar_len),
                     0);

    /* the TAM trusts the Verifier's key, not the device's */
    const teep_eat_trusted_key_t trusted[] = {{&f->verifier, "verifier"}};
    teep_eat_policy_t tam = f->policy;
    tam.keys = trusted;
    tam.n_keys = 1;
    teep_eat_result_t got;
    assert_int_equal(teep_eat_verify_ar(ar, ar_len, &tam, &got), 0);
    if (got.n_findings != 0)
        print_findings(&got);
    assert_int_equal(got.status, TEEP_EAT_STATUS_AFFIRMING);
    assert_ptr_equal(got.key, &trusted[0]);
    const teep_eat_claims_t *c = &got.claims;
    assert_true(c->present & TEEP_EAT_HAS_AR_STATUS);
    assert_int_equal(c->ar_status, TEEP_EAT_STATUS_AFFIRMING);
    assert_false(c->present & TEEP_EAT_HAS_AR_REASONS);
    assert_text(c->iss, "test-verifier");
    assert_int_equal(c->iat, NOW);
    assert_text(c->profile, TEEP_EAT_PROFILE_URI);
    assert_slice(c->ueid, ueid, sizeof(ueid));
    assert_slice(c->nonce, nonce, sizeof(nonce));
    assert_slice(c->cnf_kid, f->teep.kid, 32);
    assert_slice(c->hwmodel, hwmodel, sizeof(hwmodel));
    assert_int_equal(c->n_manifests, 1);

    /* Evidence is no result, and a result is checked like Evidence */
    assert_int_equal(
        teep_eat_verify_ar(f->token, f->token_len, &f->policy, &got), 0);
    assert_only_reason(&got, TEEP_EAT_R_AR_NO_STATUS);
    tam.cnf_kid = (teep_slice_t){f->stranger.kid, 32};
    assert_int_equal(teep_eat_verify_ar(ar, ar_len, &tam, &got), 0);
    assert_only_reason(&got, TEEP_EAT_R_CNF_MISMATCH);
    tam.cnf_kid = f->policy.cnf_kid;
    tam.keys = f->enrolled; /* the device's key: not a Verifier */
    assert_int_equal(teep_eat_verify_ar(ar, ar_len, &tam, &got), 0);
    assert_only_reason(&got, TEEP_EAT_R_UNKNOWN_KEY);
}

/* ta-keys (-70004): the keys running TAs registered with the TEE, bound
 * by the attestation key's signature and carried into a signed result. */
static void ta_keys_bound(void **state)
{
    fixture_t *f = *state;
    static const uint8_t ta1[] = {0x81, 0x42, 't', 'a'};
    static const uint8_t ta2[] = {0x82, 0x41, 'x', 0x42, 't', 'a'};
    uint8_t h1[32], h2[32];
    memset(h1, 0xa1, sizeof(h1));
    memset(h2, 0xb2, sizeof(h2));
    teep_eat_claims_t *c = &f->claims;
    c->present |= TEEP_EAT_HAS_TA_KEYS;
    c->n_ta_keys = 2;
    c->ta_keys[0] = (teep_eat_ta_key_t){SLICE(ta1), SLICE(h1)};
    c->ta_keys[1] = (teep_eat_ta_key_t){SLICE(ta2), SLICE(h2)};
    sign(f);
    assert_int_equal(appraise(f), 0);
    assert_int_equal(f->res.status, TEEP_EAT_STATUS_AFFIRMING);
    const teep_eat_claims_t *got = &f->res.claims;
    assert_true(got->present & TEEP_EAT_HAS_TA_KEYS);
    assert_int_equal(got->n_ta_keys, 2);
    assert_slice(got->ta_keys[0].component_id, ta1, sizeof(ta1));
    assert_slice(got->ta_keys[0].key_sha256, h1, 32);
    assert_slice(got->ta_keys[1].component_id, ta2, sizeof(ta2));
    assert_slice(got->ta_keys[1].key_sha256, h2, 32);

    /* A changed key hash breaks the signature. */
    uint8_t *at = memmem(f->token, f->token_len, h2, 32);
    assert_non_null(at);
    at[5] ^= 1;
    assert_int_equal(appraise(f), 0);
    assert_int_equal(f->res.status, TEEP_EAT_STATUS_CONTRAINDICATED);
    at[5] ^= 1;

    /* A Verifier's result repeats them. */
    assert_int_equal(appraise(f), 0);
    uint8_t ar[TOKEN_CAP];
    size_t ar_len;
    teep_signer_t verifier = {&f->verifier, 0};
    assert_int_equal(teep_eat_ar_sign(&verifier, &f->res, NULL, NOW, ar,
                                      sizeof(ar), &ar_len),
                     0);
    teep_eat_claims_t arc;
    teep_cose_t cose;
    assert_int_equal(teep_eat_parse(ar, ar_len, &cose, &arc, NULL), 0);
    assert_int_equal(arc.n_ta_keys, 2);
    assert_slice(arc.ta_keys[1].key_sha256, h2, 32);

    /* More entries than the build holds are refused by encode. */
    c->n_ta_keys = TEEP_EAT_MAX_TA_KEYS + 1;
    size_t n;
    assert_int_equal(teep_eat_claims_encode(c, NULL, 0, &n), -EINVAL);
}

static void signed_ar_carries_contraindication(void **state)
{
    fixture_t *f = *state;
    static const uint8_t other[16] = {0xFF};
    sign(f);
    f->policy.nonce = SLICE(other);
    assert_int_equal(appraise(f), 0);
    assert_int_equal(f->res.status, TEEP_EAT_STATUS_CONTRAINDICATED);

    uint8_t ar[TOKEN_CAP];
    size_t ar_len;
    teep_signer_t verifier = {&f->verifier, 0};
    assert_int_equal(teep_eat_ar_sign(&verifier, &f->res, NULL, NOW, ar,
                                      sizeof(ar), &ar_len),
                     0);
    const teep_eat_trusted_key_t trusted[] = {{&f->verifier, "verifier"}};
    teep_eat_policy_t tam = f->policy;
    tam.keys = trusted;
    tam.n_keys = 1;
    tam.nonce = SLICE(nonce); /* the nonce itself is the device's */
    teep_eat_result_t got;
    assert_int_equal(teep_eat_verify_ar(ar, ar_len, &tam, &got), 0);
    assert_only_reason(&got, TEEP_EAT_R_AR_NOT_AFFIRMING);
    assert_int_equal(got.claims.ar_status, TEEP_EAT_STATUS_CONTRAINDICATED);
    assert_int_equal(got.claims.n_ar_reasons, 1);
    assert_int_equal(got.claims.ar_reasons[0], TEEP_EAT_R_NONCE_MISMATCH);

    /* an unverified appraisal yields a result without device claims */
    sign_with(f, &f->stranger);
    assert_int_equal(appraise(f), 0);
    assert_int_equal(teep_eat_ar_sign(&verifier, &f->res, NULL, NOW, ar,
                                      sizeof(ar), &ar_len),
                     0);
    tam.nonce = (teep_slice_t){NULL, 0};
    assert_int_equal(teep_eat_verify_ar(ar, ar_len, &tam, &got), 0);
    assert_int_equal(got.status, TEEP_EAT_STATUS_CONTRAINDICATED);
    assert_false(got.claims.present & TEEP_EAT_HAS_UEID);
    assert_int_equal(got.claims.ar_reasons[0], TEEP_EAT_R_UNKNOWN_KEY);
}

/* ---- The codec ---------------------------------------------------------- */

static void encode_is_deterministic(void **state)
{
    fixture_t *f = *state;
    uint8_t a[TOKEN_CAP], b[TOKEN_CAP];
    size_t a_len, b_len, measured;
    assert_int_equal(teep_eat_claims_encode(&f->claims, a, sizeof(a), &a_len),
                     0);
    assert_int_equal(teep_eat_claims_encode(&f->claims, NULL, 0, &measured),
                     -ENOSPC);
    assert_int_equal(measured, a_len);
    assert_int_equal(teep_eat_claims_encode(&f->claims, b, a_len - 1, &b_len),
                     -ENOSPC);
    /* decode + encode reproduces the bytes */
    teep_eat_claims_t c;
    assert_int_equal(teep_eat_claims_decode(a, a_len, &c, NULL), 0);
    assert_int_equal(teep_eat_claims_encode(&c, b, sizeof(b), &b_len), 0);
    assert_int_equal(a_len, b_len);
    assert_memory_equal(a, b, a_len);
    /* labels in RFC 8949 deterministic order: 6 (iat) comes first */
    assert_int_equal(a[0], 0xA0 + 11);
    assert_int_equal(a[1], TEEP_EAT_LABEL_IAT);

    /* the libteep claims (bstr hwversion, unknown claim dropped) */
    size_t len;
    uint8_t *lt = vector_load_hex("libteep_evidence.hex", &len);
    assert_int_equal(teep_eat_claims_decode(lt, len, &c, NULL), 0);
    assert_int_equal(teep_eat_claims_encode(&c, b, sizeof(b), &b_len), 0);
    /* everything but the -70000 claim (5 + 17 bytes), in the same order */
    assert_int_equal(b_len, len - 22);
    assert_int_equal(b[0], 0xA7);
    assert_memory_equal(b + 1, lt + 1, b_len - 1);
    free(lt);
}

static void encode_refuses_what_decode_refuses(void **state)
{
    fixture_t *f = *state;
    uint8_t out[TOKEN_CAP];
    size_t len;
    teep_eat_claims_t c = f->claims;
    c.nonce.len = 7;
    assert_int_equal(teep_eat_claims_encode(&c, out, sizeof(out), &len),
                     -EINVAL);
    static const uint8_t long_model[TEEP_EAT_HWMODEL_MAX + 1] = {1};
    c = f->claims;
    c.hwmodel = SLICE(long_model);
    assert_int_equal(teep_eat_claims_encode(&c, out, sizeof(out), &len),
                     -EINVAL);
    c = f->claims;
    c.oemid.id = (teep_slice_t){ueid, 4};
    assert_int_equal(teep_eat_claims_encode(&c, out, sizeof(out), &len),
                     -EINVAL);
    c = f->claims;
    c.n_manifests = TEEP_EAT_MAX_MANIFESTS + 1;
    assert_int_equal(teep_eat_claims_encode(&c, out, sizeof(out), &len),
                     -EINVAL);
    c.present = 0;
    assert_int_equal(teep_eat_claims_encode(&c, out, sizeof(out), &len),
                     -EINVAL);
    /* a PEN oemid and an OID profile are fine */
    c = f->claims;
    c.oemid = (teep_eat_oemid_t){.is_pen = true, .pen = 64242};
    static const uint8_t oid[] = {0x2B, 0x06, 0x01, 0x04, 0x01};
    c.profile = SLICE(oid);
    c.profile_is_oid = true;
    assert_int_equal(teep_eat_claims_encode(&c, out, sizeof(out), &len), 0);
    teep_eat_claims_t back;
    assert_int_equal(teep_eat_claims_decode(out, len, &back, NULL), 0);
    assert_true(back.oemid.is_pen);
    assert_int_equal(back.oemid.pen, 64242);
    assert_true(back.profile_is_oid);
}

/* Claims written by hand, for what no encoder of ours would write. */
typedef void (*write_fn)(tp_cbor_writer_t *w);

static int decode_written(write_fn write, teep_diag_t *diag,
                          teep_eat_claims_t *c)
{
    static uint8_t buf[8192];
    tp_cbor_writer_t w;
    tp_cw_init(&w, buf, sizeof(buf));
    write(&w);
    assert_int_equal(tp_cw_result(&w), 0);
    return teep_eat_claims_decode(buf, w.len, c, diag);
}

static void w_duplicate(tp_cbor_writer_t *w)
{
    static const uint8_t n8[8] = {0};
    tp_cw_map(w, 2);
    tp_cw_uint(w, 10), tp_cw_bstr(w, n8, 8);
    tp_cw_uint(w, 10), tp_cw_bstr(w, n8, 8);
}
static void w_duplicate_unknown(tp_cbor_writer_t *w)
{
    tp_cw_map(w, 2);
    tp_cw_tstr(w, "x", 1), tp_cw_uint(w, 1);
    tp_cw_tstr(w, "x", 1), tp_cw_uint(w, 2);
}
static void w_short_nonce(tp_cbor_writer_t *w)
{
    tp_cw_map(w, 1);
    tp_cw_uint(w, 10), tp_cw_bstr(w, ueid, 7);
}
static void w_long_ueid(tp_cbor_writer_t *w)
{
    static const uint8_t b[34] = {1};
    tp_cw_map(w, 1);
    tp_cw_uint(w, 256), tp_cw_bstr(w, b, 34);
}
static void w_oemid_4(tp_cbor_writer_t *w)
{
    tp_cw_map(w, 1);
    tp_cw_uint(w, 258), tp_cw_bstr(w, ueid, 4);
}
static void w_long_hwmodel(tp_cbor_writer_t *w)
{
    static const uint8_t b[33] = {1};
    tp_cw_map(w, 1);
    tp_cw_uint(w, 259), tp_cw_bstr(w, b, 33);
}
static void w_tagged_ueid(tp_cbor_writer_t *w)
{
    tp_cw_map(w, 1);
    tp_cw_uint(w, 256), tp_cw_tag(w, 64), tp_cw_bstr(w, ueid, 17);
}
static void w_bad_utf8(tp_cbor_writer_t *w)
{
    tp_cw_map(w, 1);
    tp_cw_uint(w, 1), tp_cw_tstr(w, "\xC0\xAF", 2); /* overlong '/' */
}
static void w_cnf_key(tp_cbor_writer_t *w)
{
    tp_cw_map(w, 1);
    tp_cw_uint(w, 8), tp_cw_map(w, 1), tp_cw_uint(w, 1), tp_cw_map(w, 0);
}
static void w_bad_status(tp_cbor_writer_t *w)
{
    tp_cw_map(w, 1);
    tp_cw_int(w, TEEP_EAT_LABEL_AR_STATUS), tp_cw_uint(w, 3);
}
static void w_bad_reference(tp_cbor_writer_t *w)
{
    /* content type 60 with a body that is no SUIT_Reference */
    tp_cw_map(w, 1);
    tp_cw_uint(w, 272), tp_cw_array(w, 1), tp_cw_array(w, 2);
    tp_cw_uint(w, 60), tp_cw_bstr(w, (const uint8_t *)"\x82\x61x\x01", 4);
}
static void w_other_manifest(tp_cbor_writer_t *w)
{
    /* another content type is carried opaque (a CoSWID, say) */
    tp_cw_map(w, 1);
    tp_cw_uint(w, 272), tp_cw_array(w, 1), tp_cw_array(w, 2);
    tp_cw_uint(w, 258), tp_cw_bstr(w, (const uint8_t *)"\xA0", 1);
}
static void w_unknowns(tp_cbor_writer_t *w)
{
    /* unknown claims of every shape are skipped; a known one follows */
    tp_cw_map(w, 5);
    tp_cw_int(w, -70000), tp_cw_array(w, 2), tp_cw_map(w, 1), tp_cw_uint(w, 1);
    tp_cw_tag(w, 1), tp_cw_uint(w, 2), tp_cw_null(w);
    tp_cw_tstr(w, "ear.status", 10), tp_cw_uint(w, 2);
    tp_cw_uint(w, 266), tp_cw_map(w, 1), tp_cw_tstr(w, "sub", 3);
    tp_cw_map(w, 1), tp_cw_uint(w, 256), tp_cw_bstr(w, ueid, 17);
    tp_cw_uint(w, 4), tp_cw_uint(w, 1700000000);
    tp_cw_uint(w, 256), tp_cw_bstr(w, ueid, 17);
}
static void w_too_deep(tp_cbor_writer_t *w)
{
    tp_cw_map(w, 1);
    tp_cw_uint(w, 99);
    for (int i = 0; i < TEEP_MAX_DEPTH; i++)
        tp_cw_array(w, 1);
    tp_cw_uint(w, 0);
}
static void w_deep_enough(tp_cbor_writer_t *w)
{
    tp_cw_map(w, 1);
    tp_cw_uint(w, 99);
    for (int i = 0; i < TEEP_MAX_DEPTH - 2; i++)
        tp_cw_array(w, 1);
    tp_cw_uint(w, 0);
}
static void w_many_unknown(tp_cbor_writer_t *w)
{
    tp_cw_map(w, TEEP_EAT_MAX_UNKNOWN + 1);
    for (int i = 0; i <= TEEP_EAT_MAX_UNKNOWN; i++)
        tp_cw_uint(w, 1000 + (uint64_t)i), tp_cw_uint(w, 0);
}
static void w_bytes_label(tp_cbor_writer_t *w)
{
    tp_cw_map(w, 1);
    tp_cw_bstr(w, ueid, 2), tp_cw_uint(w, 0);
}
static void w_float_iat(tp_cbor_writer_t *w)
{
    tp_cw_map(w, 1);
    tp_cw_uint(w, 6), tp_cw_raw(w, (const uint8_t *)"\xF9\x3C\x00", 3);
}
static void w_no_manifests(tp_cbor_writer_t *w)
{
    tp_cw_map(w, 1);
    tp_cw_uint(w, 272), tp_cw_array(w, 0);
}

static void w_ta_key(tp_cbor_writer_t *w, const uint8_t *id, size_t id_len,
                     size_t hash_len)
{
    static const uint8_t h[33] = {1};
    tp_cw_array(w, 2);
    tp_cw_bstr(w, id, id_len);
    tp_cw_bstr(w, h, hash_len);
}
static void w_ta_keys_short_hash(tp_cbor_writer_t *w)
{
    tp_cw_map(w, 1);
    tp_cw_int(w, TEEP_EAT_LABEL_TA_KEYS), tp_cw_array(w, 1);
    w_ta_key(w, (const uint8_t *)"ta", 2, 31);
}
static void w_ta_keys_same_ta(tp_cbor_writer_t *w)
{
    tp_cw_map(w, 1);
    tp_cw_int(w, TEEP_EAT_LABEL_TA_KEYS), tp_cw_array(w, 2);
    w_ta_key(w, (const uint8_t *)"ta", 2, 32);
    w_ta_key(w, (const uint8_t *)"ta", 2, 32);
}
static void w_ta_keys_empty(tp_cbor_writer_t *w)
{
    tp_cw_map(w, 1);
    tp_cw_int(w, TEEP_EAT_LABEL_TA_KEYS), tp_cw_array(w, 0);
}
static void w_ta_keys_many(tp_cbor_writer_t *w)
{
    tp_cw_map(w, 1);
    tp_cw_int(w, TEEP_EAT_LABEL_TA_KEYS);
    tp_cw_array(w, TEEP_EAT_MAX_TA_KEYS + 1);
    for (uint8_t i = 0; i <= TEEP_EAT_MAX_TA_KEYS; i++)
        w_ta_key(w, &i, 1, 32);
}
static void w_ta_keys_text_id(tp_cbor_writer_t *w)
{
    static const uint8_t h[32] = {1};
    tp_cw_map(w, 1);
    tp_cw_int(w, TEEP_EAT_LABEL_TA_KEYS), tp_cw_array(w, 1);
    tp_cw_array(w, 2), tp_cw_tstr(w, "ta", 2), tp_cw_bstr(w, h, 32);
}

static void decode_is_strict(void **state)
{
    static const struct {
        const char *what;
        write_fn write;
        int rc;
    } cases[] = {
        {"duplicate claim", w_duplicate, TEEP_E_DUPLICATE},
        {"duplicate unknown claim", w_duplicate_unknown, TEEP_E_DUPLICATE},
        {"nonce of 7 bytes", w_short_nonce, TEEP_E_RANGE},
        {"ueid of 34 bytes", w_long_ueid, TEEP_E_RANGE},
        {"oemid of 4 bytes", w_oemid_4, TEEP_E_RANGE},
        {"hwmodel of 33 bytes", w_long_hwmodel, TEEP_E_RANGE},
        {"tag in a claim", w_tagged_ueid, TEEP_E_TYPE},
        {"invalid UTF-8", w_bad_utf8, TEEP_E_CBOR},
        {"cnf with a COSE_Key", w_cnf_key, TEEP_E_RANGE},
        {"status 3", w_bad_status, TEEP_E_RANGE},
        {"bad SUIT_Reference", w_bad_reference, TEEP_E_TYPE},
        {"too deep", w_too_deep, TEEP_E_DEPTH},
        {"too many unknown claims", w_many_unknown, TEEP_E_LIMIT},
        {"byte string label", w_bytes_label, TEEP_E_TYPE},
        {"float iat", w_float_iat, TEEP_E_TYPE},
        {"empty manifests", w_no_manifests, TEEP_E_RANGE},
        {"ta-keys hash of 31 bytes", w_ta_keys_short_hash, TEEP_E_RANGE},
        {"ta-keys naming a TA twice", w_ta_keys_same_ta, TEEP_E_DUPLICATE},
        {"empty ta-keys", w_ta_keys_empty, TEEP_E_RANGE},
        {"too many ta-keys", w_ta_keys_many, TEEP_E_LIMIT},
        {"ta-keys with a text id", w_ta_keys_text_id, TEEP_E_TYPE},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        teep_diag_t diag = {0};
        teep_eat_claims_t c;
        int rc = decode_written(cases[i].write, &diag, &c);
        if (rc != cases[i].rc)
            print_error("%s: got %s (%s)\n", cases[i].what, teep_strerror(rc),
                        diag.reason);
        assert_int_equal(rc, cases[i].rc);
        assert_int_equal(diag.code, rc);
        assert_int_equal(c.present, 0); /* zeroed on failure */
    }

    teep_eat_claims_t c;
    assert_int_equal(decode_written(w_unknowns, NULL, &c), 0);
    assert_int_equal(c.present, TEEP_EAT_HAS_UEID);
    assert_int_equal(c.n_unknown, 4);
    assert_int_equal(c.unknown[0].label, -70000);
    assert_text(c.unknown[1].text_label, "ear.status");
    assert_int_equal(c.unknown[2].label, 266);
    assert_int_equal(decode_written(w_deep_enough, NULL, &c), 0);
    assert_int_equal(decode_written(w_other_manifest, NULL, &c), 0);
    assert_int_equal(c.manifests[0].content_type, 258);
    assert_int_equal(c.manifests[0].body.len, 1);
    assert_null(c.manifests[0].uri.ptr);

    /* the offset of an error inside a bstr-wrapped SUIT_Reference counts
     * from the start of the claims */
    teep_diag_t diag;
    assert_int_equal(decode_written(w_bad_reference, &diag, &c), TEEP_E_TYPE);
    assert_int_equal(diag.offset, 12);
}

static void names(void **state)
{
    assert_string_equal(teep_eat_claim_name(256), "ueid");
    assert_string_equal(teep_eat_claim_name(10), "eat_nonce");
    assert_string_equal(teep_eat_claim_name(TEEP_EAT_LABEL_AR_STATUS),
                        "ar-status");
    assert_null(teep_eat_claim_name(-70000));
    assert_string_equal(teep_eat_claim_name(TEEP_EAT_LABEL_TA_KEYS), "ta-keys");
    assert_string_equal(teep_eat_status_name(TEEP_EAT_STATUS_WARNING),
                        "warning");
    assert_string_equal(teep_eat_reason_name(TEEP_EAT_R_CNF_MISMATCH),
                        "cnf-mismatch");
    assert_string_equal(teep_eat_reason_name(TEEP_EAT_R_COUNT), "unknown");
    for (int r = 1; r < TEEP_EAT_R_COUNT; r++)
        assert_int_not_equal(teep_eat_reason_tier(r),
                             TEEP_EAT_STATUS_AFFIRMING);
}

int main(void)
{
#define F(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(libteep_evidence_claims_decode),
        cmocka_unit_test(libteep_evidence_cose_verifies),
        cmocka_unit_test(libteep_attestation_results_verify),
        F(good_evidence_affirmed),
        F(wrong_nonce_rejected),
        F(stale_rejected),
        F(unknown_key_rejected),
        F(unknown_hwmodel_rejected),
        F(swname_not_allowed_rejected),
        F(manifest_digest_not_allowed_rejected),
        F(cnf_mismatch_rejected),
        F(profile_mismatch_rejected),
        F(tampered_claim_rejected),
        F(truncated_rejected_at_every_length),
        F(cwt_tag_accepted),
        F(signed_ar_round_trip),
        F(signed_ar_carries_contraindication),
        F(encode_is_deterministic),
        F(encode_refuses_what_decode_refuses),
        F(ta_keys_bound),
        cmocka_unit_test(decode_is_strict),
        cmocka_unit_test(names),
    };
#undef F
    print_message("crypto backend: %s\n", teep_crypto_backend());
    return cmocka_run_group_tests(tests, NULL, NULL);
}
