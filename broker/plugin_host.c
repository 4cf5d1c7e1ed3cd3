/*
 * plugin_host.c: loading plugins and the transport host table
 * (plugin_host.h).
 */
#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"
#include "plugin_host.h"

int teep_broker_plugins_default_dir(char *out, size_t cap)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n < 0)
        return -errno;
    exe[n] = '\0';
    int m = snprintf(out, cap, "%s/../lib/teep", dirname(exe));
    return m > 0 && (size_t)m < cap ? 0 : -ENAMETOOLONG;
}

void teep_broker_listener_plugin(const teep_broker_listener_cfg_t *l, char *out,
                                 size_t cap)
{
    if (l->plugin != NULL) {
        snprintf(out, cap, "%s", l->plugin);
        return;
    }
    static const char *const secure[] = {"https", "coaps", "wss", NULL};
    const char *colon = strstr(l->uri, "://");
    size_t n = colon != NULL ? (size_t)(colon - l->uri) : strlen(l->uri);
    for (size_t i = 0; secure[i] != NULL; i++)
        if (n == strlen(secure[i]) && strncasecmp(l->uri, secure[i], n) == 0)
            n--; /* one plugin serves a scheme and its secure variant */
    snprintf(out, cap, "transport_%.*s", (int)n, l->uri);
}

static int find(const teep_broker_loaded_t *arr, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(arr[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* The ops of transport ABI 1.0, all required except push. */
static const char *transport_ops_problem(const teep_transport_ops_t *o)
{
    if (!TEEP_TRANSPORT_HAS(o, teep_transport_ops_t, push))
        return "its ops table is older than this host's ABI";
    if (o->schemes == NULL || o->schemes[0] == NULL)
        return "it serves no URI scheme";
    if (o->create == NULL || o->start == NULL || o->local_uri == NULL ||
        o->stop == NULL || o->destroy == NULL)
        return "a required op is missing";
    return NULL;
}

static bool serves(const teep_transport_ops_t *o, const char *uri)
{
    const char *colon = strstr(uri, "://");
    size_t n = colon != NULL ? (size_t)(colon - uri) : 0;
    for (size_t i = 0; o->schemes[i] != NULL; i++)
        if (strlen(o->schemes[i]) == n &&
            strncasecmp(o->schemes[i], uri, n) == 0)
            return true;
    return false;
}

static int load_one(teep_broker_loaded_t *arr, size_t *n, const char *dir,
                    const char *name, teep_plugin_class_t cls, FILE *err)
{
    if (find(arr, *n, name) >= 0)
        return 0;
    if (*n == TEEP_BROKER_MAX_PLUGINS) {
        fprintf(err, "plugin %s: more than %d plugins of one class\n", name,
                TEEP_BROKER_MAX_PLUGINS);
        return -ENOSPC;
    }
    teep_broker_loaded_t *l = &arr[*n];
    char why[512];
    int rc = teep_plugin_load(dir, name, cls, &l->handle, why, sizeof(why));
    if (rc < 0) {
        fprintf(err, "%s\n", why);
        return rc;
    }
    if (cls == TEEP_PLUGIN_CLASS_TRANSPORT) {
        const char *bad = transport_ops_problem(l->handle.desc->ops);
        if (bad != NULL) {
            fprintf(err, "plugin %s: refused: %s\n", l->handle.path, bad);
            teep_plugin_unload(&l->handle);
            return -EPROTO;
        }
    }
    snprintf(l->name, sizeof(l->name), "%s", name);
    (*n)++;
    return 0;
}

int teep_broker_plugins_load(teep_broker_plugins_t *p, const char *dir,
                             const teep_broker_config_t *cfg, FILE *err)
{
    memset(p, 0, sizeof(*p));
    snprintf(p->dir, sizeof(p->dir), "%s", dir);
    int rc = 0;
    for (size_t i = 0; i < cfg->n_listeners && rc == 0; i++) {
        char name[64];
        teep_broker_listener_plugin(&cfg->listeners[i], name, sizeof(name));
        rc = load_one(p->transports, &p->n_transports, dir, name,
                      TEEP_PLUGIN_CLASS_TRANSPORT, err);
        if (rc == 0) {
            int k = find(p->transports, p->n_transports, name);
            if (!serves(p->transports[k].handle.desc->ops,
                        cfg->listeners[i].uri)) {
                fprintf(err,
                        "listener %s: plugin %s does not serve this "
                        "scheme\n",
                        cfg->listeners[i].uri, name);
                rc = -EPROTO;
            }
        }
    }
    for (size_t i = 0; i < cfg->n_tees && rc == 0; i++)
        rc = load_one(p->tees, &p->n_tees, dir, cfg->tees[i].plugin,
                      TEEP_PLUGIN_CLASS_TEE, err);
    if (rc < 0)
        teep_broker_plugins_unload(p);
    return rc;
}

const teep_plugin_handle_t *
teep_broker_plugins_transport(const teep_broker_plugins_t *p, const char *name)
{
    int i = find(p->transports, p->n_transports, name);
    return i >= 0 ? &p->transports[i].handle : NULL;
}

const teep_plugin_handle_t *
teep_broker_plugins_tee(const teep_broker_plugins_t *p, const char *name)
{
    int i = find(p->tees, p->n_tees, name);
    return i >= 0 ? &p->tees[i].handle : NULL;
}

size_t teep_broker_plugins_headroom(const teep_broker_plugins_t *p)
{
    size_t h = 0;
    for (size_t i = 0; i < p->n_transports; i++) {
        const teep_transport_ops_t *o = p->transports[i].handle.desc->ops;
        if (o->headroom > h)
            h = o->headroom;
    }
    return h;
}

void teep_broker_plugins_unload(teep_broker_plugins_t *p)
{
    for (size_t i = 0; i < p->n_transports; i++)
        teep_plugin_unload(&p->transports[i].handle);
    for (size_t i = 0; i < p->n_tees; i++)
        teep_plugin_unload(&p->tees[i].handle);
    p->n_transports = p->n_tees = 0;
}

/* --------------------------------------------------------- host table */

static teep_broker_transport_t *tr(void *host_data)
{
    return host_data;
}

static void host_log(void *host_data, teep_log_level_t level, const char *fmt,
                     ...)
{
    teep_broker_transport_t *t = tr(host_data);
    if (level > teep_broker_log_level())
        return;
    char msg[1024], q[1100];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    teep_broker_log(level, "event=transport plugin=%s worker=%u msg=%s",
                    t->plugin->desc->name, t->host.worker,
                    teep_broker_log_quote(msg, strlen(msg), q, sizeof(q)));
}

static int host_submit(void *host_data, const teep_exchange_request_t *req,
                       teep_exchange_t **handle)
{
    teep_broker_transport_t *t = tr(host_data);
    return teep_broker_relay_submit(t->relay, req, t->ops->headroom, handle);
}

static void host_cancel(void *host_data, teep_exchange_t *handle)
{
    teep_broker_relay_cancel(tr(host_data)->relay, handle);
}

static void host_count(void *host_data, const char *name, uint64_t delta)
{
    teep_broker_transport_t *t = tr(host_data);
    teep_broker_counter_t *c =
        teep_broker_shard_series(t->shard, name, t->plugin->desc->name, false);
    if (c != NULL)
        teep_broker_add(c, delta);
}

static void host_gauge(void *host_data, const char *name, uint64_t value)
{
    teep_broker_transport_t *t = tr(host_data);
    teep_broker_counter_t *c =
        teep_broker_shard_series(t->shard, name, t->plugin->desc->name, true);
    if (c != NULL)
        teep_broker_set(c, value);
}

static teep_buf_t *host_buf_new(void *host_data, size_t headroom, size_t size)
{
    teep_buf_t *b = teep_buf_new(headroom, size);
    if (b != NULL)
        host_count(host_data, "buffer_bytes", headroom + size);
    return b;
}

int teep_broker_transport_create(teep_broker_transport_t *t,
                                 const teep_plugin_handle_t *plugin,
                                 uv_loop_t *loop, unsigned worker,
                                 teep_broker_relay_t *relay,
                                 teep_broker_shard_t *shard, const char *uri,
                                 const teep_transport_option_t *options,
                                 size_t n_options)
{
    memset(t, 0, sizeof(*t));
    t->plugin = plugin;
    t->ops = plugin->desc->ops;
    t->relay = relay;
    t->shard = shard;
    snprintf(t->uri, sizeof(t->uri), "%s", uri);
    t->host = (teep_transport_host_t){
        .size = sizeof(teep_transport_host_t),
        .host_data = t,
        .loop = loop,
        .worker = worker,
        .log = host_log,
        .submit = host_submit,
        .cancel = host_cancel,
        .count = host_count,
        .gauge = host_gauge,
        .buf_new = host_buf_new,
    };
    return t->ops->create(&t->host, uri, options, n_options, &t->instance);
}

static void stopped(void *arg)
{
    teep_broker_transport_t *t = arg;
    t->stopped = true;
    if (t->on_stopped != NULL)
        t->on_stopped(t);
}

void teep_broker_transport_stop(teep_broker_transport_t *t,
                                void (*on_stopped)(teep_broker_transport_t *))
{
    if (t->stopping)
        return;
    t->stopping = true;
    t->on_stopped = on_stopped;
    t->ops->stop(t->instance, stopped, t);
}

void teep_broker_transport_destroy(teep_broker_transport_t *t)
{
    if (t->instance != NULL)
        t->ops->destroy(t->instance);
    t->instance = NULL;
}
