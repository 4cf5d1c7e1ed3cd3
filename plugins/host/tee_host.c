/*
 * tee_host.c: a TEE plugin's host on a libuv loop (tee_host.h).
 *
 * Timers: a plugin may start and stop timers from any thread (usually a
 * worker, inside an op), while libuv handles belong to the loop.  Requests
 * are recorded under the lock and the loop is woken (uv_async) to create
 * or close the uv_timer_t.  A timer callback runs under the same lock and
 * checks that its timer is still wanted, which is what makes "no callback
 * after timer_stop returned" hold; the lock is recursive because the
 * callback may stop its own timer or ask for a policy check.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tee_host.h"
#include "teep/file_replace.h"

struct teep_tee_timer {
    teep_tee_runner_t *runner;
    uint64_t id;
    uint64_t period_ms;
    teep_tee_timer_cb cb;
    void *arg;
    bool started; /* the uv_timer_t exists */
    bool stopped; /* the plugin stopped it */
    uv_timer_t handle;
    teep_tee_timer_t *next;
};

static teep_tee_runner_t *runner_of(const teep_tee_host_t *host)
{
    return host->host_data;
}

static void host_log(const teep_tee_host_t *host, teep_log_level_t level,
                     const char *fmt, ...)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    if (level > runner_of(host)->log_level)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    fprintf(stderr, "tee[%s] %s: %s\n", runner_of(host)->plugin->desc->name,
            level <= TEEP_LOG_DEBUG ? names[level] : "?", line);
}

static void timer_fire(uv_timer_t *handle)
{
    teep_tee_timer_t *t = handle->data;
    teep_tee_runner_t *r = t->runner;
    uv_mutex_lock(&r->lock);
    if (!t->stopped)
        t->cb(t->arg);
    uv_mutex_unlock(&r->lock);
}

static void timer_closed(uv_handle_t *handle)
{
    free(handle->data);
}

/* On the loop: create wanted timers, close stopped ones, deliver policy
 * check requests. */
static void wakeup(uv_async_t *async)
{
    teep_tee_runner_t *r = async->data;
    teep_tee_session_t *pending[64];
    uv_mutex_lock(&r->lock);
    for (teep_tee_timer_t **p = &r->timers; *p != NULL;) {
        teep_tee_timer_t *t = *p;
        if (t->stopped) {
            *p = t->next;
            if (t->started)
                uv_close((uv_handle_t *)&t->handle, timer_closed);
            else
                free(t);
            continue;
        }
        if (!t->started && uv_timer_init(r->loop, &t->handle) == 0) {
            t->handle.data = t;
            t->started = true;
            uv_timer_start(&t->handle, timer_fire, t->period_ms, t->period_ms);
        }
        p = &t->next;
    }
    size_t n = r->n_pending;
    memcpy(pending, r->pending, n * sizeof(pending[0]));
    r->n_pending = 0;
    uv_mutex_unlock(&r->lock);
    for (size_t i = 0; i < n && r->on_policy_check != NULL; i++)
        r->on_policy_check(r, pending[i]);
}

static int host_timer_start(const teep_tee_host_t *host, uint64_t period_ms,
                            teep_tee_timer_cb cb, void *arg, uint64_t *timer)
{
    teep_tee_runner_t *r = runner_of(host);
    if (period_ms == 0 || cb == NULL || timer == NULL)
        return -EINVAL;
    teep_tee_timer_t *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return -ENOMEM;
    t->runner = r;
    t->period_ms = period_ms;
    t->cb = cb;
    t->arg = arg;
    uv_mutex_lock(&r->lock);
    t->id = ++r->next_timer;
    t->next = r->timers;
    r->timers = t;
    *timer = t->id;
    uv_mutex_unlock(&r->lock);
    uv_async_send(&r->wakeup);
    return 0;
}

static int host_timer_stop(const teep_tee_host_t *host, uint64_t timer)
{
    teep_tee_runner_t *r = runner_of(host);
    int rc = -ENOENT;
    uv_mutex_lock(&r->lock);
    for (teep_tee_timer_t *t = r->timers; t != NULL; t = t->next) {
        if (t->id == timer && !t->stopped) {
            t->stopped = true;
            rc = 0;
        }
    }
    uv_mutex_unlock(&r->lock);
    if (rc == 0)
        uv_async_send(&r->wakeup);
    return rc;
}

static int host_schedule_policy_check(const teep_tee_host_t *host,
                                      teep_tee_session_t *session)
{
    teep_tee_runner_t *r = runner_of(host);
    int rc = 0;
    uv_mutex_lock(&r->lock);
    if (r->n_pending == sizeof(r->pending) / sizeof(r->pending[0]))
        rc = -ENOMEM;
    else
        r->pending[r->n_pending++] = session;
    uv_mutex_unlock(&r->lock);
    if (rc == 0)
        uv_async_send(&r->wakeup);
    return rc;
}

/* A UA lands in ua_dir under its name, executable, replaced atomically
 * so that a running older version keeps its file. */
static int host_install_ua(const teep_tee_host_t *host, const char *name,
                           const uint8_t *bytes, size_t len)
{
    teep_tee_runner_t *r = runner_of(host);
    if (name == NULL || name[0] == 0 || name[0] == '.' ||
        strchr(name, '/') != NULL)
        return -EINVAL;
    char path[8192];
    int n = snprintf(path, sizeof(path), "%s/%s", r->ua_dir, name);
    if (n < 0 || (size_t)n >= sizeof(path))
        return -ENAMETOOLONG;
    int rc = teep_file_replace(path, bytes, len, 0755);
    if (rc == 0)
        host_log(host, TEEP_LOG_INFO, "UA %s installed in %s (%zu bytes)", name,
                 r->ua_dir, len);
    return rc;
}

/* The ops of ABI 1.0, all required. */
static bool ops_complete(const teep_tee_ops_t *o)
{
    return TEEP_TEE_HAS(o, teep_tee_ops_t, free_buffer) && o->init != NULL &&
           o->fini != NULL && o->session_open != NULL &&
           o->session_close != NULL && o->request_ta != NULL &&
           o->unrequest_ta != NULL && o->request_policy_check != NULL &&
           o->process_teep_message != NULL && o->process_error != NULL &&
           o->list_components != NULL && o->invoke_ta != NULL &&
           o->free_buffer != NULL;
}

int teep_tee_runner_init(teep_tee_runner_t *runner, uv_loop_t *loop,
                         const teep_plugin_handle_t *h, const char *ua_dir,
                         teep_log_level_t log_level, char *err, size_t err_cap)
{
    memset(runner, 0, sizeof(*runner));
    const teep_tee_ops_t *ops = h->desc->ops;
    if (!ops_complete(ops)) {
        snprintf(err, err_cap,
                 "plugin %s: its ops table (%zu bytes) lacks ops of TEE "
                 "ABI %d.0",
                 h->path, ops->size, TEEP_PLUGIN_ABI_MAJOR);
        return -EPROTO;
    }
    runner->loop = loop;
    runner->plugin = h;
    runner->ops = ops;
    runner->log_level = log_level;
    snprintf(runner->ua_dir, sizeof(runner->ua_dir), "%s", ua_dir);
    if (mkdir(ua_dir, 0755) != 0 && errno != EEXIST)
        return -errno;
    runner->host = (teep_tee_host_t){
        .size = sizeof(teep_tee_host_t),
        .log = host_log,
        .timer_start = host_timer_start,
        .timer_stop = host_timer_stop,
        .schedule_policy_check = host_schedule_policy_check,
        .install_ua = host_install_ua,
        .host_data = runner,
    };
    int rc = uv_mutex_init_recursive(&runner->lock);
    if (rc != 0)
        return rc;
    rc = uv_async_init(loop, &runner->wakeup, wakeup);
    if (rc != 0) {
        uv_mutex_destroy(&runner->lock);
        return rc;
    }
    runner->wakeup.data = runner;
    rc = ops->init(&runner->host, &runner->plugin_state);
    if (rc != 0) {
        snprintf(err, err_cap, "plugin %s: init failed: %s", h->path,
                 strerror(rc < 0 && rc > -4096 ? -rc : EIO));
        uv_close((uv_handle_t *)&runner->wakeup, NULL);
        uv_mutex_destroy(&runner->lock);
    }
    return rc;
}

static void start_next(teep_tee_runner_t *runner, teep_tee_lane_t *lane);

static void work_run(uv_work_t *work)
{
    teep_tee_call_t *call = work->data;
    call->result = call->fn(call);
}

static void work_done(uv_work_t *work, int status)
{
    teep_tee_call_t *call = work->data;
    teep_tee_lane_t *lane = call->lane;
    teep_tee_runner_t *runner = call->runner;
    if (status != 0)
        call->result = status;
    lane->busy = false;
    /* done may free call: read what we need first. */
    call->done(call);
    start_next(runner, lane);
}

static void start_next(teep_tee_runner_t *runner, teep_tee_lane_t *lane)
{
    teep_tee_call_t *call = lane->head;
    if (lane->busy || call == NULL)
        return;
    lane->head = call->next;
    if (lane->head == NULL)
        lane->tail = NULL;
    lane->busy = true;
    call->work.data = call;
    int rc = uv_queue_work(runner->loop, &call->work, work_run, work_done);
    if (rc != 0) {
        lane->busy = false;
        call->result = rc;
        call->done(call);
    }
}

int teep_tee_runner_submit(teep_tee_runner_t *runner, teep_tee_lane_t *lane,
                           teep_tee_call_t *call, teep_tee_call_fn fn,
                           teep_tee_done_cb done)
{
    call->runner = runner;
    call->lane = lane;
    call->fn = fn;
    call->done = done;
    call->result = 0;
    call->next = NULL;
    if (lane->tail != NULL)
        lane->tail->next = call;
    else
        lane->head = call;
    lane->tail = call;
    start_next(runner, lane);
    return 0;
}

void teep_tee_runner_close(teep_tee_runner_t *runner)
{
    runner->ops->fini(runner->plugin_state);
    uv_mutex_lock(&runner->lock);
    runner->on_policy_check = NULL;
    for (teep_tee_timer_t *t = runner->timers; t != NULL; t = t->next)
        t->stopped = true;
    uv_mutex_unlock(&runner->lock);
    /* Close what the last wakeup has not: the timers, then the async. */
    wakeup(&runner->wakeup);
    uv_close((uv_handle_t *)&runner->wakeup, NULL);
    uv_mutex_destroy(&runner->lock);
}
