/*
 * Tests of teepnet (teep/buf.h, teep/http.h): a server and clients on one
 * loop on 127.0.0.1 with ephemeral ports, raw TCP peers for what a real
 * client would not send, and the parser layer fed byte by byte.  Every
 * test runs under a guard timer, so a failure ends the test instead of
 * hanging it, and ends with uv_loop_close == 0: every handle closed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http_parse.h"
#include "teep/http.h"

#define GUARD_MS 10000
#define MAX_HELD 256

/* ------------------------------------------------------------ fixture */

enum { MODE_ECHO = 0, MODE_HOLD };

typedef struct fixture {
    uv_loop_t loop;
    uv_timer_t guard;
    uv_timer_t tick; /* run_for's */
    bool guard_fired;
    teep_http_server_t server;
    int port;
    int mode;
    teep_http_request_t *held[MAX_HELD];
    size_t nheld;
    size_t abandoned;
    bool stopped;
} fixture_t;

static void on_guard(uv_timer_t *t)
{
    fixture_t *f = t->data;
    f->guard_fired = true;
    uv_stop(&f->loop);
}

static bool slice_is(teep_slice_t s, const char *lit)
{
    return s.len == strlen(lit) && memcmp(s.ptr, lit, s.len) == 0;
}

static void echo(teep_http_request_t *req)
{
    if (slice_is(req->path, "/empty")) {
        assert_int_equal(teep_http_respond(req, 204, NULL, 0, NULL), 0);
        return;
    }
    teep_http_header_t h[] = {
        TEEP_HTTP_HEADER("Content-Type", "application/teep+cbor"),
        {{(const uint8_t *)"X-Path", 6}, req->path},
    };
    assert_int_equal(teep_http_respond(req, 200, h, 2, req->body), 0);
}

static void on_request(teep_http_server_t *server, teep_http_request_t *req)
{
    fixture_t *f = server->data;
    /* Every client here is on 127.0.0.1 with an ephemeral port. */
    assert_non_null(req->peer);
    assert_int_equal(strncmp(req->peer, "127.0.0.1:", 10), 0);
    assert_true(atoi(req->peer + 10) > 0);
    if (f->mode == MODE_HOLD) {
        assert_true(f->nheld < MAX_HELD);
        f->held[f->nheld++] = req;
        return;
    }
    echo(req);
}

static void on_abandon(teep_http_server_t *server, teep_http_request_t *req)
{
    fixture_t *f = server->data;
    f->abandoned++;
    for (size_t i = 0; i < f->nheld; i++)
        if (f->held[i] == req)
            f->held[i] = NULL;
}

static void fixture_start(fixture_t *f, const teep_http_server_config_t *cfg)
{
    memset(f, 0, sizeof(*f));
    assert_int_equal(uv_loop_init(&f->loop), 0);
    uv_timer_init(&f->loop, &f->guard);
    f->guard.data = f;
    uv_timer_start(&f->guard, on_guard, GUARD_MS, 0);
    uv_timer_init(&f->loop, &f->tick);
    assert_int_equal(teep_http_server_init(&f->server, &f->loop, cfg,
                                           on_request, on_abandon),
                     0);
    f->server.data = f;
    assert_int_equal(teep_http_server_listen(&f->server, "127.0.0.1", 0,
                                             TEEP_HTTP_REUSEPORT),
                     0);
    f->port = teep_http_server_port(&f->server, 0);
    assert_true(f->port > 0);
}

/* Run the loop until *flag (or the guard fails the test). */
static void run_until(fixture_t *f, const bool *flag)
{
    while (!*flag && !f->guard_fired)
        uv_run(&f->loop, UV_RUN_ONCE);
    assert_false(f->guard_fired);
}

static void on_tick(uv_timer_t *t)
{
}

/* Run the loop for ms milliseconds. */
static void run_for(fixture_t *f, uint64_t ms)
{
    uint64_t end = uv_now(&f->loop) + ms;
    uv_timer_start(&f->tick, on_tick, ms, 0);
    while (uv_now(&f->loop) < end && !f->guard_fired)
        uv_run(&f->loop, UV_RUN_ONCE);
}

static void on_stopped(teep_http_server_t *server)
{
    ((fixture_t *)server->data)->stopped = true;
}

static void fixture_finish(fixture_t *f)
{
    teep_http_server_stop(&f->server, on_stopped);
    run_until(f, &f->stopped);
    uv_close((uv_handle_t *)&f->guard, NULL);
    uv_close((uv_handle_t *)&f->tick, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
}

/* ------------------------------------------------------------- client */

typedef struct call {
    teep_http_client_req_t req;
    bool done;
    int status;
    int http_status;
    teep_buf_t *body;
    char content_type[64];
    char connection[32];
} call_t;

static void on_call(teep_http_client_req_t *req, int status,
                    const teep_http_response_t *resp)
{
    call_t *c = req->data;
    c->done = true;
    c->status = status;
    if (resp == NULL)
        return;
    c->http_status = resp->status;
    c->body = resp->body != NULL ? teep_buf_ref(resp->body) : NULL;
    snprintf(c->content_type, sizeof(c->content_type), "%.*s",
             (int)resp->content_type.len, (const char *)resp->content_type.ptr);
    teep_slice_t v;
    if (teep_http_header_find(resp->headers, resp->header_count, "connection",
                              &v) == 0)
        snprintf(c->connection, sizeof(c->connection), "%.*s", (int)v.len,
                 (const char *)v.ptr);
}

static int call_start(teep_http_client_t *cl, call_t *c, const char *method,
                      const char *path, const char *body)
{
    memset(c, 0, sizeof(*c));
    c->req.data = c;
    static const teep_http_header_t h[] = {
        TEEP_HTTP_HEADER("Content-Type", "application/teep+cbor"),
        TEEP_HTTP_HEADER("Accept", "application/teep+cbor"),
    };
    teep_buf_t *b = body != NULL ? teep_buf_copy(0, body, strlen(body)) : NULL;
    int rc =
        teep_http_client_request(cl, &c->req, method, path, h, 2, b, on_call);
    teep_buf_unref(b); /* the pool holds its own reference */
    return rc;
}

static void call_clear(call_t *c)
{
    teep_buf_unref(c->body);
    c->body = NULL;
}

static bool body_is(const call_t *c, const char *lit)
{
    return c->body != NULL && slice_is(teep_buf_slice(c->body), lit);
}

static bool client_closed;

static void on_client_closed(teep_http_client_t *cl)
{
    client_closed = true;
}

static void client_open(fixture_t *f, teep_http_client_t *cl,
                        const teep_http_client_config_t *cfg)
{
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/tam", f->port);
    assert_int_equal(teep_http_client_init(cl, &f->loop, url, cfg), 0);
}

static void client_close(fixture_t *f, teep_http_client_t *cl)
{
    client_closed = false;
    teep_http_client_close(cl, on_client_closed);
    run_until(f, &client_closed);
}

/* ------------------------------------------------- raw TCP peer (client) */

typedef struct raw {
    uv_tcp_t tcp;
    uv_connect_t connect;
    uv_write_t write;
    const char *out;
    size_t out_len;
    char in[65536];
    size_t in_len;
    bool closed;
} raw_t;

static void raw_closed(uv_handle_t *h)
{
    ((raw_t *)h->data)->closed = true;
}

static void raw_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    raw_t *r = h->data;
    *b = uv_buf_init(r->in + r->in_len,
                     (unsigned)(sizeof(r->in) - r->in_len - 1));
}

static void raw_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    raw_t *r = s->data;
    if (n > 0) {
        r->in_len += (size_t)n;
        r->in[r->in_len] = '\0';
    } else if (n < 0) {
        uv_close((uv_handle_t *)&r->tcp, raw_closed);
    }
}

static void raw_written(uv_write_t *w, int status)
{
}

static void raw_connected(uv_connect_t *c, int status)
{
    raw_t *r = c->data;
    assert_int_equal(status, 0);
    if (r->out_len > 0) {
        uv_buf_t b = uv_buf_init((char *)r->out, (unsigned)r->out_len);
        uv_write(&r->write, (uv_stream_t *)&r->tcp, &b, 1, raw_written);
    }
    uv_read_start((uv_stream_t *)&r->tcp, raw_alloc, raw_read);
}

/* Connect to the server, send out (kept alive by the caller), read until
 * the server closes. */
static void raw_open(fixture_t *f, raw_t *r, const char *out, size_t len)
{
    memset(r, 0, sizeof(*r));
    r->out = out;
    r->out_len = len;
    uv_tcp_init(&f->loop, &r->tcp);
    r->tcp.data = r->connect.data = r;
    struct sockaddr_in sa;
    uv_ip4_addr("127.0.0.1", f->port, &sa);
    assert_int_equal(uv_tcp_connect(&r->connect, &r->tcp,
                                    (const struct sockaddr *)&sa,
                                    raw_connected),
                     0);
}

static void raw_exchange(fixture_t *f, raw_t *r, const char *out)
{
    raw_open(f, r, out, strlen(out));
    run_until(f, &r->closed);
}

/* ================================================================ tests */

static void test_buf(void **state)
{
    teep_buf_t *b = teep_buf_new(16, 32);
    assert_non_null(b);
    assert_int_equal(teep_buf_headroom(b), 16);
    assert_int_equal(teep_buf_tailroom(b), 32);
    assert_int_equal(teep_buf_len(b), 0);
    memcpy(b->last, "payload", 7);
    b->last += 7;
    uint8_t *hdr = teep_buf_push(b, 2);
    assert_non_null(hdr);
    memcpy(hdr, "WS", 2);
    assert_true(slice_is(teep_buf_slice(b), "WSpayload"));
    assert_null(teep_buf_push(b, 15));

    teep_buf_t *v = teep_buf_view(b, b->pos + 2, 7);
    assert_non_null(v);
    assert_int_equal(b->refs, 2);
    assert_true(slice_is(teep_buf_slice(v), "payload"));
    assert_int_equal(teep_buf_headroom(v), 0);
    assert_null(teep_buf_push(v, 1));
    assert_int_equal(teep_buf_reserve(&b, 100), -EBUSY); /* shared */
    assert_null(teep_buf_view(b, b->end, 1));            /* outside */
    teep_buf_unref(b); /* the view keeps it alive */
    assert_true(slice_is(teep_buf_slice(v), "payload"));
    teep_buf_unref(v);

    teep_buf_t *c = teep_buf_copy(4, "abc", 3);
    assert_int_equal(teep_buf_reserve(&c, 1000), 0);
    assert_true(teep_buf_tailroom(c) >= 1000);
    assert_int_equal(teep_buf_headroom(c), 4);
    assert_true(slice_is(teep_buf_slice(c), "abc"));
    assert_ptr_equal(teep_buf_ref(c), c);
    teep_buf_unref(c);
    teep_buf_unref(c);
    teep_buf_unref(NULL);
}

static void test_url(void **state)
{
    teep_http_url_t u;
    assert_int_equal(teep_http_url_parse("http://127.0.0.1:8080/tam", &u), 0);
    assert_false(u.tls);
    assert_string_equal(u.host, "127.0.0.1");
    assert_int_equal(u.port, 8080);
    assert_true(slice_is(u.path, "/tam"));
    assert_int_equal(teep_http_url_parse("HTTPS://tam.example", &u), 0);
    assert_true(u.tls);
    assert_int_equal(u.port, 443);
    assert_true(slice_is(u.path, "/"));
    assert_int_equal(teep_http_url_parse("https://[::1]:8443/a?b", &u), 0);
    assert_string_equal(u.host, "::1");
    assert_int_equal(u.port, 8443);
    assert_true(slice_is(u.path, "/a?b"));
    const char *bad[] = {"ftp://x/",       "http://",       "http://h:0/",
                         "http://h:99999", "http://u@h/",   "http://h/#f",
                         "http://[::1/",   "http://h:80x/", "http://h/a b",
                         "//h/",           "http://h?x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(teep_http_url_parse(bad[i], &u), TEEP_HTTP_E_URL);

    char host[TEEP_HTTP_MAX_HOST + 1];
    uint16_t port;
    assert_int_equal(teep_http_hostport_parse("0.0.0.0:443", 0, host, &port),
                     0);
    assert_string_equal(host, "0.0.0.0");
    assert_int_equal(port, 443);
    assert_int_equal(teep_http_hostport_parse("[::]:80", 0, host, &port), 0);
    assert_string_equal(host, "::");
    assert_int_equal(teep_http_hostport_parse("tam", 8080, host, &port), 0);
    assert_int_equal(port, 8080);
    assert_int_equal(teep_http_hostport_parse("tam", 0, host, &port), -EINVAL);
    /* Port 0 is a listener's "any port"; a URL to connect to never has it. */
    assert_int_equal(teep_http_hostport_parse("127.0.0.1:0", 0, host, &port),
                     0);
    assert_int_equal(port, 0);
    assert_int_equal(teep_http_hostport_parse("[::1]:0", 0, host, &port), 0);
    assert_int_equal(port, 0);
    assert_int_equal(teep_http_hostport_parse("h:65536", 0, host, &port),
                     -EINVAL);
    assert_int_equal(teep_http_url_parse("http://h:0/", &u), TEEP_HTTP_E_URL);

    struct sockaddr_storage ss;
    assert_int_equal(teep_http_addr_literal("127.0.0.1", 1, &ss), 0);
    assert_int_equal(ss.ss_family, AF_INET);
    assert_int_equal(teep_http_addr_literal("::1", 1, &ss), 0);
    assert_int_equal(ss.ss_family, AF_INET6);
    assert_int_equal(teep_http_addr_literal("localhost", 1, &ss), -EINVAL);
    assert_int_equal(teep_http_addr_literal("1.2.3", 1, &ss), -EINVAL);
}

/* The parser layer fed a request split at every byte, in one contiguous
 * buffer as the connection keeps it. */
typedef struct split_ctx {
    int heads;
    char body[64];
    size_t body_len;
} split_ctx_t;

static int split_head(void *ctx)
{
    ((split_ctx_t *)ctx)->heads++;
    return 0;
}

static int split_body(void *ctx, const uint8_t *at, size_t len)
{
    split_ctx_t *s = ctx;
    assert_true(s->body_len + len <= sizeof(s->body));
    memcpy(s->body + s->body_len, at, len);
    s->body_len += len;
    return 0;
}

static void test_parse_split(void **state)
{
    static const char msg[] = "POST /tam?x HTTP/1.1\r\nHost: tam\r\n"
                              "Content-Type: application/teep+cbor\r\n"
                              "X-Long: a b c\r\nContent-Length: 5\r\n\r\nhello";
    static const teep_http__parse_cbs_t cbs = {split_head, split_body};
    size_t n = sizeof(msg) - 1;
    for (size_t cut = 0; cut <= n; cut++) {
        split_ctx_t ctx = {0};
        teep_http__parser_t p;
        teep_http__parser_init(&p, TEEP_HTTP__REQUEST, 1024, 16, &cbs, &ctx);
        size_t used1 = 0, used2 = 0;
        int rc = teep_http__parse(&p, (const uint8_t *)msg, cut, &used1);
        if (rc != TEEP_HTTP__DONE)
            rc = teep_http__parse(&p, (const uint8_t *)msg + cut, n - cut,
                                  &used2);
        assert_int_equal(rc, TEEP_HTTP__DONE);
        assert_int_equal(used1 + used2, n);
        assert_int_equal(ctx.heads, 1);
        assert_int_equal(ctx.body_len, 5);
        assert_memory_equal(ctx.body, "hello", 5);
        const teep_http__head_t *h = &p.head;
        assert_string_equal(h->method, "POST");
        assert_true(
            slice_is(teep_http__span_slice(p.base, h->target), "/tam?x"));
        assert_int_equal(h->field_count, 4);
        assert_true(slice_is(teep_http__span_slice(p.base, h->fields[2].value),
                             "a b c"));
        assert_int_equal(h->content_length, 5);
        assert_true(h->keep_alive);
    }
    /* Limits: too many fields, too long a head, garbage. */
    static const teep_http__parse_cbs_t cbs2 = {split_head, split_body};
    split_ctx_t ctx = {0};
    teep_http__parser_t p;
    size_t used;
    teep_http__parser_init(&p, TEEP_HTTP__REQUEST, 1024, 2, &cbs2, &ctx);
    static const char many[] = "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
    assert_int_equal(
        teep_http__parse(&p, (const uint8_t *)many, sizeof(many) - 1, &used),
        TEEP_HTTP_E_HEADER_TOO_LARGE);
    teep_http__parser_init(&p, TEEP_HTTP__REQUEST, 32, 16, &cbs2, &ctx);
    static const char longer[] = "GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    assert_int_equal(teep_http__parse(&p, (const uint8_t *)longer,
                                      sizeof(longer) - 1, &used),
                     TEEP_HTTP_E_HEADER_TOO_LARGE);
    teep_http__parser_init(&p, TEEP_HTTP__REQUEST, 1024, 16, &cbs2, &ctx);
    assert_int_equal(
        teep_http__parse(&p, (const uint8_t *)"\x01\x02", 2, &used),
        TEEP_HTTP_E_MALFORMED);
}

static void test_post_round_trip(void **state)
{
    fixture_t f;
    fixture_start(&f, NULL);
    teep_http_client_t cl;
    client_open(&f, &cl, NULL);
    call_t c;
    assert_int_equal(call_start(&cl, &c, "POST", "/tam", "hello teep"), 0);
    assert_false(c.done); /* never completes inside the request call */
    run_until(&f, &c.done);
    assert_int_equal(c.status, 0);
    assert_int_equal(c.http_status, 200);
    assert_true(body_is(&c, "hello teep"));
    assert_string_equal(c.content_type, "application/teep+cbor");
    call_clear(&c);
    assert_int_equal(f.server.stats.requests, 1);
    assert_int_equal(f.server.stats.responses, 1);
    assert_true(f.server.stats.bytes_in > 10);
    assert_true(f.server.stats.bytes_out > 10);

    /* An empty POST (TEEP's first message) has Content-Length: 0. */
    assert_int_equal(call_start(&cl, &c, "POST", "/tam", NULL), 0);
    run_until(&f, &c.done);
    assert_int_equal(c.http_status, 200);
    assert_null(c.body);

    /* A body far larger than the read buffer is read straight into its
     * own buffer. */
    size_t big = 300 * 1024;
    char *payload = malloc(big + 1);
    for (size_t i = 0; i < big; i++)
        payload[i] = (char)('a' + i % 26);
    payload[big] = '\0';
    assert_int_equal(call_start(&cl, &c, "POST", "/big", payload), 0);
    run_until(&f, &c.done);
    assert_int_equal(c.http_status, 200);
    assert_non_null(c.body);
    assert_int_equal(teep_buf_len(c.body), big);
    assert_memory_equal(c.body->pos, payload, big);
    call_clear(&c);
    free(payload);
    client_close(&f, &cl);
    fixture_finish(&f);
}

/* A message larger than the socket takes at once goes out in parts
 * (the first through uv_try_write, the rest queued with uv_write), in
 * both directions, and arrives whole and in order. */
static void test_write_in_parts(void **state)
{
    (void)state;
    size_t big = 8 * 1024 * 1024;
    teep_http_server_config_t scfg;
    teep_http_server_config_default(&scfg);
    scfg.max_body_size = 2 * big;
    fixture_t f;
    fixture_start(&f, &scfg);
    teep_http_client_config_t ccfg;
    teep_http_client_config_default(&ccfg);
    ccfg.max_body_size = 2 * big;
    teep_http_client_t cl;
    client_open(&f, &cl, &ccfg);
    char *payload = malloc(big + 1);
    assert_non_null(payload);
    for (size_t i = 0; i < big; i++)
        payload[i] = (char)('a' + (i / 7) % 26);
    payload[big] = '\0';
    call_t c;
    for (int round = 0; round < 2; round++) { /* a new, then a kept conn */
        assert_int_equal(call_start(&cl, &c, "POST", "/big", payload), 0);
        run_until(&f, &c.done);
        assert_int_equal(c.http_status, 200);
        assert_non_null(c.body);
        assert_int_equal(teep_buf_len(c.body), big);
        assert_memory_equal(c.body->pos, payload, big);
        call_clear(&c);
    }
    free(payload);
    assert_int_equal(f.server.stats.responses, 2);
    client_close(&f, &cl);
    fixture_finish(&f);
}

static void test_204_no_body(void **state)
{
    fixture_t f;
    fixture_start(&f, NULL);
    teep_http_client_t cl;
    client_open(&f, &cl, NULL);
    call_t c;
    assert_int_equal(call_start(&cl, &c, "POST", "/empty", "x"), 0);
    run_until(&f, &c.done);
    assert_int_equal(c.status, 0);
    assert_int_equal(c.http_status, 204);
    assert_null(c.body);
    /* HEAD: the response says Content-Length but sends no body. */
    assert_int_equal(call_start(&cl, &c, "HEAD", "/x", NULL), 0);
    run_until(&f, &c.done);
    assert_int_equal(c.http_status, 200);
    assert_null(c.body);
    teep_http_client_stats_t st;
    teep_http_client_stats(&cl, &st);
    assert_int_equal(st.connects, 1);
    client_close(&f, &cl);
    fixture_finish(&f);
}

/* N sequential requests, each started from the previous one's
 * completion, share one connection. */
typedef struct chain {
    teep_http_client_t *cl;
    call_t call;
    int left;
    int ok;
    bool done;
} chain_t;

static void chain_next(chain_t *ch);

static void on_chain(teep_http_client_req_t *req, int status,
                     const teep_http_response_t *resp)
{
    chain_t *ch = req->data;
    if (status == 0 && resp->status == 200 && resp->body != NULL &&
        slice_is(teep_buf_slice(resp->body), "ping"))
        ch->ok++;
    chain_next(ch);
}

static void chain_next(chain_t *ch)
{
    if (ch->left-- == 0) {
        ch->done = true;
        return;
    }
    teep_buf_t *b = teep_buf_copy(0, "ping", 4);
    ch->call.req.data = ch;
    assert_int_equal(teep_http_client_request(ch->cl, &ch->call.req, "POST",
                                              "/tam", NULL, 0, b, on_chain),
                     0);
    teep_buf_unref(b);
}

static void test_keepalive_reuse(void **state)
{
    fixture_t f;
    fixture_start(&f, NULL);
    teep_http_client_t cl;
    client_open(&f, &cl, NULL);
    chain_t ch = {.cl = &cl, .left = 20};
    chain_next(&ch);
    run_until(&f, &ch.done);
    assert_int_equal(ch.ok, 20);
    teep_http_client_stats_t st;
    teep_http_client_stats(&cl, &st);
    assert_int_equal(st.connects, 1);
    assert_int_equal(st.reused, 19);
    assert_int_equal(st.requests, 20);
    assert_int_equal(st.idle, 1);
    assert_int_equal(st.busy, 0);
    assert_int_equal(st.pending, 0);
    assert_int_equal(f.server.stats.connections_accepted, 1);
    client_close(&f, &cl);
    fixture_finish(&f);
}

/* Three pipelined requests answered by the handler in reverse order
 * leave in request order; the last asked to close. */
static void test_pipelining(void **state)
{
    fixture_t f;
    fixture_start(&f, NULL);
    f.mode = MODE_HOLD;
    static const char reqs[] =
        "POST /1 HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\none"
        "POST /2 HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\ntwo"
        "POST /3 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
        "Transfer-Encoding: chunked\r\n\r\n3\r\nthr\r\n2\r\nee\r\n0\r\n\r\n";
    raw_t r;
    raw_open(&f, &r, reqs, sizeof(reqs) - 1);
    while (f.nheld < 3 && !f.guard_fired)
        uv_run(&f.loop, UV_RUN_ONCE);
    assert_int_equal(f.nheld, 3);
    assert_true(slice_is(teep_buf_slice(f.held[2]->body), "three"));
    assert_int_equal(f.held[2]->content_length, -1);
    for (int i = 2; i >= 0; i--) {
        echo(f.held[i]);
        run_for(&f, 5); /* nothing may leave before request 1 is answered */
        if (i > 0)
            assert_int_equal(r.in_len, 0);
    }
    run_until(&f, &r.closed);
    const char *one = strstr(r.in, "\r\n\r\none");
    const char *two = strstr(r.in, "\r\n\r\ntwo");
    const char *three = strstr(r.in, "\r\n\r\nthree");
    assert_non_null(one);
    assert_non_null(two);
    assert_non_null(three);
    assert_true(one < two && two < three);
    /* Only the last response closes. */
    const char *close = strstr(r.in, "Connection: close");
    assert_non_null(close);
    assert_true(close > two);
    fixture_finish(&f);
}

static void test_413_body_too_large(void **state)
{
    teep_http_server_config_t cfg;
    teep_http_server_config_default(&cfg);
    cfg.max_body_size = 1024;
    fixture_t f;
    fixture_start(&f, &cfg);
    raw_t r;
    /* Refused from Content-Length, before the body arrives. */
    raw_exchange(&f, &r,
                 "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100000000\r\n"
                 "\r\nxxxxxxxx");
    assert_memory_equal(r.in, "HTTP/1.1 413 ", 13);
    assert_non_null(strstr(r.in, "Connection: close"));
    /* A chunked body that grows past the limit. */
    static char chunked[4096];
    int n = snprintf(chunked, sizeof(chunked),
                     "POST / HTTP/1.1\r\nHost: t\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n800\r\n");
    memset(chunked + n, 'x', 0x800);
    memcpy(chunked + n + 0x800, "\r\n0\r\n\r\n", 8);
    raw_exchange(&f, &r, chunked);
    assert_memory_equal(r.in, "HTTP/1.1 413 ", 13);
    assert_int_equal(f.server.stats.body_too_large, 2);
    assert_int_equal(f.server.stats.requests, 0);
    /* Through the client: the 413 is a response, not an error. */
    teep_http_client_t cl;
    client_open(&f, &cl, NULL);
    char body[2048];
    memset(body, 'y', sizeof(body) - 1);
    body[sizeof(body) - 1] = '\0';
    call_t c;
    assert_int_equal(call_start(&cl, &c, "POST", "/tam", body), 0);
    run_until(&f, &c.done);
    assert_int_equal(c.status, 0);
    assert_int_equal(c.http_status, 413);
    call_clear(&c);
    client_close(&f, &cl);
    fixture_finish(&f);
}

static void test_431_header_too_large(void **state)
{
    fixture_t f;
    fixture_start(&f, NULL);
    size_t big = 20000;
    char *req = malloc(big + 128);
    int n = snprintf(req, big + 128, "GET / HTTP/1.1\r\nHost: t\r\nX-Big: ");
    memset(req + n, 'b', big);
    strcpy(req + n + big, "\r\n\r\n");
    raw_t r;
    raw_exchange(&f, &r, req);
    free(req);
    assert_memory_equal(r.in, "HTTP/1.1 431 ", 13);
    /* Too many fields is the same error. */
    char many[4096] = "GET / HTTP/1.1\r\n";
    for (int i = 0; i < 70; i++)
        snprintf(many + strlen(many), sizeof(many) - strlen(many),
                 "X-%d: v\r\n", i);
    strcat(many, "\r\n");
    raw_exchange(&f, &r, many);
    assert_memory_equal(r.in, "HTTP/1.1 431 ", 13);
    assert_int_equal(f.server.stats.head_too_large, 2);
    fixture_finish(&f);
}

static void test_400_garbage(void **state)
{
    fixture_t f;
    fixture_start(&f, NULL);
    raw_t r;
    raw_exchange(&f, &r, "\x16\x03\x01 not http at all\r\n\r\n");
    assert_memory_equal(r.in, "HTTP/1.1 400 ", 13);
    /* A good request then garbage: the first is answered first. */
    raw_exchange(
        &f, &r, "GET /ok HTTP/1.1\r\nHost: t\r\n\r\nBREW / HTCPCP/1.0\r\n\r\n");
    const char *ok = strstr(r.in, "HTTP/1.1 200 ");
    const char *bad = strstr(r.in, "HTTP/1.1 400 ");
    assert_non_null(ok);
    assert_non_null(bad);
    assert_true(ok < bad);
    assert_int_equal(f.server.stats.bad_requests, 2);
    fixture_finish(&f);
}

static void test_header_timeout(void **state)
{
    teep_http_server_config_t cfg;
    teep_http_server_config_default(&cfg);
    cfg.header_timeout_ms = 100;
    cfg.body_timeout_ms = 100;
    fixture_t f;
    fixture_start(&f, &cfg);
    raw_t r;
    uint64_t t0 = uv_now(&f.loop);
    raw_exchange(&f, &r, "POST / HTTP/1.1\r\nHo");
    assert_memory_equal(r.in, "HTTP/1.1 408 ", 13);
    assert_true(uv_now(&f.loop) - t0 >= 90);
    /* Slow body. */
    raw_exchange(&f, &r,
                 "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nab");
    assert_memory_equal(r.in, "HTTP/1.1 408 ", 13);
    /* A connection that never says anything is closed without a word. */
    raw_exchange(&f, &r, "");
    assert_int_equal(r.in_len, 0);
    assert_int_equal(f.server.stats.timeouts, 2);
    fixture_finish(&f);
}

static void closed_port_cb(uv_handle_t *h)
{
    *(bool *)h->data = true;
}

static void test_connect_failure(void **state)
{
    fixture_t f;
    fixture_start(&f, NULL);
    /* A port that was just free: bind, learn it, close. */
    uv_tcp_t probe;
    bool probe_closed = false;
    uv_tcp_init(&f.loop, &probe);
    probe.data = &probe_closed;
    struct sockaddr_in sa;
    uv_ip4_addr("127.0.0.1", 0, &sa);
    assert_int_equal(uv_tcp_bind(&probe, (struct sockaddr *)&sa, 0), 0);
    int len = sizeof(sa);
    uv_tcp_getsockname(&probe, (struct sockaddr *)&sa, &len);
    int port = ntohs(sa.sin_port);
    uv_close((uv_handle_t *)&probe, closed_port_cb);
    run_until(&f, &probe_closed);

    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
    teep_http_client_t cl;
    assert_int_equal(teep_http_client_init(&cl, &f.loop, url, NULL), 0);
    call_t c;
    assert_int_equal(call_start(&cl, &c, "POST", "/", "x"), 0);
    run_until(&f, &c.done);
    assert_int_equal(c.status, TEEP_HTTP_E_CONNECT);
    teep_http_client_stats_t st;
    teep_http_client_stats(&cl, &st);
    assert_int_equal(st.connect_failures, 1);
    assert_int_equal(st.failures, 1);
    client_close(&f, &cl);

    /* Unresolvable names fail with their own code. */
    assert_int_equal(teep_http_client_init(
                         &cl, &f.loop, "http://no-such-host.invalid:1", NULL),
                     0);
    assert_int_equal(call_start(&cl, &c, "POST", "/", "x"), 0);
    run_until(&f, &c.done);
    assert_int_equal(c.status, TEEP_HTTP_E_RESOLVE);
    client_close(&f, &cl);
    fixture_finish(&f);
}

static void test_read_timeout(void **state)
{
    fixture_t f;
    fixture_start(&f, NULL);
    f.mode = MODE_HOLD;
    teep_http_client_config_t cfg;
    teep_http_client_config_default(&cfg);
    cfg.read_timeout_ms = 100;
    teep_http_client_t cl;
    client_open(&f, &cl, &cfg);
    call_t c;
    assert_int_equal(call_start(&cl, &c, "POST", "/slow", "x"), 0);
    run_until(&f, &c.done);
    assert_int_equal(c.status, TEEP_HTTP_E_READ_TIMEOUT);
    /* The server learns that its client left. */
    while (f.abandoned == 0 && !f.guard_fired)
        uv_run(&f.loop, UV_RUN_ONCE);
    assert_int_equal(f.abandoned, 1);
    assert_int_equal(f.server.stats.abandoned, 1);
    client_close(&f, &cl);
    fixture_finish(&f);
}

static void test_cancel(void **state)
{
    fixture_t f;
    fixture_start(&f, NULL);
    f.mode = MODE_HOLD;
    teep_http_client_config_t cfg;
    teep_http_client_config_default(&cfg);
    cfg.max_connections = 1;
    cfg.max_pending = 1;
    teep_http_client_t cl;
    client_open(&f, &cl, &cfg);
    call_t a, b, over;
    assert_int_equal(call_start(&cl, &a, "POST", "/a", "a"), 0);
    assert_int_equal(call_start(&cl, &b, "POST", "/b", "b"), 0);
    /* max_pending reached: refused at once, no callback. */
    assert_int_equal(call_start(&cl, &over, "POST", "/c", "c"),
                     TEEP_HTTP_E_OVERLOAD);
    while (f.nheld == 0 && !f.guard_fired)
        uv_run(&f.loop, UV_RUN_ONCE);
    teep_http_client_stats_t st;
    teep_http_client_stats(&cl, &st);
    assert_int_equal(st.busy, 1);
    assert_int_equal(st.pending, 1);
    /* Cancel the waiting one, then the one on the wire. */
    assert_int_equal(teep_http_client_cancel(&b.req), 0);
    assert_true(b.done);
    assert_int_equal(b.status, TEEP_HTTP_E_CANCELED);
    assert_int_equal(teep_http_client_cancel(&b.req), -EALREADY);
    assert_int_equal(teep_http_client_cancel(&a.req), 0);
    assert_int_equal(a.status, TEEP_HTTP_E_CANCELED);
    while (f.abandoned == 0 && !f.guard_fired)
        uv_run(&f.loop, UV_RUN_ONCE);
    assert_int_equal(f.abandoned, 1);
    assert_false(over.done);
    client_close(&f, &cl);
    fixture_finish(&f);
}

/* A peer that answers the first request of its first connection, then
 * drops that connection when the second request arrives, the way a server
 * closes a kept-alive connection at its idle timeout. */
typedef struct flaky_conn {
    uv_tcp_t tcp;
    uv_write_t write;
    char in[4096];
    size_t len;
    int answered;
    bool first;
} flaky_conn_t;

typedef struct flaky {
    uv_tcp_t listener;
    int connections;
} flaky_t;

static void flaky_free(uv_handle_t *h)
{
    free(h->data);
}

static void flaky_alloc(uv_handle_t *h, size_t s, uv_buf_t *b)
{
    flaky_conn_t *fc = h->data;
    *b = uv_buf_init(fc->in + fc->len, (unsigned)(sizeof(fc->in) - fc->len));
}

static void flaky_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    flaky_conn_t *fc = s->data;
    if (n < 0) {
        uv_close((uv_handle_t *)s, flaky_free);
        return;
    }
    fc->len += (size_t)n;
    char *end;
    while ((end = memmem(fc->in, fc->len, "\r\n\r\n", 4)) != NULL) {
        size_t used = (size_t)(end + 4 - fc->in);
        memmove(fc->in, end + 4, fc->len - used);
        fc->len -= used;
        if (fc->first && fc->answered == 1) {
            uv_read_stop(s);
            uv_close((uv_handle_t *)s, flaky_free);
            return;
        }
        static const char ok[] =
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        uv_buf_t out = uv_buf_init((char *)ok, sizeof(ok) - 1);
        uv_try_write(s, &out, 1);
        fc->answered++;
    }
}

static void flaky_accept(uv_stream_t *l, int status)
{
    flaky_t *fl = l->data;
    flaky_conn_t *fc = calloc(1, sizeof(*fc));
    uv_tcp_init(l->loop, &fc->tcp);
    fc->tcp.data = fc;
    fc->first = fl->connections++ == 0;
    assert_int_equal(uv_accept(l, (uv_stream_t *)&fc->tcp), 0);
    uv_read_start((uv_stream_t *)&fc->tcp, flaky_alloc, flaky_read);
}

static void test_retry_stale_keepalive(void **state)
{
    fixture_t f;
    fixture_start(&f, NULL);
    flaky_t fl = {0};
    uv_tcp_init(&f.loop, &fl.listener);
    fl.listener.data = &fl;
    struct sockaddr_in sa;
    uv_ip4_addr("127.0.0.1", 0, &sa);
    assert_int_equal(uv_tcp_bind(&fl.listener, (struct sockaddr *)&sa, 0), 0);
    assert_int_equal(uv_listen((uv_stream_t *)&fl.listener, 16, flaky_accept),
                     0);
    int len = sizeof(sa);
    uv_tcp_getsockname(&fl.listener, (struct sockaddr *)&sa, &len);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", ntohs(sa.sin_port));
    teep_http_client_t cl;
    assert_int_equal(teep_http_client_init(&cl, &f.loop, url, NULL), 0);
    call_t c;
    assert_int_equal(call_start(&cl, &c, "GET", "/1", NULL), 0);
    run_until(&f, &c.done);
    assert_int_equal(c.http_status, 200);
    call_clear(&c);
    assert_int_equal(call_start(&cl, &c, "GET", "/2", NULL), 0);
    run_until(&f, &c.done);
    assert_int_equal(c.status, 0);
    assert_int_equal(c.http_status, 200);
    assert_true(body_is(&c, "ok"));
    call_clear(&c);
    teep_http_client_stats_t st;
    teep_http_client_stats(&cl, &st);
    assert_int_equal(st.retries, 1);
    assert_int_equal(st.connects, 2);
    assert_int_equal(fl.connections, 2);
    client_close(&f, &cl);
    uv_close((uv_handle_t *)&fl.listener, NULL);
    fixture_finish(&f);
}

static char tls_dir[] = "/tmp/teep-http-tls-XXXXXX";

static void make_cert(const char *name, const char *san)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd),
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
             "-nodes -days 1 -subj /CN=teep-test -addext "
             "subjectAltName=%s -keyout %s/%s.key -out %s/%s.pem "
             ">/dev/null 2>&1",
             san, tls_dir, name, tls_dir, name);
    assert_int_equal(system(cmd), 0);
}

static void test_tls(void **state)
{
    assert_non_null(mkdtemp(tls_dir));
    make_cert("server", "IP:127.0.0.1,DNS:localhost");
    make_cert("other", "DNS:elsewhere");
    char cert[128], key[128], other[128];
    snprintf(cert, sizeof(cert), "%s/server.pem", tls_dir);
    snprintf(key, sizeof(key), "%s/server.key", tls_dir);
    snprintf(other, sizeof(other), "%s/other.pem", tls_dir);

    teep_tls_ctx_t stls, ctls, wrong;
    assert_int_equal(teep_tls_server_ctx_init(&stls, "/nonexistent", key),
                     -ENOENT);
    assert_int_equal(teep_tls_server_ctx_init(&stls, other, key), -EINVAL);
    assert_int_equal(teep_tls_server_ctx_init(&stls, cert, key), 0);
    assert_int_equal(teep_tls_client_ctx_init(&ctls, cert), 0);
    assert_int_equal(teep_tls_client_ctx_init(&wrong, other), 0);
    teep_http_server_config_t scfg;
    teep_http_server_config_default(&scfg);
    scfg.tls = &stls;
    fixture_t f;
    fixture_start(&f, &scfg);

    char url[64];
    teep_http_client_config_t ccfg;
    teep_http_client_config_default(&ccfg);
    teep_http_client_t cl;
    snprintf(url, sizeof(url), "https://127.0.0.1:%d/tam", f.port);
    assert_int_equal(teep_http_client_init(&cl, &f.loop, url, &ccfg),
                     -EINVAL); /* https needs a client context */
    ccfg.tls = &ctls;
    assert_int_equal(teep_http_client_init(&cl, &f.loop, url, &ccfg), 0);
    chain_t ch = {.cl = &cl, .left = 5};
    chain_next(&ch);
    run_until(&f, &ch.done);
    assert_int_equal(ch.ok, 5);
    /* A body larger than a TLS record. */
    char *payload = malloc(60001);
    memset(payload, 'z', 60000);
    payload[60000] = '\0';
    call_t c;
    assert_int_equal(call_start(&cl, &c, "POST", "/big", payload), 0);
    run_until(&f, &c.done);
    assert_int_equal(c.http_status, 200);
    assert_int_equal(teep_buf_len(c.body), 60000);
    call_clear(&c);
    free(payload);
    teep_http_client_stats_t st;
    teep_http_client_stats(&cl, &st);
    assert_int_equal(st.connects, 1);
    client_close(&f, &cl);

    /* A server the trust anchors do not vouch for is refused. */
    ccfg.tls = &wrong;
    assert_int_equal(teep_http_client_init(&cl, &f.loop, url, &ccfg), 0);
    assert_int_equal(call_start(&cl, &c, "POST", "/tam", "x"), 0);
    run_until(&f, &c.done);
    assert_int_equal(c.status, TEEP_HTTP_E_TLS);
    client_close(&f, &cl);
    /* So is a certificate for another name ("localhost" is in the SANs,
     * 127.0.0.2 is not). */
    ccfg.tls = &ctls;
    snprintf(url, sizeof(url), "https://127.0.0.2:%d/tam", f.port);
    assert_int_equal(teep_http_client_init(&cl, &f.loop, url, &ccfg), 0);
    assert_int_equal(call_start(&cl, &c, "POST", "/tam", "x"), 0);
    run_until(&f, &c.done);
    assert_true(c.status == TEEP_HTTP_E_TLS || c.status == TEEP_HTTP_E_CONNECT);
    client_close(&f, &cl);
    /* Plain HTTP to the TLS port: the server fails the handshake. */
    raw_t r;
    raw_exchange(&f, &r, "GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_null(strstr(r.in, "HTTP/1.1"));
    fixture_finish(&f);
    assert_true(f.server.stats.tls_failures >= 1);
    teep_tls_ctx_free(&stls);
    teep_tls_ctx_free(&ctls);
    teep_tls_ctx_free(&wrong);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tls_dir);
    assert_int_equal(system(cmd), 0);
}

static void test_many_concurrent(void **state)
{
    enum { N = 200 };
    fixture_t f;
    fixture_start(&f, NULL);
    f.mode = MODE_HOLD;
    teep_http_client_config_t cfg;
    teep_http_client_config_default(&cfg);
    cfg.max_connections = N;
    teep_http_client_t cl;
    client_open(&f, &cl, &cfg);
    static call_t calls[N];
    for (int i = 0; i < N; i++)
        assert_int_equal(call_start(&cl, &calls[i], "POST", "/tam", "many"), 0);
    /* Every request is held, so each has a connection of its own. */
    while (f.nheld < N && !f.guard_fired)
        uv_run(&f.loop, UV_RUN_ONCE);
    assert_int_equal(f.nheld, N);
    assert_int_equal(f.server.stats.connections_active, N);
    for (int i = 0; i < N; i++)
        echo(f.held[i]);
    for (int i = 0; i < N; i++) {
        run_until(&f, &calls[i].done);
        assert_int_equal(calls[i].http_status, 200);
        assert_true(body_is(&calls[i], "many"));
        call_clear(&calls[i]);
    }
    teep_http_client_stats_t st;
    teep_http_client_stats(&cl, &st);
    assert_int_equal(st.connects, N);
    assert_int_equal(st.idle, N);
    client_close(&f, &cl);
    fixture_finish(&f);
}

static void test_max_connections(void **state)
{
    teep_http_server_config_t cfg;
    teep_http_server_config_default(&cfg);
    cfg.max_connections = 1;
    fixture_t f;
    fixture_start(&f, &cfg);
    f.mode = MODE_HOLD;
    teep_http_client_t a;
    client_open(&f, &a, NULL);
    call_t ca;
    assert_int_equal(call_start(&a, &ca, "POST", "/a", "a"), 0);
    while (f.nheld == 0 && !f.guard_fired)
        uv_run(&f.loop, UV_RUN_ONCE);
    raw_t r; /* one too many: closed at once */
    raw_exchange(&f, &r, "GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_int_equal(r.in_len, 0);
    assert_int_equal(f.server.stats.connections_refused, 1);
    echo(f.held[0]);
    run_until(&f, &ca.done);
    assert_int_equal(ca.http_status, 200);
    call_clear(&ca);
    client_close(&f, &a);
    fixture_finish(&f);
}

static void test_graceful_stop(void **state)
{
    fixture_t f;
    fixture_start(&f, NULL);
    teep_http_client_t idle, busy;
    client_open(&f, &idle, NULL);
    client_open(&f, &busy, NULL);
    call_t c;
    assert_int_equal(call_start(&idle, &c, "POST", "/warm", "w"), 0);
    run_until(&f, &c.done);
    call_clear(&c);
    f.mode = MODE_HOLD;
    call_t held;
    assert_int_equal(call_start(&busy, &held, "POST", "/held", "h"), 0);
    while (f.nheld == 0 && !f.guard_fired)
        uv_run(&f.loop, UV_RUN_ONCE);

    teep_http_server_stop(&f.server, on_stopped);
    run_for(&f, 50);
    assert_false(f.stopped); /* a request is in flight */
    teep_http_client_stats_t st;
    teep_http_client_stats(&idle, &st);
    assert_int_equal(st.idle, 0); /* its idle connection was closed */
    assert_int_equal(f.server.stats.connections_active, 1);
    echo(f.held[0]);
    run_until(&f, &held.done);
    assert_int_equal(held.http_status, 200);
    assert_string_equal(held.connection, "close");
    call_clear(&held);
    run_until(&f, &f.stopped);
    assert_int_equal(f.server.stats.connections_active, 0);
    assert_int_equal(f.abandoned, 0);
    /* Nobody listens any more. */
    assert_int_equal(call_start(&idle, &c, "POST", "/late", "l"), 0);
    run_until(&f, &c.done);
    assert_int_equal(c.status, TEEP_HTTP_E_CONNECT);
    client_close(&f, &idle);
    client_close(&f, &busy);
    uv_close((uv_handle_t *)&f.guard, NULL);
    uv_close((uv_handle_t *)&f.tick, NULL);
    uv_run(&f.loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f.loop), 0);
}

static void test_respond_contract(void **state)
{
    fixture_t f;
    fixture_start(&f, NULL);
    f.mode = MODE_HOLD;
    teep_http_client_t cl;
    client_open(&f, &cl, NULL);
    call_t c;
    assert_int_equal(call_start(&cl, &c, "POST", "/x", "x"), 0);
    while (f.nheld == 0 && !f.guard_fired)
        uv_run(&f.loop, UV_RUN_ONCE);
    teep_http_request_t *req = f.held[0];
    assert_string_equal(req->method, "POST");
    char host[32];
    snprintf(host, sizeof(host), "127.0.0.1:%d", f.port);
    assert_true(slice_is(req->host, host));
    assert_true(slice_is(req->content_type, "application/teep+cbor"));
    assert_true(slice_is(req->accept, "application/teep+cbor"));
    assert_int_equal(req->content_length, 1);
    assert_int_equal(req->http_minor, 1);
    static const teep_http_header_t injected[] = {
        TEEP_HTTP_HEADER("X-Evil", "a\r\nSet-Cookie: b"),
    };
    static const teep_http_header_t managed[] = {
        TEEP_HTTP_HEADER("Content-Length", "5"),
    };
    assert_int_equal(teep_http_respond(req, 200, injected, 1, NULL), -EINVAL);
    assert_int_equal(teep_http_respond(req, 200, managed, 1, NULL), -EINVAL);
    assert_int_equal(teep_http_respond(req, 100, NULL, 0, NULL), -EINVAL);
    teep_buf_t *b = teep_buf_copy(0, "x", 1);
    assert_int_equal(teep_http_respond(req, 204, NULL, 0, b), -EINVAL);
    assert_int_equal(teep_http_respond(req, 503, NULL, 0, b), 0);
    teep_buf_unref(b);
    run_until(&f, &c.done);
    assert_int_equal(c.http_status, 503);
    assert_true(body_is(&c, "x"));
    call_clear(&c);
    /* Client-side refusals. */
    assert_int_equal(teep_http_client_request(&cl, &c.req, "PO ST", "/", NULL,
                                              0, NULL, on_call),
                     -EINVAL);
    assert_int_equal(teep_http_client_request(&cl, &c.req, "POST", "nope", NULL,
                                              0, NULL, on_call),
                     -EINVAL);
    assert_int_equal(teep_http_client_request(&cl, &c.req, "POST", "/", managed,
                                              1, NULL, on_call),
                     -EINVAL);
    client_close(&f, &cl);
    assert_int_equal(teep_http_client_request(&cl, &c.req, "POST", "/", NULL, 0,
                                              NULL, on_call),
                     TEEP_HTTP_E_CANCELED);
    assert_string_equal(teep_http_strerror(TEEP_HTTP_E_READ_TIMEOUT),
                        "read timeout");
    fixture_finish(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf),
        cmocka_unit_test(test_url),
        cmocka_unit_test(test_parse_split),
        cmocka_unit_test(test_post_round_trip),
        cmocka_unit_test(test_write_in_parts),
        cmocka_unit_test(test_204_no_body),
        cmocka_unit_test(test_keepalive_reuse),
        cmocka_unit_test(test_pipelining),
        cmocka_unit_test(test_413_body_too_large),
        cmocka_unit_test(test_431_header_too_large),
        cmocka_unit_test(test_400_garbage),
        cmocka_unit_test(test_header_timeout),
        cmocka_unit_test(test_connect_failure),
        cmocka_unit_test(test_read_timeout),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_retry_stale_keepalive),
        cmocka_unit_test(test_tls),
        cmocka_unit_test(test_many_concurrent),
        cmocka_unit_test(test_max_connections),
        cmocka_unit_test(test_graceful_stop),
        cmocka_unit_test(test_respond_contract),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
