/*
 * crypto_mbedtls.c: the crypto backend over mbedtls 2.28 (see crypto.h),
 * for code that runs inside a TEE.  P-256 signs, verifies and agrees keys;
 * X25519 agrees keys on mbedtls' Curve25519 group (when the build enables
 * MBEDTLS_ECP_DP_CURVE25519_ENABLED, else TEEP_E_ALG); 2.28 has no
 * Ed25519, which gives TEEP_E_ALG.
 *
 * key->native is a heap mbedtls_ecp_keypair (group, Q, and d for a private
 * key).  ECDSA signatures use deterministic k (RFC 6979, as the gen_*
 * vectors do), so a weak or forked random generator cannot leak the key;
 * the CTR_DRBG still blinds the scalar multiplications.
 *
 * AES key wrap is written here over the AES block function: Debian's
 * mbedtls 2.28 is built without MBEDTLS_NIST_KW_C.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mbedtls/aes.h>
#include <mbedtls/base64.h>
#include <mbedtls/bignum.h>
#include <mbedtls/chachapoly.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecdh.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/gcm.h>
#include <mbedtls/hkdf.h>
#include <mbedtls/md.h>
#include <mbedtls/pem.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>

#include "crypto.h"

/*
 * The process-wide random generator: seeded once from the platform's
 * entropy, reseeded in a child after fork() so parent and child do not
 * share an output stream.  The mutex covers the fork check and the
 * reseed; mbedtls locks the generator itself for each output.
 */
static struct {
    pthread_once_t once;
    pthread_mutex_t lock;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    int status;
    pid_t pid;
} rng_state = {.once = PTHREAD_ONCE_INIT, .lock = PTHREAD_MUTEX_INITIALIZER};

static void rng_seed(void)
{
    static const unsigned char personalization[] = "teep-broker proto";
    mbedtls_entropy_init(&rng_state.entropy);
    mbedtls_ctr_drbg_init(&rng_state.drbg);
    rng_state.status = mbedtls_ctr_drbg_seed(
        &rng_state.drbg, mbedtls_entropy_func, &rng_state.entropy,
        personalization, sizeof(personalization) - 1);
    rng_state.pid = getpid();
}

/* The f_rng every mbedtls call here gets. */
static int rng(void *ctx, unsigned char *out, size_t len)
{
    (void)ctx;
    pthread_once(&rng_state.once, rng_seed);
    pthread_mutex_lock(&rng_state.lock);
    int rc = rng_state.status;
    if (rc == 0 && rng_state.pid != getpid()) {
        rc = mbedtls_ctr_drbg_reseed(&rng_state.drbg, NULL, 0);
        if (rc == 0)
            rng_state.pid = getpid();
    }
    pthread_mutex_unlock(&rng_state.lock);
    return rc != 0 ? rc : mbedtls_ctr_drbg_random(&rng_state.drbg, out, len);
}

/* The high-level part of an mbedtls error code (low-level module codes
 * are added to it). */
static int high_level(int ret)
{
    return -((-ret) & 0xff80);
}

/* Our code for an mbedtls failure that is not about the input. */
static int lib_error(int ret)
{
    return ret == MBEDTLS_ERR_MPI_ALLOC_FAILED ||
                   high_level(ret) == MBEDTLS_ERR_PK_ALLOC_FAILED
               ? -ENOMEM
               : TEEP_E_CRYPTO;
}

const char *tp_crypto_name(void)
{
    return "mbedtls";
}

int tp_crypto_sha256(const uint8_t *in, size_t len, uint8_t out[32])
{
    return mbedtls_sha256_ret(in, len, out, 0) == 0 ? 0 : TEEP_E_CRYPTO;
}

int tp_crypto_random(uint8_t *out, size_t len)
{
    /* CTR_DRBG hands out at most MBEDTLS_CTR_DRBG_MAX_REQUEST per call. */
    while (len > 0) {
        size_t n = len > MBEDTLS_CTR_DRBG_MAX_REQUEST
                       ? MBEDTLS_CTR_DRBG_MAX_REQUEST
                       : len;
        if (rng(NULL, out, n) != 0)
            return TEEP_E_CRYPTO;
        out += n;
        len -= n;
    }
    return 0;
}

void tp_crypto_wipe(void *p, size_t len)
{
    mbedtls_platform_zeroize(p, len);
}

/* 0 for P-256, TEEP_E_ALG for the curves 2.28 cannot sign with. */
static int p256_only(teep_key_type_t type)
{
    return type == TEEP_KEY_P256                                 ? 0
           : type == TEEP_KEY_ED25519 || type == TEEP_KEY_X25519 ? TEEP_E_ALG
                                                                 : -EINVAL;
}

/* The mbedtls group of a key type: P-256, or Curve25519 for X25519 (key
 * agreement only); TEEP_E_ALG for what this build lacks. */
static int group_of(teep_key_type_t type, mbedtls_ecp_group_id *id)
{
    switch (type) {
    case TEEP_KEY_P256: *id = MBEDTLS_ECP_DP_SECP256R1; return 0;
#if defined(MBEDTLS_ECP_DP_CURVE25519_ENABLED)
    case TEEP_KEY_X25519: *id = MBEDTLS_ECP_DP_CURVE25519; return 0;
#else
    case TEEP_KEY_X25519: return TEEP_E_ALG;
#endif
    case TEEP_KEY_ED25519: return TEEP_E_ALG;
    default: return -EINVAL;
    }
}

/* The raw fields of a key pair: x (and y for P-256), and d when
 * with_private.  X25519 values are little-endian byte strings (RFC 7748);
 * d is the clamped scalar, which is a valid X25519 private key too. */
static int keypair_to_raw(const mbedtls_ecp_keypair *kp, bool with_private,
                          teep_key_t *key)
{
    int bad;
    if (kp->grp.id == MBEDTLS_ECP_DP_SECP256R1) {
        bad =
            mbedtls_mpi_write_binary(&kp->Q.X, key->x, 32) != 0 ||
            mbedtls_mpi_write_binary(&kp->Q.Y, key->y, 32) != 0 ||
            (with_private && mbedtls_mpi_write_binary(&kp->d, key->d, 32) != 0);
        key->type = TEEP_KEY_P256;
    } else if (kp->grp.id == MBEDTLS_ECP_DP_CURVE25519) {
        bad = mbedtls_mpi_write_binary_le(&kp->Q.X, key->x, 32) != 0 ||
              (with_private &&
               mbedtls_mpi_write_binary_le(&kp->d, key->d, 32) != 0);
        memset(key->y, 0, sizeof(key->y));
        key->type = TEEP_KEY_X25519;
    } else {
        return TEEP_E_ALG;
    }
    if (bad)
        return TEEP_E_KEY;
    key->has_private = with_private;
    return 0;
}

/* d into kp->d: big endian for P-256; for X25519 little endian and
 * clamped (RFC 7748 section 5), which mbedtls requires of a Montgomery
 * scalar.  Checks the scalar. */
static int read_private(mbedtls_ecp_keypair *kp, const uint8_t d[32])
{
    int ret;
    if (kp->grp.id == MBEDTLS_ECP_DP_CURVE25519) {
        uint8_t k[32];
        memcpy(k, d, 32);
        k[0] &= 248;
        k[31] &= 127;
        k[31] |= 64;
        ret = mbedtls_mpi_read_binary_le(&kp->d, k, 32);
        mbedtls_platform_zeroize(k, sizeof(k));
    } else {
        ret = mbedtls_mpi_read_binary(&kp->d, d, 32);
    }
    if (ret != 0)
        return lib_error(ret);
    return mbedtls_ecp_check_privkey(&kp->grp, &kp->d) == 0 ? 0 : TEEP_E_KEY;
}

/* Set up kp (initialised by the caller, freed by the caller) from the raw
 * fields, checking the point and the scalar.  An X25519 point is any
 * 32-byte string (its top bit is ignored, RFC 7748). */
static int raw_to_keypair(const teep_key_t *key, bool with_private,
                          mbedtls_ecp_keypair *kp)
{
    mbedtls_ecp_group_id id;
    int rc = group_of(key->type, &id);
    if (rc != 0)
        return rc;
    int ret = mbedtls_ecp_group_load(&kp->grp, id);
    if (ret != 0)
        return lib_error(ret);
    uint8_t point[65];
    size_t point_len = 32;
    if (id == MBEDTLS_ECP_DP_SECP256R1) {
        point[0] = 0x04; /* uncompressed */
        memcpy(point + 1, key->x, 32);
        memcpy(point + 33, key->y, 32);
        point_len = 65;
    } else {
        memcpy(point, key->x, 32);
    }
    if (mbedtls_ecp_point_read_binary(&kp->grp, &kp->Q, point, point_len) !=
            0 ||
        mbedtls_ecp_check_pubkey(&kp->grp, &kp->Q) != 0)
        return TEEP_E_KEY;
    return with_private ? read_private(kp, key->d) : 0;
}

int tp_crypto_generate(teep_key_t *key, teep_key_type_t type)
{
    mbedtls_ecp_group_id id;
    int rc = group_of(type, &id);
    if (rc != 0)
        return rc;
    mbedtls_ecp_keypair kp;
    mbedtls_ecp_keypair_init(&kp);
    int ret = mbedtls_ecp_gen_key(id, &kp, rng, NULL);
    rc = ret != 0 ? lib_error(ret) : keypair_to_raw(&kp, true, key);
    mbedtls_ecp_keypair_free(&kp);
    return rc;
}

int tp_crypto_public_from_private(teep_key_type_t type, const uint8_t d[32],
                                  uint8_t x[32], uint8_t y[32])
{
    mbedtls_ecp_group_id id;
    int rc = group_of(type, &id);
    if (rc != 0)
        return rc;
    mbedtls_ecp_keypair kp;
    mbedtls_ecp_keypair_init(&kp);
    int ret = mbedtls_ecp_group_load(&kp.grp, id);
    rc = ret != 0 ? lib_error(ret) : read_private(&kp, d);
    if (rc == 0) {
        ret = mbedtls_ecp_mul(&kp.grp, &kp.Q, &kp.d, &kp.grp.G, rng, NULL);
        rc = ret != 0 ? lib_error(ret) : 0;
    }
    /* The public fields only, through the one encoder of key pairs. */
    teep_key_t pub = {0};
    if (rc == 0)
        rc = keypair_to_raw(&kp, false, &pub);
    if (rc == 0) {
        memcpy(x, pub.x, 32);
        memcpy(y, pub.y, 32);
    }
    mbedtls_ecp_keypair_free(&kp);
    return rc;
}

int tp_crypto_key_prepare(teep_key_t *key)
{
    mbedtls_ecp_group_id id;
    int rc = group_of(key->type, &id);
    if (rc != 0)
        return rc;
    mbedtls_ecp_keypair *kp = malloc(sizeof(*kp));
    if (kp == NULL)
        return -ENOMEM;
    mbedtls_ecp_keypair_init(kp);
    rc = raw_to_keypair(key, key->has_private, kp);
    if (rc != 0) {
        mbedtls_ecp_keypair_free(kp);
        free(kp);
        return rc;
    }
    key->native = kp;
    return 0;
}

void tp_crypto_key_release(teep_key_t *key)
{
    if (key->native != NULL) {
        /* Frees and zeroizes d. */
        mbedtls_ecp_keypair_free(key->native);
        free(key->native);
        key->native = NULL;
    }
}

/* The key's mbedtls key pair: the cached one, or tmp set up for this
 * call (the caller frees tmp either way). */
static int use_keypair(const teep_key_t *key, bool with_private,
                       mbedtls_ecp_keypair *tmp, mbedtls_ecp_keypair **kp)
{
    mbedtls_ecp_keypair_init(tmp);
    if (key->native != NULL) {
        *kp = key->native;
        return 0;
    }
    *kp = tmp;
    return raw_to_keypair(key, with_private, tmp);
}

int tp_crypto_sign(const teep_key_t *key, const uint8_t *msg, size_t len,
                   uint8_t sig[64])
{
    if (p256_only(key->type) != 0)
        return p256_only(key->type);
    mbedtls_ecp_keypair tmp, *kp;
    mbedtls_mpi r, s;
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    uint8_t hash[32];
    int rc = use_keypair(key, true, &tmp, &kp);
    if (rc == 0)
        rc = tp_crypto_sha256(msg, len, hash);
    if (rc == 0) {
        int ret = mbedtls_ecdsa_sign_det_ext(&kp->grp, &r, &s, &kp->d, hash,
                                             sizeof(hash), MBEDTLS_MD_SHA256,
                                             rng, NULL);
        if (ret != 0)
            rc = lib_error(ret);
        else if (mbedtls_mpi_write_binary(&r, sig, 32) != 0 ||
                 mbedtls_mpi_write_binary(&s, sig + 32, 32) != 0)
            rc = TEEP_E_CRYPTO;
    }
    mbedtls_mpi_free(&r);
    mbedtls_mpi_free(&s);
    mbedtls_ecp_keypair_free(&tmp);
    return rc;
}

int tp_crypto_verify(const teep_key_t *key, const uint8_t *msg, size_t len,
                     const uint8_t sig[64])
{
    if (p256_only(key->type) != 0)
        return p256_only(key->type);
    mbedtls_ecp_keypair tmp, *kp;
    mbedtls_mpi r, s;
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    uint8_t hash[32];
    int rc = use_keypair(key, false, &tmp, &kp);
    if (rc == 0)
        rc = tp_crypto_sha256(msg, len, hash);
    if (rc == 0 && (mbedtls_mpi_read_binary(&r, sig, 32) != 0 ||
                    mbedtls_mpi_read_binary(&s, sig + 32, 32) != 0))
        rc = -ENOMEM;
    if (rc == 0) {
        /* Anything but an allocation failure means the signature is not
         * valid for this key (r or s out of range included). */
        int ret =
            mbedtls_ecdsa_verify(&kp->grp, hash, sizeof(hash), &kp->Q, &r, &s);
        rc = ret == 0                              ? 0
             : ret == MBEDTLS_ERR_MPI_ALLOC_FAILED ? -ENOMEM
                                                   : TEEP_E_SIGNATURE;
    }
    mbedtls_mpi_free(&r);
    mbedtls_mpi_free(&s);
    mbedtls_ecp_keypair_free(&tmp);
    return rc;
}

/*
 * X25519 keys, which the pk module of 2.28 does not know, in the fixed
 * layouts OpenSSL reads and writes (RFC 8410, PKCS#8 version 1):
 *   PrivateKeyInfo { 0, {id-X25519}, OCTET STRING { OCTET STRING d } }
 *   SubjectPublicKeyInfo { {id-X25519}, BIT STRING x }
 */
static const uint8_t pkcs8_x25519_head[] = {0x30, 0x2e, 0x02, 0x01, 0x00, 0x30,
                                            0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e,
                                            0x04, 0x22, 0x04, 0x20};
static const uint8_t spki_x25519_head[] = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03,
                                           0x2b, 0x65, 0x6e, 0x03, 0x21, 0x00};

/* An X25519 key from NUL-terminated PEM text, if that is what it holds;
 * TEEP_E_ALG otherwise. */
static int x25519_pem_import(teep_key_t *key, bool priv, const uint8_t *text)
{
    const uint8_t *head = priv ? pkcs8_x25519_head : spki_x25519_head;
    size_t head_len =
        priv ? sizeof(pkcs8_x25519_head) : sizeof(spki_x25519_head);
    mbedtls_pem_context pem;
    mbedtls_pem_init(&pem);
    size_t used = 0;
    int ret = mbedtls_pem_read_buffer(
        &pem,
        priv ? "-----BEGIN PRIVATE KEY-----" : "-----BEGIN PUBLIC KEY-----",
        priv ? "-----END PRIVATE KEY-----" : "-----END PUBLIC KEY-----", text,
        NULL, 0, &used);
    int rc = TEEP_E_ALG;
    if (ret == 0 && pem.buflen == head_len + 32 &&
        memcmp(pem.buf, head, head_len) == 0) {
        key->type = TEEP_KEY_X25519;
        key->has_private = priv;
        memset(key->y, 0, sizeof(key->y));
        memcpy(priv ? key->d : key->x, pem.buf + head_len, 32);
        rc = priv ? tp_crypto_public_from_private(TEEP_KEY_X25519, key->d,
                                                  key->x, key->y)
                  : 0;
    }
    /* Frees and zeroizes the DER. */
    mbedtls_pem_free(&pem);
    return rc;
}

int tp_crypto_pem_import(teep_key_t *key, tp_pem_kind_t kind,
                         const uint8_t *pem, size_t len)
{
    /* mbedtls recognises PEM only with the NUL counted in the length. */
    uint8_t *text = malloc(len + 1);
    if (text == NULL)
        return -ENOMEM;
    memcpy(text, pem, len);
    text[len] = '\0';
    bool priv = kind == TP_PEM_PRIVATE;
    mbedtls_pk_context pk;
    mbedtls_pk_init(&pk);
    int ret = priv ? mbedtls_pk_parse_key(&pk, text, len + 1, NULL, 0)
                   : mbedtls_pk_parse_public_key(&pk, text, len + 1);
    int rc;
    if (ret != 0) {
        int hl = high_level(ret);
        rc = hl == MBEDTLS_ERR_PK_UNKNOWN_PK_ALG ||
                     hl == MBEDTLS_ERR_PK_UNKNOWN_NAMED_CURVE
                 ? TEEP_E_ALG
             : hl == MBEDTLS_ERR_PK_ALLOC_FAILED ? -ENOMEM
                                                 : TEEP_E_KEY;
        /* The pk module refuses X25519 one way or another. */
        if (rc != -ENOMEM && x25519_pem_import(key, priv, text) == 0)
            rc = 0;
    } else if (mbedtls_pk_get_type(&pk) != MBEDTLS_PK_ECKEY) {
        rc = TEEP_E_ALG;
    } else {
        rc = keypair_to_raw(mbedtls_pk_ec(pk), priv, key);
    }
    mbedtls_platform_zeroize(text, len + 1);
    free(text);
    mbedtls_pk_free(&pk);
    return rc;
}

/*
 * mbedtls 2.28 writes private keys only as SEC1, so the PKCS#8 and SPKI
 * encodings of a P-256 key are written from their fixed layouts (the same
 * bytes OpenSSL writes):
 *   PrivateKeyInfo { 0, {id-ecPublicKey, prime256v1},
 *                    OCTET STRING ECPrivateKey { 1, d, [1] point } }
 *   SubjectPublicKeyInfo { {id-ecPublicKey, prime256v1}, BIT STRING point }
 */
static const uint8_t pkcs8_p256_head[] = {
    0x30, 0x81, 0x87, 0x02, 0x01, 0x00, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86,
    0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d,
    0x03, 0x01, 0x07, 0x04, 0x6d, 0x30, 0x6b, 0x02, 0x01, 0x01, 0x04, 0x20};
static const uint8_t pkcs8_p256_mid[] = {0xa1, 0x44, 0x03, 0x42, 0x00};
static const uint8_t spki_p256_head[] = {
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
    0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
    0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00};

int tp_crypto_pem_export(const teep_key_t *key, bool include_private, char *out,
                         size_t cap, size_t *out_len)
{
    mbedtls_ecp_group_id id;
    int rc = group_of(key->type, &id);
    if (rc != 0)
        return rc;
    if (include_private && !key->has_private)
        return -EINVAL;
    uint8_t der[sizeof(pkcs8_p256_head) + 32 + sizeof(pkcs8_p256_mid) + 65];
    size_t n = 0;
#define PUT(p, len) (memcpy(der + n, (p), (len)), n += (len))
    if (key->type == TEEP_KEY_X25519 && include_private) {
        PUT(pkcs8_x25519_head, sizeof(pkcs8_x25519_head));
        PUT(key->d, 32);
    } else if (key->type == TEEP_KEY_X25519) {
        PUT(spki_x25519_head, sizeof(spki_x25519_head));
        PUT(key->x, 32);
    } else {
        if (include_private) {
            PUT(pkcs8_p256_head, sizeof(pkcs8_p256_head));
            PUT(key->d, 32);
            PUT(pkcs8_p256_mid, sizeof(pkcs8_p256_mid));
        } else {
            PUT(spki_p256_head, sizeof(spki_p256_head));
        }
        PUT("\x04", 1);
        PUT(key->x, 32);
        PUT(key->y, 32);
    }
#undef PUT
    size_t olen = 0;
    int ret = mbedtls_pem_write_buffer(
        include_private ? "-----BEGIN PRIVATE KEY-----\n"
                        : "-----BEGIN PUBLIC KEY-----\n",
        include_private ? "-----END PRIVATE KEY-----\n"
                        : "-----END PUBLIC KEY-----\n",
        der, n, (unsigned char *)out, cap, &olen);
    mbedtls_platform_zeroize(der, sizeof(der));
    if (ret == MBEDTLS_ERR_BASE64_BUFFER_TOO_SMALL)
        return -ENOSPC;
    if (ret != 0 || olen == 0)
        return TEEP_E_CRYPTO;
    /* olen counts the NUL mbedtls writes. */
    *out_len = olen - 1;
    return 0;
}

/* ---- Key agreement and content encryption ------------------------------ */

int tp_crypto_ecdh(const teep_key_t *priv, const teep_key_t *peer,
                   uint8_t secret[32])
{
    if (priv->type != peer->type || !priv->has_private)
        return TEEP_E_KEY;
    mbedtls_ecp_group_id id;
    int rc = group_of(priv->type, &id);
    if (rc != 0)
        return rc;
    mbedtls_ecp_keypair mine_tmp, theirs_tmp, *mine, *theirs;
    mbedtls_mpi z;
    mbedtls_mpi_init(&z);
    rc = use_keypair(priv, true, &mine_tmp, &mine);
    int peer_rc = use_keypair(peer, false, &theirs_tmp, &theirs);
    if (rc == 0)
        rc = peer_rc;
    if (rc == 0) {
        /* Anything but an allocation failure is about the peer's point
         * (mbedtls refuses a result at infinity). */
        int ret = mbedtls_ecdh_compute_shared(&mine->grp, &z, &theirs->Q,
                                              &mine->d, rng, NULL);
        if (ret != 0)
            rc = ret == MBEDTLS_ERR_MPI_ALLOC_FAILED ? -ENOMEM : TEEP_E_KEY;
        else if ((id == MBEDTLS_ECP_DP_CURVE25519
                      ? mbedtls_mpi_write_binary_le(&z, secret, 32)
                      : mbedtls_mpi_write_binary(&z, secret, 32)) != 0)
            rc = TEEP_E_CRYPTO;
    }
    /* mbedtls_mpi_free zeroizes. */
    mbedtls_mpi_free(&z);
    mbedtls_ecp_keypair_free(&mine_tmp);
    mbedtls_ecp_keypair_free(&theirs_tmp);
    if (rc != 0)
        mbedtls_platform_zeroize(secret, 32);
    return rc;
}

int tp_crypto_hkdf_sha256(const uint8_t *salt, size_t salt_len,
                          const uint8_t *ikm, size_t ikm_len,
                          const uint8_t *info, size_t info_len, uint8_t *okm,
                          size_t okm_len)
{
    if (okm_len == 0 || okm_len > 255 * 32)
        return -EINVAL;
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
    int ret = mbedtls_hkdf(md, salt_len > 0 ? salt : NULL, salt_len, ikm,
                           ikm_len, info, info_len, okm, okm_len);
    return ret == 0 ? 0 : lib_error(ret);
}

/* RFC 3394 section 2.2.1: A = IV, R[1..n] = P; six rounds of
 * B = AES(K, A | R[i]), A = MSB64(B) ^ t, R[i] = LSB64(B), t = n*j + i. */
static const uint8_t kw_iv[8] = {0xa6, 0xa6, 0xa6, 0xa6,
                                 0xa6, 0xa6, 0xa6, 0xa6};

static void kw_xor_t(uint8_t a[8], uint64_t t)
{
    for (int k = 7; k >= 0; k--, t >>= 8)
        a[k] ^= (uint8_t)t;
}

int tp_crypto_aes_kw_wrap(const uint8_t kek[16], const uint8_t *in, size_t len,
                          uint8_t *out)
{
    if (len % 8 != 0 || len < 16)
        return -EINVAL;
    size_t n = len / 8;
    mbedtls_aes_context aes;
    mbedtls_aes_init(&aes);
    int ret = mbedtls_aes_setkey_enc(&aes, kek, 128);
    uint8_t b[16];
    memcpy(b, kw_iv, 8);
    memmove(out + 8, in, len);
    for (uint64_t j = 0; j < 6 && ret == 0; j++) {
        for (size_t i = 1; i <= n && ret == 0; i++) {
            uint8_t *r = out + 8 * i;
            memcpy(b + 8, r, 8);
            ret = mbedtls_aes_crypt_ecb(&aes, MBEDTLS_AES_ENCRYPT, b, b);
            kw_xor_t(b, n * j + i);
            memcpy(r, b + 8, 8);
        }
    }
    memcpy(out, b, 8);
    mbedtls_platform_zeroize(b, sizeof(b));
    mbedtls_aes_free(&aes);
    if (ret != 0) {
        mbedtls_platform_zeroize(out, len + 8);
        return TEEP_E_CRYPTO;
    }
    return 0;
}

/* RFC 3394 section 2.2.2: the rounds backwards, then A must be the IV. */
int tp_crypto_aes_kw_unwrap(const uint8_t kek[16], const uint8_t *in,
                            size_t len, uint8_t *out)
{
    if (len % 8 != 0 || len < 24)
        return -EINVAL;
    size_t n = len / 8 - 1;
    mbedtls_aes_context aes;
    mbedtls_aes_init(&aes);
    int ret = mbedtls_aes_setkey_dec(&aes, kek, 128);
    uint8_t b[16];
    memcpy(b, in, 8);
    memmove(out, in + 8, len - 8);
    for (uint64_t j = 6; j-- > 0 && ret == 0;) {
        for (size_t i = n; i >= 1 && ret == 0; i--) {
            uint8_t *r = out + 8 * (i - 1);
            kw_xor_t(b, n * j + i);
            memcpy(b + 8, r, 8);
            ret = mbedtls_aes_crypt_ecb(&aes, MBEDTLS_AES_DECRYPT, b, b);
            memcpy(r, b + 8, 8);
        }
    }
    /* Constant time: how far A is from the IV says nothing useful, but
     * there is no reason to tell. */
    uint8_t diff = 0;
    for (size_t k = 0; k < 8; k++)
        diff |= (uint8_t)(b[k] ^ kw_iv[k]);
    mbedtls_platform_zeroize(b, sizeof(b));
    mbedtls_aes_free(&aes);
    if (ret != 0 || diff != 0) {
        mbedtls_platform_zeroize(out, len - 8);
        return ret != 0 ? TEEP_E_CRYPTO : TEEP_E_DECRYPT;
    }
    return 0;
}

/* AES-CTR over the whole 16-byte counter block. */
static int aes_ctr(const uint8_t key[16], const uint8_t iv[16],
                   const uint8_t *in, size_t len, uint8_t *out)
{
    uint8_t counter[16], stream[16];
    size_t off = 0;
    memcpy(counter, iv, sizeof(counter));
    mbedtls_aes_context aes;
    mbedtls_aes_init(&aes);
    int ret = mbedtls_aes_setkey_enc(&aes, key, 128);
    if (ret == 0 && len > 0)
        ret = mbedtls_aes_crypt_ctr(&aes, len, &off, counter, stream, in, out);
    mbedtls_platform_zeroize(stream, sizeof(stream));
    mbedtls_aes_free(&aes);
    return ret;
}

static int aes_gcm(bool encrypt, const uint8_t key[16], const uint8_t iv[12],
                   const uint8_t *aad, size_t aad_len, const uint8_t *in,
                   size_t len, uint8_t *out, uint8_t tag[16])
{
    mbedtls_gcm_context gcm;
    mbedtls_gcm_init(&gcm);
    int ret = mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, key, 128);
    if (ret == 0)
        ret = encrypt ? mbedtls_gcm_crypt_and_tag(&gcm, MBEDTLS_GCM_ENCRYPT,
                                                  len, iv, 12, aad, aad_len, in,
                                                  out, 16, tag)
                      : mbedtls_gcm_auth_decrypt(&gcm, len, iv, 12, aad,
                                                 aad_len, tag, 16, in, out);
    mbedtls_gcm_free(&gcm);
    return ret;
}

static int chacha20_poly1305(bool encrypt, const uint8_t key[32],
                             const uint8_t nonce[12], const uint8_t *aad,
                             size_t aad_len, const uint8_t *in, size_t len,
                             uint8_t *out, uint8_t tag[16])
{
    mbedtls_chachapoly_context ctx;
    mbedtls_chachapoly_init(&ctx);
    int ret = mbedtls_chachapoly_setkey(&ctx, key);
    if (ret == 0)
        ret = encrypt ? mbedtls_chachapoly_encrypt_and_tag(
                            &ctx, len, nonce, aad, aad_len, in, out, tag)
                      : mbedtls_chachapoly_auth_decrypt(&ctx, len, nonce, aad,
                                                        aad_len, tag, in, out);
    mbedtls_chachapoly_free(&ctx);
    return ret;
}

int tp_crypto_cipher(tp_cipher_t cipher, bool encrypt, const uint8_t *key,
                     const uint8_t *iv, const uint8_t *aad, size_t aad_len,
                     const uint8_t *in, size_t len, uint8_t *out,
                     uint8_t tag[16])
{
    int ret;
    switch (cipher) {
    case TP_CIPHER_AES128_GCM:
        ret = aes_gcm(encrypt, key, iv, aad, aad_len, in, len, out, tag);
        break;
    case TP_CIPHER_AES128_CTR: ret = aes_ctr(key, iv, in, len, out); break;
    case TP_CIPHER_CHACHA20_POLY1305:
        ret = chacha20_poly1305(encrypt, key, iv, aad, aad_len, in, len, out,
                                tag);
        break;
    default: return -EINVAL;
    }
    if (ret == 0)
        return 0;
    if (len > 0)
        mbedtls_platform_zeroize(out, len);
    return ret == MBEDTLS_ERR_GCM_AUTH_FAILED ||
                   ret == MBEDTLS_ERR_CHACHAPOLY_AUTH_FAILED
               ? TEEP_E_DECRYPT
               : TEEP_E_CRYPTO;
}
