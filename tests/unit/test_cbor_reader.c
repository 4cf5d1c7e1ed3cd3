/* Unit tests of the bounded CBOR pull reader (proto/cbor_reader.c). */
/* cmocka.h needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <errno.h>

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
        cmocka_unit_test(writer_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
