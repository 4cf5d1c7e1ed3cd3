/*
 * config.c: the configuration file (libconfig) and its checks (config.h).
 *
 * The reader is strict: an unknown setting, a value of the wrong type or
 * out of range is a problem reported with its line, and every problem of
 * the file is reported, not only the first, so `teep-broker -t` shows the
 * whole list at once.
 */
#include <errno.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "teep/http.h"

/* Route defaults: docs/broker.md says why each is what it is. */
#define DEFAULT_MAX_CONNECTIONS 256
#define DEFAULT_MAX_PENDING     4096
#define DEFAULT_RETRY_AFTER_S   1
#define DEFAULT_CONNECT_MS      2000
#define DEFAULT_READ_MS         30000
#define DEFAULT_IDLE_MS         30000
#define DEFAULT_MAX_RESPONSE    (1024 * 1024)
#define DEFAULT_CHECK_MS        2000
#define DEFAULT_CHECK_TIMEOUT   1000

void teep_broker_route_cfg_defaults(teep_broker_route_cfg_t *r)
{
    memset(r, 0, sizeof(*r));
    r->balance = TEEP_BROKER_BALANCE_FAILOVER;
    r->max_connections = DEFAULT_MAX_CONNECTIONS;
    r->max_pending = DEFAULT_MAX_PENDING;
    r->retry_after_s = DEFAULT_RETRY_AFTER_S;
    r->connect_timeout_ms = DEFAULT_CONNECT_MS;
    r->read_timeout_ms = DEFAULT_READ_MS;
    r->idle_timeout_ms = DEFAULT_IDLE_MS;
    r->max_response = DEFAULT_MAX_RESPONSE;
    r->check = TEEP_BROKER_CHECK_TCP;
    r->check_interval_ms = DEFAULT_CHECK_MS;
    r->check_timeout_ms = DEFAULT_CHECK_TIMEOUT;
}

int teep_broker_config_init(teep_broker_config_t *cfg, const char *source)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->source = strdup(source);
    if (cfg->source == NULL)
        return -ENOMEM;
    cfg->log_level = TEEP_LOG_INFO;
    cfg->log_exchanges = true;
    cfg->validate = true;
    cfg->drain_timeout_ms = 30000;
    cfg->drain_retry_after_s = 1;
    return 0;
}

static void free_strv(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void free_options(teep_transport_option_t *o, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free((char *)o[i].key);
        free((char *)o[i].value);
    }
    free(o);
}

void teep_broker_config_free(teep_broker_config_t *cfg)
{
    for (size_t i = 0; i < cfg->n_listeners; i++) {
        teep_broker_listener_cfg_t *l = &cfg->listeners[i];
        free(l->uri);
        free(l->plugin);
        free_options(l->options, l->n_options);
    }
    for (size_t i = 0; i < cfg->n_routes; i++) {
        teep_broker_route_cfg_t *r = &cfg->routes[i];
        free(r->name);
        free_strv(r->endpoints, r->n_endpoints);
        free(r->ca_file);
        free(r->check_path);
    }
    for (size_t i = 0; i < cfg->n_tees; i++) {
        teep_broker_tee_cfg_t *t = &cfg->tees[i];
        free(t->name);
        free(t->plugin);
        free(t->state_dir);
        free(t->ua_dir);
        free(t->route);
        free_strv(t->request_ta, t->n_request_ta);
        free_options(t->options, t->n_options);
    }
    free(cfg->listeners);
    free(cfg->routes);
    free(cfg->tees);
    free(cfg->source);
    free(cfg->plugin_dir);
    free(cfg->admin_listen);
    free(cfg->admin_token);
    free(cfg->default_route);
    memset(cfg, 0, sizeof(*cfg));
}

/* ----------------------------------------------------------- reading */

typedef struct pctx {
    const char *name;
    FILE *err;
    int problems;
} pctx_t;

static void problem(pctx_t *p, const config_setting_t *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void problem(pctx_t *p, const config_setting_t *s, const char *fmt, ...)
{
    p->problems++;
    if (p->err == NULL)
        return;
    const char *file = s != NULL ? config_setting_source_file(s) : NULL;
    fprintf(p->err, "%s:%u: ", file != NULL ? file : p->name,
            s != NULL ? config_setting_source_line(s) : 0);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(p->err, fmt, ap);
    va_end(ap);
    fputc('\n', p->err);
}

/* Every member of group is one of allowed (NULL-terminated). */
static void check_keys(pctx_t *p, const config_setting_t *group,
                       const char *const *allowed, const char *what)
{
    int n = config_setting_length(group);
    for (int i = 0; i < n; i++) {
        config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
        const char *name = config_setting_name(s);
        bool ok = false;
        for (size_t k = 0; allowed[k] != NULL && !ok; k++)
            ok = strcmp(name, allowed[k]) == 0;
        if (!ok)
            problem(p, s, "unknown setting \"%s\" in %s", name, what);
    }
}

/* A string member: 1 found (*out owns a copy), 0 absent, -1 a problem. */
static int get_str(pctx_t *p, const config_setting_t *g, const char *name,
                   char **out)
{
    config_setting_t *s = config_setting_get_member(g, name);
    if (s == NULL)
        return 0;
    if (config_setting_type(s) != CONFIG_TYPE_STRING) {
        problem(p, s, "%s: a string is expected", name);
        return -1;
    }
    const char *v = config_setting_get_string(s);
    if (v[0] == '\0') {
        problem(p, s, "%s: must not be empty", name);
        return -1;
    }
    char *copy = strdup(v);
    if (copy == NULL) {
        problem(p, s, "out of memory");
        return -1;
    }
    free(*out);
    *out = copy;
    return 1;
}

static int get_u64(pctx_t *p, const config_setting_t *g, const char *name,
                   uint64_t *out, uint64_t min, uint64_t max)
{
    config_setting_t *s = config_setting_get_member(g, name);
    if (s == NULL)
        return 0;
    int t = config_setting_type(s);
    if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) {
        problem(p, s, "%s: an integer is expected", name);
        return -1;
    }
    long long v = config_setting_get_int64(s);
    if (v < 0 || (uint64_t)v < min || (uint64_t)v > max) {
        problem(p, s, "%s: %lld is out of range [%llu, %llu]", name, v,
                (unsigned long long)min, (unsigned long long)max);
        return -1;
    }
    *out = (uint64_t)v;
    return 1;
}

static void get_size(pctx_t *p, const config_setting_t *g, const char *name,
                     size_t *out, uint64_t min, uint64_t max)
{
    uint64_t v;
    if (get_u64(p, g, name, &v, min, max) == 1)
        *out = (size_t)v;
}

static void get_bool(pctx_t *p, const config_setting_t *g, const char *name,
                     bool *out)
{
    config_setting_t *s = config_setting_get_member(g, name);
    if (s == NULL)
        return;
    if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
        problem(p, s, "%s: true or false is expected", name);
        return;
    }
    *out = config_setting_get_bool(s) != 0;
}

/* One of names (NULL-terminated) -> its index in *out. */
static void get_enum(pctx_t *p, const config_setting_t *g, const char *name,
                     const char *const *names, int *out)
{
    char *v = NULL;
    if (get_str(p, g, name, &v) != 1)
        return;
    for (int i = 0; names[i] != NULL; i++) {
        if (strcmp(v, names[i]) == 0) {
            *out = i;
            free(v);
            return;
        }
    }
    problem(p, config_setting_get_member(g, name),
            "%s: \"%s\" is not one of the accepted values", name, v);
    free(v);
}

/* An array of strings: 1 found, 0 absent, -1 a problem. */
static int get_strv(pctx_t *p, const config_setting_t *g, const char *name,
                    char ***out, size_t *n_out)
{
    config_setting_t *s = config_setting_get_member(g, name);
    if (s == NULL)
        return 0;
    if (!config_setting_is_array(s) && !config_setting_is_list(s)) {
        problem(p, s, "%s: an array of strings is expected", name);
        return -1;
    }
    int n = config_setting_length(s);
    char **v = calloc((size_t)n + 1, sizeof(*v));
    if (v == NULL) {
        problem(p, s, "out of memory");
        return -1;
    }
    for (int i = 0; i < n; i++) {
        config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        if (config_setting_type(e) != CONFIG_TYPE_STRING ||
            config_setting_get_string(e)[0] == '\0') {
            problem(p, e, "%s: element %d is not a non-empty string", name, i);
            free_strv(v, (size_t)i);
            return -1;
        }
        v[i] = strdup(config_setting_get_string(e));
        if (v[i] == NULL) {
            problem(p, e, "out of memory");
            free_strv(v, (size_t)i);
            return -1;
        }
    }
    free_strv(*out, *n_out);
    *out = v;
    *n_out = (size_t)n;
    return 1;
}

/* A group of free-form options: every value a string, an integer or a
 * boolean, stored as text for the plugin. */
static void get_options(pctx_t *p, const config_setting_t *g,
                        teep_transport_option_t **out, size_t *n_out)
{
    config_setting_t *s = config_setting_get_member(g, "options");
    if (s == NULL)
        return;
    if (!config_setting_is_group(s)) {
        problem(p, s, "options: a group { key = value; ... } is expected");
        return;
    }
    int n = config_setting_length(s);
    teep_transport_option_t *o = calloc((size_t)n + 1, sizeof(*o));
    if (o == NULL) {
        problem(p, s, "out of memory");
        return;
    }
    size_t k = 0;
    for (int i = 0; i < n; i++) {
        config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        char text[64];
        const char *v = text;
        switch (config_setting_type(e)) {
        case CONFIG_TYPE_STRING: v = config_setting_get_string(e); break;
        case CONFIG_TYPE_INT:
        case CONFIG_TYPE_INT64:
            snprintf(text, sizeof(text), "%lld", config_setting_get_int64(e));
            break;
        case CONFIG_TYPE_BOOL:
            v = config_setting_get_bool(e) ? "true" : "false";
            break;
        default:
            problem(p, e,
                    "options: %s: a string, integer or boolean is "
                    "expected",
                    config_setting_name(e));
            continue;
        }
        o[k].key = strdup(config_setting_name(e));
        o[k].value = strdup(v);
        k++;
        if (o[k - 1].key == NULL || o[k - 1].value == NULL)
            problem(p, e, "out of memory");
    }
    *out = o;
    *n_out = k;
}

static const config_setting_t *get_list(pctx_t *p, const config_setting_t *g,
                                        const char *name)
{
    config_setting_t *s = config_setting_get_member(g, name);
    if (s == NULL)
        return NULL;
    if (!config_setting_is_list(s)) {
        problem(p, s, "%s: a list ( { ... }, ... ) is expected", name);
        return NULL;
    }
    for (int i = 0; i < config_setting_length(s); i++) {
        config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        if (!config_setting_is_group(e)) {
            problem(p, e, "%s: element %d is not a group { ... }", name, i);
            return NULL;
        }
    }
    return s;
}

static void read_listener(pctx_t *p, const config_setting_t *g,
                          teep_broker_listener_cfg_t *l)
{
    static const char *const keys[] = {"uri", "plugin", "options", NULL};
    check_keys(p, g, keys, "a listener");
    l->line = config_setting_source_line(g);
    if (get_str(p, g, "uri", &l->uri) == 0)
        problem(p, g, "listener: uri is required");
    get_str(p, g, "plugin", &l->plugin);
    get_options(p, g, &l->options, &l->n_options);
}

static void read_route(pctx_t *p, const config_setting_t *g,
                       teep_broker_route_cfg_t *r)
{
    static const char *const keys[] = {"name",
                                       "endpoints",
                                       "balance",
                                       "max_connections",
                                       "max_pending",
                                       "retry_after",
                                       "connect_timeout_ms",
                                       "read_timeout_ms",
                                       "idle_timeout_ms",
                                       "max_response",
                                       "ca_file",
                                       "health",
                                       NULL};
    static const char *const balance[] = {"failover", "round-robin", NULL};
    static const char *const checks[] = {"tcp", "post", "get", "none", NULL};
    teep_broker_route_cfg_defaults(r);
    r->line = config_setting_source_line(g);
    check_keys(p, g, keys, "a route");
    if (get_str(p, g, "name", &r->name) == 0)
        problem(p, g, "route: name is required");
    if (get_strv(p, g, "endpoints", &r->endpoints, &r->n_endpoints) == 0)
        problem(p, g, "route: endpoints is required");
    int b = (int)r->balance;
    get_enum(p, g, "balance", balance, &b);
    r->balance = (teep_broker_balance_t)b;
    get_size(p, g, "max_connections", &r->max_connections, 1, 100000);
    get_size(p, g, "max_pending", &r->max_pending, 1, 10000000);
    uint64_t ra = r->retry_after_s;
    if (get_u64(p, g, "retry_after", &ra, 1, 3600) == 1)
        r->retry_after_s = (uint32_t)ra;
    get_u64(p, g, "connect_timeout_ms", &r->connect_timeout_ms, 1, 600000);
    get_u64(p, g, "read_timeout_ms", &r->read_timeout_ms, 1, 86400000);
    get_u64(p, g, "idle_timeout_ms", &r->idle_timeout_ms, 1, 86400000);
    get_size(p, g, "max_response", &r->max_response, 1, 1u << 30);
    get_str(p, g, "ca_file", &r->ca_file);
    config_setting_t *h = config_setting_get_member(g, "health");
    if (h == NULL)
        return;
    if (!config_setting_is_group(h)) {
        problem(p, h, "health: a group { ... } is expected");
        return;
    }
    static const char *const hkeys[] = {"check", "path", "interval_ms",
                                        "timeout_ms", NULL};
    check_keys(p, h, hkeys, "health");
    int c = (int)r->check;
    get_enum(p, h, "check", checks, &c);
    r->check = (teep_broker_check_t)c;
    get_str(p, h, "path", &r->check_path);
    get_u64(p, h, "interval_ms", &r->check_interval_ms, 10, 3600000);
    get_u64(p, h, "timeout_ms", &r->check_timeout_ms, 1, 600000);
    if (r->check == TEEP_BROKER_CHECK_GET && r->check_path == NULL)
        problem(p, h, "health: check \"get\" needs a path");
}

static void read_tee(pctx_t *p, const config_setting_t *g,
                     teep_broker_tee_cfg_t *t)
{
    static const char *const keys[] = {"name",
                                       "plugin",
                                       "instance",
                                       "state_dir",
                                       "ua_dir",
                                       "route",
                                       "policy_check_interval_ms",
                                       "policy_check_at_start",
                                       "request_ta",
                                       "options",
                                       NULL};
    static const char *const instances[] = {"process", "container", "vm", NULL};
    t->line = config_setting_source_line(g);
    t->instance = TEEP_TEE_INSTANCE_PROCESS;
    t->policy_check_at_start = true;
    check_keys(p, g, keys, "a tee");
    if (get_str(p, g, "name", &t->name) == 0)
        problem(p, g, "tee: name is required");
    if (get_str(p, g, "plugin", &t->plugin) == 0)
        problem(p, g, "tee: plugin is required");
    if (get_str(p, g, "state_dir", &t->state_dir) == 0)
        problem(p, g, "tee: state_dir is required");
    if (get_str(p, g, "ua_dir", &t->ua_dir) == 0)
        problem(p, g, "tee: ua_dir is required");
    int inst = (int)t->instance - 1;
    get_enum(p, g, "instance", instances, &inst);
    t->instance = (teep_tee_instance_t)(inst + 1);
    get_str(p, g, "route", &t->route);
    get_u64(p, g, "policy_check_interval_ms", &t->policy_check_interval_ms, 0,
            86400000ull * 30);
    get_bool(p, g, "policy_check_at_start", &t->policy_check_at_start);
    get_strv(p, g, "request_ta", &t->request_ta, &t->n_request_ta);
    get_options(p, g, &t->options, &t->n_options);
}

/* Read a list setting into a freshly allocated array of n elements of
 * size sz, calling fn on each. */
static void *read_each(pctx_t *p, const config_setting_t *root,
                       const char *name, size_t sz, size_t *n_out,
                       void (*fn)(pctx_t *, const config_setting_t *, void *))
{
    const config_setting_t *list = get_list(p, root, name);
    if (list == NULL)
        return NULL;
    size_t n = (size_t)config_setting_length(list);
    char *arr = calloc(n + 1, sz);
    if (arr == NULL) {
        problem(p, list, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        fn(p, config_setting_get_elem(list, (unsigned)i), arr + i * sz);
    *n_out = n;
    return arr;
}

static void listener_fn(pctx_t *p, const config_setting_t *g, void *out)
{
    read_listener(p, g, out);
}

static void route_fn(pctx_t *p, const config_setting_t *g, void *out)
{
    read_route(p, g, out);
}

static void tee_fn(pctx_t *p, const config_setting_t *g, void *out)
{
    read_tee(p, g, out);
}

static void read_root(pctx_t *p, const config_setting_t *root,
                      teep_broker_config_t *cfg)
{
    static const char *const keys[] = {"workers",
                                       "plugin_dir",
                                       "admin",
                                       "admin_token",
                                       "log",
                                       "validate",
                                       "drain_timeout_ms",
                                       "drain_retry_after",
                                       "default_route",
                                       "listeners",
                                       "routes",
                                       "tees",
                                       "debug_flip_byte",
                                       NULL};
    check_keys(p, root, keys, "the top level");
    uint64_t w = 0;
    if (get_u64(p, root, "workers", &w, 0, 256) == 1)
        cfg->workers = (unsigned)w;
    get_str(p, root, "plugin_dir", &cfg->plugin_dir);
    get_str(p, root, "admin", &cfg->admin_listen);
    get_str(p, root, "admin_token", &cfg->admin_token);
    get_bool(p, root, "validate", &cfg->validate);
    get_u64(p, root, "drain_timeout_ms", &cfg->drain_timeout_ms, 1, 3600000);
    uint64_t ra = cfg->drain_retry_after_s;
    if (get_u64(p, root, "drain_retry_after", &ra, 1, 3600) == 1)
        cfg->drain_retry_after_s = (uint32_t)ra;
    get_str(p, root, "default_route", &cfg->default_route);
    config_setting_t *log = config_setting_get_member(root, "log");
    if (log != NULL && !config_setting_is_group(log)) {
        problem(p, log, "log: a group { ... } is expected");
    } else if (log != NULL) {
        static const char *const lkeys[] = {"level", "exchanges", NULL};
        static const char *const levels[] = {"error", "warn", "info", "debug",
                                             NULL};
        check_keys(p, log, lkeys, "log");
        int level = (int)cfg->log_level;
        get_enum(p, log, "level", levels, &level);
        cfg->log_level = (teep_log_level_t)level;
        get_bool(p, log, "exchanges", &cfg->log_exchanges);
    }
    static const char *const flips[] = {"none", "request", "response", NULL};
    config_setting_t *flip = config_setting_get_member(root, "debug_flip_byte");
    if (flip != NULL) {
        int f = 0;
        get_enum(p, root, "debug_flip_byte", flips, &f);
        cfg->debug_flip = (teep_broker_flip_t)f;
#ifndef TEEP_TEST_HOOKS
        if (f != 0)
            problem(p, flip,
                    "debug_flip_byte: this build has no test hooks "
                    "(configure with -DTEEP_TEST_HOOKS=ON)");
#endif
    }
    cfg->listeners = read_each(p, root, "listeners", sizeof(*cfg->listeners),
                               &cfg->n_listeners, listener_fn);
    cfg->routes = read_each(p, root, "routes", sizeof(*cfg->routes),
                            &cfg->n_routes, route_fn);
    cfg->tees =
        read_each(p, root, "tees", sizeof(*cfg->tees), &cfg->n_tees, tee_fn);
}

static int parse(teep_broker_config_t *cfg, const char *path, const char *text,
                 FILE *err)
{
    int rc = teep_broker_config_init(cfg, path);
    if (rc < 0)
        return rc;
    config_t lc;
    config_init(&lc);
    pctx_t p = {.name = path, .err = err};
    int ok = text != NULL ? config_read_string(&lc, text)
                          : config_read_file(&lc, path);
    if (ok != CONFIG_TRUE) {
        if (config_error_type(&lc) == CONFIG_ERR_FILE_IO) {
            if (err != NULL)
                fprintf(err, "%s: cannot read the file\n", path);
            config_destroy(&lc);
            return -EIO;
        }
        if (err != NULL)
            fprintf(err, "%s:%d: %s\n",
                    config_error_file(&lc) != NULL ? config_error_file(&lc)
                                                   : path,
                    config_error_line(&lc), config_error_text(&lc));
        config_destroy(&lc);
        return -1;
    }
    read_root(&p, config_root_setting(&lc), cfg);
    /* Semantic checks name the line of what they refer to when they can,
     * so they run here while the settings still exist. */
    if (p.problems == 0) {
        int n = teep_broker_config_check(cfg, err);
        p.problems += -n;
    }
    config_destroy(&lc);
    return p.problems > 0 ? -p.problems : 0;
}

int teep_broker_config_load(teep_broker_config_t *cfg, const char *path,
                            FILE *err)
{
    return parse(cfg, path, NULL, err);
}

int teep_broker_config_parse(teep_broker_config_t *cfg, const char *text,
                             const char *name, FILE *err)
{
    return parse(cfg, name, text, err);
}

/* ------------------------------------------------------------ checks */

int teep_broker_config_route(const teep_broker_config_t *cfg, const char *name,
                             size_t len)
{
    for (size_t i = 0; i < cfg->n_routes; i++) {
        const char *n = cfg->routes[i].name;
        if (n != NULL && strlen(n) == len && memcmp(n, name, len) == 0)
            return (int)i;
    }
    return -1;
}

int teep_broker_listen_addr(const char *s, char *host_out, uint16_t *port)
{
    if (teep_http_hostport_parse(s, 0, host_out, port) < 0)
        return -EINVAL;
    struct sockaddr_storage ss;
    return teep_http_addr_literal(host_out, *port, &ss) < 0 ? -EINVAL : 0;
}

static void bad(int *problems, FILE *err, const char *source, int line,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void bad(int *problems, FILE *err, const char *source, int line,
                const char *fmt, ...)
{
    (*problems)++;
    if (err == NULL)
        return;
    if (line > 0)
        fprintf(err, "%s:%d: ", source, line);
    else
        fprintf(err, "%s: ", source);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(err, fmt, ap);
    va_end(ap);
    fputc('\n', err);
}

/* Route names appear in agent-side paths (/tam/NAME) and in metric
 * labels: keep them to a safe alphabet. */
static bool name_ok(const char *s)
{
    if (s == NULL || *s == '\0' || strlen(s) > 64)
        return false;
    for (; *s != '\0'; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.'))
            return false;
    return true;
}

int teep_broker_config_check(const teep_broker_config_t *cfg, FILE *err)
{
    int n = 0;
    const char *src = cfg->source;
    if (cfg->n_listeners == 0 && cfg->n_tees == 0)
        bad(&n, err, src, 0, "no listener and no tee: nothing to relay for");
    if (cfg->n_routes == 0)
        bad(&n, err, src, 0, "no route: at least one TAM route is needed");
    for (size_t i = 0; i < cfg->n_listeners; i++) {
        const teep_broker_listener_cfg_t *l = &cfg->listeners[i];
        if (l->uri == NULL || strstr(l->uri, "://") == NULL)
            bad(&n, err, src, l->line,
                "listener uri \"%s\": scheme://host:port expected",
                l->uri != NULL ? l->uri : "");
    }
    for (size_t i = 0; i < cfg->n_routes; i++) {
        const teep_broker_route_cfg_t *r = &cfg->routes[i];
        if (!name_ok(r->name))
            bad(&n, err, src, r->line,
                "route name \"%s\": 1-64 of [A-Za-z0-9._-] expected",
                r->name != NULL ? r->name : "");
        else if (teep_broker_config_route(cfg, r->name, strlen(r->name)) !=
                 (int)i)
            bad(&n, err, src, r->line, "route \"%s\" defined twice", r->name);
        if (r->n_endpoints == 0 || r->n_endpoints > TEEP_BROKER_MAX_ENDPOINTS)
            bad(&n, err, src, r->line,
                "route \"%s\": 1 to %d endpoints expected, %zu given",
                r->name != NULL ? r->name : "", TEEP_BROKER_MAX_ENDPOINTS,
                r->n_endpoints);
        for (size_t e = 0; e < r->n_endpoints; e++) {
            teep_http_url_t url;
            if (teep_http_url_parse(r->endpoints[e], &url) < 0)
                bad(&n, err, src, r->line,
                    "route \"%s\": endpoint \"%s\" is not an http:// or "
                    "https:// URL",
                    r->name != NULL ? r->name : "", r->endpoints[e]);
        }
        if (r->check_path != NULL && r->check_path[0] != '/')
            bad(&n, err, src, r->line,
                "route \"%s\": health path must start with '/'",
                r->name != NULL ? r->name : "");
    }
    if (cfg->default_route != NULL &&
        teep_broker_config_route(cfg, cfg->default_route,
                                 strlen(cfg->default_route)) < 0)
        bad(&n, err, src, 0, "default_route \"%s\": no route of that name",
            cfg->default_route);
    for (size_t i = 0; i < cfg->n_tees; i++) {
        const teep_broker_tee_cfg_t *t = &cfg->tees[i];
        if (!name_ok(t->name))
            bad(&n, err, src, t->line,
                "tee name \"%s\": 1-64 of [A-Za-z0-9._-] expected",
                t->name != NULL ? t->name : "");
        for (size_t j = 0; j < i; j++)
            if (t->name != NULL && cfg->tees[j].name != NULL &&
                strcmp(t->name, cfg->tees[j].name) == 0)
                bad(&n, err, src, t->line, "tee \"%s\" defined twice", t->name);
        if (t->route != NULL &&
            teep_broker_config_route(cfg, t->route, strlen(t->route)) < 0)
            bad(&n, err, src, t->line, "tee \"%s\": no route \"%s\"",
                t->name != NULL ? t->name : "", t->route);
        for (size_t k = 0; k < t->n_request_ta; k++) {
            const char *h = t->request_ta[k];
            size_t len = strlen(h);
            bool hex = len > 0 && len % 2 == 0;
            for (size_t c = 0; c < len && hex; c++)
                hex = strchr("0123456789abcdefABCDEF", h[c]) != NULL;
            if (!hex)
                bad(&n, err, src, t->line,
                    "tee \"%s\": request_ta \"%s\" is not hex CBOR",
                    t->name != NULL ? t->name : "", h);
        }
    }
    if (cfg->admin_listen != NULL) {
        char host[TEEP_HTTP_MAX_HOST + 1];
        uint16_t port;
        if (teep_broker_listen_addr(cfg->admin_listen, host, &port) < 0)
            bad(&n, err, src, 0,
                "admin \"%s\": an address literal and port expected "
                "(127.0.0.1:9090)",
                cfg->admin_listen);
    }
    return -n;
}
