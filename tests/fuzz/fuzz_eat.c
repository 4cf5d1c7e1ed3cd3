/* libFuzzer target: the EAT claims decoder and the Verifier must accept or
 * refuse any input without a crash, and what they accept must be
 * consistent: slices inside the input, and decode -> encode -> decode ->
 * encode a fixed point (the encoder is deterministic).
 *
 * The input is tried three ways: as a bare claims map, as a token the
 * Verifier appraises against a fixed enrolled key (the libteep Agent key,
 * which signs the seed libteep_evidence_cose), and as a signed Attestation
 * Result. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "teep/eat.h"

/* keys/libteep_teep_agent_prime256v1_pub.pem */
static const char agent_pem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEWIbNYd2HWGLlqqgg56FSdMloqbyW\n"
    "BI3crOMvUMNlG6Oe7YEl6TLNYMDq02UNCkhc9ybTeNGwFu1CmLKWHiWPGw==\n"
    "-----END PUBLIC KEY-----\n";

static const uint8_t nonce[16] = {0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5,
                                  0xA6, 0xA7, 0xA8, 0xA9, 0xAA, 0xAB,
                                  0xAC, 0xAD, 0xAE, 0xAF};

static bool inside(teep_slice_t s, const uint8_t *data, size_t size)
{
    return s.ptr == NULL ||
           (s.ptr >= data && s.len <= size && s.ptr + s.len <= data + size);
}

static void check_claims(const teep_eat_claims_t *c, const uint8_t *data,
                         size_t size)
{
    const teep_slice_t slices[] = {c->iss,
                                   c->cnf_kid,
                                   c->nonce,
                                   c->ueid,
                                   c->oemid.id,
                                   c->hwmodel,
                                   c->hwversion.version,
                                   c->profile,
                                   c->swname,
                                   c->swversion.version};
    for (size_t i = 0; i < sizeof(slices) / sizeof(slices[0]); i++)
        if (!inside(slices[i], data, size))
            abort();
    if (c->n_manifests > TEEP_EAT_MAX_MANIFESTS ||
        c->n_unknown > TEEP_EAT_MAX_UNKNOWN ||
        c->n_ar_reasons > TEEP_EAT_MAX_REASONS)
        abort();
    for (size_t i = 0; i < c->n_manifests; i++)
        if (!inside(c->manifests[i].body, data, size) ||
            !inside(c->manifests[i].uri, data, size) ||
            !inside(c->manifests[i].digest, data, size))
            abort();
    for (size_t i = 0; i < c->n_unknown; i++)
        if (!inside(c->unknown[i].value, data, size) ||
            !inside(c->unknown[i].text_label, data, size))
            abort();
    if (c->n_ta_keys > TEEP_EAT_MAX_TA_KEYS || !inside(c->pd_key, data, size))
        abort();
    for (size_t i = 0; i < c->n_ta_keys; i++)
        if (!inside(c->ta_keys[i].component_id, data, size) ||
            c->ta_keys[i].key_sha256.len != TEEP_EAT_KEY_HASH_LEN ||
            !inside(c->ta_keys[i].key_sha256, data, size))
            abort();
}

/* Claims that decoded must encode, and re-encoding what that decodes to
 * must give the same bytes. */
static void check_round_trip(const teep_eat_claims_t *c)
{
    static uint8_t first[1 << 17], second[1 << 17];
    static teep_eat_claims_t again;
    size_t n1, n2;
    if (c->present == 0)
        return; /* only unknown claims: nothing to encode */
    if (teep_eat_claims_encode(c, first, sizeof(first), &n1) != 0)
        abort();
    if (teep_eat_claims_decode(first, n1, &again, NULL) != 0)
        abort();
    if (teep_eat_claims_encode(&again, second, sizeof(second), &n2) != 0)
        abort();
    if (n1 != n2 || memcmp(first, second, n1) != 0)
        abort();
}

static void check_result(int rc, const teep_eat_result_t *res,
                         const uint8_t *data, size_t size)
{
    if (res->n_findings > TEEP_EAT_MAX_FINDINGS ||
        res->n_findings > res->n_findings_total)
        abort();
    if (rc != 0) {
        if (rc > 0 || res->status != TEEP_EAT_STATUS_CONTRAINDICATED ||
            res->diag.offset > size)
            abort();
        return;
    }
    if (res->status == TEEP_EAT_STATUS_AFFIRMING && res->n_findings != 0)
        abort();
    if (res->claims_verified != (res->key != NULL))
        abort();
    if (res->claims_verified)
        check_claims(&res->claims, data, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static teep_key_t agent;
    static bool loaded;
    static teep_eat_claims_t claims;
    static teep_eat_result_t res;

    if (!loaded) {
        if (teep_key_from_pem(&agent, (const uint8_t *)agent_pem,
                              sizeof(agent_pem) - 1) != 0)
            abort();
        loaded = true;
    }

    teep_diag_t diag;
    int rc = teep_eat_claims_decode(data, size, &claims, &diag);
    if (rc == 0) {
        check_claims(&claims, data, size);
        check_round_trip(&claims);
    } else if (diag.code != rc || diag.offset > size) {
        abort();
    }

    const teep_eat_trusted_key_t keys[] = {{&agent, "agent"}};
    static const uint8_t model[] = {0x54, 0x9D, 0xCE, 0xCC};
    const teep_slice_t models[] = {{model, sizeof(model)}};
    const teep_eat_sw_ref_t sw[] = {{"teep-agent", "1.0"}};
    teep_eat_policy_t policy = {
        .keys = keys,
        .n_keys = 1,
        .hwmodels = models,
        .n_hwmodels = 1,
        .sw = sw,
        .n_sw = 1,
        .manifest_digests = models,
        .n_manifest_digests = 1,
        .nonce = {nonce, sizeof(nonce)},
        .cnf_kid = {agent.kid, sizeof(agent.kid)},
        .now = 1760000000,
        .max_age = 300,
    };
    rc = teep_eat_verify_evidence(data, size, &policy, &res);
    check_result(rc, &res, data, size);
    rc = teep_eat_verify_ar(data, size, &policy, &res);
    check_result(rc, &res, data, size);

    teep_cose_t cose;
    rc = teep_eat_parse(data, size, &cose, &claims, &diag);
    if (rc == 0)
        check_claims(&claims, data, size);
    else if (diag.offset > size)
        abort();
    return 0;
}
