/* suit_component.c: component identifiers written as text
 * ("TEEP-Device/SecureFS/8d82573a926d4754935332dc29997f74/ta") for the CLI
 * and for naming stored components. */
#include <errno.h>
#include <string.h>

#include "suit_internal.h"

#define UUID_HEX 32

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool all_hex(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (hex_value(p[i]) < 0)
            return false;
    return true;
}

/* One segment: the hex digits it spells, or its own bytes. */
static void write_segment(tp_cbor_writer_t *w, const char *seg, size_t n)
{
    const char *hex = NULL;
    size_t digits = 0;
    if (n == UUID_HEX && all_hex(seg, n)) {
        hex = seg;
        digits = n;
    } else if (n >= 2 && seg[0] == '0' && seg[1] == 'x' && (n - 2) % 2 == 0 &&
               all_hex(seg + 2, n - 2)) {
        hex = seg + 2;
        digits = n - 2;
    }
    if (hex == NULL) {
        tp_cw_bstr(w, (const uint8_t *)seg, n);
        return;
    }
    tp_cw_bstr_head(w, digits / 2);
    for (size_t i = 0; i < digits; i += 2) {
        uint8_t byte =
            (uint8_t)(hex_value(hex[i]) << 4 | hex_value(hex[i + 1]));
        tp_cw_raw(w, &byte, 1);
    }
}

int teep_suit_component_id_from_text(const char *text, uint8_t *out, size_t cap,
                                     size_t *out_len)
{
    if (text == NULL || text[0] == '\0' || out_len == NULL)
        return -EINVAL;
    size_t n = 1;
    for (const char *p = text; *p != '\0'; p++)
        n += *p == '/';
    if (n > TEEP_SUIT_MAX_COMPONENTS)
        return -EINVAL;
    tp_cbor_writer_t w;
    tp_cw_init(&w, out, cap);
    tp_cw_array(&w, n);
    for (const char *seg = text;;) {
        const char *end = strchr(seg, '/');
        size_t len = end != NULL ? (size_t)(end - seg) : strlen(seg);
        if (len == 0)
            return -EINVAL;
        write_segment(&w, seg, len);
        if (end == NULL)
            break;
        seg = end + 1;
    }
    *out_len = w.len;
    return out == NULL ? 0 : tp_cw_result(&w);
}

/* Appends to a bounded string; remembers running out. */
typedef struct text_out {
    char *buf;
    size_t cap, len;
    bool full;
} text_out_t;

static void put(text_out_t *t, const char *s, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        t->full = true;
        return;
    }
    memcpy(t->buf + t->len, s, n);
    t->len += n;
    t->buf[t->len] = '\0';
}

static void put_hex(text_out_t *t, const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        char two[2] = {digits[p[i] >> 4], digits[p[i] & 15]};
        put(t, two, 2);
    }
}

/* Text that reads back as itself: printable, no '/', and not what
 * from_text would take for hex. */
static bool plain_text(const uint8_t *p, size_t n)
{
    if (n == 0 || (n == UUID_HEX && all_hex((const char *)p, n)) ||
        (n >= 2 && p[0] == '0' && p[1] == 'x'))
        return false;
    for (size_t i = 0; i < n; i++)
        if (p[i] < 0x20 || p[i] > 0x7e || p[i] == '/')
            return false;
    return true;
}

int teep_suit_component_id_to_text(teep_slice_t encoded, char *out, size_t cap)
{
    tp_cbor_reader_t r;
    teep_slice_t whole;
    if (out == NULL || cap == 0)
        return -ENOSPC;
    out[0] = '\0';
    tp_cbor_reader_init(&r, encoded.ptr, encoded.len, NULL);
    int rc = tp_suit_read_component_id(&r, &whole);
    if (rc == 0)
        rc = tp_cbor_finish(&r);
    if (rc != 0)
        return rc;
    text_out_t t = {out, cap, 0, false};
    r.pos = 0;
    tp_cbor_item_t arr, seg;
    tp_cbor_next(&r, &arr);
    for (uint64_t i = 0; i < arr.u; i++) {
        tp_cbor_next(&r, &seg);
        if (i > 0)
            put(&t, "/", 1);
        size_t n = (size_t)seg.u;
        if (n == 16) {
            put_hex(&t, seg.ptr, n);
        } else if (plain_text(seg.ptr, n)) {
            put(&t, (const char *)seg.ptr, n);
        } else {
            put(&t, "0x", 2);
            put_hex(&t, seg.ptr, n);
        }
    }
    return t.full ? -ENOSPC : 0;
}
