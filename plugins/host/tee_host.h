/*
 * tee_host.h: the host side of teep/tee_plugin.h on a libuv loop, shared
 * by the broker and the tests.  It gives a loaded TEE plugin its host
 * table (logging, timers on the loop, policy-check requests, install_ua
 * into a directory of the REE) and runs the plugin's ops the way the ABI
 * promises: on libuv's worker threads, never on the loop, one at a time
 * per session (a lane).
 */
#ifndef TEEP_TEE_HOST_H
#define TEEP_TEE_HOST_H

#include <stdbool.h>

#include <uv.h>

#include "plugin_loader.h"
#include "teep/tee_plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct teep_tee_runner teep_tee_runner_t;
typedef struct teep_tee_call teep_tee_call_t;

/* Runs on a worker thread: call ops for the call's lane; the return value
 * lands in call->result. */
typedef int (*teep_tee_call_fn)(teep_tee_call_t *call);
/* Runs on the loop once fn returned. */
typedef void (*teep_tee_done_cb)(teep_tee_call_t *call);
/* On the loop: the plugin asked for a policy check of session. */
typedef void (*teep_tee_policy_cb)(teep_tee_runner_t *runner,
                                   teep_tee_session_t *session);

/* The calls of one session, run one after another.  Caller-allocated,
 * zeroed; session is set by whoever opened it (fn of the open call). */
typedef struct teep_tee_lane {
    teep_tee_session_t *session;
    teep_tee_call_t *head;
    teep_tee_call_t *tail;
    bool busy;
} teep_tee_lane_t;

/* One op call.  Caller-allocated; must stay alive until done ran. */
struct teep_tee_call {
    uv_work_t work;
    teep_tee_runner_t *runner;
    teep_tee_lane_t *lane;
    teep_tee_call_fn fn;
    teep_tee_done_cb done;
    int result;
    teep_tee_call_t *next;
    void *data; /* for the caller */
};

typedef struct teep_tee_timer teep_tee_timer_t;

struct teep_tee_runner {
    teep_tee_host_t host; /* host.host_data points back here */
    uv_loop_t *loop;
    const teep_plugin_handle_t *plugin;
    const teep_tee_ops_t *ops;
    void *plugin_state;
    char ua_dir[4096];
    teep_log_level_t log_level;
    teep_tee_policy_cb on_policy_check;
    uv_mutex_t lock; /* recursive: timer callbacks run under it */
    uv_async_t wakeup;
    uint64_t next_timer;
    teep_tee_timer_t *timers;
    size_t n_pending;
    teep_tee_session_t *pending[64];
    void *data; /* for the caller */
};

/*
 * Prepare runner for the TEE plugin in h (loaded with class
 * TEEP_PLUGIN_CLASS_TEE) on loop, before the loop runs: check the ops
 * table (its size covers ABI 1.0's ops, none is NULL), then call
 * ops->init.  UAs the plugin installs go to ua_dir (created 0755 if
 * missing).  Log lines up to log_level go to stderr.  Returns 0,
 * -EPROTO (an ops table this host cannot use; err says why), the init
 * op's code, or a libuv error.
 */
int teep_tee_runner_init(teep_tee_runner_t *runner, uv_loop_t *loop,
                         const teep_plugin_handle_t *h, const char *ua_dir,
                         teep_log_level_t log_level, char *err, size_t err_cap);

/* Queue call on lane: fn runs on a worker after the lane's earlier calls
 * finished, then done on the loop.  Loop thread only.  Returns 0. */
int teep_tee_runner_submit(teep_tee_runner_t *runner, teep_tee_lane_t *lane,
                           teep_tee_call_t *call, teep_tee_call_fn fn,
                           teep_tee_done_cb done);

/* Stop every timer, call ops->fini (every session closed and every call
 * done) and close the runner's handles: run the loop once more to let
 * them close.  Loop thread only. */
void teep_tee_runner_close(teep_tee_runner_t *runner);

#ifdef __cplusplus
}
#endif
#endif
