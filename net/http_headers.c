/*
 * Checking the header fields a caller hands the server or the client,
 * with a memo of the last set that passed (net/http_internal.h).
 */
#include "http_internal.h"

/* memcmp(a, b, n) == 0 for the short names and values of header fields,
 * inline: a word at a time, the last word overlapping the one before,
 * where a libc call costs more than the compare. */
static inline __attribute__((always_inline)) bool
same_bytes(const uint8_t *a, const uint8_t *b, size_t n)
{
    uint64_t x, y;
    if (n >= 8) {
        for (size_t i = 0; i + 8 < n; i += 8) {
            memcpy(&x, a + i, 8);
            memcpy(&y, b + i, 8);
            if (x != y)
                return false;
        }
        memcpy(&x, a + n - 8, 8);
        memcpy(&y, b + n - 8, 8);
        return x == y;
    }
    if (n >= 4) {
        uint32_t u, v;
        memcpy(&u, a, 4);
        memcpy(&v, b, 4);
        if (u != v)
            return false;
        memcpy(&u, a + n - 4, 4);
        memcpy(&v, b + n - 4, 4);
        return u == v;
    }
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return false;
    return true;
}

/* Whether h equals the remembered set. */
static bool memo_equal(const teep_http__header_memo_t *memo,
                       const teep_http_header_t *h, size_t n)
{
    if (memo->n != n)
        return false;
    const uint8_t *p = memo->text;
    for (size_t i = 0; i < n; i++) {
        size_t name_len = memo->len[i][0], value_len = memo->len[i][1];
        if (h[i].name.len != name_len || h[i].value.len != value_len ||
            h[i].name.ptr == NULL ||
            (value_len > 0 && h[i].value.ptr == NULL) ||
            !same_bytes(p, h[i].name.ptr, name_len) ||
            (value_len > 0 &&
             !same_bytes(p + name_len + 2, h[i].value.ptr, value_len)))
            return false;
        p += name_len + value_len + 4;
    }
    return true;
}

/* Remember h as written on the wire, when it fits. */
static void memo_record(teep_http__header_memo_t *memo,
                        const teep_http_header_t *h, size_t n)
{
    memo->n = 0;
    if (n > TEEP_HTTP__MEMO_FIELDS)
        return;
    size_t size = 0;
    for (size_t i = 0; i < n; i++) {
        if (teep_http__header_size(&h[i]) > sizeof(memo->text) - size)
            return;
        size += teep_http__header_size(&h[i]);
    }
    teep_buf_t b = {.pos = memo->text, .last = memo->text};
    for (size_t i = 0; i < n; i++) {
        teep_http__put_header(&b, &h[i]);
        memo->len[i][0] = (uint16_t)h[i].name.len;
        memo->len[i][1] = (uint16_t)h[i].value.len;
    }
    memo->size = size;
    memo->n = n;
}

bool teep_http__headers_ok(const teep_http_header_t *h, size_t n,
                           const char *const *managed,
                           teep_http__header_memo_t *memo, teep_slice_t *wire)
{
    wire->ptr = NULL;
    wire->len = 0;
    if (n == 0)
        return true;
    if (!memo_equal(memo, h, n)) {
        for (size_t i = 0; i < n; i++)
            if (!teep_http__header_ok(&h[i], managed))
                return false;
        memo_record(memo, h, n);
        if (memo->n != n)
            return true;
    }
    wire->ptr = memo->text;
    wire->len = memo->size;
    return true;
}
