/*
 * ot_classic.c: 1-out-of-N oblivious transfer without a TEE, the N-ary
 * form of Chou and Orlandi's "simplest OT" on P-256 (ot.h):
 *
 *   server    a random, A = aG                               -> A
 *   receiver  b random, B = bG + iA                          -> B
 *   server    k_j = H(A | B | a(B - jA)) for every j; sends every record j
 *             encrypted (AES-128-GCM) under k_j              -> N ciphertexts
 *   receiver  k_i = H(A | B | bA) opens record i, only that one
 *
 * a(B - iA) = abG = bA, so k_i matches; for j != i the receiver would need
 * a(i - j)A = (i - j)a^2 G, a computational Diffie-Hellman value.  B is
 * uniformly distributed whatever i, so the server learns nothing, and what
 * it sends has the same size for every i.  Semi-honest security (the
 * paper's caveats on a malicious server apply).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>
#include <openssl/sha.h>

#include "ot.h"

struct ot_classic_server {
    EC_GROUP *group;
    BIGNUM *a;
    uint8_t a_msg[OT_POINT_LEN];
    BN_CTX *bn;
};

struct ot_classic_receiver {
    EC_GROUP *group;
    uint8_t key[OT_KEY_LEN];
    uint32_t idx;
};

size_t ot_classic_answer_len(uint32_t n, uint32_t size)
{
    return (size_t)n * (size + OT_TAG_LEN);
}

/* k = SHA-256(A | B | P)[0..16) with P compressed. */
static int point_key(const EC_GROUP *g, const uint8_t a_msg[OT_POINT_LEN],
                     const uint8_t b_msg[OT_POINT_LEN], const EC_POINT *p,
                     BN_CTX *bn, uint8_t key[OT_KEY_LEN])
{
    uint8_t in[3 * OT_POINT_LEN], digest[SHA256_DIGEST_LENGTH];
    memcpy(in, a_msg, OT_POINT_LEN);
    memcpy(in + OT_POINT_LEN, b_msg, OT_POINT_LEN);
    if (EC_POINT_point2oct(g, p, POINT_CONVERSION_COMPRESSED,
                           in + 2 * OT_POINT_LEN, OT_POINT_LEN,
                           bn) != OT_POINT_LEN ||
        EVP_Digest(in, sizeof(in), digest, NULL, EVP_sha256(), NULL) != 1)
        return -EIO;
    memcpy(key, digest, OT_KEY_LEN);
    return 0;
}

ot_classic_server_t *ot_classic_server_new(uint8_t a_msg[OT_POINT_LEN])
{
    ot_classic_server_t *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    s->a = BN_new();
    s->bn = BN_CTX_new();
    EC_POINT *A = s->group != NULL ? EC_POINT_new(s->group) : NULL;
    int ok = A != NULL && s->a != NULL && s->bn != NULL &&
             BN_priv_rand_range(s->a, EC_GROUP_get0_order(s->group)) == 1 &&
             !BN_is_zero(s->a) &&
             EC_POINT_mul(s->group, A, s->a, NULL, NULL, s->bn) == 1 &&
             EC_POINT_point2oct(s->group, A, POINT_CONVERSION_COMPRESSED,
                                s->a_msg, OT_POINT_LEN, s->bn) == OT_POINT_LEN;
    EC_POINT_free(A);
    if (!ok) {
        ot_classic_server_free(s);
        return NULL;
    }
    memcpy(a_msg, s->a_msg, OT_POINT_LEN);
    return s;
}

void ot_classic_server_free(ot_classic_server_t *s)
{
    if (s == NULL)
        return;
    BN_clear_free(s->a);
    BN_CTX_free(s->bn);
    EC_GROUP_free(s->group);
    free(s);
}

int ot_classic_server_answer(ot_classic_server_t *s,
                             const uint8_t b_msg[OT_POINT_LEN],
                             const ot_table_t *t, uint8_t *out)
{
    const EC_GROUP *g = s->group;
    EC_POINT *B = EC_POINT_new(g), *A = EC_POINT_new(g), *T = EC_POINT_new(g);
    EC_POINT *P = EC_POINT_new(g);
    int rc = -EIO;
    if (B == NULL || A == NULL || T == NULL || P == NULL)
        goto done;
    if (EC_POINT_oct2point(g, B, b_msg, OT_POINT_LEN, s->bn) != 1 ||
        EC_POINT_is_at_infinity(g, B)) {
        rc = -EINVAL;
        goto done;
    }
    /* P_0 = aB, P_j = P_{j-1} - aA = a(B - jA): one point addition per
     * record instead of one scalar multiplication. */
    if (EC_POINT_oct2point(g, A, s->a_msg, OT_POINT_LEN, s->bn) != 1 ||
        EC_POINT_mul(g, T, NULL, A, s->a, s->bn) != 1 ||
        EC_POINT_invert(g, T, s->bn) != 1 ||
        EC_POINT_mul(g, P, NULL, B, s->a, s->bn) != 1)
        goto done;
    size_t rec = t->size + OT_TAG_LEN;
    for (uint32_t j = 0; j < t->n; j++) {
        uint8_t key[OT_KEY_LEN];
        if (j > 0 && EC_POINT_add(g, P, P, T, s->bn) != 1)
            goto done;
        if (point_key(g, s->a_msg, b_msg, P, s->bn, key) != 0 ||
            ot_seal(key, 'O', j, t->rows + (size_t)j * t->size, t->size,
                    out + (size_t)j * rec) != 0)
            goto done;
    }
    rc = 0;
done:
    EC_POINT_free(P);
    EC_POINT_free(B);
    EC_POINT_free(A);
    EC_POINT_free(T);
    return rc;
}

ot_classic_receiver_t *
ot_classic_receiver_new(const uint8_t a_msg[OT_POINT_LEN], uint32_t idx,
                        uint8_t b_msg[OT_POINT_LEN])
{
    ot_classic_receiver_t *r = calloc(1, sizeof(*r));
    BN_CTX *bn = BN_CTX_new();
    BIGNUM *b = BN_new(), *i = BN_new();
    EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    EC_POINT *A = g != NULL ? EC_POINT_new(g) : NULL;
    EC_POINT *B = g != NULL ? EC_POINT_new(g) : NULL;
    EC_POINT *K = g != NULL ? EC_POINT_new(g) : NULL;
    int ok = r != NULL && bn != NULL && b != NULL && i != NULL && K != NULL &&
             A != NULL && B != NULL &&
             EC_POINT_oct2point(g, A, a_msg, OT_POINT_LEN, bn) == 1 &&
             !EC_POINT_is_at_infinity(g, A) &&
             BN_priv_rand_range(b, EC_GROUP_get0_order(g)) == 1 &&
             !BN_is_zero(b) && BN_set_word(i, idx) == 1 &&
             /* B = bG + iA */
             EC_POINT_mul(g, B, b, A, i, bn) == 1 &&
             EC_POINT_point2oct(g, B, POINT_CONVERSION_COMPRESSED, b_msg,
                                OT_POINT_LEN, bn) == OT_POINT_LEN &&
             EC_POINT_mul(g, K, NULL, A, b, bn) == 1 &&
             point_key(g, a_msg, b_msg, K, bn, r->key) == 0;
    if (r != NULL) {
        r->group = g;
        r->idx = idx;
    }
    EC_POINT_free(A);
    EC_POINT_free(B);
    EC_POINT_free(K);
    BN_clear_free(b);
    BN_free(i);
    BN_CTX_free(bn);
    if (!ok) {
        if (r == NULL)
            EC_GROUP_free(g);
        ot_classic_receiver_free(r);
        return NULL;
    }
    return r;
}

int ot_classic_receiver_open(ot_classic_receiver_t *r, const uint8_t *answer,
                             uint32_t n, uint32_t size, uint8_t *out)
{
    if (r->idx >= n)
        return -EINVAL;
    size_t rec = size + OT_TAG_LEN;
    return ot_open(r->key, 'O', r->idx, answer + (size_t)r->idx * rec, rec,
                   out);
}

void ot_classic_receiver_free(ot_classic_receiver_t *r)
{
    if (r == NULL)
        return;
    EC_GROUP_free(r->group);
    OPENSSL_cleanse(r->key, sizeof(r->key));
    free(r);
}
