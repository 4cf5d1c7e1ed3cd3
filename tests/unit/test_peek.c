/* Unit tests of teep_peek (proto/peek.c): the relay path's view. */
/* cmocka.h needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <stdbool.h>
#include <string.h>

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

/* A COSE_Sign1 of the TEEP message [1, {}] whose unprotected header maps
 * label 1 to value[0..n): the part of the input peek only skips.  Returns
 * the length written to out. */
static size_t sign1_with_skipped(const uint8_t *value, size_t n, uint8_t *out)
{
    static const uint8_t head[] = {0xd2, 0x84, 0x40, 0xa1, 0x01};
    static const uint8_t tail[] = {0x43, 0x82, 0x01, 0xa0, 0x40};
    memcpy(out, head, sizeof(head));
    memcpy(out + sizeof(head), value, n);
    memcpy(out + sizeof(head) + n, tail, sizeof(tail));
    return sizeof(head) + n + sizeof(tail);
}

/* The skip (unprotected header, signature, the payload past the options)
 * is where most of a message's heads are: it must hold peek's contract as
 * strictly as the elements peek reads, each refusal naming the byte. */
static void refuses_malformed_where_it_skips(void **state)
{
    (void)state;
    static const struct {
        uint8_t value[8];
        size_t n;
        int code;
    } bad[] = {
        {{0x9f, 0x00, 0xff}, 3, TEEP_E_INDEFINITE},            /* [_ 0] */
        {{0x5f, 0x40, 0xff}, 3, TEEP_E_INDEFINITE},            /* (_ h'') */
        {{0x9a, 0xff, 0xff, 0xff, 0xff}, 5, TEEP_E_TRUNCATED}, /* count */
        {{0x5a, 0x00, 0x01, 0x00, 0x00}, 5, TEEP_E_TRUNCATED}, /* length */
        {{0x1b, 0x00, 0x00}, 3, TEEP_E_TRUNCATED},             /* short uint */
        {{0x1c}, 1, TEEP_E_CBOR},                              /* reserved */
        {{0xf8, 0x10}, 2, TEEP_E_CBOR},                        /* simple < 32 */
        {{0xff}, 1, TEEP_E_INDEFINITE},                        /* lone break */
        {{0x62, 0xc3, 0x28}, 3, TEEP_E_CBOR},                  /* bad UTF-8 */
    };
    uint8_t buf[64];
    teep_peek_t p;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        teep_diag_t diag = {0};
        size_t len = sign1_with_skipped(bad[i].value, bad[i].n, buf);
        int rc = teep_peek(buf, len, TEEP_PEEK_AUTO, &p, &diag);
        if (rc != bad[i].code)
            print_error("case %zu: %d (%s)\n", i, rc, diag.reason);
        assert_int_equal(rc, bad[i].code);
        assert_int_equal(diag.code, rc);
        assert_int_equal(diag.offset, 5); /* the value's first byte */
    }
    /* well-formed if unusual: tag 1, a text string, a half float, false,
     * an empty map */
    static const uint8_t fine[] = {0x85, 0xc1, 0x01, 0x63, 'a',  'b',
                                   'c',  0xf9, 0x3c, 0x00, 0xf4, 0xa0};
    size_t len = sign1_with_skipped(fine, sizeof(fine), buf);
    assert_int_equal(teep_peek(buf, len, TEEP_PEEK_AUTO, &p, NULL), 0);
    assert_int_equal(p.wire_type, 1);

    /* depth: an empty array still opens a level, a scalar does not */
    uint8_t chain[40];
    size_t limit = 0;
    for (size_t k = 1; k < 30 && limit == 0; k++) {
        memset(chain, 0x81, k);
        chain[k] = 0x80;
        len = sign1_with_skipped(chain, k + 1, buf);
        teep_diag_t diag = {0};
        if (teep_peek(buf, len, TEEP_PEEK_AUTO, &p, &diag) != 0) {
            assert_int_equal(diag.code, TEEP_E_DEPTH);
            assert_int_equal(diag.offset, 5 + k); /* the empty array */
            limit = k;
        }
    }
    assert_true(limit > 0 && limit < TEEP_MAX_DEPTH);
    chain[limit] = 0x00;
    len = sign1_with_skipped(chain, limit + 1, buf);
    assert_int_equal(teep_peek(buf, len, TEEP_PEEK_AUTO, &p, NULL), 0);
}

/* Each refusal of the COSE and TEEP walk with its code, offset and words,
 * as the relay logs them: they stay what they were before peek read its
 * heads on the reader's lean path. */
static void refusal_reasons_are_stable(void **state)
{
    (void)state;
    static const struct {
        uint8_t in[16];
        size_t n;
        int code;
        size_t offset;
        const char *reason;
    } cases[] = {
        {{0x63, 'a', 'b', 'c'},
         4,
         TEEP_E_COSE,
         0,
         "not a tagged COSE structure"},
        {{0xd8, 0x19, 0x80},
         3,
         TEEP_E_COSE,
         0,
         "tag 25 is neither COSE_Sign1 (18) nor COSE_Sign (98)"},
        {{0xd2, 0x63, 'a', 'b', 'c'},
         5,
         TEEP_E_TYPE,
         1,
         "COSE structure: expected array, got text string"},
        {{0xd2, 0x83, 0x40, 0xa0, 0x40},
         5,
         TEEP_E_COSE,
         1,
         "COSE structure has 3 elements, not 4"},
        {{0xd2, 0x85, 0x40, 0xa0, 0x40, 0x40},
         6,
         TEEP_E_TRUNCATED,
         1,
         "array of 5 elements in 4 bytes"},
        {{0xd2, 0x84, 0xf5, 0xa0, 0x40, 0x40},
         6,
         TEEP_E_TYPE,
         2,
         "protected header: expected byte string, got true"},
        {{0xd2, 0x84, 0x41, 0x9f, 0xa0, 0x40, 0x40},
         7,
         TEEP_E_INDEFINITE,
         3,
         "indefinite-length item or break"},
        {{0xd2, 0x84, 0x40, 0x80, 0x40, 0x40},
         6,
         TEEP_E_TYPE,
         3,
         "unprotected header: expected map, got array"},
        {{0xd2, 0x84, 0x40, 0xa1, 0x01, 0x9b, 0xff, 0xff, 0xff, 0xff, 0xff,
          0xff, 0xff, 0xff, 0x40, 0x40},
         16,
         TEEP_E_TRUNCATED,
         5,
         "array of 18446744073709551615 elements in 2 bytes"},
        {{0xd2, 0x84, 0x40, 0xa0, 0xf6, 0x40},
         6,
         TEEP_E_TYPE,
         4,
         "COSE payload: expected byte string, got null"},
        {{0xd2, 0x84, 0x40, 0xa0, 0x43, 0x82, 0x01, 0xa0, 0x80},
         9,
         TEEP_E_COSE,
         8,
         "COSE_Sign1: signature element is a array"},
        {{0xd8, 0x62, 0x84, 0x40, 0xa0, 0x43, 0x82, 0x01, 0xa0, 0x40},
         10,
         TEEP_E_COSE,
         9,
         "COSE_Sign: signature element is a byte string"},
        {{0xd2, 0x84, 0x40, 0xa0, 0x42, 0x81, 0x01, 0x40},
         8,
         TEEP_E_MISSING,
         5,
         "TEEP message: 1 elements, needs type and options"},
        {{0xd2, 0x84, 0x40, 0xa0, 0x43, 0x82, 0x20, 0xa0, 0x40},
         9,
         TEEP_E_TYPE,
         6,
         "TEEP type: expected unsigned integer, got negative integer"},
        {{0xd2, 0x84, 0x40, 0xa0, 0x43, 0x82, 0x01, 0x80, 0x40},
         9,
         TEEP_E_TYPE,
         7,
         "TEEP options: expected map, got array"},
        {{0xd2, 0x84, 0x40, 0xa0, 0x44, 0x82, 0x01, 0xa0, 0x00, 0x40},
         10,
         TEEP_E_TRAILING,
         8,
         "1 trailing bytes after the item"},
        {{0xd2, 0x84, 0x40, 0xa0, 0x43, 0x83, 0x01, 0xa0, 0x40},
         9,
         TEEP_E_TRUNCATED,
         5,
         "array of 3 elements in 2 bytes"},
        {{0}, 0, TEEP_E_TRUNCATED, 0, "input ends where an item was expected"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        teep_peek_t p;
        teep_diag_t diag = {0};
        int rc = teep_peek(cases[i].in, cases[i].n, TEEP_PEEK_AUTO, &p, &diag);
        if (rc != cases[i].code || strcmp(diag.reason, cases[i].reason) != 0)
            print_error("case %zu: %d '%s' at %zu\n", i, rc, diag.reason,
                        diag.offset);
        assert_int_equal(rc, cases[i].code);
        assert_int_equal(diag.code, rc);
        assert_int_equal(diag.offset, cases[i].offset);
        assert_string_equal(diag.reason, cases[i].reason);
    }
}

/* Mutations of every signed vector (fixed seed): accepted or refused,
 * peek keeps its contract -- a refusal names a byte of the input, what it
 * accepts points into the input -- and NULL diag changes nothing. */
static void mutated_vectors_keep_the_contract(void **state)
{
    (void)state;
    static const char *names[] = {
        "gen_tp26_query_request_cose_sign.hex",
        "gen_tp26_query_response_cose_sign1_esp256.hex",
        "gen_tp26_update_cose_sign1_esp256.hex",
        "gen_tp26_teep_error_cose_sign1_esp256.hex",
        "libteep_update_cose.hex",
    };
    uint64_t seed = 0x2545f4914f6cdd1du;
    for (size_t v = 0; v < sizeof(names) / sizeof(names[0]); v++) {
        size_t len = 0;
        uint8_t *orig = vector_load_hex(names[v], &len);
        assert_non_null(orig);
        uint8_t *buf = malloc(len);
        for (int round = 0; round < 2000; round++) {
            memcpy(buf, orig, len);
            for (int k = 0; k < 2; k++) {
                seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
                buf[(seed >> 8) % len] = (uint8_t)seed;
            }
            teep_peek_t p, q;
            teep_diag_t diag = {0};
            int rc = teep_peek(buf, len, TEEP_PEEK_AUTO, &p, &diag);
            assert_int_equal(teep_peek(buf, len, TEEP_PEEK_AUTO, &q, NULL), rc);
            if (rc != 0) {
                assert_int_equal(diag.code, rc);
                assert_true(diag.offset <= len);
                continue;
            }
            assert_true(p.payload.ptr > buf &&
                        p.payload.ptr + p.payload.len <= buf + len);
            assert_true(
                p.token.ptr == NULL ||
                (p.token.ptr >= p.payload.ptr &&
                 p.token.ptr + p.token.len <= p.payload.ptr + p.payload.len));
        }
        free(buf);
        free(orig);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(peeks_every_signed_vector),
        cmocka_unit_test(refuses_malformed),
        cmocka_unit_test(refuses_malformed_where_it_skips),
        cmocka_unit_test(refusal_reasons_are_stable),
        cmocka_unit_test(mutated_vectors_keep_the_contract),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
