/*
 * Tests of the per-thread block lists (net/blocks.h) under the buffers
 * (teep/buf.h): the class of a size, buffers and views of every class
 * keep their bytes, a block given back is taken again (not in sanitizer
 * builds, which keep none), a buffer grown past its class and one whose
 * last reference goes on another thread are released correctly, and a
 * thread that ends frees its lists (the sanitizer build checks leaks).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>
#include <uv.h>

#include "blocks.h"
#include "teep/buf.h"

#if defined(__SANITIZE_ADDRESS__)
#define CACHED 0
#else
#define CACHED 1
#endif

static void test_classes(void **state)
{
    (void)state;
    assert_int_equal(teep_net__block_class(1), TEEP_NET__BLOCK_64);
    assert_int_equal(teep_net__block_class(64), TEEP_NET__BLOCK_64);
    assert_int_equal(teep_net__block_class(65), TEEP_NET__BLOCK_512);
    assert_int_equal(teep_net__block_class(512), TEEP_NET__BLOCK_512);
    assert_int_equal(teep_net__block_class(1024), TEEP_NET__BLOCK_1024);
    assert_int_equal(teep_net__block_class(1025), TEEP_NET__BLOCK_NONE);
    teep_net__block_put(TEEP_NET__BLOCK_NONE, NULL);
    teep_net__block_put(TEEP_NET__BLOCK_64, NULL);
}

static void test_reuse(void **state)
{
    (void)state;
    for (unsigned c = TEEP_NET__BLOCK_64; c < TEEP_NET__BLOCK_CLASSES; c++) {
        void *a = teep_net__block_get(c);
        assert_non_null(a);
        teep_net__block_put(c, a);
        void *b = teep_net__block_get(c);
        if (CACHED)
            assert_ptr_equal(a, b);
        teep_net__block_put(c, b);
    }
}

/* Buffers of each size class and beyond, a view of each, in a loop that
 * gives blocks back and takes them again: bytes stay what was written. */
static void test_buffers(void **state)
{
    (void)state;
    static const size_t sizes[] = {0, 1, 16, 400, 460, 900, 2000, 20000};
    for (unsigned round = 0; round < 50; round++) {
        for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
            uint8_t fill = (uint8_t)(round * 7 + i);
            teep_buf_t *b = teep_buf_new(8, sizes[i]);
            assert_non_null(b);
            assert_int_equal(teep_buf_headroom(b), 8);
            assert_int_equal(teep_buf_tailroom(b), sizes[i]);
            memset(b->last, fill, sizes[i]);
            b->last += sizes[i];
            teep_buf_t *v = teep_buf_view(b, b->pos, teep_buf_len(b));
            assert_non_null(v);
            teep_buf_unref(b); /* the view holds it */
            for (size_t k = 0; k < teep_buf_len(v); k++)
                assert_int_equal(v->pos[k], fill);
            teep_buf_unref(v);
        }
    }
}

/* A small buffer grown past its class by teep_buf_reserve is no longer
 * a block of that class: released as plain memory. */
static void test_reserve_leaves_class(void **state)
{
    (void)state;
    teep_buf_t *b = teep_buf_copy(0, "head", 4);
    assert_non_null(b);
    assert_int_equal(teep_buf_reserve(&b, 4000), 0);
    memset(b->last, 'x', 4000);
    b->last += 4000;
    assert_memory_equal(b->pos, "head", 4);
    teep_buf_unref(b);
    /* The class's next block is whole. */
    teep_buf_t *c = teep_buf_new(0, 400);
    assert_non_null(c);
    memset(c->pos, 'y', 400);
    teep_buf_unref(c);
}

static teep_buf_t *handed[64];

static void release_all(void *arg)
{
    (void)arg;
    for (size_t i = 0; i < 64; i++)
        teep_buf_unref(handed[i]); /* last references, on this thread */
    /* Blocks this thread takes and gives back: its lists, freed when it
     * ends. */
    for (size_t i = 0; i < 64; i++)
        teep_buf_unref(teep_buf_new(0, 100));
}

static void test_other_thread(void **state)
{
    (void)state;
    for (size_t i = 0; i < 64; i++) {
        teep_buf_t *parent = teep_buf_new(0, 100 + i);
        assert_non_null(parent);
        handed[i] = i % 2 ? teep_buf_view(parent, parent->pos, 10) : parent;
        if (i % 2)
            teep_buf_unref(parent);
    }
    uv_thread_t t;
    assert_int_equal(uv_thread_create(&t, release_all, NULL), 0);
    assert_int_equal(uv_thread_join(&t), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classes),
        cmocka_unit_test(test_reuse),
        cmocka_unit_test(test_buffers),
        cmocka_unit_test(test_reserve_leaves_class),
        cmocka_unit_test(test_other_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
