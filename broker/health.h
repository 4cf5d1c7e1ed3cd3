/*
 * health.h: active health checks of every TAM endpoint, on the main
 * loop.  TEEP has no health endpoint, so the check is configurable per
 * route: a TCP connect (the default: no side effect on the TAM), an empty
 * POST answered 2xx (a real ProcessConnect: the TAM issues a token each
 * time, so use it with care), a GET of a path answered 2xx, or none (only
 * the workers' passive marking on connection failures).  Results go to
 * the endpoints' atomic health flags, read by the workers' endpoint
 * choice and by /readyz.
 */
#ifndef TEEP_BROKER_HEALTH_H
#define TEEP_BROKER_HEALTH_H

#include <stdbool.h>
#include <uv.h>

#include "route.h"

typedef struct teep_broker_probes teep_broker_probes_t;

typedef struct teep_broker_health {
    uv_loop_t *loop;
    teep_broker_probes_t *current;
} teep_broker_health_t;

/* Start checking the endpoints of routes (a reference is taken).
 * Returns 0 or -ENOMEM. */
int teep_broker_health_start(teep_broker_health_t *h, uv_loop_t *loop,
                             teep_broker_routes_t *routes);

/* After a reload: check routes instead (the old probes close). */
int teep_broker_health_switch(teep_broker_health_t *h,
                              teep_broker_routes_t *routes);

/* Stop every probe; their handles close asynchronously on the loop. */
void teep_broker_health_stop(teep_broker_health_t *h);

/* Healthy endpoints of route r, and of all routes. */
size_t teep_broker_health_count(const teep_broker_routes_t *routes, size_t r);
size_t teep_broker_health_total(const teep_broker_routes_t *routes);

#endif
