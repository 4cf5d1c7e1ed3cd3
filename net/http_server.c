/*
 * The HTTP/1.1 server (teep/http.h): listeners, connections, requests in
 * arrival order, responses in the same order, limits and timeouts, and a
 * graceful stop.
 *
 * A request lives in its connection's queue from the end of its head
 * until its response is handed to the socket; the handler may answer in
 * any order, responses leave in request order (pipelining).  Errors the
 * server detects itself (400, 408, 413, 431) become a response queued
 * behind the earlier ones, then the connection is finished with a
 * lingering close.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "blocks.h"
#include "conn.h"
#include "http_internal.h"

enum { TIMER_NONE = 0, TIMER_HEAD, TIMER_BODY, TIMER_IDLE };
enum { REQ_RECEIVING = 0, REQ_WAITING, REQ_RESPONDED, REQ_WRITING };

typedef struct server_req server_req_t;

typedef struct server_conn {
    teep_http__conn_t conn; /* first: the connection's callbacks find us */
    teep_http_server_t *server;
    teep_http__link_t link;  /* in server->conns */
    teep_http__link_t queue; /* requests in arrival order until written */
    server_req_t *receiving; /* head done, body still arriving */
    size_t queued;
    size_t writing; /* responses handed to the socket */
    uint64_t requests_seen;
    int timer_kind;
    bool no_more;      /* read no further request; close when all is out */
    bool backpressure; /* paused: max_pipelined requests wait */
    bool counted;      /* in stats.connections_active */
    char peer[56];     /* "IP:PORT" / "[IPv6]:PORT", read at accept */
} server_conn_t;

struct server_req {
    teep_http_request_t pub; /* first */
    teep_http__link_t link;
    server_conn_t *sc;
    teep_buf_t *head_ref; /* the read buffer holding the request head */
    teep_buf_t *resp_head;
    teep_buf_t *resp_body;
    teep_http__write_t write;
    uint8_t state;
    bool keep_alive;
    bool http10_keep_alive; /* an HTTP/1.0 client asked for keep-alive */
    bool head_method;
    bool internal; /* an error response the server made itself */
    bool closes;   /* the connection ends after this response */
    uint8_t block; /* its memory's block class (net/blocks.h) */
    teep_http_header_t headers[];
};

/* Headers the server writes itself. */
static const char *const managed_headers[] = {
    "content-length", "connection", "transfer-encoding", "date", NULL,
};

void teep_http_server_config_default(teep_http_server_config_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->max_connections = 10000;
    cfg->max_header_size = 8192;
    cfg->max_headers = TEEP_HTTP_MAX_HEADERS;
    cfg->max_body_size = 1024 * 1024;
    cfg->max_pipelined = 16;
    cfg->read_buffer_size = 16384;
    cfg->header_timeout_ms = 10000;
    cfg->body_timeout_ms = 30000;
    cfg->idle_timeout_ms = 60000;
    cfg->linger_ms = 1000;
}

static void server_log(teep_http_server_t *server, server_conn_t *sc,
                       const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void server_log(teep_http_server_t *server, server_conn_t *sc,
                       const char *fmt, ...)
{
    if (server->cfg.log == NULL)
        return;
    char line[256];
    int n = snprintf(line, sizeof(line),
                     "http server: %s: ", sc != NULL ? sc->peer : "?");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    va_end(ap);
    server->cfg.log(server->cfg.log_data, line);
}

/* The client's address as "IP:PORT", once per connection (one
 * getpeername), so every request and log line can name it. */
static void read_peer(server_conn_t *sc)
{
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    char ip[INET6_ADDRSTRLEN] = "";
    strcpy(sc->peer, "?");
    if (uv_tcp_getpeername(&sc->conn.tcp, (struct sockaddr *)&ss, &len) != 0)
        return;
    if (ss.ss_family == AF_INET6 &&
        uv_ip6_name((struct sockaddr_in6 *)&ss, ip, sizeof(ip)) == 0)
        snprintf(sc->peer, sizeof(sc->peer), "[%s]:%u", ip,
                 ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
    else if (ss.ss_family == AF_INET &&
             uv_ip4_name((struct sockaddr_in *)&ss, ip, sizeof(ip)) == 0)
        snprintf(sc->peer, sizeof(sc->peer), "%s:%u", ip,
                 ntohs(((struct sockaddr_in *)&ss)->sin_port));
}

/* ------------------------------------------------------------ requests */

/* A zeroed request with room for n header fields.  Requests with a few
 * fields (every agent's) are blocks of the thread's lists: one per
 * exchange would otherwise cost a malloc and a free. */
static server_req_t *req_new(server_conn_t *sc, size_t n)
{
    size_t size = sizeof(server_req_t) + n * sizeof(teep_http_header_t);
    unsigned block = teep_net__block_class(size);
    server_req_t *req = block != TEEP_NET__BLOCK_NONE
                            ? teep_net__block_get(block)
                            : malloc(size);
    if (req == NULL)
        return NULL;
    memset(req, 0, sizeof(*req));
    req->sc = sc;
    req->block = (uint8_t)block;
    return req;
}

static void req_free(server_req_t *req)
{
    teep_buf_unref(req->head_ref);
    teep_buf_unref(req->resp_head);
    teep_buf_unref(req->resp_body);
    teep_buf_unref(req->pub.body);
    teep_net__block_put(req->block, req);
}

static const char *reason_phrase(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: break;
    }
    static const char *const by_class[] = {"Informational", "Success",
                                           "Redirection", "Client Error",
                                           "Server Error"};
    int cls = status / 100 - 1;
    return cls >= 0 && cls < 5 ? by_class[cls] : "Unknown";
}

/* The Date header value, formatted once per second (RFC 9110 IMF-fixdate). */
static const char *server_date(teep_http_server_t *server)
{
    time_t now = time(NULL);
    if ((uint64_t)now != server->date_second || server->date[0] == '\0') {
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(server->date, sizeof(server->date),
                 "%a, %d %b %Y %H:%M:%S GMT", &tm);
        server->date_second = (uint64_t)now;
    }
    return server->date;
}

/* Room left at the end of every head for the Connection header and the
 * blank line, decided when the response is written. */
#define HEAD_TAIL sizeof("Connection: keep-alive\r\n\r\n")

/* wire: the n headers as written on the wire, when the memo has them
 * (teep_http__headers_ok), else {NULL, 0}. */
static int build_head(server_req_t *req, int status,
                      const teep_http_header_t *headers, size_t n,
                      teep_slice_t wire, size_t body_len)
{
    teep_http_server_t *server = req->sc->server;
    const char *reason = reason_phrase(status);
    size_t reason_len = strlen(reason);
    const char *date = server_date(server);
    size_t date_len = strlen(date);
    bool bodiless = status == 204 || status == 304;
    size_t size = sizeof("HTTP/1.1 000 \r\n") + reason_len +
                  sizeof("Date: \r\n") + date_len +
                  sizeof("Content-Length: \r\n") + 20 + HEAD_TAIL + wire.len;
    for (size_t i = 0; wire.ptr == NULL && i < n; i++)
        size += teep_http__header_size(&headers[i]);
    teep_buf_t *b = teep_buf_new(0, size);
    if (b == NULL)
        return -ENOMEM;
    /* A status is three digits (teep_http_respond checked it). */
    uint8_t code[4] = {(uint8_t)('0' + status / 100),
                       (uint8_t)('0' + status / 10 % 10),
                       (uint8_t)('0' + status % 10), ' '};
    teep_http__put_str(b, "HTTP/1.1 ");
    teep_http__put(b, code, sizeof(code));
    teep_http__put(b, reason, reason_len);
    teep_http__put_str(b, "\r\nDate: ");
    teep_http__put(b, date, date_len);
    teep_http__put(b, "\r\n", 2);
    if (wire.ptr != NULL)
        teep_http__put(b, wire.ptr, wire.len);
    else
        for (size_t i = 0; i < n; i++)
            teep_http__put_header(b, &headers[i]);
    if (!bodiless) {
        teep_http__put_str(b, "Content-Length: ");
        teep_http__put_u64(b, body_len);
        teep_http__put(b, "\r\n", 2);
    }
    req->resp_head = b;
    return 0;
}

static void update_timer(server_conn_t *sc);
static void flush_queue(server_conn_t *sc);

static void conn_done_if_idle(server_conn_t *sc)
{
    if (sc->no_more && sc->queued == 0 && sc->writing == 0 &&
        sc->receiving == NULL)
        teep_http__conn_finish(&sc->conn, sc->server->cfg.linger_ms);
}

static void response_written(teep_http__write_t *w, int status)
{
    server_req_t *req = teep_http__container_of(w, server_req_t, write);
    server_conn_t *sc = req->sc;
    teep_http_server_t *server = sc->server;
    bool closes = req->closes;
    sc->writing--;
    if (status == 0)
        server->stats.responses++;
    req_free(req);
    if (sc->conn.closing || sc->conn.finishing)
        return;
    if (status < 0) {
        teep_http__conn_close(&sc->conn);
        return;
    }
    if (closes) {
        teep_http__conn_finish(&sc->conn, server->cfg.linger_ms);
        return;
    }
    conn_done_if_idle(sc);
    if (sc->backpressure && !sc->no_more &&
        sc->queued < server->cfg.max_pipelined) {
        sc->backpressure = false;
        teep_http__conn_resume(&sc->conn);
    }
    update_timer(sc);
}

static void write_response(server_conn_t *sc, server_req_t *req)
{
    /* The last response of a connection that reads no more says so. */
    req->closes = !req->keep_alive || req->internal ||
                  (sc->no_more && sc->queued == 1 && sc->receiving == NULL);
    teep_buf_t *h = req->resp_head;
    if (req->closes)
        teep_http__put_str(h, "Connection: close\r\n");
    else if (req->http10_keep_alive)
        teep_http__put_str(h, "Connection: keep-alive\r\n");
    teep_http__put(h, "\r\n", 2);
    uv_buf_t iov[2];
    unsigned n = 0;
    iov[n++] = uv_buf_init((char *)h->pos, (unsigned)teep_buf_len(h));
    if (req->resp_body != NULL && !req->head_method)
        iov[n++] = uv_buf_init((char *)req->resp_body->pos,
                               (unsigned)teep_buf_len(req->resp_body));
    teep_http__list_remove(&req->link);
    sc->queued--;
    req->state = REQ_WRITING;
    if (req->closes) {
        sc->no_more = true;
        teep_http__conn_pause(&sc->conn);
    }
    if (teep_http__conn_write(&sc->conn, &req->write, iov, n,
                              response_written) < 0) {
        req_free(req);
        teep_http__conn_close(&sc->conn);
        return;
    }
    sc->writing++;
}

/* Hand every answered request at the front of the queue to the socket. */
static void flush_queue(server_conn_t *sc)
{
    while (!teep_http__list_empty(&sc->queue) && !sc->conn.closing) {
        server_req_t *req =
            teep_http__container_of(sc->queue.next, server_req_t, link);
        if (req->state != REQ_RESPONDED)
            return;
        write_response(sc, req);
    }
}

int teep_http_respond(teep_http_request_t *pub, int status,
                      const teep_http_header_t *headers, size_t header_count,
                      teep_buf_t *body)
{
    server_req_t *req = teep_http__container_of(pub, server_req_t, pub);
    if (req->state != REQ_WAITING || status < 200 || status > 999 ||
        (header_count > 0 && headers == NULL))
        return -EINVAL;
    size_t body_len = body != NULL ? teep_buf_len(body) : 0;
    if ((status == 204 || status == 304) && body_len > 0)
        return -EINVAL;
    /* One memo per thread: a server, like its loop, runs on one. */
    static __thread teep_http__header_memo_t memo;
    teep_slice_t wire;
    if (!teep_http__headers_ok(headers, header_count, managed_headers, &memo,
                               &wire))
        return -EINVAL;
    int rc = build_head(req, status, headers, header_count, wire, body_len);
    if (rc < 0)
        return rc;
    req->resp_body = body_len > 0 ? teep_buf_ref(body) : NULL;
    req->state = REQ_RESPONDED;
    flush_queue(req->sc);
    return 0;
}

/* Queue a response the server makes itself; the connection ends after
 * it. */
static void queue_error(server_conn_t *sc, int status)
{
    server_req_t *req = req_new(sc, 0);
    teep_slice_t none = {NULL, 0};
    if (req == NULL || build_head(req, status, NULL, 0, none, 0) < 0) {
        if (req != NULL)
            req_free(req);
        teep_http__conn_close(&sc->conn);
        return;
    }
    req->internal = true;
    req->state = REQ_RESPONDED;
    teep_http__list_insert_tail(&sc->queue, &req->link);
    sc->queued++;
    sc->no_more = true;
    teep_http__conn_pause(&sc->conn);
    flush_queue(sc);
}

/* --------------------------------------------------- connection events */

static server_conn_t *sconn(teep_http__conn_t *c)
{
    return (server_conn_t *)c;
}

static void free_write(teep_http__write_t *w, int status)
{
    free(w);
}

/* The first Host, Content-Type, Accept and Authorization fields, in one
 * pass over the fields: the name's length picks the one candidate, so
 * most fields cost a compare, not four case-insensitive lookups. */
static void find_known(teep_http_request_t *pub)
{
    unsigned found = 0;
    for (size_t i = 0; i < pub->header_count; i++) {
        const teep_http_header_t *h = &pub->headers[i];
        teep_slice_t *dst;
        const char *name;
        unsigned bit;
        switch (h->name.len) {
        case 4: dst = &pub->host, name = "host", bit = 1; break;
        case 6: dst = &pub->accept, name = "accept", bit = 2; break;
        case 12:
            dst = &pub->content_type, name = "content-type", bit = 4;
            break;
        case 13:
            dst = &pub->authorization, name = "authorization", bit = 8;
            break;
        default: continue;
        }
        if ((found & bit) == 0 &&
            strncasecmp((const char *)h->name.ptr, name, h->name.len) == 0) {
            *dst = h->value;
            found |= bit;
        }
    }
}

static int on_head(teep_http__conn_t *c)
{
    server_conn_t *sc = sconn(c);
    teep_http_server_t *server = sc->server;
    const teep_http__head_t *h = &c->parser->head;
    if (h->content_length > 0 &&
        (uint64_t)h->content_length > server->cfg.max_body_size)
        return TEEP_HTTP_E_BODY_TOO_LARGE;
    server_req_t *req = req_new(sc, h->field_count);
    if (req == NULL)
        return -ENOMEM;
    req->head_ref = teep_buf_ref(c->head_buf);
    teep_http_request_t *pub = &req->pub;
    pub->server = server;
    pub->peer = sc->peer;
    pub->method = h->method;
    pub->target = teep_http__span_slice(c->parser->base, h->target);
    const uint8_t *q = memchr(pub->target.ptr, '?', pub->target.len);
    pub->path = pub->target;
    if (q != NULL)
        pub->path.len = (size_t)(q - pub->target.ptr);
    pub->header_count =
        teep_http__resolve_fields(h, c->parser->base, req->headers);
    pub->headers = req->headers;
    find_known(pub);
    pub->content_length = h->content_length;
    pub->http_minor = h->http_minor;
    req->keep_alive = h->keep_alive;
    req->http10_keep_alive = h->keep_alive && h->http_minor == 0;
    req->head_method = strcmp(h->method, "HEAD") == 0;
    sc->receiving = req;
    /* 100 Continue only when nothing is ahead of it on the wire. */
    if (h->expect_continue && h->http_minor >= 1 && sc->queued == 0 &&
        sc->writing == 0) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        teep_http__write_t *w = malloc(sizeof(*w));
        uv_buf_t b = uv_buf_init((char *)cont, sizeof(cont) - 1);
        if (w != NULL && teep_http__conn_write(c, w, &b, 1, free_write) < 0)
            free(w);
    }
    return 0;
}

static int on_message(teep_http__conn_t *c, teep_buf_t *body)
{
    server_conn_t *sc = sconn(c);
    teep_http_server_t *server = sc->server;
    server_req_t *req = sc->receiving;
    sc->receiving = NULL;
    req->pub.body = body;
    req->state = REQ_WAITING;
    teep_http__list_insert_tail(&sc->queue, &req->link);
    sc->queued++;
    sc->requests_seen++;
    server->stats.requests++;
    if (!req->keep_alive)
        sc->no_more = true;
    bool pause = sc->no_more || sc->queued >= server->cfg.max_pipelined;
    if (pause && !sc->no_more)
        sc->backpressure = true;
    server->on_request(server, &req->pub);
    return pause ? 1 : 0;
}

static void on_data(teep_http__conn_t *c)
{
    update_timer(sconn(c));
}

static int error_status(int code)
{
    switch (code) {
    case TEEP_HTTP_E_MALFORMED: return 400;
    case TEEP_HTTP_E_HEADER_TOO_LARGE: return 431;
    case TEEP_HTTP_E_BODY_TOO_LARGE: return 413;
    case TEEP_HTTP_E_TIMEOUT: return 408;
    default: return 0;
    }
}

/* Answer a protocol error with its status and end the connection. */
static void reject(server_conn_t *sc, int code)
{
    teep_http_server_t *server = sc->server;
    int status = error_status(code);
    switch (status) {
    case 400: server->stats.bad_requests++; break;
    case 408: server->stats.timeouts++; break;
    case 413: server->stats.body_too_large++; break;
    default: server->stats.head_too_large++; break;
    }
    server_log(server, sc, "%d: %s", status, teep_http_strerror(code));
    if (sc->receiving != NULL) {
        req_free(sc->receiving);
        sc->receiving = NULL;
    }
    queue_error(sc, status);
}

static void on_read_end(teep_http__conn_t *c, int code)
{
    server_conn_t *sc = sconn(c);
    if (error_status(code) != 0) {
        reject(sc, code);
        return;
    }
    if (sc->receiving != NULL) {
        req_free(sc->receiving);
        sc->receiving = NULL;
    }
    if (code == UV_EOF) {
        /* Like nginx without proxy_ignore_client_abort: a client that
         * closes is gone, so requests it left are abandoned (the broker
         * cancels their upstream work) rather than answered into a
         * half-closed socket. */
        teep_http__conn_close(c);
        return;
    }
    if (code == TEEP_HTTP_E_TLS)
        sc->server->stats.tls_failures++;
    server_log(sc->server, sc, "closing: %s", teep_http_strerror(code));
    teep_http__conn_close(c);
}

static void on_timeout(teep_http__conn_t *c)
{
    server_conn_t *sc = sconn(c);
    bool partial = teep_http__conn_parse_state(c) != TEEP_HTTP__IDLE;
    if (sc->timer_kind == TIMER_IDLE ||
        (sc->timer_kind == TIMER_HEAD && !partial)) {
        teep_http__conn_close(c); /* nothing asked: nothing to answer */
        return;
    }
    sc->timer_kind = TIMER_NONE;
    reject(sc, TEEP_HTTP_E_TIMEOUT);
}

static void maybe_stopped(teep_http_server_t *server)
{
    if (server->stopping && server->open_handles == 0 &&
        server->on_stop != NULL) {
        teep_http_server_stop_cb cb = server->on_stop;
        server->on_stop = NULL;
        cb(server);
    }
}

static void on_close(teep_http__conn_t *c)
{
    server_conn_t *sc = sconn(c);
    teep_http_server_t *server = sc->server;
    while (!teep_http__list_empty(&sc->queue)) {
        server_req_t *req =
            teep_http__container_of(sc->queue.next, server_req_t, link);
        teep_http__list_remove(&req->link);
        if (req->state == REQ_WAITING) {
            server->stats.abandoned++;
            if (server->on_abandon != NULL)
                server->on_abandon(server, &req->pub);
        }
        req_free(req);
    }
    if (sc->receiving != NULL)
        req_free(sc->receiving);
    teep_http__list_remove(&sc->link);
    if (sc->counted)
        server->stats.connections_active--;
    server->open_handles--;
    free(sc);
    maybe_stopped(server);
}

static const teep_http__conn_ops_t server_ops = {
    .on_head = on_head,
    .on_message = on_message,
    .on_data = on_data,
    .on_read_end = on_read_end,
    .on_timeout = on_timeout,
    .on_close = on_close,
};

/* One timer per connection, for whichever wait it is in; it restarts
 * only when the kind of wait changes, so a trickle of bytes cannot
 * stretch a deadline. */
static void update_timer(server_conn_t *sc)
{
    teep_http__conn_t *c = &sc->conn;
    const teep_http_server_config_t *cfg = &sc->server->cfg;
    if (c->closing || c->finishing)
        return;
    int kind = TIMER_NONE;
    uint64_t ms = 0;
    int state = teep_http__conn_parse_state(c);
    if (state == TEEP_HTTP__BODY && sc->receiving != NULL) {
        kind = TIMER_BODY;
        ms = cfg->body_timeout_ms;
    } else if (sc->no_more) {
        kind = TIMER_NONE;
    } else if (state == TEEP_HTTP__HEAD ||
               (sc->requests_seen == 0 && sc->queued == 0)) {
        kind = TIMER_HEAD;
        ms = cfg->header_timeout_ms;
    } else if (sc->queued == 0 && sc->writing == 0) {
        kind = TIMER_IDLE;
        ms = cfg->idle_timeout_ms;
    }
    if (kind == sc->timer_kind)
        return;
    sc->timer_kind = kind;
    teep_http__conn_timer(c, ms);
}

/* -------------------------------------------------------------- server */

static void on_connection(uv_stream_t *listener, int status)
{
    teep_http_server_t *server = listener->data;
    const teep_http_server_config_t *cfg = &server->cfg;
    if (status < 0) {
        server_log(server, NULL, "accept: %s", uv_strerror(status));
        return;
    }
    server_conn_t *sc = calloc(1, sizeof(*sc));
    teep_http__conn_limits_t limits = {
        .max_head_size = cfg->max_header_size,
        .max_fields = cfg->max_headers,
        .max_body = cfg->max_body_size,
        .read_buffer_size = cfg->read_buffer_size,
        .body_headroom = cfg->body_headroom,
    };
    if (sc == NULL ||
        teep_http__conn_init(&sc->conn, server->loop, TEEP_HTTP__REQUEST,
                             &server_ops, &limits) < 0) {
        free(sc);
        server_log(server, NULL, "accept: out of memory");
        return;
    }
    sc->server = server;
    sc->conn.bytes_in_total = &server->stats.bytes_in;
    sc->conn.bytes_out_total = &server->stats.bytes_out;
    teep_http__list_init(&sc->queue);
    teep_http__list_insert_tail(&server->conns, &sc->link);
    server->open_handles++;
    teep_http__conn_t *c = &sc->conn;
    strcpy(sc->peer, "?");
    if (uv_accept(listener, (uv_stream_t *)&c->tcp) < 0) {
        teep_http__conn_close(c);
        return;
    }
    read_peer(sc);
    if (server->stats.connections_active >= cfg->max_connections) {
        server->stats.connections_refused++;
        server_log(server, sc, "refused: %zu connections open",
                   cfg->max_connections);
        teep_http__conn_close(c);
        return;
    }
    server->stats.connections_accepted++;
    server->stats.connections_active++;
    sc->counted = true;
    uv_tcp_nodelay(&c->tcp, 1);
    if ((cfg->tls != NULL && teep_http__conn_tls(c, cfg->tls, NULL) < 0) ||
        teep_http__conn_start(c) < 0) {
        teep_http__conn_close(c);
        return;
    }
    update_timer(sc);
}

int teep_http_server_init(teep_http_server_t *server, uv_loop_t *loop,
                          const teep_http_server_config_t *cfg,
                          teep_http_request_cb on_request,
                          teep_http_abandon_cb on_abandon)
{
    teep_http_server_config_t c;
    if (cfg != NULL)
        c = *cfg;
    else
        teep_http_server_config_default(&c);
    if (loop == NULL || on_request == NULL || c.max_connections == 0 ||
        c.max_header_size < 256 || c.max_header_size > 65536 ||
        c.max_headers == 0 || c.max_headers > TEEP_HTTP_MAX_HEADERS ||
        c.max_pipelined == 0 || c.header_timeout_ms == 0 ||
        c.body_timeout_ms == 0 || c.idle_timeout_ms == 0 ||
        (c.tls != NULL && (c.tls->ssl_ctx == NULL || !c.tls->server)))
        return -EINVAL;
    /* A head of the maximum size must fit with room to read more. */
    if (c.read_buffer_size < c.max_header_size + 2048)
        c.read_buffer_size = c.max_header_size + 2048;
    memset(server, 0, sizeof(*server));
    server->loop = loop;
    server->cfg = c;
    server->on_request = on_request;
    server->on_abandon = on_abandon;
    teep_http__list_init(&server->conns);
    return 0;
}

/* The socket is made, configured, bound and listening before libuv sees
 * it, so a failure leaves no handle to close asynchronously. */
static int listen_socket(const struct sockaddr_storage *ss, unsigned flags)
{
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    socklen_t len = ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                              : sizeof(struct sockaddr_in);
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        ((flags & TEEP_HTTP_REUSEPORT) &&
         setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0) ||
        (ss->ss_family == AF_INET6 &&
         setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY,
                    &(int){(flags & TEEP_HTTP_V6ONLY) != 0},
                    sizeof(int)) < 0) ||
        bind(fd, (const struct sockaddr *)ss, len) < 0 ||
        listen(fd, SOMAXCONN) < 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    return fd;
}

int teep_http_server_listen(teep_http_server_t *server, const char *host,
                            uint16_t port, unsigned flags)
{
    if (server->stopping)
        return -EINVAL;
    if (server->listener_count >= TEEP_HTTP_MAX_LISTENERS)
        return -ENOSPC;
    struct sockaddr_storage ss;
    if (teep_http_addr_literal(host, port, &ss) < 0)
        return -EINVAL;
    int fd = listen_socket(&ss, flags);
    if (fd < 0)
        return fd;
    uv_tcp_t *l = &server->listeners[server->listener_count];
    uv_tcp_init(server->loop, l); /* AF_UNSPEC: no socket, cannot fail */
    l->data = server;
    server->listener_count++;
    server->open_handles++;
    int rc = uv_tcp_open(l, fd);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)l, SOMAXCONN, on_connection);
    if (rc < 0) {
        uv_os_fd_t owned;
        if (uv_fileno((uv_handle_t *)l, &owned) != 0)
            close(fd); /* uv_tcp_open did not take it */
        /* The slot stays used: its handle closes with the server. */
        return rc;
    }
    return 0;
}

int teep_http_server_port(teep_http_server_t *server, size_t index)
{
    if (index >= server->listener_count)
        return -EINVAL;
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    int rc = uv_tcp_getsockname(&server->listeners[index],
                                (struct sockaddr *)&ss, &len);
    if (rc < 0)
        return rc;
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static void listener_closed(uv_handle_t *h)
{
    teep_http_server_t *server = h->data;
    server->open_handles--;
    maybe_stopped(server);
}

static void conn_stop(server_conn_t *sc)
{
    if (sc->conn.closing || sc->conn.finishing)
        return;
    sc->no_more = true;
    if (sc->receiving == NULL)
        teep_http__conn_pause(&sc->conn);
    if (sc->queued == 0 && sc->writing == 0 && sc->receiving == NULL)
        teep_http__conn_close(&sc->conn); /* idle, or a partial head */
    else
        update_timer(sc);
}

void teep_http_server_stop(teep_http_server_t *server,
                           teep_http_server_stop_cb cb)
{
    if (server->stopping)
        return;
    server->stopping = true;
    server->on_stop = cb;
    for (size_t i = 0; i < server->listener_count; i++)
        uv_close((uv_handle_t *)&server->listeners[i], listener_closed);
    for (teep_http__link_t *l = server->conns.next; l != &server->conns;
         l = l->next)
        conn_stop(teep_http__container_of(l, server_conn_t, link));
    maybe_stopped(server);
}
