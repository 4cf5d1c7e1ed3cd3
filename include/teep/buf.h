/*
 * teep/buf.h: reference-counted byte buffers with headroom.
 *
 * A teep_buf_t separates the allocation from the data, as nginx's ngx_buf_t
 * does:
 *
 *     start        pos             last          end
 *       |headroom   |     data      |   tailroom   |
 *
 * so a transport can frame the same bytes differently without copying them
 * (a WebSocket transport pushes its frame header into the headroom it asked
 * for at allocation, LWS_PRE bytes).
 *
 * Ownership: a buffer is freed when its last reference is dropped.  Every
 * function in this project that takes a teep_buf_t says either that it
 * "takes a reference" (it calls teep_buf_ref and later drops that reference
 * itself; the caller keeps its own) or that it "borrows the buffer for the
 * call" (it keeps no pointer after returning).
 *
 * Threads: no locks.  A buffer belongs to the one event loop (thread) that
 * created it; hand it to another thread only with its last reference.
 */
#ifndef TEEP_BUF_H
#define TEEP_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "teep/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct teep_buf teep_buf_t;

struct teep_buf {
    uint8_t *pos;       /* first data byte */
    uint8_t *last;      /* one past the last data byte */
    uint8_t *start;     /* first byte this buffer may use: pos - start is the
                           headroom */
    uint8_t *end;       /* one past the last usable byte */
    uint32_t refs;      /* references held; the buffer is freed at 0 */
    uint32_t reserved;  /* the allocator's: where the memory goes back */
    teep_buf_t *parent; /* a view's backing buffer (it holds one reference),
                           NULL for a buffer that owns its bytes */
};

/* A new buffer of size bytes of room after headroom bytes of headroom, with
 * no data (pos == last == start + headroom) and one reference, owned by the
 * caller.  Bytes and struct are one allocation.  Returns NULL when out of
 * memory. */
teep_buf_t *teep_buf_new(size_t headroom, size_t size);

/* teep_buf_new(headroom, len) holding a copy of the len bytes at data.
 * Returns NULL when out of memory. */
teep_buf_t *teep_buf_copy(size_t headroom, const void *data, size_t len);

/* A buffer showing the len bytes at pos, which lie inside parent's
 * [start, end): no copy.  The view takes a reference to parent and drops it
 * when the view is freed.  A view has no headroom or tailroom of its own
 * (start == pos, end == last): writing around it would overwrite the
 * parent's other bytes.  Returns NULL when out of memory or when the bytes
 * are not inside parent. */
teep_buf_t *teep_buf_view(teep_buf_t *parent, const uint8_t *pos, size_t len);

/* Take one more reference; returns b. */
teep_buf_t *teep_buf_ref(teep_buf_t *b);

/* Drop one reference; frees the buffer (and drops a view's reference to
 * its parent) on the last one.  b may be NULL. */
void teep_buf_unref(teep_buf_t *b);

/* Make room for at least tailroom bytes after last.  The buffer may move:
 * *b is updated, and pointers into the old bytes become invalid, so this is
 * allowed only for the sole owner of a buffer that owns its bytes.
 * Returns 0, -EBUSY when the buffer is shared or is a view, -ENOMEM. */
int teep_buf_reserve(teep_buf_t **b, size_t tailroom);

/* Prepend n bytes of framing in the headroom: pos moves back by n and the
 * new bytes are returned for the caller to fill.  NULL when the headroom is
 * smaller than n. */
uint8_t *teep_buf_push(teep_buf_t *b, size_t n);

static inline size_t teep_buf_len(const teep_buf_t *b)
{
    return (size_t)(b->last - b->pos);
}

static inline size_t teep_buf_headroom(const teep_buf_t *b)
{
    return (size_t)(b->pos - b->start);
}

static inline size_t teep_buf_tailroom(const teep_buf_t *b)
{
    return (size_t)(b->end - b->last);
}

/* The data as a slice (no ownership: valid while a reference is held). */
static inline teep_slice_t teep_buf_slice(const teep_buf_t *b)
{
    teep_slice_t s = {b->pos, (size_t)(b->last - b->pos)};
    return s;
}

#ifdef __cplusplus
}
#endif
#endif
