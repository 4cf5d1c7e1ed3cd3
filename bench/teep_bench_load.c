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
 *     Only what overflows the queue is "late" (never sent).  Each
 *     exchange leaves at its own due time: a timerfd (CLOCK_MONOTONIC,
 *     absolute) on the loop is armed to the next one, to the nanosecond,
 *     and when it fires every exchange whose time has come is sent.
 *     libuv's own timers tick in milliseconds, which sent a millisecond's
 *     exchanges together, a burst queued behind itself in every figure.
 *     The generator sleeps in epoll between exchanges: no core spins.
 *
 * The transport (teep_bench_agents_ops_t) only sends and reports; the
 * run ends when its time is up and the exchanges out have ended (or
 * after a grace period), then the transport closes its agents.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

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
    double interval;  /* open loop: ns between two exchanges */
    int pace_fd;      /* open loop: timerfd armed to the next due time */
    uv_poll_t pace;   /* open loop: pace_fd on the loop */
    uv_timer_t end;   /* closed loop: the end of the run */
    uv_timer_t close; /* the close, out of the transport's callbacks */
    bool stopping;
    bool closed;
};

/* Every time of the driver is CLOCK_MONOTONIC, the timerfd's clock, so
 * that due times can be armed as they are. */
static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

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
    uv_close((uv_handle_t *)&l->end, NULL);
    if (l->pace_fd >= 0)
        uv_close((uv_handle_t *)&l->pace, NULL);
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
        uv_timer_stop(&l->end);
        if (l->pace_fd >= 0)
            uv_poll_stop(&l->pace);
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
    uint64_t now = now_ns();
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

/* Open loop: when the n-th exchange falls due (as a double, as the rate
 * is: the due times do not drift by rounding). */
static uint64_t due_time(const teep_bench_load_t *l, uint64_t n)
{
    return l->start_ns + (uint64_t)((double)n * l->interval);
}

/* Open loop: pace_fd fires at the earliest due time not yet handed out,
 * or at the end of the run if that comes first (absolute, so a late
 * wake-up does not shift the ones after it). */
static int arm_pace(teep_bench_load_t *l)
{
    uint64_t at = due_time(l, l->scheduled);
    if (at > l->end_ns)
        at = l->end_ns;
    struct itimerspec its = {
        .it_value = {.tv_sec = (time_t)(at / 1000000000u),
                     .tv_nsec = (long)(at % 1000000000u)},
    };
    return timerfd_settime(l->pace_fd, TFD_TIMER_ABSTIME, &its, NULL) < 0
               ? -errno
               : 0;
}

/* Open loop: hands out every exchange whose time has come, each with
 * the time it fell due, then sleeps until the next one.  pace_fd's
 * expiration count is not read: re-arming it resets the count, which
 * is what makes it readable (timerfd_create(2)), so a read would only
 * cost a system call per wake-up. */
static void on_pace(uv_poll_t *p, int status, int events)
{
    (void)status;
    (void)events;
    teep_bench_load_t *l = p->data;
    uint64_t now = now_ns();
    sample_cpu_start(l, now);
    if (now >= l->end_ns) {
        finish(l);
        return;
    }
    for (;;) {
        uint64_t due = due_time(l, l->scheduled);
        if (l->stopping || due > now || due >= l->end_ns)
            break;
        exchange_due(l, due);
        l->scheduled++;
        now = now_ns(); /* sending took time: more may be due now */
    }
    if (!l->stopping && arm_pace(l) < 0) {
        l->out->errors++; /* cannot happen with a valid time */
        finish(l);
    }
}

/* Closed loop: the end of the run (the open loop's pace_fd ends it). */
static void on_end(uv_timer_t *t)
{
    teep_bench_load_t *l = t->data;
    sample_cpu_start(l, now_ns());
    finish(l);
}

/* Open loop: pace_fd on the loop, armed to the first exchange (due at
 * the start).  Returns 0 or -errno. */
static int pace_start(teep_bench_load_t *l)
{
    l->interval = 1e9 / l->o->rate;
    l->pace_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (l->pace_fd < 0)
        return -errno;
    int rc = uv_poll_init(&l->loop, &l->pace, l->pace_fd);
    if (rc < 0) {
        close(l->pace_fd);
        l->pace_fd = -1;
        return rc;
    }
    l->pace.data = l;
    rc = arm_pace(l);
    if (rc == 0)
        rc = uv_poll_start(&l->pace, UV_READABLE, on_pace);
    return rc;
}

static void load_free(teep_bench_load_t *l)
{
    if (l->pace_fd >= 0)
        close(l->pace_fd); /* its uv_poll_t was closed on the loop */
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
    l->pace_fd = -1;
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
    uv_timer_init(&l->loop, &l->end);
    uv_timer_init(&l->loop, &l->close);
    l->end.data = l->close.data = l;
    uv_update_time(&l->loop); /* the end timer counts from now */
    l->start_ns = now_ns();
    l->measure_ns = l->start_ns + (uint64_t)(o->warmup * 1e9);
    l->end_ns = l->measure_ns + (uint64_t)(o->seconds * 1e9);
    if (o->rate > 0) {
        rc = pace_start(l);
        if (rc < 0) {
            l->stopping = true; /* nothing sent: the agents just close */
            uv_timer_start(&l->close, on_close_timer, 0, 0);
        }
    } else {
        while (l->nidle > 0)
            send_from(l, l->idle[--l->nidle], l->start_ns);
        uv_timer_start(&l->end, on_end,
                       (uint64_t)((o->seconds + o->warmup) * 1000) + 1, 0);
    }
    uv_run(&l->loop, UV_RUN_DEFAULT);
    double span = (double)(l->last_ns - l->first_ns) / 1e9;
    out->rate = span > 0 ? (double)l->measured / span : 0.0;
    uv_loop_close(&l->loop);
    load_free(l);
    return rc;
}
