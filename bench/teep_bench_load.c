/*
 * teep_bench_load.c: the load run of agents that are connections (HTTP
 * keep-alive connections, CoAP sessions, WebSocket connections, the e2e
 * devices), each with at most one exchange outstanding, as a device has:
 *
 *   closed loop: an agent sends its next exchange as soon as the last
 *     one ended;
 *   open loop: exchanges fall due at a fixed rate; one due while every
 *     agent is busy waits in a queue for the first agent free, and its
 *     latency counts from when it was due (no coordinated omission).
 *     Only what overflows the queue is "late" (never sent).  libuv's
 *     timer ticks each millisecond, so the exchanges due within one tick
 *     leave together: up to 1 ms of each figure is the generator's, for
 *     every target alike.
 *
 * The transport (teep_bench_agents_ops_t) only sends and reports; the
 * run ends when its time is up and the exchanges out have ended (or
 * after a grace period), then the transport closes its agents.
 */
#include <errno.h>
#include <stdlib.h>

#include "teep_bench.h"

#define QUEUE_MAX 65536 /* open loop: exchanges due, waiting for an agent */
#define GRACE_MS  3000  /* after the end: for the exchanges still out */

struct teep_bench_load {
    const teep_bench_agents_ops_t *ops;
    const teep_bench_load_opts_t *o;
    teep_bench_run_t *out;
    void *state;
    uv_loop_t loop;
    uint64_t start_ns;
    uint64_t measure_ns; /* the warm-up ends */
    uint64_t end_ns;
    uint64_t scheduled; /* open loop: exchanges due so far */
    uint64_t outstanding;
    uint64_t measured;
    uint64_t first_ns;
    uint64_t last_ns;
    double cpu_start;
    bool cpu_sampled;
    uint64_t *due;  /* per agent: when its exchange fell due */
    bool *lost;     /* per agent: can send no more */
    unsigned *idle; /* a stack of the agents free to send */
    unsigned nidle;
    unsigned alive;
    uint64_t *queue; /* open loop: ring of due times */
    size_t qhead, qlen;
    uv_timer_t tick;  /* open loop: each ms; closed: the end */
    uv_timer_t close; /* the close, out of the transport's callbacks */
    bool stopping;
    bool closed;
};

static void sample_cpu_start(teep_bench_load_t *l, uint64_t now)
{
    if (!l->cpu_sampled && now >= l->measure_ns) {
        l->cpu_sampled = true;
        l->cpu_start = teep_bench_proc_cpu(l->o->pid);
    }
}

static void on_close_timer(uv_timer_t *t)
{
    teep_bench_load_t *l = t->data;
    if (l->closed)
        return;
    l->closed = true;
    uv_close((uv_handle_t *)&l->tick, NULL);
    uv_close((uv_handle_t *)&l->close, NULL);
    l->ops->close(l->state);
}

/* The run is over: no new exchange; the agents close once none is out,
 * or after GRACE_MS (a target that stopped answering). */
static void finish(teep_bench_load_t *l)
{
    if (l->closed)
        return; /* the agents' own ends, reported while closing */
    if (!l->stopping) {
        l->stopping = true;
        double cpu = teep_bench_proc_cpu(l->o->pid);
        l->out->cpu_s = l->cpu_sampled && cpu >= 0 ? cpu - l->cpu_start : -1;
        l->out->rss_kb = teep_bench_proc_rss_kb(l->o->pid);
        uv_timer_stop(&l->tick);
        uv_timer_start(&l->close, on_close_timer, GRACE_MS, 0);
    }
    if (l->outstanding == 0)
        uv_timer_start(&l->close, on_close_timer, 0, 0);
}

static void mark_lost(teep_bench_load_t *l, unsigned i)
{
    if (l->lost[i])
        return;
    l->lost[i] = true;
    l->alive--;
    if (l->alive == 0 && !l->stopping)
        finish(l); /* nobody left to send */
}

/* Agent i sends the exchange that fell due at due_ns. */
static void send_from(teep_bench_load_t *l, unsigned i, uint64_t due_ns)
{
    l->due[i] = due_ns;
    if (l->lost[i] || l->ops->send(l->state, i) < 0) {
        /* An agent that cannot send is lost: it would only fail again
         * at once. */
        l->out->errors++;
        mark_lost(l, i);
        return;
    }
    l->outstanding++;
}

/* An exchange fell due at due_ns: the first free agent sends it, or it
 * waits in the queue. */
static void exchange_due(teep_bench_load_t *l, uint64_t due_ns)
{
    if (l->nidle > 0) {
        send_from(l, l->idle[--l->nidle], due_ns);
        return;
    }
    if (l->qlen == QUEUE_MAX) {
        l->out->late++;
        return;
    }
    l->queue[(l->qhead + l->qlen++) % QUEUE_MAX] = due_ns;
}

void teep_bench_load_done(teep_bench_load_t *l, unsigned i, bool ok)
{
    uint64_t now = uv_hrtime();
    l->outstanding--;
    sample_cpu_start(l, now);
    if (ok) {
        l->out->ok++;
        if (l->due[i] >= l->measure_ns && now <= l->end_ns) {
            teep_bench_hist_record(&l->out->hist, now - l->due[i]);
            if (l->measured++ == 0)
                l->first_ns = now;
            l->last_ns = now;
        }
    } else {
        l->out->errors++;
    }
    if (now >= l->end_ns || l->stopping) {
        finish(l);
        return;
    }
    if (l->lost[i])
        return;
    if (l->o->rate == 0) {
        send_from(l, i, now);
    } else if (l->qlen > 0) {
        uint64_t due = l->queue[l->qhead];
        l->qhead = (l->qhead + 1) % QUEUE_MAX;
        l->qlen--;
        send_from(l, i, due);
    } else {
        l->idle[l->nidle++] = i;
    }
}

void teep_bench_load_lost(teep_bench_load_t *l, unsigned i)
{
    for (unsigned k = 0; k < l->nidle; k++) {
        if (l->idle[k] == i) {
            l->idle[k] = l->idle[--l->nidle];
            break;
        }
    }
    mark_lost(l, i);
}

/* Open loop: each tick hands out what has fallen due since the start,
 * each with the time it fell due.  Closed loop: the end of the run. */
static void on_tick(uv_timer_t *t)
{
    teep_bench_load_t *l = t->data;
    uint64_t now = uv_hrtime();
    sample_cpu_start(l, now);
    if (now >= l->end_ns || l->o->rate == 0) {
        finish(l);
        return;
    }
    double interval = 1e9 / l->o->rate;
    uint64_t due = (uint64_t)((double)(now - l->start_ns) / interval);
    while (l->scheduled < due) {
        exchange_due(l,
                     l->start_ns + (uint64_t)((double)l->scheduled * interval));
        l->scheduled++;
    }
}

static void load_free(teep_bench_load_t *l)
{
    free(l->due);
    free(l->lost);
    free(l->idle);
    free(l->queue);
    free(l);
}

int teep_bench_load_run(const teep_bench_agents_ops_t *ops,
                        const teep_bench_load_opts_t *o, teep_bench_run_t *out)
{
    if (o->url == NULL || o->connections == 0 || o->connections > 65536 ||
        o->seconds <= 0 || o->warmup < 0 || o->rate < 0)
        return -EINVAL;
    teep_bench_load_t *l = calloc(1, sizeof(*l));
    if (l == NULL)
        return -ENOMEM;
    l->due = calloc(o->connections, sizeof(*l->due));
    l->idle = calloc(o->connections, sizeof(*l->idle));
    l->lost = calloc(o->connections, sizeof(*l->lost));
    l->queue = o->rate > 0 ? calloc(QUEUE_MAX, sizeof(*l->queue)) : NULL;
    if (l->due == NULL || l->idle == NULL || l->lost == NULL ||
        (o->rate > 0 && l->queue == NULL) || uv_loop_init(&l->loop) < 0) {
        load_free(l);
        return -ENOMEM;
    }
    l->ops = ops;
    l->o = o;
    l->out = out;
    out->transport = ops->transport;
    out->model = o->rate > 0 ? "open" : "closed";
    out->connections = o->connections;
    out->offered_rate = o->rate;
    out->seconds = o->seconds;
    int rc = ops->open(l, &l->loop, o, &l->state);
    if (rc < 0) {
        uv_run(&l->loop, UV_RUN_DEFAULT); /* what open closed again */
        uv_loop_close(&l->loop);
        load_free(l);
        return rc;
    }
    for (unsigned i = o->connections; i > 0; i--)
        l->idle[l->nidle++] = i - 1;
    l->alive = o->connections;
    uv_timer_init(&l->loop, &l->tick);
    uv_timer_init(&l->loop, &l->close);
    l->tick.data = l->close.data = l;
    l->start_ns = uv_hrtime();
    l->measure_ns = l->start_ns + (uint64_t)(o->warmup * 1e9);
    l->end_ns = l->measure_ns + (uint64_t)(o->seconds * 1e9);
    if (o->rate > 0) {
        uv_timer_start(&l->tick, on_tick, 0, 1);
    } else {
        while (l->nidle > 0)
            send_from(l, l->idle[--l->nidle], l->start_ns);
        uv_timer_start(&l->tick, on_tick,
                       (uint64_t)((o->seconds + o->warmup) * 1000) + 1, 0);
    }
    uv_run(&l->loop, UV_RUN_DEFAULT);
    double span = (double)(l->last_ns - l->first_ns) / 1e9;
    out->rate = span > 0 ? (double)l->measured / span : 0.0;
    uv_loop_close(&l->loop);
    load_free(l);
    return 0;
}
