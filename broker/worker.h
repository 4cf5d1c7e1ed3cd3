/*
 * worker.h: one worker thread: a libuv loop, the transport instances of
 * every listener (sharing their ports with the other workers through
 * SO_REUSEPORT), the relay with its upstream pools, and the counters it
 * alone writes.  Worker 0 also runs the local agents (TEE plugins).
 *
 * The relay path never leaves the worker's thread.  The only way in from
 * outside is the mailbox: commands (reload, drain, policy check) queued
 * under a mutex and a uv_async wake-up, a path taken a few times per
 * process lifetime, never per exchange.
 */
#ifndef TEEP_BROKER_WORKER_H
#define TEEP_BROKER_WORKER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <uv.h>

#include "local_agents.h"
#include "log.h"
#include "metrics.h"
#include "plugin_host.h"
#include "relay.h"
#include "route.h"

typedef enum teep_broker_cmd_kind {
    TEEP_BROKER_CMD_RELOAD = 1,   /* routes: switch to this table */
    TEEP_BROKER_CMD_DRAIN,        /* finish what is in flight, then exit */
    TEEP_BROKER_CMD_POLICY_CHECK, /* tee: RequestPolicyCheck now */
    TEEP_BROKER_CMD_REQUEST_TA,   /* tee, arg (hex component id) */
    TEEP_BROKER_CMD_PUSH,         /* arg: device to check in (every worker:
                                     the device is connected to one) */
} teep_broker_cmd_kind_t;

typedef struct teep_broker_cmd {
    teep_broker_cmd_kind_t kind;
    teep_broker_routes_t *routes; /* RELOAD: one reference, handed over */
    char tee[65];
    char arg[1024];
    struct teep_broker_cmd *next;
} teep_broker_cmd_t;

typedef struct teep_broker_worker teep_broker_worker_t;

/* What a worker starts from; everything is read-only while it runs. */
typedef struct teep_broker_worker_params {
    unsigned index;
    teep_broker_routes_t *routes; /* the worker takes a reference */
    const teep_broker_plugins_t *plugins;
    const char *const *listen_uris;           /* one per configured listener */
    bool run_agents;                          /* local agents (worker 0) */
    void (*on_exit)(teep_broker_worker_t *w); /* on the worker's thread,
                                                 last thing it does */
    void *data;
} teep_broker_worker_params_t;

struct teep_broker_worker {
    teep_broker_worker_params_t params;
    uv_thread_t thread;
    uv_loop_t loop;
    uv_async_t wake;
    uv_mutex_t lock; /* the mailbox only */
    teep_broker_cmd_t *cmd_head;
    teep_broker_cmd_t *cmd_tail;
    uv_timer_t sample_timer;
    uv_check_t flush_check;
    teep_broker_relay_t relay;
    teep_broker_logbuf_t logbuf;
    teep_broker_transport_t *transports;
    size_t n_transports;
    size_t n_stopped;
    teep_broker_agents_t *agents;     /* NULL once closed */
    teep_broker_agents_t *agents_mem; /* freed after the loop ended */
    bool agents_closed;
    bool relay_ready; /* relay initialised: it must be drained */
    bool draining;
    uv_sem_t ready;
    int start_rc;
    teep_broker_shard_t shard; /* read by the admin thread */
};

/*
 * Start the worker's thread and wait until its listeners listen (or it
 * failed).  w is caller-allocated and stays in place until
 * teep_broker_worker_join.  Returns 0, or the failure's code (logged);
 * then the thread has ended and only join is left.
 */
int teep_broker_worker_start(teep_broker_worker_t *w,
                             const teep_broker_worker_params_t *params);

/* The URI transport i listens on (after start; worker thread idle in
 * this respect: only read after start returned). */
int teep_broker_worker_local_uri(teep_broker_worker_t *w, size_t i, char *buf,
                                 size_t cap);

/* Queue cmd (taken over) and wake the worker.  Any thread. */
void teep_broker_worker_post(teep_broker_worker_t *w, teep_broker_cmd_t *cmd);

/* Wait for the thread to end and release the worker's resources. */
void teep_broker_worker_join(teep_broker_worker_t *w);

#endif
