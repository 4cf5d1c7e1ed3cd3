/*
 * ws_loop.h: an lws 4.1 context on a foreign libuv loop (the broker's
 * worker loop, the device agent's loop), for the server transport and the
 * client alike.  lws is never serviced by hand: it runs off its own poll
 * handles on the loop.
 *
 * What lws 4.1 needs, learned the hard way:
 *  - the library keeps global state without locks (Debian builds it
 *    without SMP support): contexts are created and destroyed under one
 *    process-wide mutex, since every broker worker makes its own;
 *  - its log level and sink are process-wide: set once, errors and
 *    warnings to stderr with a prefix;
 *  - a context on a foreign loop is destroyed in two calls: the first
 *    closes lws' handles, the second, once their close callbacks have run
 *    on the loop, frees the context (and writes NULL to pcontext).
 */
#ifndef TEEP_WS_LOOP_H
#define TEEP_WS_LOOP_H

#include <libwebsockets.h>
#include <uv.h>

/*
 * Create a context on loop from info (foreign_loops and the LIBUV option
 * are set here; info is otherwise the caller's).  Returns the context, or
 * NULL with *err = the errno lws left (EADDRINUSE for a port in use).
 */
struct lws_context *teep_ws_lws_create(struct lws_context_creation_info *info,
                                       uv_loop_t *loop, int *err);

/* Destroying a context: caller-allocated, kept in place until done ran. */
typedef struct teep_ws_lws_reaper {
    uv_timer_t timer; /* initialised by the caller, not closed here */
    struct lws_context *context;
    unsigned ticks;
    void (*done)(void *arg);
    void *arg;
} teep_ws_lws_reaper_t;

/*
 * Destroy context (which may be NULL) and call done(arg) on the loop once
 * lws is gone, at the latest about a second later.  Never from inside an
 * lws callback: call it from a timer or another handle's callback.  r's
 * timer must be initialised on the context's loop; the caller closes it
 * after done.
 */
void teep_ws_lws_destroy(teep_ws_lws_reaper_t *r, struct lws_context *context,
                         void (*done)(void *arg), void *arg);

#endif
