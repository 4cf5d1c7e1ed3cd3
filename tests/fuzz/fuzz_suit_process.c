/* libFuzzer target: the SUIT manifest processor on any envelope that
 * decodes, run as if verified (the test-side way past the signature:
 * teep_suit_process_envelope takes an envelope whose verified flag is set).
 * The device writes nowhere; fetch, read and decrypt hand back fixed
 * bytes.  Dependencies are still verified against the draft's SUIT key,
 * so the vectors' integrated dependencies keep the recursion reachable.
 * Every procedure must end with a result and an encodable report. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "teep/suit.h"

static const char draft_key_pem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEhJaBGq4LqqvSYVcYnuzaJr6qi/Eb\n"
    "bz/m4rVlnIXbwK07HypLbAmBMcCjbazR14vTgdzfsJwFLbM5kdtzOLSolg==\n"
    "-----END PUBLIC KEY-----\n";

static const uint8_t image[] = "Hello, Secure World!";

static int fetch(void *ctx, const teep_suit_component_t *c, teep_slice_t uri,
                 teep_slice_t *bytes)
{
    *bytes = (teep_slice_t){image, sizeof(image) - 1};
    return uri.len % 7 == 0 ? -ENOENT : 0;
}

static int write_nowhere(void *ctx, const teep_suit_component_t *c,
                         teep_slice_t bytes)
{
    return 0;
}

static int read_fixed(void *ctx, const teep_suit_component_t *c,
                      teep_slice_t *bytes)
{
    *bytes = (teep_slice_t){image, sizeof(image) - 1};
    return 0;
}

static int decrypt_copy(void *ctx, const teep_suit_component_t *c,
                        teep_slice_t info, teep_slice_t ciphertext,
                        teep_slice_t *plaintext)
{
    *plaintext = ciphertext;
    return 0;
}

static int invoke(void *ctx, const teep_suit_component_t *c, teep_slice_t args)
{
    return 0;
}

static int unlink_component(void *ctx, const teep_suit_component_t *c)
{
    return 0;
}

static int slot(void *ctx, const teep_suit_component_t *c, uint64_t *s)
{
    *s = 1;
    return 0;
}

static int installed(void *ctx, teep_slice_t id, uint64_t *seq)
{
    return -ENOENT;
}

static int load(void *ctx, teep_slice_t id, teep_slice_t *envelope)
{
    return -ENOENT;
}

static int commit(void *ctx, teep_slice_t id, uint64_t seq,
                  teep_slice_t envelope)
{
    return 0;
}

static const teep_suit_ops_t ops = {
    .fetch = fetch,
    .write = write_nowhere,
    .read = read_fixed,
    .decrypt = decrypt_copy,
    .invoke = invoke,
    .unlink = unlink_component,
    .slot = slot,
    .installed_sequence = installed,
    .load_manifest = load,
    .commit = commit,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static teep_key_t key;
    static int loaded;
    static teep_suit_report_t report;
    static uint8_t encoded[16384];
    if (!loaded) {
        if (teep_key_load(&key, (const uint8_t *)draft_key_pem,
                          strlen(draft_key_pem)) != 0)
            abort();
        loaded = 1;
    }
    teep_suit_envelope_t env;
    if (teep_suit_envelope_decode(data, size, &env, NULL) != 0)
        return 0;
    env.verified = true;
    static const uint8_t vendor[16] = {0xC0, 0xDD, 0xD5, 0xF1, 0x52, 0x43,
                                       0x56, 0x60, 0x87, 0xDB, 0x4F, 0x5B,
                                       0x0A, 0xA2, 0x6C, 0x2F};
    teep_slice_t ids[] = {{vendor, sizeof(vendor)}};
    static const unsigned procedures[] = {
        TEEP_SUIT_PROC_UPDATE | TEEP_SUIT_PROC_INVOKE,
        TEEP_SUIT_PROC_UNINSTALL,
    };
    for (size_t i = 0; i < sizeof(procedures) / sizeof(procedures[0]); i++) {
        teep_suit_config_t cfg = {
            .trust_anchors = &key,
            .n_trust_anchors = 1,
            .vendor_ids = {ids, 1},
            .procedure = procedures[i],
            .nonce = {data, size < 8 ? size : 8},
        };
        int rc = teep_suit_process_envelope(&env, &cfg, &ops, NULL, &report);
        if (report.success != (rc == 0) || report.result_code != rc ||
            report.n_records > TEEP_SUIT_MAX_RECORDS)
            abort();
        size_t len = 0;
        rc = teep_suit_report_encode(&report, encoded, sizeof(encoded), &len);
        if (rc != 0 && rc != -ENOSPC)
            abort();
    }
    return 0;
}
