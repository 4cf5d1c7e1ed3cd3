/* report.c: what the TAM reads in the SUIT reports of a Success or Error
 * (digest 5.6): the nonce (= the Update's token) and the result, true or
 * {5: code, 6: record, 7: reason}.  Everything else is skipped.  The walk
 * is one pass over libcbor's streaming decoder with a count of pending
 * items instead of recursion, so a hostile nesting costs no stack. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <cbor.h>

#include "teep/suit.h"

#include "internal.h"

enum {
    REPORT_NONCE = 2,
    REPORT_RESULT = 4,
    RESULT_CODE = 5,
    RESULT_REASON = 7,
};

typedef enum head_kind {
    HEAD_NONE = 0,
    HEAD_UINT,
    HEAD_NEGINT,
    HEAD_BYTES,
    HEAD_TEXT,
    HEAD_ARRAY,
    HEAD_MAP,
    HEAD_TAG,
    HEAD_BOOL,
    HEAD_SIMPLE, /* null, undefined, floats */
    HEAD_BAD,    /* indefinite lengths: not in SUIT reports */
} head_kind_t;

typedef struct head {
    head_kind_t kind;
    uint64_t value; /* integer, count, tag; -1 - value for HEAD_NEGINT */
    teep_slice_t bytes;
} head_t;

static void on_uint8(void *c, uint8_t v)
{
    *(head_t *)c = (head_t){HEAD_UINT, v, {0}};
}
static void on_uint16(void *c, uint16_t v)
{
    *(head_t *)c = (head_t){HEAD_UINT, v, {0}};
}
static void on_uint32(void *c, uint32_t v)
{
    *(head_t *)c = (head_t){HEAD_UINT, v, {0}};
}
static void on_uint64(void *c, uint64_t v)
{
    *(head_t *)c = (head_t){HEAD_UINT, v, {0}};
}
static void on_neg8(void *c, uint8_t v)
{
    *(head_t *)c = (head_t){HEAD_NEGINT, v, {0}};
}
static void on_neg16(void *c, uint16_t v)
{
    *(head_t *)c = (head_t){HEAD_NEGINT, v, {0}};
}
static void on_neg32(void *c, uint32_t v)
{
    *(head_t *)c = (head_t){HEAD_NEGINT, v, {0}};
}
static void on_neg64(void *c, uint64_t v)
{
    *(head_t *)c = (head_t){HEAD_NEGINT, v, {0}};
}
static void on_bytes(void *c, cbor_data p, size_t n)
{
    *(head_t *)c = (head_t){HEAD_BYTES, n, {p, n}};
}
static void on_text(void *c, cbor_data p, size_t n)
{
    *(head_t *)c = (head_t){HEAD_TEXT, n, {p, n}};
}
static void on_array(void *c, size_t n)
{
    *(head_t *)c = (head_t){HEAD_ARRAY, n, {0}};
}
static void on_map(void *c, size_t n)
{
    *(head_t *)c = (head_t){HEAD_MAP, n, {0}};
}
static void on_tag(void *c, uint64_t v)
{
    *(head_t *)c = (head_t){HEAD_TAG, v, {0}};
}
static void on_bool(void *c, bool v)
{
    *(head_t *)c = (head_t){HEAD_BOOL, v, {0}};
}
static void on_simple(void *c)
{
    *(head_t *)c = (head_t){HEAD_SIMPLE, 0, {0}};
}
static void on_float(void *c, float v)
{
    (void)v;
    on_simple(c);
}
static void on_double(void *c, double v)
{
    (void)v;
    on_simple(c);
}
static void on_indefinite(void *c)
{
    *(head_t *)c = (head_t){HEAD_BAD, 0, {0}};
}

static const struct cbor_callbacks callbacks = {
    .uint8 = on_uint8,
    .uint16 = on_uint16,
    .uint32 = on_uint32,
    .uint64 = on_uint64,
    .negint8 = on_neg8,
    .negint16 = on_neg16,
    .negint32 = on_neg32,
    .negint64 = on_neg64,
    .byte_string_start = on_indefinite,
    .byte_string = on_bytes,
    .string = on_text,
    .string_start = on_indefinite,
    .indef_array_start = on_indefinite,
    .array_start = on_array,
    .indef_map_start = on_indefinite,
    .map_start = on_map,
    .tag = on_tag,
    .float2 = on_float,
    .float4 = on_float,
    .float8 = on_double,
    .undefined = on_simple,
    .null = on_simple,
    .boolean = on_bool,
    .indef_break = on_indefinite,
};

typedef struct walker {
    const uint8_t *buf;
    size_t len;
    size_t pos;
} walker_t;

static int next(walker_t *w, head_t *h)
{
    memset(h, 0, sizeof(*h));
    if (w->pos >= w->len)
        return -EBADMSG;
    struct cbor_decoder_result r =
        cbor_stream_decode(w->buf + w->pos, w->len - w->pos, &callbacks, h);
    if (r.status != CBOR_DECODER_FINISHED || h->kind == HEAD_NONE ||
        h->kind == HEAD_BAD)
        return -EBADMSG;
    w->pos += r.read;
    return 0;
}

/* Skip one item whose head is h: count the items still owed.  Every item
 * takes at least one byte, so a hostile count runs out of input. */
static int skip_rest(walker_t *w, const head_t *h)
{
    uint64_t owed = h->kind == HEAD_ARRAY ? h->value
                    : h->kind == HEAD_MAP ? 2 * h->value
                    : h->kind == HEAD_TAG ? 1
                                          : 0;
    while (owed > 0) {
        head_t in;
        if (next(w, &in) != 0 ||
            ((in.kind == HEAD_ARRAY || in.kind == HEAD_MAP) &&
             in.value > w->len))
            return -EBADMSG;
        owed--;
        owed += in.kind == HEAD_ARRAY ? in.value
                : in.kind == HEAD_MAP ? 2 * in.value
                : in.kind == HEAD_TAG ? 1
                                      : 0;
    }
    return 0;
}

static int skip(walker_t *w)
{
    head_t h;
    return next(w, &h) == 0 ? skip_rest(w, &h) : -EBADMSG;
}

static int64_t as_int(const head_t *h)
{
    return h->kind == HEAD_NEGINT ? -1 - (int64_t)h->value : (int64_t)h->value;
}

/* The result map {5: code, 6: record, 7: reason}. */
static int read_failure(walker_t *w, uint64_t n, int64_t *code, int64_t *reason)
{
    for (uint64_t i = 0; i < n; i++) {
        head_t key, val;
        if (next(w, &key) != 0 || next(w, &val) != 0)
            return -EBADMSG;
        bool integer = val.kind == HEAD_UINT || val.kind == HEAD_NEGINT;
        if (key.kind == HEAD_UINT && key.value == RESULT_CODE && integer)
            *code = as_int(&val);
        else if (key.kind == HEAD_UINT && key.value == RESULT_REASON &&
                 val.kind == HEAD_UINT)
            *reason = (int64_t)val.value;
        else if (skip_rest(w, &val) != 0)
            return -EBADMSG;
    }
    return 0;
}

typedef struct report {
    bool has_nonce, has_result, success;
    teep_slice_t nonce;
    int64_t code, reason;
} report_t;

static int read_entry(walker_t *w, report_t *r)
{
    head_t key, val;
    if (next(w, &key) != 0)
        return -EBADMSG;
    if (key.kind != HEAD_UINT ||
        (key.value != REPORT_NONCE && key.value != REPORT_RESULT))
        return key.kind == HEAD_UINT || key.kind == HEAD_NEGINT ||
                       key.kind == HEAD_TEXT
                   ? skip(w)
                   : -EBADMSG;
    if (next(w, &val) != 0)
        return -EBADMSG;
    if (key.value == REPORT_NONCE) {
        if (val.kind != HEAD_BYTES || r->has_nonce)
            return -EBADMSG;
        r->has_nonce = true;
        r->nonce = val.bytes;
        return 0;
    }
    if (r->has_result)
        return -EBADMSG;
    r->has_result = true;
    if (val.kind == HEAD_BOOL) {
        r->success = val.value != 0;
        return 0;
    }
    return val.kind == HEAD_MAP
               ? read_failure(w, val.value, &r->code, &r->reason)
               : -EBADMSG;
}

static int read_report(teep_slice_t bytes, report_t *r)
{
    memset(r, 0, sizeof(*r));
    /* A protected report is a COSE_Sign1 around the map; its own key is
     * not the TEEP key (digest 5.6) and the TAM has none to check it
     * with: the TEEP message signature already covers these bytes. */
    teep_cose_t cose;
    if (bytes.len > 0 && bytes.ptr[0] == 0xd2 &&
        teep_cose_parse(bytes.ptr, bytes.len, &cose, NULL) == 0)
        bytes = cose.payload;
    walker_t w = {bytes.ptr, bytes.len, 0};
    head_t h;
    if (bytes.ptr == NULL || next(&w, &h) != 0 || h.kind != HEAD_MAP ||
        h.value > bytes.len)
        return -EBADMSG;
    for (uint64_t i = 0; i < h.value; i++)
        if (read_entry(&w, r) != 0)
            return -EBADMSG;
    return w.pos == w.len && r->has_result ? 0 : -EBADMSG;
}

int tam_report_check(const teep_message_t *m, teep_slice_t token,
                     tam_report_outcome_t *out)
{
    memset(out, 0, sizeof(*out));
    if (!(m->present & TEEP_OPT_BIT(TEEP_OPT_SUIT_REPORTS)))
        return 0;
    for (size_t i = 0; i < m->suit_reports.count; i++) {
        report_t r;
        if (read_report(m->suit_reports.items[i], &r) != 0) {
            snprintf(out->why, sizeof(out->why), "SUIT report %zu malformed",
                     i);
            return -EBADMSG;
        }
        if (!r.has_nonce || r.nonce.len != token.len ||
            memcmp(r.nonce.ptr, token.ptr, token.len) != 0) {
            snprintf(out->why, sizeof(out->why),
                     "SUIT report %zu: suit-report-nonce is not the token", i);
            return -EBADMSG;
        }
        out->n_reports++;
        if (!r.success && !out->failed) {
            out->failed = true;
            snprintf(out->why, sizeof(out->why),
                     "SUIT report %zu: %s (code %lld)", i,
                     teep_suit_reason_name((teep_suit_reason_t)r.reason),
                     (long long)r.code);
        }
    }
    return 0;
}
