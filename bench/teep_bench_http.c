/*
 * teep_bench_http.c: HTTP agents.  Each agent is a request slot on
 * teepnet's keep-alive client pool (one connection per agent at most):
 *
 *   closed loop: every agent sends its next exchange as soon as the last
 *     one is answered: the rate a target sustains;
 *   open loop: exchanges are due at a fixed rate whatever the target
 *     does.  Latency counts from when an exchange was due, not when it
 *     left, so a target that falls behind shows its queueing delay
 *     (no coordinated omission).  libuv's timer ticks each millisecond,
 *     so the exchanges due within one tick leave together: up to 1 ms of
 *     each figure is the generator's, for every target alike.
 */
#include <errno.h>
#include <string.h>

#include "teep/http.h"
#include "teep_bench.h"

#define MAX_OUTSTANDING 65536

typedef struct load load_t;

typedef struct slot {
    teep_http_client_req_t req;
    load_t *l;
    uint64_t due_ns;
    struct slot *next;
} slot_t;

struct load {
    const teep_bench_http_opts_t *o;
    teep_bench_run_t *out;
    uv_loop_t loop;
    teep_http_client_t client;
    teep_buf_t *body;
    char *path;
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
    slot_t *free_slots;
    slot_t *slots;
    uv_timer_t tick;
    bool stopping;
};

static const teep_http_header_t headers[] = {
    TEEP_HTTP_HEADER("Accept", "application/teep+cbor"),
    TEEP_HTTP_HEADER("Content-Type", "application/teep+cbor"),
};

static void send_one(load_t *l, uint64_t due_ns);

/* The target's CPU is read when the warm-up ends and at the end. */
static void sample_cpu_start(load_t *l, uint64_t now)
{
    if (!l->cpu_sampled && now >= l->measure_ns) {
        l->cpu_sampled = true;
        l->cpu_start = teep_bench_proc_cpu(l->o->pid);
    }
}

static void record(load_t *l, uint64_t due_ns, uint64_t now)
{
    sample_cpu_start(l, now);
    if (due_ns < l->measure_ns || now > l->end_ns)
        return;
    teep_bench_hist_record(&l->out->hist, now - due_ns);
    if (l->measured++ == 0)
        l->first_ns = now;
    l->last_ns = now;
}

/* The run is over: no new exchange; the pool closes once none is out,
 * or at once when force (a target that stopped answering). */
static void finish(load_t *l, bool force)
{
    if (!l->stopping) {
        l->stopping = true;
        double cpu = teep_bench_proc_cpu(l->o->pid);
        l->out->cpu_s = l->cpu_sampled && cpu >= 0 ? cpu - l->cpu_start : -1;
        l->out->rss_kb = teep_bench_proc_rss_kb(l->o->pid);
        uv_timer_stop(&l->tick);
        uv_close((uv_handle_t *)&l->tick, NULL);
    }
    if (l->outstanding == 0 || force)
        teep_http_client_close(&l->client, NULL);
}

static void on_done(teep_http_client_req_t *req, int status,
                    const teep_http_response_t *resp)
{
    slot_t *s = req->data;
    load_t *l = s->l;
    uint64_t now = uv_hrtime();
    l->outstanding--;
    if (status == 0 && resp->status == 200) {
        l->out->ok++;
        record(l, s->due_ns, now);
    } else if (status != TEEP_HTTP_E_CANCELED) {
        l->out->errors++;
    }
    s->next = l->free_slots;
    l->free_slots = s;
    if (now >= l->end_ns || l->stopping) {
        finish(l, false);
        return;
    }
    if (l->o->rate == 0)
        send_one(l, now);
}

static void send_one(load_t *l, uint64_t due_ns)
{
    slot_t *s = l->free_slots;
    if (s == NULL) {
        l->out->late++;
        return;
    }
    l->free_slots = s->next;
    s->due_ns = due_ns;
    s->req.data = s;
    if (teep_http_client_request(&l->client, &s->req, "POST", l->path, headers,
                                 2, l->body, on_done) < 0) {
        l->out->errors++;
        s->next = l->free_slots;
        l->free_slots = s;
        return;
    }
    l->outstanding++;
}

/* Open loop: each tick sends what has become due since the start, each
 * with the time it was due.  Closed loop: the timer only ends a run
 * whose target hangs. */
static void on_tick(uv_timer_t *t)
{
    load_t *l = t->data;
    uint64_t now = uv_hrtime();
    sample_cpu_start(l, now);
    if (now >= l->end_ns || l->o->rate == 0) {
        finish(l, l->o->rate == 0);
        return;
    }
    double interval = 1e9 / l->o->rate;
    uint64_t due = (uint64_t)((double)(now - l->start_ns) / interval);
    while (l->scheduled < due) {
        send_one(l, l->start_ns + (uint64_t)((double)l->scheduled * interval));
        l->scheduled++;
    }
}

int teep_bench_http_run(const teep_bench_http_opts_t *o, teep_bench_run_t *out)
{
    teep_http_url_t u;
    if (o->url == NULL || o->connections == 0 || o->connections > 65536 ||
        o->seconds <= 0 || teep_http_url_parse(o->url, &u) < 0)
        return -EINVAL;
    load_t *l = calloc(1, sizeof(*l));
    if (l == NULL)
        return -ENOMEM;
    l->slots = calloc(MAX_OUTSTANDING, sizeof(*l->slots));
    l->path = strndup((const char *)u.path.ptr, u.path.len);
    l->body = teep_buf_copy(0, o->body, o->body_len);
    if (l->slots == NULL || l->path == NULL || l->body == NULL ||
        uv_loop_init(&l->loop) < 0) {
        free(l->slots);
        free(l->path);
        if (l->body != NULL)
            teep_buf_unref(l->body);
        free(l);
        return -ENOMEM;
    }
    /* Closed loop: one slot per agent.  Open loop: as many as may be
     * outstanding, the connections still capped at o->connections. */
    size_t nslots = o->rate > 0 ? MAX_OUTSTANDING : o->connections;
    for (size_t i = 0; i < nslots; i++) {
        l->slots[i].l = l;
        l->slots[i].next = l->free_slots;
        l->free_slots = &l->slots[i];
    }
    l->o = o;
    l->out = out;
    out->transport = "http";
    out->model = o->rate > 0 ? "open" : "closed";
    out->connections = o->connections;
    out->offered_rate = o->rate;
    out->seconds = o->seconds;
    teep_http_client_config_t cfg;
    teep_http_client_config_default(&cfg);
    cfg.max_connections = o->connections;
    cfg.max_pending = MAX_OUTSTANDING;
    teep_http_client_init(&l->client, &l->loop, o->url, &cfg);
    l->start_ns = uv_hrtime();
    l->measure_ns = l->start_ns + (uint64_t)(o->warmup * 1e9);
    l->end_ns = l->measure_ns + (uint64_t)(o->seconds * 1e9);
    uv_timer_init(&l->loop, &l->tick);
    l->tick.data = l;
    if (o->rate > 0) {
        uv_timer_start(&l->tick, on_tick, 0, 1);
    } else {
        for (unsigned i = 0; i < o->connections; i++)
            send_one(l, l->start_ns);
        uv_timer_start(&l->tick, on_tick,
                       (uint64_t)((o->seconds + o->warmup) * 1000) + 5000, 0);
    }
    uv_run(&l->loop, UV_RUN_DEFAULT);
    double span = (double)(l->last_ns - l->first_ns) / 1e9;
    out->rate = span > 0 ? (double)l->measured / span : 0.0;
    uv_loop_close(&l->loop);
    teep_buf_unref(l->body);
    free(l->path);
    free(l->slots);
    free(l);
    return 0;
}
