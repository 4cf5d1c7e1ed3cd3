/* session.c: the TEEP exchange on the TAM side (digest 3.3, 4.2, 4.4).
 *
 * ProcessConnect opens a conversation with a QueryRequest that asks for
 * attestation.  ProcessTeepMessage verifies the message against the
 * registered Agent that signed it (by kid, not by connection), uses up its
 * token, lets the deploy engine learn from it, and answers with what the
 * engine plans next.  The database connection is taken only for the
 * steps that read or write it (the signer's row, the token, the
 * transaction and the packages of the answer) and given back around the
 * crypto (signature, Evidence appraisal, signing the answer): the TAM
 * runs one SQLite connection for all its workers (core.c says why), so
 * one device's crypto never holds the database for the others. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "teep/peek.h"
#include "teep/suit.h"

#include "deploy.h"

/* A message refused: reply holds the status, processing stops. */
#define REFUSED 1

typedef struct inbound {
    const uint8_t *buf;
    size_t len;
    teep_cose_t cose;
    tam_device_t device;
    bool has_device;
    teep_profile_t profile;
    int detected; /* profile read off this message, or -1 */
    int64_t alg;
    teep_message_t msg;
    teep_arena_t arena;
    bool has_token; /* token: its row, read before the transaction */
    tam_token_t token;
    bool appraised;
    tam_appraisal_t appraisal;
    teep_eat_result_t result;
    /* Last, so that teep_tam_process_message zeroes all but the
     * decoder's 16 KiB scratch, which the arena never reads unwritten. */
    uint8_t arena_mem[TEEP_ARENA_DEFAULT];
} inbound_t;

/* What the transaction decided to send. */
typedef struct plan {
    tam_action_t action;
    bool err_update; /* an Update with err-code: attestation failed */
    char err_msg[256];
    tam_token_t token;
} plan_t;

static int internal_error(teep_tam_reply_t *reply, const char *what, int rc)
{
    tam_reply_refuse(reply, 500, "%s: %s", what, teep_strerror(rc));
    return REFUSED;
}

/* ---- verifying what came in --------------------------------------- */

static void detect_profile(const teep_tam_t *tam, inbound_t *in)
{
    in->detected = -1;
    if (in->device.profile != TAM_PROFILE_AUTO) {
        in->profile = (teep_profile_t)in->device.profile;
        return;
    }
    /* The token's label tells the numbering (legacy 20, rfc 19). */
    teep_peek_t pk;
    if (teep_peek(in->buf, in->len, TEEP_PEEK_AUTO, &pk, NULL) == 0 &&
        pk.profile != TEEP_PEEK_AUTO)
        in->detected = pk.profile;
    in->profile = in->detected >= 0
                      ? (teep_profile_t)in->detected
                      : tam_device_profile(&in->device, tam->cfg.profile);
}

/* A refusal's audit line outside any transaction: the connection is
 * taken for that one insert. */
static void audit_refused(teep_tam_t *tam, int64_t now, int64_t device,
                          const char *detail)
{
    tam_store_t *s = tam_pool_get(tam);
    tam_audit(s, now, device, 0, "refused", "%s", detail);
    tam_pool_put(tam, s);
}

/* Find the registered Agent named by the kid in the COSE header: the one
 * read before the signature is checked. */
static int identify(teep_tam_t *tam, inbound_t *in, int64_t now,
                    teep_tam_reply_t *reply)
{
    teep_diag_t diag = {0};
    if (teep_cose_parse(in->buf, in->len, &in->cose, &diag) != 0) {
        tam_reply_refuse(reply, 400,
                         "not a signed TEEP message: %s at byte %zu",
                         diag.reason, diag.offset);
        return REFUSED;
    }
    teep_slice_t kid = in->cose.signatures[0].kid;
    char hex[2 * TAM_KID_MAX + 1];
    tam_hex(kid.ptr, kid.len <= TAM_KID_MAX ? kid.len : TAM_KID_MAX, hex);
    int rc = -ENOENT;
    if (kid.len != 0) {
        tam_store_t *s = tam_pool_get(tam);
        rc = tam_device_by_kid(tam, s, kid.ptr, kid.len, &in->device);
        tam_pool_put(tam, s);
    }
    if (rc == -ENOENT) {
        char detail[2 * TAM_KID_MAX + 32];
        snprintf(detail, sizeof(detail), "message from unknown kid '%s'", hex);
        audit_refused(tam, now, 0, detail);
        tam_reply_refuse(reply, 400, "unknown Agent (kid '%s')", hex);
        return REFUSED;
    }
    if (rc != 0)
        return internal_error(reply, "device lookup", rc);
    in->has_device = true;
    return 0;
}

static int verify(teep_tam_t *tam, inbound_t *in, int64_t now,
                  teep_tam_reply_t *reply)
{
    teep_diag_t diag = {0};
    if (teep_cose_verify(&in->cose, in->device.teep_key.key, NULL, 0) != 0) {
        audit_refused(tam, now, in->device.id, "signature does not verify");
        tam_reply_refuse(reply, 400, "bad signature from device %s",
                         in->device.name);
        return REFUSED;
    }
    in->alg = in->cose.signatures[0].alg;
    detect_profile(tam, in);
    teep_arena_init(&in->arena, in->arena_mem, sizeof(in->arena_mem));
    teep_slice_t p = in->cose.payload;
    if (teep_message_decode(p.ptr, p.len, in->profile, &in->arena, &in->msg,
                            &diag) != 0) {
        tam_reply_refuse(reply, 400, "malformed %s TEEP message: %s",
                         teep_profile_name(in->profile), diag.reason);
        return REFUSED;
    }
    teep_msg_type_t t = in->msg.type;
    if (t != TEEP_QUERY_RESPONSE && t != TEEP_SUCCESS && t != TEEP_ERROR) {
        tam_reply_refuse(reply, 400, "an Agent does not send %s",
                         teep_msg_type_name(t));
        return REFUSED;
    }
    if (!(in->msg.present & TEEP_OPT_BIT(TEEP_OPT_TOKEN))) {
        tam_reply_refuse(reply, 400, "%s without the token this TAM sent",
                         teep_msg_type_name(t));
        return REFUSED;
    }
    return 0;
}

/* Appraise Evidence before the transaction: it needs the challenge of
 * the outstanding token, not the database lock. */
static int appraise(teep_tam_t *tam, inbound_t *in, int64_t now,
                    teep_tam_reply_t *reply)
{
    tam_token_t *t = &in->token;
    if (in->msg.type != TEEP_QUERY_RESPONSE)
        return 0;
    tam_store_t *s = tam_pool_get(tam);
    int found = tam_token_find(s, in->msg.token, now, t);
    tam_pool_put(tam, s);
    if (found != 0)
        return 0; /* the transaction refuses it with the reason */
    in->has_token = true;
    if (t->msg_type != TEEP_QUERY_REQUEST)
        return 0;
    int rc = tam_attest_appraise(
        tam, &in->device, t, in->msg.attestation_payload,
        in->msg.present & TEEP_OPT_BIT(TEEP_OPT_ATTESTATION_PAYLOAD_FORMAT)
            ? in->msg.attestation_payload_format
            : (teep_slice_t){0},
        now, &in->result, &in->appraisal);
    if (rc != 0)
        return internal_error(reply, "attestation", rc);
    in->appraised = true;
    return 0;
}

/* ---- deciding, in one transaction ---------------------------------- */

static int refuse_token(const inbound_t *in, int rc, teep_tam_reply_t *reply)
{
    const char *why = rc == -EALREADY    ? "replayed token (already answered)"
                      : rc == -ETIMEDOUT ? "expired token"
                      : rc == -EPERM     ? "token issued to another device"
                      : rc == -ENOENT    ? "unknown token"
                                         : NULL;
    if (why == NULL)
        return internal_error(reply, "token", rc);
    tam_reply_refuse(reply, 400, "%s in a %s", why,
                     teep_msg_type_name(in->msg.type));
    return REFUSED;
}

static void log_requests(tam_store_t *s, const inbound_t *in, int64_t now)
{
    for (size_t i = 0; i < in->msg.requested_tc_list.count; i++) {
        char id[256];
        if (teep_suit_component_id_to_text(
                in->msg.requested_tc_list.items[i].component_id, id,
                sizeof(id)) == 0)
            tam_audit(s, now, in->device.id, 0, "requested",
                      "the Agent asks for %s", id);
    }
}

static int on_query_response(tam_store_t *s, inbound_t *in,
                             const tam_token_t *t, int64_t now, plan_t *plan,
                             teep_tam_reply_t *reply)
{
    if (t->msg_type != TEEP_QUERY_REQUEST || !in->appraised) {
        tam_reply_refuse(reply, 400,
                         "a QueryResponse must answer a QueryRequest");
        return REFUSED;
    }
    tam_appraisal_t *a = &in->appraisal;
    int rc = tam_attest_store(s, in->device.id, t->conversation,
                              in->msg.attestation_payload, &in->result, a, now);
    if (rc == 0) {
        tam_audit(s, now, in->device.id, 0, "attestation", "%lld %s",
                  (long long)a->id, a->summary);
        rc = tam_deploy_on_attestation(s, in->device.id, a, now);
    }
    log_requests(s, in, now);
    /* Steps without PD may still go (TA or UA before attestation, as the
     * modes allow); the engine has stopped the ones that needed it. */
    if (rc == 0)
        rc = tam_deploy_next(s, in->device.id, a, now, &plan->action);
    if (rc == 0 && !a->affirming && plan->action.kind == TAM_ACT_NONE) {
        /* Digest 2.3: attestation failed and the TAM cannot fix it. */
        plan->err_update = true;
        snprintf(plan->err_msg, sizeof(plan->err_msg), "%s", a->summary);
    }
    return rc == 0 ? 0 : internal_error(reply, "deployment", rc);
}

static int on_success(tam_store_t *s, inbound_t *in, const tam_token_t *t,
                      int64_t now, plan_t *plan, teep_tam_reply_t *reply)
{
    tam_report_outcome_t r;
    if (t->msg_type != TEEP_UPDATE) {
        tam_reply_refuse(reply, 400, "a Success must answer an Update");
        return REFUSED;
    }
    if (tam_report_check(&in->msg, in->msg.token, &r) != 0) {
        tam_reply_refuse(reply, 400, "%s", r.why);
        return REFUSED;
    }
    char why[240];
    snprintf(why, sizeof(why), "%s", r.failed ? r.why : "Success");
    int rc = 0;
    if (t->target_id != 0)
        rc =
            tam_deploy_on_result(s, t->target_id, t->step, !r.failed, why, now);
    if (rc == 0)
        rc = tam_deploy_next(s, in->device.id, NULL, now, &plan->action);
    return rc == 0 ? 0 : internal_error(reply, "deployment", rc);
}

static int on_error(tam_store_t *s, inbound_t *in, const tam_token_t *t,
                    int64_t now, teep_tam_reply_t *reply)
{
    tam_report_outcome_t r;
    if (tam_report_check(&in->msg, in->msg.token, &r) != 0) {
        tam_reply_refuse(reply, 400, "%s", r.why);
        return REFUSED;
    }
    const teep_message_t *m = &in->msg;
    const char *name = teep_err_code_name(m->err_code);
    char why[300];
    snprintf(why, sizeof(why), "TEEP Error %s%s%.*s%s%s",
             name != NULL ? name : "(unknown err-code)",
             m->present & TEEP_OPT_BIT(TEEP_OPT_ERR_MSG) ? ": " : "",
             (int)m->err_msg.len, (const char *)m->err_msg.ptr,
             r.failed ? "; " : "", r.failed ? r.why : "");
    tam_audit(s, now, in->device.id, 0, "error", "%s", why);
    int rc = 0;
    if (t->target_id != 0)
        rc = tam_deploy_on_result(s, t->target_id, t->step, false, why, now);
    return rc == 0 ? 0 : internal_error(reply, "deployment", rc);
}

/* Issue the token for what goes out and record it in the step. */
static int plan_token(const teep_tam_t *tam, tam_store_t *s,
                      const inbound_t *in, int64_t conversation, int64_t now,
                      plan_t *plan)
{
    const tam_action_t *a = &plan->action;
    if (a->kind == TAM_ACT_NONE && !plan->err_update)
        return 0;
    tam_token_t *t = &plan->token;
    t->conversation = conversation;
    t->device_id = in->device.id;
    t->msg_type = a->kind == TAM_ACT_ATTEST ? TEEP_QUERY_REQUEST : TEEP_UPDATE;
    t->target_id = a->target_id;
    t->step = a->kind != TAM_ACT_NONE ? a->step : -1;
    int rc = tam_token_issue(s, t, a->kind == TAM_ACT_ATTEST, now,
                             tam->cfg.token_ttl);
    if (rc == 0 && a->kind != TAM_ACT_NONE)
        rc = tam_deploy_sent(s, a, t->token, now);
    return rc;
}

static int decide(const teep_tam_t *tam, tam_store_t *s, inbound_t *in,
                  int64_t now, plan_t *plan, teep_tam_reply_t *reply)
{
    tam_token_t t;
    int rc = tam_store_begin(s);
    if (rc != 0)
        return internal_error(reply, "database", rc);
    /* Used up here, in the transaction, whether read before or not. */
    rc = in->has_token
             ? tam_token_use(s, &in->token, in->device.id, now, &t)
             : tam_token_consume(s, in->msg.token, in->device.id, now, &t);
    if (rc != 0)
        rc = refuse_token(in, rc, reply);
    if (rc == 0)
        rc = tam_device_seen(s, in->device.id, in->detected, in->alg, now);
    if (rc < 0)
        rc = internal_error(reply, "device", rc);
    if (rc == 0 && in->msg.type == TEEP_QUERY_RESPONSE)
        rc = on_query_response(s, in, &t, now, plan, reply);
    else if (rc == 0 && in->msg.type == TEEP_SUCCESS)
        rc = on_success(s, in, &t, now, plan, reply);
    else if (rc == 0)
        rc = on_error(s, in, &t, now, reply);
    if (rc == 0 && plan_token(tam, s, in, t.conversation, now, plan) != 0)
        rc = internal_error(reply, "token", -EIO);
    if (rc != 0)
        tam_store_rollback(s);
    int end = tam_store_commit(s);
    if (rc == 0 && end != 0)
        rc = internal_error(reply, "commit", end);
    /* A refused message changed nothing, so an audit line written for
     * it was rolled back too: write it again on its own. */
    if (rc == REFUSED && reply->status < 500)
        tam_audit(s, now, in->device.id, 0, "refused", "%s", reply->reason);
    return rc;
}

/* ---- answering ----------------------------------------------------- */

/* The packages a step's Update carries, in manifest-list order. */
static size_t step_packages(const tam_action_t *a, int64_t ids[2])
{
    switch (a->step_kind) {
    case TAM_STEP_TA: ids[0] = a->ta_package; return 1;
    case TAM_STEP_UA: ids[0] = a->ua_package; return 1;
    case TAM_STEP_PD:
    case TAM_STEP_UA_PD: ids[0] = a->pd_package; return 1;
    case TAM_STEP_TA_PD:
        ids[0] = a->ta_package;
        ids[1] = a->pd_package;
        return 2;
    default: return 0;
    }
}

/* The SUIT envelopes an Update carries: read (or built, on a manifest
 * cache miss and for PD) while the transaction's connection is still
 * held, signed into the Update after it is given back. */
typedef struct outbound {
    uint8_t *env[2]; /* malloc'd, freed by outbound_clear */
    teep_slice_t envelopes[2];
    size_t n;
} outbound_t;

static void outbound_clear(outbound_t *out)
{
    free(out->env[0]);
    free(out->env[1]);
    memset(out, 0, sizeof(*out));
}

static int build_envelopes(const teep_tam_t *tam, tam_store_t *s,
                           const plan_t *plan, outbound_t *out)
{
    const tam_action_t *a = &plan->action;
    if (a->kind != TAM_ACT_UPDATE || plan->err_update)
        return 0;
    int64_t ids[2];
    tam_package_t ta;
    out->n = step_packages(a, ids);
    int rc = tam_package_load(s, a->ta_package, false, &ta);
    for (size_t i = 0; rc == 0 && i < out->n; i++) {
        tam_package_t p;
        char component[TAM_NAME_MAX * 2 + 32];
        if (ids[i] == ta.id)
            p = ta;
        else
            rc = tam_package_load(s, ids[i], false, &p);
        if (rc != 0)
            break;
        tam_manifest_component(&p, a->instance_type, ta.name, component,
                               sizeof(component));
        size_t len = 0;
        rc = tam_manifest_envelope(tam, s, &p, component, &out->env[i], &len);
        out->envelopes[i] = (teep_slice_t){out->env[i], len};
    }
    return rc;
}

/* Sign and encode the answer the transaction planned; built is
 * build_envelopes' result.  Runs without the connection, which only a
 * failure takes again. */
static int answer(teep_tam_t *tam, const inbound_t *in, const plan_t *plan,
                  const outbound_t *out, int built, int64_t now,
                  teep_tam_reply_t *reply)
{
    teep_signer_t signers[2];
    const tam_action_t *a = &plan->action;
    if (a->kind == TAM_ACT_NONE && !plan->err_update) {
        tam_reply_set(reply, 204, NULL, NULL, 0);
        return 0;
    }
    int rc = built;
    if (rc == 0 && tam_message_signers(tam, in->profile, in->alg, signers) != 1)
        rc = TEEP_E_ALG;
    if (rc == 0 && plan->err_update)
        rc = tam_message_update(tam, &plan->token, in->profile, &signers[0],
                                NULL, 0, TEEP_ERR_ATTESTATION_REQUIRED,
                                plan->err_msg, reply);
    else if (rc == 0 && a->kind == TAM_ACT_ATTEST)
        rc = tam_message_query(tam, &plan->token, in->profile, signers, 1,
                               reply);
    else if (rc == 0)
        rc = tam_message_update(tam, &plan->token, in->profile, &signers[0],
                                out->envelopes, out->n, 0, NULL, reply);
    if (rc == 0)
        return 0;
    /* The step was recorded as sent: stop it so that it is not waited
     * for, and say why. */
    char why[160];
    snprintf(why, sizeof(why), "the TAM could not build the message: %s",
             teep_strerror(rc));
    if (a->kind != TAM_ACT_NONE) {
        tam_store_t *s = tam_pool_get(tam);
        if (tam_store_begin(s) == 0) {
            if (tam_deploy_fail(s, a->target_id, a->step, why, now) != 0)
                tam_store_rollback(s);
            tam_store_commit(s);
        }
        tam_pool_put(tam, s);
    }
    return internal_error(reply, "building the answer", rc);
}

int teep_tam_process_message(teep_tam_t *tam, const uint8_t *msg, size_t len,
                             teep_tam_reply_t *reply)
{
    memset(reply, 0, sizeof(*reply));
    if (msg == NULL || len == 0)
        return teep_tam_process_connect(tam, reply);
    inbound_t *in = malloc(sizeof(*in));
    plan_t *plan = calloc(1, sizeof(*plan));
    if (in != NULL)
        memset(in, 0, offsetof(inbound_t, arena_mem));
    if (in == NULL || plan == NULL) {
        free(in);
        free(plan);
        return -ENOMEM;
    }
    in->buf = msg;
    in->len = len;
    outbound_t out = {0};
    int64_t now = teep_tam_now(tam);
    int rc = identify(tam, in, now, reply);
    if (rc == 0)
        rc = verify(tam, in, now, reply);
    if (rc == 0)
        rc = appraise(tam, in, now, reply);
    if (rc == 0) {
        tam_store_t *s = tam_pool_get(tam);
        rc = decide(tam, s, in, now, plan, reply);
        int built = rc == 0 ? build_envelopes(tam, s, plan, &out) : 0;
        tam_pool_put(tam, s);
        if (rc == 0)
            answer(tam, in, plan, &out, built, now, reply);
    }
    outbound_clear(&out);
    if (in->has_device)
        tam_device_clear(&in->device);
    free(in);
    free(plan);
    return 0;
}

int teep_tam_process_connect(teep_tam_t *tam, teep_tam_reply_t *reply)
{
    teep_signer_t signers[2];
    tam_token_t t = {.msg_type = TEEP_QUERY_REQUEST, .step = -1};
    memset(reply, 0, sizeof(*reply));
    tam_store_t *s = tam_pool_get(tam);
    int64_t now = teep_tam_now(tam);
    int rc = tam_store_begin(s);
    if (rc == 0) {
        rc = tam_conversation_new(s, now, &t.conversation);
        if (rc == 0)
            rc = tam_token_issue(s, &t, true, now, tam->cfg.token_ttl);
        if (rc != 0)
            tam_store_rollback(s);
        int end = tam_store_commit(s);
        rc = rc != 0 ? rc : end;
    }
    tam_pool_put(tam, s);
    /* The Agent is not known yet: every suite the TAM has (digest 1.8). */
    size_t n = tam_message_signers(tam, tam->cfg.profile, 0, signers);
    if (rc == 0)
        rc = tam_message_query(tam, &t, tam->cfg.profile, signers, n, reply);
    if (rc != 0)
        internal_error(reply, "QueryRequest", rc);
    return 0;
}
