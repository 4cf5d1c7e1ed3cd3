/*
 * teep-bench: the load harness (docs/bench.md).
 *
 *   teep-bench [http|coap|ws] --url URL --body FILE [--connections N]
 *              [--seconds S] [--warmup S] [--rate R] [--pid PID]
 *              [--sources K] [--target NAME] [--json FILE]
 *       N agents send FILE as TEEP messages to URL: closed loop, or open
 *       loop at R exchanges/s.  The URL's scheme picks the transport
 *       (http://, coap://, ws://; the mode word, optional, must agree).
 *       Prints one line "rps=... p50_us=... p90_us=... p99_us=...
 *       p999_us=... max_us=... ok=... errors=..." (the line
 *       teep-bench-relay printed, which tests/coap/bench_coap.sh reads)
 *       and, with --pid, the target's CPU per exchange and RSS.  CoAP
 *       and WebSocket agents with --sources come from 127.0.0.2 ..
 *       127.0.0.(1+K).
 *
 *   teep-bench idle --url URL --body FILE --steps N1,N2,... --pid PID
 *              [--sources K] [--settle S] [--batch B] [--json FILE]
 *       the idle-connection ramp: bytes per idle agent in process PID,
 *       agents of the URL's transport, at most B (256) of them between
 *       their start and their answer at once.
 *
 * The soft limit on open files is raised to the hard one: the agents are
 * connections (or CoAP sessions), and every one is a descriptor.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h> /* strcasecmp */
#include <sys/resource.h>

#include "teep/http.h"
#include "teep_bench.h"
#include "teep_bench_e2e.h"

static uint8_t *load_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    uint8_t *buf = malloc(1 << 20);
    *len = buf != NULL ? fread(buf, 1, 1 << 20, f) : 0;
    fclose(f);
    return buf;
}

static size_t parse_steps(const char *s, unsigned *steps, size_t max)
{
    size_t n = 0;
    while (*s != '\0' && n < max) {
        char *end;
        unsigned long v = strtoul(s, &end, 10);
        if (end == s || v == 0 || (n > 0 && v <= steps[n - 1]))
            return 0;
        steps[n++] = (unsigned)v;
        s = *end == ',' ? end + 1 : end;
        if (*end != ',' && *end != '\0')
            return 0;
    }
    return n;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: teep-bench [http|coap|ws] --url URL --body FILE"
            " [--connections N]"
            " [--seconds S] [--warmup S] [--rate R] [--pid PID]"
            " [--sources K] [--target NAME] [--json FILE]"
            " [--method post|get (coap)]\n"
            "       teep-bench idle --url URL --body FILE --steps N1,N2,..."
            " --pid PID [--sources K] [--settle S] [--batch B]"
            " [--json FILE]\n"
            "       teep-bench e2e --url URL --admin URL --data DIR"
            " [--devices N] [...]  (teep-bench e2e --help)\n");
}

/* The transport a URL names: "http", "coap", "ws", or NULL. */
static const char *scheme_of(const char *url)
{
    static const char *const names[] = {"http", "coap", "ws"};
    for (size_t i = 0; url != NULL && i < 3; i++) {
        size_t n = strlen(names[i]);
        if (strncmp(url, names[i], n) == 0 && strncmp(url + n, "://", 3) == 0)
            return names[i];
    }
    return NULL;
}

static int run_idle(const char *url, const uint8_t *body, size_t len,
                    const char *steps_arg, unsigned sources, int pid,
                    double settle, unsigned batch, const char *json)
{
    static const teep_bench_idle_ops_t *const kinds[] = {
        &teep_bench_http_idle, &teep_bench_coap_idle, &teep_bench_ws_idle};
    teep_http_url_t u;
    unsigned steps[16];
    size_t nsteps = steps_arg != NULL ? parse_steps(steps_arg, steps, 16) : 0;
    const char *scheme = scheme_of(url);
    const teep_bench_idle_ops_t *ops = NULL;
    for (size_t i = 0; scheme != NULL && i < 3; i++)
        if (strcmp(kinds[i]->transport, scheme) == 0)
            ops = kinds[i];
    /* teepnet's parser reads host, port and path of any of the three
     * once the scheme is swapped for http. */
    char http_url[1024];
    snprintf(http_url, sizeof(http_url), "http%s",
             scheme != NULL ? url + strlen(scheme) : "");
    if (ops == NULL || teep_http_url_parse(http_url, &u) < 0 || nsteps == 0 ||
        pid <= 0) {
        usage();
        return 2;
    }
    char host[TEEP_HTTP_MAX_HOST + 1], path[256];
    snprintf(host, sizeof(host), "%s", u.host);
    snprintf(path, sizeof(path), "%.*s", (int)u.path.len,
             (const char *)u.path.ptr);
    teep_bench_idle_opts_t o = {
        .url = url,
        .host = host,
        .port = u.port,
        .path = path[0] == '/' ? path + 1 : path,
        .body = body,
        .body_len = len,
        .steps = steps,
        .nsteps = nsteps,
        .sources = sources,
        .pid = pid,
        .settle = settle,
        .batch = batch,
    };
    json_t *out = teep_bench_idle_run(ops, &o);
    if (out == NULL)
        return 1;
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    json_object_set_new(out, "mode", json_string("idle"));
    json_object_set_new(out, "nofile_limit",
                        json_integer((json_int_t)rl.rlim_cur));
    return teep_bench_json_write(out, json != NULL ? json : "-") < 0 ? 1 : 0;
}

/* One load run of the URL's transport. */
static int run_load(const teep_bench_load_opts_t *o, teep_bench_run_t *run)
{
    const char *scheme = scheme_of(o->url);
    if (scheme == NULL)
        return -EINVAL;
    if (strcmp(scheme, "coap") == 0)
        return teep_bench_load_run(&teep_bench_coap_agents, o, run);
    if (strcmp(scheme, "ws") == 0)
        return teep_bench_load_run(&teep_bench_ws_agents, o, run);
    return teep_bench_load_run(&teep_bench_http_agents, o, run);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"url", required_argument, NULL, 'u'},
        {"body", required_argument, NULL, 'b'},
        {"connections", required_argument, NULL, 'c'},
        {"seconds", required_argument, NULL, 's'},
        {"warmup", required_argument, NULL, 'w'},
        {"rate", required_argument, NULL, 'r'},
        {"pid", required_argument, NULL, 'p'},
        {"target", required_argument, NULL, 't'},
        {"json", required_argument, NULL, 'j'},
        {"steps", required_argument, NULL, 'S'},
        {"sources", required_argument, NULL, 'k'},
        {"settle", required_argument, NULL, 'e'},
        {"batch", required_argument, NULL, 'B'},
        {"method", required_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    /* teep-bench e2e: full TEEP exchanges, its own options. */
    if (argc > 1 && strcmp(argv[1], "e2e") == 0)
        return teep_bench_e2e_main(argc - 1, argv + 1);
    bool idle = false;
    const char *mode = NULL;
    if (argc > 1 && argv[1][0] != '-') {
        mode = argv[1];
        idle = strcmp(mode, "idle") == 0;
        if (!idle && strcmp(mode, "http") != 0 && strcmp(mode, "coap") != 0 &&
            strcmp(mode, "ws") != 0) {
            usage();
            return 2;
        }
        argv[1] = argv[0];
        argv++;
        argc--;
    }
    const char *body_file = NULL, *json = NULL, *steps = NULL;
    teep_bench_http_opts_t o = {.connections = 64, .seconds = 3, .warmup = 0.5};
    teep_bench_run_t *run = calloc(1, sizeof(*run));
    unsigned sources = 4;
    double settle = 1.0;
    unsigned batch = 0;
    int c;
    if (run == NULL)
        return 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'u': o.url = optarg; break;
        case 'b': body_file = optarg; break;
        case 'c': o.connections = (unsigned)strtoul(optarg, NULL, 10); break;
        case 's': o.seconds = strtod(optarg, NULL); break;
        case 'w': o.warmup = strtod(optarg, NULL); break;
        case 'r': o.rate = strtod(optarg, NULL); break;
        case 'p': o.pid = atoi(optarg); break;
        case 't': run->target = optarg; break;
        case 'j': json = optarg; break;
        case 'S': steps = optarg; break;
        case 'k':
            sources = o.sources = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 'e': settle = strtod(optarg, NULL); break;
        case 'B': batch = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'm':
            /* CoAP only: GET, for a server that answers a resource from
             * memory (libcoap's coap-server, the CoAP baseline). */
            if (strcasecmp(optarg, "get") != 0 &&
                strcasecmp(optarg, "post") != 0) {
                usage();
                free(run);
                return 2;
            }
            o.coap_get = strcasecmp(optarg, "get") == 0;
            break;
        default: usage(); return c == 'h' ? 0 : 2;
        }
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    size_t len = 0;
    uint8_t *body = body_file != NULL ? load_file(body_file, &len) : NULL;
    const char *scheme = scheme_of(o.url);
    if (o.url == NULL || body == NULL || scheme == NULL ||
        (mode != NULL && !idle && strcmp(mode, scheme) != 0) ||
        (o.coap_get && (idle || strcmp(scheme, "coap") != 0))) {
        usage();
        free(body);
        free(run);
        return 2;
    }
    int rc;
    if (idle) {
        rc = run_idle(o.url, body, len, steps, sources, o.pid, settle, batch,
                      json);
    } else {
        o.body = body;
        o.body_len = len;
        int err = run_load(&o, run);
        rc = err < 0 ? 2 : 0;
        if (err < 0 && err != -EINVAL)
            fprintf(stderr, "teep-bench: %s agents: %s\n", scheme,
                    strerror(-err));
        if (rc == 0) {
            const teep_bench_hist_t *h = &run->hist;
            printf("rps=%.0f p50_us=%llu p90_us=%llu p99_us=%llu "
                   "p999_us=%llu max_us=%llu ok=%llu errors=%llu late=%llu",
                   run->rate,
                   (unsigned long long)teep_bench_hist_quantile(h, .5) / 1000,
                   (unsigned long long)teep_bench_hist_quantile(h, .9) / 1000,
                   (unsigned long long)teep_bench_hist_quantile(h, .99) / 1000,
                   (unsigned long long)teep_bench_hist_quantile(h, .999) / 1000,
                   (unsigned long long)h->max / 1000,
                   (unsigned long long)run->ok, (unsigned long long)run->errors,
                   (unsigned long long)run->late);
            if (run->cpu_s >= 0 && h->count > 0)
                printf(" cpu_us=%.1f", run->cpu_s * 1e6 / (double)h->count);
            if (run->rss_kb >= 0)
                printf(" rss_kb=%ld", run->rss_kb);
            printf("\n");
            if (json != NULL &&
                teep_bench_json_write(teep_bench_run_json(run), json) < 0)
                rc = 1;
        } else {
            usage();
        }
    }
    free(body);
    free(run);
    return rc;
}
