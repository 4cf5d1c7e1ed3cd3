/*
 * ot_channel.c: the CC-OT channel that ends inside the TA (ot.h): ECDH
 * P-256 between the TA's channel key and the Collector's fresh key,
 * HKDF-SHA256 into one AES-128-GCM key per direction.
 */
#include <errno.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "ot.h"

EVP_PKEY *ot_key_new(void)
{
    return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

int ot_key_public(EVP_PKEY *key, uint8_t out[OT_PUB_LEN])
{
    size_t len = 0;
    if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, out,
                                        OT_PUB_LEN, &len) != 1 ||
        len != OT_PUB_LEN)
        return -EIO;
    return 0;
}

static EVP_PKEY *peer_key(const uint8_t pub[OT_PUB_LEN])
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    EVP_PKEY *key = NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
                                         (char *)"P-256", 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)pub,
                                          OT_PUB_LEN),
        OSSL_PARAM_construct_end()};
    if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) != 1)
        key = NULL;
    EVP_PKEY_CTX_free(ctx);
    if (key == NULL)
        return NULL;
    /* fromdata does not check that the point is on the curve. */
    ctx = EVP_PKEY_CTX_new(key, NULL);
    int ok = ctx != NULL && EVP_PKEY_public_check(ctx) == 1;
    EVP_PKEY_CTX_free(ctx);
    if (!ok) {
        EVP_PKEY_free(key);
        return NULL;
    }
    return key;
}

static int hkdf(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt,
                size_t salt_len, const char *info, uint8_t out[OT_KEY_LEN])
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *ctx = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(
                               OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0),
                           OSSL_PARAM_construct_octet_string(
                               OSSL_KDF_PARAM_KEY, (void *)ikm, ikm_len),
                           OSSL_PARAM_construct_octet_string(
                               OSSL_KDF_PARAM_SALT, (void *)salt, salt_len),
                           OSSL_PARAM_construct_octet_string(
                               OSSL_KDF_PARAM_INFO, (void *)info, strlen(info)),
                           OSSL_PARAM_construct_end()};
    int rc = ctx != NULL && EVP_KDF_derive(ctx, out, OT_KEY_LEN, params) == 1
                 ? 0
                 : -EIO;
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    return rc;
}

int ot_channel_derive(ot_channel_t *ch, EVP_PKEY *mine,
                      const uint8_t peer[OT_PUB_LEN],
                      const uint8_t ta_pub[OT_PUB_LEN],
                      const uint8_t collector_pub[OT_PUB_LEN])
{
    memset(ch, 0, sizeof(*ch));
    EVP_PKEY *other = peer_key(peer);
    if (other == NULL)
        return -EINVAL;
    uint8_t shared[32], salt[2 * OT_PUB_LEN];
    size_t len = sizeof(shared);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(mine, NULL);
    int rc = ctx != NULL && EVP_PKEY_derive_init(ctx) == 1 &&
                     EVP_PKEY_derive_set_peer(ctx, other) == 1 &&
                     EVP_PKEY_derive(ctx, shared, &len) == 1 && len == 32
                 ? 0
                 : -EIO;
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(other);
    memcpy(salt, ta_pub, OT_PUB_LEN);
    memcpy(salt + OT_PUB_LEN, collector_pub, OT_PUB_LEN);
    if (rc == 0)
        rc = hkdf(shared, len, salt, sizeof(salt), "teep-ot c2s", ch->c2s);
    if (rc == 0)
        rc = hkdf(shared, len, salt, sizeof(salt), "teep-ot s2c", ch->s2c);
    memset(shared, 0, sizeof(shared));
    ch->ready = rc == 0;
    return rc;
}

static void nonce_aad(uint8_t type, uint64_t seq, uint8_t nonce[12],
                      uint8_t aad[1 + OT_SEQ_LEN])
{
    memset(nonce, 0, 4);
    ot_put_be64(nonce + 4, seq);
    aad[0] = type;
    ot_put_be64(aad + 1, seq);
}

int ot_seal(const uint8_t key[OT_KEY_LEN], uint8_t type, uint64_t seq,
            const uint8_t *in, size_t n, uint8_t *out)
{
    uint8_t nonce[12], aad[1 + OT_SEQ_LEN];
    nonce_aad(type, seq, nonce, aad);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int len = 0,
        ok =
            ctx != NULL &&
            EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), NULL, key, nonce) == 1 &&
            EVP_EncryptUpdate(ctx, NULL, &len, aad, sizeof(aad)) == 1 &&
            EVP_EncryptUpdate(ctx, out, &len, in, (int)n) == 1 &&
            EVP_EncryptFinal_ex(ctx, out + len, &len) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, OT_TAG_LEN,
                                out + n) == 1;
    EVP_CIPHER_CTX_free(ctx);
    return ok ? 0 : -EIO;
}

int ot_open(const uint8_t key[OT_KEY_LEN], uint8_t type, uint64_t seq,
            const uint8_t *in, size_t n, uint8_t *out)
{
    if (n < OT_TAG_LEN)
        return -EBADMSG;
    n -= OT_TAG_LEN;
    uint8_t nonce[12], aad[1 + OT_SEQ_LEN];
    nonce_aad(type, seq, nonce, aad);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int len = 0,
        ok =
            ctx != NULL &&
            EVP_DecryptInit_ex(ctx, EVP_aes_128_gcm(), NULL, key, nonce) == 1 &&
            EVP_DecryptUpdate(ctx, NULL, &len, aad, sizeof(aad)) == 1 &&
            EVP_DecryptUpdate(ctx, out, &len, in, (int)n) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, OT_TAG_LEN,
                                (void *)(in + n)) == 1 &&
            EVP_DecryptFinal_ex(ctx, out + len, &len) == 1;
    EVP_CIPHER_CTX_free(ctx);
    return ok ? 0 : -EBADMSG;
}
