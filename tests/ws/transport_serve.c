/*
 * teep-transport-serve: a transport plugin (the WebSocket one unless
 * --plugin names another: any teep/transport_plugin.h plugin works) as a
 * standalone server with the canned TAM (canned_tam.h) behind it, for
 * the scripts in tests/ws that need it in a process of its own (memory
 * per idle connection, push to a device agent over WebSocket and CoAP).
 *
 *   teep-transport-serve --plugin-dir DIR --vectors DIR [--plugin NAME]
 *                 [--listen URI] [--opt KEY=VALUE]... [--push DEVICE]
 *                 [--lifetime S]
 *
 * Prints "listening URI" once started.  SIGUSR1 pushes check-in to
 * DEVICE; SIGUSR2 prints "heap_in_use BYTES" (malloc's count, apart from
 * RSS and its fragmentation); SIGTERM / SIGINT (or the lifetime) stop
 * it.  Exit status 0, 1
 * when it cannot start, 2 on a usage error.
 */
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "canned_tam.h"
#include "plugin_loader.h"

#define MAX_OPTS 16

typedef struct serve {
    uv_loop_t loop;
    canned_tam_t tam;
    teep_plugin_handle_t plugin;
    const teep_transport_ops_t *ops;
    void *instance;
    const char *push_device;
    uv_signal_t sigterm, sigint, sigusr1, sigusr2;
    uv_timer_t lifetime;
} serve_t;

static void closed(uv_handle_t *h)
{
}

static void stopped(void *arg)
{
    serve_t *s = arg;
    uv_close((uv_handle_t *)&s->sigterm, closed);
    uv_close((uv_handle_t *)&s->sigint, closed);
    uv_close((uv_handle_t *)&s->sigusr1, closed);
    uv_close((uv_handle_t *)&s->sigusr2, closed);
    uv_close((uv_handle_t *)&s->lifetime, closed);
}

static void stop(serve_t *s)
{
    uv_timer_stop(&s->lifetime);
    s->ops->stop(s->instance, stopped, s);
}

static void on_signal(uv_signal_t *h, int signum)
{
    serve_t *s = h->data;
    if (signum == SIGUSR2) {
        struct mallinfo2 m = mallinfo2();
        printf("heap_in_use %zu\n", m.uordblks);
        fflush(stdout);
        return;
    }
    if (signum != SIGUSR1) {
        stop(s);
        return;
    }
    int rc = s->push_device == NULL ? -1
                                    : s->ops->push(s->instance, s->push_device,
                                                   strlen(s->push_device));
    printf("push %s: %d\n", s->push_device ? s->push_device : "-", rc);
    fflush(stdout);
}

static void on_lifetime(uv_timer_t *t)
{
    stop(t->data);
}

static int usage(void)
{
    fprintf(stderr,
            "usage: teep-transport-serve --plugin-dir DIR --vectors DIR "
            "[--plugin NAME] [--listen URI] [--opt KEY=VALUE]... "
            "[--push DEVICE] [--lifetime S]\n");
    return 2;
}

int main(int argc, char **argv)
{
    static const struct option longs[] = {
        {"plugin-dir", required_argument, NULL, 'p'},
        {"plugin", required_argument, NULL, 'n'},
        {"vectors", required_argument, NULL, 'V'},
        {"listen", required_argument, NULL, 'l'},
        {"opt", required_argument, NULL, 'o'},
        {"push", required_argument, NULL, 'P'},
        {"lifetime", required_argument, NULL, 't'},
        {NULL, 0, NULL, 0},
    };
    serve_t s;
    memset(&s, 0, sizeof(s));
    const char *plugin_dir = NULL, *vectors = NULL;
    const char *plugin = "transport_ws";
    const char *listen = "ws://127.0.0.1:0/tam";
    teep_transport_option_t opts[MAX_OPTS];
    size_t n_opts = 0;
    unsigned lifetime = 120;
    int ch;
    while ((ch = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        switch (ch) {
        case 'p': plugin_dir = optarg; break;
        case 'n': plugin = optarg; break;
        case 'V': vectors = optarg; break;
        case 'l': listen = optarg; break;
        case 'P': s.push_device = optarg; break;
        case 't': lifetime = (unsigned)atoi(optarg); break;
        case 'o': {
            char *eq = strchr(optarg, '=');
            if (eq == NULL || n_opts == MAX_OPTS)
                return usage();
            *eq = '\0';
            opts[n_opts++] = (teep_transport_option_t){optarg, eq + 1};
            break;
        }
        default: return usage();
        }
    }
    if (plugin_dir == NULL || vectors == NULL || optind != argc)
        return usage();
    char err[256], uri[256];
    uv_loop_init(&s.loop);
    if (teep_plugin_load(plugin_dir, plugin, TEEP_PLUGIN_CLASS_TRANSPORT,
                         &s.plugin, err, sizeof(err)) != 0) {
        fprintf(stderr, "teep-transport-serve: %s\n", err);
        return 1;
    }
    s.ops = s.plugin.desc->ops;
    /* Answers with the headroom the plugin asks for, as the broker. */
    if (canned_tam_init(&s.tam, &s.loop, vectors, s.ops->headroom) != 0) {
        fprintf(stderr, "teep-transport-serve: vectors missing in %s\n",
                vectors);
        return 1;
    }
    s.tam.quiet = true;
    if (s.ops->create(&s.tam.host, listen, opts, n_opts, &s.instance) != 0)
        return 1;
    uv_signal_init(&s.loop, &s.sigterm);
    uv_signal_init(&s.loop, &s.sigint);
    uv_signal_init(&s.loop, &s.sigusr1);
    uv_signal_init(&s.loop, &s.sigusr2);
    uv_timer_init(&s.loop, &s.lifetime);
    s.sigterm.data = s.sigint.data = s.sigusr1.data = s.sigusr2.data = &s;
    s.lifetime.data = &s;
    if (s.ops->start(s.instance) != 0 ||
        s.ops->local_uri(s.instance, uri, sizeof(uri)) != 0) {
        stop(&s);
        uv_run(&s.loop, UV_RUN_DEFAULT);
        s.ops->destroy(s.instance);
        return 1;
    }
    uv_signal_start(&s.sigterm, on_signal, SIGTERM);
    uv_signal_start(&s.sigint, on_signal, SIGINT);
    uv_signal_start(&s.sigusr1, on_signal, SIGUSR1);
    uv_signal_start(&s.sigusr2, on_signal, SIGUSR2);
    uv_timer_start(&s.lifetime, on_lifetime, (uint64_t)lifetime * 1000, 0);
    printf("listening %s\n", uri);
    fflush(stdout);
    uv_run(&s.loop, UV_RUN_DEFAULT);
    s.ops->destroy(s.instance);
    canned_tam_free(&s.tam);
    teep_plugin_unload(&s.plugin);
    return uv_loop_close(&s.loop) == 0 ? 0 : 1;
}
