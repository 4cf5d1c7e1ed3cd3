/* test_tam_session: the TEEP exchange of the TAM core: failures that stop
 * a deployment, tokens (single use, expiry, per device), refusals, both
 * numbering profiles, both cipher suites, a restart in the middle, and
 * worker threads sharing one database connection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>

#include "log.h"
#include "tam_fixture.h"

#define PD_TEXT "personalization data"

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

static void expect_target(fx_t *f, int64_t dep, const char *want_state,
                          int want_step, const char *reason_part)
{
    json_t *d = fx_deployment(f, dep);
    json_t *t = json_array_get(json_object_get(d, "targets"), 0);
    assert_string_equal(json_string_value(json_object_get(t, "state")),
                        want_state);
    assert_int_equal(json_integer_value(json_object_get(t, "step")), want_step);
    if (reason_part != NULL)
        assert_non_null(strstr(json_string_value(json_object_get(t, "reason")),
                               reason_part));
    json_decref(d);
}

/* att fails: the deployment stops at its att step; the TA it could send
 * before (mode 4) went, nothing after it does, and the Agent is told. */
static void failed_attestation_stops(void **state)
{
    fx_t *f = *state;
    int64_t dep;
    int64_t ta = fx_package(f, "ta", "ta1", "TA");
    assert_int_equal(fx_deploy(f, 4, "container", ta, 0, f->device, &dep), 201);
    f->peer.bad_evidence = true;
    assert_int_equal(fx_session(f), 204);
    assert_string_equal(f->trace, "Q U1 Q E");
    expect_target(f, dep, "failed", 2, "unknown-key");
    assert_int_equal(
        fx_upload_pd_to(f, dep, f->device, &f->peer.pd_key, PD_TEXT), 409);
    /* Good Evidence later does not revive it. */
    f->peer.bad_evidence = false;
    assert_int_equal(fx_session(f), 204);
    assert_string_equal(f->trace, "Q");
    expect_target(f, dep, "failed", 2, NULL);
}

static void missing_evidence_stops(void **state)
{
    fx_t *f = *state;
    int64_t dep;
    int64_t ta = fx_package(f, "ta", "ta1", "TA");
    assert_int_equal(fx_deploy(f, 5, "vm", ta, 0, f->device, &dep), 201);
    f->peer.no_evidence = true;
    assert_int_equal(fx_session(f), 204);
    assert_string_equal(f->trace, "Q E");
    expect_target(f, dep, "failed", 1, "no attestation-payload");
}

/* A failing SUIT report (TEEP Error) stops the deployment. */
static void failed_install_stops(void **state)
{
    fx_t *f = *state;
    int64_t dep;
    int64_t ta = fx_package(f, "ta", "ta1", "TA");
    assert_int_equal(fx_deploy(f, 4, "process", ta, 0, f->device, &dep), 201);
    f->peer.fail_install = true;
    assert_int_equal(fx_session(f), 204);
    assert_string_equal(f->trace, "Q U1");
    expect_target(f, dep, "failed", 1, "ERR_MANIFEST_PROCESSING_FAILED");
    f->peer.fail_install = false;
    assert_int_equal(fx_session(f), 204);
    assert_string_equal(f->trace, "Q");
}

/* Connect, and let the peer answer the QueryRequest. */
static void query_answer(fx_t *f, tam_peer_t *p, uint8_t **answer, size_t *len)
{
    teep_tam_reply_t reply;
    fx_post(f, NULL, 0, &reply);
    assert_int_equal(reply.status, 200);
    assert_int_equal(
        tam_peer_handle(p, reply.body, reply.len, answer, len, NULL), 0);
    teep_tam_reply_clear(&reply);
}

static void replayed_token_refused(void **state)
{
    fx_t *f = *state;
    uint8_t *answer;
    size_t len;
    teep_tam_reply_t reply;
    query_answer(f, &f->peer, &answer, &len);
    fx_post(f, answer, len, &reply);
    assert_int_equal(reply.status, 204);
    teep_tam_reply_clear(&reply);
    fx_post(f, answer, len, &reply);
    assert_int_equal(reply.status, 400);
    assert_non_null(strstr(reply.reason, "replayed"));
    assert_null(reply.body);
    teep_tam_reply_clear(&reply);
    free(answer);
    /* Other sessions are unaffected. */
    assert_int_equal(fx_session(f), 204);
}

static void expired_token_refused(void **state)
{
    fx_t *f = *state;
    uint8_t *answer;
    size_t len;
    teep_tam_reply_t reply;
    query_answer(f, &f->peer, &answer, &len);
    f->now += 3601;
    fx_post(f, answer, len, &reply);
    assert_int_equal(reply.status, 400);
    assert_non_null(strstr(reply.reason, "expired"));
    teep_tam_reply_clear(&reply);
    free(answer);
}

/* An Update's token belongs to its device. */
static void token_of_another_device_refused(void **state)
{
    fx_t *f = *state;
    tam_peer_t other;
    int64_t other_id, dep;
    fx_add_peer(f, &other, "device-2", TEEP_KEY_P256, -1, "auto", &other_id);
    int64_t ta = fx_package(f, "ta", "ta1", "TA");
    assert_int_equal(fx_deploy(f, 4, "vm", ta, 0, f->device, &dep), 201);
    uint8_t *answer, *success, *stolen;
    size_t len, success_len, stolen_len;
    teep_tam_reply_t update, reply;
    query_answer(f, &f->peer, &answer, &len);
    fx_post(f, answer, len, &update);
    free(answer);
    assert_int_equal(update.status, 200);
    /* The other device signs a Success for this Update's token. */
    assert_int_equal(tam_peer_handle(&f->peer, update.body, update.len,
                                     &success, &success_len, NULL),
                     0);
    assert_int_equal(tam_peer_handle(&other, update.body, update.len, &stolen,
                                     &stolen_len, NULL),
                     0);
    fx_post(f, stolen, stolen_len, &reply);
    assert_int_equal(reply.status, 400);
    assert_non_null(strstr(reply.reason, "another device"));
    teep_tam_reply_clear(&reply);
    fx_post(f, success, success_len, &reply);
    assert_int_equal(reply.status, 200); /* on to the att step */
    teep_tam_reply_clear(&reply);
    teep_tam_reply_clear(&update);
    free(success);
    free(stolen);
    tam_peer_clear(&other);
}

static void refusals(void **state)
{
    fx_t *f = *state;
    teep_tam_reply_t reply;
    static const uint8_t garbage[] = {0xd2, 0x84, 0x43, 0xa1, 0x01, 0x26};
    fx_post(f, garbage, sizeof(garbage), &reply);
    assert_int_equal(reply.status, 400);
    teep_tam_reply_clear(&reply);
    /* A stranger: signed, but by no registered Agent. */
    tam_peer_t stranger;
    uint8_t *answer;
    size_t len;
    assert_int_equal(tam_peer_init(&stranger, TEEP_KEY_P256, -1), 0);
    assert_int_equal(tam_peer_trust_tam(&stranger, &f->tam.keys.esp256), 0);
    query_answer(f, &stranger, &answer, &len);
    fx_post(f, answer, len, &reply);
    assert_int_equal(reply.status, 400);
    assert_non_null(strstr(reply.reason, "unknown Agent"));
    teep_tam_reply_clear(&reply);
    free(answer);
    /* Tampered: one byte of the signature flipped. */
    query_answer(f, &f->peer, &answer, &len);
    answer[len - 1] ^= 1;
    fx_post(f, answer, len, &reply);
    assert_int_equal(reply.status, 400);
    assert_non_null(strstr(reply.reason, "bad signature"));
    teep_tam_reply_clear(&reply);
    free(answer);
    tam_peer_clear(&stranger);
}

/* A legacy TAM, and an rfc TAM whose Agent answers in legacy: the TAM
 * follows what the Agent's first message says. */
static void both_profiles(void **state)
{
    fx_t *f = *state;
    tam_peer_t legacy;
    int64_t id, dep;
    json_t *out;
    fx_add_peer(f, &legacy, "legacy-agent", TEEP_KEY_P256, TEEP_PROFILE_LEGACY,
                "auto", &id);
    int64_t ta = fx_package(f, "ta", "ta1", "TA");
    assert_int_equal(fx_deploy(f, 4, "process", ta, 0, id, &dep), 201);
    assert_int_equal(fx_session_of(f, &legacy), 204);
    assert_string_equal(f->trace, "Q U1 Q");
    assert_int_equal(fx_upload_pd(f, dep, id, PD_TEXT), 201);
    assert_int_equal(fx_session_of(f, &legacy), 204);
    assert_string_equal(f->trace, "Q U1");
    expect_target(f, dep, "done", 4, NULL);
    assert_int_equal(fx_admin(f, "GET", "/devices/2", NULL, NULL, 0, &out),
                     200);
    assert_string_equal(
        json_string_value(json_object_get(out, "detected_profile")), "legacy");
    assert_int_equal(json_integer_value(json_object_get(out, "alg")),
                     TEEP_ALG_ES256);
    json_decref(out);
    tam_peer_clear(&legacy);

    fx_t g;
    fx_setup(&g, ":memory:", TEEP_PROFILE_LEGACY);
    ta = fx_package(&g, "ta", "ta1", "TA");
    assert_int_equal(fx_deploy(&g, 5, "vm", ta, 0, g.device, &dep), 201);
    assert_int_equal(fx_session(&g), 204);
    assert_int_equal(fx_upload_pd(&g, dep, g.device, PD_TEXT), 201);
    assert_int_equal(fx_session(&g), 204);
    assert_string_equal(g.trace, "Q U2");
    expect_target(&g, dep, "done", 3, NULL);
    fx_teardown(&g);
}

static void ed25519_agent(void **state)
{
    fx_t *f = *state;
    tam_peer_t ed;
    int64_t id, dep;
    json_t *out;
    fx_add_peer(f, &ed, "ed-agent", TEEP_KEY_ED25519, -1, "rfc", &id);
    int64_t ta = fx_package(f, "ta", "ta1", "TA");
    assert_int_equal(fx_deploy(f, 6, "process", ta, 0, id, &dep), 201);
    assert_int_equal(fx_session_of(f, &ed), 204);
    assert_int_equal(fx_upload_pd(f, dep, id, PD_TEXT), 201);
    assert_int_equal(fx_session_of(f, &ed), 204);
    expect_target(f, dep, "done", 4, NULL);
    assert_int_equal(fx_admin(f, "GET", "/devices/2", NULL, NULL, 0, &out),
                     200);
    assert_int_equal(json_integer_value(json_object_get(out, "alg")),
                     TEEP_ALG_ED25519);
    json_decref(out);
    tam_peer_clear(&ed);
}

/* Everything is in SQLite: a TAM restarted between a QueryRequest and its
 * answer, and between two steps, carries on. */
static void restart_resumes(void **state)
{
    char dir[] = "/tmp/tam-restart-XXXXXX", db[64];
    assert_non_null(mkdtemp(dir));
    snprintf(db, sizeof(db), "%s/tam.db", dir);
    fx_t f;
    memset(&f, 0, sizeof(f));
    f.now = (int64_t)time(NULL);
    teep_tam_config_t cfg = {
        .data_dir = dir,
        .connections = 2,
        .admin_token = FX_TOKEN,
        .clock = fx_clock,
        .clock_ctx = &f,
    };
    int64_t dep;
    assert_int_equal(teep_tam_open(&f.tam, &cfg, NULL), 0);
    fx_add_peer(&f, &f.peer, "device-1", TEEP_KEY_P256, -1, "auto", &f.device);
    int64_t ta = fx_package(&f, "ta", "ta1", "TA");
    assert_int_equal(fx_deploy(&f, 4, "vm", ta, 0, f.device, &dep), 201);
    assert_int_equal(fx_session(&f), 204);
    assert_int_equal(fx_upload_pd(&f, dep, f.device, PD_TEXT), 201);

    uint8_t *answer;
    size_t len;
    teep_tam_reply_t reply;
    query_answer(&f, &f.peer, &answer, &len);
    teep_tam_close(&f.tam);
    assert_int_equal(teep_tam_open(&f.tam, &cfg, NULL), 0);
    fx_post(&f, answer, len, &reply);
    free(answer);
    assert_int_equal(reply.status, 200); /* the PD Update */
    assert_int_equal(
        tam_peer_handle(&f.peer, reply.body, reply.len, &answer, &len, NULL),
        0);
    teep_tam_reply_clear(&reply);
    teep_tam_close(&f.tam);
    assert_int_equal(teep_tam_open(&f.tam, &cfg, NULL), 0);
    fx_post(&f, answer, len, &reply);
    free(answer);
    assert_int_equal(reply.status, 204);
    teep_tam_reply_clear(&reply);
    expect_target(&f, dep, "done", 4, NULL);
    assert_non_null(tam_peer_find(&f.peer, "TEE/vm/ta1/pd1"));
    fx_teardown(&f);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* ---- workers sharing one connection ------------------------------ */

#define SHARED_THREADS  4
#define SHARED_SESSIONS 3

typedef struct worker {
    fx_t *f;
    tam_peer_t peer;
    int64_t device, deployment;
    int sessions_ok; /* sessions that ended with 204 */
    int failed_at;   /* 0, or the step of the first failure */
} worker_t;

/* One session, its messages interleaved with the other workers' on the
 * one connection: the TAM's answers must come back in order. */
static void *run_worker(void *arg)
{
    worker_t *w = arg;
    for (int n = 0; n < SHARED_SESSIONS && w->failed_at == 0; n++) {
        teep_tam_reply_t reply;
        if (teep_tam_process_message(&w->f->tam, NULL, 0, &reply) != 0)
            w->failed_at = 1;
        for (int i = 0; w->failed_at == 0 && reply.status == 200; i++) {
            uint8_t *answer = NULL;
            size_t len = 0;
            if (i == FX_MAX_STEPS ||
                tam_peer_handle(&w->peer, reply.body, reply.len, &answer, &len,
                                NULL) != 0 ||
                answer == NULL) {
                w->failed_at = 2;
                break;
            }
            teep_tam_reply_clear(&reply);
            if (teep_tam_process_message(&w->f->tam, answer, len, &reply) != 0)
                w->failed_at = 3;
            free(answer);
        }
        if (w->failed_at == 0 && reply.status == 204)
            w->sessions_ok++;
        else if (w->failed_at == 0)
            w->failed_at = 4;
        teep_tam_reply_clear(&reply);
    }
    return NULL;
}

/* The TAM runs one SQLite connection for all its workers, each holding it
 * only for its database work: threads whose sessions overlap all finish,
 * each device's deployment where its own messages took it. */
static void workers_share_one_connection(void **state)
{
    char dir[] = "/tmp/tam-shared-XXXXXX", db[64];
    assert_non_null(mkdtemp(dir));
    snprintf(db, sizeof(db), "%s/tam.db", dir);
    fx_t f;
    memset(&f, 0, sizeof(f));
    f.now = (int64_t)time(NULL);
    fx_open(&f, db, TEEP_PROFILE_RFC); /* connections = 1 */
    int64_t ta = fx_package(&f, "ta", "ta1", "TA");
    worker_t w[SHARED_THREADS];
    pthread_t threads[SHARED_THREADS];
    memset(w, 0, sizeof(w));
    for (int i = 0; i < SHARED_THREADS; i++) {
        char name[32];
        snprintf(name, sizeof(name), "device-%d", i + 1);
        w[i].f = &f;
        fx_add_peer(&f, &w[i].peer, name, TEEP_KEY_P256, -1, "auto",
                    &w[i].device);
        assert_int_equal(
            fx_deploy(&f, 4, "process", ta, 0, w[i].device, &w[i].deployment),
            201);
    }
    for (int i = 0; i < SHARED_THREADS; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, run_worker, &w[i]),
                         0);
    for (int i = 0; i < SHARED_THREADS; i++)
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    for (int i = 0; i < SHARED_THREADS; i++) {
        assert_int_equal(w[i].failed_at, 0);
        assert_int_equal(w[i].sessions_ok, SHARED_SESSIONS);
        /* TA -> X and att done; PD -> TA (step 3) waits for the data
         * owner. */
        char st[16];
        int step = -1;
        fx_target(&f, w[i].deployment, st, sizeof(st), &step);
        assert_string_equal(st, "waiting-pd");
        assert_int_equal(step, 3);
        assert_non_null(tam_peer_find(&w[i].peer, "TEE/process/ta1/ta"));
        tam_peer_clear(&w[i].peer);
    }
    teep_tam_close(&f.tam);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(failed_attestation_stops, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(missing_evidence_stops, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(failed_install_stops, setup, teardown),
        cmocka_unit_test_setup_teardown(replayed_token_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(expired_token_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(token_of_another_device_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(both_profiles, setup, teardown),
        cmocka_unit_test_setup_teardown(ed25519_agent, setup, teardown),
        cmocka_unit_test(restart_resumes),
        cmocka_unit_test(workers_share_one_connection),
    };
    tam_log_set_level(TEEP_LOG_WARN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
