/*
 * The HTTP/1.x parser layer (net/http_parse.h) on Debian's http-parser
 * 2.9.  http-parser is callback driven and keeps no bytes: fields arrive as
 * pointers into what was fed, split at read boundaries, so spans are
 * recorded relative to the head's first byte and grown while the pieces
 * stay contiguous.
 */
#include <http_parser.h>
#include <string.h>
#include <strings.h>

#include "http_parse.h"

_Static_assert(sizeof(http_parser) <= sizeof(((teep_http__parser_t *)0)->impl),
               "teep_http__parser_t.impl too small for http_parser");

enum { DATA_NONE = 0, DATA_TARGET, DATA_NAME, DATA_VALUE };

static http_parser *impl_of(teep_http__parser_t *p)
{
    return (http_parser *)(void *)p->impl;
}

static teep_http__parser_t *owner_of(http_parser *hp)
{
    return hp->data;
}

static int fail(teep_http__parser_t *p, int code)
{
    if (p->error == 0)
        p->error = code;
    return -1;
}

/* Start (fresh) or extend span s with the piece at..at+len.  A piece that
 * does not continue the span means the owner moved bytes it promised to
 * keep in place: refuse rather than record garbage. */
static int span_add(teep_http__parser_t *p, teep_http__span_t *s,
                    const char *at, size_t len, bool fresh)
{
    const uint8_t *a = (const uint8_t *)at;
    if (a < p->base)
        return fail(p, TEEP_HTTP_E_MALFORMED);
    size_t off = (size_t)(a - p->base);
    if (off + len > p->max_head_size)
        return fail(p, TEEP_HTTP_E_HEADER_TOO_LARGE);
    if (fresh) {
        s->off = (uint32_t)off;
        s->len = (uint32_t)len;
    } else if (s->off + (size_t)s->len == off) {
        s->len += (uint32_t)len;
    } else {
        return fail(p, TEEP_HTTP_E_MALFORMED);
    }
    return 0;
}

static int on_message_begin(http_parser *hp)
{
    teep_http__parser_t *p = owner_of(hp);
    teep_http__head_t *h = &p->head;
    h->method = NULL;
    h->target.off = h->target.len = 0;
    h->status = 0;
    h->content_length = -1;
    h->chunked = h->keep_alive = h->upgrade = h->expect_continue = false;
    h->field_count = 0;
    p->state = TEEP_HTTP__HEAD;
    p->last_data = DATA_NONE;
    return 0;
}

static int on_url(http_parser *hp, const char *at, size_t len)
{
    teep_http__parser_t *p = owner_of(hp);
    int rc = span_add(p, &p->head.target, at, len, p->last_data != DATA_TARGET);
    p->last_data = DATA_TARGET;
    return rc;
}

static int on_header_field(http_parser *hp, const char *at, size_t len)
{
    teep_http__parser_t *p = owner_of(hp);
    teep_http__head_t *h = &p->head;
    if (p->last_data != DATA_NAME) {
        if (h->field_count >= p->max_fields)
            return fail(p, TEEP_HTTP_E_HEADER_TOO_LARGE);
        teep_http__field_t *f = &h->fields[h->field_count++];
        f->value.off = f->value.len = 0;
        p->last_data = DATA_NAME;
        return span_add(p, &f->name, at, len, true);
    }
    return span_add(p, &h->fields[h->field_count - 1].name, at, len, false);
}

static int on_header_value(http_parser *hp, const char *at, size_t len)
{
    teep_http__parser_t *p = owner_of(hp);
    teep_http__head_t *h = &p->head;
    if (h->field_count == 0)
        return fail(p, TEEP_HTTP_E_MALFORMED);
    bool fresh = p->last_data != DATA_VALUE;
    p->last_data = DATA_VALUE;
    return span_add(p, &h->fields[h->field_count - 1].value, at, len, fresh);
}

static bool span_equals(const teep_http__parser_t *p, teep_http__span_t s,
                        const char *lit)
{
    size_t n = strlen(lit);
    return s.len == n &&
           strncasecmp((const char *)p->base + s.off, lit, n) == 0;
}

static bool expects_continue(const teep_http__parser_t *p)
{
    for (size_t i = 0; i < p->head.field_count; i++) {
        const teep_http__field_t *f = &p->head.fields[i];
        if (span_equals(p, f->name, "expect") &&
            span_equals(p, f->value, "100-continue"))
            return true;
    }
    return false;
}

static int on_headers_complete(http_parser *hp)
{
    teep_http__parser_t *p = owner_of(hp);
    teep_http__head_t *h = &p->head;
    if (hp->type == HTTP_REQUEST)
        h->method = http_method_str((enum http_method)hp->method);
    else
        h->status = (int)hp->status_code;
    h->http_major = hp->http_major;
    h->http_minor = hp->http_minor;
    if (hp->flags & F_CONTENTLENGTH)
        h->content_length = (int64_t)hp->content_length;
    h->chunked = (hp->flags & F_CHUNKED) != 0;
    h->keep_alive = http_should_keep_alive(hp) != 0 && !hp->upgrade;
    h->upgrade = hp->upgrade != 0;
    h->expect_continue = hp->type == HTTP_REQUEST && expects_continue(p);
    p->state = TEEP_HTTP__BODY;
    int rc = p->cbs->on_head(p->ctx);
    if (rc < 0)
        return fail(p, rc);
    /* 1 tells http-parser there is no body (as for a response to HEAD). */
    return rc == TEEP_HTTP__SKIP_BODY ? 1 : 0;
}

static int on_body(http_parser *hp, const char *at, size_t len)
{
    teep_http__parser_t *p = owner_of(hp);
    int rc = p->cbs->on_body(p->ctx, (const uint8_t *)at, len);
    return rc < 0 ? fail(p, rc) : 0;
}

static int on_message_complete(http_parser *hp)
{
    teep_http__parser_t *p = owner_of(hp);
    p->state = TEEP_HTTP__IDLE;
    /* Stop right after this message so the owner decides about the next
     * one (pipelining limits, Connection: close). */
    http_parser_pause(hp, 1);
    return 0;
}

static const http_parser_settings settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

void teep_http__parser_init(teep_http__parser_t *p, int type,
                            size_t max_head_size, size_t max_fields,
                            const teep_http__parse_cbs_t *cbs, void *ctx)
{
    http_parser *hp = impl_of(p);
    http_parser_init(hp,
                     type == TEEP_HTTP__REQUEST ? HTTP_REQUEST : HTTP_RESPONSE);
    hp->data = p;
    p->cbs = cbs;
    p->ctx = ctx;
    p->base = NULL;
    p->max_head_size = max_head_size;
    p->max_fields =
        max_fields < TEEP_HTTP_MAX_HEADERS ? max_fields : TEEP_HTTP_MAX_HEADERS;
    p->state = TEEP_HTTP__IDLE;
    p->last_data = DATA_NONE;
    p->error = 0;
    p->skip_body = false;
}

static int error_code(teep_http__parser_t *p, enum http_errno e)
{
    if (p->error != 0)
        return p->error;
    p->error = e == HPE_HEADER_OVERFLOW ? TEEP_HTTP_E_HEADER_TOO_LARGE
                                        : TEEP_HTTP_E_MALFORMED;
    return p->error;
}

int teep_http__parse(teep_http__parser_t *p, const uint8_t *data, size_t len,
                     size_t *used)
{
    http_parser *hp = impl_of(p);
    *used = 0;
    if (p->error != 0)
        return p->error;
    if (HTTP_PARSER_ERRNO(hp) == HPE_PAUSED)
        http_parser_pause(hp, 0);
    if (len == 0)
        return 0;
    if (p->state == TEEP_HTTP__IDLE)
        p->base = data;
    size_t n = http_parser_execute(hp, &settings, (const char *)data, len);
    *used = n;
    enum http_errno e = HTTP_PARSER_ERRNO(hp);
    if (e == HPE_PAUSED)
        return TEEP_HTTP__DONE;
    if (e != HPE_OK)
        return error_code(p, e);
    /* Bytes that fire no callback (spaces, the final CRLFs) count too. */
    if (p->state == TEEP_HTTP__HEAD &&
        (size_t)(data + n - p->base) > p->max_head_size) {
        p->error = TEEP_HTTP_E_HEADER_TOO_LARGE;
        return p->error;
    }
    return 0;
}

int teep_http__parse_eof(teep_http__parser_t *p)
{
    http_parser *hp = impl_of(p);
    if (p->error != 0)
        return p->error;
    if (HTTP_PARSER_ERRNO(hp) == HPE_PAUSED)
        http_parser_pause(hp, 0);
    if (p->state == TEEP_HTTP__IDLE)
        return 0;
    http_parser_execute(hp, &settings, NULL, 0);
    if (HTTP_PARSER_ERRNO(hp) == HPE_PAUSED)
        return TEEP_HTTP__DONE;
    p->error = TEEP_HTTP_E_RESET;
    return p->error;
}
