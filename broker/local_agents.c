/*
 * local_agents.c: TEEP conversations of the node's own TEEs
 * (local_agents.h), the Broker state machine of digest 4.4:
 *
 *   request op (RequestPolicyCheck / RequestTA) -> TAM URI [+ message]
 *     -> POST through the relay -> answer:
 *        message    -> ProcessTeepMessage -> reply? POST it : done (ok)
 *        no content -> done (ok)
 *        failure    -> ProcessError -> done (failed)
 *
 * A policy check is repeated until the Agent names no TAM (each call
 * names one), bounded per trigger.  Ops run on the TEE host's worker
 * threads, one at a time per TEE (its lane); everything else on the loop.
 * The Agent's messages come in plugin memory and are copied once into a
 * relay buffer (counted in teep_broker_payload_copied_bytes_total): the
 * TEE ABI hands out plugin-owned bytes, not refcounted buffers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "local_agents.h"
#include "log.h"
#include "tee_host.h"

/* RequestPolicyCheck calls per trigger (one TAM each), and messages per
 * conversation: bounds against an Agent or TAM that never ends. */
#define MAX_POLICY_ROUNDS 8
#define MAX_MESSAGES      64

typedef struct tee tee_t;

enum { CONV_POLICY = 0, CONV_REQUEST_TA = 1 };
enum { OP_REQUEST = 0, OP_PROCESS, OP_ERROR, OP_OPEN, OP_CLOSE };

typedef struct conv {
    tee_t *tee;
    int kind;
    int op;
    uint64_t tam_session;
    uint8_t *component; /* REQUEST_TA: the identifier's bytes */
    size_t component_len;
    char tam_uri[TEEP_TEE_URI_MAX];
    teep_tee_call_t call;
    teep_tee_request_result_t result;
    teep_tee_buf_t reply;
    teep_buf_t *incoming; /* the TAM's message being processed */
    int error_code;       /* for ProcessError */
    teep_exchange_t *exchange;
    unsigned messages;
    bool failed;
    const char *why;
    struct conv *next;
} conv_t;

typedef struct runner_slot {
    const teep_plugin_handle_t *plugin;
    teep_tee_runner_t runner;
    bool ready;
} runner_slot_t;

struct tee {
    teep_broker_agents_t *agents;
    const teep_broker_tee_cfg_t *cfg;
    runner_slot_t *slot;
    teep_tee_lane_t lane;
    teep_tee_call_t open_call; /* session_open and session_close */
    uv_timer_t timer;
    bool timer_on;
    bool open;
    bool policy_running;
    unsigned policy_rounds;
    conv_t *convs;
};

struct teep_broker_agents {
    uv_loop_t *loop;
    teep_broker_routes_t *routes;
    teep_broker_relay_t *relay;
    teep_broker_shard_t *shard;
    runner_slot_t slots[TEEP_BROKER_MAX_PLUGINS];
    size_t n_slots;
    tee_t *tees;
    size_t n_tees;
    uint64_t next_session;
    uv_idle_t finisher; /* the last step of a close, on its own turn */
    bool closing;
    size_t busy; /* conversations, open / close calls and timers alive */
    void (*done)(void *arg);
    void *done_arg;
};

static void start_conv(tee_t *tee, int kind, const uint8_t *component,
                       size_t len);
static void maybe_closed(teep_broker_agents_t *a);

/* -------------------------------------------------------------- ops */

static const teep_tee_ops_t *ops_of(tee_t *tee)
{
    return tee->slot->runner.ops;
}

static int op_run(teep_tee_call_t *call)
{
    conv_t *c = call->data;
    tee_t *tee = c->tee;
    const teep_tee_ops_t *ops = ops_of(tee);
    teep_tee_session_t *s = tee->lane.session;
    switch (c->op) {
    case OP_REQUEST:
        if (c->kind == CONV_POLICY)
            return ops->request_policy_check(s, c->tam_session, &c->result);
        return ops->request_ta(s, c->tam_session,
                               (teep_slice_t){c->component, c->component_len},
                               NULL, &c->result);
    case OP_PROCESS:
        return ops->process_teep_message(
            s, c->tam_session, c->tam_uri,
            (teep_slice_t){c->incoming->pos, teep_buf_len(c->incoming)},
            &c->reply);
    default:
        return ops->process_error(s, c->tam_session, c->tam_uri, c->error_code);
    }
}

static void op_done(teep_tee_call_t *call);

static void run_op(conv_t *c, int op)
{
    c->op = op;
    c->call.data = c;
    memset(&c->reply, 0, sizeof(c->reply));
    if (op == OP_REQUEST)
        memset(&c->result, 0, sizeof(c->result));
    teep_tee_runner_submit(&c->tee->slot->runner, &c->tee->lane, &c->call,
                           op_run, op_done);
}

/* ----------------------------------------------------- conversations */

static void conv_free(conv_t *c)
{
    tee_t *tee = c->tee;
    const teep_tee_ops_t *ops = ops_of(tee);
    void *state = tee->slot->runner.plugin_state;
    ops->free_buffer(state, &c->result.message);
    ops->free_buffer(state, &c->reply);
    teep_buf_unref(c->incoming);
    for (conv_t **p = &tee->convs; *p != NULL; p = &(*p)->next)
        if (*p == c) {
            *p = c->next;
            break;
        }
    free(c->component);
    free(c);
}

static void conv_end(conv_t *c, bool ok, const char *why)
{
    tee_t *tee = c->tee;
    teep_broker_agents_t *a = tee->agents;
    char q[200], u[TEEP_TEE_URI_MAX + 8];
    /* The conversation's exchange lines first, then its outcome. */
    teep_broker_logbuf_flush(a->relay->log);
    teep_broker_log(ok ? TEEP_LOG_INFO : TEEP_LOG_WARN,
                    "event=local_session tee=%s kind=%s tam=%s messages=%u "
                    "result=%s reason=%s",
                    tee->cfg->name,
                    c->kind == CONV_POLICY ? "policy_check" : "request_ta",
                    c->tam_uri[0] != '\0'
                        ? teep_broker_log_quote(c->tam_uri, strlen(c->tam_uri),
                                                u, sizeof(u))
                        : "-",
                    c->messages, ok ? "ok" : "failed",
                    teep_broker_log_quote(why, strlen(why), q, sizeof(q)));
    if (c->tam_uri[0] != '\0')
        teep_broker_add(&a->shard->local_sessions[ok ? 0 : 1], 1);
    /* A policy check goes on until the Agent names no more TAMs. */
    bool again = c->kind == CONV_POLICY && c->tam_uri[0] != '\0' &&
                 !a->closing && ++tee->policy_rounds < MAX_POLICY_ROUNDS;
    if (c->kind == CONV_POLICY && !again)
        tee->policy_running = false;
    conv_free(c);
    a->busy--;
    if (again)
        start_conv(tee, CONV_POLICY, NULL, 0);
    maybe_closed(a);
}

static void conv_fail(conv_t *c, int code, const char *why)
{
    c->failed = true;
    c->why = why;
    c->error_code = code;
    run_op(c, OP_ERROR);
}

static void on_reply(void *cb_data, const teep_exchange_reply_t *reply);

/* POST bytes (plugin memory, NULL: an empty body) to the conversation's
 * TAM through the relay. */
static void post(conv_t *c, const uint8_t *bytes, size_t len)
{
    teep_broker_agents_t *a = c->tee->agents;
    teep_buf_t *body = NULL;
    if (len > 0) {
        body = teep_buf_copy(0, bytes, len);
        if (body == NULL) {
            conv_fail(c, -ENOMEM, "out of memory");
            return;
        }
        teep_broker_add(&a->shard->copied_bytes, len);
    }
    /* The route: the one with this TAM URI as an endpoint, else the TEE's
     * configured one, else the default. */
    const teep_broker_routes_t *t = a->relay->upstreams->routes;
    int r = teep_broker_routes_find_url(t, c->tam_uri);
    const char *route = c->tee->cfg->route;
    if (r >= 0)
        route = t->routes[r].cfg->name;
    teep_exchange_request_t req = {
        .size = sizeof(req),
        .route = route,
        .route_len = route != NULL ? strlen(route) : 0,
        .device = c->tee->cfg->name,
        .device_len = strlen(c->tee->cfg->name),
        .peer = "local",
        .body = body,
        .cb = on_reply,
        .cb_data = c,
    };
    c->messages++;
    int rc = teep_broker_relay_submit(a->relay, &req, 0, &c->exchange);
    teep_buf_unref(body);
    if (rc < 0)
        conv_fail(c, rc, "the relay refused the message");
}

static void on_reply(void *cb_data, const teep_exchange_reply_t *reply)
{
    conv_t *c = cb_data;
    c->exchange = NULL;
    switch (reply->outcome) {
    case TEEP_EXCHANGE_MESSAGE:
        if (c->messages >= MAX_MESSAGES) {
            conv_fail(c, -ELOOP, "too many messages in one conversation");
            return;
        }
        c->incoming = teep_buf_ref(reply->body);
        run_op(c, OP_PROCESS);
        return;
    case TEEP_EXCHANGE_NO_CONTENT: conv_end(c, true, "the TAM is done"); return;
    case TEEP_EXCHANGE_FAILED:
        conv_fail(c,
                  reply->upstream_status > 0 ? reply->upstream_status
                                             : -EHOSTUNREACH,
                  reply->reason != NULL ? reply->reason : "relay failure");
        return;
    }
}

static void op_done(teep_tee_call_t *call)
{
    conv_t *c = call->data;
    const teep_tee_ops_t *ops = ops_of(c->tee);
    void *state = c->tee->slot->runner.plugin_state;
    int rc = call->result;
    switch (c->op) {
    case OP_REQUEST:
        if (rc < 0) {
            conv_end(c, false, "the Agent refused the request");
            return;
        }
        memcpy(c->tam_uri, c->result.tam_uri, sizeof(c->tam_uri));
        c->tam_uri[sizeof(c->tam_uri) - 1] = '\0';
        if (c->tam_uri[0] == '\0') {
            conv_end(c, true, "nothing to do");
            return;
        }
        post(c, c->result.message.ptr, c->result.message.len);
        ops->free_buffer(state, &c->result.message);
        return;
    case OP_PROCESS:
        teep_buf_unref(c->incoming);
        c->incoming = NULL;
        if (rc < 0) {
            conv_fail(c, rc, "the Agent could not process the message");
            return;
        }
        if (c->reply.ptr == NULL || c->reply.len == 0) {
            conv_end(c, true, "the Agent is done");
            return;
        }
        post(c, c->reply.ptr, c->reply.len);
        ops->free_buffer(state, &c->reply);
        return;
    default: conv_end(c, false, c->why != NULL ? c->why : "failed"); return;
    }
}

static void start_conv(tee_t *tee, int kind, const uint8_t *component,
                       size_t len)
{
    teep_broker_agents_t *a = tee->agents;
    if (a->closing || !tee->open)
        return;
    conv_t *c = calloc(1, sizeof(*c));
    if (c == NULL || (len > 0 && (c->component = malloc(len)) == NULL)) {
        free(c);
        teep_broker_log(TEEP_LOG_ERROR,
                        "event=local_session tee=%s "
                        "result=failed reason=\"out of memory\"",
                        tee->cfg->name);
        if (kind == CONV_POLICY)
            tee->policy_running = false;
        return;
    }
    if (len > 0)
        memcpy(c->component, component, len);
    c->component_len = len;
    c->tee = tee;
    c->kind = kind;
    c->tam_session = ++a->next_session;
    c->next = tee->convs;
    tee->convs = c;
    a->busy++;
    run_op(c, OP_REQUEST);
}

static void policy_check(tee_t *tee)
{
    if (tee->policy_running)
        return; /* one at a time: the running one covers this trigger */
    tee->policy_running = true;
    tee->policy_rounds = 0;
    start_conv(tee, CONV_POLICY, NULL, 0);
}

static int hex_decode(const char *hex, uint8_t **out, size_t *len)
{
    size_t n = strlen(hex);
    if (n == 0 || n % 2 != 0)
        return -EINVAL;
    uint8_t *b = malloc(n / 2);
    if (b == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1) {
            free(b);
            return -EINVAL;
        }
        b[i] = (uint8_t)v;
    }
    *out = b;
    *len = n / 2;
    return 0;
}

static int request_ta(tee_t *tee, const char *hex)
{
    uint8_t *id;
    size_t len;
    int rc = hex_decode(hex, &id, &len);
    if (rc < 0)
        return rc;
    start_conv(tee, CONV_REQUEST_TA, id, len);
    free(id);
    return 0;
}

/* ----------------------------------------------------------- sessions */

static void on_timer(uv_timer_t *t)
{
    policy_check(t->data);
}

static void timer_closed(uv_handle_t *h)
{
    tee_t *tee = h->data;
    tee->agents->busy--;
    maybe_closed(tee->agents);
}

static int open_run(teep_tee_call_t *call)
{
    tee_t *tee = call->data;
    const teep_broker_tee_cfg_t *cfg = tee->cfg;
    teep_tee_option_t opts[64];
    size_t n = cfg->n_options < 64 ? cfg->n_options : 64;
    for (size_t i = 0; i < n; i++)
        opts[i] =
            (teep_tee_option_t){cfg->options[i].key, cfg->options[i].value};
    teep_tee_session_params_t params = {
        .size = sizeof(params),
        .state_dir = cfg->state_dir,
        .instance = cfg->instance,
        .options = opts,
        .n_options = n,
    };
    return ops_of(tee)->session_open(tee->slot->runner.plugin_state, &params,
                                     &tee->lane.session);
}

static void open_done(teep_tee_call_t *call)
{
    tee_t *tee = call->data;
    teep_broker_agents_t *a = tee->agents;
    a->busy--;
    if (call->result < 0) {
        teep_broker_log(TEEP_LOG_ERROR,
                        "event=tee_failed tee=%s plugin=%s reason=\"%s\"",
                        tee->cfg->name, tee->cfg->plugin,
                        call->result > -4096 ? strerror(-call->result)
                                             : teep_strerror(call->result));
        tee->lane.session = NULL;
        maybe_closed(a);
        return;
    }
    tee->open = true;
    teep_broker_log(TEEP_LOG_INFO,
                    "event=tee_open tee=%s plugin=%s instance=%s",
                    tee->cfg->name, tee->cfg->plugin,
                    teep_tee_instance_name(tee->cfg->instance));
    if (a->closing) {
        maybe_closed(a);
        return;
    }
    if (tee->cfg->policy_check_at_start)
        policy_check(tee);
    for (size_t i = 0; i < tee->cfg->n_request_ta; i++)
        request_ta(tee, tee->cfg->request_ta[i]);
    if (tee->cfg->policy_check_interval_ms > 0) {
        uv_timer_init(a->loop, &tee->timer);
        tee->timer.data = tee;
        tee->timer_on = true;
        a->busy++;
        uv_timer_start(&tee->timer, on_timer,
                       tee->cfg->policy_check_interval_ms,
                       tee->cfg->policy_check_interval_ms);
    }
}

static int close_run(teep_tee_call_t *call)
{
    tee_t *tee = call->data;
    ops_of(tee)->session_close(tee->lane.session);
    return 0;
}

static void close_done(teep_tee_call_t *call)
{
    tee_t *tee = call->data;
    tee->lane.session = NULL;
    tee->open = false;
    tee->agents->busy--;
    maybe_closed(tee->agents);
}

/* A TEE plugin asked for a policy check (its own timer). */
static void on_plugin_policy(teep_tee_runner_t *runner,
                             teep_tee_session_t *session)
{
    teep_broker_agents_t *a = runner->data;
    for (size_t i = 0; i < a->n_tees; i++)
        if (a->tees[i].lane.session == session && a->tees[i].open)
            policy_check(&a->tees[i]);
}

/* -------------------------------------------------------------- API */

static tee_t *find_tee(teep_broker_agents_t *a, const char *name)
{
    for (size_t i = 0; i < a->n_tees; i++)
        if (strcmp(a->tees[i].cfg->name, name) == 0)
            return &a->tees[i];
    return NULL;
}

int teep_broker_agents_policy_check(teep_broker_agents_t *a, const char *tee)
{
    tee_t *t = find_tee(a, tee);
    if (t == NULL || !t->open)
        return -ENOENT;
    policy_check(t);
    return 0;
}

int teep_broker_agents_request_ta(teep_broker_agents_t *a, const char *tee,
                                  const char *component_hex)
{
    tee_t *t = find_tee(a, tee);
    if (t == NULL || !t->open)
        return -ENOENT;
    return request_ta(t, component_hex);
}

static runner_slot_t *slot_for(teep_broker_agents_t *a,
                               const teep_broker_tee_cfg_t *cfg,
                               const teep_broker_plugins_t *plugins, int *rc)
{
    const teep_plugin_handle_t *h =
        teep_broker_plugins_tee(plugins, cfg->plugin);
    for (size_t i = 0; i < a->n_slots; i++)
        if (a->slots[i].plugin == h)
            return &a->slots[i];
    runner_slot_t *s = &a->slots[a->n_slots];
    char err[512] = "";
    /* The TEE host installs UAs per plugin: the first TEE of a plugin
     * names the directory for all of them. */
    *rc = teep_tee_runner_init(&s->runner, a->loop, h, cfg->ua_dir,
                               teep_broker_log_level(), err, sizeof(err));
    if (*rc < 0) {
        teep_broker_log(
            TEEP_LOG_ERROR, "event=tee_failed tee=%s plugin=%s reason=\"%s\"",
            cfg->name, cfg->plugin, err[0] != '\0' ? err : strerror(-*rc));
        return NULL;
    }
    s->plugin = h;
    s->ready = true;
    s->runner.data = a;
    s->runner.on_policy_check = on_plugin_policy;
    a->n_slots++;
    return s;
}

int teep_broker_agents_open(teep_broker_agents_t **out, uv_loop_t *loop,
                            teep_broker_routes_t *routes,
                            const teep_broker_plugins_t *plugins,
                            teep_broker_relay_t *relay,
                            teep_broker_shard_t *shard)
{
    *out = NULL;
    const teep_broker_config_t *cfg = &routes->config;
    if (cfg->n_tees == 0)
        return 0;
    teep_broker_agents_t *a = calloc(1, sizeof(*a));
    if (a == NULL || (a->tees = calloc(cfg->n_tees, sizeof(tee_t))) == NULL) {
        free(a);
        return -ENOMEM;
    }
    a->loop = loop;
    a->routes = teep_broker_routes_ref(routes);
    a->relay = relay;
    a->shard = shard;
    a->n_tees = cfg->n_tees;
    int rc = 0;
    for (size_t i = 0; i < cfg->n_tees && rc == 0; i++) {
        tee_t *tee = &a->tees[i];
        tee->agents = a;
        tee->cfg = &cfg->tees[i];
        tee->slot = slot_for(a, tee->cfg, plugins, &rc);
    }
    uv_idle_init(loop, &a->finisher);
    a->finisher.data = a;
    *out = a;
    if (rc < 0) {
        a->n_tees = 0; /* none opened: closing only ends the runners */
        return rc;
    }
    for (size_t i = 0; i < a->n_tees; i++) {
        tee_t *tee = &a->tees[i];
        tee->open_call.data = tee;
        a->busy++;
        teep_tee_runner_submit(&tee->slot->runner, &tee->lane, &tee->open_call,
                               open_run, open_done);
    }
    *out = a;
    return 0;
}

/* The last step of a close: the runners end (their handles close on the
 * loop: the memory stays until teep_broker_agents_free). */
static void finish(uv_idle_t *idle)
{
    teep_broker_agents_t *a = idle->data;
    uv_idle_stop(idle);
    uv_close((uv_handle_t *)idle, NULL);
    for (size_t i = 0; i < a->n_slots; i++)
        teep_tee_runner_close(&a->slots[i].runner);
    teep_broker_routes_unref(a->routes);
    a->routes = NULL;
    if (a->done != NULL)
        a->done(a->done_arg);
}

static void maybe_closed(teep_broker_agents_t *a)
{
    if (!a->closing || a->busy > 0)
        return;
    /* Every conversation ended: close the open sessions, then the
     * runners. */
    for (size_t i = 0; i < a->n_tees; i++) {
        tee_t *tee = &a->tees[i];
        if (tee->open && tee->lane.session != NULL) {
            tee->open = false;
            a->busy++;
            tee->open_call.data = tee;
            teep_tee_runner_submit(&tee->slot->runner, &tee->lane,
                                   &tee->open_call, close_run, close_done);
        }
    }
    if (a->busy > 0 || uv_is_active((uv_handle_t *)&a->finisher))
        return;
    /* Not from here: this may run inside the TEE host's completion of a
     * call, which still uses the runner when it returns. */
    uv_idle_start(&a->finisher, finish);
}

void teep_broker_agents_close(teep_broker_agents_t *a, void (*done)(void *arg),
                              void *arg)
{
    a->closing = true;
    a->done = done;
    a->done_arg = arg;
    for (size_t i = 0; i < a->n_tees; i++) {
        tee_t *tee = &a->tees[i];
        if (tee->timer_on) {
            tee->timer_on = false;
            uv_close((uv_handle_t *)&tee->timer, timer_closed);
        }
        /* A conversation waiting for its TAM stops waiting: the Agent
         * hears of it as an error, like any broken conversation. */
        for (conv_t *c = tee->convs; c != NULL; c = c->next)
            if (c->exchange != NULL) {
                teep_broker_relay_cancel(a->relay, c->exchange);
                c->exchange = NULL;
                conv_fail(c, -ECANCELED, "the broker is shutting down");
            }
    }
    maybe_closed(a);
}

void teep_broker_agents_free(teep_broker_agents_t *a)
{
    if (a == NULL)
        return;
    free(a->tees);
    free(a);
}
