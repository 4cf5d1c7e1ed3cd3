/* Tests of plugins/host/tee_conv.c, the Broker state machine the broker
 * and teep-agent share: the sim plugin's Agent on a libuv loop, and as
 * the "TAM" an exchange callback that answers on a later loop turn with
 * a QueryRequest signed by the test TAM, with nothing more, or with a
 * failure.  Checked: what each TAM session reports (ok / failed, why,
 * TAM URI, messages, session ids), that a policy check goes on while the
 * Agent names TAMs and stops at the bound or when the caller says so,
 * and that a TAM that never ends is cut at the message bound. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka.h needs the four above first. */
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "plugin_loader.h"
#include "tee_conv.h"
#include "test_agent_tam.h"

#include "../../examples/hello/hello.h"

#define MAX_SESSIONS 16

/* What the test TAM does with each message the Agent sends it. */
typedef enum tam_mode {
    TAM_QUERY_ONCE, /* a QueryRequest, then nothing more */
    TAM_DONE,       /* nothing more at once */
    TAM_FAIL,       /* the exchange fails */
    TAM_REFUSE,     /* the exchange is refused in the call */
    TAM_ENDLESS,    /* a QueryRequest to every message */
} tam_mode_t;

typedef struct session_seen {
    bool ok;
    char why[64];
    char tam_uri[TEEP_TEE_URI_MAX];
    unsigned messages;
    uint64_t tam_session;
} session_seen_t;

typedef struct conv_test {
    char dir[64], state[128], signer_pem[128];
    teep_plugin_handle_t plugin;
    uv_loop_t loop;
    teep_tee_runner_t runner;
    teep_tee_lane_t lane;
    teep_tee_call_t open_call;
    teep_tee_option_t options[2 * 10 + 2];
    size_t n_options;
    test_tam_t tam;
    /* the conversation and the test TAM */
    teep_tee_conv_t conv;
    uint64_t sessions;
    tam_mode_t mode;
    bool go_on; /* what session_ended answers */
    uv_timer_t answer_timer;
    bool answered; /* in this TAM session */
    /* what the conversation reported */
    session_seen_t seen[MAX_SESSIONS];
    size_t n_seen;
    bool ended;
} conv_test_t;

/* ---- the caller's side of the contract --------------------------------- */

static void answer_now(uv_timer_t *timer)
{
    conv_test_t *t = timer->data;
    if (t->mode == TAM_FAIL) {
        teep_tee_conv_fail(&t->conv, -EHOSTUNREACH, "the TAM is unreachable");
        return;
    }
    if (t->mode == TAM_DONE || (t->mode == TAM_QUERY_ONCE && t->answered)) {
        teep_tee_conv_answer(&t->conv, NULL);
        return;
    }
    size_t len;
    uint8_t *qr = tam_query(&t->tam, false, 2, NULL, 0, TEEP_PROFILE_RFC, &len);
    teep_buf_t *b = teep_buf_copy(0, qr, len);
    assert_non_null(b);
    free(qr);
    t->answered = true;
    teep_tee_conv_answer(&t->conv, b);
    teep_buf_unref(b); /* the conversation took its own reference */
}

static int exchange(teep_tee_conv_t *conv, const uint8_t *bytes, size_t len,
                    const char **why)
{
    conv_test_t *t = conv->data;
    assert_string_equal(conv->tam_uri, "http://tam.test/");
    if (t->mode == TAM_REFUSE) {
        *why = "refused by the test";
        return -EIO;
    }
    /* Never from inside the call: on the next loop turn. */
    uv_timer_start(&t->answer_timer, answer_now, 0, 0);
    return 0;
}

static bool session_ended(teep_tee_conv_t *conv, bool ok, const char *why)
{
    conv_test_t *t = conv->data;
    assert_true(t->n_seen < MAX_SESSIONS);
    session_seen_t *s = &t->seen[t->n_seen++];
    s->ok = ok;
    snprintf(s->why, sizeof(s->why), "%s", why);
    memcpy(s->tam_uri, conv->tam_uri, sizeof(s->tam_uri));
    s->messages = conv->messages;
    s->tam_session = conv->tam_session;
    t->answered = false;
    return t->go_on;
}

static void ended(teep_tee_conv_t *conv)
{
    ((conv_test_t *)conv->data)->ended = true;
}

static const teep_tee_conv_cbs_t cbs = {
    .exchange = exchange,
    .session_ended = session_ended,
    .ended = ended,
};

/* ---- set-up: the sim TEE with n_tams TAMs, all at http://tam.test/ ----- */

static int open_run(teep_tee_call_t *call)
{
    conv_test_t *t = call->data;
    const teep_tee_session_params_t params = {
        .size = sizeof(params),
        .state_dir = t->state,
        .instance = TEEP_TEE_INSTANCE_PROCESS,
        .options = t->options,
        .n_options = t->n_options,
    };
    return t->runner.ops->session_open(t->runner.plugin_state, &params,
                                       &t->lane.session);
}

static int close_run(teep_tee_call_t *call)
{
    conv_test_t *t = call->data;
    t->runner.ops->session_close(t->lane.session);
    return 0;
}

static void call_done(teep_tee_call_t *call)
{
    call->data = NULL; /* the loop below waits for this */
}

static int run_call(conv_test_t *t, teep_tee_call_fn fn)
{
    t->open_call.data = t;
    teep_tee_runner_submit(&t->runner, &t->lane, &t->open_call, fn, call_done);
    while (t->open_call.data != NULL)
        uv_run(&t->loop, UV_RUN_ONCE);
    return t->open_call.result;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
    return remove(path);
}

static conv_test_t *setup(size_t n_tams)
{
    conv_test_t *t = calloc(1, sizeof(*t));
    assert_non_null(t);
    tam_init(&t->tam);
    snprintf(t->dir, sizeof(t->dir), "/tmp/teep-conv-test-XXXXXX");
    assert_non_null(mkdtemp(t->dir));
    snprintf(t->state, sizeof(t->state), "%s/tee", t->dir);
    snprintf(t->signer_pem, sizeof(t->signer_pem), "%s/signer.pem", t->dir);
    char pem[1024], err[512] = "";
    size_t len = 0;
    assert_int_equal(
        teep_key_to_pem(&t->tam.signer, false, pem, sizeof(pem), &len), 0);
    FILE *f = fopen(t->signer_pem, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(pem, 1, len, f), len);
    fclose(f);

    int rc = teep_plugin_load(TEEP_PLUGIN_DIR, "tee_sim", TEEP_PLUGIN_CLASS_TEE,
                              &t->plugin, err, sizeof(err));
    if (rc == 0) {
        assert_int_equal(uv_loop_init(&t->loop), 0);
        rc = teep_tee_runner_init(&t->runner, &t->loop, &t->plugin, t->dir,
                                  TEEP_LOG_WARN, err, sizeof(err));
    }
    if (rc != 0)
        print_error("%s\n", err);
    assert_int_equal(rc, 0);
    for (size_t i = 0; i < n_tams; i++) {
        t->options[t->n_options++] =
            (teep_tee_option_t){"tam_uri", "http://tam.test/"};
        t->options[t->n_options++] =
            (teep_tee_option_t){"tam_key", TEEP_VECTORS_DIR "/" TAM_PUB_PEM};
    }
    t->options[t->n_options++] =
        (teep_tee_option_t){"tc_signer_key", t->signer_pem};
    assert_int_equal(run_call(t, open_run), 0);

    uv_timer_init(&t->loop, &t->answer_timer);
    t->answer_timer.data = t;
    t->conv.runner = &t->runner;
    t->conv.lane = &t->lane;
    t->conv.cbs = &cbs;
    t->conv.session_counter = &t->sessions;
    t->conv.data = t;
    t->go_on = true;
    return t;
}

/* Start a conversation and run the loop until it ended. */
static void converse(conv_test_t *t, teep_tee_conv_kind_t kind,
                     const uint8_t *component, size_t len)
{
    teep_tee_conv_start(&t->conv, kind, component, len);
    assert_int_equal(t->n_seen, 0); /* nothing from inside the call */
    while (!t->ended)
        uv_run(&t->loop, UV_RUN_ONCE);
}

static void teardown(conv_test_t *t)
{
    assert_int_equal(run_call(t, close_run), 0);
    uv_close((uv_handle_t *)&t->answer_timer, NULL);
    teep_tee_runner_close(&t->runner);
    uv_run(&t->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&t->loop), 0);
    teep_plugin_unload(&t->plugin);
    nftw(t->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    tam_clear(&t->tam);
    free(t);
}

static void assert_session(const session_seen_t *s, bool ok, const char *why,
                           const char *tam_uri, unsigned messages,
                           uint64_t tam_session)
{
    assert_int_equal(s->ok, ok);
    assert_string_equal(s->why, why);
    assert_string_equal(s->tam_uri, tam_uri);
    assert_int_equal(s->messages, messages);
    assert_int_equal(s->tam_session, tam_session);
}

/* ---- tests ------------------------------------------------------------- */

/* The empty message, a QueryRequest, the Agent's QueryResponse, the TAM's
 * end; then the Agent names no TAM: the check is over. */
static void policy_check_ok(void **state)
{
    conv_test_t *t = setup(1);
    t->mode = TAM_QUERY_ONCE;
    converse(t, TEEP_TEE_CONV_POLICY_CHECK, NULL, 0);
    assert_int_equal(t->n_seen, 2);
    assert_session(&t->seen[0], true, "the TAM is done", "http://tam.test/", 2,
                   1);
    assert_session(&t->seen[1], true, "nothing to do", "", 0, 2);
    teardown(t);
}

/* As many TAMs as the bound (the sim holds 8): without the bound a
 * ninth round would ask the Agent again and hear "nothing to do". */
static void policy_check_bounded(void **state)
{
    conv_test_t *t = setup(TEEP_TEE_CONV_MAX_ROUNDS);
    t->mode = TAM_DONE;
    converse(t, TEEP_TEE_CONV_POLICY_CHECK, NULL, 0);
    assert_int_equal(t->n_seen, TEEP_TEE_CONV_MAX_ROUNDS);
    for (size_t i = 0; i < t->n_seen; i++)
        assert_session(&t->seen[i], true, "the TAM is done", "http://tam.test/",
                       1, i + 1);
    teardown(t);
}

/* The caller stops: no further round although the Agent names a TAM. */
static void policy_check_stopped(void **state)
{
    conv_test_t *t = setup(2);
    t->mode = TAM_DONE;
    t->go_on = false;
    converse(t, TEEP_TEE_CONV_POLICY_CHECK, NULL, 0);
    assert_int_equal(t->n_seen, 1);
    assert_session(&t->seen[0], true, "the TAM is done", "http://tam.test/", 1,
                   1);
    teardown(t);
}

/* A failed exchange and a refused one reach the Agent as ProcessError and
 * end the TAM session failed, with the caller's reason. */
static void failures(void **state)
{
    const tam_mode_t modes[] = {TAM_FAIL, TAM_REFUSE};
    const char *why[] = {"the TAM is unreachable", "refused by the test"};
    for (size_t i = 0; i < 2; i++) {
        conv_test_t *t = setup(1);
        t->mode = modes[i];
        t->go_on = false;
        converse(t, TEEP_TEE_CONV_POLICY_CHECK, NULL, 0);
        assert_int_equal(t->n_seen, 1);
        /* a refused message was not carried: not counted */
        assert_session(&t->seen[0], false, why[i], "http://tam.test/",
                       modes[i] == TAM_FAIL ? 1 : 0, 1);
        teardown(t);
    }
}

/* A TAM that answers every message with another QueryRequest. */
static void endless_tam(void **state)
{
    conv_test_t *t = setup(1);
    t->mode = TAM_ENDLESS;
    t->go_on = false;
    converse(t, TEEP_TEE_CONV_POLICY_CHECK, NULL, 0);
    assert_int_equal(t->n_seen, 1);
    assert_session(&t->seen[0], false, "too many messages in one conversation",
                   "http://tam.test/", TEEP_TEE_CONV_MAX_MESSAGES, 1);
    teardown(t);
}

/* RequestTA of a component not installed: one TAM session, no repeat. */
static void request_ta(void **state)
{
    conv_test_t *t = setup(2);
    t->mode = TAM_QUERY_ONCE;
    uint8_t id[256];
    teep_slice_t s = tam_id(HELLO_TA_ID_TEXT, id, sizeof(id));
    converse(t, TEEP_TEE_CONV_REQUEST_TA, s.ptr, s.len);
    assert_int_equal(t->n_seen, 1);
    assert_true(t->seen[0].ok);
    assert_string_equal(t->seen[0].tam_uri, "http://tam.test/");
    assert_int_equal(t->seen[0].messages, 2);
    teardown(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(policy_check_ok),
        cmocka_unit_test(policy_check_bounded),
        cmocka_unit_test(policy_check_stopped),
        cmocka_unit_test(failures),
        cmocka_unit_test(endless_tam),
        cmocka_unit_test(request_ta),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
