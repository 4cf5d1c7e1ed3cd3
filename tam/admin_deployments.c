/* admin_deployments.c: creating deployments, reading their step logs and
 * attestation results, and the audit log. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "deploy.h"

#define MAX_DEVICES   256
#define AUDIT_DEFAULT 100
#define AUDIT_MAX     10000

static const char SQL_LIST[] =
    "SELECT d.id, d.name, d.mode, d.instance_type, d.created_at,"
    " (SELECT COUNT(*) FROM targets t WHERE t.deployment_id = d.id)"
    "  AS devices,"
    " (SELECT COUNT(*) FROM targets t WHERE t.deployment_id = d.id"
    "  AND t.state = 'done') AS done,"
    " (SELECT COUNT(*) FROM targets t WHERE t.deployment_id = d.id"
    "  AND t.state = 'failed') AS failed"
    " FROM deployments d ORDER BY d.id";
static const char SQL_GET[] =
    "SELECT id, name, mode, instance_type, ta_package AS ta,"
    " ua_package AS ua, created_at FROM deployments WHERE id = ?";
static const char SQL_TARGETS[] =
    "SELECT t.id AS target, t.device_id AS device, v.name AS device_name,"
    " t.state, t.step + 1 AS step, t.reason, t.pd_package,"
    " t.attestation_id AS attestation, t.updated_at"
    " FROM targets t JOIN devices v ON v.id = t.device_id"
    " WHERE t.deployment_id = ? ORDER BY t.id";
static const char SQL_STEPS[] =
    "SELECT idx + 1 AS n, kind, status, detail, token, started_at,"
    " finished_at FROM steps WHERE target_id = ? ORDER BY idx";
static const char SQL_ATTESTATION[] =
    "SELECT id, device_id AS device, conversation, status, findings, claims,"
    " pd_kid, created_at FROM attestations WHERE id = ?";
static const char SQL_AUDIT[] =
    "SELECT * FROM (SELECT id, at, device_id AS device,"
    " deployment_id AS deployment, event, detail FROM audit"
    " WHERE (?1 IS NULL OR device_id = ?1)"
    " AND (?2 IS NULL OR deployment_id = ?2)"
    " ORDER BY id DESC LIMIT ?3) ORDER BY id";

static int read_devices(admin_ctx_t *c, json_t *list, int64_t *ids, size_t *n)
{
    size_t i;
    json_t *v;
    *n = 0;
    if (!json_is_array(list) || json_array_size(list) == 0 ||
        json_array_size(list) > MAX_DEVICES)
        return admin_error(c, 400, "devices: an array of 1..%d device ids",
                           MAX_DEVICES),
               -EINVAL;
    json_array_foreach(list, i, v)
    {
        if (!json_is_integer(v) || json_integer_value(v) <= 0)
            return admin_error(c, 400, "devices: ids are positive integers"),
                   -EINVAL;
        ids[(*n)++] = json_integer_value(v);
    }
    return 0;
}

int admin_deployment_add(admin_ctx_t *c)
{
    json_t *body = admin_body_json(c);
    if (body == NULL)
        return 0;
    int64_t *devices = calloc(MAX_DEVICES, sizeof(*devices));
    tam_deploy_request_t r = {
        .name = json_string_value(json_object_get(body, "name")),
        .instance_type =
            json_string_value(json_object_get(body, "instance_type")),
        .mode = (int)json_integer_value(json_object_get(body, "mode")),
        .ta_package = json_integer_value(json_object_get(body, "ta")),
        .ua_package = json_integer_value(json_object_get(body, "ua")),
        .devices = devices,
    };
    int rc = devices == NULL ? -ENOMEM : 0;
    if (rc == 0 && read_devices(c, json_object_get(body, "devices"), devices,
                                &r.n_devices) == 0) {
        int64_t id = 0;
        char why[200] = "";
        rc = tam_deploy_create(c->store, &r, c->now, &id, why, sizeof(why));
        if (rc == 0)
            rc = admin_json(c, 201, json_pack("{s:I}", "id", (json_int_t)id));
        else if (rc == -EINVAL || rc == -ENOENT || rc == -EEXIST)
            rc = admin_error(c, rc == -ENOENT ? 404 : 400, "%s", why);
        else
            rc = admin_store_error(c, rc, "deployment");
    }
    free(devices);
    json_decref(body);
    return rc;
}

int admin_deployment_list(admin_ctx_t *c)
{
    sqlite3_stmt *st = tam_store_stmt(c->store, SQL_LIST);
    json_t *rows = st != NULL ? admin_rows(c, st) : NULL;
    return rows != NULL ? admin_json(c, 200, rows)
                        : admin_store_error(c, -EIO, "deployments");
}

static json_t *rows_for(admin_ctx_t *c, const char *sql, int64_t id)
{
    sqlite3_stmt *st = tam_store_stmt(c->store, sql);
    if (st == NULL)
        return NULL;
    sqlite3_bind_int64(st, 1, id);
    return admin_rows(c, st);
}

/* Stored JSON text back into a value. */
static void parse_field(json_t *row, const char *key)
{
    const char *text = json_string_value(json_object_get(row, key));
    json_t *v = text != NULL ? json_loads(text, 0, NULL) : NULL;
    if (v != NULL)
        json_object_set_new(row, key, v);
}

static json_t *attestation(admin_ctx_t *c, int64_t id)
{
    json_t *rows = rows_for(c, SQL_ATTESTATION, id);
    json_t *row = json_incref(json_array_get(rows, 0));
    json_decref(rows);
    if (row != NULL) {
        parse_field(row, "findings");
        parse_field(row, "claims");
    }
    return row;
}

/* Each target's steps, titled, and its attestation result. */
static void expand_target(admin_ctx_t *c, json_t *target,
                          const char *instance_type)
{
    json_t *steps = rows_for(
        c, SQL_STEPS, json_integer_value(json_object_get(target, "target")));
    size_t i;
    json_t *step;
    json_array_foreach(steps, i, step)
    {
        tam_step_kind_t kind;
        char title[48] = "?";
        if (tam_step_parse(json_string_value(json_object_get(step, "kind")),
                           &kind) == 0)
            tam_step_title(kind, instance_type, title, sizeof(title));
        json_object_set_new(step, "title", json_string(title));
    }
    json_object_set_new(target, "steps", steps != NULL ? steps : json_null());
    json_int_t att = json_integer_value(json_object_get(target, "attestation"));
    if (att != 0) {
        json_t *a = attestation(c, att);
        json_object_set_new(target, "attestation", a != NULL ? a : json_null());
    }
}

int admin_deployment_get(admin_ctx_t *c)
{
    json_t *rows = rows_for(c, SQL_GET, c->ids[0]);
    json_t *d = json_incref(json_array_get(rows, 0));
    json_decref(rows);
    if (d == NULL)
        return admin_store_error(c, -ENOENT, "deployment");
    const tam_mode_t *m =
        tam_mode_get((int)json_integer_value(json_object_get(d, "mode")));
    const char *type = json_string_value(json_object_get(d, "instance_type"));
    json_t *plan = json_array();
    for (size_t i = 0; m != NULL && type != NULL && i < m->n_steps; i++) {
        char title[48];
        tam_step_title(m->steps[i], type, title, sizeof(title));
        json_array_append_new(plan, json_string(title));
    }
    json_object_set_new(d, "packaging",
                        json_string(m != NULL ? m->packaging : "?"));
    json_object_set_new(d, "plan", plan);
    json_t *targets = rows_for(c, SQL_TARGETS, c->ids[0]);
    size_t i;
    json_t *t;
    json_array_foreach(targets, i, t)
        expand_target(c, t, type != NULL ? type : "");
    json_object_set_new(d, "targets", targets != NULL ? targets : json_null());
    return admin_json(c, 200, d);
}

int admin_attestation_get(admin_ctx_t *c)
{
    json_t *a = attestation(c, c->ids[0]);
    return a != NULL ? admin_json(c, 200, a)
                     : admin_store_error(c, -ENOENT, "attestation");
}

/* An optional positive number from the query into *v. */
static int number(admin_ctx_t *c, const char *name, long long *v)
{
    char text[24], *end = NULL;
    int rc = admin_query(c, name, text, sizeof(text));
    if (rc == -ENOENT)
        return 0;
    *v = rc == 0 ? strtoll(text, &end, 10) : 0;
    if (rc != 0 || end == text || *end != 0 || *v <= 0)
        return admin_error(c, 400, "%s: a positive number", name), -EINVAL;
    return 0;
}

int admin_audit_list(admin_ctx_t *c)
{
    long long device = 0, deployment = 0, limit = AUDIT_DEFAULT;
    if (number(c, "device", &device) != 0 ||
        number(c, "deployment", &deployment) != 0 ||
        number(c, "limit", &limit) != 0)
        return 0;
    sqlite3_stmt *st = tam_store_stmt(c->store, SQL_AUDIT);
    if (st == NULL)
        return admin_store_error(c, -EIO, "audit");
    if (device != 0)
        sqlite3_bind_int64(st, 1, device);
    if (deployment != 0)
        sqlite3_bind_int64(st, 2, deployment);
    /* A big limit is cut to a page, not refused. */
    sqlite3_bind_int64(st, 3, limit < AUDIT_MAX ? limit : AUDIT_MAX);
    json_t *rows = admin_rows(c, st);
    return rows != NULL ? admin_json(c, 200, rows)
                        : admin_store_error(c, -EIO, "audit");
}
