/*
 * route.c: the shared table of TAM routes (route.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "route.h"
#include "teep/http.h"

static void free_table(teep_broker_routes_t *t)
{
    for (size_t r = 0; r < t->n_routes; r++) {
        teep_broker_route_t *route = &t->routes[r];
        for (size_t e = 0;
             route->endpoints != NULL && e < route->cfg->n_endpoints; e++) {
            free(route->endpoints[e].path);
            free(route->endpoints[e].shards);
        }
        free(route->endpoints);
    }
    free(t->routes);
    teep_broker_config_free(&t->config);
    free(t);
}

static int make_endpoint(teep_broker_endpoint_t *e, const char *url,
                         unsigned n_workers)
{
    teep_http_url_t u;
    if (teep_http_url_parse(url, &u) < 0)
        return -EINVAL;
    e->url = url;
    e->path = strndup((const char *)u.path.ptr, u.path.len);
    e->shards = aligned_alloc(_Alignof(teep_broker_ep_shard_t),
                              n_workers * sizeof(teep_broker_ep_shard_t));
    if (e->path == NULL || e->shards == NULL)
        return -ENOMEM;
    memset(e->shards, 0, n_workers * sizeof(teep_broker_ep_shard_t));
    atomic_init(&e->healthy, 1);
    return 0;
}

int teep_broker_routes_new(teep_broker_config_t *cfg, unsigned n_workers,
                           uint64_t generation, teep_broker_routes_t **out)
{
    *out = NULL;
    if (cfg->n_routes == 0 || n_workers == 0)
        return -EINVAL;
    teep_broker_routes_t *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return -ENOMEM;
    t->config = *cfg;
    memset(cfg, 0, sizeof(*cfg));
    atomic_init(&t->refs, 1);
    t->n_workers = n_workers;
    t->generation = generation;
    t->routes = calloc(t->config.n_routes, sizeof(*t->routes));
    if (t->routes == NULL) {
        free_table(t);
        return -ENOMEM;
    }
    t->n_routes = t->config.n_routes;
    for (size_t r = 0; r < t->n_routes; r++) {
        teep_broker_route_t *route = &t->routes[r];
        route->cfg = &t->config.routes[r];
        route->endpoints =
            calloc(route->cfg->n_endpoints, sizeof(*route->endpoints));
        if (route->endpoints == NULL) {
            free_table(t);
            return -ENOMEM;
        }
        for (size_t e = 0; e < route->cfg->n_endpoints; e++) {
            int rc = make_endpoint(&route->endpoints[e],
                                   route->cfg->endpoints[e], n_workers);
            if (rc < 0) {
                free_table(t);
                return rc;
            }
        }
    }
    t->default_route = 0;
    if (t->config.default_route != NULL)
        t->default_route =
            teep_broker_config_route(&t->config, t->config.default_route,
                                     strlen(t->config.default_route));
    if (t->default_route < 0) {
        free_table(t);
        return -EINVAL;
    }
    *out = t;
    return 0;
}

teep_broker_routes_t *teep_broker_routes_ref(teep_broker_routes_t *t)
{
    atomic_fetch_add_explicit(&t->refs, 1, memory_order_relaxed);
    return t;
}

void teep_broker_routes_unref(teep_broker_routes_t *t)
{
    /* acq_rel: the freeing thread sees every write of the other holders. */
    if (t != NULL &&
        atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) == 1)
        free_table(t);
}

int teep_broker_routes_find(const teep_broker_routes_t *t, const char *name,
                            size_t len)
{
    if (len == 0)
        return t->default_route;
    return teep_broker_config_route(&t->config, name, len);
}

int teep_broker_routes_find_url(const teep_broker_routes_t *t, const char *url)
{
    for (size_t r = 0; r < t->n_routes; r++)
        for (size_t e = 0; e < t->routes[r].cfg->n_endpoints; e++)
            if (strcmp(t->routes[r].endpoints[e].url, url) == 0)
                return (int)r;
    return -1;
}

void teep_broker_routes_inherit(teep_broker_routes_t *to,
                                const teep_broker_routes_t *from)
{
    for (size_t r = 0; r < to->n_routes; r++) {
        for (size_t e = 0; e < to->routes[r].cfg->n_endpoints; e++) {
            teep_broker_endpoint_t *ep = &to->routes[r].endpoints[e];
            for (size_t fr = 0; fr < from->n_routes; fr++)
                for (size_t fe = 0; fe < from->routes[fr].cfg->n_endpoints;
                     fe++) {
                    teep_broker_endpoint_t *old =
                        &from->routes[fr].endpoints[fe];
                    if (strcmp(old->url, ep->url) == 0)
                        atomic_store(&ep->healthy, atomic_load(&old->healthy));
                }
        }
    }
}

static uint64_t ep_sum(const teep_broker_routes_t *t,
                       const teep_broker_endpoint_t *ep, size_t offset)
{
    uint64_t n = 0;
    for (unsigned w = 0; w < t->n_workers; w++)
        n += teep_broker_get(
            (const teep_broker_counter_t *)((const char *)&ep->shards[w] +
                                            offset));
    return n;
}

#define EP_SUM(field) ep_sum(t, ep, offsetof(teep_broker_ep_shard_t, field))

void teep_broker_routes_render(teep_broker_text_t *text,
                               const teep_broker_routes_t *t)
{
    static const struct {
        const char *name, *type, *help;
    } fam[] = {
        {"teep_broker_upstream_healthy", "gauge",
         "1 when the TAM endpoint passes its health check."},
        {"teep_broker_upstream_connections", "gauge",
         "Connections of the endpoint's pools, by state."},
        {"teep_broker_upstream_pending", "gauge",
         "Exchanges waiting for a connection to the endpoint."},
        {"teep_broker_upstream_requests_total", "counter",
         "Requests the endpoint answered (any status)."},
        {"teep_broker_upstream_failures_total", "counter",
         "Requests to the endpoint that got no answer."},
        {"teep_broker_upstream_connects_total", "counter",
         "Connections opened to the endpoint."},
        {"teep_broker_upstream_connect_failures_total", "counter",
         "Connection attempts to the endpoint that failed."},
    };
    for (size_t f = 0; f < sizeof(fam) / sizeof(fam[0]); f++) {
        teep_broker_text_printf(text, "# HELP %s %s\n# TYPE %s %s\n",
                                fam[f].name, fam[f].help, fam[f].name,
                                fam[f].type);
        for (size_t r = 0; r < t->n_routes; r++) {
            const teep_broker_route_t *route = &t->routes[r];
            for (size_t e = 0; e < route->cfg->n_endpoints; e++) {
                teep_broker_endpoint_t *ep = &route->endpoints[e];
                char labels[400];
                snprintf(labels, sizeof(labels), "route=\"%s\",endpoint=\"%s\"",
                         route->cfg->name, ep->url);
                const char *n = fam[f].name;
                switch (f) {
                case 0:
                    teep_broker_text_printf(text, "%s{%s} %d\n", n, labels,
                                            teep_broker_endpoint_healthy(ep));
                    break;
                case 1:
                    teep_broker_text_printf(
                        text,
                        "%s{%s,state=\"idle\"} %llu\n"
                        "%s{%s,state=\"busy\"} %llu\n"
                        "%s{%s,state=\"connecting\"} %llu\n",
                        n, labels, (unsigned long long)EP_SUM(idle), n, labels,
                        (unsigned long long)EP_SUM(busy), n, labels,
                        (unsigned long long)EP_SUM(connecting));
                    break;
                default: {
                    static const size_t off[] = {
                        0,
                        0,
                        offsetof(teep_broker_ep_shard_t, pending),
                        offsetof(teep_broker_ep_shard_t, requests),
                        offsetof(teep_broker_ep_shard_t, failures),
                        offsetof(teep_broker_ep_shard_t, connects),
                        offsetof(teep_broker_ep_shard_t, connect_failures)};
                    teep_broker_text_printf(
                        text, "%s{%s} %llu\n", n, labels,
                        (unsigned long long)ep_sum(t, ep, off[f]));
                    break;
                }
                }
            }
        }
    }
}
