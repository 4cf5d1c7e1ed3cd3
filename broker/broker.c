/*
 * broker.c: the process around the workers (broker.h): start-up in a
 * fixed order (plugins, routes, worker 0 and its ports, the other
 * workers on the same ports, health checks, admin, signals), SIGHUP
 * reloads of the routes, SIGTERM / SIGINT drains.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker.h"
#include "log.h"

static void close_main(teep_broker_t *b);

/* ------------------------------------------------------------- drain */

static void on_admin_stopped(teep_broker_admin_t *a)
{
    close_main(a->broker);
}

static void on_worker_exited(uv_async_t *async)
{
    teep_broker_t *b = async->data;
    if (atomic_load(&b->n_exited) < b->n_started)
        return;
    for (unsigned i = 0; i < b->n_started; i++)
        teep_broker_worker_join(&b->workers[i]);
    b->n_started = 0;
    teep_broker_log(TEEP_LOG_INFO, "event=drained");
    if (b->admin_on)
        teep_broker_admin_stop(&b->admin, on_admin_stopped);
    else
        close_main(b);
}

static void worker_exit_cb(teep_broker_worker_t *w)
{
    teep_broker_t *b = w->params.data;
    atomic_fetch_add(&b->n_exited, 1);
    uv_async_send(&b->worker_exited);
}

static void on_drain_timeout(uv_timer_t *t)
{
    teep_broker_log(TEEP_LOG_ERROR,
                    "event=drain_timeout reason=\"exchanges still in flight; "
                    "exiting without them\"");
    _exit(2);
}

static void begin_drain(teep_broker_t *b)
{
    if (b->draining)
        return;
    b->draining = true;
    teep_broker_log(TEEP_LOG_INFO, "event=draining workers=%u", b->n_started);
    teep_broker_health_stop(&b->health);
    uv_timer_start(&b->drain_timer, on_drain_timeout,
                   b->routes->config.drain_timeout_ms, 0);
    uv_unref((uv_handle_t *)&b->drain_timer);
    for (unsigned i = 0; i < b->n_started; i++) {
        teep_broker_cmd_t *cmd = calloc(1, sizeof(*cmd));
        if (cmd == NULL)
            _exit(2); /* cannot even ask the workers to stop */
        cmd->kind = TEEP_BROKER_CMD_DRAIN;
        teep_broker_worker_post(&b->workers[i], cmd);
    }
    if (b->n_started == 0)
        on_worker_exited(&b->worker_exited);
}

static void close_main(teep_broker_t *b)
{
    uv_close((uv_handle_t *)&b->sighup, NULL);
    uv_close((uv_handle_t *)&b->sigterm, NULL);
    uv_close((uv_handle_t *)&b->sigint, NULL);
    uv_close((uv_handle_t *)&b->drain_timer, NULL);
    uv_close((uv_handle_t *)&b->worker_exited, NULL);
}

/* ------------------------------------------------------------ reload */

/* Settings a reload cannot change (they shape threads and sockets). */
static void warn_fixed(const teep_broker_config_t *old,
                       const teep_broker_config_t *cfg)
{
    bool same = old->n_listeners == cfg->n_listeners &&
                old->workers == cfg->workers && old->n_tees == cfg->n_tees;
    for (size_t i = 0; same && i < cfg->n_listeners; i++)
        same = strcmp(old->listeners[i].uri, cfg->listeners[i].uri) == 0;
    if (!same)
        teep_broker_log(TEEP_LOG_WARN,
                        "event=reload_partial reason=\"listeners, workers "
                        "and tees change only with a restart\"");
}

static void reload(teep_broker_t *b)
{
    if (b->draining)
        return;
    if (b->config_path == NULL) {
        teep_broker_log(TEEP_LOG_WARN, "event=reload_skipped reason=\"no "
                                       "configuration file\"");
        return;
    }
    char *errors = NULL;
    size_t errors_len = 0;
    FILE *err = open_memstream(&errors, &errors_len);
    teep_broker_config_t cfg;
    int rc = teep_broker_config_load(&cfg, b->config_path, err);
    if (err != NULL)
        fclose(err);
    if (rc < 0) {
        /* One log line per problem, then keep running as before. */
        for (char *line = errors != NULL ? strtok(errors, "\n") : NULL;
             line != NULL; line = strtok(NULL, "\n")) {
            char q[600];
            teep_broker_log(
                TEEP_LOG_ERROR, "event=reload_error problem=%s",
                teep_broker_log_quote(line, strlen(line), q, sizeof(q)));
        }
        free(errors);
        teep_broker_config_free(&cfg);
        teep_broker_log(TEEP_LOG_ERROR, "event=reload_failed reason=\"the "
                                        "configuration has errors; the "
                                        "running one stays\"");
        return;
    }
    free(errors);
    warn_fixed(&b->routes->config, &cfg);
    teep_broker_routes_t *t;
    rc = teep_broker_routes_new(&cfg, b->n_workers, b->generation + 1, &t);
    teep_broker_config_free(&cfg);
    if (rc < 0) {
        teep_broker_log(TEEP_LOG_ERROR, "event=reload_failed reason=\"%s\"",
                        strerror(-rc));
        return;
    }
    b->generation++;
    teep_broker_routes_inherit(t, b->routes);
    for (unsigned i = 0; i < b->n_started; i++) {
        teep_broker_cmd_t *cmd = calloc(1, sizeof(*cmd));
        if (cmd == NULL)
            continue; /* that worker keeps the old routes */
        cmd->kind = TEEP_BROKER_CMD_RELOAD;
        cmd->routes = teep_broker_routes_ref(t);
        teep_broker_worker_post(&b->workers[i], cmd);
    }
    teep_broker_health_switch(&b->health, t);
    teep_broker_routes_unref(b->routes);
    b->routes = t;
    teep_broker_log(TEEP_LOG_INFO, "event=reloaded generation=%llu routes=%zu",
                    (unsigned long long)b->generation, t->n_routes);
}

static void on_signal(uv_signal_t *s, int signum)
{
    teep_broker_t *b = s->data;
    if (signum == SIGHUP) {
        reload(b);
        return;
    }
    if (b->draining) {
        teep_broker_log(TEEP_LOG_WARN, "event=forced_exit signal=%d", signum);
        _exit(2);
    }
    begin_drain(b);
}

/* ------------------------------------------------------- admin hooks */

bool teep_broker_ready(teep_broker_t *b, char *why, size_t cap)
{
    if (b->draining) {
        snprintf(why, cap, "draining\n");
        return false;
    }
    size_t healthy = teep_broker_health_total(b->routes);
    if (healthy == 0) {
        snprintf(why, cap, "no healthy TAM endpoint\n");
        return false;
    }
    snprintf(why, cap, "ready: %zu healthy TAM endpoint%s\n", healthy,
             healthy == 1 ? "" : "s");
    return true;
}

void teep_broker_metrics(teep_broker_t *b, teep_broker_text_t *t)
{
    teep_broker_shard_t *shards[256];
    unsigned n = b->n_started < 256 ? b->n_started : 256;
    for (unsigned i = 0; i < n; i++)
        shards[i] = &b->workers[i].shard;
    teep_broker_metrics_render_shards(t, shards, n);
    teep_broker_routes_render(t, b->routes);
    teep_broker_text_printf(
        t,
        "# HELP teep_broker_workers Worker threads (one loop each).\n"
        "# TYPE teep_broker_workers gauge\nteep_broker_workers %u\n"
        "# HELP teep_broker_draining 1 while the broker drains.\n"
        "# TYPE teep_broker_draining gauge\nteep_broker_draining %d\n"
        "# HELP teep_broker_config_generation Routes tables loaded (1 + "
        "reloads).\n"
        "# TYPE teep_broker_config_generation gauge\n"
        "teep_broker_config_generation %llu\n",
        b->n_started, b->draining ? 1 : 0, (unsigned long long)b->generation);
}

int teep_broker_tee_command(teep_broker_t *b, teep_broker_cmd_kind_t kind,
                            const char *tee, const char *arg)
{
    const teep_broker_config_t *cfg = &b->workers[0].params.routes->config;
    bool known = false;
    for (size_t i = 0; i < cfg->n_tees && !known; i++)
        known = strcmp(cfg->tees[i].name, tee) == 0;
    if (!known || b->n_started == 0)
        return -ENOENT;
    teep_broker_cmd_t *cmd = calloc(1, sizeof(*cmd));
    if (cmd == NULL)
        return -ENOMEM;
    cmd->kind = kind;
    snprintf(cmd->tee, sizeof(cmd->tee), "%s", tee);
    snprintf(cmd->arg, sizeof(cmd->arg), "%s", arg != NULL ? arg : "");
    teep_broker_worker_post(&b->workers[0], cmd);
    return 0;
}

int teep_broker_push(teep_broker_t *b, const char *device)
{
    size_t len = strlen(device);
    if (len == 0 || len >= sizeof(((teep_broker_cmd_t *)0)->arg))
        return -EINVAL;
    if (b->n_started == 0)
        return -ENOENT;
    for (unsigned i = 0; i < b->n_started; i++) {
        teep_broker_cmd_t *cmd = calloc(1, sizeof(*cmd));
        if (cmd == NULL)
            return -ENOMEM;
        cmd->kind = TEEP_BROKER_CMD_PUSH;
        memcpy(cmd->arg, device, len + 1);
        teep_broker_worker_post(&b->workers[i], cmd);
    }
    return 0;
}

/* ----------------------------------------------------------- startup */

static int start_workers(teep_broker_t *b)
{
    const teep_broker_config_t *cfg = &b->routes->config;
    b->n_listen_uris = cfg->n_listeners;
    b->listen_uris = calloc(cfg->n_listeners + 1, sizeof(char *));
    b->workers = calloc(b->n_workers, sizeof(*b->workers));
    if (b->listen_uris == NULL || b->workers == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < cfg->n_listeners; i++)
        if ((b->listen_uris[i] = strdup(cfg->listeners[i].uri)) == NULL)
            return -ENOMEM;
    for (unsigned w = 0; w < b->n_workers; w++) {
        teep_broker_worker_params_t p = {
            .index = w,
            .routes = b->routes,
            .plugins = &b->plugins,
            .listen_uris = (const char *const *)b->listen_uris,
            .run_agents = w == 0,
            .on_exit = worker_exit_cb,
            .data = b,
        };
        int rc = teep_broker_worker_start(&b->workers[w], &p);
        b->n_started++;
        if (rc < 0)
            return rc;
        if (w > 0)
            continue;
        /* Worker 0 resolved any port 0: the others listen where it does. */
        for (size_t i = 0; i < cfg->n_listeners; i++) {
            char uri[512];
            rc = teep_broker_worker_local_uri(&b->workers[0], i, uri,
                                              sizeof(uri));
            if (rc < 0)
                return rc;
            free(b->listen_uris[i]);
            if ((b->listen_uris[i] = strdup(uri)) == NULL)
                return -ENOMEM;
            teep_broker_log(TEEP_LOG_INFO, "event=listening uri=%s", uri);
        }
    }
    return 0;
}

static int start_main(teep_broker_t *b)
{
    uv_loop_t *loop = &b->loop;
    uv_signal_init(loop, &b->sighup);
    uv_signal_init(loop, &b->sigterm);
    uv_signal_init(loop, &b->sigint);
    uv_timer_init(loop, &b->drain_timer);
    uv_async_init(loop, &b->worker_exited, on_worker_exited);
    b->sighup.data = b->sigterm.data = b->sigint.data = b;
    b->worker_exited.data = b;
    uv_signal_start(&b->sighup, on_signal, SIGHUP);
    uv_signal_start(&b->sigterm, on_signal, SIGTERM);
    uv_signal_start(&b->sigint, on_signal, SIGINT);
    const teep_broker_config_t *cfg = &b->routes->config;
    char dir[4096];
    if (cfg->plugin_dir != NULL)
        snprintf(dir, sizeof(dir), "%s", cfg->plugin_dir);
    else if (teep_broker_plugins_default_dir(dir, sizeof(dir)) < 0)
        return -ENOENT;
    char *errors = NULL;
    size_t len = 0;
    FILE *err = open_memstream(&errors, &len);
    int rc = err != NULL ? teep_broker_plugins_load(&b->plugins, dir, cfg, err)
                         : -ENOMEM;
    if (err != NULL)
        fclose(err);
    if (rc < 0) {
        char q[700];
        for (char *line = errors != NULL ? strtok(errors, "\n") : NULL;
             line != NULL; line = strtok(NULL, "\n"))
            teep_broker_log(
                TEEP_LOG_ERROR, "event=plugin_refused reason=%s",
                teep_broker_log_quote(line, strlen(line), q, sizeof(q)));
        free(errors);
        return rc;
    }
    free(errors);
    rc = start_workers(b);
    if (rc < 0)
        return rc;
    rc = teep_broker_health_start(&b->health, loop, b->routes);
    if (rc < 0)
        return rc;
    if (cfg->admin_listen != NULL) {
        rc = teep_broker_admin_start(&b->admin, loop, b, cfg->admin_listen,
                                     cfg->admin_token);
        b->admin_on = b->admin.running;
        if (rc < 0) {
            teep_broker_log(TEEP_LOG_ERROR,
                            "event=admin_failed listen=%s reason=\"%s\"",
                            cfg->admin_listen, teep_http_strerror(rc));
            return rc;
        }
        char host[TEEP_HTTP_MAX_HOST + 1];
        uint16_t port;
        teep_broker_listen_addr(cfg->admin_listen, host, &port);
        teep_broker_log(TEEP_LOG_INFO,
                        "event=admin_listening uri=http://%s%s%s:%d",
                        strchr(host, ':') != NULL ? "[" : "", host,
                        strchr(host, ':') != NULL ? "]" : "",
                        teep_broker_admin_port(&b->admin));
    }
    return 0;
}

static unsigned worker_count(const teep_broker_config_t *cfg)
{
    if (cfg->workers > 0)
        return cfg->workers;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 && n <= 256 ? (unsigned)n : 1;
}

int teep_broker_run(teep_broker_config_t *cfg, const char *config_path)
{
    teep_broker_t *b = calloc(1, sizeof(*b));
    if (b == NULL)
        return 1;
    teep_broker_log_set_level(cfg->log_level);
    b->n_workers = worker_count(cfg);
    b->generation = 1;
    b->config_path = config_path != NULL ? strdup(config_path) : NULL;
    int rc = uv_loop_init(&b->loop);
    if (rc == 0)
        rc = teep_broker_routes_new(cfg, b->n_workers, 1, &b->routes);
    if (rc < 0) {
        teep_broker_log(TEEP_LOG_ERROR, "event=start_failed reason=\"%s\"",
                        strerror(rc > -4096 ? -rc : EINVAL));
        free(b->config_path);
        free(b);
        return 1;
    }
    rc = start_main(b);
    if (rc < 0) {
        b->exit_code = 1;
        teep_broker_log(TEEP_LOG_ERROR, "event=start_failed reason=\"%s\"",
                        rc > -4096 ? strerror(-rc) : teep_http_strerror(rc));
        begin_drain(b);
    } else {
        teep_broker_log(TEEP_LOG_INFO, "event=ready workers=%u pid=%d",
                        b->n_workers, (int)getpid());
    }
    uv_run(&b->loop, UV_RUN_DEFAULT);
    uv_loop_close(&b->loop);
    teep_broker_plugins_unload(&b->plugins);
    teep_broker_routes_unref(b->routes);
    for (size_t i = 0; i < b->n_listen_uris; i++)
        free(b->listen_uris[i]);
    free(b->listen_uris);
    free(b->workers);
    free(b->config_path);
    int code = b->exit_code;
    free(b);
    return code;
}
