/*
 * authority.c: "host[:port]" and "[IPv6][:port]" (teep/authority.h).
 */
#include <errno.h>
#include <string.h>

#include "teep/authority.h"

static bool host_char(char c, bool bracketed)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
        (c >= 'A' && c <= 'Z') || c == '.' || c == '-' || c == '_')
        return true;
    return bracketed && (c == ':' || c == '%');
}

/* The digits after ':', exactly len of them.  The value is bounded as it
 * is read, so that any number of leading zeros is fine and no count of
 * digits overflows. */
static int parse_port(const char *s, size_t len, bool allow_zero,
                      uint16_t *port)
{
    if (len == 0)
        return -EINVAL;
    unsigned v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -EINVAL;
        v = v * 10 + (unsigned)(s[i] - '0');
        if (v > 65535) {
            /* Still a syntax error when a later byte is not a digit. */
            for (i++; i < len; i++)
                if (s[i] < '0' || s[i] > '9')
                    return -EINVAL;
            return -ERANGE;
        }
    }
    if (v == 0 && !allow_zero)
        return -ERANGE;
    *port = (uint16_t)v;
    return 0;
}

static int split(const char *s, size_t len, uint16_t default_port,
                 unsigned flags, teep_authority_t *out)
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
        if (memchr(host, ':', host_len) == NULL)
            return -EINVAL; /* "[name]" or "[1.2.3.4]": not an IP-literal */
    } else {
        const char *colon = memchr(s, ':', len);
        host_len = colon != NULL ? (size_t)(colon - s) : len;
        rest = s + host_len;
    }
    if (host_len == 0)
        return -EINVAL;
    for (size_t i = 0; i < host_len; i++)
        if (!host_char(host[i], bracketed))
            return -EINVAL;
    /* After the characters: a bad byte beyond the limit is reported as
     * what it is, not as a length. */
    if (host_len > TEEP_AUTHORITY_MAX_HOST)
        return -ENAMETOOLONG;
    size_t rest_len = (size_t)(s + len - rest);
    if (rest_len == 0) {
        if (default_port == 0)
            return -EINVAL;
        out->port = default_port;
    } else {
        if (rest[0] != ':')
            return -EINVAL;
        int rc =
            parse_port(rest + 1, rest_len - 1,
                       (flags & TEEP_AUTHORITY_PORT_ZERO) != 0, &out->port);
        if (rc < 0)
            return rc;
        out->has_port = true;
    }
    memcpy(out->host, host, host_len);
    out->host[host_len] = '\0';
    out->host_len = host_len;
    out->bracketed = bracketed;
    return 0;
}

int teep_authority_parse(const char *s, size_t len, uint16_t default_port,
                         unsigned flags, teep_authority_t *out)
{
    memset(out, 0, sizeof(*out));
    int rc = s != NULL ? split(s, len, default_port, flags, out) : -EINVAL;
    if (rc < 0)
        memset(out, 0, sizeof(*out));
    return rc;
}

size_t teep_authority_span(const char *s)
{
    return strcspn(s, "/?#");
}
