/*
 * Reference-counted buffers with headroom (teep/buf.h).  The struct and the
 * bytes are one allocation so a buffer costs one malloc; a view is a bare
 * struct that points into its parent.  Views and small buffers (HTTP heads)
 * come and go with every exchange, so they are taken from and given back
 * to the thread's block lists (net/blocks.h); b->reserved records the
 * block class (0: a plain malloc).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "blocks.h"
#include "teep/buf.h"

/* Bytes after the struct start on a 16-byte boundary, so payloads can be
 * read as any type. */
#define BUF_HEADER_SIZE ((sizeof(teep_buf_t) + 15u) & ~(size_t)15u)

_Static_assert(sizeof(teep_buf_t) <= 64, "a view is a 64-byte block");

static void buf_layout(teep_buf_t *b, size_t headroom, size_t size)
{
    b->start = (uint8_t *)b + BUF_HEADER_SIZE;
    b->pos = b->start + headroom;
    b->last = b->pos;
    b->end = b->pos + size;
}

teep_buf_t *teep_buf_new(size_t headroom, size_t size)
{
    if (headroom > SIZE_MAX / 2 ||
        size > SIZE_MAX / 2 - headroom - BUF_HEADER_SIZE)
        return NULL;
    size_t total = BUF_HEADER_SIZE + headroom + size;
    unsigned cls = teep_net__block_class(total);
    teep_buf_t *b =
        cls != TEEP_NET__BLOCK_NONE ? teep_net__block_get(cls) : malloc(total);
    if (b == NULL)
        return NULL;
    buf_layout(b, headroom, size);
    b->refs = 1;
    b->reserved = cls;
    b->parent = NULL;
    return b;
}

teep_buf_t *teep_buf_copy(size_t headroom, const void *data, size_t len)
{
    teep_buf_t *b = teep_buf_new(headroom, len);
    if (b != NULL && len > 0) {
        memcpy(b->pos, data, len);
        b->last += len;
    }
    return b;
}

teep_buf_t *teep_buf_view(teep_buf_t *parent, const uint8_t *pos, size_t len)
{
    if (pos < parent->start || pos > parent->end ||
        len > (size_t)(parent->end - pos))
        return NULL;
    teep_buf_t *v = teep_net__block_get(TEEP_NET__BLOCK_64);
    if (v == NULL)
        return NULL;
    v->start = v->pos = (uint8_t *)pos;
    v->end = v->last = (uint8_t *)pos + len;
    v->refs = 1;
    v->reserved = TEEP_NET__BLOCK_64;
    v->parent = teep_buf_ref(parent);
    return v;
}

teep_buf_t *teep_buf_ref(teep_buf_t *b)
{
    b->refs++;
    return b;
}

void teep_buf_unref(teep_buf_t *b)
{
    /* A chain of views ends at a buffer that owns its bytes; walk it
     * without recursion. */
    while (b != NULL && --b->refs == 0) {
        teep_buf_t *parent = b->parent;
        teep_net__block_put(b->reserved, b);
        b = parent;
    }
}

int teep_buf_reserve(teep_buf_t **bp, size_t tailroom)
{
    teep_buf_t *b = *bp;
    if (teep_buf_tailroom(b) >= tailroom)
        return 0;
    if (b->refs != 1 || b->parent != NULL)
        return -EBUSY;
    size_t headroom = teep_buf_headroom(b);
    size_t len = teep_buf_len(b);
    size_t size = (size_t)(b->end - b->pos);
    /* Grow geometrically so appending n bytes costs O(n) in total. */
    size_t want = len + tailroom;
    if (want < len || want > SIZE_MAX / 4)
        return -ENOMEM;
    if (size * 2 > want)
        want = size * 2;
    teep_buf_t *nb = realloc(b, BUF_HEADER_SIZE + headroom + want);
    if (nb == NULL)
        return -ENOMEM;
    nb->reserved = TEEP_NET__BLOCK_NONE; /* no longer its class's size */
    buf_layout(nb, headroom, want);
    nb->last = nb->pos + len;
    *bp = nb;
    return 0;
}

uint8_t *teep_buf_push(teep_buf_t *b, size_t n)
{
    if (teep_buf_headroom(b) < n)
        return NULL;
    b->pos -= n;
    return b->pos;
}
