/*
 * Tests of the authority splitter (teep/authority.h, net/authority.c):
 * what it accepts, as written in the URLs and listener addresses the
 * broker, the TAM and the transports take, and hostile input, including
 * lengths at and beyond every limit and bytes that must not end a host.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "teep/authority.h"
#include "teep/http.h"

/* Parse the NUL-terminated s as a whole. */
static int parse(const char *s, uint16_t default_port, unsigned flags,
                 teep_authority_t *a)
{
    return teep_authority_parse(s, strlen(s), default_port, flags, a);
}

static void assert_zeroed(const teep_authority_t *a)
{
    static const teep_authority_t zero;
    assert_memory_equal(a, &zero, sizeof(zero));
}

static void test_valid(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        uint16_t default_port;
        unsigned flags;
        const char *host;
        uint16_t port;
        bool has_port, bracketed;
    } ok[] = {
        {"127.0.0.1:8080", 0, 0, "127.0.0.1", 8080, true, false},
        {"tam.example", 443, 0, "tam.example", 443, false, false},
        {"tam.example:1", 443, 0, "tam.example", 1, true, false},
        {"h:65535", 0, 0, "h", 65535, true, false},
        {"h:00080", 0, 0, "h", 80, true, false}, /* RFC 3986: *DIGIT */
        {"[::1]:8443", 0, 0, "::1", 8443, true, true},
        {"[::]", 5683, 0, "::", 5683, false, true},
        {"[fe80::1%25eth0]:1", 0, 0, "fe80::1%25eth0", 1, true, true},
        {"[::ffff:127.0.0.1]:7", 0, 0, "::ffff:127.0.0.1", 7, true, true},
        {"0.0.0.0:0", 0, TEEP_AUTHORITY_PORT_ZERO, "0.0.0.0", 0, true, false},
        {"[::1]:0", 0, TEEP_AUTHORITY_PORT_ZERO, "::1", 0, true, true},
        {"Under_score-Host.", 80, 0, "Under_score-Host.", 80, false, false},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        teep_authority_t a;
        memset(&a, 0xa5, sizeof(a)); /* no stale byte may survive */
        assert_int_equal(parse(ok[i].in, ok[i].default_port, ok[i].flags, &a),
                         0);
        assert_string_equal(a.host, ok[i].host);
        assert_int_equal(a.host_len, strlen(ok[i].host));
        assert_int_equal(a.port, ok[i].port);
        assert_int_equal(a.has_port, ok[i].has_port);
        assert_int_equal(a.bracketed, ok[i].bracketed);
    }
}

static void test_hostile(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        uint16_t default_port;
        unsigned flags;
        int rc;
    } bad[] = {
        /* empty host */
        {"", 80, 0, -EINVAL},
        {":80", 0, 0, -EINVAL},
        {"[]:80", 0, 0, -EINVAL},
        {"[]", 80, 0, -EINVAL},
        /* brackets: unclosed, stray, not an IPv6 literal, junk after */
        {"[::1", 80, 0, -EINVAL},
        {"::1]:80", 0, 0, -EINVAL},
        {"[::1]]:80", 0, 0, -EINVAL},
        {"[::1]x", 80, 0, -EINVAL},
        {"[::1]80", 0, 0, -EINVAL},
        {"[127.0.0.1]:80", 0, 0, -EINVAL},
        {"[tam]:80", 0, 0, -EINVAL},
        {"[::1%]:80", 0, 0, 0},    /* '%' is allowed in brackets ... */
        {"h%1:80", 0, 0, -EINVAL}, /* ... not outside */
        {"[[::1]]:80", 0, 0, -EINVAL},
        {"a[::1]:80", 0, 0, -EINVAL},
        /* port: missing, empty, signs, spaces, not decimal, range */
        {"h", 0, 0, -EINVAL},
        {"[::1]", 0, 0, -EINVAL},
        {"h:", 80, 0, -EINVAL},
        {"h:+80", 0, 0, -EINVAL},
        {"h:-1", 0, 0, -EINVAL},
        {"h: 80", 0, 0, -EINVAL},
        {"h:80 ", 0, 0, -EINVAL},
        {"h:0x50", 0, 0, -EINVAL},
        {"h:8o", 0, 0, -EINVAL},
        {"h:80:81", 0, 0, -EINVAL},
        {"h:65536", 0, 0, -ERANGE},
        {"h:99999999999999999999999", 0, 0, -ERANGE},
        {"h:99999999999999999999x", 0, 0, -EINVAL},
        {"h:0", 0, 0, -ERANGE},
        {"h:00000", 0, 0, -ERANGE},
        /* userinfo, and bytes no host has */
        {"user@h:80", 0, 0, -EINVAL},
        {"user:pw@h", 80, 0, -EINVAL},
        {"h h:80", 0, 0, -EINVAL},
        {"h/x:80", 0, 0, -EINVAL},
        {"h\r\n:80", 0, 0, -EINVAL},
        {"h\xc3\xa9:80", 0, 0, -EINVAL},
        {"h\x7f", 80, 0, -EINVAL},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        teep_authority_t a;
        memset(&a, 0xa5, sizeof(a));
        int rc = parse(bad[i].in, bad[i].default_port, bad[i].flags, &a);
        if (rc != bad[i].rc)
            fail_msg("\"%s\": %d, expected %d", bad[i].in, rc, bad[i].rc);
        if (rc < 0)
            assert_zeroed(&a);
    }
}

/* A NUL inside the length is a byte like any other: not part of a host. */
static void test_embedded_nul(void **state)
{
    (void)state;
    teep_authority_t a;
    assert_int_equal(teep_authority_parse("h\0x:80", 6, 0, 0, &a), -EINVAL);
    assert_int_equal(teep_authority_parse("h:8\0", 4, 0, 0, &a), -EINVAL);
    assert_int_equal(teep_authority_parse("[::1\0]:80", 9, 0, 0, &a), -EINVAL);
    assert_int_equal(teep_authority_parse(NULL, 0, 80, 0, &a), -EINVAL);
    assert_zeroed(&a);
}

/* Only len bytes are read: the authority of a longer string. */
static void test_length_bounds(void **state)
{
    (void)state;
    teep_authority_t a;
    const char *url_rest = "tam:8080/tam?x#y";
    size_t n = teep_authority_span(url_rest);
    assert_int_equal(n, 8);
    assert_int_equal(teep_authority_parse(url_rest, n, 0, 0, &a), 0);
    assert_string_equal(a.host, "tam");
    assert_int_equal(a.port, 8080);
    assert_int_equal(teep_authority_span("[::1]:1?q"), 7);
    assert_int_equal(teep_authority_span("h#f"), 1);
    assert_int_equal(teep_authority_span(""), 0);
    /* "h:80" cut at 3 bytes is "h:8". */
    assert_int_equal(teep_authority_parse("h:80", 3, 0, 0, &a), 0);
    assert_int_equal(a.port, 8);
    /* The closing bracket beyond len does not count. */
    assert_int_equal(teep_authority_parse("[::1]", 4, 80, 0, &a), -EINVAL);
}

static void test_host_length(void **state)
{
    (void)state;
    char s[TEEP_AUTHORITY_MAX_HOST + 16];
    teep_authority_t a;
    memset(s, 'a', TEEP_AUTHORITY_MAX_HOST);
    strcpy(s + TEEP_AUTHORITY_MAX_HOST, ":1");
    assert_int_equal(parse(s, 0, 0, &a), 0);
    assert_int_equal(a.host_len, TEEP_AUTHORITY_MAX_HOST);
    assert_int_equal(a.host[TEEP_AUTHORITY_MAX_HOST], '\0');
    memset(s, 'a', TEEP_AUTHORITY_MAX_HOST + 1);
    strcpy(s + TEEP_AUTHORITY_MAX_HOST + 1, ":1");
    assert_int_equal(parse(s, 0, 0, &a), -ENAMETOOLONG);
    /* A bad byte in a long host is reported as a bad byte. */
    s[TEEP_AUTHORITY_MAX_HOST] = ' ';
    assert_int_equal(parse(s, 0, 0, &a), -EINVAL);
    /* Bracketed: the limit is on what is inside. */
    s[0] = '[';
    memset(s + 1, ':', TEEP_AUTHORITY_MAX_HOST + 1);
    strcpy(s + TEEP_AUTHORITY_MAX_HOST + 2, "]:1");
    assert_int_equal(parse(s, 0, 0, &a), -ENAMETOOLONG);
}

/* The URL and host:port parsers of teep/http.h on top of it: the URLs they
 * took before the splitter was shared still parse the same. */
static void test_http_users(void **state)
{
    (void)state;
    teep_http_url_t u;
    assert_int_equal(teep_http_url_parse("http://[::1]/tam", &u), 0);
    assert_string_equal(u.host, "::1");
    assert_int_equal(u.port, 80);
    assert_int_equal(teep_http_url_parse("https://h:443?x", &u),
                     TEEP_HTTP_E_URL);
    assert_int_equal(teep_http_url_parse("http://h:8080#f", &u),
                     TEEP_HTTP_E_URL);
    assert_int_equal(teep_http_url_parse("http://[127.0.0.1]:80/", &u),
                     TEEP_HTTP_E_URL);
    char host[TEEP_HTTP_MAX_HOST + 1];
    uint16_t port;
    assert_int_equal(teep_http_hostport_parse("[::1]:65535", 0, host, &port),
                     0);
    assert_string_equal(host, "::1");
    assert_int_equal(port, 65535);
    assert_int_equal(teep_http_hostport_parse("h:-1", 0, host, &port), -EINVAL);
    assert_int_equal(teep_http_hostport_parse("h:70000", 0, host, &port),
                     -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_embedded_nul),
        cmocka_unit_test(test_length_bounds),
        cmocka_unit_test(test_host_length),
        cmocka_unit_test(test_http_users),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
