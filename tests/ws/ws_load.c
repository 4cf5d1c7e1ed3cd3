/*
 * teep-ws-load: load for the WebSocket transport and its HTTP twin, on one
 * libuv loop (tests/ws scripts, docs/transport-ws.md).
 *
 *   teep-ws-load idle URL N SECONDS
 *       open N WebSocket connections to URL (ws://...); then, one
 *       connection after the other (as devices check in at different
 *       times, so that what is measured is what an idle connection keeps,
 *       not the high-water mark of N exchanges at once), send the empty
 *       message that starts a session and read the answer; print
 *       "ready N", hold them idle for SECONDS, close them, exit.
 *   teep-ws-load bench URL CONNS SECONDS
 *       CONNS clients each run exchanges back to back for SECONDS: an
 *       empty message (ws:// URL) or an empty POST (http:// URL), each
 *       answered by the TAM's QueryRequest; print
 *       "exchanges N seconds S rate R p50_us A p99_us B errors E".
 *
 * Exit status 0, 1 when connections or exchanges failed, 2 usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "teep/http.h"
#include "teep/transport_plugin.h"
#include "ws_binding.h"
#include "ws_client.h"

#define MAX_SAMPLES (4u << 20)

typedef struct load load_t;

typedef struct client {
    load_t *load;
    teep_ws_client_t ws;
    teep_http_client_req_t req;
    uint64_t started_ns;
    bool open, closed, answered;
} client_t;

struct load {
    uv_loop_t loop;
    bool http;
    const char *url;
    teep_ws_client_ctx_t *ctx;
    teep_http_client_t pool;
    char path[512];
    client_t *clients;
    unsigned n;
    unsigned opened, answered, closed, errors;
    bool running; /* bench: keep going */
    bool idle;    /* idle: check in one after the other */
    unsigned next_checkin;
    uint64_t exchanges;
    uint32_t *samples; /* latencies in us */
    size_t n_samples;
    uv_timer_t timer;
    bool ctx_freed;
};

static void record(load_t *l, client_t *c)
{
    uint64_t us = (uv_hrtime() - c->started_ns) / 1000;
    l->exchanges++;
    if (l->n_samples < MAX_SAMPLES)
        l->samples[l->n_samples++] =
            us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

/* ------------------------------------------------------- WebSocket */

static void ws_send(client_t *c)
{
    c->started_ns = uv_hrtime();
    if (teep_ws_client_send(&c->ws, true, NULL, 0, 0) != 0)
        c->load->errors++;
}

/* idle: the next connection checks in, once all are open. */
static void next_checkin(load_t *l)
{
    while (l->next_checkin < l->n && !l->clients[l->next_checkin].open)
        l->next_checkin++;
    if (l->next_checkin < l->n)
        ws_send(&l->clients[l->next_checkin++]);
}

static void on_open(teep_ws_client_t *ws)
{
    client_t *c = ws->data;
    load_t *l = c->load;
    c->open = true;
    l->opened++;
    if (!l->idle)
        ws_send(c);
    else if (l->opened == l->n)
        next_checkin(l);
}

static void on_message(teep_ws_client_t *ws, bool binary, teep_buf_t *msg)
{
    client_t *c = ws->data;
    load_t *l = c->load;
    if (!binary || msg == NULL)
        l->errors++;
    else
        record(l, c);
    if (!c->answered) {
        c->answered = true;
        l->answered++;
    }
    if (l->running)
        ws_send(c);
    else if (l->idle)
        next_checkin(l);
}

static void on_close(teep_ws_client_t *ws, int code, const char *reason)
{
    client_t *c = ws->data;
    c->closed = true;
    c->load->closed++;
    if (!c->open || (code != 0 && code != TEEP_WS_CLOSE_NORMAL &&
                     code != TEEP_WS_CLOSE_GOING_AWAY))
        c->load->errors++;
}

static const teep_ws_client_cbs_t cbs = {
    .on_open = on_open, .on_message = on_message, .on_close = on_close};

/* ------------------------------------------------------------ HTTP */

static void http_send(client_t *c);

static void on_response(teep_http_client_req_t *req, int status,
                        const teep_http_response_t *resp)
{
    client_t *c = req->data;
    load_t *l = c->load;
    if (status == TEEP_HTTP_E_CANCELED && !l->running)
        return; /* cut off by the end of the run */
    if (status != 0 || resp->status != 200)
        l->errors++;
    else
        record(l, c);
    if (!c->answered) {
        c->answered = true;
        l->answered++;
    }
    if (l->running && status != TEEP_HTTP_E_CANCELED)
        http_send(c);
}

static void http_send(client_t *c)
{
    static const teep_http_header_t h[] = {
        TEEP_HTTP_HEADER("Accept", TEEP_MEDIA_TYPE),
        TEEP_HTTP_HEADER("Content-Type", TEEP_MEDIA_TYPE),
    };
    c->req.data = c;
    c->started_ns = uv_hrtime();
    if (teep_http_client_request(&c->load->pool, &c->req, "POST", c->load->path,
                                 h, 2, NULL, on_response) != 0)
        c->load->errors++;
}

/* ------------------------------------------------------------- run */

static void on_timer(uv_timer_t *t)
{
    *(bool *)t->data = true;
}

static void run_until(load_t *l, bool (*done)(const load_t *), unsigned ms)
{
    bool expired = false;
    l->timer.data = &expired;
    uv_update_time(&l->loop); /* the loop's clock may be stale */
    uv_timer_start(&l->timer, on_timer, ms, 0);
    while (!expired && (done == NULL || !done(l)))
        uv_run(&l->loop, UV_RUN_ONCE);
    uv_timer_stop(&l->timer);
}

static bool all_answered(const load_t *l)
{
    return l->answered + l->closed >= l->n;
}

static bool all_closed(const load_t *l)
{
    return l->closed >= l->opened;
}

static bool freed(const load_t *l)
{
    return l->ctx_freed;
}

static void ctx_done(void *arg)
{
    ((load_t *)arg)->ctx_freed = true;
}

static void pool_closed(teep_http_client_t *pool)
{
    ((load_t *)pool->data)->ctx_freed = true;
}

static int start(load_t *l)
{
    l->clients = calloc(l->n, sizeof(*l->clients));
    l->samples = malloc(MAX_SAMPLES * sizeof(*l->samples));
    if (l->clients == NULL || l->samples == NULL)
        return -ENOMEM;
    uv_loop_init(&l->loop);
    uv_timer_init(&l->loop, &l->timer);
    if (l->http) {
        teep_http_url_t u;
        teep_http_client_config_t cfg;
        teep_http_client_config_default(&cfg);
        cfg.max_connections = l->n;
        if (teep_http_url_parse(l->url, &u) != 0 ||
            teep_http_client_init(&l->pool, &l->loop, l->url, &cfg) != 0)
            return -EINVAL;
        snprintf(l->path, sizeof(l->path), "%.*s", (int)u.path.len,
                 (const char *)u.path.ptr);
        l->pool.data = l;
        for (unsigned i = 0; i < l->n; i++) {
            l->clients[i].load = l;
            http_send(&l->clients[i]);
        }
        l->opened = l->n;
        return 0;
    }
    if (teep_ws_client_ctx_new(&l->loop, NULL, &l->ctx) != 0)
        return -EIO;
    for (unsigned i = 0; i < l->n; i++) {
        client_t *c = &l->clients[i];
        c->load = l;
        c->ws.data = c;
        c->ws.cbs = &cbs;
        if (teep_ws_client_connect(l->ctx, &c->ws, l->url) != 0)
            return -EINVAL;
    }
    return 0;
}

static void stop(load_t *l)
{
    l->running = false;
    if (l->http) {
        teep_http_client_close(&l->pool, pool_closed);
    } else {
        for (unsigned i = 0; i < l->n; i++)
            if (l->clients[i].open && !l->clients[i].closed)
                teep_ws_client_close(&l->clients[i].ws, TEEP_WS_CLOSE_NORMAL);
        run_until(l, all_closed, 5000);
        teep_ws_client_ctx_free(l->ctx, ctx_done, l);
    }
    run_until(l, freed, 5000);
    uv_close((uv_handle_t *)&l->timer, NULL);
    uv_run(&l->loop, UV_RUN_DEFAULT);
    uv_loop_close(&l->loop);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int usage(void)
{
    fprintf(stderr, "usage: teep-ws-load idle URL N SECONDS\n"
                    "       teep-ws-load bench URL CONNS SECONDS\n");
    return 2;
}

int main(int argc, char **argv)
{
    static load_t l;
    if (argc != 5)
        return usage();
    bool idle = strcmp(argv[1], "idle") == 0;
    if (!idle && strcmp(argv[1], "bench") != 0)
        return usage();
    l.url = argv[2];
    l.http = strncmp(l.url, "http", 4) == 0;
    l.n = (unsigned)atoi(argv[3]);
    unsigned secs = (unsigned)atoi(argv[4]);
    if (l.n == 0 || (idle && l.http) || start(&l) != 0)
        return usage();
    l.running = !idle;
    l.idle = idle;
    if (idle) {
        run_until(&l, all_answered, 30000);
        printf("ready %u\n", l.answered);
        fflush(stdout);
        run_until(&l, NULL, secs * 1000);
        stop(&l);
        return l.answered == l.n && l.errors == 0 ? 0 : 1;
    }
    uint64_t t0 = uv_hrtime();
    run_until(&l, NULL, secs * 1000);
    double elapsed = (double)(uv_hrtime() - t0) / 1e9;
    stop(&l);
    qsort(l.samples, l.n_samples, sizeof(*l.samples), cmp_u32);
    uint32_t p50 = l.n_samples ? l.samples[l.n_samples / 2] : 0;
    uint32_t p99 = l.n_samples ? l.samples[l.n_samples * 99 / 100] : 0;
    printf("exchanges %llu seconds %.2f rate %.0f p50_us %u p99_us %u "
           "errors %u\n",
           (unsigned long long)l.exchanges, elapsed,
           (double)l.exchanges / elapsed, p50, p99, l.errors);
    return l.exchanges > 0 && l.errors == 0 ? 0 : 1;
}
