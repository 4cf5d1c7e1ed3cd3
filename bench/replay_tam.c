/*
 * teep-replay-tam: a TAM stand-in on teepnet that answers TEEP over HTTP
 * with canned, pre-signed messages from tests/vectors, for the broker's
 * relay tests and the relay benchmark (it is also the benchmark's upper
 * bound: the same answers without a broker in front).
 *
 *   POST, empty body          200 QueryRequest   (ProcessConnect)
 *   POST QueryResponse        200 Update
 *   POST Success / Error      204
 *   POST anything else        400 (not a TEEP message, or another type)
 *   POST, wrong Content-Type  415
 *   GET /healthz              200
 * The message type comes from teep_peek; with --verify the signature of
 * every message is checked against the vectors' Agent key first (400 when
 * it does not verify), which is how a test sees a byte flipped in
 * transit.  --status N answers every POST with N instead (a failing TAM),
 * --delay-ms N answers after N ms (a slow one).
 *
 * It prints "port N" on stdout once listening, and stops by itself after
 * --lifetime seconds, on SIGTERM or SIGINT, so a failed test never leaves
 * it behind.  --threads N runs N loops on the port (SO_REUSEPORT).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "teep/cose.h"
#include "teep/http.h"
#include "teep/peek.h"

#ifndef TEEP_VECTORS_DIR
#define TEEP_VECTORS_DIR "tests/vectors"
#endif

#define MEDIA_TYPE "application/teep+cbor"

typedef struct options {
    const char *host;
    unsigned port;
    unsigned threads;
    unsigned lifetime;
    unsigned delay_ms;
    int status;
    bool verify;
    bool quiet;
    const char *vectors;
    const char *profile; /* "tp26" (rfc) or "tp" (legacy) */
} options_t;

/* The canned answers, read once. */
typedef struct canned {
    uint8_t *query_request;
    size_t query_request_len;
    uint8_t *update;
    size_t update_len;
    teep_key_t agent_key;
} canned_t;

typedef struct loop_ctx {
    uv_loop_t loop;
    uv_thread_t thread;
    teep_http_server_t server;
    uv_async_t stop;
    const options_t *opt;
    const canned_t *canned;
    teep_buf_t *query_request; /* this loop's copies: buffers are per loop */
    teep_buf_t *update;
    uint64_t answered;
} loop_ctx_t;

typedef struct delayed {
    uv_timer_t timer;
    teep_http_request_t *req;
    loop_ctx_t *ctx;
} delayed_t;

static uint8_t *load_hex(const char *dir, const char *name, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "replay-tam: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    uint8_t *out = malloc(65536);
    size_t n = 0;
    int c, hi = -1;
    while (out != NULL && (c = fgetc(f)) != EOF && n < 65536) {
        int v = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (v < 0)
            continue;
        if (hi < 0) {
            hi = v;
        } else {
            out[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    fclose(f);
    *len = n;
    return out;
}

static const teep_http_header_t teep_headers[] = {
    TEEP_HTTP_HEADER("Content-Type", MEDIA_TYPE),
    TEEP_HTTP_HEADER("X-Content-Type-Options", "nosniff"),
    TEEP_HTTP_HEADER("Content-Security-Policy", "default-src 'none'"),
    TEEP_HTTP_HEADER("Referrer-Policy", "no-referrer"),
};

static void text(teep_http_request_t *req, int status, const char *msg)
{
    static const teep_http_header_t h[] = {
        TEEP_HTTP_HEADER("Content-Type", "text/plain"),
    };
    teep_buf_t *b = teep_buf_copy(0, msg, strlen(msg));
    teep_http_respond(req, status, h, 1, b);
    teep_buf_unref(b);
}

static bool signature_ok(const loop_ctx_t *ctx, const teep_buf_t *body)
{
    teep_cose_t cose;
    return teep_cose_parse(body->pos, teep_buf_len(body), &cose, NULL) == 0 &&
           teep_cose_verify(&cose, &ctx->canned->agent_key, NULL, 0) == 0;
}

static void answer(loop_ctx_t *ctx, teep_http_request_t *req)
{
    ctx->answered++;
    if (ctx->opt->status != 0) {
        text(req, ctx->opt->status, "replay-tam: configured failure\n");
        return;
    }
    teep_buf_t *body = req->body;
    if (body == NULL || teep_buf_len(body) == 0) {
        teep_http_respond(req, 200, teep_headers, 4, ctx->query_request);
        return;
    }
    teep_slice_t ct = req->content_type;
    if (ct.len < strlen(MEDIA_TYPE) ||
        strncasecmp((const char *)ct.ptr, MEDIA_TYPE, strlen(MEDIA_TYPE)))
        return text(req, 415, "replay-tam: Content-Type\n");
    teep_peek_t pk;
    if (teep_peek(body->pos, teep_buf_len(body), TEEP_PEEK_AUTO, &pk, NULL) < 0)
        return text(req, 400, "replay-tam: not a TEEP message\n");
    if (ctx->opt->verify && !signature_ok(ctx, body))
        return text(req, 400, "replay-tam: the signature does not verify\n");
    switch (pk.type) {
    case TEEP_QUERY_RESPONSE:
        teep_http_respond(req, 200, teep_headers, 4, ctx->update);
        return;
    case TEEP_SUCCESS:
    case TEEP_ERROR: teep_http_respond(req, 204, NULL, 0, NULL); return;
    default: text(req, 400, "replay-tam: unexpected message type\n"); return;
    }
}

static void delayed_closed(uv_handle_t *h)
{
    free(h->data);
}

static void on_delay(uv_timer_t *t)
{
    delayed_t *d = t->data;
    if (d->req != NULL)
        answer(d->ctx, d->req);
    uv_close((uv_handle_t *)t, delayed_closed);
}

static void on_request(teep_http_server_t *server, teep_http_request_t *req)
{
    loop_ctx_t *ctx = server->data;
    if (strcmp(req->method, "GET") == 0) {
        text(req, 200, "ok\n");
        return;
    }
    if (strcmp(req->method, "POST") != 0) {
        text(req, 405, "replay-tam: POST only\n");
        return;
    }
    if (ctx->opt->delay_ms == 0) {
        answer(ctx, req);
        return;
    }
    delayed_t *d = calloc(1, sizeof(*d));
    if (d == NULL) {
        text(req, 500, "replay-tam: out of memory\n");
        return;
    }
    d->req = req;
    d->ctx = ctx;
    req->data = d;
    uv_timer_init(&ctx->loop, &d->timer);
    d->timer.data = d;
    uv_timer_start(&d->timer, on_delay, ctx->opt->delay_ms, 0);
}

static void on_abandon(teep_http_server_t *server, teep_http_request_t *req)
{
    delayed_t *d = req->data;
    if (d != NULL)
        d->req = NULL; /* the timer still fires and frees d */
}

static void server_stopped(teep_http_server_t *server)
{
    loop_ctx_t *ctx = server->data;
    uv_close((uv_handle_t *)&ctx->stop, NULL);
}

static void on_stop(uv_async_t *a)
{
    loop_ctx_t *ctx = a->data;
    teep_http_server_stop(&ctx->server, server_stopped);
}

static void log_line(void *data, const char *line)
{
    const loop_ctx_t *ctx = data;
    if (!ctx->opt->quiet)
        fprintf(stderr, "replay-tam: %s\n", line);
}

static int loop_open(loop_ctx_t *ctx, unsigned port)
{
    uv_loop_init(&ctx->loop);
    ctx->query_request = teep_buf_copy(0, ctx->canned->query_request,
                                       ctx->canned->query_request_len);
    ctx->update =
        teep_buf_copy(0, ctx->canned->update, ctx->canned->update_len);
    teep_http_server_config_t cfg;
    teep_http_server_config_default(&cfg);
    cfg.log = log_line;
    cfg.log_data = ctx;
    cfg.max_connections = 100000;
    int rc = teep_http_server_init(&ctx->server, &ctx->loop, &cfg, on_request,
                                   on_abandon);
    if (rc < 0)
        return rc;
    ctx->server.data = ctx;
    uv_async_init(&ctx->loop, &ctx->stop, on_stop);
    ctx->stop.data = ctx;
    return teep_http_server_listen(&ctx->server, ctx->opt->host, (uint16_t)port,
                                   TEEP_HTTP_REUSEPORT);
}

static void loop_run(void *arg)
{
    loop_ctx_t *ctx = arg;
    uv_run(&ctx->loop, UV_RUN_DEFAULT);
}

/* The main thread waits for a signal or the lifetime, then stops every
 * loop through its async handle and closes its own handles. */
static loop_ctx_t *all_loops;
static unsigned n_loops;
static uv_signal_t sigterm_h, sigint_h;
static uv_timer_t lifetime_h;

static void finish(void)
{
    if (uv_is_closing((uv_handle_t *)&lifetime_h))
        return;
    uv_close((uv_handle_t *)&sigterm_h, NULL);
    uv_close((uv_handle_t *)&sigint_h, NULL);
    uv_close((uv_handle_t *)&lifetime_h, NULL);
    for (unsigned i = 0; i < n_loops; i++)
        uv_async_send(&all_loops[i].stop);
}

static void on_signal(uv_signal_t *s, int signum)
{
    finish();
}

static void on_lifetime(uv_timer_t *t)
{
    fprintf(stderr, "replay-tam: lifetime over, stopping\n");
    finish();
}

static void usage(void)
{
    fprintf(stderr,
            "usage: teep-replay-tam [--host ADDR] [--port N] [--threads N]\n"
            "         [--lifetime S] [--delay-ms N] [--status N] [--verify]\n"
            "         [--vectors DIR] [--profile rfc|legacy] [--quiet]\n");
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"host", required_argument, NULL, 'H'},
        {"port", required_argument, NULL, 'p'},
        {"threads", required_argument, NULL, 't'},
        {"lifetime", required_argument, NULL, 'l'},
        {"delay-ms", required_argument, NULL, 'd'},
        {"status", required_argument, NULL, 's'},
        {"verify", no_argument, NULL, 'v'},
        {"vectors", required_argument, NULL, 'V'},
        {"profile", required_argument, NULL, 'P'},
        {"quiet", no_argument, NULL, 'q'},
        {NULL, 0, NULL, 0},
    };
    options_t opt = {.host = "127.0.0.1",
                     .threads = 1,
                     .lifetime = 60,
                     .vectors = TEEP_VECTORS_DIR,
                     .profile = "tp26"};
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'H': opt.host = optarg; break;
        case 'p': opt.port = (unsigned)strtoul(optarg, NULL, 10); break;
        case 't': opt.threads = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'l': opt.lifetime = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'd': opt.delay_ms = (unsigned)strtoul(optarg, NULL, 10); break;
        case 's': opt.status = (int)strtol(optarg, NULL, 10); break;
        case 'v': opt.verify = true; break;
        case 'V': opt.vectors = optarg; break;
        case 'P':
            opt.profile = strcmp(optarg, "legacy") == 0 ? "tp" : "tp26";
            break;
        case 'q': opt.quiet = true; break;
        default: usage(); return 2;
        }
    }
    if (opt.threads == 0 || opt.threads > 64 || opt.port > 65535) {
        usage();
        return 2;
    }
    canned_t canned = {0};
    char name[128];
    snprintf(name, sizeof(name), "gen_%s_query_request_cose_sign1_esp256.hex",
             opt.profile);
    canned.query_request =
        load_hex(opt.vectors, name, &canned.query_request_len);
    snprintf(name, sizeof(name), "gen_%s_update_cose_sign1_esp256.hex",
             opt.profile);
    canned.update = load_hex(opt.vectors, name, &canned.update_len);
    char key[4096];
    snprintf(key, sizeof(key), "%s/keys/libteep_teep_agent_prime256v1_pub.pem",
             opt.vectors);
    if (canned.query_request == NULL || canned.update == NULL ||
        (opt.verify && teep_key_load_file(&canned.agent_key, key) < 0)) {
        fprintf(stderr, "replay-tam: cannot load the vectors from %s\n",
                opt.vectors);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    all_loops = calloc(opt.threads, sizeof(*all_loops));
    n_loops = opt.threads;
    unsigned port = opt.port;
    for (unsigned i = 0; i < opt.threads; i++) {
        loop_ctx_t *ctx = &all_loops[i];
        ctx->opt = &opt;
        ctx->canned = &canned;
        int rc = loop_open(ctx, port);
        if (rc < 0) {
            fprintf(stderr, "replay-tam: listen %s:%u: %s\n", opt.host, port,
                    teep_http_strerror(rc));
            return 1;
        }
        port = (unsigned)teep_http_server_port(&ctx->server, 0);
    }
    printf("port %u\n", port);
    fflush(stdout);
    for (unsigned i = 0; i < opt.threads; i++)
        uv_thread_create(&all_loops[i].thread, loop_run, &all_loops[i]);
    uv_loop_t *main_loop = uv_default_loop();
    uv_signal_init(main_loop, &sigterm_h);
    uv_signal_init(main_loop, &sigint_h);
    uv_signal_start(&sigterm_h, on_signal, SIGTERM);
    uv_signal_start(&sigint_h, on_signal, SIGINT);
    uv_timer_init(main_loop, &lifetime_h);
    uv_timer_start(&lifetime_h, on_lifetime, (uint64_t)opt.lifetime * 1000, 0);
    uv_run(main_loop, UV_RUN_DEFAULT);
    uint64_t answered = 0;
    for (unsigned i = 0; i < opt.threads; i++) {
        uv_thread_join(&all_loops[i].thread);
        answered += all_loops[i].answered;
        teep_buf_unref(all_loops[i].query_request);
        teep_buf_unref(all_loops[i].update);
        uv_loop_close(&all_loops[i].loop);
    }
    if (!opt.quiet)
        fprintf(stderr, "replay-tam: answered %llu POSTs\n",
                (unsigned long long)answered);
    uv_loop_close(main_loop);
    free(all_loops);
    free(canned.query_request);
    free(canned.update);
    teep_key_clear(&canned.agent_key);
    return 0;
}
