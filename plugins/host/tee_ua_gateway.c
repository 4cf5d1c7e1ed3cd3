/*
 * tee_ua_gateway.c: one invocation per connection (tee_ua_gateway.h).  A
 * connection reads until its request is whole, queues invoke_ta on the
 * session's lane, writes the answer and closes.  It is freed only in its
 * close callback, after the call and the write completed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tee_ua_gateway.h"

typedef struct conn {
    uv_pipe_t pipe;
    teep_tee_ua_gateway_t *gw;
    uint8_t *buf; /* the request as received */
    size_t len;
    size_t cap;
    teep_slice_t id, request;
    teep_tee_call_t call;
    teep_tee_buf_t reply;
    uint8_t head[8];
    uv_write_t write;
} conn_t;

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void conn_closed(uv_handle_t *h)
{
    conn_t *c = h->data;
    if (c->reply.ptr != NULL)
        c->gw->runner->ops->free_buffer(c->gw->runner->plugin_state, &c->reply);
    free(c->buf);
    free(c);
}

static void conn_close(conn_t *c)
{
    if (!uv_is_closing((uv_handle_t *)&c->pipe))
        uv_close((uv_handle_t *)&c->pipe, conn_closed);
}

static void written(uv_write_t *w, int status)
{
    conn_close(w->data);
}

/* On the loop: send status and answer. */
static void invoked(teep_tee_call_t *call)
{
    conn_t *c = call->data;
    put_be32(c->head, (uint32_t)call->result);
    put_be32(c->head + 4, call->result == 0 ? (uint32_t)c->reply.len : 0);
    uv_buf_t bufs[2] = {
        uv_buf_init((char *)c->head, sizeof(c->head)),
        uv_buf_init((char *)c->reply.ptr,
                    call->result == 0 ? (unsigned)c->reply.len : 0),
    };
    c->write.data = c;
    if (uv_write(&c->write, (uv_stream_t *)&c->pipe, bufs, 2, written) != 0)
        conn_close(c);
}

/* On a worker, serialised with the session's other ops. */
static int invoke(teep_tee_call_t *call)
{
    conn_t *c = call->data;
    teep_tee_lane_t *lane = call->lane;
    if (lane->session == NULL)
        return -ENOENT;
    return call->runner->ops->invoke_ta(lane->session, c->id, c->request,
                                        &c->reply);
}

/* Whether buf holds a whole request; -EMSGSIZE past the bounds. */
static int parse(conn_t *c)
{
    if (c->len < 4)
        return 0;
    uint32_t id_len = be32(c->buf);
    if (id_len == 0 || id_len > TEEP_UA_ID_MAX)
        return -EMSGSIZE;
    if (c->len < 8 + (size_t)id_len)
        return 0;
    uint32_t req_len = be32(c->buf + 4 + id_len);
    if (req_len > TEEP_TEE_INVOKE_MAX)
        return -EMSGSIZE;
    if (c->len < 8 + (size_t)id_len + req_len)
        return 0;
    c->id = (teep_slice_t){c->buf + 4, id_len};
    c->request = (teep_slice_t){c->buf + 8 + id_len, req_len};
    return 1;
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    conn_t *c = h->data;
    size_t max = 8 + TEEP_UA_ID_MAX + TEEP_TEE_INVOKE_MAX;
    if (c->cap - c->len < 4096 && c->cap < max) {
        size_t cap = c->cap == 0 ? 4096 : c->cap * 2;
        uint8_t *p = realloc(c->buf, cap > max ? max : cap);
        if (p != NULL) {
            c->buf = p;
            c->cap = cap > max ? max : cap;
        }
    }
    *buf = uv_buf_init((char *)c->buf + c->len, (unsigned)(c->cap - c->len));
}

static void read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    conn_t *c = s->data;
    if (n < 0) {
        conn_close(c);
        return;
    }
    c->len += (size_t)n;
    int rc = parse(c);
    if (rc == 0 && c->len < c->cap)
        return;
    uv_read_stop(s);
    if (rc <= 0) {
        conn_close(c);
        return;
    }
    c->call.data = c;
    teep_tee_runner_submit(c->gw->runner, c->gw->lane, &c->call, invoke,
                           invoked);
}

static void accept_cb(uv_stream_t *server, int status)
{
    teep_tee_ua_gateway_t *gw = server->data;
    if (status != 0)
        return;
    conn_t *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return;
    c->gw = gw;
    uv_pipe_init(gw->runner->loop, &c->pipe, 0);
    c->pipe.data = c;
    if (uv_accept(server, (uv_stream_t *)&c->pipe) != 0 ||
        uv_read_start((uv_stream_t *)&c->pipe, alloc_cb, read_cb) != 0)
        conn_close(c);
}

int teep_tee_ua_gateway_start(teep_tee_ua_gateway_t *gw,
                              teep_tee_runner_t *runner, teep_tee_lane_t *lane,
                              const char *path)
{
    memset(gw, 0, sizeof(*gw));
    if (strlen(path) >= sizeof(gw->path))
        return UV_ENAMETOOLONG;
    snprintf(gw->path, sizeof(gw->path), "%s", path);
    gw->runner = runner;
    gw->lane = lane;
    int rc = uv_pipe_init(runner->loop, &gw->server, 0);
    if (rc != 0)
        return rc;
    gw->server.data = gw;
    unlink(path);
    rc = uv_pipe_bind(&gw->server, path);
    if (rc == 0 && chmod(path, 0600) != 0)
        rc = -errno;
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&gw->server, 16, accept_cb);
    if (rc != 0)
        uv_close((uv_handle_t *)&gw->server, NULL);
    return rc;
}

void teep_tee_ua_gateway_close(teep_tee_ua_gateway_t *gw)
{
    uv_close((uv_handle_t *)&gw->server, NULL);
    unlink(gw->path);
}
