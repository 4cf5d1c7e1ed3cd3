/*
 * query.c: QueryRequest -> QueryResponse (digest 4.3).  The Agent checks
 * that it shares a version, a cipher suite, a freshness mechanism and a
 * SUIT COSE profile with the TAM, answering the corresponding Error when
 * not, then returns what data-item-requested asks for: Evidence (bit 0),
 * the installed components (bit 1), and always the components the REE
 * asked for (RequestTA) or gave up (UnrequestTA).  It has no extensions
 * and keeps no SUIT reports between messages, so bits 2 and 3 add nothing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent_internal.h"

static bool shares_version(const teep_message_t *m)
{
    if (!(m->present & TEEP_OPT_BIT(TEEP_OPT_VERSIONS)))
        return true; /* absent means [0] */
    for (size_t i = 0; i < m->versions.count; i++)
        if (m->versions.items[i] == 0)
            return true;
    return false;
}

/* ES256 (-7) is the legacy name of ESP256 with the same bytes on the wire
 * (digest 1.8), which libteep-era TAMs still send. */
static bool is_esp256(int64_t alg)
{
    return alg == TEEP_ALG_ESP256 || alg == TEEP_ALG_ES256;
}

static bool shares_suite(const teep_message_t *m)
{
    for (size_t i = 0; i < m->cipher_suites.count; i++) {
        const teep_cipher_suite_t *s = &m->cipher_suites.items[i];
        if (s->n_ops == 1 && s->ops[0].cose_type == TEEP_COSE_SIGN1 &&
            is_esp256(s->ops[0].alg))
            return true;
    }
    return false;
}

static bool shares_suit_profile(const teep_message_t *m)
{
    for (size_t i = 0; i < m->suit_profiles.count; i++) {
        const teep_suit_profile_t *p = &m->suit_profiles.items[i];
        for (size_t j = 0; p->n == 4 && j < agent__n_suit_profiles; j++) {
            const int64_t *a = agent__suit_profiles[j].alg;
            if (p->alg[0] == a[0] && is_esp256(p->alg[1]) &&
                p->alg[2] == a[2] && p->alg[3] == a[3])
                return true;
        }
    }
    return false;
}

static bool shares_freshness(const teep_message_t *m)
{
    if (!(m->present & TEEP_OPT_BIT(TEEP_OPT_SUPPORTED_FRESHNESS_MECHANISMS)))
        return true; /* absent means nonce only */
    for (size_t i = 0; i < m->freshness_mechanisms.count; i++)
        if (m->freshness_mechanisms.items[i] == TEEP_FRESHNESS_NONCE)
            return true;
    return false;
}

/* The nonce Evidence carries: the challenge (background check), else the
 * token (passport, digest 1.10).  NULL reason: fine. */
static const char *pick_nonce(const teep_message_t *m, teep_slice_t *nonce)
{
    if (m->present & TEEP_OPT_BIT(TEEP_OPT_CHALLENGE))
        *nonce = m->challenge;
    else if (m->present & TEEP_OPT_BIT(TEEP_OPT_TOKEN))
        *nonce = m->token;
    else
        return "attestation requested without challenge or token";
    if (nonce->len > TEEP_TOKEN_MAX)
        return "challenge longer than the 64 bytes an eat_nonce holds";
    return NULL;
}

/* One tc-list entry, system-property-claims: {0: id, 3: << [-16,
 * sha256] >>, 14: size}. */
static void put_tc(agent_cbor_t *c, const teep_agent_component_t *comp)
{
    uint8_t digest[48];
    agent_cbor_t d;
    agent__cbor_init(&d);
    agent__cbor_array(&d, 2);
    agent__cbor_int(&d, TEEP_SUIT_ALG_SHA256);
    agent__cbor_bstr(&d, comp->digest, sizeof(comp->digest));
    size_t n = d.err == 0 && d.len <= sizeof(digest) ? d.len : 0;
    if (n > 0)
        memcpy(digest, d.buf, n);
    else
        c->err = -ENOMEM;
    agent__cbor_free(&d);
    agent__cbor_map(c, 3);
    agent__cbor_uint(c, 0);
    agent__cbor_raw(c, comp->id, comp->id_len);
    agent__cbor_uint(c, TEEP_SUIT_PARAM_IMAGE_DIGEST);
    agent__cbor_bstr(c, digest, n);
    agent__cbor_uint(c, TEEP_SUIT_PARAM_IMAGE_SIZE);
    agent__cbor_uint(c, comp->size);
}

/* The lists of a QueryResponse: their items point into the agent's
 * state and into tc (which owns the encoded tc-list entries). */
typedef struct lists {
    agent_cbor_t tc;
    teep_slice_t tc_items[TEEP_AGENT_MAX_COMPONENTS];
    teep_requested_tc_t requested[TEEP_AGENT_MAX_REQUESTS];
    teep_slice_t unneeded[TEEP_AGENT_MAX_REQUESTS];
} lists_t;

static int fill_lists(teep_agent_t *agent, teep_message_t *r, lists_t *l,
                      bool want_tcs)
{
    size_t offs[TEEP_AGENT_MAX_COMPONENTS + 1];
    agent__cbor_init(&l->tc);
    for (size_t i = 0; want_tcs && i < agent->n_components; i++) {
        offs[i] = l->tc.len;
        put_tc(&l->tc, &agent->components[i]);
    }
    if (l->tc.err != 0)
        return l->tc.err;
    /* tc-list is [+ ...]: an Agent with nothing installed leaves it out. */
    if (want_tcs && agent->n_components > 0) {
        offs[agent->n_components] = l->tc.len;
        for (size_t i = 0; i < agent->n_components; i++)
            l->tc_items[i] =
                (teep_slice_t){l->tc.buf + offs[i], offs[i + 1] - offs[i]};
        r->present |= TEEP_OPT_BIT(TEEP_OPT_TC_LIST);
        r->tc_list.items = l->tc_items;
        r->tc_list.count = agent->n_components;
    }
    for (size_t i = 0; i < agent->n_requested; i++)
        l->requested[i] =
            (teep_requested_tc_t){.component_id = {agent->requested[i].id,
                                                   agent->requested[i].id_len}};
    if (agent->n_requested > 0) {
        r->present |= TEEP_OPT_BIT(TEEP_OPT_REQUESTED_TC_LIST);
        r->requested_tc_list.items = l->requested;
        r->requested_tc_list.count = agent->n_requested;
    }
    for (size_t i = 0; i < agent->n_unneeded; i++)
        l->unneeded[i] =
            (teep_slice_t){agent->unneeded[i].id, agent->unneeded[i].id_len};
    if (agent->n_unneeded > 0) {
        r->present |= TEEP_OPT_BIT(TEEP_OPT_UNNEEDED_MANIFEST_LIST);
        r->unneeded_manifest_list.items = l->unneeded;
        r->unneeded_manifest_list.count = agent->n_unneeded;
    }
    return 0;
}

/* The check that fails first, as an err-code and a reason; 0 if none. */
static uint64_t check_request(const teep_message_t *q, const char **reason)
{
    if (!shares_version(q)) {
        *reason = "no TEEP version in common (this Agent speaks 0)";
        return TEEP_ERR_UNSUPPORTED_MSG_VERSION;
    }
    if (!shares_suite(q)) {
        *reason = "no cipher suite in common (this Agent: Sign1 ESP256)";
        return TEEP_ERR_UNSUPPORTED_CIPHER_SUITES;
    }
    if (!shares_suit_profile(q)) {
        *reason = "no SUIT COSE profile in common (ESP256 with ECDH)";
        return TEEP_ERR_UNSUPPORTED_SUIT_REPORT;
    }
    if ((q->data_item_requested & TEEP_DATA_ATTESTATION) &&
        !shares_freshness(q)) {
        *reason = "no freshness mechanism in common (nonce)";
        return TEEP_ERR_UNSUPPORTED_FRESHNESS_MECHANISMS;
    }
    return 0;
}

int agent__query(teep_agent_t *agent, uint64_t tam_session, agent_in_t *in,
                 uint8_t **out, size_t *out_len)
{
    const teep_message_t *q = &in->msg;
    teep_slice_t token = q->present & TEEP_OPT_BIT(TEEP_OPT_TOKEN)
                             ? q->token
                             : (teep_slice_t){0};
    const char *reason = NULL;
    teep_slice_t nonce = {0};
    uint64_t err = check_request(q, &reason);
    bool attest = q->data_item_requested & TEEP_DATA_ATTESTATION;
    if (err == 0 && attest && (reason = pick_nonce(q, &nonce)) != NULL)
        err = TEEP_ERR_PERMANENT_ERROR;
    /* A new QueryRequest starts the conversation's attestation over. */
    teep_agent_chain_t *chain = agent__chain(agent, tam_session, true);
    chain->tam = in->tam;
    chain->attested = false;
    if (err != 0)
        return agent__error_reply(agent, in->profile, token, err, reason, NULL,
                                  0, out, out_len);

    teep_message_t r;
    memset(&r, 0, sizeof(r));
    r.type = TEEP_QUERY_RESPONSE;
    r.present = TEEP_OPT_BIT(TEEP_OPT_SELECTED_VERSION);
    if (token.len > 0) {
        r.present |= TEEP_OPT_BIT(TEEP_OPT_TOKEN);
        r.token = token;
    }
    uint8_t *evidence = NULL;
    size_t evidence_len = 0;
    int rc = 0;
    if (attest) {
        rc = agent__evidence(agent, nonce, &evidence, &evidence_len);
        r.present |= TEEP_OPT_BIT(TEEP_OPT_ATTESTATION_PAYLOAD);
        r.attestation_payload = (teep_slice_t){evidence, evidence_len};
    }
    lists_t *l = calloc(1, sizeof(*l));
    if (rc == 0 && l == NULL)
        rc = -ENOMEM;
    if (rc == 0)
        rc = fill_lists(agent, &r, l,
                        q->data_item_requested & TEEP_DATA_TRUSTED_COMPONENTS);
    if (rc == 0)
        rc = agent__sign_reply(agent, &r, in->profile, out, out_len);
    if (rc == 0 && attest) {
        chain->attested = true;
        chain->evidence_time = agent__now(agent);
    }
    if (l != NULL)
        agent__cbor_free(&l->tc);
    free(l);
    free(evidence);
    return rc;
}
