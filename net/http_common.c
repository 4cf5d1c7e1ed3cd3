/*
 * Helpers shared by the HTTP server and client: error names, header
 * lookup and validation, head building.
 */
#include <errno.h>
#include <strings.h>

#include "http_internal.h"
#include "http_parse.h"

const char *teep_http_strerror(int code)
{
    switch (code) {
    case 0: return "success";
    case TEEP_HTTP_E_CONNECT: return "connect failed";
    case TEEP_HTTP_E_CONNECT_TIMEOUT: return "connect timeout";
    case TEEP_HTTP_E_READ_TIMEOUT: return "read timeout";
    case TEEP_HTTP_E_RESET: return "connection reset";
    case TEEP_HTTP_E_MALFORMED: return "malformed HTTP message";
    case TEEP_HTTP_E_TLS: return "TLS failure";
    case TEEP_HTTP_E_OVERLOAD: return "client pool overloaded";
    case TEEP_HTTP_E_CANCELED: return "canceled";
    case TEEP_HTTP_E_HEADER_TOO_LARGE: return "header too large";
    case TEEP_HTTP_E_BODY_TOO_LARGE: return "body too large";
    case TEEP_HTTP_E_TIMEOUT: return "request timeout";
    case TEEP_HTTP_E_RESOLVE: return "host name did not resolve";
    case TEEP_HTTP_E_URL: return "bad URL";
    default: break;
    }
    if (code < 0 && code > -4096)
        return uv_strerror(code); /* libuv codes are -errno on Unix */
    return "unknown error";
}

int teep_http_header_find(const teep_http_header_t *headers, size_t n,
                          const char *name, teep_slice_t *value)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < n; i++) {
        if (headers[i].name.len == len &&
            strncasecmp((const char *)headers[i].name.ptr, name, len) == 0) {
            *value = headers[i].value;
            return 0;
        }
    }
    return -ENOENT;
}

/* RFC 9110 section 5.6.2 tchar, by code (0x80 and up: none).  Every
 * header name of every message is checked on the relay's path, and a
 * table is one load per byte (llhttp does the same). */
static const uint8_t tchar[128] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x00 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x10 */
    0, 1, 0, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 1, 1, 0, /* 0x20 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, /* 0x30 */
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x40 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, /* 0x50 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x60 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0, /* 0x70 */
};

static bool is_tchar(uint8_t c)
{
    return c < 128 && tchar[c] != 0;
}

bool teep_http__header_ok(const teep_http_header_t *h,
                          const char *const *managed)
{
    if (h->name.len == 0 || h->name.ptr == NULL ||
        (h->value.len > 0 && h->value.ptr == NULL))
        return false;
    for (size_t i = 0; i < h->name.len; i++)
        if (!is_tchar(h->name.ptr[i]))
            return false;
    /* memchr scans a word at a time; values are the longer part. */
    if (h->value.len > 0 && (memchr(h->value.ptr, '\r', h->value.len) ||
                             memchr(h->value.ptr, '\n', h->value.len) ||
                             memchr(h->value.ptr, '\0', h->value.len)))
        return false;
    uint8_t first = (uint8_t)(h->name.ptr[0] | 0x20); /* ASCII lower case */
    for (; *managed != NULL; managed++)
        if ((uint8_t)(*managed)[0] == first &&
            strlen(*managed) == h->name.len &&
            strncasecmp(*managed, (const char *)h->name.ptr, h->name.len) == 0)
            return false;
    return true;
}

void teep_http__put_header(teep_buf_t *b, const teep_http_header_t *h)
{
    teep_http__put(b, h->name.ptr, h->name.len);
    teep_http__put(b, ": ", 2);
    if (h->value.len > 0)
        teep_http__put(b, h->value.ptr, h->value.len);
    teep_http__put(b, "\r\n", 2);
}

void teep_http__put_u64(teep_buf_t *b, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n > 0)
        *b->last++ = (uint8_t)tmp[--n];
}

size_t teep_http__resolve_fields(const teep_http__head_t *head,
                                 const uint8_t *base,
                                 teep_http_header_t *headers)
{
    for (size_t i = 0; i < head->field_count; i++) {
        headers[i].name = teep_http__span_slice(base, head->fields[i].name);
        headers[i].value = teep_http__span_slice(base, head->fields[i].value);
    }
    return head->field_count;
}
