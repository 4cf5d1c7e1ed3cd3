/*
 * upstream.h: one worker's connection pools to the TAMs of a route table:
 * a teep_http_client_t per endpoint, choice of the endpoint for an
 * exchange (failover or round robin among the healthy ones), and the
 * retirement of a set after a reload.
 *
 * A set belongs to its worker's loop.  It holds a reference to its route
 * table.  Exchanges count themselves in set->inflight while they use it;
 * a retired set closes its pools once none is left, then frees itself.
 */
#ifndef TEEP_BROKER_UPSTREAM_H
#define TEEP_BROKER_UPSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "route.h"
#include "teep/http.h"
#include "teep/tls.h"

typedef struct teep_broker_upstreams teep_broker_upstreams_t;

typedef struct teep_broker_pool {
    teep_http_client_t client;
    teep_broker_endpoint_t *ep;
    teep_broker_ep_shard_t *shard; /* this worker's cell of ep */
    teep_broker_upstreams_t *set;
    uint64_t requests_seen; /* client stats already published */
} teep_broker_pool_t;

struct teep_broker_upstreams {
    teep_broker_routes_t *routes; /* one reference */
    uv_loop_t *loop;
    unsigned worker;
    teep_broker_pool_t *pools; /* every endpoint of every route */
    size_t n_pools;
    size_t *first;       /* per route: index of its first pool */
    unsigned *cursor;    /* per route: round-robin position */
    teep_tls_ctx_t *tls; /* per route: a client context for https */
    size_t inflight;     /* exchanges using the set */
    size_t open_pools;   /* pools not closed yet */
    bool retiring;
    void (*on_freed)(void *arg);
    void *on_freed_arg;
};

/*
 * Make the pools of routes on loop for worker (of routes->n_workers):
 * each pool gets max_connections and max_pending divided among the
 * workers (rounded up), the route's timeouts, and body_headroom bytes of
 * headroom for the answers it reads.  Takes a reference to routes.
 * Returns 0, -ENOMEM, or a TLS context error (-ENOENT / -EINVAL for a
 * ca_file).  On failure nothing is left to free.
 */
int teep_broker_upstreams_open(teep_broker_upstreams_t **out, uv_loop_t *loop,
                               teep_broker_routes_t *routes, unsigned worker,
                               size_t body_headroom);

/*
 * The pool for the next attempt of an exchange on route r: among the
 * endpoints not in tried (bit i: endpoint i), a healthy one (failover:
 * the first in order; round robin: the next after the cursor); when none
 * is healthy, any untried one (a table where every endpoint looks down
 * still tries them, so service comes back as soon as a TAM does, before
 * the next health check).  *index receives the endpoint's index.  NULL
 * when every endpoint was tried.
 */
teep_broker_pool_t *teep_broker_upstreams_pick(teep_broker_upstreams_t *set,
                                               size_t r, uint32_t tried,
                                               unsigned *index);

/* Copy the pools' statistics into this worker's endpoint cells. */
void teep_broker_upstreams_sample(teep_broker_upstreams_t *set);

/* Retire the set: once no exchange uses it, close every pool, drop the
 * route table, free the set and call on_freed(arg) (may be NULL). */
void teep_broker_upstreams_retire(teep_broker_upstreams_t *set,
                                  void (*on_freed)(void *arg), void *arg);

/* An exchange stopped using set (after set->inflight++ by its start). */
void teep_broker_upstreams_release(teep_broker_upstreams_t *set);

#endif
