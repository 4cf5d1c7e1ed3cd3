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
    out->port = out->secure ? COAPS_DEFAULT_PORT : COAP_DEFAULT_PORT;
    const char *host = p, *host_end;
    if (*p == '[') {
        host = p + 1;
        host_end = strchr(host, ']');
        if (host_end == NULL)
            return -EINVAL;
        p = host_end + 1;
    } else {
        host_end = p + strcspn(p, ":/");
        p = host_end;
    }
    size_t host_len = (size_t)(host_end - host);
    if (host_len == 0 || host_len >= sizeof(out->host))
        return -EINVAL;
    memcpy(out->host, host, host_len);
    if (*p == ':') {
        char *end;
        errno = 0;
        unsigned long port = strtoul(p + 1, &end, 10);
        if (errno != 0 || end == p + 1 || port > 65535 ||
            (*end != '\0' && *end != '/'))
            return -EINVAL;
        out->port = (uint16_t)port;
        p = end;
    }
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
