/* suit_processor.c: the procedures (update, invoke, uninstall) over a root
 * manifest and its dependencies: authentication, anti-rollback, the order
 * of the sequences, the dependency commands, commit, the report. */
#include <errno.h>
#include <string.h>

#include "suit_internal.h"

/* The identifier of component index idx: a dependency is named by its
 * prefix (it names the dependency manifest, as in every example), else by
 * the components list.  ptr NULL: no such index. */
static teep_slice_t index_id(const teep_suit_manifest_t *m, uint32_t idx)
{
    for (size_t j = 0; j < m->n_dependencies; j++)
        if (m->dependencies[j].index == idx &&
            m->dependencies[j].prefix.ptr != NULL)
            return m->dependencies[j].prefix;
    if (idx < m->n_components)
        return m->components[idx];
    return (teep_slice_t){0};
}

static int slot_for(tp_suit_proc_t *p, teep_slice_t id, uint8_t *slot)
{
    for (size_t i = 0; i < p->n_slots; i++) {
        if (tp_suit_slice_eq(p->slots[i].id, id)) {
            *slot = (uint8_t)i;
            return 0;
        }
    }
    if (p->n_slots == TP_SUIT_MAX_SLOTS)
        return TEEP_E_LIMIT;
    p->slots[p->n_slots] = (tp_suit_slot_t){.id = id};
    *slot = (uint8_t)p->n_slots++;
    return 0;
}

static int frame_init(tp_suit_proc_t *p, tp_suit_frame_t *f,
                      const teep_suit_envelope_t *env, teep_slice_t manifest_id,
                      const tp_suit_frame_t *parent, uint32_t parent_idx)
{
    const teep_suit_manifest_t *m = &env->manifest;
    memset(f, 0, sizeof(*f));
    f->env = env;
    f->manifest_id = manifest_id;
    if (parent != NULL) {
        memcpy(f->path, parent->path, parent->path_len);
        f->path[parent->path_len] = (uint8_t)parent_idx;
        f->path_len = parent->path_len + 1;
    }
    memset(f->slot, TP_SUIT_NO_SLOT, sizeof(f->slot));
    memset(f->dependency, -1, sizeof(f->dependency));
    f->n_index = (uint32_t)m->n_components;
    for (size_t j = 0; j < m->n_dependencies; j++) {
        uint32_t idx = m->dependencies[j].index;
        f->dependency[idx] = (int8_t)j;
        if (idx + 1 > f->n_index)
            f->n_index = idx + 1;
    }
    for (uint32_t idx = 0; idx < f->n_index; idx++) {
        teep_slice_t id = index_id(m, idx);
        if (id.ptr == NULL)
            continue;
        int rc = slot_for(p, id, &f->slot[idx]);
        if (rc != 0) {
            teep_diag_t d;
            teep_diag_set(&d, rc, 0,
                          "more than %d distinct components in one update",
                          TP_SUIT_MAX_SLOTS);
            tp_suit_fail(p, rc, TEEP_SUIT_REASON_COMPONENT_UNSUPPORTED, NULL,
                         &d);
            return rc;
        }
    }
    return 0;
}

void tp_suit_component(const tp_suit_frame_t *f, uint32_t idx,
                       teep_suit_component_t *c)
{
    *c = (teep_suit_component_t){
        .id = index_id(&f->env->manifest, idx),
        .manifest_id = f->manifest_id,
        .index = idx,
        .is_dependency = idx < f->n_index && f->dependency[idx] >= 0,
    };
}

teep_suit_params_t *tp_suit_params(tp_suit_proc_t *p, const tp_suit_frame_t *f,
                                   uint32_t idx)
{
    return &p->slots[f->slot[idx]].params;
}

/* Shared sequence, then the member for key; nothing when the manifest
 * lacks the member (a dependency without the current section succeeds). */
static int run_section(tp_suit_proc_t *p, tp_suit_frame_t *f, int64_t key)
{
    const teep_suit_manifest_t *m = &f->env->manifest;
    bool severable;
    int i = tp_suit_member_index(key, &severable);
    const teep_suit_member_t *mb =
        i >= 0 && i < TEEP_SUIT_SEQ_COUNT ? &m->sequences[i] : NULL;
    if (mb != NULL && !mb->present)
        return 0;
    if (mb != NULL && mb->value.ptr == NULL) {
        teep_diag_t d;
        teep_diag_set(&d, TEEP_E_SUIT_SEVERED, 0,
                      "%s is severed and the envelope does not carry it",
                      teep_suit_section_name(key));
        tp_suit_fail(p, TEEP_E_SUIT_SEVERED,
                     TEEP_SUIT_REASON_SEVERING_UNSUPPORTED, NULL, &d);
        return TEEP_E_SUIT_SEVERED;
    }
    int rc = 0;
    if (m->shared_sequence.ptr != NULL)
        rc = tp_suit_run_sequence(p, f, TEEP_SUIT_COMMON, m->shared_sequence);
    if (rc == 0 && mb != NULL)
        rc = tp_suit_run_sequence(p, f, key, mb->value);
    return rc;
}

static bool in_procedure(unsigned procedure, teep_suit_seq_t s)
{
    switch (s) {
    case TEEP_SUIT_SEQ_DEPENDENCY_RESOLUTION:
    case TEEP_SUIT_SEQ_PAYLOAD_FETCH:
    case TEEP_SUIT_SEQ_CANDIDATE_VERIFICATION:
    case TEEP_SUIT_SEQ_INSTALL: return procedure & TEEP_SUIT_PROC_UPDATE;
    case TEEP_SUIT_SEQ_VALIDATE:
        return procedure & (TEEP_SUIT_PROC_UPDATE | TEEP_SUIT_PROC_INVOKE);
    case TEEP_SUIT_SEQ_LOAD:
    case TEEP_SUIT_SEQ_INVOKE: return procedure & TEEP_SUIT_PROC_INVOKE;
    case TEEP_SUIT_SEQ_UNINSTALL: return procedure & TEEP_SUIT_PROC_UNINSTALL;
    default: return false;
    }
}

static int run_procedure(tp_suit_proc_t *p, tp_suit_frame_t *f)
{
    const teep_suit_manifest_t *m = &f->env->manifest;
    bool any = false;
    for (int s = 0; s < TEEP_SUIT_SEQ_COUNT; s++) {
        if (!in_procedure(p->cfg->procedure, (teep_suit_seq_t)s) ||
            !m->sequences[s].present)
            continue;
        any = true;
        int rc = run_section(p, f, teep_suit_sequence_key((teep_suit_seq_t)s));
        if (rc != 0)
            return rc;
    }
    /* The applicability checks of the shared sequence still run. */
    if (!any && m->shared_sequence.ptr != NULL)
        return tp_suit_run_sequence(p, f, TEEP_SUIT_COMMON, m->shared_sequence);
    return 0;
}

/* Anti-rollback: an update must be newer than what is installed; a
 * dependency, or a manifest invoked or uninstalled, must not be older. */
static int check_sequence(tp_suit_proc_t *p, teep_slice_t manifest_id,
                          uint64_t sequence_number, bool strictly_newer,
                          teep_diag_t *diag)
{
    if (p->ops->installed_sequence == NULL)
        return 0;
    uint64_t installed;
    int rc = p->ops->installed_sequence(p->ctx, manifest_id, &installed);
    if (rc == -ENOENT)
        return 0;
    if (rc != 0)
        return teep_diag_set(diag, rc, 0,
                             "installed sequence number unavailable");
    if (sequence_number > installed ||
        (!strictly_newer && sequence_number == installed))
        return 0;
    return teep_diag_set(
        diag, TEEP_E_SUIT_ROLLBACK, 0, "sequence number %llu, installed %llu",
        (unsigned long long)sequence_number, (unsigned long long)installed);
}

static int add_commit(tp_suit_proc_t *p, teep_slice_t manifest_id,
                      uint64_t sequence_number, teep_slice_t envelope)
{
    size_t i = 0;
    while (i < p->n_commits &&
           !tp_suit_slice_eq(p->commits[i].manifest_id, manifest_id))
        i++;
    if (i == TP_SUIT_MAX_COMMITS)
        return TEEP_E_LIMIT;
    /* The same dependency processed again (in another section) keeps one
     * entry. */
    if (i == p->n_commits)
        p->n_commits++;
    p->commits[i] = (tp_suit_commit_t){manifest_id, sequence_number, envelope};
    return 0;
}

/* Open the dependency at idx of x's frame: its envelope (fetched or
 * written in this run, else the device's stored copy), decoded and
 * verified against the trust anchors, with its digest compared to the
 * image-digest parameter.  That parameter is required for an envelope from
 * this run; a stored one was verified when it was installed. */
static int open_dependency(tp_suit_exec_t *x, uint32_t idx,
                           teep_suit_envelope_t *env, tp_suit_outcome_t *o)
{
    teep_diag_t *diag = &o->diag;
    tp_suit_proc_t *p = x->p;
    tp_suit_frame_t *f = x->f;
    int j = f->dependency[idx];
    teep_suit_component_t c;
    tp_suit_component(f, idx, &c);
    o->consumed |= TEEP_SUIT_PARAM_BIT(TEEP_SUIT_PARAM_IMAGE_DIGEST);
    teep_slice_t bytes = f->dep_envelope[j];
    bool stored = bytes.ptr == NULL;
    if (stored) {
        int rc = p->ops->load_manifest == NULL
                     ? -ENOENT
                     : p->ops->load_manifest(p->ctx, c.id, &bytes);
        if (rc != 0) {
            o->reason = TEEP_SUIT_REASON_OPERATION_FAILED;
            return teep_diag_set(diag, rc, 0,
                                 "dependency %u was not fetched and is not "
                                 "installed",
                                 idx);
        }
    }
    int rc = teep_suit_envelope_decode(bytes.ptr, bytes.len, env, diag);
    if (rc == 0)
        rc = teep_suit_envelope_verify(env, p->cfg->trust_anchors,
                                       p->cfg->n_trust_anchors, diag);
    if (rc != 0) {
        o->reason = rc == TEEP_E_SIGNATURE || rc == TEEP_E_SUIT_DIGEST
                        ? TEEP_SUIT_REASON_UNAUTHORISED
                        : tp_suit_reason_for(rc);
        return rc;
    }
    const teep_suit_params_t *pr = tp_suit_params(p, f, idx);
    if (!(pr->present & TEEP_SUIT_PARAM_BIT(TEEP_SUIT_PARAM_IMAGE_DIGEST))) {
        if (stored)
            return 0;
        o->reason = TEEP_SUIT_REASON_PARAMETER_UNSUPPORTED;
        return teep_diag_set(diag, TEEP_E_MISSING, 0,
                             "dependency %u: no image-digest to check it "
                             "against",
                             idx);
    }
    teep_suit_digest_t want;
    rc = teep_suit_digest_decode(pr->image_digest, &want, NULL);
    if (rc == 0 && (want.alg != env->digest.alg ||
                    !tp_suit_slice_eq(want.bytes, env->digest.bytes)))
        rc = TEEP_E_SUIT_DIGEST;
    if (rc != 0) {
        o->reason = TEEP_SUIT_REASON_UNAUTHORISED;
        return teep_diag_set(diag, rc, 0,
                             "dependency %u is not the manifest its "
                             "image-digest names",
                             idx);
    }
    return 0;
}

int tp_suit_dependency_integrity(tp_suit_exec_t *x, uint32_t idx,
                                 tp_suit_outcome_t *o)
{
    int j = x->f->dependency[idx];
    if (j < 0)
        return TP_SUIT_COND_FAILED;
    teep_suit_envelope_t env;
    int rc = open_dependency(x, idx, &env, o);
    if (rc != 0)
        return rc;
    x->f->dep_checked[j] = true;
    return 0;
}

int tp_suit_process_dependency(tp_suit_exec_t *x, uint32_t idx,
                               tp_suit_outcome_t *o)
{
    tp_suit_proc_t *p = x->p;
    tp_suit_frame_t *f = x->f;
    int j = f->dependency[idx];
    if (j < 0 || x->section == TEEP_SUIT_COMMON) {
        o->reason = TEEP_SUIT_REASON_COMPONENT_UNSUPPORTED;
        return TEEP_E_SUIT_UNSUPPORTED;
    }
    if (f->path_len == TEEP_SUIT_MAX_DEPENDENCY_DEPTH) {
        o->reason = TEEP_SUIT_REASON_OPERATION_FAILED;
        return TEEP_E_DEPTH;
    }
    /* The trust-domains draft wants dependency-integrity first; the TEEP
     * examples go straight to process-dependency, so the same checks run
     * here whether or not it came first. */
    teep_suit_envelope_t env;
    int rc = open_dependency(x, idx, &env, o);
    if (rc != 0)
        return rc;
    teep_suit_component_t c;
    tp_suit_component(f, idx, &c);
    rc = check_sequence(p, c.id, env.manifest.sequence_number, false, &o->diag);
    if (rc != 0) {
        o->reason = rc == TEEP_E_SUIT_ROLLBACK
                        ? TEEP_SUIT_REASON_UNAUTHORISED
                        : TEEP_SUIT_REASON_OPERATION_FAILED;
        return rc;
    }
    tp_suit_frame_t child;
    rc = frame_init(p, &child, &env, c.id, f, idx);
    if (rc == 0)
        rc = run_section(p, &child, x->section);
    if (rc == 0 && (p->cfg->procedure & TEEP_SUIT_PROC_UPDATE))
        rc = add_commit(p, c.id, env.manifest.sequence_number, env.raw);
    return rc;
}

/* ------------------------------------------------------------------ */

static void report_begin(teep_suit_report_t *report,
                         const teep_suit_config_t *cfg)
{
    if (report == NULL)
        return;
    memset(report, 0, sizeof(*report));
    report->reference_uri = (teep_slice_t){(const uint8_t *)"", 0};
    if (cfg == NULL)
        return;
    if (cfg->nonce.ptr != NULL)
        report->nonce = cfg->nonce;
    if (cfg->reference_uri.ptr != NULL)
        report->reference_uri = cfg->reference_uri;
}

static void report_digest(teep_suit_report_t *report, int64_t alg,
                          teep_slice_t bytes)
{
    if (report == NULL)
        return;
    report->digest_alg = alg;
    report->digest_len =
        bytes.len < sizeof(report->digest) ? bytes.len : sizeof(report->digest);
    if (report->digest_len > 0)
        memcpy(report->digest, bytes.ptr, report->digest_len);
}

static int report_end(teep_suit_report_t *report, int rc,
                      teep_suit_reason_t reason, const teep_suit_record_t *rec,
                      const teep_diag_t *diag)
{
    if (report == NULL)
        return rc;
    report->success = rc == 0;
    report->result_code = rc;
    report->reason = rc == 0 ? TEEP_SUIT_REASON_OK : reason;
    if (rc != 0 && rec != NULL)
        report->result_record = *rec;
    if (rc != 0 && diag != NULL)
        report->diag = *diag;
    return rc;
}

static bool config_ok(const teep_suit_config_t *cfg, const teep_suit_ops_t *ops)
{
    if (cfg == NULL || ops == NULL || cfg->trust_anchors == NULL ||
        cfg->n_trust_anchors == 0)
        return false;
    unsigned proc = cfg->procedure;
    return proc != 0 &&
           (proc & ~(TEEP_SUIT_PROC_UPDATE | TEEP_SUIT_PROC_INVOKE |
                     TEEP_SUIT_PROC_UNINSTALL)) == 0 &&
           (!(proc & TEEP_SUIT_PROC_UNINSTALL) ||
            proc == TEEP_SUIT_PROC_UNINSTALL);
}

/* Commit every manifest the update processed, dependencies first. */
static int commit_all(tp_suit_proc_t *p, const teep_suit_envelope_t *root)
{
    if (!(p->cfg->procedure & TEEP_SUIT_PROC_UPDATE) || p->ops->commit == NULL)
        return 0;
    int rc = add_commit(p, root->manifest.component_id,
                        root->manifest.sequence_number, root->raw);
    for (size_t i = 0; rc == 0 && i < p->n_commits; i++) {
        const tp_suit_commit_t *c = &p->commits[i];
        rc = p->ops->commit(p->ctx, c->manifest_id, c->sequence_number,
                            c->envelope);
    }
    if (rc != 0) {
        teep_diag_t d;
        teep_diag_set(&d, rc, 0, "commit of a processed manifest failed");
        tp_suit_fail(p, rc, TEEP_SUIT_REASON_OPERATION_FAILED, NULL, &d);
    }
    return rc;
}

int teep_suit_process_envelope(const teep_suit_envelope_t *env,
                               const teep_suit_config_t *cfg,
                               const teep_suit_ops_t *ops, void *ctx,
                               teep_suit_report_t *report)
{
    teep_diag_t diag = {0};
    report_begin(report, cfg);
    if (env == NULL || !config_ok(cfg, ops)) {
        teep_diag_set(&diag, -EINVAL, 0, "bad processor configuration");
        return report_end(report, -EINVAL, TEEP_SUIT_REASON_OPERATION_FAILED,
                          NULL, &diag);
    }
    report_digest(report, env->digest.alg, env->digest.bytes);
    if (report != NULL && cfg->reference_uri.ptr == NULL &&
        env->manifest.reference_uri.ptr != NULL)
        report->reference_uri = env->manifest.reference_uri;
    if (!env->verified) {
        teep_diag_set(&diag, TEEP_E_SIGNATURE, 0, "envelope not verified");
        return report_end(report, TEEP_E_SIGNATURE,
                          TEEP_SUIT_REASON_UNAUTHORISED, NULL, &diag);
    }

    /* The processor state is large (parameter slots for every component
     * of the tree) but bounded; it lives on the caller's stack. */
    tp_suit_proc_t p;
    memset(&p, 0, sizeof(p));
    p.cfg = cfg;
    p.ops = ops;
    p.ctx = ctx;
    p.report = report;
    int rc = check_sequence(&p, env->manifest.component_id,
                            env->manifest.sequence_number,
                            cfg->procedure & TEEP_SUIT_PROC_UPDATE, &diag);
    if (rc != 0)
        return report_end(report, rc,
                          rc == TEEP_E_SUIT_ROLLBACK
                              ? TEEP_SUIT_REASON_UNAUTHORISED
                              : TEEP_SUIT_REASON_OPERATION_FAILED,
                          NULL, &diag);
    tp_suit_frame_t root;
    rc = frame_init(&p, &root, env, env->manifest.component_id, NULL, 0);
    if (rc == 0)
        rc = run_procedure(&p, &root);
    if (rc == TP_SUIT_COND_FAILED)
        rc = TEEP_E_SUIT_CONDITION;
    if (rc == 0)
        rc = commit_all(&p, env);
    return report_end(report, rc, p.failure.reason, &p.failure.record,
                      &p.failure.diag);
}

int teep_suit_process(const uint8_t *buf, size_t len,
                      const teep_suit_config_t *cfg, const teep_suit_ops_t *ops,
                      void *ctx, teep_suit_report_t *report)
{
    teep_suit_envelope_t env;
    teep_diag_t diag = {0};
    report_begin(report, cfg);
    if (buf == NULL || !config_ok(cfg, ops)) {
        teep_diag_set(&diag, -EINVAL, 0, "bad processor configuration");
        return report_end(report, -EINVAL, TEEP_SUIT_REASON_OPERATION_FAILED,
                          NULL, &diag);
    }
    int rc = teep_suit_envelope_decode(buf, len, &env, &diag);
    if (rc != 0) {
        /* No manifest digest to name: the input's own hash stands in. */
        uint8_t h[32];
        if (teep_sha256(buf, len, h) == 0)
            report_digest(report, TEEP_SUIT_ALG_SHA256,
                          (teep_slice_t){h, sizeof(h)});
        return report_end(report, rc, tp_suit_reason_for(rc), NULL, &diag);
    }
    rc = teep_suit_envelope_verify(&env, cfg->trust_anchors,
                                   cfg->n_trust_anchors, &diag);
    if (rc != 0) {
        report_digest(report, env.digest.alg, env.digest.bytes);
        teep_suit_reason_t reason = tp_suit_reason_for(rc);
        if (rc == TEEP_E_SUIT_DIGEST)
            reason = TEEP_SUIT_REASON_UNAUTHORISED;
        return report_end(report, rc, reason, NULL, &diag);
    }
    return teep_suit_process_envelope(&env, cfg, ops, ctx, report);
}
