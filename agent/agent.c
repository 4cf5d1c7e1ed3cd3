/*
 * agent.c: the Agent's entry points: opening it on its state directory,
 * ProcessTeepMessage's dispatch, and the REE-side requests of RFC 9397
 * 6.2.1 (RequestTA, UnrequestTA, RequestPolicyCheck).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent_internal.h"

#define EAT_DIGEST_LEN 32

static bool config_ok(const teep_agent_config_t *cfg)
{
    return cfg != NULL && cfg->state_dir != NULL && cfg->tam_keys != NULL &&
           cfg->tam_uris != NULL && cfg->n_tams > 0 &&
           cfg->n_tams <= TEEP_AGENT_MAX_TAMS && cfg->tc_signer_keys != NULL &&
           cfg->n_tc_signers > 0 &&
           cfg->n_tc_signers <= TEEP_AGENT_MAX_SIGNERS &&
           (cfg->profile == TEEP_AGENT_PROFILE_AUTO ||
            cfg->profile == TEEP_PROFILE_RFC ||
            cfg->profile == TEEP_PROFILE_LEGACY) &&
           cfg->hwmodel.len >= 1 && cfg->hwmodel.len <= 32 &&
           cfg->hwversion != NULL && cfg->hwversion[0] != 0 &&
           cfg->firmware_uri != NULL && cfg->firmware_uri[0] != 0 &&
           cfg->firmware_digest.len == EAT_DIGEST_LEN && cfg->tee != NULL &&
           cfg->tee->ta_install != NULL && cfg->tee->ta_uninstall != NULL &&
           cfg->tee->pd_deliver != NULL && cfg->tee->ua_install != NULL;
}

int teep_agent_open(teep_agent_t *agent, const teep_agent_config_t *cfg)
{
    memset(agent, 0, sizeof(*agent));
    if (!config_ok(cfg))
        return -EINVAL;
    agent->cfg = *cfg;
    for (size_t i = 0; i < TEEP_AGENT_MAX_TAMS; i++)
        agent->tam_profile[i] = -1;
    int rc = agent__sealing_key(cfg->state_dir, agent->sealing_key);
    if (rc == 0)
        rc = agent__keys_load(agent);
    if (rc == 0)
        rc = agent__state_load(agent);
    if (rc != 0)
        teep_agent_close(agent);
    return rc;
}

void teep_agent_close(teep_agent_t *agent)
{
    agent__state_clear(agent);
    teep_key_clear(&agent->teep_key);
    teep_key_clear(&agent->attest_key);
    teep_key_clear(&agent->pd_key);
    agent__wipe(agent->sealing_key, sizeof(agent->sealing_key));
    memset(agent->chains, 0, sizeof(agent->chains));
}

int teep_agent_restore(teep_agent_t *agent)
{
    int first = 0;
    const teep_agent_tee_ops_t *tee = agent->cfg.tee;
    for (size_t i = 0; i < agent->n_components; i++) {
        teep_agent_component_t *c = &agent->components[i];
        if (c->kind != TEEP_AGENT_KIND_TA)
            continue;
        teep_slice_t id = {c->id, c->id_len};
        /* The TEE keeps the TA binary; the Agent only says what runs. */
        int rc = tee->ta_install(agent->cfg.tee_ctx, id, NULL, 0);
        if (rc == 0 && c->pd != NULL)
            rc = tee->pd_deliver(agent->cfg.tee_ctx, id, c->pd, c->pd_len);
        if (rc != 0 && first == 0)
            first = rc;
    }
    return first;
}

int teep_agent_process(teep_agent_t *agent, uint64_t tam_session,
                       const uint8_t *msg, size_t len, uint8_t **reply,
                       size_t *reply_len)
{
    *reply = NULL;
    *reply_len = 0;
    agent_in_t in;
    teep_diag_t diag = {0};
    int rc = agent__verify_in(agent, msg, len, &in, &diag);
    if (rc == -ENOMEM) {
        agent__in_free(&in);
        return rc;
    }
    if (rc != 0) {
        /* Not from a trusted TAM, or not a TEEP message: an Error that
         * says why, and a conversation that attests nothing. */
        teep_agent_forget(agent, tam_session);
        rc = agent__error_reply(agent, in.profile, (teep_slice_t){0},
                                teep_error_to_err_code(rc), diag.reason, NULL,
                                0, reply, reply_len);
    } else if (in.msg.type == TEEP_QUERY_REQUEST) {
        rc = agent__query(agent, tam_session, &in, reply, reply_len);
    } else if (in.msg.type == TEEP_UPDATE) {
        rc = agent__update(agent, tam_session, &in, reply, reply_len);
    } else {
        teep_slice_t token = in.msg.present & TEEP_OPT_BIT(TEEP_OPT_TOKEN)
                                 ? in.msg.token
                                 : (teep_slice_t){0};
        rc = agent__error_reply(
            agent, in.profile, token, TEEP_ERR_PERMANENT_ERROR,
            "a TAM sends QueryRequest or Update", NULL, 0, reply, reply_len);
    }
    agent__in_free(&in);
    return rc;
}

/* The TAM for a request: the one with URI hint, else the first. */
static const char *tam_for(const teep_agent_t *agent, const char *hint)
{
    for (size_t i = 0; hint != NULL && i < agent->cfg.n_tams; i++)
        if (strcmp(agent->cfg.tam_uris[i], hint) == 0)
            return agent->cfg.tam_uris[i];
    return agent->cfg.tam_uris[0];
}

static bool installed(teep_agent_t *agent, teep_slice_t id)
{
    return teep_agent_find_component(agent, id) != NULL ||
           agent__find_manifest(agent, id) != NULL;
}

static int request_add(teep_agent_request_t *list, size_t *n, teep_slice_t id)
{
    for (size_t i = 0; i < *n; i++)
        if (agent__slice_eq(id, list[i].id, list[i].id_len))
            return 0;
    if (*n == TEEP_AGENT_MAX_REQUESTS)
        return -ENOSPC;
    list[*n].id = agent__dup(id.ptr, id.len);
    if (list[*n].id == NULL)
        return -ENOMEM;
    list[(*n)++].id_len = id.len;
    return 0;
}

static int check_id(teep_slice_t id)
{
    teep_agent_kind_t kind;
    return teep_agent_component_kind(id, &kind) == 0 ? 0 : -EINVAL;
}

int teep_agent_request_ta(teep_agent_t *agent, teep_slice_t component_id,
                          const char *hint, const char **tam_uri)
{
    *tam_uri = NULL;
    int rc = check_id(component_id);
    if (rc != 0 || installed(agent, component_id))
        return rc;
    agent__request_remove(agent->unneeded, &agent->n_unneeded, component_id);
    rc = request_add(agent->requested, &agent->n_requested, component_id);
    if (rc == 0)
        rc = agent__state_save(agent) == 0 ? 0 : -EIO;
    if (rc == 0)
        *tam_uri = tam_for(agent, hint);
    return rc;
}

int teep_agent_unrequest_ta(teep_agent_t *agent, teep_slice_t component_id,
                            const char *hint, const char **tam_uri)
{
    *tam_uri = NULL;
    int rc = check_id(component_id);
    if (rc != 0)
        return rc;
    bool was_requested = agent__request_remove(
        agent->requested, &agent->n_requested, component_id);
    if (installed(agent, component_id))
        rc = request_add(agent->unneeded, &agent->n_unneeded, component_id);
    else if (!was_requested)
        return 0;
    if (rc == 0)
        rc = agent__state_save(agent) == 0 ? 0 : -EIO;
    if (rc == 0 && installed(agent, component_id))
        *tam_uri = tam_for(agent, hint);
    return rc;
}

void teep_agent_policy_check(teep_agent_t *agent, const char **tam_uri)
{
    if (agent->next_policy_tam >= agent->cfg.n_tams) {
        agent->next_policy_tam = 0;
        *tam_uri = NULL;
        return;
    }
    *tam_uri = agent->cfg.tam_uris[agent->next_policy_tam++];
}
