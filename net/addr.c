/*
 * Addresses: "http[s]://host[:port]/path" URLs, "host:port" strings and
 * address literals (teep/http.h).
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

#include "teep/authority.h"
#include "teep/http.h"

_Static_assert(TEEP_HTTP_MAX_HOST == TEEP_AUTHORITY_MAX_HOST,
               "a URL's host is an authority's host");

/* host_out and *port from the authority s[0..len): TEEP_HTTP_MAX_HOST is
 * teep/authority.h's limit, so any host it returns fits. */
static int parse_authority(const char *s, size_t len, uint16_t default_port,
                           unsigned flags,
                           char host_out[TEEP_HTTP_MAX_HOST + 1],
                           uint16_t *port)
{
    teep_authority_t a;
    if (teep_authority_parse(s, len, default_port, flags, &a) < 0)
        return -EINVAL;
    memcpy(host_out, a.host, a.host_len + 1);
    *port = a.port;
    return 0;
}

int teep_http_hostport_parse(const char *s, uint16_t default_port,
                             char host_out[TEEP_HTTP_MAX_HOST + 1],
                             uint16_t *port)
{
    return parse_authority(s, strlen(s), default_port, TEEP_AUTHORITY_PORT_ZERO,
                           host_out, port);
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
    size_t auth_len = teep_authority_span(p);
    if (parse_authority(p, auth_len, out->tls ? 443 : 80, 0, out->host,
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
