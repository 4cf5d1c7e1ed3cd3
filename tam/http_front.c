/* http_front.c: TEEP over HTTP (digest 3.1, 3.3) and the admin API on the
 * shared HTTP module.  The loop checks method, path and media types and
 * hands each request to libuv's thread pool; the answer goes back on the
 * loop.  The request body is read by the worker through a reference taken
 * (and dropped) on the loop, so no reference count is touched off it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "front.h"
#include "internal.h"

#define PURGE_INTERVAL_MS  60000
#define DEFAULT_TIMEOUT_MS 10000
#define ADMIN_FIELD_MAX    8192

/* One request on its way through the thread pool. */
typedef struct work {
    uv_work_t uv;
    teep_tam_front_t *front;
    teep_http_request_t *req; /* NULL once its connection went away */
    bool admin;
    teep_buf_t *body; /* our reference, or NULL for an empty body */
    char *method, *path, *query, *authorization; /* admin: copies */
    teep_tam_reply_t reply;
    teep_buf_t *out; /* the reply's body as the loop sends it, or NULL */
} work_t;

static const teep_http_header_t teep_headers[] = {
    TEEP_HTTP_HEADER("Content-Type", TEEP_TAM_MEDIA_TYPE),
    TEEP_HTTP_HEADER("X-Content-Type-Options", "nosniff"),
    TEEP_HTTP_HEADER("Content-Security-Policy", "default-src 'none'"),
    TEEP_HTTP_HEADER("Referrer-Policy", "no-referrer"),
};
static const teep_http_header_t json_headers[] = {
    TEEP_HTTP_HEADER("Content-Type", "application/json"),
    TEEP_HTTP_HEADER("X-Content-Type-Options", "nosniff"),
    TEEP_HTTP_HEADER("Content-Security-Policy", "default-src 'none'"),
    TEEP_HTTP_HEADER("Referrer-Policy", "no-referrer"),
};

static bool slice_is(teep_slice_t s, const char *text)
{
    return s.len == strlen(text) &&
           strncasecmp((const char *)s.ptr, text, s.len) == 0;
}

/* The media type of a header value, without parameters and blanks. */
static teep_slice_t media_type(teep_slice_t v)
{
    size_t n = 0;
    while (n < v.len && v.ptr[n] != ';')
        n++;
    while (n > 0 && (v.ptr[n - 1] == ' ' || v.ptr[n - 1] == '\t'))
        n--;
    return (teep_slice_t){v.ptr, n};
}

/* Whether an Accept value admits application/teep+cbor. */
static bool accepts_teep(teep_slice_t accept)
{
    size_t i = 0;
    while (i < accept.len) {
        size_t start = i;
        while (i < accept.len && accept.ptr[i] != ',')
            i++;
        teep_slice_t item = {accept.ptr + start, i - start};
        while (item.len > 0 && (item.ptr[0] == ' ' || item.ptr[0] == '\t')) {
            item.ptr++;
            item.len--;
        }
        item = media_type(item);
        if (slice_is(item, TEEP_TAM_MEDIA_TYPE) || slice_is(item, "*/*") ||
            slice_is(item, "application/*"))
            return true;
        i++;
    }
    return false;
}

static void log_line(const teep_http_request_t *req, int status,
                     const char *reason)
{
    tam_log(status >= 500   ? TEEP_LOG_ERROR
            : status >= 400 ? TEEP_LOG_INFO
                            : TEEP_LOG_DEBUG,
            "%s %.*s -> %d%s%s", req->method, (int)req->target.len,
            (const char *)req->target.ptr, status, reason[0] ? ": " : "",
            reason);
}

static void answer_now(teep_http_request_t *req, int status, const char *reason)
{
    static const teep_http_header_t allow[] = {
        TEEP_HTTP_HEADER("Allow", "POST"),
    };
    log_line(req, status, reason);
    teep_http_respond(req, status, allow, status == 405 ? 1 : 0, NULL);
}

static void work_free(work_t *w)
{
    teep_buf_unref(w->body);
    teep_buf_unref(w->out);
    teep_tam_reply_clear(&w->reply);
    free(w->method);
    free(w->path);
    free(w->query);
    free(w->authorization);
    free(w);
}

static void maybe_stopped(teep_tam_front_t *f)
{
    if (f->stopping && f->handles_open == 0 && f->in_flight == 0 &&
        f->on_stop != NULL) {
        teep_tam_front_stop_cb cb = f->on_stop;
        f->on_stop = NULL;
        cb(f);
    }
}

/* ---- the thread pool side ------------------------------------------ */

/* The body the loop will send, made here: the loop serves every
 * connection, so the copy (an Update carries whole images) is the
 * worker's.  The new buffer is the worker's alone until work_done. */
static void pack_reply(work_t *w)
{
    teep_tam_reply_t *r = &w->reply;
    if (r->len == 0)
        return;
    w->out = teep_buf_copy(0, r->body, r->len);
    if (w->out == NULL)
        tam_reply_refuse(r, 500, "out of memory");
}

static void run_work(uv_work_t *uv)
{
    work_t *w = (work_t *)uv;
    teep_slice_t body =
        w->body != NULL ? teep_buf_slice(w->body) : (teep_slice_t){NULL, 0};
    if (!w->admin) {
        int rc = teep_tam_process_message(w->front->tam, body.ptr, body.len,
                                          &w->reply);
        if (rc != 0)
            tam_reply_refuse(&w->reply, 500, "%s", teep_strerror(rc));
        pack_reply(w);
        return;
    }
    teep_tam_admin_request_t a = {
        .method = w->method,
        .path = w->path,
        .query = w->query,
        .authorization = w->authorization,
        .body = body.ptr,
        .body_len = body.len,
    };
    if (teep_tam_admin(w->front->tam, &a, &w->reply) != 0)
        tam_reply_refuse(&w->reply, 500, "out of memory");
    pack_reply(w);
}

static void work_done(uv_work_t *uv, int status)
{
    work_t *w = (work_t *)uv;
    teep_tam_front_t *f = w->front;
    f->in_flight--;
    if (w->req != NULL) {
        teep_tam_reply_t *r = &w->reply;
        if (status != 0) {
            tam_reply_refuse(r, 503, "canceled");
            teep_buf_unref(w->out);
            w->out = NULL;
        }
        const teep_http_header_t *h = w->admin ? json_headers : teep_headers;
        w->req->data = NULL;
        log_line(w->req, r->status, r->reason);
        teep_http_respond(w->req, r->status, h, w->out != NULL ? 4 : 0, w->out);
    }
    work_free(w);
    maybe_stopped(f);
}

/* ---- the loop side ------------------------------------------------- */

static char *copy_slice(teep_slice_t s)
{
    if (s.len > ADMIN_FIELD_MAX)
        return NULL;
    char *p = malloc(s.len + 1);
    if (p != NULL) {
        memcpy(p, s.ptr, s.len);
        p[s.len] = 0;
    }
    return p;
}

static void queue(teep_tam_front_t *f, teep_http_request_t *req, bool admin)
{
    work_t *w = calloc(1, sizeof(*w));
    if (w == NULL) {
        answer_now(req, 503, "out of memory");
        return;
    }
    w->front = f;
    w->req = req;
    w->admin = admin;
    w->body = req->body != NULL ? teep_buf_ref(req->body) : NULL;
    if (admin) {
        const uint8_t *q = memchr(req->target.ptr, '?', req->target.len);
        teep_slice_t query = {NULL, 0};
        if (q != NULL)
            query = (teep_slice_t){
                q + 1, (size_t)(req->target.ptr + req->target.len - q - 1)};
        w->method = strdup(req->method);
        w->path = copy_slice(req->path);
        w->query = q != NULL ? copy_slice(query) : NULL;
        w->authorization =
            req->authorization.len > 0 ? copy_slice(req->authorization) : NULL;
        if (w->method == NULL || w->path == NULL ||
            (q != NULL && w->query == NULL) ||
            (req->authorization.len > 0 && w->authorization == NULL)) {
            work_free(w);
            answer_now(req, 431, "request fields too large");
            return;
        }
    }
    req->data = w;
    if (uv_queue_work(f->loop, &w->uv, run_work, work_done) != 0) {
        req->data = NULL;
        work_free(w);
        answer_now(req, 503, "cannot queue");
        return;
    }
    f->in_flight++;
}

static void on_teep_request(teep_http_server_t *server,
                            teep_http_request_t *req)
{
    bool empty = req->body == NULL || teep_buf_len(req->body) == 0;
    if (!slice_is(req->path, TEEP_TAM_PATH))
        answer_now(req, 404, "the TEEP endpoint is " TEEP_TAM_PATH);
    else if (strcmp(req->method, "POST") != 0)
        answer_now(req, 405, "TEEP over HTTP uses POST only");
    /* An empty POST without Content-Type opens a session (interop,
     * digest 3.5); any other body must say it is a TEEP message. */
    else if ((!empty || req->content_type.len > 0) &&
             !slice_is(media_type(req->content_type), TEEP_TAM_MEDIA_TYPE))
        answer_now(req, 415, "Content-Type must be " TEEP_TAM_MEDIA_TYPE);
    else if (req->accept.len > 0 && !accepts_teep(req->accept))
        answer_now(req, 406, "Accept must admit " TEEP_TAM_MEDIA_TYPE);
    else
        queue(server->data, req, false);
}

static void on_admin_request(teep_http_server_t *server,
                             teep_http_request_t *req)
{
    queue(server->data, req, true);
}

/* The connection went: the answer has nowhere to go.  The work runs to
 * its end (its state changes are the TAM's, not the connection's) and is
 * dropped in work_done. */
static void on_abandon(teep_http_server_t *server, teep_http_request_t *req)
{
    work_t *w = req->data;
    if (w != NULL)
        w->req = NULL;
    req->data = NULL;
}

/* ---- purging expired tokens ----------------------------------------- */

static void purge_work(uv_work_t *uv)
{
    work_t *w = (work_t *)uv;
    int n = teep_tam_purge(w->front->tam);
    if (n > 0)
        tam_log(TEEP_LOG_DEBUG, "dropped %d expired tokens", n);
}

static void purge_done(uv_work_t *uv, int status)
{
    work_t *w = (work_t *)uv;
    teep_tam_front_t *f = w->front;
    f->in_flight--;
    f->purging = false;
    work_free(w);
    maybe_stopped(f);
}

static void on_purge(uv_timer_t *t)
{
    teep_tam_front_t *f = t->data;
    work_t *w = f->purging ? NULL : calloc(1, sizeof(*w));
    if (w == NULL)
        return;
    w->front = f;
    if (uv_queue_work(f->loop, &w->uv, purge_work, purge_done) != 0) {
        free(w);
        return;
    }
    f->purging = true;
    f->in_flight++;
}

/* ---- starting and stopping ----------------------------------------- */

static void server_config(teep_http_server_config_t *c,
                          const teep_tam_front_config_t *cfg, size_t max_body,
                          const teep_tls_ctx_t *tls)
{
    teep_http_server_config_default(c);
    uint64_t t = cfg->request_timeout_ms != 0 ? cfg->request_timeout_ms
                                              : DEFAULT_TIMEOUT_MS;
    c->header_timeout_ms = t;
    c->body_timeout_ms = t;
    c->max_body_size = max_body;
    c->tls = tls;
    if (cfg->max_connections != 0)
        c->max_connections = cfg->max_connections;
}

static void on_server_closed(teep_http_server_t *server)
{
    teep_tam_front_t *f = server->data;
    f->handles_open--;
    maybe_stopped(f);
}

static void on_timer_closed(uv_handle_t *h)
{
    teep_tam_front_t *f = h->data;
    f->handles_open--;
    maybe_stopped(f);
}

/* Initialise one server and count it as open (it must be stopped from
 * then on, whether listen succeeds or not). */
static int open_server(teep_tam_front_t *f, teep_http_server_t *server,
                       const teep_http_server_config_t *c,
                       teep_http_request_cb on_request, const char *host,
                       uint16_t port)
{
    int rc = teep_http_server_init(server, f->loop, c, on_request, on_abandon);
    if (rc != 0)
        return rc;
    server->data = f;
    f->handles_open++;
    return teep_http_server_listen(server, host, port, 0);
}

int teep_tam_front_start(teep_tam_front_t *f, uv_loop_t *loop, teep_tam_t *tam,
                         const teep_tam_front_config_t *cfg)
{
    teep_http_server_config_t c;
    memset(f, 0, sizeof(*f));
    f->tam = tam;
    f->loop = loop;
    size_t max_message =
        cfg->max_message != 0 ? cfg->max_message : TEEP_TAM_DEFAULT_MAX_MESSAGE;
    server_config(&c, cfg, max_message, cfg->tls);
    int rc =
        open_server(f, &f->teep, &c, on_teep_request, cfg->host, cfg->port);
    bool teep_open = f->handles_open == 1;
    if (rc == 0 && cfg->admin_host != NULL) {
        server_config(&c, cfg, tam->cfg.max_package, cfg->admin_tls);
        rc = open_server(f, &f->admin, &c, on_admin_request, cfg->admin_host,
                         cfg->admin_port);
        f->has_admin = f->handles_open == 2;
    }
    if (rc == 0) {
        uv_timer_init(loop, &f->purge);
        f->purge.data = f;
        f->handles_open++;
        uv_timer_start(&f->purge, on_purge, PURGE_INTERVAL_MS,
                       PURGE_INTERVAL_MS);
        return 0;
    }
    /* Close what was opened; the closes finish when the loop runs. */
    f->stopping = true;
    if (teep_open)
        teep_http_server_stop(&f->teep, on_server_closed);
    if (f->has_admin)
        teep_http_server_stop(&f->admin, on_server_closed);
    return rc;
}

int teep_tam_front_port(teep_tam_front_t *f, bool admin)
{
    if (admin && !f->has_admin)
        return -ENOENT;
    return teep_http_server_port(admin ? &f->admin : &f->teep, 0);
}

void teep_tam_front_stop(teep_tam_front_t *f, teep_tam_front_stop_cb cb)
{
    if (f->stopping)
        return;
    f->stopping = true;
    f->on_stop = cb;
    uv_timer_stop(&f->purge);
    uv_close((uv_handle_t *)&f->purge, on_timer_closed);
    teep_http_server_stop(&f->teep, on_server_closed);
    if (f->has_admin)
        teep_http_server_stop(&f->admin, on_server_closed);
}
