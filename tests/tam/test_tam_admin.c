/* test_tam_admin: the admin API (authorisation, routing, validation, the
 * views the network user and data owner read) and the store under it
 * (schema version, single-use tokens, the purge, the audit queue), and
 * the PD key named by its thumbprint without being loaded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "tam_fixture.h"

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof(*f));
    fx_setup(f, ":memory:", TEEP_PROFILE_RFC);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_teardown(*state);
    free(*state);
    return 0;
}

static int raw(fx_t *f, const char *method, const char *path, const char *auth)
{
    teep_tam_admin_request_t r = {
        .method = method, .path = path, .authorization = auth};
    teep_tam_reply_t reply;
    assert_int_equal(teep_tam_admin(&f->tam, &r, &reply), 0);
    int status = reply.status;
    teep_tam_reply_clear(&reply);
    return status;
}

static void routing_and_auth(void **state)
{
    fx_t *f = *state;
    assert_int_equal(raw(f, "GET", "/devices", NULL), 401);
    assert_int_equal(raw(f, "GET", "/devices", "Bearer wrong"), 401);
    assert_int_equal(raw(f, "GET", "/devices", FX_TOKEN), 401);
    assert_int_equal(raw(f, "GET", "/devices", "Bearer " FX_TOKEN), 200);
    assert_int_equal(raw(f, "GET", "/devices/", "Bearer " FX_TOKEN), 404);
    assert_int_equal(raw(f, "GET", "/nothing", "Bearer " FX_TOKEN), 404);
    assert_int_equal(raw(f, "DELETE", "/devices", "Bearer " FX_TOKEN), 405);
    assert_int_equal(raw(f, "GET", "/devices/77", "Bearer " FX_TOKEN), 404);
    assert_int_equal(raw(f, "GET", "/tam", "Bearer " FX_TOKEN), 200);
}

static void device_validation(void **state)
{
    fx_t *f = *state;
    static const char *const bodies[] = {
        "not json",
        "[]",
        "{\"name\": \"x\"}",
        "{\"name\": \"bad name\", \"teep_key\": \"\"}",
        "{\"name\": \"ta\", \"teep_key\": \"00\"}",
        "{\"name\": \"d2\", \"teep_key\": \"not a key\"}",
        "{\"name\": \"d2\", \"teep_key\": \"a10101\", \"profile\": \"x\"}",
    };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
        assert_int_equal(fx_admin(f, "POST", "/devices", NULL, bodies[i],
                                  strlen(bodies[i]), NULL),
                         400);
    /* The same key or name twice. */
    tam_peer_t again;
    int64_t id = 0;
    assert_int_equal(tam_peer_init(&again, TEEP_KEY_P256, -1), 0);
    json_t *j = json_pack("{s:s, s:s}", "name", "device-1", "teep_key",
                          fx_pem(&again.teep_key));
    char *text = json_dumps(j, 0);
    assert_int_equal(
        fx_admin(f, "POST", "/devices", NULL, text, strlen(text), NULL), 409);
    free(text);
    json_decref(j);
    tam_peer_clear(&again);
    (void)id;
}

static void packages(void **state)
{
    fx_t *f = *state;
    json_t *out;
    assert_int_equal(
        fx_admin(f, "POST", "/packages", "kind=pd&name=x", "a", 1, NULL), 400);
    assert_int_equal(
        fx_admin(f, "POST", "/packages", "kind=ta&name=a%20b", "a", 1, NULL),
        400);
    assert_int_equal(
        fx_admin(f, "POST", "/packages", "kind=ta&name=t", "", 0, NULL), 400);
    assert_int_equal(fx_admin(f, "POST", "/packages",
                              "kind=ta&name=t&version=5&vendor-id=00", "a", 1,
                              NULL),
                     400);
    assert_int_equal(fx_admin(f, "POST", "/packages",
                              "kind=ta&name=t&version=5", "a", 1, &out),
                     201);
    assert_int_equal(json_integer_value(json_object_get(out, "version")), 5);
    json_decref(out);
    assert_int_equal(fx_admin(f, "POST", "/packages",
                              "kind=ta&name=t&version=5", "b", 1, NULL),
                     409);
    assert_int_equal(
        fx_admin(f, "POST", "/packages", "kind=ta&name=t", "c", 1, &out), 201);
    assert_int_equal(json_integer_value(json_object_get(out, "version")), 6);
    json_decref(out);
    assert_int_equal(fx_admin(f, "GET", "/packages", NULL, NULL, 0, &out), 200);
    assert_int_equal(json_array_size(out), 2);
    json_decref(out);
}

/* What the data owner reads: the PD key the attested Evidence carried,
 * and the attestation result itself. */
static void attested_key_and_result(void **state)
{
    fx_t *f = *state;
    json_t *out;
    assert_int_equal(
        fx_admin(f, "GET", "/devices/1/attested-key", NULL, NULL, 0, NULL),
        404);
    assert_int_equal(fx_session(f), 204);
    assert_int_equal(
        fx_admin(f, "GET", "/devices/1/attested-key", NULL, NULL, 0, &out),
        200);
    char kid[65];
    for (size_t i = 0; i < 32; i++)
        snprintf(kid + 2 * i, 3, "%02x", f->peer.pd_key.kid[i]);
    assert_string_equal(json_string_value(json_object_get(out, "pd_kid")), kid);
    int64_t att = json_integer_value(json_object_get(out, "attestation"));
    json_decref(out);
    char path[64];
    snprintf(path, sizeof(path), "/attestations/%lld", (long long)att);
    assert_int_equal(fx_admin(f, "GET", path, NULL, NULL, 0, &out), 200);
    assert_string_equal(json_string_value(json_object_get(out, "status")),
                        "affirming");
    json_t *claims = json_object_get(out, "claims");
    assert_string_equal(json_string_value(json_object_get(claims, "swname")),
                        "tam-test-peer");
    assert_int_equal(json_array_size(json_object_get(out, "findings")), 0);
    json_decref(out);
    /* A rejected appraisal keeps its findings. */
    f->peer.bad_evidence = true;
    assert_int_equal(fx_session(f), 204);
    assert_int_equal(fx_admin(f, "GET", "/attestations/2", NULL, NULL, 0, &out),
                     200);
    assert_string_equal(json_string_value(json_object_get(out, "status")),
                        "contraindicated");
    assert_true(json_array_size(json_object_get(out, "findings")) > 0);
    json_decref(out);
}

static void deployment_view_and_audit(void **state)
{
    fx_t *f = *state;
    int64_t dep;
    json_t *out;
    int64_t ta = fx_package(f, "ta", "ta1", "TA");
    int64_t ua = fx_package(f, "ua", "ua1", "UA");
    assert_int_equal(fx_deploy(f, 2, "container", ta, ua, f->device, &dep),
                     201);
    assert_int_equal(fx_session(f), 204);
    json_t *d = fx_deployment(f, dep);
    json_t *plan = json_object_get(d, "plan");
    assert_string_equal(json_string_value(json_array_get(plan, 0)),
                        "UA -> REE");
    assert_string_equal(json_string_value(json_array_get(plan, 1)),
                        "TA -> Trusted Container");
    assert_string_equal(json_string_value(json_array_get(plan, 2)), "att");
    assert_string_equal(json_string_value(json_array_get(plan, 3)), "PD -> TA");
    json_t *t = json_array_get(json_object_get(d, "targets"), 0);
    json_t *att = json_object_get(t, "attestation");
    assert_string_equal(json_string_value(json_object_get(att, "status")),
                        "affirming");
    json_decref(d);
    assert_int_equal(
        fx_admin(f, "GET", "/audit", "deployment=1&limit=3", NULL, 0, &out),
        200);
    assert_int_equal(json_array_size(out), 3);
    json_decref(out);
    assert_int_equal(fx_admin(f, "GET", "/audit", "limit=-1", NULL, 0, NULL),
                     400);
    assert_int_equal(fx_admin(f, "GET", "/deployments", NULL, NULL, 0, &out),
                     200);
    assert_int_equal(json_array_size(out), 1);
    json_decref(out);
}

/* The store: schema version, one answer per token, the purge. */
static void store_tokens_and_schema(void **state)
{
    fx_t *f = *state;
    tam_store_t *s = tam_pool_get(&f->tam);
    sqlite3_stmt *st = tam_store_stmt(s, "SELECT version FROM schema_version");
    assert_int_equal(tam_store_row(s, st), 1);
    assert_int_equal(sqlite3_column_int(st, 0), TAM_SCHEMA_VERSION);
    sqlite3_reset(st);

    tam_token_t t = {.msg_type = TEEP_UPDATE, .step = -1}, got;
    assert_int_equal(tam_conversation_new(s, f->now, &t.conversation), 0);
    assert_int_equal(tam_token_issue(s, &t, false, f->now, 10), 0);
    teep_slice_t tok = {t.token, sizeof(t.token)};
    assert_int_equal(tam_token_find(s, tok, f->now, &got), 0);
    assert_int_equal(tam_token_consume(s, tok, f->device, f->now, &got), 0);
    assert_int_equal(got.conversation, t.conversation);
    assert_int_equal(tam_token_consume(s, tok, f->device, f->now, &got),
                     -EALREADY);
    assert_int_equal(tam_token_find(s, tok, f->now, &got), -ENOENT);
    assert_int_equal(tam_token_issue(s, &t, true, f->now, 10), 0);
    tok = (teep_slice_t){t.token, sizeof(t.token)};
    assert_int_equal(tam_token_consume(s, tok, f->device, f->now + 10, &got),
                     -ETIMEDOUT);
    assert_int_equal(tam_token_purge(s, f->now + 11), 2);
    assert_int_equal(tam_token_consume(s, tok, f->device, f->now, &got),
                     -ENOENT);
    tam_pool_put(&f->tam, s);
}

/* A token read before the transaction is used up by one guarded UPDATE,
 * which checks everything the lookup did, again. */
static void store_token_use(void **state)
{
    fx_t *f = *state;
    tam_store_t *s = tam_pool_get(&f->tam);
    tam_token_t t = {.msg_type = TEEP_QUERY_REQUEST, .step = -1}, found, got;
    assert_int_equal(tam_conversation_new(s, f->now, &t.conversation), 0);
    assert_int_equal(tam_token_issue(s, &t, true, f->now, 10), 0);
    teep_slice_t tok = {t.token, sizeof(t.token)};
    assert_int_equal(tam_token_find(s, tok, f->now, &found), 0);
    assert_int_equal(tam_token_use(s, &found, f->device, f->now, &got), 0);
    assert_int_equal(got.conversation, t.conversation);
    assert_int_equal(got.device_id, f->device);
    assert_memory_equal(got.challenge, t.challenge, sizeof(t.challenge));
    /* Its conversation is now the device's. */
    sqlite3_stmt *st =
        tam_store_stmt(s, "SELECT device_id FROM conversations WHERE id = ?");
    sqlite3_bind_int64(st, 1, t.conversation);
    assert_int_equal(tam_store_row(s, st), 1);
    assert_int_equal(sqlite3_column_int64(st, 0), f->device);
    sqlite3_reset(st);
    /* Once only, even from the row read before. */
    assert_int_equal(tam_token_use(s, &found, f->device, f->now, &got),
                     -EALREADY);
    /* Expired between the read and the transaction. */
    assert_int_equal(tam_token_issue(s, &t, true, f->now, 10), 0);
    tok = (teep_slice_t){t.token, sizeof(t.token)};
    assert_int_equal(tam_token_find(s, tok, f->now, &found), 0);
    assert_int_equal(tam_token_use(s, &found, f->device, f->now + 10, &got),
                     -ETIMEDOUT);
    /* Issued to another device. */
    t.device_id = f->device;
    assert_int_equal(tam_token_issue(s, &t, true, f->now, 10), 0);
    tok = (teep_slice_t){t.token, sizeof(t.token)};
    assert_int_equal(tam_token_find(s, tok, f->now, &found), 0);
    assert_int_equal(tam_token_use(s, &found, f->device + 1, f->now, &got),
                     -EPERM);
    /* A stale row number never uses up another token. */
    found.row += 1000;
    assert_int_equal(tam_token_use(s, &found, f->device, f->now, &got), 0);
    assert_int_equal(tam_token_use(s, &found, f->device, f->now, &got),
                     -EALREADY);
    tam_pool_put(&f->tam, s);
}

static int64_t audit_count(tam_store_t *s)
{
    sqlite3_stmt *st = tam_store_stmt(s, "SELECT count(*) FROM audit");
    assert_int_equal(tam_store_row(s, st), 1);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return n;
}

/* Audit rows queued by a transaction are written, in order, at its
 * commit (more than one INSERT's worth too), and dropped by a rollback;
 * outside a transaction a row is written at once. */
static void store_audit_queue(void **state)
{
    fx_t *f = *state;
    tam_store_t *s = tam_pool_get(&f->tam);
    int64_t before = audit_count(s);
    const int n = 2 * TAM_AUDIT_QUEUE + 3;
    assert_int_equal(tam_store_begin(s), 0);
    for (int i = 0; i < n; i++)
        tam_audit(s, f->now, i % 2 ? f->device : 0, 0, "test", "row %d", i);
    assert_int_equal(tam_store_commit(s), 0);
    assert_int_equal(audit_count(s), before + n);
    sqlite3_stmt *st = tam_store_stmt(
        s, "SELECT detail, device_id IS NULL FROM audit WHERE event = 'test'"
           " ORDER BY id");
    for (int i = 0; i < n; i++) {
        char want[16], got[16];
        snprintf(want, sizeof(want), "row %d", i);
        assert_int_equal(tam_store_row(s, st), 1);
        tam_column_text(st, 0, got, sizeof(got));
        assert_string_equal(got, want);
        assert_int_equal(sqlite3_column_int(st, 1), i % 2 == 0);
    }
    assert_int_equal(tam_store_row(s, st), 0);
    sqlite3_reset(st);

    assert_int_equal(tam_store_begin(s), 0);
    tam_audit(s, f->now, 0, 0, "test", "rolled back");
    tam_store_rollback(s);
    assert_int_equal(tam_store_commit(s), -EIO);
    assert_int_equal(audit_count(s), before + n);

    tam_audit(s, f->now, 0, 0, "test", "on its own");
    assert_int_equal(audit_count(s), before + n + 1);
    tam_pool_put(&f->tam, s);
}

static bool cached(fx_t *f, const teep_key_t *key)
{
    uint8_t cose[160];
    size_t len;
    assert_int_equal(teep_key_to_cose(key, false, cose, sizeof(cose), &len), 0);
    return tam_keycache_holds(&f->tam, cose, len);
}

/* A device's keys, loaded to register it, wait in the key cache for its
 * first message (under the bytes its row stores); a key given with its
 * private part is not kept, and a session with the cached keys works. */
static void keys_cached_at_registration(void **state)
{
    fx_t *f = *state;
    assert_true(cached(f, &f->peer.teep_key));
    assert_true(cached(f, &f->peer.attest_key));

    tam_peer_t p;
    assert_int_equal(tam_peer_init(&p, TEEP_KEY_P256, -1), 0);
    char pem[1024];
    size_t len;
    assert_int_equal(teep_key_to_pem(&p.teep_key, true, pem, sizeof(pem), &len),
                     0);
    json_t *j = json_pack("{s:s, s:s}", "name", "private", "teep_key", pem);
    char *text = json_dumps(j, 0);
    assert_int_equal(
        fx_admin(f, "POST", "/devices", NULL, text, strlen(text), NULL), 201);
    free(text);
    json_decref(j);
    assert_false(cached(f, &p.teep_key));
    tam_peer_clear(&p);

    int64_t ta = fx_package(f, "ta", "cached-ta", "ta bytes"), dep;
    assert_int_equal(fx_deploy(f, 6, "process", ta, 0, f->device, &dep), 201);
    assert_int_equal(fx_session(f), 204);
    assert_non_null(strchr(f->trace, 'U'));
}

/* The PD key of Evidence is named, not loaded (attest.c): its thumbprint
 * from the COSE_Key bytes is the kid a loaded key has, for each type; a
 * key with d or malformed bytes give none; and after a session the PD key
 * is not in the key cache, while the attested key still serves. */
static void pd_key_thumbprint_without_loading(void **state)
{
    fx_t *f = *state;
    const teep_key_type_t types[] = {TEEP_KEY_P256, TEEP_KEY_X25519,
                                     TEEP_KEY_ED25519};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        teep_key_t k;
        uint8_t cose[160], kid[32];
        size_t len;
        teep_key_type_t type;
        assert_int_equal(teep_key_generate(&k, types[i]), 0);
        assert_int_equal(teep_key_to_cose(&k, false, cose, sizeof(cose), &len),
                         0);
        assert_int_equal(teep_key_cose_thumbprint(cose, len, &type, kid), 0);
        assert_int_equal(type, types[i]);
        assert_memory_equal(kid, k.kid, sizeof(kid));
        assert_int_not_equal(
            teep_key_cose_thumbprint(cose, len - 1, &type, kid), 0);
        assert_int_equal(teep_key_to_cose(&k, true, cose, sizeof(cose), &len),
                         0);
        assert_int_equal(teep_key_cose_thumbprint(cose, len, &type, kid),
                         -EINVAL);
        teep_key_clear(&k);
    }

    int64_t ta = fx_package(f, "ta", "pd-ta", "ta bytes"), dep;
    assert_int_equal(fx_deploy(f, 6, "process", ta, 0, f->device, &dep), 201);
    assert_int_equal(fx_session(f), 204);
    assert_false(cached(f, &f->peer.pd_key));
    char path[64];
    json_t *out = NULL;
    snprintf(path, sizeof(path), "/devices/%lld/attested-key",
             (long long)f->device);
    assert_int_equal(fx_admin(f, "GET", path, NULL, NULL, 0, &out), 200);
    char hex[65];
    for (size_t i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", f->peer.pd_key.kid[i]);
    assert_string_equal(json_string_value(json_object_get(out, "pd_kid")), hex);
    assert_non_null(json_string_value(json_object_get(out, "pd_key_pem")));
    json_decref(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(routing_and_auth, setup, teardown),
        cmocka_unit_test_setup_teardown(device_validation, setup, teardown),
        cmocka_unit_test_setup_teardown(packages, setup, teardown),
        cmocka_unit_test_setup_teardown(attested_key_and_result, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(deployment_view_and_audit, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(store_tokens_and_schema, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(store_token_use, setup, teardown),
        cmocka_unit_test_setup_teardown(store_audit_queue, setup, teardown),
        cmocka_unit_test_setup_teardown(keys_cached_at_registration, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(pd_key_thumbprint_without_loading,
                                        setup, teardown),
    };
    tam_log_set_level(TEEP_LOG_WARN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
