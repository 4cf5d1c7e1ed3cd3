/*
 * admin.c: the admin listener (admin.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "broker.h"
#include "log.h"

static bool is(teep_slice_t s, const char *lit)
{
    return s.len == strlen(lit) && memcmp(s.ptr, lit, s.len) == 0;
}

static void answer(teep_http_request_t *req, int status, const char *type,
                   const char *text, size_t len)
{
    teep_http_header_t h[] = {
        {{(const uint8_t *)"Content-Type", 12},
         {(const uint8_t *)type, strlen(type)}},
        TEEP_HTTP_HEADER("Cache-Control", "no-store"),
    };
    teep_buf_t *body = teep_buf_copy(0, text, len);
    if (teep_http_respond(req, status, h, 2, body) < 0)
        teep_http_respond(req, 500, NULL, 0, NULL);
    teep_buf_unref(body);
}

static void answer_text(teep_http_request_t *req, int status, const char *text)
{
    answer(req, status, "text/plain; charset=utf-8", text, strlen(text));
}

/* The value of key in a query string ("tee=a&component=b"), percent
 * signs not decoded: the values are names and hex. */
static bool query_value(teep_slice_t target, const char *key, char *out,
                        size_t cap)
{
    const char *q = memchr(target.ptr, '?', target.len);
    if (q == NULL)
        return false;
    const char *end = (const char *)target.ptr + target.len;
    size_t klen = strlen(key);
    for (const char *p = q + 1; p < end;) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp != NULL ? amp : end;
        if ((size_t)(stop - p) > klen && memcmp(p, key, klen) == 0 &&
            p[klen] == '=') {
            size_t n = (size_t)(stop - p) - klen - 1;
            if (n == 0 || n >= cap)
                return false;
            memcpy(out, p + klen + 1, n);
            out[n] = '\0';
            return true;
        }
        p = stop + 1;
    }
    return false;
}

static bool authorised(teep_broker_admin_t *a, teep_http_request_t *req)
{
    if (a->token[0] == '\0')
        return true;
    char want[300];
    snprintf(want, sizeof(want), "Bearer %s", a->token);
    return is(req->authorization, want);
}

static void tee_command(teep_broker_admin_t *a, teep_http_request_t *req,
                        teep_broker_cmd_kind_t kind)
{
    char tee[65], component[1024] = "";
    if (!query_value(req->target, "tee", tee, sizeof(tee))) {
        answer_text(req, 400, "tee=NAME is required\n");
        return;
    }
    if (kind == TEEP_BROKER_CMD_REQUEST_TA &&
        !query_value(req->target, "component", component, sizeof(component))) {
        answer_text(req, 400, "component=HEX is required\n");
        return;
    }
    int rc = teep_broker_tee_command(a->broker, kind, tee, component);
    if (rc == -ENOENT)
        answer_text(req, 404, "no such tee\n");
    else if (rc < 0)
        answer_text(req, 500, "cannot queue the command\n");
    else
        answer_text(req, 202, "accepted\n");
}

/* POST /admin/push?device=NAME: the TAM's "make this device check in". */
static void push_command(teep_broker_admin_t *a, teep_http_request_t *req)
{
    char device[256];
    if (!query_value(req->target, "device", device, sizeof(device))) {
        answer_text(req, 400, "device=NAME is required\n");
        return;
    }
    int rc = teep_broker_push(a->broker, device);
    if (rc == -EINVAL)
        answer_text(req, 400, "bad device name\n");
    else if (rc < 0)
        answer_text(req, 503, "no worker to push from\n");
    else
        answer_text(req, 202, "accepted\n");
}

static void on_request(teep_http_server_t *server, teep_http_request_t *req)
{
    teep_broker_admin_t *a = server->data;
    bool get =
        strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
    bool post = strcmp(req->method, "POST") == 0;
    if (is(req->path, "/metrics") && get) {
        teep_broker_text_t t = {0};
        teep_broker_metrics(a->broker, &t);
        if (t.failed)
            answer_text(req, 500, "out of memory\n");
        else
            answer(req, 200, "text/plain; version=0.0.4; charset=utf-8", t.buf,
                   t.len);
        teep_broker_text_free(&t);
    } else if (is(req->path, "/healthz") && get) {
        answer_text(req, 200, "ok\n");
    } else if (is(req->path, "/readyz") && get) {
        char why[256];
        bool ready = teep_broker_ready(a->broker, why, sizeof(why));
        answer_text(req, ready ? 200 : 503, why);
    } else if ((is(req->path, "/admin/policy-check") ||
                is(req->path, "/admin/request-ta")) &&
               post) {
        if (!authorised(a, req)) {
            answer_text(req, 401, "a bearer token is required\n");
            return;
        }
        tee_command(a, req,
                    is(req->path, "/admin/policy-check")
                        ? TEEP_BROKER_CMD_POLICY_CHECK
                        : TEEP_BROKER_CMD_REQUEST_TA);
    } else if (is(req->path, "/admin/push") && post) {
        if (!authorised(a, req)) {
            answer_text(req, 401, "a bearer token is required\n");
            return;
        }
        push_command(a, req);
    } else if (is(req->path, "/metrics") || is(req->path, "/healthz") ||
               is(req->path, "/readyz") ||
               is(req->path, "/admin/policy-check") ||
               is(req->path, "/admin/request-ta") ||
               is(req->path, "/admin/push")) {
        answer_text(req, 405, "method not allowed\n");
    } else {
        answer_text(req, 404, "not found\n");
    }
}

static void admin_log(void *data, const char *line)
{
    char q[400];
    teep_broker_log(TEEP_LOG_DEBUG, "event=admin msg=%s",
                    teep_broker_log_quote(line, strlen(line), q, sizeof(q)));
}

int teep_broker_admin_start(teep_broker_admin_t *a, uv_loop_t *loop,
                            struct teep_broker *broker, const char *listen,
                            const char *token)
{
    memset(a, 0, sizeof(*a));
    a->broker = broker;
    if (token != NULL)
        snprintf(a->token, sizeof(a->token), "%s", token);
    char host[TEEP_HTTP_MAX_HOST + 1];
    uint16_t port;
    if (teep_broker_listen_addr(listen, host, &port) < 0)
        return -EINVAL;
    teep_http_server_config_t cfg;
    teep_http_server_config_default(&cfg);
    cfg.max_connections = 64;
    cfg.max_body_size = 4096;
    cfg.log = admin_log;
    int rc = teep_http_server_init(&a->server, loop, &cfg, on_request, NULL);
    if (rc < 0)
        return rc;
    a->server.data = a;
    rc = teep_http_server_listen(&a->server, host, port, 0);
    a->running = true;
    return rc;
}

int teep_broker_admin_port(teep_broker_admin_t *a)
{
    return teep_http_server_port(&a->server, 0);
}

static void on_stopped(teep_http_server_t *server)
{
    teep_broker_admin_t *a = server->data;
    a->running = false;
    if (a->on_stopped != NULL)
        a->on_stopped(a);
}

void teep_broker_admin_stop(teep_broker_admin_t *a,
                            void (*cb)(teep_broker_admin_t *a))
{
    a->on_stopped = cb;
    teep_http_server_stop(&a->server, on_stopped);
}
