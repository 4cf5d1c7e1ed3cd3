/* libFuzzer target: SUIT envelope decoding and verification against a
 * fixed trust anchor (the draft's SUIT key, so mutated vectors keep
 * reaching the signature check) must accept or refuse any input without a
 * crash; what decodes is consistent: slices lie inside the input, and its
 * command sequences and component identifiers walk cleanly. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "teep/suit.h"

static const char draft_key_pem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEhJaBGq4LqqvSYVcYnuzaJr6qi/Eb\n"
    "bz/m4rVlnIXbwK07HypLbAmBMcCjbazR14vTgdzfsJwFLbM5kdtzOLSolg==\n"
    "-----END PUBLIC KEY-----\n";

static const uint8_t *input;
static size_t input_len;

static void inside(teep_slice_t s)
{
    if (s.ptr == NULL)
        return;
    if (s.ptr < input || s.len > input_len || s.ptr + s.len > input + input_len)
        abort();
}

/* Walk a sequence; parameter maps decode or fail, never crash. */
static void walk(teep_slice_t seq)
{
    teep_suit_cmd_iter_t it;
    teep_suit_cmd_t cmd;
    if (seq.ptr == NULL || teep_suit_cmd_begin(&it, seq, NULL) != 0)
        return;
    while (teep_suit_cmd_next(&it, &cmd, NULL) == 1) {
        inside(cmd.arg);
        if (cmd.code == TEEP_SUIT_DIR_OVERRIDE_PARAMETERS ||
            cmd.code == TEEP_SUIT_DIR_SET_PARAMETERS) {
            teep_suit_params_t p;
            if (teep_suit_params_decode(cmd.arg, &p, NULL) == 0) {
                inside(p.uri);
                inside(p.image_digest);
                inside(p.content);
            }
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static teep_key_t key;
    static int loaded;
    if (!loaded) {
        if (teep_key_load(&key, (const uint8_t *)draft_key_pem,
                          strlen(draft_key_pem)) != 0)
            abort();
        loaded = 1;
    }
    input = data;
    input_len = size;
    teep_suit_envelope_t env;
    teep_diag_t diag;
    int rc = teep_suit_envelope_decode(data, size, &env, &diag);
    if (rc != 0) {
        if (diag.code != rc || diag.offset > size)
            abort();
        return 0;
    }
    const teep_suit_manifest_t *m = &env.manifest;
    inside(env.manifest_wrapped);
    inside(env.digest_encoded);
    inside(m->raw);
    for (size_t i = 0; i < env.n_auth_blocks; i++)
        inside(env.auth_blocks[i]);
    for (size_t i = 0; i < env.n_integrated; i++) {
        inside(env.integrated[i].name);
        inside(env.integrated[i].bytes);
    }
    char text[256];
    for (size_t i = 0; i < m->n_components; i++) {
        inside(m->components[i]);
        if (teep_suit_component_id_to_text(m->components[i], text,
                                           sizeof(text)) == 0 &&
            strlen(text) >= sizeof(text))
            abort();
    }
    walk(m->shared_sequence);
    for (int s = 0; s < TEEP_SUIT_SEQ_COUNT; s++) {
        inside(m->sequences[s].value);
        walk(m->sequences[s].value);
    }
    rc = teep_suit_envelope_verify(&env, &key, 1, &diag);
    if (rc != 0 && (diag.code != rc || env.verified))
        abort();
    return 0;
}
