/*
 * teep_bench_http.c: HTTP agents for teep_bench_load.c.  Each agent is a
 * request slot on teepnet's keep-alive client pool, which holds one
 * connection per agent at most, so an agent is a device's keep-alive
 * connection with at most one exchange outstanding.  The models (closed,
 * open loop without coordinated omission) and the measures are the load
 * driver's, the same for every transport.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "teep/http.h"
#include "teep_bench.h"

typedef struct fleet fleet_t;

typedef struct agent {
    teep_http_client_req_t req;
    fleet_t *f;
    unsigned i;
} agent_t;

struct fleet {
    teep_bench_load_t *l;
    teep_http_client_t client;
    teep_buf_t *body;
    char *path;
    agent_t *agents;
};

static const teep_http_header_t headers[] = {
    TEEP_HTTP_HEADER("Accept", "application/teep+cbor"),
    TEEP_HTTP_HEADER("Content-Type", "application/teep+cbor"),
};

static void fleet_free(fleet_t *f)
{
    if (f->body != NULL)
        teep_buf_unref(f->body);
    free(f->path);
    free(f->agents);
    free(f);
}

static void client_closed(teep_http_client_t *client)
{
    fleet_free(client->data);
}

static int fleet_open(teep_bench_load_t *l, uv_loop_t *loop,
                      const teep_bench_load_opts_t *o, void **state)
{
    teep_http_url_t u;
    if (teep_http_url_parse(o->url, &u) < 0)
        return -EINVAL;
    fleet_t *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -ENOMEM;
    f->l = l;
    f->agents = calloc(o->connections, sizeof(*f->agents));
    f->path = strndup((const char *)u.path.ptr, u.path.len);
    f->body = teep_buf_copy(0, o->body, o->body_len);
    if (f->agents == NULL || f->path == NULL || f->body == NULL) {
        fleet_free(f);
        return -ENOMEM;
    }
    for (unsigned i = 0; i < o->connections; i++)
        f->agents[i] = (agent_t){.f = f, .i = i};
    teep_http_client_config_t cfg;
    teep_http_client_config_default(&cfg);
    cfg.max_connections = o->connections;
    cfg.max_pending = o->connections;
    teep_http_client_init(&f->client, loop, o->url, &cfg);
    f->client.data = f;
    *state = f;
    return 0;
}

static void on_done(teep_http_client_req_t *req, int status,
                    const teep_http_response_t *resp)
{
    agent_t *a = req->data;
    /* Cancelled only by fleet_close: the run is over, nothing to report. */
    if (status == TEEP_HTTP_E_CANCELED)
        return;
    teep_bench_load_done(a->f->l, a->i, status == 0 && resp->status == 200);
}

static int fleet_send(void *state, unsigned i)
{
    fleet_t *f = state;
    agent_t *a = &f->agents[i];
    a->req.data = a;
    return teep_http_client_request(&f->client, &a->req, "POST", f->path,
                                    headers, 2, f->body, on_done);
}

static void fleet_close(void *state)
{
    fleet_t *f = state;
    teep_http_client_close(&f->client, client_closed);
}

const teep_bench_agents_ops_t teep_bench_http_agents = {
    .transport = "http",
    .open = fleet_open,
    .send = fleet_send,
    .close = fleet_close,
};
