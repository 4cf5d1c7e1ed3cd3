/*
 * http_transport.c: the HTTP transport plugin: the broker as a TEEP/HTTP
 * server to devices (draft-ietf-teep-otrp-over-http, digest section 3),
 * on the shared HTTP module (teep/http.h).
 *
 * A POST to the route prefix (default /tam) is an exchange for the
 * default route, /tam/NAME one for route NAME (or, with route_from =
 * host, the Host's first label names the route).  An empty body starts a
 * session; a body must be application/teep+cbor (else 415).  The request
 * body buffer is submitted as it was received, and the TAM's answer
 * buffer is written back as it was read: no copy on this path.
 * Keep-alive and pipelining come from the HTTP module (responses leave in
 * request order).
 *
 * Listener options: path_prefix, route_from (path | host), max_body,
 * max_connections, max_pipelined, header_timeout_ms, body_timeout_ms,
 * idle_timeout_ms, tls_cert + tls_key (for https).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_transport.h"

typedef struct instance {
    const teep_transport_host_t *host;
    teep_http_server_t server;
    teep_http_url_t url;
    char listen_uri[512];
    char prefix[128];
    size_t prefix_len;
    bool route_from_host;
    teep_tls_ctx_t tls;
    uv_timer_t stats_timer;
    teep_http_server_stats_t published; /* counters already counted */
    void (*done)(void *arg);
    void *done_arg;
} instance_t;

/* ----------------------------------------------------------- requests */

static bool slice_eq(teep_slice_t s, const char *p, size_t n)
{
    return s.len == n && memcmp(s.ptr, p, n) == 0;
}

/* Whether a header value names the TEEP media type (parameters allowed,
 * case-insensitive). */
static bool names_teep(teep_slice_t v)
{
    static const char t[] = TEEP_MEDIA_TYPE;
    size_t n = sizeof(t) - 1;
    return v.len >= n && strncasecmp((const char *)v.ptr, t, n) == 0 &&
           (v.len == n || v.ptr[n] == ';' || v.ptr[n] == ' ');
}

/* An Accept header that allows the TEEP media type: absent, or listing
 * it, application/ *, or * / * (quality values are not weighed: any
 * mention is acceptance). */
static bool accept_ok(teep_slice_t a)
{
    if (a.len == 0)
        return true;
    const char *p = (const char *)a.ptr, *end = p + a.len;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == ','))
            p++;
        const char *start = p;
        while (p < end && *p != ',')
            p++;
        teep_slice_t item = {(const uint8_t *)start, (size_t)(p - start)};
        if (names_teep(item) ||
            (item.len >= 3 && memcmp(start, "*/*", 3) == 0) ||
            (item.len >= 13 && strncasecmp(start, "application/*", 13) == 0))
            return true;
    }
    return false;
}

/* The route named by the request: 0 with *route / *len set, or -1 when
 * the path is not one of ours. */
static int route_of(const instance_t *in, const teep_http_request_t *req,
                    const char **route, size_t *len)
{
    teep_slice_t p = req->path;
    *route = "";
    *len = 0;
    if (in->route_from_host) {
        if (!slice_eq(p, in->prefix, in->prefix_len))
            return -1;
        const char *h = (const char *)req->host.ptr;
        size_t n = 0;
        while (n < req->host.len && h[n] != '.' && h[n] != ':')
            n++;
        *route = h;
        *len = n;
        return 0;
    }
    if (p.len < in->prefix_len ||
        memcmp(p.ptr, in->prefix, in->prefix_len) != 0)
        return -1;
    if (p.len == in->prefix_len)
        return 0;
    const char *rest = (const char *)p.ptr + in->prefix_len;
    size_t rest_len = p.len - in->prefix_len;
    if (in->prefix_len > 1) {
        if (rest[0] != '/')
            return -1;
        rest++;
        rest_len--;
    }
    if (rest_len == 0 || memchr(rest, '/', rest_len) != NULL)
        return -1;
    *route = rest;
    *len = rest_len;
    return 0;
}

static void on_exchange_done(void *cb_data, const teep_exchange_reply_t *r)
{
    teep_http_request_t *req = cb_data;
    instance_t *in = req->server->data;
    req->data = NULL;
    if (teep_http_transport_reply(req, r) < 0) {
        in->host->log(in->host->host_data, TEEP_LOG_ERROR,
                      "cannot answer a request (out of memory)");
        teep_http_respond(req, 500, NULL, 0, NULL);
    }
}

static void on_request(teep_http_server_t *server, teep_http_request_t *req)
{
    instance_t *in = server->data;
    const teep_transport_host_t *host = in->host;
    const char *route;
    size_t route_len;
    host->count(host->host_data, "http_requests", 1);
    if (route_of(in, req, &route, &route_len) < 0) {
        teep_http_transport_refuse(req, 404, "no TAM route at this path", NULL);
        return;
    }
    if (strcmp(req->method, "POST") != 0) {
        static const teep_http_header_t allow =
            TEEP_HTTP_HEADER("Allow", "POST");
        teep_http_transport_refuse(req, 405, "TEEP over HTTP uses POST only",
                                   &allow);
        return;
    }
    bool empty = req->body == NULL || teep_buf_len(req->body) == 0;
    if (!empty && !names_teep(req->content_type)) {
        teep_http_transport_refuse(
            req, 415, "a TEEP message needs Content-Type: " TEEP_MEDIA_TYPE,
            NULL);
        return;
    }
    if (!accept_ok(req->accept)) {
        teep_http_transport_refuse(
            req, 406, "the answer is " TEEP_MEDIA_TYPE ": Accept refuses it",
            NULL);
        return;
    }
    teep_exchange_request_t x = {
        .size = sizeof(x),
        .route = route,
        .route_len = route_len,
        .peer = req->peer,
        .body = empty ? NULL : req->body,
        .cb = on_exchange_done,
        .cb_data = req,
    };
    teep_exchange_t *handle;
    int rc = host->submit(host->host_data, &x, &handle);
    if (rc < 0) {
        teep_http_transport_refuse(req, 500,
                                   "the broker cannot take the "
                                   "request",
                                   NULL);
        return;
    }
    req->data = handle;
}

static void on_abandon(teep_http_server_t *server, teep_http_request_t *req)
{
    instance_t *in = server->data;
    if (req->data != NULL)
        in->host->cancel(in->host->host_data, req->data);
    req->data = NULL;
}

/* ------------------------------------------------------------ metrics */

static void publish(instance_t *in)
{
    const teep_transport_host_t *h = in->host;
    const teep_http_server_stats_t *s = &in->server.stats;
    teep_http_server_stats_t *p = &in->published;
    h->gauge(h->host_data, "connections", s->connections_active);
#define DELTA(field, name)                                                     \
    do {                                                                       \
        if (s->field > p->field)                                               \
            h->count(h->host_data, name, s->field - p->field);                 \
    } while (0)
    DELTA(connections_accepted, "connections_accepted");
    DELTA(connections_refused, "connections_refused");
    DELTA(bad_requests, "http_400");
    DELTA(timeouts, "http_408");
    DELTA(body_too_large, "http_413");
    DELTA(head_too_large, "http_431");
    DELTA(abandoned, "abandoned");
    DELTA(bytes_in, "bytes_in");
    DELTA(bytes_out, "bytes_out");
#undef DELTA
    *p = *s;
}

static void on_stats(uv_timer_t *t)
{
    publish(t->data);
}

/* ----------------------------------------------------------- options */

static int bad_option(instance_t *in, const char *key, const char *value,
                      const char *why)
{
    in->host->log(in->host->host_data, TEEP_LOG_ERROR, "option %s = %s: %s",
                  key, value, why);
    return -EINVAL;
}

static int number(const char *v, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno != 0 || *end != '\0' || end == v || n < min || n > max)
        return -EINVAL;
    *out = n;
    return 0;
}

static int apply_options(instance_t *in, teep_http_server_config_t *cfg,
                         const teep_transport_option_t *o, size_t n,
                         const char **cert, const char **key)
{
    static const struct {
        const char *name;
        size_t offset;
        uint64_t min, max;
        bool size;
    } nums[] = {
        {"max_body", offsetof(teep_http_server_config_t, max_body_size), 1,
         1u << 30, true},
        {"max_connections",
         offsetof(teep_http_server_config_t, max_connections), 1, 1000000,
         true},
        {"max_pipelined", offsetof(teep_http_server_config_t, max_pipelined), 1,
         1024, true},
        {"header_timeout_ms",
         offsetof(teep_http_server_config_t, header_timeout_ms), 1, 3600000,
         false},
        {"body_timeout_ms",
         offsetof(teep_http_server_config_t, body_timeout_ms), 1, 3600000,
         false},
        {"idle_timeout_ms",
         offsetof(teep_http_server_config_t, idle_timeout_ms), 1, 86400000,
         false},
    };
    for (size_t i = 0; i < n; i++) {
        const char *k = o[i].key, *v = o[i].value;
        bool done = false;
        for (size_t j = 0; j < sizeof(nums) / sizeof(nums[0]) && !done; j++) {
            if (strcmp(k, nums[j].name) != 0)
                continue;
            uint64_t x;
            if (number(v, nums[j].min, nums[j].max, &x) < 0)
                return bad_option(in, k, v, "not a number in range");
            char *field = (char *)cfg + nums[j].offset;
            if (nums[j].size)
                *(size_t *)(void *)field = (size_t)x;
            else
                *(uint64_t *)(void *)field = x;
            done = true;
        }
        if (done)
            continue;
        if (strcmp(k, "path_prefix") == 0) {
            if (v[0] != '/' || strlen(v) >= sizeof(in->prefix))
                return bad_option(in, k, v, "a path starting with '/'");
            snprintf(in->prefix, sizeof(in->prefix), "%s", v);
        } else if (strcmp(k, "route_from") == 0) {
            if (strcmp(v, "path") != 0 && strcmp(v, "host") != 0)
                return bad_option(in, k, v, "path or host expected");
            in->route_from_host = strcmp(v, "host") == 0;
        } else if (strcmp(k, "tls_cert") == 0) {
            *cert = v;
        } else if (strcmp(k, "tls_key") == 0) {
            *key = v;
        } else {
            return bad_option(in, k, v, "unknown option");
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- ops */

/* teep_http_url_parse, except that port 0 (an ephemeral port, which a
 * URL to connect to never has) is accepted: it is parsed as port 1, then
 * set back. */
static int parse_listen_uri(const char *uri, teep_http_url_t *out)
{
    const char *auth = strstr(uri, "://");
    if (auth == NULL)
        return TEEP_HTTP_E_URL;
    auth += 3;
    size_t auth_len = strcspn(auth, "/?#");
    if (auth_len < 2 || auth[auth_len - 2] != ':' || auth[auth_len - 1] != '0')
        return teep_http_url_parse(uri, out);
    char copy[512];
    if (strlen(uri) >= sizeof(copy))
        return TEEP_HTTP_E_URL;
    strcpy(copy, uri);
    copy[(size_t)(auth - uri) + auth_len - 1] = '1';
    int rc = teep_http_url_parse(copy, out);
    if (rc < 0)
        return rc;
    out->port = 0;
    /* The path pointed into the copy: point it into uri. */
    if (out->path.ptr != NULL && out->path.len > 0 &&
        (const char *)out->path.ptr >= copy &&
        (const char *)out->path.ptr < copy + sizeof(copy))
        out->path.ptr =
            (const uint8_t *)uri + ((const char *)out->path.ptr - copy);
    return 0;
}

static void server_log(void *data, const char *line)
{
    instance_t *in = data;
    in->host->log(in->host->host_data, TEEP_LOG_DEBUG, "%s", line);
}

static int create(const teep_transport_host_t *host, const char *listen_uri,
                  const teep_transport_option_t *options, size_t n_options,
                  void **out)
{
    instance_t *in = calloc(1, sizeof(*in));
    if (in == NULL)
        return -ENOMEM;
    in->host = host;
    snprintf(in->listen_uri, sizeof(in->listen_uri), "%s", listen_uri);
    if (parse_listen_uri(listen_uri, &in->url) < 0) {
        host->log(host->host_data, TEEP_LOG_ERROR,
                  "listener %s: not an http:// or https:// URI", listen_uri);
        free(in);
        return -EINVAL;
    }
    /* A path in the listener URI is the route prefix. */
    if (in->url.path.len > 1 && in->url.path.len < sizeof(in->prefix))
        memcpy(in->prefix, in->url.path.ptr, in->url.path.len);
    else
        strcpy(in->prefix, "/tam");
    teep_http_server_config_t cfg;
    teep_http_server_config_default(&cfg);
    const char *cert = NULL, *key = NULL;
    int rc = apply_options(in, &cfg, options, n_options, &cert, &key);
    in->prefix_len = strlen(in->prefix);
    if (rc == 0 && in->url.tls != (cert != NULL && key != NULL)) {
        host->log(host->host_data, TEEP_LOG_ERROR,
                  "listener %s: https needs tls_cert and tls_key, http "
                  "takes neither",
                  listen_uri);
        rc = -EINVAL;
    }
    if (rc == 0 && cert != NULL) {
        rc = teep_tls_server_ctx_init(&in->tls, cert, key);
        if (rc < 0)
            host->log(host->host_data, TEEP_LOG_ERROR,
                      "listener %s: TLS certificate or key unusable",
                      listen_uri);
        else
            cfg.tls = &in->tls;
    }
    cfg.log = server_log;
    cfg.log_data = in;
    if (rc == 0)
        rc = teep_http_server_init(&in->server, host->loop, &cfg, on_request,
                                   on_abandon);
    if (rc < 0) {
        teep_tls_ctx_free(&in->tls);
        free(in);
        return rc;
    }
    in->server.data = in;
    uv_timer_init(host->loop, &in->stats_timer);
    in->stats_timer.data = in;
    *out = in;
    return 0;
}

static int start(void *instance)
{
    instance_t *in = instance;
    int rc = teep_http_server_listen(&in->server, in->url.host, in->url.port,
                                     TEEP_HTTP_REUSEPORT);
    if (rc < 0) {
        in->host->log(in->host->host_data, TEEP_LOG_ERROR, "listen %s: %s",
                      in->listen_uri, teep_http_strerror(rc));
        return rc;
    }
    uv_timer_start(&in->stats_timer, on_stats, 1000, 1000);
    return 0;
}

static int local_uri(void *instance, char *buf, size_t cap)
{
    instance_t *in = instance;
    int port = teep_http_server_port(&in->server, 0);
    if (port < 0)
        return port;
    bool v6 = strchr(in->url.host, ':') != NULL;
    int n =
        snprintf(buf, cap, "%s://%s%s%s:%d%.*s", in->url.tls ? "https" : "http",
                 v6 ? "[" : "", in->url.host, v6 ? "]" : "", port,
                 in->url.path.len > 1 ? (int)in->url.path.len : 0,
                 (const char *)in->url.path.ptr);
    return n > 0 && (size_t)n < cap ? 0 : -ENOSPC;
}

static void timer_closed(uv_handle_t *h)
{
    instance_t *in = h->data;
    in->done(in->done_arg);
}

static void server_stopped(teep_http_server_t *server)
{
    instance_t *in = server->data;
    publish(in);
    uv_close((uv_handle_t *)&in->stats_timer, timer_closed);
}

static void stop(void *instance, void (*done)(void *arg), void *arg)
{
    instance_t *in = instance;
    in->done = done;
    in->done_arg = arg;
    teep_http_server_stop(&in->server, server_stopped);
}

static void destroy(void *instance)
{
    instance_t *in = instance;
    teep_tls_ctx_free(&in->tls);
    free(in);
}

static const char *const schemes[] = {"http", "https", NULL};

static const teep_transport_ops_t ops = {
    .size = sizeof(teep_transport_ops_t),
    .schemes = schemes,
    .headroom = 0,
    .create = create,
    .start = start,
    .local_uri = local_uri,
    .stop = stop,
    .destroy = destroy,
    .push = NULL,
};

TEEP_PLUGIN_DEFINE(TEEP_PLUGIN_CLASS_TRANSPORT, "http",
                   "TEEP over HTTP/1.1 (draft-ietf-teep-otrp-over-http)", &ops);
