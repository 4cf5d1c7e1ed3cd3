/*
 * coap_listen.c: the listener URI, and the port check libcoap does not
 * do (coap_transport.h, teep_coap_probe_port).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "coap_transport.h"
#include "teep/authority.h"

int teep_coap_uri_parse(const char *uri, teep_coap_uri_t *out)
{
    memset(out, 0, sizeof(*out));
    const char *p;
    if (strncasecmp(uri, "coap://", 7) == 0) {
        p = uri + 7;
    } else if (strncasecmp(uri, "coaps://", 8) == 0) {
        p = uri + 8;
        out->secure = true;
    } else {
        return -EINVAL;
    }
    size_t auth_len = teep_authority_span(p);
    teep_authority_t a;
    if (teep_authority_parse(
            p, auth_len, out->secure ? COAPS_DEFAULT_PORT : COAP_DEFAULT_PORT,
            TEEP_AUTHORITY_PORT_ZERO, &a) < 0 ||
        a.host_len >= sizeof(out->host))
        return -EINVAL;
    memcpy(out->host, a.host, a.host_len + 1);
    out->port = a.port;
    p += auth_len;
    if (*p == '/') {
        p++;
        size_t len = strlen(p);
        while (len > 0 && p[len - 1] == '/')
            len--;
        if (len >= sizeof(out->path) || strpbrk(p, "?#") != NULL)
            return -EINVAL;
        memcpy(out->path, p, len);
    } else if (*p != '\0') {
        return -EINVAL;
    }
    coap_address_t check;
    return teep_coap_uri_address(out, &check);
}

int teep_coap_uri_address(const teep_coap_uri_t *u, coap_address_t *addr)
{
    coap_address_init(addr);
    if (inet_pton(AF_INET, u->host, &addr->addr.sin.sin_addr) == 1) {
        addr->addr.sin.sin_family = AF_INET;
        addr->addr.sin.sin_port = htons(u->port);
        addr->size = sizeof(addr->addr.sin);
        return 0;
    }
    if (inet_pton(AF_INET6, u->host, &addr->addr.sin6.sin6_addr) == 1) {
        addr->addr.sin6.sin6_family = AF_INET6;
        addr->addr.sin6.sin6_port = htons(u->port);
        addr->size = sizeof(addr->addr.sin6);
        return 0;
    }
    return -EINVAL;
}

int teep_coap_probe_port(coap_address_t *addr)
{
    int family = addr->addr.sa.sa_family;
    int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int rc = 0;
    if (bind(fd, &addr->addr.sa, addr->size) < 0) {
        rc = -errno;
    } else {
        socklen_t len = addr->size;
        if (getsockname(fd, &addr->addr.sa, &len) < 0)
            rc = -errno;
    }
    close(fd);
    return rc;
}
