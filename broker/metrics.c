/*
 * metrics.c: counters, the latency histogram and the Prometheus text
 * exposition of the worker shards (metrics.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

const char *teep_broker_kind_name(unsigned kind)
{
    static const char *const names[TEEP_BROKER_KINDS] = {
        "empty",   "query_request", "query_response", "update",
        "success", "error",         "unknown"};
    return kind < TEEP_BROKER_KINDS ? names[kind] : "unknown";
}

const char *teep_broker_error_name(teep_exchange_error_t e)
{
    switch (e) {
    case TEEP_XERR_NONE: return "none";
    case TEEP_XERR_BAD_MESSAGE: return "bad_message";
    case TEEP_XERR_MEDIA_TYPE: return "media_type";
    case TEEP_XERR_TOO_LARGE: return "too_large";
    case TEEP_XERR_UNKNOWN_ROUTE: return "unknown_route";
    case TEEP_XERR_OVERLOADED: return "overloaded";
    case TEEP_XERR_DRAINING: return "draining";
    case TEEP_XERR_UPSTREAM_DOWN: return "upstream_down";
    case TEEP_XERR_UPSTREAM_TIMEOUT: return "upstream_timeout";
    case TEEP_XERR_UPSTREAM_STATUS: return "upstream_status";
    case TEEP_XERR_UPSTREAM_PROTOCOL: return "upstream_protocol";
    case TEEP_XERR_INTERNAL: return "internal";
    case TEEP_XERR_COUNT: break;
    }
    return "unknown";
}

#define US 1000ull
#define MS 1000000ull
#define S  1000000000ull
const uint64_t teep_broker_hist_bounds_ns[TEEP_BROKER_HIST_BUCKETS] = {
    10 * US,  25 * US,   50 * US,  100 * US, 250 * US,  500 * US,
    1 * MS,   2500 * US, 5 * MS,   10 * MS,  25 * MS,   50 * MS,
    100 * MS, 250 * MS,  500 * MS, 1 * S,    2500 * MS, 5 * S,
    10 * S,   25 * S,    50 * S,   100 * S,
};

unsigned teep_broker_hist_index(uint64_t ns)
{
    /* Binary search: five comparisons for 22 bounds. */
    unsigned lo = 0, hi = TEEP_BROKER_HIST_BUCKETS;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        if (teep_broker_hist_bounds_ns[mid] < ns)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

teep_broker_counter_t *teep_broker_shard_series(teep_broker_shard_t *s,
                                                const char *name,
                                                const char *plugin, bool gauge)
{
    unsigned n = atomic_load_explicit(&s->n_series, memory_order_relaxed);
    /* Names are static strings, so a plugin passes the same pointers every
     * time: compare those first (a transport counts on every request),
     * and the strings only for a name seen at another address. */
    for (unsigned i = 0; i < n; i++) {
        teep_broker_series_t *e = &s->series[i];
        if (e->name == name && e->plugin == plugin && e->gauge == gauge)
            return &e->value;
    }
    for (unsigned i = 0; i < n; i++) {
        teep_broker_series_t *e = &s->series[i];
        if (e->gauge == gauge && strcmp(e->name, name) == 0 &&
            strcmp(e->plugin, plugin) == 0)
            return &e->value;
    }
    if (n == TEEP_BROKER_MAX_SERIES)
        return NULL;
    s->series[n].name = name;
    s->series[n].plugin = plugin;
    s->series[n].gauge = gauge;
    teep_broker_set(&s->series[n].value, 0);
    /* Release: a reader that sees the new count sees the entry. */
    atomic_store_explicit(&s->n_series, n + 1, memory_order_release);
    return &s->series[n].value;
}

/* ------------------------------------------------------------ text */

void teep_broker_text_printf(teep_broker_text_t *t, const char *fmt, ...)
{
    if (t->failed)
        return;
    for (;;) {
        size_t room = t->cap - t->len;
        va_list ap;
        va_start(ap, fmt);
        int n = t->buf != NULL ? vsnprintf(t->buf + t->len, room, fmt, ap) : -2;
        va_end(ap);
        if (n >= 0 && (size_t)n < room) {
            t->len += (size_t)n;
            return;
        }
        if (n == -1) {
            t->failed = true;
            return;
        }
        size_t cap = t->cap == 0 ? 16384 : t->cap * 2;
        while (n > 0 && cap - t->len <= (size_t)n)
            cap *= 2;
        char *b = realloc(t->buf, cap);
        if (b == NULL) {
            t->failed = true;
            return;
        }
        t->buf = b;
        t->cap = cap;
    }
}

void teep_broker_text_free(teep_broker_text_t *t)
{
    free(t->buf);
    memset(t, 0, sizeof(*t));
}

static uint64_t sum(teep_broker_shard_t *const *shards, size_t n, size_t offset)
{
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += teep_broker_get(
            (const teep_broker_counter_t *)((const char *)shards[i] + offset));
    return total;
}

#define SUM(field) sum(shards, n, offsetof(teep_broker_shard_t, field))

static void family(teep_broker_text_t *t, const char *name, const char *type,
                   const char *help)
{
    teep_broker_text_printf(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
                            type);
}

static const char *const outcome_names[TEEP_BROKER_OUTCOMES] = {
    "message", "no_content", "failed", "canceled"};

static void render_exchanges(teep_broker_text_t *t,
                             teep_broker_shard_t *const *shards, size_t n)
{
    family(t, "teep_broker_exchanges_total", "counter",
           "Exchanges relayed, by the type of the agent's message and how "
           "they ended.");
    for (unsigned k = 0; k < TEEP_BROKER_KINDS; k++)
        for (unsigned o = 0; o < TEEP_BROKER_OUTCOMES; o++)
            teep_broker_text_printf(
                t,
                "teep_broker_exchanges_total{type=\"%s\",outcome=\"%s\"} "
                "%llu\n",
                teep_broker_kind_name(k), outcome_names[o],
                (unsigned long long)SUM(exchanges[k][o]));
    family(t, "teep_broker_messages_total", "counter",
           "TEEP messages relayed, by direction and type (from peek).");
    for (unsigned k = 1; k < TEEP_BROKER_KINDS; k++) {
        teep_broker_text_printf(
            t,
            "teep_broker_messages_total{direction=\"to_tam\",type=\"%s\"} "
            "%llu\n",
            teep_broker_kind_name(k), (unsigned long long)SUM(to_tam[k]));
        teep_broker_text_printf(
            t,
            "teep_broker_messages_total{direction=\"to_agent\",type=\"%s\"} "
            "%llu\n",
            teep_broker_kind_name(k), (unsigned long long)SUM(to_agent[k]));
    }
    family(t, "teep_broker_errors_total", "counter",
           "Exchanges that failed, by the kind of error.");
    for (unsigned e = 1; e < TEEP_BROKER_ERROR_KINDS; e++)
        teep_broker_text_printf(
            t, "teep_broker_errors_total{kind=\"%s\"} %llu\n",
            teep_broker_error_name((teep_exchange_error_t)e),
            (unsigned long long)SUM(errors[e]));
}

static void render_bytes(teep_broker_text_t *t,
                         teep_broker_shard_t *const *shards, size_t n)
{
    family(t, "teep_broker_payload_bytes_total", "counter",
           "TEEP message bytes relayed, by direction.");
    teep_broker_text_printf(
        t, "teep_broker_payload_bytes_total{direction=\"to_tam\"} %llu\n",
        (unsigned long long)SUM(request_bytes));
    teep_broker_text_printf(
        t, "teep_broker_payload_bytes_total{direction=\"to_agent\"} %llu\n",
        (unsigned long long)SUM(response_bytes));
    family(t, "teep_broker_payload_copied_bytes_total", "counter",
           "Payload bytes the relay had to copy (0 on HTTP to HTTP: bodies "
           "are written from the buffer they were read into).");
    teep_broker_text_printf(t, "teep_broker_payload_copied_bytes_total %llu\n",
                            (unsigned long long)SUM(copied_bytes));
    family(t, "teep_broker_failovers_total", "counter",
           "Exchanges sent to another endpoint after a connection "
           "failure.");
    teep_broker_text_printf(t, "teep_broker_failovers_total %llu\n",
                            (unsigned long long)SUM(failovers));
    family(t, "teep_broker_exchanges_in_flight", "gauge",
           "Exchanges waiting for their TAM's answer.");
    teep_broker_text_printf(t, "teep_broker_exchanges_in_flight %llu\n",
                            (unsigned long long)SUM(inflight));
    family(t, "teep_broker_local_sessions_total", "counter",
           "TEEP sessions of local TEE plugins' Agents, by result.");
    teep_broker_text_printf(
        t, "teep_broker_local_sessions_total{result=\"ok\"} %llu\n",
        (unsigned long long)SUM(local_sessions[0]));
    teep_broker_text_printf(
        t, "teep_broker_local_sessions_total{result=\"failed\"} %llu\n",
        (unsigned long long)SUM(local_sessions[1]));
}

static void render_latency(teep_broker_text_t *t,
                           teep_broker_shard_t *const *shards, size_t n)
{
    family(t, "teep_broker_exchange_duration_seconds", "histogram",
           "Time from submission to the TAM's answer (log-linear "
           "buckets).");
    uint64_t cumulative = 0;
    for (unsigned b = 0; b <= TEEP_BROKER_HIST_BUCKETS; b++) {
        cumulative += SUM(latency[b]);
        if (b < TEEP_BROKER_HIST_BUCKETS)
            teep_broker_text_printf(
                t,
                "teep_broker_exchange_duration_seconds_bucket{le=\"%g\"} "
                "%llu\n",
                (double)teep_broker_hist_bounds_ns[b] / 1e9,
                (unsigned long long)cumulative);
        else
            teep_broker_text_printf(
                t,
                "teep_broker_exchange_duration_seconds_bucket{le=\"+Inf\"} "
                "%llu\n",
                (unsigned long long)cumulative);
    }
    teep_broker_text_printf(t,
                            "teep_broker_exchange_duration_seconds_sum %.9f\n"
                            "teep_broker_exchange_duration_seconds_count "
                            "%llu\n",
                            (double)SUM(latency_sum_ns) / 1e9,
                            (unsigned long long)cumulative);
}

/* Transport series: every (name, plugin, kind) once, summed. */
static void render_series(teep_broker_text_t *t,
                          teep_broker_shard_t *const *shards, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned ni =
            atomic_load_explicit(&shards[i]->n_series, memory_order_acquire);
        for (unsigned k = 0; k < ni; k++) {
            const teep_broker_series_t *s = &shards[i]->series[k];
            bool seen = false;
            for (size_t j = 0; j < i && !seen; j++) {
                unsigned nj = atomic_load_explicit(&shards[j]->n_series,
                                                   memory_order_acquire);
                for (unsigned m = 0; m < nj && !seen; m++) {
                    const teep_broker_series_t *o = &shards[j]->series[m];
                    seen = o->gauge == s->gauge &&
                           strcmp(o->name, s->name) == 0 &&
                           strcmp(o->plugin, s->plugin) == 0;
                }
            }
            if (seen)
                continue;
            uint64_t total = 0;
            for (size_t j = i; j < n; j++) {
                unsigned nj = atomic_load_explicit(&shards[j]->n_series,
                                                   memory_order_acquire);
                for (unsigned m = 0; m < nj; m++) {
                    const teep_broker_series_t *o = &shards[j]->series[m];
                    if (o->gauge == s->gauge && strcmp(o->name, s->name) == 0 &&
                        strcmp(o->plugin, s->plugin) == 0)
                        total += teep_broker_get(&o->value);
                }
            }
            teep_broker_text_printf(
                t, "teep_broker_transport_%s%s{plugin=\"%s\"} %llu\n", s->name,
                s->gauge ? "" : "_total", s->plugin, (unsigned long long)total);
        }
    }
}

void teep_broker_metrics_render_shards(teep_broker_text_t *t,
                                       teep_broker_shard_t *const *shards,
                                       size_t n)
{
    render_exchanges(t, shards, n);
    render_bytes(t, shards, n);
    render_latency(t, shards, n);
    render_series(t, shards, n);
}
