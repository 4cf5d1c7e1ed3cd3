/*
 * net/blocks.h: per-thread free lists of fixed-size memory blocks, for
 * the few objects every relayed exchange allocates and frees again (a
 * buffer view, a response or request head, a server request).
 *
 * Why: glibc's per-thread cache keeps 7 chunks per size; a loop turn that
 * answers a few dozen exchanges overflows it, and every further
 * malloc/free goes through the arena (_int_malloc/_int_free).  A block
 * taken here is a pointer pop; a block given back, a pointer push.
 *
 * A block is an ordinary malloc allocation of its class's size, so it may
 * be given back on another thread than the one that took it (a buffer
 * handed over with its last reference), or released with free() by code
 * that does not know the class.  Each thread keeps at most a bounded
 * number per class; the rest is freed.  A thread's lists are freed when it
 * exits, and the calling thread's when the module is unloaded or the
 * process exits.  Sanitizer builds keep nothing, so that AddressSanitizer
 * still sees every use after free.
 */
#ifndef TEEP_NET_BLOCKS_H
#define TEEP_NET_BLOCKS_H

#include <stddef.h>

/* Classes: 0 means "not from a class" (plain malloc) wherever a class is
 * recorded. */
enum {
    TEEP_NET__BLOCK_NONE = 0,
    TEEP_NET__BLOCK_64,   /* a buffer view: the bare teep_buf_t */
    TEEP_NET__BLOCK_512,  /* a small buffer: an HTTP head */
    TEEP_NET__BLOCK_1024, /* a server request with a few header fields */
    TEEP_NET__BLOCK_CLASSES,
};

/* The smallest class whose blocks hold size bytes, or TEEP_NET__BLOCK_NONE
 * when size is larger than the largest. */
unsigned teep_net__block_class(size_t size);

/* A block of class cls (not NONE), from the thread's list or malloc.
 * NULL when out of memory. */
void *teep_net__block_get(unsigned cls);

/* Give back a block taken with teep_net__block_get(cls); p may be NULL.
 * With cls NONE, p is simply freed. */
void teep_net__block_put(unsigned cls, void *p);

#endif
