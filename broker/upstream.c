/*
 * upstream.c: a worker's pools to the TAM endpoints (upstream.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "upstream.h"

static size_t per_worker(size_t total, unsigned workers)
{
    size_t n = (total + workers - 1) / workers;
    return n > 0 ? n : 1;
}

static void free_set(teep_broker_upstreams_t *set)
{
    void (*cb)(void *) = set->on_freed;
    void *arg = set->on_freed_arg;
    if (set->tls != NULL)
        for (size_t r = 0; r < set->routes->n_routes; r++)
            teep_tls_ctx_free(&set->tls[r]);
    teep_broker_routes_unref(set->routes);
    free(set->tls);
    free(set->pools);
    free(set->first);
    free(set->cursor);
    free(set);
    if (cb != NULL)
        cb(arg);
}

int teep_broker_upstreams_open(teep_broker_upstreams_t **out, uv_loop_t *loop,
                               teep_broker_routes_t *routes, unsigned worker,
                               size_t body_headroom)
{
    *out = NULL;
    teep_broker_upstreams_t *set = calloc(1, sizeof(*set));
    if (set == NULL)
        return -ENOMEM;
    set->routes = teep_broker_routes_ref(routes);
    set->loop = loop;
    set->worker = worker;
    size_t n = 0;
    for (size_t r = 0; r < routes->n_routes; r++)
        n += routes->routes[r].cfg->n_endpoints;
    set->pools = calloc(n, sizeof(*set->pools));
    set->first = calloc(routes->n_routes, sizeof(*set->first));
    set->cursor = calloc(routes->n_routes, sizeof(*set->cursor));
    set->tls = calloc(routes->n_routes, sizeof(*set->tls));
    if (set->pools == NULL || set->first == NULL || set->cursor == NULL ||
        set->tls == NULL) {
        free_set(set);
        return -ENOMEM;
    }
    size_t p = 0;
    int rc = 0;
    for (size_t r = 0; r < routes->n_routes && rc == 0; r++) {
        const teep_broker_route_cfg_t *rc_cfg = routes->routes[r].cfg;
        set->first[r] = p;
        bool https = false;
        for (size_t e = 0; e < rc_cfg->n_endpoints; e++)
            https |= strncmp(rc_cfg->endpoints[e], "https:", 6) == 0;
        if (https) {
            rc = teep_tls_client_ctx_init(&set->tls[r], rc_cfg->ca_file);
            if (rc < 0)
                break;
        }
        teep_http_client_config_t cc;
        teep_http_client_config_default(&cc);
        cc.max_connections =
            per_worker(rc_cfg->max_connections, routes->n_workers);
        cc.max_pending = per_worker(rc_cfg->max_pending, routes->n_workers);
        cc.connect_timeout_ms = rc_cfg->connect_timeout_ms;
        cc.read_timeout_ms = rc_cfg->read_timeout_ms;
        cc.idle_timeout_ms = rc_cfg->idle_timeout_ms;
        cc.max_body_size = rc_cfg->max_response;
        cc.body_headroom = body_headroom;
        cc.tls = https ? &set->tls[r] : NULL;
        for (size_t e = 0; e < rc_cfg->n_endpoints; e++, p++) {
            teep_broker_pool_t *pool = &set->pools[p];
            pool->ep = &routes->routes[r].endpoints[e];
            pool->shard = &pool->ep->shards[worker];
            pool->set = set;
            rc = teep_http_client_init(&pool->client, loop, pool->ep->url, &cc);
            if (rc < 0)
                break;
            pool->client.data = pool;
            set->n_pools++;
            set->open_pools++;
        }
    }
    if (rc < 0) {
        /* Pools without a request own no handle yet: nothing to close. */
        free_set(set);
        return rc;
    }
    *out = set;
    return 0;
}

teep_broker_pool_t *teep_broker_upstreams_pick(teep_broker_upstreams_t *set,
                                               size_t r, uint32_t tried,
                                               unsigned *index)
{
    const teep_broker_route_t *route = &set->routes->routes[r];
    unsigned n = (unsigned)route->cfg->n_endpoints;
    unsigned start = 0;
    if (route->cfg->balance == TEEP_BROKER_BALANCE_ROUND_ROBIN)
        start = set->cursor[r]++ % n;
    unsigned fallback = n;
    for (unsigned k = 0; k < n; k++) {
        unsigned i = (start + k) % n;
        if (tried & (1u << i))
            continue;
        if (teep_broker_endpoint_healthy(&route->endpoints[i])) {
            *index = i;
            return &set->pools[set->first[r] + i];
        }
        if (fallback == n)
            fallback = i;
    }
    if (fallback == n)
        return NULL;
    *index = fallback;
    return &set->pools[set->first[r] + fallback];
}

void teep_broker_upstreams_sample(teep_broker_upstreams_t *set)
{
    for (size_t p = 0; p < set->n_pools; p++) {
        teep_broker_pool_t *pool = &set->pools[p];
        teep_http_client_stats_t st;
        teep_http_client_stats(&pool->client, &st);
        teep_broker_ep_shard_t *s = pool->shard;
        teep_broker_set(&s->requests, st.requests);
        teep_broker_set(&s->failures, st.failures);
        teep_broker_set(&s->connects, st.connects);
        teep_broker_set(&s->connect_failures, st.connect_failures);
        teep_broker_set(&s->idle, st.idle);
        teep_broker_set(&s->busy, st.busy);
        teep_broker_set(&s->connecting, st.connecting);
        teep_broker_set(&s->pending, st.pending);
    }
}

static void pool_closed(teep_http_client_t *client)
{
    teep_broker_pool_t *pool = client->data;
    teep_broker_upstreams_t *set = pool->set;
    /* Gauges of a closed pool would stay frozen on /metrics. */
    teep_broker_set(&pool->shard->idle, 0);
    teep_broker_set(&pool->shard->busy, 0);
    teep_broker_set(&pool->shard->connecting, 0);
    teep_broker_set(&pool->shard->pending, 0);
    if (--set->open_pools == 0)
        free_set(set);
}

static void close_pools(teep_broker_upstreams_t *set)
{
    teep_broker_upstreams_sample(set);
    if (set->open_pools == 0) {
        free_set(set);
        return;
    }
    size_t n = set->n_pools;
    for (size_t p = 0; p < n; p++)
        teep_http_client_close(&set->pools[p].client, pool_closed);
}

void teep_broker_upstreams_retire(teep_broker_upstreams_t *set,
                                  void (*on_freed)(void *arg), void *arg)
{
    set->retiring = true;
    set->on_freed = on_freed;
    set->on_freed_arg = arg;
    if (set->inflight == 0)
        close_pools(set);
}

void teep_broker_upstreams_release(teep_broker_upstreams_t *set)
{
    if (--set->inflight == 0 && set->retiring)
        close_pools(set);
}
