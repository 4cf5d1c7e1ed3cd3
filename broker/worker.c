/*
 * worker.c: a worker thread and its loop (worker.h).
 *
 * Drain order: the local agents close (their conversations end through
 * the relay) while every transport instance stops accepting and answers
 * what it received; once both are done the relay refuses anything new and
 * waits for its last exchange; then the pools close and the loop runs out
 * of handles, which ends the thread.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "worker.h"

#define SAMPLE_MS 1000

static void close_handles(teep_broker_worker_t *w);

/* ------------------------------------------------------------- drain */

static void on_set_freed(void *arg)
{
    close_handles(arg);
}

static void on_relay_idle(teep_broker_relay_t *relay)
{
    teep_broker_worker_t *w = relay->data;
    relay->on_idle = NULL;
    for (size_t i = 0; i < w->n_transports; i++)
        teep_broker_transport_destroy(&w->transports[i]);
    w->n_transports = 0;
    teep_broker_relay_close(relay, on_set_freed, w);
}

static void maybe_drained(teep_broker_worker_t *w)
{
    if (w->n_stopped < w->n_transports || !w->agents_closed)
        return;
    if (!w->relay_ready) {
        close_handles(w); /* a start that failed early */
        return;
    }
    w->relay.on_idle = on_relay_idle;
    w->relay.data = w;
    teep_broker_relay_drain(&w->relay);
}

static void on_transport_stopped(teep_broker_transport_t *t)
{
    teep_broker_worker_t *w = t->data;
    w->n_stopped++;
    maybe_drained(w);
}

static void on_agents_closed(void *arg)
{
    teep_broker_worker_t *w = arg;
    w->agents = NULL;
    w->agents_closed = true;
    maybe_drained(w);
}

static void drain(teep_broker_worker_t *w)
{
    if (w->draining)
        return;
    w->draining = true;
    if (w->agents != NULL)
        teep_broker_agents_close(w->agents, on_agents_closed, w);
    else
        w->agents_closed = true;
    size_t n = w->n_transports;
    for (size_t i = 0; i < n; i++) {
        w->transports[i].data = w;
        teep_broker_transport_stop(&w->transports[i], on_transport_stopped);
    }
    maybe_drained(w);
}

/* ----------------------------------------------------------- mailbox */

static void reload(teep_broker_worker_t *w, teep_broker_routes_t *routes)
{
    teep_broker_upstreams_t *set;
    int rc = teep_broker_upstreams_open(
        &set, &w->loop, routes, w->params.index,
        teep_broker_plugins_headroom(w->params.plugins));
    if (rc < 0)
        teep_broker_log(TEEP_LOG_ERROR,
                        "event=reload_failed worker=%u reason=\"%s\"",
                        w->params.index, teep_http_strerror(rc));
    else
        teep_broker_relay_set_upstreams(&w->relay, set);
    teep_broker_routes_unref(routes);
}

/* Ask every transport instance of this worker that can push to tell the
 * device to check in.  The device is connected to one worker's instance:
 * the others answer -ENOENT, which is not worth a warning. */
static void push(teep_broker_worker_t *w, const char *device)
{
    size_t len = strlen(device);
    for (size_t i = 0; i < w->n_transports; i++) {
        teep_broker_transport_t *t = &w->transports[i];
        if (t->ops->push == NULL || t->instance == NULL || t->stopping)
            continue;
        int rc = t->ops->push(t->instance, device, len);
        if (rc != -ENOENT)
            teep_broker_log(rc == 0 ? TEEP_LOG_INFO : TEEP_LOG_WARN,
                            "event=push worker=%u listener=%s device=%s "
                            "result=%s",
                            w->params.index, t->uri, device,
                            rc == 0 ? "delivered" : strerror(-rc));
    }
}

static void run_cmd(teep_broker_worker_t *w, teep_broker_cmd_t *cmd)
{
    int rc = 0;
    switch (cmd->kind) {
    case TEEP_BROKER_CMD_RELOAD:
        if (w->draining)
            teep_broker_routes_unref(cmd->routes);
        else
            reload(w, cmd->routes);
        break;
    case TEEP_BROKER_CMD_DRAIN: drain(w); break;
    case TEEP_BROKER_CMD_POLICY_CHECK:
        rc = w->agents != NULL && !w->draining
                 ? teep_broker_agents_policy_check(w->agents, cmd->tee)
                 : -ENOENT;
        break;
    case TEEP_BROKER_CMD_REQUEST_TA:
        rc = w->agents != NULL && !w->draining
                 ? teep_broker_agents_request_ta(w->agents, cmd->tee, cmd->arg)
                 : -ENOENT;
        break;
    case TEEP_BROKER_CMD_PUSH:
        if (!w->draining)
            push(w, cmd->arg);
        break;
    }
    if (rc < 0)
        teep_broker_log(TEEP_LOG_WARN,
                        "event=command_refused worker=%u tee=%s reason=%s",
                        w->params.index, cmd->tee,
                        rc == -ENOENT ? "no_such_tee" : "bad_argument");
    free(cmd);
}

static void on_wake(uv_async_t *async)
{
    teep_broker_worker_t *w = async->data;
    uv_mutex_lock(&w->lock);
    teep_broker_cmd_t *list = w->cmd_head;
    w->cmd_head = w->cmd_tail = NULL;
    uv_mutex_unlock(&w->lock);
    while (list != NULL) {
        teep_broker_cmd_t *cmd = list;
        list = cmd->next;
        run_cmd(w, cmd);
    }
}

void teep_broker_worker_post(teep_broker_worker_t *w, teep_broker_cmd_t *cmd)
{
    cmd->next = NULL;
    uv_mutex_lock(&w->lock);
    if (w->cmd_tail != NULL)
        w->cmd_tail->next = cmd;
    else
        w->cmd_head = cmd;
    w->cmd_tail = cmd;
    uv_mutex_unlock(&w->lock);
    uv_async_send(&w->wake);
}

/* ------------------------------------------------------------ timers */

static void on_sample(uv_timer_t *t)
{
    teep_broker_worker_t *w = t->data;
    if (w->relay.upstreams != NULL)
        teep_broker_upstreams_sample(w->relay.upstreams);
}

/* Exchange log lines leave once per loop iteration, after I/O. */
static void on_flush(uv_check_t *c)
{
    teep_broker_worker_t *w = c->data;
    teep_broker_logbuf_flush(&w->logbuf);
}

static void close_handles(teep_broker_worker_t *w)
{
    teep_broker_logbuf_flush(&w->logbuf);
    uv_close((uv_handle_t *)&w->sample_timer, NULL);
    uv_close((uv_handle_t *)&w->flush_check, NULL);
    uv_close((uv_handle_t *)&w->wake, NULL);
}

/* ------------------------------------------------------------ thread */

static int start_transports(teep_broker_worker_t *w)
{
    const teep_broker_config_t *cfg = &w->params.routes->config;
    w->transports = calloc(cfg->n_listeners + 1, sizeof(*w->transports));
    if (w->transports == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < cfg->n_listeners; i++) {
        const teep_broker_listener_cfg_t *l = &cfg->listeners[i];
        char name[64];
        teep_broker_listener_plugin(l, name, sizeof(name));
        const teep_plugin_handle_t *plugin =
            teep_broker_plugins_transport(w->params.plugins, name);
        teep_broker_transport_t *t = &w->transports[i];
        int rc = teep_broker_transport_create(
            t, plugin, &w->loop, w->params.index, &w->relay, &w->shard,
            w->params.listen_uris[i], l->options, l->n_options);
        if (rc < 0) {
            teep_broker_log(TEEP_LOG_ERROR,
                            "event=listener_failed worker=%u uri=%s "
                            "reason=\"%s\"",
                            w->params.index, w->params.listen_uris[i],
                            strerror(rc > -4096 ? -rc : EINVAL));
            return rc;
        }
        w->n_transports++;
        rc = t->ops->start(t->instance);
        if (rc < 0) {
            teep_broker_log(TEEP_LOG_ERROR,
                            "event=listener_failed worker=%u uri=%s "
                            "reason=\"%s\"",
                            w->params.index, w->params.listen_uris[i],
                            uv_strerror(rc));
            return rc;
        }
    }
    return 0;
}

static int start(teep_broker_worker_t *w)
{
    int rc = uv_loop_init(&w->loop);
    if (rc < 0)
        return rc;
    uv_async_init(&w->loop, &w->wake, on_wake);
    w->wake.data = w;
    uv_timer_init(&w->loop, &w->sample_timer);
    w->sample_timer.data = w;
    uv_check_init(&w->loop, &w->flush_check);
    w->flush_check.data = w;
    uv_check_start(&w->flush_check, on_flush);
    uv_timer_start(&w->sample_timer, on_sample, SAMPLE_MS, SAMPLE_MS);
    uv_unref((uv_handle_t *)&w->flush_check);
    teep_broker_upstreams_t *set;
    rc = teep_broker_upstreams_open(
        &set, &w->loop, w->params.routes, w->params.index,
        teep_broker_plugins_headroom(w->params.plugins));
    if (rc < 0)
        return rc;
    rc = teep_broker_relay_init(&w->relay, &w->loop, w->params.index, &w->shard,
                                &w->logbuf, &w->params.routes->config, set);
    if (rc < 0) {
        teep_broker_upstreams_retire(set, NULL, NULL);
        return rc;
    }
    w->relay.data = w;
    w->relay_ready = true;
    rc = start_transports(w);
    if (rc == 0 && w->params.run_agents) {
        rc = teep_broker_agents_open(&w->agents, &w->loop, w->params.routes,
                                     w->params.plugins, &w->relay, &w->shard);
        w->agents_mem = w->agents;
    }
    return rc;
}

static void thread_main(void *arg)
{
    teep_broker_worker_t *w = arg;
    int rc = start(w);
    w->start_rc = rc;
    if (rc < 0) {
        /* Tear down what started: stop the transports that listen, close
         * the rest; the loop then runs until every handle is closed. */
        drain(w);
    }
    uv_sem_post(&w->ready);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    teep_broker_logbuf_flush(&w->logbuf);
    teep_broker_agents_free(w->agents_mem);
    w->agents_mem = NULL;
    free(w->transports);
    w->transports = NULL;
    if (w->params.on_exit != NULL)
        w->params.on_exit(w);
}

int teep_broker_worker_start(teep_broker_worker_t *w,
                             const teep_broker_worker_params_t *params)
{
    memset(w, 0, sizeof(*w));
    w->params = *params;
    w->params.routes = teep_broker_routes_ref(params->routes);
    int rc = uv_mutex_init(&w->lock);
    if (rc == 0)
        rc = uv_sem_init(&w->ready, 0);
    if (rc == 0)
        rc = uv_thread_create(&w->thread, thread_main, w);
    if (rc < 0) {
        teep_broker_routes_unref(w->params.routes);
        return rc;
    }
    uv_sem_wait(&w->ready);
    return w->start_rc;
}

int teep_broker_worker_local_uri(teep_broker_worker_t *w, size_t i, char *buf,
                                 size_t cap)
{
    if (i >= w->n_transports)
        return -EINVAL;
    teep_broker_transport_t *t = &w->transports[i];
    return t->ops->local_uri(t->instance, buf, cap);
}

void teep_broker_worker_join(teep_broker_worker_t *w)
{
    uv_thread_join(&w->thread);
    /* Every handle is closed: the loop close cannot fail with EBUSY. */
    uv_loop_close(&w->loop);
    uv_sem_destroy(&w->ready);
    uv_mutex_destroy(&w->lock);
    while (w->cmd_head != NULL) {
        teep_broker_cmd_t *cmd = w->cmd_head;
        w->cmd_head = cmd->next;
        if (cmd->routes != NULL)
            teep_broker_routes_unref(cmd->routes);
        free(cmd);
    }
    teep_broker_routes_unref(w->params.routes);
}
