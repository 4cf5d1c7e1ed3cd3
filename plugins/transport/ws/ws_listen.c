/*
 * ws_listen.c: the WebSocket transport's listening socket.  lws 4.1
 * cannot share a port between the broker's workers (it never sets
 * SO_REUSEPORT), so each instance makes its own listening socket, watches
 * it with a uv_poll_t on the worker's loop, accepts, and hands each new
 * connection to lws (lws_adopt_socket_vhost), which does TLS, the HTTP
 * upgrade and the rest.  Stopping is closing this socket: nothing new is
 * accepted while the connections drain.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ws_internal.h"

/* Connections accepted per readiness event, so that a flood of connects
 * cannot keep the loop from everything else. */
#define ACCEPT_BURST 64

static void on_acceptable(uv_poll_t *h, int status, int events)
{
    ws_instance_t *in = h->data;
    for (int i = 0; i < ACCEPT_BURST; i++) {
        int fd =
            accept4(in->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
                errno != ECONNABORTED)
                /* Out of descriptors or memory: the next event retries;
                 * counted so that it shows on /metrics. */
                ws__count(in, "accept_failures", 1);
            return;
        }
        /* On failure lws has closed fd itself. */
        if (lws_adopt_socket_vhost(in->vhost, fd) == NULL)
            ws__count(in, "accept_failures", 1);
    }
}

int ws_listen_start(ws_instance_t *in)
{
    const ws_options_t *o = &in->opt;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    socklen_t len;
    if (o->v6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(o->port);
        inet_pton(AF_INET6, o->host, &a->sin6_addr);
        len = sizeof(*a);
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_port = htons(o->port);
        inet_pton(AF_INET, o->host, &a->sin_addr);
        len = sizeof(*a);
    }
    int fd =
        socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    /* An IPv6 literal binds IPv6 only ("::" too): IPv4 is its own
     * listener. */
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 ||
        (o->v6 &&
         setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
        bind(fd, (const struct sockaddr *)&ss, len) < 0 ||
        listen(fd, SOMAXCONN) < 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    struct sockaddr_storage bound;
    socklen_t bl = sizeof(bound);
    getsockname(fd, (struct sockaddr *)&bound, &bl);
    in->bound_port = ntohs(o->v6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                 : ((struct sockaddr_in *)&bound)->sin_port);
    int rc = uv_poll_init(in->host->loop, &in->listen_poll, fd);
    if (rc != 0) {
        close(fd);
        return rc;
    }
    in->listen_fd = fd;
    in->listen_poll.data = in;
    in->listening = true;
    return uv_poll_start(&in->listen_poll, UV_READABLE, on_acceptable);
}

static void listener_closed(uv_handle_t *h)
{
    ws_instance_t *in = h->data;
    close(in->listen_fd);
    in->listen_fd = -1;
    in->listening = false;
    ws__maybe_finish(in);
}

void ws_listen_stop(ws_instance_t *in)
{
    if (!in->listening || uv_is_closing((uv_handle_t *)&in->listen_poll))
        return;
    uv_close((uv_handle_t *)&in->listen_poll, listener_closed);
}
