/*
 * http_echo: a tiny server on teepnet for tests that drive it with real
 * clients (curl, wrk).  It prints "port N" once listening, then answers:
 *   POST <any>    200, the request body echoed with its Content-Type
 *   GET  /empty   204
 *   GET  <other>  200 "ok\n"
 *   any  /stop    200, then a graceful stop
 * and stops by itself after --lifetime seconds (default 60) or on SIGTERM,
 * so a failing test never leaves it behind.
 *
 * Usage: http_echo [--host ADDR] [--port N] [--lifetime S]
 *                  [--max-body BYTES] [--tls CERT KEY]
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "teep/http.h"

typedef struct echo {
    uv_loop_t *loop;
    teep_http_server_t server;
    uv_timer_t lifetime;
    uv_signal_t sigterm;
    uv_signal_t sigint;
} echo_t;

static bool slice_is(teep_slice_t s, const char *lit)
{
    return s.len == strlen(lit) && memcmp(s.ptr, lit, s.len) == 0;
}

static void on_stopped(teep_http_server_t *server)
{
    echo_t *e = server->data;
    uv_close((uv_handle_t *)&e->lifetime, NULL);
    uv_close((uv_handle_t *)&e->sigterm, NULL);
    uv_close((uv_handle_t *)&e->sigint, NULL);
}

static void stop(echo_t *e)
{
    teep_http_server_stop(&e->server, on_stopped);
}

static void on_request(teep_http_server_t *server, teep_http_request_t *req)
{
    echo_t *e = server->data;
    bool post = strcmp(req->method, "POST") == 0;
    bool want_stop = slice_is(req->path, "/stop");
    int rc;
    if (post) {
        teep_slice_t type = req->content_type;
        if (type.len == 0)
            type =
                (teep_slice_t){(const uint8_t *)"application/octet-stream", 24};
        teep_http_header_t h[] = {
            {{(const uint8_t *)"Content-Type", 12}, type},
            TEEP_HTTP_HEADER("X-Echo-Method", "POST"),
        };
        rc = teep_http_respond(req, 200, h, 2, req->body);
    } else if (slice_is(req->path, "/empty")) {
        rc = teep_http_respond(req, 204, NULL, 0, NULL);
    } else {
        static const teep_http_header_t h[] = {
            TEEP_HTTP_HEADER("Content-Type", "text/plain"),
        };
        teep_buf_t *ok = teep_buf_copy(0, "ok\n", 3);
        rc = teep_http_respond(req, 200, h, 1, ok);
        teep_buf_unref(ok);
    }
    if (rc < 0)
        fprintf(stderr, "http_echo: respond: %s\n", teep_http_strerror(rc));
    if (want_stop)
        stop(e);
}

static void on_lifetime(uv_timer_t *t)
{
    fprintf(stderr, "http_echo: lifetime over, stopping\n");
    stop(t->data);
}

static void on_signal(uv_signal_t *s, int signum)
{
    stop(s->data);
}

static void log_line(void *data, const char *line)
{
    fprintf(stderr, "%s\n", line);
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1";
    unsigned port = 0;
    unsigned lifetime = 60;
    const char *cert = NULL;
    const char *key = NULL;
    teep_http_server_config_t cfg;
    teep_http_server_config_default(&cfg);
    cfg.log = log_line;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--host") == 0 && i + 1 < argc) {
            host = argv[++i];
        } else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            port = (unsigned)strtoul(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--lifetime") == 0 && i + 1 < argc) {
            lifetime = (unsigned)strtoul(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--max-body") == 0 && i + 1 < argc) {
            cfg.max_body_size = strtoul(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--tls") == 0 && i + 2 < argc) {
            cert = argv[++i];
            key = argv[++i];
        } else {
            fprintf(stderr,
                    "usage: http_echo [--host ADDR] [--port N] [--lifetime S]"
                    " [--max-body BYTES] [--tls CERT KEY]\n");
            return 2;
        }
    }
    teep_tls_ctx_t tls = {0};
    if (cert != NULL) {
        int rc = teep_tls_server_ctx_init(&tls, cert, key);
        if (rc < 0) {
            fprintf(stderr, "http_echo: TLS: %s\n", teep_http_strerror(rc));
            return 1;
        }
        cfg.tls = &tls;
    }
    echo_t e = {.loop = uv_default_loop()};
    e.server.data = &e;
    int rc = teep_http_server_init(&e.server, e.loop, &cfg, on_request, NULL);
    if (rc == 0) {
        e.server.data = &e;
        rc = teep_http_server_listen(&e.server, host, (uint16_t)port, 0);
    }
    if (rc < 0) {
        fprintf(stderr, "http_echo: listen %s:%u: %s\n", host, port,
                teep_http_strerror(rc));
        return 1;
    }
    uv_timer_init(e.loop, &e.lifetime);
    e.lifetime.data = &e;
    uv_timer_start(&e.lifetime, on_lifetime, (uint64_t)lifetime * 1000, 0);
    uv_signal_init(e.loop, &e.sigterm);
    uv_signal_init(e.loop, &e.sigint);
    e.sigterm.data = e.sigint.data = &e;
    uv_signal_start(&e.sigterm, on_signal, SIGTERM);
    uv_signal_start(&e.sigint, on_signal, SIGINT);
    printf("port %d\n", teep_http_server_port(&e.server, 0));
    fflush(stdout);
    uv_run(e.loop, UV_RUN_DEFAULT);
    teep_tls_ctx_free(&tls);
    uv_loop_close(e.loop);
    const teep_http_server_stats_t *s = &e.server.stats;
    fprintf(stderr,
            "http_echo: %llu connections, %llu requests, %llu responses\n",
            (unsigned long long)s->connections_accepted,
            (unsigned long long)s->requests, (unsigned long long)s->responses);
    return 0;
}
