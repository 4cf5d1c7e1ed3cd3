/*
 * plugin_host.h: the broker side of the plugin ABIs.  Plugins are loaded
 * with the shared loader (plugins/host/plugin_loader.h: dlopen from the
 * configured directory only, descriptor checks), transport plugins get a
 * host table per instance here, TEE plugins get theirs from
 * plugins/host/tee_host.h (local_agents.c drives them).
 */
#ifndef TEEP_BROKER_PLUGIN_HOST_H
#define TEEP_BROKER_PLUGIN_HOST_H

#include <stdbool.h>
#include <stdio.h>

#include "config.h"
#include "metrics.h"
#include "plugin_loader.h"
#include "relay.h"
#include "teep/transport_plugin.h"

#define TEEP_BROKER_MAX_PLUGINS 16

typedef struct teep_broker_loaded {
    char name[64]; /* file name without ".so" */
    teep_plugin_handle_t handle;
} teep_broker_loaded_t;

typedef struct teep_broker_plugins {
    char dir[4096];
    teep_broker_loaded_t transports[TEEP_BROKER_MAX_PLUGINS];
    size_t n_transports;
    teep_broker_loaded_t tees[TEEP_BROKER_MAX_PLUGINS];
    size_t n_tees;
} teep_broker_plugins_t;

/* The default plugin directory: <directory of the executable>/../lib/teep
 * (the build tree's and an installation's layout).  Writes into
 * out[0..cap).  Returns 0 or -ENAMETOOLONG / -errno. */
int teep_broker_plugins_default_dir(char *out, size_t cap);

/* The plugin file name a listener uses: its plugin setting, else
 * "transport_<scheme>" with a final 's' of a secure scheme dropped
 * (https -> transport_http).  Writes into out[0..cap). */
void teep_broker_listener_plugin(const teep_broker_listener_cfg_t *l, char *out,
                                 size_t cap);

/*
 * Load every plugin cfg names (listeners' transports and tees' TEE
 * plugins) from dir, each once, and check them: the loader's checks, a
 * transport's ops table (size, required ops, a listener's scheme among
 * its schemes).  Problems go to err, one line each.  Returns 0 or the
 * first failure's code; on failure everything loaded is unloaded.
 */
int teep_broker_plugins_load(teep_broker_plugins_t *p, const char *dir,
                             const teep_broker_config_t *cfg, FILE *err);

/* A loaded plugin by file name, or NULL. */
const teep_plugin_handle_t *
teep_broker_plugins_transport(const teep_broker_plugins_t *p, const char *name);
const teep_plugin_handle_t *
teep_broker_plugins_tee(const teep_broker_plugins_t *p, const char *name);

/* The largest headroom any loaded transport asks for. */
size_t teep_broker_plugins_headroom(const teep_broker_plugins_t *p);

/* Unload everything (every instance destroyed first). */
void teep_broker_plugins_unload(teep_broker_plugins_t *p);

/* One transport instance on a worker, with its host table. */
typedef struct teep_broker_transport {
    teep_transport_host_t host; /* host.host_data points here */
    const teep_plugin_handle_t *plugin;
    const teep_transport_ops_t *ops;
    teep_broker_relay_t *relay;
    teep_broker_shard_t *shard;
    void *instance;
    char uri[512];
    bool stopping;
    bool stopped;
    void (*on_stopped)(struct teep_broker_transport *t);
    void *data;
} teep_broker_transport_t;

/*
 * Create an instance of plugin for listener uri with options on loop,
 * for worker: its host table submits to relay and counts in shard.
 * Returns 0 or the plugin's create code (it logged why).
 */
int teep_broker_transport_create(teep_broker_transport_t *t,
                                 const teep_plugin_handle_t *plugin,
                                 uv_loop_t *loop, unsigned worker,
                                 teep_broker_relay_t *relay,
                                 teep_broker_shard_t *shard, const char *uri,
                                 const teep_transport_option_t *options,
                                 size_t n_options);

/* Drain the instance; on_stopped(t) runs once it is done. */
void teep_broker_transport_stop(teep_broker_transport_t *t,
                                void (*on_stopped)(teep_broker_transport_t *));

/* Free the instance (after stop's callback, or after a failed start). */
void teep_broker_transport_destroy(teep_broker_transport_t *t);

#endif
