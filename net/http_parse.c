/*
 * The HTTP/1.x parser layer (net/http_parse.h) on llhttp 8.1, compiled
 * into our build from Debian's node-llhttp sources in strict mode
 * (net/CMakeLists.txt).  llhttp is callback driven and keeps no bytes:
 * fields arrive as pointers into what was fed, split at read boundaries,
 * so spans are recorded relative to the head's first byte and grown while
 * the pieces stay contiguous.  No lenient flag is set: each one weakens a
 * request-smuggling defence (docs/http.md).
 */
#include <llhttp.h>
#include <string.h>
#include <strings.h>

#include "http_parse.h"

_Static_assert(sizeof(llhttp_t) <= sizeof(((teep_http__parser_t *)0)->impl),
               "teep_http__parser_t.impl too small for llhttp_t");
_Static_assert(_Alignof(llhttp_t) <= 8, "teep_http__parser_t.impl alignment");

enum { DATA_NONE = 0, DATA_TARGET, DATA_NAME, DATA_VALUE };

static llhttp_t *impl_of(teep_http__parser_t *p)
{
    return (llhttp_t *)(void *)p->impl;
}

static teep_http__parser_t *owner_of(llhttp_t *hp)
{
    return hp->data;
}

/* Remember the first failure; -1 makes llhttp stop with HPE_USER (data
 * callbacks) or HPE_CB_* (the others), which error_code maps back. */
static int fail(teep_http__parser_t *p, int code)
{
    if (p->error == 0)
        p->error = code;
    return -1;
}

/* Start (fresh) or extend span s with the piece at..at+len.  A piece that
 * does not continue the span means the owner moved bytes it promised to
 * keep in place, or (a field value) an obs-fold: refuse rather than
 * record garbage.  llhttp also reports empty pieces where a span closes,
 * an empty value's after its line's CRLF: they add nothing. */
static int span_add(teep_http__parser_t *p, teep_http__span_t *s,
                    const char *at, size_t len, bool fresh)
{
    if (!fresh && len == 0)
        return 0;
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

static int on_message_begin(llhttp_t *hp)
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
    p->trailer_fields = 0;
    p->trailer_size = 0;
    return 0;
}

static int on_url(llhttp_t *hp, const char *at, size_t len)
{
    teep_http__parser_t *p = owner_of(hp);
    int rc = span_add(p, &p->head.target, at, len, p->last_data != DATA_TARGET);
    p->last_data = DATA_TARGET;
    return rc;
}

/* A chunked body's trailer fields (llhttp reports them like head fields,
 * after the last chunk): nobody here uses them and their bytes are not
 * kept, so they are counted against the head's limits and dropped. */
static int trailer_piece(teep_http__parser_t *p, size_t len, bool new_field)
{
    if (new_field && ++p->trailer_fields > p->max_fields)
        return fail(p, TEEP_HTTP_E_HEADER_TOO_LARGE);
    p->trailer_size += len;
    if (p->trailer_size > p->max_head_size)
        return fail(p, TEEP_HTTP_E_HEADER_TOO_LARGE);
    return 0;
}

/* llhttp (strict mode too) takes a line starting with ':' as a field with
 * an empty name; a field name is a token, one character at least.  Checked
 * for the last field once its name is complete. */
static bool name_ok(const teep_http__head_t *h)
{
    return h->fields[h->field_count - 1].name.len > 0;
}

static int on_header_field(llhttp_t *hp, const char *at, size_t len)
{
    teep_http__parser_t *p = owner_of(hp);
    teep_http__head_t *h = &p->head;
    bool fresh = p->last_data != DATA_NAME;
    p->last_data = DATA_NAME;
    if (p->state == TEEP_HTTP__BODY)
        return trailer_piece(p, len, fresh);
    if (fresh) {
        if (h->field_count > 0 && !name_ok(h))
            return fail(p, TEEP_HTTP_E_MALFORMED);
        if (h->field_count >= p->max_fields)
            return fail(p, TEEP_HTTP_E_HEADER_TOO_LARGE);
        teep_http__field_t *f = &h->fields[h->field_count++];
        f->value.off = f->value.len = 0;
        return span_add(p, &f->name, at, len, true);
    }
    return span_add(p, &h->fields[h->field_count - 1].name, at, len, false);
}

/* Whether a value's first byte is on a continuation line: llhttp (strict
 * mode too) accepts obs-fold, reporting the folded part as more value,
 * or as the whole value when the first line was empty.  RFC 9112 5.2 lets
 * a server answer 400 and a proxy 502, which is what an error here
 * becomes.  Only whitespace separates the value from the byte before it
 * (':' or, for a fold, LF), all inside the head. */
static bool starts_folded(const teep_http__parser_t *p, const char *at)
{
    const char *c = at;
    while ((const uint8_t *)c > p->base && (c[-1] == ' ' || c[-1] == '\t'))
        c--;
    return (const uint8_t *)c > p->base && c[-1] == '\n';
}

static int on_header_value(llhttp_t *hp, const char *at, size_t len)
{
    teep_http__parser_t *p = owner_of(hp);
    teep_http__head_t *h = &p->head;
    bool fresh = p->last_data != DATA_VALUE;
    p->last_data = DATA_VALUE;
    if (p->state == TEEP_HTTP__BODY)
        return trailer_piece(p, len, false);
    if (h->field_count == 0)
        return fail(p, TEEP_HTTP_E_MALFORMED);
    teep_http__span_t *v = &h->fields[h->field_count - 1].value;
    /* The first bytes of the value, after any empty piece. */
    bool first = fresh || v->len == 0;
    if (first && len > 0 && (const uint8_t *)at >= p->base &&
        starts_folded(p, at))
        return fail(p, TEEP_HTTP_E_MALFORMED);
    return span_add(p, v, at, len, first);
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

static int on_headers_complete(llhttp_t *hp)
{
    teep_http__parser_t *p = owner_of(hp);
    teep_http__head_t *h = &p->head;
    /* llhttp also takes 0.9 and 2.0; neither is HTTP/1.x framing. */
    if (hp->http_major != 1 || (h->field_count > 0 && !name_ok(h)))
        return fail(p, TEEP_HTTP_E_MALFORMED);
    if (hp->type == HTTP_REQUEST)
        h->method = llhttp_method_name((llhttp_method_t)hp->method);
    else
        h->status = (int)hp->status_code;
    h->http_major = hp->http_major;
    h->http_minor = hp->http_minor;
    /* llhttp counts content_length down while it reads the body; here,
     * before the body, it is the header's value. */
    if (hp->flags & F_CONTENT_LENGTH)
        h->content_length = (int64_t)hp->content_length;
    h->chunked = (hp->flags & F_CHUNKED) != 0;
    h->keep_alive = llhttp_should_keep_alive(hp) != 0 && !hp->upgrade;
    h->upgrade = hp->upgrade != 0;
    h->expect_continue = hp->type == HTTP_REQUEST && expects_continue(p);
    p->state = TEEP_HTTP__BODY;
    p->last_data = DATA_NONE;
    int rc = p->cbs->on_head(p->ctx);
    if (rc < 0)
        return fail(p, rc);
    /* 1 tells llhttp there is no body (as for a response to HEAD). */
    return rc == TEEP_HTTP__SKIP_BODY ? 1 : 0;
}

static int on_body(llhttp_t *hp, const char *at, size_t len)
{
    teep_http__parser_t *p = owner_of(hp);
    int rc = p->cbs->on_body(p->ctx, (const uint8_t *)at, len);
    return rc < 0 ? fail(p, rc) : 0;
}

static int on_message_complete(llhttp_t *hp)
{
    teep_http__parser_t *p = owner_of(hp);
    p->state = TEEP_HTTP__IDLE;
    /* Stop right after this message so the owner decides about the next
     * one (pipelining limits, Connection: close).  llhttp_execute returns
     * HPE_PAUSED with the error position just past the message. */
    return HPE_PAUSED;
}

static const llhttp_settings_t settings = {
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
    llhttp_t *hp = impl_of(p);
    llhttp_init(hp, type == TEEP_HTTP__REQUEST ? HTTP_REQUEST : HTTP_RESPONSE,
                &settings);
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
    p->trailer_fields = 0;
    p->trailer_size = 0;
}

/* llhttp has no size limits of its own (they are ours, above), so every
 * error of its own is malformed input, including HPE_PAUSED_UPGRADE (bytes
 * fed after an Upgrade or CONNECT message) and HPE_PAUSED_H2_UPGRADE (the
 * HTTP/2 preface). */
static int error_code(teep_http__parser_t *p)
{
    if (p->error == 0)
        p->error = TEEP_HTTP_E_MALFORMED;
    return p->error;
}

int teep_http__parse(teep_http__parser_t *p, const uint8_t *data, size_t len,
                     size_t *used)
{
    llhttp_t *hp = impl_of(p);
    *used = 0;
    if (p->error != 0)
        return p->error;
    /* Paused after the previous message: the owner chose to go on. */
    llhttp_resume(hp);
    if (len == 0)
        return 0;
    if (p->state == TEEP_HTTP__IDLE)
        p->base = data;
    const char *start = (const char *)data;
    llhttp_errno_t e = llhttp_execute(hp, start, len);
    if (e == HPE_OK) {
        *used = len;
        /* Bytes that fire no callback (spaces, the final CRLFs) count
         * too. */
        if (p->state == TEEP_HTTP__HEAD &&
            (size_t)(data + len - p->base) > p->max_head_size) {
            p->error = TEEP_HTTP_E_HEADER_TOO_LARGE;
            return p->error;
        }
        return 0;
    }
    /* The error position is where llhttp stopped: just past the message
     * when paused, at the offending byte otherwise. */
    const char *pos = llhttp_get_error_pos(hp);
    if (pos != NULL && pos >= start && pos <= start + len)
        *used = (size_t)(pos - start);
    if (e == HPE_PAUSED)
        return TEEP_HTTP__DONE;
    return error_code(p);
}

int teep_http__parse_eof(teep_http__parser_t *p)
{
    llhttp_t *hp = impl_of(p);
    if (p->error != 0)
        return p->error;
    /* Between messages (paused after one, or not yet begun) an EOF ends
     * nothing; llhttp_finish would call a paused message unfinished. */
    if (p->state == TEEP_HTTP__IDLE)
        return 0;
    /* Completes a body delimited by the close (on_message_complete runs
     * and pauses again), or reports a message cut short. */
    llhttp_finish(hp);
    if (p->state == TEEP_HTTP__IDLE)
        return TEEP_HTTP__DONE;
    p->error = TEEP_HTTP_E_RESET;
    return p->error;
}
