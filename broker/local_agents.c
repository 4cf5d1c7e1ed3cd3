/*
 * local_agents.c: TEEP conversations of the node's own TEEs
 * (local_agents.h).  The Broker state machine of digest 4.4 is
 * plugins/host/tee_conv.h's; what is the broker's own: its exchanges are
 * POSTs through the relay, each TAM session is logged (event=
 * local_session) and counted, and a policy check runs one at a time per
 * TEE (a trigger while one runs is covered by it).  Ops run on the TEE
 * host's worker threads, one at a time per TEE (its lane); everything
 * else on the loop.  The Agent's messages come in plugin memory and are
 * copied once into a relay buffer (counted in
 * teep_broker_payload_copied_bytes_total): the TEE ABI hands out
 * plugin-owned bytes, not refcounted buffers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "local_agents.h"
#include "log.h"
#include "tee_conv.h"
#include "tee_host.h"

typedef struct tee tee_t;

typedef struct conv {
    teep_tee_conv_t conv;
    tee_t *tee;
    uint8_t *component; /* REQUEST_TA: the identifier's bytes */
    teep_exchange_t *exchange;
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

static void maybe_closed(teep_broker_agents_t *a);

static const teep_tee_ops_t *ops_of(tee_t *tee)
{
    return tee->slot->runner.ops;
}

/* ----------------------------------------------------- conversations */

static void on_reply(void *cb_data, const teep_exchange_reply_t *reply);

/* POST bytes (plugin memory, len 0: an empty body) to the conversation's
 * TAM through the relay. */
static int post(teep_tee_conv_t *conv, const uint8_t *bytes, size_t len,
                const char **why)
{
    conv_t *c = conv->data;
    teep_broker_agents_t *a = c->tee->agents;
    teep_buf_t *body = NULL;
    if (len > 0) {
        body = teep_buf_copy(0, bytes, len);
        if (body == NULL) {
            *why = "out of memory";
            return -ENOMEM;
        }
        teep_broker_add(&a->shard->copied_bytes, len);
    }
    /* The route: the one with this TAM URI as an endpoint, else the TEE's
     * configured one, else the default. */
    const teep_broker_routes_t *t = a->relay->upstreams->routes;
    int r = teep_broker_routes_find_url(t, conv->tam_uri);
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
    int rc = teep_broker_relay_submit(a->relay, &req, 0, &c->exchange);
    teep_buf_unref(body);
    if (rc < 0)
        *why = "the relay refused the message";
    return rc;
}

static void on_reply(void *cb_data, const teep_exchange_reply_t *reply)
{
    conv_t *c = cb_data;
    c->exchange = NULL;
    switch (reply->outcome) {
    case TEEP_EXCHANGE_MESSAGE:
        teep_tee_conv_answer(&c->conv, reply->body);
        return;
    case TEEP_EXCHANGE_NO_CONTENT: teep_tee_conv_answer(&c->conv, NULL); return;
    case TEEP_EXCHANGE_FAILED:
        teep_tee_conv_fail(
            &c->conv,
            reply->upstream_status > 0 ? reply->upstream_status : -EHOSTUNREACH,
            reply->reason != NULL ? reply->reason : "relay failure");
        return;
    }
}

static bool session_ended(teep_tee_conv_t *conv, bool ok, const char *why)
{
    conv_t *c = conv->data;
    tee_t *tee = c->tee;
    teep_broker_agents_t *a = tee->agents;
    char q[200], u[TEEP_TEE_URI_MAX + 8];
    /* The conversation's exchange lines first, then its outcome. */
    teep_broker_logbuf_flush(a->relay->log);
    teep_broker_log(ok ? TEEP_LOG_INFO : TEEP_LOG_WARN,
                    "event=local_session tee=%s kind=%s tam=%s messages=%u "
                    "result=%s reason=%s",
                    tee->cfg->name,
                    conv->kind == TEEP_TEE_CONV_POLICY_CHECK ? "policy_check"
                                                             : "request_ta",
                    conv->tam_uri[0] != '\0'
                        ? teep_broker_log_quote(conv->tam_uri,
                                                strlen(conv->tam_uri), u,
                                                sizeof(u))
                        : "-",
                    conv->messages, ok ? "ok" : "failed",
                    teep_broker_log_quote(why, strlen(why), q, sizeof(q)));
    if (conv->tam_uri[0] != '\0')
        teep_broker_add(&a->shard->local_sessions[ok ? 0 : 1], 1);
    return !a->closing;
}

static void conv_ended(teep_tee_conv_t *conv)
{
    conv_t *c = conv->data;
    tee_t *tee = c->tee;
    teep_broker_agents_t *a = tee->agents;
    if (conv->kind == TEEP_TEE_CONV_POLICY_CHECK)
        tee->policy_running = false;
    for (conv_t **p = &tee->convs; *p != NULL; p = &(*p)->next)
        if (*p == c) {
            *p = c->next;
            break;
        }
    free(c->component);
    free(c);
    a->busy--;
    maybe_closed(a);
}

static const teep_tee_conv_cbs_t conv_cbs = {
    .exchange = post,
    .session_ended = session_ended,
    .ended = conv_ended,
};

/* Start a conversation of kind; takes ownership of component[0..len)
 * (malloc'd; NULL for a policy check). */
static void start_conv(tee_t *tee, teep_tee_conv_kind_t kind,
                       uint8_t *component, size_t len)
{
    teep_broker_agents_t *a = tee->agents;
    conv_t *c = NULL;
    if (!a->closing && tee->open && (c = calloc(1, sizeof(*c))) == NULL)
        teep_broker_log(TEEP_LOG_ERROR,
                        "event=local_session tee=%s "
                        "result=failed reason=\"out of memory\"",
                        tee->cfg->name);
    if (c == NULL) {
        free(component);
        if (kind == TEEP_TEE_CONV_POLICY_CHECK)
            tee->policy_running = false;
        return;
    }
    c->component = component;
    c->tee = tee;
    c->conv.runner = &tee->slot->runner;
    c->conv.lane = &tee->lane;
    c->conv.cbs = &conv_cbs;
    c->conv.session_counter = &a->next_session;
    c->conv.data = c;
    c->next = tee->convs;
    tee->convs = c;
    a->busy++;
    teep_tee_conv_start(&c->conv, kind, c->component, len);
}

static void policy_check(tee_t *tee)
{
    if (tee->policy_running)
        return; /* one at a time: the running one covers this trigger */
    tee->policy_running = true;
    start_conv(tee, TEEP_TEE_CONV_POLICY_CHECK, NULL, 0);
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
    start_conv(tee, TEEP_TEE_CONV_REQUEST_TA, id, len);
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
                teep_tee_conv_fail(&c->conv, -ECANCELED,
                                   "the broker is shutting down");
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
