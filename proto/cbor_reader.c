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
 * Tags have the plain head layout, so we read them ourselves: the length
 * of a tag head whose additional information is ai (at most 27), and its
 * number. */
static size_t tag_length(uint8_t ai)
{
    return ai < 24 ? 1 : 1 + ((size_t)1 << (ai - 24));
}

static uint64_t tag_number(const uint8_t *p, size_t length)
{
    uint64_t v = length == 1 ? (p[0] & 0x1f) : 0;
    for (size_t i = 1; i < length; i++)
        v = v << 8 | p[i];
    return v;
}

static struct cbor_decoder_result decode_tag(const uint8_t *p, size_t left,
                                             tp_cbor_item_t *it)
{
    struct cbor_decoder_result res = {.status = CBOR_DECODER_FINISHED};
    uint8_t ai = p[0] & 0x1f;
    if (ai > 27) {
        res.status = CBOR_DECODER_ERROR;
        return res;
    }
    size_t length = tag_length(ai);
    if (left < length) {
        res.status = CBOR_DECODER_NEDATA;
        res.required = length;
        return res;
    }
    it->kind = TP_CBOR_TAG;
    it->u = tag_number(p, length);
    res.read = length;
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

int tp_cbor_type_error(tp_cbor_reader_t *r, size_t offset, tp_cbor_kind_t want,
                       tp_cbor_kind_t got, const char *what)
{
    return tp_cbor_fail(r, TEEP_E_TYPE, offset, "%s: expected %s, got %s", what,
                        tp_cbor_kind_name(want), tp_cbor_kind_name(got));
}

int tp_cbor_expect(tp_cbor_reader_t *r, tp_cbor_kind_t kind, tp_cbor_item_t *it,
                   const char *what)
{
    int rc = tp_cbor_next(r, it);
    if (rc != 0)
        return rc;
    if (it->kind != kind)
        return tp_cbor_type_error(r, it->offset, kind, it->kind, what);
    return 0;
}

/* The lean path records one number per head and no kind: the initial byte
 * tells the major type.  Every callback a well-formed definite head of
 * major type 0..5 reaches stores its value; the rest are libcbor's no-ops
 * (simple values and floats, whose value is 0, and the indefinite heads
 * the fast path never hands to libcbor). */
static void on_value8(void *c, uint8_t v)
{
    *(uint64_t *)c = v;
}
static void on_value16(void *c, uint16_t v)
{
    *(uint64_t *)c = v;
}
static void on_value32(void *c, uint32_t v)
{
    *(uint64_t *)c = v;
}
static void on_value64(void *c, uint64_t v)
{
    *(uint64_t *)c = v;
}
static void on_count(void *c, size_t n)
{
    *(uint64_t *)c = n;
}
static void on_string(void *c, cbor_data d, size_t n)
{
    (void)d, *(uint64_t *)c = n;
}

static const struct cbor_callbacks lean_callbacks = {
    .uint8 = on_value8,
    .uint16 = on_value16,
    .uint32 = on_value32,
    .uint64 = on_value64,
    .negint8 = on_value8,
    .negint16 = on_value16,
    .negint32 = on_value32,
    .negint64 = on_value64,
    .byte_string_start = cbor_null_byte_string_start_callback,
    .byte_string = on_string,
    .string = on_string,
    .string_start = cbor_null_string_start_callback,
    .indef_array_start = cbor_null_indef_array_start_callback,
    .array_start = on_count,
    .indef_map_start = cbor_null_indef_map_start_callback,
    .map_start = on_count,
    .tag = cbor_null_tag_callback,
    .float2 = cbor_null_float2_callback,
    .float4 = cbor_null_float4_callback,
    .float8 = cbor_null_float8_callback,
    .undefined = cbor_null_undefined_callback,
    .null = cbor_null_null_callback,
    .boolean = cbor_null_boolean_callback,
    .indef_break = cbor_null_indef_break_callback,
};

/* kind == major type for the kinds up to TP_CBOR_TAG (cbor_reader.h) */
_Static_assert(TP_CBOR_UINT == 0 && TP_CBOR_NEGINT == 1 && TP_CBOR_BSTR == 2 &&
                   TP_CBOR_TSTR == 3 && TP_CBOR_ARRAY == 4 &&
                   TP_CBOR_MAP == 5 && TP_CBOR_TAG == 6,
               "tp_cbor_kind_t numbers the major types 0..6");

/* How the lean path reads a head, by its initial byte.  The one-byte
 * heads carry their value in the low five bits: scalars (small integers,
 * false, true, null, undefined) and small arrays and maps.  The others go
 * to libcbor, tags to tag_number.  HEAD_SLOW: what tp_cbor_next must read
 * or refuse with its diagnosis (reserved and indefinite lengths, the
 * two-byte simple value).  tp_cbor_head (cbor_reader.h) applies the same
 * one-byte rule inline; tests/unit/test_cbor_reader.c holds both to
 * tp_cbor_next for every initial byte. */
enum {
    HEAD_SLOW,
    HEAD_SCALAR, /* one byte, opens nothing */
    HEAD_ARRAY1, /* one byte, the count to check against the bytes left */
    HEAD_MAP1,
    HEAD_DECODE, /* libcbor; a container's count checked */
    HEAD_TEXT,   /* libcbor, then UTF-8 */
    HEAD_TAG,    /* tag_number: libcbor 0.8 refuses tags 6..20 */
    HEAD_SIMPLE, /* libcbor, major type 7: value 0, the kind needs an item */
};
#define HEAD_X4(c)  c, c, c, c
#define HEAD_X8(c)  HEAD_X4(c), HEAD_X4(c)
#define HEAD_X24(c) HEAD_X8(c), HEAD_X8(c), HEAD_X8(c)
/* a major type: additional information 0..23 (small), 24..27, 28..31 */
#define HEAD_MAJOR(small, c) HEAD_X24(small), HEAD_X4(c), HEAD_X4(HEAD_SLOW)
static const uint8_t head_class[256] = {
    HEAD_MAJOR(HEAD_SCALAR, HEAD_DECODE), /* unsigned integers */
    HEAD_MAJOR(HEAD_SCALAR, HEAD_DECODE), /* negative integers */
    HEAD_MAJOR(HEAD_DECODE, HEAD_DECODE), /* byte strings: bytes follow */
    HEAD_MAJOR(HEAD_TEXT, HEAD_TEXT),
    HEAD_MAJOR(HEAD_ARRAY1, HEAD_DECODE),
    HEAD_MAJOR(HEAD_MAP1, HEAD_DECODE),
    HEAD_MAJOR(HEAD_TAG, HEAD_TAG),
    /* major type 7: unassigned simple values 0xe0..0xf3 (libcbor's call),
     * false, true, null, undefined, 0xf8 (a simple value that may be
     * below 32), floats 0xf9..0xfb, 0xfc..0xff */
    HEAD_X8(HEAD_SIMPLE),
    HEAD_X8(HEAD_SIMPLE),
    HEAD_X4(HEAD_SIMPLE),
    HEAD_X4(HEAD_SCALAR),
    HEAD_SLOW,
    HEAD_SIMPLE,
    HEAD_SIMPLE,
    HEAD_SIMPLE,
    HEAD_X4(HEAD_SLOW),
};
_Static_assert(sizeof(head_class) == 256, "one class per initial byte");

/* How many items a head opens: an array's count, twice a map's, a tag's
 * one item; OPENS_NOTHING for the rest, which open no level. */
#define OPENS_NOTHING UINT64_MAX
static inline uint64_t head_opens(unsigned kind, uint64_t value)
{
    switch (kind) {
    case TP_CBOR_ARRAY: return value;
    case TP_CBOR_MAP: return value * 2;
    case TP_CBOR_TAG: return 1;
    default: return OPENS_NOTHING;
    }
}

/* The items a one-byte container at buf[pos] (class HEAD_ARRAY1 or
 * HEAD_MAP1) opens, or OPENS_NOTHING when they cannot fit in the bytes
 * after it (each needs one at least), which tp_cbor_next refuses. */
static inline uint64_t small_opens(const uint8_t *buf, size_t len, size_t pos,
                                   unsigned cls)
{
    uint64_t items = (uint64_t)(buf[pos] & 0x1f) << (cls == HEAD_MAP1);
    return items <= len - pos - 1 ? items : OPENS_NOTHING;
}

/* The head at buf[pos] (pos < len) of class HEAD_DECODE, HEAD_TEXT,
 * HEAD_TAG or HEAD_SIMPLE in one libcbor call or tag_number, no item:
 * returns where it ends, a string's bytes included, with its value in
 * *value -- or 0, having decided nothing, for what tp_cbor_next must read
 * or refuse with its diagnosis: decoder errors and short input, a count
 * past the input, text that is not UTF-8.  So both paths accept the same
 * heads with the same values (tests/unit/test_cbor_reader.c compares them
 * over every initial byte). */
static inline size_t head_decode(const uint8_t *buf, size_t len, size_t pos,
                                 unsigned cls, uint64_t *value)
{
    size_t end;
    if (cls == HEAD_TAG) {
        end = pos + tag_length(buf[pos] & 0x1f);
        if (end > len)
            return 0;
        *value = tag_number(buf + pos, end - pos);
        return end;
    }
    *value = 0; /* what simple values and floats leave */
    struct cbor_decoder_result res =
        cbor_stream_decode(buf + pos, len - pos, &lean_callbacks, value);
    if (res.status != CBOR_DECODER_FINISHED || res.read == 0)
        return 0;
    end = pos + res.read;
    if (cls == HEAD_TEXT)
        return utf8_valid(buf + end - (size_t)*value, (size_t)*value) ? end : 0;
    switch (buf[pos] >> 5) {
    case TP_CBOR_ARRAY: return *value <= len - end ? end : 0;
    case TP_CBOR_MAP: return *value <= (len - end) / 2 ? end : 0;
    default: return end;
    }
}

/* head_decode for the skip loop: out of line, so that the loop's path for
 * the one-byte heads stays small. */
static __attribute__((noinline)) size_t skip_decode(const uint8_t *buf,
                                                    size_t len, size_t pos,
                                                    unsigned cls,
                                                    uint64_t *value)
{
    return head_decode(buf, len, pos, cls, value);
}

/* A head through an item: what head_decode leaves, and simple values,
 * whose kind needs one.  Out of line, so that tp_cbor_head_decode's frame
 * has no room for an item. */
static __attribute__((noinline)) int
head_slow(tp_cbor_reader_t *r, tp_cbor_kind_t *kind, uint64_t *value)
{
    tp_cbor_item_t it;
    int rc = tp_cbor_next(r, &it);
    if (rc == 0)
        *kind = it.kind, *value = it.u;
    return rc;
}

/* Every head tp_cbor_head does not read inline: head_decode, else through
 * an item (simple values need one for their kind). */
int tp_cbor_head_decode(tp_cbor_reader_t *r, tp_cbor_kind_t *kind,
                        uint64_t *value)
{
    size_t pos = r->pos;
    if (pos < r->len) {
        unsigned cls = head_class[r->buf[pos]];
        if (cls == HEAD_DECODE || cls == HEAD_TEXT || cls == HEAD_TAG) {
            size_t end = head_decode(r->buf, r->len, pos, cls, value);
            if (end != 0) {
                *kind = (tp_cbor_kind_t)(r->buf[pos] >> 5);
                r->pos = end;
                return 0;
            }
        }
    }
    return head_slow(r, kind, value);
}

/* Skip n items inside an open level.  todo is how many items are still
 * to read at the current level, pending[] the same for the levels around
 * it, the open item being level 0.  Iterative, so a hostile nesting costs
 * no stack; even an empty container counts as a level.  This is the hot
 * loop of every skip: the position lives in a local (no libcbor call can
 * see it), a one-byte head costs a table look-up, the others one
 * head_decode. */
static int skip_items(tp_cbor_reader_t *r, uint64_t n, unsigned max_depth)
{
    uint64_t pending[TEEP_MAX_DEPTH], todo = n;
    unsigned depth = 0;
    const uint8_t *buf = r->buf;
    size_t len = r->len, pos = r->pos;

    if (max_depth > TEEP_MAX_DEPTH)
        max_depth = TEEP_MAX_DEPTH;
    for (;;) {
        if (todo == 0) {
            if (depth == 0)
                break;
            todo = pending[--depth];
            continue;
        }
        todo--;
        size_t at = pos, end = 0;
        unsigned cls = pos < len ? head_class[buf[pos]] : HEAD_SLOW;
        uint64_t opens = OPENS_NOTHING, value;
        if (cls == HEAD_SCALAR) { /* the commonest head: no more to do */
            pos++;
            continue;
        }
        switch (cls) {
        case HEAD_ARRAY1:
        case HEAD_MAP1:
            opens = small_opens(buf, len, pos, cls);
            if (opens != OPENS_NOTHING)
                end = pos + 1;
            break;
        case HEAD_SLOW: break;
        default:
            end = skip_decode(buf, len, pos, cls, &value);
            if (end != 0)
                opens = head_opens(buf[pos] >> 5, value);
        }
        if (end != 0) {
            pos = end;
        } else {
            tp_cbor_item_t child;
            r->pos = pos;
            int rc = tp_cbor_next(r, &child);
            if (rc != 0)
                return rc;
            pos = r->pos;
            opens = head_opens(child.kind, child.u);
        }
        if (opens == OPENS_NOTHING)
            continue;
        if (depth + 1 >= max_depth) {
            r->pos = pos;
            return tp_cbor_fail(r, TEEP_E_DEPTH, at,
                                "nesting deeper than %u levels", max_depth);
        }
        pending[depth++] = todo;
        todo = opens;
    }
    r->pos = pos;
    return 0;
}

/* Skip what a head at offset opened: opens items (OPENS_NOTHING: none),
 * within max_depth levels counting the head's own. */
static int skip_opened(tp_cbor_reader_t *r, uint64_t opens, unsigned max_depth,
                       size_t offset)
{
    if (opens == OPENS_NOTHING)
        return 0;
    if (max_depth == 0)
        return tp_cbor_fail(r, TEEP_E_DEPTH, offset,
                            "nesting deeper than allowed");
    return skip_items(r, opens, max_depth);
}

int tp_cbor_skip_open(tp_cbor_reader_t *r, tp_cbor_kind_t kind, uint64_t value,
                      unsigned max_depth)
{
    return skip_opened(r, head_opens(kind, value), max_depth, r->pos);
}

int tp_cbor_skip_rest(tp_cbor_reader_t *r, const tp_cbor_item_t *it,
                      unsigned max_depth)
{
    return skip_opened(r, head_opens(it->kind, it->u), max_depth, it->offset);
}

int tp_cbor_skip(tp_cbor_reader_t *r, unsigned max_depth, size_t *start,
                 size_t *end)
{
    size_t at = r->pos;
    tp_cbor_kind_t kind;
    uint64_t value;
    int rc = tp_cbor_head(r, &kind, &value);
    if (rc == 0)
        rc = skip_opened(r, head_opens(kind, value), max_depth, at);
    if (rc != 0)
        return rc;
    if (start != NULL)
        *start = at;
    if (end != NULL)
        *end = r->pos;
    return 0;
}

int tp_cbor_read_int(tp_cbor_reader_t *r, int64_t *v, const char *what)
{
    size_t at = r->pos;
    tp_cbor_kind_t kind;
    uint64_t u;
    int rc = tp_cbor_head(r, &kind, &u);
    if (rc != 0)
        return rc;
    if (kind != TP_CBOR_UINT && kind != TP_CBOR_NEGINT)
        return tp_cbor_fail(r, TEEP_E_TYPE, at,
                            "%s: expected an integer, got %s", what,
                            tp_cbor_kind_name(kind));
    if (u > (uint64_t)INT64_MAX)
        return tp_cbor_fail(r, TEEP_E_RANGE, at, "%s: integer out of range",
                            what);
    *v = kind == TP_CBOR_UINT ? (int64_t)u : -1 - (int64_t)u;
    return 0;
}

int tp_cbor_read_uint(tp_cbor_reader_t *r, uint64_t max, uint64_t *v,
                      const char *what)
{
    size_t at = r->pos;
    uint64_t u;
    int rc = tp_cbor_expect_head(r, TP_CBOR_UINT, &u, what);
    if (rc != 0)
        return rc;
    if (u > max)
        return tp_cbor_fail(r, TEEP_E_RANGE, at, "%s: %llu is larger than %llu",
                            what, (unsigned long long)u,
                            (unsigned long long)max);
    *v = u;
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
