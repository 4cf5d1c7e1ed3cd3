/*
 * Fuzz the authority splitter (net/authority.c, teep/authority.h) and the
 * URL parser on it (teep_http_url_parse): the first byte picks the flags
 * and the default port, the rest is the authority, read through its
 * length only (a copy of exactly that size, so ASan sees any byte read
 * beyond it).  Checks the contract on every success: a NUL-terminated
 * host of the stated length and characters, a port the flags allow, and
 * a round trip: the authority written back parses to the same result.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "teep/authority.h"
#include "teep/http.h"

static bool host_ok(const teep_authority_t *a)
{
    if (a->host_len == 0 || a->host_len > TEEP_AUTHORITY_MAX_HOST ||
        a->host[a->host_len] != '\0' || strlen(a->host) != a->host_len)
        return false;
    bool colon = false;
    for (size_t i = 0; i < a->host_len; i++) {
        char c = a->host[i];
        if (c == ':' || c == '%') {
            colon |= c == ':';
            if (!a->bracketed)
                return false;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                     (c >= 'A' && c <= 'Z') || c == '.' || c == '-' ||
                     c == '_')) {
            return false;
        }
    }
    return !a->bracketed || colon;
}

static void check(const teep_authority_t *a, uint16_t default_port,
                  unsigned flags)
{
    if (!host_ok(a))
        abort();
    if (!a->has_port && (default_port == 0 || a->port != default_port))
        abort();
    if (a->has_port && a->port == 0 && !(flags & TEEP_AUTHORITY_PORT_ZERO))
        abort();
    char again[TEEP_AUTHORITY_MAX_HOST + 16];
    int n = snprintf(again, sizeof(again), a->bracketed ? "[%s]:%u" : "%s:%u",
                     a->host, (unsigned)a->port);
    if (n < 0 || (size_t)n >= sizeof(again))
        abort();
    teep_authority_t b;
    if (teep_authority_parse(again, (size_t)n, 0, flags, &b) != 0 ||
        b.host_len != a->host_len || memcmp(b.host, a->host, a->host_len) ||
        b.port != a->port || !b.has_port || b.bracketed != a->bracketed)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    unsigned flags = data[0] & 1 ? TEEP_AUTHORITY_PORT_ZERO : 0;
    uint16_t default_port = data[0] & 2 ? 0 : (uint16_t)(data[0] >> 2);
    size_t len = size - 1;
    char *s = malloc(len + 1);
    if (s == NULL)
        return 0;
    memcpy(s, data + 1, len);

    teep_authority_t a;
    int rc =
        teep_authority_parse(len > 0 ? s : NULL, len, default_port, flags, &a);
    if (rc == 0)
        check(&a, default_port, flags);
    else if (rc != -EINVAL && rc != -ERANGE && rc != -ENAMETOOLONG)
        abort();

    /* The same bytes as the rest of a URL (NUL-terminated now). */
    s[len] = '\0';
    char *url = malloc(len + 8);
    if (url != NULL) {
        memcpy(url, "http://", 7);
        memcpy(url + 7, s, len + 1);
        teep_http_url_t u;
        if (teep_http_url_parse(url, &u) == 0 &&
            (u.port == 0 || u.host[0] == '\0'))
            abort();
        free(url);
    }
    free(s);
    return 0;
}
