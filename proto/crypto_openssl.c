/*
 * crypto_openssl.c: the crypto backend over OpenSSL 3 libcrypto (see
 * crypto.h).  key->native is an EVP_PKEY holding the public part and, for
 * a private key, the private part; EVP_PKEYs are reference counted and
 * safe to use from several threads at once.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "crypto.h"

/* Longest DER ECDSA-Sig-Value for P-256: SEQUENCE of two INTEGERs of up to
 * 33 bytes each. */
#define ECDSA_DER_MAX 72

/* Drop whatever OpenSSL queued for a failure we report ourselves, so it
 * does not surface in an unrelated later call, and return code. */
static int fail(int code)
{
    ERR_clear_error();
    return code;
}

const char *tp_crypto_name(void)
{
    return "openssl";
}

int tp_crypto_sha256(const uint8_t *in, size_t len, uint8_t out[32])
{
    if (EVP_Digest(in, len, out, NULL, EVP_sha256(), NULL) != 1)
        return fail(TEEP_E_CRYPTO);
    return 0;
}

int tp_crypto_random(uint8_t *out, size_t len)
{
    /* RAND_bytes takes an int length. */
    while (len > 0) {
        int n = len > INT_MAX ? INT_MAX : (int)len;
        if (RAND_bytes(out, n) != 1)
            return fail(TEEP_E_CRYPTO);
        out += n;
        len -= (size_t)n;
    }
    return 0;
}

void tp_crypto_wipe(void *p, size_t len)
{
    OPENSSL_cleanse(p, len);
}

static int okp_id(teep_key_type_t type)
{
    return type == TEEP_KEY_ED25519  ? EVP_PKEY_ED25519
           : type == TEEP_KEY_X25519 ? EVP_PKEY_X25519
                                     : EVP_PKEY_NONE;
}

/* An EVP_PKEY from the raw fields, with the private part when
 * with_private.  TEEP_E_KEY if OpenSSL refuses the values (a point off the
 * curve). */
static int raw_to_pkey(const teep_key_t *key, bool with_private, EVP_PKEY **out)
{
    *out = NULL;
    if (key->type == TEEP_KEY_ED25519 || key->type == TEEP_KEY_X25519) {
        int id = okp_id(key->type);
        *out = with_private ? EVP_PKEY_new_raw_private_key(id, NULL, key->d, 32)
                            : EVP_PKEY_new_raw_public_key(id, NULL, key->x, 32);
        return *out != NULL ? 0 : fail(TEEP_E_KEY);
    }
    if (key->type != TEEP_KEY_P256)
        return TEEP_E_ALG;

    uint8_t point[65];
    point[0] = POINT_CONVERSION_UNCOMPRESSED;
    memcpy(point + 1, key->x, 32);
    memcpy(point + 33, key->y, 32);
    int rc = TEEP_E_CRYPTO;
    BIGNUM *d = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    if (bld == NULL)
        goto out;
    if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                         "prime256v1", 0) ||
        !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point,
                                          sizeof(point)))
        goto out;
    if (with_private) {
        d = BN_secure_new();
        if (d == NULL || BN_bin2bn(key->d, 32, d) == NULL ||
            !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d))
            goto out;
    }
    params = OSSL_PARAM_BLD_to_param(bld);
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1)
        goto out;
    rc = EVP_PKEY_fromdata(
             ctx, out, with_private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
             params) == 1
             ? 0
             : TEEP_E_KEY;
out:
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_clear_free(d);
    return rc != 0 ? fail(rc) : 0;
}

/* A big-endian 32-byte field of the key from an EVP_PKEY BIGNUM
 * parameter. */
static int get_bn32(const EVP_PKEY *pkey, const char *name, uint8_t out[32])
{
    BIGNUM *bn = NULL;
    if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1)
        return TEEP_E_KEY;
    int n = BN_bn2binpad(bn, out, 32);
    BN_clear_free(bn);
    return n == 32 ? 0 : TEEP_E_KEY;
}

/* The raw fields of key from an EVP_PKEY (type, x, y, and d when
 * with_private).  TEEP_E_ALG for a key TEEP does not use. */
static int pkey_to_raw(const EVP_PKEY *pkey, bool with_private, teep_key_t *key)
{
    int rc;
    size_t n = 32;
    switch (EVP_PKEY_get_base_id(pkey)) {
    case EVP_PKEY_EC: {
        char group[32];
        if (EVP_PKEY_get_group_name(pkey, group, sizeof(group), NULL) != 1 ||
            strcmp(group, "prime256v1") != 0)
            return fail(TEEP_E_ALG);
        key->type = TEEP_KEY_P256;
        rc = get_bn32(pkey, OSSL_PKEY_PARAM_EC_PUB_X, key->x);
        if (rc == 0)
            rc = get_bn32(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, key->y);
        if (rc == 0 && with_private)
            rc = get_bn32(pkey, OSSL_PKEY_PARAM_PRIV_KEY, key->d);
        break;
    }
    case EVP_PKEY_ED25519:
    case EVP_PKEY_X25519:
        key->type = EVP_PKEY_get_base_id(pkey) == EVP_PKEY_ED25519
                        ? TEEP_KEY_ED25519
                        : TEEP_KEY_X25519;
        rc = EVP_PKEY_get_raw_public_key(pkey, key->x, &n) == 1 && n == 32
                 ? 0
                 : TEEP_E_KEY;
        if (rc == 0 && with_private)
            rc = EVP_PKEY_get_raw_private_key(pkey, key->d, &n) == 1 && n == 32
                     ? 0
                     : TEEP_E_KEY;
        break;
    default: return fail(TEEP_E_ALG);
    }
    if (rc != 0)
        return fail(rc);
    key->has_private = with_private;
    return 0;
}

int tp_crypto_generate(teep_key_t *key, teep_key_type_t type)
{
    EVP_PKEY *pkey = NULL;
    switch (type) {
    case TEEP_KEY_P256:
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        break;
    case TEEP_KEY_ED25519:
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        break;
    case TEEP_KEY_X25519: pkey = EVP_PKEY_Q_keygen(NULL, NULL, "X25519"); break;
    default: return -EINVAL;
    }
    if (pkey == NULL)
        return fail(TEEP_E_CRYPTO);
    int rc = pkey_to_raw(pkey, true, key);
    EVP_PKEY_free(pkey);
    return rc;
}

/* P-256: Q = d*G, refusing d outside [1, n-1] (OpenSSL would reduce it). */
static int p256_public(const uint8_t d[32], uint8_t x[32], uint8_t y[32])
{
    int rc = TEEP_E_CRYPTO;
    uint8_t point[65];
    EC_POINT *q = NULL;
    BIGNUM *scalar = BN_secure_new();
    EC_GROUP *group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    if (scalar == NULL || group == NULL || BN_bin2bn(d, 32, scalar) == NULL)
        goto out;
    if (BN_is_zero(scalar) || BN_cmp(scalar, EC_GROUP_get0_order(group)) >= 0) {
        rc = TEEP_E_KEY;
        goto out;
    }
    q = EC_POINT_new(group);
    if (q == NULL || EC_POINT_mul(group, q, scalar, NULL, NULL, NULL) != 1 ||
        EC_POINT_point2oct(group, q, POINT_CONVERSION_UNCOMPRESSED, point,
                           sizeof(point), NULL) != sizeof(point))
        goto out;
    memcpy(x, point + 1, 32);
    memcpy(y, point + 33, 32);
    rc = 0;
out:
    EC_POINT_free(q);
    EC_GROUP_free(group);
    BN_clear_free(scalar);
    return rc != 0 ? fail(rc) : 0;
}

int tp_crypto_public_from_private(teep_key_type_t type, const uint8_t d[32],
                                  uint8_t x[32], uint8_t y[32])
{
    if (type == TEEP_KEY_P256)
        return p256_public(d, x, y);
    if (type != TEEP_KEY_ED25519 && type != TEEP_KEY_X25519)
        return -EINVAL;
    EVP_PKEY *pkey = EVP_PKEY_new_raw_private_key(okp_id(type), NULL, d, 32);
    size_t n = 32;
    int rc =
        pkey != NULL && EVP_PKEY_get_raw_public_key(pkey, x, &n) == 1 && n == 32
            ? 0
            : TEEP_E_KEY;
    EVP_PKEY_free(pkey);
    return rc != 0 ? fail(rc) : 0;
}

int tp_crypto_key_prepare(teep_key_t *key)
{
    EVP_PKEY *pkey;
    int rc = raw_to_pkey(key, key->has_private, &pkey);
    if (rc == 0)
        key->native = pkey;
    return rc;
}

void tp_crypto_key_release(teep_key_t *key)
{
    EVP_PKEY_free(key->native);
    key->native = NULL;
}

/* The key's EVP_PKEY: the cached one, or a temporary the caller frees
 * (*tmp). */
static int use_pkey(const teep_key_t *key, bool with_private, EVP_PKEY **pkey,
                    EVP_PKEY **tmp)
{
    *tmp = NULL;
    if (key->native != NULL) {
        *pkey = key->native;
        return 0;
    }
    int rc = raw_to_pkey(key, with_private, tmp);
    *pkey = *tmp;
    return rc;
}

/* The digest OpenSSL applies before signing: SHA-256 for ECDSA, none for
 * PureEdDSA. */
static int key_md(const teep_key_t *key, const EVP_MD **md)
{
    switch (key->type) {
    case TEEP_KEY_P256: *md = EVP_sha256(); return 0;
    case TEEP_KEY_ED25519: *md = NULL; return 0;
    default: return TEEP_E_ALG;
    }
}

/* DER ECDSA-Sig-Value -> r||s. */
static int ecdsa_der_to_raw(const uint8_t *der, size_t len, uint8_t sig[64])
{
    const unsigned char *p = der;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)len);
    if (es == NULL)
        return fail(TEEP_E_CRYPTO);
    const BIGNUM *r, *s;
    ECDSA_SIG_get0(es, &r, &s);
    int rc =
        BN_bn2binpad(r, sig, 32) == 32 && BN_bn2binpad(s, sig + 32, 32) == 32
            ? 0
            : TEEP_E_CRYPTO;
    ECDSA_SIG_free(es);
    return rc;
}

/* r||s -> DER ECDSA-Sig-Value in der[0..ECDSA_DER_MAX). */
static int ecdsa_raw_to_der(const uint8_t sig[64], uint8_t *der, size_t *len)
{
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, 32, NULL);
    BIGNUM *s = BN_bin2bn(sig + 32, 32, NULL);
    if (es == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(es, r, s) != 1) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(es);
        return fail(-ENOMEM);
    }
    /* es owns r and s now. */
    int n = i2d_ECDSA_SIG(es, NULL);
    if (n > 0 && n <= ECDSA_DER_MAX) {
        unsigned char *p = der;
        n = i2d_ECDSA_SIG(es, &p);
    }
    ECDSA_SIG_free(es);
    if (n <= 0 || n > ECDSA_DER_MAX)
        return fail(TEEP_E_CRYPTO);
    *len = (size_t)n;
    return 0;
}

int tp_crypto_sign(const teep_key_t *key, const uint8_t *msg, size_t len,
                   uint8_t sig[64])
{
    const EVP_MD *md;
    int rc = key_md(key, &md);
    if (rc != 0)
        return rc;
    EVP_PKEY *pkey, *tmp;
    rc = use_pkey(key, true, &pkey, &tmp);
    if (rc != 0)
        return rc;
    uint8_t der[ECDSA_DER_MAX];
    uint8_t *out = key->type == TEEP_KEY_P256 ? der : sig;
    size_t out_len = key->type == TEEP_KEY_P256 ? sizeof(der) : 64;
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    rc = mctx != NULL && EVP_DigestSignInit(mctx, NULL, md, NULL, pkey) == 1 &&
                 EVP_DigestSign(mctx, out, &out_len, msg, len) == 1
             ? 0
             : fail(TEEP_E_CRYPTO);
    EVP_MD_CTX_free(mctx);
    EVP_PKEY_free(tmp);
    if (rc == 0 && key->type == TEEP_KEY_P256)
        rc = ecdsa_der_to_raw(der, out_len, sig);
    else if (rc == 0 && out_len != 64)
        rc = TEEP_E_CRYPTO;
    return rc;
}

int tp_crypto_verify(const teep_key_t *key, const uint8_t *msg, size_t len,
                     const uint8_t sig[64])
{
    const EVP_MD *md;
    int rc = key_md(key, &md);
    if (rc != 0)
        return rc;
    uint8_t der[ECDSA_DER_MAX];
    const uint8_t *s = sig;
    size_t s_len = 64;
    if (key->type == TEEP_KEY_P256) {
        rc = ecdsa_raw_to_der(sig, der, &s_len);
        if (rc != 0)
            return rc;
        s = der;
    }
    EVP_PKEY *pkey, *tmp;
    rc = use_pkey(key, false, &pkey, &tmp);
    if (rc != 0)
        return rc;
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    if (mctx == NULL || EVP_DigestVerifyInit(mctx, NULL, md, NULL, pkey) != 1) {
        rc = fail(TEEP_E_CRYPTO);
    } else {
        /* 0 is a mismatch; OpenSSL also reports some malformed signatures
         * (r or s out of range) as errors, which are mismatches too. */
        rc = EVP_DigestVerify(mctx, s, s_len, msg, len) == 1
                 ? 0
                 : fail(TEEP_E_SIGNATURE);
    }
    EVP_MD_CTX_free(mctx);
    EVP_PKEY_free(tmp);
    return rc;
}

/* Encrypted PEM is refused instead of prompting on the terminal (what
 * OpenSSL does with no callback). */
static int no_password(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return -1;
}

int tp_crypto_pem_import(teep_key_t *key, tp_pem_kind_t kind,
                         const uint8_t *pem, size_t len)
{
    if (len > INT_MAX)
        return TEEP_E_KEY;
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    if (bio == NULL)
        return fail(-ENOMEM);
    bool priv = kind == TP_PEM_PRIVATE;
    EVP_PKEY *pkey = priv
                         ? PEM_read_bio_PrivateKey(bio, NULL, no_password, NULL)
                         : PEM_read_bio_PUBKEY(bio, NULL, no_password, NULL);
    BIO_free(bio);
    if (pkey == NULL)
        return fail(TEEP_E_KEY);
    int rc = pkey_to_raw(pkey, priv, key);
    EVP_PKEY_free(pkey);
    return rc;
}

int tp_crypto_pem_export(const teep_key_t *key, bool include_private, char *out,
                         size_t cap, size_t *out_len)
{
    if (include_private && !key->has_private)
        return -EINVAL;
    EVP_PKEY *pkey, *tmp;
    int rc = use_pkey(key, include_private, &pkey, &tmp);
    if (rc != 0)
        return rc;
    /* Secure-heap memory for the private key's text. */
    BIO *bio = BIO_new(include_private ? BIO_s_secmem() : BIO_s_mem());
    int ok = bio != NULL &&
             (include_private ? PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL,
                                                         0, NULL, NULL)
                              : PEM_write_bio_PUBKEY(bio, pkey)) == 1;
    char *text = NULL;
    long n = ok ? BIO_get_mem_data(bio, &text) : 0;
    if (!ok || n <= 0) {
        rc = fail(TEEP_E_CRYPTO);
    } else if ((size_t)n >= cap) {
        rc = -ENOSPC;
    } else {
        memcpy(out, text, (size_t)n);
        out[n] = '\0';
        *out_len = (size_t)n;
    }
    BIO_free(bio);
    EVP_PKEY_free(tmp);
    return rc;
}

/* ---- Key agreement and content encryption ------------------------------ */

int tp_crypto_ecdh(const teep_key_t *priv, const teep_key_t *peer,
                   uint8_t secret[32])
{
    if (priv->type != peer->type || !priv->has_private)
        return TEEP_E_KEY;
    if (priv->type != TEEP_KEY_P256 && priv->type != TEEP_KEY_X25519)
        return TEEP_E_ALG;
    EVP_PKEY *mine, *mine_tmp, *theirs, *theirs_tmp = NULL;
    int rc = use_pkey(priv, true, &mine, &mine_tmp);
    if (rc == 0)
        rc = use_pkey(peer, false, &theirs, &theirs_tmp);
    if (rc != 0) {
        EVP_PKEY_free(mine_tmp);
        return rc;
    }
    size_t n = 32;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(mine, NULL);
    if (ctx == NULL || EVP_PKEY_derive_init(ctx) != 1)
        rc = fail(TEEP_E_CRYPTO);
    /* set_peer checks the peer's public key; X25519 derive refuses an
     * all-zero result (a low-order point): both are about the peer. */
    else if (EVP_PKEY_derive_set_peer(ctx, theirs) != 1 ||
             EVP_PKEY_derive(ctx, secret, &n) != 1)
        rc = fail(TEEP_E_KEY);
    else if (n != 32)
        rc = TEEP_E_CRYPTO;
    if (rc != 0)
        tp_crypto_wipe(secret, 32);
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(mine_tmp);
    EVP_PKEY_free(theirs_tmp);
    return rc;
}

int tp_crypto_hkdf_sha256(const uint8_t *salt, size_t salt_len,
                          const uint8_t *ikm, size_t ikm_len,
                          const uint8_t *info, size_t info_len, uint8_t *okm,
                          size_t okm_len)
{
    if (okm_len == 0 || okm_len > 255 * 32)
        return -EINVAL;
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_HKDF, NULL);
    EVP_KDF_CTX *kctx = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
    EVP_KDF_free(kdf);
    if (kctx == NULL)
        return fail(TEEP_E_CRYPTO);
    /* OSSL_PARAM wants non-const pointers; HKDF only reads them. */
    OSSL_PARAM params[5], *p = params;
    *p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
                                            (char *)"SHA256", 0);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm,
                                             ikm_len);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info,
                                             info_len);
    /* No salt parameter means HashLen zero bytes (RFC 5869 2.2). */
    if (salt_len > 0)
        *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
                                                 (void *)salt, salt_len);
    *p = OSSL_PARAM_construct_end();
    int rc = EVP_KDF_derive(kctx, okm, okm_len, params) == 1
                 ? 0
                 : fail(TEEP_E_CRYPTO);
    EVP_KDF_CTX_free(kctx);
    return rc;
}

/* Feed in[0..len) through an initialised EVP cipher context into out (the
 * same length: stream ciphers and AEADs only), in pieces of at most
 * INT_MAX bytes.  in NULL with out NULL feeds AAD. */
static int cipher_update(EVP_CIPHER_CTX *ctx, const uint8_t *in, size_t len,
                         uint8_t *out)
{
    while (len > 0) {
        int n = len > INT_MAX ? INT_MAX : (int)len;
        int outl = 0;
        if (EVP_CipherUpdate(ctx, out, &outl, in, n) != 1 ||
            (out != NULL && outl != n))
            return TEEP_E_CRYPTO;
        in += n;
        if (out != NULL)
            out += n;
        len -= (size_t)n;
    }
    return 0;
}

/* RFC 3394 in one EVP call: wrap gives len + 8 bytes, unwrap len - 8 or
 * fails the integrity check. */
static int aes_kw(bool wrap, const uint8_t kek[16], const uint8_t *in,
                  size_t len, uint8_t *out)
{
    if (len % 8 != 0 || len < (wrap ? 16u : 24u) || len > INT_MAX - 8)
        return -EINVAL;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL)
        return fail(-ENOMEM);
    /* Required before 3.0 for the wrap modes; harmless since. */
    EVP_CIPHER_CTX_set_flags(ctx, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
    int outl = 0;
    int rc = TEEP_E_CRYPTO;
    int want = (int)len + (wrap ? 8 : -8);
    if (EVP_CipherInit_ex(ctx, EVP_aes_128_wrap(), NULL, kek, NULL,
                          wrap ? 1 : 0) == 1) {
        if (EVP_CipherUpdate(ctx, out, &outl, in, (int)len) == 1 &&
            outl == want)
            rc = 0;
        else if (!wrap)
            rc = TEEP_E_DECRYPT;
    }
    EVP_CIPHER_CTX_free(ctx);
    if (rc != 0)
        tp_crypto_wipe(out, (size_t)want);
    return rc != 0 ? fail(rc) : 0;
}

int tp_crypto_aes_kw_wrap(const uint8_t kek[16], const uint8_t *in, size_t len,
                          uint8_t *out)
{
    return aes_kw(true, kek, in, len, out);
}

int tp_crypto_aes_kw_unwrap(const uint8_t kek[16], const uint8_t *in,
                            size_t len, uint8_t *out)
{
    return aes_kw(false, kek, in, len, out);
}

int tp_crypto_cipher(tp_cipher_t cipher, bool encrypt, const uint8_t *key,
                     const uint8_t *iv, const uint8_t *aad, size_t aad_len,
                     const uint8_t *in, size_t len, uint8_t *out,
                     uint8_t tag[16])
{
    const EVP_CIPHER *c;
    switch (cipher) {
    case TP_CIPHER_AES128_GCM: c = EVP_aes_128_gcm(); break;
    case TP_CIPHER_AES128_CTR: c = EVP_aes_128_ctr(); break;
    case TP_CIPHER_CHACHA20_POLY1305: c = EVP_chacha20_poly1305(); break;
    default: return -EINVAL;
    }
    bool aead = cipher != TP_CIPHER_AES128_CTR;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL)
        return fail(-ENOMEM);
    /* The AEADs default to a 12-byte IV, which is what COSE uses; CTR takes
     * the whole first counter block. */
    int rc = EVP_CipherInit_ex(ctx, c, NULL, key, iv, encrypt ? 1 : 0) == 1
                 ? 0
                 : TEEP_E_CRYPTO;
    if (rc == 0 && aead)
        rc = cipher_update(ctx, aad, aad_len, NULL);
    if (rc == 0)
        rc = cipher_update(ctx, in, len, out);
    if (rc == 0 && aead && !encrypt &&
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, 16, tag) != 1)
        rc = TEEP_E_CRYPTO;
    /* Stream modes finish without output; the final call checks the tag
     * when decrypting. */
    uint8_t rest[16];
    int outl = 0;
    if (rc == 0 && EVP_CipherFinal_ex(ctx, rest, &outl) != 1)
        rc = encrypt ? TEEP_E_CRYPTO : TEEP_E_DECRYPT;
    if (rc == 0 && aead && encrypt &&
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, tag) != 1)
        rc = TEEP_E_CRYPTO;
    EVP_CIPHER_CTX_free(ctx);
    if (rc != 0 && len > 0)
        tp_crypto_wipe(out, len);
    return rc != 0 ? fail(rc) : 0;
}
