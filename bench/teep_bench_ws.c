/*
 * teep_bench_ws.c: WebSocket agents (docs/transport-ws.md) on
 * libwebsockets 4.1, through the client the device agent uses
 * (plugins/transport/ws/ws_client.h: one lws context on the bench's
 * libuv loop, lws on a foreign loop).  An agent is one connection with
 * subprotocol teep.v1 that names its device (?device=bench-N, as
 * teep-agent does, so that the broker keeps what push needs), opened at
 * the start and kept.
 *
 * An exchange: the body as one binary message, answered by one binary
 * message (the TAM's next).  A control line (no-content, error ...)
 * ends it not ok; so does the connection ending, and the agent is lost.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "teep_bench.h"
#include "ws_binding.h"
#include "ws_client.h"

typedef struct fleet fleet_t;

typedef struct {
    teep_ws_client_t ws;
    fleet_t *f;
    unsigned index;
    bool connecting; /* from connect until on_close */
    bool pending;
    bool idle; /* idle agents: answered once */
} agent_t;

struct fleet {
    uv_loop_t *loop;
    teep_ws_client_ctx_t *ctx;
    const char *url; /* borrowed: the run's */
    const uint8_t *body;
    size_t body_len;
    agent_t *agents;
    unsigned n;
    unsigned sources; /* 0: the system picks the source address */
    uv_timer_t timer; /* closed once the context is gone */
    /* how an exchange ended, or the connection; for the load run or the
     * idle ramp */
    void (*outcome)(fleet_t *f, agent_t *a, bool ok);
    void (*gone)(fleet_t *f, agent_t *a, bool was_pending);
    teep_bench_load_t *load;
    teep_bench_idle_t *ramp;
};

static void on_message(teep_ws_client_t *ws, bool binary, teep_buf_t *msg)
{
    agent_t *a = ws->data;
    if (!a->pending)
        return; /* a push (check-in): the bench runs no policy check */
    a->pending = false;
    a->f->outcome(a->f, a, binary && msg != NULL);
}

static void on_close(teep_ws_client_t *ws, int code, const char *reason)
{
    (void)code;
    (void)reason;
    agent_t *a = ws->data;
    bool was_pending = a->pending;
    a->connecting = false;
    a->pending = false;
    a->f->gone(a->f, a, was_pending);
}

static const teep_ws_client_cbs_t cbs = {
    .on_message = on_message,
    .on_close = on_close,
};

static int fleet_open(fleet_t *f, uv_loop_t *loop, const char *url,
                      const uint8_t *body, size_t body_len, unsigned n,
                      unsigned sources)
{
    teep_ws_url_t u;
    if (url == NULL || teep_ws_url_parse(url, &u) != 0 ||
        strchr(url, '?') != NULL)
        return -EINVAL; /* the device name is the bench's query */
    const teep_ws_client_config_t cfg = {.rx_buffer_size = 2048};
    f->agents = calloc(n, sizeof(*f->agents));
    if (f->agents == NULL)
        return -ENOMEM;
    int rc = teep_ws_client_ctx_new(loop, &cfg, &f->ctx);
    if (rc < 0) {
        free(f->agents);
        return rc;
    }
    f->loop = loop;
    f->url = url;
    f->body = body;
    f->body_len = body_len;
    f->n = n;
    f->sources = sources;
    uv_timer_init(loop, &f->timer);
    f->timer.data = f;
    return 0;
}

/* Agent i connects (the connection is made on the loop, later), from
 * 127.0.0.(2 + i % sources) when sources is set: one source address has
 * about 28 000 ports towards the target, the broker takes at most
 * max_connections_per_peer connections from one address, and devices
 * have an address each. */
static int agent_connect(fleet_t *f, unsigned i)
{
    agent_t *a = &f->agents[i];
    char url[600], local[24];
    snprintf(url, sizeof(url), "%s?" TEEP_WS_DEVICE_ARG "=bench-%u", f->url, i);
    unsigned src = f->sources > 0 ? 2 + i % f->sources : 0;
    snprintf(local, sizeof(local), "127.0.%u.%u", src >> 8, src & 0xff);
    a->f = f;
    a->index = i;
    a->ws.data = a;
    a->ws.cbs = &cbs;
    int rc = teep_ws_client_connect_from(f->ctx, &a->ws, url,
                                         f->sources > 0 ? local : NULL);
    if (rc == 0)
        a->connecting = true;
    return rc;
}

/* Queued until the connection is open when it is not yet. */
static int agent_send(fleet_t *f, unsigned i)
{
    agent_t *a = &f->agents[i];
    if (!a->connecting)
        return -ENOTCONN;
    int rc = teep_ws_client_send(&a->ws, true, f->body, f->body_len, 0);
    if (rc == 0)
        a->pending = true;
    return rc;
}

static void timer_closed(uv_handle_t *h)
{
    fleet_t *f = h->data;
    free(f->agents);
    free(f);
}

static void ctx_freed(void *arg)
{
    fleet_t *f = arg;
    uv_close((uv_handle_t *)&f->timer, timer_closed);
}

static void fleet_close(void *state)
{
    fleet_t *f = state;
    /* Every connection gets a close frame and its on_close first. */
    teep_ws_client_ctx_free(f->ctx, ctx_freed, f);
}

/* ------------------------------------------------------------ load */

static void load_outcome(fleet_t *f, agent_t *a, bool ok)
{
    teep_bench_load_done(f->load, a->index, ok);
}

static void load_gone(fleet_t *f, agent_t *a, bool was_pending)
{
    teep_bench_load_lost(f->load, a->index);
    if (was_pending)
        teep_bench_load_done(f->load, a->index, false);
}

static int load_open(teep_bench_load_t *l, uv_loop_t *loop,
                     const teep_bench_load_opts_t *o, void **state)
{
    fleet_t *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -ENOMEM;
    int rc = fleet_open(f, loop, o->url, o->body, o->body_len, o->connections,
                        o->sources);
    if (rc < 0) {
        free(f);
        return rc;
    }
    f->outcome = load_outcome;
    f->gone = load_gone;
    f->load = l;
    for (unsigned i = 0; i < o->connections && rc == 0; i++)
        rc = agent_connect(f, i);
    if (rc < 0) {
        fleet_close(f);
        return rc;
    }
    *state = f;
    return 0;
}

static int load_send(void *state, unsigned i)
{
    return agent_send(state, i);
}

const teep_bench_agents_ops_t teep_bench_ws_agents = {
    .transport = "ws",
    .open = load_open,
    .send = load_send,
    .close = fleet_close,
};

/* ------------------------------------------------------------ idle */

static void idle_outcome(fleet_t *f, agent_t *a, bool ok)
{
    if (ok && !a->idle) {
        a->idle = true;
        teep_bench_idle_ready(f->ramp);
    } else if (!ok) {
        teep_ws_client_close(&a->ws, TEEP_WS_CLOSE_NORMAL);
    }
}

/* A connection that ended: the agent failed, idle or not. */
static void idle_gone(fleet_t *f, agent_t *a, bool was_pending)
{
    (void)was_pending;
    teep_bench_idle_failed(f->ramp, a->idle, -ECONNRESET);
    a->idle = false;
}

static int idle_open(teep_bench_idle_t *r, uv_loop_t *loop,
                     const teep_bench_idle_opts_t *o, unsigned most,
                     void **state)
{
    fleet_t *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -ENOMEM;
    int rc =
        fleet_open(f, loop, o->url, o->body, o->body_len, most, o->sources);
    if (rc < 0) {
        free(f);
        return rc;
    }
    f->outcome = idle_outcome;
    f->gone = idle_gone;
    f->ramp = r;
    *state = f;
    return 0;
}

static int idle_start(void *state, unsigned i)
{
    int rc = agent_connect(state, i);
    return rc == 0 ? agent_send(state, i) : rc;
}

const teep_bench_idle_ops_t teep_bench_ws_idle = {
    .transport = "ws",
    .open = idle_open,
    .start = idle_start,
    .close = fleet_close,
};
