/*
 * coap_harness.c: see coap_harness.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "coap_harness.h"
#include "vectors.h"

/* ----------------------------------------------------------- canned TAM */

typedef struct canned_reply {
    uv_timer_t timer;
    harness_t *h;
    teep_exchange_cb cb;
    void *cb_data;
    teep_exchange_reply_t reply;
} canned_reply_t;

static void reply_closed(uv_handle_t *t)
{
    canned_reply_t *c = t->data;
    teep_buf_unref(c->reply.body);
    free(c);
}

static void reply_due(uv_timer_t *t)
{
    canned_reply_t *c = t->data;
    c->h->answered++;
    c->cb(c->cb_data, &c->reply);
    uv_close((uv_handle_t *)&c->timer, reply_closed);
}

static bool route_is(const teep_exchange_request_t *r, const char *name)
{
    return r->route_len == strlen(name) &&
           memcmp(r->route, name, r->route_len) == 0;
}

static teep_buf_t *pattern(size_t n)
{
    teep_buf_t *b = teep_buf_new(0, n);
    for (size_t i = 0; b != NULL && i < n; i++)
        *b->last++ = (uint8_t)(i * 7 + 3);
    return b;
}

static void decide(harness_t *h, const teep_exchange_request_t *req,
                   teep_exchange_reply_t *r)
{
    bool empty = req->body == NULL;
    r->outcome = TEEP_EXCHANGE_MESSAGE;
    if (req->route_len == 0) {
        r->body = empty ? teep_buf_copy(0, h->qr, h->qr_len)
                        : teep_buf_copy(0, h->update, h->update_len);
    } else if (route_is(req, "echo")) {
        r->body =
            empty ? NULL
                  : teep_buf_copy(0, req->body->pos, teep_buf_len(req->body));
        if (empty)
            r->outcome = TEEP_EXCHANGE_NO_CONTENT;
    } else if (route_is(req, "big")) {
        r->body = pattern(3000);
    } else if (route_is(req, "none")) {
        r->outcome = TEEP_EXCHANGE_NO_CONTENT;
    } else if (route_is(req, "busy")) {
        r->outcome = TEEP_EXCHANGE_FAILED;
        r->error = TEEP_XERR_OVERLOADED;
        r->retry_after_s = 7;
        r->reason = "canned TAM is busy";
    } else if (route_is(req, "slow")) {
        r->outcome = TEEP_EXCHANGE_FAILED;
        r->error = TEEP_XERR_UPSTREAM_TIMEOUT;
        r->reason = "canned TAM timed out";
    } else {
        r->outcome = TEEP_EXCHANGE_FAILED;
        r->error = TEEP_XERR_UNKNOWN_ROUTE;
        r->reason = "no such route";
    }
}

static int host_submit(void *host_data, const teep_exchange_request_t *req,
                       teep_exchange_t **handle)
{
    harness_t *h = host_data;
    if (req->size < sizeof(*req) || req->cb == NULL)
        return -EINVAL;
    canned_reply_t *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return -ENOMEM;
    h->submissions++;
    snprintf(h->last_route, sizeof(h->last_route), "%.*s", (int)req->route_len,
             req->route);
    snprintf(h->last_device, sizeof(h->last_device), "%.*s",
             (int)req->device_len, req->device);
    h->last_body_len = req->body ? teep_buf_len(req->body) : 0;
    c->h = h;
    c->cb = req->cb;
    c->cb_data = req->cb_data;
    decide(h, req, &c->reply);
    uv_timer_init(&h->loop, &c->timer);
    c->timer.data = c;
    uv_timer_start(&c->timer, reply_due, h->delay_ms, 0);
    *handle = (teep_exchange_t *)c;
    return 0;
}

static void host_cancel(void *host_data, teep_exchange_t *handle)
{
    harness_t *h = host_data;
    canned_reply_t *c = (canned_reply_t *)handle;
    h->cancels++;
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, reply_closed);
}

static void host_log(void *host_data, teep_log_level_t level, const char *fmt,
                     ...)
{
    (void)host_data;
    if (level > TEEP_LOG_WARN && getenv("COAP_TEST_VERBOSE") == NULL)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "[plugin] ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
}

static void host_count(void *host_data, const char *name, uint64_t delta)
{
    harness_t *h = host_data;
    for (size_t i = 0; i < h->n_counters; i++)
        if (strcmp(h->counters[i].name, name) == 0) {
            h->counters[i].value += delta;
            return;
        }
    if (h->n_counters < HARNESS_MAX_COUNTERS) {
        h->counters[h->n_counters].name = name;
        h->counters[h->n_counters++].value = delta;
    }
}

static void host_gauge(void *host_data, const char *name, uint64_t value)
{
    (void)host_data;
    (void)name;
    (void)value;
}

/* The host's receive buffers, counted as the broker counts them. */
static teep_buf_t *host_buf_new(void *host_data, size_t headroom, size_t size)
{
    host_count(host_data, "host_buffer_bytes", size);
    return teep_buf_new(headroom, size);
}

uint64_t harness_counter(const harness_t *h, const char *name)
{
    for (size_t i = 0; i < h->n_counters; i++)
        if (strcmp(h->counters[i].name, name) == 0)
            return h->counters[i].value;
    return 0;
}

/* ------------------------------------------------------------- set-up */

static void fail(const char *what)
{
    fprintf(stderr, "harness: %s\n", what);
    abort();
}

int harness_start(harness_t *h, const char *uri, const char *const *options)
{
    memset(h, 0, sizeof(*h));
    signal(SIGPIPE, SIG_IGN);
    if (uv_loop_init(&h->loop) < 0)
        fail("uv_loop_init");
    h->delay_ms = 20;
    h->qr = vector_load_hex("gen_tp26_query_request_cose_sign1_esp256.hex",
                            &h->qr_len);
    h->update = vector_load_hex("gen_tp26_update_cose_sign1_esp256.hex",
                                &h->update_len);
    if (h->qr == NULL || h->update == NULL)
        fail("cannot load the vectors");
#ifdef HARNESS_LINKED_PLUGIN
    /* The plugin's objects are in this executable (the fuzzer). */
    extern const teep_plugin_descriptor_t teep_plugin;
    h->plugin.desc = &teep_plugin;
#else
    char err[512];
    if (teep_plugin_load(TEEP_PLUGIN_DIR, "transport_coap",
                         TEEP_PLUGIN_CLASS_TRANSPORT, &h->plugin, err,
                         sizeof(err)) < 0)
        fail(err);
#endif
    h->ops = h->plugin.desc->ops;
    h->host = (teep_transport_host_t){
        .size = sizeof(teep_transport_host_t),
        .host_data = h,
        .loop = &h->loop,
        .worker = 0,
        .log = host_log,
        .submit = host_submit,
        .cancel = host_cancel,
        .count = host_count,
        .gauge = host_gauge,
        .buf_new = host_buf_new,
    };
    teep_transport_option_t opts[32];
    size_t n = 0;
    for (; options != NULL && options[2 * n] != NULL && n < 32; n++) {
        opts[n].key = options[2 * n];
        opts[n].value = options[2 * n + 1];
    }
    int rc = h->ops->create(&h->host, uri, opts, n, &h->instance);
    if (rc < 0)
        return rc;
    rc = h->ops->start(h->instance);
    h->started = true;
    if (rc < 0)
        return rc;
    if (h->ops->local_uri(h->instance, h->uri, sizeof(h->uri)) < 0)
        fail("local_uri");
    const char *colon = strrchr(h->uri, ':');
    h->port = (uint16_t)atoi(colon + 1);
    return 0;
}

static void on_stopped(void *arg)
{
    ((harness_t *)arg)->stopped = true;
}

static void close_walk(uv_handle_t *handle, void *arg)
{
    (void)arg;
    if (!uv_is_closing(handle))
        uv_close(handle, NULL);
}

void harness_stop(harness_t *h)
{
    if (h->instance != NULL) {
        if (h->started) {
            h->ops->stop(h->instance, on_stopped, h);
            while (!h->stopped)
                uv_run(&h->loop, UV_RUN_ONCE);
        }
        h->ops->destroy(h->instance);
        h->instance = NULL;
    }
    /* Canned replies still due (a test that stopped early). */
    uv_walk(&h->loop, close_walk, NULL);
    uv_run(&h->loop, UV_RUN_DEFAULT);
    uv_loop_close(&h->loop);
#ifndef HARNESS_LINKED_PLUGIN
    teep_plugin_unload(&h->plugin);
#endif
    free(h->qr);
    free(h->update);
}

static void run_for_done(uv_timer_t *t)
{
    *(bool *)t->data = true;
}

void harness_run_for(harness_t *h, unsigned ms)
{
    uv_timer_t t;
    bool done = false;
    uv_timer_init(&h->loop, &t);
    t.data = &done;
    uv_timer_start(&t, run_for_done, ms, 0);
    while (!done)
        uv_run(&h->loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&h->loop, UV_RUN_NOWAIT);
}

/* -------------------------------------------------------- coap-client */

const char *harness_coap_client(void)
{
    const char *c = getenv("COAP_CLIENT");
    return c != NULL ? c : "coap-client-openssl";
}

static void alloc_cb(uv_handle_t *handle, size_t hint, uv_buf_t *buf)
{
    (void)hint;
    client_run_t *r = handle->data;
    bool out = handle == (uv_handle_t *)&r->out;
    char *base = out ? r->stdout_buf : r->stderr_buf;
    size_t cap = out ? sizeof(r->stdout_buf) : sizeof(r->stderr_buf);
    size_t used = out ? r->stdout_len : r->stderr_len;
    /* One byte kept for a NUL; a full buffer reads into a scratch area. */
    static char scratch[4096];
    if (used + 1 >= cap)
        *buf = uv_buf_init(scratch, sizeof(scratch));
    else
        *buf = uv_buf_init(base + used, (unsigned)(cap - used - 1));
}

static void handle_closed(uv_handle_t *handle)
{
    client_run_t *r = handle->data;
    r->open--;
}

static void read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    client_run_t *r = s->data;
    bool out = s == (uv_stream_t *)&r->out;
    if (n < 0) {
        uv_close((uv_handle_t *)s, handle_closed);
        return;
    }
    char *base = out ? r->stdout_buf : r->stderr_buf;
    size_t *len = out ? &r->stdout_len : &r->stderr_len;
    if (buf->base == base + *len) {
        *len += (size_t)n;
        base[*len] = '\0';
    }
}

static void exit_cb(uv_process_t *p, int64_t status, int sig)
{
    client_run_t *r = p->data;
    r->exit_status = status;
    r->term_signal = sig;
    uv_timer_stop(&r->deadline);
    uv_close((uv_handle_t *)&r->deadline, handle_closed);
    uv_close((uv_handle_t *)p, handle_closed);
}

static void deadline_cb(uv_timer_t *t)
{
    client_run_t *r = t->data;
    uv_process_kill(&r->proc, SIGKILL);
}

int client_start(harness_t *h, client_run_t *r, const char *const *argv,
                 unsigned timeout_ms)
{
    memset(r, 0, sizeof(*r));
    char *args[64];
    size_t n = 0;
    args[n++] = (char *)harness_coap_client();
    for (size_t i = 1; argv[i] != NULL && n < 63; i++)
        args[n++] = (char *)argv[i];
    args[n] = NULL;
    uv_pipe_init(&h->loop, &r->out, 0);
    uv_pipe_init(&h->loop, &r->err, 0);
    r->out.data = r->err.data = r;
    uv_stdio_container_t stdio[3] = {
        {.flags = UV_IGNORE},
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE,
         .data.stream = (uv_stream_t *)&r->out},
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE,
         .data.stream = (uv_stream_t *)&r->err},
    };
    uv_process_options_t o = {
        .exit_cb = exit_cb,
        .file = args[0],
        .args = args,
        .stdio = stdio,
        .stdio_count = 3,
    };
    r->proc.data = r;
    int rc = uv_spawn(&h->loop, &r->proc, &o);
    r->open = 2;
    if (rc < 0) {
        uv_close((uv_handle_t *)&r->out, handle_closed);
        uv_close((uv_handle_t *)&r->err, handle_closed);
        uv_close((uv_handle_t *)&r->proc, NULL);
        while (r->open > 0)
            uv_run(&h->loop, UV_RUN_ONCE);
        return rc;
    }
    r->open = 4; /* process, two pipes, deadline */
    uv_read_start((uv_stream_t *)&r->out, alloc_cb, read_cb);
    uv_read_start((uv_stream_t *)&r->err, alloc_cb, read_cb);
    uv_timer_init(&h->loop, &r->deadline);
    r->deadline.data = r;
    uv_timer_start(&r->deadline, deadline_cb, timeout_ms, 0);
    return 0;
}

void client_wait(harness_t *h, client_run_t *r)
{
    while (r->open > 0)
        uv_run(&h->loop, UV_RUN_ONCE);
}

int client_run(harness_t *h, client_run_t *r, const char *const *argv,
               unsigned timeout_ms)
{
    if (client_start(h, r, argv, timeout_ms) < 0)
        return -1;
    client_wait(h, r);
    return r->term_signal != 0 ? -1 : (int)r->exit_status;
}

/* ------------------------------------------------------ raw datagrams */

static size_t put_ext(uint8_t *p, unsigned v, uint8_t *nibble)
{
    if (v < 13) {
        *nibble = (uint8_t)v;
        return 0;
    }
    if (v < 269) {
        *nibble = 13;
        p[0] = (uint8_t)(v - 13);
        return 1;
    }
    *nibble = 14;
    p[0] = (uint8_t)((v - 269) >> 8);
    p[1] = (uint8_t)(v - 269);
    return 2;
}

size_t pdu_encode(uint8_t *out, size_t cap, int type, int code, uint16_t mid,
                  const uint8_t *token, size_t token_len,
                  const coap_opt_spec_t *opts, size_t n_opts,
                  const uint8_t *payload, size_t payload_len)
{
    uint8_t tmp[2048];
    size_t n = 0;
    tmp[n++] = (uint8_t)(0x40 | (type << 4) | token_len);
    tmp[n++] = (uint8_t)code;
    tmp[n++] = (uint8_t)(mid >> 8);
    tmp[n++] = (uint8_t)mid;
    if (token_len > 0)
        memcpy(tmp + n, token, token_len);
    n += token_len;
    unsigned last = 0;
    for (size_t i = 0; i < n_opts; i++) {
        uint8_t ext[4], dn, ln;
        size_t de = put_ext(ext, opts[i].number - last, &dn);
        size_t le = put_ext(ext + de, (unsigned)opts[i].len, &ln);
        tmp[n++] = (uint8_t)(dn << 4 | ln);
        memcpy(tmp + n, ext, de + le);
        n += de + le;
        if (opts[i].len > 0)
            memcpy(tmp + n, opts[i].value, opts[i].len);
        n += opts[i].len;
        last = opts[i].number;
    }
    if (payload_len > 0) {
        tmp[n++] = 0xff;
        memcpy(tmp + n, payload, payload_len);
        n += payload_len;
    }
    if (n > cap)
        return 0;
    memcpy(out, tmp, n);
    return n;
}

static uint32_t be_uint(const uint8_t *p, size_t n)
{
    uint32_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

int pdu_decode(const uint8_t *d, size_t n, pdu_view_t *v)
{
    memset(v, 0, sizeof(*v));
    if (n < 4 || (d[0] >> 6) != 1)
        return -1;
    v->type = (d[0] >> 4) & 3;
    v->token_len = d[0] & 15;
    v->code = d[1];
    v->mid = (uint16_t)(d[2] << 8 | d[3]);
    size_t i = 4;
    if (v->token_len > 8 || i + v->token_len > n)
        return -1;
    memcpy(v->token, d + i, v->token_len);
    i += v->token_len;
    unsigned number = 0;
    while (i < n && d[i] != 0xff) {
        unsigned delta = d[i] >> 4, len = d[i] & 15;
        i++;
        if (delta == 13)
            delta = 13 + d[i++];
        else if (delta == 14) {
            delta = 269 + (unsigned)(d[i] << 8 | d[i + 1]);
            i += 2;
        }
        if (len == 13)
            len = 13 + d[i++];
        else if (len == 14) {
            len = 269 + (unsigned)(d[i] << 8 | d[i + 1]);
            i += 2;
        }
        if (i + len > n)
            return -1;
        number += delta;
        uint32_t val = len <= 4 ? be_uint(d + i, len) : 0;
        if (number == 14) {
            v->has_max_age = true;
            v->max_age = val;
        } else if (number == 27) {
            v->has_block1 = true;
            v->block1 = val;
        } else if (number == 60) {
            v->has_size1 = true;
            v->size1 = val;
        }
        i += len;
    }
    if (i < n) {
        v->payload = d + i + 1;
        v->payload_len = n - i - 1;
    }
    return 0;
}

int udp_open(const char *local)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, local, &a.sin_addr);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
        fail("udp_open");
    return fd;
}

void udp_send(harness_t *h, int fd, const uint8_t *d, size_t n)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(h->port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (sendto(fd, d, n, 0, (struct sockaddr *)&a, sizeof(a)) < 0)
        fail("udp_send");
}

size_t udp_recv(harness_t *h, int fd, uint8_t *buf, size_t cap,
                unsigned timeout_ms)
{
    uint64_t end = uv_now(&h->loop) + timeout_ms;
    for (;;) {
        ssize_t n = recv(fd, buf, cap, 0);
        if (n > 0)
            return (size_t)n;
        if (uv_now(&h->loop) >= end)
            return 0;
        harness_run_for(h, 2);
    }
}
