/*
 * coap_transport.c: the CoAP transport plugin (teep/transport_plugin.h):
 * TEEP over CoAP as docs/transport-coap.md defines it, on libcoap 3
 * (4.3.1, OpenSSL flavour) driven by the worker's libuv loop.
 *
 * Listeners: coap://ADDRESS:PORT[/PREFIX] and coaps://... (DTLS with the
 * keys of the listener options).  POST <prefix> is an exchange for the
 * default route, POST <prefix>/NAME one for route NAME, GET with Observe
 * on <prefix>/device/NAME waits for check-in requests (ops->push).
 *
 * One socket per listener: libcoap binds UDP with SO_REUSEADDR and cannot
 * be given SO_REUSEPORT, and with SO_REUSEADDR Linux hands every datagram
 * to the socket bound last, so instances on further workers would take
 * the traffic from the first without spreading it.  The instance of
 * worker 0 serves; the others stay idle (push: -ENOENT).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coap_transport.h"

/* Resolution of drain checks while stopping. */
#define DRAIN_CHECK_MS 20

/* ---------------------------------------------------------- events */

static int on_event(coap_session_t *s, const coap_event_t ev)
{
    teep_coap_t *in = teep_coap_of(s);
    if (in == NULL)
        return 0;
    switch (ev) {
    case COAP_EVENT_SERVER_SESSION_NEW:
        in->sessions++;
        in->host->gauge(in->host->host_data, "coap_sessions", in->sessions);
        break;
    case COAP_EVENT_SERVER_SESSION_DEL:
        /* A session that goes away takes its unfinished Block1 body. */
        teep_coap_assembly_drop(in, s);
        if (in->sessions > 0)
            in->sessions--;
        in->host->gauge(in->host->host_data, "coap_sessions", in->sessions);
        break;
    case COAP_EVENT_DTLS_CONNECTED:
        teep_coap_count(in, "coap_dtls_handshakes", 1);
        break;
    case COAP_EVENT_DTLS_ERROR:
        teep_coap_count(in, "coap_dtls_errors", 1);
        break;
    default: break;
    }
    return 0;
}

/* ------------------------------------------------------- lifecycle */

static void handle_closed(uv_handle_t *h)
{
    teep_coap_t *in = h->data;
    if (--in->open_handles == 0 && in->done != NULL)
        in->done(in->done_arg);
}

static void close_handles(teep_coap_t *in)
{
    uv_close((uv_handle_t *)&in->sweep, handle_closed);
    teep_coap_io_close(in, handle_closed);
}

static bool drained(teep_coap_t *in)
{
    /* Every exchange answered to libcoap, and libcoap has nothing left
     * to (re)transmit: separate responses acknowledged. */
    return in->xchgs == NULL && coap_can_exit(in->ctx);
}

static void on_sweep(uv_timer_t *t)
{
    teep_coap_t *in = t->data;
    if (in->stopping) {
        if (drained(in) || uv_now(in->host->loop) >= in->stop_deadline) {
            uv_timer_stop(t);
            close_handles(in);
        }
        return;
    }
    teep_coap_assembly_expire(in, false);
    in->host->gauge(in->host->host_data, "coap_pending", in->pending);
    in->host->gauge(in->host->host_data, "coap_reassembly_bytes",
                    in->assembly_bytes);
}

static int setup_resources(teep_coap_t *in)
{
    coap_str_const_t *path =
        coap_new_str_const((const uint8_t *)in->cfg.prefix, in->cfg.prefix_len);
    in->tam =
        path ? coap_resource_init(path, COAP_RESOURCE_FLAGS_RELEASE_URI) : NULL;
    if (in->tam == NULL) {
        if (path != NULL)
            coap_delete_str_const(path);
        return -ENOMEM;
    }
    coap_register_handler(in->tam, COAP_REQUEST_POST, teep_coap_exchange_post);
    coap_add_resource(in->ctx, in->tam);
    /* No PUT handler: a PUT to an unknown path is 4.04, as any other. */
    in->unknown = coap_resource_unknown_init(NULL);
    if (in->unknown == NULL)
        return -ENOMEM;
    coap_register_handler(in->unknown, COAP_REQUEST_POST,
                          teep_coap_exchange_post);
    teep_coap_observe_init(in, in->unknown);
    coap_add_resource(in->ctx, in->unknown);
    return 0;
}

static int setup_context(teep_coap_t *in)
{
    in->ctx = coap_new_context(NULL);
    if (in->ctx == NULL)
        return -ENOMEM;
    coap_set_app_data(in->ctx, in);
    /* Not COAP_BLOCK_SINGLE_BODY: coap_assembly.c says why. */
    coap_context_set_block_mode(in->ctx, COAP_BLOCK_USE_LIBCOAP);
    coap_context_set_max_idle_sessions(in->ctx, in->cfg.max_sessions);
    coap_context_set_session_timeout(in->ctx, in->cfg.session_timeout_s);
    coap_register_event_handler(in->ctx, on_event);
    if (in->uri.secure && teep_coap_dtls_setup(in, in->ctx) < 0)
        return -EINVAL;
    return setup_resources(in);
}

/* ---------------------------------------------------------------- ops */

static int create(const teep_transport_host_t *host, const char *listen_uri,
                  const teep_transport_option_t *options, size_t n_options,
                  void **out)
{
    teep_coap_io_global_init();
    teep_coap_t *in = calloc(1, sizeof(*in));
    if (in == NULL)
        return -ENOMEM;
    in->host = host;
    snprintf(in->listen_uri, sizeof(in->listen_uri), "%s", listen_uri);
    teep_coap_config_default(&in->cfg);
    int rc = teep_coap_uri_parse(listen_uri, &in->uri);
    if (rc < 0) {
        host->log(host->host_data, TEEP_LOG_ERROR,
                  "listener %s: not a coap:// or coaps:// URI with a "
                  "numeric address",
                  listen_uri);
        free(in);
        return rc;
    }
    /* A path in the listener URI is the prefix; the option overrides. */
    size_t pl = strlen(in->uri.path);
    if (pl > 0) {
        memcpy(in->cfg.prefix, in->uri.path, pl + 1);
        in->cfg.prefix_len = pl;
    }
    rc = teep_coap_config_apply(&in->cfg, host, options, n_options);
    bool dtls = in->cfg.psk_key || in->cfg.cert || in->cfg.key || in->cfg.ca;
    if (rc == 0 && dtls && !in->uri.secure) {
        host->log(host->host_data, TEEP_LOG_ERROR,
                  "listener %s: DTLS options need a coaps:// listener",
                  listen_uri);
        rc = -EINVAL;
    }
    if (rc == 0)
        rc = teep_coap_uri_address(&in->uri, &in->addr);
    if (rc == 0)
        rc = teep_coap_peers_init(&in->peers, in->cfg.peer_slots,
                                  in->cfg.peer_rate, in->cfg.peer_burst,
                                  in->cfg.peer_max_pending);
    if (rc == 0)
        rc = teep_coap_dedup_init(in, in->cfg.dedup_slots);
    if (rc < 0) {
        teep_coap_peers_free(&in->peers);
        teep_coap_config_free(&in->cfg);
        free(in);
        return rc;
    }
    teep_coap_io_init(in);
    uv_timer_init(host->loop, &in->sweep);
    in->sweep.data = in;
    in->open_handles++;
    *out = in;
    return 0;
}

static int start(void *instance)
{
    teep_coap_t *in = instance;
    const teep_transport_host_t *h = in->host;
    if (h->worker != 0) {
        h->log(h->host_data, TEEP_LOG_INFO,
               "%s: served by worker 0 (one UDP socket per CoAP listener)",
               in->listen_uri);
        return 0;
    }
    int rc = teep_coap_probe_port(&in->addr);
    if (rc < 0) {
        h->log(h->host_data, TEEP_LOG_ERROR, "listen %s: %s", in->listen_uri,
               strerror(-rc));
        return rc;
    }
    rc = setup_context(in);
    if (rc < 0)
        return rc;
    coap_proto_t proto = in->uri.secure ? COAP_PROTO_DTLS : COAP_PROTO_UDP;
    if (coap_new_endpoint(in->ctx, &in->addr, proto) == NULL) {
        h->log(h->host_data, TEEP_LOG_ERROR,
               "listen %s: libcoap cannot open the endpoint", in->listen_uri);
        return -EIO;
    }
    rc = teep_coap_io_start(in);
    if (rc < 0)
        return rc;
    in->serving = true;
    uv_timer_start(&in->sweep, on_sweep, 1000, 1000);
    return 0;
}

static int local_uri(void *instance, char *buf, size_t cap)
{
    teep_coap_t *in = instance;
    bool v6 = in->addr.addr.sa.sa_family == AF_INET6;
    size_t pl = strlen(in->uri.path);
    int n =
        snprintf(buf, cap, "%s://%s%s%s:%u%s%s",
                 in->uri.secure ? "coaps" : "coap", v6 ? "[" : "", in->uri.host,
                 v6 ? "]" : "", (unsigned)coap_address_get_port(&in->addr),
                 pl ? "/" : "", in->uri.path);
    return n > 0 && (size_t)n < cap ? 0 : -ENOSPC;
}

static void stop(void *instance, void (*done)(void *arg), void *arg)
{
    teep_coap_t *in = instance;
    in->done = done;
    in->done_arg = arg;
    in->stopping = true;
    if (!in->serving) {
        close_handles(in);
        return;
    }
    in->stop_deadline = uv_now(in->host->loop) + in->cfg.stop_timeout_ms;
    uv_timer_start(&in->sweep, on_sweep, 0, DRAIN_CHECK_MS);
}

static void destroy(void *instance)
{
    teep_coap_t *in = instance;
    teep_coap_exchange_drop_all(in);
    teep_coap_assembly_expire(in, true);
    /* Frees sessions, asyncs and resources; libcoap calls the release
     * callbacks of the answers it still held. */
    if (in->ctx != NULL)
        coap_free_context(in->ctx);
    teep_coap_observe_free(in);
    teep_coap_peers_free(&in->peers);
    teep_coap_dedup_free(in);
    teep_coap_config_free(&in->cfg);
    free(in);
}

static int push(void *instance, const char *device, size_t device_len)
{
    teep_coap_t *in = instance;
    if (!in->serving || in->stopping)
        return -ENOENT;
    return teep_coap_observe_push(in, device, device_len);
}

static const char *const schemes[] = {"coap", "coaps", NULL};

static const teep_transport_ops_t ops = {
    .size = sizeof(teep_transport_ops_t),
    .schemes = schemes,
    .headroom = 0,
    .create = create,
    .start = start,
    .local_uri = local_uri,
    .stop = stop,
    .destroy = destroy,
    .push = push,
};

TEEP_PLUGIN_DEFINE(TEEP_PLUGIN_CLASS_TRANSPORT, "coap",
                   "TEEP over CoAP and DTLS (docs/transport-coap.md)", &ops);
