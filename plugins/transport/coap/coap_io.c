/*
 * coap_io.c: libcoap on a foreign libuv loop.
 *
 * libcoap (built with epoll) keeps its sockets and a timerfd in one epoll
 * descriptor, coap_context_get_coap_fd().  We never let it block: a
 * uv_poll on that descriptor says "something is ready", we collect the
 * ready events without waiting and hand them to coap_io_do_epoll();
 * coap_io_prepare_epoll() then says when libcoap next needs to run
 * (retransmissions, async triggers, session expiry), and a uv_timer
 * brings us back then.  The timer is also the "kick" after we change
 * libcoap state from outside its handlers (an async trigger when the TAM
 * answers, an Observe notification).
 */
#include <pthread.h>
#include <string.h>
#include <sys/epoll.h>

#include "coap_transport.h"

/* coap_io_do_epoll reads one datagram per ready socket; a few rounds per
 * wake-up save loop turns under load. */
#define ROUNDS 8
#define EVENTS 16

/* The instance whose libcoap is running on this thread, for the log
 * bridge (libcoap's log handler is process-wide and has no context). */
static __thread teep_coap_t *running;

static void log_bridge(coap_log_t level, const char *message)
{
    teep_coap_t *in = running;
    if (in == NULL)
        return;
    size_t len = strlen(message);
    while (len > 0 && message[len - 1] == '\n')
        len--;
    /* libcoap's warnings are about peers (a bad option, an RST): worth a
     * debug line, never more, or a flood would flood the log too. */
    (void)level;
    in->host->log(in->host->host_data, TEEP_LOG_DEBUG, "libcoap: %.*s",
                  (int)len, message);
}

static void global_init(void)
{
    coap_startup();
    coap_set_log_level(LOG_WARNING);
    coap_dtls_set_log_level(LOG_WARNING);
    coap_set_log_handler(log_bridge);
}

void teep_coap_io_global_init(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, global_init);
}

static void on_timer(uv_timer_t *t);

/* What coap_io_process(ctx, COAP_IO_NO_WAIT) does, except that
 * coap_io_prepare_epoll (which walks every session for its timeouts) runs
 * once per wake-up, not once per datagram. */
static void run(teep_coap_t *in)
{
    running = in;
    int fd = coap_context_get_coap_fd(in->ctx);
    struct epoll_event events[EVENTS];
    for (int i = 0; i < ROUNDS; i++) {
        int n = epoll_wait(fd, events, EVENTS, 0);
        if (n <= 0)
            break;
        coap_io_do_epoll(in->ctx, events, (size_t)n);
    }
    coap_tick_t now;
    coap_ticks(&now);
    unsigned next_ms = coap_io_prepare_epoll(in->ctx, now);
    running = NULL;
    /* libcoap's own timerfd wakes the poll as well; the timer is the
     * safety net, so "nothing scheduled" (0) still checks back. */
    uv_timer_start(&in->io_timer, on_timer, next_ms ? next_ms : 1000, 0);
}

static void on_timer(uv_timer_t *t)
{
    run(t->data);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    (void)events;
    teep_coap_t *in = p->data;
    if (status < 0) {
        in->host->log(in->host->host_data, TEEP_LOG_ERROR,
                      "poll on libcoap's descriptor: %s", uv_strerror(status));
        return;
    }
    run(in);
}

int teep_coap_io_start(teep_coap_t *in)
{
    int fd = coap_context_get_coap_fd(in->ctx);
    if (fd < 0) {
        in->host->log(in->host->host_data, TEEP_LOG_ERROR,
                      "libcoap was built without epoll: cannot share a loop");
        return UV_ENOTSUP;
    }
    int rc = uv_poll_init(in->host->loop, &in->poll, fd);
    if (rc < 0)
        return rc;
    in->poll.data = in;
    in->poll_open = true;
    in->open_handles++;
    rc = uv_poll_start(&in->poll, UV_READABLE, on_poll);
    if (rc < 0)
        return rc;
    run(in);
    return 0;
}

void teep_coap_io_kick(teep_coap_t *in)
{
    if (in->poll_open)
        uv_timer_start(&in->io_timer, on_timer, 0, 0);
}

void teep_coap_io_init(teep_coap_t *in)
{
    uv_timer_init(in->host->loop, &in->io_timer);
    in->io_timer.data = in;
    in->open_handles++;
}

void teep_coap_io_close(teep_coap_t *in, uv_close_cb closed)
{
    if (in->poll_open) {
        in->poll_open = false;
        uv_close((uv_handle_t *)&in->poll, closed);
    }
    uv_close((uv_handle_t *)&in->io_timer, closed);
}
