/* Unit tests of the bounded CBOR pull reader (proto/cbor_reader.c). */
/* cmocka.h needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "cbor_reader.h"
#include "cbor_writer.h"
#include "vectors.h"

static int skip_all(const uint8_t *buf, size_t len, teep_diag_t *diag)
{
    tp_cbor_reader_t r;
    tp_cbor_reader_init(&r, buf, len, diag);
    int rc = tp_cbor_skip(&r, TEEP_MAX_DEPTH, NULL, NULL);
    return rc != 0 ? rc : tp_cbor_finish(&r);
}

static void every_vector_is_well_formed(void **state)
{
    static const char *names[] = {
        "tp_query_request.hex",
        "tp_update.hex",
        "tp26_teep_error.hex",
        "libteep_query_response_cose.hex",
        "gen_tp_query_request_cose_sign.hex",
        "tp_suit_personalization.hex",
        "suittd_example2_integrated.hex",
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        size_t len = 0;
        uint8_t *buf = vector_load_hex(names[i], &len);
        assert_non_null(buf);
        teep_diag_t diag = {0};
        int rc = skip_all(buf, len, &diag);
        if (rc != 0)
            print_error("%s: %s at %zu\n", names[i], diag.reason, diag.offset);
        assert_int_equal(rc, 0);
        free(buf);
    }
}

static void refuses_bad_input(void **state)
{
    teep_diag_t diag;
    /* array of 3 with 2 elements */
    static const uint8_t short_array[] = {0x83, 0x01, 0x02};
    assert_int_equal(skip_all(short_array, sizeof(short_array), &diag),
                     TEEP_E_TRUNCATED);
    /* bstr of 16 with 2 bytes */
    static const uint8_t short_bstr[] = {0x50, 0x01, 0x02};
    assert_int_equal(skip_all(short_bstr, sizeof(short_bstr), &diag),
                     TEEP_E_TRUNCATED);
    assert_int_equal(diag.offset, 0);
    /* array claiming 2^32 elements */
    static const uint8_t huge[] = {0x9a, 0xff, 0xff, 0xff, 0xff, 0x00};
    assert_int_equal(skip_all(huge, sizeof(huge), &diag), TEEP_E_TRUNCATED);
    /* indefinite array */
    static const uint8_t indef[] = {0x9f, 0x01, 0xff};
    assert_int_equal(skip_all(indef, sizeof(indef), &diag), TEEP_E_INDEFINITE);
    /* reserved additional information 28 */
    static const uint8_t reserved[] = {0x1c};
    assert_int_equal(skip_all(reserved, sizeof(reserved), &diag), TEEP_E_CBOR);
    /* text that is not UTF-8: a lone continuation byte, an overlong '/' */
    static const uint8_t bad_utf8[] = {0x61, 0x80};
    assert_int_equal(skip_all(bad_utf8, sizeof(bad_utf8), &diag), TEEP_E_CBOR);
    static const uint8_t overlong[] = {0x62, 0xc0, 0xaf};
    assert_int_equal(skip_all(overlong, sizeof(overlong), &diag), TEEP_E_CBOR);
    static const uint8_t good_utf8[] = {0x63, 0xe2, 0x82, 0xac}; /* EUR */
    assert_int_equal(skip_all(good_utf8, sizeof(good_utf8), &diag), 0);
    /* trailing byte */
    static const uint8_t trailing[] = {0x01, 0x02};
    assert_int_equal(skip_all(trailing, sizeof(trailing), &diag),
                     TEEP_E_TRAILING);
    assert_int_equal(diag.offset, 1);
}

static void bounds_nesting(void **state)
{
    uint8_t deep[64];
    for (size_t i = 0; i < sizeof(deep) - 1; i++)
        deep[i] = 0x81; /* [ [ [ ... */
    deep[sizeof(deep) - 1] = 0x00;
    teep_diag_t diag;
    assert_int_equal(skip_all(deep, sizeof(deep), &diag), TEEP_E_DEPTH);
    /* exactly TEEP_MAX_DEPTH levels are fine */
    assert_int_equal(skip_all(deep + sizeof(deep) - 1 - (TEEP_MAX_DEPTH - 1),
                              TEEP_MAX_DEPTH, &diag),
                     0);
}

/* The lean path (tp_cbor_head) must accept and refuse exactly what the item
 * path (tp_cbor_next) does, with the same kind, value, position and
 * diagnosis: every initial byte, followed by tails that make its head
 * short, complete, or a string or container that does or does not fit. */
static void expect_same_head(const uint8_t *buf, size_t len)
{
    tp_cbor_reader_t item_r, lean_r;
    teep_diag_t item_diag = {0}, lean_diag = {0};
    tp_cbor_item_t it;
    tp_cbor_kind_t kind;
    uint64_t value;
    tp_cbor_reader_init(&item_r, buf, len, &item_diag);
    tp_cbor_reader_init(&lean_r, buf, len, &lean_diag);
    int item_rc = tp_cbor_next(&item_r, &it);
    int lean_rc = tp_cbor_head(&lean_r, &kind, &value);
    if (item_rc != lean_rc || item_r.pos != lean_r.pos)
        print_error("initial byte 0x%02x, %zu bytes: %d at %zu vs %d at %zu\n",
                    len ? buf[0] : 0, len, item_rc, item_r.pos, lean_rc,
                    lean_r.pos);
    assert_int_equal(item_rc, lean_rc);
    assert_int_equal(item_r.pos, lean_r.pos);
    if (item_rc != 0) {
        assert_int_equal(item_diag.code, lean_diag.code);
        assert_int_equal(item_diag.offset, lean_diag.offset);
        assert_string_equal(item_diag.reason, lean_diag.reason);
        return;
    }
    assert_int_equal(it.kind, kind);
    assert_true(it.u == value);
    if (kind == TP_CBOR_BSTR || kind == TP_CBOR_TSTR)
        assert_ptr_equal(it.ptr, tp_cbor_string_bytes(&lean_r, value));
    /* and the same refusal when a kind is required */
    tp_cbor_reader_init(&item_r, buf, len, &item_diag);
    tp_cbor_reader_init(&lean_r, buf, len, &lean_diag);
    tp_cbor_kind_t want = kind == TP_CBOR_ARRAY ? TP_CBOR_MAP : TP_CBOR_ARRAY;
    assert_int_equal(tp_cbor_expect(&item_r, want, &it, "x"),
                     tp_cbor_expect_head(&lean_r, want, &value, "x"));
    assert_string_equal(item_diag.reason, lean_diag.reason);
    assert_int_equal(item_diag.offset, lean_diag.offset);
}

static void lean_head_matches_item_head(void **state)
{
    static const uint8_t tails[][9] = {
        {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00},
        {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09},
        {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
        {0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69}, /* ASCII */
        {0xc3, 0x28, 0xe2, 0x82, 0xac, 0xed, 0xa0, 0x80, 0x80}, /* bad UTF-8 */
        {0x10, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02},
    };
    uint8_t buf[10];
    for (unsigned ib = 0; ib < 256; ib++) {
        buf[0] = (uint8_t)ib;
        for (size_t t = 0; t < sizeof(tails) / sizeof(tails[0]); t++) {
            memcpy(buf + 1, tails[t], sizeof(tails[t]));
            for (size_t len = 0; len <= sizeof(buf); len++)
                expect_same_head(buf, len);
        }
    }
}

/* Reference skip, item by item through tp_cbor_next with recursion, with
 * the reader's depth rules and wording: the lean skip loop must agree. */
static uint64_t ref_opens(const tp_cbor_item_t *it)
{
    return it->kind == TP_CBOR_ARRAY ? it->u
           : it->kind == TP_CBOR_MAP ? it->u * 2
           : it->kind == TP_CBOR_TAG ? 1
                                     : UINT64_MAX;
}

static int ref_children(tp_cbor_reader_t *r, uint64_t n, unsigned depth,
                        unsigned max_depth)
{
    for (uint64_t i = 0; i < n; i++) {
        tp_cbor_item_t child;
        int rc = tp_cbor_next(r, &child);
        if (rc != 0)
            return rc;
        uint64_t m = ref_opens(&child);
        if (m == UINT64_MAX)
            continue;
        if (depth + 1 >= max_depth)
            return tp_cbor_fail(r, TEEP_E_DEPTH, child.offset,
                                "nesting deeper than %u levels", max_depth);
        rc = ref_children(r, m, depth + 1, max_depth);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int ref_skip(tp_cbor_reader_t *r, unsigned max_depth)
{
    tp_cbor_item_t it;
    int rc = tp_cbor_next(r, &it);
    if (rc != 0)
        return rc;
    uint64_t n = ref_opens(&it);
    if (n == UINT64_MAX)
        return 0;
    if (max_depth == 0)
        return tp_cbor_fail(r, TEEP_E_DEPTH, it.offset,
                            "nesting deeper than allowed");
    return ref_children(
        r, n, 0, max_depth > TEEP_MAX_DEPTH ? TEEP_MAX_DEPTH : max_depth);
}

static void expect_same_skip(const uint8_t *buf, size_t len)
{
    static const unsigned depths[] = {
        0, 1, 2, 3, 5, TEEP_MAX_DEPTH, TEEP_MAX_DEPTH + 1};
    for (size_t d = 0; d < sizeof(depths) / sizeof(depths[0]); d++) {
        tp_cbor_reader_t ref_r, r;
        teep_diag_t ref_diag = {0}, diag = {0};
        tp_cbor_reader_init(&ref_r, buf, len, &ref_diag);
        tp_cbor_reader_init(&r, buf, len, &diag);
        int ref_rc = ref_skip(&ref_r, depths[d]);
        int rc = tp_cbor_skip(&r, depths[d], NULL, NULL);
        assert_int_equal(ref_rc, rc);
        assert_int_equal(ref_r.pos, r.pos);
        if (rc != 0) {
            assert_int_equal(ref_diag.offset, diag.offset);
            assert_string_equal(ref_diag.reason, diag.reason);
        }
    }
}

/* The heads of lean_head_matches_item_head again, now inside an array
 * (the skip loop's own reading), then the vectors and a few thousand
 * mutations of them (fixed seed): byte flips, interesting initial bytes,
 * insertions, deletions. */
static void skip_matches_item_walk(void **state)
{
    static const uint8_t tails[][9] = {
        {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00},
        {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09},
        {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
        {0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69},
        {0xc3, 0x28, 0xe2, 0x82, 0xac, 0xed, 0xa0, 0x80, 0x80},
    };
    uint8_t nested[12] = {0x82, 0x00};
    for (unsigned ib = 0; ib < 256; ib++) {
        nested[2] = (uint8_t)ib;
        for (size_t t = 0; t < sizeof(tails) / sizeof(tails[0]); t++) {
            memcpy(nested + 3, tails[t], sizeof(tails[t]));
            for (size_t len = 2; len <= sizeof(nested); len++)
                expect_same_skip(nested, len);
        }
    }

    static const char *names[] = {
        "gen_tp26_query_request_cose_sign.hex",
        "gen_tp26_teep_error_cose_sign1_esp256.hex",
        "libteep_evidence_cose.hex",
        "tp_suit_personalization.hex",
        "suittd_example2_integrated.hex",
    };
    static const uint8_t interesting[] = {
        0x00, 0x17, 0x18, 0x1b, 0x1c, 0x1f, 0x37, 0x38, 0x40, 0x57, 0x58, 0x5f,
        0x61, 0x7f, 0x80, 0x81, 0x97, 0x98, 0x9f, 0xa0, 0xa1, 0xb7, 0xb8, 0xbf,
        0xc1, 0xd2, 0xd8, 0xdb, 0xdc, 0xf4, 0xf7, 0xf8, 0xf9, 0xfb, 0xfc, 0xff};
    uint64_t seed = 0x9e3779b97f4a7c15u;
    for (size_t v = 0; v < sizeof(names) / sizeof(names[0]); v++) {
        size_t len = 0;
        uint8_t *orig = vector_load_hex(names[v], &len);
        assert_non_null(orig);
        uint8_t *buf = malloc(len + 8);
        expect_same_skip(orig, len);
        for (int round = 0; round < 1000; round++) {
            size_t n = len;
            memcpy(buf, orig, len);
            for (int k = 0; k < 3; k++) {
                seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
                size_t at = (size_t)(seed >> 8) % n;
                switch (seed % 4) {
                case 0: buf[at] ^= (uint8_t)(1u << (seed >> 3) % 8); break;
                case 1:
                    buf[at] = interesting[(seed >> 20) % sizeof(interesting)];
                    break;
                case 2:
                    memmove(buf + at + 1, buf + at, n - at);
                    buf[at] = interesting[(seed >> 20) % sizeof(interesting)];
                    n++;
                    break;
                default:
                    if (n > 1) {
                        memmove(buf + at, buf + at + 1, n - at - 1);
                        n--;
                    }
                }
            }
            expect_same_skip(buf, n);
        }
        free(buf);
        free(orig);
    }
}

static void writer_round_trip(void **state)
{
    uint8_t buf[64];
    tp_cbor_writer_t w;
    tp_cw_init(&w, buf, sizeof(buf));
    tp_cw_array(&w, 3);
    tp_cw_int(&w, -65534);
    tp_cw_bstr(&w, (const uint8_t *)"abc", 3);
    tp_cw_uint(&w, 1000);
    assert_int_equal(tp_cw_result(&w), 0);
    static const uint8_t want[] = {0x83, 0x39, 0xff, 0xfd, 0x43, 'a',
                                   'b',  'c',  0x19, 0x03, 0xe8};
    assert_int_equal(w.len, sizeof(want));
    assert_memory_equal(buf, want, sizeof(want));
    tp_cbor_writer_t small;
    tp_cw_init(&small, buf, 4);
    tp_cw_bstr(&small, (const uint8_t *)"abcdef", 6);
    assert_int_equal(tp_cw_result(&small), -ENOSPC);
    assert_int_equal(small.len, 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_vector_is_well_formed),
        cmocka_unit_test(refuses_bad_input),
        cmocka_unit_test(bounds_nesting),
        cmocka_unit_test(lean_head_matches_item_head),
        cmocka_unit_test(skip_matches_item_walk),
        cmocka_unit_test(writer_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
