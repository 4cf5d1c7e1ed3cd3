/* test_tam_modes: every package mode of USECASE.md for every instance
 * type, through the TAM core and the scripted Agent: the TAM sends the
 * steps in the table's order, PD only after attestation and only
 * encrypted to the attested key, and the Agent ends up with the TA, the
 * decrypted PD and the UA where they belong. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tam_fixture.h"

#define PD_TEXT "{\"record\": 7, \"secret\": \"only the TEE reads this\"}"

typedef struct mode_case {
    int mode;
    bool ua;
    const char *first;  /* what the TAM sends before PD is uploaded */
    const char *second; /* and after */
} mode_case_t;

/* Derived from the table (docs/tam.md walks through one): Q is a
 * QueryRequest with a challenge, Un an Update with n manifests. */
static const mode_case_t cases[] = {
    {1, true, "Q U1", "Q U1 U1"},   /* att; TA; | PD; UA */
    {2, true, "Q U1 U1 Q", "Q U1"}, /* UA; TA; att; | PD */
    {3, true, "Q U1 Q", "Q U2"},    /* UA; att; | TA&PD */
    {4, false, "Q U1 Q", "Q U1"},   /* TA; att; | PD */
    {5, false, "Q", "Q U2"},        /* att; | TA&PD */
    {6, false, "Q U1", "Q U1"},     /* att; TA; | (UA, PD) */
};

static const char *const types[] = {"process", "container", "vm"};

static void check_steps_done(fx_t *f, int64_t id, size_t n_steps)
{
    json_t *d = fx_deployment(f, id);
    json_t *t = json_array_get(json_object_get(d, "targets"), 0);
    json_t *steps = json_object_get(t, "steps");
    assert_int_equal(json_array_size(steps), n_steps);
    for (size_t i = 0; i < n_steps; i++) {
        json_t *s = json_array_get(steps, i);
        assert_string_equal(json_string_value(json_object_get(s, "status")),
                            "done");
    }
    assert_string_equal(json_string_value(json_object_get(t, "state")), "done");
    json_decref(d);
}

static void run_case(const mode_case_t *c, const char *type)
{
    fx_t f;
    char state[32], id[128];
    int64_t dep;
    fx_setup(&f, ":memory:", TEEP_PROFILE_RFC);
    int64_t ta = fx_package(&f, "ta", "ta1", "TA image for the TEE");
    int64_t ua = c->ua ? fx_package(&f, "ua", "ua1", "UA for the REE") : 0;
    assert_int_equal(fx_deploy(&f, c->mode, type, ta, ua, f.device, &dep), 201);

    /* Principle 1: no PD before the attestation step affirmed. */
    assert_int_equal(
        fx_upload_pd_to(&f, dep, f.device, &f.peer.pd_key, PD_TEXT), 409);
    assert_int_equal(fx_session(&f), 204);
    assert_string_equal(f.trace, c->first);
    fx_target(&f, dep, state, sizeof(state), NULL);
    assert_string_equal(state, "waiting-pd");
    snprintf(id, sizeof(id), "TEE/%s/ta1/pd1", type);
    assert_null(tam_peer_find(&f.peer, id));

    /* Principle 2: PD encrypted to another key is refused. */
    assert_int_equal(
        fx_upload_pd_to(&f, dep, f.device, &f.peer.rogue_key, PD_TEXT), 422);
    assert_int_equal(fx_upload_pd(&f, dep, f.device, PD_TEXT), 201);
    assert_int_equal(fx_session(&f), 204);
    assert_string_equal(f.trace, c->second);
    check_steps_done(&f, dep,
                     c->mode == 3 || c->mode == 4 || c->mode == 6 ? 3
                     : c->mode == 5                               ? 2
                                                                  : 4);

    const peer_component_t *pd = tam_peer_find(&f.peer, id);
    assert_non_null(pd);
    assert_int_equal(pd->len, strlen(PD_TEXT));
    assert_memory_equal(pd->bytes, PD_TEXT, pd->len);
    snprintf(id, sizeof(id), "TEE/%s/ta1/ta", type);
    assert_non_null(tam_peer_find(&f.peer, id));
    assert_true((tam_peer_find(&f.peer, "REE/ua1/ua") != NULL) == c->ua);

    /* Nothing more to do: the next session ends after attestation. */
    assert_int_equal(fx_session(&f), 204);
    assert_string_equal(f.trace, "Q");
    fx_teardown(&f);
}

static void every_mode_and_type(void **state)
{
    for (size_t m = 0; m < sizeof(cases) / sizeof(cases[0]); m++)
        for (size_t t = 0; t < 3; t++)
            run_case(&cases[m], types[t]);
}

/* Modes 4..6 have no separate UA package and 1..3 need one. */
static void packages_match_the_mode(void **state)
{
    fx_t f;
    int64_t dep;
    fx_setup(&f, ":memory:", TEEP_PROFILE_RFC);
    int64_t ta = fx_package(&f, "ta", "ta1", "TA");
    int64_t ua = fx_package(&f, "ua", "ua1", "UA");
    assert_int_equal(fx_deploy(&f, 1, "vm", ta, 0, f.device, &dep), 400);
    assert_int_equal(fx_deploy(&f, 5, "vm", ta, ua, f.device, &dep), 400);
    assert_int_equal(fx_deploy(&f, 7, "vm", ta, 0, f.device, &dep), 400);
    assert_int_equal(fx_deploy(&f, 4, "enclave", ta, 0, f.device, &dep), 400);
    assert_int_equal(fx_deploy(&f, 4, "vm", ua, 0, f.device, &dep), 404);
    assert_int_equal(fx_deploy(&f, 4, "vm", ta, 0, 99, &dep), 404);
    assert_int_equal(fx_deploy(&f, 2, "vm", ta, ua, f.device, &dep), 201);
    fx_teardown(&f);
}

/* Two deployments for one device run one after the other, in order. */
static void deployments_queue_per_device(void **state)
{
    fx_t f;
    int64_t d1, d2;
    char state1[32], state2[32];
    fx_setup(&f, ":memory:", TEEP_PROFILE_RFC);
    int64_t ta = fx_package(&f, "ta", "ta1", "TA one");
    int64_t tb = fx_package(&f, "ta", "ta2", "TA two");
    assert_int_equal(fx_deploy(&f, 5, "process", ta, 0, f.device, &d1), 201);
    assert_int_equal(fx_deploy(&f, 5, "vm", tb, 0, f.device, &d2), 201);
    /* One attestation completes the att step of both. */
    assert_int_equal(fx_session(&f), 204);
    assert_string_equal(f.trace, "Q");
    assert_int_equal(fx_upload_pd(&f, d2, f.device, PD_TEXT), 201);
    assert_int_equal(fx_upload_pd(&f, d1, f.device, PD_TEXT), 201);
    /* The Agent takes PD only in the first Update after its Evidence:
     * the second PD step asks for fresh Evidence. */
    assert_int_equal(fx_session(&f), 204);
    assert_string_equal(f.trace, "Q U2 Q U2");
    fx_target(&f, d1, state1, sizeof(state1), NULL);
    fx_target(&f, d2, state2, sizeof(state2), NULL);
    assert_string_equal(state1, "done");
    assert_string_equal(state2, "done");
    assert_non_null(tam_peer_find(&f.peer, "TEE/process/ta1/pd1"));
    assert_non_null(tam_peer_find(&f.peer, "TEE/vm/ta2/pd1"));
    fx_teardown(&f);
}

/* One deployment, two devices: each runs the steps on its own, and PD
 * is per device, encrypted to each device's own attested key. */
static void one_deployment_two_devices(void **state)
{
    fx_t f;
    tam_peer_t second;
    int64_t other, dep;
    fx_setup(&f, ":memory:", TEEP_PROFILE_RFC);
    fx_add_peer(&f, &second, "device-2", TEEP_KEY_P256, -1, "auto", &other);
    int64_t ta = fx_package(&f, "ta", "ta1", "TA");
    json_t *j =
        json_pack("{s:s, s:s, s:i, s:I, s:[I, I]}", "name", "two",
                  "instance_type", "container", "mode", 4, "ta", (json_int_t)ta,
                  "devices", (json_int_t)f.device, (json_int_t)other);
    char *text = json_dumps(j, 0);
    json_t *out = NULL;
    assert_int_equal(
        fx_admin(&f, "POST", "/deployments", NULL, text, strlen(text), &out),
        201);
    dep = fx_id(out, "id");
    free(text);
    json_decref(j);
    assert_int_equal(fx_session(&f), 204);
    assert_int_equal(fx_session_of(&f, &second), 204);
    /* The first device's key does not open the second device's PD. */
    assert_int_equal(fx_upload_pd_to(&f, dep, other, &f.peer.pd_key, PD_TEXT),
                     422);
    assert_int_equal(fx_upload_pd(&f, dep, f.device, PD_TEXT), 201);
    assert_int_equal(fx_session(&f), 204);
    json_t *d = fx_deployment(&f, dep);
    json_t *targets = json_object_get(d, "targets");
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(targets, 0), "state")),
        "done");
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(targets, 1), "state")),
        "waiting-pd");
    json_decref(d);
    assert_int_equal(fx_upload_pd(&f, dep, other, PD_TEXT), 201);
    assert_int_equal(fx_session_of(&f, &second), 204);
    assert_string_equal(f.trace, "Q U1");
    assert_non_null(tam_peer_find(&second, "TEE/container/ta1/pd1"));
    tam_peer_clear(&second);
    fx_teardown(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_mode_and_type),
        cmocka_unit_test(packages_match_the_mode),
        cmocka_unit_test(deployments_queue_per_device),
        cmocka_unit_test(one_deployment_two_devices),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
