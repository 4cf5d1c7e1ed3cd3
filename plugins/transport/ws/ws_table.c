/*
 * ws_table.c: the small hash tables of the WebSocket transport
 * (ws_internal.h): device name -> connection for push, peer address ->
 * connection count for the per-address limit.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "ws_internal.h"

/* FNV-1a, started from the table's seed. */
static size_t bucket_of(const ws_table_t *t, const void *key, size_t len)
{
    const uint8_t *p = key;
    uint32_t h = 2166136261u ^ t->seed;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 16777619u;
    }
    return h & (t->n_buckets - 1);
}

int ws_table_init(ws_table_t *t, size_t n_buckets)
{
    t->buckets = calloc(n_buckets, sizeof(*t->buckets));
    if (t->buckets == NULL)
        return -ENOMEM;
    t->n_buckets = n_buckets;
    /* A seed nobody outside can guess; a fixed one is still a working
     * table if the system has no randomness to give. */
    if (uv_random(NULL, NULL, &t->seed, sizeof(t->seed), 0, NULL) != 0)
        t->seed = (uint32_t)(uintptr_t)t;
    return 0;
}

void ws_table_free(ws_table_t *t)
{
    for (size_t i = 0; t->buckets != NULL && i < t->n_buckets; i++) {
        ws_entry_t *e = t->buckets[i];
        while (e != NULL) {
            ws_entry_t *next = e->next;
            free(e);
            e = next;
        }
    }
    free(t->buckets);
    t->buckets = NULL;
}

ws_entry_t *ws_table_find(const ws_table_t *t, const void *key, size_t len)
{
    ws_entry_t *e = t->buckets[bucket_of(t, key, len)];
    while (e != NULL && (e->key_len != len || memcmp(e->key, key, len) != 0))
        e = e->next;
    return e;
}

ws_entry_t *ws_table_get(ws_table_t *t, const void *key, size_t len)
{
    if (len > UINT8_MAX)
        return NULL;
    ws_entry_t *e = ws_table_find(t, key, len);
    if (e != NULL)
        return e;
    e = malloc(sizeof(*e) + len);
    if (e == NULL)
        return NULL;
    size_t b = bucket_of(t, key, len);
    e->next = t->buckets[b];
    e->value = NULL;
    e->count = 0;
    e->key_len = (uint8_t)len;
    memcpy(e->key, key, len);
    t->buckets[b] = e;
    return e;
}

void ws_table_remove(ws_table_t *t, ws_entry_t *e)
{
    ws_entry_t **p = &t->buckets[bucket_of(t, e->key, e->key_len)];
    while (*p != NULL && *p != e)
        p = &(*p)->next;
    if (*p == e)
        *p = e->next;
    free(e);
}
