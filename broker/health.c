/*
 * health.c: active endpoint checks on the main loop (health.h).
 *
 * One probe per endpoint: an interval timer, and either a TCP connect
 * attempt (its own handles, freed in their close callbacks, so a probe
 * that stops need not wait for it) or a one-connection HTTP client.  A
 * probe set belongs to one route table and frees itself when its last
 * handle closed.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "health.h"
#include "log.h"
#include "teep/http.h"
#include "teep/transport_plugin.h"

typedef struct probe probe_t;

typedef struct tcp_attempt {
    uv_tcp_t tcp;
    uv_connect_t req;
    uv_timer_t timer;
    probe_t *probe; /* NULL once the probe stopped */
    int handles;
    bool done;
} tcp_attempt_t;

struct probe {
    teep_broker_probes_t *set;
    teep_broker_endpoint_t *ep;
    const teep_broker_route_cfg_t *cfg;
    uv_timer_t interval;
    teep_http_client_t client;
    teep_http_client_req_t req;
    teep_tls_ctx_t tls;
    tcp_attempt_t *attempt;
    struct sockaddr_storage addr;
    bool http;
    bool busy;
};

struct teep_broker_probes {
    uv_loop_t *loop;
    teep_broker_routes_t *routes;
    probe_t *probes;
    size_t n;
    size_t open; /* handles (timers, clients) not closed yet */
};

static void report(probe_t *p, bool healthy, const char *why)
{
    p->busy = false;
    if (teep_broker_endpoint_set(p->ep, healthy) != healthy) {
        char q[200];
        teep_broker_log(healthy ? TEEP_LOG_INFO : TEEP_LOG_WARN,
                        "event=endpoint_%s route=%s endpoint=%s check=%s "
                        "reason=%s",
                        healthy ? "up" : "down", p->cfg->name, p->ep->url,
                        p->http ? "http" : "tcp",
                        teep_broker_log_quote(why, strlen(why), q, sizeof(q)));
    }
}

/* --------------------------------------------------------------- tcp */

static void attempt_closed(uv_handle_t *h)
{
    tcp_attempt_t *a = h->data;
    if (--a->handles == 0)
        free(a);
}

static void attempt_end(tcp_attempt_t *a, bool ok, const char *why)
{
    if (a->done)
        return;
    a->done = true;
    if (a->probe != NULL) {
        a->probe->attempt = NULL;
        report(a->probe, ok, why);
    }
    uv_close((uv_handle_t *)&a->tcp, attempt_closed);
    uv_close((uv_handle_t *)&a->timer, attempt_closed);
}

static void on_tcp_connect(uv_connect_t *req, int status)
{
    attempt_end(req->data, status == 0,
                status == 0 ? "connected" : uv_strerror(status));
}

static void on_tcp_timeout(uv_timer_t *t)
{
    attempt_end(t->data, false, "connect timed out");
}

/* The endpoint's address; names are resolved at each check (blocking,
 * but on the main loop, never a worker's). */
static int probe_addr(probe_t *p)
{
    teep_http_url_t u;
    if (teep_http_url_parse(p->ep->url, &u) < 0)
        return -EINVAL;
    if (teep_http_addr_literal(u.host, u.port, &p->addr) == 0)
        return 0;
    char port[8];
    snprintf(port, sizeof(port), "%u", u.port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM};
    uv_getaddrinfo_t r;
    if (uv_getaddrinfo(p->set->loop, &r, NULL, u.host, port, &hints) != 0)
        return -ENOENT;
    int rc = -ENOENT;
    if (r.addrinfo != NULL && r.addrinfo->ai_addrlen <= sizeof(p->addr)) {
        memcpy(&p->addr, r.addrinfo->ai_addr, r.addrinfo->ai_addrlen);
        rc = 0;
    }
    uv_freeaddrinfo(r.addrinfo);
    return rc;
}

static void check_tcp(probe_t *p)
{
    if (probe_addr(p) < 0) {
        report(p, false, "the host name does not resolve");
        return;
    }
    tcp_attempt_t *a = calloc(1, sizeof(*a));
    if (a == NULL) {
        p->busy = false;
        return;
    }
    uv_tcp_init(p->set->loop, &a->tcp);
    uv_timer_init(p->set->loop, &a->timer);
    a->tcp.data = a->timer.data = a->req.data = a;
    a->handles = 2;
    a->probe = p;
    p->attempt = a;
    int rc = uv_tcp_connect(&a->req, &a->tcp, (const struct sockaddr *)&p->addr,
                            on_tcp_connect);
    if (rc < 0) {
        attempt_end(a, false, uv_strerror(rc));
        return;
    }
    uv_timer_start(&a->timer, on_tcp_timeout, p->cfg->check_timeout_ms, 0);
}

/* -------------------------------------------------------------- http */

static void on_http_done(teep_http_client_req_t *req, int status,
                         const teep_http_response_t *resp)
{
    probe_t *p = req->data;
    if (status == TEEP_HTTP_E_CANCELED)
        return; /* the probe is closing */
    char why[96];
    if (status < 0)
        snprintf(why, sizeof(why), "%s", teep_http_strerror(status));
    else
        snprintf(why, sizeof(why), "answered %d", resp->status);
    report(p, status == 0 && resp->status >= 200 && resp->status < 300, why);
}

static void check_http(probe_t *p)
{
    static const teep_http_header_t post_headers[] = {
        TEEP_HTTP_HEADER("Accept", TEEP_MEDIA_TYPE),
        TEEP_HTTP_HEADER("Content-Type", TEEP_MEDIA_TYPE),
    };
    bool post = p->cfg->check == TEEP_BROKER_CHECK_POST;
    const char *path =
        p->cfg->check_path != NULL ? p->cfg->check_path : p->ep->path;
    p->req.data = p;
    int rc = teep_http_client_request(
        &p->client, &p->req, post ? "POST" : "GET", path,
        post ? post_headers : NULL, post ? 2 : 0, NULL, on_http_done);
    if (rc < 0)
        report(p, false, teep_http_strerror(rc));
}

static void on_interval(uv_timer_t *t)
{
    probe_t *p = t->data;
    if (p->busy)
        return; /* the previous check is still running */
    p->busy = true;
    if (p->http)
        check_http(p);
    else
        check_tcp(p);
}

/* --------------------------------------------------------- probe sets */

static void set_handle_closed(teep_broker_probes_t *set)
{
    if (--set->open > 0)
        return;
    for (size_t i = 0; i < set->n; i++)
        teep_tls_ctx_free(&set->probes[i].tls);
    teep_broker_routes_unref(set->routes);
    free(set->probes);
    free(set);
}

static void timer_closed(uv_handle_t *h)
{
    probe_t *p = h->data;
    set_handle_closed(p->set);
}

static void client_closed(teep_http_client_t *c)
{
    probe_t *p = c->data;
    set_handle_closed(p->set);
}

static void close_set(teep_broker_probes_t *set)
{
    /* Hold the set while closing, so that a close callback that runs at
     * once does not free it under the loop. */
    set->open++;
    for (size_t i = 0; i < set->n; i++) {
        probe_t *p = &set->probes[i];
        if (p->ep == NULL)
            continue;
        if (p->attempt != NULL) {
            p->attempt->probe = NULL;
            attempt_end(p->attempt, false, "stopped");
        }
        uv_close((uv_handle_t *)&p->interval, timer_closed);
        if (p->http)
            teep_http_client_close(&p->client, client_closed);
    }
    set_handle_closed(set);
}

static int open_probe(teep_broker_probes_t *set, probe_t *p,
                      teep_broker_endpoint_t *ep,
                      const teep_broker_route_cfg_t *cfg)
{
    p->set = set;
    p->cfg = cfg;
    p->http = cfg->check == TEEP_BROKER_CHECK_POST ||
              cfg->check == TEEP_BROKER_CHECK_GET;
    if (p->http) {
        teep_http_client_config_t cc;
        teep_http_client_config_default(&cc);
        cc.max_connections = 1;
        cc.max_pending = 1;
        cc.connect_timeout_ms = cfg->check_timeout_ms;
        cc.read_timeout_ms = cfg->check_timeout_ms;
        if (strncmp(ep->url, "https:", 6) == 0) {
            int rc = teep_tls_client_ctx_init(&p->tls, cfg->ca_file);
            if (rc < 0)
                return rc;
            cc.tls = &p->tls;
        }
        int rc = teep_http_client_init(&p->client, set->loop, ep->url, &cc);
        if (rc < 0)
            return rc;
        p->client.data = p;
        set->open++;
    }
    p->ep = ep;
    uv_timer_init(set->loop, &p->interval);
    p->interval.data = p;
    set->open++;
    uv_timer_start(&p->interval, on_interval, 0, cfg->check_interval_ms);
    return 0;
}

static int open_set(teep_broker_probes_t **out, uv_loop_t *loop,
                    teep_broker_routes_t *routes)
{
    teep_broker_probes_t *set = calloc(1, sizeof(*set));
    size_t n = 0;
    for (size_t r = 0; r < routes->n_routes; r++)
        n += routes->routes[r].cfg->n_endpoints;
    if (set == NULL || (set->probes = calloc(n + 1, sizeof(probe_t))) == NULL) {
        free(set);
        return -ENOMEM;
    }
    set->loop = loop;
    set->routes = teep_broker_routes_ref(routes);
    int rc = 0;
    for (size_t r = 0; r < routes->n_routes && rc == 0; r++) {
        const teep_broker_route_cfg_t *cfg = routes->routes[r].cfg;
        if (cfg->check == TEEP_BROKER_CHECK_NONE)
            continue;
        for (size_t e = 0; e < cfg->n_endpoints && rc == 0; e++)
            rc = open_probe(set, &set->probes[set->n++],
                            &routes->routes[r].endpoints[e], cfg);
    }
    if (rc < 0) {
        close_set(set);
        return rc;
    }
    *out = set;
    return 0;
}

int teep_broker_health_start(teep_broker_health_t *h, uv_loop_t *loop,
                             teep_broker_routes_t *routes)
{
    h->loop = loop;
    h->current = NULL;
    return open_set(&h->current, loop, routes);
}

int teep_broker_health_switch(teep_broker_health_t *h,
                              teep_broker_routes_t *routes)
{
    teep_broker_probes_t *set = NULL;
    int rc = open_set(&set, h->loop, routes);
    if (rc < 0)
        return rc;
    teep_broker_health_stop(h);
    h->current = set;
    return 0;
}

void teep_broker_health_stop(teep_broker_health_t *h)
{
    if (h->current != NULL)
        close_set(h->current);
    h->current = NULL;
}

size_t teep_broker_health_count(const teep_broker_routes_t *routes, size_t r)
{
    size_t n = 0;
    const teep_broker_route_t *route = &routes->routes[r];
    for (size_t e = 0; e < route->cfg->n_endpoints; e++)
        n += teep_broker_endpoint_healthy(&route->endpoints[e]);
    return n;
}

size_t teep_broker_health_total(const teep_broker_routes_t *routes)
{
    size_t n = 0;
    for (size_t r = 0; r < routes->n_routes; r++)
        n += teep_broker_health_count(routes, r);
    return n;
}
