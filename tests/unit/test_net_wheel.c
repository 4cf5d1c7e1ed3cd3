/*
 * Tests of the connections' timing wheel (net/wheel.h) on a real libuv
 * loop: every armed entry runs once and never before it is due, in due
 * order; a stopped entry never runs, a moved one runs at its new time,
 * callbacks may arm and stop entries (also ones of the same slot), a
 * deadline past a whole turn of the wheel waits for its turn, and the
 * loop ends by itself once nothing is armed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "wheel.h"

enum { N = 9 };

typedef struct fixture {
    uv_loop_t loop;
    teep_http__wheel_t wheel;
    teep_http__timer_t t[N];
    uint64_t due[N]; /* what each was last armed for */
    uint64_t ran_at[N];
    unsigned runs[N];
    int order[N];
    unsigned n_ran;
    uint64_t start;
} fixture_t;

static fixture_t f;

static int index_of(teep_http__timer_t *t)
{
    return (int)(t - f.t);
}

static void arm(int i, uint64_t ms)
{
    f.due[i] = f.start + ms;
    teep_http__timer_start(&f.wheel, &f.t[i], f.due[i]);
}

/* Entry 0 arms entry 6 from its callback; entry 1 stops entry 7, which is
 * due in the same slot and already taken out with it. */
static void on_due(teep_http__wheel_t *w, teep_http__timer_t *t)
{
    int i = index_of(t);
    assert_ptr_equal(w, &f.wheel);
    assert_int_equal(t->due, 0); /* stopped before its callback */
    f.ran_at[i] = uv_now(&f.loop);
    f.runs[i]++;
    f.order[f.n_ran++] = i;
    if (i == 0)
        arm(6, 200);
    if (i == 1)
        teep_http__timer_stop(&f.wheel, &f.t[7]);
}

static void closed(uv_handle_t *h)
{
    (void)h;
}

static void test_wheel(void **state)
{
    (void)state;
    memset(&f, 0, sizeof(f));
    assert_int_equal(uv_loop_init(&f.loop), 0);
    teep_http__wheel_init(&f.wheel, &f.loop, on_due);
    for (int i = 0; i < N; i++)
        teep_http__timer_init(&f.t[i]);
    f.start = uv_now(&f.loop);
    /* Deadlines 40 ms (more than two ticks) apart fall in different
     * ticks, so the order they run in is known. */
    arm(0, 120);
    arm(1, 40);
    arm(7, 40); /* stopped by 1's callback */
    arm(2, 240);
    teep_http__timer_stop(&f.wheel, &f.t[2]); /* never runs */
    teep_http__timer_stop(&f.wheel, &f.t[2]); /* twice: harmless */
    arm(3, 400);
    arm(3, 80); /* moved earlier */
    arm(4, 5);
    arm(4, 160); /* moved later */
    /* Past one turn of the wheel: met by its slot first, then kept. */
    arm(5, TEEP_HTTP__WHEEL_SLOTS * TEEP_HTTP__WHEEL_TICK_MS + 100);
    arm(8, 0); /* due at once */
    /* Runs until nothing is armed: the wheel's timer then stops. */
    assert_int_equal(uv_run(&f.loop, UV_RUN_DEFAULT), 0);

    static const int want[] = {8, 1, 3, 0, 4, 6, 5};
    assert_int_equal(f.n_ran, sizeof(want) / sizeof(want[0]));
    for (unsigned k = 0; k < f.n_ran; k++)
        assert_int_equal(f.order[k], want[k]);
    for (int i = 0; i < N; i++) {
        bool should = i != 2 && i != 7;
        assert_int_equal(f.runs[i], should ? 1 : 0);
        if (should)
            assert_true(f.ran_at[i] >= f.due[i]);
    }
    teep_http__wheel_close(&f.wheel, closed);
    assert_int_equal(uv_run(&f.loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&f.loop), 0);
}

/* An entry re-armed from its own callback, many times over: the slot
 * being run must not lose it or run it twice in one pass. */
static unsigned rearms;

static void on_rearm(teep_http__wheel_t *w, teep_http__timer_t *t)
{
    if (++rearms < 20)
        teep_http__timer_start(w, t, uv_now(w->timer.loop) + 1);
}

static void test_rearm_from_callback(void **state)
{
    (void)state;
    uv_loop_t loop;
    teep_http__wheel_t w;
    teep_http__timer_t t;
    assert_int_equal(uv_loop_init(&loop), 0);
    teep_http__wheel_init(&w, &loop, on_rearm);
    teep_http__timer_init(&t);
    rearms = 0;
    teep_http__timer_start(&w, &t, uv_now(&loop) + 1);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(rearms, 20);
    assert_int_equal(t.due, 0);
    teep_http__wheel_close(&w, closed);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* Once the last entry is stopped nothing keeps the loop alive: a loop
 * whose connections are all quiet may end. */
static void test_last_stop_lets_loop_end(void **state)
{
    (void)state;
    uv_loop_t loop;
    teep_http__wheel_t w;
    teep_http__timer_t a, b;
    assert_int_equal(uv_loop_init(&loop), 0);
    teep_http__wheel_init(&w, &loop, on_rearm);
    teep_http__timer_init(&a);
    teep_http__timer_init(&b);
    uint64_t now = uv_now(&loop);
    teep_http__timer_start(&w, &a, now + 10000);
    teep_http__timer_start(&w, &b, now + 20000);
    assert_true(uv_loop_alive(&loop));
    teep_http__timer_stop(&w, &a);
    assert_true(uv_loop_alive(&loop));           /* b is still armed */
    teep_http__timer_start(&w, &b, now + 30000); /* moved: still armed */
    assert_true(uv_loop_alive(&loop));
    teep_http__timer_stop(&w, &b);
    assert_false(uv_loop_alive(&loop));
    teep_http__wheel_close(&w, closed);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wheel),
        cmocka_unit_test(test_rearm_from_callback),
        cmocka_unit_test(test_last_stop_lets_loop_end),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
