/* cbor_json.c: see cbor_json.h. */
#include "cbor_json.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbor_reader.h"
#include "cbor_writer.h"
#include "io.h"

/* ---- CBOR -> view ---------------------------------------------------- */

/* "h'HEX'" */
static json_t *bstr_view(const uint8_t *p, size_t n)
{
    char *hex = cli_hex(p, n);
    if (hex == NULL)
        return NULL;
    json_t *s = json_sprintf("h'%s'", hex);
    free(hex);
    return s;
}

/* The view of the next item, or its raw form when the view would not
 * convert back to the same bytes; NULL only for malformed CBOR or when out
 * of memory. */
static json_t *view_checked(tp_cbor_reader_t *r, unsigned depth);

static json_t *view_array(tp_cbor_reader_t *r, uint64_t n, unsigned depth)
{
    json_t *a = json_array();
    for (uint64_t i = 0; a != NULL && i < n; i++) {
        if (json_array_append_new(a, view_checked(r, depth + 1)) != 0) {
            json_decref(a);
            a = NULL;
        }
    }
    return a;
}

/* A map key as a JSON object key, in a malloc'd string. */
static char *view_key(tp_cbor_reader_t *r)
{
    tp_cbor_item_t it;
    char *key = NULL;
    if (tp_cbor_next(r, &it) != 0)
        return NULL;
    switch (it.kind) {
    case TP_CBOR_UINT:
        if (asprintf(&key, "%" PRIu64, it.u) < 0)
            key = NULL;
        break;
    case TP_CBOR_NEGINT:
        if (it.u < INT64_MAX && asprintf(&key, "-%" PRIu64, it.u + 1) < 0)
            key = NULL;
        break;
    case TP_CBOR_TSTR:
        /* A key with a NUL inside would not survive as a C string. */
        if (memchr(it.ptr, '\0', it.u) == NULL)
            key = strndup((const char *)it.ptr, it.u);
        break;
    case TP_CBOR_BSTR: {
        json_t *s = bstr_view(it.ptr, it.u);
        if (s != NULL)
            key = strdup(json_string_value(s));
        json_decref(s);
        break;
    }
    default: break;
    }
    return key;
}

static json_t *view_map(tp_cbor_reader_t *r, uint64_t n, unsigned depth)
{
    json_t *o = json_object();
    for (uint64_t i = 0; o != NULL && i < n; i++) {
        char *key = view_key(r);
        json_t *value = key != NULL ? view_checked(r, depth + 1) : NULL;
        /* A repeated key would silently replace the first: no view. */
        bool ok = value != NULL && json_object_get(o, key) == NULL &&
                  json_object_set_new(o, key, value) == 0;
        if (!ok) {
            json_decref(value);
            json_decref(o);
            o = NULL;
        }
        free(key);
    }
    return o;
}

/* NULL: no view for this item itself (view_checked falls back). */
static json_t *view_item(tp_cbor_reader_t *r, unsigned depth)
{
    tp_cbor_item_t it;
    if (depth > TEEP_MAX_DEPTH || tp_cbor_next(r, &it) != 0)
        return NULL;
    switch (it.kind) {
    case TP_CBOR_UINT:
        return it.u <= INT64_MAX ? json_integer((json_int_t)it.u) : NULL;
    case TP_CBOR_NEGINT:
        return it.u < INT64_MAX ? json_integer(-1 - (json_int_t)it.u) : NULL;
    case TP_CBOR_BSTR: return bstr_view(it.ptr, it.u);
    case TP_CBOR_TSTR: return json_stringn((const char *)it.ptr, it.u);
    case TP_CBOR_ARRAY: return view_array(r, it.u, depth);
    case TP_CBOR_MAP: return view_map(r, it.u, depth);
    case TP_CBOR_TAG:
        if (it.u > INT64_MAX)
            return NULL;
        return json_pack("{sIso*}", "tag", (json_int_t)it.u, "value",
                         view_checked(r, depth + 1));
    case TP_CBOR_TRUE: return json_true();
    case TP_CBOR_FALSE: return json_false();
    case TP_CBOR_NULL: return json_null();
    default: return NULL;
    }
}

static json_t *raw_view(const uint8_t *buf, size_t len)
{
    char *hex = cli_hex(buf, len);
    json_t *o = hex != NULL ? json_pack("{ss}", "cbor", hex) : NULL;
    free(hex);
    return o;
}

/* Whether view converts back to exactly buf[0..len). */
static bool round_trips(const json_t *view, const uint8_t *buf, size_t len)
{
    uint8_t *back;
    size_t back_len;
    if (cbor_json_encode(view, &back, &back_len) != 0)
        return false;
    bool same = back_len == len && memcmp(back, buf, len) == 0;
    free(back);
    return same;
}

static json_t *view_checked(tp_cbor_reader_t *r, unsigned depth)
{
    size_t start = r->pos, end;
    json_t *view = view_item(r, depth);
    if (view != NULL) {
        end = r->pos;
    } else {
        r->pos = start;
        if (tp_cbor_skip(r, TEEP_MAX_DEPTH, NULL, &end) != 0)
            return NULL;
    }
    /* Checked at every level, so a float or an ambiguous string falls
     * back alone, not the whole tree around it. */
    if (view != NULL && round_trips(view, r->buf + start, end - start))
        return view;
    json_decref(view);
    return raw_view(r->buf + start, end - start);
}

json_t *cbor_json_view(const uint8_t *buf, size_t len)
{
    tp_cbor_reader_t r;
    tp_cbor_reader_init(&r, buf, len, NULL);
    json_t *view = view_checked(&r, 0);
    if (view != NULL && tp_cbor_finish(&r) == 0)
        return view;
    json_decref(view);
    return raw_view(buf, len);
}

/* ---- view -> CBOR ---------------------------------------------------- */

/* The bytes of a "h'HEX'" string into a malloc'd *bytes: 1, or 0 when s
 * is no such string, or -ENOMEM. */
static int hex_string_bytes(const char *s, size_t n, uint8_t **bytes,
                            size_t *len)
{
    if (n < 3 || s[0] != 'h' || s[1] != '\'' || s[n - 1] != '\'' ||
        (n - 3) % 2 != 0)
        return 0;
    *len = (n - 3) / 2;
    *bytes = malloc(*len + 1);
    if (*bytes == NULL)
        return -ENOMEM;
    if (cli_unhex(s + 2, n - 3, *bytes) != 0) {
        free(*bytes);
        return 0;
    }
    return 1;
}

/* A string as a byte string ("h'..'") or a text string. */
static int emit_string(tp_cbor_writer_t *w, const char *s, size_t n)
{
    uint8_t *bytes;
    size_t len;
    int rc = hex_string_bytes(s, n, &bytes, &len);
    if (rc > 0) {
        tp_cw_bstr(w, bytes, len);
        free(bytes);
    } else if (rc == 0) {
        tp_cw_tstr(w, s, n);
    }
    return rc < 0 ? rc : 0;
}

/* Map keys: a canonical decimal ("0", "-7", never "07" or "+1") is an
 * integer, everything else a string as above. */
static int emit_key(tp_cbor_writer_t *w, const char *key)
{
    char *end;
    errno = 0;
    long long v = strtoll(key, &end, 10);
    char canonical[24];
    snprintf(canonical, sizeof(canonical), "%lld", v);
    if (errno == 0 && *end == '\0' && strcmp(canonical, key) == 0) {
        tp_cw_int(w, v);
        return 0;
    }
    return emit_string(w, key, strlen(key));
}

/* {"cbor": "HEX"} holding exactly one well-formed item: copied as is. */
static int emit_raw(tp_cbor_writer_t *w, const json_t *hex)
{
    const char *s = json_string_value(hex);
    size_t n = json_string_length(hex);
    if (s == NULL || n == 0)
        return -EINVAL;
    uint8_t *bytes = malloc(n / 2 + 1);
    if (bytes == NULL)
        return -ENOMEM;
    int rc = cli_unhex(s, n, bytes);
    if (rc == 0) {
        tp_cbor_reader_t r;
        tp_cbor_reader_init(&r, bytes, n / 2, NULL);
        if (tp_cbor_skip(&r, TEEP_MAX_DEPTH, NULL, NULL) != 0 ||
            tp_cbor_finish(&r) != 0)
            rc = -EINVAL;
    }
    if (rc == 0)
        tp_cw_raw(w, bytes, n / 2);
    free(bytes);
    return rc;
}

static int emit_item(tp_cbor_writer_t *w, const json_t *v, unsigned depth);

static int emit_object(tp_cbor_writer_t *w, const json_t *o, unsigned depth)
{
    size_t n = json_object_size(o);
    const json_t *tag = json_object_get(o, "tag");
    if (n == 1 && json_object_get(o, "cbor") != NULL)
        return emit_raw(w, json_object_get(o, "cbor"));
    if (n == 2 && json_is_integer(tag) && json_integer_value(tag) >= 0 &&
        json_object_get(o, "value") != NULL) {
        tp_cw_tag(w, (uint64_t)json_integer_value(tag));
        return emit_item(w, json_object_get(o, "value"), depth + 1);
    }
    const char *key;
    const json_t *value;
    tp_cw_map(w, n);
    json_object_foreach((json_t *)o, key, value)
    {
        int rc = emit_key(w, key);
        if (rc == 0)
            rc = emit_item(w, value, depth + 1);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int emit_array(tp_cbor_writer_t *w, const json_t *a, unsigned depth)
{
    size_t i;
    const json_t *value;
    tp_cw_array(w, json_array_size(a));
    json_array_foreach(a, i, value)
    {
        int rc = emit_item(w, value, depth + 1);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int emit_item(tp_cbor_writer_t *w, const json_t *v, unsigned depth)
{
    if (depth > TEEP_MAX_DEPTH)
        return -EINVAL;
    switch (json_typeof(v)) {
    case JSON_INTEGER: tp_cw_int(w, json_integer_value(v)); return 0;
    case JSON_STRING:
        return emit_string(w, json_string_value(v), json_string_length(v));
    case JSON_ARRAY: return emit_array(w, v, depth);
    case JSON_OBJECT: return emit_object(w, v, depth);
    case JSON_TRUE: tp_cw_bool(w, true); return 0;
    case JSON_FALSE: tp_cw_bool(w, false); return 0;
    case JSON_NULL: tp_cw_null(w); return 0;
    default: return -EINVAL; /* a real: CBOR floats are not viewed */
    }
}

int cbor_json_encode(const json_t *view, uint8_t **out, size_t *out_len)
{
    /* First pass counts (the writer accepts a NULL buffer), second
     * writes into a buffer of exactly that size. */
    tp_cbor_writer_t w;
    tp_cw_init(&w, NULL, 0);
    int rc = emit_item(&w, view, 0);
    if (rc != 0)
        return rc;
    size_t len = w.len;
    uint8_t *buf = malloc(len > 0 ? len : 1);
    if (buf == NULL)
        return -ENOMEM;
    tp_cw_init(&w, buf, len);
    rc = emit_item(&w, view, 0);
    if (rc == 0)
        rc = tp_cw_result(&w);
    if (rc != 0) {
        free(buf);
        return rc;
    }
    *out = buf;
    *out_len = len;
    return 0;
}
