/*
 * coap-load: the CoAP side of tests/coap/bench_coap.sh.  Raw CoAP over
 * UDP on libuv, from --sessions source ports (one CoAP session each at
 * the server), one exchange outstanding per session (closed loop):
 *
 *   CON POST <path> [Content-Format 65060, --body]  ->  empty ACK,
 *   then the CON 2.04 separate response             ->  our empty ACK.
 *
 * Latency runs from the request leaving to the 2.04 arriving; a request
 * unanswered for 2 s (ACK_TIMEOUT) is sent again, counted as a
 * retransmission.  Latencies go into a 1 us histogram up to 1 s.  Output,
 * one line like teep-bench-relay's: "rps=... p50_us=... p99_us=...
 * p999_us=... max_us=... ok=... errors=... retransmits=...".
 *
 * --hold: every session does one exchange, then the program prints
 * "held N" and sleeps --seconds (the server keeps N idle sessions: the
 * script reads its memory meanwhile).
 *
 * Usage: coap-load --port P [--path tam] [--body FILE] [--sessions N]
 *          [--seconds S] [--warmup S] [--hold]
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#define HIST_US       1000000
#define RETRANSMIT_MS 2000

typedef struct session {
    uv_udp_t udp;
    struct load *load;
    uint16_t mid;
    uint8_t token[4];
    uint64_t sent_ns;
    uint64_t sent_ms;
    bool waiting;
} session_t;

typedef struct load {
    uv_loop_t *loop;
    struct sockaddr_in to;
    const char *path;
    uint8_t *body;
    size_t body_len;
    session_t *sessions;
    unsigned n;
    bool hold;
    bool measuring;
    bool stopping;
    unsigned held;
    uint32_t *hist;
    uint64_t ok, errors, retransmits, max_us;
    uint8_t request[2048];
} load_t;

static size_t encode_request(load_t *l, session_t *s, uint8_t *out)
{
    size_t n = 0;
    out[n++] = 0x40 | 4; /* CON, 4-byte token */
    out[n++] = 0x02;     /* POST */
    out[n++] = (uint8_t)(s->mid >> 8);
    out[n++] = (uint8_t)s->mid;
    memcpy(out + n, s->token, 4);
    n += 4;
    size_t pl = strlen(l->path);
    out[n++] = (uint8_t)(11 << 4 | pl); /* Uri-Path, short */
    memcpy(out + n, l->path, pl);
    n += pl;
    if (l->body_len > 0) {
        out[n++] = 1 << 4 | 2; /* Content-Format (12 = 11 + 1): 65060 */
        out[n++] = 0xfe;
        out[n++] = 0x24;
        out[n++] = 0xff;
        memcpy(out + n, l->body, l->body_len);
        n += l->body_len;
    }
    return n;
}

static void send_request(session_t *s, bool again)
{
    load_t *l = s->load;
    uint8_t buf[2048];
    if (!again) {
        s->mid++;
        s->token[3]++;
        s->sent_ns = uv_hrtime();
    }
    size_t n = encode_request(l, s, buf);
    uv_buf_t b = uv_buf_init((char *)buf, (unsigned)n);
    uv_udp_try_send(&s->udp, &b, 1, (const struct sockaddr *)&l->to);
    s->sent_ms = uv_now(l->loop);
    s->waiting = true;
}

static void send_ack(session_t *s, const uint8_t *d)
{
    uint8_t ack[4] = {0x60, 0x00, d[2], d[3]};
    uv_buf_t b = uv_buf_init((char *)ack, 4);
    uv_udp_try_send(&s->udp, &b, 1, (const struct sockaddr *)&s->load->to);
}

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    static char space[65536];
    (void)h;
    (void)hint;
    *buf = uv_buf_init(space, sizeof(space));
}

static void done_exchange(session_t *s, bool ok)
{
    load_t *l = s->load;
    s->waiting = false;
    if (l->measuring) {
        uint64_t us = (uv_hrtime() - s->sent_ns) / 1000;
        if (us > l->max_us)
            l->max_us = us;
        l->hist[us < HIST_US ? us : HIST_US - 1]++;
        if (ok)
            l->ok++;
        else
            l->errors++;
    }
    if (l->hold) {
        l->held++;
        return;
    }
    if (!l->stopping)
        send_request(s, false);
}

static void recv_cb(uv_udp_t *u, ssize_t n, const uv_buf_t *buf,
                    const struct sockaddr *from, unsigned flags)
{
    (void)from;
    (void)flags;
    session_t *s = u->data;
    const uint8_t *d = (const uint8_t *)buf->base;
    if (n < 4)
        return;
    int type = d[0] >> 4 & 3, tkl = d[0] & 15, code = d[1];
    if (code == 0)
        return; /* the empty ACK: the answer follows */
    if (type == 0)
        send_ack(s, d);
    if (!s->waiting || tkl != 4 || n < 8 || memcmp(d + 4, s->token, 4) != 0)
        return; /* a retransmitted answer we already have */
    done_exchange(s, code == (2 << 5 | 4));
}

static void on_tick(uv_timer_t *t)
{
    load_t *l = t->data;
    uint64_t now = uv_now(l->loop);
    for (unsigned i = 0; i < l->n; i++) {
        session_t *s = &l->sessions[i];
        if (s->waiting && now - s->sent_ms >= RETRANSMIT_MS) {
            l->retransmits++;
            send_request(s, true);
        }
    }
}

static void on_phase(uv_timer_t *t)
{
    load_t *l = t->data;
    if (!l->measuring && !l->stopping) {
        l->measuring = true;
        return;
    }
    l->measuring = false;
    l->stopping = true;
    uv_stop(l->loop);
}

static uint64_t quantile(const load_t *l, double q)
{
    uint64_t total = l->ok + l->errors, seen = 0;
    uint64_t want = (uint64_t)(q * (double)total);
    for (unsigned i = 0; i < HIST_US; i++) {
        seen += l->hist[i];
        if (seen > want)
            return i;
    }
    return HIST_US;
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    uint8_t *d = malloc(1500);
    *len = d ? fread(d, 1, 1500, f) : 0;
    fclose(f);
    return d;
}

int main(int argc, char **argv)
{
    load_t l = {.path = "tam", .n = 64};
    unsigned port = 0, seconds = 3, warmup = 1;
    static const struct option longopts[] = {
        {"port", required_argument, NULL, 'p'},
        {"path", required_argument, NULL, 'P'},
        {"body", required_argument, NULL, 'b'},
        {"sessions", required_argument, NULL, 'n'},
        {"seconds", required_argument, NULL, 's'},
        {"warmup", required_argument, NULL, 'w'},
        {"hold", no_argument, NULL, 'H'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'p': port = (unsigned)atoi(optarg); break;
        case 'P': l.path = optarg; break;
        case 'b': l.body = slurp(optarg, &l.body_len); break;
        case 'n': l.n = (unsigned)atoi(optarg); break;
        case 's': seconds = (unsigned)atoi(optarg); break;
        case 'w': warmup = (unsigned)atoi(optarg); break;
        case 'H': l.hold = true; break;
        default:
            fprintf(stderr, "usage: coap-load --port P [--path tam] "
                            "[--body FILE] [--sessions N] [--seconds S] "
                            "[--warmup S] [--hold]\n");
            return 2;
        }
    }
    if (port == 0 || l.n == 0 || strlen(l.path) > 12) {
        fprintf(stderr, "coap-load: --port and 1+ sessions needed\n");
        return 2;
    }
    l.loop = uv_default_loop();
    uv_ip4_addr("127.0.0.1", (int)port, &l.to);
    l.hist = calloc(HIST_US, sizeof(*l.hist));
    l.sessions = calloc(l.n, sizeof(*l.sessions));
    struct sockaddr_in any;
    uv_ip4_addr("127.0.0.1", 0, &any);
    for (unsigned i = 0; i < l.n; i++) {
        session_t *s = &l.sessions[i];
        s->load = &l;
        s->mid = (uint16_t)(i * 977);
        memcpy(s->token, &i, 3);
        uv_udp_init(l.loop, &s->udp);
        s->udp.data = s;
        if (uv_udp_bind(&s->udp, (const struct sockaddr *)&any, 0) < 0) {
            fprintf(stderr, "coap-load: cannot bind session %u\n", i);
            return 1;
        }
        uv_udp_recv_start(&s->udp, alloc_cb, recv_cb);
    }
    uv_timer_t tick, phase;
    uv_timer_init(l.loop, &tick);
    uv_timer_init(l.loop, &phase);
    tick.data = phase.data = &l;
    uv_timer_start(&tick, on_tick, 100, 100);
    l.measuring = l.hold;
    if (l.hold) {
        /* At most 64 at a time: a burst of a thousand CON requests is a
         * flood, not what many devices do. */
        unsigned next = 0;
        while (l.held < l.n) {
            while (next < l.n && next < l.held + 64)
                send_request(&l.sessions[next++], false);
            uv_run(l.loop, UV_RUN_ONCE);
        }
        printf("held %u ok=%llu errors=%llu\n", l.held,
               (unsigned long long)l.ok, (unsigned long long)l.errors);
        fflush(stdout);
        uv_timer_start(&phase, on_phase, seconds * 1000u, 0);
        l.measuring = true; /* the next phase stops */
        uv_run(l.loop, UV_RUN_DEFAULT);
        return 0;
    }
    for (unsigned i = 0; i < l.n; i++)
        send_request(&l.sessions[i], false);
    uv_timer_start(&phase, on_phase, warmup * 1000u, seconds * 1000u);
    uv_run(l.loop, UV_RUN_DEFAULT);
    printf("rps=%.0f p50_us=%llu p99_us=%llu p999_us=%llu max_us=%llu "
           "ok=%llu errors=%llu retransmits=%llu\n",
           (double)(l.ok + l.errors) / seconds,
           (unsigned long long)quantile(&l, 0.50),
           (unsigned long long)quantile(&l, 0.99),
           (unsigned long long)quantile(&l, 0.999),
           (unsigned long long)l.max_us, (unsigned long long)l.ok,
           (unsigned long long)l.errors, (unsigned long long)l.retransmits);
    return 0;
}
