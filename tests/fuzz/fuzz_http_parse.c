/*
 * Fuzz the HTTP parser layer (net/http_parse.c) the way a connection
 * drives it: arbitrary bytes, as requests and as responses, fed in pieces
 * whose sizes the input chooses, into one contiguous buffer (the
 * connection keeps an incomplete head in place), with parsing going on
 * after each complete message.  Checks that every span lies inside the
 * bytes fed and every body byte inside the input, and what the layer
 * promises about the fields it lets through (net/http_parse.h): a name is
 * a token, a value holds no CR, LF or NUL (no obs-fold, nothing a header
 * builder could be tricked into repeating), and a body length excludes
 * chunked.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_parse.h"

typedef struct fuzz_ctx {
    teep_http__parser_t *parser;
    const uint8_t *data;
    size_t size;
    size_t body;
} fuzz_ctx_t;

static void check_span(const fuzz_ctx_t *f, teep_http__span_t s)
{
    const uint8_t *p = f->parser->base + s.off;
    if (p < f->data || p + s.len > f->data + f->size)
        abort();
}

/* RFC 9110 5.6.2 tchar. */
static bool is_tchar(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
           (c >= 'A' && c <= 'Z') || (c != 0 && strchr("!#$%&'*+-.^_`|~", c));
}

static int on_head(void *ctx)
{
    fuzz_ctx_t *f = ctx;
    const teep_http__head_t *h = &f->parser->head;
    check_span(f, h->target);
    for (size_t i = 0; i < h->field_count; i++) {
        teep_http__span_t name = h->fields[i].name;
        teep_http__span_t value = h->fields[i].value;
        check_span(f, name);
        check_span(f, value);
        const uint8_t *n = f->parser->base + name.off;
        const uint8_t *v = f->parser->base + value.off;
        if (name.len == 0)
            abort();
        for (size_t k = 0; k < name.len; k++)
            if (!is_tchar(n[k]))
                abort();
        for (size_t k = 0; k < value.len; k++)
            if (v[k] == '\r' || v[k] == '\n' || v[k] == 0)
                abort();
    }
    if (h->http_major != 1 || (h->chunked && h->content_length >= 0))
        abort();
    /* Like a client that sent HEAD, now and then. */
    return f->size % 7 == 0 ? TEEP_HTTP__SKIP_BODY : 0;
}

static int on_body(void *ctx, const uint8_t *at, size_t len)
{
    fuzz_ctx_t *f = ctx;
    if (at < f->data || at + len > f->data + f->size)
        abort();
    f->body += len;
    return 0;
}

static const teep_http__parse_cbs_t cbs = {on_head, on_body};

static void run(int type, const uint8_t *data, size_t size, uint8_t seed)
{
    teep_http__parser_t p;
    fuzz_ctx_t f = {&p, data, size, 0};
    teep_http__parser_init(&p, type, 4096, 32, &cbs, &f);
    size_t pos = 0;
    size_t end = 0;
    unsigned step = seed;
    while (pos < size) {
        /* The next read ends somewhere after what was fed so far. */
        step = step * 1103515245u + 12345u;
        size_t piece = 1 + (step >> 16) % 97;
        if (end < pos)
            end = pos;
        end = end + piece < size ? end + piece : size;
        size_t used;
        int rc = teep_http__parse(&p, data + pos, end - pos, &used);
        if (used > end - pos)
            abort();
        pos += used;
        if (rc < 0)
            return;
        if (rc == 0 && used == 0)
            return;
    }
    teep_http__parse_eof(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t seed = size > 0 ? data[0] : 0;
    run(TEEP_HTTP__REQUEST, data, size, seed);
    run(TEEP_HTTP__RESPONSE, data, size, seed);
    return 0;
}
