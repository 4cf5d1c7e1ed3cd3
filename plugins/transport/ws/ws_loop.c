/*
 * ws_loop.c: lws contexts on a foreign libuv loop (ws_loop.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>

#include "ws_loop.h"

static pthread_mutex_t lws_global = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t log_once = PTHREAD_ONCE_INIT;

static void emit(int level, const char *line)
{
    /* lws logs process-wide: no instance to attribute the line to. */
    fprintf(stderr, "lws: %s", line);
}

static void init_logging(void)
{
    lws_set_log_level(LLL_ERR, emit);
}

struct lws_context *teep_ws_lws_create(struct lws_context_creation_info *info,
                                       uv_loop_t *loop, int *err)
{
    void *loops[1] = {loop};
    pthread_once(&log_once, init_logging);
    info->options |= LWS_SERVER_OPTION_LIBUV;
    /* Read by lws_create_context only. */
    info->foreign_loops = loops;
    pthread_mutex_lock(&lws_global);
    errno = 0;
    struct lws_context *c = lws_create_context(info);
    *err = errno;
    pthread_mutex_unlock(&lws_global);
    info->foreign_loops = NULL;
    return c;
}

static void destroy_locked(struct lws_context *c)
{
    pthread_mutex_lock(&lws_global);
    lws_context_destroy(c);
    pthread_mutex_unlock(&lws_global);
}

/* Handles being closed on the loop (lws' among them). */
static void count_closing(uv_handle_t *h, void *arg)
{
    if (uv_is_closing(h))
        (*(unsigned *)arg)++;
}

static void tick(uv_timer_t *t)
{
    teep_ws_lws_reaper_t *r = t->data;
    unsigned closing = 0;
    uv_walk(t->loop, count_closing, &closing);
    /* The first lws_context_destroy started closing every lws handle;
     * their callbacks run at the end of that loop iteration, before this
     * timer.  A handle still closing now might be lws': wait, about a
     * second at most (another user of the loop may keep closing
     * handles). */
    if (closing > 0 && ++r->ticks < 1000) {
        uv_timer_start(t, tick, 1, 0);
        return;
    }
    destroy_locked(r->context);
    r->context = NULL;
    r->done(r->arg);
}

void teep_ws_lws_destroy(teep_ws_lws_reaper_t *r, struct lws_context *context,
                         void (*done)(void *arg), void *arg)
{
    r->context = context;
    r->done = done;
    r->arg = arg;
    r->ticks = 0;
    r->timer.data = r;
    if (context == NULL) {
        done(arg);
        return;
    }
    destroy_locked(context);
    uv_timer_start(&r->timer, tick, 0, 0);
}
