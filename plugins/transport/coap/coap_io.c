/*
 * coap_io.c: libcoap on a foreign libuv loop.
 *
 * libcoap (built with epoll) keeps its sockets and a timerfd in one epoll
 * descriptor, coap_context_get_coap_fd().  We never let it block: a
 * uv_poll on that descriptor says "something is ready", we collect the
 * ready events without waiting and hand them to coap_io_do_epoll().
 * Then coap_io_prepare_io() does libcoap's timed work (triggered asyncs,
 * Observe notifications, retransmissions, session expiry) and says when
 * it next needs to run; a uv_timer brings us back then.  The timer is
 * also the "kick" after we change libcoap state from outside its
 * handlers (an async trigger when the TAM answers, an Observe
 * notification).
 *
 * libcoap's own timerfd duplicates that timer, at a price: 4.3.1 arms
 * it (timerfd_settime) in coap_io_prepare_epoll() on every call, and
 * again for each async triggered, and each expiry wakes the loop for
 * nothing the uv_timer would not do anyway.  So we call
 * coap_io_prepare_io() (the same work without the timerfd) and take the
 * timerfd out of libcoap's epoll set: its expiries no longer wake us.
 * coap_io_do_epoll() still ends with a coap_io_prepare_epoll() of its
 * own, a timerfd_settime per datagram: that is inside libcoap.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <openssl/rand.h>

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

/* libcoap's default PRNG is getrandom(2): a system call per confirmable
 * message (its retransmission jitter), i.e. per exchange.  OpenSSL's
 * DRBG gives the bytes instead, drawn a pool at a time (each RAND_bytes
 * call costs a getpid(2), its fork check).  The generator is
 * process-wide, the pool per thread (one loop each). */
#define PRNG_POOL 256

static __thread uint8_t pool[PRNG_POOL];
static __thread size_t pool_left;

static int prng(void *out, size_t len)
{
    if (len > PRNG_POOL / 4)
        return RAND_bytes(out, (int)len) == 1;
    if (pool_left < len) {
        if (RAND_bytes(pool, PRNG_POOL) != 1)
            return 0;
        pool_left = PRNG_POOL;
    }
    uint8_t *src = pool + PRNG_POOL - pool_left;
    memcpy(out, src, len);
    memset(src, 0, len); /* a byte handed out is not kept */
    pool_left -= len;
    return 1;
}

static void global_init(void)
{
    coap_startup();
    coap_set_prng(prng);
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

/* The longest the io timer waits.  Whatever libcoap schedules while it
 * handles datagrams is due later than that: a retransmission after
 * ACK_TIMEOUT (2 s, RFC 7252 4.8), a DTLS handshake retransmission after
 * 1 s, a session's expiry after session_timeout_s. */
#define RECHECK_MS 1000

/* One turn of libcoap: when its descriptor is ready (ready), the
 * datagrams waiting, a few rounds of them; then its timed work and the
 * timer for the next.
 *
 * coap_io_do_epoll ends with a coap_io_prepare_epoll of its own: the
 * timed work is done, a walk of every session that costs per session.
 * Ours after it would only learn when libcoap next needs to run, and
 * nothing libcoap schedules itself while handling datagrams is due
 * within RECHECK_MS: while the timer is due within that, it stays as it
 * is and the walk is saved.  A handler that schedules sooner work (an
 * async with a delay) kicks (teep_coap_io_kick). */
static void run(teep_coap_t *in, bool ready)
{
    running = in;
    int fd = coap_context_get_coap_fd(in->ctx);
    struct epoll_event events[EVENTS];
    bool handled = false;
    for (int i = 0; ready && i < ROUNDS; i++) {
        int n = epoll_wait(fd, events, EVENTS, 0);
        if (n <= 0)
            break;
        coap_io_do_epoll(in->ctx, events, (size_t)n);
        handled = true;
    }
    if (handled && uv_is_active((uv_handle_t *)&in->io_timer) &&
        uv_timer_get_due_in(&in->io_timer) <= RECHECK_MS) {
        running = NULL;
        return;
    }
    coap_tick_t now;
    coap_ticks(&now);
    unsigned sockets;
    unsigned next_ms = coap_io_prepare_io(in->ctx, NULL, 0, &sockets, now);
    running = NULL;
    /* 0 is "nothing scheduled". */
    if (next_ms == 0 || next_ms > RECHECK_MS)
        next_ms = RECHECK_MS;
    uv_timer_start(&in->io_timer, on_timer, next_ms, 0);
}

static void on_timer(uv_timer_t *t)
{
    /* Not ready: when the descriptor is, the poll runs in this same loop
     * iteration, and an epoll_wait here would mostly find nothing. */
    run(t->data, false);
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
    run(in, true);
}

/* Whether descriptor fd is a timerfd. */
static bool is_timerfd(int fd)
{
    char path[64], target[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    ssize_t n = readlink(path, target, sizeof(target) - 1);
    if (n <= 0)
        return false;
    target[n] = '\0';
    return strcmp(target, "anon_inode:[timerfd]") == 0;
}

/* Take libcoap's timerfd out of its epoll set epfd (the file comment
 * says why).  The kernel lists an epoll set's descriptors in
 * /proc/self/fdinfo/EPFD ("tfd: N ..."); libcoap has no API for its
 * timerfd.  Returns whether one was found: when not, libcoap's timer
 * keeps working as before and only costs what it did. */
static bool detach_timerfd(int epfd)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", epfd);
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return false;
    bool found = false;
    while (!found && fgets(line, sizeof(line), f) != NULL) {
        int tfd;
        if (sscanf(line, "tfd: %d", &tfd) == 1 && is_timerfd(tfd))
            found = epoll_ctl(epfd, EPOLL_CTL_DEL, tfd, NULL) == 0;
    }
    fclose(f);
    return found;
}

int teep_coap_io_start(teep_coap_t *in)
{
    int fd = coap_context_get_coap_fd(in->ctx);
    if (fd < 0) {
        in->host->log(in->host->host_data, TEEP_LOG_ERROR,
                      "libcoap was built without epoll: cannot share a loop");
        return UV_ENOTSUP;
    }
    if (!detach_timerfd(fd))
        in->host->log(in->host->host_data, TEEP_LOG_DEBUG,
                      "libcoap's timerfd not found: it stays in use");
    int rc = uv_poll_init(in->host->loop, &in->poll, fd);
    if (rc < 0)
        return rc;
    in->poll.data = in;
    in->poll_open = true;
    in->open_handles++;
    rc = uv_poll_start(&in->poll, UV_READABLE, on_poll);
    if (rc < 0)
        return rc;
    run(in, true);
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
