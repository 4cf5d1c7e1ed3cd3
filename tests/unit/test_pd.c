/* Unit tests of personalization-data encryption (proto/pd.c, pd_info.c)
 * and the crypto primitives under it (crypto.h), against the backend the
 * binary links: test_pd = OpenSSL, test_pd_mbedtls = mbedtls (the TEEP
 * Agent's).  Known answers come from the RFCs and were checked with an
 * independent implementation (Python cryptography). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <errno.h>

#include "cbor_writer.h"
#include "crypto.h"
#include "teep/pd.h"
#include "teep/suit.h"
#include "vectors.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define RECEIVER_KEY "keys/teep_draft_personalization_kek_receiver.pem"
#define SUIT_KEY     "keys/teep_draft_suit_signing_key_public.pem"
#define FIRMWARE     "This is a real firmware image."
#define PD_PLAIN                                                               \
    "{\"name\":\"FOO Bar\",\"secret\":\"0123456789abfcdef0123456789abcd\"}"
#define PD_SHA256                                                              \
    "8273468FB64BD84BB04825F8371744D952B751C73A60F455AF681E167726F116"

static void hex(const char *text, uint8_t *out, size_t n)
{
    assert_int_equal(strlen(text), 2 * n);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        assert_int_equal(sscanf(text + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
}

static void assert_hex_equal(const uint8_t *got, const char *want, size_t n)
{
    uint8_t w[256];
    assert_true(n <= sizeof(w));
    hex(want, w, n);
    assert_memory_equal(got, w, n);
}

static void load_key(teep_key_t *key, const char *name)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", TEEP_VECTORS_DIR, name);
    int rc = teep_key_load_file(key, path);
    if (rc != 0)
        print_error("%s: %s\n", name, teep_strerror(rc));
    assert_int_equal(rc, 0);
}

static uint8_t *load(const char *name, size_t *len)
{
    uint8_t *buf = vector_load_hex(name, len);
    assert_non_null(buf);
    return buf;
}

/* A fresh key, or false when the backend lacks the type (the caller then
 * expects TEEP_E_ALG where it matters). */
static bool generate(teep_key_t *key, teep_key_type_t type)
{
    int rc = teep_key_generate(key, type);
    if (rc == TEEP_E_ALG)
        return false;
    assert_int_equal(rc, 0);
    return true;
}

/* ---- Primitives ---------------------------------------------------------- */

static void aes_key_wrap_rfc3394(void **state)
{
    uint8_t kek[16], cek[32], wrapped[40], back[32];
    hex("000102030405060708090A0B0C0D0E0F", kek, 16);
    hex("00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F", cek,
        32);
    /* RFC 3394 4.1 */
    assert_int_equal(tp_crypto_aes_kw_wrap(kek, cek, 16, wrapped), 0);
    assert_hex_equal(wrapped,
                     "1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5", 24);
    assert_int_equal(tp_crypto_aes_kw_unwrap(kek, wrapped, 24, back), 0);
    assert_memory_equal(back, cek, 16);
    /* a 32-byte CEK (ChaCha20) under a 128-bit KEK */
    assert_int_equal(tp_crypto_aes_kw_wrap(kek, cek, 32, wrapped), 0);
    assert_hex_equal(wrapped,
                     "11826840774D993FF9C2FA02CCA3CEA0E93B1E1CF96361F93EA6DC2F"
                     "345194E7B30F964C79F9E61D",
                     40);
    assert_int_equal(tp_crypto_aes_kw_unwrap(kek, wrapped, 40, back), 0);
    assert_memory_equal(back, cek, 32);
    /* the integrity check: another KEK, a changed bit */
    kek[15] ^= 1;
    assert_int_equal(tp_crypto_aes_kw_unwrap(kek, wrapped, 40, back),
                     TEEP_E_DECRYPT);
    static const uint8_t zeros[32];
    assert_memory_equal(back, zeros, 32); /* wiped */
    kek[15] ^= 1;
    wrapped[39] ^= 0x80;
    assert_int_equal(tp_crypto_aes_kw_unwrap(kek, wrapped, 40, back),
                     TEEP_E_DECRYPT);
    assert_int_equal(tp_crypto_aes_kw_wrap(kek, cek, 12, wrapped), -EINVAL);
    assert_int_equal(tp_crypto_aes_kw_wrap(kek, cek, 8, wrapped), -EINVAL);
    assert_int_equal(tp_crypto_aes_kw_unwrap(kek, wrapped, 16, back), -EINVAL);
    assert_int_equal(tp_crypto_aes_kw_unwrap(kek, wrapped, 25, back), -EINVAL);
}

static void hkdf_sha256_rfc5869(void **state)
{
    uint8_t ikm[22], salt[13], info[10], okm[42];
    memset(ikm, 0x0b, sizeof(ikm));
    hex("000102030405060708090A0B0C", salt, sizeof(salt));
    hex("F0F1F2F3F4F5F6F7F8F9", info, sizeof(info));
    /* Test Case 1 */
    assert_int_equal(tp_crypto_hkdf_sha256(salt, sizeof(salt), ikm, sizeof(ikm),
                                           info, sizeof(info), okm,
                                           sizeof(okm)),
                     0);
    assert_hex_equal(okm,
                     "3CB25F25FAACD57A90434F64D0362F2A2D2D0A90CF1A5A4C5DB02D56"
                     "ECC4C5BF34007208D5B887185865",
                     42);
    /* Test Case 3: no salt, no info */
    assert_int_equal(tp_crypto_hkdf_sha256(NULL, 0, ikm, sizeof(ikm), NULL, 0,
                                           okm, sizeof(okm)),
                     0);
    assert_hex_equal(okm,
                     "8DA4E775A563C18F715F802A063C5A31B8A11F5C5EE1879EC3454E5F"
                     "3C738D2D9D201395FAA4B61A96C8",
                     42);
    assert_int_equal(
        tp_crypto_hkdf_sha256(NULL, 0, ikm, sizeof(ikm), NULL, 0, okm, 0),
        -EINVAL);
}

/* RFC 7748 section 6.1, both directions, and the public key from d. */
static void x25519_rfc7748(void **state)
{
    teep_key_t alice = {.type = TEEP_KEY_X25519, .has_private = true};
    teep_key_t bob = {.type = TEEP_KEY_X25519, .has_private = true};
    hex("77076D0A7318A57D3C16C17251B26645DF4C2F87EBC0992AB177FBA51DB92C2A",
        alice.d, 32);
    hex("5DAB087E624A8A4B79E17F8B83800EE66F3BB1292618B6FD1C2F8B27FF88E0EB",
        bob.d, 32);
    uint8_t y[32], z[32];
    int rc =
        tp_crypto_public_from_private(TEEP_KEY_X25519, alice.d, alice.x, y);
    if (rc == TEEP_E_ALG)
        skip(); /* an mbedtls build without Curve25519 */
    assert_int_equal(rc, 0);
    assert_hex_equal(
        alice.x,
        "8520F0098930A754748B7DDCB43EF75A0DBF3A0D26381AF4EBA4A98EAA9B4E6A", 32);
    assert_int_equal(
        tp_crypto_public_from_private(TEEP_KEY_X25519, bob.d, bob.x, y), 0);
    assert_hex_equal(
        bob.x,
        "DE9EDB7D7B7DC1B4D35B61C2ECE435373F8343C85B78674DADFC7E146F882B4F", 32);
    assert_int_equal(tp_crypto_ecdh(&alice, &bob, z), 0);
    assert_hex_equal(
        z, "4A5D9D5BA4CE2DE1728E3BF480350F25E07E21C947D19E3376F09B3C1E161742",
        32);
    assert_int_equal(tp_crypto_ecdh(&bob, &alice, z), 0);
    assert_hex_equal(
        z, "4A5D9D5BA4CE2DE1728E3BF480350F25E07E21C947D19E3376F09B3C1E161742",
        32);
    /* the halves must be of one type and the first must be private */
    teep_key_t p256;
    assert_true(generate(&p256, TEEP_KEY_P256));
    assert_int_equal(tp_crypto_ecdh(&alice, &p256, z), TEEP_E_KEY);
    assert_int_equal(tp_crypto_ecdh(&p256, &alice, z), TEEP_E_KEY);
    alice.has_private = false;
    assert_int_equal(tp_crypto_ecdh(&alice, &bob, z), TEEP_E_KEY);
    teep_key_clear(&p256);
}

static void p256_ecdh_agrees(void **state)
{
    teep_key_t a, b, a_pub;
    uint8_t z1[32], z2[32];
    assert_true(generate(&a, TEEP_KEY_P256));
    assert_true(generate(&b, TEEP_KEY_P256));
    assert_int_equal(tp_crypto_ecdh(&a, &b, z1), 0);
    assert_int_equal(tp_crypto_ecdh(&b, &a, z2), 0);
    assert_memory_equal(z1, z2, 32);
    /* a key filled in by hand (no backend object) agrees the same */
    a_pub = (teep_key_t){.type = TEEP_KEY_P256};
    memcpy(a_pub.x, a.x, 32);
    memcpy(a_pub.y, a.y, 32);
    assert_int_equal(tp_crypto_ecdh(&b, &a_pub, z2), 0);
    assert_memory_equal(z1, z2, 32);
    /* a point off the curve */
    a_pub.y[31] ^= 1;
    assert_int_equal(tp_crypto_ecdh(&b, &a_pub, z2), TEEP_E_KEY);
    teep_key_clear(&a);
    teep_key_clear(&b);
}

static void content_ciphers_known_answers(void **state)
{
    /* RFC 8439 2.8.2 */
    static const char sunscreen[] =
        "Ladies and Gentlemen of the class of '99: If I could offer you only "
        "one tip for the future, sunscreen would be it.";
    uint8_t key[32], nonce[12], aad[12], out[128], tag[16], back[128];
    for (size_t i = 0; i < 32; i++)
        key[i] = (uint8_t)(0x80 + i);
    hex("070000004041424344454647", nonce, 12);
    hex("50515253C0C1C2C3C4C5C6C7", aad, 12);
    size_t n = sizeof(sunscreen) - 1;
    assert_int_equal(tp_crypto_cipher(TP_CIPHER_CHACHA20_POLY1305, true, key,
                                      nonce, aad, 12,
                                      (const uint8_t *)sunscreen, n, out, tag),
                     0);
    assert_hex_equal(out,
                     "D31A8D34648E60DB7B86AFBC53EF7EC2A4ADED51296E08FEA9E2B5A7"
                     "36EE62D63DBEA45E8CA9671282FAFB69DA92728B1A71DE0A9E060B29"
                     "05D6A5B67ECD3B3692DDBD7F2D778B8C9803AEE328091B58FAB324E4"
                     "FAD675945585808B4831D7BC3FF4DEF08E4B7A9DE576D26586CEC64B"
                     "6116",
                     n);
    assert_hex_equal(tag, "1AE10B594F09E26A7E902ECBD0600691", 16);
    assert_int_equal(tp_crypto_cipher(TP_CIPHER_CHACHA20_POLY1305, false, key,
                                      nonce, aad, 12, out, n, back, tag),
                     0);
    assert_memory_equal(back, sunscreen, n);
    aad[0] ^= 1;
    assert_int_equal(tp_crypto_cipher(TP_CIPHER_CHACHA20_POLY1305, false, key,
                                      nonce, aad, 12, out, n, back, tag),
                     TEEP_E_DECRYPT);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(back[i], 0); /* wiped */

    /* AES-GCM, McGrew-Viega test case 2; then in place */
    uint8_t zero16[16] = {0}, zero12[12] = {0};
    assert_int_equal(tp_crypto_cipher(TP_CIPHER_AES128_GCM, true, zero16,
                                      zero12, NULL, 0, zero16, 16, out, tag),
                     0);
    assert_hex_equal(out, "0388DACE60B6A392F328C2B971B2FE78", 16);
    assert_hex_equal(tag, "AB6E47D42CEC13BDF53A67B21257BDDF", 16);
    assert_int_equal(tp_crypto_cipher(TP_CIPHER_AES128_GCM, false, zero16,
                                      zero12, NULL, 0, out, 16, out, tag),
                     0);
    assert_memory_equal(out, zero16, 16);
    tag[0] ^= 1;
    assert_int_equal(tp_crypto_cipher(TP_CIPHER_AES128_GCM, false, zero16,
                                      zero12, NULL, 0, out, 16, back, tag),
                     TEEP_E_DECRYPT);

    /* AES-CTR, SP 800-38A F.5.1, and the counter wrapping around */
    uint8_t k[16], iv[16], pt[32];
    hex("2B7E151628AED2A6ABF7158809CF4F3C", k, 16);
    hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFDFEFF", iv, 16);
    hex("6BC1BEE22E409F96E93D7E117393172AAE2D8A571E03AC9C9EB76FAC45AF8E51", pt,
        32);
    assert_int_equal(tp_crypto_cipher(TP_CIPHER_AES128_CTR, true, k, iv, NULL,
                                      0, pt, 32, out, NULL),
                     0);
    assert_hex_equal(
        out, "874D6191B620E3261BEF6864990DB6CE9806F66B7970FDFF8617187BB9FFFDFF",
        32);
    memset(iv, 0xff, 16);
    memset(pt, 0, 32);
    assert_int_equal(tp_crypto_cipher(TP_CIPHER_AES128_CTR, false, k, iv, NULL,
                                      0, pt, 32, out, NULL),
                     0);
    assert_hex_equal(
        out, "8AF2860142F786F409307C1A3F7EAAAC7DF76B0C1AB899B33E42F047B91B546F",
        32);
}

/* ---- Published vectors --------------------------------------------------- */

static void decrypt_suitenc(const char *info_name, const char *payload_name,
                            int64_t content_alg)
{
    teep_key_t key;
    load_key(&key, RECEIVER_KEY);
    size_t info_len, ct_len, out_len = 0;
    uint8_t *info = load(info_name, &info_len);
    uint8_t *ct = load(payload_name, &ct_len);
    teep_pd_info_t parsed;
    teep_diag_t diag;
    assert_int_equal(teep_pd_info_parse(info, info_len, &parsed, &diag), 0);
    assert_int_equal(parsed.content_alg, content_alg);
    assert_null(parsed.ciphertext.ptr); /* detached */
    assert_int_equal(parsed.n_recipients, 1);
    assert_int_equal(parsed.recipients[0].key_alg, TEEP_PD_ALG_ECDH_ES_A128KW);
    assert_int_equal(parsed.recipients[0].ephemeral_type, TEEP_KEY_P256);
    assert_int_equal(parsed.recipients[0].wrapped_cek.len, 24);

    uint8_t out[64];
    assert_int_equal(teep_pd_decrypt(&key, (teep_slice_t){info, info_len},
                                     (teep_slice_t){ct, ct_len}, out,
                                     sizeof(out), &out_len, &diag),
                     0);
    assert_int_equal(out_len, strlen(FIRMWARE));
    assert_memory_equal(out, FIRMWARE, out_len);
    free(info);
    free(ct);
    teep_key_clear(&key);
}

static void suitenc_vectors_decrypt(void **state)
{
    decrypt_suitenc("suitenc_suit-encryption-info-es-ecdh-aes-ctr.hex",
                    "suitenc_encrypted-payload-es-ecdh-aes-ctr.hex",
                    TEEP_PD_ALG_A128CTR);
    decrypt_suitenc("suitenc_suit-encryption-info-es-ecdh-aes-gcm.hex",
                    "suitenc_encrypted-payload-es-ecdh-aes-gcm.hex",
                    TEEP_PD_ALG_A128GCM);
}

/* content (18) and encryption-info (19) of the override-parameters in a
 * manifest's install sequence, through the SUIT API. */
static void install_params(const uint8_t *buf, size_t len,
                           teep_suit_envelope_t *env, teep_suit_params_t *p)
{
    teep_diag_t diag;
    assert_int_equal(teep_suit_envelope_decode(buf, len, env, &diag), 0);
    const teep_suit_member_t *install =
        &env->manifest.sequences[TEEP_SUIT_SEQ_INSTALL];
    assert_true(install->present && install->value.ptr != NULL);
    teep_suit_cmd_iter_t it;
    teep_suit_cmd_t cmd;
    assert_int_equal(teep_suit_cmd_begin(&it, install->value, &diag), 0);
    int rc;
    while ((rc = teep_suit_cmd_next(&it, &cmd, &diag)) == 1) {
        if (cmd.code != TEEP_SUIT_DIR_OVERRIDE_PARAMETERS)
            continue;
        assert_int_equal(teep_suit_params_decode(cmd.arg, p, &diag), 0);
        if (p->present & TEEP_SUIT_PARAM_BIT(TEEP_SUIT_PARAM_ENCRYPTION_INFO))
            return;
    }
    fail_msg("no encryption-info in the install sequence (%d)", rc);
}

/* TEEP Scenario 3: the encrypted config.json, its SHA-256 the manifest's
 * validate digest. */
static void personalization_vector_decrypts(void **state)
{
    size_t len = 0, out_len = 0;
    uint8_t *buf = load("tp_suit_personalization.hex", &len);
    teep_suit_envelope_t env;
    teep_suit_params_t p;
    install_params(buf, len, &env, &p);
    assert_true(p.present & TEEP_SUIT_PARAM_BIT(TEEP_SUIT_PARAM_CONTENT));
    teep_key_t key;
    load_key(&key, RECEIVER_KEY);
    uint8_t out[128], digest[32];
    teep_diag_t diag;
    int rc = teep_pd_decrypt(&key, p.encryption_info, p.content, out,
                             sizeof(out), &out_len, &diag);
    if (rc != 0)
        print_error("%s at %zu\n", diag.reason, diag.offset);
    assert_int_equal(rc, 0);
    assert_int_equal(out_len, 61);
    assert_memory_equal(out, PD_PLAIN, 61);
    assert_int_equal(teep_sha256(out, out_len, digest), 0);
    assert_hex_equal(digest, PD_SHA256, 32);

    /* the same through the PD blob a data owner would ship */
    uint8_t blob[512];
    tp_cbor_writer_t w;
    tp_cw_init(&w, blob, sizeof(blob));
    tp_cw_array(&w, 2);
    tp_cw_bstr(&w, p.encryption_info.ptr, p.encryption_info.len);
    tp_cw_bstr(&w, p.content.ptr, p.content.len);
    assert_int_equal(tp_cw_result(&w), 0);
    memset(out, 0, sizeof(out));
    assert_int_equal(teep_pd_decrypt_blob(&key, blob, w.len, out, sizeof(out),
                                          &out_len, &diag),
                     0);
    assert_memory_equal(out, PD_PLAIN, 61);
    /* CTR: a wrong key is still caught, by AES-KW */
    teep_key_t other;
    assert_true(generate(&other, TEEP_KEY_P256));
    assert_int_equal(teep_pd_decrypt_blob(&other, blob, w.len, out, sizeof(out),
                                          &out_len, &diag),
                     TEEP_E_DECRYPT);
    assert_int_equal(diag.code, TEEP_E_DECRYPT);
    teep_key_clear(&other);
    teep_key_clear(&key);
    free(buf);
}

/* The SUIT processor's decrypt callback, done for real. */
typedef struct device {
    const teep_key_t *key;
    uint8_t plain[256];
    uint8_t component[256];
    size_t component_len;
    int decrypts;
} device_t;

static int dev_decrypt(void *ctx, const teep_suit_component_t *c,
                       teep_slice_t info, teep_slice_t ciphertext,
                       teep_slice_t *plaintext)
{
    device_t *d = ctx;
    size_t len = 0;
    d->decrypts++;
    int rc = teep_pd_decrypt(d->key, info, ciphertext, d->plain,
                             sizeof(d->plain), &len, NULL);
    *plaintext = (teep_slice_t){d->plain, len};
    return rc;
}

static int dev_write(void *ctx, const teep_suit_component_t *c,
                     teep_slice_t bytes)
{
    device_t *d = ctx;
    assert_true(bytes.len <= sizeof(d->component));
    memcpy(d->component, bytes.ptr, bytes.len);
    d->component_len = bytes.len;
    return 0;
}

static void suit_processor_decrypts(void **state)
{
    size_t len = 0;
    uint8_t *buf = load("suitenc_suit-manifest-es-ecdh-content.hex", &len);
    teep_key_t anchor, key;
    load_key(&anchor, SUIT_KEY);
    load_key(&key, RECEIVER_KEY);
    teep_suit_ops_t ops = {.write = dev_write, .decrypt = dev_decrypt};
    teep_suit_config_t cfg = {.trust_anchors = &anchor,
                              .n_trust_anchors = 1,
                              .procedure = TEEP_SUIT_PROC_UPDATE};
    device_t d = {.key = &key};
    teep_suit_report_t *report = malloc(sizeof(*report));
    int rc = teep_suit_process(buf, len, &cfg, &ops, &d, report);
    if (rc != 0)
        print_error("%s\n", report->diag.reason);
    assert_int_equal(rc, 0);
    assert_int_equal(d.decrypts, 1);
    assert_int_equal(d.component_len, strlen(FIRMWARE));
    assert_memory_equal(d.component, FIRMWARE, d.component_len);

    /* a TEE holding another key cannot: the operation fails */
    teep_key_t other;
    assert_true(generate(&other, TEEP_KEY_P256));
    d = (device_t){.key = &other};
    assert_int_not_equal(teep_suit_process(buf, len, &cfg, &ops, &d, report),
                         0);
    assert_int_equal(d.component_len, 0);
    teep_key_clear(&other);
    free(report);
    teep_key_clear(&anchor);
    teep_key_clear(&key);
    free(buf);
}

/* The GCM vector with its ciphertext attached instead of nil. */
static void attached_ciphertext(void **state)
{
    teep_key_t key;
    load_key(&key, RECEIVER_KEY);
    size_t info_len, ct_len, out_len = 0;
    uint8_t *info =
        load("suitenc_suit-encryption-info-es-ecdh-aes-gcm.hex", &info_len);
    uint8_t *ct =
        load("suitenc_encrypted-payload-es-ecdh-aes-gcm.hex", &ct_len);
    /* 96([<<{1: 1}>>, {5: IV(12)}, nil, ...]): nil at byte 22 */
    const size_t nil_at = 22;
    assert_int_equal(info[nil_at], 0xf6);
    uint8_t attached[512];
    tp_cbor_writer_t w;
    tp_cw_init(&w, attached, sizeof(attached));
    tp_cw_raw(&w, info, nil_at);
    tp_cw_bstr(&w, ct, ct_len);
    tp_cw_raw(&w, info + nil_at + 1, info_len - nil_at - 1);
    assert_int_equal(tp_cw_result(&w), 0);

    uint8_t out[64];
    teep_slice_t none = {NULL, 0};
    assert_int_equal(teep_pd_decrypt(&key, (teep_slice_t){attached, w.len},
                                     none, out, sizeof(out), &out_len, NULL),
                     0);
    assert_memory_equal(out, FIRMWARE, out_len);
    assert_int_equal(teep_pd_decrypt(&key, (teep_slice_t){attached, w.len},
                                     (teep_slice_t){ct, ct_len}, out,
                                     sizeof(out), &out_len, NULL),
                     TEEP_E_COSE);
    assert_int_equal(teep_pd_decrypt(&key, (teep_slice_t){info, info_len}, none,
                                     out, sizeof(out), &out_len, NULL),
                     TEEP_E_MISSING);
    free(info);
    free(ct);
    teep_key_clear(&key);
}

/* ---- Round trips ------------------------------------------------------- */

static const int64_t key_algs[] = {TEEP_PD_ALG_ECDH_ES_A128KW,
                                   TEEP_PD_ALG_ECDH_ES_HKDF_256};
static const int64_t content_algs[] = {TEEP_PD_ALG_A128GCM, TEEP_PD_ALG_A128CTR,
                                       TEEP_PD_ALG_CHACHA20_POLY1305};
static const size_t sizes[] = {0, 1, 61, 1000, 70000};

/* Encrypt and decrypt one payload, as detached parts and as a blob, and
 * check what the encryption info says. */
static void round_trip(const teep_key_t *key, const teep_pd_params_t *params,
                       const uint8_t *plain, size_t len)
{
    size_t cap = TEEP_PD_BLOB_MAX(len);
    uint8_t info[TEEP_PD_INFO_MAX];
    uint8_t *ct = malloc(TEEP_PD_CIPHERTEXT_MAX(len));
    uint8_t *blob = malloc(cap);
    uint8_t *out = malloc(len + 1);
    size_t info_len = 0, ct_len = 0, blob_len = 0, out_len = 0;
    teep_diag_t diag;
    assert_int_equal(teep_pd_encrypt(key, params, plain, len, info,
                                     sizeof(info), &info_len, ct,
                                     TEEP_PD_CIPHERTEXT_MAX(len), &ct_len),
                     0);
    teep_pd_info_t parsed;
    assert_int_equal(teep_pd_info_parse(info, info_len, &parsed, &diag), 0);
    assert_int_equal(parsed.content_alg, params->content_alg);
    assert_int_equal(parsed.recipients[0].key_alg, params->key_alg);
    assert_int_equal(parsed.recipients[0].ephemeral_type, key->type);
    assert_int_equal(parsed.recipients[0].kid.len, params->kid.len);
    bool aead = params->content_alg != TEEP_PD_ALG_A128CTR;
    assert_int_equal(ct_len, len + (aead ? 16 : 0));
    /* {1: alg} for the AEADs, h'' for AES-CTR */
    assert_true(aead ? parsed.protected_hdr.len > 0
                     : parsed.protected_hdr.len == 0);

    assert_int_equal(teep_pd_decrypt(key, (teep_slice_t){info, info_len},
                                     (teep_slice_t){ct, ct_len}, out, len,
                                     &out_len, &diag),
                     0);
    assert_int_equal(out_len, len);
    if (len > 0)
        assert_memory_equal(out, plain, len);
    /* decrypting in place */
    assert_int_equal(teep_pd_decrypt(key, (teep_slice_t){info, info_len},
                                     (teep_slice_t){ct, ct_len}, ct, ct_len,
                                     &out_len, &diag),
                     0);
    if (len > 0)
        assert_memory_equal(ct, plain, len);

    assert_int_equal(
        teep_pd_encrypt_blob(key, params, plain, len, blob, cap, &blob_len), 0);
    memset(out, 0, len + 1);
    assert_int_equal(
        teep_pd_decrypt_blob(key, blob, blob_len, out, len, &out_len, &diag),
        0);
    assert_int_equal(out_len, len);
    if (len > 0)
        assert_memory_equal(out, plain, len);
    free(ct);
    free(blob);
    free(out);
}

static void round_trips(void **state)
{
    uint8_t *plain = malloc(sizes[ARRAY_LEN(sizes) - 1]);
    assert_int_equal(teep_random(plain, sizes[ARRAY_LEN(sizes) - 1]), 0);
    static const teep_key_type_t types[] = {TEEP_KEY_P256, TEEP_KEY_X25519};
    for (size_t t = 0; t < ARRAY_LEN(types); t++) {
        teep_key_t key;
        if (!generate(&key, types[t])) {
            /* only a backend without Curve25519 may lack X25519 */
            assert_int_equal(types[t], TEEP_KEY_X25519);
            continue;
        }
        for (size_t k = 0; k < ARRAY_LEN(key_algs); k++) {
            for (size_t c = 0; c < ARRAY_LEN(content_algs); c++) {
                teep_pd_params_t params = {
                    key_algs[k], content_algs[c], {key.kid, sizeof(key.kid)}};
                if (key_algs[k] == TEEP_PD_ALG_ECDH_ES_HKDF_256 &&
                    content_algs[c] == TEEP_PD_ALG_A128CTR) {
                    uint8_t info[TEEP_PD_INFO_MAX], ct[32];
                    size_t il, cl;
                    assert_int_equal(teep_pd_encrypt(&key, &params, plain, 16,
                                                     info, sizeof(info), &il,
                                                     ct, sizeof(ct), &cl),
                                     TEEP_E_ALG);
                    continue;
                }
                for (size_t s = 0; s < ARRAY_LEN(sizes); s++)
                    round_trip(&key, &params, plain, sizes[s]);
                params.kid = (teep_slice_t){(const uint8_t *)"kid-2", 5};
                round_trip(&key, &params, plain, 61);
            }
        }
        teep_key_clear(&key);
    }
    free(plain);
}

/* Every named profile, and the defaults: A128GCM for P-256, ChaCha20 /
 * Poly1305 for X25519, key wrap, no kid. */
static void profiles_and_defaults(void **state)
{
    size_t n = 0;
    const teep_pd_profile_t *profiles = teep_pd_profiles(&n);
    assert_int_equal(n, 6);
    size_t suit = 0;
    for (size_t i = 0; i < n; i++) {
        const teep_pd_profile_t *p = &profiles[i];
        assert_ptr_equal(teep_pd_profile_find(p->name), p);
        if (p->suit_name != NULL) {
            suit++;
            assert_ptr_equal(teep_pd_profile_find(p->suit_name), p);
            assert_int_equal(p->suit_profile[0], -16);
            assert_int_equal(p->suit_profile[1],
                             p->key_type == TEEP_KEY_P256 ? -9 : -19);
            assert_int_equal(p->suit_profile[2], p->key_alg);
            assert_int_equal(p->suit_profile[3], p->content_alg);
        }
        teep_key_t key;
        if (!generate(&key, p->key_type))
            continue;
        teep_pd_params_t params = {p->key_alg, p->content_alg, {NULL, 0}};
        round_trip(&key, &params, (const uint8_t *)PD_PLAIN, 61);
        teep_key_clear(&key);
    }
    assert_int_equal(suit, 4);
    assert_null(teep_pd_profile_find("suit-sha256-hmac-a128kw-a128ctr"));
    assert_null(teep_pd_profile_find(NULL));
    assert_string_equal(teep_pd_alg_name(TEEP_PD_ALG_ECDH_ES_A128KW),
                        "ECDH-ES+A128KW");
    assert_string_equal(teep_pd_alg_name(TEEP_PD_ALG_A128CTR), "A128CTR");
    assert_string_equal(teep_pd_alg_name(7), "unknown");

    static const teep_key_type_t types[] = {TEEP_KEY_P256, TEEP_KEY_X25519};
    for (size_t t = 0; t < ARRAY_LEN(types); t++) {
        teep_key_t key;
        if (!generate(&key, types[t]))
            continue;
        uint8_t blob[TEEP_PD_BLOB_MAX(61)], out[61];
        size_t len = 0, out_len = 0;
        assert_int_equal(teep_pd_encrypt_blob(&key, NULL,
                                              (const uint8_t *)PD_PLAIN, 61,
                                              blob, sizeof(blob), &len),
                         0);
        teep_slice_t info, ct;
        teep_pd_info_t parsed;
        assert_int_equal(teep_pd_blob_parse(blob, len, &info, &ct, NULL), 0);
        assert_int_equal(teep_pd_info_parse(info.ptr, info.len, &parsed, NULL),
                         0);
        assert_int_equal(parsed.content_alg,
                         types[t] == TEEP_KEY_P256
                             ? TEEP_PD_ALG_A128GCM
                             : TEEP_PD_ALG_CHACHA20_POLY1305);
        assert_int_equal(parsed.recipients[0].key_alg,
                         TEEP_PD_ALG_ECDH_ES_A128KW);
        assert_int_equal(parsed.recipients[0].kid.len, 0);
        assert_int_equal(teep_pd_decrypt_blob(&key, blob, len, out, sizeof(out),
                                              &out_len, NULL),
                         0);
        assert_memory_equal(out, PD_PLAIN, 61);
        teep_key_clear(&key);
    }
}

/* ---- Refusals ---------------------------------------------------------- */

static void wrong_keys_fail(void **state)
{
    static const teep_key_type_t types[] = {TEEP_KEY_P256, TEEP_KEY_X25519};
    for (size_t t = 0; t < ARRAY_LEN(types); t++) {
        teep_key_t key, other, other_type, pub;
        if (!generate(&key, types[t]))
            continue;
        assert_true(generate(&other, types[t]));
        assert_true(generate(&other_type, types[t] == TEEP_KEY_P256
                                              ? TEEP_KEY_X25519
                                              : TEEP_KEY_P256) ||
                    types[t] == TEEP_KEY_P256);
        pub = (teep_key_t){.type = key.type};
        memcpy(pub.x, key.x, 32);
        memcpy(pub.y, key.y, 32);
        for (size_t k = 0; k < ARRAY_LEN(key_algs); k++) {
            for (size_t c = 0; c < ARRAY_LEN(content_algs); c++) {
                teep_pd_params_t params = {
                    key_algs[k], content_algs[c], {NULL, 0}};
                uint8_t blob[TEEP_PD_BLOB_MAX(61)], out[61];
                size_t len = 0, out_len = 0;
                int rc = teep_pd_encrypt_blob(&pub, &params,
                                              (const uint8_t *)PD_PLAIN, 61,
                                              blob, sizeof(blob), &len);
                if (rc == TEEP_E_ALG)
                    continue; /* direct + CTR */
                assert_int_equal(rc, 0);
                teep_diag_t diag;
                /* AES-KW or the AEAD tag catches the wrong key */
                assert_int_equal(teep_pd_decrypt_blob(&other, blob, len, out,
                                                      sizeof(out), &out_len,
                                                      &diag),
                                 TEEP_E_DECRYPT);
                assert_int_equal(diag.code, TEEP_E_DECRYPT);
                for (size_t i = 0; i < sizeof(out); i++)
                    assert_int_equal(out[i], 0);
                if (other_type.type != 0)
                    assert_int_equal(teep_pd_decrypt_blob(&other_type, blob,
                                                          len, out, sizeof(out),
                                                          &out_len, &diag),
                                     TEEP_E_KEY);
                /* the public half cannot decrypt */
                assert_int_equal(teep_pd_decrypt_blob(&pub, blob, len, out,
                                                      sizeof(out), &out_len,
                                                      &diag),
                                 TEEP_E_KEY);
                assert_int_equal(teep_pd_decrypt_blob(&key, blob, len, out,
                                                      sizeof(out), &out_len,
                                                      &diag),
                                 0);
            }
        }
        teep_key_clear(&key);
        teep_key_clear(&other);
        teep_key_clear(&other_type);
    }
    /* Ed25519 signs; it does not agree keys */
    teep_key_t ed = {.type = TEEP_KEY_ED25519};
    uint8_t buf[TEEP_PD_BLOB_MAX(1)];
    size_t len;
    assert_int_equal(
        teep_pd_encrypt_blob(&ed, NULL, buf, 1, buf, sizeof(buf), &len),
        TEEP_E_KEY);
}

/* Flip one bit at every byte of the encryption info and the ciphertext.
 * With an AEAD a change is either refused or harmless (an unauthenticated
 * kid, the unused top bit of an X25519 point): decryption never hands
 * out other bytes than the plaintext.  With AES-CTR a changed ciphertext
 * byte changes that plaintext byte and nothing notices: the manifest's
 * digest has to (docs/pd.md). */
static void tampering_fails(void **state)
{
    static const struct {
        teep_key_type_t type;
        int64_t key_alg, content_alg;
    } cases[] = {
        {TEEP_KEY_P256, TEEP_PD_ALG_ECDH_ES_A128KW, TEEP_PD_ALG_A128GCM},
        {TEEP_KEY_P256, TEEP_PD_ALG_ECDH_ES_HKDF_256, TEEP_PD_ALG_A128GCM},
        {TEEP_KEY_P256, TEEP_PD_ALG_ECDH_ES_A128KW, TEEP_PD_ALG_A128CTR},
        {TEEP_KEY_X25519, TEEP_PD_ALG_ECDH_ES_A128KW,
         TEEP_PD_ALG_CHACHA20_POLY1305},
        {TEEP_KEY_X25519, TEEP_PD_ALG_ECDH_ES_HKDF_256,
         TEEP_PD_ALG_CHACHA20_POLY1305},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        teep_key_t key;
        if (!generate(&key, cases[i].type))
            continue;
        teep_pd_params_t params = {
            cases[i].key_alg, cases[i].content_alg, {key.kid, sizeof(key.kid)}};
        bool aead = params.content_alg != TEEP_PD_ALG_A128CTR;
        uint8_t info[TEEP_PD_INFO_MAX], ct[TEEP_PD_CIPHERTEXT_MAX(61)];
        uint8_t out[sizeof(ct)];
        size_t info_len, ct_len, out_len;
        assert_int_equal(
            teep_pd_encrypt(&key, &params, (const uint8_t *)PD_PLAIN, 61, info,
                            sizeof(info), &info_len, ct, sizeof(ct), &ct_len),
            0);
        for (size_t at = 0; at < info_len; at++) {
            for (int bit = 0; bit < 8; bit += 7) {
                info[at] ^= (uint8_t)(1u << bit);
                int rc = teep_pd_decrypt(&key, (teep_slice_t){info, info_len},
                                         (teep_slice_t){ct, ct_len}, out,
                                         sizeof(out), &out_len, NULL);
                assert_true(rc < 0 ||
                            (out_len == 61 && memcmp(out, PD_PLAIN, 61) == 0) ||
                            !aead);
                info[at] ^= (uint8_t)(1u << bit);
            }
        }
        for (size_t at = 0; at < ct_len; at++) {
            ct[at] ^= 0x01;
            int rc = teep_pd_decrypt(&key, (teep_slice_t){info, info_len},
                                     (teep_slice_t){ct, ct_len}, out,
                                     sizeof(out), &out_len, NULL);
            if (aead) {
                assert_int_equal(rc, TEEP_E_DECRYPT);
            } else {
                assert_int_equal(rc, 0);
                assert_int_equal(out[at], PD_PLAIN[at] ^ 0x01);
            }
            ct[at] ^= 0x01;
        }
        /* the IV is not authenticated by CTR but is by the AEADs */
        teep_pd_info_t parsed;
        assert_int_equal(teep_pd_info_parse(info, info_len, &parsed, NULL), 0);
        ((uint8_t *)parsed.iv.ptr)[0] ^= 1;
        int rc = teep_pd_decrypt(&key, (teep_slice_t){info, info_len},
                                 (teep_slice_t){ct, ct_len}, out, sizeof(out),
                                 &out_len, NULL);
        assert_int_equal(rc, aead ? TEEP_E_DECRYPT : 0);
        teep_key_clear(&key);
    }
}

/* Every proper prefix of an encryption info, a ciphertext and a blob is
 * refused, read from an exact-size heap copy so a sanitizer sees any read
 * past the end. */
static void truncation_never_crashes(void **state)
{
    teep_key_t key;
    load_key(&key, RECEIVER_KEY);
    size_t info_len, ct_len, out_len;
    uint8_t *info =
        load("suitenc_suit-encryption-info-es-ecdh-aes-gcm.hex", &info_len);
    uint8_t *ct =
        load("suitenc_encrypted-payload-es-ecdh-aes-gcm.hex", &ct_len);
    uint8_t out[64];
    for (size_t n = 0; n < info_len; n++) {
        uint8_t *copy = malloc(n > 0 ? n : 1);
        memcpy(copy, info, n);
        teep_diag_t diag = {0};
        int rc = teep_pd_decrypt(&key, (teep_slice_t){copy, n},
                                 (teep_slice_t){ct, ct_len}, out, sizeof(out),
                                 &out_len, &diag);
        assert_true(rc < 0);
        assert_int_equal(diag.code, rc);
        assert_true(diag.offset <= n);
        free(copy);
    }
    for (size_t n = 0; n < ct_len; n++) {
        uint8_t *copy = malloc(n > 0 ? n : 1);
        memcpy(copy, ct, n);
        int rc = teep_pd_decrypt(&key, (teep_slice_t){info, info_len},
                                 (teep_slice_t){copy, n}, out, sizeof(out),
                                 &out_len, NULL);
        assert_int_equal(rc, n < 16 ? TEEP_E_TRUNCATED : TEEP_E_DECRYPT);
        free(copy);
    }
    uint8_t blob[256];
    tp_cbor_writer_t w;
    tp_cw_init(&w, blob, sizeof(blob));
    tp_cw_array(&w, 2);
    tp_cw_bstr(&w, info, info_len);
    tp_cw_bstr(&w, ct, ct_len);
    assert_int_equal(tp_cw_result(&w), 0);
    assert_int_equal(teep_pd_decrypt_blob(&key, blob, w.len, out, sizeof(out),
                                          &out_len, NULL),
                     0);
    for (size_t n = 0; n < w.len; n++) {
        uint8_t *copy = malloc(n > 0 ? n : 1);
        memcpy(copy, blob, n);
        assert_true(teep_pd_decrypt_blob(&key, copy, n, out, sizeof(out),
                                         &out_len, NULL) < 0);
        free(copy);
    }
    free(info);
    free(ct);
    teep_key_clear(&key);
}

static void sizes_and_arguments(void **state)
{
    teep_key_t key;
    assert_true(generate(&key, TEEP_KEY_P256));
    uint8_t info[TEEP_PD_INFO_MAX], ct[TEEP_PD_CIPHERTEXT_MAX(61)], out[61];
    size_t info_len = 0, ct_len = 0, out_len = 0;
    const uint8_t *plain = (const uint8_t *)PD_PLAIN;
    teep_pd_params_t params = {0, 0, {key.kid, sizeof(key.kid)}};
    /* too small: nothing is done, both sizes are told */
    assert_int_equal(teep_pd_encrypt(&key, &params, plain, 61, info, 10,
                                     &info_len, ct, sizeof(ct), &ct_len),
                     -ENOSPC);
    assert_true(info_len > 10 && info_len <= TEEP_PD_INFO_MAX);
    assert_int_equal(ct_len, 61 + 16);
    assert_int_equal(teep_pd_encrypt(&key, &params, plain, 61, info,
                                     sizeof(info), &info_len, ct, 76, &ct_len),
                     -ENOSPC);
    assert_int_equal(teep_pd_encrypt(&key, &params, plain, 61, info,
                                     sizeof(info), &info_len, ct, sizeof(ct),
                                     &ct_len),
                     0);
    teep_diag_t diag;
    assert_int_equal(teep_pd_decrypt(&key, (teep_slice_t){info, info_len},
                                     (teep_slice_t){ct, ct_len}, out, 60,
                                     &out_len, &diag),
                     -ENOSPC);
    assert_int_equal(out_len, 61);
    /* the longest info we write fits TEEP_PD_INFO_MAX */
    uint8_t kid[TEEP_PD_KID_MAX + 1] = {0};
    params.kid = (teep_slice_t){kid, TEEP_PD_KID_MAX};
    assert_int_equal(teep_pd_encrypt(&key, &params, plain, 61, info,
                                     sizeof(info), &info_len, ct, sizeof(ct),
                                     &ct_len),
                     0);
    params.kid.len++;
    assert_int_equal(teep_pd_encrypt(&key, &params, plain, 61, info,
                                     sizeof(info), &info_len, ct, sizeof(ct),
                                     &ct_len),
                     -EINVAL);
    teep_key_t x;
    if (generate(&x, TEEP_KEY_X25519)) {
        params = (teep_pd_params_t){TEEP_PD_ALG_ECDH_ES_A128KW,
                                    TEEP_PD_ALG_CHACHA20_POLY1305,
                                    {kid, TEEP_PD_KID_MAX}};
        assert_int_equal(teep_pd_encrypt(&x, &params, plain, 61, info,
                                         sizeof(info), &info_len, ct,
                                         sizeof(ct), &ct_len),
                         0);
        teep_key_clear(&x);
    }
    /* unknown algorithms */
    params = (teep_pd_params_t){TEEP_PD_ALG_ECDH_ES_A128KW, 3, {NULL, 0}};
    assert_int_equal(teep_pd_encrypt(&key, &params, plain, 61, info,
                                     sizeof(info), &info_len, ct, sizeof(ct),
                                     &ct_len),
                     TEEP_E_ALG);
    params = (teep_pd_params_t){-31, TEEP_PD_ALG_A128GCM, {NULL, 0}};
    assert_int_equal(teep_pd_encrypt(&key, &params, plain, 61, info,
                                     sizeof(info), &info_len, ct, sizeof(ct),
                                     &ct_len),
                     TEEP_E_ALG);
    assert_int_equal(teep_pd_encrypt(NULL, NULL, plain, 61, info, sizeof(info),
                                     &info_len, ct, sizeof(ct), &ct_len),
                     -EINVAL);
    assert_int_equal(teep_pd_encrypt(&key, NULL, NULL, 61, info, sizeof(info),
                                     &info_len, ct, sizeof(ct), &ct_len),
                     -EINVAL);
    assert_int_equal(teep_pd_decrypt(&key, (teep_slice_t){NULL, 0},
                                     (teep_slice_t){ct, ct_len}, out,
                                     sizeof(out), &out_len, NULL),
                     -EINVAL);
    /* a PD blob that is not one */
    static const uint8_t three[] = {0x83, 0x40, 0x40, 0x40};
    static const uint8_t text[] = {0x82, 0x60, 0x40};
    teep_slice_t a, b;
    assert_int_equal(teep_pd_blob_parse(three, sizeof(three), &a, &b, &diag),
                     TEEP_E_RANGE);
    assert_int_equal(teep_pd_blob_parse(text, sizeof(text), &a, &b, &diag),
                     TEEP_E_TYPE);
    assert_int_equal(diag.offset, 1);
    teep_key_clear(&key);
}

/* ---- Parsing rules, on hand-built SUIT_Encryption_Info ------------------ */

/* What to build; build() starts from a valid AES-GCM info. */
typedef struct shape {
    uint64_t tag; /* 0: untagged */
    int64_t content_alg;
    bool alg_unprotected; /* the content alg in the wrong bucket */
    bool alg_both;        /* ... or in both */
    size_t iv_len;        /* SIZE_MAX: no IV */
    int64_t extra_label;  /* added to the outer headers when non-zero */
    bool extra_protected;
    size_t n_recipients;
    int64_t key_alg;
    bool recipient_alg_unprotected;
    const teep_key_t *ephemeral; /* NULL: no ephemeral key */
    bool ephemeral_bad_y;
    size_t wrapped_len;
    int64_t recipient_extra_label;
    bool trailing;
} shape_t;

static size_t build(const shape_t *s, uint8_t *out, size_t cap)
{
    uint8_t prot[32], rprot[32], zeros[64] = {0};
    tp_cbor_writer_t w, pw;
    bool alg_protected = !s->alg_unprotected || s->alg_both;
    bool alg_unprotected = s->alg_unprotected || s->alg_both;
    bool extra_p = s->extra_label != 0 && s->extra_protected;
    bool extra_u = s->extra_label != 0 && !s->extra_protected;
    tp_cw_init(&pw, prot, sizeof(prot));
    if (alg_protected || extra_p) {
        tp_cw_map(&pw, (alg_protected ? 1 : 0) + (extra_p ? 1 : 0));
        if (alg_protected) {
            tp_cw_uint(&pw, 1);
            tp_cw_int(&pw, s->content_alg);
        }
        if (extra_p) {
            tp_cw_int(&pw, s->extra_label);
            tp_cw_uint(&pw, 0);
        }
    }
    tp_cw_init(&w, out, cap);
    if (s->tag != 0)
        tp_cw_tag(&w, s->tag);
    tp_cw_array(&w, 4);
    tp_cw_bstr(&w, prot, pw.len);
    bool iv = s->iv_len != SIZE_MAX;
    tp_cw_map(&w, (alg_unprotected ? 1 : 0) + (iv ? 1 : 0) + (extra_u ? 1 : 0));
    if (alg_unprotected) {
        tp_cw_uint(&w, 1);
        tp_cw_int(&w, s->content_alg);
    }
    if (iv) {
        tp_cw_uint(&w, 5);
        tp_cw_bstr(&w, zeros, s->iv_len);
    }
    if (extra_u) {
        tp_cw_int(&w, s->extra_label);
        tp_cw_uint(&w, 0);
    }
    tp_cw_null(&w);
    tp_cw_array(&w, s->n_recipients);
    for (size_t i = 0; i < s->n_recipients; i++) {
        tp_cw_init(&pw, rprot, sizeof(rprot));
        if (!s->recipient_alg_unprotected) {
            tp_cw_map(&pw, 1);
            tp_cw_uint(&pw, 1);
            tp_cw_int(&pw, s->key_alg);
        }
        tp_cw_array(&w, 3);
        tp_cw_bstr(&w, rprot, pw.len);
        tp_cw_map(&w, (s->ephemeral != NULL ? 1 : 0) +
                          (s->recipient_alg_unprotected ? 1 : 0) +
                          (s->recipient_extra_label != 0 ? 1 : 0));
        if (s->recipient_alg_unprotected) {
            tp_cw_uint(&w, 1);
            tp_cw_int(&w, s->key_alg);
        }
        if (s->ephemeral != NULL) {
            teep_key_t eph = *s->ephemeral;
            eph.native = NULL; /* a copy of the fields only */
            if (s->ephemeral_bad_y)
                eph.y[31] ^= 1;
            uint8_t key[128];
            size_t key_len = 0;
            assert_int_equal(
                teep_key_to_cose(&eph, false, key, sizeof(key), &key_len), 0);
            tp_cw_int(&w, -1);
            tp_cw_raw(&w, key, key_len);
        }
        if (s->recipient_extra_label != 0) {
            tp_cw_int(&w, s->recipient_extra_label);
            tp_cw_uint(&w, 0);
        }
        tp_cw_bstr(&w, zeros, s->wrapped_len);
    }
    if (s->trailing)
        tp_cw_uint(&w, 0);
    assert_int_equal(tp_cw_result(&w), 0);
    return w.len;
}

static int parse_shape(const shape_t *s, teep_diag_t *diag)
{
    uint8_t buf[1024];
    size_t len = build(s, buf, sizeof(buf));
    teep_pd_info_t info;
    memset(diag, 0, sizeof(*diag));
    int rc = teep_pd_info_parse(buf, len, &info, diag);
    if (rc != 0) {
        assert_int_equal(diag->code, rc);
        assert_true(diag->offset < len);
    }
    return rc;
}

static void parse_rules(void **state)
{
    teep_key_t p256, x25519;
    assert_true(generate(&p256, TEEP_KEY_P256));
    const shape_t ok = {
        .tag = 96,
        .content_alg = TEEP_PD_ALG_A128GCM,
        .iv_len = 12,
        .n_recipients = 1,
        .key_alg = TEEP_PD_ALG_ECDH_ES_A128KW,
        .ephemeral = &p256,
        .wrapped_len = 24,
    };
    teep_diag_t diag;
    shape_t s = ok;
    assert_int_equal(parse_shape(&s, &diag), 0);
#define EXPECT(field, value, code)                                             \
    do {                                                                       \
        s = ok;                                                                \
        s.field = value;                                                       \
        assert_int_equal(parse_shape(&s, &diag), code);                        \
    } while (0)
    EXPECT(tag, 0, TEEP_E_COSE);
    EXPECT(tag, 16, TEEP_E_COSE);       /* COSE_Encrypt0 */
    EXPECT(content_alg, 3, TEEP_E_ALG); /* A192GCM */
    EXPECT(alg_unprotected, true, TEEP_E_COSE);
    EXPECT(alg_both, true, TEEP_E_DUPLICATE);
    EXPECT(iv_len, 16, TEEP_E_RANGE);
    EXPECT(iv_len, SIZE_MAX, TEEP_E_MISSING);
    EXPECT(extra_label, 99, 0);           /* unknown, unprotected: skipped */
    EXPECT(extra_label, -20, TEEP_E_ALG); /* salt */
    EXPECT(extra_label, -22, TEEP_E_ALG); /* PartyU nonce */
    EXPECT(extra_label, 6, TEEP_E_ALG);   /* Partial IV */
    EXPECT(extra_label, -2, TEEP_E_ALG);  /* static key: ECDH-SS */
    EXPECT(extra_label, 2, TEEP_E_COSE);  /* crit */
    EXPECT(n_recipients, 0, TEEP_E_COSE);
    EXPECT(n_recipients, 2, 0);
    EXPECT(n_recipients, TEEP_PD_MAX_RECIPIENTS + 1, TEEP_E_LIMIT);
    EXPECT(key_alg, -3, TEEP_E_ALG);  /* A128KW: no key agreement */
    EXPECT(key_alg, -31, TEEP_E_ALG); /* ECDH-ES + A256KW */
    EXPECT(key_alg, TEEP_PD_ALG_ECDH_ES_HKDF_256, TEEP_E_RANGE);
    EXPECT(recipient_alg_unprotected, true, TEEP_E_COSE);
    EXPECT(ephemeral, NULL, TEEP_E_MISSING);
    EXPECT(ephemeral_bad_y, true, TEEP_E_KEY);
    EXPECT(wrapped_len, 16, TEEP_E_RANGE);
    EXPECT(wrapped_len, 0, TEEP_E_RANGE);
    EXPECT(recipient_extra_label, 99, 0);
    EXPECT(recipient_extra_label, -26, TEEP_E_ALG);
    EXPECT(trailing, true, TEEP_E_TRAILING);
    /* unknown labels in a protected header must be understood */
    s = ok;
    s.extra_label = 99;
    s.extra_protected = true;
    assert_int_equal(parse_shape(&s, &diag), TEEP_E_COSE);
    /* A128CTR: alg unprotected, nothing protected (RFC 9459) */
    s = ok;
    s.content_alg = TEEP_PD_ALG_A128CTR;
    s.iv_len = 16;
    assert_int_equal(parse_shape(&s, &diag), TEEP_E_COSE);
    s.alg_unprotected = true;
    assert_int_equal(parse_shape(&s, &diag), 0);
    s.iv_len = 12;
    assert_int_equal(parse_shape(&s, &diag), TEEP_E_RANGE);
    /* direct HKDF: an empty recipient ciphertext, one recipient, no CTR */
    s = ok;
    s.key_alg = TEEP_PD_ALG_ECDH_ES_HKDF_256;
    s.wrapped_len = 0;
    assert_int_equal(parse_shape(&s, &diag), 0);
    s.n_recipients = 2;
    assert_int_equal(parse_shape(&s, &diag), TEEP_E_COSE);
    s.n_recipients = 1;
    s.content_alg = TEEP_PD_ALG_A128CTR;
    s.alg_unprotected = true;
    s.iv_len = 16;
    assert_int_equal(parse_shape(&s, &diag), TEEP_E_ALG);
    /* ChaCha20/Poly1305 wraps a 32-byte CEK */
    s = ok;
    s.content_alg = TEEP_PD_ALG_CHACHA20_POLY1305;
    assert_int_equal(parse_shape(&s, &diag), TEEP_E_RANGE);
    s.wrapped_len = 40;
    assert_int_equal(parse_shape(&s, &diag), 0);

    /* An X25519 ephemeral key of low order gives an all-zero secret. */
    if (generate(&x25519, TEEP_KEY_X25519)) {
        static const uint8_t low_order[][32] = {{0}, {1}};
        for (size_t i = 0; i < ARRAY_LEN(low_order); i++) {
            teep_key_t eph = {.type = TEEP_KEY_X25519};
            memcpy(eph.x, low_order[i], 32);
            s = ok;
            s.ephemeral = &eph;
            uint8_t buf[1024], out[64];
            size_t len = build(&s, buf, sizeof(buf)), out_len;
            uint8_t ct[32] = {0};
            assert_int_equal(teep_pd_decrypt(&x25519, (teep_slice_t){buf, len},
                                             (teep_slice_t){ct, sizeof(ct)},
                                             out, sizeof(out), &out_len, &diag),
                             TEEP_E_KEY);
        }
        teep_key_clear(&x25519);
    }
#undef EXPECT
    teep_key_clear(&p256);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(aes_key_wrap_rfc3394),
        cmocka_unit_test(hkdf_sha256_rfc5869),
        cmocka_unit_test(x25519_rfc7748),
        cmocka_unit_test(p256_ecdh_agrees),
        cmocka_unit_test(content_ciphers_known_answers),
        cmocka_unit_test(suitenc_vectors_decrypt),
        cmocka_unit_test(personalization_vector_decrypts),
        cmocka_unit_test(suit_processor_decrypts),
        cmocka_unit_test(attached_ciphertext),
        cmocka_unit_test(round_trips),
        cmocka_unit_test(profiles_and_defaults),
        cmocka_unit_test(wrong_keys_fail),
        cmocka_unit_test(tampering_fails),
        cmocka_unit_test(truncation_never_crashes),
        cmocka_unit_test(sizes_and_arguments),
        cmocka_unit_test(parse_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
