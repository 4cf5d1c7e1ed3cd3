/* keycache.c: loaded keys shared by every thread (internal.h says why).
 * Buckets of immutable entries under a read-write lock: lookups share the
 * lock, an insert takes it alone; entries live until teep_tam_close. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define BUCKETS     4096
#define MAX_ENTRIES 65536 /* beyond this, keys are loaded per use */
#define COSE_MAX    160

typedef struct entry {
    struct entry *next;
    size_t len;
    uint8_t cose[COSE_MAX];
    teep_key_t key;
} entry_t;

struct tam_keycache {
    pthread_rwlock_t lock;
    size_t count;
    entry_t *buckets[BUCKETS];
};

/* FNV-1a: the bytes are public keys, not attacker-chosen collisions worth
 * defending against beyond a linear bucket walk. */
static size_t bucket_of(const uint8_t *p, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 16777619u;
    return h % BUCKETS;
}

static const teep_key_t *find(struct tam_keycache *c, size_t b,
                              const uint8_t *cose, size_t len)
{
    for (entry_t *e = c->buckets[b]; e != NULL; e = e->next)
        if (e->len == len && memcmp(e->cose, cose, len) == 0)
            return &e->key;
    return NULL;
}

int tam_keycache_open(struct tam_keycache **out)
{
    struct tam_keycache *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return -ENOMEM;
    pthread_rwlock_init(&c->lock, NULL);
    *out = c;
    return 0;
}

void tam_keycache_close(struct tam_keycache *c)
{
    if (c == NULL)
        return;
    for (size_t b = 0; b < BUCKETS; b++) {
        for (entry_t *e = c->buckets[b], *next; e != NULL; e = next) {
            next = e->next;
            teep_key_clear(&e->key);
            free(e);
        }
    }
    pthread_rwlock_destroy(&c->lock);
    free(c);
}

static int load_own(const uint8_t *cose, size_t len, tam_key_ref_t *ref)
{
    int rc = teep_key_from_cose(&ref->own, cose, len);
    if (rc == 0) {
        ref->owned = true;
        ref->key = &ref->own;
    }
    return rc;
}

/* Insert e unless a racing thread inserted the same bytes first; returns
 * the cached key and frees e when it was not inserted. */
static const teep_key_t *insert(struct tam_keycache *c, size_t b, entry_t *e)
{
    pthread_rwlock_wrlock(&c->lock);
    const teep_key_t *key = find(c, b, e->cose, e->len);
    if (key == NULL && c->count < MAX_ENTRIES) {
        e->next = c->buckets[b];
        c->buckets[b] = e;
        c->count++;
        key = &e->key;
        e = NULL;
    }
    pthread_rwlock_unlock(&c->lock);
    if (e != NULL) {
        teep_key_clear(&e->key);
        free(e);
    }
    return key;
}

int tam_keycache_get(const teep_tam_t *tam, const uint8_t *cose, size_t len,
                     tam_key_ref_t *ref)
{
    struct tam_keycache *c = tam->keycache;
    memset(ref, 0, sizeof(*ref));
    if (c == NULL || len > COSE_MAX)
        return load_own(cose, len, ref);
    size_t b = bucket_of(cose, len);
    pthread_rwlock_rdlock(&c->lock);
    ref->key = find(c, b, cose, len);
    bool full = c->count >= MAX_ENTRIES;
    pthread_rwlock_unlock(&c->lock);
    if (ref->key != NULL)
        return 0;
    if (full)
        return load_own(cose, len, ref);
    entry_t *e = calloc(1, sizeof(*e));
    if (e == NULL)
        return -ENOMEM;
    /* Loaded outside the lock; a racing thread may load the same key,
     * and the second insert then keeps the first. */
    int rc = teep_key_from_cose(&e->key, cose, len);
    if (rc != 0) {
        free(e);
        return rc;
    }
    memcpy(e->cose, cose, len);
    e->len = len;
    ref->key = insert(c, b, e);
    /* Filled up by other threads meanwhile: load it for this caller. */
    return ref->key != NULL ? 0 : load_own(cose, len, ref);
}

void tam_keycache_put(const teep_tam_t *tam, teep_key_t *key)
{
    struct tam_keycache *c = tam->keycache;
    entry_t *e = c != NULL && key->native != NULL && !key->has_private
                     ? calloc(1, sizeof(*e))
                     : NULL;
    if (e == NULL ||
        teep_key_to_cose(key, false, e->cose, sizeof(e->cose), &e->len) != 0) {
        free(e);
        return;
    }
    /* Moved, not copied: the caller's key no longer owns native. */
    e->key = *key;
    e->key.data = NULL;
    key->native = NULL;
    insert(c, bucket_of(e->cose, e->len), e);
}

bool tam_keycache_holds(const teep_tam_t *tam, const uint8_t *cose, size_t len)
{
    struct tam_keycache *c = tam->keycache;
    if (c == NULL || len > COSE_MAX)
        return false;
    pthread_rwlock_rdlock(&c->lock);
    bool held = find(c, bucket_of(cose, len), cose, len) != NULL;
    pthread_rwlock_unlock(&c->lock);
    return held;
}

void tam_key_release(tam_key_ref_t *ref)
{
    if (ref->owned)
        teep_key_clear(&ref->own);
    memset(ref, 0, sizeof(*ref));
}
