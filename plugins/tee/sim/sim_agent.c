/*
 * sim_agent.c: what the TEEP Agent asks of the simulated TEE, once it has
 * verified the TAM and the TC signer and, for personalization data, its
 * own attestation: run a TA, hand a running TA its PD over the TA's
 * private channel, remove a TA, install a UA in the REE through the host,
 * and say which key a running TA registered (for the Evidence).  Called inside
 * ops, with the session lock held.
 */
#include <errno.h>

#include "sim_internal.h"

static int ta_install(void *ctx, teep_slice_t id, const uint8_t *bytes,
                      size_t len)
{
    teep_tee_session_t *s = ctx;
    sim_ta_t *ta = sim__ta(s, id, true);
    if (ta == NULL)
        return -ENOSPC;
    sim__ta_stop(ta);
    int rc = bytes != NULL ? sim__ta_store(s, ta, bytes, len) : 0;
    if (rc == 0)
        rc = sim__ta_start(s, ta);
    if (rc != 0)
        s->host->log(s->host, TEEP_LOG_ERROR, "TA not started: %s",
                     teep_strerror(rc));
    return rc;
}

static int ta_uninstall(void *ctx, teep_slice_t id)
{
    sim_ta_t *ta = sim__ta(ctx, id, false);
    if (ta == NULL)
        return -ENOENT;
    sim__ta_remove(ta);
    return 0;
}

static int pd_deliver(void *ctx, teep_slice_t ta_id, const uint8_t *pd,
                      size_t len)
{
    sim_ta_t *ta = sim__ta(ctx, ta_id, false);
    return ta != NULL ? sim__ta_deliver(ta, pd, len) : -ENOENT;
}

static int ta_key(void *ctx, teep_slice_t ta_id, uint8_t sha256[32])
{
    sim_ta_t *ta = sim__ta(ctx, ta_id, false);
    return ta != NULL ? sim__ta_key(ta, sha256) : -ENOENT;
}

static int ua_install(void *ctx, const char *name, const uint8_t *bytes,
                      size_t len)
{
    teep_tee_session_t *s = ctx;
    return s->host->install_ua(s->host, name, bytes, len);
}

const teep_agent_tee_ops_t sim__agent_ops = {
    .ta_install = ta_install,
    .ta_uninstall = ta_uninstall,
    .pd_deliver = pd_deliver,
    .ua_install = ua_install,
    .ta_key = ta_key,
};
