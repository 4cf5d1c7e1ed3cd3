/*
 * transport_coap.c: TEEP over CoAP from the device (docs/transport-coap.md)
 * on libcoap 3 (4.3.1), driven by teep-agent's libuv loop.
 *
 * Each message is a POST to the broker's URI path with Content-Format
 * 65060 (none on the empty POST that opens a session), sent
 * Non-confirmable: libcoap 4.3.1's client drops a separate CON response
 * that carries Block2 (the binding's "Clients" note), and an Update with
 * a TA in it is large.  libcoap does Block1 and Block2 (one body in, one
 * body out).  2.04 with a payload is the TAM's next message, 2.04 without
 * one the end, any other code a failure whose HTTP status is class * 100
 * + detail (4.13 -> 413, 5.03 -> 503), as the binding maps them.
 *
 * Pushes: the device observes GET /<prefix>/device/NAME (the prefix is
 * the URI's first path segment); the broker's count of check-ins goes up
 * with each push, and a change makes a policy check.  The observation is
 * renewed every OBSERVE_RENEW_MS, which also finds a broker that
 * restarted (a count that changed meanwhile is a missed push).
 *
 * libcoap keeps its sockets and timers in one epoll descriptor
 * (coap_context_get_coap_fd): a uv_poll on it and a uv_timer for the
 * next time libcoap wants to run, as the broker's CoAP transport does.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include <coap3/coap.h>

#include "device.h"
#include "teep/transport_plugin.h"

#define OBSERVE_RENEW_MS 120000
#define MAX_SEGMENTS     8
#define MAX_TOKEN        8

typedef struct coap_dev {
    dev_transport_t base;
    coap_context_t *ctx;
    coap_session_t *session;
    uv_poll_t poll;
    uv_timer_t io_timer, answer_timer, observe_timer;
    unsigned handles;
    char path[TEEP_TEE_URI_MAX];    /* the POST path, without '/' first */
    char observe[TEEP_TEE_URI_MAX]; /* prefix/device/NAME, or "" */
    /* the exchange in flight */
    bool pending;
    uint8_t token[MAX_TOKEN];
    size_t token_len;
    dev_answer_cb cb;
    void *cb_arg;
    /* the observation */
    uint8_t obs_token[MAX_TOKEN];
    size_t obs_token_len;
    bool have_count;
    uint64_t count;
    bool closing;
    void (*done)(void *arg);
    void *done_arg;
} coap_dev_t;

/* ------------------------------------------------------------ libcoap */

static __thread device_t *log_dev;

static void log_bridge(coap_log_t level, const char *message)
{
    size_t len = strlen(message);
    while (len > 0 && message[len - 1] == '\n')
        len--;
    if (log_dev != NULL)
        dev_log(log_dev, level <= LOG_ERR ? TEEP_LOG_WARN : TEEP_LOG_DEBUG,
                "libcoap: %.*s", (int)len, message);
}

static void global_init(void)
{
    coap_startup();
    coap_set_log_level(LOG_WARNING);
    coap_set_log_handler(log_bridge);
}

static void on_io_timer(uv_timer_t *t);

/* Let libcoap read what is ready, then come back when it next wants to
 * run (retransmissions, Block2 requests). */
static void run(coap_dev_t *t)
{
    struct epoll_event events[16];
    int fd = coap_context_get_coap_fd(t->ctx);
    log_dev = t->base.dev;
    for (int i = 0; i < 8; i++) {
        int n = epoll_wait(fd, events, 16, 0);
        if (n <= 0)
            break;
        coap_io_do_epoll(t->ctx, events, (size_t)n);
    }
    coap_tick_t now;
    coap_ticks(&now);
    unsigned next_ms = coap_io_prepare_epoll(t->ctx, now);
    log_dev = NULL;
    if (!t->closing)
        uv_timer_start(&t->io_timer, on_io_timer, next_ms ? next_ms : 1000, 0);
}

static void on_io_timer(uv_timer_t *timer)
{
    run(timer->data);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    if (status == 0)
        run(p->data);
}

/* After we queued something from outside libcoap's handlers. */
static void kick(coap_dev_t *t)
{
    uv_timer_start(&t->io_timer, on_io_timer, 0, 0);
}

/* ------------------------------------------------------------ answers */

static void answer(coap_dev_t *t, const dev_answer_t *a)
{
    if (!t->pending)
        return;
    t->pending = false;
    uv_timer_stop(&t->answer_timer);
    t->cb(t->cb_arg, a);
}

static void fail(coap_dev_t *t, int code, const char *reason)
{
    const dev_answer_t a = {
        .kind = DEV_ANSWER_FAILED, .code = code, .reason = reason};
    answer(t, &a);
}

static bool same_token(coap_bin_const_t tok, const uint8_t *p, size_t n)
{
    return tok.length == n && memcmp(tok.s, p, n) == 0;
}

static unsigned content_format(const coap_pdu_t *pdu)
{
    coap_opt_iterator_t it;
    coap_opt_t *opt = coap_check_option(pdu, COAP_OPTION_CONTENT_FORMAT, &it);
    return opt != NULL ? coap_decode_var_bytes(coap_opt_value(opt),
                                               coap_opt_length(opt))
                       : UINT32_MAX;
}

/* The answer to the exchange in flight. */
static void on_teep_answer(coap_dev_t *t, const coap_pdu_t *rcvd)
{
    coap_pdu_code_t code = coap_pdu_get_code(rcvd);
    size_t len = 0, offset, total;
    const uint8_t *data = NULL;
    coap_get_data_large(rcvd, &len, &data, &offset, &total);
    if (COAP_RESPONSE_CLASS(code) != 2) {
        char reason[160];
        snprintf(reason, sizeof(reason), "%u.%02u %.*s",
                 COAP_RESPONSE_CLASS(code), code & 0x1f,
                 (int)(len < 120 ? len : 120), (const char *)data);
        fail(t, (int)(COAP_RESPONSE_CLASS(code) * 100 + (code & 0x1f)), reason);
        return;
    }
    if (len == 0) {
        const dev_answer_t a = {.kind = DEV_ANSWER_NONE};
        answer(t, &a);
        return;
    }
    if (content_format(rcvd) != TEEP_COAP_CONTENT_FORMAT) {
        fail(t, -EPROTO, "the answer is not application/teep+cbor");
        return;
    }
    teep_buf_t *b = teep_buf_copy(0, data, len);
    if (b == NULL) {
        fail(t, -ENOMEM, "out of memory");
        return;
    }
    const dev_answer_t a = {.kind = DEV_ANSWER_MESSAGE, .body = b};
    answer(t, &a);
    teep_buf_unref(b);
}

/* A CBOR unsigned integer (the check-in count); false if it is not one. */
static bool cbor_uint(const uint8_t *p, size_t n, uint64_t *out)
{
    if (n == 0 || (p[0] >> 5) != 0)
        return false;
    uint8_t info = p[0] & 0x1f;
    size_t bytes = info < 24 ? 0 : info <= 27 ? (size_t)1 << (info - 24) : 9;
    if (bytes > 8 || n != 1 + bytes)
        return false;
    uint64_t v = info < 24 ? info : 0;
    for (size_t i = 0; i < bytes; i++)
        v = v << 8 | p[1 + i];
    *out = v;
    return true;
}

/* A notification (or the registration's answer) of the check-in
 * resource. */
static void on_observed(coap_dev_t *t, const coap_pdu_t *rcvd)
{
    coap_pdu_code_t code = coap_pdu_get_code(rcvd);
    size_t len = 0, offset, total;
    const uint8_t *data = NULL;
    uint64_t count;
    coap_get_data_large(rcvd, &len, &data, &offset, &total);
    if (COAP_RESPONSE_CLASS(code) != 2 || !cbor_uint(data, len, &count)) {
        dev_log(t->base.dev, TEEP_LOG_WARN,
                "%s: check-in resource refused (%u.%02u): no pushes until "
                "renewed",
                t->base.uri, COAP_RESPONSE_CLASS(code), code & 0x1f);
        return;
    }
    if (t->have_count && count != t->count)
        dev_policy_check(t->base.dev, "pushed");
    t->have_count = true;
    t->count = count;
}

static coap_response_t on_response(coap_session_t *s, const coap_pdu_t *sent,
                                   const coap_pdu_t *rcvd, const coap_mid_t mid)
{
    coap_dev_t *t = coap_session_get_app_data(s);
    coap_bin_const_t tok = coap_pdu_get_token(rcvd);
    if (t == NULL || t->closing)
        return COAP_RESPONSE_OK;
    if (t->obs_token_len > 0 && same_token(tok, t->obs_token, t->obs_token_len))
        on_observed(t, rcvd);
    else if (t->pending && same_token(tok, t->token, t->token_len))
        on_teep_answer(t, rcvd);
    return COAP_RESPONSE_OK;
}

static void on_nack(coap_session_t *s, const coap_pdu_t *sent,
                    const coap_nack_reason_t reason, const coap_mid_t mid)
{
    coap_dev_t *t = coap_session_get_app_data(s);
    if (t == NULL || sent == NULL)
        return;
    coap_bin_const_t tok = coap_pdu_get_token(sent);
    if (t->pending && same_token(tok, t->token, t->token_len))
        fail(t, -EHOSTUNREACH, "no answer from the broker (CoAP)");
}

/* ------------------------------------------------------------ requests */

/* Uri-Path options for each '/'-separated segment of path. */
static int add_path(coap_optlist_t **opts, const char *path)
{
    const char *p = path;
    for (int i = 0; *p != '\0'; i++) {
        size_t n = strcspn(p, "/");
        if (i == MAX_SEGMENTS ||
            coap_insert_optlist(opts, coap_new_optlist(COAP_OPTION_URI_PATH, n,
                                                       (const uint8_t *)p)) !=
                1)
            return -ENOMEM;
        p += n;
        if (*p == '/')
            p++;
    }
    return 0;
}

/* A request on the session: method, path, token (into tok), optional
 * Content-Format and Observe. */
static coap_pdu_t *request(coap_dev_t *t, coap_pdu_type_t type,
                           coap_pdu_code_t method, const char *path,
                           bool teep_payload, bool observe, uint8_t *tok,
                           size_t *tok_len)
{
    coap_pdu_t *pdu =
        coap_pdu_init(type, method, coap_new_message_id(t->session),
                      coap_session_max_pdu_size(t->session));
    coap_optlist_t *opts = NULL;
    uint8_t buf[4];
    if (pdu == NULL)
        return NULL;
    coap_session_new_token(t->session, tok_len, tok);
    int ok = coap_add_token(pdu, *tok_len, tok);
    if (ok && observe)
        ok = coap_insert_optlist(
            &opts,
            coap_new_optlist(
                COAP_OPTION_OBSERVE,
                coap_encode_var_safe(buf, sizeof(buf), COAP_OBSERVE_ESTABLISH),
                buf));
    if (ok)
        ok = add_path(&opts, path) == 0;
    if (ok && teep_payload)
        ok = coap_insert_optlist(
            &opts,
            coap_new_optlist(COAP_OPTION_CONTENT_FORMAT,
                             coap_encode_var_safe(buf, sizeof(buf),
                                                  TEEP_COAP_CONTENT_FORMAT),
                             buf));
    if (ok)
        ok = coap_add_optlist_pdu(pdu, &opts);
    coap_delete_optlist(opts);
    if (!ok) {
        coap_delete_pdu(pdu);
        return NULL;
    }
    return pdu;
}

static void release_body(coap_session_t *s, void *app_ptr)
{
    teep_buf_unref(app_ptr);
}

static void on_answer_timeout(uv_timer_t *timer)
{
    fail(timer->data, -ETIMEDOUT, "no answer in time");
}

static int exchange(dev_transport_t *base, const uint8_t *body, size_t len,
                    dev_answer_cb cb, void *arg)
{
    coap_dev_t *t = (coap_dev_t *)base;
    if (t->pending)
        return -EBUSY;
    coap_pdu_t *pdu = request(t, COAP_MESSAGE_NON, COAP_REQUEST_CODE_POST,
                              t->path, len > 0, false, t->token, &t->token_len);
    if (pdu == NULL)
        return -ENOMEM;
    if (len > 0) {
        /* libcoap keeps the bytes until the last Block1 block went out. */
        teep_buf_t *b = teep_buf_copy(0, body, len);
        if (b == NULL || !coap_add_data_large_request(
                             t->session, pdu, len, b->pos, release_body, b)) {
            teep_buf_unref(b);
            coap_delete_pdu(pdu);
            return -ENOMEM;
        }
    }
    if (coap_send(t->session, pdu) == COAP_INVALID_MID)
        return -EIO;
    t->pending = true;
    t->cb = cb;
    t->cb_arg = arg;
    uv_timer_start(&t->answer_timer, on_answer_timeout,
                   (uint64_t)base->dev->opt.timeout_s * 1000, 0);
    kick(t);
    return 0;
}

static void on_observe_renew(uv_timer_t *timer)
{
    coap_dev_t *t = timer->data;
    coap_pdu_t *pdu =
        request(t, COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, t->observe, false,
                true, t->obs_token, &t->obs_token_len);
    if (pdu == NULL || coap_send(t->session, pdu) == COAP_INVALID_MID)
        dev_log(t->base.dev, TEEP_LOG_WARN, "%s: cannot observe %s",
                t->base.uri, t->observe);
    kick(t);
    uv_timer_start(&t->observe_timer, on_observe_renew, OBSERVE_RENEW_MS, 0);
}

/* ------------------------------------------------------------ opening */

static int resolve(const coap_uri_t *u, coap_address_t *dst)
{
    char host[256], port[8];
    struct addrinfo hints = {.ai_socktype = SOCK_DGRAM}, *res;
    if (u->host.length >= sizeof(host))
        return -EINVAL;
    memcpy(host, u->host.s, u->host.length);
    host[u->host.length] = '\0';
    snprintf(port, sizeof(port), "%u", u->port);
    if (getaddrinfo(host, port, &hints, &res) != 0)
        return -EHOSTUNREACH;
    coap_address_init(dst);
    dst->size = res->ai_addrlen;
    memcpy(&dst->addr, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    return 0;
}

/* The POST path and the check-in resource from the URI's path. */
static int paths(coap_dev_t *t, const coap_uri_t *u, const char *device)
{
    size_t n = u->path.length;
    if (n == 0 || n >= sizeof(t->path))
        return -EINVAL;
    memcpy(t->path, u->path.s, n);
    t->path[n] = '\0';
    size_t prefix = strcspn(t->path, "/");
    if (device != NULL &&
        snprintf(t->observe, sizeof(t->observe), "%.*s/device/%s", (int)prefix,
                 t->path, device) >= (int)sizeof(t->observe))
        return -ENAMETOOLONG;
    return 0;
}

static int open_coap(device_t *dev, const char *uri, dev_transport_t **out)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, global_init);
    coap_uri_t u;
    coap_address_t dst;
    coap_dev_t *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return -ENOMEM;
    int rc = coap_split_uri((const uint8_t *)uri, strlen(uri), &u) == 0
                 ? 0
                 : -EINVAL;
    if (rc == 0 && u.scheme != COAP_URI_SCHEME_COAP)
        rc = -EPROTONOSUPPORT; /* coaps (DTLS) is not there yet */
    if (rc == 0)
        rc = paths(t, &u, dev->opt.device);
    if (rc == 0)
        rc = resolve(&u, &dst);
    if (rc == 0 && (t->ctx = coap_new_context(NULL)) == NULL)
        rc = -ENOMEM;
    if (rc == 0) {
        coap_context_set_block_mode(t->ctx, COAP_BLOCK_USE_LIBCOAP |
                                                COAP_BLOCK_SINGLE_BODY);
        coap_register_response_handler(t->ctx, on_response);
        coap_register_nack_handler(t->ctx, on_nack);
        t->session =
            coap_new_client_session(t->ctx, NULL, &dst, COAP_PROTO_UDP);
        if (t->session == NULL || coap_context_get_coap_fd(t->ctx) < 0)
            rc = -EIO;
    }
    if (rc != 0) {
        dev_log(dev, TEEP_LOG_ERROR, "%s: cannot use it for CoAP (%s)", uri,
                rc == -EPROTONOSUPPORT ? "coaps is not supported yet"
                                       : strerror(-rc));
        if (t->session != NULL)
            coap_session_release(t->session);
        if (t->ctx != NULL)
            coap_free_context(t->ctx);
        free(t);
        return rc;
    }
    coap_session_set_app_data(t->session, t);
    uv_poll_init(dev->loop, &t->poll, coap_context_get_coap_fd(t->ctx));
    uv_timer_init(dev->loop, &t->io_timer);
    uv_timer_init(dev->loop, &t->answer_timer);
    uv_timer_init(dev->loop, &t->observe_timer);
    t->poll.data = t->io_timer.data = t->answer_timer.data =
        t->observe_timer.data = t;
    t->base.dev = dev;
    snprintf(t->base.uri, sizeof(t->base.uri), "%s", uri);
    uv_poll_start(&t->poll, UV_READABLE, on_poll);
    if (t->observe[0] != '\0')
        on_observe_renew(&t->observe_timer);
    else
        dev_log(dev, TEEP_LOG_WARN, "%s: no --device: no pushes", uri);
    *out = &t->base;
    return 0;
}

/* ------------------------------------------------------------ closing */

static void handle_closed(uv_handle_t *h)
{
    coap_dev_t *t = h->data;
    if (--t->handles > 0)
        return;
    /* libcoap's descriptor is no longer polled: free it with the rest. */
    coap_session_release(t->session);
    coap_free_context(t->ctx);
    void (*done)(void *) = t->done;
    void *arg = t->done_arg;
    free(t);
    done(arg);
}

static void close_coap(dev_transport_t *base, void (*done)(void *arg),
                       void *arg)
{
    coap_dev_t *t = (coap_dev_t *)base;
    t->closing = true;
    t->done = done;
    t->done_arg = arg;
    fail(t, -ECANCELED, "the device agent is stopping");
    if (t->obs_token_len > 0) {
        /* Tell the broker we no longer listen, so that a push says so at
         * once rather than after its notification times out. */
        coap_binary_t tok = {t->obs_token_len, t->obs_token};
        coap_cancel_observe(t->session, &tok, COAP_MESSAGE_NON);
        run(t);
    }
    t->handles = 4;
    uv_close((uv_handle_t *)&t->poll, handle_closed);
    uv_close((uv_handle_t *)&t->io_timer, handle_closed);
    uv_close((uv_handle_t *)&t->answer_timer, handle_closed);
    uv_close((uv_handle_t *)&t->observe_timer, handle_closed);
}

static const char *const schemes[] = {"coap", "coaps", NULL};

const dev_transport_ops_t dev_transport_coap = {
    .name = "CoAP",
    .schemes = schemes,
    .open = open_coap,
    .exchange = exchange,
    .close = close_coap,
};
