/*
 * test_ot_classic.c: the classic 1-out-of-N OT (examples/ot/ot_classic.c)
 * and the table's constant-time select.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/rand.h>

#include "ot.h"

static uint32_t rnd(uint32_t n)
{
    uint32_t r;
    assert_int_equal(RAND_bytes((uint8_t *)&r, sizeof(r)), 1);
    return r % n;
}

/* One transfer of record idx; *answer_len gets what the server sent. */
static int transfer(const ot_table_t *t, uint32_t idx, uint8_t *out,
                    size_t *answer_len, int tamper)
{
    uint8_t a[OT_POINT_LEN], b[OT_POINT_LEN];
    ot_classic_server_t *s = ot_classic_server_new(a);
    assert_non_null(s);
    ot_classic_receiver_t *r = ot_classic_receiver_new(a, idx, b);
    assert_non_null(r);
    *answer_len = ot_classic_answer_len(t->n, t->size);
    uint8_t *ans = malloc(*answer_len);
    assert_non_null(ans);
    assert_int_equal(ot_classic_server_answer(s, b, t, ans), 0);
    if (tamper)
        ans[(size_t)idx * (t->size + OT_TAG_LEN) + rnd(t->size)] ^= 0x01;
    int rc = ot_classic_receiver_open(r, ans, t->n, t->size, out);
    free(ans);
    ot_classic_receiver_free(r);
    ot_classic_server_free(s);
    return rc;
}

static void right_record_for_random_indices(void **state)
{
    (void)state;
    static const uint32_t sizes[] = {256, 33, 1};
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        size_t len;
        uint8_t *blob = ot_table_make(64, sizes[k], &len);
        ot_table_t t;
        assert_int_equal(ot_table_parse(blob, len, &t), 0);
        uint8_t out[256], want[256];
        for (int q = 0; q < 8; q++) {
            uint32_t idx = q == 0 ? 0 : q == 1 ? t.n - 1 : rnd(t.n);
            size_t alen;
            assert_int_equal(transfer(&t, idx, out, &alen, 0), 0);
            ot_record_expected(idx, t.size, want);
            assert_memory_equal(out, want, t.size);
        }
        free(blob);
    }
}

static void server_messages_do_not_depend_on_index(void **state)
{
    (void)state;
    size_t len, first = 0;
    uint8_t *blob = ot_table_make(100, 256, &len);
    ot_table_t t;
    assert_int_equal(ot_table_parse(blob, len, &t), 0);
    uint8_t out[256];
    for (uint32_t idx = 0; idx < t.n; idx += 9) {
        size_t alen;
        assert_int_equal(transfer(&t, idx, out, &alen, 0), 0);
        if (first == 0)
            first = alen;
        /* A is one compressed point; the answer is every record. */
        assert_int_equal(alen, first);
        assert_int_equal(alen, (size_t)t.n * (t.size + OT_TAG_LEN));
    }
    free(blob);
}

static void only_the_chosen_record_opens(void **state)
{
    (void)state;
    size_t len;
    uint8_t *blob = ot_table_make(16, 64, &len);
    ot_table_t t;
    assert_int_equal(ot_table_parse(blob, len, &t), 0);
    uint8_t a[OT_POINT_LEN], b[OT_POINT_LEN], out[64];
    ot_classic_server_t *s = ot_classic_server_new(a);
    ot_classic_receiver_t *r = ot_classic_receiver_new(a, 5, b);
    uint8_t *ans = malloc(ot_classic_answer_len(t.n, t.size));
    assert_int_equal(ot_classic_server_answer(s, b, &t, ans), 0);
    assert_int_equal(ot_classic_receiver_open(r, ans, t.n, t.size, out), 0);
    /* k_5 opens no other record (the receiver's state is its key). */
    size_t rec = t.size + OT_TAG_LEN;
    memcpy(ans + 5 * rec, ans + 6 * rec, rec);
    assert_int_equal(ot_classic_receiver_open(r, ans, t.n, t.size, out),
                     -EBADMSG);
    /* An answer made for another B does not open either. */
    uint8_t b2[OT_POINT_LEN];
    ot_classic_receiver_t *r2 = ot_classic_receiver_new(a, 5, b2);
    assert_int_equal(ot_classic_server_answer(s, b2, &t, ans), 0);
    assert_int_equal(ot_classic_receiver_open(r, ans, t.n, t.size, out),
                     -EBADMSG);
    assert_int_equal(ot_classic_receiver_open(r2, ans, t.n, t.size, out), 0);
    uint8_t bad[OT_POINT_LEN] = {0x02};
    memset(bad + 1, 0xff, sizeof(bad) - 1);
    assert_int_equal(ot_classic_server_answer(s, bad, &t, ans), -EINVAL);
    free(ans);
    ot_classic_receiver_free(r);
    ot_classic_receiver_free(r2);
    ot_classic_server_free(s);
    free(blob);
}

static void tampered_ciphertext_is_rejected(void **state)
{
    (void)state;
    size_t len;
    uint8_t *blob = ot_table_make(32, 256, &len);
    ot_table_t t;
    assert_int_equal(ot_table_parse(blob, len, &t), 0);
    uint8_t out[256];
    for (int q = 0; q < 4; q++) {
        size_t alen;
        assert_int_equal(transfer(&t, rnd(t.n), out, &alen, 1), -EBADMSG);
    }
    free(blob);
}

static void constant_time_select(void **state)
{
    (void)state;
    size_t len;
    uint8_t *blob = ot_table_make(300, 37, &len);
    ot_table_t t;
    assert_int_equal(ot_table_parse(blob, len, &t), 0);
    uint8_t out[37], want[37], zero[37] = {0};
    for (uint32_t j = 0; j < t.n; j++) {
        ot_table_select(&t, j, out);
        ot_record_expected(j, t.size, want);
        assert_memory_equal(out, want, t.size);
    }
    ot_table_select(&t, t.n, out);
    assert_memory_equal(out, zero, t.size);
    assert_int_equal(ot_table_parse(blob, len - 1, &t), -EINVAL);
    free(blob);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(right_record_for_random_indices),
        cmocka_unit_test(server_messages_do_not_depend_on_index),
        cmocka_unit_test(only_the_chosen_record_opens),
        cmocka_unit_test(tampered_ciphertext_is_rejected),
        cmocka_unit_test(constant_time_select),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
