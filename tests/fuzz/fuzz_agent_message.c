/* Fuzz target: arbitrary bytes as a TAM message into the TEEP Agent core
 * (agent/), with a temporary state directory.  The Agent must never crash
 * and must always answer with a message that verifies with its TEEP key
 * and decodes as a TEEP message (an Error for nearly every input), or fail
 * only for lack of memory.  Seeds: tests/vectors (the signed TAM
 * messages). */
#include <errno.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "teep_agent.h"

static teep_agent_t agent;
static teep_key_t tam_key;
static const char *uris[] = {"http://tam.fuzz/"};
static const uint8_t digest[32] = {1};

static int ok_install(void *ctx, teep_slice_t id, const uint8_t *b, size_t n)
{
    return 0;
}

static int ok_uninstall(void *ctx, teep_slice_t id)
{
    return 0;
}

static int ok_pd(void *ctx, teep_slice_t id, const uint8_t *b, size_t n)
{
    return 0;
}

static int ok_ua(void *ctx, const char *name, const uint8_t *b, size_t n)
{
    return 0;
}

static const teep_agent_tee_ops_t tee = {
    .ta_install = ok_install,
    .ta_uninstall = ok_uninstall,
    .pd_deliver = ok_pd,
    .ua_install = ok_ua,
};

static char dir[] = "/tmp/teep-fuzz-agent-XXXXXX";

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
    return remove(path);
}

/* The state directory goes with the process. */
static void cleanup(void)
{
    teep_agent_close(&agent);
    nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    if (mkdtemp(dir) == NULL ||
        teep_key_load_file(&tam_key, TEEP_VECTORS_DIR
                           "/keys/libteep_tam_prime256v1_pub.pem") != 0)
        abort();
    static const uint8_t hwmodel[] = "fuzz";
    teep_agent_config_t cfg = {
        .state_dir = dir,
        .tam_keys = &tam_key,
        .tam_uris = uris,
        .n_tams = 1,
        .tc_signer_keys = &tam_key,
        .n_tc_signers = 1,
        .profile = TEEP_AGENT_PROFILE_AUTO,
        .hwmodel = {hwmodel, 4},
        .hwversion = "fuzz",
        .firmware_uri = "urn:fuzz",
        .firmware_digest = {digest, sizeof(digest)},
        .tee = &tee,
    };
    if (teep_agent_open(&agent, &cfg) != 0)
        abort();
    atexit(cleanup);
    return 0;
}

/* The reply must be a COSE_Sign1 by the Agent around a TEEP message of a
 * type an Agent sends. */
static void check_reply(const uint8_t *buf, size_t len)
{
    teep_cose_t cose;
    static uint8_t arena_mem[TEEP_ARENA_DEFAULT];
    if (teep_cose_parse(buf, len, &cose, NULL) != 0 || cose.tag != 18 ||
        teep_cose_verify(&cose, &agent.teep_key, NULL, 0) != 0)
        abort();
    teep_message_t m;
    teep_arena_t arena;
    int rc = -1;
    for (int p = TEEP_PROFILE_RFC; rc != 0 && p <= TEEP_PROFILE_LEGACY; p++) {
        teep_arena_init(&arena, arena_mem, sizeof(arena_mem));
        rc = teep_message_decode(cose.payload.ptr, cose.payload.len,
                                 (teep_profile_t)p, &arena, &m, NULL);
    }
    if (rc != 0 || (m.type != TEEP_ERROR && m.type != TEEP_QUERY_RESPONSE &&
                    m.type != TEEP_SUCCESS))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *reply = NULL;
    size_t reply_len = 0;
    int rc = teep_agent_process(&agent, size > 0 ? data[0] : 0, data, size,
                                &reply, &reply_len);
    if (rc == -ENOMEM)
        return 0;
    if (rc != 0 || reply == NULL)
        abort();
    check_reply(reply, reply_len);
    free(reply);
    return 0;
}
