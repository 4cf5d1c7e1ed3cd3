/* Tests of the TEE plugin ABI end to end: the host's loader and runner
 * (plugins/host) driving the sim plugin (plugins/tee/sim) on a libuv loop
 * as the broker will: a TAM's QueryRequest and Update install the hello
 * TA, its UA and its personalization data (larger than one packet of the
 * TA's channel, so it arrives in pieces); the UA reaches the TA through
 * the host; the TA runs as a process, a container (its own namespaces,
 * compared in /proc) or a VM; state survives a restart.  And the error
 * paths: plugins the loader refuses, and the fail plugin's errors. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka.h needs the four above first. */
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plugin_loader.h"
#include "tee_host.h"
#include "tee_ua_gateway.h"
#include "test_agent_tam.h"

#include "../../examples/hello/hello.h"
#include "../../plugins/tee/sim/sim_channel.h"

/* The PD: three full channel packets (sim_channel.h, 64 KiB) and a part
 * of one, so the TA has to put it together. */
#define PD_LEN (3 * 65536 + 1234)

static const uint8_t *pd_bytes(void)
{
    static uint8_t pd[PD_LEN];
    for (size_t i = 0; i < PD_LEN; i++)
        pd[i] = (uint8_t)(i * 31 + (i >> 16));
    return pd;
}

typedef struct host_test {
    char dir[64];
    char state[128], ua_dir[128], sock[128], signer_pem[128];
    teep_plugin_handle_t plugin;
    uv_loop_t loop;
    teep_tee_runner_t runner;
    teep_tee_lane_t lane;
    test_tam_t tam;
    teep_tee_instance_t instance;
    bool done;
} host_test_t;

/* ---- Driving ops through the runner ------------------------------------ */

typedef struct op {
    teep_tee_call_t call;
    host_test_t *t;
    int (*body)(struct op *op, const teep_tee_ops_t *ops,
                teep_tee_session_t *s);
    teep_tee_session_params_t params;
    teep_tee_option_t options[8];
    uint64_t tam_session;
    teep_slice_t in;
    teep_tee_buf_t out;
    teep_tee_component_list_t list;
    teep_tee_request_result_t result;
    teep_tee_session_t *opened;
} op_t;

static int op_fn(teep_tee_call_t *call)
{
    op_t *op = call->data;
    return op->body(op, call->runner->ops, call->lane->session);
}

static void op_done(teep_tee_call_t *call)
{
    ((op_t *)call->data)->t->done = true;
}

/* Submit op on the lane and run the loop until it finished. */
static int run_op(host_test_t *t, op_t *op)
{
    op->t = t;
    op->call.data = op;
    t->done = false;
    teep_tee_runner_submit(&t->runner, &t->lane, &op->call, op_fn, op_done);
    while (!t->done)
        uv_run(&t->loop, UV_RUN_ONCE);
    return op->call.result;
}

static int body_open(op_t *op, const teep_tee_ops_t *ops, teep_tee_session_t *s)
{
    return ops->session_open(op->t->runner.plugin_state, &op->params,
                             &op->opened);
}

static int body_close(op_t *op, const teep_tee_ops_t *ops,
                      teep_tee_session_t *s)
{
    ops->session_close(s);
    return 0;
}

static int body_message(op_t *op, const teep_tee_ops_t *ops,
                        teep_tee_session_t *s)
{
    return ops->process_teep_message(s, op->tam_session, "http://tam.test/",
                                     op->in, &op->out);
}

static int body_list(op_t *op, const teep_tee_ops_t *ops, teep_tee_session_t *s)
{
    return ops->list_components(s, &op->list);
}

static int body_invoke(op_t *op, const teep_tee_ops_t *ops,
                       teep_tee_session_t *s)
{
    return ops->invoke_ta(s, op->in, (teep_slice_t){(const uint8_t *)"x", 1},
                          &op->out);
}

static int body_request(op_t *op, const teep_tee_ops_t *ops,
                        teep_tee_session_t *s)
{
    return ops->request_ta(s, 1, op->in, NULL, &op->result);
}

static int body_policy(op_t *op, const teep_tee_ops_t *ops,
                       teep_tee_session_t *s)
{
    return ops->request_policy_check(s, 1, &op->result);
}

static int body_error(op_t *op, const teep_tee_ops_t *ops,
                      teep_tee_session_t *s)
{
    return ops->process_error(s, 1, "http://tam.test/", -ECONNREFUSED);
}

static void free_out(host_test_t *t, teep_tee_buf_t *b)
{
    t->runner.ops->free_buffer(t->runner.plugin_state, b);
}

/* ---- Set-up ------------------------------------------------------------ */

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
    return remove(path);
}

static void host_start(host_test_t *t, const char *plugin)
{
    char err[512];
    snprintf(t->dir, sizeof(t->dir), "/tmp/teep-tee-test-XXXXXX");
    assert_non_null(mkdtemp(t->dir));
    snprintf(t->state, sizeof(t->state), "%s/tee", t->dir);
    snprintf(t->ua_dir, sizeof(t->ua_dir), "%s/ua", t->dir);
    snprintf(t->sock, sizeof(t->sock), "%s/ua.sock", t->dir);
    int rc = teep_plugin_load(TEEP_PLUGIN_DIR, plugin, TEEP_PLUGIN_CLASS_TEE,
                              &t->plugin, err, sizeof(err));
    if (rc != 0)
        print_error("%s\n", err);
    assert_int_equal(rc, 0);
    assert_int_equal(uv_loop_init(&t->loop), 0);
    rc = teep_tee_runner_init(&t->runner, &t->loop, &t->plugin, t->ua_dir,
                              TEEP_LOG_INFO, err, sizeof(err));
    if (rc != 0)
        print_error("%s\n", err);
    assert_int_equal(rc, 0);
}

static void host_stop(host_test_t *t)
{
    teep_tee_runner_close(&t->runner);
    uv_run(&t->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&t->loop), 0);
    teep_plugin_unload(&t->plugin);
    nftw(t->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static int open_session(host_test_t *t, teep_tee_instance_t instance)
{
    op_t op = {.body = body_open};
    op.options[0] = (teep_tee_option_t){"tam_uri", "http://tam.test/"};
    op.options[1] =
        (teep_tee_option_t){"tam_key", TEEP_VECTORS_DIR "/" TAM_PUB_PEM};
    op.options[2] = (teep_tee_option_t){"tc_signer_key", t->signer_pem};
    op.options[3] = (teep_tee_option_t){"policy_check_interval", "3600"};
    op.params = (teep_tee_session_params_t){
        .size = sizeof(op.params),
        .state_dir = t->state,
        .instance = instance,
        .options = op.options,
        .n_options = 4,
    };
    int rc = run_op(t, &op);
    t->lane.session = op.opened;
    return rc;
}

static void close_session(host_test_t *t)
{
    op_t op = {.body = body_close};
    assert_int_equal(run_op(t, &op), 0);
    t->lane.session = NULL;
}

/* The TC signer's public key as a PEM file the session loads. */
static void write_signer(host_test_t *t)
{
    char pem[1024];
    size_t len = 0;
    assert_int_equal(
        teep_key_to_pem(&t->tam.signer, false, pem, sizeof(pem), &len), 0);
    snprintf(t->signer_pem, sizeof(t->signer_pem), "%s/signer.pem", t->dir);
    FILE *f = fopen(t->signer_pem, "w");
    assert_non_null(f);
    fwrite(pem, 1, len, f);
    fclose(f);
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)n);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Send msg in conversation session, return the reply's TEEP message. */
static teep_tee_buf_t send_msg(host_test_t *t, uint64_t session, uint8_t *msg,
                               size_t len, teep_msg_type_t want, void *arena,
                               teep_message_t *reply)
{
    op_t op = {.body = body_message, .tam_session = session, .in = {msg, len}};
    assert_int_equal(run_op(t, &op), 0);
    tam_open_reply(op.out.ptr, op.out.len, NULL, TEEP_PROFILE_RFC, want, arena,
                   reply);
    free(msg);
    return op.out;
}

/* ---- The hello deployment ---------------------------------------------- */

/* att; TA -> X; PD -> TA; UA -> REE (package mode 1 of USECASE.md), in
 * one conversation: QueryRequest, then one Update with three manifests. */
static void deploy_hello(host_test_t *t)
{
    static uint8_t arena[TEEP_ARENA_DEFAULT];
    size_t len;
    uint8_t *qr = tam_query(&t->tam, true, 3, NULL, 0, TEEP_PROFILE_RFC, &len);
    teep_message_t r;
    teep_tee_buf_t out =
        send_msg(t, 1, qr, len, TEEP_QUERY_RESPONSE, arena, &r);
    teep_key_t pd_key;
    tam_evidence_pd_key(r.attestation_payload, &pd_key);
    free_out(t, &out);

    size_t ta_len, ua_len, env_len[3];
    uint8_t *ta = read_file(TEEP_HELLO_TA, &ta_len);
    uint8_t *ua = read_file(TEEP_HELLO_UA, &ua_len);
    uint8_t *envs[3] = {
        tam_manifest(&t->tam, HELLO_TA_ID_TEXT, 1, ta, ta_len, &env_len[0]),
        tam_manifest(&t->tam, HELLO_UA_ID_TEXT, 1, ua, ua_len, &env_len[1]),
        tam_pd_manifest(&t->tam, &pd_key, HELLO_PD_ID_TEXT, 1, pd_bytes(),
                        PD_LEN, &env_len[2]),
    };
    teep_slice_t list[3];
    for (int i = 0; i < 3; i++)
        list[i] = (teep_slice_t){envs[i], env_len[i]};
    uint8_t *up = tam_update(&t->tam, list, 3, NULL, 0, &len);
    out = send_msg(t, 1, up, len, TEEP_SUCCESS, arena, &r);
    assert_int_equal(r.suit_reports.count, 3);
    free_out(t, &out);
    for (int i = 0; i < 3; i++)
        free(envs[i]);
    free(ta);
    free(ua);
    teep_key_clear(&pd_key);
}

/* Run the installed UA against the gateway; its stdout into *answer. */
typedef struct ua_run {
    uv_process_t proc;
    bool exited;
    int64_t status;
} ua_run_t;

static void ua_exit(uv_process_t *p, int64_t status, int sig)
{
    ua_run_t *u = p->data;
    u->exited = true;
    u->status = status;
    uv_close((uv_handle_t *)p, NULL);
}

static void run_ua(host_test_t *t, char *answer, size_t cap)
{
    char exe[160], out_path[160];
    snprintf(exe, sizeof(exe), "%s/hello-ua", t->ua_dir);
    snprintf(out_path, sizeof(out_path), "%s/ua.out", t->dir);
    int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(out >= 0);
    char *args[] = {exe, t->sock, "ping", NULL};
    uv_stdio_container_t stdio[3] = {
        {.flags = UV_IGNORE},
        {.flags = UV_INHERIT_FD, .data.fd = out},
        {.flags = UV_INHERIT_FD, .data.fd = 2},
    };
    uv_process_options_t opts = {.file = exe,
                                 .args = args,
                                 .stdio = stdio,
                                 .stdio_count = 3,
                                 .exit_cb = ua_exit};
    ua_run_t u = {.exited = false};
    u.proc.data = &u;
    assert_int_equal(uv_spawn(&t->loop, &u.proc, &opts), 0);
    close(out);
    /* Bounded: the UA waits for the gateway, whose call is bounded by
     * the TA's invoke timeout (SIM_INVOKE_TIMEOUT_MS). */
    while (!u.exited)
        uv_run(&t->loop, UV_RUN_ONCE);
    assert_int_equal(u.status, 0);
    size_t n;
    uint8_t *text = read_file(out_path, &n);
    snprintf(answer, cap, "%.*s", (int)n, (const char *)text);
    free(text);
}

/* The host PID of the TA: our child process named "ta". */
static pid_t ta_pid(void)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    pid_t found = 0;
    while (d != NULL && (e = readdir(d)) != NULL) {
        char path[300], stat[512];
        snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (f == NULL)
            continue;
        size_t n = fread(stat, 1, sizeof(stat) - 1, f);
        fclose(f);
        stat[n] = 0;
        int pid, ppid;
        char comm[64], state;
        if (sscanf(stat, "%d (%63[^)]) %c %d", &pid, comm, &state, &ppid) ==
                4 &&
            ppid == getpid() && strcmp(comm, "ta") == 0 && state != 'Z')
            found = pid;
    }
    if (d != NULL)
        closedir(d);
    return found;
}

static bool same_ns(pid_t pid, const char *ns)
{
    char a[128], b[128], pa[64], pb[64];
    snprintf(pa, sizeof(pa), "/proc/%d/ns/%s", (int)pid, ns);
    snprintf(pb, sizeof(pb), "/proc/self/ns/%s", ns);
    ssize_t na = readlink(pa, a, sizeof(a) - 1);
    ssize_t nb = readlink(pb, b, sizeof(b) - 1);
    assert_true(na > 0 && nb > 0);
    a[na] = b[nb] = 0;
    return strcmp(a, b) == 0;
}

static void check_isolation(teep_tee_instance_t instance)
{
    pid_t pid = ta_pid();
    assert_true(pid > 0);
    static const char *const ns[] = {"mnt", "pid", "ipc", "uts", "net"};
    bool own = instance != TEEP_TEE_INSTANCE_PROCESS;
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(same_ns(pid, ns[i]), !own);
    assert_int_equal(same_ns(pid, "cgroup"), instance != TEEP_TEE_INSTANCE_VM);
}

static void check_answer(const char *answer, teep_tee_instance_t instance)
{
    uint8_t digest[32];
    char want[128];
    assert_int_equal(teep_sha256(pd_bytes(), PD_LEN, digest), 0);
    int n = snprintf(want, sizeof(want), "pd-sha256=");
    for (int i = 0; i < 32; i++)
        n += snprintf(want + n, sizeof(want) - (size_t)n, "%02x", digest[i]);
    print_message("TA: %s", answer);
    assert_non_null(strstr(answer, want));
    assert_non_null(strstr(answer, teep_tee_instance_name(instance)));
    if (instance != TEEP_TEE_INSTANCE_PROCESS) {
        /* PID 1 and its own host name: it sees only its namespaces. */
        assert_non_null(strstr(answer, "pid=1 "));
        assert_non_null(strstr(answer, "host=teep-ta "));
    }
}

static void sim_instance(teep_tee_instance_t instance)
{
    host_test_t *t = calloc(1, sizeof(*t));
    tam_init(&t->tam);
    host_start(t, "tee_sim");
    write_signer(t);
    assert_int_equal(open_session(t, instance), 0);
    deploy_hello(t);

    op_t list = {.body = body_list};
    assert_int_equal(run_op(t, &list), 0);
    assert_int_equal(list.list.count, 3);
    size_t running = 0;
    for (size_t i = 0; i < list.list.count; i++) {
        const teep_tee_component_t *c = &list.list.items[i];
        if (c->is_ta) {
            assert_true(c->running);
            assert_true(c->has_pd);
            assert_int_equal(c->instance, instance);
            running++;
        }
    }
    assert_int_equal(running, 1);
    free_out(t, &list.list.storage);
    check_isolation(instance);

    teep_tee_ua_gateway_t gw;
    assert_int_equal(
        teep_tee_ua_gateway_start(&gw, &t->runner, &t->lane, t->sock), 0);
    char answer[1024];
    run_ua(t, answer, sizeof(answer));
    check_answer(answer, instance);

    /* A restart: the TA runs again and gets its PD again. */
    close_session(t);
    assert_int_equal(ta_pid(), 0);
    assert_int_equal(open_session(t, instance), 0);
    run_ua(t, answer, sizeof(answer));
    check_answer(answer, instance);

    teep_tee_ua_gateway_close(&gw);
    close_session(t);
    host_stop(t);
    tam_clear(&t->tam);
    free(t);
}

static void sim_process(void **state)
{
    sim_instance(TEEP_TEE_INSTANCE_PROCESS);
}

static void sim_container(void **state)
{
    sim_instance(TEEP_TEE_INSTANCE_CONTAINER);
}

static void sim_vm(void **state)
{
    sim_instance(TEEP_TEE_INSTANCE_VM);
}

/* How a TA puts PD together from its channel's packets: in order, up to
 * its bound, a PD past the bound dropped whole (and the next one taken). */
static void pd_reassembly(void **state)
{
    const uint8_t *p = pd_bytes();
    sim_pd_t pd = {0};
    uint8_t *data;
    size_t len;
    assert_int_equal(sim_pd_add(&pd, SIM_MSG_PD_MORE, p, 65536, PD_LEN), 0);
    assert_int_equal(sim_pd_add(&pd, SIM_MSG_PD_MORE, p + 65536, 100, PD_LEN),
                     0);
    assert_int_equal(
        sim_pd_add(&pd, SIM_MSG_PD, p + 65636, PD_LEN - 65636, PD_LEN), 1);
    sim_pd_take(&pd, &data, &len);
    assert_int_equal(len, PD_LEN);
    assert_memory_equal(data, p, PD_LEN);
    free(data);
    /* One byte past the bound: nothing of it is kept. */
    assert_int_equal(sim_pd_add(&pd, SIM_MSG_PD_MORE, p, 65536, 65536), 0);
    assert_int_equal(sim_pd_add(&pd, SIM_MSG_PD_MORE, p, 1, 65536), 0);
    assert_int_equal(sim_pd_add(&pd, SIM_MSG_PD, p, 10, 65536), -EMSGSIZE);
    assert_null(pd.data);
    /* An empty PD, then a packet of another type. */
    assert_int_equal(sim_pd_add(&pd, SIM_MSG_PD, NULL, 0, 65536), 1);
    sim_pd_take(&pd, &data, &len);
    assert_int_equal(len, 0);
    assert_non_null(data);
    free(data);
    assert_int_equal(sim_pd_add(&pd, SIM_MSG_INVOKE, p, 1, 65536), -EINVAL);
}

/* One session per TEE state directory; an unknown option is refused. */
static void sim_refusals(void **state)
{
    host_test_t *t = calloc(1, sizeof(*t));
    tam_init(&t->tam);
    host_start(t, "tee_sim");
    write_signer(t);
    assert_int_equal(open_session(t, TEEP_TEE_INSTANCE_PROCESS), 0);
    teep_tee_session_t *first = t->lane.session;
    assert_int_equal(open_session(t, TEEP_TEE_INSTANCE_PROCESS), -EBUSY);
    t->lane.session = first;
    /* Policy checks: the one TAM, then nothing until the list restarts. */
    op_t p = {.body = body_policy};
    assert_int_equal(run_op(t, &p), 0);
    assert_string_equal(p.result.tam_uri, "http://tam.test/");
    assert_int_equal(run_op(t, &p), 0);
    assert_string_equal(p.result.tam_uri, "");
    close_session(t);

    op_t op = {.body = body_open};
    op.options[0] = (teep_tee_option_t){"no_such_option", "1"};
    op.params =
        (teep_tee_session_params_t){.size = sizeof(op.params),
                                    .state_dir = t->state,
                                    .instance = TEEP_TEE_INSTANCE_PROCESS,
                                    .options = op.options,
                                    .n_options = 1};
    assert_int_equal(run_op(t, &op), -EINVAL);
    host_stop(t);
    tam_clear(&t->tam);
    free(t);
}

/* ---- Error paths ------------------------------------------------------- */

static void loader_refusals(void **state)
{
    teep_plugin_handle_t h;
    char err[512];
    assert_int_equal(teep_plugin_load(TEEP_PLUGIN_DIR, "no_such",
                                      TEEP_PLUGIN_CLASS_TEE, &h, err,
                                      sizeof(err)),
                     -ENOENT);
    assert_non_null(strstr(err, "no such file"));
    assert_int_equal(teep_plugin_load(TEEP_PLUGIN_DIR, "../tee_sim",
                                      TEEP_PLUGIN_CLASS_TEE, &h, err,
                                      sizeof(err)),
                     -EINVAL);
    assert_int_equal(teep_plugin_load(TEEP_PLUGIN_DIR, "tee_badabi",
                                      TEEP_PLUGIN_CLASS_TEE, &h, err,
                                      sizeof(err)),
                     -EPROTO);
    print_message("refused: %s\n", err);
    assert_non_null(strstr(err, "ABI 99.0"));
    assert_int_equal(teep_plugin_load(TEEP_PLUGIN_DIR, "tee_sim",
                                      TEEP_PLUGIN_CLASS_TRANSPORT, &h, err,
                                      sizeof(err)),
                     -EPROTO);
    assert_non_null(strstr(err, "class tee"));
    assert_null(h.dl);
}

/* Every op of the fail plugin fails, and the code reaches the caller. */
static void fail_plugin_errors(void **state)
{
    host_test_t *t = calloc(1, sizeof(*t));
    tam_init(&t->tam);
    host_start(t, "tee_fail");
    assert_int_equal(open_session(t, TEEP_TEE_INSTANCE_VM), -ENOTSUP);
    assert_int_equal(open_session(t, TEEP_TEE_INSTANCE_PROCESS), 0);
    uint8_t *msg = malloc(4);
    op_t m = {.body = body_message, .in = {msg, 4}};
    assert_int_equal(run_op(t, &m), -EIO);
    assert_null(m.out.ptr);
    free(msg);
    op_t l = {.body = body_list};
    assert_int_equal(run_op(t, &l), -ENOMEM);
    op_t i = {.body = body_invoke, .in = {hello_ta_id, sizeof(hello_ta_id)}};
    assert_int_equal(run_op(t, &i), -ETIMEDOUT);
    op_t r = {.body = body_request, .in = {hello_ta_id, sizeof(hello_ta_id)}};
    assert_int_equal(run_op(t, &r), -ENOENT);
    op_t p = {.body = body_policy};
    assert_int_equal(run_op(t, &p), -EAGAIN);
    op_t e = {.body = body_error};
    assert_int_equal(run_op(t, &e), -EINVAL);
    close_session(t);
    host_stop(t);
    tam_clear(&t->tam);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(loader_refusals), cmocka_unit_test(fail_plugin_errors),
        cmocka_unit_test(pd_reassembly),   cmocka_unit_test(sim_refusals),
        cmocka_unit_test(sim_process),     cmocka_unit_test(sim_container),
        cmocka_unit_test(sim_vm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
