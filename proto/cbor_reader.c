/* cbor_reader.c: see cbor_reader.h. */
#include "cbor_reader.h"

#include <cbor.h>
#include <stdarg.h>
#include <stdio.h>

/* The streaming decoder reports through callbacks; this context turns the
 * one callback a call makes into an item. */
typedef struct head_ctx {
    tp_cbor_item_t *it;
    bool indefinite;
} head_ctx_t;

#define CTX(p) ((head_ctx_t *)(p))

static void on_uint8(void *c, uint8_t v)
{
    CTX(c)->it->kind = TP_CBOR_UINT, CTX(c)->it->u = v;
}
static void on_uint16(void *c, uint16_t v)
{
    CTX(c)->it->kind = TP_CBOR_UINT, CTX(c)->it->u = v;
}
static void on_uint32(void *c, uint32_t v)
{
    CTX(c)->it->kind = TP_CBOR_UINT, CTX(c)->it->u = v;
}
static void on_uint64(void *c, uint64_t v)
{
    CTX(c)->it->kind = TP_CBOR_UINT, CTX(c)->it->u = v;
}
static void on_neg8(void *c, uint8_t v)
{
    CTX(c)->it->kind = TP_CBOR_NEGINT, CTX(c)->it->u = v;
}
static void on_neg16(void *c, uint16_t v)
{
    CTX(c)->it->kind = TP_CBOR_NEGINT, CTX(c)->it->u = v;
}
static void on_neg32(void *c, uint32_t v)
{
    CTX(c)->it->kind = TP_CBOR_NEGINT, CTX(c)->it->u = v;
}
static void on_neg64(void *c, uint64_t v)
{
    CTX(c)->it->kind = TP_CBOR_NEGINT, CTX(c)->it->u = v;
}

static void on_bstr(void *c, cbor_data d, size_t n)
{
    CTX(c)->it->kind = TP_CBOR_BSTR;
    CTX(c)->it->ptr = d;
    CTX(c)->it->u = n;
}

static void on_tstr(void *c, cbor_data d, size_t n)
{
    CTX(c)->it->kind = TP_CBOR_TSTR;
    CTX(c)->it->ptr = d;
    CTX(c)->it->u = n;
}

static void on_array(void *c, size_t n)
{
    CTX(c)->it->kind = TP_CBOR_ARRAY, CTX(c)->it->u = n;
}
static void on_map(void *c, size_t n)
{
    CTX(c)->it->kind = TP_CBOR_MAP, CTX(c)->it->u = n;
}
static void on_tag(void *c, uint64_t v)
{
    CTX(c)->it->kind = TP_CBOR_TAG, CTX(c)->it->u = v;
}
static void on_indef(void *c)
{
    CTX(c)->indefinite = true;
}
static void on_float(void *c, float v)
{
    (void)v, CTX(c)->it->kind = TP_CBOR_FLOAT;
}
static void on_double(void *c, double v)
{
    (void)v, CTX(c)->it->kind = TP_CBOR_FLOAT;
}
static void on_null(void *c)
{
    CTX(c)->it->kind = TP_CBOR_NULL;
}
static void on_undef(void *c)
{
    CTX(c)->it->kind = TP_CBOR_UNDEFINED;
}
static void on_bool(void *c, bool v)
{
    CTX(c)->it->kind = v ? TP_CBOR_TRUE : TP_CBOR_FALSE;
}

static const struct cbor_callbacks head_callbacks = {
    .uint8 = on_uint8,
    .uint16 = on_uint16,
    .uint32 = on_uint32,
    .uint64 = on_uint64,
    .negint8 = on_neg8,
    .negint16 = on_neg16,
    .negint32 = on_neg32,
    .negint64 = on_neg64,
    .byte_string_start = on_indef,
    .byte_string = on_bstr,
    .string = on_tstr,
    .string_start = on_indef,
    .indef_array_start = on_indef,
    .array_start = on_array,
    .indef_map_start = on_indef,
    .map_start = on_map,
    .tag = on_tag,
    .float2 = on_float,
    .float4 = on_float,
    .float8 = on_double,
    .undefined = on_undef,
    .null = on_null,
    .boolean = on_bool,
    .indef_break = on_indef,
};

/* libcbor 0.8's streaming decoder refuses the one-byte tags 6..20
 * ("unassigned" when it was written), and COSE_Sign1 is tag 18 (0xd2).
 * Tags have the plain head layout, so we read them ourselves. */
static struct cbor_decoder_result decode_tag(const uint8_t *p, size_t left,
                                             tp_cbor_item_t *it)
{
    struct cbor_decoder_result res = {.status = CBOR_DECODER_FINISHED};
    uint8_t ai = p[0] & 0x1f;
    size_t extra = ai < 24 ? 0 : ai == 24 ? 1 : ai == 25 ? 2 : ai == 26 ? 4 : 8;
    if (ai > 27) {
        res.status = CBOR_DECODER_ERROR;
        return res;
    }
    if (left < 1 + extra) {
        res.status = CBOR_DECODER_NEDATA;
        res.required = 1 + extra;
        return res;
    }
    uint64_t v = ai < 24 ? ai : 0;
    for (size_t i = 0; i < extra; i++)
        v = v << 8 | p[1 + i];
    it->kind = TP_CBOR_TAG;
    it->u = v;
    res.read = 1 + extra;
    return res;
}

/* Text strings must be UTF-8 (RFC 8949 3.1); libcbor does not check.
 * Refuses overlong forms, surrogates and code points past U+10FFFF. */
static bool utf8_valid(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = p[i];
        size_t extra;
        uint32_t cp, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            extra = 1, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            extra = 2, cp = c & 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            extra = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if (n - i <= extra)
            return false;
        for (size_t k = 1; k <= extra; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (p[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += extra + 1;
    }
    return true;
}

void tp_cbor_reader_init(tp_cbor_reader_t *r, const uint8_t *buf, size_t len,
                         teep_diag_t *diag)
{
    r->buf = buf;
    r->len = len;
    r->pos = 0;
    r->diag = diag;
}

int tp_cbor_fail(tp_cbor_reader_t *r, int code, size_t offset, const char *fmt,
                 ...)
{
    if (r->diag != NULL) {
        va_list ap;
        va_start(ap, fmt);
        r->diag->code = code;
        r->diag->offset = offset;
        vsnprintf(r->diag->reason, sizeof(r->diag->reason), fmt, ap);
        va_end(ap);
    }
    return code;
}

int tp_cbor_next(tp_cbor_reader_t *r, tp_cbor_item_t *it)
{
    size_t left = r->len - r->pos;
    *it = (tp_cbor_item_t){.kind = TP_CBOR_SIMPLE, .offset = r->pos};
    if (left == 0)
        return tp_cbor_fail(r, TEEP_E_TRUNCATED, r->pos,
                            "input ends where an item was expected");
    head_ctx_t ctx = {.it = it};
    struct cbor_decoder_result res;
    if ((r->buf[r->pos] >> 5) == 6)
        res = decode_tag(r->buf + r->pos, left, it);
    else
        res = cbor_stream_decode(r->buf + r->pos, left, &head_callbacks, &ctx);
    if (res.status == CBOR_DECODER_NEDATA)
        return tp_cbor_fail(r, TEEP_E_TRUNCATED, r->pos,
                            "item needs %zu bytes, %zu left", res.required,
                            left);
    if (res.status != CBOR_DECODER_FINISHED || res.read == 0)
        return tp_cbor_fail(r, TEEP_E_CBOR, r->pos,
                            "not well-formed CBOR (byte 0x%02x)",
                            r->buf[r->pos]);
    if (ctx.indefinite)
        return tp_cbor_fail(r, TEEP_E_INDEFINITE, r->pos,
                            "indefinite-length item or break");
    /* Simple values other than false/true/null/undefined, and floats,
     * reach no callback we care about beyond the kind. */
    if ((r->buf[r->pos] >> 5) == 7 && it->kind == TP_CBOR_SIMPLE) {
        uint8_t ib = r->buf[r->pos];
        if (ib == 0xf8 && res.read >= 2 && r->buf[r->pos + 1] < 32)
            return tp_cbor_fail(r, TEEP_E_CBOR, r->pos,
                                "simple value in two bytes below 32");
    }
    /* A container cannot hold more elements than there are bytes left. */
    if (it->kind == TP_CBOR_ARRAY || it->kind == TP_CBOR_MAP) {
        size_t rest = left - res.read;
        uint64_t need = it->u;
        if (it->kind == TP_CBOR_MAP && need > UINT64_MAX / 2)
            need = UINT64_MAX;
        else if (it->kind == TP_CBOR_MAP)
            need *= 2;
        if (need > rest)
            return tp_cbor_fail(
                r, TEEP_E_TRUNCATED, r->pos, "%s of %llu elements in %zu bytes",
                tp_cbor_kind_name(it->kind), (unsigned long long)it->u, rest);
    }
    if (it->kind == TP_CBOR_TSTR && !utf8_valid(it->ptr, (size_t)it->u))
        return tp_cbor_fail(r, TEEP_E_CBOR, r->pos,
                            "text string is not valid UTF-8");
    r->pos += res.read;
    it->end = r->pos;
    return 0;
}

const char *tp_cbor_kind_name(tp_cbor_kind_t kind)
{
    static const char *const names[] = {
        [TP_CBOR_UINT] = "unsigned integer",
        [TP_CBOR_NEGINT] = "negative integer",
        [TP_CBOR_BSTR] = "byte string",
        [TP_CBOR_TSTR] = "text string",
        [TP_CBOR_ARRAY] = "array",
        [TP_CBOR_MAP] = "map",
        [TP_CBOR_TAG] = "tag",
        [TP_CBOR_FALSE] = "false",
        [TP_CBOR_TRUE] = "true",
        [TP_CBOR_NULL] = "null",
        [TP_CBOR_UNDEFINED] = "undefined",
        [TP_CBOR_FLOAT] = "float",
        [TP_CBOR_SIMPLE] = "simple value",
    };
    return (unsigned)kind < sizeof(names) / sizeof(names[0]) ? names[kind]
                                                             : "item";
}

int tp_cbor_expect(tp_cbor_reader_t *r, tp_cbor_kind_t kind, tp_cbor_item_t *it,
                   const char *what)
{
    int rc = tp_cbor_next(r, it);
    if (rc != 0)
        return rc;
    if (it->kind != kind)
        return tp_cbor_fail(
            r, TEEP_E_TYPE, it->offset, "%s: expected %s, got %s", what,
            tp_cbor_kind_name(kind), tp_cbor_kind_name(it->kind));
    return 0;
}

/* Skipping needs no item: only each head's length and, for an array or a
 * map, how many elements it opens.  These callbacks record just that; the
 * rest are libcbor's no-ops. */
typedef struct skip_head {
    bool container;
    uint64_t elements;
} skip_head_t;

static void on_skip_array(void *c, size_t n)
{
    ((skip_head_t *)c)->container = true;
    ((skip_head_t *)c)->elements = n;
}
static void on_skip_map(void *c, size_t n)
{
    ((skip_head_t *)c)->container = true;
    ((skip_head_t *)c)->elements =
        n > UINT64_MAX / 2 ? UINT64_MAX : (uint64_t)n * 2;
}

static const struct cbor_callbacks skip_callbacks = {
    .uint8 = cbor_null_uint8_callback,
    .uint16 = cbor_null_uint16_callback,
    .uint32 = cbor_null_uint32_callback,
    .uint64 = cbor_null_uint64_callback,
    .negint8 = cbor_null_negint8_callback,
    .negint16 = cbor_null_negint16_callback,
    .negint32 = cbor_null_negint32_callback,
    .negint64 = cbor_null_negint64_callback,
    .byte_string_start = cbor_null_byte_string_start_callback,
    .byte_string = cbor_null_byte_string_callback,
    .string = cbor_null_string_callback,
    .string_start = cbor_null_string_start_callback,
    .indef_array_start = cbor_null_indef_array_start_callback,
    .array_start = on_skip_array,
    .indef_map_start = cbor_null_indef_map_start_callback,
    .map_start = on_skip_map,
    .tag = cbor_null_tag_callback,
    .float2 = cbor_null_float2_callback,
    .float4 = cbor_null_float4_callback,
    .float8 = cbor_null_float8_callback,
    .undefined = cbor_null_undefined_callback,
    .null = cbor_null_null_callback,
    .boolean = cbor_null_boolean_callback,
    .indef_break = cbor_null_indef_break_callback,
};

/* Most heads a skip meets (integers, byte strings, definite arrays and
 * maps, one-byte simple values) in one libcbor call and no item; head
 * receives what a container adds.  Returns false, having read nothing, for
 * the rest -- text strings (UTF-8), tags (libcbor 0.8 refuses 6..20),
 * indefinite or reserved lengths, the two-byte simple value, decoder
 * errors, a count past the input -- which tp_cbor_next then reads or
 * refuses with its diagnosis: both paths accept exactly the same input. */
static bool skip_head_fast(tp_cbor_reader_t *r, skip_head_t *head)
{
    size_t left = r->len - r->pos;
    if (left == 0)
        return false;
    uint8_t ib = r->buf[r->pos];
    uint8_t major = ib >> 5;
    if (major == 3 || major == 6 || (ib & 0x1f) >= 28 || ib == 0xf8)
        return false;
    *head = (skip_head_t){0};
    struct cbor_decoder_result res =
        cbor_stream_decode(r->buf + r->pos, left, &skip_callbacks, head);
    if (res.status != CBOR_DECODER_FINISHED || res.read == 0 ||
        head->elements > left - res.read)
        return false;
    r->pos += res.read;
    return true;
}

/* Elements still to read at each open level; depth 0 is the item itself.
 * Iterative, so a hostile nesting costs no stack. */
int tp_cbor_skip_rest(tp_cbor_reader_t *r, const tp_cbor_item_t *it,
                      unsigned max_depth)
{
    uint64_t pending[TEEP_MAX_DEPTH + 1];
    unsigned depth = 0;

    if (max_depth > TEEP_MAX_DEPTH)
        max_depth = TEEP_MAX_DEPTH;
    switch (it->kind) {
    case TP_CBOR_ARRAY: pending[0] = it->u; break;
    case TP_CBOR_MAP: pending[0] = it->u * 2; break;
    case TP_CBOR_TAG: pending[0] = 1; break;
    default: return 0;
    }
    if (max_depth == 0)
        return tp_cbor_fail(r, TEEP_E_DEPTH, it->offset,
                            "nesting deeper than allowed");
    for (;;) {
        while (pending[depth] == 0) {
            if (depth == 0)
                return 0;
            depth--;
        }
        pending[depth]--;
        size_t at = r->pos;
        skip_head_t head;
        uint64_t n;
        if (skip_head_fast(r, &head)) {
            if (!head.container)
                continue;
            n = head.elements;
        } else {
            tp_cbor_item_t child;
            int rc = tp_cbor_next(r, &child);
            if (rc != 0)
                return rc;
            switch (child.kind) {
            case TP_CBOR_ARRAY: n = child.u; break;
            case TP_CBOR_MAP: n = child.u * 2; break;
            case TP_CBOR_TAG: n = 1; break;
            default: continue;
            }
        }
        /* even an empty container counts as a level */
        if (depth + 1 >= max_depth)
            return tp_cbor_fail(r, TEEP_E_DEPTH, at,
                                "nesting deeper than %u levels", max_depth);
        pending[++depth] = n;
    }
}

int tp_cbor_skip(tp_cbor_reader_t *r, unsigned max_depth, size_t *start,
                 size_t *end)
{
    tp_cbor_item_t it;
    int rc = tp_cbor_next(r, &it);
    if (rc != 0)
        return rc;
    rc = tp_cbor_skip_rest(r, &it, max_depth);
    if (rc != 0)
        return rc;
    if (start != NULL)
        *start = it.offset;
    if (end != NULL)
        *end = r->pos;
    return 0;
}

int tp_cbor_read_int(tp_cbor_reader_t *r, int64_t *v, const char *what)
{
    tp_cbor_item_t it;
    int rc = tp_cbor_next(r, &it);
    if (rc != 0)
        return rc;
    if (it.kind != TP_CBOR_UINT && it.kind != TP_CBOR_NEGINT)
        return tp_cbor_fail(r, TEEP_E_TYPE, it.offset,
                            "%s: expected an integer, got %s", what,
                            tp_cbor_kind_name(it.kind));
    if (it.u > (uint64_t)INT64_MAX)
        return tp_cbor_fail(r, TEEP_E_RANGE, it.offset,
                            "%s: integer out of range", what);
    *v = it.kind == TP_CBOR_UINT ? (int64_t)it.u : -1 - (int64_t)it.u;
    return 0;
}

int tp_cbor_read_uint(tp_cbor_reader_t *r, uint64_t max, uint64_t *v,
                      const char *what)
{
    tp_cbor_item_t it;
    int rc = tp_cbor_expect(r, TP_CBOR_UINT, &it, what);
    if (rc != 0)
        return rc;
    if (it.u > max)
        return tp_cbor_fail(r, TEEP_E_RANGE, it.offset,
                            "%s: %llu is larger than %llu", what,
                            (unsigned long long)it.u, (unsigned long long)max);
    *v = it.u;
    return 0;
}

int tp_cbor_finish(tp_cbor_reader_t *r)
{
    if (r->pos != r->len)
        return tp_cbor_fail(r, TEEP_E_TRAILING, r->pos,
                            "%zu trailing bytes after the item",
                            r->len - r->pos);
    return 0;
}
