/*
 * teep-bench: the load harness (docs/bench.md).  One libuv loop drives
 * every simulated agent; each agent is a small state machine, never a
 * thread or a process.  This header is private to bench/.
 */
#ifndef TEEP_BENCH_H
#define TEEP_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

/* A log-linear histogram in the manner of HdrHistogram: values below
 * 128 are exact, above that each power of two is cut into 64 buckets,
 * so a quantile is within 1.6 % of the true value from 1 ns to ~18 min.
 * The caller allocates it (it is a plain struct, no heap). */
#define TEEP_BENCH_HIST_SUB    128
#define TEEP_BENCH_HIST_HALF   64
#define TEEP_BENCH_HIST_SHIFTS 34
#define TEEP_BENCH_HIST_BUCKETS                                                \
    (TEEP_BENCH_HIST_SUB + TEEP_BENCH_HIST_HALF * TEEP_BENCH_HIST_SHIFTS)

typedef struct {
    uint64_t count;
    uint64_t max;
    uint64_t buckets[TEEP_BENCH_HIST_BUCKETS];
} teep_bench_hist_t;

/* Clears h. */
void teep_bench_hist_reset(teep_bench_hist_t *h);
/* Counts one value (any unit; the bench records nanoseconds). */
void teep_bench_hist_record(teep_bench_hist_t *h, uint64_t value);
/* The value below which a fraction q (0..1) of the counted values lie:
 * the middle of its bucket, the exact maximum for q = 1, 0 when empty. */
uint64_t teep_bench_hist_quantile(const teep_bench_hist_t *h, double q);

/* What one load run measured, whatever the transport. */
typedef struct {
    const char *target;    /* a label for the JSON, borrowed */
    const char *transport; /* "http", "coap" or "ws" */
    const char *model;     /* "closed" or "open" */
    unsigned connections;
    double offered_rate; /* open loop: exchanges/s asked; 0 closed */
    double seconds;
    double rate; /* exchanges/s achieved in the measured window */
    uint64_t ok;
    uint64_t errors;
    uint64_t late; /* open loop: exchanges never sent (no free agent) */
    teep_bench_hist_t hist; /* exchange latency, ns */
    double cpu_s;           /* CPU seconds of --pid in the window */
    long rss_kb;            /* VmRSS of --pid at the end */
} teep_bench_run_t;

/* Options of a load run, whatever the transport (the name is the one
 * the HTTP agents had first). */
typedef struct {
    const char *url; /* http://, coap:// or ws:// HOST:PORT/PATH, borrowed */
    const uint8_t *body;
    size_t body_len;
    unsigned connections; /* agents (keep-alive connections, CoAP
                             sessions, WebSocket connections) */
    double seconds;
    double warmup;
    double rate;      /* 0: closed loop */
    int pid;          /* process whose CPU and RSS are sampled, 0: none */
    unsigned sources; /* CoAP, WS: sessions / connections from
                         127.0.0.2 .. 127.0.0.(1+n); 0: from 127.0.0.1
                         (HTTP: always) */
    bool coap_get;    /* CoAP: GET carrying the body, answered by 2.05
                         (a static server's resource, the CoAP baseline);
                         false: POST answered by 2.04, as the broker */
} teep_bench_http_opts_t;
typedef teep_bench_http_opts_t teep_bench_load_opts_t;

/*
 * Agents that hold one connection (or CoAP session) each, with at most
 * one exchange outstanding on it, as a device does: the HTTP, CoAP and
 * WebSocket agents.  teep_bench_load.c runs them (closed and open loop,
 * warm-up, histogram, CPU and RSS of the target) alike; a transport only
 * sends and reports.
 */
typedef struct teep_bench_load teep_bench_load_t;

typedef struct teep_bench_agents_ops {
    const char *transport; /* "http", "coap", "ws" */
    /* Makes o->connections agents on loop (connecting may go on in the
     * background); *state is the transport's.  Returns 0 or -errno. */
    int (*open)(teep_bench_load_t *l, uv_loop_t *loop,
                const teep_bench_load_opts_t *o, void **state);
    /* Sends one exchange (o->body) from agent i, which has none
     * outstanding; the outcome comes back through teep_bench_load_done.
     * Returns 0, or -errno when it could not be sent (then no report). */
    int (*send)(void *state, unsigned i);
    /* Closes every agent; every handle of the transport is closed on the
     * loop afterwards, so that the loop runs out.  Never called from
     * inside one of the transport's own callbacks. */
    void (*close)(void *state);
} teep_bench_agents_ops_t;

/* Agent i's exchange ended: answered with the TAM's next message (ok)
 * or not.  The agent may be handed its next exchange at once, from
 * inside this call. */
void teep_bench_load_done(teep_bench_load_t *l, unsigned i, bool ok);
/* Agent i can send no more (its connection ended).  Call it before
 * reporting its pending exchange, if any, done (not ok). */
void teep_bench_load_lost(teep_bench_load_t *l, unsigned i);

/* Runs one load run of ops' agents on a fresh loop and fills out.
 * Returns 0, or -EINVAL (bad options), or what ops->open returned. */
int teep_bench_load_run(const teep_bench_agents_ops_t *ops,
                        const teep_bench_load_opts_t *o, teep_bench_run_t *out);

extern const teep_bench_agents_ops_t teep_bench_http_agents; /* http:// */
extern const teep_bench_agents_ops_t teep_bench_coap_agents; /* coap:// */
extern const teep_bench_agents_ops_t teep_bench_ws_agents;   /* ws:// */

/* Options of an idle-connection ramp (teep_bench_idle.c). */
typedef struct {
    const char *url;  /* the target, borrowed */
    const char *host; /* its IPv4 address (from url) */
    unsigned port;
    const char *path; /* without the leading '/' */
    const uint8_t *body;
    size_t body_len;
    const unsigned *steps; /* ascending agent counts, borrowed */
    size_t nsteps;
    unsigned sources; /* HTTP, CoAP, WS: from 127.0.0.2 .. 127.0.0.(1+n) */
    int pid;          /* the target process whose RSS is read */
    double settle;    /* seconds to wait at each step before reading */
    unsigned batch;   /* agents between start and answer at once; 0: 256 */
} teep_bench_idle_opts_t;

/*
 * Idle agents of one transport, for the ramp: each connects (or opens
 * its CoAP session), does one exchange, then stays connected and
 * silent.  The ramp (teep_bench_idle.c) decides how many and when.
 */
typedef struct teep_bench_idle teep_bench_idle_t;

typedef struct teep_bench_idle_ops {
    const char *transport; /* "http", "coap", "ws" */
    /* Makes room for most agents on loop.  Returns 0 or -errno. */
    int (*open)(teep_bench_idle_t *r, uv_loop_t *loop,
                const teep_bench_idle_opts_t *o, unsigned most, void **state);
    /* Starts agent i (i < most, each once).  Returns 0 (the outcome
     * comes through teep_bench_idle_ready or _failed) or -errno (the
     * agent failed at once, nothing reported). */
    int (*start)(void *state, unsigned i);
    /* Closes every agent and handle; the loop then runs out.  Never from
     * inside one of the transport's callbacks. */
    void (*close)(void *state);
} teep_bench_idle_ops_t;

/* The agent's exchange was answered: it is idle now. */
void teep_bench_idle_ready(teep_bench_idle_t *r);
/* The agent failed (err: a negative errno or libuv code); was_idle says
 * whether it had been reported ready. */
void teep_bench_idle_failed(teep_bench_idle_t *r, bool was_idle, int err);

extern const teep_bench_idle_ops_t teep_bench_http_idle; /* http:// */
extern const teep_bench_idle_ops_t teep_bench_coap_idle; /* coap:// */
extern const teep_bench_idle_ops_t teep_bench_ws_idle;   /* ws:// */

/* Connects ops' agents step by step; each does one exchange, then stays
 * connected and silent.  Returns a JSON object (the caller owns it):
 * the RSS before the first agent and at each step, and the bytes per
 * idle agent; a step that could not be reached says why. */
json_t *teep_bench_idle_run(const teep_bench_idle_ops_t *ops,
                            const teep_bench_idle_opts_t *o);

/* CPU seconds (user + system) and VmRSS (kB) of a process, from /proc;
 * -1 when it cannot be read. */
double teep_bench_proc_cpu(int pid);
long teep_bench_proc_rss_kb(int pid);

/* The run as a JSON object (the caller owns it). */
json_t *teep_bench_run_json(const teep_bench_run_t *r);
/* Adds "tool", "date" (UTC) and "machine" to o, writes it to path
 * ("-": stdout) and drops the reference.  Returns 0 or -errno. */
int teep_bench_json_write(json_t *o, const char *path);

#endif
