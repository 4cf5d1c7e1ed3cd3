/*
 * transport_http.c: TEEP over HTTP from the device
 * (draft-ietf-teep-otrp-over-http, digest 3.2) on teepnet's client: each
 * message is a POST to the broker's TAM URI with Accept and
 * Content-Type application/teep+cbor (also on the empty POST that starts
 * a session, which tamproto requires); 200 with a body is the TAM's next
 * message, 204 the end, any other status a failure passed to the Agent.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "device.h"
#include "teep/http.h"
#include "teep/transport_plugin.h"

typedef struct http {
    dev_transport_t base;
    teep_http_client_t client;
    teep_tls_ctx_t tls;
    char path[TEEP_TEE_URI_MAX];
    void (*done)(void *arg);
    void *done_arg;
} http_t;

typedef struct http_exchange {
    teep_http_client_req_t req;
    dev_answer_cb cb;
    void *arg;
} http_exchange_t;

static bool is_teep(teep_slice_t ct)
{
    size_t n = sizeof(TEEP_MEDIA_TYPE) - 1;
    return ct.len >= n &&
           strncasecmp((const char *)ct.ptr, TEEP_MEDIA_TYPE, n) == 0 &&
           (ct.len == n || ct.ptr[n] == ';' || ct.ptr[n] == ' ');
}

static void on_response(teep_http_client_req_t *req, int status,
                        const teep_http_response_t *resp)
{
    http_exchange_t *x = req->data;
    dev_answer_t a = {.kind = DEV_ANSWER_FAILED, .code = status};
    if (status < 0) {
        a.reason = teep_http_strerror(status);
    } else if (resp->status < 200 || resp->status > 299) {
        a.code = resp->status;
        a.reason = "the broker answered with an error status";
    } else if (resp->body == NULL || teep_buf_len(resp->body) == 0) {
        a.kind = DEV_ANSWER_NONE;
    } else if (!is_teep(resp->content_type)) {
        a.code = -EPROTO;
        a.reason = "the answer is not " TEEP_MEDIA_TYPE;
    } else {
        a.kind = DEV_ANSWER_MESSAGE;
        a.body = resp->body;
    }
    x->cb(x->arg, &a);
    free(x);
}

static int exchange(dev_transport_t *base, const uint8_t *body, size_t len,
                    dev_answer_cb cb, void *arg)
{
    http_t *t = (http_t *)base;
    static const teep_http_header_t headers[] = {
        TEEP_HTTP_HEADER("Accept", TEEP_MEDIA_TYPE),
        TEEP_HTTP_HEADER("Content-Type", TEEP_MEDIA_TYPE),
    };
    http_exchange_t *x = calloc(1, sizeof(*x));
    teep_buf_t *b = len > 0 ? teep_buf_copy(0, body, len) : NULL;
    if (x == NULL || (len > 0 && b == NULL)) {
        free(x);
        teep_buf_unref(b);
        return -ENOMEM;
    }
    x->cb = cb;
    x->arg = arg;
    x->req.data = x;
    int rc = teep_http_client_request(&t->client, &x->req, "POST", t->path,
                                      headers, 2, b, on_response);
    teep_buf_unref(b);
    if (rc < 0)
        free(x);
    return rc;
}

static int open_http(device_t *dev, const char *uri, dev_transport_t **out)
{
    http_t *t = calloc(1, sizeof(*t));
    teep_http_url_t url;
    if (t == NULL)
        return -ENOMEM;
    int rc = teep_http_url_parse(uri, &url);
    if (rc == 0 && url.tls)
        rc = teep_tls_client_ctx_init(&t->tls, dev->opt.ca_file);
    if (rc == 0) {
        teep_http_client_config_t cfg;
        teep_http_client_config_default(&cfg);
        cfg.max_connections = 1; /* one exchange at a time anyway */
        cfg.read_timeout_ms = (uint64_t)dev->opt.timeout_s * 1000;
        cfg.max_body_size = 64u << 20; /* Updates carry whole TAs */
        cfg.tls = url.tls ? &t->tls : NULL;
        rc = teep_http_client_init(&t->client, dev->loop, uri, &cfg);
    }
    if (rc != 0) {
        dev_log(dev, TEEP_LOG_ERROR, "%s: %s", uri, teep_http_strerror(rc));
        teep_tls_ctx_free(&t->tls);
        free(t);
        return rc;
    }
    snprintf(t->path, sizeof(t->path), "%.*s", (int)url.path.len,
             (const char *)url.path.ptr);
    t->client.data = t;
    *out = &t->base;
    return 0;
}

static void client_closed(teep_http_client_t *client)
{
    http_t *t = client->data;
    void (*done)(void *) = t->done;
    void *arg = t->done_arg;
    teep_tls_ctx_free(&t->tls);
    free(t);
    done(arg);
}

static void close_http(dev_transport_t *base, void (*done)(void *arg),
                       void *arg)
{
    http_t *t = (http_t *)base;
    t->done = done;
    t->done_arg = arg;
    /* Requests in flight complete with TEEP_HTTP_E_CANCELED first. */
    teep_http_client_close(&t->client, client_closed);
}

static const char *const schemes[] = {"http", "https", NULL};

const dev_transport_ops_t dev_transport_http = {
    .name = "HTTP",
    .schemes = schemes,
    .open = open_http,
    .exchange = exchange,
    .close = close_http,
};
