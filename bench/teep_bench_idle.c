/*
 * teep_bench_idle.c: the idle-connection ramp, whatever the transport.
 * Agents start in batches; each does one TEEP exchange (so the target
 * has parsed a request and answered on it, as it will have for a real
 * device between policy checks), then stays connected and silent.  At
 * each step the target's VmRSS is read: the growth divided by the agents
 * is what one idle agent costs it.
 *
 * The agents are the transport's (teep_bench_idle_ops_t): raw TCP for
 * HTTP (teep_bench_idle_http.c), libcoap sessions, WebSocket clients.
 * The ramp keeps at most --batch (default CONNECTING_MAX) of them between
 * start and answer: a burst of thousands of connects or CON requests at
 * once is a flood, not what devices checking in do; and what the target
 * allocated for the exchanges in flight stays in its RSS (the allocator
 * keeps it), so a smaller batch measures more nearly what an idle agent
 * keeps rather than the high-water mark of many exchanges at once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "teep_bench.h"

#define CONNECTING_MAX 256 /* started, not answered yet: the default */

struct teep_bench_idle {
    const teep_bench_idle_ops_t *ops;
    const teep_bench_idle_opts_t *o;
    void *state;
    uv_loop_t loop;
    unsigned target; /* agents wanted at this step */
    unsigned started;
    unsigned in_flight; /* started, not answered */
    unsigned idle;
    unsigned failed;
    int last_error;
    uv_timer_t settle;
    uv_timer_t kick; /* starts more out of the transport's callbacks */
    bool settling;
    bool closing;
};

static void start_more(teep_bench_idle_t *r)
{
    unsigned batch = r->o->batch > 0 ? r->o->batch : CONNECTING_MAX;
    while (r->started < r->target && r->in_flight < batch) {
        int rc = r->ops->start(r->state, r->started);
        r->started++;
        if (rc < 0) {
            r->failed++;
            r->last_error = rc;
            continue;
        }
        r->in_flight++;
    }
    if (r->started >= r->target && r->in_flight == 0 && !r->settling)
        uv_stop(&r->loop);
}

static void on_kick(uv_timer_t *t)
{
    start_more(t->data);
}

void teep_bench_idle_ready(teep_bench_idle_t *r)
{
    if (r->closing)
        return;
    r->in_flight--;
    r->idle++;
    uv_timer_start(&r->kick, on_kick, 0, 0);
}

void teep_bench_idle_failed(teep_bench_idle_t *r, bool was_idle, int err)
{
    if (r->closing)
        return;
    if (was_idle)
        r->idle--;
    else
        r->in_flight--;
    r->failed++;
    r->last_error = err;
    uv_timer_start(&r->kick, on_kick, 0, 0);
}

static void on_settled(uv_timer_t *t)
{
    uv_stop(t->loop);
}

/* Runs the loop until every agent of the step is idle or failed, then
 * for the settle time (the target frees what the exchanges used). */
static void run_step(teep_bench_idle_t *r, unsigned want)
{
    r->target = want;
    r->settling = false;
    start_more(r);
    if (r->in_flight > 0)
        uv_run(&r->loop, UV_RUN_DEFAULT);
    r->settling = true;
    uv_timer_start(&r->settle, on_settled, (uint64_t)(r->o->settle * 1000), 0);
    uv_run(&r->loop, UV_RUN_DEFAULT);
}

static json_t *step_json(const teep_bench_idle_t *r, unsigned want, long rss0,
                         double took)
{
    long rss = teep_bench_proc_rss_kb(r->o->pid);
    json_t *s = json_object();
    json_object_set_new(s, "agents_wanted", json_integer(want));
    json_object_set_new(s, "agents_idle", json_integer(r->idle));
    json_object_set_new(s, "failed", json_integer(r->failed));
    json_object_set_new(s, "seconds", json_real(took));
    json_object_set_new(s, "rss_kb", json_integer(rss));
    if (r->idle > 0 && rss >= 0 && rss0 >= 0)
        json_object_set_new(
            s, "bytes_per_idle_agent",
            json_integer((json_int_t)(rss - rss0) * 1024 / r->idle));
    if (r->failed > 0)
        json_object_set_new(s, "last_error",
                            json_string(uv_strerror(r->last_error)));
    fprintf(stderr,
            "teep-bench idle (%s): %u/%u agents idle, %u failed, rss %ld kB\n",
            r->ops->transport, r->idle, want, r->failed, rss);
    return s;
}

json_t *teep_bench_idle_run(const teep_bench_idle_ops_t *ops,
                            const teep_bench_idle_opts_t *o)
{
    unsigned most = o->nsteps > 0 ? o->steps[o->nsteps - 1] : 0;
    teep_bench_idle_t *r = calloc(1, sizeof(*r));
    if (r == NULL || most == 0 || uv_loop_init(&r->loop) < 0) {
        free(r);
        return NULL;
    }
    r->ops = ops;
    r->o = o;
    int rc = ops->open(r, &r->loop, o, most, &r->state);
    if (rc < 0) {
        fprintf(stderr, "teep-bench idle: %s agents: %s\n", ops->transport,
                uv_strerror(rc));
        uv_run(&r->loop, UV_RUN_DEFAULT);
        uv_loop_close(&r->loop);
        free(r);
        return NULL;
    }
    uv_timer_init(&r->loop, &r->settle);
    uv_timer_init(&r->loop, &r->kick);
    r->kick.data = r;

    json_t *out = json_object();
    json_t *steps = json_array();
    long rss0 = teep_bench_proc_rss_kb(o->pid);
    json_object_set_new(out, "transport", json_string(ops->transport));
    json_object_set_new(out, "rss_kb_before", json_integer(rss0));
    json_object_set_new(out, "sources", json_integer(o->sources));
    for (size_t i = 0; i < o->nsteps; i++) {
        uint64_t t0 = uv_hrtime();
        run_step(r, o->steps[i]);
        json_array_append_new(
            steps,
            step_json(r, o->steps[i], rss0, (double)(uv_hrtime() - t0) / 1e9));
        /* A step that lost a tenth of its agents says why; the next
         * ones would only fail the same way. */
        if (r->failed * 10 > o->steps[i])
            break;
    }
    json_object_set_new(out, "steps", steps);
    r->closing = true;
    uv_close((uv_handle_t *)&r->settle, NULL);
    uv_close((uv_handle_t *)&r->kick, NULL);
    ops->close(r->state);
    uv_run(&r->loop, UV_RUN_DEFAULT);
    uv_loop_close(&r->loop);
    free(r);
    return out;
}
