/*
 * teep_bench_hist.c: the log-linear latency histogram (teep_bench.h).
 * broker/metrics.c keeps Prometheus buckets with fixed bounds, too coarse
 * for a p99.9, so the bench keeps its own: about 2 300 counters, exact
 * below 128 and 64 per power of two above.
 */
#include <string.h>

#include "teep_bench.h"

static unsigned hist__index(uint64_t v)
{
    if (v < TEEP_BENCH_HIST_SUB)
        return (unsigned)v;
    /* shift brings v into [64, 128): the top 7 bits pick the bucket */
    unsigned shift = (unsigned)(63 - __builtin_clzll(v)) - 6;
    if (shift > TEEP_BENCH_HIST_SHIFTS)
        return TEEP_BENCH_HIST_BUCKETS - 1;
    return TEEP_BENCH_HIST_SUB + (shift - 1) * TEEP_BENCH_HIST_HALF +
           (unsigned)((v >> shift) - TEEP_BENCH_HIST_HALF);
}

/* The middle of bucket i: the error is at most half a bucket. */
static uint64_t hist__value(unsigned i)
{
    if (i < TEEP_BENCH_HIST_SUB)
        return i;
    unsigned shift = (i - TEEP_BENCH_HIST_SUB) / TEEP_BENCH_HIST_HALF + 1;
    uint64_t sub =
        (i - TEEP_BENCH_HIST_SUB) % TEEP_BENCH_HIST_HALF + TEEP_BENCH_HIST_HALF;
    return (sub << shift) + ((1ull << shift) >> 1);
}

void teep_bench_hist_reset(teep_bench_hist_t *h)
{
    memset(h, 0, sizeof(*h));
}

void teep_bench_hist_record(teep_bench_hist_t *h, uint64_t value)
{
    h->buckets[hist__index(value)]++;
    h->count++;
    if (value > h->max)
        h->max = value;
}

uint64_t teep_bench_hist_quantile(const teep_bench_hist_t *h, double q)
{
    if (h->count == 0)
        return 0;
    if (q >= 1.0)
        return h->max;
    uint64_t want = (uint64_t)((double)h->count * q);
    uint64_t seen = 0;
    for (unsigned i = 0; i < TEEP_BENCH_HIST_BUCKETS; i++) {
        seen += h->buckets[i];
        if (seen > want) {
            uint64_t v = hist__value(i);
            return v < h->max ? v : h->max;
        }
    }
    return h->max;
}
