/*
 * crypto_mbedtls.c: the crypto backend over mbedtls 2.28 (see crypto.h),
 * for code that runs inside a TEE.  Only P-256 is available: 2.28 has no
 * Ed25519, and X25519 exists only as ECDH on its Montgomery curve, which
 * nothing here needs yet; both key types give TEEP_E_ALG.
 *
 * key->native is a heap mbedtls_ecp_keypair (group, Q, and d for a private
 * key).  ECDSA signatures use deterministic k (RFC 6979, as the gen_*
 * vectors do), so a weak or forked random generator cannot leak the key;
 * the CTR_DRBG still blinds the scalar multiplications.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mbedtls/base64.h>
#include <mbedtls/bignum.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
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

/* 0 for P-256, TEEP_E_ALG for the curves 2.28 cannot sign or encode
 * with. */
static int p256_only(teep_key_type_t type)
{
    return type == TEEP_KEY_P256                                 ? 0
           : type == TEEP_KEY_ED25519 || type == TEEP_KEY_X25519 ? TEEP_E_ALG
                                                                 : -EINVAL;
}

/* The raw fields of a P-256 key pair: x, y, and d when with_private. */
static int keypair_to_raw(const mbedtls_ecp_keypair *kp, bool with_private,
                          teep_key_t *key)
{
    if (kp->grp.id != MBEDTLS_ECP_DP_SECP256R1)
        return TEEP_E_ALG;
    if (mbedtls_mpi_write_binary(&kp->Q.X, key->x, 32) != 0 ||
        mbedtls_mpi_write_binary(&kp->Q.Y, key->y, 32) != 0 ||
        (with_private && mbedtls_mpi_write_binary(&kp->d, key->d, 32) != 0))
        return TEEP_E_KEY;
    key->type = TEEP_KEY_P256;
    key->has_private = with_private;
    return 0;
}

/* Set up kp (initialised by the caller, freed by the caller) from the raw
 * fields, checking the point and the scalar. */
static int raw_to_keypair(const teep_key_t *key, bool with_private,
                          mbedtls_ecp_keypair *kp)
{
    int rc = p256_only(key->type);
    if (rc != 0)
        return rc;
    uint8_t point[65];
    point[0] = 0x04; /* uncompressed */
    memcpy(point + 1, key->x, 32);
    memcpy(point + 33, key->y, 32);
    int ret = mbedtls_ecp_group_load(&kp->grp, MBEDTLS_ECP_DP_SECP256R1);
    if (ret != 0)
        return lib_error(ret);
    if (mbedtls_ecp_point_read_binary(&kp->grp, &kp->Q, point, sizeof(point)) !=
            0 ||
        mbedtls_ecp_check_pubkey(&kp->grp, &kp->Q) != 0)
        return TEEP_E_KEY;
    if (with_private && (mbedtls_mpi_read_binary(&kp->d, key->d, 32) != 0 ||
                         mbedtls_ecp_check_privkey(&kp->grp, &kp->d) != 0))
        return TEEP_E_KEY;
    return 0;
}

int tp_crypto_generate(teep_key_t *key, teep_key_type_t type)
{
    int rc = p256_only(type);
    if (rc != 0)
        return rc;
    mbedtls_ecp_keypair kp;
    mbedtls_ecp_keypair_init(&kp);
    int ret = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, &kp, rng, NULL);
    rc = ret != 0 ? lib_error(ret) : keypair_to_raw(&kp, true, key);
    mbedtls_ecp_keypair_free(&kp);
    return rc;
}

int tp_crypto_public_from_private(teep_key_type_t type, const uint8_t d[32],
                                  uint8_t x[32], uint8_t y[32])
{
    int rc = p256_only(type);
    if (rc != 0)
        return rc;
    mbedtls_ecp_keypair kp;
    mbedtls_ecp_keypair_init(&kp);
    int ret = mbedtls_ecp_group_load(&kp.grp, MBEDTLS_ECP_DP_SECP256R1);
    if (ret != 0) {
        rc = lib_error(ret);
    } else if (mbedtls_mpi_read_binary(&kp.d, d, 32) != 0 ||
               mbedtls_ecp_check_privkey(&kp.grp, &kp.d) != 0) {
        rc = TEEP_E_KEY;
    } else {
        ret = mbedtls_ecp_mul(&kp.grp, &kp.Q, &kp.d, &kp.grp.G, rng, NULL);
        if (ret != 0)
            rc = lib_error(ret);
        else if (mbedtls_mpi_write_binary(&kp.Q.X, x, 32) != 0 ||
                 mbedtls_mpi_write_binary(&kp.Q.Y, y, 32) != 0)
            rc = TEEP_E_CRYPTO;
    }
    mbedtls_ecp_keypair_free(&kp);
    return rc;
}

int tp_crypto_key_prepare(teep_key_t *key)
{
    int rc = p256_only(key->type);
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
    mbedtls_platform_zeroize(text, len + 1);
    free(text);
    int rc;
    if (ret != 0) {
        int hl = high_level(ret);
        rc = hl == MBEDTLS_ERR_PK_UNKNOWN_PK_ALG ||
                     hl == MBEDTLS_ERR_PK_UNKNOWN_NAMED_CURVE
                 ? TEEP_E_ALG
             : hl == MBEDTLS_ERR_PK_ALLOC_FAILED ? -ENOMEM
                                                 : TEEP_E_KEY;
    } else if (mbedtls_pk_get_type(&pk) != MBEDTLS_PK_ECKEY) {
        rc = TEEP_E_ALG;
    } else {
        rc = keypair_to_raw(mbedtls_pk_ec(pk), priv, key);
    }
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
    int rc = p256_only(key->type);
    if (rc != 0)
        return rc;
    if (include_private && !key->has_private)
        return -EINVAL;
    uint8_t der[sizeof(pkcs8_p256_head) + 32 + sizeof(pkcs8_p256_mid) + 65];
    size_t n = 0;
#define PUT(p, len) (memcpy(der + n, (p), (len)), n += (len))
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
