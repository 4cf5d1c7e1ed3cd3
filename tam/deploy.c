/* deploy.c: creating deployments and the step engine (deploy.h).  A
 * target's state is running, waiting-pd (its next step carries PD the data
 * owner has not uploaded yet), done or failed; its step is the index of
 * the current step; each step row is pending, sent (a request is out),
 * attesting (a QueryRequest for fresh Evidence before PD is out), done or
 * failed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deploy.h"

/* Active targets one device may have at once; more wait their turn. */
#define MAX_ACTIVE 64

static const char SQL_DEPLOYMENT[] =
    "INSERT INTO deployments (name, instance_type, mode, ta_package,"
    " ua_package, created_at) VALUES (?, ?, ?, ?, ?, ?)";
static const char SQL_TARGET[] =
    "INSERT INTO targets (deployment_id, device_id, state, updated_at)"
    " VALUES (?, ?, 'running', ?)";
static const char SQL_STEP[] =
    "INSERT INTO steps (target_id, idx, kind) VALUES (?, ?, ?)";
static const char SQL_PACKAGE_KIND[] = "SELECT kind FROM packages WHERE id = ?";
static const char SQL_DEVICE_EXISTS[] = "SELECT 1 FROM devices WHERE id = ?";
/* The columns read_target reads. */
#define SELECT_TARGET                                                          \
    "SELECT t.id, t.deployment_id, t.step, COALESCE(t.pd_package, 0),"         \
    " COALESCE(t.attestation_id, 0), t.state, d.mode, d.instance_type,"        \
    " d.ta_package, COALESCE(d.ua_package, 0), t.device_id"                    \
    " FROM targets t JOIN deployments d ON d.id = t.deployment_id"
/* Two index seeks (targets_device) rather than state IN (...), for which
 * SQLite builds a temporary table of the values on every run. */
static const char SQL_ACTIVE[] =
    SELECT_TARGET " WHERE t.device_id = ?1 AND t.state = 'running'"
                  " UNION ALL " SELECT_TARGET
                  " WHERE t.device_id = ?1 AND t.state = 'waiting-pd'";
static const char SQL_TARGET_BY_ID[] = SELECT_TARGET " WHERE t.id = ?";
static const char SQL_STEP_GET[] =
    "SELECT status, token FROM steps WHERE target_id = ? AND idx = ?";
static const char SQL_STEP_SET[] =
    "UPDATE steps SET status = ?3, detail = ?4,"
    " token = COALESCE(?5, token), started_at = COALESCE(started_at, ?6),"
    " finished_at = ?7 WHERE target_id = ?1 AND idx = ?2";
static const char SQL_TARGET_SET[] =
    "UPDATE targets SET state = ?2, step = ?3, reason = ?4,"
    " attestation_id = COALESCE(?5, attestation_id), updated_at = ?6"
    " WHERE id = ?1";
static const char SQL_IN_FLIGHT[] =
    "SELECT 1 FROM tokens WHERE token = ? AND used_at IS NULL"
    " AND expires_at > ?";
static const char SQL_AFFIRMED[] =
    "SELECT 1 FROM attestations WHERE id = ? AND device_id = ?"
    " AND status = 'affirming'";
static const char SQL_PD_KID[] =
    "SELECT recipient_kid FROM packages WHERE id = ? AND kind = 'pd'";

typedef struct target {
    int64_t id, deployment_id, device_id;
    int step;
    int64_t pd_package, attestation_id;
    char state[16];
    const tam_mode_t *mode;
    char instance_type[16];
    int64_t ta_package, ua_package;
} target_t;

typedef struct step_row {
    tam_step_kind_t kind;
    char status[16];
    bool has_token;
    uint8_t token[TAM_TOKEN_LEN];
} step_row_t;

/* ---- creation ---------------------------------------------------- */

static int package_kind(tam_store_t *s, int64_t id, tam_package_kind_t *kind)
{
    sqlite3_stmt *st = tam_store_stmt(s, SQL_PACKAGE_KIND);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_int64(st, 1, id);
    int rc = tam_store_row(s, st);
    char text[8] = "";
    if (rc == 1)
        tam_column_text(st, 0, text, sizeof(text));
    sqlite3_reset(st);
    if (rc < 0)
        return rc;
    return rc == 1 ? tam_package_kind_parse(text, kind) : -ENOENT;
}

static int exists(tam_store_t *s, const char *sql, int64_t id)
{
    sqlite3_stmt *st = tam_store_stmt(s, sql);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_int64(st, 1, id);
    int rc = tam_store_row(s, st);
    sqlite3_reset(st);
    return rc == 1 ? 0 : rc == 0 ? -ENOENT : rc;
}

static int check_request(tam_store_t *s, const tam_deploy_request_t *r,
                         const tam_mode_t *m, char *why, size_t cap)
{
    tam_package_kind_t kind;
    if (m == NULL)
        return snprintf(why, cap, "mode must be 1..6"), -EINVAL;
    if (r->instance_type == NULL || !tam_instance_type_ok(r->instance_type))
        return snprintf(why, cap,
                        "instance type must be process, container "
                        "or vm"),
               -EINVAL;
    if (r->name == NULL || !tam_name_ok(r->name))
        return snprintf(why, cap, "bad deployment name"), -EINVAL;
    if (r->n_devices == 0)
        return snprintf(why, cap, "no device"), -EINVAL;
    int rc = package_kind(s, r->ta_package, &kind);
    if (rc != 0 || kind != TAM_PKG_TA)
        return snprintf(why, cap, "ta: no TA package %lld",
                        (long long)r->ta_package),
               rc < 0 && rc != -ENOENT ? rc : -ENOENT;
    if (m->ua_package && r->ua_package == 0)
        return snprintf(why, cap, "mode %d deploys a UA: ua is required",
                        m->number),
               -EINVAL;
    if (!m->ua_package && r->ua_package != 0)
        return snprintf(why, cap,
                        "mode %d has no separate UA package (mode 6 bundles "
                        "it with the PD)",
                        m->number),
               -EINVAL;
    if (r->ua_package != 0) {
        rc = package_kind(s, r->ua_package, &kind);
        if (rc != 0 || kind != TAM_PKG_UA)
            return snprintf(why, cap, "ua: no UA package %lld",
                            (long long)r->ua_package),
                   rc < 0 && rc != -ENOENT ? rc : -ENOENT;
    }
    for (size_t i = 0; i < r->n_devices; i++) {
        rc = exists(s, SQL_DEVICE_EXISTS, r->devices[i]);
        if (rc != 0)
            return snprintf(why, cap, "no device %lld",
                            (long long)r->devices[i]),
                   rc;
    }
    return 0;
}

static int insert_target(tam_store_t *s, int64_t deployment, int64_t device,
                         const tam_mode_t *m, int64_t now)
{
    sqlite3_stmt *st = tam_store_stmt(s, SQL_TARGET);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_int64(st, 1, deployment);
    sqlite3_bind_int64(st, 2, device);
    sqlite3_bind_int64(st, 3, now);
    int rc = tam_store_exec(s, st);
    int64_t target = sqlite3_last_insert_rowid(s->db);
    for (size_t i = 0; rc == 0 && i < m->n_steps; i++) {
        st = tam_store_stmt(s, SQL_STEP);
        if (st == NULL)
            return -EIO;
        sqlite3_bind_int64(st, 1, target);
        sqlite3_bind_int(st, 2, (int)i);
        tam_bind_text(st, 3, tam_step_code(m->steps[i]));
        rc = tam_store_exec(s, st);
    }
    return rc;
}

int tam_deploy_create(tam_store_t *s, const tam_deploy_request_t *r,
                      int64_t now, int64_t *id, char *why, size_t cap)
{
    const tam_mode_t *m = tam_mode_get(r->mode);
    int rc = tam_store_begin(s);
    if (rc != 0)
        return rc;
    rc = check_request(s, r, m, why, cap);
    sqlite3_stmt *st = rc == 0 ? tam_store_stmt(s, SQL_DEPLOYMENT) : NULL;
    if (rc == 0 && st == NULL)
        rc = -EIO;
    if (rc == 0) {
        tam_bind_text(st, 1, r->name);
        tam_bind_text(st, 2, r->instance_type);
        sqlite3_bind_int(st, 3, r->mode);
        sqlite3_bind_int64(st, 4, r->ta_package);
        if (r->ua_package != 0)
            sqlite3_bind_int64(st, 5, r->ua_package);
        sqlite3_bind_int64(st, 6, now);
        rc = tam_store_exec(s, st);
        *id = sqlite3_last_insert_rowid(s->db);
    }
    for (size_t i = 0; rc == 0 && i < r->n_devices; i++) {
        rc = insert_target(s, *id, r->devices[i], m, now);
        if (rc == -EEXIST)
            snprintf(why, cap, "device %lld is named twice",
                     (long long)r->devices[i]);
    }
    if (rc == 0)
        tam_audit(s, now, 0, *id, "deployment",
                  "created: mode %d %s, %s, %zu device(s)", r->mode,
                  m->packaging, r->instance_type, r->n_devices);
    else
        tam_store_rollback(s);
    int end = tam_store_commit(s);
    return rc != 0 ? rc : end;
}

/* ---- reading targets and steps ----------------------------------- */

static void read_target(sqlite3_stmt *st, target_t *t)
{
    memset(t, 0, sizeof(*t));
    t->id = sqlite3_column_int64(st, 0);
    t->deployment_id = sqlite3_column_int64(st, 1);
    t->device_id = sqlite3_column_int64(st, 10);
    t->step = sqlite3_column_int(st, 2);
    t->pd_package = sqlite3_column_int64(st, 3);
    t->attestation_id = sqlite3_column_int64(st, 4);
    tam_column_text(st, 5, t->state, sizeof(t->state));
    t->mode = tam_mode_get(sqlite3_column_int(st, 6));
    tam_column_text(st, 7, t->instance_type, sizeof(t->instance_type));
    t->ta_package = sqlite3_column_int64(st, 8);
    t->ua_package = sqlite3_column_int64(st, 9);
}

static bool before(const target_t *a, const target_t *b)
{
    return a->deployment_id < b->deployment_id ||
           (a->deployment_id == b->deployment_id && a->id < b->id);
}

/* The device's active targets, the first MAX_ACTIVE in deployment order.
 * The order is kept here rather than by ORDER BY: SQLite would sort
 * through a temporary B-tree on every call, which cost more than the
 * rest of the query. */
static int active_targets(tam_store_t *s, int64_t device, target_t *out,
                          size_t *n)
{
    *n = 0;
    sqlite3_stmt *st = tam_store_stmt(s, SQL_ACTIVE);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_int64(st, 1, device);
    int rc;
    target_t t;
    while ((rc = tam_store_row(s, st)) == 1) {
        read_target(st, &t);
        /* The schema's CHECK keeps modes in 1..6. */
        if (t.mode == NULL || t.step >= (int)t.mode->n_steps ||
            (*n == MAX_ACTIVE && !before(&t, &out[*n - 1])))
            continue;
        size_t i = *n < MAX_ACTIVE ? (*n)++ : *n - 1;
        for (; i > 0 && before(&t, &out[i - 1]); i--)
            out[i] = out[i - 1];
        out[i] = t;
    }
    sqlite3_reset(st);
    return rc;
}

static int target_by_id(tam_store_t *s, int64_t id, target_t *t)
{
    sqlite3_stmt *st = tam_store_stmt(s, SQL_TARGET_BY_ID);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_int64(st, 1, id);
    int rc = tam_store_row(s, st);
    if (rc == 1)
        read_target(st, t);
    sqlite3_reset(st);
    if (rc == 1 && t->mode == NULL)
        return -EIO;
    return rc == 1 ? 0 : rc == 0 ? -ENOENT : rc;
}

static int step_get(tam_store_t *s, const target_t *t, step_row_t *out)
{
    memset(out, 0, sizeof(*out));
    out->kind = t->mode->steps[t->step];
    sqlite3_stmt *st = tam_store_stmt(s, SQL_STEP_GET);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_int64(st, 1, t->id);
    sqlite3_bind_int(st, 2, t->step);
    int rc = tam_store_row(s, st);
    if (rc == 1) {
        tam_column_text(st, 0, out->status, sizeof(out->status));
        out->has_token =
            tam_column_blob(st, 1, out->token, TAM_TOKEN_LEN) == TAM_TOKEN_LEN;
    }
    sqlite3_reset(st);
    return rc == 1 ? 0 : rc == 0 ? -ENOENT : rc;
}

/* ---- changing them ----------------------------------------------- */

static int step_set(tam_store_t *s, int64_t target, int step,
                    const char *status, const char *detail,
                    const uint8_t *token, int64_t now, bool finished)
{
    sqlite3_stmt *st = tam_store_stmt(s, SQL_STEP_SET);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_int64(st, 1, target);
    sqlite3_bind_int(st, 2, step);
    tam_bind_text(st, 3, status);
    tam_bind_text(st, 4, detail);
    tam_bind_blob(st, 5, token, TAM_TOKEN_LEN);
    sqlite3_bind_int64(st, 6, now);
    if (finished)
        sqlite3_bind_int64(st, 7, now);
    return tam_store_exec(s, st);
}

static int target_set(tam_store_t *s, const target_t *t, const char *state,
                      int step, const char *reason, int64_t attestation,
                      int64_t now)
{
    sqlite3_stmt *st = tam_store_stmt(s, SQL_TARGET_SET);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_int64(st, 1, t->id);
    tam_bind_text(st, 2, state);
    sqlite3_bind_int(st, 3, step);
    tam_bind_text(st, 4, reason);
    if (attestation != 0)
        sqlite3_bind_int64(st, 5, attestation);
    sqlite3_bind_int64(st, 6, now);
    return tam_store_exec(s, st);
}

static void title_of(const target_t *t, int step, char *out, size_t cap)
{
    tam_step_title(t->mode->steps[step], t->instance_type, out, cap);
}

/* Step t->step is done: move to the next one, or finish. */
static int complete(tam_store_t *s, const target_t *t, const char *detail,
                    int64_t attestation, int64_t now)
{
    char title[48];
    title_of(t, t->step, title, sizeof(title));
    int rc = step_set(s, t->id, t->step, "done", detail, NULL, now, true);
    int next = t->step + 1;
    bool last = next == (int)t->mode->n_steps;
    if (rc == 0)
        rc = target_set(s, t, last ? "done" : "running", next, NULL,
                        attestation, now);
    if (rc == 0)
        tam_audit(s, now, t->device_id, t->deployment_id, "step",
                  "%d %s done: %s%s", t->step + 1, title, detail,
                  last ? "; deployment complete on this device" : "");
    return rc;
}

/* Stop the target at step: nothing later in the order runs. */
static int stop(tam_store_t *s, const target_t *t, int step, const char *why,
                int64_t now)
{
    char title[48], reason[300];
    title_of(t, step, title, sizeof(title));
    snprintf(reason, sizeof(reason), "step %d (%s) failed: %s", step + 1, title,
             why);
    int rc = step_set(s, t->id, step, "failed", why, NULL, now, true);
    if (rc == 0)
        rc = target_set(s, t, "failed", step, reason, 0, now);
    if (rc == 0)
        tam_audit(s, now, t->device_id, t->deployment_id, "failed", "%s",
                  reason);
    return rc;
}

int tam_deploy_fail(tam_store_t *s, int64_t target, int step, const char *why,
                    int64_t now)
{
    target_t t;
    int rc = target_by_id(s, target, &t);
    return rc == 0 ? stop(s, &t, step, why, now) : rc;
}

/* ---- the engine -------------------------------------------------- */

int tam_deploy_on_attestation(tam_store_t *s, int64_t device,
                              const tam_appraisal_t *a, int64_t now)
{
    target_t *ts = malloc(MAX_ACTIVE * sizeof(*ts));
    size_t n;
    if (ts == NULL)
        return -ENOMEM;
    int rc = active_targets(s, device, ts, &n);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        target_t *t = &ts[i];
        tam_step_kind_t kind = t->mode->steps[t->step];
        char detail[300];
        if (kind == TAM_STEP_ATT && a->affirming) {
            snprintf(detail, sizeof(detail), "affirming (attestation %lld)",
                     (long long)a->id);
            rc = complete(s, t, detail, a->id, now);
        } else if (kind == TAM_STEP_ATT ||
                   (tam_step_carries_pd(kind) && !a->affirming)) {
            snprintf(detail, sizeof(detail), "attestation %lld: %s",
                     (long long)a->id, a->summary);
            rc = stop(s, t, t->step, detail, now);
        }
    }
    free(ts);
    return rc;
}

int tam_deploy_on_result(tam_store_t *s, int64_t target, int step, bool ok,
                         const char *why, int64_t now)
{
    target_t t;
    step_row_t row;
    int rc = target_by_id(s, target, &t);
    if (rc == 0 && (t.step != step || (strcmp(t.state, "running") != 0 &&
                                       strcmp(t.state, "waiting-pd") != 0))) {
        tam_log(TEEP_LOG_INFO,
                "target %lld: answer for step %d, which is not current",
                (long long)target, step + 1);
        return 0;
    }
    if (rc == 0)
        rc = step_get(s, &t, &row);
    if (rc != 0)
        return rc;
    if (ok && strcmp(row.status, "sent") == 0)
        return complete(s, &t, why, 0, now);
    if (!ok)
        return stop(s, &t, step, why, now);
    return 0; /* a Success for a QueryRequest: nothing to complete */
}

static bool in_flight(tam_store_t *s, const step_row_t *row, int64_t now)
{
    if (!row->has_token || (strcmp(row->status, "sent") != 0 &&
                            strcmp(row->status, "attesting") != 0))
        return false;
    sqlite3_stmt *st = tam_store_stmt(s, SQL_IN_FLIGHT);
    if (st == NULL)
        return false;
    tam_bind_blob(st, 1, row->token, TAM_TOKEN_LEN);
    sqlite3_bind_int64(st, 2, now);
    bool yes = tam_store_row(s, st) == 1;
    sqlite3_reset(st);
    return yes;
}

static bool affirmed(tam_store_t *s, int64_t attestation, int64_t device)
{
    sqlite3_stmt *st = tam_store_stmt(s, SQL_AFFIRMED);
    if (st == NULL || attestation == 0)
        return false;
    sqlite3_bind_int64(st, 1, attestation);
    sqlite3_bind_int64(st, 2, device);
    bool yes = tam_store_row(s, st) == 1;
    sqlite3_reset(st);
    return yes;
}

static bool pd_for_key(tam_store_t *s, int64_t pd, const tam_appraisal_t *a)
{
    sqlite3_stmt *st = tam_store_stmt(s, SQL_PD_KID);
    if (st == NULL)
        return false;
    sqlite3_bind_int64(st, 1, pd);
    uint8_t kid[TAM_KID_MAX];
    size_t n = tam_store_row(s, st) == 1
                   ? tam_column_blob(st, 0, kid, sizeof(kid))
                   : 0;
    sqlite3_reset(st);
    return n > 0 && n == a->pd_kid_len && memcmp(kid, a->pd_kid, n) == 0;
}

static void plan(const target_t *t, tam_action_kind_t kind, tam_action_t *out)
{
    out->kind = kind;
    out->deployment_id = t->deployment_id;
    out->target_id = t->id;
    out->step = t->step;
    out->step_kind = t->mode->steps[t->step];
    snprintf(out->instance_type, sizeof(out->instance_type), "%s",
             t->instance_type);
    out->ta_package = t->ta_package;
    out->ua_package = t->ua_package;
    out->pd_package = t->pd_package;
}

/* A PD step: the principles decide (deploy.h).  Returns 1 with an action
 * planned, 0 to look at the next target, or a store code. */
static int plan_pd(tam_store_t *s, target_t *t, const tam_appraisal_t *fresh,
                   int64_t now, tam_action_t *out)
{
    if (!affirmed(s, t->attestation_id, t->device_id)) {
        int rc = stop(s, t, t->step,
                      "no affirming attestation in this deployment", now);
        return rc != 0 ? rc : 0;
    }
    if (t->pd_package == 0) {
        if (strcmp(t->state, "waiting-pd") == 0)
            return 0;
        int rc = target_set(s, t, "waiting-pd", t->step, NULL, 0, now);
        if (rc == 0)
            tam_audit(s, now, t->device_id, t->deployment_id, "waiting-pd",
                      "step %d needs the data owner's encrypted PD",
                      t->step + 1);
        return rc;
    }
    if (fresh == NULL || !fresh->affirming) {
        plan(t, TAM_ACT_ATTEST, out);
        return 1;
    }
    if (!pd_for_key(s, t->pd_package, fresh)) {
        int rc = stop(s, t, t->step,
                      "the PD is not encrypted to the PD key the current "
                      "Evidence vouches for",
                      now);
        return rc != 0 ? rc : 0;
    }
    plan(t, TAM_ACT_UPDATE, out);
    return 1;
}

int tam_deploy_next(tam_store_t *s, int64_t device,
                    const tam_appraisal_t *fresh, int64_t now,
                    tam_action_t *out)
{
    memset(out, 0, sizeof(*out));
    target_t *ts = malloc(MAX_ACTIVE * sizeof(*ts));
    size_t n;
    if (ts == NULL)
        return -ENOMEM;
    int rc = active_targets(s, device, ts, &n);
    for (size_t i = 0; rc == 0 && out->kind == TAM_ACT_NONE && i < n; i++) {
        target_t *t = &ts[i];
        step_row_t row;
        rc = step_get(s, t, &row);
        if (rc != 0 || in_flight(s, &row, now))
            continue;
        if (row.kind == TAM_STEP_ATT)
            plan(t, TAM_ACT_ATTEST, out);
        else if (!tam_step_carries_pd(row.kind))
            plan(t, TAM_ACT_UPDATE, out);
        else {
            int planned = plan_pd(s, t, fresh, now, out);
            rc = planned < 0 ? planned : 0;
        }
    }
    free(ts);
    return rc;
}

int tam_deploy_sent(tam_store_t *s, const tam_action_t *a,
                    const uint8_t token[TAM_TOKEN_LEN], int64_t now)
{
    bool attesting = a->kind == TAM_ACT_ATTEST && a->step_kind != TAM_STEP_ATT;
    const char *status = attesting ? "attesting" : "sent";
    const char *detail = attesting ? "QueryRequest for fresh Evidence before PD"
                         : a->kind == TAM_ACT_ATTEST
                             ? "QueryRequest with challenge"
                             : "Update";
    return step_set(s, a->target_id, a->step, status, detail, token, now,
                    false);
}
