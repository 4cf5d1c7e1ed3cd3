/*
 * fuzz_pd_decrypt.c: libFuzzer target for the personalization-data
 * decoder and decrypter (teep/pd.h): teep_pd_info_parse(),
 * teep_pd_decrypt() and teep_pd_decrypt_blob().
 *
 * Each input is taken three ways: as a SUIT_Encryption_Info (parsed, its
 * slices checked to lie inside the input, then decrypted with the fixed
 * ciphertext of the suitenc GCM vector), and as a PD blob.  Decryption
 * uses two fixed private keys, so seeds made for them reach the success
 * path: the P-256 receiver key of the published vectors
 * (keys/teep_draft_personalization_kek_receiver.pem) and the X25519 key
 * of RFC 7748 6.1 (Alice).  A result outside the documented codes, a
 * plaintext longer than its ciphertext, or a diagnostic that does not
 * match the result aborts.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "teep/pd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* COSE_Key {1: 2, -1: 1, -2: x, -3: y, -4: d} of the receiver key. */
static const uint8_t p256_cose_key[] = {
    0xa5, 0x01, 0x02, 0x20, 0x01, 0x21, 0x58, 0x20, 0x58, 0x86, 0xcd,
    0x61, 0xdd, 0x87, 0x58, 0x62, 0xe5, 0xaa, 0xa8, 0x20, 0xe7, 0xa1,
    0x52, 0x74, 0xc9, 0x68, 0xa9, 0xbc, 0x96, 0x04, 0x8d, 0xdc, 0xac,
    0xe3, 0x2f, 0x50, 0xc3, 0x65, 0x1b, 0xa3, 0x22, 0x58, 0x20, 0x9e,
    0xed, 0x81, 0x25, 0xe9, 0x32, 0xcd, 0x60, 0xc0, 0xea, 0xd3, 0x65,
    0x0d, 0x0a, 0x48, 0x5c, 0xf7, 0x26, 0xd3, 0x78, 0xd1, 0xb0, 0x16,
    0xed, 0x42, 0x98, 0xb2, 0x96, 0x1e, 0x25, 0x8f, 0x1b, 0x23, 0x58,
    0x20, 0x60, 0xfe, 0x6d, 0xd6, 0xd8, 0x5d, 0x57, 0x40, 0xa5, 0x34,
    0x9b, 0x6f, 0x91, 0x26, 0x7e, 0xea, 0xc5, 0xba, 0x81, 0xb8, 0xcb,
    0x53, 0xee, 0x24, 0x9e, 0x4b, 0x4e, 0xb1, 0x02, 0xc4, 0x76, 0xb3};

/* COSE_Key {1: 1, -1: 4, -2: x, -4: d} of RFC 7748 6.1 Alice. */
static const uint8_t x25519_cose_key[] = {
    0xa4, 0x01, 0x01, 0x20, 0x04, 0x21, 0x58, 0x20, 0x85, 0x20, 0xf0,
    0x09, 0x89, 0x30, 0xa7, 0x54, 0x74, 0x8b, 0x7d, 0xdc, 0xb4, 0x3e,
    0xf7, 0x5a, 0x0d, 0xbf, 0x3a, 0x0d, 0x26, 0x38, 0x1a, 0xf4, 0xeb,
    0xa4, 0xa9, 0x8e, 0xaa, 0x9b, 0x4e, 0x6a, 0x23, 0x58, 0x20, 0x77,
    0x07, 0x6d, 0x0a, 0x73, 0x18, 0xa5, 0x7d, 0x3c, 0x16, 0xc1, 0x72,
    0x51, 0xb2, 0x66, 0x45, 0xdf, 0x4c, 0x2f, 0x87, 0xeb, 0xc0, 0x99,
    0x2a, 0xb1, 0x77, 0xfb, 0xa5, 0x1d, 0xb9, 0x2c, 0x2a};

/* suitenc_encrypted-payload-es-ecdh-aes-gcm: "This is a real firmware
 * image." and its tag. */
static const uint8_t gcm_payload[] = {
    0x75, 0x8c, 0x4b, 0x7b, 0xba, 0xe2, 0xc4, 0xc1, 0xd4, 0x62, 0x42, 0x3e,
    0x0f, 0x0d, 0xc3, 0x16, 0x4f, 0xfa, 0x7b, 0x85, 0xbb, 0x94, 0xd4, 0xbd,
    0x6d, 0x7e, 0xd2, 0x6a, 0xb3, 0x2f, 0xeb, 0x06, 0x33, 0x85, 0xd4, 0xd3,
    0x46, 0x59, 0x27, 0xec, 0x82, 0xcb, 0x5e, 0x19, 0x8a, 0x59};

static teep_key_t keys[2];

static void load_keys(void)
{
    static int loaded;
    if (loaded)
        return;
    if (teep_key_from_cose(&keys[0], p256_cose_key, sizeof(p256_cose_key)) !=
            0 ||
        teep_key_from_cose(&keys[1], x25519_cose_key,
                           sizeof(x25519_cose_key)) != 0)
        abort();
    loaded = 1;
}

static void check_slice(teep_slice_t s, const uint8_t *data, size_t size)
{
    if (s.len > 0 &&
        (s.ptr < data || s.len > size || s.ptr + s.len > data + size))
        abort();
}

/* The codes teep_pd_decrypt documents, the parse errors included. */
static void check_result(const char *what, int rc, const teep_diag_t *diag,
                         size_t out_len, size_t ct_len, size_t input_len)
{
    switch (rc) {
    case 0:
        if (out_len > ct_len)
            abort();
        return;
    case TEEP_E_CBOR:
    case TEEP_E_TRUNCATED:
    case TEEP_E_TRAILING:
    case TEEP_E_DEPTH:
    case TEEP_E_INDEFINITE:
    case TEEP_E_TYPE:
    case TEEP_E_MISSING:
    case TEEP_E_RANGE:
    case TEEP_E_DUPLICATE:
    case TEEP_E_LIMIT:
    case TEEP_E_COSE:
    case TEEP_E_ALG:
    case TEEP_E_KEY:
    case TEEP_E_DECRYPT:
        if (diag->code != rc || diag->offset > input_len) {
            fprintf(stderr, "fuzz_pd_decrypt: %s: diag %d at %zu for %d\n",
                    what, diag->code, diag->offset, rc);
            abort();
        }
        return;
    default:
        fprintf(stderr, "fuzz_pd_decrypt: %s returned %d %s\n", what, rc,
                teep_strerror(rc));
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    load_keys();
    /* Plaintext fits its ciphertext; the blob's ciphertext is inside the
     * input. */
    static uint8_t out[65536];
    size_t out_len = 0;
    teep_diag_t diag;

    teep_pd_info_t info;
    if (teep_pd_info_parse(data, size, &info, &diag) == 0) {
        if (info.n_recipients == 0 ||
            info.n_recipients > TEEP_PD_MAX_RECIPIENTS)
            abort();
        check_slice(info.protected_hdr, data, size);
        check_slice(info.iv, data, size);
        check_slice(info.ciphertext, data, size);
        for (size_t i = 0; i < info.n_recipients; i++) {
            check_slice(info.recipients[i].protected_hdr, data, size);
            check_slice(info.recipients[i].kid, data, size);
            check_slice(info.recipients[i].wrapped_cek, data, size);
        }
    }
    for (size_t k = 0; k < 2; k++) {
        /* detached: the fixed payload, unless the input carries its own */
        teep_slice_t ct = {gcm_payload, sizeof(gcm_payload)};
        memset(&diag, 0, sizeof(diag));
        int rc = teep_pd_decrypt(&keys[k], (teep_slice_t){data, size}, ct, out,
                                 sizeof(out), &out_len, &diag);
        if (rc == TEEP_E_COSE && diag.code == TEEP_E_COSE && diag.offset == 0)
            rc = teep_pd_decrypt(&keys[k], (teep_slice_t){data, size},
                                 (teep_slice_t){NULL, 0}, out, sizeof(out),
                                 &out_len, &diag);
        check_result("decrypt", rc, &diag, out_len,
                     size > sizeof(gcm_payload) ? size : sizeof(gcm_payload),
                     size);

        memset(&diag, 0, sizeof(diag));
        rc = teep_pd_decrypt_blob(&keys[k], data, size, out, sizeof(out),
                                  &out_len, &diag);
        check_result("decrypt_blob", rc, &diag, out_len, size, size);
    }
    return 0;
}
