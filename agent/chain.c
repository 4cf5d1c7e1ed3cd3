/*
 * chain.c: the TAM conversations the Agent takes part in, for principle 1
 * (USECASE.md): personalization data is processed only after this Agent
 * passed remote attestation.  The Agent cannot see the TAM's verdict, but
 * it knows whether it gave Evidence: a conversation (tam_session, chosen
 * by the host per TAM exchange) is marked attested when this Agent
 * answered a QueryRequest of that TAM with Evidence bound to the TAM's
 * challenge.  An Update in the same conversation, verified with the same
 * TAM key, within the configured age and without an err-code (a TAM that
 * reports ERR_ATTESTATION_REQUIRED did not accept the Evidence) may carry
 * personalization data.  The attestation is used up by that Update.
 */
#include <string.h>
#include <time.h>

#include "agent_internal.h"

/* Digest 1.9: an Update may follow hours after its QueryRequest. */
#define DEFAULT_MAX_AGE (4 * 3600)

int64_t agent__now(const teep_agent_t *agent)
{
    return agent->cfg.clock != NULL ? agent->cfg.clock() : (int64_t)time(NULL);
}

teep_agent_chain_t *agent__chain(teep_agent_t *agent, uint64_t tam_session,
                                 bool create)
{
    teep_agent_chain_t *oldest = &agent->chains[0];
    for (size_t i = 0; i < TEEP_AGENT_MAX_CHAINS; i++) {
        teep_agent_chain_t *c = &agent->chains[i];
        if (c->in_use && c->tam_session == tam_session) {
            c->last_use = ++agent->chain_clock;
            return c;
        }
        if (!c->in_use || (oldest->in_use && c->last_use < oldest->last_use))
            oldest = c;
    }
    if (!create)
        return NULL;
    memset(oldest, 0, sizeof(*oldest));
    oldest->in_use = true;
    oldest->tam_session = tam_session;
    oldest->tam = -1;
    oldest->last_use = ++agent->chain_clock;
    return oldest;
}

bool agent__chain_take_attestation(teep_agent_t *agent, uint64_t tam_session,
                                   int tam, bool tam_reported_error)
{
    teep_agent_chain_t *c = agent__chain(agent, tam_session, false);
    if (c == NULL)
        return false;
    uint32_t max_age = agent->cfg.attestation_max_age != 0
                           ? agent->cfg.attestation_max_age
                           : DEFAULT_MAX_AGE;
    int64_t age = agent__now(agent) - c->evidence_time;
    bool ok = c->attested && c->tam == tam && !tam_reported_error && age >= 0 &&
              age <= (int64_t)max_age;
    c->attested = false;
    return ok;
}

void teep_agent_forget(teep_agent_t *agent, uint64_t tam_session)
{
    teep_agent_chain_t *c = agent__chain(agent, tam_session, false);
    if (c != NULL)
        memset(c, 0, sizeof(*c));
}
