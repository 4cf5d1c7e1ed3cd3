/*
 * test_coap_transport.c: the CoAP transport plugin through the plugin
 * loader, with a canned TAM as host (coap_harness.h), driven by the real
 * coap-client and by raw datagrams.  Everything on 127.0.0.1 (and
 * 127.0.0.2 as a second source), ephemeral ports, bounded timeouts.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "coap_harness.h"
#include "vectors.h"

#define CLIENT_TIMEOUT_MS 20000
#define TEEP_FORMAT       "65060"

/* CoAP codes as the one byte of the header. */
#define CODE(c, d) ((c) << 5 | (d))

static char tmpdir[256];

static const char *tmp_path(const char *name)
{
    static char paths[8][512];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, 512, "%s/%s", tmpdir, name);
    return p;
}

static void write_file(const char *path, const uint8_t *d, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(d, 1, n, f), n);
    fclose(f);
}

static uint8_t *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    *n = 0;
    if (f == NULL)
        return NULL;
    uint8_t *d = malloc(1 << 20);
    *n = fread(d, 1, 1 << 20, f);
    fclose(f);
    return d;
}

static void assert_file_equals(const char *path, const uint8_t *d, size_t n)
{
    size_t got;
    uint8_t *b = read_file(path, &got);
    assert_non_null(b);
    assert_int_equal(got, n);
    assert_memory_equal(b, d, n);
    free(b);
}

static char *url(const harness_t *h, const char *path)
{
    static char u[4][512];
    static int next;
    char *p = u[next++ % 4];
    snprintf(p, 512, "%s%s", h->uri, path);
    return p;
}

static void start_ok(harness_t *h, const char *uri, const char *const *opts)
{
    assert_int_equal(harness_start(h, uri, opts), 0);
}

/* ------------------------------------------------- exchanges, CON/NON */

static void empty_post(bool non)
{
    harness_t h;
    start_ok(&h, "coap://127.0.0.1:0", NULL);
    client_run_t *r = malloc(sizeof(*r));
    const char *out = tmp_path(non ? "qr_non" : "qr_con");
    unlink(out);
    const char *u = url(&h, "/tam");
    const char *argv[] = {"c", "-m",           "post",         "-o",
                          out, non ? "-N" : u, non ? u : NULL, NULL};
    assert_int_equal(client_run(&h, r, argv, CLIENT_TIMEOUT_MS), 0);
    assert_file_equals(out, h.qr, h.qr_len);
    assert_int_equal(h.submissions, 1);
    assert_string_equal(h.last_route, "");
    assert_int_equal(h.last_body_len, 0);
    assert_int_equal(harness_counter(&h, "coap_separate_responses"), 1);
    free(r);
    harness_stop(&h);
}

static void test_empty_post_con(void **state)
{
    (void)state;
    empty_post(false);
}

static void test_empty_post_non(void **state)
{
    (void)state;
    empty_post(true);
}

static void test_message_post(void **state)
{
    (void)state;
    harness_t h;
    start_ok(&h, "coap://127.0.0.1:0", NULL);
    size_t qres_len;
    uint8_t *qres = vector_load_hex(
        "gen_tp26_query_response_cose_sign1_esp256.hex", &qres_len);
    assert_non_null(qres);
    const char *in = tmp_path("qres"), *out = tmp_path("update");
    write_file(in, qres, qres_len);
    unlink(out);
    client_run_t *r = malloc(sizeof(*r));
    const char *argv[] = {"c",  "-m", "post", "-t", TEEP_FORMAT,
                          "-f", in,   "-o",   out,  url(&h, "/tam"),
                          NULL};
    assert_int_equal(client_run(&h, r, argv, CLIENT_TIMEOUT_MS), 0);
    assert_file_equals(out, h.update, h.update_len);
    assert_int_equal(h.last_body_len, qres_len);
    assert_int_equal(harness_counter(&h, "payload_copied_bytes"), qres_len);
    assert_int_equal(harness_counter(&h, "host_buffer_bytes"), qres_len);
    free(qres);
    free(r);
    harness_stop(&h);
}

static void test_no_content_and_routes(void **state)
{
    (void)state;
    harness_t h;
    start_ok(&h, "coap://127.0.0.1:0", NULL);
    client_run_t *r = malloc(sizeof(*r));
    const char *none[] = {"c", "-m", "post", url(&h, "/tam/none"), NULL};
    assert_int_equal(client_run(&h, r, none, CLIENT_TIMEOUT_MS), 0);
    assert_string_equal(h.last_route, "none");
    assert_int_equal(harness_counter(&h, "coap_2_04_empty"), 1);
    const char *unknown[] = {"c", "-m", "post", url(&h, "/tam/nosuch"), NULL};
    client_run(&h, r, unknown, CLIENT_TIMEOUT_MS);
    assert_non_null(strstr(r->stderr_buf, "4.04"));
    unsigned seen = h.submissions;
    /* Not under the prefix, or two segments deep: the transport's 4.04. */
    const char *other[] = {"c", "-m", "post", url(&h, "/elsewhere"), NULL};
    client_run(&h, r, other, CLIENT_TIMEOUT_MS);
    assert_non_null(strstr(r->stderr_buf, "4.04"));
    const char *deep[] = {"c", "-m", "post", url(&h, "/tam/a/b"), NULL};
    client_run(&h, r, deep, CLIENT_TIMEOUT_MS);
    assert_non_null(strstr(r->stderr_buf, "4.04"));
    assert_int_equal(h.submissions, seen);
    free(r);
    harness_stop(&h);
}

/* ---------------------------------------------------------- block-wise */

static void test_blockwise_both_ways(void **state)
{
    (void)state;
    harness_t h;
    start_ok(&h, "coap://127.0.0.1:0", NULL);
    uint8_t body[3000];
    for (size_t i = 0; i < sizeof(body); i++)
        body[i] = (uint8_t)(i * 31 + 5);
    const char *in = tmp_path("body3k"), *out = tmp_path("echo3k");
    write_file(in, body, sizeof(body));
    unlink(out);
    client_run_t *r = malloc(sizeof(*r));
    const char *argv[] = {"c",  "-m", "post",      "-b",
                          "64", "-t", TEEP_FORMAT, "-f",
                          in,   "-o", out,         url(&h, "/tam/echo"),
                          NULL};
    assert_int_equal(client_run(&h, r, argv, CLIENT_TIMEOUT_MS), 0);
    assert_file_equals(out, body, sizeof(body));
    assert_int_equal(h.submissions, 1);
    assert_int_equal(h.last_body_len, sizeof(body));
    assert_int_equal(harness_counter(&h, "coap_block1"), 47);
    assert_int_equal(harness_counter(&h, "payload_copied_bytes"), sizeof(body));
    /* Block2 alone: an empty POST whose answer is 3000 bytes, NON (a
     * libcoap 4.3.1 client drops a separate CON response carrying Block2
     * unless its request was block-wise itself: docs/transport-coap.md,
     * "Clients"). */
    const char *big = tmp_path("big");
    unlink(big);
    const char *argv2[] = {
        "c", "-N", "-m", "post", "-b", "64", "-o", big, url(&h, "/tam/big"),
        NULL};
    assert_int_equal(client_run(&h, r, argv2, CLIENT_TIMEOUT_MS), 0);
    size_t n;
    uint8_t *got = read_file(big, &n);
    assert_int_equal(n, 3000);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(got[i], (uint8_t)(i * 7 + 3));
    free(got);
    free(r);
    harness_stop(&h);
}

/* ------------------------------------------------------ refusals */

static void test_content_format(void **state)
{
    (void)state;
    harness_t h;
    start_ok(&h, "coap://127.0.0.1:0", NULL);
    const char *in = tmp_path("small");
    write_file(in, (const uint8_t *)"\x84\x01", 2);
    client_run_t *r = malloc(sizeof(*r));
    const char *cbor[] = {"c",  "-m", "post",          "-t", "60",
                          "-f", in,   url(&h, "/tam"), NULL};
    client_run(&h, r, cbor, CLIENT_TIMEOUT_MS);
    assert_non_null(strstr(r->stderr_buf, "4.15"));
    const char *none[] = {"c", "-m", "post", "-f", in, url(&h, "/tam"), NULL};
    client_run(&h, r, none, CLIENT_TIMEOUT_MS);
    assert_non_null(strstr(r->stderr_buf, "4.15"));
    const char *accept[] = {"c", "-m", "post", "-A", "60", url(&h, "/tam"),
                            NULL};
    client_run(&h, r, accept, CLIENT_TIMEOUT_MS);
    assert_non_null(strstr(r->stderr_buf, "4.06"));
    /* The empty POST may name the TEEP format too. */
    const char *named[] = {
        "c", "-m", "post", "-t", TEEP_FORMAT, url(&h, "/tam/none"), NULL};
    assert_int_equal(client_run(&h, r, named, CLIENT_TIMEOUT_MS), 0);
    assert_int_equal(h.submissions, 1);
    assert_int_equal(harness_counter(&h, "coap_4_15"), 2);
    free(r);
    harness_stop(&h);
}

static void test_too_large(void **state)
{
    (void)state;
    harness_t h;
    const char *opts[] = {"max_body", "1024", NULL};
    start_ok(&h, "coap://127.0.0.1:0", opts);
    uint8_t body[2000];
    memset(body, 0x42, sizeof(body));
    const char *in = tmp_path("body2k");
    write_file(in, body, sizeof(body));
    client_run_t *r = malloc(sizeof(*r));
    const char *b64[] = {"c",  "-m",        "post", "-b", "64",
                         "-t", TEEP_FORMAT, "-f",   in,   url(&h, "/tam/echo"),
                         NULL};
    client_run(&h, r, b64, CLIENT_TIMEOUT_MS);
    assert_non_null(strstr(r->stderr_buf, "4.13"));
    const char *plain[] = {"c",         "-m", "post", "-t",
                           TEEP_FORMAT, "-f", in,     url(&h, "/tam/echo"),
                           NULL};
    client_run(&h, r, plain, CLIENT_TIMEOUT_MS);
    assert_non_null(strstr(r->stderr_buf, "4.13"));
    assert_int_equal(h.submissions, 0);
    free(r);
    harness_stop(&h);
}

static void test_overload_and_timeout(void **state)
{
    (void)state;
    harness_t h;
    const char *opts[] = {"max_pending", "1", NULL};
    start_ok(&h, "coap://127.0.0.1:0", opts);
    client_run_t *r = malloc(sizeof(*r));
    const char *busy[] = {"c", "-v", "7", "-m", "post", url(&h, "/tam/busy"),
                          NULL};
    client_run(&h, r, busy, CLIENT_TIMEOUT_MS);
    assert_non_null(strstr(r->stderr_buf, "5.03"));
    assert_non_null(strstr(r->stdout_buf, "Max-Age:7"));
    const char *slow[] = {"c", "-m", "post", url(&h, "/tam/slow"), NULL};
    client_run(&h, r, slow, CLIENT_TIMEOUT_MS);
    assert_non_null(strstr(r->stderr_buf, "5.04"));
    /* The transport's own bound: one exchange at the TAM at a time. */
    h.delay_ms = 1500;
    client_run_t *first = malloc(sizeof(*first));
    const char *a[] = {"c", "-m", "post", url(&h, "/tam/none"), NULL};
    assert_int_equal(client_start(&h, first, a, CLIENT_TIMEOUT_MS), 0);
    harness_run_for(&h, 300);
    const char *b[] = {"c", "-v", "7", "-m", "post", url(&h, "/tam/none"),
                       NULL};
    client_run(&h, r, b, CLIENT_TIMEOUT_MS);
    assert_non_null(strstr(r->stderr_buf, "5.03"));
    assert_non_null(strstr(r->stdout_buf, "Max-Age:2"));
    client_wait(&h, first);
    assert_int_equal(first->exit_status, 0);
    free(first);
    free(r);
    harness_stop(&h);
}

static void test_port_in_use(void **state)
{
    (void)state;
    /* What libcoap itself does: SO_REUSEADDR, then bind. */
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    socklen_t len = sizeof(a);
    getsockname(fd, (struct sockaddr *)&a, &len);
    char uri[64];
    snprintf(uri, sizeof(uri), "coap://127.0.0.1:%u", ntohs(a.sin_port));
    harness_t h;
    assert_int_equal(harness_start(&h, uri, NULL), -EADDRINUSE);
    harness_stop(&h);
    close(fd);
}

/* ---------------------------------------------------------------- DTLS */

static void test_dtls_psk(void **state)
{
    (void)state;
    harness_t h;
    const char *opts[] = {"psk_key", "teep-secret", "psk_hint", "teep", NULL};
    start_ok(&h, "coaps://127.0.0.1:0", opts);
    assert_non_null(strstr(h.uri, "coaps://127.0.0.1:"));
    client_run_t *r = malloc(sizeof(*r));
    const char *out = tmp_path("qr_psk");
    unlink(out);
    const char *argv[] = {"c",  "-m",          "post", "-u", "device-7",
                          "-k", "teep-secret", "-o",   out,  url(&h, "/tam"),
                          NULL};
    assert_int_equal(client_run(&h, r, argv, CLIENT_TIMEOUT_MS), 0);
    assert_file_equals(out, h.qr, h.qr_len);
    assert_string_equal(h.last_device, "device-7");
    assert_int_equal(harness_counter(&h, "coap_dtls_handshakes"), 1);
    /* A wrong key never reaches the TAM. */
    const char *bad[] = {"c",  "-m",    "post", "-u", "device-7",
                         "-k", "wrong", "-B",   "3",  url(&h, "/tam"),
                         NULL};
    client_run(&h, r, bad, CLIENT_TIMEOUT_MS);
    assert_int_equal(h.submissions, 1);
    free(r);
    harness_stop(&h);
}

static void make_pki(void)
{
    char cmd[4096];
    snprintf(cmd, sizeof(cmd),
             "cd %s && "
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
             "-nodes -keyout ca.key -out ca.crt -subj /CN=teep-test-ca "
             "-days 2 && "
             "for n in server client; do "
             "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
             "-keyout $n.key -out $n.csr -subj /CN=$n && "
             "openssl x509 -req -in $n.csr -CA ca.crt -CAkey ca.key "
             "-CAcreateserial -out $n.crt -days 2; done",
             tmpdir);
    strcat(cmd, " >/dev/null 2>&1");
    assert_int_equal(system(cmd), 0);
}

static void test_dtls_pki(void **state)
{
    (void)state;
    make_pki();
    harness_t h;
    const char *opts[] = {
        "dtls_cert", tmp_path("server.crt"), "dtls_key", tmp_path("server.key"),
        "dtls_ca",   tmp_path("ca.crt"),     NULL};
    start_ok(&h, "coaps://127.0.0.1:0", opts);
    client_run_t *r = malloc(sizeof(*r));
    const char *out = tmp_path("qr_pki");
    unlink(out);
    const char *argv[] = {"c",
                          "-m",
                          "post",
                          "-c",
                          tmp_path("client.crt"),
                          "-j",
                          tmp_path("client.key"),
                          "-C",
                          tmp_path("ca.crt"),
                          "-o",
                          out,
                          url(&h, "/tam"),
                          NULL};
    assert_int_equal(client_run(&h, r, argv, CLIENT_TIMEOUT_MS), 0);
    assert_file_equals(out, h.qr, h.qr_len);
    /* Without a client certificate the server refuses the handshake. */
    const char *anon[] = {"c", "-m", "post", "-B", "3", url(&h, "/tam"), NULL};
    client_run(&h, r, anon, CLIENT_TIMEOUT_MS);
    assert_int_equal(h.submissions, 1);
    free(r);
    harness_stop(&h);
}

/* ------------------------------------------------------------- Observe */

static void test_observe_push(void **state)
{
    (void)state;
    harness_t h;
    start_ok(&h, "coap://127.0.0.1:0", NULL);
    assert_int_equal(h.ops->push(h.instance, "dev1", 4), -ENOENT);
    client_run_t *r = malloc(sizeof(*r));
    const char *argv[] = {
        "c", "-m", "get", "-s", "3", url(&h, "/tam/device/dev1"), NULL};
    assert_int_equal(client_start(&h, r, argv, CLIENT_TIMEOUT_MS), 0);
    harness_run_for(&h, 700);
    assert_int_equal(h.ops->push(h.instance, "dev1", 4), 0);
    harness_run_for(&h, 300);
    assert_int_equal(h.ops->push(h.instance, "dev1", 4), 0);
    assert_int_equal(h.ops->push(h.instance, "dev2", 4), -ENOENT);
    client_wait(&h, r);
    /* The registration (check-ins so far: CBOR 0), then one notification
     * per push (1, 2); the deregistration at the end reads 2 again. */
    assert_true(r->stdout_len >= 3);
    assert_memory_equal(r->stdout_buf, "\x00\x01\x02", 3);
    assert_int_equal(harness_counter(&h, "coap_notifications"), 2);
    /* The observer is gone (its client cancelled): the next push says so. */
    harness_run_for(&h, 100);
    assert_int_equal(h.ops->push(h.instance, "dev1", 4), -ENOENT);
    free(r);
    harness_stop(&h);
}

/* ------------------------------------------------------ raw datagrams */

static const uint8_t path_tam[] = "tam";

static size_t post(uint8_t *out, int type, uint16_t mid, uint8_t tok,
                   const coap_opt_spec_t *extra, size_t n_extra,
                   const uint8_t *payload, size_t len)
{
    coap_opt_spec_t opts[8] = {{11, path_tam, 3}};
    size_t n = 1;
    for (size_t i = 0; i < n_extra; i++)
        opts[n++] = extra[i];
    return pdu_encode(out, 2048, type, CODE(0, 2), mid, &tok, 1, opts, n,
                      payload, len);
}

/* Receive until a datagram with code (not an empty ACK) or timeout. */
static bool expect_code(harness_t *h, int fd, int code, pdu_view_t *v,
                        uint8_t *buf)
{
    for (int i = 0; i < 8; i++) {
        size_t n = udp_recv(h, fd, buf, 2048, 1500);
        if (n == 0)
            return false;
        assert_int_equal(pdu_decode(buf, n, v), 0);
        if (v->code == code)
            return true;
    }
    return false;
}

static void test_duplicates(void **state)
{
    (void)state;
    harness_t h;
    start_ok(&h, "coap://127.0.0.1:0", NULL);
    h.delay_ms = 200;
    int fd = udp_open("127.0.0.1");
    uint8_t req[2048], buf[2048];
    size_t n = post(req, 0, 0x1234, 0xab, NULL, 0, NULL, 0);
    udp_send(&h, fd, req, n);
    udp_send(&h, fd, req, n); /* retransmission while the TAM works */
    pdu_view_t v;
    assert_true(expect_code(&h, fd, CODE(2, 4), &v, buf));
    assert_int_equal(v.type, 0); /* a CON separate response */
    assert_int_equal(v.payload_len, h.qr_len);
    assert_memory_equal(v.payload, h.qr, h.qr_len);
    uint8_t ack[4];
    n = pdu_encode(ack, sizeof(ack), 2, 0, v.mid, NULL, 0, NULL, 0, NULL, 0);
    udp_send(&h, fd, ack, n);
    /* A late copy, after the answer: acknowledged, not processed again. */
    n = post(req, 0, 0x1234, 0xab, NULL, 0, NULL, 0);
    udp_send(&h, fd, req, n);
    size_t got = udp_recv(&h, fd, buf, sizeof(buf), 1000);
    assert_true(got > 0);
    assert_int_equal(pdu_decode(buf, got, &v), 0);
    assert_int_equal(v.type, 2);
    assert_int_equal(v.code, 0);
    harness_run_for(&h, 400);
    assert_int_equal(h.submissions, 1);
    /* The copy after the answer is ours to catch (coap_dedup.c); the one
     * during the exchange libcoap may catch before the handler. */
    assert_true(harness_counter(&h, "coap_duplicates") >= 1);
    close(fd);
    harness_stop(&h);
}

static void test_malformed(void **state)
{
    (void)state;
    harness_t h;
    const char *opts[] = {"max_body", "4096", NULL};
    start_ok(&h, "coap://127.0.0.1:0", opts);
    int fd = udp_open("127.0.0.1");
    uint8_t req[2048], buf[2048], payload[1024];
    memset(payload, 7, sizeof(payload));
    pdu_view_t v;
    uint8_t cf[2] = {0xfe, 0x24}; /* 65060 */
    uint16_t mid = 0x100;
    /* Block 3 with no block 0 before it: 4.08. */
    uint8_t b3[1] = {3 << 4 | 1 << 3 | 2};
    coap_opt_spec_t o1[] = {{12, cf, 2}, {27, b3, 1}};
    udp_send(&h, fd, req, post(req, 0, mid++, 1, o1, 2, payload, 64));
    assert_true(expect_code(&h, fd, CODE(4, 8), &v, buf));
    /* A non-final block shorter than its size: 4.00. */
    uint8_t b0[1] = {0 << 4 | 1 << 3 | 2};
    coap_opt_spec_t o2[] = {{12, cf, 2}, {27, b0, 1}};
    udp_send(&h, fd, req, post(req, 0, mid++, 2, o2, 2, payload, 10));
    assert_true(expect_code(&h, fd, CODE(4, 0), &v, buf));
    /* Size1 of 4 GB: 4.13 at once, Size1 saying the limit. */
    uint8_t huge[4] = {0xff, 0xff, 0xff, 0xff};
    coap_opt_spec_t o3[] = {{12, cf, 2}, {27, b0, 1}, {60, huge, 4}};
    udp_send(&h, fd, req, post(req, 0, mid++, 3, o3, 3, payload, 64));
    assert_true(expect_code(&h, fd, CODE(4, 13), &v, buf));
    assert_true(v.has_size1);
    assert_int_equal(v.size1, 4096);
    /* A block far beyond the limit after a good block 0: 4.13. */
    udp_send(&h, fd, req, post(req, 0, mid++, 4, o2, 2, payload, 64));
    assert_true(expect_code(&h, fd, CODE(2, 31), &v, buf));
    uint8_t far[3] = {0x0f, 0xff, 0xf0 | 1 << 3 | 2};
    coap_opt_spec_t o4[] = {{12, cf, 2}, {27, far, 3}};
    udp_send(&h, fd, req, post(req, 0, mid++, 5, o4, 2, payload, 64));
    assert_true(expect_code(&h, fd, CODE(4, 13), &v, buf));
    /* An unknown critical option: 4.02 from libcoap. */
    uint8_t x = 1;
    coap_opt_spec_t o5[] = {{2049, &x, 1}};
    udp_send(&h, fd, req, post(req, 0, mid++, 6, o5, 1, NULL, 0));
    assert_true(expect_code(&h, fd, CODE(4, 2), &v, buf));
    /* Not CoAP at all, and truncated headers: ignored, no crash. */
    udp_send(&h, fd, (const uint8_t *)"GET / HTTP/1.1\r\n\r\n", 18);
    udp_send(&h, fd, (const uint8_t *)"\x48\x02", 2);
    udp_send(&h, fd, (const uint8_t *)"\x4f\x02\x00\x01", 4);
    harness_run_for(&h, 100);
    assert_int_equal(h.submissions, 0);
    /* And the listener still serves. */
    udp_send(&h, fd, req, post(req, 0, mid++, 7, NULL, 0, NULL, 0));
    assert_true(expect_code(&h, fd, CODE(2, 4), &v, buf));
    assert_int_equal(h.submissions, 1);
    close(fd);
    harness_stop(&h);
}

static void test_reassembly_budget(void **state)
{
    (void)state;
    harness_t h;
    const char *opts[] = {"max_reassembly", "4096", NULL};
    start_ok(&h, "coap://127.0.0.1:0", opts);
    uint8_t req[2048], buf[2048], payload[64];
    memset(payload, 1, sizeof(payload));
    uint8_t cf[2] = {0xfe, 0x24}, b0[1] = {1 << 3 | 2}, size1[2] = {0x0b, 0xb8};
    coap_opt_spec_t o[] = {{12, cf, 2}, {27, b0, 1}, {60, size1, 2}};
    pdu_view_t v;
    int a = udp_open("127.0.0.1"), b = udp_open("127.0.0.1");
    udp_send(&h, a, req, post(req, 0, 1, 1, o, 3, payload, 64));
    assert_true(expect_code(&h, a, CODE(2, 31), &v, buf));
    /* A second 3000-byte body does not fit the 4096-byte budget. */
    udp_send(&h, b, req, post(req, 0, 1, 1, o, 3, payload, 64));
    assert_true(expect_code(&h, b, CODE(5, 3), &v, buf));
    close(a);
    close(b);
    harness_stop(&h);
}

static void test_flood_one_source(void **state)
{
    (void)state;
    harness_t h;
    const char *opts[] = {"peer_rate", "20", "peer_burst", "20", NULL};
    start_ok(&h, "coap://127.0.0.1:0", opts);
    int flood = udp_open("127.0.0.1");
    uint8_t req[2048], buf[2048];
    for (unsigned i = 0; i < 200; i++)
        udp_send(
            &h, flood, req,
            post(req, 1, (uint16_t)(0x2000 + i), (uint8_t)i, NULL, 0, NULL, 0));
    unsigned too_many = 0, answers = 0;
    pdu_view_t v;
    size_t n;
    while ((n = udp_recv(&h, flood, buf, sizeof(buf), 500)) > 0) {
        assert_int_equal(pdu_decode(buf, n, &v), 0);
        if (v.code == CODE(4, 29)) {
            too_many++;
            assert_true(v.has_max_age && v.max_age >= 1);
        } else if (v.code == CODE(2, 4)) {
            answers++;
        }
    }
    assert_true(too_many >= 150);
    assert_true(answers <= 50);
    assert_int_equal(h.submissions, answers);
    /* Another source is served as usual meanwhile. */
    int other = udp_open("127.0.0.2");
    udp_send(&h, other, req, post(req, 0, 0x42, 0x42, NULL, 0, NULL, 0));
    assert_true(expect_code(&h, other, CODE(2, 4), &v, buf));
    close(flood);
    close(other);
    harness_stop(&h);
}

static void test_bad_listeners(void **state)
{
    (void)state;
    harness_t h;
    assert_int_equal(harness_start(&h, "coap://localhost:5683", NULL), -EINVAL);
    harness_stop(&h);
    const char *psk[] = {"psk_key", "x", NULL};
    assert_int_equal(harness_start(&h, "coap://127.0.0.1:0", psk), -EINVAL);
    harness_stop(&h);
    assert_int_equal(harness_start(&h, "coaps://127.0.0.1:0", NULL), -EINVAL);
    harness_stop(&h);
    const char *bad[] = {"max_body", "lots", NULL};
    assert_int_equal(harness_start(&h, "coap://127.0.0.1:0", bad), -EINVAL);
    harness_stop(&h);
}

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/teep-coap-test-XXXXXX");
    return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_post_con),
        cmocka_unit_test(test_empty_post_non),
        cmocka_unit_test(test_message_post),
        cmocka_unit_test(test_no_content_and_routes),
        cmocka_unit_test(test_blockwise_both_ways),
        cmocka_unit_test(test_content_format),
        cmocka_unit_test(test_too_large),
        cmocka_unit_test(test_overload_and_timeout),
        cmocka_unit_test(test_port_in_use),
        cmocka_unit_test(test_dtls_psk),
        cmocka_unit_test(test_dtls_pki),
        cmocka_unit_test(test_observe_push),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_reassembly_budget),
        cmocka_unit_test(test_flood_one_source),
        cmocka_unit_test(test_bad_listeners),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
