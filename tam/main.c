/* main.c: teep-tam, the reference TAM server (and, as `teep-tam admin`,
 * the admin API client in cli.c). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "front.h"
#include "internal.h"
#include "options.h"

#define TEEP_TAM_VERSION "0.1.0"

int tam_cli_main(int argc, char **argv);

typedef struct server {
    uv_loop_t loop;
    teep_tam_t tam;
    teep_tam_front_t front;
    teep_tls_ctx_t tls, admin_tls;
    uv_signal_t sigint, sigterm;
    uv_timer_t lifetime;
    bool has_lifetime;
} server_t;

static void on_closed(uv_handle_t *h)
{
    (void)h;
}

static void on_front_stopped(teep_tam_front_t *front)
{
    server_t *s = front->data;
    uv_close((uv_handle_t *)&s->sigint, on_closed);
    uv_close((uv_handle_t *)&s->sigterm, on_closed);
    if (s->has_lifetime)
        uv_close((uv_handle_t *)&s->lifetime, on_closed);
}

static void on_signal(uv_signal_t *h, int signum)
{
    server_t *s = h->data;
    tam_log(TEEP_LOG_INFO, "signal %d: stopping", signum);
    teep_tam_front_stop(&s->front, on_front_stopped);
}

static void on_lifetime(uv_timer_t *t)
{
    server_t *s = t->data;
    tam_log(TEEP_LOG_INFO, "lifetime over: stopping");
    teep_tam_front_stop(&s->front, on_front_stopped);
}

static void print_first_start(const tam_options_t *o)
{
    printf("teep-tam: first start, made in %s:\n"
           "  tam-esp256.pem, tam-ed25519.pem  TEEP signing keys (.pub.pem:"
           " what Agents trust)\n"
           "  tc-signer.pem                    signs the SUIT manifests "
           "(.pub.pem: the Agents' TC signer anchor)\n"
           "  admin.token                      the admin API's bearer token\n"
           "  tam.db                           the state (SQLite)\n",
           o->data_dir);
}

static int tls_init(teep_tls_ctx_t *ctx, const char *cert, const char *key)
{
    if (cert[0] == 0)
        return 0;
    int rc = teep_tls_server_ctx_init(ctx, cert, key);
    if (rc != 0)
        fprintf(stderr, "teep-tam: TLS %s / %s: %s\n", cert, key,
                strerror(-rc));
    return rc;
}

static int start(server_t *s, const tam_options_t *o)
{
    teep_tam_front_config_t fc = {
        .host = o->host,
        .port = o->port,
        .admin_host = o->admin ? o->admin_host : NULL,
        .admin_port = o->admin_port,
        .tls = o->tls_cert[0] != 0 ? &s->tls : NULL,
        .admin_tls = o->admin_tls_cert[0] != 0 ? &s->admin_tls : NULL,
        .request_timeout_ms = (uint64_t)o->request_timeout * 1000,
        .max_message = o->max_message,
    };
    int rc = teep_tam_front_start(&s->front, &s->loop, &s->tam, &fc);
    s->front.data = s;
    if (rc != 0) {
        fprintf(stderr, "teep-tam: cannot listen: %s\n",
                teep_http_strerror(rc));
        return rc;
    }
    printf("teep-tam: TEEP endpoint %s://%s:%d%s\n", fc.tls ? "https" : "http",
           o->host, teep_tam_front_port(&s->front, false), TEEP_TAM_PATH);
    if (o->admin)
        printf("teep-tam: admin API %s://%s:%d (token in %s/admin.token)\n",
               fc.admin_tls ? "https" : "http", o->admin_host,
               teep_tam_front_port(&s->front, true), o->data_dir);
    fflush(stdout);
    uv_signal_init(&s->loop, &s->sigint);
    uv_signal_init(&s->loop, &s->sigterm);
    s->sigint.data = s->sigterm.data = s;
    uv_signal_start(&s->sigint, on_signal, SIGINT);
    uv_signal_start(&s->sigterm, on_signal, SIGTERM);
    if (o->lifetime > 0) {
        s->has_lifetime = true;
        uv_timer_init(&s->loop, &s->lifetime);
        s->lifetime.data = s;
        uv_timer_start(&s->lifetime, on_lifetime, (uint64_t)o->lifetime * 1000,
                       0);
    }
    return 0;
}

static int serve(const tam_options_t *o)
{
    server_t *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return 1;
    /* The workers share one database connection (TEEP_TAM_DEFAULT_
     * CONNECTIONS): each holds it only for its SQLite work. */
    char threads[16];
    snprintf(threads, sizeof(threads), "%u", o->threads);
    setenv("UV_THREADPOOL_SIZE", threads, 1);
    teep_tam_config_t cfg = {
        .data_dir = o->data_dir,
        .profile = o->profile,
        .token_ttl = o->token_ttl,
        .evidence_max_age = o->max_age,
        .max_package = o->max_package,
        .hwmodels = o->hwmodels,
        .n_hwmodels = o->n_hwmodels,
        .sw = o->sw,
        .n_sw = o->n_sw,
    };
    bool created = false;
    int rc = teep_tam_open(&s->tam, &cfg, &created);
    if (rc != 0) {
        fprintf(stderr, "teep-tam: cannot open %s: %s\n", o->data_dir,
                teep_strerror(rc));
        free(s);
        return 1;
    }
    if (created)
        print_first_start(o);
    printf("teep-tam: data in %s (keys, admin.token, tam.db)\n", o->data_dir);
    rc = uv_loop_init(&s->loop);
    if (rc == 0)
        rc = tls_init(&s->tls, o->tls_cert, o->tls_key);
    if (rc == 0)
        rc = tls_init(&s->admin_tls, o->admin_tls_cert, o->admin_tls_key);
    if (rc == 0)
        rc = start(s, o);
    uv_run(&s->loop, UV_RUN_DEFAULT);
    uv_loop_close(&s->loop);
    teep_tls_ctx_free(&s->tls);
    teep_tls_ctx_free(&s->admin_tls);
    teep_tam_close(&s->tam);
    free(s);
    return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "admin") == 0)
        return tam_cli_main(argc - 1, argv + 1);
    tam_options_t *o = malloc(sizeof(*o));
    if (o == NULL)
        return 1;
    int status = 0;
    if (tam_options_parse(o, argc, argv) != 0) {
        fputs("Try 'teep-tam --help'.\n", stderr);
        status = 2;
    } else if (o->help) {
        tam_options_usage(stdout);
    } else if (o->version) {
        printf("teep-tam %s (libteepproto, %s)\n", TEEP_TAM_VERSION,
               teep_crypto_backend());
    } else {
        tam_log_set_level((teep_log_level_t)o->verbosity);
        status = serve(o);
    }
    free(o);
    return status;
}
