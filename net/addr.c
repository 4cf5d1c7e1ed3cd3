/*
 * Addresses: "http[s]://host[:port]/path" URLs, "host:port" strings and
 * address literals (teep/http.h).
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

#include "teep/http.h"

/* Digits of a port, 1..65535 (0..65535 with allow_zero: a listener's
 * "any port"), exactly len of them. */
static int parse_port(const char *s, size_t len, bool allow_zero,
                      uint16_t *port)
{
    if (len == 0 || len > 5)
        return -EINVAL;
    unsigned v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -EINVAL;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if ((v == 0 && !allow_zero) || v > 65535)
        return -EINVAL;
    *port = (uint16_t)v;
    return 0;
}

static bool host_char(char c, bool bracketed)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
        (c >= 'A' && c <= 'Z') || c == '.' || c == '-' || c == '_')
        return true;
    return bracketed && (c == ':' || c == '%');
}

/* Split an authority s[0..len) into host and port. */
static int parse_authority(const char *s, size_t len, uint16_t default_port,
                           bool allow_zero,
                           char host_out[TEEP_HTTP_MAX_HOST + 1],
                           uint16_t *port)
{
    const char *host = s;
    size_t host_len;
    const char *rest;
    bool bracketed = len > 0 && s[0] == '[';
    if (bracketed) {
        const char *close = memchr(s, ']', len);
        if (close == NULL)
            return -EINVAL;
        host = s + 1;
        host_len = (size_t)(close - host);
        rest = close + 1;
    } else {
        const char *colon = memchr(s, ':', len);
        host_len = colon != NULL ? (size_t)(colon - s) : len;
        rest = s + host_len;
    }
    size_t rest_len = (size_t)(s + len - rest);
    if (host_len == 0 || host_len > TEEP_HTTP_MAX_HOST)
        return -EINVAL;
    for (size_t i = 0; i < host_len; i++)
        if (!host_char(host[i], bracketed))
            return -EINVAL;
    if (rest_len == 0) {
        if (default_port == 0)
            return -EINVAL;
        *port = default_port;
    } else if (rest[0] != ':' ||
               parse_port(rest + 1, rest_len - 1, allow_zero, port)) {
        return -EINVAL;
    }
    memcpy(host_out, host, host_len);
    host_out[host_len] = '\0';
    return 0;
}

int teep_http_hostport_parse(const char *s, uint16_t default_port,
                             char host_out[TEEP_HTTP_MAX_HOST + 1],
                             uint16_t *port)
{
    return parse_authority(s, strlen(s), default_port, true, host_out, port);
}

int teep_http_url_parse(const char *url, teep_http_url_t *out)
{
    static const uint8_t root[] = "/";
    memset(out, 0, sizeof(*out));
    const char *p;
    if (strncasecmp(url, "http://", 7) == 0) {
        p = url + 7;
    } else if (strncasecmp(url, "https://", 8) == 0) {
        p = url + 8;
        out->tls = true;
    } else {
        return TEEP_HTTP_E_URL;
    }
    size_t auth_len = strcspn(p, "/?#");
    if (memchr(p, '@', auth_len) != NULL ||
        parse_authority(p, auth_len, out->tls ? 443 : 80, false, out->host,
                        &out->port) < 0)
        return TEEP_HTTP_E_URL;
    const char *path = p + auth_len;
    size_t path_len = strlen(path);
    if (memchr(path, '#', path_len) != NULL || path[0] == '?')
        return TEEP_HTTP_E_URL;
    for (size_t i = 0; i < path_len; i++)
        if ((unsigned char)path[i] <= ' ' || path[i] == 0x7f)
            return TEEP_HTTP_E_URL;
    if (path_len == 0) {
        out->path.ptr = root;
        out->path.len = 1;
    } else {
        out->path.ptr = (const uint8_t *)path;
        out->path.len = path_len;
    }
    return 0;
}

int teep_http_addr_literal(const char *host, uint16_t port,
                           struct sockaddr_storage *out)
{
    memset(out, 0, sizeof(*out));
    struct sockaddr_in *v4 = (struct sockaddr_in *)out;
    if (uv_ip4_addr(host, port, v4) == 0 && strchr(host, ':') == NULL)
        return 0;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)out;
    if (strchr(host, ':') != NULL && uv_ip6_addr(host, port, v6) == 0)
        return 0;
    memset(out, 0, sizeof(*out));
    return -EINVAL;
}
