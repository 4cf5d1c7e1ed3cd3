/*
 * ws_options.c: a WebSocket listener's URI and options (ws_internal.h,
 * docs/transport-ws.md lists them with their defaults).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "teep/authority.h"
#include "ws_internal.h"

static void defaults(ws_options_t *o)
{
    *o = (ws_options_t){
        .rx = {.max_message = 256 * 1024, .max_fragments = 256},
        .max_connections = 10000,
        .max_connections_per_peer = 1000,
        .max_assembling = 32u << 20,
        .max_handshakes = 128,
        .handshake_timeout_s = 10,
        .ping_interval_s = 60,
        /* lws keeps this much per connection for as long as it is open;
         * a chunk this size is one receive callback, so a small buffer
         * costs callbacks, not system calls (lws reads the socket into
         * its per-thread buffer). */
        .rx_buffer_size = 128,
    };
    strcpy(o->prefix, "/tam");
}

static int bad(const teep_transport_host_t *h, const char *what,
               const char *value, const char *why)
{
    h->log(h->host_data, TEEP_LOG_ERROR, "%s %s: %s", what, value, why);
    return -EINVAL;
}

/* "ws[s]://" HOST ":" PORT [PATH]: HOST an address literal (IPv6 in
 * brackets), PORT 0..65535 (0: ephemeral), PATH the route prefix. */
static int parse_uri(ws_options_t *o, const teep_transport_host_t *h,
                     const char *uri)
{
    const char *p;
    if (strncmp(uri, "ws://", 5) == 0) {
        p = uri + 5;
    } else if (strncmp(uri, "wss://", 6) == 0) {
        o->tls = true;
        p = uri + 6;
    } else {
        return bad(h, "listener", uri, "not a ws:// or wss:// URI");
    }
    size_t auth_len = teep_authority_span(p);
    teep_authority_t a;
    int rc = teep_authority_parse(p, auth_len, 0, TEEP_AUTHORITY_PORT_ZERO, &a);
    if (rc == -ERANGE)
        return bad(h, "listener", uri, "port out of range");
    if (rc < 0)
        return bad(h, "listener", uri, "not HOST:PORT ([IPv6]:PORT)");
    if (a.host_len >= sizeof(o->host))
        return bad(h, "listener", uri, "host too long");
    memcpy(o->host, a.host, a.host_len + 1);
    o->v6 = a.bracketed;
    uint8_t addr[16];
    if (inet_pton(o->v6 ? AF_INET6 : AF_INET, o->host, addr) != 1)
        return bad(h, "listener", uri, "the host must be an address");
    o->port = a.port;
    const char *end = p + auth_len; /* at '/', '?', '#' or the end */
    if (*end != '\0' && *end != '/')
        return bad(h, "listener", uri, "bad path");
    if (*end == '/' && end[1] != '\0') {
        if (strlen(end) >= sizeof(o->prefix) || strpbrk(end, "?#") != NULL)
            return bad(h, "listener", uri, "bad path");
        strcpy(o->prefix, end);
    }
    return 0;
}

static int number(const char *v, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || n < min || n > max)
        return -EINVAL;
    *out = n;
    return 0;
}

/* A numeric option: name, where it goes, its range. */
typedef struct numeric {
    const char *name;
    size_t offset;
    size_t width; /* sizeof the field */
    uint64_t min, max;
} numeric_t;

#define NUM(n, field, lo, hi)                                                  \
    {                                                                          \
        n, offsetof(ws_options_t, field), sizeof(((ws_options_t *)0)->field),  \
            lo, hi                                                             \
    }

static const numeric_t numerics[] = {
    NUM("max_message", rx.max_message, 1, 1u << 30),
    NUM("max_fragments", rx.max_fragments, 1, 1u << 20),
    NUM("max_connections", max_connections, 1, 1000000),
    NUM("max_connections_per_peer", max_connections_per_peer, 1, 1000000),
    NUM("max_assembling", max_assembling, 1024, 1ull << 34),
    NUM("max_handshakes", max_handshakes, 1, 65535),
    NUM("handshake_timeout_s", handshake_timeout_s, 1, 3600),
    NUM("ping_interval_s", ping_interval_s, 0, 32767),
    NUM("rx_buffer_size", rx_buffer_size, 16, 1u << 20),
};

static int set_numeric(ws_options_t *o, const numeric_t *n, uint64_t v)
{
    char *field = (char *)o + n->offset;
    switch (n->width) {
    case sizeof(uint32_t): *(uint32_t *)(void *)field = (uint32_t)v; break;
    case sizeof(uint64_t): *(uint64_t *)(void *)field = v; break;
    default: return -EINVAL;
    }
    return 0;
}

static int set_text(const teep_transport_host_t *h, const char *key,
                    const char *v, char *field, size_t cap)
{
    if (v[0] == '\0' || strlen(v) >= cap)
        return bad(h, "option", key, "empty or too long");
    strcpy(field, v);
    return 0;
}

int ws_options_parse(ws_options_t *o, const teep_transport_host_t *h,
                     const char *listen_uri,
                     const teep_transport_option_t *options, size_t n)
{
    defaults(o);
    int rc = parse_uri(o, h, listen_uri);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const char *k = options[i].key, *v = options[i].value;
        const numeric_t *num = NULL;
        for (size_t j = 0; j < sizeof(numerics) / sizeof(numerics[0]); j++)
            if (strcmp(k, numerics[j].name) == 0)
                num = &numerics[j];
        uint64_t x;
        if (num != NULL)
            rc = number(v, num->min, num->max, &x) == 0
                     ? set_numeric(o, num, x)
                     : bad(h, "option", k, "not a number in range");
        else if (strcmp(k, "path_prefix") == 0)
            rc = v[0] == '/' && strpbrk(v, "?#") == NULL
                     ? set_text(h, k, v, o->prefix, sizeof(o->prefix))
                     : bad(h, "option", k, "a path starting with '/'");
        else if (strcmp(k, "tls_cert") == 0)
            rc = set_text(h, k, v, o->tls_cert, sizeof(o->tls_cert));
        else if (strcmp(k, "tls_key") == 0)
            rc = set_text(h, k, v, o->tls_key, sizeof(o->tls_key));
        else
            rc = bad(h, "option", k, "unknown option");
    }
    if (rc == 0 && o->tls != (o->tls_cert[0] != '\0' && o->tls_key[0] != '\0'))
        rc = bad(h, "listener", listen_uri,
                 "wss needs tls_cert and tls_key, ws takes neither");
    /* The prefix without a trailing '/', so /tam/ and /tam match alike. */
    o->prefix_len = strlen(o->prefix);
    while (o->prefix_len > 1 && o->prefix[o->prefix_len - 1] == '/')
        o->prefix[--o->prefix_len] = '\0';
    return rc;
}
