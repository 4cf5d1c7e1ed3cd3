/*
 * teep-test-client: what the broker's integration tests need beyond curl,
 * on plain blocking sockets to 127.0.0.1 with a deadline on everything.
 *
 *   flood PORT N HOLD_MS
 *       open N connections, send half a request head on each, hold them
 *       HOLD_MS, then report how many the server had answered or closed
 *       ("open N closed_by_server M").
 *   sequence PORT PATH BODY_FILE COUNT PAUSE_MS [PID]
 *       COUNT POSTs one after another on one keep-alive connection,
 *       PAUSE_MS apart; after the first answer, send SIGHUP to PID when
 *       given.  Prints each status and the first 8 bytes of each body in
 *       hex ("200 d28443a1...").  BODY_FILE "-" posts an empty body.
 *   pipeline PORT PATH BODY_FILE N
 *       N POSTs in one write on one connection, then the N answers, in
 *       order ("200", ...).
 * Exit status 0, or 1 with a message when a connection or read failed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DEADLINE_MS 10000

static int connect_to(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* A read with the deadline: bytes read, 0 at EOF, -1 on error/timeout. */
static ssize_t read_some(int fd, char *buf, size_t cap)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, DEADLINE_MS) <= 0)
        return -1;
    return read(fd, buf, cap);
}

/* The reader's buffer: responses may arrive together (pipelining). */
typedef struct reader {
    int fd;
    char buf[1 << 16];
    size_t len;
} reader_t;

/* One response: its status and body.  Returns 0 or -1. */
static int read_response(reader_t *r, int *status, char *body, size_t cap,
                         size_t *body_len)
{
    char *end;
    while ((end = memmem(r->buf, r->len, "\r\n\r\n", 4)) == NULL) {
        ssize_t n = read_some(r->fd, r->buf + r->len, sizeof(r->buf) - r->len);
        if (n <= 0)
            return -1;
        r->len += (size_t)n;
    }
    size_t head = (size_t)(end - r->buf) + 4;
    if (sscanf(r->buf, "HTTP/1.%*d %d", status) != 1)
        return -1;
    size_t clen = 0;
    for (char *p = r->buf; p < end; p++)
        if (strncasecmp(p, "\r\nContent-Length:", 17) == 0)
            clen = strtoul(p + 17, NULL, 10);
    while (r->len < head + clen) {
        ssize_t n = read_some(r->fd, r->buf + r->len, sizeof(r->buf) - r->len);
        if (n <= 0)
            return -1;
        r->len += (size_t)n;
    }
    *body_len = clen < cap ? clen : cap;
    memcpy(body, r->buf + head, *body_len);
    memmove(r->buf, r->buf + head + clen, r->len - head - clen);
    r->len -= head + clen;
    return 0;
}

static char *load(const char *path, size_t *len)
{
    *len = 0;
    if (strcmp(path, "-") == 0)
        return calloc(1, 1);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *b = malloc(1 << 20);
    *len = b != NULL ? fread(b, 1, 1 << 20, f) : 0;
    fclose(f);
    return b;
}

static size_t request(char *out, size_t cap, const char *path, size_t len)
{
    return (size_t)snprintf(out, cap,
                            "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                            "Accept: application/teep+cbor\r\n"
                            "Content-Type: application/teep+cbor\r\n"
                            "Content-Length: %zu\r\n\r\n",
                            path, len);
}

static void print_answer(int status, const char *body, size_t n)
{
    printf("%d ", status);
    for (size_t i = 0; i < n && i < 8; i++)
        printf("%02x", (unsigned char)body[i]);
    printf("\n");
    fflush(stdout);
}

static int cmd_sequence(int port, const char *path, const char *file, int count,
                        int pause_ms, int pid)
{
    size_t blen;
    char *body = load(file, &blen);
    static reader_t r;
    r.fd = connect_to(port);
    if (body == NULL || r.fd < 0) {
        fprintf(stderr, "test-client: cannot connect or read %s\n", file);
        return 1;
    }
    for (int i = 0; i < count; i++) {
        char head[512], resp[4096];
        size_t hl = request(head, sizeof(head), path, blen);
        int status;
        size_t n;
        if (write_all(r.fd, head, hl) < 0 || write_all(r.fd, body, blen) < 0 ||
            read_response(&r, &status, resp, sizeof(resp), &n) < 0) {
            fprintf(stderr,
                    "test-client: request %d: the connection "
                    "failed\n",
                    i + 1);
            return 1;
        }
        print_answer(status, resp, n);
        if (i == 0 && pid > 0)
            kill(pid, SIGHUP);
        struct timespec ts = {pause_ms / 1000, (pause_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    printf("same connection\n");
    close(r.fd);
    free(body);
    return 0;
}

static int cmd_pipeline(int port, const char *path, const char *file, int n)
{
    size_t blen;
    char *body = load(file, &blen);
    static reader_t r;
    r.fd = connect_to(port);
    if (body == NULL || r.fd < 0)
        return 1;
    size_t cap = (size_t)n * (blen + 512);
    char *all = malloc(cap);
    size_t len = 0;
    for (int i = 0; i < n; i++) {
        len += request(all + len, cap - len, path, blen);
        memcpy(all + len, body, blen);
        len += blen;
    }
    if (write_all(r.fd, all, len) < 0)
        return 1;
    for (int i = 0; i < n; i++) {
        char resp[4096];
        int status;
        size_t bl;
        if (read_response(&r, &status, resp, sizeof(resp), &bl) < 0) {
            fprintf(stderr, "test-client: answer %d missing\n", i + 1);
            return 1;
        }
        print_answer(status, resp, bl);
    }
    close(r.fd);
    free(all);
    free(body);
    return 0;
}

static int cmd_flood(int port, int n, int hold_ms)
{
    int *fds = calloc((size_t)n, sizeof(int));
    int open = 0;
    static const char half[] = "POST /tam HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    for (int i = 0; i < n; i++) {
        fds[i] = connect_to(port);
        if (fds[i] >= 0 && write_all(fds[i], half, sizeof(half) - 1) == 0)
            open++;
    }
    struct timespec ts = {hold_ms / 1000, (hold_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    int closed = 0;
    for (int i = 0; i < n; i++) {
        if (fds[i] < 0)
            continue;
        struct pollfd p = {.fd = fds[i], .events = POLLIN};
        if (poll(&p, 1, 0) > 0)
            closed++; /* an answer (408) or EOF: the server ended it */
        close(fds[i]);
    }
    printf("open %d closed_by_server %d\n", open, closed);
    free(fds);
    return 0;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc >= 5 && strcmp(argv[1], "flood") == 0)
        return cmd_flood(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
    if (argc >= 7 && strcmp(argv[1], "sequence") == 0)
        return cmd_sequence(atoi(argv[2]), argv[3], argv[4], atoi(argv[5]),
                            atoi(argv[6]), argc > 7 ? atoi(argv[7]) : 0);
    if (argc >= 6 && strcmp(argv[1], "pipeline") == 0)
        return cmd_pipeline(atoi(argv[2]), argv[3], argv[4], atoi(argv[5]));
    fprintf(stderr, "usage: teep-test-client flood|sequence|pipeline ...\n");
    return 2;
}
