/*
 * ot_wire.c: sockets whose bytes are counted where they are written and
 * read, so the comparison counts what really crosses them (ot.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ot.h"

int ot_send_all(int fd, const void *p, size_t n, ot_count_t *count)
{
    const uint8_t *b = p;
    while (n > 0) {
        ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        if (w == 0)
            return -EPIPE;
        if (count != NULL)
            count->sent += (uint64_t)w;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

int ot_recv_all(int fd, void *p, size_t n, ot_count_t *count)
{
    uint8_t *b = p;
    while (n > 0) {
        ssize_t r = recv(fd, b, n, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        if (r == 0)
            return -EPIPE;
        if (count != NULL)
            count->received += (uint64_t)r;
        b += r;
        n -= (size_t)r;
    }
    return 0;
}

int ot_send_msg(int fd, const void *p, size_t n, ot_count_t *count)
{
    if (n > UINT32_MAX)
        return -EMSGSIZE;
    uint8_t head[4];
    ot_put_be32(head, (uint32_t)n);
    int rc = ot_send_all(fd, head, 4, count);
    return rc == 0 ? ot_send_all(fd, p, n, count) : rc;
}

int ot_recv_msg(int fd, uint8_t **out, size_t *n, size_t max, ot_count_t *count)
{
    uint8_t head[4];
    *out = NULL;
    int rc = ot_recv_all(fd, head, 4, count);
    if (rc != 0)
        return rc;
    *n = ot_get_be32(head);
    if (*n > max)
        return -EMSGSIZE;
    *out = malloc(*n > 0 ? *n : 1);
    if (*out == NULL)
        return -ENOMEM;
    rc = ot_recv_all(fd, *out, *n, count);
    if (rc != 0) {
        free(*out);
        *out = NULL;
    }
    return rc;
}

static int nodelay(int fd)
{
    /* Small request/answer exchanges: Nagle would add 40 ms waits that
     * belong to neither protocol. */
    int one = 1;
    return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

int ot_tcp_listen(uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons(*port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 4) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

int ot_tcp_connect(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons(port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    nodelay(fd);
    return fd;
}

int ot_tcp_accept(int listener)
{
    int fd;
    do
        fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return -errno;
    nodelay(fd);
    return fd;
}
