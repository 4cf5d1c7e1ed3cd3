/*
 * net/wheel.h: the deadlines of one loop's connections on one libuv
 * timer, a hashed timing wheel (Varghese and Lauck; the kernel's timer
 * wheel and HAProxy's timers are the same idea).
 *
 * Why: every connection needs a deadline (header, body, idle, read,
 * connect, linger), and a uv_timer_t is a 152-byte handle in each of
 * thousands of idle connections.  An entry here is 24 bytes; arming,
 * moving and stopping one is a list unlink and link, never a heap
 * operation.
 *
 * Precision: a deadline runs at most TEEP_HTTP__WHEEL_TICK_MS after it
 * is due, never before.  The libuv timer is armed for the next slot that
 * holds an entry, so an idle loop does not tick.
 *
 * Everything runs on the loop's thread.
 */
#ifndef TEEP_NET_WHEEL_H
#define TEEP_NET_WHEEL_H

#include <stdint.h>
#include <uv.h>

#include "teep/http.h"

#define TEEP_HTTP__WHEEL_TICK_MS 16
#define TEEP_HTTP__WHEEL_SLOTS                                                 \
    256 /* a turn: 4 s; later deadlines wait                                   \
           in their slot for more turns */

typedef struct teep_http__timer {
    teep_http__link_t link; /* in its slot while armed */
    uint64_t due;           /* loop ms; 0: not armed */
} teep_http__timer_t;

typedef struct teep_http__wheel teep_http__wheel_t;

/* A due entry, already stopped; it may be started again from here. */
typedef void (*teep_http__wheel_cb)(teep_http__wheel_t *w,
                                    teep_http__timer_t *t);

struct teep_http__wheel {
    uv_timer_t timer; /* first: its close callback finds the wheel */
    teep_http__wheel_cb cb;
    uint64_t tick;      /* the last tick whose slot ran */
    uint64_t next_tick; /* the tick the libuv timer is armed for, 0: none */
    uint64_t used[TEEP_HTTP__WHEEL_SLOTS / 64]; /* slots holding entries */
    teep_http__link_t slots[TEEP_HTTP__WHEEL_SLOTS];
};

/* Initialise w on loop; cb runs for each entry that comes due. */
void teep_http__wheel_init(teep_http__wheel_t *w, uv_loop_t *loop,
                           teep_http__wheel_cb cb);

/* Close the wheel's timer (every entry stopped); close_cb receives the
 * timer handle, the wheel's first member. */
void teep_http__wheel_close(teep_http__wheel_t *w, uv_close_cb close_cb);

/* An entry that is not armed. */
static inline void teep_http__timer_init(teep_http__timer_t *t)
{
    t->link.next = t->link.prev = &t->link;
    t->due = 0;
}

/* Arm t for due (loop ms), moving it when it was armed. */
void teep_http__timer_start(teep_http__wheel_t *w, teep_http__timer_t *t,
                            uint64_t due);

/* Disarm t; nothing happens when it is not armed. */
void teep_http__timer_stop(teep_http__wheel_t *w, teep_http__timer_t *t);

#endif
