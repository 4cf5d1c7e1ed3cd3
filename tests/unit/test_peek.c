/* Unit tests of teep_peek (proto/peek.c): the relay path's view. */
/* cmocka.h needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <stdbool.h>

#include "teep/peek.h"
#include "vectors.h"

static const uint8_t token[16] = {0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5,
                                  0xA6, 0xA7, 0xA8, 0xA9, 0xAA, 0xAB,
                                  0xAC, 0xAD, 0xAE, 0xAF};

static void check(const char *name, int profile, uint64_t tag,
                  teep_msg_type_t type, int want_profile, bool has_token)
{
    size_t len = 0;
    uint8_t *buf = vector_load_hex(name, &len);
    assert_non_null(buf);
    teep_peek_t p;
    teep_diag_t diag = {0};
    int rc = teep_peek(buf, len, profile, &p, &diag);
    if (rc != 0)
        print_error("%s: %s at %zu\n", name, diag.reason, diag.offset);
    assert_int_equal(rc, 0);
    assert_int_equal(p.cose_tag, tag);
    if (p.type != type)
        print_error("%s: type %d\n", name, (int)p.type);
    assert_int_equal(p.type, type);
    assert_int_equal(p.profile, want_profile);
    if (has_token) {
        assert_int_equal(p.token.len, sizeof(token));
        assert_memory_equal(p.token.ptr, token, sizeof(token));
        /* the token is a slice of the input, not a copy */
        assert_true(p.token.ptr > buf && p.token.ptr < buf + len);
    } else {
        assert_null(p.token.ptr);
    }
    assert_true(p.payload.ptr > buf &&
                p.payload.ptr + p.payload.len <= buf + len);
    free(buf);
}

static void peeks_every_signed_vector(void **state)
{
    const int L = TEEP_PROFILE_LEGACY, R = TEEP_PROFILE_RFC, A = TEEP_PEEK_AUTO;
    check("gen_tp_query_request_cose_sign.hex", A, 98, TEEP_QUERY_REQUEST, L,
          true);
    check("gen_tp26_query_request_cose_sign.hex", A, 98, TEEP_QUERY_REQUEST, R,
          true);
    check("gen_tp_query_response_cose_sign1_esp256.hex", A, 18,
          TEEP_QUERY_RESPONSE, L, true);
    check("gen_tp26_update_cose_sign1_ed25519.hex", A, 18, TEEP_UPDATE, R,
          true);
    check("gen_tp_teep_success_cose_sign1_esp256.hex", A, 18, TEEP_SUCCESS, L,
          true);
    check("gen_tp26_teep_success_cose_sign1_esp256.hex", A, 18, TEEP_SUCCESS, R,
          true);
    check("gen_tp_teep_error_cose_sign1_esp256.hex", A, 18, TEEP_ERROR, L,
          true);
    check("gen_tp26_teep_error_cose_sign1_esp256.hex", A, 18, TEEP_ERROR, R,
          true);
    check("libteep_update_cose.hex", L, 18, TEEP_UPDATE, L, true);
    check("libteep_teep_error_cose.hex", L, 18, TEEP_ERROR, L, true);
    /* a fixed profile is used as given: the legacy Success read as rfc is
     * an Error (5) without a token, which is why peers' profiles are
     * configured or detected from a token */
    check("gen_tp_teep_success_cose_sign1_esp256.hex", R, 18, TEEP_ERROR, R,
          false);
}

static void refuses_malformed(void **state)
{
    size_t len = 0;
    uint8_t *buf =
        vector_load_hex("gen_tp26_update_cose_sign1_esp256.hex", &len);
    assert_non_null(buf);
    teep_peek_t p;
    teep_diag_t diag;
    /* every strict prefix is truncated, never accepted, never a crash */
    for (size_t n = 0; n < len; n++)
        assert_int_not_equal(teep_peek(buf, n, TEEP_PEEK_AUTO, &p, &diag), 0);
    assert_int_equal(teep_peek(buf, len - 1, TEEP_PEEK_AUTO, &p, &diag),
                     TEEP_E_TRUNCATED);
    /* untagged: not COSE */
    assert_int_equal(teep_peek(buf + 1, len - 1, TEEP_PEEK_AUTO, &p, &diag),
                     TEEP_E_COSE);
    /* trailing byte */
    uint8_t *longer = malloc(len + 1);
    memcpy(longer, buf, len);
    longer[len] = 0;
    assert_int_equal(teep_peek(longer, len + 1, TEEP_PEEK_AUTO, &p, &diag),
                     TEEP_E_TRAILING);
    assert_int_equal(diag.offset, len);
    free(longer);
    /* wrong tag */
    buf[0] = 0xd1;
    assert_int_equal(teep_peek(buf, len, TEEP_PEEK_AUTO, &p, &diag),
                     TEEP_E_COSE);
    free(buf);

    /* a payload that is not a TEEP array, and one nested too deeply */
    static const uint8_t not_array[] = {0xd2, 0x84, 0x40, 0xa0,
                                        0x41, 0x01, 0x40};
    assert_int_equal(
        teep_peek(not_array, sizeof(not_array), TEEP_PEEK_AUTO, &p, &diag),
        TEEP_E_TYPE);
    uint8_t deep[64] = {0xd2, 0x84, 0x40, 0xa0, 0x58,
                        41,   0x82, 0x01, 0xa1, 0x01};
    for (size_t i = 10; i < 10 + 36; i++)
        deep[i] = 0x81;
    deep[46] = 0x00;
    deep[47] = 0x40;
    assert_int_equal(teep_peek(deep, 48, TEEP_PEEK_AUTO, &p, &diag),
                     TEEP_E_DEPTH);
    assert_true(diag.offset > 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(peeks_every_signed_vector),
        cmocka_unit_test(refuses_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
