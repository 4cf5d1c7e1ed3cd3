/*
 * teep-bench-relay: the load generator of bench/run-relay.sh.  It POSTs
 * one TEEP message over HTTP/1.1 keep-alive connections (teepnet's client
 * pool) to a URL and reports the rate and latency quantiles.
 *
 *   closed loop (default): --connections N requests always outstanding,
 *     one per connection: the throughput a target sustains;
 *   open loop (--rate R): R requests per second on a fixed schedule
 *     (libuv's 1 ms timer: the requests due in each millisecond leave
 *     together), on up to N connections.  Latency is measured from when
 *     a request was handed to the pool: the timer's granularity would
 *     otherwise add up to 1 ms to every figure.  A target that falls
 *     behind the schedule shows in the rate, not in the latency.
 *
 * Latencies go into a 1 us resolution histogram up to 1 s (exact
 * quantiles at that resolution; slower ones count as 1 s).  Output, one
 * line: "rps=... p50_us=... p99_us=... p999_us=... max_us=... ok=...
 * errors=...".
 *
 * Usage: teep-bench-relay --url URL --body FILE [--connections N]
 *          [--seconds S] [--warmup S] [--rate R]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "teep/http.h"

#define HIST_US         1000000 /* 1 s at 1 us */
#define MAX_OUTSTANDING 65536

typedef struct bench bench_t;

typedef struct slot {
    teep_http_client_req_t req;
    bench_t *b;
    uint64_t due_ns; /* when it was handed to the pool */
    struct slot *next;
} slot_t;

struct bench {
    uv_loop_t *loop;
    teep_http_client_t client;
    teep_buf_t *body;
    const char *path;
    uint64_t start_ns;
    uint64_t measure_ns; /* warm-up ends */
    uint64_t end_ns;
    double rate;
    unsigned connections;
    uint64_t sent;
    uint64_t outstanding;
    uint64_t ok;
    uint64_t errors;
    uint64_t measured;
    uint64_t measure_first_ns;
    uint64_t measure_last_ns;
    uint32_t *hist;
    slot_t *free_slots;
    uv_timer_t tick;
    bool stopping;
};

static const teep_http_header_t headers[] = {
    TEEP_HTTP_HEADER("Accept", "application/teep+cbor"),
    TEEP_HTTP_HEADER("Content-Type", "application/teep+cbor"),
};

static void send_one(bench_t *b, uint64_t due_ns);

static void record(bench_t *b, uint64_t due_ns, uint64_t now)
{
    if (due_ns < b->measure_ns || now > b->end_ns)
        return;
    uint64_t us = (now - due_ns) / 1000;
    b->hist[us < HIST_US ? us : HIST_US - 1]++;
    if (b->measured++ == 0)
        b->measure_first_ns = now;
    b->measure_last_ns = now;
}

/* The run is over: no new request; close the pool once none is out
 * (or now, when force: a target that stopped answering). */
static void finish(bench_t *b, bool force)
{
    if (!b->stopping) {
        b->stopping = true;
        uv_timer_stop(&b->tick);
        uv_close((uv_handle_t *)&b->tick, NULL);
    }
    if (b->outstanding == 0 || force)
        teep_http_client_close(&b->client, NULL);
}

static void on_done(teep_http_client_req_t *req, int status,
                    const teep_http_response_t *resp)
{
    slot_t *s = req->data;
    bench_t *b = s->b;
    uint64_t now = uv_hrtime();
    b->outstanding--;
    if (status == 0 && resp->status == 200) {
        b->ok++;
        record(b, s->due_ns, now);
    } else if (status != TEEP_HTTP_E_CANCELED) {
        b->errors++;
    }
    s->next = b->free_slots;
    b->free_slots = s;
    if (now >= b->end_ns || b->stopping) {
        finish(b, false);
        return;
    }
    if (b->rate == 0)
        send_one(b, now);
}

static void send_one(bench_t *b, uint64_t due_ns)
{
    slot_t *s = b->free_slots;
    if (s == NULL) {
        b->errors++; /* more outstanding than MAX_OUTSTANDING */
        return;
    }
    b->free_slots = s->next;
    s->due_ns = due_ns;
    s->req.data = s;
    if (teep_http_client_request(&b->client, &s->req, "POST", b->path, headers,
                                 2, b->body, on_done) < 0) {
        b->errors++;
        s->next = b->free_slots;
        b->free_slots = s;
        return;
    }
    b->sent++;
    b->outstanding++;
}

/* Open loop: every millisecond, send what has become due since the
 * start.  Closed loop: the timer only ends a run whose target hangs. */
static void on_tick(uv_timer_t *t)
{
    bench_t *b = t->data;
    uint64_t now = uv_hrtime();
    if (now >= b->end_ns || b->rate == 0) {
        finish(b, b->rate == 0);
        return;
    }
    double interval = 1e9 / b->rate;
    uint64_t due = (uint64_t)((double)(now - b->start_ns) / interval);
    while (b->sent < due && b->free_slots != NULL)
        send_one(b, uv_hrtime());
}

static uint64_t quantile(const bench_t *b, double q)
{
    uint64_t want = (uint64_t)((double)b->measured * q);
    if (want >= b->measured && b->measured > 0)
        want = b->measured - 1; /* the maximum */
    uint64_t seen = 0;
    for (uint64_t us = 0; us < HIST_US; us++) {
        seen += b->hist[us];
        if (seen > want)
            return us;
    }
    return HIST_US;
}

static uint8_t *load(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    uint8_t *buf = malloc(1 << 20);
    *len = buf != NULL ? fread(buf, 1, 1 << 20, f) : 0;
    fclose(f);
    return buf;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"url", required_argument, NULL, 'u'},
        {"body", required_argument, NULL, 'b'},
        {"connections", required_argument, NULL, 'c'},
        {"seconds", required_argument, NULL, 's'},
        {"warmup", required_argument, NULL, 'w'},
        {"rate", required_argument, NULL, 'r'},
        {NULL, 0, NULL, 0},
    };
    const char *url = NULL, *body_file = NULL;
    double seconds = 3, warmup = 0.5, rate = 0;
    unsigned connections = 64;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'u': url = optarg; break;
        case 'b': body_file = optarg; break;
        case 'c': connections = (unsigned)strtoul(optarg, NULL, 10); break;
        case 's': seconds = strtod(optarg, NULL); break;
        case 'w': warmup = strtod(optarg, NULL); break;
        case 'r': rate = strtod(optarg, NULL); break;
        default:
            fprintf(stderr, "usage: teep-bench-relay --url URL --body FILE "
                            "[--connections N] [--seconds S] [--warmup S] "
                            "[--rate R]\n");
            return 2;
        }
    }
    teep_http_url_t u;
    size_t len = 0;
    uint8_t *bytes = body_file != NULL ? load(body_file, &len) : NULL;
    if (url == NULL || bytes == NULL || connections == 0 ||
        connections > 4096 || seconds <= 0 ||
        teep_http_url_parse(url, &u) < 0) {
        fprintf(stderr, "teep-bench-relay: --url and a readable --body are "
                        "needed\n");
        return 2;
    }
    bench_t *b = calloc(1, sizeof(*b));
    slot_t *slots = calloc(MAX_OUTSTANDING, sizeof(*slots));
    b->hist = calloc(HIST_US, sizeof(uint32_t));
    if (b == NULL || slots == NULL || b->hist == NULL)
        return 1;
    for (size_t i = 0; i < MAX_OUTSTANDING; i++) {
        slots[i].b = b;
        slots[i].next = b->free_slots;
        b->free_slots = &slots[i];
    }
    b->loop = uv_default_loop();
    b->body = teep_buf_copy(0, bytes, len);
    b->path = strndup((const char *)u.path.ptr, u.path.len);
    b->rate = rate;
    b->connections = connections;
    teep_http_client_config_t cfg;
    teep_http_client_config_default(&cfg);
    cfg.max_connections = connections;
    cfg.max_pending = MAX_OUTSTANDING;
    teep_http_client_init(&b->client, b->loop, url, &cfg);
    b->start_ns = uv_hrtime();
    b->measure_ns = b->start_ns + (uint64_t)(warmup * 1e9);
    b->end_ns = b->measure_ns + (uint64_t)(seconds * 1e9);
    uv_timer_init(b->loop, &b->tick);
    b->tick.data = b;
    if (rate > 0) {
        uv_timer_start(&b->tick, on_tick, 0, 1);
    } else {
        for (unsigned i = 0; i < connections; i++)
            send_one(b, b->start_ns);
        /* The timer only bounds the run when every request hangs. */
        uv_timer_start(&b->tick, on_tick,
                       (uint64_t)(seconds + warmup) * 1000 + 5000, 0);
    }
    uv_run(b->loop, UV_RUN_DEFAULT);
    double span = (double)(b->measure_last_ns - b->measure_first_ns) / 1e9;
    printf("rps=%.0f p50_us=%llu p99_us=%llu p999_us=%llu max_us=%llu "
           "ok=%llu errors=%llu\n",
           span > 0 ? (double)b->measured / span : 0.0,
           (unsigned long long)quantile(b, 0.50),
           (unsigned long long)quantile(b, 0.99),
           (unsigned long long)quantile(b, 0.999),
           (unsigned long long)quantile(b, 1.0), (unsigned long long)b->ok,
           (unsigned long long)b->errors);
    teep_buf_unref(b->body);
    free((char *)b->path);
    free(b->hist);
    free(slots);
    free(b);
    free(bytes);
    return 0;
}
