/*
 * A hashed timing wheel on one libuv timer (net/wheel.h).
 *
 * Slot s holds the entries whose due tick (due rounded up to the tick) is
 * congruent to s; an entry more than a turn away is met by its slot once
 * a turn and put back until its turn comes.  tick is the last tick whose
 * slot ran: the libuv timer is armed for the first non-empty slot after
 * it, found in the bitmap.
 */
#include "wheel.h"
#include "http_internal.h"

#define SLOT_MASK (TEEP_HTTP__WHEEL_SLOTS - 1)

static void wheel_cb(uv_timer_t *timer);

static uint64_t due_tick(uint64_t due)
{
    return (due + TEEP_HTTP__WHEEL_TICK_MS - 1) / TEEP_HTTP__WHEEL_TICK_MS;
}

static void mark(teep_http__wheel_t *w, unsigned slot, bool used)
{
    uint64_t bit = 1ull << (slot % 64);
    if (used)
        w->used[slot / 64] |= bit;
    else
        w->used[slot / 64] &= ~bit;
}

/* The first tick after w->tick whose slot holds an entry, or 0. */
static uint64_t next_used_tick(const teep_http__wheel_t *w)
{
    unsigned k = 1;
    while (k <= TEEP_HTTP__WHEEL_SLOTS) {
        unsigned slot = (unsigned)((w->tick + k) & SLOT_MASK);
        uint64_t bits = w->used[slot / 64] >> (slot % 64);
        if (bits != 0) {
            unsigned skip = (unsigned)__builtin_ctzll(bits);
            return k + skip <= TEEP_HTTP__WHEEL_SLOTS ? w->tick + k + skip : 0;
        }
        k += 64 - slot % 64; /* the rest of this word is empty */
    }
    return 0;
}

/* Arm the libuv timer for tick, unless it fires no later already. */
static void arm_for(teep_http__wheel_t *w, uint64_t tick)
{
    if (w->next_tick != 0 && w->next_tick <= tick)
        return;
    uint64_t now = uv_now(w->timer.loop);
    uint64_t at = tick * TEEP_HTTP__WHEEL_TICK_MS;
    uv_timer_start(&w->timer, wheel_cb, at > now ? at - now : 0, 0);
    w->next_tick = tick;
}

void teep_http__wheel_init(teep_http__wheel_t *w, uv_loop_t *loop,
                           teep_http__wheel_cb cb)
{
    memset(w, 0, sizeof(*w));
    uv_timer_init(loop, &w->timer); /* cannot fail */
    w->timer.data = w;
    w->cb = cb;
    w->tick = uv_now(loop) / TEEP_HTTP__WHEEL_TICK_MS;
    for (unsigned s = 0; s < TEEP_HTTP__WHEEL_SLOTS; s++)
        teep_http__list_init(&w->slots[s]);
}

void teep_http__wheel_close(teep_http__wheel_t *w, uv_close_cb close_cb)
{
    uv_close((uv_handle_t *)&w->timer, close_cb);
}

static void link_entry(teep_http__wheel_t *w, teep_http__timer_t *t)
{
    /* Without entries the libuv timer is not armed and tick may be old:
     * catch up, so the first slot armed for is not in the past. */
    if (w->next_tick == 0) {
        uint64_t now_tick = uv_now(w->timer.loop) / TEEP_HTTP__WHEEL_TICK_MS;
        if (now_tick > w->tick)
            w->tick = now_tick;
    }
    uint64_t tick = due_tick(t->due);
    if (tick <= w->tick)
        tick = w->tick + 1; /* due already: the next slot to run */
    unsigned slot = (unsigned)(tick & SLOT_MASK);
    teep_http__list_insert_tail(&w->slots[slot], &t->link);
    mark(w, slot, true);
    /* A deadline past this turn is met by its slot within the turn. */
    if (tick - w->tick > TEEP_HTTP__WHEEL_SLOTS)
        tick = w->tick + ((tick - w->tick - 1) & SLOT_MASK) + 1;
    arm_for(w, tick);
}

static void unlink_entry(teep_http__wheel_t *w, teep_http__timer_t *t)
{
    teep_http__link_t *next = t->link.next;
    teep_http__list_remove(&t->link);
    /* The slot is empty when the entry's neighbour is now alone: its
     * head (an entry taken out by wheel_cb may be in a list of its own,
     * whose head is not a slot). */
    uintptr_t p = (uintptr_t)next, first = (uintptr_t)w->slots;
    if (next->next != next || p < first ||
        p >= (uintptr_t)(w->slots + TEEP_HTTP__WHEEL_SLOTS))
        return;
    mark(w, (unsigned)((p - first) / sizeof(*next)), false);
    /* The last entry went: an armed timer would keep the loop alive. */
    for (unsigned i = 0; i < TEEP_HTTP__WHEEL_SLOTS / 64; i++)
        if (w->used[i] != 0)
            return;
    if (w->next_tick != 0) {
        uv_timer_stop(&w->timer);
        w->next_tick = 0;
    }
}

void teep_http__timer_start(teep_http__wheel_t *w, teep_http__timer_t *t,
                            uint64_t due)
{
    if (t->due != 0)
        unlink_entry(w, t);
    t->due = due != 0 ? due : 1;
    link_entry(w, t);
}

void teep_http__timer_stop(teep_http__wheel_t *w, teep_http__timer_t *t)
{
    if (t->due == 0)
        return;
    unlink_entry(w, t);
    t->due = 0;
}

static void wheel_cb(uv_timer_t *timer)
{
    teep_http__wheel_t *w = timer->data;
    uint64_t now = uv_now(timer->loop);
    uint64_t last = now / TEEP_HTTP__WHEEL_TICK_MS;
    w->next_tick = 0;
    /* Every slot from the last run up to now, once at most: take their
     * entries out first, so that callbacks may arm entries freely. */
    teep_http__link_t due;
    teep_http__list_init(&due);
    uint64_t from = w->tick + 1;
    if (last >= from + TEEP_HTTP__WHEEL_SLOTS)
        from = last - TEEP_HTTP__WHEEL_SLOTS + 1;
    for (uint64_t k = from; k <= last; k++) {
        teep_http__link_t *head = &w->slots[k & SLOT_MASK];
        if (teep_http__list_empty(head))
            continue;
        due.prev->next = head->next;
        head->next->prev = due.prev;
        head->prev->next = &due;
        due.prev = head->prev;
        teep_http__list_init(head);
        mark(w, (unsigned)(k & SLOT_MASK), false);
    }
    if (last > w->tick)
        w->tick = last;
    while (!teep_http__list_empty(&due)) {
        teep_http__timer_t *t =
            teep_http__container_of(due.next, teep_http__timer_t, link);
        teep_http__list_remove(&t->link);
        if (t->due > now) {
            link_entry(w, t); /* a later turn's */
            continue;
        }
        t->due = 0;
        w->cb(w, t);
    }
    uint64_t next = next_used_tick(w);
    if (next != 0)
        arm_for(w, next);
}
