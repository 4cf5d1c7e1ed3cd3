/*
 * teep-bench-tam: full attested exchanges per second per core of the
 * reference TAM's core (libteeptam), next to the bound its signatures and
 * verifications set, measured in the same run.
 *
 * One exchange is what a device's session costs the TAM when it deploys a
 * TA after attestation (package mode 6, its first two steps): the empty
 * POST (QueryRequest, COSE_Sign with ESP256 and Ed25519), the
 * QueryResponse with EAT Evidence (answered with an Update carrying the
 * SUIT manifest the TAM signed for this TA version, from its cache), and
 * the Success (answered 204).  The core runs in-process with SQLite and
 * without HTTP; the scripted Agent (tests/tam/peer.c) answers in the same
 * thread, outside the timing.  Time is the thread's CPU time (cpu_s).
 *
 * Usage: teep-bench-tam [--seconds S] [--threads N] [--results FILE]
 * With --results the section between <!-- tam:begin --> and
 * <!-- tam:end --> in FILE (bench/RESULTS.md) is rewritten.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "deploy.h"
#include "results_file.h"
#include "peer.h"

#define MAX_THREADS 64

/* The TAM's crypto in one exchange: QueryRequest signed twice (ESP256,
 * Ed25519); the QueryResponse and its Evidence verified; the Update
 * signed; the Success verified.  The SUIT manifest is signed once per TA
 * version and component and then comes from the TAM's cache
 * (tam/manifest_cache.c), so it is not part of an exchange's bound: the
 * first measured exchange warms the cache like the first device does. */
#define EXCHANGE_ESP256_SIGNS   2
#define EXCHANGE_ED25519_SIGNS  1
#define EXCHANGE_ESP256_VERIFYS 3

static double budget_s = 2.0;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The calling thread's CPU time.  Rates are per CPU second, so that the
 * bound and the exchanges are compared on the same footing on a shared
 * machine, where wall time also counts the time other processes held the
 * core.  (Waiting for the writer lock is then not counted either: the
 * multi-thread row says what each core does, not how long a request
 * waits.) */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char SQL_TARGET[] =
    "SELECT id FROM targets WHERE deployment_id = ?";

/* One exchange's worth of the TAM's crypto (the counts above), on
 * 200-byte COSE_Sign1 as in crypto_rate. */
typedef struct crypto_set {
    teep_key_t p256, ed25519;
    uint8_t cose[512]; /* what parsed points into */
    teep_cose_t parsed;
} crypto_set_t;

static int crypto_set_init(crypto_set_t *c)
{
    static const uint8_t payload[200];
    size_t len = 0;
    teep_signer_t s = {&c->p256, 0};
    int rc = teep_key_generate(&c->p256, TEEP_KEY_P256);
    if (rc == 0)
        rc = teep_key_generate(&c->ed25519, TEEP_KEY_ED25519);
    if (rc == 0)
        rc = teep_cose_sign1(&s, payload, sizeof(payload), c->cose,
                             sizeof(c->cose), &len);
    if (rc == 0)
        rc = teep_cose_parse(c->cose, len, &c->parsed, NULL);
    return rc;
}

static int crypto_set_run(crypto_set_t *c)
{
    static const uint8_t payload[200];
    uint8_t out[512];
    size_t len = 0;
    teep_signer_t p256 = {&c->p256, 0}, ed = {&c->ed25519, 0};
    int rc = 0;
    for (int i = 0; rc == 0 && i < EXCHANGE_ESP256_SIGNS; i++)
        rc = teep_cose_sign1(&p256, payload, sizeof(payload), out, sizeof(out),
                             &len);
    for (int i = 0; rc == 0 && i < EXCHANGE_ED25519_SIGNS; i++)
        rc = teep_cose_sign1(&ed, payload, sizeof(payload), out, sizeof(out),
                             &len);
    for (int i = 0; rc == 0 && i < EXCHANGE_ESP256_VERIFYS; i++)
        rc = teep_cose_verify(&c->parsed, &c->p256, NULL, 0);
    return rc;
}

static void crypto_set_clear(crypto_set_t *c)
{
    teep_key_clear(&c->p256);
    teep_key_clear(&c->ed25519);
}

typedef struct worker {
    pthread_t thread;
    teep_tam_t *tam;
    tam_peer_t peer;
    int64_t device;
    int64_t ta;
    long exchanges;
    double tam_s; /* CPU time spent inside the TAM core */
    /* The bound measured beside the exchanges: after each one, the same
     * thread does one exchange's crypto alone, so both see the same
     * machine at the same moments (others' load, caches, frequency). */
    crypto_set_t crypto;
    double crypto_s;
    int rc;
    char why[320];
} worker_t;

static int timed_post(worker_t *w, const uint8_t *msg, size_t len, int want,
                      teep_tam_reply_t *reply)
{
    double t0 = cpu_s();
    int rc = teep_tam_process_message(w->tam, msg, len, reply);
    w->tam_s += cpu_s() - t0;
    if (rc == 0 && reply->status != want) {
        snprintf(w->why, sizeof(w->why), "HTTP %d (want %d): %.200s",
                 reply->status, want, reply->reason);
        rc = -EPROTO;
    }
    return rc;
}

/* The Agent's answer to reply (untimed). */
static int answer(worker_t *w, const teep_tam_reply_t *reply, uint8_t **out,
                  size_t *len)
{
    peer_event_t ev;
    int rc = tam_peer_handle(&w->peer, reply->body, reply->len, out, len, &ev);
    if (rc != 0)
        snprintf(w->why, sizeof(w->why), "Agent: %.200s", ev.detail);
    return rc;
}

/* A fresh deployment for the exchange, and afterwards its retirement
 * (its PD step would wait for PD forever): both untimed. */
static int plan(worker_t *w, int64_t *dep)
{
    tam_store_t *s = tam_pool_get(w->tam);
    tam_deploy_request_t r = {"bench", "process", 6, w->ta, 0, &w->device, 1};
    int rc = tam_deploy_create(s, &r, teep_tam_now(w->tam), dep, w->why,
                               sizeof(w->why));
    tam_pool_put(w->tam, s);
    return rc;
}

static int retire(worker_t *w, int64_t dep)
{
    tam_store_t *s = tam_pool_get(w->tam);
    sqlite3_stmt *st = tam_store_stmt(s, SQL_TARGET);
    int rc = st != NULL ? 0 : -EIO;
    if (rc == 0) {
        sqlite3_bind_int64(st, 1, dep);
        rc = tam_store_row(s, st) == 1 ? 0 : -EIO;
    }
    int64_t target = rc == 0 ? sqlite3_column_int64(st, 0) : 0;
    if (st != NULL)
        sqlite3_reset(st);
    if (rc == 0)
        rc = tam_store_begin(s);
    if (rc == 0) {
        if (tam_deploy_fail(s, target, 2, "retired by the benchmark",
                            teep_tam_now(w->tam)) != 0)
            tam_store_rollback(s);
        rc = tam_store_commit(s);
    }
    tam_pool_put(w->tam, s);
    return rc;
}

static int exchange(worker_t *w)
{
    teep_tam_reply_t reply = {0};
    uint8_t *msg = NULL;
    size_t len = 0;
    int64_t dep = 0;
    int rc = plan(w, &dep);
    if (rc == 0)
        rc = timed_post(w, NULL, 0, 200, &reply); /* QueryRequest */
    if (rc == 0)
        rc = answer(w, &reply, &msg, &len);
    teep_tam_reply_clear(&reply);
    if (rc == 0)
        rc = timed_post(w, msg, len, 200, &reply); /* -> Update */
    free(msg);
    msg = NULL;
    if (rc == 0)
        rc = answer(w, &reply, &msg, &len);
    teep_tam_reply_clear(&reply);
    if (rc == 0)
        rc = timed_post(w, msg, len, 204, &reply); /* Success -> 204 */
    free(msg);
    teep_tam_reply_clear(&reply);
    if (rc == 0)
        rc = retire(w, dep);
    return rc;
}

static void *run(void *arg)
{
    worker_t *w = arg;
    double start = now_s();
    while (w->rc == 0 && now_s() - start < budget_s) {
        w->rc = exchange(w);
        if (w->rc == 0)
            w->exchanges++;
        double t0 = cpu_s();
        if (w->rc == 0)
            w->rc = crypto_set_run(&w->crypto);
        w->crypto_s += cpu_s() - t0;
    }
    return NULL;
}

static int add_worker(teep_tam_t *tam, worker_t *w, int index, int64_t ta)
{
    memset(w, 0, sizeof(*w));
    w->tam = tam;
    w->ta = ta;
    char name[32];
    snprintf(name, sizeof(name), "bench-%d", index);
    int rc = tam_peer_init(&w->peer, TEEP_KEY_P256, -1);
    if (rc == 0)
        rc = crypto_set_init(&w->crypto);
    if (rc == 0)
        rc = tam_peer_trust_tam(&w->peer, &tam->keys.esp256);
    if (rc == 0)
        rc = tam_peer_trust_tc_signer(&w->peer, &tam->keys.tc_signer);
    tam_store_t *s = tam_pool_get(tam);
    if (rc == 0)
        rc = tam_device_add(s, name, &w->peer.teep_key, &w->peer.attest_key,
                            TAM_PROFILE_AUTO, teep_tam_now(tam), &w->device);
    tam_pool_put(tam, s);
    return rc;
}

typedef struct result {
    unsigned threads;
    const char *database;
    long exchanges;
    double per_core; /* exchanges per CPU second in the TAM per thread */
    double bound;    /* exchanges' crypto per CPU second, measured beside */
    int rc;
    char why[320];
} result_t;

/* threads workers on one TAM over db (":memory:" for one thread). */
static void measure(unsigned threads, const char *db, const char *label,
                    result_t *out)
{
    teep_tam_t tam;
    /* Connections as teep-tam opens them (TEEP_TAM_DEFAULT_CONNECTIONS):
     * the figure is the TAM's, not a configuration it does not run. */
    teep_tam_config_t cfg = {.db_path = db};
    memset(out, 0, sizeof(*out));
    out->threads = threads;
    out->database = label;
    out->rc = teep_tam_open(&tam, &cfg, NULL);
    if (out->rc != 0)
        return;
    tam_package_t ta = {.kind = TAM_PKG_TA, .name = "bench-ta"};
    static const uint8_t image[4096];
    tam_store_t *s = tam_pool_get(&tam);
    out->rc = tam_package_add(s, &ta, image, sizeof(image), teep_tam_now(&tam));
    tam_pool_put(&tam, s);
    worker_t *w = calloc(threads, sizeof(*w));
    for (unsigned i = 0; out->rc == 0 && i < threads; i++)
        out->rc = add_worker(&tam, &w[i], (int)i, ta.id);
    for (unsigned i = 0; out->rc == 0 && i < threads; i++)
        pthread_create(&w[i].thread, NULL, run, &w[i]);
    double tam_s = 0, crypto_s = 0;
    for (unsigned i = 0; out->rc == 0 && i < threads; i++) {
        pthread_join(w[i].thread, NULL);
        out->exchanges += w[i].exchanges;
        tam_s += w[i].tam_s;
        crypto_s += w[i].crypto_s;
        if (w[i].rc != 0 && out->rc == 0) {
            out->rc = w[i].rc;
            snprintf(out->why, sizeof(out->why), "%s", w[i].why);
        }
    }
    /* TAM time is summed over the threads: this is what one core does
     * while the others work beside it on the same database. */
    out->per_core = tam_s > 0 ? (double)out->exchanges / tam_s : 0;
    out->bound = crypto_s > 0 ? (double)out->exchanges / crypto_s : 0;
    for (unsigned i = 0; i < threads; i++) {
        tam_peer_clear(&w[i].peer);
        crypto_set_clear(&w[i].crypto);
    }
    free(w);
    teep_tam_close(&tam);
}

/* Operations per second of op on a 200-byte COSE_Sign1. */
static double crypto_rate(teep_key_type_t type, bool verify)
{
    teep_key_t key;
    uint8_t payload[200] = {0}, cose[512];
    size_t len = 0;
    teep_cose_t parsed;
    if (teep_key_generate(&key, type) != 0)
        return 0;
    teep_signer_t s = {&key, 0};
    int rc =
        teep_cose_sign1(&s, payload, sizeof(payload), cose, sizeof(cose), &len);
    if (rc == 0)
        rc = teep_cose_parse(cose, len, &parsed, NULL);
    long n = 0;
    double start = now_s(), cpu = cpu_s();
    while (rc == 0 && now_s() - start < budget_s / 2) {
        rc = verify ? teep_cose_verify(&parsed, &key, NULL, 0)
                    : teep_cose_sign1(&s, payload, sizeof(payload), cose,
                                      sizeof(cose), &len);
        n++;
    }
    cpu = cpu_s() - cpu;
    teep_key_clear(&key);
    return rc == 0 && cpu > 0 ? (double)n / cpu : 0;
}

static void report_row(bench_text_t *out, const result_t *r, double bound)
{
    if (r->rc != 0) {
        printf("%u thread(s), %s: failed: %s %s\n", r->threads, r->database,
               teep_strerror(r->rc), r->why);
        bench_text_append(out, "| %u | %s | failed: %s | | | | | |\n",
                          r->threads, r->database, teep_strerror(r->rc));
        return;
    }
    printf("%u thread(s), %-24s %7ld exchanges, %8.0f /s per core: %.0f%% "
           "of the bound beside it (%.0f /s), %.0f%% of the hot-loop "
           "bound\n",
           r->threads, r->database, r->exchanges, r->per_core,
           100.0 * r->per_core / r->bound, r->bound,
           100.0 * r->per_core / bound);
    bench_text_append(
        out, "| %u | %s | %ld | %.0f | %.0f | %.0f%% | %.0f | %.0f%% |\n",
        r->threads, r->database, r->exchanges, r->per_core,
        r->per_core * r->threads, 100.0 * r->per_core / r->bound, r->bound,
        100.0 * r->per_core / bound);
}

static void usage(FILE *to)
{
    fprintf(to, "usage: teep-bench-tam [--seconds S] [--threads N] "
                "[--results FILE]\n"
                "  --seconds S     time per figure (default 2)\n"
                "  --threads N     also run N threads on one database "
                "(default: CPUs)\n"
                "  --results FILE  rewrite the tam section of FILE "
                "(bench/RESULTS.md)\n");
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"seconds", required_argument, NULL, 's'},
        {"threads", required_argument, NULL, 't'},
        {"results", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *results = NULL;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads = cpus < 1 ? 1 : cpus > MAX_THREADS ? MAX_THREADS : cpus;
    int c;
    while ((c = getopt_long(argc, argv, "s:t:r:h", options, NULL)) != -1) {
        switch (c) {
        case 's': budget_s = atof(optarg); break;
        case 't': threads = (unsigned)atoi(optarg); break;
        case 'r': results = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (budget_s <= 0 || threads < 1 || threads > MAX_THREADS) {
        usage(stderr);
        return 2;
    }
    tam_log_set_level(TEEP_LOG_ERROR);

    /* The bound first, in this run, on this machine. */
    double sign_p256 = crypto_rate(TEEP_KEY_P256, false);
    double sign_ed = crypto_rate(TEEP_KEY_ED25519, false);
    double verify_p256 = crypto_rate(TEEP_KEY_P256, true);
    double crypto_s = EXCHANGE_ESP256_SIGNS / sign_p256 +
                      EXCHANGE_ED25519_SIGNS / sign_ed +
                      EXCHANGE_ESP256_VERIFYS / verify_p256;
    double bound = 1.0 / crypto_s;

    char db[] = "/tmp/teep-bench-tam-XXXXXX";
    char path[64];
    if (mkdtemp(db) == NULL)
        return 1;
    snprintf(path, sizeof(path), "%s/tam.db", db);
    result_t r[3];
    measure(1, ":memory:", "in memory", &r[0]);
    measure(1, path, "file (WAL)", &r[1]);
    char path2[80];
    snprintf(path2, sizeof(path2), "%s/shared.db", db);
    measure(threads, path2, "file (WAL), one connection", &r[2]);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", db);
    if (system(cmd) != 0)
        fprintf(stderr, "teep-bench-tam: could not remove %s\n", db);

    bench_text_t out = {0};
    struct utsname u;
    uname(&u);
    time_t t = time(NULL);
    char when[32];
    strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", gmtime(&t));
    bench_text_append(
        &out,
        "## Reference TAM: full attested exchanges\n\n"
        "Measured by `teep-bench-tam` on %s (%s %s, %ld CPUs), %.1f s "
        "per figure, %s backend.  One exchange: empty POST -> "
        "QueryRequest (COSE_Sign, ESP256 + Ed25519); QueryResponse with "
        "EAT Evidence -> Update (with the SUIT manifest the TAM built and "
        "signed once for this TA version and then cached); Success -> "
        "204.  The TAM core runs in-process with SQLite and without "
        "HTTP; the scripted Agent answers in the same thread, outside the "
        "timing.  Per core = exchanges per CPU second spent in the TAM "
        "(the thread's CPU time, as for the bound, so that other load on "
        "the machine does not count).\n\n",
        when, u.sysname, u.machine, cpus, budget_s, teep_crypto_backend());
    /* bench/results.sh reads the in-memory row's sixth column and the
     * bold bound row below: keep both where they are. */
    bench_text_append(
        &out, "| threads | database | exchanges | per core /s | all threads /s "
              "| of the crypto bound beside it | that bound /s | of the "
              "hot-loop bound |\n|---:|---|---:|---:|---:|---:|---:|---:|\n");
    printf("crypto bound (hot loop): %.0f exchanges/s per core\n", bound);
    for (size_t i = 0; i < 3; i++)
        report_row(&out, &r[i], bound);
    bench_text_append(
        &out,
        "\nThe bound beside it: after each exchange the same thread does "
        "that exchange's crypto alone (the operations below), so the "
        "exchanges and their bound are timed on the same machine at the "
        "same moments.  The hot-loop bound, measured in the same run before "
        "the exchanges: the TAM's signatures and "
        "verifications per exchange (%d ESP256 signs, %d Ed25519 sign, "
        "%d ESP256 verifies; COSE_Sign1 over 200 bytes as in "
        "`teep-bench-proto`; the manifest's signature is paid once per TA "
        "version, not per exchange).\n\n"
        "| operation | per second |\n|---|---:|\n"
        "| ESP256 sign | %.0f |\n| Ed25519 sign | %.0f |\n"
        "| ESP256 verify | %.0f |\n"
        "| **exchange bound per core** | **%.0f** |\n",
        EXCHANGE_ESP256_SIGNS, EXCHANGE_ED25519_SIGNS, EXCHANGE_ESP256_VERIFYS,
        sign_p256, sign_ed, verify_p256, bound);
    int rc = results != NULL ? bench_results_write("teep-bench-tam", results,
                                                   "tam", out.text)
                             : 0;
    free(out.text);
    for (size_t i = 0; i < 3; i++)
        if (r[i].rc != 0)
            rc = 1;
    return rc == 0 ? 0 : 1;
}
