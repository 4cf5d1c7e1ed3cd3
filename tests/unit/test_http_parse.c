/*
 * Tests of the HTTP/1.x parser layer (net/http_parse.h) on its own, fed
 * the way a connection feeds it: one contiguous stream, in reads that end
 * wherever the test says, parsing on after each complete message.  The
 * heads are what the broker's agents and TAMs send; the rest is what
 * llhttp in strict mode refuses or treats differently from http-parser.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_parse.h"

#define MAX_MSGS 8

/* One parsed message, copied out at on_head / on_body time. */
typedef struct msg {
    char start[64]; /* method + target, or the status */
    char fields[512];
    size_t field_count;
    int64_t content_length;
    bool chunked;
    bool keep_alive;
    bool upgrade;
    bool expect_continue;
    int http_minor;
    char body[2048];
    size_t body_len;
} msg_t;

typedef struct run {
    teep_http__parser_t p;
    msg_t msgs[MAX_MSGS];
    size_t heads; /* on_head calls */
    size_t done;  /* TEEP_HTTP__DONE results */
    int head_rc;  /* on_head's answer */
    int body_rc;  /* on_body's answer */
    int rc;       /* the last non-zero result */
    size_t fed;   /* bytes consumed */
} run_t;

static void span_copy(char *dst, size_t cap, const teep_http__parser_t *p,
                      teep_http__span_t s)
{
    teep_slice_t v = teep_http__span_slice(p->base, s);
    size_t used = strlen(dst);
    assert_true(used + v.len + 1 < cap);
    memcpy(dst + used, v.ptr, v.len);
    dst[used + v.len] = '\0';
}

static int on_head(void *ctx)
{
    run_t *r = ctx;
    const teep_http__head_t *h = &r->p.head;
    assert_true(r->heads < MAX_MSGS);
    msg_t *m = &r->msgs[r->heads++];
    memset(m, 0, sizeof(*m));
    if (h->method != NULL) {
        snprintf(m->start, sizeof(m->start), "%s ", h->method);
        span_copy(m->start, sizeof(m->start), &r->p, h->target);
    } else {
        snprintf(m->start, sizeof(m->start), "%d", h->status);
    }
    for (size_t i = 0; i < h->field_count; i++) {
        span_copy(m->fields, sizeof(m->fields), &r->p, h->fields[i].name);
        strcat(m->fields, "=");
        span_copy(m->fields, sizeof(m->fields), &r->p, h->fields[i].value);
        strcat(m->fields, ";");
    }
    m->field_count = h->field_count;
    m->content_length = h->content_length;
    m->chunked = h->chunked;
    m->keep_alive = h->keep_alive;
    m->upgrade = h->upgrade;
    m->expect_continue = h->expect_continue;
    m->http_minor = h->http_minor;
    return r->head_rc;
}

static int on_body(void *ctx, const uint8_t *at, size_t len)
{
    run_t *r = ctx;
    assert_true(r->heads > 0);
    msg_t *m = &r->msgs[r->heads - 1];
    if (r->body_rc != 0)
        return r->body_rc;
    assert_true(m->body_len + len <= sizeof(m->body));
    memcpy(m->body + m->body_len, at, len);
    m->body_len += len;
    return 0;
}

static const teep_http__parse_cbs_t cbs = {on_head, on_body};

static void run_init(run_t *r, int type, size_t max_head, size_t max_fields)
{
    memset(r, 0, sizeof(*r));
    teep_http__parser_init(&r->p, type, max_head, max_fields, &cbs, r);
}

/* Feed data[0..n) in reads ending at each multiple of step (and at n),
 * going on after every complete message, as net/conn.c does; stop at an
 * error.  eof: then report the end of the stream.  Returns the last
 * non-zero result (TEEP_HTTP__DONE or an error) or 0. */
static int feed(run_t *r, const char *data, size_t n, size_t step, bool eof)
{
    const uint8_t *d = (const uint8_t *)data;
    size_t pos = 0;
    size_t avail = 0;
    int last = 0;
    /* Each round consumes at least a byte: bounded by n + 1. */
    for (size_t round = 0; round <= n; round++) {
        if (pos == avail) {
            if (avail == n)
                break;
            avail = avail + step < n ? avail + step : n;
        }
        size_t want = avail - pos;
        size_t used = 99999;
        int rc = teep_http__parse(&r->p, d + pos, want, &used);
        assert_true(used <= want);
        pos += used;
        if (rc < 0) {
            r->rc = rc;
            r->fed = pos;
            return rc;
        }
        if (rc == TEEP_HTTP__DONE) {
            assert_true(used > 0);
            r->done++;
            last = rc;
        } else {
            assert_int_equal(rc, 0);
            assert_int_equal(used, want); /* need more: took it all */
        }
    }
    r->fed = pos;
    if (eof) {
        int rc = teep_http__parse_eof(&r->p);
        if (rc == TEEP_HTTP__DONE)
            r->done++;
        if (rc != 0)
            last = rc;
    }
    r->rc = last;
    return last;
}

/* What the broker relays: agent requests and TAM answers, pipelined. */
static const char pipelined[] =
    "POST /tam HTTP/1.1\r\nHost: 127.0.0.1:8088\r\n"
    "Content-Type: application/teep+cbor\r\nAccept: application/teep+cbor\r\n"
    "User-Agent: teep-bench\r\nContent-Length: 7\r\n\r\nmessage"
    "POST /tam HTTP/1.1\r\nHost: b\r\nContent-Length: 0\r\n\r\n"
    "\r\n" /* a stray CRLF between messages is allowed (RFC 9112 2.2) */
    "POST /tam?x=1 HTTP/1.1\r\nHost: c\r\nTransfer-Encoding: chunked\r\n\r\n"
    "3\r\nabc\r\n4;ext=\"v\"\r\ndefg\r\n0\r\n\r\n"
    "GET /healthz HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n";

static void check_pipelined(const run_t *r)
{
    assert_int_equal(r->done, 4);
    assert_int_equal(r->heads, 4);
    const msg_t *m = r->msgs;
    assert_string_equal(m[0].start, "POST /tam");
    assert_string_equal(m[0].fields,
                        "Host=127.0.0.1:8088;Content-Type=application/"
                        "teep+cbor;Accept=application/teep+cbor;User-Agent="
                        "teep-bench;Content-Length=7;");
    assert_int_equal(m[0].content_length, 7);
    assert_true(m[0].keep_alive);
    assert_int_equal(m[0].body_len, 7);
    assert_memory_equal(m[0].body, "message", 7);
    assert_int_equal(m[1].content_length, 0);
    assert_int_equal(m[1].body_len, 0);
    assert_string_equal(m[2].start, "POST /tam?x=1");
    assert_true(m[2].chunked);
    assert_int_equal(m[2].content_length, -1);
    assert_int_equal(m[2].body_len, 7);
    assert_memory_equal(m[2].body, "abcdefg", 7);
    assert_string_equal(m[3].start, "GET /healthz");
    assert_false(m[3].keep_alive);
    assert_int_equal(r->fed, sizeof(pipelined) - 1);
}

/* Four pipelined requests, the stream cut into reads of every size from
 * one byte to all of it: every byte boundary falls inside some read and at
 * the end of another. */
static void test_pipelined_every_split(void **state)
{
    size_t n = sizeof(pipelined) - 1;
    for (size_t step = 1; step <= n; step++) {
        run_t r;
        run_init(&r, TEEP_HTTP__REQUEST, 1024, 16);
        assert_int_equal(feed(&r, pipelined, n, step, true), TEEP_HTTP__DONE);
        check_pipelined(&r);
    }
}

/* Two reads, cut at every byte: the second read starts wherever the
 * first ended (head, body, chunk framing, between messages). */
static void test_pipelined_every_cut(void **state)
{
    size_t n = sizeof(pipelined) - 1;
    const uint8_t *d = (const uint8_t *)pipelined;
    for (size_t cut = 0; cut <= n; cut++) {
        run_t r;
        run_init(&r, TEEP_HTTP__REQUEST, 1024, 16);
        size_t pos = 0;
        size_t avail = cut;
        for (int i = 0; i < 32 && pos < n; i++) {
            size_t used;
            int rc = teep_http__parse(&r.p, d + pos, avail - pos, &used);
            assert_true(rc >= 0);
            pos += used;
            if (rc == TEEP_HTTP__DONE)
                r.done++;
            else if (pos == avail)
                avail = n;
        }
        r.fed = pos;
        check_pipelined(&r);
    }
}

/* An incomplete head moved to another buffer (the connection does this
 * when its read buffer fills): spans stay relative to the head. */
static void test_head_moved(void **state)
{
    static const char msg[] =
        "POST /tam HTTP/1.1\r\nHost: a\r\n"
        "X-Long: 0123456789\r\nContent-Length: 2\r\n\r\nok";
    size_t n = sizeof(msg) - 1;
    for (size_t cut = 1; cut < n - 4; cut++) {
        run_t r;
        run_init(&r, TEEP_HTTP__REQUEST, 1024, 16);
        char first[128], second[160];
        memset(first, 'Z', sizeof(first));
        memset(second, 'Y', sizeof(second));
        memcpy(first + 5, msg, cut);
        size_t used;
        int rc = teep_http__parse(&r.p, (const uint8_t *)first + 5, cut, &used);
        assert_int_equal(rc, 0);
        assert_int_equal(used, cut);
        if (r.p.state != TEEP_HTTP__HEAD)
            continue; /* the head was complete: nothing to move */
        /* The head so far to a new place, the rest read after it. */
        memcpy(second + 17, msg, n);
        memset(first, 'Z', sizeof(first));
        teep_http__parse_rebase(&r.p, (const uint8_t *)second + 17);
        rc = teep_http__parse(&r.p, (const uint8_t *)second + 17 + cut, n - cut,
                              &used);
        assert_int_equal(rc, TEEP_HTTP__DONE);
        assert_int_equal(used, n - cut);
        assert_string_equal(r.msgs[0].start, "POST /tam");
        assert_string_equal(r.msgs[0].fields,
                            "Host=a;X-Long=0123456789;Content-Length=2;");
        assert_memory_equal(r.msgs[0].body, "ok", 2);
    }
}

/* max_head_size counts the start line and fields, whether the head
 * arrives at once or a byte at a time; max_fields the fields. */
static void test_limits(void **state)
{
    static const char head[] = "GET /abcdefghij HTTP/1.1\r\nHost: tam\r\n"
                               "Accept: application/teep+cbor\r\n\r\n";
    size_t n = sizeof(head) - 1;
    size_t steps[] = {1, 7, n};
    for (size_t i = 0; i < 3; i++) {
        run_t r;
        run_init(&r, TEEP_HTTP__REQUEST, n, 16);
        assert_int_equal(feed(&r, head, n, steps[i], false), TEEP_HTTP__DONE);
        run_init(&r, TEEP_HTTP__REQUEST, n - 5, 16);
        assert_int_equal(feed(&r, head, n, steps[i], false),
                         TEEP_HTTP_E_HEADER_TOO_LARGE);
        assert_int_equal(r.heads, 0);
        /* Two fields allowed, two sent; then one allowed. */
        run_init(&r, TEEP_HTTP__REQUEST, 1024, 2);
        assert_int_equal(feed(&r, head, n, steps[i], false), TEEP_HTTP__DONE);
        run_init(&r, TEEP_HTTP__REQUEST, 1024, 1);
        assert_int_equal(feed(&r, head, n, steps[i], false),
                         TEEP_HTTP_E_HEADER_TOO_LARGE);
    }
    /* Endless spaces in a head fire no callback: still counted. */
    char big[600];
    memcpy(big, "GET / HTTP/1.1\r\nX: a", 20);
    memset(big + 20, ' ', sizeof(big) - 20);
    run_t r;
    run_init(&r, TEEP_HTTP__REQUEST, 256, 16);
    assert_int_equal(feed(&r, big, sizeof(big), 64, false),
                     TEEP_HTTP_E_HEADER_TOO_LARGE);
    /* The limit is TEEP_HTTP_MAX_HEADERS whatever the caller asks. */
    run_init(&r, TEEP_HTTP__REQUEST, 1024, 1000);
    assert_int_equal(r.p.max_fields, TEEP_HTTP_MAX_HEADERS);
}

/* A chunked answer with extensions and trailer fields (dropped, counted
 * against the head limits), then the next answer on the connection. */
static void test_chunked_response(void **state)
{
    static const char resp[] =
        "HTTP/1.1 200 OK\r\nContent-Type: application/teep+cbor\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
        "5;a=b\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\n"
        "Digest: x\r\nServer-Timing: y\r\n\r\n"
        "HTTP/1.1 204 No Content\r\n\r\n";
    size_t n = sizeof(resp) - 1;
    for (size_t step = 1; step <= n; step++) {
        run_t r;
        run_init(&r, TEEP_HTTP__RESPONSE, 1024, 16);
        assert_int_equal(feed(&r, resp, n, step, true), TEEP_HTTP__DONE);
        assert_int_equal(r.done, 2);
        assert_string_equal(r.msgs[0].start, "200");
        assert_true(r.msgs[0].chunked);
        assert_int_equal(r.msgs[0].field_count, 2); /* no trailers */
        assert_int_equal(r.msgs[0].body_len, 11);
        assert_memory_equal(r.msgs[0].body, "hello world", 11);
        assert_string_equal(r.msgs[1].start, "204");
        assert_int_equal(r.msgs[1].body_len, 0);
    }
    /* A body longer than the head limit before the trailers: fine, the
     * trailers are not a head. */
    char big[2200];
    int len = snprintf(big, sizeof(big),
                       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "7d0\r\n");
    memset(big + len, 'b', 2000);
    len += 2000;
    len +=
        snprintf(big + len, sizeof(big) - (size_t)len, "\r\n0\r\nX: 1\r\n\r\n");
    run_t r;
    run_init(&r, TEEP_HTTP__RESPONSE, 256, 16);
    assert_int_equal(feed(&r, big, (size_t)len, 100, false), TEEP_HTTP__DONE);
    assert_int_equal(r.msgs[0].body_len, 2000);
    /* Trailers over the limits: too many, too large. */
    static const char many[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked"
                               "\r\n\r\n0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
    run_init(&r, TEEP_HTTP__RESPONSE, 1024, 2);
    assert_int_equal(feed(&r, many, sizeof(many) - 1, 1000, false),
                     TEEP_HTTP_E_HEADER_TOO_LARGE);
    run_init(&r, TEEP_HTTP__RESPONSE, 60, 16);
    char huge[200];
    len = snprintf(huge, sizeof(huge),
                   "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "0\r\nX: %080d\r\n\r\n",
                   0);
    assert_int_equal(feed(&r, huge, (size_t)len, 1000, false),
                     TEEP_HTTP_E_HEADER_TOO_LARGE);
    /* Chunk data must end with CRLF (strict mode), sizes too. */
    static const char nocrlf[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: "
                                 "chunked\r\n\r\n3\r\nabcXX0\r\n\r\n";
    run_init(&r, TEEP_HTTP__RESPONSE, 1024, 16);
    assert_int_equal(feed(&r, nocrlf, sizeof(nocrlf) - 1, 1000, false),
                     TEEP_HTTP_E_MALFORMED);
    static const char lf[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: "
                             "chunked\r\n\r\n3\nabc\r\n0\r\n\r\n";
    run_init(&r, TEEP_HTTP__RESPONSE, 1024, 16);
    assert_int_equal(feed(&r, lf, sizeof(lf) - 1, 1000, false),
                     TEEP_HTTP_E_MALFORMED);
}

/* The answer to HEAD has no body whatever Content-Length says: on_head's
 * TEEP_HTTP__SKIP_BODY, and the next answer follows at once. */
static void test_head_response(void **state)
{
    static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
                               "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    size_t n = sizeof(resp) - 1;
    for (size_t step = 1; step <= n; step++) {
        run_t r;
        run_init(&r, TEEP_HTTP__RESPONSE, 1024, 16);
        r.head_rc = TEEP_HTTP__SKIP_BODY;
        size_t used;
        size_t first = 38; /* the first head */
        assert_int_equal(feed(&r, resp, first, step, false), TEEP_HTTP__DONE);
        assert_int_equal(r.msgs[0].content_length, 5);
        assert_int_equal(r.msgs[0].body_len, 0);
        r.head_rc = 0;
        int rc = teep_http__parse(&r.p, (const uint8_t *)resp + first,
                                  n - first, &used);
        assert_int_equal(rc, TEEP_HTTP__DONE);
        assert_int_equal(used, n - first);
        assert_memory_equal(r.msgs[1].body, "ok", 2);
    }
}

/* A response without Content-Length or chunked ends with the connection;
 * other messages cut by the end of the stream are RESET. */
static void test_eof(void **state)
{
    static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Type: x\r\n\r\n"
                               "the body until the close";
    size_t n = sizeof(resp) - 1;
    for (size_t step = 1; step <= n; step++) {
        run_t r;
        run_init(&r, TEEP_HTTP__RESPONSE, 1024, 16);
        assert_int_equal(feed(&r, resp, n, step, true), TEEP_HTTP__DONE);
        assert_int_equal(r.done, 1);
        assert_false(r.msgs[0].keep_alive);
        assert_int_equal(r.msgs[0].body_len, 24);
        assert_memory_equal(r.msgs[0].body, "the body until the close", 24);
        /* Afterwards, and at any EOF between messages: nothing. */
        assert_int_equal(teep_http__parse_eof(&r.p), 0);
    }
    /* A response Transfer-Encoding other than chunked: also to the close. */
    static const char gz[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n"
                             "\r\nzz";
    run_t r;
    run_init(&r, TEEP_HTTP__RESPONSE, 1024, 16);
    assert_int_equal(feed(&r, gz, sizeof(gz) - 1, 1000, true), TEEP_HTTP__DONE);
    assert_int_equal(r.msgs[0].body_len, 2);
    static const char *cut[] = {
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc", /* short body */
        "HTTP/1.1 200 OK\r\nContent-Le",                   /* in the head */
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab",
        "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 2", /* the second head */
    };
    for (size_t i = 0; i < 4; i++) {
        run_init(&r, TEEP_HTTP__RESPONSE, 1024, 16);
        assert_int_equal(feed(&r, cut[i], strlen(cut[i]), 1000, true),
                         TEEP_HTTP_E_RESET);
        /* The error sticks. */
        size_t used;
        assert_int_equal(teep_http__parse(&r.p, (const uint8_t *)"x", 1, &used),
                         TEEP_HTTP_E_RESET);
        assert_int_equal(used, 0);
    }
    /* Nothing at all, or a complete exchange: a clean end. */
    run_init(&r, TEEP_HTTP__REQUEST, 1024, 16);
    assert_int_equal(teep_http__parse_eof(&r.p), 0);
    static const char req[] = "GET / HTTP/1.1\r\nHost: a\r\n\r\n\r\n";
    run_init(&r, TEEP_HTTP__REQUEST, 1024, 16);
    assert_int_equal(feed(&r, req, sizeof(req) - 1, 1000, true),
                     TEEP_HTTP__DONE);
    assert_int_equal(teep_http__parse_eof(&r.p), 0);
}

/* Keep-alive, upgrade and 100-continue as the server and client see them. */
static void test_connection_semantics(void **state)
{
    static const struct {
        const char *msg;
        bool keep_alive, upgrade, expect;
    } cases[] = {
        {"GET / HTTP/1.1\r\n\r\n", true, false, false},
        {"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", false, false, false},
        {"GET / HTTP/1.0\r\n\r\n", false, false, false},
        {"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true, false,
         false},
        {"GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
         false, true, false},
        {"CONNECT tam:443 HTTP/1.1\r\nHost: tam:443\r\n\r\n", false, true,
         false},
        {"POST / HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n"
         "x",
         true, false, true},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        run_t r;
        run_init(&r, TEEP_HTTP__REQUEST, 1024, 16);
        assert_int_equal(
            feed(&r, cases[i].msg, strlen(cases[i].msg), 1000, false),
            TEEP_HTTP__DONE);
        assert_int_equal(r.msgs[0].keep_alive, cases[i].keep_alive);
        assert_int_equal(r.msgs[0].upgrade, cases[i].upgrade);
        assert_int_equal(r.msgs[0].expect_continue, cases[i].expect);
    }
    /* Bytes after an upgrade or after Connection: close are not HTTP any
     * more: refused if the owner feeds them anyway. */
    static const char *after[] = {
        "GET / HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: x\r\n\r\nGET",
        "GET / HTTP/1.1\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\n\r\n",
    };
    for (size_t i = 0; i < 2; i++) {
        run_t r;
        run_init(&r, TEEP_HTTP__REQUEST, 1024, 16);
        assert_int_equal(feed(&r, after[i], strlen(after[i]), 1000, false),
                         TEEP_HTTP_E_MALFORMED);
        assert_int_equal(r.done, 1);
    }
    /* 100 Continue, then the answer, as a client reads them. */
    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n"
                               "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nz";
    run_t r;
    run_init(&r, TEEP_HTTP__RESPONSE, 1024, 16);
    assert_int_equal(feed(&r, cont, sizeof(cont) - 1, 5, false),
                     TEEP_HTTP__DONE);
    assert_int_equal(r.done, 2);
    assert_string_equal(r.msgs[0].start, "100");
    assert_string_equal(r.msgs[1].start, "200");
}

/* What strict llhttp plus this layer refuse: each one a way two parsers
 * could disagree on where a message ends or what a field says. */
static void test_refused(void **state)
{
    static const char *bad_requests[] = {
        /* obs-fold, folding a value or making the whole value */
        "GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n",
        "GET / HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n",
        "GET / HTTP/1.1\r\nX:\r\n b\r\n\r\n",
        "GET / HTTP/1.1\r\nX:  \r\n  b\r\n\r\n",
        "GET / HTTP/1.1\r\nX:\r\n\tb\r\nY: c\r\n\r\n",
        "GET / HTTP/1.1\r\nX: a \r\n b \r\n\r\n",
        "GET / HTTP/1.1\r\n X: a\r\n\r\n",
        /* bare LF or bare CR inside the fields */
        "GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n",
        /* an empty field name, first or last */
        "GET / HTTP/1.1\r\n: x\r\nHost: a\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\n:x\r\n\r\n",
        /* whitespace in or after a field name */
        "GET / HTTP/1.1\r\nHost : a\r\n\r\n",
        "GET / HTTP/1.1\r\nHo st: a\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length : 3\r\n\r\nabc",
        /* ambiguous body framing */
        "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked"
        "\r\n\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3"
        "\r\n\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
        "POST / HTTP/1.1\r\nContent-Length: 3, 3\r\n\r\nabc",
        "POST / HTTP/1.1\r\nContent-Length: +3\r\n\r\nabc",
        "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
        /* control bytes, versions other than 1.x, not HTTP */
        "GET / HTTP/1.1\r\nX: a\001b\r\n\r\n",
        "GET /a\001 HTTP/1.1\r\n\r\n",
        "GET / HTTP/2.0\r\n\r\n",
        "GET / HTTP/1.2\r\n\r\n",
        "GET /\r\n\r\n",
        "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
        "\001\002",
    };
    for (size_t i = 0; i < sizeof(bad_requests) / sizeof(bad_requests[0]);
         i++) {
        size_t n = strlen(bad_requests[i]);
        for (size_t step = 1; step <= n; step++) {
            run_t r;
            run_init(&r, TEEP_HTTP__REQUEST, 1024, 16);
            int rc = feed(&r, bad_requests[i], n, step, false);
            if (rc != TEEP_HTTP_E_MALFORMED)
                fail_msg("request %zu step %zu: %d, want MALFORMED", i, step,
                         rc);
        }
    }
    static const char *bad_responses[] = {
        "HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\n:ontent-Type: a\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked"
        "\r\n\r\n0\r\n\r\n",
        "HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/0.9 200 OK\r\n\r\n",
        "HTTP/1.1 2000 OK\r\n\r\n",
        "RTSP/1.0 200 OK\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(bad_responses) / sizeof(bad_responses[0]);
         i++) {
        size_t n = strlen(bad_responses[i]);
        for (size_t step = 1; step <= n; step++) {
            run_t r;
            run_init(&r, TEEP_HTTP__RESPONSE, 1024, 16);
            int rc = feed(&r, bad_responses[i], n, step, true);
            if (rc != TEEP_HTTP_E_MALFORMED)
                fail_msg("response %zu step %zu: %d, want MALFORMED", i, step,
                         rc);
        }
    }
}

/* What is accepted though a stricter reading could refuse it (RFC 9112
 * lets a recipient take a bare LF as a line end): LF ending the start
 * line or the head, OWS around values, obs-text in values. */
static void test_accepted(void **state)
{
    static const struct {
        const char *msg;
        const char *fields;
    } ok[] = {
        {"GET / HTTP/1.1\nHost: a\r\n\r\n", "Host=a;"},
        {"GET / HTTP/1.1\r\nHost: a\r\n\n", "Host=a;"},
        {"GET / HTTP/1.1\r\nX:   a b\t \r\nY:\r\n\r\n", "X=a b\t ;Y=;"},
        {"GET / HTTP/1.1\r\nY:  \r\nZ:\t\r\nX: 1\r\n\r\n", "Y=;Z=;X=1;"},
        {"GET / HTTP/1.1\r\nX: caf\xc3\xa9\r\n\r\n", "X=caf\xc3\xa9;"},
        {"\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", "Host=a;"},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        for (size_t step = 1; step <= strlen(ok[i].msg); step++) {
            run_t r;
            run_init(&r, TEEP_HTTP__REQUEST, 1024, 16);
            int rc = feed(&r, ok[i].msg, strlen(ok[i].msg), step, true);
            if (rc != TEEP_HTTP__DONE)
                fail_msg("case %zu step %zu: %d", i, step, rc);
            assert_string_equal(r.msgs[0].fields, ok[i].fields);
        }
    }
    static const char lf_status[] =
        "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n";
    run_t r;
    run_init(&r, TEEP_HTTP__RESPONSE, 1024, 16);
    assert_int_equal(feed(&r, lf_status, sizeof(lf_status) - 1, 3, false),
                     TEEP_HTTP__DONE);
}

/* A callback's error stops the parse and is what parse returns, for good. */
static void test_callback_errors(void **state)
{
    static const char req[] = "POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc";
    run_t r;
    run_init(&r, TEEP_HTTP__REQUEST, 1024, 16);
    r.head_rc = TEEP_HTTP_E_BODY_TOO_LARGE;
    assert_int_equal(feed(&r, req, sizeof(req) - 1, 1000, false),
                     TEEP_HTTP_E_BODY_TOO_LARGE);
    size_t used;
    assert_int_equal(teep_http__parse(&r.p, (const uint8_t *)"x", 1, &used),
                     TEEP_HTTP_E_BODY_TOO_LARGE);
    assert_int_equal(teep_http__parse_eof(&r.p), TEEP_HTTP_E_BODY_TOO_LARGE);
    run_init(&r, TEEP_HTTP__REQUEST, 1024, 16);
    r.body_rc = -ENOMEM;
    assert_int_equal(feed(&r, req, sizeof(req) - 1, 2, false), -ENOMEM);
    assert_int_equal(r.heads, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pipelined_every_split),
        cmocka_unit_test(test_pipelined_every_cut),
        cmocka_unit_test(test_head_moved),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_chunked_response),
        cmocka_unit_test(test_head_response),
        cmocka_unit_test(test_eof),
        cmocka_unit_test(test_connection_semantics),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_accepted),
        cmocka_unit_test(test_callback_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
