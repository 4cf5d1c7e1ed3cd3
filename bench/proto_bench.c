/*
 * teep-bench-proto: the figures of libteepproto that bench/RESULTS.md
 * records: ns per decode, encode and peek per message type; peek against a
 * full decode (COSE parse + message decode) in the same run; COSE signs and
 * verifies per second per algorithm for the backend this binary links
 * (teep-bench-proto: OpenSSL, teep-bench-proto-mbedtls: mbedtls); PD
 * encryption and decryption MB/s per profile.
 *
 * Usage: teep-bench-proto [--seconds S] [--vectors DIR] [--results FILE]
 *        teep-bench-proto --peek-calls N [--vector FILE] [--vectors DIR]
 * With --results the section of this backend in FILE (between its marker
 * comments) is replaced by this run's table; the rest of FILE is kept.
 * --peek-calls runs only teep_peek, a fixed number of times per vector (the
 * message vectors, or the one --vector names), for instruction counts under
 * callgrind (--toggle-collect=teep_peek; docs/proto.md), not for timing.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "results_file.h"
#include "teep/cose.h"
#include "teep/eat.h"
#include "teep/message.h"
#include "teep/pd.h"
#include "teep/peek.h"
#include "teep/suit.h"

#ifndef TEEP_VECTORS_DIR
#define TEEP_VECTORS_DIR "tests/vectors"
#endif

static double budget_s = 0.3;
static const char *vectors_dir = TEEP_VECTORS_DIR;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Run op until the time budget is spent; return ns per call.  Calls are
 * batched so the clock is read rarely; the result of op is summed so the
 * compiler cannot drop the work. */
typedef int (*bench_op_t)(void *arg);
static double measure(bench_op_t op, void *arg)
{
    long calls = 0, batch = 16;
    int sink = 0;
    double start = now_s(), elapsed;
    do {
        for (long i = 0; i < batch; i++)
            sink |= op(arg);
        calls += batch;
        elapsed = now_s() - start;
        if (batch < 65536)
            batch *= 2;
    } while (elapsed < budget_s);
    if (sink != 0)
        fprintf(stderr, "warning: benchmarked operation failed (%d)\n", sink);
    return elapsed * 1e9 / (double)calls;
}

static uint8_t *load_hex(const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", vectors_dir, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "teep-bench-proto: %s: %s\n", path, strerror(errno));
        exit(2);
    }
    uint8_t *out = malloc(65536);
    size_t n = 0;
    int c, hi = -1;
    while ((c = fgetc(f)) != EOF && n < 65536) {
        if (!isxdigit(c))
            continue;
        int v = isdigit(c) ? c - '0' : tolower(c) - 'a' + 10;
        if (hi < 0) {
            hi = v;
        } else {
            out[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    fclose(f);
    *len = n;
    return out;
}

/* One signed vector and what each operation needs. */
typedef struct msg_case {
    const char *file;
    teep_profile_t profile;
    uint8_t *cose;
    size_t cose_len;
    teep_slice_t payload;
    teep_message_t msg;
    uint8_t arena_mem[TEEP_ARENA_DEFAULT];
    uint8_t keep_mem[TEEP_ARENA_DEFAULT];
    uint8_t out[65536];
} msg_case_t;

static int op_decode(void *arg)
{
    msg_case_t *c = arg;
    teep_arena_t arena;
    teep_message_t m;
    teep_arena_init(&arena, c->arena_mem, sizeof(c->arena_mem));
    return teep_message_decode(c->payload.ptr, c->payload.len, c->profile,
                               &arena, &m, NULL);
}

static int op_encode(void *arg)
{
    msg_case_t *c = arg;
    size_t n;
    return teep_message_encode(&c->msg, c->profile, c->out, sizeof(c->out), &n);
}

static int op_peek(void *arg)
{
    msg_case_t *c = arg;
    teep_peek_t p;
    return teep_peek(c->cose, c->cose_len, TEEP_PEEK_AUTO, &p, NULL);
}

/* What a relay would otherwise do: parse the COSE and decode the message. */
static int op_full_decode(void *arg)
{
    msg_case_t *c = arg;
    teep_cose_t cose;
    teep_arena_t arena;
    teep_message_t m;
    int rc = teep_cose_parse(c->cose, c->cose_len, &cose, NULL);
    if (rc != 0)
        return rc;
    teep_arena_init(&arena, c->arena_mem, sizeof(c->arena_mem));
    return teep_message_decode(cose.payload.ptr, cose.payload.len, c->profile,
                               &arena, &m, NULL);
}

typedef struct sign_case {
    teep_key_t key;
    int64_t alg;
    uint8_t payload[200];
    uint8_t cose[1024];
    size_t cose_len;
    teep_cose_t parsed;
} sign_case_t;

static int op_sign(void *arg)
{
    sign_case_t *c = arg;
    teep_signer_t s = {.key = &c->key, .alg = c->alg};
    return teep_cose_sign1(&s, c->payload, sizeof(c->payload), c->cose,
                           sizeof(c->cose), &c->cose_len);
}

static int op_verify(void *arg)
{
    sign_case_t *c = arg;
    return teep_cose_verify(&c->parsed, &c->key, NULL, 0);
}

static const struct {
    const char *file;
    teep_profile_t profile;
} message_vectors[] = {
    {"gen_tp26_query_request_cose_sign.hex", TEEP_PROFILE_RFC},
    {"gen_tp26_query_request_cose_sign1_esp256.hex", TEEP_PROFILE_RFC},
    {"gen_tp26_query_response_cose_sign1_esp256.hex", TEEP_PROFILE_RFC},
    {"gen_tp26_update_cose_sign1_esp256.hex", TEEP_PROFILE_RFC},
    {"gen_tp26_teep_success_cose_sign1_esp256.hex", TEEP_PROFILE_RFC},
    {"gen_tp26_teep_error_cose_sign1_esp256.hex", TEEP_PROFILE_RFC},
    {"gen_tp_query_request_cose_sign1_esp256.hex", TEEP_PROFILE_LEGACY},
    {"gen_tp_update_cose_sign1_esp256.hex", TEEP_PROFILE_LEGACY},
};

static void bench_messages(bench_text_t *out)
{
    bench_text_append(
        out, "| message (vector) | profile | bytes | decode ns | encode ns | "
             "peek ns | COSE parse + decode ns | full / peek |\n"
             "|---|---|---:|---:|---:|---:|---:|---:|\n");
    for (size_t i = 0; i < sizeof(message_vectors) / sizeof(message_vectors[0]);
         i++) {
        msg_case_t *c = calloc(1, sizeof(*c));
        c->file = message_vectors[i].file;
        c->profile = message_vectors[i].profile;
        c->cose = load_hex(c->file, &c->cose_len);
        teep_peek_t p;
        teep_diag_t diag;
        teep_arena_t arena;
        if (teep_peek(c->cose, c->cose_len, TEEP_PEEK_AUTO, &p, &diag) != 0) {
            fprintf(stderr, "%s: %s\n", c->file, diag.reason);
            exit(1);
        }
        c->payload = p.payload;
        /* the message to encode keeps its own arena: the decode benchmark
         * reuses arena_mem */
        teep_arena_init(&arena, c->keep_mem, sizeof(c->keep_mem));
        if (teep_message_decode(p.payload.ptr, p.payload.len, c->profile,
                                &arena, &c->msg, &diag) != 0) {
            fprintf(stderr, "%s: %s\n", c->file, diag.reason);
            exit(1);
        }
        double dec = measure(op_decode, c);
        double enc = measure(op_encode, c);
        double peek = measure(op_peek, c);
        double full = measure(op_full_decode, c);
        char name[128];
        snprintf(name, sizeof(name), "%s (%s)", teep_msg_type_name(c->msg.type),
                 c->file);
        printf("%-70s dec %7.0f enc %7.0f peek %6.0f full %7.0f ns\n", name,
               dec, enc, peek, full);
        bench_text_append(
            out, "| %s | %s | %zu | %.0f | %.0f | %.0f | %.0f | %.1fx |\n",
            name, teep_profile_name(c->profile), c->cose_len, dec, enc, peek,
            full, full / peek);
        free(c->cose);
        free(c);
    }
}

/* --peek-calls: a fixed amount of peek work, nothing else measured. */
static int peek_calls(long calls, const char *only)
{
    for (size_t i = 0; i < sizeof(message_vectors) / sizeof(message_vectors[0]);
         i++) {
        const char *file = only != NULL ? only : message_vectors[i].file;
        size_t len;
        uint8_t *cose = load_hex(file, &len);
        teep_peek_t p;
        teep_diag_t diag;
        int rc = teep_peek(cose, len, TEEP_PEEK_AUTO, &p, &diag);
        if (rc != 0)
            fprintf(stderr, "%s: %s (timing the refusal)\n", file, diag.reason);
        for (long n = 1; n < calls; n++)
            rc |= teep_peek(cose, len, TEEP_PEEK_AUTO, &p, NULL);
        printf("%s: %ld peeks, %zu bytes\n", file, calls, len);
        free(cose);
        if (only != NULL)
            break;
    }
    return 0;
}

static void bench_signatures(bench_text_t *out)
{
    static const struct {
        const char *name;
        teep_key_type_t type;
        int64_t alg;
    } algs[] = {
        {"ESP256 (-9)", TEEP_KEY_P256, TEEP_ALG_ESP256},
        {"Ed25519 (-19)", TEEP_KEY_ED25519, TEEP_ALG_ED25519},
    };
    bench_text_append(
        out, "\n| algorithm | backend | COSE_Sign1 signs/s | verifies/s |\n"
             "|---|---|---:|---:|\n");
    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        sign_case_t *c = calloc(1, sizeof(*c));
        c->alg = algs[i].alg;
        memset(c->payload, 0x5a, sizeof(c->payload));
        int rc = teep_key_generate(&c->key, algs[i].type);
        if (rc == 0)
            rc = op_sign(c);
        if (rc == 0)
            rc = teep_cose_parse(c->cose, c->cose_len, &c->parsed, NULL);
        if (rc != 0) {
            printf("%-14s %-8s unavailable (%s)\n", algs[i].name,
                   teep_crypto_backend(), teep_strerror(rc));
            bench_text_append(out, "| %s | %s | n/a (%s) | n/a |\n",
                              algs[i].name, teep_crypto_backend(),
                              teep_strerror(rc));
        } else {
            double sign = 1e9 / measure(op_sign, c);
            op_sign(c); /* parsed points into c->cose: re-sign last */
            teep_cose_parse(c->cose, c->cose_len, &c->parsed, NULL);
            double verify = 1e9 / measure(op_verify, c);
            printf("%-14s %-8s %9.0f signs/s %9.0f verifies/s\n", algs[i].name,
                   teep_crypto_backend(), sign, verify);
            bench_text_append(out, "| %s | %s | %.0f | %.0f |\n", algs[i].name,
                              teep_crypto_backend(), sign, verify);
        }
        teep_key_clear(&c->key);
        free(c);
    }
}

/* MB/s (10^6 bytes) of teep_pd_encrypt and teep_pd_decrypt per profile
 * for a 1 MiB payload: each call is one key agreement, one key derivation
 * (and wrap) and the content cipher over the payload. */
static void bench_pd(bench_text_t *out)
{
    enum { PAYLOAD = 1 << 20 };
    bench_text_append(
        out, "\n| PD profile (1 MiB payload) | backend | encrypt MB/s | "
             "decrypt MB/s |\n|---|---|---:|---:|\n");
    size_t n = 0;
    const teep_pd_profile_t *profiles = teep_pd_profiles(&n);
    uint8_t *plain = calloc(1, PAYLOAD);
    uint8_t *ct = malloc(TEEP_PD_CIPHERTEXT_MAX(PAYLOAD));
    uint8_t *back = malloc(PAYLOAD);
    uint8_t info[TEEP_PD_INFO_MAX];
    for (size_t i = 0; i < n; i++) {
        const teep_pd_profile_t *p = &profiles[i];
        teep_pd_params_t params = {p->key_alg, p->content_alg, {NULL, 0}};
        teep_key_t key;
        size_t info_len = 0, ct_len = 0, back_len = 0;
        double mbs[2] = {0, 0};
        int rc = teep_key_generate(&key, p->key_type);
        /* 0: encrypt, 1: decrypt what the last encryption made */
        for (int dir = 0; dir < 2 && rc == 0; dir++) {
            long calls = 0;
            double start = now_s(), elapsed;
            do {
                rc = dir == 0
                         ? teep_pd_encrypt(&key, &params, plain, PAYLOAD, info,
                                           sizeof(info), &info_len, ct,
                                           TEEP_PD_CIPHERTEXT_MAX(PAYLOAD),
                                           &ct_len)
                         : teep_pd_decrypt(&key, (teep_slice_t){info, info_len},
                                           (teep_slice_t){ct, ct_len}, back,
                                           PAYLOAD, &back_len, NULL);
                calls++;
                elapsed = now_s() - start;
            } while (rc == 0 && elapsed < budget_s);
            mbs[dir] = (double)calls * PAYLOAD / elapsed / 1e6;
        }
        if (rc != 0) {
            printf("%-26s %-8s unavailable (%s)\n", p->name,
                   teep_crypto_backend(), teep_strerror(rc));
            bench_text_append(out, "| %s | %s | n/a (%s) | n/a |\n", p->name,
                              teep_crypto_backend(), teep_strerror(rc));
        } else {
            printf("%-26s %-8s %8.1f MB/s encrypt %8.1f MB/s decrypt\n",
                   p->name, teep_crypto_backend(), mbs[0], mbs[1]);
            bench_text_append(out, "| %s | %s | %.1f | %.1f |\n", p->name,
                              teep_crypto_backend(), mbs[0], mbs[1]);
        }
        teep_key_clear(&key);
    }
    free(plain);
    free(ct);
    free(back);
}

/* ---- SUIT: verify + process an envelope with an integrated payload ---- */

/* The device side of the processor: components live in memory; write
 * keeps a slice of the payload (no copy, the envelope outlives the run). */
typedef struct suit_case {
    uint8_t *envelope;
    size_t len;
    teep_key_t key;
    teep_slice_t content;
} suit_case_t;

static int suit_write(void *ctx, const teep_suit_component_t *c,
                      teep_slice_t bytes)
{
    (void)c;
    ((suit_case_t *)ctx)->content = bytes;
    return 0;
}

static int suit_read(void *ctx, const teep_suit_component_t *c,
                     teep_slice_t *bytes)
{
    (void)c;
    *bytes = ((suit_case_t *)ctx)->content;
    return bytes->ptr != NULL ? 0 : -ENOENT;
}

static int suit_commit(void *ctx, teep_slice_t id, uint64_t seq,
                       teep_slice_t envelope)
{
    (void)ctx, (void)id, (void)seq, (void)envelope;
    return 0;
}

static int op_suit_process(void *arg)
{
    suit_case_t *c = arg;
    static const teep_suit_ops_t ops = {
        .write = suit_write, .read = suit_read, .commit = suit_commit};
    teep_suit_config_t cfg = {.trust_anchors = &c->key,
                              .n_trust_anchors = 1,
                              .procedure = TEEP_SUIT_PROC_UPDATE};
    static teep_suit_report_t report;
    c->content = (teep_slice_t){NULL, 0};
    return teep_suit_process(c->envelope, c->len, &cfg, &ops, c, &report);
}

/* Envelopes of 1 KiB and 1 MiB integrated payloads, signed with ESP256:
 * each run checks the manifest digest and signature, runs the sequences and
 * the image-match (SHA-256 over the payload). */
static void bench_suit(bench_text_t *out)
{
    static const size_t sizes[] = {1024, 1 << 20};
    bench_text_append(
        out, "\n| SUIT envelope (integrated payload, ESP256) | backend | "
             "verify + process per second | payload MB/s |\n"
             "|---|---|---:|---:|\n");
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        suit_case_t *c = calloc(1, sizeof(*c));
        uint8_t *payload = malloc(sizes[i]);
        memset(payload, 0xa5, sizes[i]);
        uint8_t id[128], digest[32];
        size_t id_len = 0;
        int rc = teep_key_generate(&c->key, TEEP_KEY_P256);
        if (rc == 0)
            rc = teep_suit_component_id_from_text(
                "TEEP-Device/SecureFS/8d82573a926d4754935332dc29997f74/ta", id,
                sizeof(id), &id_len);
        if (rc == 0)
            rc = teep_sha256(payload, sizes[i], digest);
        teep_suit_build_t b = {
            .component_id = {id, id_len},
            .sequence_number = 1,
            .payload = {payload, sizes[i]},
            .integrated_name = {(const uint8_t *)"#tc", 3},
        };
        teep_signer_t signer = {.key = &c->key};
        if (rc == 0)
            rc = teep_suit_build(&b, &signer, NULL, 0, &c->len);
        c->envelope = malloc(c->len);
        if (rc == 0)
            rc = teep_suit_build(&b, &signer, c->envelope, c->len, &c->len);
        if (rc == 0)
            rc = op_suit_process(c);
        if (rc != 0) {
            printf("suit %zu B: failed (%s)\n", sizes[i], teep_strerror(rc));
            bench_text_append(out, "| %zu B | %s | n/a (%s) | n/a |\n",
                              sizes[i], teep_crypto_backend(),
                              teep_strerror(rc));
        } else {
            double per_s = 1e9 / measure(op_suit_process, c);
            printf("suit %8zu B payload %-8s %9.0f verify+process/s\n",
                   sizes[i], teep_crypto_backend(), per_s);
            bench_text_append(out, "| %zu B | %s | %.0f | %.1f |\n", sizes[i],
                              teep_crypto_backend(), per_s,
                              per_s * (double)sizes[i] / 1e6);
        }
        teep_key_clear(&c->key);
        free(c->envelope);
        free(payload);
        free(c);
    }
}

/* ---- EAT: the TAM's appraisal of Evidence (background check) ---------- */

typedef struct eat_case {
    teep_key_t key;
    teep_eat_trusted_key_t trusted;
    teep_eat_policy_t policy;
    uint8_t token[2048];
    size_t len;
    teep_eat_result_t result;
} eat_case_t;

static int op_eat_verify(void *arg)
{
    eat_case_t *c = arg;
    int rc = teep_eat_verify_evidence(c->token, c->len, &c->policy, &c->result);
    return rc != 0 ? rc : c->result.status != TEEP_EAT_STATUS_AFFIRMING;
}

static void bench_eat(bench_text_t *out)
{
    eat_case_t *c = calloc(1, sizeof(*c));
    static const uint8_t nonce[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    static const uint8_t ueid[17] = {0x01, 0xaa, 0xbb};
    static const uint8_t oemid[3] = {0x00, 0x11, 0x22};
    static const uint8_t hwmodel[4] = {'s', 'i', 'm', '1'};
    static const uint8_t digest[32] = {0x8c, 0xf7};
    static const uint8_t kid[32] = {0xe9, 0x67};
    teep_eat_claims_t claims = {
        .present = TEEP_EAT_REQUIRED | TEEP_EAT_HAS_NONCE | TEEP_EAT_HAS_IAT,
        .iat = (int64_t)time(NULL),
        .cnf_kid = {kid, sizeof(kid)},
        .nonce = {nonce, sizeof(nonce)},
        .ueid = {ueid, sizeof(ueid)},
        .oemid = {.id = {oemid, sizeof(oemid)}},
        .hwmodel = {hwmodel, sizeof(hwmodel)},
        .hwversion = {.version = {(const uint8_t *)"1.0", 3}},
        .n_manifests = 1,
        .manifests = {{.content_type = TEEP_EAT_MANIFEST_CONTENT_TYPE,
                       .uri = {(const uint8_t *)"#tc", 3},
                       .digest_alg = -16,
                       .digest = {digest, sizeof(digest)}}},
    };
    int rc = teep_key_generate(&c->key, TEEP_KEY_P256);
    teep_signer_t signer = {.key = &c->key};
    if (rc == 0)
        rc = teep_eat_sign(&signer, &claims, c->token, sizeof(c->token),
                           &c->len);
    c->trusted = (teep_eat_trusted_key_t){.key = &c->key, .label = "bench"};
    c->policy = (teep_eat_policy_t){
        .keys = &c->trusted,
        .n_keys = 1,
        .nonce = {nonce, sizeof(nonce)},
        .cnf_kid = {kid, sizeof(kid)},
        .now = claims.iat,
        .max_age = 60,
    };
    if (rc == 0)
        rc = op_eat_verify(c);
    bench_text_append(
        out, "\n| EAT Evidence (ESP256) | backend | appraisals per second |\n"
             "|---|---|---:|\n");
    if (rc != 0) {
        printf("eat: failed (%s)\n",
               rc > 0 ? "not affirming" : teep_strerror(rc));
        bench_text_append(out, "| verify + appraise | %s | n/a |\n",
                          teep_crypto_backend());
    } else {
        double per_s = 1e9 / measure(op_eat_verify, c);
        printf("eat evidence %-8s %9.0f appraisals/s\n", teep_crypto_backend(),
               per_s);
        bench_text_append(out,
                          "| verify + appraise (%zu B token) | %s | %.0f |\n",
                          c->len, teep_crypto_backend(), per_s);
    }
    teep_key_clear(&c->key);
    free(c);
}

static void usage(FILE *to)
{
    fprintf(to, "usage: teep-bench-proto [--seconds S] [--vectors DIR] "
                "[--results FILE]\n"
                "  --seconds S     time per measurement (default 0.3)\n"
                "  --vectors DIR   where the *.hex vectors are\n"
                "  --results FILE  rewrite this backend's section of FILE "
                "(bench/RESULTS.md)\n"
                "  --peek-calls N  only call teep_peek N times per message "
                "vector (callgrind)\n"
                "  --vector FILE   with --peek-calls: only this vector\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"seconds", required_argument, NULL, 's'},
        {"vectors", required_argument, NULL, 'v'},
        {"results", required_argument, NULL, 'r'},
        {"peek-calls", required_argument, NULL, 'p'},
        {"vector", required_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *results = NULL, *only = NULL;
    long calls = 0;
    int c;
    while ((c = getopt_long(argc, argv, "s:v:r:p:V:h", opts, NULL)) != -1) {
        switch (c) {
        case 's': budget_s = atof(optarg); break;
        case 'v': vectors_dir = optarg; break;
        case 'r': results = optarg; break;
        case 'p': calls = atol(optarg); break;
        case 'V': only = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (budget_s <= 0) {
        fprintf(stderr, "teep-bench-proto: --seconds must be positive\n");
        return 2;
    }
    if (calls > 0)
        return peek_calls(calls, only);

    bench_text_t section = {0};
    struct utsname u;
    uname(&u);
    time_t t = time(NULL);
    char date[32];
    strftime(date, sizeof(date), "%Y-%m-%d %H:%M UTC", gmtime(&t));
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    bench_text_append(
        &section,
        "## libteepproto, %s backend\n\nMeasured by `teep-bench-proto%s` "
        "on %s (%s %s, %ld CPUs), %.2f s per figure, one thread.\n\n",
        teep_crypto_backend(),
        strcmp(teep_crypto_backend(), "openssl") == 0 ? "" : "-mbedtls", date,
        u.sysname, u.machine, cpus, budget_s);
    bench_messages(&section);
    bench_signatures(&section);
    bench_pd(&section);
    bench_suit(&section);
    bench_eat(&section);
    char name[32];
    snprintf(name, sizeof(name), "proto-%s", teep_crypto_backend());
    int rc = results != NULL ? bench_results_write("teep-bench-proto", results,
                                                   name, section.text)
                             : 0;
    free(section.text);
    return rc == 0 ? 0 : 1;
}
