/* admin_devices.c: the TAM's own keys, registering devices (TEEP Agents)
 * and the PD key their attested Evidence vouches for. */
#include <errno.h>
#include <string.h>

#include "admin.h"

#define PEM_MAX 1024

static const char SQL_LIST[] =
    "SELECT id, name, kid, profile, detected_profile, alg, created_at,"
    " last_seen FROM devices ORDER BY id";
static const char SQL_GET[] =
    "SELECT id, name, kid, profile, detected_profile, alg, created_at,"
    " last_seen, attestation_key IS NOT NULL AS has_attestation_key"
    " FROM devices WHERE id = ?";
static const char SQL_TARGETS[] =
    "SELECT deployment_id AS deployment, state, step + 1 AS step, reason"
    " FROM targets WHERE device_id = ? ORDER BY deployment_id";
static const char SQL_LAST_ATTESTATION[] =
    "SELECT id, status, created_at FROM attestations WHERE device_id = ?"
    " ORDER BY id DESC LIMIT 1";
static const char SQL_ATTESTED_KEY[] =
    "SELECT id, created_at, pd_key, pd_kid FROM attestations"
    " WHERE device_id = ? AND status = 'affirming' AND pd_key IS NOT NULL"
    " ORDER BY id DESC LIMIT 1";

static json_t *key_json(const teep_key_t *key)
{
    char pem[PEM_MAX];
    size_t len;
    if (teep_key_to_pem(key, false, pem, sizeof(pem), &len) != 0)
        return NULL;
    return json_pack("{s:o, s:s#}", "kid", admin_hex(key->kid, 32), "pem", pem,
                     len);
}

int admin_tam_info(admin_ctx_t *c)
{
    const teep_tam_t *t = c->tam;
    json_t *j = json_pack(
        "{s:s, s:s, s:i, s:i, s:{s:o*, s:o*, s:o*}}", "media_type",
        TEEP_TAM_MEDIA_TYPE, "profile", teep_profile_name(t->cfg.profile),
        "token_ttl", (json_int_t)t->cfg.token_ttl, "schema_version",
        (json_int_t)TAM_SCHEMA_VERSION, "keys", "esp256",
        key_json(&t->keys.esp256), "ed25519", key_json(&t->keys.ed25519),
        "tc_signer", key_json(&t->keys.tc_signer));
    return admin_json(c, 200, j);
}

/* A public key from PEM or COSE_Key (hex) text. */
static int load_key(admin_ctx_t *c, json_t *body, const char *field,
                    teep_key_t *key, bool *present)
{
    const char *text = json_string_value(json_object_get(body, field));
    *present = text != NULL;
    if (text == NULL)
        return 0;
    int rc = teep_key_load(key, (const uint8_t *)text, strlen(text));
    if (rc == 0 && key->type == TEEP_KEY_X25519) {
        teep_key_clear(key);
        rc = TEEP_E_KEY;
    }
    if (rc != 0)
        admin_error(c, 400, "%s: not a P-256 or Ed25519 key (%s)", field,
                    teep_strerror(rc));
    return rc;
}

static int parse_profile(json_t *body, int *profile)
{
    const char *text = json_string_value(json_object_get(body, "profile"));
    teep_profile_t p;
    *profile = TAM_PROFILE_AUTO;
    if (text == NULL || strcmp(text, "auto") == 0)
        return 0;
    if (teep_profile_parse(text, &p) != 0)
        return -EINVAL;
    *profile = (int)p;
    return 0;
}

int admin_device_add(admin_ctx_t *c)
{
    json_t *body = admin_body_json(c);
    if (body == NULL)
        return 0;
    teep_key_t teep_key, att_key;
    bool has_teep = false, has_att = false;
    int profile = 0, rc = 0;
    const char *name = json_string_value(json_object_get(body, "name"));
    if (name == NULL || !tam_name_ok(name))
        rc = admin_error(c, 400, "name: 1..127 of [A-Za-z0-9._-] needed");
    else if (parse_profile(body, &profile) != 0)
        rc = admin_error(c, 400, "profile: auto, rfc or legacy");
    else if (load_key(c, body, "teep_key", &teep_key, &has_teep) != 0)
        rc = -EINVAL;
    else if (!has_teep)
        rc = admin_error(c, 400, "teep_key: the Agent's TEEP public key");
    else if (load_key(c, body, "attestation_key", &att_key, &has_att) != 0)
        rc = -EINVAL;
    int64_t id = 0;
    if (rc == 0 && c->reply->status == 0) {
        rc = tam_device_add(c->store, name, &teep_key,
                            has_att ? &att_key : NULL, profile, c->now, &id);
        if (rc == 0) {
            /* Loaded here already: the first exchange need not again. */
            tam_keycache_put(c->tam, &teep_key);
            if (has_att)
                tam_keycache_put(c->tam, &att_key);
            tam_audit(c->store, c->now, id, 0, "device",
                      "registered %s (profile %s)", name,
                      profile < 0 ? "auto"
                                  : teep_profile_name((teep_profile_t)profile));
            rc = admin_json(c, 201,
                            json_pack("{s:I, s:s, s:o}", "id", (json_int_t)id,
                                      "name", name, "kid",
                                      admin_hex(teep_key.kid, 32)));
        } else {
            rc = admin_store_error(c, rc, "device with that name or key");
        }
    }
    if (has_teep)
        teep_key_clear(&teep_key);
    if (has_att)
        teep_key_clear(&att_key);
    json_decref(body);
    return c->reply->status != 0 ? 0 : rc;
}

int admin_device_list(admin_ctx_t *c)
{
    sqlite3_stmt *st = tam_store_stmt(c->store, SQL_LIST);
    json_t *rows = st != NULL ? admin_rows(c, st) : NULL;
    return rows != NULL ? admin_json(c, 200, rows)
                        : admin_store_error(c, -EIO, "devices");
}

/* The first row of sql for id as an object, json null when none. */
static json_t *one_row(admin_ctx_t *c, const char *sql, int64_t id)
{
    sqlite3_stmt *st = tam_store_stmt(c->store, sql);
    if (st == NULL)
        return NULL;
    sqlite3_bind_int64(st, 1, id);
    json_t *rows = admin_rows(c, st);
    json_t *row = json_incref(json_array_get(rows, 0));
    json_decref(rows);
    return row != NULL ? row : json_null();
}

static json_t *all_rows(admin_ctx_t *c, const char *sql, int64_t id)
{
    sqlite3_stmt *st = tam_store_stmt(c->store, sql);
    if (st == NULL)
        return NULL;
    sqlite3_bind_int64(st, 1, id);
    return admin_rows(c, st);
}

int admin_device_get(admin_ctx_t *c)
{
    json_t *d = one_row(c, SQL_GET, c->ids[0]);
    if (d == NULL || json_is_null(d)) {
        json_decref(d);
        return admin_store_error(c, d == NULL ? -EIO : -ENOENT, "device");
    }
    json_object_set_new(d, "last_attestation",
                        one_row(c, SQL_LAST_ATTESTATION, c->ids[0]));
    json_object_set_new(d, "deployments", all_rows(c, SQL_TARGETS, c->ids[0]));
    return admin_json(c, 200, d);
}

int admin_device_attested_key(admin_ctx_t *c)
{
    sqlite3_stmt *st = tam_store_stmt(c->store, SQL_ATTESTED_KEY);
    if (st == NULL)
        return admin_store_error(c, -EIO, "attestation");
    sqlite3_bind_int64(st, 1, c->ids[0]);
    int rc = tam_store_row(c->store, st);
    if (rc != 1) {
        sqlite3_reset(st);
        return rc < 0 ? admin_store_error(c, rc, "attestation")
                      : admin_error(c, 404,
                                    "device %lld has no affirming attestation "
                                    "carrying a PD key yet",
                                    (long long)c->ids[0]);
    }
    teep_key_t key;
    char pem[PEM_MAX];
    size_t pem_len = 0;
    const void *cose = sqlite3_column_blob(st, 2);
    size_t cose_len = (size_t)sqlite3_column_bytes(st, 2);
    rc = teep_key_from_cose(&key, cose, cose_len);
    if (rc == 0) {
        rc = teep_key_to_pem(&key, false, pem, sizeof(pem), &pem_len);
        teep_key_clear(&key);
    }
    json_t *j =
        rc != 0
            ? NULL
            : json_pack("{s:I, s:I, s:s, s:I, s:o, s:o, s:s#}", "device",
                        (json_int_t)c->ids[0], "attestation",
                        (json_int_t)sqlite3_column_int64(st, 0), "status",
                        "affirming", "created_at",
                        (json_int_t)sqlite3_column_int64(st, 1), "pd_kid",
                        admin_column(st, 3), "pd_key",
                        admin_hex(cose, cose_len), "pd_key_pem", pem, pem_len);
    sqlite3_reset(st);
    return j != NULL ? admin_json(c, 200, j)
                     : admin_error(c, 500, "the stored PD key does not load");
}
