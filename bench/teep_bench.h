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
    const char *transport; /* "http" */
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

/* Options of an HTTP load run (teep_bench_http.c). */
typedef struct {
    const char *url; /* http://HOST:PORT/PATH, borrowed */
    const uint8_t *body;
    size_t body_len;
    unsigned connections; /* agents (keep-alive connections) */
    double seconds;
    double warmup;
    double rate; /* 0: closed loop */
    int pid;     /* process whose CPU and RSS are sampled, 0: none */
} teep_bench_http_opts_t;

/* Runs one HTTP load run on a fresh loop and fills out.  Returns 0, or
 * a negative errno-style code when the URL or the options are wrong. */
int teep_bench_http_run(const teep_bench_http_opts_t *o, teep_bench_run_t *out);

/* Options of an idle-connection ramp (teep_bench_idle.c). */
typedef struct {
    const char *host; /* IPv4 address of the target */
    unsigned port;
    const char *path;
    const uint8_t *body;
    size_t body_len;
    const unsigned *steps; /* ascending agent counts, borrowed */
    size_t nsteps;
    unsigned sources; /* source addresses 127.0.0.2 .. 127.0.0.(1+n) */
    int pid;          /* the target process whose RSS is read */
    double settle;    /* seconds to wait at each step before reading */
} teep_bench_idle_opts_t;

/* Connects agents step by step; each does one exchange, then stays
 * connected and silent.  Returns a JSON object (the caller owns it):
 * the RSS before the first agent and at each step, and the bytes per
 * idle agent; a step that could not be reached says why. */
json_t *teep_bench_idle_run(const teep_bench_idle_opts_t *o);

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
