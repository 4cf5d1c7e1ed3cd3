/*
 * hello_ua.c: the sample Untrusted Application.  The TEEP Agent has it
 * installed in the REE (a UA manifest); it reaches its TA only through the
 * host's UA gateway (plugins/host/tee_ua_gateway.h):
 *
 *   hello-ua [-t TYPE] SOCKET [MESSAGE]
 *
 * asks the hello TA of instance type TYPE (process, container, vm; the
 * deployment's --type, process by default: hello.h), prints its answer
 * and exits 0, or prints why not and exits 1.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "hello.h"

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static int send_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n > 0) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

static int recv_all(int fd, void *p, size_t n)
{
    uint8_t *b = p;
    while (n > 0) {
        ssize_t r = read(fd, b, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        b += r;
        n -= (size_t)r;
    }
    return 0;
}

static int usage(void)
{
    fprintf(stderr,
            "usage: hello-ua [-t process|container|vm] SOCKET [MESSAGE]\n");
    return 1;
}

int main(int argc, char **argv)
{
    const char *type = "process";
    int opt;
    while ((opt = getopt(argc, argv, "t:")) != -1) {
        if (opt != 't')
            return usage();
        type = optarg;
    }
    argc -= optind;
    argv += optind;
    if (argc < 1 || argc > 2)
        return usage();
    uint8_t ta_id[64];
    size_t ta_id_len = hello_ta_id_for(type, ta_id, sizeof(ta_id));
    if (ta_id_len == 0) {
        fprintf(stderr, "hello-ua: -t %s: not process, container or vm\n",
                type);
        return 1;
    }
    const char *sock = argv[0];
    const char *msg = argc == 2 ? argv[1] : "hello from the UA";
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(sock) >= sizeof(addr.sun_path)) {
        fprintf(stderr, "hello-ua: socket path too long\n");
        return 1;
    }
    strcpy(addr.sun_path, sock);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
        fprintf(stderr, "hello-ua: %s: %s\n", sock, strerror(errno));
        return 1;
    }
    uint8_t head[4];
    size_t len = strlen(msg);
    put_be32(head, (uint32_t)ta_id_len);
    int rc = send_all(fd, head, 4);
    rc = rc == 0 ? send_all(fd, ta_id, ta_id_len) : rc;
    put_be32(head, (uint32_t)len);
    rc = rc == 0 ? send_all(fd, head, 4) : rc;
    rc = rc == 0 ? send_all(fd, msg, len) : rc;
    uint8_t answer_head[8];
    rc = rc == 0 ? recv_all(fd, answer_head, 8) : rc;
    if (rc != 0) {
        fprintf(stderr, "hello-ua: the host closed the connection\n");
        close(fd);
        return 1;
    }
    int32_t status = (int32_t)((uint32_t)answer_head[0] << 24 |
                               (uint32_t)answer_head[1] << 16 |
                               (uint32_t)answer_head[2] << 8 | answer_head[3]);
    uint32_t n = (uint32_t)answer_head[4] << 24 |
                 (uint32_t)answer_head[5] << 16 |
                 (uint32_t)answer_head[6] << 8 | answer_head[7];
    char *answer = malloc((size_t)n + 1);
    if (status != 0 || answer == NULL || recv_all(fd, answer, n) != 0) {
        fprintf(stderr, "hello-ua: the TA did not answer: %s\n",
                status < 0 ? strerror(-status) : "connection lost");
        free(answer);
        close(fd);
        return 1;
    }
    answer[n] = 0;
    printf("%s\n", answer);
    free(answer);
    close(fd);
    return 0;
}
