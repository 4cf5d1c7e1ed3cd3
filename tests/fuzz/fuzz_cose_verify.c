/*
 * fuzz_cose_verify.c: libFuzzer target for teep_cose_parse() and
 * teep_cose_verify(), and for teep_key_from_cose() (the other COSE decoder
 * in proto/).
 *
 * Each input is parsed as COSE; whatever parses is checked for slices
 * inside the input and then verified against a fixed P-256 key (the libteep
 * TAM key, which signed the gen_* and libteep_* TAM vectors, so seeds reach
 * the success path) and a fixed Ed25519 key (RFC 8032 TEST 1, the gen_*
 * Ed25519 signer), with a fixed detached payload when the payload is nil.
 * A result outside the documented codes aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "teep/cose.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* COSE_Key {1: 2, -1: 1, -2: x, -3: y} of the TAM key. */
static const uint8_t p256_cose_key[] = {
    0xa4, 0x01, 0x02, 0x20, 0x01, 0x21, 0x58, 0x20, 0x0e, 0x90, 0x8a,
    0xa8, 0xf0, 0x66, 0xdb, 0x1f, 0x08, 0x4e, 0x0c, 0x36, 0x52, 0xc6,
    0x39, 0x52, 0xbd, 0x99, 0xf2, 0xa5, 0xbd, 0xb2, 0x2f, 0x9e, 0x01,
    0x36, 0x7a, 0xad, 0x03, 0xab, 0xa6, 0x8b, 0x22, 0x58, 0x20, 0x77,
    0xda, 0x1b, 0xd8, 0xac, 0x4f, 0x0c, 0xb4, 0x90, 0xba, 0x21, 0x06,
    0x48, 0xbf, 0x79, 0xab, 0x16, 0x4d, 0x49, 0xad, 0x35, 0x51, 0xd7,
    0x1d, 0x31, 0x4b, 0x27, 0x49, 0xee, 0x42, 0xd2, 0x9a};

/* COSE_Key {1: 1, -1: 6, -2: x} of RFC 8032 7.1 TEST 1. */
static const uint8_t ed25519_cose_key[] = {
    0xa3, 0x01, 0x01, 0x20, 0x06, 0x21, 0x58, 0x20, 0xd7, 0x5a,
    0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe, 0xd3,
    0xc9, 0x64, 0x07, 0x3a, 0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6,
    0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a};

static teep_key_t keys[2];

static void load_keys(void)
{
    static int loaded;
    if (loaded)
        return;
    if (teep_key_from_cose(&keys[0], p256_cose_key, sizeof(p256_cose_key)) !=
            0 ||
        teep_key_from_cose(&keys[1], ed25519_cose_key,
                           sizeof(ed25519_cose_key)) != 0)
        abort();
    loaded = 1;
}

static void check_slice(const teep_slice_t *s, const uint8_t *data, size_t size)
{
    if (s->len > 0 &&
        (s->ptr < data || s->len > size || s->ptr + s->len > data + size))
        abort();
}

static void check_verify(int rc)
{
    switch (rc) {
    case 0:
    case TEEP_E_SIGNATURE:
    case TEEP_E_ALG:
    case TEEP_E_MISSING:
    case TEEP_E_COSE: return;
    default:
        fprintf(stderr, "fuzz_cose_verify: verify returned %d %s\n", rc,
                teep_strerror(rc));
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t detached[] = {0x82, 0x2f, 0x58, 0x20, 0x00};
    load_keys();

    teep_cose_t cose;
    teep_diag_t diag;
    int rc = teep_cose_parse(data, size, &cose, &diag);
    if (rc != 0) {
        if (diag.code != rc || diag.offset > size)
            abort();
    } else {
        if (cose.n_signatures == 0 || cose.n_signatures > TEEP_COSE_MAX_SIGNERS)
            abort();
        check_slice(&cose.protected_hdr, data, size);
        check_slice(&cose.payload, data, size);
        for (size_t i = 0; i < cose.n_signatures; i++) {
            check_slice(&cose.signatures[i].protected_hdr, data, size);
            check_slice(&cose.signatures[i].kid, data, size);
            check_slice(&cose.signatures[i].signature, data, size);
        }
        bool nil = cose.payload.ptr == NULL;
        for (size_t k = 0; k < 2; k++)
            check_verify(teep_cose_verify(&cose, &keys[k],
                                          nil ? detached : NULL,
                                          nil ? sizeof(detached) : 0));
    }

    /* A COSE_Key: whatever loads must write back and load again to the
     * same thumbprint. */
    if (size > 0 && (data[0] >> 5) == 5) {
        teep_key_t key;
        if (teep_key_from_cose(&key, data, size) == 0) {
            uint8_t out[160];
            size_t len;
            teep_key_t again;
            if (teep_key_to_cose(&key, key.has_private, out, sizeof(out),
                                 &len) != 0 ||
                teep_key_from_cose(&again, out, len) != 0 ||
                memcmp(again.kid, key.kid, sizeof(key.kid)) != 0)
                abort();
            teep_key_clear(&again);
        }
        teep_key_clear(&key);
    }
    return 0;
}
