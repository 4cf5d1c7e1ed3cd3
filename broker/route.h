/*
 * route.h: the table of named TAM routes, shared read-only by every
 * worker and the admin thread.
 *
 * A table is built from a configuration (which it then owns) and replaced
 * as a whole on reload; workers and the health checker each hold a
 * reference to the table they use and drop it when they switch, so the
 * old table lives until the last exchange on it is done.  The only
 * mutable parts are atomics: each endpoint's health (written by the
 * health checker and by workers that saw a connection fail) and the
 * per-worker statistics cells (each written by its own worker only).
 */
#ifndef TEEP_BROKER_ROUTE_H
#define TEEP_BROKER_ROUTE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "metrics.h"

/* One worker's view of one endpoint's pool, sampled by the worker. */
typedef struct teep_broker_ep_shard {
    _Alignas(64) teep_broker_counter_t requests;
    teep_broker_counter_t failures;
    teep_broker_counter_t connects;
    teep_broker_counter_t connect_failures;
    teep_broker_counter_t idle; /* gauges from here */
    teep_broker_counter_t busy;
    teep_broker_counter_t connecting;
    teep_broker_counter_t pending;
} teep_broker_ep_shard_t;

typedef struct teep_broker_endpoint {
    const char *url;     /* the configured URL (the config owns it) */
    char *path;          /* its path: the upstream request target */
    _Atomic int healthy; /* 1 healthy (also: not checked yet), 0 down */
    teep_broker_ep_shard_t *shards; /* one per worker */
} teep_broker_endpoint_t;

typedef struct teep_broker_route {
    const teep_broker_route_cfg_t *cfg; /* inside the table's config */
    teep_broker_endpoint_t *endpoints;  /* cfg->n_endpoints */
} teep_broker_route_t;

typedef struct teep_broker_routes {
    _Atomic unsigned refs;
    teep_broker_config_t config; /* owned */
    teep_broker_route_t *routes; /* config.n_routes */
    size_t n_routes;
    int default_route; /* index used for an empty route name */
    unsigned n_workers;
    uint64_t generation; /* 1 for the first table, +1 per reload */
} teep_broker_routes_t;

/*
 * Build a table from *cfg, which it takes over (cfg is zeroed), with
 * statistics cells for n_workers.  The default route is
 * cfg->default_route, else the first route.  Health starts "healthy" (not
 * checked yet); teep_broker_routes_inherit copies known states.  Returns
 * 0 with *out holding one reference, -EINVAL (no route), -ENOMEM.
 */
int teep_broker_routes_new(teep_broker_config_t *cfg, unsigned n_workers,
                           uint64_t generation, teep_broker_routes_t **out);

/* Take / drop a reference (any thread); the last drop frees the table. */
teep_broker_routes_t *teep_broker_routes_ref(teep_broker_routes_t *t);
void teep_broker_routes_unref(teep_broker_routes_t *t);

/* Index of the route named name[0..len), the default route when len is
 * 0, or -1. */
int teep_broker_routes_find(const teep_broker_routes_t *t, const char *name,
                            size_t len);

/* Index of the route one of whose endpoints is url exactly, or -1. */
int teep_broker_routes_find_url(const teep_broker_routes_t *t, const char *url);

/* Give endpoints of to that also exist (same URL) in from the health
 * state they had there. */
void teep_broker_routes_inherit(teep_broker_routes_t *to,
                                const teep_broker_routes_t *from);

/* Health as seen by everyone. */
static inline bool teep_broker_endpoint_healthy(teep_broker_endpoint_t *e)
{
    return atomic_load_explicit(&e->healthy, memory_order_relaxed) != 0;
}

/* Set health; returns the previous state.  A load first keeps the cache
 * line shared while nothing changes (every exchange may call this). */
static inline bool teep_broker_endpoint_set(teep_broker_endpoint_t *e,
                                            bool healthy)
{
    int old = atomic_load_explicit(&e->healthy, memory_order_relaxed);
    if (old != (int)healthy)
        old = atomic_exchange_explicit(&e->healthy, (int)healthy,
                                       memory_order_relaxed);
    return old != 0;
}

/* Append the upstream families (health, pool connections by state,
 * pending, requests, failures) of every endpoint of t, summed over the
 * workers' cells.  Main thread. */
void teep_broker_routes_render(teep_broker_text_t *text,
                               const teep_broker_routes_t *t);

#endif
