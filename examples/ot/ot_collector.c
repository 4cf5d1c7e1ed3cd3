/*
 * ot_collector.c: the Collector, and the measurements (README.md here).
 *
 *   ot-collector mktable N SIZE FILE          write a test table
 *   ot-collector cc --gateway SOCKET --admin URL --token-file FILE
 *                   --device ID --deployment ID --package ID
 *                   --ta-binary FILE [--queries K]
 *       CC-OT against the ot-lookup TA in the TEE, through the host's UA
 *       gateway: no query before the attestation check passes
 *   ot-collector cc --local-ta BINARY --table FILE --unattested [--queries K]
 *       the same protocol against the same TA binary run outside any TEE
 *       with the table read from FILE (no attestation is possible there)
 *   ot-collector classic --table FILE [--queries K]
 *       Chou-Orlandi 1-out-of-N OT, server and receiver over TCP on
 *       127.0.0.1 (the server is a thread of this process)
 *   ot-collector download --table FILE [--queries K]
 *       the trivial baseline: the whole table crosses the socket
 *
 * Each run queries K random indices, checks every record it gets, and
 * prints one line: proto, n, size, queries, ok, bytes (per query, both
 * directions, counted at the Collector's socket), setup_bytes, wall_ms and
 * cpu_ms per query (Collector + server or TA).  Exit 0 only when every
 * record was right.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "ot.h"
#include "sim_channel.h"

/* The TA's SUIT component identifier as the TAM names it for a process
 * instance (tam/manifest.c): ['TEE', 'process', 'ot-lookup', 'ta']. */
static const uint8_t col_ta_id[] = {
    0x84, 0x43, 'T', 'E', 'E', 0x47, 'p', 'r', 'o', 'c', 'e',  's', 's',
    0x49, 'o',  't', '-', 'l', 'o',  'o', 'k', 'u', 'p', 0x42, 't', 'a'};

/* ------------------------------------------------------------ helpers */
static double col_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static uint64_t col_cpu_us(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000u +
           (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static uint32_t col_random_index(uint32_t n)
{
    uint32_t r = 0;
    if (RAND_bytes((uint8_t *)&r, sizeof(r)) != 1)
        r = (uint32_t)rand();
    return r % n;
}

static uint8_t *col_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    uint8_t *p = n > 0 ? malloc((size_t)n) : NULL;
    if (p != NULL && fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        p = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return p;
}

/* --------------------------------------------- the TA, behind a socket */
typedef struct col_ta {
    const char *gateway; /* the UA gateway's socket, or NULL: */
    int fd;              /* the local TA's channel (sim_channel.h) */
    pid_t pid;
    ot_count_t count;
    /* Local TA: the SHA-256 of the key it registered on its channel ('K',
     * what the sim TEE would put in its Evidence). */
    int has_key;
    uint8_t key_sha256[32];
} col_ta_t;

/* One invocation: req in, the TA's answer into *ans (malloc'ed).  The
 * bytes both ways are counted at the Collector's socket. */
static int col_invoke(col_ta_t *t, const uint8_t *req, size_t n, uint8_t **ans,
                      size_t *ans_len)
{
    *ans = NULL;
    if (t->gateway == NULL) {
        uint8_t *buf = malloc(SIM_CHANNEL_MAX);
        uint8_t type = 0;
        int rc = buf != NULL ? sim_channel_send(t->fd, SIM_MSG_INVOKE, req, n)
                             : -ENOMEM;
        ssize_t got = rc;
        /* In the sim the TEE takes the TA's key packet; here we do. */
        while (rc == 0 &&
               (got = sim_channel_recv(t->fd, &type, buf, SIM_CHANNEL_MAX)) >
                   0 &&
               type == SIM_MSG_KEY)
            t->has_key = EVP_Digest(buf, (size_t)got, t->key_sha256, NULL,
                                    EVP_sha256(), NULL) == 1;
        if (got < 0 || type != SIM_MSG_REPLY) {
            free(buf);
            return got < 0 ? (int)got : -EIO;
        }
        t->count.sent += 1 + n;
        t->count.received += 1 + (uint64_t)got;
        *ans = buf;
        *ans_len = (size_t)got;
        return 0;
    }
    /* The gateway's framing (plugins/host/tee_ua_gateway.h): one
     * invocation per connection. */
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof(a.sun_path), "%s", t->gateway);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    uint8_t head[8];
    ot_put_be32(head, sizeof(col_ta_id));
    int rc = ot_send_all(fd, head, 4, &t->count);
    rc =
        rc == 0 ? ot_send_all(fd, col_ta_id, sizeof(col_ta_id), &t->count) : rc;
    ot_put_be32(head, (uint32_t)n);
    rc = rc == 0 ? ot_send_all(fd, head, 4, &t->count) : rc;
    rc = rc == 0 ? ot_send_all(fd, req, n, &t->count) : rc;
    rc = rc == 0 ? ot_recv_all(fd, head, 8, &t->count) : rc;
    if (rc == 0 && ot_get_be32(head) != 0)
        rc = (int32_t)ot_get_be32(head);
    size_t len = rc == 0 ? ot_get_be32(head + 4) : 0;
    if (rc == 0 && len > SIM_CHANNEL_MAX)
        rc = -EMSGSIZE;
    uint8_t *buf = rc == 0 ? malloc(len > 0 ? len : 1) : NULL;
    if (rc == 0 && buf == NULL)
        rc = -ENOMEM;
    rc = rc == 0 ? ot_recv_all(fd, buf, len, &t->count) : rc;
    close(fd);
    if (rc != 0) {
        free(buf);
        return rc;
    }
    *ans = buf;
    *ans_len = len;
    return 0;
}

/* Start the TA binary outside any TEE with the channel on fd 3, as the
 * sim does (but without its isolation). */
static int col_ta_spawn(col_ta_t *t, const char *binary, const char *table)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
        return -errno;
    pid_t pid = fork();
    if (pid < 0)
        return -errno;
    if (pid == 0) {
        if (dup2(sv[1], SIM_CHANNEL_FD) < 0)
            _exit(127);
        execl(binary, binary, "--table", table, (char *)NULL);
        _exit(127);
    }
    close(sv[1]);
    t->fd = sv[0];
    t->pid = pid;
    return 0;
}

/* -------------------------------------------- the attestation check */
/* A blocking HTTP/1.1 GET on 127.0.0.1 (the TAM's admin API): the body
 * of a 200 answer as JSON, or NULL. */
static json_t *col_http_get(const char *url, const char *token,
                            const char *path, int *status)
{
    unsigned port = 0;
    *status = 0;
    if (sscanf(url, "http://127.0.0.1:%u", &port) != 1 || port > 65535)
        return NULL;
    int fd = ot_tcp_connect((uint16_t)port);
    if (fd < 0)
        return NULL;
    char req[1024];
    int n = snprintf(req, sizeof(req),
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     "Authorization: Bearer %s\r\nConnection: close\r\n\r\n",
                     path, token);
    char *resp = NULL;
    size_t len = 0, cap = 0;
    if (n > 0 && (size_t)n < sizeof(req) &&
        ot_send_all(fd, req, (size_t)n, NULL) == 0) {
        for (;;) {
            if (len + 4096 + 1 > cap) {
                char *p = realloc(resp, cap = cap * 2 + 8192);
                if (p == NULL)
                    break;
                resp = p;
            }
            ssize_t r = recv(fd, resp + len, cap - len - 1, 0);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break;
            len += (size_t)r;
        }
    }
    close(fd);
    json_t *j = NULL;
    if (resp != NULL) {
        resp[len] = 0;
        char *body = strstr(resp, "\r\n\r\n");
        if (sscanf(resp, "HTTP/1.%*d %d", status) == 1 && *status == 200 &&
            body != NULL)
            j = json_loads(body + 4, 0, NULL);
    }
    free(resp);
    return j;
}

typedef struct col_attest_cfg {
    const char *admin, *token_file, *ta_binary;
    long device, deployment, package;
} col_attest_cfg_t;

/* hex[2 * n + 1] of p[0..n). */
static void col_hex(const uint8_t *p, size_t n, char *hex)
{
    for (size_t k = 0; k < n; k++)
        snprintf(hex + 2 * k, 3, "%02x", p[k]);
}

/* The ta-keys entry (claim -70004, copied by the TAM into the result's
 * claims) for the ot-lookup TA into key_sha256.  0 or -ENOENT. */
static int col_attested_ta_key(json_t *att, uint8_t key_sha256[32])
{
    char id_hex[2 * sizeof(col_ta_id) + 1];
    col_hex(col_ta_id, sizeof(col_ta_id), id_hex);
    json_t *keys = json_object_get(json_object_get(att, "claims"), "ta_keys");
    size_t i;
    json_t *k;
    json_array_foreach(keys, i, k)
    {
        const char *id = json_string_value(json_object_get(k, "component_id"));
        const char *h = json_string_value(json_object_get(k, "key_sha256"));
        if (id == NULL || h == NULL || strcmp(id, id_hex) != 0 ||
            strlen(h) != 64)
            continue;
        for (int b = 0; b < 32; b++) {
            unsigned v;
            if (sscanf(h + 2 * b, "%2x", &v) != 1)
                return -ENOENT;
            key_sha256[b] = (uint8_t)v;
        }
        return 0;
    }
    return -ENOENT;
}

/* What the Collector checks before it sends anything secret to the TA
 * (README.md, "What binds the TA's key"):
 *   1. the device has an affirming attestation result at the TAM
 *      (GET /devices/{id}/attested-key answers only then, and
 *      GET /attestations/{id} says "affirming"), and its Evidence names
 *      the key the running ot-lookup TA registered with the TEE (ta-keys,
 *      -70004): its SHA-256 goes to key_sha256, for col_handshake to
 *      compare with the key the TA hands out;
 *   2. the deployment reached "done" on that device: ot-lookup and its
 *      table went into the TEE (mode 5);
 *   3. the TA package the TAM deployed is the binary the Collector
 *      audited (its SHA-256).
 * 0, or -EACCES with the reason on stderr. */
static int col_attest(const col_attest_cfg_t *cfg, uint8_t key_sha256[32])
{
    size_t tlen = 0;
    uint8_t *tok = col_read_file(cfg->token_file, &tlen);
    if (tok == NULL) {
        fprintf(stderr, "ot-collector: %s: cannot read\n", cfg->token_file);
        return -EACCES;
    }
    char token[256];
    snprintf(token, sizeof(token), "%.*s", (int)tlen, (const char *)tok);
    token[strcspn(token, "\r\n")] = 0;
    free(tok);
    char path[128];
    int status, rc = -EACCES;
    json_t *key = NULL, *att = NULL, *dep = NULL, *pkg = NULL;
    snprintf(path, sizeof(path), "/devices/%ld/attested-key", cfg->device);
    key = col_http_get(cfg->admin, token, path, &status);
    json_int_t aid = json_integer_value(json_object_get(key, "attestation"));
    if (key == NULL || aid <= 0) {
        fprintf(stderr,
                "ot-collector: device %ld has no affirming "
                "attestation (HTTP %d)\n",
                cfg->device, status);
        goto done;
    }
    snprintf(path, sizeof(path), "/attestations/%lld", (long long)aid);
    att = col_http_get(cfg->admin, token, path, &status);
    const char *st = json_string_value(json_object_get(att, "status"));
    if (st == NULL || strcmp(st, "affirming") != 0) {
        fprintf(stderr, "ot-collector: attestation %lld is %s\n",
                (long long)aid, st != NULL ? st : "unknown");
        goto done;
    }
    if (col_attested_ta_key(att, key_sha256) != 0) {
        fprintf(stderr,
                "ot-collector: attestation %lld names no key of the "
                "ot-lookup TA (ta-keys)\n",
                (long long)aid);
        goto done;
    }
    snprintf(path, sizeof(path), "/deployments/%ld", cfg->deployment);
    dep = col_http_get(cfg->admin, token, path, &status);
    json_t *targets = json_object_get(dep, "targets");
    size_t i;
    json_t *tg;
    int done = 0;
    json_array_foreach(targets, i, tg)
    {
        const char *s = json_string_value(json_object_get(tg, "state"));
        if (json_integer_value(json_object_get(tg, "device")) == cfg->device &&
            s != NULL && strcmp(s, "done") == 0)
            done = 1;
    }
    if (!done) {
        fprintf(stderr,
                "ot-collector: deployment %ld is not done on device "
                "%ld\n",
                cfg->deployment, cfg->device);
        goto done;
    }
    snprintf(path, sizeof(path), "/packages/%ld", cfg->package);
    pkg = col_http_get(cfg->admin, token, path, &status);
    const char *sha = json_string_value(json_object_get(pkg, "sha256"));
    size_t blen = 0;
    uint8_t *bin = col_read_file(cfg->ta_binary, &blen), digest[32];
    char hex[65] = "";
    if (bin != NULL &&
        EVP_Digest(bin, blen, digest, NULL, EVP_sha256(), NULL) == 1)
        col_hex(digest, sizeof(digest), hex);
    free(bin);
    if (sha == NULL || strcmp(sha, hex) != 0) {
        fprintf(stderr,
                "ot-collector: package %ld is not the audited TA "
                "binary %s\n",
                cfg->package, cfg->ta_binary);
        goto done;
    }
    rc = 0;
done:
    json_decref(key);
    json_decref(att);
    json_decref(dep);
    json_decref(pkg);
    return rc;
}

/* ------------------------------------------------------- the CC-OT client */
typedef struct col_session {
    col_ta_t *ta;
    int attested; /* set only by a passing attestation check */
    /* The SHA-256 of the TA key the attestation names; NULL only for the
     * local, unattested TA. */
    const uint8_t *attested_key;
    uint32_t n, size;
    uint8_t ta_pub[OT_PUB_LEN];
    ot_channel_t ch;
    uint64_t seq;
} col_session_t;

/* Fetch the TA's channel key and agree the channel keys with it.  Refused
 * (-EACCES) before the attestation check passed, and when the key the TA
 * hands out is not the one the attestation names (a man in the middle at
 * the gateway): the key agreement is the first step that trusts the TA. */
static int col_handshake(col_session_t *s)
{
    if (!s->attested)
        return -EACCES;
    uint8_t req[1 + OT_PUB_LEN], *ans = NULL, ready[8];
    size_t n = 0;
    req[0] = OT_MSG_HELLO;
    int rc = col_invoke(s->ta, req, 1, &ans, &n);
    if (rc == 0 && (n != 9 + OT_PUB_LEN || ans[0] != 'h'))
        rc = -EPROTO;
    if (rc == 0) {
        memcpy(s->ta_pub, ans + 1, OT_PUB_LEN);
        s->n = ot_get_be32(ans + 1 + OT_PUB_LEN);
        s->size = ot_get_be32(ans + 5 + OT_PUB_LEN);
    }
    free(ans);
    uint8_t got_sha[32];
    if (rc == 0 && s->attested_key != NULL &&
        (EVP_Digest(s->ta_pub, OT_PUB_LEN, got_sha, NULL, EVP_sha256(), NULL) !=
             1 ||
         CRYPTO_memcmp(got_sha, s->attested_key, 32) != 0)) {
        fprintf(stderr, "ot-collector: the TA's channel key is not the "
                        "attested one\n");
        rc = -EACCES;
    }
    ans = NULL;
    EVP_PKEY *mine = rc == 0 ? ot_key_new() : NULL;
    if (rc == 0 && (mine == NULL || ot_key_public(mine, req + 1) != 0))
        rc = -EIO;
    req[0] = OT_MSG_KEY;
    if (rc == 0)
        rc = ot_channel_derive(&s->ch, mine, s->ta_pub, s->ta_pub, req + 1);
    EVP_PKEY_free(mine);
    rc = rc == 0 ? col_invoke(s->ta, req, sizeof(req), &ans, &n) : rc;
    /* The TA proves it derived the same keys: "ready" under s2c. */
    if (rc == 0 && (n != 1 + strlen(OT_READY) + OT_TAG_LEN || ans[0] != 'k' ||
                    ot_open(s->ch.s2c, 'k', 0, ans + 1, n - 1, ready) != 0 ||
                    memcmp(ready, OT_READY, strlen(OT_READY)) != 0))
        rc = -EBADMSG;
    free(ans);
    if (rc != 0)
        memset(&s->ch, 0, sizeof(s->ch));
    return rc;
}

/* Build the query for idx into req (1 + OT_SEQ_LEN + 4 + OT_TAG_LEN). */
static int col_query_make(col_session_t *s, uint32_t idx, uint8_t *req)
{
    if (!s->attested || !s->ch.ready)
        return -EACCES;
    uint8_t idx_be[4];
    ot_put_be32(idx_be, idx);
    s->seq++;
    req[0] = OT_MSG_QUERY;
    ot_put_be64(req + 1, s->seq);
    return ot_seal(s->ch.c2s, OT_MSG_QUERY, s->seq, idx_be, 4,
                   req + 1 + OT_SEQ_LEN);
}

/* Check the TA's answer to the last query and decrypt the record into
 * out[size].  -EBADMSG for a tampered or misdirected answer, -EPROTO for a
 * refusal (printed). */
static int col_answer_open(col_session_t *s, const uint8_t *ans, size_t n,
                           uint8_t *out)
{
    if (n >= 1 && ans[0] == OT_MSG_ERROR) {
        fprintf(stderr, "ot-collector: the TA refused: %.*s\n", (int)n - 1,
                (const char *)ans + 1);
        return -EPROTO;
    }
    if (n != 1 + OT_SEQ_LEN + (size_t)s->size + OT_TAG_LEN || ans[0] != 'A' ||
        ot_get_be64(ans + 1) != s->seq)
        return -EBADMSG;
    return ot_open(s->ch.s2c, 'A', s->seq, ans + 1 + OT_SEQ_LEN,
                   n - 1 - OT_SEQ_LEN, out);
}

static int col_query(col_session_t *s, uint32_t idx, uint8_t *out)
{
    uint8_t req[1 + OT_SEQ_LEN + 4 + OT_TAG_LEN], *ans = NULL;
    size_t n = 0;
    int rc = col_query_make(s, idx, req);
    rc = rc == 0 ? col_invoke(s->ta, req, sizeof(req), &ans, &n) : rc;
    rc = rc == 0 ? col_answer_open(s, ans, n, out) : rc;
    free(ans);
    return rc;
}

static int col_ta_cpu(col_ta_t *t, uint64_t *us)
{
    uint8_t req = OT_MSG_STATS, *ans = NULL;
    size_t n = 0;
    int rc = col_invoke(t, &req, 1, &ans, &n);
    if (rc == 0 && (n != 9 || ans[0] != 's'))
        rc = -EPROTO;
    if (rc == 0)
        *us = ot_get_be64(ans + 1);
    free(ans);
    return rc;
}

/* ------------------------------------------------------ reporting */
typedef struct col_result {
    const char *proto;
    uint32_t n, size, queries, ok;
    uint64_t bytes, setup_bytes, cpu_us;
    double wall_ms;
} col_result_t;

static void col_print(const col_result_t *r)
{
    double q = r->queries > 0 ? r->queries : 1;
    printf("proto=%s n=%u size=%u queries=%u ok=%u bytes=%.0f setup_bytes=%llu "
           "wall_ms=%.3f cpu_ms=%.3f\n",
           r->proto, r->n, r->size, r->queries, r->ok, (double)r->bytes / q,
           (unsigned long long)r->setup_bytes, r->wall_ms / q,
           (double)r->cpu_us / 1e3 / q);
}

static int run_cc(col_ta_t *ta, const col_attest_cfg_t *cfg, int unattested,
                  uint32_t queries, const char *proto)
{
    col_session_t s = {.ta = ta};
    uint8_t attested_key[32];
    if (cfg != NULL) {
        if (col_attest(cfg, attested_key) != 0) {
            fprintf(stderr, "ot-collector: attestation check failed: no "
                            "query is sent\n");
            return 1;
        }
        s.attested = 1;
        s.attested_key = attested_key;
    } else {
        /* The local TA runs in no TEE: there is nothing to attest, and the
         * caller said so explicitly. */
        s.attested = unattested;
    }
    int rc = col_handshake(&s);
    if (rc != 0) {
        fprintf(stderr, "ot-collector: key agreement: %s%s\n", strerror(-rc),
                rc == -EACCES ? ": no query is sent" : "");
        return 1;
    }
    uint64_t setup = ta->count.sent + ta->count.received, ta_cpu0 = 0, ta_cpu1;
    if (col_ta_cpu(ta, &ta_cpu0) != 0)
        return 1;
    ot_count_t c0 = ta->count;
    col_result_t r = {proto, s.n, s.size, queries, 0, 0, setup, 0, 0};
    uint8_t *rec = malloc(s.size), *want = malloc(s.size);
    if (rec == NULL || want == NULL)
        return 1;
    uint64_t cpu0 = col_cpu_us();
    double t0 = col_now_ms();
    for (uint32_t q = 0; q < queries; q++) {
        uint32_t idx = col_random_index(s.n);
        ot_record_expected(idx, s.size, want);
        if (col_query(&s, idx, rec) == 0 && memcmp(rec, want, s.size) == 0)
            r.ok++;
        else
            fprintf(stderr, "ot-collector: record %u wrong\n", idx);
    }
    r.wall_ms = col_now_ms() - t0;
    r.cpu_us = col_cpu_us() - cpu0;
    r.bytes = ta->count.sent + ta->count.received - c0.sent - c0.received;
    if (col_ta_cpu(ta, &ta_cpu1) != 0)
        return 1;
    r.cpu_us += ta_cpu1 - ta_cpu0;
    col_print(&r);
    free(rec);
    free(want);
    return r.ok == queries ? 0 : 1;
}

/* ----------------------------------------- classic OT and the download */
typedef struct col_server {
    int listener;
    const ot_table_t *table;
    int download; /* the trivial baseline instead of OT */
    uint32_t queries;
    int rc;
} col_server_t;

/* The Data Center without a TEE: per query, A out, B in, every record
 * out encrypted (or, for the download, the table as it is). */
static void *col_server_run(void *arg)
{
    col_server_t *sv = arg;
    int fd = ot_tcp_accept(sv->listener);
    sv->rc = fd < 0 ? fd : 0;
    size_t len = sv->download
                     ? (size_t)sv->table->n * sv->table->size
                     : ot_classic_answer_len(sv->table->n, sv->table->size);
    uint8_t *out = sv->download ? NULL : malloc(len);
    if (!sv->download && out == NULL)
        sv->rc = -ENOMEM;
    for (uint32_t q = 0; q < sv->queries && sv->rc == 0; q++) {
        uint8_t a[OT_POINT_LEN], *b = NULL;
        size_t blen = 0;
        if (sv->download) {
            sv->rc = ot_recv_msg(fd, &b, &blen, 16, NULL);
            sv->rc = sv->rc == 0 ? ot_send_msg(fd, sv->table->rows, len, NULL)
                                 : sv->rc;
            free(b);
            continue;
        }
        ot_classic_server_t *s = ot_classic_server_new(a);
        sv->rc = s != NULL ? ot_send_msg(fd, a, sizeof(a), NULL) : -EIO;
        sv->rc = sv->rc == 0 ? ot_recv_msg(fd, &b, &blen, OT_POINT_LEN, NULL)
                             : sv->rc;
        if (sv->rc == 0 && blen != OT_POINT_LEN)
            sv->rc = -EPROTO;
        sv->rc = sv->rc == 0 ? ot_classic_server_answer(s, b, sv->table, out)
                             : sv->rc;
        sv->rc = sv->rc == 0 ? ot_send_msg(fd, out, len, NULL) : sv->rc;
        ot_classic_server_free(s);
        free(b);
    }
    free(out);
    if (fd >= 0)
        close(fd);
    return NULL;
}

static int run_network(const ot_table_t *t, uint32_t queries, int download)
{
    col_server_t sv = {.table = t, .download = download, .queries = queries};
    uint16_t port = 0;
    sv.listener = ot_tcp_listen(&port);
    if (sv.listener < 0)
        return 1;
    pthread_t th;
    if (pthread_create(&th, NULL, col_server_run, &sv) != 0)
        return 1;
    int fd = ot_tcp_connect(port);
    ot_count_t c = {0};
    col_result_t r = {download ? "download" : "classic",
                      t->n,
                      t->size,
                      queries,
                      0,
                      0,
                      0,
                      0,
                      0};
    uint8_t *want = malloc(t->size), *rec = malloc(t->size);
    uint64_t cpu0 = col_cpu_us();
    double t0 = col_now_ms();
    for (uint32_t q = 0; fd >= 0 && q < queries; q++) {
        uint32_t idx = col_random_index(t->n);
        uint8_t *a = NULL, *ans = NULL, b[OT_POINT_LEN];
        size_t alen = 0, n = 0;
        int rc;
        ot_classic_receiver_t *rv = NULL;
        if (download) {
            rc = ot_send_msg(fd, "D", 1, &c);
            rc = rc == 0 ? ot_recv_msg(fd, &ans, &n, SIZE_MAX, &c) : rc;
            if (rc == 0 && n == (size_t)t->n * t->size)
                memcpy(rec, ans + (size_t)idx * t->size, t->size);
            else
                rc = -EPROTO;
        } else {
            rc = ot_recv_msg(fd, &a, &alen, OT_POINT_LEN, &c);
            rv = rc == 0 && alen == OT_POINT_LEN
                     ? ot_classic_receiver_new(a, idx, b)
                     : NULL;
            rc = rv != NULL ? ot_send_msg(fd, b, sizeof(b), &c) : -EPROTO;
            rc = rc == 0 ? ot_recv_msg(fd, &ans, &n, SIZE_MAX, &c) : rc;
            if (rc == 0 && n != ot_classic_answer_len(t->n, t->size))
                rc = -EPROTO;
            rc = rc == 0 ? ot_classic_receiver_open(rv, ans, t->n, t->size, rec)
                         : rc;
        }
        ot_record_expected(idx, t->size, want);
        if (rc == 0 && memcmp(rec, want, t->size) == 0)
            r.ok++;
        else
            fprintf(stderr, "ot-collector: record %u wrong (%d)\n", idx, rc);
        ot_classic_receiver_free(rv);
        free(a);
        free(ans);
        if (rc != 0)
            break;
    }
    r.wall_ms = col_now_ms() - t0;
    /* Both parties are threads of this process: this is their sum. */
    r.cpu_us = col_cpu_us() - cpu0;
    r.bytes = c.sent + c.received;
    if (fd >= 0)
        close(fd);
    pthread_join(th, NULL);
    close(sv.listener);
    col_print(&r);
    free(want);
    free(rec);
    return r.ok == queries && sv.rc == 0 ? 0 : 1;
}

/* ---------------------------------------------------------------- main */
static int usage(void)
{
    fprintf(stderr,
            "usage: ot-collector mktable N SIZE FILE\n"
            "       ot-collector cc --gateway SOCKET --admin URL --token-file "
            "FILE\n"
            "                       --device ID --deployment ID --package ID "
            "--ta-binary FILE [--queries K]\n"
            "       ot-collector cc --local-ta BINARY --table FILE "
            "--unattested [--queries K]\n"
            "       ot-collector classic|download --table FILE [--queries "
            "K]\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    signal(SIGPIPE, SIG_IGN);
    const char *cmd = argv[1];
    if (strcmp(cmd, "mktable") == 0) {
        if (argc != 5)
            return usage();
        size_t len = 0;
        uint8_t *blob =
            ot_table_make((uint32_t)strtoul(argv[2], NULL, 10),
                          (uint32_t)strtoul(argv[3], NULL, 10), &len);
        FILE *f = blob != NULL ? fopen(argv[4], "wb") : NULL;
        int ok = f != NULL && fwrite(blob, 1, len, f) == len;
        ok = f != NULL && fclose(f) == 0 && ok;
        free(blob);
        return ok ? 0 : 1;
    }
    static const struct option opts[] = {
        {"gateway", 1, 0, 'g'},    {"admin", 1, 0, 'a'},
        {"token-file", 1, 0, 't'}, {"device", 1, 0, 'd'},
        {"deployment", 1, 0, 'D'}, {"package", 1, 0, 'p'},
        {"ta-binary", 1, 0, 'b'},  {"local-ta", 1, 0, 'l'},
        {"table", 1, 0, 'T'},      {"unattested", 0, 0, 'u'},
        {"queries", 1, 0, 'q'},    {0, 0, 0, 0}};
    col_attest_cfg_t cfg = {0};
    const char *gateway = NULL, *local = NULL, *table = NULL;
    int unattested = 0, c;
    uint32_t queries = 10;
    optind = 2;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'g': gateway = optarg; break;
        case 'a': cfg.admin = optarg; break;
        case 't': cfg.token_file = optarg; break;
        case 'd': cfg.device = strtol(optarg, NULL, 10); break;
        case 'D': cfg.deployment = strtol(optarg, NULL, 10); break;
        case 'p': cfg.package = strtol(optarg, NULL, 10); break;
        case 'b': cfg.ta_binary = optarg; break;
        case 'l': local = optarg; break;
        case 'T': table = optarg; break;
        case 'u': unattested = 1; break;
        case 'q': queries = (uint32_t)strtoul(optarg, NULL, 10); break;
        default: return usage();
        }
    }
    if (strcmp(cmd, "cc") == 0 && gateway != NULL) {
        if (cfg.admin == NULL || cfg.token_file == NULL ||
            cfg.ta_binary == NULL || cfg.device <= 0 || cfg.deployment <= 0 ||
            cfg.package <= 0)
            return usage();
        col_ta_t ta = {.gateway = gateway, .fd = -1};
        return run_cc(&ta, &cfg, 0, queries, "cc-ot");
    }
    if (strcmp(cmd, "cc") == 0 && local != NULL && table != NULL) {
        if (!unattested) {
            fprintf(stderr, "ot-collector: a local TA cannot be attested: "
                            "say --unattested\n");
            return 2;
        }
        col_ta_t ta = {.fd = -1};
        if (col_ta_spawn(&ta, local, table) != 0)
            return 1;
        int rc = run_cc(&ta, NULL, 1, queries, "cc-ot-local");
        close(ta.fd); /* the TA stops when its channel closes */
        waitpid(ta.pid, NULL, 0);
        return rc;
    }
    if ((strcmp(cmd, "classic") == 0 || strcmp(cmd, "download") == 0) &&
        table != NULL) {
        size_t len = 0;
        uint8_t *blob = col_read_file(table, &len);
        ot_table_t t;
        if (blob == NULL || ot_table_parse(blob, len, &t) != 0) {
            fprintf(stderr, "ot-collector: %s: no table\n", table);
            free(blob);
            return 1;
        }
        int rc = run_network(&t, queries, strcmp(cmd, "download") == 0);
        free(blob);
        return rc;
    }
    return usage();
}
