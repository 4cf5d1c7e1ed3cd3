/*
 * broker.h: the broker process: the main thread's loop (signals, the
 * admin listener, health checks, reloads, drain) and the workers it
 * starts.  main.c builds a configuration and calls teep_broker_run.
 */
#ifndef TEEP_BROKER_BROKER_H
#define TEEP_BROKER_BROKER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <uv.h>

#include "admin.h"
#include "config.h"
#include "health.h"
#include "plugin_host.h"
#include "route.h"
#include "worker.h"

typedef struct teep_broker {
    uv_loop_t loop;
    char *config_path;            /* NULL: configured on the command line */
    teep_broker_routes_t *routes; /* the current table (main's reference) */
    teep_broker_plugins_t plugins;
    teep_broker_worker_t *workers;
    unsigned n_workers;
    unsigned n_started;
    _Atomic unsigned n_exited;
    char **listen_uris; /* as listened on (port 0 resolved) */
    size_t n_listen_uris;
    teep_broker_health_t health;
    teep_broker_admin_t admin;
    bool admin_on;
    uv_signal_t sighup;
    uv_signal_t sigterm;
    uv_signal_t sigint;
    uv_timer_t drain_timer;
    uv_async_t worker_exited;
    bool draining;
    uint64_t generation;
    int exit_code;
} teep_broker_t;

/*
 * Run the broker with cfg (taken over; cfg is zeroed) until SIGTERM or
 * SIGINT drained it.  config_path (may be NULL) is re-read on SIGHUP.
 * Returns the process exit code: 0 after a clean drain, 1 when starting
 * failed (logged), 2 when the drain timed out.
 */
int teep_broker_run(teep_broker_config_t *cfg, const char *config_path);

/* The main thread's view for the admin listener. */
bool teep_broker_ready(teep_broker_t *b, char *why, size_t cap);

/* Append the whole /metrics exposition to t.  Main thread. */
void teep_broker_metrics(teep_broker_t *b, teep_broker_text_t *t);

/* Ask worker 0 to run a command for the TEE named tee (POLICY_CHECK or
 * REQUEST_TA with arg).  Returns 0, -ENOENT (no such TEE), -ENOMEM. */
/* Ask the device named device, connected to some worker's transport
 * (WebSocket, CoAP Observe), to check in: posted to every worker, the
 * outcome logged by the worker that has it.  Returns 0 (queued), -EINVAL
 * for an empty or over-long name, -ENOENT when no worker runs, -ENOMEM. */
int teep_broker_push(teep_broker_t *b, const char *device);

int teep_broker_tee_command(teep_broker_t *b, teep_broker_cmd_kind_t kind,
                            const char *tee, const char *arg);

#endif
