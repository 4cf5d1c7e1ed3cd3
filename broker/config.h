/*
 * config.h: the broker's configuration, read from one libconfig file
 * (docs/broker.md is the reference, broker/teep-broker.conf.example a
 * complete example) or built from command-line flags.
 *
 * Ownership: a teep_broker_config_t owns every string and array in it;
 * teep_broker_config_free releases them all.  Durations are milliseconds.
 */
#ifndef TEEP_BROKER_CONFIG_H
#define TEEP_BROKER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "teep/plugin.h"
#include "teep/tee_plugin.h"
#include "teep/transport_plugin.h"

/* Endpoints one route may have (a bitmask tracks the ones tried). */
#define TEEP_BROKER_MAX_ENDPOINTS 32

typedef enum teep_broker_balance {
    TEEP_BROKER_BALANCE_FAILOVER = 0, /* the first healthy one, in order */
    TEEP_BROKER_BALANCE_ROUND_ROBIN = 1,
} teep_broker_balance_t;

typedef enum teep_broker_check {
    TEEP_BROKER_CHECK_TCP = 0,  /* a TCP connect succeeds */
    TEEP_BROKER_CHECK_POST = 1, /* an empty POST is answered 2xx */
    TEEP_BROKER_CHECK_GET = 2,  /* GET check_path is answered 2xx */
    TEEP_BROKER_CHECK_NONE = 3, /* passive only: connect failures */
} teep_broker_check_t;

typedef struct teep_broker_route_cfg {
    char *name;
    char **endpoints; /* "http[s]://host:port/path" */
    size_t n_endpoints;
    teep_broker_balance_t balance;
    size_t max_connections; /* per endpoint, whole broker */
    size_t max_pending;     /* per endpoint, whole broker */
    uint32_t retry_after_s; /* the 503 answer's Retry-After */
    uint64_t connect_timeout_ms;
    uint64_t read_timeout_ms;
    uint64_t idle_timeout_ms;
    size_t max_response; /* bytes of a TAM answer */
    char *ca_file;       /* https: trust anchors; NULL: system */
    teep_broker_check_t check;
    char *check_path; /* CHECK_GET (and POST: else the endpoint's) */
    uint64_t check_interval_ms;
    uint64_t check_timeout_ms;
    int line; /* where it was defined, for messages */
} teep_broker_route_cfg_t;

typedef struct teep_broker_listener_cfg {
    char *uri;    /* "http://127.0.0.1:8088" */
    char *plugin; /* file name in plugin_dir, without ".so" */
    teep_transport_option_t *options; /* keys and values owned */
    size_t n_options;
    int line;
} teep_broker_listener_cfg_t;

typedef struct teep_broker_tee_cfg {
    char *name;
    char *plugin;
    teep_tee_instance_t instance;
    char *state_dir;
    char *ua_dir; /* where UAs the Agent authorised are installed */
    char *route;  /* NULL: the route whose endpoint is the Agent's TAM URI,
                     else the default route */
    uint64_t policy_check_interval_ms; /* 0: only at start and on demand */
    bool policy_check_at_start;
    char **request_ta; /* hex SUIT component identifiers asked at start */
    size_t n_request_ta;
    teep_transport_option_t *options; /* key = value text, as listeners */
    size_t n_options;
    int line;
} teep_broker_tee_cfg_t;

/* Test-only tampering (compiled in with TEEP_TEST_HOOKS). */
typedef enum teep_broker_flip {
    TEEP_BROKER_FLIP_NONE = 0,
    TEEP_BROKER_FLIP_REQUEST = 1,  /* last byte of what goes to the TAM */
    TEEP_BROKER_FLIP_RESPONSE = 2, /* last byte of what goes to the agent */
} teep_broker_flip_t;

typedef struct teep_broker_config {
    char *source;       /* the file, or "command line" */
    unsigned workers;   /* 0: one per core */
    char *plugin_dir;   /* NULL: <executable dir>/../lib/teep */
    char *admin_listen; /* "127.0.0.1:9090"; NULL: no admin listener */
    char *admin_token;  /* bearer token for POST /admin/...; NULL: none */
    teep_log_level_t log_level;
    bool log_exchanges;
    bool validate; /* refuse bodies that are not COSE-wrapped TEEP */
    uint64_t drain_timeout_ms;
    uint32_t drain_retry_after_s;
    char *default_route;
    teep_broker_listener_cfg_t *listeners;
    size_t n_listeners;
    teep_broker_route_cfg_t *routes;
    size_t n_routes;
    teep_broker_tee_cfg_t *tees;
    size_t n_tees;
    teep_broker_flip_t debug_flip;
} teep_broker_config_t;

/* Fill cfg with the defaults (no listener, no route) and source.  Returns
 * 0 or -ENOMEM. */
int teep_broker_config_init(teep_broker_config_t *cfg, const char *source);

/* Release everything cfg owns; cfg is zeroed. */
void teep_broker_config_free(teep_broker_config_t *cfg);

/* Route defaults, for a route made from the command line. */
void teep_broker_route_cfg_defaults(teep_broker_route_cfg_t *r);

/*
 * Read and check the file at path into *cfg (initialised here; free it
 * even on failure).  Every problem found is printed to err as
 * "path:line: message", one per line.  Returns 0, or the number of
 * problems as a negative number (-EIO for an unreadable file).
 */
int teep_broker_config_load(teep_broker_config_t *cfg, const char *path,
                            FILE *err);

/* As teep_broker_config_load, from text in memory (the fuzzer, tests);
 * name stands for the file name in messages. */
int teep_broker_config_parse(teep_broker_config_t *cfg, const char *text,
                             const char *name, FILE *err);

/*
 * The checks that do not depend on the file format: at least one listener
 * and one route, unique names, a default route that exists, endpoint URLs
 * that parse, limits in range.  Used after load and after the command
 * line built a configuration.  Problems are printed to err as
 * "source: message".  Returns 0 or minus the number of problems.
 */
int teep_broker_config_check(const teep_broker_config_t *cfg, FILE *err);

/* Parse "host:port" where port may be 0 (an ephemeral port) and host is
 * an address literal.  host_out holds TEEP_HTTP_MAX_HOST + 1 bytes.
 * Returns 0 or -EINVAL. */
int teep_broker_listen_addr(const char *s, char *host_out, uint16_t *port);

/* Index of the route named name (len bytes), or -1. */
int teep_broker_config_route(const teep_broker_config_t *cfg, const char *name,
                             size_t len);

#endif
