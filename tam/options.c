/* options.c: teep-tam's options: getopt_long for the command line, and
 * jansson for the optional JSON config file (its keys are the long
 * option names, its values strings, numbers or arrays of strings for the
 * options that repeat). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "internal.h"
#include "options.h"

#define MAX_THREADS 64

enum {
    OPT_LISTEN = 'l',
    OPT_DATA = 'd',
    OPT_CONFIG = 'c',
    OPT_PROFILE = 'p',
    OPT_THREADS = 't',
    OPT_VERBOSE = 'v',
    OPT_QUIET = 'q',
    OPT_HELP = 'h',
    OPT_ADMIN_LISTEN = 256,
    OPT_TOKEN_TTL,
    OPT_MAX_AGE,
    OPT_REQUEST_TIMEOUT,
    OPT_MAX_MESSAGE,
    OPT_MAX_PACKAGE,
    OPT_LIFETIME,
    OPT_TLS_CERT,
    OPT_TLS_KEY,
    OPT_ADMIN_TLS_CERT,
    OPT_ADMIN_TLS_KEY,
    OPT_HWMODEL,
    OPT_SW,
    OPT_VERSION,
};

static const struct option long_options[] = {
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"admin-listen", required_argument, NULL, OPT_ADMIN_LISTEN},
    {"data", required_argument, NULL, OPT_DATA},
    {"config", required_argument, NULL, OPT_CONFIG},
    {"profile", required_argument, NULL, OPT_PROFILE},
    {"token-ttl", required_argument, NULL, OPT_TOKEN_TTL},
    {"max-age", required_argument, NULL, OPT_MAX_AGE},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"request-timeout", required_argument, NULL, OPT_REQUEST_TIMEOUT},
    {"max-message", required_argument, NULL, OPT_MAX_MESSAGE},
    {"max-package", required_argument, NULL, OPT_MAX_PACKAGE},
    {"lifetime", required_argument, NULL, OPT_LIFETIME},
    {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
    {"tls-key", required_argument, NULL, OPT_TLS_KEY},
    {"admin-tls-cert", required_argument, NULL, OPT_ADMIN_TLS_CERT},
    {"admin-tls-key", required_argument, NULL, OPT_ADMIN_TLS_KEY},
    {"hwmodel", required_argument, NULL, OPT_HWMODEL},
    {"sw", required_argument, NULL, OPT_SW},
    {"verbose", no_argument, NULL, OPT_VERBOSE},
    {"quiet", no_argument, NULL, OPT_QUIET},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

void tam_options_usage(FILE *out)
{
    fputs(
        "Usage: teep-tam [OPTIONS]            the TAM server\n"
        "       teep-tam admin [--help] ...   the admin API client\n"
        "\n"
        "TEEP over HTTP on POST /tam (application/teep+cbor), the admin API\n"
        "(HTTP + JSON, bearer token) on its own listener.  On first start the\n"
        "keys, the admin token and the database are made in the data\n"
        "directory, and where they are is printed.\n"
        "\n"
        "  -l, --listen HOST:PORT     TEEP endpoint (default 127.0.0.1:8080;\n"
        "                             port 0: any, printed on start)\n"
        "      --admin-listen HOST:PORT|none\n"
        "                             admin API (default 127.0.0.1:8081)\n"
        "  -d, --data DIR             keys and database (default\n"
        "                             ./teep-tam-data)\n"
        "  -c, --config FILE          JSON object of these options by long\n"
        "                             name; the command line wins\n"
        "  -p, --profile rfc|legacy   numbering for Agents not known yet\n"
        "                             (default rfc; known ones: per device)\n"
        "      --token-ttl SECONDS    how long a request waits for its\n"
        "                             answer (default 14400)\n"
        "      --max-age SECONDS      Evidence freshness (default 300)\n"
        "  -t, --threads N            worker threads (default: CPUs); they\n"
        "                             share one database connection\n"
        "      --request-timeout SECONDS\n"
        "                             for a request's head and body (10)\n"
        "      --max-message BYTES    largest TEEP body (default 1048576)\n"
        "      --max-package BYTES    largest upload (default 67108864)\n"
        "      --lifetime SECONDS     stop by itself after this (tests)\n"
        "      --tls-cert FILE --tls-key FILE\n"
        "                             HTTPS for the TEEP endpoint\n"
        "      --admin-tls-cert FILE --admin-tls-key FILE\n"
        "                             HTTPS for the admin API\n"
        "      --hwmodel HEX          allowed hwmodel in Evidence (repeat)\n"
        "      --sw NAME[=VERSION]    allowed swname[/swversion] (repeat)\n"
        "  -v, --verbose / -q, --quiet  more / less log on stderr\n"
        "  -h, --help                 this text\n"
        "      --version              the version\n",
        out);
}

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int fail(const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    fprintf(stderr, "teep-tam: %s\n", line);
    return -EINVAL;
}

static int number(const char *name, const char *v, uint64_t min, uint64_t max,
                  uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno != 0 || end == v || *end != 0 || v[0] == '-' || n < min ||
        n > max)
        return fail("--%s: '%s' is out of range", name, v);
    *out = n;
    return 0;
}

static int u32(const char *name, const char *v, uint32_t min, uint32_t *out)
{
    uint64_t n = 0;
    int rc = number(name, v, min, UINT32_MAX, &n);
    *out = (uint32_t)n;
    return rc;
}

static int path(const char *name, const char *v, char *out, size_t cap)
{
    if (strlen(v) >= cap)
        return fail("--%s: '%s' is too long", name, v);
    memcpy(out, v, strlen(v) + 1);
    return 0;
}

static int hostport(const char *name, const char *v, char *host, uint16_t *port)
{
    /* Port 0 (any free one, printed on start) is what tests use; the
     * module's parser wants a real port, so parse ":1" instead. */
    char text[TEEP_HTTP_MAX_HOST + 16];
    size_t n = strlen(v);
    bool any = n >= 2 && strcmp(v + n - 2, ":0") == 0;
    if (n >= sizeof(text))
        return fail("--%s: '%s' is too long", name, v);
    snprintf(text, sizeof(text), "%.*s%s", (int)(any ? n - 1 : n), v,
             any ? "1" : "");
    if (teep_http_hostport_parse(text, 0, host, port) != 0)
        return fail("--%s: '%s' is not HOST:PORT", name, v);
    if (any)
        *port = 0;
    return 0;
}

static int add_hwmodel(tam_options_t *o, const char *v)
{
    size_t i = o->n_hwmodels, len = 0;
    if (i == TAM_OPT_MAX_REFS ||
        tam_unhex(v, o->hwmodel_bytes[i], 32, &len) != 0 || len == 0)
        return fail("--hwmodel: '%s' is not 1..32 bytes of hex", v);
    o->hwmodels[i] = (teep_slice_t){o->hwmodel_bytes[i], len};
    o->n_hwmodels++;
    return 0;
}

static int add_sw(tam_options_t *o, const char *v)
{
    size_t i = o->n_sw;
    if (i == TAM_OPT_MAX_REFS || strlen(v) == 0 ||
        strlen(v) >= sizeof(o->sw_text[i]))
        return fail("--sw: '%s' is not NAME[=VERSION]", v);
    char *text = o->sw_text[i];
    memcpy(text, v, strlen(v) + 1);
    char *eq = strchr(text, '=');
    if (eq != NULL)
        *eq = 0;
    o->sw[i] = (teep_eat_sw_ref_t){text, eq != NULL ? eq + 1 : NULL};
    o->n_sw++;
    return 0;
}

/* Apply one option by its code (getopt's value). */
static int set(tam_options_t *o, int code, const char *name, const char *v)
{
    uint64_t n = 0;
    switch (code) {
    case OPT_LISTEN: return hostport(name, v, o->host, &o->port);
    case OPT_ADMIN_LISTEN:
        o->admin = strcmp(v, "none") != 0;
        return o->admin ? hostport(name, v, o->admin_host, &o->admin_port) : 0;
    case OPT_DATA: return path(name, v, o->data_dir, sizeof(o->data_dir));
    case OPT_CONFIG: return 0; /* read before everything else */
    case OPT_PROFILE:
        return teep_profile_parse(v, &o->profile) == 0
                   ? 0
                   : fail("--%s: '%s' is not rfc or legacy", name, v);
    case OPT_TOKEN_TTL: return u32(name, v, 1, &o->token_ttl);
    case OPT_MAX_AGE: return u32(name, v, 1, &o->max_age);
    case OPT_THREADS:
        if (number(name, v, 1, MAX_THREADS, &n) != 0)
            return -EINVAL;
        o->threads = (unsigned)n;
        return 0;
    case OPT_REQUEST_TIMEOUT: return u32(name, v, 1, &o->request_timeout);
    case OPT_MAX_MESSAGE: return number(name, v, 64, 1u << 30, &o->max_message);
    case OPT_MAX_PACKAGE: return number(name, v, 1, 1u << 30, &o->max_package);
    case OPT_LIFETIME: return u32(name, v, 1, &o->lifetime);
    case OPT_TLS_CERT: return path(name, v, o->tls_cert, sizeof(o->tls_cert));
    case OPT_TLS_KEY: return path(name, v, o->tls_key, sizeof(o->tls_key));
    case OPT_ADMIN_TLS_CERT:
        return path(name, v, o->admin_tls_cert, sizeof(o->admin_tls_cert));
    case OPT_ADMIN_TLS_KEY:
        return path(name, v, o->admin_tls_key, sizeof(o->admin_tls_key));
    case OPT_HWMODEL: return add_hwmodel(o, v);
    case OPT_SW: return add_sw(o, v);
    case OPT_VERBOSE: o->verbosity = TEEP_LOG_DEBUG; return 0;
    case OPT_QUIET: o->verbosity = TEEP_LOG_WARN; return 0;
    case OPT_HELP: o->help = true; return 0;
    case OPT_VERSION: o->version = true; return 0;
    default: return fail("unknown option");
    }
}

static const struct option *find_option(const char *name)
{
    for (const struct option *p = long_options; p->name != NULL; p++)
        if (strcmp(p->name, name) == 0)
            return p;
    return NULL;
}

/* One config file value: text, a number, a boolean for a flag. */
static int set_json(tam_options_t *o, const struct option *opt, json_t *v)
{
    char text[32];
    if (json_is_string(v))
        return set(o, opt->val, opt->name, json_string_value(v));
    if (json_is_integer(v)) {
        snprintf(text, sizeof(text), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(v));
        return set(o, opt->val, opt->name, text);
    }
    if (json_is_boolean(v) && opt->has_arg == no_argument)
        return json_is_true(v) ? set(o, opt->val, opt->name, NULL) : 0;
    return fail("config: '%s' has a value of the wrong type", opt->name);
}

static int load_config(tam_options_t *o, const char *file)
{
    json_error_t err;
    json_t *root = json_load_file(file, 0, &err);
    if (root == NULL || !json_is_object(root)) {
        json_decref(root);
        return fail("%s: not a JSON object (%s)", file,
                    root == NULL ? err.text : "");
    }
    const char *key;
    json_t *v;
    int rc = 0;
    json_object_foreach(root, key, v)
    {
        const struct option *opt = find_option(key);
        if (opt == NULL || opt->val == OPT_CONFIG || opt->val == OPT_HELP ||
            opt->val == OPT_VERSION) {
            rc = fail("%s: unknown option '%s'", file, key);
            break;
        }
        size_t i;
        json_t *item;
        if (json_is_array(v))
            json_array_foreach(v, i, item)
            {
                if (rc == 0)
                    rc = set_json(o, opt, item);
            }
        else
            rc = set_json(o, opt, v);
        if (rc != 0)
            break;
    }
    json_decref(root);
    return rc;
}

static void defaults(tam_options_t *o)
{
    memset(o, 0, sizeof(*o));
    snprintf(o->host, sizeof(o->host), "127.0.0.1");
    o->port = 8080;
    o->admin = true;
    snprintf(o->admin_host, sizeof(o->admin_host), "127.0.0.1");
    o->admin_port = 8081;
    snprintf(o->data_dir, sizeof(o->data_dir), "teep-tam-data");
    o->profile = TEEP_PROFILE_RFC;
    o->token_ttl = TEEP_TAM_DEFAULT_TOKEN_TTL;
    o->max_age = TEEP_TAM_DEFAULT_MAX_AGE;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    o->threads = cpus < 1 ? 1 : cpus > MAX_THREADS ? MAX_THREADS : cpus;
    o->request_timeout = 10;
    o->max_message = TEEP_TAM_DEFAULT_MAX_MESSAGE;
    o->max_package = TEEP_TAM_DEFAULT_MAX_PACKAGE;
    o->verbosity = TEEP_LOG_INFO;
}

static const char short_options[] = "l:d:c:p:t:vqh";

int tam_options_parse(tam_options_t *o, int argc, char **argv)
{
    defaults(o);
    /* First pass: only --config, so that the command line can override
     * what the file sets. */
    const char *config = NULL;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, short_options, long_options, NULL)) !=
           -1)
        if (c == OPT_CONFIG)
            config = optarg;
    if (config != NULL && load_config(o, config) != 0)
        return -EINVAL;
    opterr = 1;
    optind = 1;
    int index = 0;
    while ((c = getopt_long(argc, argv, short_options, long_options, &index)) !=
           -1) {
        const char *name = long_options[index].name;
        for (const struct option *p = long_options; p->name != NULL; p++)
            if (p->val == c)
                name = p->name;
        if (c == '?' || set(o, c, name, optarg) != 0)
            return -EINVAL;
    }
    if (optind < argc)
        return fail("unexpected argument '%s'", argv[optind]);
    if ((o->tls_cert[0] != 0) != (o->tls_key[0] != 0) ||
        (o->admin_tls_cert[0] != 0) != (o->admin_tls_key[0] != 0))
        return fail("--tls-cert and --tls-key go together");
    return 0;
}
