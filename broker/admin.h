/*
 * admin.h: the admin listener on the main loop, plain HTTP, meant for
 * 127.0.0.1 or a management network:
 *   GET  /metrics                 Prometheus text exposition
 *   GET  /healthz                 200 while the process serves
 *   GET  /readyz                  200, or 503 while draining or with no
 *                                 healthy TAM endpoint
 *   POST /admin/policy-check?tee=NAME          RequestPolicyCheck now
 *   POST /admin/request-ta?tee=NAME&component=HEX   RequestTA
 * POSTs need "Authorization: Bearer <admin_token>" when one is set.
 */
#ifndef TEEP_BROKER_ADMIN_H
#define TEEP_BROKER_ADMIN_H

#include <stdbool.h>
#include <uv.h>

#include "teep/http.h"

struct teep_broker;

typedef struct teep_broker_admin {
    teep_http_server_t server;
    struct teep_broker *broker;
    char token[256]; /* empty: no token required */
    bool running;
    void (*on_stopped)(struct teep_broker_admin *a);
} teep_broker_admin_t;

/* Listen on listen ("host:port", port 0: ephemeral) on loop.  token may
 * be NULL.  Returns 0 or a negative code. */
int teep_broker_admin_start(teep_broker_admin_t *a, uv_loop_t *loop,
                            struct teep_broker *broker, const char *listen,
                            const char *token);

/* The port listened on, or a negative code. */
int teep_broker_admin_port(teep_broker_admin_t *a);

/* Stop; cb runs once the listener and its connections are closed. */
void teep_broker_admin_stop(teep_broker_admin_t *a,
                            void (*cb)(teep_broker_admin_t *a));

#endif
