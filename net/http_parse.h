/*
 * net/http_parse.h: the HTTP/1.x message parser every connection uses,
 * the only door to the underlying parser (llhttp, built from Debian's
 * node-llhttp sources; only http_parse.c knows it).
 *
 * Streaming: the owner feeds bytes as they arrive.  Head fields are
 * recorded as spans relative to base, the first byte of the message's
 * head, so the owner may move an incomplete head to a new buffer
 * (teep_http__parse_rebase) as long as the head bytes stay contiguous and
 * in order; body bytes are handed to on_body and not kept.  Parsing stops
 * after each complete message, so the owner decides whether to go on.
 *
 * Only HTTP/1.0 and 1.1 are accepted, with CRLF inside the fields and the
 * chunked framing (a bare LF ends only the start line or the head), field
 * names that are tokens (not empty, no whitespace before the colon), no
 * obs-fold or control bytes in values, and no body framing llhttp calls
 * ambiguous (Content-Length with Transfer-Encoding, two Content-Lengths,
 * a request Transfer-Encoding not ending in chunked): docs/http.md.
 * A chunked body's trailer fields are checked and dropped, within the
 * same limits as the head's fields.
 */
#ifndef TEEP_NET_HTTP_PARSE_H
#define TEEP_NET_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "teep/http.h"

enum { TEEP_HTTP__REQUEST = 0, TEEP_HTTP__RESPONSE = 1 };

/* teep_http__parse results besides 0 (need more bytes) and errors. */
#define TEEP_HTTP__DONE 1 /* a message is complete */

/* on_head result: the message has no body whatever its headers say (the
 * response to HEAD). */
#define TEEP_HTTP__SKIP_BODY 1

typedef struct teep_http__span {
    uint32_t off;
    uint32_t len;
} teep_http__span_t;

typedef struct teep_http__field {
    teep_http__span_t name;
    teep_http__span_t value;
} teep_http__field_t;

typedef struct teep_http__head {
    const char *method; /* requests: static string */
    teep_http__span_t target;
    int status; /* responses */
    int http_major;
    int http_minor;
    int64_t content_length; /* -1 when absent */
    bool chunked;
    bool keep_alive; /* the version and Connection header allow another
                        message on this connection */
    bool upgrade;    /* Upgrade or CONNECT: the connection cannot go on */
    bool expect_continue;
    size_t field_count;
    teep_http__field_t fields[TEEP_HTTP_MAX_HEADERS];
} teep_http__head_t;

typedef struct teep_http__parse_cbs {
    /* The head is complete (parser->head, relative to parser->base).
     * Return 0, TEEP_HTTP__SKIP_BODY, or a negative code to stop. */
    int (*on_head)(void *ctx);
    /* len body bytes at at (inside the bytes being fed).  0 or negative. */
    int (*on_body)(void *ctx, const uint8_t *at, size_t len);
} teep_http__parse_cbs_t;

enum {
    TEEP_HTTP__IDLE = 0, /* between messages */
    TEEP_HTTP__HEAD,     /* inside a head */
    TEEP_HTTP__BODY,     /* head done, body not complete */
};

typedef struct teep_http__parser {
    /* llhttp's state (opaque here: 96 bytes in llhttp 8.1, room for a
     * later llhttp's few more; http_parse.c checks the size at compile
     * time). */
    _Alignas(8) unsigned char impl[112];
    const teep_http__parse_cbs_t *cbs;
    void *ctx;
    const uint8_t *base;  /* first byte of the current head */
    size_t max_head_size; /* request line / status line + fields */
    size_t max_fields;
    int state;             /* TEEP_HTTP__IDLE ... */
    int last_data;         /* which span the previous data callback grew */
    int error;             /* a callback's code, kept across the C API */
    size_t trailer_fields; /* of the current chunked body */
    size_t trailer_size;   /* their names' and values' bytes */
    teep_http__head_t head;
} teep_http__parser_t;

/* Prepare p for a stream of requests or responses. */
void teep_http__parser_init(teep_http__parser_t *p, int type,
                            size_t max_head_size, size_t max_fields,
                            const teep_http__parse_cbs_t *cbs, void *ctx);

/* Feed len bytes (which must directly follow the bytes fed before while a
 * head is incomplete).  *used receives how many were consumed: all of
 * them, or up to the end of a complete message.  Returns 0 (need more),
 * TEEP_HTTP__DONE, or TEEP_HTTP_E_MALFORMED / _HEADER_TOO_LARGE / a code
 * returned by a callback; after an error the parser stays failed. */
int teep_http__parse(teep_http__parser_t *p, const uint8_t *data, size_t len,
                     size_t *used);

/* The stream ended.  Returns TEEP_HTTP__DONE when that completes a message
 * (a response body delimited by the close), 0 when no message was in
 * progress, TEEP_HTTP_E_RESET when one was cut short. */
int teep_http__parse_eof(teep_http__parser_t *p);

/* The incomplete head now starts at new_base (same bytes, moved). */
static inline void teep_http__parse_rebase(teep_http__parser_t *p,
                                           const uint8_t *new_base)
{
    p->base = new_base;
}

/* The bytes of a span of the current head. */
static inline teep_slice_t teep_http__span_slice(const uint8_t *base,
                                                 teep_http__span_t s)
{
    teep_slice_t out = {base + s.off, s.len};
    return out;
}

#endif
