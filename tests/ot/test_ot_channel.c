/*
 * test_ot_channel.c: the CC-OT channel between the Collector
 * (examples/ot/ot_collector.c, included to reach its static functions)
 * and the real ot-lookup TA binary, run with its channel on fd 3 as the
 * sim runs it: right records, no query before attestation and key
 * agreement, no key agreement with a TA whose channel key is not the
 * attested one, tampered or replayed queries and tampered answers refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define main collector_main
#include "../../examples/ot/ot_collector.c"
#undef main

typedef struct fixture {
    col_ta_t ta;
    col_session_t s;
    char table[32];
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    snprintf(f->table, sizeof(f->table), "/tmp/test-ot-table.XXXXXX");
    int fd = mkstemp(f->table);
    size_t len;
    uint8_t *blob = ot_table_make(200, 256, &len);
    if (fd < 0 || blob == NULL || write(fd, blob, len) != (ssize_t)len)
        return -1;
    close(fd);
    free(blob);
    f->ta.fd = -1;
    if (col_ta_spawn(&f->ta, OT_LOOKUP_TA, f->table) != 0)
        return -1;
    f->s.ta = &f->ta;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    close(f->ta.fd);
    waitpid(f->ta.pid, NULL, 0);
    unlink(f->table);
    free(f);
    return 0;
}

/* Send req and expect a refusal containing why. */
static void refused(fixture_t *f, const uint8_t *req, size_t n, const char *why)
{
    uint8_t *ans = NULL;
    size_t len = 0;
    assert_int_equal(col_invoke(&f->ta, req, n, &ans, &len), 0);
    assert_true(len >= 1 && ans[0] == OT_MSG_ERROR);
    char text[128];
    snprintf(text, sizeof(text), "%.*s", (int)len - 1, (const char *)ans + 1);
    assert_non_null(strstr(text, why));
    free(ans);
}

static void no_query_before_attestation(void **state)
{
    fixture_t *f = *state;
    uint8_t rec[256];
    /* The Collector: no key agreement, no query while not attested. */
    assert_int_equal(col_handshake(&f->s), -EACCES);
    assert_int_equal(col_query(&f->s, 3, rec), -EACCES);
    assert_int_equal(f->ta.count.sent, 0);
    /* The TA: a query without an agreed channel is refused. */
    uint8_t q[1 + OT_SEQ_LEN + 4 + OT_TAG_LEN] = {
        OT_MSG_QUERY, 0, 0, 0, 0, 0, 0, 0, 1};
    refused(f, q, sizeof(q), "no channel");
}

static void right_records_after_attestation(void **state)
{
    fixture_t *f = *state;
    f->s.attested = 1; /* the check itself needs a TAM: test_ot_demo.sh */
    assert_int_equal(col_handshake(&f->s), 0);
    assert_int_equal(f->s.n, 200);
    uint8_t rec[256], want[256];
    for (int q = 0; q < 20; q++) {
        uint32_t idx = q == 0 ? 0 : q == 1 ? 199 : col_random_index(200);
        assert_int_equal(col_query(&f->s, idx, rec), 0);
        ot_record_expected(idx, 256, want);
        assert_memory_equal(rec, want, 256);
    }
}

static void tampered_query_and_answer(void **state)
{
    fixture_t *f = *state;
    f->s.attested = 1;
    assert_int_equal(col_handshake(&f->s), 0);
    uint8_t req[1 + OT_SEQ_LEN + 4 + OT_TAG_LEN], rec[256], want[256];
    /* Every byte of the sealed index and its tag is protected. */
    for (size_t k = 1 + OT_SEQ_LEN; k < sizeof(req); k += 3) {
        assert_int_equal(col_query_make(&f->s, 7, req), 0);
        req[k] ^= 0x40;
        refused(f, req, sizeof(req), "authentication failed");
    }
    /* The sequence number is authenticated too. */
    assert_int_equal(col_query_make(&f->s, 7, req), 0);
    req[OT_SEQ_LEN] ^= 0x01;
    refused(f, req, sizeof(req), "");
    /* A replayed query is refused. */
    uint8_t *ans = NULL;
    size_t len = 0;
    assert_int_equal(col_query_make(&f->s, 9, req), 0);
    assert_int_equal(col_invoke(&f->ta, req, sizeof(req), &ans, &len), 0);
    assert_int_equal(col_answer_open(&f->s, ans, len, rec), 0);
    ot_record_expected(9, 256, want);
    assert_memory_equal(rec, want, 256);
    refused(f, req, sizeof(req), "replayed");
    /* A tampered answer: any flipped byte of it is rejected. */
    for (size_t k = 0; k < len; k += 29) {
        ans[k] ^= 0x20;
        assert_int_not_equal(col_answer_open(&f->s, ans, len, rec), 0);
        ans[k] ^= 0x20;
    }
    assert_int_equal(col_answer_open(&f->s, ans, len, rec), 0);
    free(ans);
    /* And the channel still works after the refusals. */
    assert_int_equal(col_query(&f->s, 42, rec), 0);
    ot_record_expected(42, 256, want);
    assert_memory_equal(rec, want, 256);
}

/* The TA registers its channel key on its channel ('K', what the sim TEE
 * puts into its Evidence); the Collector agrees a key only with a TA whose
 * key has the attested hash. */
static void attested_key_checked(void **state)
{
    fixture_t *f = *state;
    uint64_t cpu;
    /* An invocation that trusts nothing: the key packet came before its
     * answer. */
    assert_int_equal(col_ta_cpu(&f->ta, &cpu), 0);
    assert_true(f->ta.has_key);
    uint8_t wrong[32];
    memcpy(wrong, f->ta.key_sha256, 32);
    wrong[31] ^= 1;
    f->s.attested = 1;
    f->s.attested_key = wrong;
    uint64_t sent = f->ta.count.sent;
    uint8_t rec[256], want[256];
    assert_int_equal(col_handshake(&f->s), -EACCES);
    /* Only the hello went out: no Collector key, no query. */
    assert_int_equal(f->ta.count.sent - sent, 2);
    assert_int_equal(col_query(&f->s, 5, rec), -EACCES);
    assert_int_equal(f->ta.count.sent - sent, 2);
    /* The registered key is the one the TA hands out. */
    f->s.attested_key = f->ta.key_sha256;
    assert_int_equal(col_handshake(&f->s), 0);
    uint8_t h[32];
    assert_int_equal(
        EVP_Digest(f->s.ta_pub, OT_PUB_LEN, h, NULL, EVP_sha256(), NULL), 1);
    assert_memory_equal(h, f->ta.key_sha256, 32);
    assert_int_equal(col_query(&f->s, 5, rec), 0);
    ot_record_expected(5, 256, want);
    assert_memory_equal(rec, want, 256);
}

/* The TA key in an attestation result as the TAM's admin API returns it:
 * only the ot-lookup TA's ta-keys entry counts. */
static void attested_key_from_result(void **state)
{
    (void)state;
    char id_hex[2 * sizeof(col_ta_id) + 1], hash_hex[65], text[512];
    uint8_t hash[32], got[32];
    for (int k = 0; k < 32; k++)
        hash[k] = (uint8_t)(k * 7 + 1);
    col_hex(col_ta_id, sizeof(col_ta_id), id_hex);
    col_hex(hash, 32, hash_hex);
    json_t *none = json_pack("{s:s, s:{}}", "status", "affirming", "claims");
    assert_int_equal(col_attested_ta_key(none, got), -ENOENT);
    json_decref(none);
    snprintf(text, sizeof(text),
             "{\"claims\": {\"ta_keys\": [{\"component_id\": \"8141\", "
             "\"key_sha256\": \"%s\"}]}}",
             hash_hex);
    json_t *other = json_loads(text, 0, NULL);
    assert_non_null(other);
    assert_int_equal(col_attested_ta_key(other, got), -ENOENT);
    json_decref(other);
    snprintf(text, sizeof(text),
             "{\"claims\": {\"ta_keys\": [{\"component_id\": \"%s\", "
             "\"key_sha256\": \"%s\"}]}}",
             id_hex, hash_hex);
    json_t *ours = json_loads(text, 0, NULL);
    assert_non_null(ours);
    assert_int_equal(col_attested_ta_key(ours, got), 0);
    assert_memory_equal(got, hash, 32);
    json_decref(ours);
}

static void bad_collector_key(void **state)
{
    fixture_t *f = *state;
    uint8_t req[1 + OT_PUB_LEN] = {OT_MSG_KEY, 0x04};
    memset(req + 2, 0x11, sizeof(req) - 2);
    refused(f, req, sizeof(req), "bad collector key");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(no_query_before_attestation, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(right_records_after_attestation, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(tampered_query_and_answer, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(attested_key_checked, setup, teardown),
        cmocka_unit_test(attested_key_from_result),
        cmocka_unit_test_setup_teardown(bad_collector_key, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
