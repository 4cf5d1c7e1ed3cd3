/*
 * Tests of the checked header sets with their memo (net/http_headers.c):
 * a set that passes is remembered as written on the wire; the same bytes
 * pass again from the memo; bytes changed in place behind the same
 * pointers (a caller's reused buffer) are checked again, so CR, LF, NUL
 * or a managed name never slip through; sets larger than the memo pass
 * without it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "http_internal.h"

static const char *const managed[] = {"content-length", "connection", NULL};

static teep_http_header_t field(const char *name, const char *value)
{
    teep_http_header_t h = {{(const uint8_t *)name, strlen(name)},
                            {(const uint8_t *)value, strlen(value)}};
    return h;
}

static void assert_wire(teep_slice_t wire, const char *want)
{
    assert_non_null(wire.ptr);
    assert_int_equal(wire.len, strlen(want));
    assert_memory_equal(wire.ptr, want, wire.len);
}

static void test_memo(void **state)
{
    (void)state;
    static teep_http__header_memo_t memo;
    char name[32] = "Content-Type", value[64] = "application/teep+cbor";
    teep_http_header_t h[2] = {field(name, value), field("X-A", "")};
    teep_slice_t wire;
    const char *text = "Content-Type: application/teep+cbor\r\nX-A: \r\n";

    assert_true(teep_http__headers_ok(h, 2, managed, &memo, &wire));
    assert_wire(wire, text);
    assert_true(teep_http__headers_ok(h, 2, managed, &memo, &wire));
    assert_wire(wire, text);

    /* Same pointers and lengths, new bytes. */
    memcpy(value, "application/teep\r\ncbor", 22);
    assert_false(teep_http__headers_ok(h, 2, managed, &memo, &wire));
    memcpy(value, "application/teep\0+cbor", 22);
    assert_false(teep_http__headers_ok(h, 2, managed, &memo, &wire));
    strcpy(value, "text/plain; charset=utf-8");
    h[0].value.len = strlen(value);
    assert_true(teep_http__headers_ok(h, 2, managed, &memo, &wire));
    assert_wire(wire, "Content-Type: text/plain; charset=utf-8\r\nX-A: \r\n");
    memcpy(name, "Connection\0\0", 12); /* a managed name */
    h[0].name.len = 10;
    assert_false(teep_http__headers_ok(h, 2, managed, &memo, &wire));
    memcpy(name, "CONTENT-LENGTH", 14);
    h[0].name.len = 14;
    assert_false(teep_http__headers_ok(h, 2, managed, &memo, &wire));
    memcpy(name, "Content Type", 12); /* not a token */
    h[0].name.len = 12;
    assert_false(teep_http__headers_ok(h, 2, managed, &memo, &wire));
    memcpy(name, "Content-Type", 12);
    assert_true(teep_http__headers_ok(h, 2, managed, &memo, &wire));

    /* Fewer fields than remembered: checked, and remembered in turn. */
    assert_true(teep_http__headers_ok(h + 1, 1, managed, &memo, &wire));
    assert_wire(wire, "X-A: \r\n");

    /* None: nothing to write, the memo is kept. */
    assert_true(teep_http__headers_ok(NULL, 0, managed, &memo, &wire));
    assert_null(wire.ptr);
    assert_int_equal(wire.len, 0);
}

static void test_beyond_memo(void **state)
{
    (void)state;
    static teep_http__header_memo_t memo;
    teep_http_header_t many[TEEP_HTTP__MEMO_FIELDS + 1];
    for (size_t i = 0; i < TEEP_HTTP__MEMO_FIELDS + 1; i++)
        many[i] = field("X-Many", "1");
    teep_slice_t wire;
    assert_true(teep_http__headers_ok(many, TEEP_HTTP__MEMO_FIELDS + 1, managed,
                                      &memo, &wire));
    assert_null(wire.ptr);
    many[3] = field("X-Bad", "a\nb");
    assert_false(teep_http__headers_ok(many, TEEP_HTTP__MEMO_FIELDS + 1,
                                       managed, &memo, &wire));

    static char big[TEEP_HTTP__MEMO_BYTES];
    memset(big, 'v', sizeof(big) - 1);
    teep_http_header_t large = field("X-Large", big);
    assert_true(teep_http__headers_ok(&large, 1, managed, &memo, &wire));
    assert_null(wire.ptr); /* too large to remember */
    big[100] = '\r';
    assert_false(teep_http__headers_ok(&large, 1, managed, &memo, &wire));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memo),
        cmocka_unit_test(test_beyond_memo),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
