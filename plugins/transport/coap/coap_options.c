/*
 * coap_options.c: the CoAP listener's options (docs/transport-coap.md,
 * "Listener options"), parsed into a teep_coap_config_t.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coap_transport.h"

void teep_coap_config_default(teep_coap_config_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    strcpy(cfg->prefix, "tam");
    cfg->prefix_len = 3;
    cfg->content_format = TEEP_COAP_CONTENT_FORMAT;
    /* A QueryResponse with evidence is a few KiB; the large TEEP message,
     * the Update, travels the other way (Block2), not bounded here. */
    cfg->max_body = 64 * 1024;
    cfg->max_reassembly = 4 * 1024 * 1024;
    cfg->block_timeout_ms = 30000;
    cfg->max_pending = 4096;
    cfg->peer_max_pending = 64;
    cfg->peer_rate = 1000;
    cfg->peer_burst = 2000;
    cfg->peer_slots = 4096;
    cfg->max_sessions = 8192;
    cfg->session_timeout_s = 60;
    cfg->max_devices = 10000;
    cfg->dedup_slots = 1024;
    cfg->retry_after_s = 2;
    cfg->stop_timeout_ms = 5000;
}

void teep_coap_config_free(teep_coap_config_t *cfg)
{
    free(cfg->psk_key);
    free(cfg->psk_hint);
    free(cfg->cert);
    free(cfg->key);
    free(cfg->ca);
    cfg->psk_key = cfg->psk_hint = cfg->cert = cfg->key = cfg->ca = NULL;
}

static int bad(const teep_transport_host_t *host, const char *k, const char *v,
               const char *why)
{
    host->log(host->host_data, TEEP_LOG_ERROR, "option %s = %s: %s", k, v, why);
    return -EINVAL;
}

static int number(const char *v, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno != 0 || *end != '\0' || end == v || v[0] == '-' || n < min ||
        n > max)
        return -EINVAL;
    *out = n;
    return 0;
}

/* Numeric options: name, where, bounds and the field's width. */
typedef struct numeric {
    const char *name;
    size_t offset;
    uint64_t min, max;
    size_t width;
} numeric_t;

#define NUM(field, lo, hi)                                                     \
    {                                                                          \
#field, offsetof(teep_coap_config_t, field), lo, hi,                   \
            sizeof(((teep_coap_config_t *)0)->field)                           \
    }

static const numeric_t numerics[] = {
    NUM(content_format, 0, 65535),
    NUM(max_body, 16, 1u << 30),
    NUM(max_reassembly, 16, (uint64_t)1 << 34),
    NUM(block_timeout_ms, 100, 3600000),
    NUM(max_pending, 1, 1000000),
    NUM(peer_max_pending, 1, 1000000),
    NUM(peer_rate, 0, 1000000),
    NUM(peer_burst, 1, 1000000),
    NUM(peer_slots, 16, 1u << 24),
    NUM(max_sessions, 1, 1000000),
    NUM(session_timeout_s, 1, 86400),
    NUM(max_devices, 0, 10000000),
    NUM(dedup_slots, 1, 1u << 24),
    NUM(retry_after_s, 1, 86400),
    NUM(stop_timeout_ms, 0, 600000),
};

static void store(teep_coap_config_t *cfg, const numeric_t *n, uint64_t x)
{
    char *field = (char *)cfg + n->offset;
    switch (n->width) {
    case sizeof(uint16_t): *(uint16_t *)(void *)field = (uint16_t)x; break;
    case sizeof(uint32_t): *(uint32_t *)(void *)field = (uint32_t)x; break;
    default: *(uint64_t *)(void *)field = x; break;
    }
}

/* Options are borrowed for the create call: keep copies. */
static int set_string(char **dst, const char *v)
{
    char *copy = strdup(v);
    if (copy == NULL)
        return -ENOMEM;
    free(*dst);
    *dst = copy;
    return 0;
}

int teep_coap_config_apply(teep_coap_config_t *cfg,
                           const teep_transport_host_t *host,
                           const teep_transport_option_t *o, size_t n)
{
    _Static_assert(sizeof(size_t) == sizeof(uint64_t),
                   "size_t options are stored as 64 bits");
    for (size_t i = 0; i < n; i++) {
        const char *k = o[i].key, *v = o[i].value;
        const numeric_t *num = NULL;
        for (size_t j = 0; j < sizeof(numerics) / sizeof(numerics[0]); j++)
            if (strcmp(k, numerics[j].name) == 0)
                num = &numerics[j];
        if (num != NULL) {
            uint64_t x;
            if (number(v, num->min, num->max, &x) < 0)
                return bad(host, k, v, "not a number in range");
            store(cfg, num, x);
            continue;
        }
        int rc = 0;
        if (strcmp(k, "path_prefix") == 0) {
            const char *p = v[0] == '/' ? v + 1 : v;
            size_t len = strlen(p);
            if (len == 0 || len >= sizeof(cfg->prefix) || p[len - 1] == '/')
                return bad(host, k, v, "a path such as /tam");
            memcpy(cfg->prefix, p, len + 1);
            cfg->prefix_len = len;
        } else if (strcmp(k, "psk_key") == 0) {
            if (strlen(v) == 0 || strlen(v) > 64)
                return bad(host, k, v, "1 to 64 bytes");
            rc = set_string(&cfg->psk_key, v);
        } else if (strcmp(k, "psk_hint") == 0) {
            rc = set_string(&cfg->psk_hint, v);
        } else if (strcmp(k, "dtls_cert") == 0 || strcmp(k, "tls_cert") == 0) {
            rc = set_string(&cfg->cert, v);
        } else if (strcmp(k, "dtls_key") == 0 || strcmp(k, "tls_key") == 0) {
            rc = set_string(&cfg->key, v);
        } else if (strcmp(k, "dtls_ca") == 0 || strcmp(k, "tls_ca") == 0) {
            rc = set_string(&cfg->ca, v);
        } else {
            return bad(host, k, v, "unknown option");
        }
        if (rc < 0)
            return rc;
    }
    return 0;
}
