/*
 * ot_lookup_ta.c: the CC-OT Trusted Application (README.md here).  It runs
 * inside the simulated TEE like examples/hello's TA: its record table
 * arrives as personalization data over its private channel (fd 3,
 * sim_channel.h), decrypted inside the TEE; the Collector's invocations
 * arrive over the same channel through the host's UA gateway.  It answers
 * one query at a time with one record, selected by a scan of the whole
 * table (ot_table_select), encrypted to the Collector's channel key.
 *
 *   ot-lookup-ta                 in the TEE: table = its PD (reassembled
 *                                from the channel's PD packets)
 *   ot-lookup-ta --table FILE    the same binary outside any TEE, with the
 *                                table read from FILE (tests)
 *
 * Its channel key pair is made when it starts, inside the TEE, and never
 * leaves it; it registers the public key with the TEE ('K'), whose Agent
 * names the key's hash in its attestation Evidence: README.md, "What binds
 * the TA's key".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "ot.h"
#include "sim_channel.h"

typedef struct ta {
    EVP_PKEY *key;
    uint8_t pub[OT_PUB_LEN];
    uint8_t *blob; /* the table's bytes (PD or file) */
    ot_table_t table;
    int has_table;
    ot_channel_t ch;
    uint64_t last_seq; /* the last query's; only higher ones are accepted */
    uint8_t *record;
} ta_t;

/* The largest table taken as PD: the TEE's own bound. */
#define OT_PD_MAX SIM_PD_MAX

static uint8_t in[SIM_CHANNEL_MAX];
static uint8_t out[SIM_CHANNEL_MAX];

static size_t refuse(const char *why)
{
    out[0] = OT_MSG_ERROR;
    size_t n = strlen(why);
    memcpy(out + 1, why, n);
    return n + 1;
}

static int take_table(ta_t *ta, uint8_t *blob, size_t len)
{
    ot_table_t t;
    if (ot_table_parse(blob, len, &t) != 0 ||
        (size_t)t.size + 1 + OT_SEQ_LEN + OT_TAG_LEN > SIM_CHANNEL_MAX) {
        fprintf(stderr, "ot-lookup-ta: personalization data is no table\n");
        free(blob);
        return -EINVAL;
    }
    uint8_t *record = malloc(t.size);
    if (record == NULL) {
        free(blob);
        return -ENOMEM;
    }
    free(ta->blob);
    free(ta->record);
    ta->blob = blob;
    ta->record = record;
    ta->table = t;
    ta->has_table = 1;
    /* A new table starts over: a Collector agrees a key again. */
    memset(&ta->ch, 0, sizeof(ta->ch));
    ta->last_seq = 0;
    fprintf(stderr, "ot-lookup-ta: table of %u records of %u bytes\n", t.n,
            t.size);
    return 0;
}

static size_t answer(ta_t *ta, const uint8_t *req, size_t n)
{
    if (n < 1)
        return refuse("empty request");
    switch (req[0]) {
    case OT_MSG_HELLO:
        if (!ta->has_table)
            return refuse("no table yet");
        out[0] = 'h';
        memcpy(out + 1, ta->pub, OT_PUB_LEN);
        ot_put_be32(out + 1 + OT_PUB_LEN, ta->table.n);
        ot_put_be32(out + 5 + OT_PUB_LEN, ta->table.size);
        return 9 + OT_PUB_LEN;
    case OT_MSG_KEY: {
        if (n != 1 + OT_PUB_LEN)
            return refuse("bad key message");
        ot_channel_t ch;
        if (ot_channel_derive(&ch, ta->key, req + 1, ta->pub, req + 1) != 0)
            return refuse("bad collector key");
        ta->ch = ch;
        ta->last_seq = 0;
        out[0] = 'k';
        if (ot_seal(ta->ch.s2c, 'k', 0, (const uint8_t *)OT_READY,
                    strlen(OT_READY), out + 1) != 0)
            return refuse("internal error");
        return 1 + strlen(OT_READY) + OT_TAG_LEN;
    }
    case OT_MSG_QUERY: {
        /* No channel key, no query: a Collector agrees one only after it
         * checked the attestation (ot_collector.c). */
        if (!ta->ch.ready)
            return refuse("no channel: attest the TA and agree a key first");
        if (n != 1 + OT_SEQ_LEN + 4 + OT_TAG_LEN)
            return refuse("bad query");
        uint64_t seq = ot_get_be64(req + 1);
        uint8_t idx_be[4];
        if (seq <= ta->last_seq)
            return refuse("replayed query");
        if (ot_open(ta->ch.c2s, OT_MSG_QUERY, seq, req + 1 + OT_SEQ_LEN,
                    4 + OT_TAG_LEN, idx_be) != 0)
            return refuse("query rejected: authentication failed");
        ta->last_seq = seq;
        uint32_t idx = ot_get_be32(idx_be);
        /* An index past the table selects nothing: the answer is zeros,
         * with the same work and the same size as any other. */
        ot_table_select(&ta->table, idx, ta->record);
        out[0] = 'A';
        ot_put_be64(out + 1, seq);
        if (ot_seal(ta->ch.s2c, 'A', seq, ta->record, ta->table.size,
                    out + 1 + OT_SEQ_LEN) != 0)
            return refuse("internal error");
        return 1 + OT_SEQ_LEN + ta->table.size + OT_TAG_LEN;
    }
    case OT_MSG_STATS: {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        uint64_t us =
            (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000u +
            (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
        out[0] = 's';
        ot_put_be64(out + 1, us);
        return 9;
    }
    default: return refuse("unknown request");
    }
}

static int load_file(ta_t *ta, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        return -errno;
    }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    rewind(f);
    uint8_t *blob = len > 0 ? malloc((size_t)len) : NULL;
    if (blob == NULL || fread(blob, 1, (size_t)len, f) != (size_t)len) {
        fclose(f);
        free(blob);
        return -EIO;
    }
    fclose(f);
    return take_table(ta, blob, (size_t)len);
}

int main(int argc, char **argv)
{
    /* No ptrace from the REE's user, no core dump with the table in it. */
    prctl(PR_SET_DUMPABLE, 0);
    ta_t ta = {0};
    ta.key = ot_key_new();
    if (ta.key == NULL || ot_key_public(ta.key, ta.pub) != 0)
        return 1;
    if (argc == 3 && strcmp(argv[1], "--table") == 0) {
        if (load_file(&ta, argv[2]) != 0)
            return 1;
    } else if (argc != 1) {
        fprintf(stderr, "usage: ot-lookup-ta [--table FILE]\n");
        return 2;
    }
    /* Before anything else: the TEE learns the key its callers will get. */
    if (sim_channel_send(SIM_CHANNEL_FD, SIM_MSG_KEY, ta.pub, OT_PUB_LEN) != 0)
        return 1;
    sim_pd_t pd = {0};
    for (;;) {
        uint8_t type;
        ssize_t n = sim_channel_recv(SIM_CHANNEL_FD, &type, in, sizeof(in));
        if (n == -EPIPE)
            return 0; /* the TEE closed the channel: stop */
        if (n < 0)
            return 1;
        if (type == SIM_MSG_PD_MORE || type == SIM_MSG_PD) {
            int rc = sim_pd_add(&pd, type, in, (size_t)n, OT_PD_MAX);
            if (rc < 0)
                fprintf(stderr,
                        "ot-lookup-ta: personalization data "
                        "dropped: %s\n",
                        strerror(-rc));
            if (rc == 1) {
                uint8_t *blob;
                size_t len;
                sim_pd_take(&pd, &blob, &len);
                take_table(&ta, blob, len);
            }
        } else if (type == SIM_MSG_INVOKE) {
            size_t len = answer(&ta, in, (size_t)n);
            if (sim_channel_send(SIM_CHANNEL_FD, SIM_MSG_REPLY, out, len) != 0)
                return 1;
        }
    }
}
