/* cli.c: `teep-tam admin`, the admin API from the command line, over the
 * shared HTTP client (teep/http.h).  Each command is one request (or a
 * poll, for `deployment wait`); the JSON answer goes to stdout. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "teep/http.h"

#include "internal.h"

#define DEFAULT_URL      "http://127.0.0.1:8081"
#define DEFAULT_DATA     "teep-tam-data"
#define MAX_FILE         (1u << 30)
#define MAX_RESPONSE     (64u << 20)
#define PATH_MAX_LEN     2048
#define WAIT_INTERVAL_US 200000

typedef struct cli {
    const char *url;
    char token[80];
    const char *get; /* --get KEY: print only that field */
    int argc;
    char **argv;
} cli_t;

static const char usage_text[] =
    "Usage: teep-tam admin [--url URL] [--token T | --data DIR] [--get KEY]\n"
    "                      COMMAND ...\n"
    "\n"
    "The admin API of a running teep-tam (default " DEFAULT_URL "); the\n"
    "token is --token, $TEEP_TAM_TOKEN, or DIR/admin.token (default DIR\n"
    "./" DEFAULT_DATA ").  Prints the JSON answer, or with --get KEY one\n"
    "field of it (a.b.c for nested ones).\n"
    "\n"
    "  info                                  the TAM's keys and settings\n"
    "  device add NAME --teep-key FILE [--attestation-key FILE]\n"
    "             [--profile auto|rfc|legacy]\n"
    "  device list | device show ID\n"
    "  device attested-key ID [--out FILE]   the PD key attested Evidence\n"
    "                                        vouches for (PEM to FILE)\n"
    "  package add ta|ua NAME FILE [--version N] [--vendor-id HEX]\n"
    "              [--class-id HEX]\n"
    "  package list | package show ID\n"
    "  deployment add NAME --mode 1..6 --type process|container|vm\n"
    "                 --ta ID [--ua ID] --device ID [--device ID ...]\n"
    "  deployment list | deployment show ID\n"
    "  deployment wait ID [--for done|waiting-pd|settled] [--timeout S]\n"
    "  pd upload DEPLOYMENT DEVICE BLOB --plaintext FILE [--name NAME]\n"
    "                                        the encrypted PD (teep pd\n"
    "                                        encrypt); FILE gives its digest\n"
    "  attestation show ID\n"
    "  audit [--device ID] [--deployment ID] [--limit N]\n"
    "\n"
    "Exit status: 0 done, 1 refused or failed, 2 bad usage, 3 timeout.\n";

static int usage_error(const char *what)
{
    fprintf(stderr, "teep-tam admin: %s\nTry 'teep-tam admin --help'.\n", what);
    return 2;
}

/* ---- one HTTP request ---------------------------------------------- */

typedef struct call {
    uv_loop_t loop;
    teep_http_client_t client;
    teep_http_client_req_t req;
    int error;
    int status;
    teep_buf_t *body;
} call_t;

static void on_response(teep_http_client_req_t *req, int status,
                        const teep_http_response_t *resp)
{
    call_t *c = req->data;
    c->error = status;
    if (status == 0) {
        c->status = resp->status;
        c->body = resp->body != NULL ? teep_buf_ref(resp->body) : NULL;
    }
    teep_http_client_close(&c->client, NULL);
}

/* method path (with query) and body (borrowed); *status and *out (a
 * malloc'd NUL-terminated body) on success.  Returns 0 or 1 after saying
 * why on stderr. */
static int request(const cli_t *cli, const char *method, const char *path,
                   const char *content_type, const uint8_t *body, size_t len,
                   int *status, char **out)
{
    call_t c;
    memset(&c, 0, sizeof(c));
    char auth[96];
    snprintf(auth, sizeof(auth), "Bearer %s", cli->token);
    teep_http_header_t h[3] = {
        {{(const uint8_t *)"Authorization", 13},
         {(const uint8_t *)auth, strlen(auth)}},
        TEEP_HTTP_HEADER("Accept", "application/json"),
        {{(const uint8_t *)"Content-Type", 12},
         {(const uint8_t *)content_type,
          content_type != NULL ? strlen(content_type) : 0}},
    };
    teep_http_client_config_t cfg;
    teep_http_client_config_default(&cfg);
    cfg.max_body_size = MAX_RESPONSE;
    teep_buf_t *b = len > 0 ? teep_buf_copy(0, body, len) : NULL;
    int rc = uv_loop_init(&c.loop);
    if (rc == 0)
        rc = teep_http_client_init(&c.client, &c.loop, cli->url, &cfg);
    c.req.data = &c;
    if (rc == 0 && (len == 0 || b != NULL))
        rc = teep_http_client_request(&c.client, &c.req, method, path, h,
                                      content_type != NULL ? 3 : 2, b,
                                      on_response);
    else if (rc == 0)
        rc = -ENOMEM;
    teep_buf_unref(b);
    if (rc == 0)
        uv_run(&c.loop, UV_RUN_DEFAULT);
    uv_loop_close(&c.loop);
    if (rc == 0)
        rc = c.error;
    if (rc != 0) {
        fprintf(stderr, "teep-tam admin: %s %s: %s\n", method, cli->url,
                teep_http_strerror(rc));
        teep_buf_unref(c.body);
        return 1;
    }
    size_t n = c.body != NULL ? teep_buf_len(c.body) : 0;
    *out = malloc(n + 1);
    if (*out != NULL && n > 0)
        memcpy(*out, c.body->pos, n);
    if (*out != NULL)
        (*out)[n] = 0;
    teep_buf_unref(c.body);
    *status = c.status;
    return *out != NULL ? 0 : 1;
}

/* Print the answer (or its --get field); 0 for 2xx, 1 otherwise. */
static int show(const cli_t *cli, int status, const char *body)
{
    json_t *j = json_loads(body, 0, NULL);
    if (status >= 300) {
        const char *e = json_string_value(json_object_get(j, "error"));
        fprintf(stderr, "teep-tam admin: %d: %s\n", status,
                e != NULL ? e : body);
        json_decref(j);
        return 1;
    }
    if (cli->get == NULL || j == NULL) {
        fputs(body, stdout);
        json_decref(j);
        return 0;
    }
    json_t *v = j;
    char key[256];
    snprintf(key, sizeof(key), "%s", cli->get);
    for (char *part = strtok(key, "."); v != NULL && part != NULL;
         part = strtok(NULL, "."))
        v = json_is_array(v) ? json_array_get(v, strtoul(part, NULL, 10))
                             : json_object_get(v, part);
    int rc = 0;
    if (json_is_string(v))
        printf("%s\n", json_string_value(v));
    else if (v != NULL) {
        json_dumpf(v, stdout, JSON_ENCODE_ANY);
        putchar('\n');
    } else
        rc = usage_error("--get: no such field in the answer");
    json_decref(j);
    return rc;
}

static int call(const cli_t *cli, const char *method, const char *path,
                const char *content_type, const uint8_t *body, size_t len)
{
    int status = 0;
    char *out = NULL;
    if (request(cli, method, path, content_type, body, len, &status, &out))
        return 1;
    int rc = show(cli, status, out);
    free(out);
    return rc;
}

/* ---- helpers ------------------------------------------------------- */

static int read_file(const char *path, uint8_t **data, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "teep-tam admin: %s: %s\n", path, strerror(errno));
        return 1;
    }
    size_t cap = 65536, n = 0;
    uint8_t *buf = malloc(cap);
    while (buf != NULL) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap || cap >= MAX_FILE)
            break;
        uint8_t *bigger = realloc(buf, cap * 2);
        if (bigger == NULL) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    bool bad = buf == NULL || ferror(f) || (n == cap && cap >= MAX_FILE);
    fclose(f);
    if (bad) {
        free(buf);
        fprintf(stderr, "teep-tam admin: %s: cannot read it\n", path);
        return 1;
    }
    *data = buf;
    *len = n;
    return 0;
}

/* Append "&name=value" (the first with '?') to path, value percent-
 * encoded. */
static int add_query(char *path, size_t cap, const char *name,
                     const char *value)
{
    size_t n = strlen(path);
    int w = snprintf(path + n, cap - n, "%c%s=", strchr(path, '?') ? '&' : '?',
                     name);
    if (w < 0 || (size_t)w >= cap - n)
        return -ENOSPC;
    n += (size_t)w;
    for (const char *v = value; *v != 0; v++) {
        bool plain = (*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') ||
                     (*v >= '0' && *v <= '9') || strchr("-._~", *v) != NULL;
        w = plain ? snprintf(path + n, cap - n, "%c", *v)
                  : snprintf(path + n, cap - n, "%%%02X", (unsigned char)*v);
        if (w < 0 || (size_t)w >= cap - n)
            return -ENOSPC;
        n += (size_t)w;
    }
    return 0;
}

/* Options after the command's positional arguments: name -> value, the
 * ones that repeat collected in order.  Returns the value or NULL. */
static const char *opt_value(const cli_t *cli, int from, const char *name)
{
    for (int i = from; i + 1 < cli->argc; i++)
        if (strcmp(cli->argv[i], name) == 0)
            return cli->argv[i + 1];
    return NULL;
}

/* Every option of cli->argv[from..] must be one of names (each takes a
 * value), and the positional count must be n. */
static int check_args(const cli_t *cli, int from, int n,
                      const char *const *names)
{
    int positional = 0;
    for (int i = from; i < cli->argc; i++) {
        if (strncmp(cli->argv[i], "--", 2) != 0) {
            positional++;
            continue;
        }
        bool known = false;
        for (size_t k = 0; names != NULL && names[k] != NULL; k++)
            known = known || strcmp(cli->argv[i], names[k]) == 0;
        if (!known || i + 1 == cli->argc) {
            fprintf(stderr, "teep-tam admin: %s: unknown or without value\n",
                    cli->argv[i]);
            return 2;
        }
        i++;
    }
    return positional == n ? 0 : usage_error("wrong number of arguments");
}

static const char *arg(const cli_t *cli, int i)
{
    return i < cli->argc ? cli->argv[i] : "";
}

/* ---- commands ------------------------------------------------------ */

static int key_field(json_t *o, const char *field, const char *file)
{
    uint8_t *data = NULL;
    size_t len = 0;
    if (file == NULL)
        return 0;
    if (read_file(file, &data, &len) != 0)
        return 1;
    json_object_set_new(o, field, json_stringn((const char *)data, len));
    free(data);
    return json_object_get(o, field) != NULL ? 0 : usage_error("key: not text");
}

static int post_json(const cli_t *cli, const char *path, json_t *j)
{
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (text == NULL)
        return 1;
    int rc = call(cli, "POST", path, "application/json", (const uint8_t *)text,
                  strlen(text));
    free(text);
    return rc;
}

static int device_add(const cli_t *cli)
{
    static const char *const names[] = {"--teep-key", "--attestation-key",
                                        "--profile", NULL};
    int rc = check_args(cli, 2, 1, names);
    if (rc != 0)
        return rc;
    if (opt_value(cli, 2, "--teep-key") == NULL)
        return usage_error("device add needs --teep-key FILE");
    json_t *j = json_pack("{s:s, s:s}", "name", arg(cli, 2), "profile",
                          opt_value(cli, 2, "--profile") != NULL
                              ? opt_value(cli, 2, "--profile")
                              : "auto");
    if (key_field(j, "teep_key", opt_value(cli, 2, "--teep-key")) != 0 ||
        key_field(j, "attestation_key",
                  opt_value(cli, 2, "--attestation-key")) != 0) {
        json_decref(j);
        return 1;
    }
    return post_json(cli, "/devices", j);
}

static int attested_key(const cli_t *cli)
{
    static const char *const names[] = {"--out", NULL};
    char path[PATH_MAX_LEN];
    int rc = check_args(cli, 2, 1, names);
    if (rc != 0)
        return rc;
    snprintf(path, sizeof(path), "/devices/%s/attested-key", arg(cli, 2));
    const char *out_file = opt_value(cli, 2, "--out");
    if (out_file == NULL)
        return call(cli, "GET", path, NULL, NULL, 0);
    int status = 0;
    char *body = NULL;
    if (request(cli, "GET", path, NULL, NULL, 0, &status, &body) != 0)
        return 1;
    json_t *j = json_loads(body, 0, NULL);
    const char *pem = json_string_value(json_object_get(j, "pd_key_pem"));
    FILE *f = status == 200 && pem != NULL ? fopen(out_file, "w") : NULL;
    rc = f != NULL && fputs(pem, f) >= 0 ? 0 : 1;
    if (f != NULL && fclose(f) != 0)
        rc = 1;
    if (rc == 0)
        fputs(body, stdout);
    else if (status == 200)
        fprintf(stderr, "teep-tam admin: %s: cannot write it\n", out_file);
    else
        show(cli, status, body);
    json_decref(j);
    free(body);
    return rc;
}

static int package_add(const cli_t *cli)
{
    static const char *const names[] = {"--version", "--vendor-id",
                                        "--class-id", NULL};
    static const char *const query[] = {"version", "vendor-id", "class-id"};
    char path[PATH_MAX_LEN] = "/packages";
    int rc = check_args(cli, 2, 3, names);
    if (rc != 0)
        return rc;
    if (add_query(path, sizeof(path), "kind", arg(cli, 2)) != 0 ||
        add_query(path, sizeof(path), "name", arg(cli, 3)) != 0)
        return usage_error("name too long");
    for (size_t i = 0; i < 3; i++) {
        const char *v = opt_value(cli, 2, names[i]);
        if (v != NULL && add_query(path, sizeof(path), query[i], v) != 0)
            return usage_error("option too long");
    }
    uint8_t *data = NULL;
    size_t len = 0;
    if (read_file(arg(cli, 4), &data, &len) != 0)
        return 1;
    rc = call(cli, "POST", path, "application/octet-stream", data, len);
    free(data);
    return rc;
}

static int deployment_add(const cli_t *cli)
{
    static const char *const names[] = {"--mode", "--type",   "--ta",
                                        "--ua",   "--device", NULL};
    int rc = check_args(cli, 2, 1, names);
    if (rc != 0)
        return rc;
    const char *mode = opt_value(cli, 2, "--mode");
    const char *type = opt_value(cli, 2, "--type");
    const char *ta = opt_value(cli, 2, "--ta");
    const char *ua = opt_value(cli, 2, "--ua");
    if (mode == NULL || type == NULL || ta == NULL)
        return usage_error("deployment add needs --mode, --type and --ta");
    json_t *devices = json_array();
    for (int i = 2; i + 1 < cli->argc; i++)
        if (strcmp(cli->argv[i], "--device") == 0)
            json_array_append_new(devices, json_integer(atoll(cli->argv[++i])));
    json_t *j =
        json_pack("{s:s, s:s, s:I, s:I, s:o}", "name", arg(cli, 2),
                  "instance_type", type, "mode", (json_int_t)atoll(mode), "ta",
                  (json_int_t)atoll(ta), "devices", devices);
    if (j != NULL && ua != NULL)
        json_object_set_new(j, "ua", json_integer(atoll(ua)));
    return post_json(cli, "/deployments", j);
}

/* Whether every target of deployment d is in a state want accepts:
 * 1 yes, 0 not yet, -1 a target failed (when want is not "settled"). */
static int reached(json_t *d, const char *want)
{
    size_t i;
    json_t *t;
    int result = 1;
    json_array_foreach(json_object_get(d, "targets"), i, t)
    {
        const char *state = json_string_value(json_object_get(t, "state"));
        if (state == NULL)
            return 0;
        bool failed = strcmp(state, "failed") == 0;
        if (failed && strcmp(want, "settled") != 0)
            return -1;
        bool ok =
            strcmp(state, "done") == 0 || failed ||
            (strcmp(want, "done") != 0 && strcmp(state, "waiting-pd") == 0);
        if (!ok)
            result = 0;
    }
    return result;
}

static int deployment_wait(const cli_t *cli)
{
    static const char *const names[] = {"--for", "--timeout", NULL};
    char path[PATH_MAX_LEN];
    int rc = check_args(cli, 2, 1, names);
    if (rc != 0)
        return rc;
    const char *want = opt_value(cli, 2, "--for");
    want = want != NULL ? want : "done";
    if (strcmp(want, "done") != 0 && strcmp(want, "waiting-pd") != 0 &&
        strcmp(want, "settled") != 0)
        return usage_error("--for done, waiting-pd or settled");
    const char *t = opt_value(cli, 2, "--timeout");
    long timeout_us = (t != NULL ? atol(t) : 60) * 1000000L;
    snprintf(path, sizeof(path), "/deployments/%s", arg(cli, 2));
    for (long waited = 0;; waited += WAIT_INTERVAL_US) {
        int status = 0;
        char *body = NULL;
        if (request(cli, "GET", path, NULL, NULL, 0, &status, &body) != 0)
            return 1;
        json_t *d = json_loads(body, 0, NULL);
        int r = status == 200 ? reached(d, want) : -2;
        json_decref(d);
        if (r != 0 || waited >= timeout_us) {
            rc = r == -2 ? show(cli, status, body) : show(cli, 200, body);
            free(body);
            if (r == 0)
                fprintf(stderr, "teep-tam admin: timed out waiting\n");
            return r == 1 ? rc : r == 0 ? 3 : 1;
        }
        free(body);
        usleep(WAIT_INTERVAL_US);
    }
}

static int pd_upload(const cli_t *cli)
{
    static const char *const names[] = {"--plaintext", "--name", NULL};
    char path[PATH_MAX_LEN], hex[65], size[24];
    int rc = check_args(cli, 2, 3, names);
    if (rc != 0)
        return rc;
    const char *plain_file = opt_value(cli, 2, "--plaintext");
    if (plain_file == NULL)
        return usage_error("pd upload needs --plaintext FILE (for its "
                           "digest and size; it is not sent)");
    uint8_t *plain = NULL, *blob = NULL, digest[32];
    size_t plain_len = 0, blob_len = 0;
    if (read_file(plain_file, &plain, &plain_len) != 0)
        return 1;
    rc = teep_sha256(plain, plain_len, digest);
    memset(plain, 0, plain_len);
    free(plain);
    if (rc != 0 || read_file(arg(cli, 4), &blob, &blob_len) != 0)
        return 1;
    tam_hex(digest, 32, hex);
    snprintf(size, sizeof(size), "%zu", plain_len);
    snprintf(path, sizeof(path), "/deployments/%s/devices/%s/pd", arg(cli, 2),
             arg(cli, 3));
    const char *name = opt_value(cli, 2, "--name");
    if (add_query(path, sizeof(path), "plaintext-sha256", hex) != 0 ||
        add_query(path, sizeof(path), "plaintext-size", size) != 0 ||
        (name != NULL && add_query(path, sizeof(path), "name", name) != 0))
        rc = usage_error("arguments too long");
    else
        rc = call(cli, "PUT", path, "application/octet-stream", blob, blob_len);
    free(blob);
    return rc;
}

static int audit(const cli_t *cli)
{
    static const char *const names[] = {"--device", "--deployment", "--limit",
                                        NULL};
    char path[PATH_MAX_LEN] = "/audit";
    int rc = check_args(cli, 1, 0, names);
    for (size_t i = 0; rc == 0 && names[i] != NULL; i++) {
        const char *v = opt_value(cli, 1, names[i]);
        if (v != NULL && add_query(path, sizeof(path), names[i] + 2, v) != 0)
            rc = usage_error("option too long");
    }
    return rc != 0 ? rc : call(cli, "GET", path, NULL, NULL, 0);
}

/* "list" and "show ID" of a collection. */
static int list_or_show(const cli_t *cli, const char *collection)
{
    char path[PATH_MAX_LEN];
    const char *verb = arg(cli, 1);
    if (strcmp(verb, "list") == 0 && cli->argc == 2)
        snprintf(path, sizeof(path), "/%s", collection);
    else if (strcmp(verb, "show") == 0 && cli->argc == 3)
        snprintf(path, sizeof(path), "/%s/%s", collection, arg(cli, 2));
    else
        return usage_error("expected list or show ID");
    return call(cli, "GET", path, NULL, NULL, 0);
}

static int dispatch(const cli_t *cli)
{
    const char *noun = arg(cli, 0), *verb = arg(cli, 1);
    if (strcmp(noun, "info") == 0 && cli->argc == 1)
        return call(cli, "GET", "/tam", NULL, NULL, 0);
    if (strcmp(noun, "device") == 0 && strcmp(verb, "add") == 0)
        return device_add(cli);
    if (strcmp(noun, "device") == 0 && strcmp(verb, "attested-key") == 0)
        return attested_key(cli);
    if (strcmp(noun, "device") == 0)
        return list_or_show(cli, "devices");
    if (strcmp(noun, "package") == 0 && strcmp(verb, "add") == 0)
        return package_add(cli);
    if (strcmp(noun, "package") == 0)
        return list_or_show(cli, "packages");
    if (strcmp(noun, "deployment") == 0 && strcmp(verb, "add") == 0)
        return deployment_add(cli);
    if (strcmp(noun, "deployment") == 0 && strcmp(verb, "wait") == 0)
        return deployment_wait(cli);
    if (strcmp(noun, "deployment") == 0)
        return list_or_show(cli, "deployments");
    if (strcmp(noun, "pd") == 0 && strcmp(verb, "upload") == 0)
        return pd_upload(cli);
    if (strcmp(noun, "attestation") == 0 && strcmp(verb, "show") == 0 &&
        cli->argc == 3) {
        char path[PATH_MAX_LEN];
        snprintf(path, sizeof(path), "/attestations/%s", arg(cli, 2));
        return call(cli, "GET", path, NULL, NULL, 0);
    }
    if (strcmp(noun, "audit") == 0)
        return audit(cli);
    return usage_error("unknown command");
}

static int load_token(cli_t *cli, const char *token, const char *data)
{
    if (token == NULL)
        token = getenv("TEEP_TAM_TOKEN");
    if (token != NULL) {
        if (strlen(token) >= sizeof(cli->token))
            return usage_error("--token: too long");
        snprintf(cli->token, sizeof(cli->token), "%s", token);
        return 0;
    }
    bool created = false;
    char path[4096];
    snprintf(path, sizeof(path), "%s/admin.token", data);
    if (access(path, R_OK) != 0 ||
        tam_keys_admin_token(data, cli->token, &created) != 0) {
        fprintf(stderr, "teep-tam admin: no token: give --token, "
                        "$TEEP_TAM_TOKEN or --data DIR\n");
        return 2;
    }
    return 0;
}

int tam_cli_main(int argc, char **argv)
{
    static const struct option options[] = {
        {"url", required_argument, NULL, 'u'},
        {"token", required_argument, NULL, 'T'},
        {"data", required_argument, NULL, 'd'},
        {"get", required_argument, NULL, 'g'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    cli_t cli = {.url = DEFAULT_URL};
    const char *token = NULL, *data = DEFAULT_DATA;
    int c;
    /* '+': stop at the command, whose own options come after it. */
    while ((c = getopt_long(argc, argv, "+u:T:d:g:h", options, NULL)) != -1) {
        switch (c) {
        case 'u': cli.url = optarg; break;
        case 'T': token = optarg; break;
        case 'd': data = optarg; break;
        case 'g': cli.get = optarg; break;
        case 'h': fputs(usage_text, stdout); return 0;
        default: return usage_error("bad option");
        }
    }
    if (optind == argc)
        return usage_error("no command");
    int rc = load_token(&cli, token, data);
    if (rc != 0)
        return rc;
    cli.argc = argc - optind;
    cli.argv = argv + optind;
    return dispatch(&cli);
}
