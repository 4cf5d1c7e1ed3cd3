/*
 * update.c: Update -> Success / Error (digest 4.3 and 5.4).  First every
 * manifest in unneeded-manifest-list is uninstalled (its suit-uninstall
 * runs, its components leave the TEE), then every envelope of
 * manifest-list runs through the SUIT processor and, when it succeeded as
 * a whole, its effects are applied.  All succeeded: Success; otherwise
 * Error ERR_MANIFEST_PROCESSING_FAILED.  Both carry one SUIT report per
 * manifest processed, with the Update's token as suit-report-nonce.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_internal.h"

typedef struct outcome {
    size_t n_reports;
    teep_slice_t reports[TEEP_AGENT_MAX_MANIFESTS + TEEP_AGENT_MAX_REQUESTS];
    bool failed;
    bool pd_refused;
    char reason[128];
    teep_suit_report_t *report; /* scratch, one per manifest */
} outcome_t;

/* Keep the report of one manifest as its encoded SUIT_Report (an
 * unprotected SUIT report: the TEEP message signature covers it). */
static int keep_report(outcome_t *o, int rc)
{
    if (rc != 0 && !o->failed) {
        o->failed = true;
        snprintf(o->reason, sizeof(o->reason), "manifest %zu: %.100s",
                 o->n_reports,
                 o->report->diag.reason[0] != 0 ? o->report->diag.reason
                                                : teep_suit_strerror(rc));
    }
    if (o->n_reports == sizeof(o->reports) / sizeof(o->reports[0]))
        return 0;
    size_t n = 0;
    int erc = teep_suit_report_encode(o->report, NULL, 0, &n);
    if (erc != 0 && erc != -ENOSPC)
        return erc;
    uint8_t *buf = malloc(n);
    if (buf == NULL)
        return -ENOMEM;
    erc = teep_suit_report_encode(o->report, buf, n, &n);
    if (erc != 0) {
        free(buf);
        return erc;
    }
    o->reports[o->n_reports++] = (teep_slice_t){buf, n};
    return 0;
}

/* Remove a component: a TA leaves the TEE too. */
static void remove_component(teep_agent_t *agent, size_t i)
{
    teep_agent_component_t *c = &agent->components[i];
    if (c->kind == TEEP_AGENT_KIND_TA)
        agent->cfg.tee->ta_uninstall(agent->cfg.tee_ctx,
                                     (teep_slice_t){c->id, c->id_len});
    agent__drop_component(agent, i);
}

static bool unlinked(const agent_run_t *run, const teep_agent_component_t *c)
{
    for (size_t i = 0; i < run->n_unlinks; i++)
        if (agent__slice_eq(run->unlinks[i], c->id, c->id_len))
            return true;
    return false;
}

/* Unlink one entry of unneeded-manifest-list: a manifest (its uninstall
 * sequence, then everything it installed), or else a component. */
static int uninstall(teep_agent_t *agent, teep_slice_t id, teep_slice_t token,
                     outcome_t *o)
{
    teep_agent_manifest_t *m = agent__find_manifest(agent, id);
    if (m == NULL) {
        for (size_t i = 0; i < agent->n_components; i++) {
            if (agent__slice_eq(id, agent->components[i].id,
                                agent->components[i].id_len)) {
                remove_component(agent, i);
                break;
            }
        }
        agent__request_remove(agent->unneeded, &agent->n_unneeded, id);
        return 0;
    }
    agent_run_t run;
    agent__run_init(&run, agent, false);
    int rc =
        agent__run_process(&run, (teep_slice_t){m->envelope, m->envelope_len},
                           TEEP_SUIT_PROC_UNINSTALL, token, o->report);
    if (rc == 0) {
        /* Unlinked ids point into m's envelope: drop m last. */
        for (size_t i = agent->n_components; i-- > 0;) {
            teep_agent_component_t *c = &agent->components[i];
            if (unlinked(&run, c) ||
                agent__slice_eq(id, c->manifest_id, c->manifest_id_len))
                remove_component(agent, i);
        }
        agent__request_remove(agent->unneeded, &agent->n_unneeded, id);
        agent__drop_manifest(agent, (size_t)(m - agent->manifests));
    }
    agent__run_free(&run);
    return keep_report(o, rc);
}

static int install(teep_agent_t *agent, teep_slice_t envelope,
                   teep_slice_t token, bool pd_allowed, outcome_t *o)
{
    agent_run_t run;
    agent__run_init(&run, agent, pd_allowed);
    int rc = agent__run_process(&run, envelope, TEEP_SUIT_PROC_UPDATE, token,
                                o->report);
    if (rc == 0)
        rc = agent__run_apply(&run, o->report);
    if (run.pd_refused)
        o->pd_refused = true;
    agent__run_free(&run);
    return keep_report(o, rc);
}

static int reply(teep_agent_t *agent, agent_in_t *in, teep_slice_t token,
                 outcome_t *o, uint8_t **out, size_t *out_len)
{
    if (o->pd_refused)
        snprintf(o->reason, sizeof(o->reason),
                 "personalization data refused: this Agent gave no Evidence "
                 "in this conversation");
    if (o->failed)
        return agent__error_reply(
            agent, in->profile, token, TEEP_ERR_MANIFEST_PROCESSING_FAILED,
            o->reason, o->reports, o->n_reports, out, out_len);
    teep_message_t s;
    memset(&s, 0, sizeof(s));
    s.type = TEEP_SUCCESS;
    if (token.len > 0) {
        s.present |= TEEP_OPT_BIT(TEEP_OPT_TOKEN);
        s.token = token;
    }
    if (o->n_reports > 0) {
        s.present |= TEEP_OPT_BIT(TEEP_OPT_SUIT_REPORTS);
        s.suit_reports.items = o->reports;
        s.suit_reports.count = o->n_reports;
    }
    return agent__sign_reply(agent, &s, in->profile, out, out_len);
}

int agent__update(teep_agent_t *agent, uint64_t tam_session, agent_in_t *in,
                  uint8_t **out, size_t *out_len)
{
    const teep_message_t *u = &in->msg;
    teep_slice_t token = u->present & TEEP_OPT_BIT(TEEP_OPT_TOKEN)
                             ? u->token
                             : (teep_slice_t){0};
    bool tam_error = u->present & TEEP_OPT_BIT(TEEP_OPT_ERR_CODE);
    bool pd_allowed =
        agent__chain_take_attestation(agent, tam_session, in->tam, tam_error);
    outcome_t *o = calloc(1, sizeof(*o));
    teep_suit_report_t *report = malloc(sizeof(*report));
    if (o == NULL || report == NULL) {
        free(o);
        free(report);
        return -ENOMEM;
    }
    o->report = report;
    int rc = 0;
    bool changed = false;
    for (size_t i = 0; rc == 0 && i < u->unneeded_manifest_list.count; i++) {
        rc = uninstall(agent, u->unneeded_manifest_list.items[i], token, o);
        changed = true;
    }
    for (size_t i = 0; rc == 0 && i < u->manifest_list.count; i++) {
        rc = install(agent, u->manifest_list.items[i], token, pd_allowed, o);
        changed = true;
    }
    if (rc == 0 && changed && agent__state_save(agent) != 0) {
        o->failed = true;
        snprintf(o->reason, sizeof(o->reason),
                 "the TEE state could not be saved");
    }
    if (rc == 0)
        rc = reply(agent, in, token, o, out, out_len);
    for (size_t i = 0; i < o->n_reports; i++)
        free((void *)o->reports[i].ptr);
    free(report);
    free(o);
    return rc;
}
