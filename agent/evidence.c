/*
 * evidence.c: the Agent's Evidence, an EAT of the TEEP profile
 * (docs/attestation.md) signed with the attestation key: eat_nonce = the
 * TAM's challenge (or its token in passport use), cnf = the kid of the
 * TEEP key that signs the QueryResponse around it, the device identity
 * made on first start, the TEE firmware measurement as manifests, the
 * PD key (pd-key) that personalization data is to be encrypted to, and
 * the keys running TAs registered with the TEE (ta-keys).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "teep/eat.h"

#include "agent_internal.h"

#define SWNAME       "teep-broker-agent"
#define TOKEN_CAP    8192 /* twice the claims, ta-keys at their largest */
#define COSE_KEY_MAX 256

/* ta-keys: the SHA-256 of the key each running TA registered with the
 * TEE (teep_agent_tee_ops_t ta_key), into hashes; c's entries point into
 * hashes and the Agent's component ids. */
static void ta_keys(teep_agent_t *agent, teep_eat_claims_t *c,
                    uint8_t hashes[][32])
{
    const teep_agent_tee_ops_t *tee = agent->cfg.tee;
    if (tee->ta_key == NULL)
        return;
    for (size_t i = 0;
         i < agent->n_components && c->n_ta_keys < TEEP_EAT_MAX_TA_KEYS; i++) {
        const teep_agent_component_t *comp = &agent->components[i];
        teep_slice_t id = {comp->id, comp->id_len};
        if (comp->kind != TEEP_AGENT_KIND_TA ||
            comp->id_len > TEEP_EAT_COMPONENT_MAX ||
            tee->ta_key(agent->cfg.tee_ctx, id, hashes[c->n_ta_keys]) != 0)
            continue;
        c->ta_keys[c->n_ta_keys] = (teep_eat_ta_key_t){
            id, {hashes[c->n_ta_keys], TEEP_EAT_KEY_HASH_LEN}};
        c->n_ta_keys++;
    }
    if (c->n_ta_keys > 0)
        c->present |= TEEP_EAT_HAS_TA_KEYS;
}

int agent__evidence(teep_agent_t *agent, teep_slice_t nonce, uint8_t **out,
                    size_t *out_len)
{
    const teep_agent_config_t *cfg = &agent->cfg;
    uint8_t pd_key[COSE_KEY_MAX];
    size_t pd_key_len = 0;
    *out = NULL;
    *out_len = 0;
    int rc = teep_key_to_cose(&agent->pd_key, false, pd_key, sizeof(pd_key),
                              &pd_key_len);
    if (rc != 0)
        return rc;

    teep_eat_claims_t c;
    memset(&c, 0, sizeof(c));
    c.present = TEEP_EAT_HAS_IAT | TEEP_EAT_HAS_CNF | TEEP_EAT_HAS_NONCE |
                TEEP_EAT_HAS_UEID | TEEP_EAT_HAS_OEMID | TEEP_EAT_HAS_HWMODEL |
                TEEP_EAT_HAS_HWVERSION | TEEP_EAT_HAS_PROFILE |
                TEEP_EAT_HAS_SWNAME | TEEP_EAT_HAS_SWVERSION |
                TEEP_EAT_HAS_MANIFESTS | TEEP_EAT_HAS_PD_KEY;
    c.iat = agent__now(agent);
    c.cnf_kid =
        (teep_slice_t){agent->teep_key.kid, sizeof(agent->teep_key.kid)};
    c.nonce = nonce;
    c.ueid = (teep_slice_t){agent->ueid, sizeof(agent->ueid)};
    c.oemid.id = (teep_slice_t){agent->oemid, sizeof(agent->oemid)};
    c.hwmodel = cfg->hwmodel;
    c.hwversion.version =
        (teep_slice_t){(const uint8_t *)cfg->hwversion, strlen(cfg->hwversion)};
    c.profile = (teep_slice_t){(const uint8_t *)TEEP_EAT_PROFILE_URI,
                               strlen(TEEP_EAT_PROFILE_URI)};
    c.swname = (teep_slice_t){(const uint8_t *)SWNAME, strlen(SWNAME)};
    c.swversion.version = (teep_slice_t){(const uint8_t *)TEEP_AGENT_VERSION,
                                         strlen(TEEP_AGENT_VERSION)};
    c.n_manifests = 1;
    c.manifests[0] = (teep_eat_manifest_t){
        .content_type = TEEP_EAT_MANIFEST_CONTENT_TYPE,
        .uri = {(const uint8_t *)cfg->firmware_uri, strlen(cfg->firmware_uri)},
        .digest_alg = TEEP_SUIT_ALG_SHA256,
        .digest = cfg->firmware_digest,
    };
    c.pd_key = (teep_slice_t){pd_key, pd_key_len};
    uint8_t hashes[TEEP_EAT_MAX_TA_KEYS][32];
    ta_keys(agent, &c, hashes);

    uint8_t *buf = malloc(TOKEN_CAP);
    if (buf == NULL)
        return -ENOMEM;
    teep_signer_t signer = {&agent->attest_key, TEEP_ALG_ESP256};
    rc = teep_eat_sign(&signer, &c, buf, TOKEN_CAP, out_len);
    if (rc != 0) {
        free(buf);
        *out_len = 0;
        return rc;
    }
    *out = buf;
    return 0;
}
