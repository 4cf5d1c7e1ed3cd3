/* manifest_cache.c: signed TA and UA envelopes kept in memory (internal.h
 * says why).  A small table under one mutex: entries are matched on
 * everything the envelope is built from, so a hit is the same bytes by
 * construction; the least recently used entry goes when the table or the
 * byte budget is full. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef struct entry {
    tam_package_kind_t kind;
    uint64_t version, size;
    uint8_t sha256[32];
    bool has_vendor_id, has_class_id;
    uint8_t vendor_id[16], class_id[16];
    char *component;
    uint8_t *envelope;
    size_t len;
    uint64_t used; /* the cache's clock at the last hit: LRU order */
} entry_t;

struct tam_manifest_cache {
    pthread_mutex_t lock;
    size_t n, bytes;
    uint64_t clock;
    entry_t entries[TAM_MANIFEST_CACHE_ENTRIES];
};

int tam_manifest_cache_open(struct tam_manifest_cache **out)
{
    struct tam_manifest_cache *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return -ENOMEM;
    pthread_mutex_init(&c->lock, NULL);
    *out = c;
    return 0;
}

static void entry_free(entry_t *e)
{
    free(e->component);
    free(e->envelope);
    memset(e, 0, sizeof(*e));
}

void tam_manifest_cache_close(struct tam_manifest_cache *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n; i++)
        entry_free(&c->entries[i]);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

/* PD is one device's blob, sent once: not worth a place. */
static bool cacheable(const tam_package_t *p)
{
    return p->kind == TAM_PKG_TA || p->kind == TAM_PKG_UA;
}

static bool same(const entry_t *e, const tam_package_t *p,
                 const char *component)
{
    return e->kind == p->kind && e->version == p->version &&
           e->size == p->size &&
           memcmp(e->sha256, p->sha256, sizeof(e->sha256)) == 0 &&
           e->has_vendor_id == p->has_vendor_id &&
           (!p->has_vendor_id ||
            memcmp(e->vendor_id, p->vendor_id, sizeof(e->vendor_id)) == 0) &&
           e->has_class_id == p->has_class_id &&
           (!p->has_class_id ||
            memcmp(e->class_id, p->class_id, sizeof(e->class_id)) == 0) &&
           strcmp(e->component, component) == 0;
}

static entry_t *find(struct tam_manifest_cache *c, const tam_package_t *p,
                     const char *component)
{
    for (size_t i = 0; i < c->n; i++)
        if (same(&c->entries[i], p, component))
            return &c->entries[i];
    return NULL;
}

int tam_manifest_cache_get(struct tam_manifest_cache *c, const tam_package_t *p,
                           const char *component, uint8_t **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    if (c == NULL || !cacheable(p))
        return -ENOENT;
    int rc = -ENOENT;
    pthread_mutex_lock(&c->lock);
    entry_t *e = find(c, p, component);
    if (e != NULL) {
        e->used = ++c->clock;
        *out = malloc(e->len);
        rc = *out == NULL ? -ENOMEM : 0;
        if (rc == 0) {
            memcpy(*out, e->envelope, e->len);
            *len = e->len;
        }
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}

static void evict_one(struct tam_manifest_cache *c)
{
    size_t lru = 0;
    for (size_t i = 1; i < c->n; i++)
        if (c->entries[i].used < c->entries[lru].used)
            lru = i;
    c->bytes -= c->entries[lru].len;
    entry_free(&c->entries[lru]);
    c->entries[lru] = c->entries[--c->n];
    memset(&c->entries[c->n], 0, sizeof(c->entries[c->n]));
}

void tam_manifest_cache_put(struct tam_manifest_cache *c,
                            const tam_package_t *p, const char *component,
                            const uint8_t *envelope, size_t len)
{
    if (c == NULL || !cacheable(p) || len > TAM_MANIFEST_CACHE_BYTES / 4)
        return;
    entry_t e = {
        .kind = p->kind,
        .version = p->version,
        .size = p->size,
        .has_vendor_id = p->has_vendor_id,
        .has_class_id = p->has_class_id,
        .component = strdup(component),
        .envelope = malloc(len),
        .len = len,
    };
    if (e.component == NULL || e.envelope == NULL) {
        entry_free(&e);
        return; /* only a cache: the next Update builds it again */
    }
    memcpy(e.sha256, p->sha256, sizeof(e.sha256));
    memcpy(e.vendor_id, p->vendor_id, sizeof(e.vendor_id));
    memcpy(e.class_id, p->class_id, sizeof(e.class_id));
    memcpy(e.envelope, envelope, len);
    pthread_mutex_lock(&c->lock);
    if (find(c, p, component) == NULL) {
        while (c->n > 0 && (c->n == TAM_MANIFEST_CACHE_ENTRIES ||
                            c->bytes + len > TAM_MANIFEST_CACHE_BYTES))
            evict_one(c);
        e.used = ++c->clock;
        c->entries[c->n++] = e;
        c->bytes += len;
        e = (entry_t){0};
    }
    pthread_mutex_unlock(&c->lock);
    entry_free(&e); /* a racing thread put the same envelope first */
}
