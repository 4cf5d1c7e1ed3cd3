/*
 * teep_bench_e2e.c: end-to-end agents (teep_bench_e2e.h).  Each exchange
 * is a whole TEEP exchange with the real teep-tam over HTTP, the flow
 * teep-bench-tam measures in-process (package mode 6, its first steps):
 *
 *   empty POST                        -> 200 QueryRequest
 *   QueryResponse with EAT Evidence   -> 200 Update (the TA's manifest)
 *   Success                           -> 204
 *
 * The device side is the scripted Agent of tests/tam/peer.c (teeptam_peer,
 * libteepproto on OpenSSL): it verifies the TAM's messages, signs its
 * Evidence and answers, runs the SUIT manifest, all on the bench's loop.
 *
 * Why a pool of devices: after that exchange a device's mode-6 target
 * waits for PD, so the TAM would answer the device's next QueryResponse
 * with 204 and no Update.  Every exchange therefore takes a fresh device,
 * provisioned before the run through the admin API (registered with its
 * keys, named in a mode-6 deployment), outside the measured window.  The
 * TAM's work per exchange is then the same as teep-bench-tam's.
 *
 * The run itself (closed and open loop, warm-up, histogram, the target's
 * CPU) is teep_bench_load.c's; this file is a transport for it whose one
 * exchange is three HTTP requests.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "peer.h"
#include "teep/http.h"
#include "teep_bench_e2e.h"

#define ADMIN_WINDOW       16  /* admin requests in flight while provisioning */
#define DEVICES_PER_DEPLOY 256 /* the admin API's limit per deployment */
#define TA_IMAGE_SIZE      4096
#define TOKEN_MAX          256
#define COSE_KEY_MAX       160
#define PATH_MAX_LEN       4096

enum step { STEP_CONNECT, STEP_QUERY_RESPONSE, STEP_SUCCESS };

typedef struct e2e e2e_t;

typedef struct agent {
    teep_http_client_req_t req;
    e2e_t *e;
    unsigned index;
    tam_peer_t *peer; /* the device of the exchange in progress */
    enum step step;
} agent_t;

struct e2e {
    /* The devices, provisioned before the run; each serves one exchange. */
    tam_peer_t *peers;
    unsigned npeers;
    unsigned next_peer;
    unsigned dry; /* exchanges that found no device left */
    /* The run. */
    teep_bench_load_t *load;
    teep_http_client_t client;
    agent_t *agents;
    char *path;
    unsigned errors_logged;
    /* The relay in front of the TAM (teep-broker), sampled like the TAM:
     * from the end of the warm-up to the end of the run. */
    int relay_pid;
    uv_timer_t warmed;
    double relay_cpu_start;
    double relay_cpu_s;
};

/* teep_bench_load_run's transport table has no user pointer: the devices
 * provisioned for the run are handed to open() here.  One run at a time. */
static e2e_t *prepared;

static const teep_http_header_t connect_headers[] = {
    TEEP_HTTP_HEADER("Accept", "application/teep+cbor"),
};
static const teep_http_header_t message_headers[] = {
    TEEP_HTTP_HEADER("Accept", "application/teep+cbor"),
    TEEP_HTTP_HEADER("Content-Type", "application/teep+cbor"),
};

/* ---- provisioning through the admin API --------------------------- */

typedef struct admin_call {
    teep_http_client_req_t req;
    struct provision *p;
    int status; /* HTTP status, or a negative code */
    json_t *json;
} admin_call_t;

typedef struct provision {
    uv_loop_t loop;
    teep_http_client_t client;
    char auth[TOKEN_MAX + 16];
    teep_http_header_t headers[2];
    unsigned pending;
    teep_key_t tam_key;
    teep_key_t tc_signer;
} provision_t;

static void admin_done(teep_http_client_req_t *req, int status,
                       const teep_http_response_t *resp)
{
    admin_call_t *c = req->data;
    c->p->pending--;
    c->status = status < 0 ? status : resp->status;
    if (status == 0 && resp->body != NULL)
        c->json = json_loadb((const char *)resp->body->pos,
                             teep_buf_len(resp->body), 0, NULL);
}

/* Sends one admin request; body is JSON text (json_body) or bytes. */
static int admin_send(provision_t *p, admin_call_t *c, const char *method,
                      const char *path, const void *body, size_t len,
                      bool json_body)
{
    memset(c, 0, sizeof(*c));
    c->p = p;
    c->req.data = c;
    p->headers[1] = (teep_http_header_t)TEEP_HTTP_HEADER(
        "Content-Type", "application/octet-stream");
    if (json_body)
        p->headers[1] = (teep_http_header_t)TEEP_HTTP_HEADER(
            "Content-Type", "application/json");
    teep_buf_t *b = teep_buf_copy(0, body, len);
    if (b == NULL)
        return -ENOMEM;
    int rc = teep_http_client_request(&p->client, &c->req, method, path,
                                      p->headers, 2, b, admin_done);
    teep_buf_unref(b);
    if (rc == 0)
        p->pending++;
    return rc;
}

static void admin_wait(provision_t *p)
{
    while (p->pending > 0)
        uv_run(&p->loop, UV_RUN_ONCE);
}

/* The "id" of a 201 answer, or 0 with a line on stderr. */
static int64_t admin_id(admin_call_t *c, const char *what)
{
    json_t *id = c->json != NULL ? json_object_get(c->json, "id") : NULL;
    int64_t v = json_is_integer(id) ? json_integer_value(id) : 0;
    if (c->status != 201 || v <= 0) {
        json_t *err =
            c->json != NULL ? json_object_get(c->json, "error") : NULL;
        fprintf(stderr, "teep-bench e2e: %s: %s %s\n", what,
                c->status < 0 ? teep_http_strerror(c->status) : "HTTP",
                err != NULL ? json_string_value(err) : "");
        v = 0;
    }
    json_decref(c->json);
    c->json = NULL;
    return v;
}

static int read_file_text(const char *dir, const char *name, char *out,
                          size_t cap)
{
    char path[PATH_MAX_LEN];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "teep-bench e2e: cannot read %s\n", path);
        return -EIO;
    }
    size_t n = fread(out, 1, cap - 1, f);
    fclose(f);
    while (n > 0 &&
           (out[n - 1] == '\n' || out[n - 1] == '\r' || out[n - 1] == ' '))
        n--;
    out[n] = '\0';
    return n > 0 ? 0 : -EIO;
}

static int load_tam_keys(provision_t *p, const char *dir)
{
    char path[PATH_MAX_LEN];
    snprintf(path, sizeof(path), "%s/tam-esp256.pub.pem", dir);
    int rc = teep_key_load_file(&p->tam_key, path);
    if (rc == 0) {
        snprintf(path, sizeof(path), "%s/tc-signer.pub.pem", dir);
        rc = teep_key_load_file(&p->tc_signer, path);
        if (rc != 0)
            teep_key_clear(&p->tam_key);
    }
    if (rc != 0)
        fprintf(stderr, "teep-bench e2e: cannot load %s: %s\n", path,
                teep_strerror(rc));
    return rc == 0 ? 0 : -EIO;
}

/* The TA every deployment installs. */
static int64_t upload_ta(provision_t *p)
{
    static uint8_t image[TA_IMAGE_SIZE];
    admin_call_t c;
    char path[128];
    for (size_t i = 0; i < sizeof(image); i++)
        image[i] = (uint8_t)i;
    snprintf(path, sizeof(path), "/packages?kind=ta&name=bench-e2e-%d",
             (int)getpid());
    if (admin_send(p, &c, "POST", path, image, sizeof(image), false) != 0)
        return 0;
    admin_wait(p);
    return admin_id(&c, "POST /packages");
}

/* The device's public keys as COSE_Key hex (cheaper for the TAM to read
 * than PEM). */
static int key_hex(const teep_key_t *key, char *out, size_t cap)
{
    uint8_t cose[COSE_KEY_MAX];
    size_t len;
    int rc = teep_key_to_cose(key, false, cose, sizeof(cose), &len);
    if (rc != 0 || cap < 2 * len + 1)
        return rc != 0 ? rc : -ENOSPC;
    for (size_t i = 0; i < len; i++)
        snprintf(out + 2 * i, 3, "%02x", cose[i]);
    return 0;
}

static json_t *device_json(const tam_peer_t *peer, const char *name)
{
    char teep[2 * COSE_KEY_MAX + 1], attest[2 * COSE_KEY_MAX + 1];
    if (key_hex(&peer->teep_key, teep, sizeof(teep)) != 0 ||
        key_hex(&peer->attest_key, attest, sizeof(attest)) != 0)
        return NULL;
    return json_pack("{s:s, s:s, s:s}", "name", name, "teep_key", teep,
                     "attestation_key", attest);
}

/* A window of devices [first, first + n): fresh keys, registered. */
static int register_devices(provision_t *p, e2e_t *e, unsigned first,
                            unsigned n, int64_t *ids)
{
    admin_call_t calls[ADMIN_WINDOW];
    int rc = 0;
    unsigned sent = 0;
    for (unsigned k = 0; rc == 0 && k < n; k++) {
        tam_peer_t *peer = &e->peers[first + k];
        char name[64];
        rc = tam_peer_init(peer, TEEP_KEY_P256, -1);
        if (rc != 0)
            break;
        e->npeers = first + k + 1;
        rc = tam_peer_trust_tam(peer, &p->tam_key);
        if (rc == 0)
            rc = tam_peer_trust_tc_signer(peer, &p->tc_signer);
        snprintf(name, sizeof(name), "bench-e2e-%d-%u", (int)getpid(),
                 first + k);
        json_t *j = rc == 0 ? device_json(peer, name) : NULL;
        char *text = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
        json_decref(j);
        rc = text == NULL ? -ENOMEM
                          : admin_send(p, &calls[k], "POST", "/devices", text,
                                       strlen(text), true);
        free(text);
        if (rc == 0)
            sent++;
    }
    admin_wait(p);
    for (unsigned k = 0; k < sent; k++) {
        ids[first + k] = admin_id(&calls[k], "POST /devices");
        if (ids[first + k] == 0)
            rc = -EIO;
    }
    return rc;
}

/* Mode-6 deployments naming devices [0, n), DEVICES_PER_DEPLOY each. */
static int deploy(provision_t *p, int64_t ta, const int64_t *ids, unsigned n)
{
    admin_call_t calls[ADMIN_WINDOW];
    unsigned sent = 0;
    int rc = 0;
    for (unsigned first = 0; rc == 0 && first < n;
         first += DEVICES_PER_DEPLOY) {
        json_t *devices = json_array();
        for (unsigned k = first; k < n && k < first + DEVICES_PER_DEPLOY; k++)
            json_array_append_new(devices, json_integer(ids[k]));
        char name[64];
        snprintf(name, sizeof(name), "bench-e2e-%d-%u", (int)getpid(), first);
        json_t *j = json_pack("{s:s, s:s, s:i, s:I, s:o}", "name", name,
                              "instance_type", "process", "mode", 6, "ta",
                              (json_int_t)ta, "devices", devices);
        char *text = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
        json_decref(j);
        rc = text == NULL ? -ENOMEM
                          : admin_send(p, &calls[sent], "POST", "/deployments",
                                       text, strlen(text), true);
        free(text);
        if (rc == 0 && ++sent == ADMIN_WINDOW) {
            admin_wait(p);
            for (unsigned k = 0; k < sent; k++)
                if (admin_id(&calls[k], "POST /deployments") == 0)
                    rc = -EIO;
            sent = 0;
        }
    }
    admin_wait(p);
    for (unsigned k = 0; k < sent; k++)
        if (admin_id(&calls[k], "POST /deployments") == 0)
            rc = -EIO;
    return rc;
}

static int provision(const teep_bench_e2e_opts_t *o, e2e_t *e)
{
    provision_t *p = calloc(1, sizeof(*p));
    int64_t *ids = calloc(o->devices, sizeof(*ids));
    char token[TOKEN_MAX];
    int rc = p != NULL && ids != NULL ? 0 : -ENOMEM;
    if (rc == 0)
        rc = read_file_text(o->data_dir, "admin.token", token, sizeof(token));
    if (rc == 0)
        rc = load_tam_keys(p, o->data_dir);
    if (rc != 0) {
        free(p);
        free(ids);
        return rc;
    }
    snprintf(p->auth, sizeof(p->auth), "Bearer %s", token);
    p->headers[0] =
        (teep_http_header_t){{(const uint8_t *)"Authorization", 13},
                             {(const uint8_t *)p->auth, strlen(p->auth)}};
    teep_http_client_config_t cfg;
    teep_http_client_config_default(&cfg);
    cfg.max_connections = ADMIN_WINDOW;
    uv_loop_init(&p->loop);
    rc = teep_http_client_init(&p->client, &p->loop, o->admin_url, &cfg);
    int64_t ta = rc == 0 ? upload_ta(p) : 0;
    rc = rc != 0 ? -EINVAL : ta == 0 ? -EIO : 0;
    for (unsigned first = 0; rc == 0 && first < o->devices;
         first += ADMIN_WINDOW) {
        unsigned n = o->devices - first;
        rc = register_devices(p, e, first, n < ADMIN_WINDOW ? n : ADMIN_WINDOW,
                              ids);
    }
    if (rc == 0)
        rc = deploy(p, ta, ids, o->devices);
    /* The client is this loop's only handle owner (teepnet's own per-loop
     * handles close with its last connection). */
    teep_http_client_close(&p->client, NULL);
    uv_run(&p->loop, UV_RUN_DEFAULT);
    uv_loop_close(&p->loop);
    teep_key_clear(&p->tam_key);
    teep_key_clear(&p->tc_signer);
    free(p);
    free(ids);
    return rc;
}

/* ---- the agents ---------------------------------------------------- */

static void exchange_end(agent_t *a, bool ok, const char *fmt, ...)
{
    e2e_t *e = a->e;
    if (!ok && e->errors_logged++ < 3) {
        char line[256];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        fprintf(stderr, "teep-bench e2e: agent %u: %s\n", a->index, line);
    }
    tam_peer_clear(a->peer); /* its target waits for PD now: done with */
    a->peer = NULL;
    teep_bench_load_done(e->load, a->index, ok);
}

static void on_answer(teep_http_client_req_t *req, int status,
                      const teep_http_response_t *resp);

static int post_answer(agent_t *a, const uint8_t *msg, size_t len)
{
    teep_buf_t *b = len > 0 ? teep_buf_copy(0, msg, len) : NULL;
    if (len > 0 && b == NULL)
        return -ENOMEM;
    a->req.data = a;
    int rc =
        teep_http_client_request(&a->e->client, &a->req, "POST", a->e->path,
                                 len > 0 ? message_headers : connect_headers,
                                 len > 0 ? 2 : 1, b, on_answer);
    teep_buf_unref(b);
    return rc;
}

static const char *const step_names[] = {"empty POST", "QueryResponse",
                                         "Success"};

static void on_answer(teep_http_client_req_t *req, int status,
                      const teep_http_response_t *resp)
{
    agent_t *a = req->data;
    int want = a->step == STEP_SUCCESS ? 204 : 200;
    if (status < 0) {
        exchange_end(a, false, "%s: %s", step_names[a->step],
                     teep_http_strerror(status));
        return;
    }
    if (resp->status != want) {
        exchange_end(a, false, "%s answered with HTTP %d, not %d",
                     step_names[a->step], resp->status, want);
        return;
    }
    if (a->step == STEP_SUCCESS) {
        exchange_end(a, true, NULL);
        return;
    }
    if (resp->body == NULL) {
        exchange_end(a, false, "%s answered without a body",
                     step_names[a->step]);
        return;
    }
    uint8_t *reply = NULL;
    size_t len = 0;
    peer_event_t ev;
    int rc = tam_peer_handle(a->peer, resp->body->pos, teep_buf_len(resp->body),
                             &reply, &len, &ev);
    teep_msg_type_t want_in =
        a->step == STEP_CONNECT ? TEEP_QUERY_REQUEST : TEEP_UPDATE;
    if (rc == 0 && (ev.received != want_in || reply == NULL ||
                    (a->step == STEP_QUERY_RESPONSE && ev.n_installed == 0))) {
        exchange_end(
            a, false, "%s answered with TEEP message %d (installed %zu): %s",
            step_names[a->step], (int)ev.received, ev.n_installed, ev.detail);
        free(reply);
        return;
    }
    if (rc != 0) {
        exchange_end(a, false, "the Agent refused the answer to %s: %s",
                     step_names[a->step], ev.detail);
        free(reply);
        return;
    }
    a->step++;
    rc = post_answer(a, reply, len);
    free(reply);
    if (rc != 0)
        exchange_end(a, false, "cannot send the %s: %s", step_names[a->step],
                     teep_http_strerror(rc));
}

static void on_warmed(uv_timer_t *t)
{
    e2e_t *e = t->data;
    e->relay_cpu_start = teep_bench_proc_cpu(e->relay_pid);
}

static int e2e_open(teep_bench_load_t *l, uv_loop_t *loop,
                    const teep_bench_load_opts_t *o, void **state)
{
    e2e_t *e = prepared;
    teep_http_url_t u;
    if (e == NULL || teep_http_url_parse(o->url, &u) < 0)
        return -EINVAL;
    e->load = l;
    e->path = strndup((const char *)u.path.ptr, u.path.len);
    e->agents = calloc(o->connections, sizeof(*e->agents));
    if (e->path == NULL || e->agents == NULL)
        return -ENOMEM;
    for (unsigned i = 0; i < o->connections; i++) {
        e->agents[i].e = e;
        e->agents[i].index = i;
    }
    teep_http_client_config_t cfg;
    teep_http_client_config_default(&cfg);
    cfg.max_connections = o->connections;
    cfg.max_pending = o->connections * 2;
    int rc = teep_http_client_init(&e->client, loop, o->url, &cfg);
    if (rc < 0)
        return rc;
    e->relay_cpu_start = e->relay_cpu_s = -1;
    uv_timer_init(loop, &e->warmed);
    e->warmed.data = e;
    uv_timer_start(&e->warmed, on_warmed, (uint64_t)(o->warmup * 1000), 0);
    *state = e;
    return 0;
}

/* Agent i starts an exchange with the next fresh device. */
static int e2e_send(void *state, unsigned i)
{
    e2e_t *e = state;
    agent_t *a = &e->agents[i];
    if (e->next_peer == e->npeers) {
        e->dry++;
        return -ENOSPC;
    }
    a->peer = &e->peers[e->next_peer++];
    a->step = STEP_CONNECT;
    int rc = post_answer(a, NULL, 0);
    if (rc != 0)
        a->peer = NULL;
    return rc;
}

static void e2e_close(void *state)
{
    e2e_t *e = state;
    double cpu = teep_bench_proc_cpu(e->relay_pid);
    if (cpu >= 0 && e->relay_cpu_start >= 0)
        e->relay_cpu_s = cpu - e->relay_cpu_start;
    uv_close((uv_handle_t *)&e->warmed, NULL);
    teep_http_client_close(&e->client, NULL);
}

static const teep_bench_agents_ops_t e2e_agents = {
    .transport = "http",
    .open = e2e_open,
    .send = e2e_send,
    .close = e2e_close,
};

int teep_bench_e2e_run(const teep_bench_e2e_opts_t *eo,
                       const teep_bench_load_opts_t *o, teep_bench_run_t *out,
                       unsigned *provisioned, double *provision_s,
                       double *relay_cpu_s)
{
    if (eo->admin_url == NULL || eo->data_dir == NULL || eo->devices == 0 ||
        o->url == NULL)
        return -EINVAL;
    e2e_t *e = calloc(1, sizeof(*e));
    if (e == NULL)
        return -ENOMEM;
    e->peers = calloc(eo->devices, sizeof(*e->peers));
    if (e->peers == NULL) {
        free(e);
        return -ENOMEM;
    }
    e->relay_pid = eo->relay_pid;
    uint64_t t0 = uv_hrtime();
    int rc = provision(eo, e);
    *provision_s = (double)(uv_hrtime() - t0) / 1e9;
    *provisioned = rc == 0 ? e->npeers : 0;
    if (rc == 0) {
        prepared = e;
        rc = teep_bench_load_run(&e2e_agents, o, out);
        prepared = NULL;
        *relay_cpu_s = e->relay_cpu_s;
    }
    if (e->dry > 0)
        fprintf(stderr,
                "teep-bench e2e: %u exchanges found no device left: "
                "provision more (--devices)\n",
                e->dry);
    for (unsigned i = 0; i < e->npeers; i++)
        tam_peer_clear(&e->peers[i]);
    free(e->peers);
    free(e->agents);
    free(e->path);
    free(e);
    return rc;
}

/* ---- the command --------------------------------------------------- */

static void usage(void)
{
    fprintf(stderr,
            "usage: teep-bench e2e --url URL --admin URL --data DIR"
            " [--devices N] [--connections N] [--seconds S] [--warmup S]"
            " [--rate R] [--pid PID] [--relay-pid PID] [--target NAME]"
            " [--json FILE]\n"
            "  --url    the TEEP endpoint: the TAM's or a broker's in front"
            " of it\n"
            "  --admin  the TAM's admin API; --data its data directory\n"
            "  --pid    the TAM's process (CPU per exchange); --relay-pid"
            " the broker's\n"
            "  --devices  devices provisioned, one per exchange (default"
            " 2000)\n");
}

int teep_bench_e2e_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"url", required_argument, NULL, 'u'},
        {"admin", required_argument, NULL, 'a'},
        {"data", required_argument, NULL, 'd'},
        {"devices", required_argument, NULL, 'n'},
        {"connections", required_argument, NULL, 'c'},
        {"seconds", required_argument, NULL, 's'},
        {"warmup", required_argument, NULL, 'w'},
        {"rate", required_argument, NULL, 'r'},
        {"pid", required_argument, NULL, 'p'},
        {"relay-pid", required_argument, NULL, 'R'},
        {"target", required_argument, NULL, 't'},
        {"json", required_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    teep_bench_e2e_opts_t e = {.devices = 2000};
    teep_bench_load_opts_t o = {.connections = 16, .seconds = 3, .warmup = 0.5};
    teep_bench_run_t *run = calloc(1, sizeof(*run));
    const char *json = NULL;
    int c;
    if (run == NULL)
        return 1;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'u': o.url = optarg; break;
        case 'a': e.admin_url = optarg; break;
        case 'd': e.data_dir = optarg; break;
        case 'n': e.devices = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'c': o.connections = (unsigned)strtoul(optarg, NULL, 10); break;
        case 's': o.seconds = strtod(optarg, NULL); break;
        case 'w': o.warmup = strtod(optarg, NULL); break;
        case 'r': o.rate = strtod(optarg, NULL); break;
        case 'p': o.pid = atoi(optarg); break;
        case 'R': e.relay_pid = atoi(optarg); break;
        case 't': run->target = optarg; break;
        case 'j': json = optarg; break;
        default:
            usage();
            free(run);
            return c == 'h' ? 0 : 2;
        }
    }
    unsigned provisioned = 0;
    double provision_s = 0, relay_cpu_s = -1;
    int rc = teep_bench_e2e_run(&e, &o, run, &provisioned, &provision_s,
                                &relay_cpu_s);
    if (rc == -EINVAL)
        usage();
    if (rc != 0) {
        free(run);
        return 2;
    }
    const teep_bench_hist_t *h = &run->hist;
    printf("rps=%.0f p50_us=%llu p90_us=%llu p99_us=%llu p999_us=%llu "
           "max_us=%llu ok=%llu errors=%llu late=%llu",
           run->rate,
           (unsigned long long)teep_bench_hist_quantile(h, .5) / 1000,
           (unsigned long long)teep_bench_hist_quantile(h, .9) / 1000,
           (unsigned long long)teep_bench_hist_quantile(h, .99) / 1000,
           (unsigned long long)teep_bench_hist_quantile(h, .999) / 1000,
           (unsigned long long)h->max / 1000, (unsigned long long)run->ok,
           (unsigned long long)run->errors, (unsigned long long)run->late);
    if (run->cpu_s >= 0 && h->count > 0)
        printf(" cpu_us=%.1f", run->cpu_s * 1e6 / (double)h->count);
    if (relay_cpu_s >= 0 && h->count > 0)
        printf(" relay_cpu_us=%.1f", relay_cpu_s * 1e6 / (double)h->count);
    printf(" devices=%u provision_s=%.1f\n", provisioned, provision_s);
    if (json != NULL) {
        json_t *j = teep_bench_run_json(run);
        json_object_set_new(j, "mode", json_string("e2e"));
        json_object_set_new(
            j, "exchange",
            json_string("empty POST -> QueryRequest; QueryResponse with "
                        "Evidence -> Update; Success -> 204"));
        json_object_set_new(j, "devices_provisioned",
                            json_integer(provisioned));
        if (relay_cpu_s >= 0 && h->count > 0)
            json_object_set_new(
                j, "relay_cpu_us_per_exchange",
                json_real(relay_cpu_s * 1e6 / (double)h->count));
        if (teep_bench_json_write(j, json) < 0)
            rc = 1;
    }
    free(run);
    return rc == 0 ? 0 : 1;
}
