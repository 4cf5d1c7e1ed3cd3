/*
 * suit_run.c: the SUIT processor's device callbacks for the Agent, and
 * what happens once a manifest succeeded.  Writes are staged, not done:
 * a manifest that fails halfway leaves the TEE as it was, and the
 * personalization data of a refused manifest never reaches a TA.
 *
 * Principle 1 lives in decrypt: an encrypted payload (PD, or an encrypted
 * TA) is decrypted only when the conversation attested (agent_run_t.
 * pd_allowed, from chain.c); otherwise the callback refuses, the manifest
 * fails with a report, and nothing of it is applied.  Principle 2 lives
 * in apply: personalization data that did not arrive encrypted to the
 * attested PD key is refused.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "teep/pd.h"

#include "agent_internal.h"

#define ID_MAX 1024

void agent__run_init(agent_run_t *run, teep_agent_t *agent, bool pd_allowed)
{
    memset(run, 0, sizeof(*run));
    run->agent = agent;
    run->pd_allowed = pd_allowed;
}

void agent__run_free(agent_run_t *run)
{
    for (size_t i = 0; i < run->n_plain; i++) {
        agent__wipe(run->plain[i], run->plain_len[i]);
        free(run->plain[i]);
    }
    for (size_t i = 0; i < run->n_commits; i++)
        free(run->commits[i].owned);
    run->n_plain = run->n_commits = 0;
}

/* The TEE has no network of its own: payloads come integrated in the
 * envelope (the processor resolves "#name" URIs before asking). */
static int op_fetch(void *ctx, const teep_suit_component_t *c, teep_slice_t uri,
                    teep_slice_t *bytes)
{
    return -EPROTONOSUPPORT;
}

static bool is_plain(const agent_run_t *run, teep_slice_t bytes)
{
    for (size_t i = 0; i < run->n_plain; i++)
        if (bytes.ptr == run->plain[i])
            return true;
    return false;
}

static int op_write(void *ctx, const teep_suit_component_t *c,
                    teep_slice_t bytes)
{
    agent_run_t *run = ctx;
    size_t i = 0;
    while (i < run->n_writes && !agent__slice_eq(c->id, run->writes[i].id.ptr,
                                                 run->writes[i].id.len))
        i++;
    if (i == AGENT_MAX_WRITES)
        return -ENOSPC;
    if (i == run->n_writes)
        run->n_writes++;
    run->writes[i] = (agent_write_t){
        .id = c->id,
        .manifest_id = c->manifest_id,
        .bytes = bytes,
        .decrypted = is_plain(run, bytes),
    };
    return 0;
}

static int op_read(void *ctx, const teep_suit_component_t *c,
                   teep_slice_t *bytes)
{
    agent_run_t *run = ctx;
    for (size_t i = 0; i < run->n_writes; i++) {
        if (agent__slice_eq(c->id, run->writes[i].id.ptr,
                            run->writes[i].id.len)) {
            *bytes = run->writes[i].bytes;
            return 0;
        }
    }
    return -ENOENT;
}

static int op_decrypt(void *ctx, const teep_suit_component_t *c,
                      teep_slice_t info, teep_slice_t ciphertext,
                      teep_slice_t *plaintext)
{
    agent_run_t *run = ctx;
    if (!run->pd_allowed) {
        run->pd_refused = true;
        return -EACCES;
    }
    if (run->n_plain == AGENT_MAX_WRITES)
        return -ENOSPC;
    uint8_t *out = malloc(ciphertext.len > 0 ? ciphertext.len : 1);
    if (out == NULL)
        return -ENOMEM;
    size_t n = 0;
    int rc = teep_pd_decrypt(&run->agent->pd_key, info, ciphertext, out,
                             ciphertext.len, &n, NULL);
    if (rc != 0) {
        free(out);
        return rc;
    }
    run->plain[run->n_plain] = out;
    run->plain_len[run->n_plain++] = n;
    *plaintext = (teep_slice_t){out, n};
    return 0;
}

static int op_unlink(void *ctx, const teep_suit_component_t *c)
{
    agent_run_t *run = ctx;
    if (run->n_unlinks == AGENT_MAX_UNLINKS)
        return -ENOSPC;
    run->unlinks[run->n_unlinks++] = c->id;
    return 0;
}

static int op_installed_sequence(void *ctx, teep_slice_t manifest_id,
                                 uint64_t *sequence_number)
{
    agent_run_t *run = ctx;
    const teep_agent_manifest_t *m =
        agent__find_manifest(run->agent, manifest_id);
    if (m == NULL)
        return -ENOENT;
    *sequence_number = m->sequence_number;
    return 0;
}

static int op_load_manifest(void *ctx, teep_slice_t manifest_id,
                            teep_slice_t *envelope)
{
    agent_run_t *run = ctx;
    const teep_agent_manifest_t *m =
        agent__find_manifest(run->agent, manifest_id);
    if (m == NULL)
        return -ENOENT;
    *envelope = (teep_slice_t){m->envelope, m->envelope_len};
    return 0;
}

/* TEEP names installed manifests by suit-manifest-component-id (the
 * unneeded-manifest-list carries it), so a manifest without one cannot
 * be installed.  The commit is copied: a stored envelope it may point
 * into is replaced while applying. */
static int op_commit(void *ctx, teep_slice_t manifest_id,
                     uint64_t sequence_number, teep_slice_t envelope)
{
    agent_run_t *run = ctx;
    if (manifest_id.ptr == NULL || manifest_id.len == 0)
        return -EINVAL;
    if (run->n_commits == AGENT_MAX_COMMITS)
        return -ENOSPC;
    uint8_t *copy = malloc(manifest_id.len + envelope.len);
    if (copy == NULL)
        return -ENOMEM;
    memcpy(copy, manifest_id.ptr, manifest_id.len);
    memcpy(copy + manifest_id.len, envelope.ptr, envelope.len);
    run->commits[run->n_commits++] = (agent_commit_t){
        .id = {copy, manifest_id.len},
        .sequence_number = sequence_number,
        .envelope = {copy + manifest_id.len, envelope.len},
        .owned = copy,
    };
    return 0;
}

static const teep_suit_ops_t agent_suit_ops = {
    .fetch = op_fetch,
    .write = op_write,
    .read = op_read,
    .decrypt = op_decrypt,
    .unlink = op_unlink,
    .installed_sequence = op_installed_sequence,
    .load_manifest = op_load_manifest,
    .commit = op_commit,
};

int agent__run_process(agent_run_t *run, teep_slice_t envelope,
                       unsigned procedure, teep_slice_t token,
                       teep_suit_report_t *report)
{
    const teep_agent_config_t *cfg = &run->agent->cfg;
    teep_suit_config_t sc = {
        .trust_anchors = cfg->tc_signer_keys,
        .n_trust_anchors = cfg->n_tc_signers,
        .vendor_ids = {&cfg->vendor_id, cfg->vendor_id.len > 0 ? 1 : 0},
        .class_ids = {&cfg->class_id, cfg->class_id.len > 0 ? 1 : 0},
        .procedure = procedure,
        .nonce = token,
    };
    return teep_suit_process(envelope.ptr, envelope.len, &sc, &agent_suit_ops,
                             run, report);
}

/* ---- Applying ---------------------------------------------------------- */

static int fail(teep_suit_report_t *report, int rc, const char *why)
{
    if (report != NULL) {
        report->success = false;
        report->result_code = rc;
        report->reason = TEEP_SUIT_REASON_OPERATION_FAILED;
        teep_diag_set(&report->diag, rc, 0, "%s", why);
    }
    return rc;
}

/* The TA a PD write is for: by name (same segments, "ta" last), else the
 * one TA this manifest installs (the draft's PD manifest depends on its
 * TA's manifest). */
static int pd_target(agent_run_t *run, const agent_write_t *w, teep_slice_t *ta)
{
    uint8_t id[ID_MAX];
    size_t len = 0;
    if (agent__pd_ta_id(w->id, id, sizeof(id), &len) == 0) {
        teep_agent_component_t *c =
            teep_agent_find_component(run->agent, (teep_slice_t){id, len});
        if (c != NULL && c->kind == TEEP_AGENT_KIND_TA) {
            *ta = (teep_slice_t){c->id, c->id_len};
            return 0;
        }
    }
    size_t n_ta = 0;
    for (size_t i = 0; i < run->n_writes; i++) {
        teep_agent_kind_t kind;
        if (teep_agent_component_kind(run->writes[i].id, &kind) == 0 &&
            kind == TEEP_AGENT_KIND_TA) {
            *ta = run->writes[i].id;
            n_ta++;
        }
    }
    return n_ta == 1 ? 0 : -ENOENT;
}

static int apply_ta(agent_run_t *run, const agent_write_t *w)
{
    teep_agent_t *agent = run->agent;
    int rc = agent->cfg.tee->ta_install(agent->cfg.tee_ctx, w->id, w->bytes.ptr,
                                        w->bytes.len);
    if (rc == 0)
        rc = agent__put_component(agent, w->id, TEEP_AGENT_KIND_TA, w->bytes,
                                  w->manifest_id, NULL);
    return rc;
}

static int apply_ua(agent_run_t *run, const agent_write_t *w)
{
    teep_agent_t *agent = run->agent;
    char name[256];
    int rc = agent__ua_name(w->id, name, sizeof(name));
    if (rc == 0)
        rc = agent->cfg.tee->ua_install(agent->cfg.tee_ctx, name, w->bytes.ptr,
                                        w->bytes.len);
    if (rc == 0)
        rc = agent__put_component(agent, w->id, TEEP_AGENT_KIND_UA, w->bytes,
                                  w->manifest_id, NULL);
    return rc;
}

static int apply_pd(agent_run_t *run, const agent_write_t *w,
                    teep_suit_report_t *report)
{
    teep_agent_t *agent = run->agent;
    teep_slice_t ta;
    if (pd_target(run, w, &ta) != 0)
        return fail(report, -ENOENT,
                    "personalization data for no TA: name it like its TA "
                    "with another last segment");
    int rc = agent->cfg.tee->pd_deliver(agent->cfg.tee_ctx, ta, w->bytes.ptr,
                                        w->bytes.len);
    if (rc != 0)
        return fail(report, rc, "the TA did not take its personalization data");
    teep_agent_component_t *c = teep_agent_find_component(agent, ta);
    uint8_t *pd = agent__dup(w->bytes.ptr, w->bytes.len);
    if (c == NULL || pd == NULL) {
        free(pd);
        return fail(report, -ENOMEM, "out of memory");
    }
    if (c->pd != NULL)
        agent__wipe(c->pd, c->pd_len);
    free(c->pd);
    c->pd = pd;
    c->pd_len = w->bytes.len;
    rc = agent__put_component(agent, w->id, TEEP_AGENT_KIND_PD, w->bytes,
                              w->manifest_id, NULL);
    return rc != 0 ? fail(report, rc, "state full") : 0;
}

/* TAs first, so that PD in the same update finds its TA running. */
int agent__run_apply(agent_run_t *run, teep_suit_report_t *report)
{
    teep_agent_kind_t kinds[AGENT_MAX_WRITES];
    for (size_t i = 0; i < run->n_writes; i++) {
        if (teep_agent_component_kind(run->writes[i].id, &kinds[i]) != 0)
            return fail(report, -EINVAL, "malformed component identifier");
        if (kinds[i] == TEEP_AGENT_KIND_PD && !run->writes[i].decrypted)
            return fail(report, -EACCES,
                        "personalization data must arrive encrypted to the "
                        "attested PD key");
    }
    for (size_t i = 0; i < run->n_writes; i++) {
        int rc = 0;
        if (kinds[i] == TEEP_AGENT_KIND_TA)
            rc = apply_ta(run, &run->writes[i]);
        else if (kinds[i] == TEEP_AGENT_KIND_UA)
            rc = apply_ua(run, &run->writes[i]);
        if (rc != 0)
            return fail(report, rc,
                        kinds[i] == TEEP_AGENT_KIND_TA
                            ? "the TEE did not install the TA"
                            : "the REE did not install the UA");
    }
    for (size_t i = 0; i < run->n_writes; i++) {
        if (kinds[i] != TEEP_AGENT_KIND_PD)
            continue;
        int rc = apply_pd(run, &run->writes[i], report);
        if (rc != 0)
            return rc;
    }
    teep_agent_t *agent = run->agent;
    for (size_t i = 0; i < run->n_commits; i++) {
        const agent_commit_t *c = &run->commits[i];
        int rc =
            agent__put_manifest(agent, c->id, c->sequence_number, c->envelope);
        if (rc != 0)
            return fail(report, rc, "state full");
        agent__request_remove(agent->requested, &agent->n_requested, c->id);
    }
    for (size_t i = 0; i < run->n_writes; i++)
        agent__request_remove(agent->requested, &agent->n_requested,
                              run->writes[i].id);
    return 0;
}
