/*
 * The HTTP/1.1 client pool for one upstream origin (teep/http.h).
 *
 * Connections are connecting, idle or busy (one request at a time: no
 * client pipelining, so a failure costs at most one request).  A request
 * waits in the pending queue, takes an idle connection (the most recently
 * used: warm caches, and the others time out), or opens one when the pool
 * is below max_connections.  Error completions happen in the connection's
 * close callback, so none runs inside teep_http_client_request.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "http_internal.h"

enum { CONN_CLOSING = 0, CONN_CONNECTING, CONN_IDLE, CONN_BUSY };
enum { REQ_DONE = 0, REQ_PENDING, REQ_BOUND, REQ_SENT };
enum { RESOLVE_NONE = 0, RESOLVE_RUNNING, RESOLVE_DONE };

typedef struct client_conn {
    teep_http__conn_t conn; /* first */
    teep_http_client_t *client;
    teep_http__link_t link;      /* in the list of its state */
    teep_http_client_req_t *req; /* bound while connecting, or in flight */
    uv_connect_t connect;
    teep_http__write_t write;
    teep_buf_t *write_head; /* the write's own references */
    teep_buf_t *write_body;
    teep_http_response_t resp;
    teep_http_header_t headers[TEEP_HTTP_MAX_HEADERS];
    uint64_t bytes_at_send; /* conn.bytes_in when the request went out */
    uint64_t served;        /* responses received */
    int fail_code;          /* what the bound request gets at close */
    uint8_t state;
    bool retry; /* resend the bound request on a new connection */
} client_conn_t;

/* Headers the client writes itself. */
static const char *const managed_headers[] = {
    "host", "content-length", "connection", "transfer-encoding", NULL,
};

void teep_http_client_config_default(teep_http_client_config_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->max_connections = 64;
    cfg->max_pending = 1024;
    cfg->connect_timeout_ms = 5000;
    cfg->read_timeout_ms = 30000;
    cfg->idle_timeout_ms = 30000;
    cfg->max_header_size = 16384;
    cfg->max_headers = TEEP_HTTP_MAX_HEADERS;
    cfg->max_body_size = 1024 * 1024;
    cfg->read_buffer_size = 16384;
}

static void dispatch(teep_http_client_t *cl);

/* ----------------------------------------------------------- requests */

static void complete(teep_http_client_req_t *req, int status,
                     const teep_http_response_t *resp)
{
    teep_http_client_t *cl = req->client;
    req->state = REQ_DONE;
    req->conn = NULL;
    teep_buf_unref(req->head);
    teep_buf_unref(req->body);
    req->head = req->body = NULL;
    if (status == 0)
        cl->stats.requests++;
    else
        cl->stats.failures++;
    req->cb(req, status, resp);
}

static void pend(teep_http_client_req_t *req, bool front)
{
    teep_http_client_t *cl = req->client;
    req->state = REQ_PENDING;
    if (front)
        teep_http__list_insert_head(&cl->pending, &req->link);
    else
        teep_http__list_insert_tail(&cl->pending, &req->link);
    cl->stats.pending++;
}

static void unpend(teep_http_client_req_t *req)
{
    teep_http__list_remove(&req->link);
    req->client->stats.pending--;
}

static void fail_pending(teep_http_client_t *cl, int code)
{
    while (!teep_http__list_empty(&cl->pending)) {
        teep_http_client_req_t *req = teep_http__container_of(
            cl->pending.next, teep_http_client_req_t, link);
        unpend(req);
        complete(req, code, NULL);
    }
}

/* -------------------------------------------------------- connections */

static uint64_t *gauge(teep_http_client_t *cl, int state)
{
    switch (state) {
    case CONN_CONNECTING: return &cl->stats.connecting;
    case CONN_IDLE: return &cl->stats.idle;
    case CONN_BUSY: return &cl->stats.busy;
    default: return NULL;
    }
}

static void set_state(client_conn_t *cc, int state)
{
    teep_http_client_t *cl = cc->client;
    uint64_t *old = gauge(cl, cc->state);
    if (old != NULL)
        (*old)--;
    teep_http__list_remove(&cc->link);
    cc->state = (uint8_t)state;
    switch (state) {
    case CONN_CONNECTING:
        teep_http__list_insert_tail(&cl->connecting, &cc->link);
        break;
    case CONN_IDLE: /* most recently used first */
        teep_http__list_insert_head(&cl->idle, &cc->link);
        break;
    case CONN_BUSY: teep_http__list_insert_tail(&cl->busy, &cc->link); break;
    default: break;
    }
    uint64_t *now = gauge(cl, state);
    if (now != NULL)
        (*now)++;
}

/* Close; the bound request (if any) completes with code in on_close, or
 * is resent when cc->retry says so. */
static void conn_fail(client_conn_t *cc, int code)
{
    if (cc->state == CONN_CLOSING)
        return;
    cc->fail_code = code;
    set_state(cc, CONN_CLOSING);
    teep_http__conn_close(&cc->conn);
}

/* The connection broke under a request.  A kept-alive connection that the
 * server closed before answering anything is the classic race with the
 * server's idle timeout: resend once on a new connection. */
static void conn_lost(client_conn_t *cc, int code)
{
    teep_http_client_req_t *req = cc->req;
    if (req != NULL && req->state == REQ_SENT && cc->served > 0 &&
        !req->retried && cc->conn.bytes_in == cc->bytes_at_send)
        cc->retry = true;
    conn_fail(cc, code);
}

static void request_written(teep_http__write_t *w, int status)
{
    client_conn_t *cc = teep_http__container_of(w, client_conn_t, write);
    teep_buf_unref(cc->write_head);
    teep_buf_unref(cc->write_body);
    cc->write_head = cc->write_body = NULL;
    if (status < 0 && cc->state != CONN_CLOSING)
        conn_lost(cc, TEEP_HTTP_E_RESET);
}

static void send_request(client_conn_t *cc, teep_http_client_req_t *req)
{
    teep_http_client_t *cl = cc->client;
    cc->req = req;
    req->conn = cc;
    req->state = REQ_SENT;
    if (cc->served > 0)
        cl->stats.reused++;
    set_state(cc, CONN_BUSY);
    cc->bytes_at_send = cc->conn.bytes_in;
    uv_buf_t iov[2];
    unsigned n = 0;
    cc->write_head = teep_buf_ref(req->head);
    iov[n++] =
        uv_buf_init((char *)req->head->pos, (unsigned)teep_buf_len(req->head));
    if (req->body != NULL) {
        cc->write_body = teep_buf_ref(req->body);
        iov[n++] = uv_buf_init((char *)req->body->pos,
                               (unsigned)teep_buf_len(req->body));
    }
    if (teep_http__conn_write(&cc->conn, &cc->write, iov, n, request_written) <
        0) {
        request_written(&cc->write, TEEP_HTTP_E_RESET);
        return;
    }
    teep_http__conn_timer(&cc->conn, cl->cfg.read_timeout_ms);
}

/* Connected (and TLS established): serve the bound request or wait. */
static void conn_ready(client_conn_t *cc)
{
    teep_http_client_t *cl = cc->client;
    cl->stats.connects++;
    if (cc->req != NULL) {
        send_request(cc, cc->req);
        return;
    }
    set_state(cc, CONN_IDLE);
    teep_http__conn_timer(&cc->conn, cl->cfg.idle_timeout_ms);
    dispatch(cl);
}

static client_conn_t *cconn(teep_http__conn_t *c)
{
    return (client_conn_t *)c;
}

static void on_connect(uv_connect_t *creq, int status)
{
    client_conn_t *cc = teep_http__container_of(creq, client_conn_t, connect);
    if (cc->state == CONN_CLOSING)
        return; /* canceled by close, or timed out */
    if (status < 0 || teep_http__conn_start(&cc->conn) < 0) {
        cc->client->stats.connect_failures++;
        conn_fail(cc, TEEP_HTTP_E_CONNECT);
        return;
    }
    uv_tcp_nodelay(&cc->conn.tcp, 1);
    if (cc->conn.tls.ssl == NULL)
        conn_ready(cc);
}

static void on_handshake(teep_http__conn_t *c)
{
    client_conn_t *cc = cconn(c);
    if (cc->state == CONN_CONNECTING)
        conn_ready(cc);
}

static int on_head(teep_http__conn_t *c)
{
    client_conn_t *cc = cconn(c);
    teep_http_client_t *cl = cc->client;
    const teep_http__head_t *h = &c->parser->head;
    if (cc->req == NULL || cc->state != CONN_BUSY || h->status == 101)
        return TEEP_HTTP_E_MALFORMED; /* nobody asked for this */
    if (h->status < 200)
        return 0; /* interim (100 Continue): the answer follows */
    if (h->content_length > 0 &&
        (uint64_t)h->content_length > cl->cfg.max_body_size)
        return TEEP_HTTP_E_BODY_TOO_LARGE;
    teep_http_response_t *r = &cc->resp;
    r->status = h->status;
    r->http_minor = h->http_minor;
    r->header_count =
        teep_http__resolve_fields(h, c->parser->base, cc->headers);
    r->headers = cc->headers;
    r->content_type.ptr = NULL;
    r->content_type.len = 0;
    teep_http_header_find(cc->headers, r->header_count, "content-type",
                          &r->content_type);
    r->body = NULL;
    return cc->req->head_method ? TEEP_HTTP__SKIP_BODY : 0;
}

static int on_message(teep_http__conn_t *c, teep_buf_t *body)
{
    client_conn_t *cc = cconn(c);
    teep_http_client_t *cl = cc->client;
    const teep_http__head_t *h = &c->parser->head;
    if (h->status < 200) {
        teep_buf_unref(body);
        return 0;
    }
    teep_http_client_req_t *req = cc->req;
    cc->req = NULL;
    cc->served++;
    /* Reuse only after a complete exchange: a response that overtook our
     * own request body leaves the connection in an unknown state. */
    bool keep = h->keep_alive && cc->write_head == NULL && !cl->closing;
    if (keep) {
        set_state(cc, CONN_IDLE);
        teep_http__conn_timer(c, cl->cfg.idle_timeout_ms);
    } else {
        conn_fail(cc, 0);
    }
    cc->resp.body = body;
    complete(req, 0, &cc->resp);
    cc->resp.body = NULL;
    teep_buf_unref(body);
    dispatch(cl);
    return keep ? 0 : 1;
}

static void on_data(teep_http__conn_t *c)
{
    client_conn_t *cc = cconn(c);
    /* The read timeout measures silence, so any byte restarts it. */
    if (cc->state == CONN_BUSY)
        teep_http__conn_timer(c, cc->client->cfg.read_timeout_ms);
}

static int wire_error(int code)
{
    switch (code) {
    case TEEP_HTTP_E_TLS:
    case TEEP_HTTP_E_MALFORMED:
    case TEEP_HTTP_E_HEADER_TOO_LARGE:
    case TEEP_HTTP_E_BODY_TOO_LARGE:
    case -ENOMEM: return code;
    default: return TEEP_HTTP_E_RESET; /* EOF, ECONNRESET, EPIPE ... */
    }
}

static void on_read_end(teep_http__conn_t *c, int code)
{
    client_conn_t *cc = cconn(c);
    int err = wire_error(code);
    if (cc->state == CONN_CONNECTING) {
        cc->client->stats.connect_failures++;
        conn_fail(cc, err == TEEP_HTTP_E_RESET ? TEEP_HTTP_E_CONNECT : err);
    } else if (cc->req != NULL && err == TEEP_HTTP_E_RESET) {
        conn_lost(cc, err);
    } else {
        conn_fail(cc, err); /* an idle connection: just gone */
    }
}

static void on_timeout(teep_http__conn_t *c)
{
    client_conn_t *cc = cconn(c);
    switch (cc->state) {
    case CONN_CONNECTING:
        cc->client->stats.connect_failures++;
        conn_fail(cc, TEEP_HTTP_E_CONNECT_TIMEOUT);
        break;
    case CONN_BUSY: conn_fail(cc, TEEP_HTTP_E_READ_TIMEOUT); break;
    default: conn_fail(cc, 0); break;
    }
}

static void maybe_closed(teep_http_client_t *cl)
{
    if (cl->closing && cl->open_handles == 0 && cl->on_close != NULL) {
        teep_http_client_close_cb cb = cl->on_close;
        cl->on_close = NULL;
        cb(cl);
    }
}

static void on_close(teep_http__conn_t *c)
{
    client_conn_t *cc = cconn(c);
    teep_http_client_t *cl = cc->client;
    teep_http_client_req_t *req = cc->req;
    teep_buf_unref(cc->write_head);
    teep_buf_unref(cc->write_body);
    if (req != NULL) {
        req->conn = NULL;
        if (cc->retry && !cl->closing) {
            req->retried = true;
            req->fresh_only = true;
            cl->stats.retries++;
            pend(req, true);
        } else {
            complete(req,
                     cc->fail_code != 0 ? cc->fail_code : TEEP_HTTP_E_RESET,
                     NULL);
        }
    }
    free(cc);
    cl->open_handles--;
    if (cl->closing)
        maybe_closed(cl);
    else
        dispatch(cl);
}

static const teep_http__conn_ops_t client_ops = {
    .on_head = on_head,
    .on_message = on_message,
    .on_data = on_data,
    .on_read_end = on_read_end,
    .on_handshake = on_handshake,
    .on_timeout = on_timeout,
    .on_close = on_close,
};

/* A new connection for req.  Returns 0 (req is bound: it completes or
 * is sent through the connection) or -ENOMEM (req untouched). */
static int open_conn(teep_http_client_t *cl, teep_http_client_req_t *req)
{
    const teep_http_client_config_t *cfg = &cl->cfg;
    teep_http__conn_limits_t limits = {
        .max_head_size = cfg->max_header_size,
        .max_fields = cfg->max_headers,
        .max_body = cfg->max_body_size,
        .read_buffer_size = cfg->read_buffer_size,
        .body_headroom = cfg->body_headroom,
    };
    client_conn_t *cc = calloc(1, sizeof(*cc));
    if (cc == NULL ||
        teep_http__conn_init(&cc->conn, cl->loop, TEEP_HTTP__RESPONSE,
                             &client_ops, &limits) < 0) {
        free(cc);
        return -ENOMEM;
    }
    cc->client = cl;
    teep_http__list_init(&cc->link);
    cl->open_handles++;
    cc->req = req;
    req->conn = cc;
    req->state = REQ_BOUND;
    set_state(cc, CONN_CONNECTING);
    teep_http__conn_timer(&cc->conn, cfg->connect_timeout_ms);
    if (cl->origin.tls &&
        teep_http__conn_tls(&cc->conn, cfg->tls, cl->origin.host) < 0) {
        conn_fail(cc, TEEP_HTTP_E_TLS);
        return 0;
    }
    if (uv_tcp_connect(&cc->connect, &cc->conn.tcp,
                       (const struct sockaddr *)&cl->addr, on_connect) < 0) {
        cl->stats.connect_failures++;
        conn_fail(cc, TEEP_HTTP_E_CONNECT);
    }
    return 0;
}

/* ---------------------------------------------------------- the pool */

static void on_resolved(uv_getaddrinfo_t *r, int status, struct addrinfo *res)
{
    teep_http_client_t *cl =
        teep_http__container_of(r, teep_http_client_t, resolver);
    cl->open_handles--;
    cl->resolve_state = RESOLVE_NONE;
    if (status == 0 && res != NULL && res->ai_addrlen <= sizeof(cl->addr)) {
        memcpy(&cl->addr, res->ai_addr, res->ai_addrlen);
        cl->resolve_state = RESOLVE_DONE;
    }
    uv_freeaddrinfo(res);
    if (cl->closing)
        maybe_closed(cl);
    else if (cl->resolve_state != RESOLVE_DONE)
        fail_pending(cl, TEEP_HTTP_E_RESOLVE);
    else
        dispatch(cl);
}

/* Names are resolved once per pool (the first address; no TTL). */
static void start_resolve(teep_http_client_t *cl)
{
    if (cl->resolve_state == RESOLVE_RUNNING)
        return;
    char port[8];
    snprintf(port, sizeof(port), "%u", cl->origin.port);
    struct addrinfo hints;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    /* On failure (out of memory) the requests stay pending; the next
     * request tries again. */
    if (uv_getaddrinfo(cl->loop, &cl->resolver, on_resolved, cl->origin.host,
                       port, &hints) == 0) {
        cl->resolve_state = RESOLVE_RUNNING;
        cl->open_handles++;
    }
}

static void dispatch(teep_http_client_t *cl)
{
    while (!cl->closing && !teep_http__list_empty(&cl->pending)) {
        if (cl->resolve_state != RESOLVE_DONE) {
            start_resolve(cl);
            return;
        }
        teep_http_client_req_t *req = teep_http__container_of(
            cl->pending.next, teep_http_client_req_t, link);
        if (!req->fresh_only && !teep_http__list_empty(&cl->idle)) {
            unpend(req);
            send_request(
                teep_http__container_of(cl->idle.next, client_conn_t, link),
                req);
            continue;
        }
        uint64_t open = cl->stats.idle + cl->stats.busy + cl->stats.connecting;
        if (open >= cl->cfg.max_connections) {
            if (!req->fresh_only || teep_http__list_empty(&cl->idle))
                return;
            /* A retry must not reuse: give it the oldest idle slot. */
            conn_fail(
                teep_http__container_of(cl->idle.prev, client_conn_t, link), 0);
            continue;
        }
        unpend(req);
        if (open_conn(cl, req) < 0) {
            pend(req, true);
            return;
        }
    }
}

int teep_http_client_init(teep_http_client_t *cl, uv_loop_t *loop,
                          const char *url, const teep_http_client_config_t *cfg)
{
    teep_http_client_config_t c;
    if (cfg != NULL)
        c = *cfg;
    else
        teep_http_client_config_default(&c);
    memset(cl, 0, sizeof(*cl));
    if (loop == NULL || url == NULL || c.max_connections == 0 ||
        c.connect_timeout_ms == 0 || c.read_timeout_ms == 0 ||
        c.idle_timeout_ms == 0 || c.max_header_size < 256 ||
        c.max_header_size > 65536 || c.max_headers == 0 ||
        c.max_headers > TEEP_HTTP_MAX_HEADERS)
        return -EINVAL;
    int rc = teep_http_url_parse(url, &cl->origin);
    if (rc < 0)
        return rc;
    if (cl->origin.tls &&
        (c.tls == NULL || c.tls->ssl_ctx == NULL || c.tls->server))
        return -EINVAL;
    if (c.read_buffer_size < c.max_header_size + 2048)
        c.read_buffer_size = c.max_header_size + 2048;
    cl->loop = loop;
    cl->cfg = c;
    bool v6 = strchr(cl->origin.host, ':') != NULL;
    bool default_port = cl->origin.port == (cl->origin.tls ? 443 : 80);
    snprintf(cl->host_header, sizeof(cl->host_header),
             default_port ? "%s%s%s" : "%s%s%s:%u", v6 ? "[" : "",
             cl->origin.host, v6 ? "]" : "", cl->origin.port);
    if (teep_http_addr_literal(cl->origin.host, cl->origin.port, &cl->addr) ==
        0)
        cl->resolve_state = RESOLVE_DONE;
    teep_http__list_init(&cl->idle);
    teep_http__list_init(&cl->busy);
    teep_http__list_init(&cl->connecting);
    teep_http__list_init(&cl->pending);
    return 0;
}

static bool token_ok(teep_slice_t s)
{
    teep_http_header_t h = {s, {NULL, 0}};
    static const char *const none[] = {NULL};
    return teep_http__header_ok(&h, none);
}

static bool path_ok(const char *path)
{
    if (path[0] != '/')
        return false;
    for (const char *p = path; *p != '\0'; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return false;
    return true;
}

/* wire: the n headers as written on the wire, when the memo has them
 * (teep_http__headers_ok), else {NULL, 0}. */
static teep_buf_t *build_head(const teep_http_client_t *cl, teep_slice_t method,
                              bool bodiless_method, const char *path,
                              const teep_http_header_t *headers, size_t n,
                              teep_slice_t wire, const teep_buf_t *body)
{
    size_t path_len = strlen(path), host_len = strlen(cl->host_header);
    size_t size = method.len + path_len + host_len +
                  sizeof("  HTTP/1.1\r\nHost: \r\n") +
                  sizeof("Content-Length: \r\n\r\n") + 20 + wire.len;
    for (size_t i = 0; wire.ptr == NULL && i < n; i++)
        size += teep_http__header_size(&headers[i]);
    teep_buf_t *b = teep_buf_new(0, size);
    if (b == NULL)
        return NULL;
    teep_http__put(b, method.ptr, method.len);
    teep_http__put(b, " ", 1);
    teep_http__put(b, path, path_len);
    teep_http__put_str(b, " HTTP/1.1\r\nHost: ");
    teep_http__put(b, cl->host_header, host_len);
    teep_http__put(b, "\r\n", 2);
    if (wire.ptr != NULL)
        teep_http__put(b, wire.ptr, wire.len);
    else
        for (size_t i = 0; i < n; i++)
            teep_http__put_header(b, &headers[i]);
    /* An empty POST still says Content-Length: 0 (TEEP's first POST). */
    if (body != NULL || !bodiless_method) {
        teep_http__put_str(b, "Content-Length: ");
        teep_http__put_u64(b, body != NULL ? teep_buf_len(body) : 0);
        teep_http__put(b, "\r\n", 2);
    }
    teep_http__put(b, "\r\n", 2);
    return b;
}

int teep_http_client_request(teep_http_client_t *cl,
                             teep_http_client_req_t *req, const char *method,
                             const char *path,
                             const teep_http_header_t *headers,
                             size_t header_count, teep_buf_t *body,
                             teep_http_client_cb cb)
{
    if (req == NULL || cb == NULL || method == NULL || path == NULL)
        return -EINVAL;
    teep_slice_t m = {(const uint8_t *)method, strlen(method)};
    if (!token_ok(m) || !path_ok(path) || (header_count > 0 && headers == NULL))
        return -EINVAL;
    /* One memo per thread: a pool, like its loop, runs on one. */
    static __thread teep_http__header_memo_t memo;
    teep_slice_t wire;
    if (!teep_http__headers_ok(headers, header_count, managed_headers, &memo,
                               &wire))
        return -EINVAL;
    if (cl->closing)
        return TEEP_HTTP_E_CANCELED;
    if (cl->stats.pending >= cl->cfg.max_pending)
        return TEEP_HTTP_E_OVERLOAD;
    if (body != NULL && teep_buf_len(body) == 0)
        body = NULL;
    bool head_method = m.len == 4 && memcmp(method, "HEAD", 4) == 0;
    bool bodiless_method =
        head_method || (m.len == 3 && memcmp(method, "GET", 3) == 0);
    teep_buf_t *head = build_head(cl, m, bodiless_method, path, headers,
                                  header_count, wire, body);
    if (head == NULL)
        return -ENOMEM;
    void *data = req->data;
    memset(req, 0, sizeof(*req));
    req->data = data;
    req->client = cl;
    req->head = head;
    req->body = body != NULL ? teep_buf_ref(body) : NULL;
    req->cb = cb;
    req->head_method = head_method;
    teep_http__list_init(&req->link);
    pend(req, false);
    dispatch(cl);
    return 0;
}

int teep_http_client_cancel(teep_http_client_req_t *req)
{
    client_conn_t *cc = req->conn;
    switch (req->state) {
    case REQ_PENDING: unpend(req); break;
    case REQ_BOUND: /* the connection goes on and will serve another */
        cc->req = NULL;
        break;
    case REQ_SENT: /* its answer would be unclaimed: drop the connection */
        cc->req = NULL;
        conn_fail(cc, 0);
        break;
    default: return -EALREADY;
    }
    complete(req, TEEP_HTTP_E_CANCELED, NULL);
    return 0;
}

void teep_http_client_stats(const teep_http_client_t *cl,
                            teep_http_client_stats_t *out)
{
    *out = cl->stats;
}

static void close_list(teep_http__link_t *list)
{
    while (!teep_http__list_empty(list)) {
        client_conn_t *cc =
            teep_http__container_of(list->next, client_conn_t, link);
        teep_http_client_req_t *req = cc->req;
        cc->req = NULL;
        conn_fail(cc, 0); /* leaves the list */
        if (req != NULL)
            complete(req, TEEP_HTTP_E_CANCELED, NULL);
    }
}

void teep_http_client_close(teep_http_client_t *cl,
                            teep_http_client_close_cb cb)
{
    if (cl->closing)
        return;
    cl->closing = true;
    cl->on_close = cb;
    fail_pending(cl, TEEP_HTTP_E_CANCELED);
    close_list(&cl->connecting);
    close_list(&cl->idle);
    close_list(&cl->busy);
    if (cl->resolve_state == RESOLVE_RUNNING)
        uv_cancel((uv_req_t *)&cl->resolver);
    maybe_closed(cl);
}
