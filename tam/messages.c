/* messages.c: the TEEP messages the TAM sends (digest 1.13), encoded in
 * the Agent's numbering profile and signed: QueryRequest and Update. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* COSE_Sign1 / COSE_Sign around a payload: protected {1: alg} and
 * unprotected {4: kid} per signer plus the array heads. */
#define COSE_OVERHEAD_PER_SIGNER 128
#define COSE_OVERHEAD            32
#define ERR_MSG_MAX              128 /* err-msg: text .size (1..128) */

/* SUIT COSE profiles the TAM supports (digest 1.8: all four). */
static const teep_suit_profile_t suit_profiles[] = {
    {4, {-16, TEEP_ALG_ESP256, -29, -65534}},
    {4, {-16, TEEP_ALG_ED25519, -29, -65534}},
    {4, {-16, TEEP_ALG_ESP256, -29, 1}},
    {4, {-16, TEEP_ALG_ED25519, -29, 24}},
};

static int64_t wire_alg(teep_profile_t profile, int64_t alg)
{
    bool p256 = alg == TEEP_ALG_ESP256 || alg == TEEP_ALG_ES256;
    if (profile == TEEP_PROFILE_LEGACY)
        return p256 ? TEEP_ALG_ES256 : TEEP_ALG_EDDSA;
    return p256 ? TEEP_ALG_ESP256 : TEEP_ALG_ED25519;
}

size_t tam_message_signers(const teep_tam_t *tam, teep_profile_t profile,
                           int64_t alg, teep_signer_t out[2])
{
    if (alg == 0) {
        out[0] = (teep_signer_t){&tam->keys.esp256,
                                 wire_alg(profile, TEEP_ALG_ESP256)};
        out[1] = (teep_signer_t){&tam->keys.ed25519,
                                 wire_alg(profile, TEEP_ALG_ED25519)};
        return 2;
    }
    const teep_key_t *key = tam_keys_for_alg(&tam->keys, alg);
    if (key == NULL)
        return 0;
    out[0] = (teep_signer_t){key, wire_alg(profile, alg)};
    return 1;
}

/* Encode m and sign it into a new reply body. */
static int seal(const teep_message_t *m, teep_profile_t profile,
                const teep_signer_t *signers, size_t n, teep_tam_reply_t *reply)
{
    size_t len = 0;
    int rc = teep_message_encode(m, profile, NULL, 0, &len);
    if (rc != -ENOSPC && rc != 0)
        return rc;
    uint8_t *payload = malloc(len);
    size_t cap = len + COSE_OVERHEAD + n * COSE_OVERHEAD_PER_SIGNER;
    uint8_t *out = malloc(cap);
    rc = payload == NULL || out == NULL
             ? -ENOMEM
             : teep_message_encode(m, profile, payload, len, &len);
    size_t out_len = 0;
    if (rc == 0 && n == 1)
        rc = teep_cose_sign1(&signers[0], payload, len, out, cap, &out_len);
    else if (rc == 0)
        rc = teep_cose_sign(signers, n, payload, len, out, cap, &out_len);
    free(payload);
    if (rc != 0) {
        free(out);
        return rc;
    }
    tam_reply_set(reply, 200, TEEP_TAM_MEDIA_TYPE, out, out_len);
    return 0;
}

static void cipher_suites(const teep_signer_t *signers, size_t n,
                          teep_cipher_suite_t out[2])
{
    for (size_t i = 0; i < n; i++)
        out[i] = (teep_cipher_suite_t){1, {{TEEP_COSE_SIGN1, signers[i].alg}}};
}

int tam_message_query(const teep_tam_t *tam, const tam_token_t *t,
                      teep_profile_t profile, const teep_signer_t *signers,
                      size_t n_signers, teep_tam_reply_t *reply)
{
    teep_cipher_suite_t suites[2];
    teep_message_t m;
    memset(&m, 0, sizeof(m));
    cipher_suites(signers, n_signers, suites);
    m.type = TEEP_QUERY_REQUEST;
    m.present = TEEP_OPT_BIT(TEEP_OPT_TOKEN);
    m.token = (teep_slice_t){t->token, sizeof(t->token)};
    if (t->has_challenge) {
        /* Background check with nonce freshness (digest 1.10); the
         * freshness list is left out: absent means nonce only. */
        m.present |= TEEP_OPT_BIT(TEEP_OPT_CHALLENGE);
        m.challenge = (teep_slice_t){t->challenge, sizeof(t->challenge)};
        m.data_item_requested = TEEP_DATA_ATTESTATION;
    }
    m.cipher_suites.items = suites;
    m.cipher_suites.count = n_signers;
    m.suit_profiles.items = (teep_suit_profile_t *)suit_profiles;
    m.suit_profiles.count = sizeof(suit_profiles) / sizeof(suit_profiles[0]);
    return seal(&m, profile, signers, n_signers, reply);
}

int tam_message_update(const teep_tam_t *tam, const tam_token_t *t,
                       teep_profile_t profile, const teep_signer_t *signer,
                       const teep_slice_t *envelopes, size_t n,
                       uint64_t err_code, const char *err_msg,
                       teep_tam_reply_t *reply)
{
    teep_message_t m;
    memset(&m, 0, sizeof(m));
    m.type = TEEP_UPDATE;
    m.present = TEEP_OPT_BIT(TEEP_OPT_TOKEN);
    m.token = (teep_slice_t){t->token, sizeof(t->token)};
    if (n > 0) {
        m.present |= TEEP_OPT_BIT(TEEP_OPT_MANIFEST_LIST);
        m.manifest_list.items = (teep_slice_t *)envelopes;
        m.manifest_list.count = n;
    }
    if (err_code != 0) {
        size_t len = strlen(err_msg);
        if (len > ERR_MSG_MAX) {
            /* Cut at a character boundary: err-msg is UTF-8 text. */
            len = ERR_MSG_MAX;
            while (len > 0 && ((uint8_t)err_msg[len] & 0xc0) == 0x80)
                len--;
        }
        m.present |= TEEP_OPT_BIT(TEEP_OPT_ERR_CODE);
        m.err_code = err_code;
        if (len > 0) {
            m.present |= TEEP_OPT_BIT(TEEP_OPT_ERR_MSG);
            m.err_msg = (teep_slice_t){(const uint8_t *)err_msg, len};
        }
    }
    return seal(&m, profile, signer, 1, reply);
}
