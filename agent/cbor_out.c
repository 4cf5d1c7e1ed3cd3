/*
 * cbor_out.c: a growable CBOR encoder on libcbor's cbor_encode_* for what
 * the Agent writes whose size it does not know up front: its sealed state
 * and the fragments of its replies (tc-list entries).  Errors are sticky,
 * so callers encode straight through and check c->err once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cbor.h>

#include "agent_internal.h"

/* The largest head CBOR has: one byte plus an 8-byte argument. */
#define HEAD_MAX 9

void agent__cbor_init(agent_cbor_t *c)
{
    memset(c, 0, sizeof(*c));
}

void agent__cbor_free(agent_cbor_t *c)
{
    free(c->buf);
    memset(c, 0, sizeof(*c));
}

static bool reserve(agent_cbor_t *c, size_t more)
{
    if (c->err != 0)
        return false;
    if (c->cap - c->len >= more)
        return true;
    size_t cap = c->cap > 0 ? c->cap : 256;
    while (cap - c->len < more) {
        if (cap > SIZE_MAX / 2) {
            c->err = -ENOMEM;
            return false;
        }
        cap *= 2;
    }
    uint8_t *buf = realloc(c->buf, cap);
    if (buf == NULL) {
        c->err = -ENOMEM;
        return false;
    }
    c->buf = buf;
    c->cap = cap;
    return true;
}

/* Run one libcbor head encoder into the reserved space. */
#define HEAD(c, fn, v)                                                         \
    do {                                                                       \
        if (reserve((c), HEAD_MAX))                                            \
            (c)->len += fn((v), (c)->buf + (c)->len, (c)->cap - (c)->len);     \
    } while (0)

void agent__cbor_uint(agent_cbor_t *c, uint64_t v)
{
    HEAD(c, cbor_encode_uint, v);
}

void agent__cbor_int(agent_cbor_t *c, int64_t v)
{
    if (v >= 0)
        HEAD(c, cbor_encode_uint, (uint64_t)v);
    else
        HEAD(c, cbor_encode_negint, (uint64_t)(-1 - v));
}

void agent__cbor_bstr(agent_cbor_t *c, const uint8_t *p, size_t len)
{
    HEAD(c, cbor_encode_bytestring_start, len);
    agent__cbor_raw(c, p, len);
}

void agent__cbor_tstr(agent_cbor_t *c, const char *s)
{
    size_t len = strlen(s);
    HEAD(c, cbor_encode_string_start, len);
    agent__cbor_raw(c, (const uint8_t *)s, len);
}

void agent__cbor_array(agent_cbor_t *c, size_t n)
{
    HEAD(c, cbor_encode_array_start, n);
}

void agent__cbor_map(agent_cbor_t *c, size_t n)
{
    HEAD(c, cbor_encode_map_start, n);
}

void agent__cbor_null(agent_cbor_t *c)
{
    if (reserve(c, 1))
        c->len += cbor_encode_null(c->buf + c->len, c->cap - c->len);
}

void agent__cbor_raw(agent_cbor_t *c, const uint8_t *p, size_t len)
{
    if (len > 0 && reserve(c, len)) {
        memcpy(c->buf + c->len, p, len);
        c->len += len;
    }
}
