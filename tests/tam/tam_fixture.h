/*
 * tam_fixture.h: the TAM core in-process with a scripted Agent (peer.h)
 * for the cmocka tests: a clock the test moves, the admin API called
 * directly, and a session driver that plays TEEP over HTTP without the
 * HTTP (empty POST, then each answer back until the TAM has nothing
 * more).  Every helper fails the running test on error.
 */
#ifndef TEEP_TAM_FIXTURE_H
#define TEEP_TAM_FIXTURE_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "teep/pd.h"

#include "peer.h"
#include "tam.h"

#define FX_TOKEN     "fixture-admin-token-0123456789"
#define FX_MAX_STEPS 32

typedef struct fx {
    teep_tam_t tam;
    tam_peer_t peer;
    int64_t now;
    int64_t device;
    char trace[256]; /* what the TAM sent in the last session */
    int last_status;
} fx_t;

static inline int64_t fx_clock(void *ctx)
{
    return ((fx_t *)ctx)->now;
}

/* Open the core on db (":memory:" or a file) with the fixture's clock. */
static inline void fx_open(fx_t *f, const char *db, teep_profile_t profile)
{
    teep_tam_config_t cfg = {
        .db_path = db,
        .profile = profile,
        .connections = 1,
        .admin_token = FX_TOKEN,
        .clock = fx_clock,
        .clock_ctx = f,
        .token_ttl = 3600,
    };
    assert_int_equal(teep_tam_open(&f->tam, &cfg, NULL), 0);
}

/* The admin API: returns the status, *out the parsed JSON (may be NULL). */
static inline int fx_admin(fx_t *f, const char *method, const char *path,
                           const char *query, const void *body, size_t len,
                           json_t **out)
{
    teep_tam_admin_request_t r = {
        .method = method,
        .path = path,
        .query = query,
        .authorization = "Bearer " FX_TOKEN,
        .body = body,
        .body_len = len,
    };
    teep_tam_reply_t reply;
    assert_int_equal(teep_tam_admin(&f->tam, &r, &reply), 0);
    int status = reply.status;
    json_t *j = reply.len > 0
                    ? json_loadb((const char *)reply.body, reply.len, 0, NULL)
                    : NULL;
    teep_tam_reply_clear(&reply);
    if (out != NULL)
        *out = j;
    else
        json_decref(j);
    return status;
}

static inline int64_t fx_id(json_t *j, const char *key)
{
    int64_t v = json_integer_value(json_object_get(j, key));
    json_decref(j);
    return v;
}

static inline char *fx_pem(const teep_key_t *key)
{
    static char pem[1024];
    size_t len;
    assert_int_equal(teep_key_to_pem(key, false, pem, sizeof(pem), &len), 0);
    return pem;
}

/* A peer trusting this TAM, registered as device name with profile. */
static inline void fx_add_peer(fx_t *f, tam_peer_t *p, const char *name,
                               teep_key_type_t type, int peer_profile,
                               const char *device_profile, int64_t *id)
{
    assert_int_equal(tam_peer_init(p, type, peer_profile), 0);
    assert_int_equal(tam_peer_trust_tam(p, &f->tam.keys.esp256), 0);
    assert_int_equal(tam_peer_trust_tam(p, &f->tam.keys.ed25519), 0);
    assert_int_equal(tam_peer_trust_tc_signer(p, &f->tam.keys.tc_signer), 0);
    json_t *body = json_pack("{s:s, s:s, s:s}", "name", name, "profile",
                             device_profile, "teep_key", fx_pem(&p->teep_key));
    json_object_set_new(body, "attestation_key",
                        json_string(fx_pem(&p->attest_key)));
    char *text = json_dumps(body, 0);
    json_decref(body);
    json_t *out = NULL;
    assert_int_equal(
        fx_admin(f, "POST", "/devices", NULL, text, strlen(text), &out), 201);
    free(text);
    *id = fx_id(out, "id");
}

static inline void fx_setup(fx_t *f, const char *db, teep_profile_t profile)
{
    memset(f, 0, sizeof(*f));
    /* The scripted Agent stamps Evidence with the real time. */
    f->now = (int64_t)time(NULL);
    fx_open(f, db, profile);
    fx_add_peer(f, &f->peer, "device-1", TEEP_KEY_P256, -1, "auto", &f->device);
}

static inline void fx_teardown(fx_t *f)
{
    tam_peer_clear(&f->peer);
    teep_tam_close(&f->tam);
}

static inline int64_t fx_package(fx_t *f, const char *kind, const char *name,
                                 const char *content)
{
    char query[256];
    json_t *out = NULL;
    snprintf(query, sizeof(query), "kind=%s&name=%s", kind, name);
    assert_int_equal(
        fx_admin(f, "POST", "/packages", query, content, strlen(content), &out),
        201);
    return fx_id(out, "id");
}

static inline int fx_deploy(fx_t *f, int mode, const char *type, int64_t ta,
                            int64_t ua, int64_t device, int64_t *id)
{
    json_t *j = json_pack("{s:s, s:s, s:i, s:I, s:[I]}", "name", "dep",
                          "instance_type", type, "mode", mode, "ta",
                          (json_int_t)ta, "devices", (json_int_t)device);
    if (ua != 0)
        json_object_set_new(j, "ua", json_integer(ua));
    char *text = json_dumps(j, 0);
    json_decref(j);
    json_t *out = NULL;
    int status =
        fx_admin(f, "POST", "/deployments", NULL, text, strlen(text), &out);
    free(text);
    *id = status == 201 ? fx_id(out, "id") : (json_decref(out), 0);
    return status;
}

/* Encrypt plaintext to the PD key of the device's attested Evidence and
 * upload it: returns the admin status. */
static inline int fx_upload_pd_to(fx_t *f, int64_t deployment, int64_t device,
                                  const teep_key_t *to, const char *plaintext)
{
    size_t len = strlen(plaintext), blob_len = 0;
    uint8_t *blob = malloc(TEEP_PD_BLOB_MAX(len)), digest[32];
    teep_pd_params_t params = {.kid = {to->kid, sizeof(to->kid)}};
    assert_int_equal(teep_pd_encrypt_blob(to, &params,
                                          (const uint8_t *)plaintext, len, blob,
                                          TEEP_PD_BLOB_MAX(len), &blob_len),
                     0);
    assert_int_equal(teep_sha256((const uint8_t *)plaintext, len, digest), 0);
    char hex[65], path[128], query[160];
    for (size_t i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    snprintf(path, sizeof(path), "/deployments/%lld/devices/%lld/pd",
             (long long)deployment, (long long)device);
    snprintf(query, sizeof(query),
             "plaintext-sha256=%s&plaintext-size=%zu&name=pd1", hex, len);
    int status = fx_admin(f, "PUT", path, query, blob, blob_len, NULL);
    free(blob);
    return status;
}

/* The data owner's way: read the attested key from the admin API. */
static inline int fx_upload_pd(fx_t *f, int64_t deployment, int64_t device,
                               const char *plaintext)
{
    char path[64];
    json_t *out = NULL;
    snprintf(path, sizeof(path), "/devices/%lld/attested-key",
             (long long)device);
    if (fx_admin(f, "GET", path, NULL, NULL, 0, &out) != 200) {
        json_decref(out);
        return 409;
    }
    const char *pem = json_string_value(json_object_get(out, "pd_key_pem"));
    teep_key_t key;
    assert_int_equal(teep_key_load(&key, (const uint8_t *)pem, strlen(pem)), 0);
    json_decref(out);
    int status = fx_upload_pd_to(f, deployment, device, &key, plaintext);
    teep_key_clear(&key);
    return status;
}

/* Post one message (NULL: the empty POST) and return the reply. */
static inline void fx_post(fx_t *f, const uint8_t *msg, size_t len,
                           teep_tam_reply_t *reply)
{
    assert_int_equal(teep_tam_process_message(&f->tam, msg, len, reply), 0);
}

/* One TEEP session of peer p: the trace of what the TAM sent ("Q" a
 * QueryRequest, "U<n>" an Update with n manifests, "E" an Update with an
 * err-code) in f->trace; returns the final HTTP status (204 when the TAM
 * was done). */
static inline int fx_session_of(fx_t *f, tam_peer_t *p)
{
    teep_tam_reply_t reply;
    f->trace[0] = 0;
    fx_post(f, NULL, 0, &reply);
    for (int i = 0; reply.status == 200 && i < FX_MAX_STEPS; i++) {
        uint8_t *answer = NULL;
        size_t len = 0;
        peer_event_t ev;
        assert_int_equal(
            tam_peer_handle(p, reply.body, reply.len, &answer, &len, &ev), 0);
        size_t n = strlen(f->trace);
        if (ev.received == TEEP_QUERY_REQUEST)
            snprintf(f->trace + n, sizeof(f->trace) - n, "%sQ", n ? " " : "");
        else if (ev.err_code != 0)
            snprintf(f->trace + n, sizeof(f->trace) - n, "%sE", n ? " " : "");
        else
            snprintf(f->trace + n, sizeof(f->trace) - n, "%sU%zu", n ? " " : "",
                     ev.n_manifests);
        teep_tam_reply_clear(&reply);
        assert_non_null(answer);
        fx_post(f, answer, len, &reply);
        free(answer);
    }
    f->last_status = reply.status;
    teep_tam_reply_clear(&reply);
    return f->last_status;
}

static inline int fx_session(fx_t *f)
{
    return fx_session_of(f, &f->peer);
}

/* The deployment as the admin API shows it (caller json_decref's). */
static inline json_t *fx_deployment(fx_t *f, int64_t id)
{
    char path[64];
    json_t *out = NULL;
    snprintf(path, sizeof(path), "/deployments/%lld", (long long)id);
    assert_int_equal(fx_admin(f, "GET", path, NULL, NULL, 0, &out), 200);
    return out;
}

/* State of the deployment's first target ("running", "done" ...). */
static inline void fx_target(fx_t *f, int64_t id, char *state, size_t cap,
                             int *step)
{
    json_t *d = fx_deployment(f, id);
    json_t *t = json_array_get(json_object_get(d, "targets"), 0);
    snprintf(state, cap, "%s", json_string_value(json_object_get(t, "state")));
    if (step != NULL)
        *step = (int)json_integer_value(json_object_get(t, "step"));
    json_decref(d);
}

#endif
