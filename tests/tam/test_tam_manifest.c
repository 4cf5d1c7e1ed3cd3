/* test_tam_manifest: the signed envelopes the TAM keeps per TA version
 * (manifest_cache.c): the same package and component give the same bytes,
 * anything that changes the manifest gives a new one, the least recently
 * used goes when the table is full, and what is served verifies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>

#include "teep/suit.h"

#include "internal.h"
#include "tam_fixture.h"

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof(*f));
    fx_setup(f, ":memory:", TEEP_PROFILE_RFC);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_teardown(*state);
    free(*state);
    return 0;
}

typedef struct envelope {
    uint8_t *bytes;
    size_t len;
} envelope_t;

/* Package id (metadata only, as session.c loads it) as component. */
static envelope_t get(fx_t *f, int64_t id, const char *component)
{
    tam_store_t *s = tam_pool_get(&f->tam);
    tam_package_t p;
    envelope_t e = {0};
    assert_int_equal(tam_package_load(s, id, false, &p), 0);
    assert_null(p.content);
    assert_int_equal(
        tam_manifest_envelope(&f->tam, s, &p, component, &e.bytes, &e.len), 0);
    tam_pool_put(&f->tam, s);
    return e;
}

static bool same(const envelope_t *a, const envelope_t *b)
{
    return a->len == b->len && memcmp(a->bytes, b->bytes, a->len) == 0;
}

static int64_t add_ta(fx_t *f, const char *name, uint8_t fill)
{
    uint8_t image[1024];
    memset(image, fill, sizeof(image));
    tam_package_t p = {.kind = TAM_PKG_TA};
    snprintf(p.name, sizeof(p.name), "%s", name);
    tam_store_t *s = tam_pool_get(&f->tam);
    assert_int_equal(tam_package_add(s, &p, image, sizeof(image), f->now), 0);
    tam_pool_put(&f->tam, s);
    return p.id;
}

/* ECDSA signatures are randomised: equal bytes mean the envelope was
 * served from the cache, different bytes that it was built again. */
static void same_package_same_bytes(void **state)
{
    fx_t *f = *state;
    int64_t v1 = add_ta(f, "cached-ta", 1);
    envelope_t a = get(f, v1, "TEE/process/cached-ta/ta");
    envelope_t b = get(f, v1, "TEE/process/cached-ta/ta");
    assert_true(same(&a, &b));

    /* What is served is a valid envelope signed by the TC signer. */
    teep_suit_envelope_t env;
    assert_int_equal(teep_suit_envelope_decode(b.bytes, b.len, &env, NULL), 0);
    assert_int_equal(
        teep_suit_envelope_verify(&env, &f->tam.keys.tc_signer, 1, NULL), 0);

    /* Another component, or a new version (another sequence number and
     * image): another manifest. */
    envelope_t c = get(f, v1, "TEE/container/cached-ta/ta");
    assert_false(same(&a, &c));
    int64_t v2 = add_ta(f, "cached-ta", 2);
    envelope_t d = get(f, v2, "TEE/process/cached-ta/ta");
    assert_false(same(&a, &d));
    envelope_t e = get(f, v2, "TEE/process/cached-ta/ta");
    assert_true(same(&d, &e));
    envelope_t *all[] = {&a, &b, &c, &d, &e};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        free(all[i]->bytes);
}

static void least_recently_used_goes(void **state)
{
    fx_t *f = *state;
    int64_t id = add_ta(f, "many-ta", 3);
    envelope_t first = get(f, id, "TEE/process/c0/ta");
    envelope_t keep = get(f, id, "TEE/process/c1/ta");
    /* Fill the table; c1 is used all along, c0 never again. */
    for (int i = 2; i < TAM_MANIFEST_CACHE_ENTRIES + 1; i++) {
        char component[64];
        snprintf(component, sizeof(component), "TEE/process/c%d/ta", i);
        envelope_t e = get(f, id, component);
        free(e.bytes);
        envelope_t k = get(f, id, "TEE/process/c1/ta");
        assert_true(same(&keep, &k));
        free(k.bytes);
    }
    envelope_t again = get(f, id, "TEE/process/c0/ta");
    assert_false(same(&first, &again)); /* evicted, built anew */
    envelope_t k = get(f, id, "TEE/process/c1/ta");
    assert_true(same(&keep, &k));
    free(first.bytes);
    free(keep.bytes);
    free(again.bytes);
    free(k.bytes);
}

static void unknown_package(void **state)
{
    fx_t *f = *state;
    tam_store_t *s = tam_pool_get(&f->tam);
    tam_package_t p = {.id = 999, .kind = TAM_PKG_TA};
    uint8_t *out = NULL;
    size_t len = 0;
    assert_int_equal(
        tam_manifest_envelope(&f->tam, s, &p, "TEE/process/x/ta", &out, &len),
        -ENOENT);
    assert_null(out);
    tam_pool_put(&f->tam, s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(same_package_same_bytes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(least_recently_used_goes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(unknown_package, setup, teardown),
    };
    tam_log_set_level(TEEP_LOG_WARN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
