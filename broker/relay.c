/*
 * relay.c: the exchange lifecycle (relay.h).
 *
 *   submit --peek, route--> upstream request (the body buffer, by
 *   reference) --answer--> completion (the answer's buffer, by
 *   reference) --> metrics + one log line --> the exchange is recycled.
 *
 * A failure found inside submit (bad message, unknown route, overload)
 * is completed on the next loop turn from the deferred list, since a
 * completion never runs inside submit.  Connection failures (nothing was
 * sent) move the exchange to the route's next endpoint; any failure after
 * the request went out ends it, since a TEEP POST is not idempotent.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "relay.h"
#include "teep/peek.h"

/* Exchanges kept for reuse: enough for a busy worker's churn without
 * holding memory after a burst. */
#define FREE_LIST_MAX 4096

enum { X_NEW = 0, X_DEFERRED, X_UPSTREAM };

struct teep_exchange {
    teep_http_client_req_t creq; /* creq.data = the exchange */
    teep_broker_relay_t *relay;
    teep_exchange_cb cb;
    void *cb_data;
    teep_buf_t *body;
    teep_broker_upstreams_t *set; /* while counted in set->inflight */
    teep_broker_pool_t *pool;
    uint64_t start_ns;
    size_t headroom;
    size_t route;
    uint32_t tried;
    uint8_t state;
    uint8_t kind; /* TEEP_BROKER_KIND_* of the agent's message */
    uint8_t token_len;
    bool route_known;
    uint8_t token[8]; /* the first bytes, for the log */
    /* Not cleared by x_alloc: written before they are read. */
    teep_exchange_reply_t reply; /* a deferred completion */
    char peer[56];               /* with log_exchanges: "[IPv6]:port" fits */
    char device[48];             /* with log_exchanges */
    char reason[200];
    struct teep_exchange *next;
};

static void run_deferred(uv_idle_t *idle);

int teep_broker_relay_init(teep_broker_relay_t *relay, uv_loop_t *loop,
                           unsigned worker, teep_broker_shard_t *shard,
                           teep_broker_logbuf_t *log,
                           const teep_broker_config_t *cfg,
                           teep_broker_upstreams_t *upstreams)
{
    memset(relay, 0, sizeof(*relay));
    relay->loop = loop;
    relay->worker = worker;
    relay->shard = shard;
    relay->log = log;
    relay->log_exchanges = cfg->log_exchanges;
    relay->validate = cfg->validate;
    relay->flip = cfg->debug_flip;
    relay->drain_retry_after_s = cfg->drain_retry_after_s;
    relay->upstreams = upstreams;
    relay->deferred_tail = &relay->deferred;
    int rc = uv_idle_init(loop, &relay->idle);
    if (rc == 0)
        relay->idle.data = relay;
    return rc;
}

/* ------------------------------------------------------------ helpers */

static struct teep_exchange *x_alloc(teep_broker_relay_t *relay)
{
    struct teep_exchange *x = relay->free_list;
    if (x != NULL) {
        relay->free_list = x->next;
        relay->n_free--;
    } else {
        x = malloc(sizeof(*x));
        if (x == NULL)
            return NULL;
    }
    memset(x, 0, offsetof(struct teep_exchange, reply));
    x->reason[0] = '\0';
    x->relay = relay;
    x->creq.data = x;
    return x;
}

static void x_free(struct teep_exchange *x)
{
    teep_broker_relay_t *relay = x->relay;
    teep_buf_unref(x->body);
    x->body = NULL;
    if (relay->n_free < FREE_LIST_MAX) {
        x->next = relay->free_list;
        relay->free_list = x;
        relay->n_free++;
    } else {
        free(x);
    }
}

static unsigned kind_of(const teep_buf_t *body, uint8_t *token,
                        uint8_t *token_len, int *peek_rc, teep_diag_t *diag)
{
    *token_len = 0;
    *peek_rc = 0;
    if (body == NULL || teep_buf_len(body) == 0)
        return TEEP_BROKER_KIND_EMPTY;
    teep_peek_t pk;
    *peek_rc =
        teep_peek(body->pos, teep_buf_len(body), TEEP_PEEK_AUTO, &pk, diag);
    if (*peek_rc < 0)
        return TEEP_BROKER_KIND_UNKNOWN;
    if (pk.token.ptr != NULL) {
        size_t n = pk.token.len < 8 ? pk.token.len : 8;
        memcpy(token, pk.token.ptr, n);
        *token_len = (uint8_t)n;
    }
    return pk.type >= TEEP_QUERY_REQUEST && pk.type <= TEEP_ERROR
               ? (unsigned)pk.type
               : TEEP_BROKER_KIND_UNKNOWN;
}

static void copy_text(char *out, size_t cap, const char *s, size_t len)
{
    if (s == NULL)
        len = 0;
    if (len >= cap)
        len = cap - 1;
    memcpy(out, s != NULL ? s : "", len);
    out[len] = '\0';
}

static unsigned outcome_index(const teep_exchange_reply_t *r)
{
    switch (r->outcome) {
    case TEEP_EXCHANGE_MESSAGE: return TEEP_BROKER_OUTCOME_MESSAGE;
    case TEEP_EXCHANGE_NO_CONTENT: return TEEP_BROKER_OUTCOME_NO_CONTENT;
    default: return TEEP_BROKER_OUTCOME_FAILED;
    }
}

/* One key=value line for the exchange's outcome. */
static void log_outcome(struct teep_exchange *x, const teep_exchange_reply_t *r,
                        unsigned answer_kind, uint64_t ns)
{
    teep_broker_relay_t *relay = x->relay;
    char token[20] = "-";
    for (unsigned i = 0; i < x->token_len; i++)
        snprintf(token + 2 * i, 3, "%02x", x->token[i]);
    char route[80] = "-", endpoint[160] = "-", peer[64], device[64];
    char reason[240] = "";
    if (x->route_known)
        copy_text(route, sizeof(route),
                  x->set->routes->routes[x->route].cfg->name,
                  strlen(x->set->routes->routes[x->route].cfg->name));
    if (x->pool != NULL)
        teep_broker_log_quote(x->pool->ep->url, strlen(x->pool->ep->url),
                              endpoint, sizeof(endpoint));
    if (x->peer[0] == '\0')
        strcpy(peer, "-");
    else
        teep_broker_log_quote(x->peer, strlen(x->peer), peer, sizeof(peer));
    if (x->device[0] == '\0')
        strcpy(device, "-");
    else
        teep_broker_log_quote(x->device, strlen(x->device), device,
                              sizeof(device));
    if (r->outcome == TEEP_EXCHANGE_FAILED) {
        char q[220];
        const char *why = r->reason != NULL ? r->reason : "";
        snprintf(reason, sizeof(reason), " error=%s status=%d reason=%s",
                 teep_broker_error_name(r->error), r->upstream_status,
                 teep_broker_log_quote(why, strlen(why), q, sizeof(q)));
    }
    static const char *const outcomes[] = {"message", "no_content", "failed"};
    teep_broker_logbuf_printf(
        relay->log,
        "event=exchange worker=%u route=%s endpoint=%s peer=%s device=%s "
        "type=%s token=%s outcome=%s answer=%s bytes_in=%zu bytes_out=%zu "
        "us=%llu%s",
        relay->worker, route, endpoint, peer, device,
        teep_broker_kind_name(x->kind), token, outcomes[r->outcome],
        r->outcome == TEEP_EXCHANGE_MESSAGE ? teep_broker_kind_name(answer_kind)
                                            : "-",
        x->body != NULL ? teep_buf_len(x->body) : (size_t)0,
        r->body != NULL ? teep_buf_len(r->body) : (size_t)0,
        (unsigned long long)(ns / 1000), reason);
}

#ifdef TEEP_TEST_HOOKS
/* Test-only tampering: change the last byte (inside the signature of a
 * COSE structure, so the message stays well-formed and only the
 * end-to-end signature check can notice). */
static void flip_last(teep_buf_t *b)
{
    if (b != NULL && teep_buf_len(b) > 0)
        b->last[-1] ^= 0x01;
}
#endif

/* Account for the exchange, hand the reply over, recycle. */
static void finish(struct teep_exchange *x, const teep_exchange_reply_t *r)
{
    teep_broker_relay_t *relay = x->relay;
    teep_broker_shard_t *s = relay->shard;
    uint64_t ns = uv_hrtime() - x->start_ns;
    unsigned answer = TEEP_BROKER_KIND_EMPTY;
    if (r->outcome == TEEP_EXCHANGE_MESSAGE) {
        uint8_t tok[8], tl;
        int prc;
        answer = kind_of(r->body, tok, &tl, &prc, NULL);
        teep_broker_add(&s->to_agent[answer], 1);
        teep_broker_add(&s->response_bytes, teep_buf_len(r->body));
    } else if (r->outcome == TEEP_EXCHANGE_FAILED) {
        teep_broker_add(&s->errors[r->error], 1);
    }
    teep_broker_add(&s->exchanges[x->kind][outcome_index(r)], 1);
    teep_broker_shard_latency(s, ns);
    if (relay->log_exchanges)
        log_outcome(x, r, answer, ns);
    relay->inflight--;
    teep_broker_set(&s->inflight, relay->inflight);
    x->cb(x->cb_data, r);
    if (x->set != NULL)
        teep_broker_upstreams_release(x->set);
    x_free(x);
    if (relay->inflight == 0 && relay->draining && relay->on_idle != NULL)
        relay->on_idle(relay);
}

/* Complete on the next loop turn with a failure. */
static void defer_failure(struct teep_exchange *x, teep_exchange_error_t e,
                          uint32_t retry_after, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void defer_failure(struct teep_exchange *x, teep_exchange_error_t e,
                          uint32_t retry_after, const char *fmt, ...)
{
    teep_broker_relay_t *relay = x->relay;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->reason, sizeof(x->reason), fmt, ap);
    va_end(ap);
    x->reply = (teep_exchange_reply_t){
        .outcome = TEEP_EXCHANGE_FAILED,
        .error = e,
        .retry_after_s = retry_after,
        .reason = x->reason,
    };
    x->state = X_DEFERRED;
    x->next = NULL;
    *relay->deferred_tail = x;
    relay->deferred_tail = &x->next;
    if (!uv_is_active((uv_handle_t *)&relay->idle))
        uv_idle_start(&relay->idle, run_deferred);
}

static void run_deferred(uv_idle_t *idle)
{
    teep_broker_relay_t *relay = idle->data;
    struct teep_exchange *list = relay->deferred;
    relay->deferred = NULL;
    relay->deferred_tail = &relay->deferred;
    uv_idle_stop(idle);
    while (list != NULL) {
        struct teep_exchange *x = list;
        list = x->next;
        finish(x, &x->reply);
    }
}

/* ----------------------------------------------------------- upstream */

static const teep_http_header_t upstream_headers[] = {
    TEEP_HTTP_HEADER("Accept", TEEP_MEDIA_TYPE),
    /* Also on the empty first POST: some TAMs (tamproto) refuse a POST
     * without it (digest 3.5, interop). */
    TEEP_HTTP_HEADER("Content-Type", TEEP_MEDIA_TYPE),
    TEEP_HTTP_HEADER("User-Agent", "teep-broker"),
};

static void on_upstream(teep_http_client_req_t *creq, int status,
                        const teep_http_response_t *resp);

/* Send the exchange to the next endpoint of its route.  Returns 0 (the
 * request is on its way) or -1 (x was deferred with a failure). */
static int start_attempt(struct teep_exchange *x, const char *last_error)
{
    teep_broker_relay_t *relay = x->relay;
    const teep_broker_route_cfg_t *rcfg = x->set->routes->routes[x->route].cfg;
    unsigned index = 0;
    teep_broker_pool_t *pool =
        teep_broker_upstreams_pick(x->set, x->route, x->tried, &index);
    if (pool == NULL) {
        defer_failure(x, TEEP_XERR_UPSTREAM_DOWN, 0,
                      "no TAM endpoint of route %s reachable: %s", rcfg->name,
                      last_error);
        return -1;
    }
    if (x->tried != 0)
        teep_broker_add(&relay->shard->failovers, 1);
    x->tried |= 1u << index;
    x->pool = pool;
    x->state = X_UPSTREAM;
    int rc = teep_http_client_request(
        &pool->client, &x->creq, "POST", pool->ep->path, upstream_headers,
        sizeof(upstream_headers) / sizeof(upstream_headers[0]), x->body,
        on_upstream);
    if (rc == 0)
        return 0;
    if (rc == TEEP_HTTP_E_OVERLOAD)
        defer_failure(x, TEEP_XERR_OVERLOADED, rcfg->retry_after_s,
                      "route %s: %zu exchanges already wait for a "
                      "connection to %s",
                      rcfg->name, pool->client.cfg.max_pending, pool->ep->url);
    else
        defer_failure(x, TEEP_XERR_INTERNAL, 0, "upstream request: %s",
                      teep_http_strerror(rc));
    return -1;
}

/* Failures where nothing reached the TAM: another endpoint may serve. */
static bool connect_failure(int status)
{
    return status == TEEP_HTTP_E_CONNECT ||
           status == TEEP_HTTP_E_CONNECT_TIMEOUT ||
           status == TEEP_HTTP_E_RESOLVE || status == TEEP_HTTP_E_TLS;
}

static teep_exchange_error_t map_wire_error(int status)
{
    switch (status) {
    case TEEP_HTTP_E_CONNECT:
    case TEEP_HTTP_E_CONNECT_TIMEOUT:
    case TEEP_HTTP_E_RESOLVE:
    case TEEP_HTTP_E_RESET: return TEEP_XERR_UPSTREAM_DOWN;
    case TEEP_HTTP_E_READ_TIMEOUT: return TEEP_XERR_UPSTREAM_TIMEOUT;
    case TEEP_HTTP_E_MALFORMED:
    case TEEP_HTTP_E_HEADER_TOO_LARGE:
    case TEEP_HTTP_E_BODY_TOO_LARGE:
    case TEEP_HTTP_E_TLS: return TEEP_XERR_UPSTREAM_PROTOCOL;
    case TEEP_HTTP_E_OVERLOAD: return TEEP_XERR_OVERLOADED;
    default: return TEEP_XERR_INTERNAL;
    }
}

static void mark_health(struct teep_exchange *x, bool healthy, const char *why)
{
    teep_broker_endpoint_t *ep = x->pool->ep;
    char q[120];
    if (teep_broker_endpoint_set(ep, healthy) != healthy)
        teep_broker_log(healthy ? TEEP_LOG_INFO : TEEP_LOG_WARN,
                        "event=endpoint_%s worker=%u endpoint=%s reason=%s",
                        healthy ? "up" : "down", x->relay->worker, ep->url,
                        teep_broker_log_quote(why, strlen(why), q, sizeof(q)));
}

static bool is_teep_media_type(teep_slice_t ct)
{
    static const char want[] = TEEP_MEDIA_TYPE;
    size_t n = sizeof(want) - 1;
    if (ct.len < n || strncasecmp((const char *)ct.ptr, want, n) != 0)
        return false;
    /* Parameters may follow ("; charset" has no meaning here, but is
     * harmless). */
    return ct.len == n || ct.ptr[n] == ';' || ct.ptr[n] == ' ';
}

/* The answer's body with the headroom the submitter needs: the buffer
 * itself when it has it, else one copy (counted). */
static teep_buf_t *with_headroom(struct teep_exchange *x, teep_buf_t *body)
{
    if (teep_buf_headroom(body) >= x->headroom)
        return teep_buf_ref(body);
    teep_buf_t *c = teep_buf_copy(x->headroom, body->pos, teep_buf_len(body));
    if (c != NULL)
        teep_broker_add(&x->relay->shard->copied_bytes, teep_buf_len(body));
    return c;
}

/* A TAM that refuses with a short text body says why: append its first
 * line (printable ASCII only, bounded) to the reason. */
static void append_text_reason(char *out, size_t cap,
                               const teep_http_response_t *resp)
{
    static const char text[] = "text/plain";
    if (resp->body == NULL || cap < 8 || resp->content_type.len < 10 ||
        strncasecmp((const char *)resp->content_type.ptr, text, 10) != 0)
        return;
    const uint8_t *p = resp->body->pos;
    size_t n = teep_buf_len(resp->body), k = 0;
    out[k++] = ':';
    out[k++] = ' ';
    for (size_t i = 0; i < n && k + 1 < cap && i < 120; i++) {
        if (p[i] == '\n' || p[i] == '\r')
            break;
        out[k++] = p[i] >= ' ' && p[i] < 0x7f ? (char)p[i] : '?';
    }
    out[k] = '\0';
}

static void on_upstream(teep_http_client_req_t *creq, int status,
                        const teep_http_response_t *resp)
{
    struct teep_exchange *x = creq->data;
    if (status == TEEP_HTTP_E_CANCELED && x->cb == NULL) {
        /* teep_broker_relay_cancel: already accounted for. */
        return;
    }
    teep_exchange_reply_t r = {.outcome = TEEP_EXCHANGE_FAILED};
    const teep_broker_route_cfg_t *rcfg = x->set->routes->routes[x->route].cfg;
    if (status < 0) {
        if (connect_failure(status)) {
            mark_health(x, false, teep_http_strerror(status));
            start_attempt(x, teep_http_strerror(status));
            return;
        }
        if (status == TEEP_HTTP_E_RESET)
            snprintf(x->reason, sizeof(x->reason),
                     "TAM %s closed the connection before answering",
                     x->pool->ep->url);
        else if (status == TEEP_HTTP_E_READ_TIMEOUT)
            snprintf(x->reason, sizeof(x->reason),
                     "TAM %s did not answer within %llu ms", x->pool->ep->url,
                     (unsigned long long)rcfg->read_timeout_ms);
        else
            snprintf(x->reason, sizeof(x->reason), "TAM %s: %s",
                     x->pool->ep->url, teep_http_strerror(status));
        r.error = map_wire_error(status);
        r.retry_after_s = rcfg->retry_after_s;
        r.reason = x->reason;
        finish(x, &r);
        return;
    }
    mark_health(x, true, "answered");
    teep_buf_t *body = NULL;
    if (resp->status >= 200 && resp->status < 300) {
        if (resp->body == NULL || teep_buf_len(resp->body) == 0) {
            r.outcome = TEEP_EXCHANGE_NO_CONTENT;
        } else if (!is_teep_media_type(resp->content_type)) {
            snprintf(x->reason, sizeof(x->reason),
                     "TAM %s answered %d with Content-Type \"%.*s\"",
                     x->pool->ep->url, resp->status,
                     (int)(resp->content_type.len < 60 ? resp->content_type.len
                                                       : 60),
                     (const char *)resp->content_type.ptr);
            r.error = TEEP_XERR_UPSTREAM_PROTOCOL;
            r.reason = x->reason;
        } else if ((body = with_headroom(x, resp->body)) == NULL) {
            r.error = TEEP_XERR_INTERNAL;
            r.reason = "out of memory";
        } else {
#ifdef TEEP_TEST_HOOKS
            if (x->relay->flip == TEEP_BROKER_FLIP_RESPONSE)
                flip_last(body);
#endif
            r.outcome = TEEP_EXCHANGE_MESSAGE;
            r.body = body;
        }
    } else {
        int n = snprintf(x->reason, sizeof(x->reason), "TAM %s answered %d",
                         x->pool->ep->url, resp->status);
        if (n > 0 && (size_t)n < sizeof(x->reason))
            append_text_reason(x->reason + n, sizeof(x->reason) - (size_t)n,
                               resp);
        r.error = TEEP_XERR_UPSTREAM_STATUS;
        r.upstream_status = resp->status;
        r.retry_after_s = rcfg->retry_after_s;
        r.reason = x->reason;
    }
    finish(x, &r);
    teep_buf_unref(body);
}

/* ------------------------------------------------------------- submit */

int teep_broker_relay_submit(teep_broker_relay_t *relay,
                             const teep_exchange_request_t *req,
                             size_t headroom, teep_exchange_t **handle)
{
    if (req == NULL || req->cb == NULL ||
        !TEEP_TRANSPORT_HAS(req, teep_exchange_request_t, cb_data) ||
        (req->route_len > 0 && req->route == NULL))
        return -EINVAL;
    struct teep_exchange *x = x_alloc(relay);
    if (x == NULL)
        return -ENOMEM;
    x->start_ns = uv_hrtime();
    x->cb = req->cb;
    x->cb_data = req->cb_data;
    x->headroom = headroom;
    if (req->body != NULL && teep_buf_len(req->body) > 0)
        x->body = teep_buf_ref(req->body);
    /* Borrowed for the call, and only the log line needs them. */
    if (relay->log_exchanges) {
        copy_text(x->peer, sizeof(x->peer), req->peer,
                  req->peer != NULL ? strlen(req->peer) : 0);
        copy_text(x->device, sizeof(x->device), req->device, req->device_len);
    }
    relay->inflight++;
    teep_broker_set(&relay->shard->inflight, relay->inflight);
    *handle = x;

    teep_diag_t diag;
    int prc;
    x->kind = (uint8_t)kind_of(x->body, x->token, &x->token_len, &prc, &diag);
    if (x->body != NULL) {
        teep_broker_add(&relay->shard->to_tam[x->kind], 1);
        teep_broker_add(&relay->shard->request_bytes, teep_buf_len(x->body));
    }
    if (relay->draining) {
        defer_failure(x, TEEP_XERR_DRAINING, relay->drain_retry_after_s,
                      "the broker is shutting down");
        return 0;
    }
    if (prc < 0 && relay->validate) {
        defer_failure(x, TEEP_XERR_BAD_MESSAGE, 0,
                      "not a COSE-wrapped TEEP message: %s at byte %zu",
                      diag.reason, diag.offset);
        return 0;
    }
    teep_broker_upstreams_t *set = relay->upstreams;
    int r = teep_broker_routes_find(set->routes, req->route, req->route_len);
    if (r < 0) {
        defer_failure(x, TEEP_XERR_UNKNOWN_ROUTE, 0, "no TAM route \"%.*s\"",
                      (int)(req->route_len < 64 ? req->route_len : 64),
                      req->route);
        return 0;
    }
    x->route = (size_t)r;
    x->route_known = true;
    x->set = set;
    set->inflight++;
#ifdef TEEP_TEST_HOOKS
    if (relay->flip == TEEP_BROKER_FLIP_REQUEST)
        flip_last(x->body);
#endif
    start_attempt(x, "none tried");
    return 0;
}

void teep_broker_relay_cancel(teep_broker_relay_t *relay,
                              teep_exchange_t *handle)
{
    struct teep_exchange *x = handle;
    teep_broker_shard_t *s = relay->shard;
    if (x->state == X_DEFERRED) {
        /* Unlink from the deferred list. */
        struct teep_exchange **p = &relay->deferred;
        while (*p != NULL && *p != x)
            p = &(*p)->next;
        if (*p == x) {
            *p = x->next;
            if (*p == NULL)
                relay->deferred_tail = p;
        }
    } else if (x->state == X_UPSTREAM) {
        x->cb = NULL;
        teep_http_client_cancel(&x->creq);
    }
    teep_broker_add(&s->exchanges[x->kind][TEEP_BROKER_OUTCOME_CANCELED], 1);
    relay->inflight--;
    teep_broker_set(&s->inflight, relay->inflight);
    if (x->set != NULL)
        teep_broker_upstreams_release(x->set);
    x_free(x);
    if (relay->inflight == 0 && relay->draining && relay->on_idle != NULL)
        relay->on_idle(relay);
}

void teep_broker_relay_set_upstreams(teep_broker_relay_t *relay,
                                     teep_broker_upstreams_t *set)
{
    teep_broker_upstreams_t *old = relay->upstreams;
    relay->upstreams = set;
    if (old != NULL)
        teep_broker_upstreams_retire(old, NULL, NULL);
}

void teep_broker_relay_drain(teep_broker_relay_t *relay)
{
    relay->draining = true;
    if (relay->inflight == 0 && relay->on_idle != NULL)
        relay->on_idle(relay);
}

void teep_broker_relay_close(teep_broker_relay_t *relay,
                             void (*on_freed)(void *arg), void *arg)
{
    while (relay->free_list != NULL) {
        struct teep_exchange *x = relay->free_list;
        relay->free_list = x->next;
        free(x);
    }
    relay->n_free = 0;
    uv_close((uv_handle_t *)&relay->idle, NULL);
    teep_broker_upstreams_t *set = relay->upstreams;
    relay->upstreams = NULL;
    if (set != NULL)
        teep_broker_upstreams_retire(set, on_freed, arg);
    else if (on_freed != NULL)
        on_freed(arg);
}
