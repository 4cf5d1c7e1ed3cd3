/*
 * front.h: the TAM's HTTP front end (http_front.c) on the shared HTTP
 * module (teep/http.h): the TEEP endpoint (digest 3: POST /tam with
 * application/teep+cbor) and the admin API on its own listener.
 *
 * Threading: the servers run on one libuv loop, which only moves bytes;
 * every request's work (SQLite and crypto) runs on libuv's thread pool
 * (uv_queue_work) and is answered back on the loop, so one device's
 * crypto never stalls another's connection (docs/tam.md).
 */
#ifndef TEEP_TAM_FRONT_H
#define TEEP_TAM_FRONT_H

#include <stdbool.h>
#include <stdint.h>

#include "teep/http.h"
#include "teep/tls.h"

#include "tam.h"

typedef struct teep_tam_front_config {
    const char *host;       /* TEEP endpoint: an address literal */
    uint16_t port;          /* 0: ephemeral */
    const char *admin_host; /* NULL: no admin listener */
    uint16_t admin_port;
    const teep_tls_ctx_t *tls;       /* HTTPS for the TEEP endpoint */
    const teep_tls_ctx_t *admin_tls; /* HTTPS for the admin API */
    uint64_t request_timeout_ms;     /* head and body each; 0: 10 s */
    size_t max_message;              /* TEEP body; 0: the core's */
    size_t max_connections;          /* 0: the module's default */
} teep_tam_front_config_t;

typedef struct teep_tam_front teep_tam_front_t;
typedef void (*teep_tam_front_stop_cb)(teep_tam_front_t *front);

/* Caller-allocated; the fields are the front end's. */
struct teep_tam_front {
    void *data; /* the user's */
    teep_tam_t *tam;
    uv_loop_t *loop;
    teep_http_server_t teep;
    teep_http_server_t admin;
    bool has_admin;
    uv_timer_t purge;
    bool purging;
    size_t handles_open; /* servers and the timer not yet closed */
    size_t in_flight;    /* works queued or running on the thread pool */
    bool stopping;
    teep_tam_front_stop_cb on_stop;
};

/*
 * Listen on cfg's addresses and serve tam (which must outlive the front
 * end) on loop.  Returns 0, or the module's -EINVAL / -EADDRINUSE /
 * -errno; on failure what was opened is being closed: run the loop to
 * let the closes finish before freeing the front end.
 */
int teep_tam_front_start(teep_tam_front_t *front, uv_loop_t *loop,
                         teep_tam_t *tam, const teep_tam_front_config_t *cfg);

/* The port the TEEP endpoint (admin false) or the admin API listens on,
 * or a negative code. */
int teep_tam_front_port(teep_tam_front_t *front, bool admin);

/* Stop: close the listeners, answer what was received, then call cb once
 * every handle is closed (the front end may then be freed).  Work still
 * on the thread pool finishes first. */
void teep_tam_front_stop(teep_tam_front_t *front, teep_tam_front_stop_cb cb);

#endif
