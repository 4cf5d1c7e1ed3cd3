/*
 * metrics.h: the broker's counters and their Prometheus text exposition.
 *
 * Counters are per worker (a shard) and written only by that worker's
 * thread; the admin thread reads them when /metrics is scraped and sums
 * the shards.  A counter is a C11 atomic so the cross-thread read is
 * defined, but the writer updates it with a relaxed load and store, not a
 * read-modify-write: with one writer nothing is lost, and on x86-64 both
 * are plain moves, with no lock prefix on the relay path.
 */
#ifndef TEEP_BROKER_METRICS_H
#define TEEP_BROKER_METRICS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "teep/transport_plugin.h"

typedef _Atomic uint64_t teep_broker_counter_t;

/* Single-writer add / set, and a reader's load. */
static inline void teep_broker_add(teep_broker_counter_t *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

static inline void teep_broker_set(teep_broker_counter_t *c, uint64_t v)
{
    atomic_store_explicit(c, v, memory_order_relaxed);
}

static inline uint64_t teep_broker_get(const teep_broker_counter_t *c)
{
    return atomic_load_explicit((teep_broker_counter_t *)c,
                                memory_order_relaxed);
}

/* What a body was, for labels: an empty body (a new session), one of the
 * five TEEP messages, or something peek could not name. */
enum {
    TEEP_BROKER_KIND_EMPTY = 0, /* 1..5: teep_msg_type_t */
    TEEP_BROKER_KIND_UNKNOWN = 6,
    TEEP_BROKER_KINDS = 7,
};

/* "empty", "query_request", ..., "unknown". */
const char *teep_broker_kind_name(unsigned kind);

/* How an exchange ended, for labels. */
enum {
    TEEP_BROKER_OUTCOME_MESSAGE = 0,
    TEEP_BROKER_OUTCOME_NO_CONTENT = 1,
    TEEP_BROKER_OUTCOME_FAILED = 2,
    TEEP_BROKER_OUTCOME_CANCELED = 3,
    TEEP_BROKER_OUTCOMES = 4,
};

/* Error kinds: the teep_exchange_error_t values, plus the agent going
 * away (counted apart: it is not the broker's failure). */
#define TEEP_BROKER_ERROR_KINDS TEEP_XERR_COUNT

/* "bad_message", "upstream_down", ... for a teep_exchange_error_t. */
const char *teep_broker_error_name(teep_exchange_error_t e);

/*
 * The latency histogram: fixed log-linear buckets, 1-2.5-5 per decade from
 * 10 us to 50 s.  Debian has no HDR histogram library for C, and the
 * relay needs only a constant-time record with no allocation and a
 * Prometheus exposition, which fixed buckets give; their resolution
 * (a factor of 2 to 2.5 per bucket) is what Prometheus histograms have in
 * any case.  The benchmark measures exact quantiles on the client side.
 */
#define TEEP_BROKER_HIST_BUCKETS 22 /* finite bounds; +Inf is one more */
extern const uint64_t teep_broker_hist_bounds_ns[TEEP_BROKER_HIST_BUCKETS];

/* The bucket of a duration: the first bound >= ns, or
 * TEEP_BROKER_HIST_BUCKETS for +Inf. */
unsigned teep_broker_hist_index(uint64_t ns);

/* A transport-specific series (teep_transport_host_t count / gauge). */
#define TEEP_BROKER_MAX_SERIES 32
typedef struct teep_broker_series {
    const char *name;   /* static, [a-z0-9_] */
    const char *plugin; /* static: the descriptor's name */
    bool gauge;
    teep_broker_counter_t value;
} teep_broker_series_t;

/* One worker's counters. */
typedef struct teep_broker_shard {
    teep_broker_counter_t exchanges[TEEP_BROKER_KINDS][TEEP_BROKER_OUTCOMES];
    teep_broker_counter_t to_tam[TEEP_BROKER_KINDS];   /* messages */
    teep_broker_counter_t to_agent[TEEP_BROKER_KINDS]; /* messages */
    teep_broker_counter_t errors[TEEP_BROKER_ERROR_KINDS];
    teep_broker_counter_t request_bytes;  /* payload, agent -> TAM */
    teep_broker_counter_t response_bytes; /* payload, TAM -> agent */
    teep_broker_counter_t copied_bytes;   /* payload bytes copied */
    teep_broker_counter_t failovers;      /* another endpoint tried */
    teep_broker_counter_t latency[TEEP_BROKER_HIST_BUCKETS + 1];
    teep_broker_counter_t latency_sum_ns;
    teep_broker_counter_t inflight;          /* gauge */
    teep_broker_counter_t local_sessions[2]; /* TEE plugin sessions:
                                                [0] ok, [1] failed */
    teep_broker_series_t series[TEEP_BROKER_MAX_SERIES];
    _Atomic unsigned n_series;
} teep_broker_shard_t;

/* Record one exchange's duration. */
static inline void teep_broker_shard_latency(teep_broker_shard_t *s,
                                             uint64_t ns)
{
    teep_broker_add(&s->latency[teep_broker_hist_index(ns)], 1);
    teep_broker_add(&s->latency_sum_ns, ns);
}

/* The series (name, plugin, gauge) of shard, registered on first use.
 * Worker thread only.  NULL when TEEP_BROKER_MAX_SERIES are in use. */
teep_broker_counter_t *teep_broker_shard_series(teep_broker_shard_t *s,
                                                const char *name,
                                                const char *plugin, bool gauge);

/* ------------------------------------------------------------ text */

/* A growing text buffer for the exposition.  Owned by the caller;
 * teep_broker_text_free releases it.  After an allocation failure every
 * append does nothing and failed is set. */
typedef struct teep_broker_text {
    char *buf;
    size_t len;
    size_t cap;
    bool failed;
} teep_broker_text_t;

void teep_broker_text_printf(teep_broker_text_t *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void teep_broker_text_free(teep_broker_text_t *t);

/* Append the families that shards hold (summed over n shards) to t. */
void teep_broker_metrics_render_shards(teep_broker_text_t *t,
                                       teep_broker_shard_t *const *shards,
                                       size_t n);

#endif
