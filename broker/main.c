/*
 * main.c: the teep-broker command line.
 *
 *   teep-broker --listen http://127.0.0.1:8088 --tam http://127.0.0.1:8080/tam
 *   teep-broker -c FILE
 *   teep-broker -t -c FILE
 *
 * Exit codes: 0 clean exit (or a valid configuration with -t), 1 a
 * configuration or start-up error, 2 a usage error or a drain that timed
 * out.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "config.h"
#include "log.h"
#include "plugin_host.h"

#ifndef TEEP_BROKER_VERSION
#define TEEP_BROKER_VERSION "0.0.0"
#endif

static void usage(FILE *out)
{
    fprintf(out,
            "usage: teep-broker [-c FILE] [-t] [options]\n"
            "\n"
            "Relay TEEP (draft-ietf-teep-protocol over HTTP) between TEEP "
            "Agents and TAMs.\n"
            "\n"
            "  -c, --config FILE     run the configuration in FILE "
            "(docs/broker.md)\n"
            "  -t, --test            check the configuration (and its "
            "plugins), then exit\n"
            "  -l, --listen URI      agent-side listener, e.g. "
            "http://127.0.0.1:8088 (repeatable)\n"
            "  -T, --tam URL         TAM endpoint of the default route, e.g. "
            "http://127.0.0.1:8080/tam\n"
            "                        (repeatable: failover in order)\n"
            "  -w, --workers N       worker threads (default: one per "
            "core)\n"
            "  -a, --admin ADDR:PORT admin listener for /metrics, /healthz, "
            "/readyz\n"
            "  -p, --plugin-dir DIR  load plugins from DIR only (default: "
            "<bin>/../lib/teep)\n"
            "  -v, --log-level L     error, warn, info (default) or debug\n"
            "  -q, --quiet-exchanges no log line per exchange\n"
            "  -h, --help            this text\n"
            "  -V, --version         the version\n"
            "\n"
            "--listen/--tam build a configuration without a file; -c and "
            "--listen/--tam\n"
            "exclude each other.  --workers, --admin, --plugin-dir and "
            "--log-level\n"
            "override the file.  SIGHUP reloads the file's routes; SIGTERM "
            "drains and exits.\n");
}

static char **push(char **v, size_t *n, const char *s)
{
    char **nv = realloc(v, (*n + 2) * sizeof(*nv));
    if (nv == NULL)
        return NULL;
    nv[*n] = strdup(s);
    if (nv[*n] == NULL)
        return NULL;
    (*n)++;
    nv[*n] = NULL;
    return nv;
}

typedef struct cli {
    const char *config;
    bool test;
    char **listen;
    size_t n_listen;
    char **tams;
    size_t n_tams;
    long workers;
    const char *admin;
    const char *plugin_dir;
    const char *log_level;
    bool quiet;
} cli_t;

/* A configuration from --listen / --tam: one listener per --listen, one
 * route "default" with the --tam endpoints. */
static int from_flags(teep_broker_config_t *cfg, cli_t *cli)
{
    int rc = teep_broker_config_init(cfg, "command line");
    if (rc < 0)
        return rc;
    cfg->listeners = calloc(cli->n_listen + 1, sizeof(*cfg->listeners));
    cfg->routes = calloc(1, sizeof(*cfg->routes));
    if (cfg->listeners == NULL || cfg->routes == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < cli->n_listen; i++) {
        cfg->listeners[i].uri = cli->listen[i];
        cli->listen[i] = NULL;
        cfg->n_listeners++;
    }
    if (cli->n_tams > 0) {
        teep_broker_route_cfg_t *r = &cfg->routes[0];
        teep_broker_route_cfg_defaults(r);
        r->name = strdup("default");
        if (r->name == NULL)
            return -ENOMEM;
        r->endpoints = cli->tams;
        r->n_endpoints = cli->n_tams;
        cli->tams = NULL;
        cli->n_tams = 0;
        cfg->n_routes = 1;
    }
    return 0;
}

/* Command-line values that override the file. */
static int overrides(teep_broker_config_t *cfg, const cli_t *cli)
{
    if (cli->workers >= 0)
        cfg->workers = (unsigned)cli->workers;
    if (cli->admin != NULL) {
        free(cfg->admin_listen);
        if ((cfg->admin_listen = strdup(cli->admin)) == NULL)
            return -ENOMEM;
    }
    if (cli->plugin_dir != NULL) {
        free(cfg->plugin_dir);
        if ((cfg->plugin_dir = strdup(cli->plugin_dir)) == NULL)
            return -ENOMEM;
    }
    if (cli->log_level != NULL &&
        teep_broker_log_level_parse(cli->log_level, &cfg->log_level) < 0) {
        fprintf(stderr,
                "teep-broker: --log-level %s: error, warn, info or "
                "debug expected\n",
                cli->log_level);
        return -EINVAL;
    }
    if (cli->quiet)
        cfg->log_exchanges = false;
    return 0;
}

/* -t: the plugins must load too (a missing .so is a configuration
 * error). */
static int test_plugins(const teep_broker_config_t *cfg)
{
    char dir[4096];
    if (cfg->plugin_dir != NULL)
        snprintf(dir, sizeof(dir), "%s", cfg->plugin_dir);
    else if (teep_broker_plugins_default_dir(dir, sizeof(dir)) < 0)
        return -ENOENT;
    teep_broker_plugins_t *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return -ENOMEM;
    int rc = teep_broker_plugins_load(p, dir, cfg, stderr);
    teep_broker_plugins_unload(p);
    free(p);
    return rc;
}

static void free_cli(cli_t *cli)
{
    for (size_t i = 0; i < cli->n_listen; i++)
        free(cli->listen[i]);
    for (size_t i = 0; i < cli->n_tams; i++)
        free(cli->tams[i]);
    free(cli->listen);
    free(cli->tams);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"test", no_argument, NULL, 't'},
        {"listen", required_argument, NULL, 'l'},
        {"tam", required_argument, NULL, 'T'},
        {"workers", required_argument, NULL, 'w'},
        {"admin", required_argument, NULL, 'a'},
        {"plugin-dir", required_argument, NULL, 'p'},
        {"log-level", required_argument, NULL, 'v'},
        {"quiet-exchanges", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    cli_t cli = {.workers = -1};
    int c;
    while ((c = getopt_long(argc, argv, "c:tl:T:w:a:p:v:qhV", opts, NULL)) !=
           -1) {
        char *end;
        switch (c) {
        case 'c': cli.config = optarg; break;
        case 't': cli.test = true; break;
        case 'l':
            if ((cli.listen = push(cli.listen, &cli.n_listen, optarg)) == NULL)
                return 1;
            break;
        case 'T':
            if ((cli.tams = push(cli.tams, &cli.n_tams, optarg)) == NULL)
                return 1;
            break;
        case 'w':
            cli.workers = strtol(optarg, &end, 10);
            if (*end != '\0' || cli.workers < 0 || cli.workers > 256) {
                fprintf(stderr,
                        "teep-broker: --workers %s: 0..256 "
                        "expected\n",
                        optarg);
                return 2;
            }
            break;
        case 'a': cli.admin = optarg; break;
        case 'p': cli.plugin_dir = optarg; break;
        case 'v': cli.log_level = optarg; break;
        case 'q': cli.quiet = true; break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("teep-broker %s\n", TEEP_BROKER_VERSION); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc || (cli.config == NULL && cli.n_listen == 0 &&
                          cli.n_tams == 0 && !cli.test)) {
        usage(stderr);
        free_cli(&cli);
        return 2;
    }
    if (cli.config != NULL && (cli.n_listen > 0 || cli.n_tams > 0)) {
        fprintf(stderr, "teep-broker: -c and --listen/--tam exclude each "
                        "other\n");
        free_cli(&cli);
        return 2;
    }
    teep_broker_config_t cfg;
    int rc;
    if (cli.config != NULL) {
        rc = teep_broker_config_load(&cfg, cli.config, stderr);
        if (rc == 0)
            rc = overrides(&cfg, &cli);
    } else {
        rc = from_flags(&cfg, &cli);
        if (rc == 0)
            rc = overrides(&cfg, &cli);
        if (rc == 0)
            rc = teep_broker_config_check(&cfg, stderr);
    }
    free_cli(&cli);
    if (rc == 0 && cli.test)
        rc = test_plugins(&cfg);
    if (rc < 0) {
        fprintf(stderr, "teep-broker: %s: the configuration is not valid\n",
                cfg.source != NULL ? cfg.source : "command line");
        teep_broker_config_free(&cfg);
        return 1;
    }
    if (cli.test) {
        printf("teep-broker: %s: the configuration is valid (%zu "
               "listener%s, %zu route%s, %zu tee%s)\n",
               cfg.source, cfg.n_listeners, cfg.n_listeners == 1 ? "" : "s",
               cfg.n_routes, cfg.n_routes == 1 ? "" : "s", cfg.n_tees,
               cfg.n_tees == 1 ? "" : "s");
        teep_broker_config_free(&cfg);
        return 0;
    }
    return teep_broker_run(&cfg, cli.config);
}
