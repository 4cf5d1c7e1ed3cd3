/*
 * teep_bench_idle.c: the idle-connection ramp.  Agents connect in
 * batches, each does one TEEP exchange over HTTP/1.1 keep-alive (so the
 * target has parsed a request and answered on it, as it will have for a
 * real device between policy checks), then stays connected and silent.
 * At each step the target's VmRSS is read: the growth divided by the
 * agents is what one idle agent costs it.
 *
 * One source address gives at most ~28 000 connections to one port (the
 * ephemeral range), so agents spread over 127.0.0.2 .. 127.0.0.(1+n),
 * bound with IP_BIND_ADDRESS_NO_PORT so the port is picked at connect
 * time per 4-tuple.  The agent is a raw libuv TCP handle, not a teepnet
 * client pool: a pool per agent would cost this process far more than
 * the agent costs the target.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "teep_bench.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

#define CONNECTING_MAX 256 /* connects in flight: keeps the accept queue */

typedef struct ramp ramp_t;

enum agent_state { AGENT_CONNECTING, AGENT_EXCHANGE, AGENT_IDLE, AGENT_DEAD };

typedef struct {
    uv_tcp_t tcp;
    uv_connect_t connect;
    uv_write_t write;
    ramp_t *r;
    uint32_t received; /* bytes of the answer so far */
    uint32_t expected; /* head + Content-Length, 0 until the head is in */
    uint8_t state;
} agent_t;

struct ramp {
    const teep_bench_idle_opts_t *o;
    uv_loop_t loop;
    agent_t *agents;
    unsigned target; /* agents wanted at this step */
    unsigned started;
    unsigned in_flight; /* connecting or exchanging */
    unsigned idle;
    unsigned failed;
    int last_error;
    uv_buf_t request;
    char head[512]; /* the answer's head, shared: only its length matters */
    size_t head_len;
    uv_timer_t timer;
    bool settling;
};

static char read_buf[65536]; /* one loop, one reader at a time */

static void start_more(ramp_t *r);

static void on_alloc(uv_handle_t *h, size_t size, uv_buf_t *buf)
{
    (void)h;
    (void)size;
    *buf = uv_buf_init(read_buf, sizeof(read_buf));
}

static void agent_fail(agent_t *a, int err)
{
    ramp_t *r = a->r;
    if (a->state == AGENT_CONNECTING || a->state == AGENT_EXCHANGE)
        r->in_flight--;
    else if (a->state == AGENT_IDLE)
        r->idle--;
    if (a->state != AGENT_DEAD) {
        r->failed++;
        r->last_error = err;
        a->state = AGENT_DEAD;
        uv_close((uv_handle_t *)&a->tcp, NULL);
    }
    start_more(r);
}

/* Finds Content-Length in the answer's head: strstr over the first
 * segment is enough, the head of every target fits in one read. */
static uint32_t answer_length(const char *p, size_t n)
{
    const char *end = memmem(p, n, "\r\n\r\n", 4);
    if (end == NULL)
        return 0;
    size_t head = (size_t)(end - p) + 4;
    const char *cl = memmem(p, head, "Content-Length:", 15);
    if (cl == NULL)
        cl = memmem(p, head, "content-length:", 15);
    return (uint32_t)(head + (cl != NULL ? strtoul(cl + 15, NULL, 10) : 0));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    agent_t *a = s->data;
    if (n < 0) {
        agent_fail(a, (int)n);
        return;
    }
    if (a->state != AGENT_EXCHANGE) {
        if (n > 0)
            agent_fail(a, -EPROTO); /* an idle agent is sent nothing */
        return;
    }
    if (a->expected == 0 && n > 0)
        a->expected = answer_length(buf->base, (size_t)n);
    a->received += (uint32_t)n;
    if (a->expected != 0 && a->received >= a->expected) {
        a->state = AGENT_IDLE;
        a->r->in_flight--;
        a->r->idle++;
        start_more(a->r);
    }
}

static void on_write(uv_write_t *w, int status)
{
    if (status < 0)
        agent_fail(w->data, status);
}

static void on_connect(uv_connect_t *c, int status)
{
    agent_t *a = c->data;
    if (status < 0) {
        agent_fail(a, status);
        return;
    }
    a->state = AGENT_EXCHANGE;
    a->write.data = a;
    uv_read_start((uv_stream_t *)&a->tcp, on_alloc, on_read);
    uv_write(&a->write, (uv_stream_t *)&a->tcp, &a->r->request, 1, on_write);
}

static int agent_start(ramp_t *r, agent_t *a, unsigned index)
{
    a->r = r;
    a->state = AGENT_CONNECTING;
    a->tcp.data = a;
    a->connect.data = a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
    struct sockaddr_in src = {.sin_family = AF_INET};
    src.sin_addr.s_addr = htonl(0x7f000002u + index % r->o->sources);
    if (bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    uv_tcp_init(&r->loop, &a->tcp);
    uv_tcp_open(&a->tcp, fd);
    struct sockaddr_in dst;
    uv_ip4_addr(r->o->host, (int)r->o->port, &dst);
    int rc = uv_tcp_connect(&a->connect, &a->tcp, (struct sockaddr *)&dst,
                            on_connect);
    if (rc < 0) {
        uv_close((uv_handle_t *)&a->tcp, NULL);
        return rc;
    }
    return 0;
}

static void start_more(ramp_t *r)
{
    while (r->started < r->target && r->in_flight < CONNECTING_MAX) {
        agent_t *a = &r->agents[r->started];
        int rc = agent_start(r, a, r->started);
        r->started++;
        if (rc < 0) {
            a->state = AGENT_DEAD;
            r->failed++;
            r->last_error = rc;
            continue;
        }
        r->in_flight++;
    }
    if (r->started >= r->target && r->in_flight == 0 && !r->settling)
        uv_stop(&r->loop);
}

static void on_settled(uv_timer_t *t)
{
    uv_stop(t->loop);
}

/* Runs the loop until every agent of the step is idle or failed, then
 * for the settle time (the target frees what the exchanges used). */
static void run_step(ramp_t *r, unsigned want)
{
    r->target = want;
    r->settling = false;
    start_more(r);
    if (r->in_flight > 0)
        uv_run(&r->loop, UV_RUN_DEFAULT);
    r->settling = true;
    uv_timer_start(&r->timer, on_settled, (uint64_t)(r->o->settle * 1000), 0);
    uv_run(&r->loop, UV_RUN_DEFAULT);
}

static void on_close_walk(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

json_t *teep_bench_idle_run(const teep_bench_idle_opts_t *o)
{
    unsigned most = o->nsteps > 0 ? o->steps[o->nsteps - 1] : 0;
    ramp_t *r = calloc(1, sizeof(*r));
    if (r == NULL || o->sources == 0)
        return NULL;
    r->o = o;
    r->agents = calloc(most ? most : 1, sizeof(agent_t));
    size_t cap = 256 + o->body_len;
    char *req = malloc(cap);
    if (r->agents == NULL || req == NULL || uv_loop_init(&r->loop) < 0) {
        free(r->agents);
        free(req);
        free(r);
        return NULL;
    }
    int n = snprintf(req, 256,
                     "POST %s HTTP/1.1\r\nHost: %s:%u\r\n"
                     "Content-Type: application/teep+cbor\r\n"
                     "Accept: application/teep+cbor\r\n"
                     "Content-Length: %zu\r\n\r\n",
                     o->path, o->host, o->port, o->body_len);
    memcpy(req + n, o->body, o->body_len);
    r->request = uv_buf_init(req, (unsigned)(n + (int)o->body_len));
    uv_timer_init(&r->loop, &r->timer);

    json_t *out = json_object();
    json_t *steps = json_array();
    long rss0 = teep_bench_proc_rss_kb(o->pid);
    json_object_set_new(out, "rss_kb_before", json_integer(rss0));
    json_object_set_new(out, "sources", json_integer(o->sources));
    for (size_t i = 0; i < o->nsteps; i++) {
        uint64_t t0 = uv_hrtime();
        run_step(r, o->steps[i]);
        double took = (double)(uv_hrtime() - t0) / 1e9;
        long rss = teep_bench_proc_rss_kb(o->pid);
        json_t *s = json_object();
        json_object_set_new(s, "agents_wanted", json_integer(o->steps[i]));
        json_object_set_new(s, "agents_idle", json_integer(r->idle));
        json_object_set_new(s, "failed", json_integer(r->failed));
        json_object_set_new(s, "seconds", json_real(took));
        json_object_set_new(s, "rss_kb", json_integer(rss));
        if (r->idle > 0 && rss >= 0 && rss0 >= 0)
            json_object_set_new(
                s, "bytes_per_idle_agent",
                json_integer((json_int_t)(rss - rss0) * 1024 / r->idle));
        if (r->failed > 0)
            json_object_set_new(s, "last_error",
                                json_string(uv_strerror(r->last_error)));
        json_array_append_new(steps, s);
        fprintf(stderr,
                "teep-bench idle: %u/%u agents idle, %u failed, "
                "rss %ld kB\n",
                r->idle, o->steps[i], r->failed, rss);
        /* A step that lost a tenth of its agents says why; the next
         * ones would only fail the same way. */
        if (r->failed * 10 > o->steps[i])
            break;
    }
    json_object_set_new(out, "steps", steps);
    uv_walk(&r->loop, on_close_walk, NULL);
    uv_run(&r->loop, UV_RUN_DEFAULT);
    uv_loop_close(&r->loop);
    free(req);
    free(r->agents);
    free(r);
    return out;
}
