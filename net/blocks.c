/*
 * Per-thread free lists of fixed-size blocks (net/blocks.h).
 *
 * The lists live in thread-local storage; a thread-specific key whose
 * destructor frees them is set on a thread's first give-back, so a
 * worker thread that ends leaves nothing behind.  teepnet is linked into
 * the broker and into each plugin, so a process may hold several copies
 * of these lists: harmless, since a block is plain malloc memory and any
 * copy may take it back.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "blocks.h"

#if defined(__SANITIZE_ADDRESS__)
#define BLOCKS_CACHE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BLOCKS_CACHE 0
#endif
#endif
#ifndef BLOCKS_CACHE
#define BLOCKS_CACHE 1
#endif

static const size_t class_size[TEEP_NET__BLOCK_CLASSES] = {0, 64, 512, 1024};

/* Blocks one thread keeps per class: a worker's exchanges in flight at
 * full load (tens) with room to spare, at most 160 KiB in all. */
static const unsigned class_keep[TEEP_NET__BLOCK_CLASSES] = {0, 256, 128, 64};

typedef struct block {
    struct block *next;
} block_t;

typedef struct lists {
    block_t *head[TEEP_NET__BLOCK_CLASSES];
    unsigned count[TEEP_NET__BLOCK_CLASSES];
    bool keyed; /* the key's destructor will free these lists */
} lists_t;

static __thread lists_t lists;
static pthread_key_t key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static bool key_made;

static void drain(void *arg)
{
    lists_t *l = arg;
    for (unsigned c = 0; c < TEEP_NET__BLOCK_CLASSES; c++) {
        while (l->head[c] != NULL) {
            block_t *b = l->head[c];
            l->head[c] = b->next;
            free(b);
        }
        l->count[c] = 0;
    }
}

static void make_key(void)
{
    key_made = pthread_key_create(&key, drain) == 0;
}

/* At unload (dlclose of a plugin) or process exit: the calling thread's
 * lists, and no destructor left pointing into unmapped code. */
__attribute__((destructor)) static void blocks_fini(void)
{
    drain(&lists);
    if (key_made) {
        pthread_key_delete(key);
        key_made = false;
    }
}

unsigned teep_net__block_class(size_t size)
{
    for (unsigned c = TEEP_NET__BLOCK_64; c < TEEP_NET__BLOCK_CLASSES; c++)
        if (size <= class_size[c])
            return c;
    return TEEP_NET__BLOCK_NONE;
}

void *teep_net__block_get(unsigned cls)
{
    block_t *b = lists.head[cls];
    if (b == NULL)
        return malloc(class_size[cls]);
    lists.head[cls] = b->next;
    lists.count[cls]--;
    return b;
}

void teep_net__block_put(unsigned cls, void *p)
{
    if (p == NULL)
        return;
    if (!BLOCKS_CACHE || cls == TEEP_NET__BLOCK_NONE ||
        lists.count[cls] >= class_keep[cls]) {
        free(p);
        return;
    }
    if (!lists.keyed) {
        pthread_once(&key_once, make_key);
        /* Without a key the lists would leak at thread exit: keep none. */
        if (!key_made || pthread_setspecific(key, &lists) != 0) {
            free(p);
            return;
        }
        lists.keyed = true;
    }
    block_t *b = p;
    b->next = lists.head[cls];
    lists.head[cls] = b;
    lists.count[cls]++;
}
