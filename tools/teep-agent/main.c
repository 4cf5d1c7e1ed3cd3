/*
 * main.c: teep-agent, the device agent (device.h, docs/teep-agent.md).
 *
 *   teep-agent --broker ws://edge:8089/tam --state /var/lib/teep-tee \
 *              --tam-key tam-esp256.pub.pem --tc-signer tc-signer.pub.pem
 *
 * Exit codes: 0 done (a daemon stopped by a signal, or --once with every
 * session ok), 1 a session failed (--once), 2 a usage error, 3 the TEE
 * or a transport could not start.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "teep/suit.h"

#ifndef TEEP_AGENT_PLUGIN_DIR
#define TEEP_AGENT_PLUGIN_DIR "/usr/lib/teep"
#endif

enum { EXIT_OK = 0, EXIT_SESSION = 1, EXIT_USAGE = 2, EXIT_START = 3 };

void dev_log(const device_t *dev, teep_log_level_t level, const char *fmt, ...)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    if (level > dev->opt.log_level)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "teep-agent: %s: ", names[level]);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void usage(FILE *out)
{
    fprintf(
        out,
        "usage: teep-agent --broker URI --state DIR --tam-key FILE "
        "--tc-signer FILE [options]\n"
        "\n"
        "The device side of TEEP: runs the Agent of a TEE (the simulated "
        "TEE by default)\n"
        "and reaches a TAM through a broker over HTTP, CoAP or WebSocket "
        "(the URI's\n"
        "scheme picks: http[s]://, ws[s]://).\n"
        "\n"
        "  -b, --broker URI        the broker's TAM URI, e.g. "
        "ws://127.0.0.1:8089/tam\n"
        "  -s, --state DIR         the TEE's state directory (made 0700)\n"
        "  -k, --tam-key FILE      a TAM's public key the Agent trusts "
        "(repeatable)\n"
        "  -c, --tc-signer FILE    a Trusted Component signer's public key "
        "(repeatable)\n"
        "  -i, --instance TYPE     process (default), container or vm\n"
        "  -I, --interval S        a policy check every S seconds (default: "
        "none)\n"
        "  -1, --once              one policy check (and the --request-ta), "
        "then exit\n"
        "  -r, --request-ta ID     ask for Trusted Component ID, e.g. "
        "TEE/process/hello/ta\n"
        "                          (repeatable)\n"
        "  -d, --device NAME       the name pushes use (WebSocket; default: "
        "the host name)\n"
        "  -C, --ca FILE           trust anchors for https:// and wss://\n"
        "  -t, --timeout S         an answer must come within S seconds "
        "(default 60)\n"
        "  -p, --plugin-dir DIR    TEE plugins (default: "
        "<bin>/../lib/teep)\n"
        "  -P, --plugin NAME       the TEE plugin (default tee_sim)\n"
        "  -u, --ua-dir DIR        where authorised UAs are installed "
        "(default: DIR.ua)\n"
        "  -U, --ua-socket PATH    let UAs reach their TAs through this "
        "socket\n"
        "      --profile P         auto (default), rfc or legacy\n"
        "  -e, --export-keys DIR   copy the Agent's public keys (the ones a "
        "TAM registers\n"
        "                          this device by) to DIR, then exit\n"
        "  -v, --verbose           debug logs;  -q, --quiet  errors only\n"
        "  -h, --help\n"
        "\n"
        "Signals: SIGUSR1 runs a policy check now; SIGTERM / SIGINT stop.\n"
        "Exit: 0 ok, 1 a session failed (--once), 2 usage, 3 start-up "
        "failure.\n");
}

/* <directory of the executable>/../lib/teep, the build's layout. */
static void default_plugin_dir(char *out, size_t cap)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0) {
        snprintf(out, cap, "%s", TEEP_AGENT_PLUGIN_DIR);
        return;
    }
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash != NULL)
        *slash = '\0';
    int len = snprintf(out, cap, "%s/../lib/teep", exe);
    if (len < 0 || (size_t)len >= cap)
        snprintf(out, cap, "%s", TEEP_AGENT_PLUGIN_DIR);
}

typedef struct cli {
    dev_options_t opt;
    char plugin_dir[4096];
    char ua_dir[4096];
} cli_t;

static int add(const char **v, size_t *n, const char *s)
{
    if (*n == DEV_MAX_KEYS)
        return -1;
    v[(*n)++] = s;
    return 0;
}

static int parse(cli_t *cli, int argc, char **argv)
{
    static const struct option longs[] = {
        {"broker", required_argument, NULL, 'b'},
        {"state", required_argument, NULL, 's'},
        {"tam-key", required_argument, NULL, 'k'},
        {"tc-signer", required_argument, NULL, 'c'},
        {"instance", required_argument, NULL, 'i'},
        {"interval", required_argument, NULL, 'I'},
        {"once", no_argument, NULL, '1'},
        {"request-ta", required_argument, NULL, 'r'},
        {"device", required_argument, NULL, 'd'},
        {"ca", required_argument, NULL, 'C'},
        {"timeout", required_argument, NULL, 't'},
        {"plugin-dir", required_argument, NULL, 'p'},
        {"plugin", required_argument, NULL, 'P'},
        {"ua-dir", required_argument, NULL, 'u'},
        {"ua-socket", required_argument, NULL, 'U'},
        {"profile", required_argument, NULL, 'R'},
        {"export-keys", required_argument, NULL, 'e'},
        {"verbose", no_argument, NULL, 'v'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    dev_options_t *o = &cli->opt;
    o->plugin = "tee_sim";
    o->instance = TEEP_TEE_INSTANCE_PROCESS;
    o->timeout_s = 60;
    o->log_level = TEEP_LOG_INFO;
    int ch;
    char *end;
    while ((ch = getopt_long(argc, argv, "b:s:k:c:i:I:1r:d:C:t:p:P:u:U:e:vqh",
                             longs, NULL)) != -1) {
        switch (ch) {
        case 'b': o->broker = optarg; break;
        case 's': o->state_dir = optarg; break;
        case 'k':
            if (add(o->tam_keys, &o->n_tam_keys, optarg) != 0)
                return -1;
            break;
        case 'c':
            if (add(o->tc_signers, &o->n_tc_signers, optarg) != 0)
                return -1;
            break;
        case 'i':
            if (teep_tee_instance_parse(optarg, &o->instance) != 0)
                return -1;
            break;
        case 'I':
        case 't': {
            unsigned long v = strtoul(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || v > 86400 ||
                (ch == 't' && v == 0))
                return -1;
            *(ch == 'I' ? &o->interval_s : &o->timeout_s) = (unsigned)v;
            break;
        }
        case '1': o->once = true; break;
        case 'r':
            if (o->n_requests == DEV_MAX_REQUESTS)
                return -1;
            o->requests[o->n_requests++] = optarg;
            break;
        case 'd': o->device = optarg; break;
        case 'C': o->ca_file = optarg; break;
        case 'p': o->plugin_dir = optarg; break;
        case 'P': o->plugin = optarg; break;
        case 'u': o->ua_dir = optarg; break;
        case 'U': o->ua_socket = optarg; break;
        case 'R': o->profile = optarg; break;
        case 'e': o->export_keys = optarg; break;
        case 'v': o->log_level = TEEP_LOG_DEBUG; break;
        case 'q': o->log_level = TEEP_LOG_ERROR; break;
        case 'h': usage(stdout); exit(EXIT_OK);
        default: return -1;
        }
    }
    if (optind != argc || o->broker == NULL || o->state_dir == NULL ||
        o->n_tam_keys == 0 || o->n_tc_signers == 0 ||
        strlen(o->broker) >= TEEP_TEE_URI_MAX)
        return -1;
    if (o->plugin_dir == NULL) {
        default_plugin_dir(cli->plugin_dir, sizeof(cli->plugin_dir));
        o->plugin_dir = cli->plugin_dir;
    }
    if (o->ua_dir == NULL) {
        /* Beside the state directory: that one is the TEE's alone. */
        size_t n = strlen(o->state_dir);
        while (n > 1 && o->state_dir[n - 1] == '/')
            n--;
        snprintf(cli->ua_dir, sizeof(cli->ua_dir), "%.*s.ua", (int)n,
                 o->state_dir);
        o->ua_dir = cli->ua_dir;
    }
    return 0;
}

/* ------------------------------------------------------------ stopping */

static void handle_closed(uv_handle_t *h)
{
}

static void tee_closed(device_t *dev)
{
    uv_close((uv_handle_t *)&dev->sigint, handle_closed);
    uv_close((uv_handle_t *)&dev->sigterm, handle_closed);
    uv_close((uv_handle_t *)&dev->sigusr1, handle_closed);
    uv_close((uv_handle_t *)&dev->idle_check, handle_closed);
}

static bool transports_done;
static bool conversations_done;

/* Both the transports and the last conversation have ended: the TEE
 * session can close (no op of a conversation can follow). */
static void maybe_close_tee(device_t *dev)
{
    if (transports_done && conversations_done)
        dev_tee_close(dev, tee_closed);
}

void dev_conversations_ended(device_t *dev)
{
    conversations_done = true;
    maybe_close_tee(dev);
}

static void transports_closed(device_t *dev)
{
    transports_done = true;
    maybe_close_tee(dev);
}

void dev_stop(device_t *dev, int exit_code)
{
    if (dev->stopping)
        return;
    dev->stopping = true;
    dev->exit_code = exit_code;
    uv_idle_stop(&dev->idle_check);
    conversations_done = dev_drop_waiting(dev);
    dev_transports_close(dev, transports_closed);
}

static void on_signal(uv_signal_t *h, int signum)
{
    device_t *dev = h->data;
    if (signum == SIGUSR1) {
        dev_policy_check(dev, "SIGUSR1");
        return;
    }
    dev_log(dev, TEEP_LOG_INFO, "signal %d: stopping", signum);
    dev_stop(dev, EXIT_OK);
}

/* --once: stop when nothing is left to do. */
static void on_idle(uv_idle_t *h)
{
    device_t *dev = h->data;
    if (dev_idle(dev))
        dev_stop(dev, dev->sessions_failed > 0 ? EXIT_SESSION : EXIT_OK);
}

/* ------------------------------------------------------------ starting */

static void tee_opened(device_t *dev, int rc)
{
    if (rc != 0) {
        dev_stop(dev, EXIT_START);
        return;
    }
    if (dev->opt.export_keys != NULL) {
        dev_stop(dev, dev_export_keys(dev, dev->opt.export_keys) == 0
                          ? EXIT_OK
                          : EXIT_START);
        return;
    }
    /* A WebSocket broker is connected to at once, to hear pushes. */
    if (dev_transport_get(dev, dev->opt.broker) == NULL) {
        dev_stop(dev, EXIT_START);
        return;
    }
    for (size_t i = 0; i < dev->opt.n_requests; i++) {
        uint8_t id[512];
        size_t len;
        if (teep_suit_component_id_from_text(dev->opt.requests[i], id,
                                             sizeof(id), &len) != 0 ||
            dev_request_ta(dev, id, len) != 0)
            dev_log(dev, TEEP_LOG_ERROR, "--request-ta %s: not requested",
                    dev->opt.requests[i]);
    }
    dev_policy_check(dev, "start");
    if (dev->opt.once)
        uv_idle_start(&dev->idle_check, on_idle);
}

int main(int argc, char **argv)
{
    static cli_t cli;
    if (parse(&cli, argc, argv) != 0) {
        usage(stderr);
        return EXIT_USAGE;
    }
    static device_t dev;
    static uv_loop_t loop;
    dev.opt = cli.opt;
    dev.loop = &loop;
    signal(SIGPIPE, SIG_IGN);
    uv_loop_init(&loop);
    uv_signal_init(&loop, &dev.sigint);
    uv_signal_init(&loop, &dev.sigterm);
    uv_signal_init(&loop, &dev.sigusr1);
    uv_idle_init(&loop, &dev.idle_check);
    dev.sigint.data = dev.sigterm.data = dev.sigusr1.data = &dev;
    dev.idle_check.data = &dev;
    uv_signal_start(&dev.sigint, on_signal, SIGINT);
    uv_signal_start(&dev.sigterm, on_signal, SIGTERM);
    uv_signal_start(&dev.sigusr1, on_signal, SIGUSR1);
    if (dev_tee_init(&dev) != 0) {
        tee_closed(&dev);
        uv_run(&loop, UV_RUN_DEFAULT);
        uv_loop_close(&loop);
        return EXIT_START;
    }
    dev_log(&dev, TEEP_LOG_INFO, "TEE %s (%s, %s instances), broker %s",
            dev.opt.state_dir, dev.opt.plugin,
            teep_tee_instance_name(dev.opt.instance), dev.opt.broker);
    dev_tee_open(&dev, tee_opened);
    uv_run(&loop, UV_RUN_DEFAULT);
    teep_plugin_unload(&dev.tee.plugin);
    if (uv_loop_close(&loop) != 0)
        dev_log(&dev, TEEP_LOG_WARN, "handles left open at exit");
    dev_log(&dev, TEEP_LOG_INFO, "stopped: %u sessions ok, %u failed",
            dev.sessions_ok, dev.sessions_failed);
    return dev.exit_code;
}
