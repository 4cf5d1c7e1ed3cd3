/* core.c: opening and closing the TAM core, the SQLite connection pool,
 * replies and hex. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

struct tam_pool {
    pthread_mutex_t lock;
    pthread_mutex_t writer; /* transactions, one at a time (store.h) */
    pthread_cond_t available;
    size_t n;
    tam_store_t *stores;
    size_t n_free;
    tam_store_t **free;
};

static void pool_close(struct tam_pool *p)
{
    for (size_t i = 0; i < p->n; i++)
        tam_store_close(&p->stores[i]);
    pthread_cond_destroy(&p->available);
    pthread_mutex_destroy(&p->writer);
    pthread_mutex_destroy(&p->lock);
    free(p->stores);
    free(p->free);
    free(p);
}

static int pool_open(struct tam_pool **out, const char *path, unsigned n)
{
    struct tam_pool *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return -ENOMEM;
    pthread_mutex_init(&p->lock, NULL);
    pthread_mutex_init(&p->writer, NULL);
    pthread_cond_init(&p->available, NULL);
    p->stores = calloc(n, sizeof(*p->stores));
    p->free = calloc(n, sizeof(*p->free));
    if (p->stores == NULL || p->free == NULL) {
        pool_close(p);
        return -ENOMEM;
    }
    /* The first connection creates or migrates the schema; the others
     * find it done. */
    for (; p->n < n; p->n++) {
        int rc = tam_store_open(&p->stores[p->n], path, &p->writer);
        if (rc != 0) {
            pool_close(p);
            return rc;
        }
        p->free[p->n_free++] = &p->stores[p->n];
    }
    *out = p;
    return 0;
}

tam_store_t *tam_pool_get(teep_tam_t *tam)
{
    struct tam_pool *p = tam->pool;
    pthread_mutex_lock(&p->lock);
    while (p->n_free == 0)
        pthread_cond_wait(&p->available, &p->lock);
    tam_store_t *s = p->free[--p->n_free];
    pthread_mutex_unlock(&p->lock);
    return s;
}

void tam_pool_put(teep_tam_t *tam, tam_store_t *s)
{
    struct tam_pool *p = tam->pool;
    pthread_mutex_lock(&p->lock);
    p->free[p->n_free++] = s;
    pthread_cond_signal(&p->available);
    pthread_mutex_unlock(&p->lock);
}

static void apply_defaults(teep_tam_config_t *c)
{
    if (c->token_ttl == 0)
        c->token_ttl = TEEP_TAM_DEFAULT_TOKEN_TTL;
    if (c->evidence_max_age == 0)
        c->evidence_max_age = TEEP_TAM_DEFAULT_MAX_AGE;
    if (c->clock_skew == 0)
        c->clock_skew = TEEP_TAM_DEFAULT_CLOCK_SKEW;
    if (c->connections == 0)
        c->connections = TEEP_TAM_DEFAULT_CONNECTIONS;
    if (c->max_package == 0)
        c->max_package = TEEP_TAM_DEFAULT_MAX_PACKAGE;
}

static int open_database(teep_tam_t *tam)
{
    const teep_tam_config_t *c = &tam->cfg;
    char path[PATH_MAX];
    if (c->db_path != NULL)
        snprintf(path, sizeof(path), "%s", c->db_path);
    else if (c->data_dir != NULL)
        snprintf(path, sizeof(path), "%s/tam.db", c->data_dir);
    else
        return -EINVAL;
    /* Each connection to ":memory:" would be a database of its own. */
    if (strcmp(path, ":memory:") == 0 && c->connections != 1)
        return -EINVAL;
    return pool_open(&tam->pool, path, c->connections);
}

int teep_tam_open(teep_tam_t *tam, const teep_tam_config_t *cfg, bool *created)
{
    if (tam == NULL || cfg == NULL ||
        (cfg->profile != TEEP_PROFILE_RFC &&
         cfg->profile != TEEP_PROFILE_LEGACY))
        return -EINVAL;
    memset(tam, 0, sizeof(*tam));
    tam->cfg = *cfg;
    apply_defaults(&tam->cfg);
    bool keys_made = false, token_made = false;
    int rc = tam_keys_load(&tam->keys, cfg->data_dir, &keys_made);
    if (rc == 0 && cfg->admin_token != NULL) {
        if (strlen(cfg->admin_token) >= sizeof(tam->admin_token))
            rc = -EINVAL;
        else
            snprintf(tam->admin_token, sizeof(tam->admin_token), "%s",
                     cfg->admin_token);
    } else if (rc == 0 && cfg->data_dir != NULL) {
        rc = tam_keys_admin_token(cfg->data_dir, tam->admin_token, &token_made);
    }
    if (rc == 0)
        rc = tam_keycache_open(&tam->keycache);
    if (rc == 0)
        rc = tam_manifest_cache_open(&tam->manifests);
    if (rc == 0)
        rc = open_database(tam);
    if (rc != 0) {
        tam_keycache_close(tam->keycache);
        tam->keycache = NULL;
        tam_manifest_cache_close(tam->manifests);
        tam->manifests = NULL;
        tam_keys_clear(&tam->keys);
        return rc;
    }
    if (created != NULL)
        *created = keys_made || token_made;
    return 0;
}

void teep_tam_close(teep_tam_t *tam)
{
    if (tam->pool != NULL)
        pool_close(tam->pool);
    tam->pool = NULL;
    tam_keycache_close(tam->keycache);
    tam->keycache = NULL;
    tam_manifest_cache_close(tam->manifests);
    tam->manifests = NULL;
    tam_keys_clear(&tam->keys);
    memset(tam->admin_token, 0, sizeof(tam->admin_token));
}

int64_t teep_tam_now(const teep_tam_t *tam)
{
    if (tam->cfg.clock != NULL)
        return tam->cfg.clock(tam->cfg.clock_ctx);
    return (int64_t)time(NULL);
}

int teep_tam_purge(teep_tam_t *tam)
{
    tam_store_t *s = tam_pool_get(tam);
    /* Keep expired tokens one more TTL so that a late answer is reported
     * as "expired" rather than "unknown". */
    int rc = tam_token_purge(s, teep_tam_now(tam) - tam->cfg.token_ttl);
    tam_pool_put(tam, s);
    return rc;
}

void teep_tam_reply_clear(teep_tam_reply_t *reply)
{
    free(reply->body);
    memset(reply, 0, sizeof(*reply));
}

void tam_reply_set(teep_tam_reply_t *reply, int status,
                   const char *content_type, uint8_t *body, size_t len)
{
    free(reply->body);
    reply->status = status;
    reply->body = body;
    reply->len = len;
    reply->content_type = content_type;
}

void tam_reply_refuse(teep_tam_reply_t *reply, int status, const char *fmt, ...)
{
    tam_reply_set(reply, status, NULL, NULL, 0);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reply->reason, sizeof(reply->reason), fmt, ap);
    va_end(ap);
    /* The HTTP front end logs each answer with its request; this line is
     * for in-process users. */
    tam_log(TEEP_LOG_DEBUG, "%d: %s", status, reply->reason);
}

void tam_hex(const uint8_t *p, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * len] = 0;
}

static int nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int tam_unhex(const char *hex, uint8_t *out, size_t cap, size_t *len)
{
    size_t n = strlen(hex);
    if (n % 2 != 0 || n / 2 > cap)
        return -EINVAL;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -EINVAL;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    *len = n / 2;
    return 0;
}
