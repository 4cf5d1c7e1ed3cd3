/*
 * teep_bench_idle_http.c: idle HTTP agents for the ramp
 * (teep_bench_idle.c).  An agent is a raw libuv TCP handle, not a
 * teepnet client pool: a pool per agent would cost this process far
 * more than the agent costs the target.  It POSTs the body once over
 * HTTP/1.1 keep-alive, reads the answer, then stays connected and
 * silent.
 *
 * One source address gives at most ~28 000 connections to one port (the
 * ephemeral range), so agents spread over 127.0.0.2 .. 127.0.0.(1+n),
 * bound with IP_BIND_ADDRESS_NO_PORT so the port is picked at connect
 * time per 4-tuple.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "teep_bench.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

enum agent_state {
    AGENT_NONE, /* not started, or never got a handle */
    AGENT_CONNECTING,
    AGENT_EXCHANGE,
    AGENT_IDLE,
    AGENT_DEAD, /* its handle is closed */
};

typedef struct fleet fleet_t;

typedef struct {
    uv_tcp_t tcp;
    uv_connect_t connect;
    uv_write_t write;
    fleet_t *f;
    uint32_t received; /* bytes of the answer so far */
    uint32_t expected; /* head + Content-Length, 0 until the head is in */
    uint8_t state;
} agent_t;

struct fleet {
    teep_bench_idle_t *r;
    const teep_bench_idle_opts_t *o;
    uv_loop_t *loop;
    agent_t *agents;
    unsigned n;
    uv_buf_t request;
    unsigned handles; /* agents' handles not closed yet */
    bool closing;     /* freed once the last handle is closed */
};

static char read_buf[65536]; /* one loop, one reader at a time */

static void on_alloc(uv_handle_t *h, size_t size, uv_buf_t *buf)
{
    (void)h;
    (void)size;
    *buf = uv_buf_init(read_buf, sizeof(read_buf));
}

static void fleet_free(fleet_t *f)
{
    free(f->request.base);
    free(f->agents);
    free(f);
}

static void agent_closed(uv_handle_t *h)
{
    fleet_t *f = ((agent_t *)h->data)->f;
    if (--f->handles == 0 && f->closing)
        fleet_free(f);
}

static void agent_close(agent_t *a)
{
    a->state = AGENT_DEAD;
    uv_close((uv_handle_t *)&a->tcp, agent_closed);
}

static void agent_fail(agent_t *a, int err)
{
    if (a->state == AGENT_DEAD)
        return;
    bool was_idle = a->state == AGENT_IDLE;
    agent_close(a);
    teep_bench_idle_failed(a->f->r, was_idle, err);
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
        teep_bench_idle_ready(a->f->r);
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
    uv_write(&a->write, (uv_stream_t *)&a->tcp, &a->f->request, 1, on_write);
}

static int agent_start(void *state, unsigned index)
{
    fleet_t *f = state;
    agent_t *a = &f->agents[index];
    a->f = f;
    a->tcp.data = a;
    a->connect.data = a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
    struct sockaddr_in src = {.sin_family = AF_INET};
    src.sin_addr.s_addr = htonl(0x7f000002u + index % f->o->sources);
    if (bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    uv_tcp_init(f->loop, &a->tcp);
    f->handles++;
    uv_tcp_open(&a->tcp, fd);
    struct sockaddr_in dst;
    uv_ip4_addr(f->o->host, (int)f->o->port, &dst);
    a->state = AGENT_CONNECTING;
    int rc = uv_tcp_connect(&a->connect, &a->tcp, (struct sockaddr *)&dst,
                            on_connect);
    if (rc < 0) {
        agent_close(a);
        return rc;
    }
    return 0;
}

static int fleet_open(teep_bench_idle_t *r, uv_loop_t *loop,
                      const teep_bench_idle_opts_t *o, unsigned most,
                      void **state)
{
    if (o->sources == 0 || o->host == NULL || o->path == NULL)
        return -EINVAL;
    fleet_t *f = calloc(1, sizeof(*f));
    char *req = malloc(256 + strlen(o->path) + o->body_len);
    if (f == NULL || req == NULL ||
        (f->agents = calloc(most, sizeof(*f->agents))) == NULL) {
        free(f);
        free(req);
        return -ENOMEM;
    }
    int n = sprintf(req,
                    "POST /%s HTTP/1.1\r\nHost: %s:%u\r\n"
                    "Content-Type: application/teep+cbor\r\n"
                    "Accept: application/teep+cbor\r\n"
                    "Content-Length: %zu\r\n\r\n",
                    o->path, o->host, o->port, o->body_len);
    memcpy(req + n, o->body, o->body_len);
    f->request = uv_buf_init(req, (unsigned)((size_t)n + o->body_len));
    f->r = r;
    f->o = o;
    f->loop = loop;
    f->n = most;
    *state = f;
    return 0;
}

static void fleet_close(void *state)
{
    fleet_t *f = state;
    f->closing = true;
    for (unsigned i = 0; i < f->n; i++) {
        agent_t *a = &f->agents[i];
        if (a->state != AGENT_NONE && a->state != AGENT_DEAD)
            agent_close(a);
    }
    if (f->handles == 0)
        fleet_free(f);
}

const teep_bench_idle_ops_t teep_bench_http_idle = {
    .transport = "http",
    .open = fleet_open,
    .start = agent_start,
    .close = fleet_close,
};
