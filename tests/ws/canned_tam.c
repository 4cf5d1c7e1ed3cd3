/*
 * canned_tam.c: the canned transport host of the WebSocket tests
 * (canned_tam.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "canned_tam.h"

struct teep_exchange {
    uv_timer_t timer;
    canned_tam_t *tam;
    teep_exchange_cb cb;
    void *cb_data;
    teep_exchange_reply_t reply;
    char text[200];
};

static uint8_t *load_hex(const char *dir, const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    uint8_t *out = malloc(65536);
    size_t n = 0;
    int hi = -1, ch;
    while (out != NULL && (ch = fgetc(f)) != EOF && n < 65536) {
        if (isspace(ch))
            continue;
        int v = isdigit(ch) ? ch - '0' : tolower(ch) - 'a' + 10;
        if (hi < 0) {
            hi = v;
        } else {
            out[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    fclose(f);
    *len = n;
    return out;
}

static void host_log(void *data, teep_log_level_t level, const char *fmt, ...)
{
    canned_tam_t *t = data;
    if (t->quiet && level > TEEP_LOG_ERROR)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "transport_ws: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void host_count(void *data, const char *name, uint64_t delta)
{
    canned_tam_t *t = data;
    for (size_t i = 0; i < CANNED_COUNTERS; i++) {
        if (t->counters[i].name == NULL)
            t->counters[i].name = name;
        if (strcmp(t->counters[i].name, name) == 0) {
            t->counters[i].value += delta;
            return;
        }
    }
}

static void host_gauge(void *data, const char *name, uint64_t value)
{
    canned_tam_t *t = data;
    if (strcmp(name, "connections") == 0)
        t->gauge_connections = value;
}

static teep_buf_t *host_buf_new(void *data, size_t headroom, size_t size)
{
    canned_tam_t *t = data;
    t->buf_bytes += size;
    return teep_buf_new(headroom, size);
}

uint64_t canned_tam_counter(const canned_tam_t *t, const char *name)
{
    for (size_t i = 0; i < CANNED_COUNTERS && t->counters[i].name; i++)
        if (strcmp(t->counters[i].name, name) == 0)
            return t->counters[i].value;
    return 0;
}

static void exchange_closed(uv_handle_t *h)
{
    free(h->data);
}

static void answer(uv_timer_t *timer)
{
    struct teep_exchange *x = timer->data;
    canned_tam_t *t = x->tam;
    t->answered++;
    t->pending--;
    x->cb(x->cb_data, &x->reply);
    teep_buf_unref(x->reply.body);
    uv_close((uv_handle_t *)&x->timer, exchange_closed);
}

static bool same(const teep_buf_t *b, const uint8_t *p, size_t n)
{
    return b != NULL && teep_buf_len(b) == n && memcmp(b->pos, p, n) == 0;
}

static bool starts(const teep_buf_t *b, const char *s)
{
    size_t n = strlen(s);
    return b != NULL && teep_buf_len(b) >= n && memcmp(b->pos, s, n) == 0;
}

/* What the canned TAM says to body (canned_tam.h). */
static unsigned decide(canned_tam_t *t, struct teep_exchange *x,
                       const teep_exchange_request_t *req)
{
    teep_exchange_reply_t *r = &x->reply;
    const teep_buf_t *b = req->body;
    const uint8_t *msg = NULL;
    size_t len = 0;
    r->outcome = TEEP_EXCHANGE_MESSAGE;
    if (b == NULL) {
        msg = t->query_request;
        len = t->query_request_len;
    } else if (same(b, t->query_response, t->query_response_len) ||
               starts(b, "slow")) {
        msg = t->update;
        len = t->update_len;
    } else if (same(b, t->success, t->success_len)) {
        r->outcome = TEEP_EXCHANGE_NO_CONTENT;
    } else if (starts(b, "busy")) {
        *r = (teep_exchange_reply_t){.outcome = TEEP_EXCHANGE_FAILED,
                                     .error = TEEP_XERR_OVERLOADED,
                                     .retry_after_s = 7,
                                     .reason = "pending bound reached"};
    } else if (starts(b, "who")) {
        snprintf(x->text, sizeof(x->text), "route=%.*s device=%.*s",
                 (int)req->route_len, req->route, (int)req->device_len,
                 req->device);
        msg = (const uint8_t *)x->text;
        len = strlen(x->text);
    } else {
        *r = (teep_exchange_reply_t){.outcome = TEEP_EXCHANGE_FAILED,
                                     .error = TEEP_XERR_BAD_MESSAGE,
                                     .reason = "not a TEEP message"};
    }
    if (msg != NULL)
        r->body = teep_buf_copy(t->headroom, msg, len);
    return starts(b, "slow") ? 300 : 0;
}

static int host_submit(void *data, const teep_exchange_request_t *req,
                       teep_exchange_t **handle)
{
    canned_tam_t *t = data;
    if (req->size < sizeof(*req) || req->cb == NULL)
        return -EINVAL;
    struct teep_exchange *x = calloc(1, sizeof(*x));
    if (x == NULL)
        return -ENOMEM;
    x->tam = t;
    x->cb = req->cb;
    x->cb_data = req->cb_data;
    snprintf(t->last_route, sizeof(t->last_route), "%.*s", (int)req->route_len,
             req->route);
    snprintf(t->last_device, sizeof(t->last_device), "%.*s",
             (int)req->device_len, req->device);
    unsigned delay = decide(t, x, req);
    uv_timer_init(t->loop, &x->timer);
    x->timer.data = x;
    uv_timer_start(&x->timer, answer, delay, 0);
    t->submitted++;
    t->pending++;
    *handle = x;
    return 0;
}

static void host_cancel(void *data, teep_exchange_t *handle)
{
    canned_tam_t *t = data;
    struct teep_exchange *x = handle;
    t->cancelled++;
    t->pending--;
    teep_buf_unref(x->reply.body);
    uv_close((uv_handle_t *)&x->timer, exchange_closed);
}

int canned_tam_init(canned_tam_t *t, uv_loop_t *loop, const char *dir,
                    size_t headroom)
{
    memset(t, 0, sizeof(*t));
    t->loop = loop;
    t->headroom = headroom;
    t->query_request = load_hex(dir,
                                "gen_tp26_query_request_cose_sign1_"
                                "esp256.hex",
                                &t->query_request_len);
    t->query_response = load_hex(dir,
                                 "gen_tp26_query_response_cose_sign1_"
                                 "esp256.hex",
                                 &t->query_response_len);
    t->update =
        load_hex(dir, "gen_tp26_update_cose_sign1_esp256.hex", &t->update_len);
    t->success = load_hex(dir, "gen_tp26_teep_success_cose_sign1_esp256.hex",
                          &t->success_len);
    t->host = (teep_transport_host_t){
        .size = sizeof(teep_transport_host_t),
        .host_data = t,
        .loop = loop,
        .log = host_log,
        .submit = host_submit,
        .cancel = host_cancel,
        .count = host_count,
        .gauge = host_gauge,
        .buf_new = host_buf_new,
    };
    if (t->query_request == NULL || t->query_response == NULL ||
        t->update == NULL || t->success == NULL) {
        canned_tam_free(t);
        return -ENOENT;
    }
    return 0;
}

void canned_tam_free(canned_tam_t *t)
{
    free(t->query_request);
    free(t->query_response);
    free(t->update);
    free(t->success);
    t->query_request = t->query_response = t->update = t->success = NULL;
}
