/*
 * reply.c: the Agent's side of message validation (draft "Validating"):
 * a TAM message must be a COSE_Sign1 or COSE_Sign that verifies with a
 * configured TAM key and carry a well-formed TEEP message in that TAM's
 * numbering profile; and the other direction: encoding and signing the
 * Agent's replies, Error messages with the lists their err-code requires.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "teep/peek.h"

#include "agent_internal.h"

/* The one suite an Agent needs (digest 1.8): COSE_Sign1 with ESP256. */
const teep_cipher_suite_t agent__suites[] = {
    {.n_ops = 1, .ops = {{TEEP_COSE_SIGN1, TEEP_ALG_ESP256}}},
};
const size_t agent__n_suites = 1;

/* SUIT COSE profiles with ESP256 and ECDH (the PD key is P-256). */
const teep_suit_profile_t agent__suit_profiles[] = {
    {.n = 4, .alg = {-16, TEEP_ALG_ESP256, -29, -65534}},
    {.n = 4, .alg = {-16, TEEP_ALG_ESP256, -29, 1}},
};
const size_t agent__n_suit_profiles = 2;

static const uint32_t versions[] = {0};
static const uint64_t freshness[] = {TEEP_FRESHNESS_NONCE};

/* Room for the COSE_Sign1 around a payload: tag, array, protected
 * {1: -9}, unprotected {4: kid}, the 64-byte signature, heads. */
#define SIGN1_OVERHEAD 160

/* Where no TAM was recognised, answer in the configured profile. */
static teep_profile_t profile_for(const teep_agent_t *agent, int tam)
{
    if (agent->cfg.profile != TEEP_AGENT_PROFILE_AUTO)
        return (teep_profile_t)agent->cfg.profile;
    if (tam >= 0 && agent->tam_profile[tam] >= 0)
        return (teep_profile_t)agent->tam_profile[tam];
    return TEEP_PROFILE_RFC;
}

void agent__in_free(agent_in_t *in)
{
    free(in->arena_mem);
    in->arena_mem = NULL;
}

static int find_tam(teep_agent_t *agent, const teep_cose_t *cose, int *tam,
                    teep_diag_t *diag)
{
    size_t alg_refusals = 0;
    for (size_t i = 0; i < agent->cfg.n_tams; i++) {
        int rc = teep_cose_verify(cose, &agent->cfg.tam_keys[i], NULL, 0);
        if (rc == 0) {
            *tam = (int)i;
            return 0;
        }
        if (rc == TEEP_E_ALG)
            alg_refusals++;
        else if (rc != TEEP_E_SIGNATURE)
            return teep_diag_set(diag, rc, 0, "signature check failed: %s",
                                 teep_strerror(rc));
    }
    /* Only when no TAM key could even try is it the cipher suite. */
    if (alg_refusals == agent->cfg.n_tams)
        return teep_diag_set(diag, TEEP_E_ALG, 0,
                             "no signature in a cipher suite this Agent "
                             "supports (COSE_Sign1 with ESP256)");
    return teep_diag_set(diag, TEEP_E_SIGNATURE, 0,
                         "not signed by a trusted TAM");
}

static int decode_as(agent_in_t *in, teep_slice_t payload,
                     teep_profile_t profile, teep_diag_t *diag)
{
    teep_arena_init(&in->arena, in->arena_mem, TEEP_ARENA_DEFAULT);
    int rc = teep_message_decode(payload.ptr, payload.len, profile, &in->arena,
                                 &in->msg, diag);
    if (rc == 0)
        in->profile = profile;
    return rc;
}

int agent__verify_in(teep_agent_t *agent, const uint8_t *buf, size_t len,
                     agent_in_t *in, teep_diag_t *diag)
{
    memset(in, 0, sizeof(*in));
    in->tam = -1;
    in->profile = profile_for(agent, -1);
    teep_cose_t cose;
    int rc = teep_cose_parse(buf, len, &cose, diag);
    if (rc == 0)
        rc = find_tam(agent, &cose, &in->tam, diag);
    if (rc != 0)
        return rc;
    in->profile = profile_for(agent, in->tam);
    if (cose.payload.ptr == NULL)
        return teep_diag_set(diag, TEEP_E_MISSING, 0,
                             "the TEEP message is detached");
    in->arena_mem = malloc(TEEP_ARENA_DEFAULT);
    if (in->arena_mem == NULL)
        return -ENOMEM;
    bool detect = agent->cfg.profile == TEEP_AGENT_PROFILE_AUTO &&
                  agent->tam_profile[in->tam] < 0;
    if (!detect)
        return decode_as(in, cose.payload, in->profile, diag);
    /* A token tells the profile for sure (its label differs); without
     * one, whichever numbering decodes the message is the TAM's this
     * time, and the next message asks again. */
    teep_peek_t pk;
    if (teep_peek(buf, len, TEEP_PEEK_AUTO, &pk, NULL) == 0 &&
        pk.profile != TEEP_PEEK_AUTO) {
        rc = decode_as(in, cose.payload, (teep_profile_t)pk.profile, diag);
        if (rc == 0)
            agent->tam_profile[in->tam] = pk.profile;
        return rc;
    }
    rc = decode_as(in, cose.payload, TEEP_PROFILE_RFC, diag);
    if (rc != 0 && decode_as(in, cose.payload, TEEP_PROFILE_LEGACY, NULL) == 0)
        rc = 0;
    return rc;
}

int agent__sign_reply(teep_agent_t *agent, const teep_message_t *msg,
                      teep_profile_t profile, uint8_t **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    size_t n = 0;
    int rc = teep_message_encode(msg, profile, NULL, 0, &n);
    if (rc != -ENOSPC && rc != 0)
        return rc;
    uint8_t *payload = malloc(n);
    uint8_t *cose = malloc(n + SIGN1_OVERHEAD);
    rc = payload == NULL || cose == NULL ? -ENOMEM : 0;
    if (rc == 0)
        rc = teep_message_encode(msg, profile, payload, n, &n);
    teep_signer_t signer = {&agent->teep_key, TEEP_ALG_ESP256};
    if (rc == 0)
        rc = teep_cose_sign1(&signer, payload, n, cose, n + SIGN1_OVERHEAD,
                             out_len);
    free(payload);
    if (rc != 0) {
        free(cose);
        *out_len = 0;
        return rc;
    }
    *out = cose;
    return 0;
}

int agent__error_reply(teep_agent_t *agent, teep_profile_t profile,
                       teep_slice_t token, uint64_t err_code,
                       const char *reason, const teep_slice_t *suit_reports,
                       size_t n_reports, uint8_t **out, size_t *out_len)
{
    teep_message_t m;
    memset(&m, 0, sizeof(m));
    m.type = TEEP_ERROR;
    m.err_code = err_code;
    if (token.len > 0) {
        m.present |= TEEP_OPT_BIT(TEEP_OPT_TOKEN);
        m.token = token;
    }
    /* err-msg is text of 1..128 bytes: keep it printable ASCII. */
    char text[129];
    size_t n = 0;
    for (; reason != NULL && reason[n] != 0 && n < sizeof(text) - 1; n++)
        text[n] = reason[n] >= 0x20 && reason[n] < 0x7f ? reason[n] : '?';
    if (n > 0) {
        m.present |= TEEP_OPT_BIT(TEEP_OPT_ERR_MSG);
        m.err_msg = (teep_slice_t){(const uint8_t *)text, n};
    }
    switch (err_code) {
    case TEEP_ERR_UNSUPPORTED_CIPHER_SUITES:
        m.present |= TEEP_OPT_BIT(TEEP_OPT_SUPPORTED_TEEP_CIPHER_SUITES);
        m.cipher_suites.items = (teep_cipher_suite_t *)agent__suites;
        m.cipher_suites.count = agent__n_suites;
        break;
    case TEEP_ERR_UNSUPPORTED_FRESHNESS_MECHANISMS:
        m.present |= TEEP_OPT_BIT(TEEP_OPT_SUPPORTED_FRESHNESS_MECHANISMS);
        m.freshness_mechanisms.items = (uint64_t *)freshness;
        m.freshness_mechanisms.count = 1;
        break;
    case TEEP_ERR_UNSUPPORTED_MSG_VERSION:
        m.present |= TEEP_OPT_BIT(TEEP_OPT_VERSIONS);
        m.versions.items = (uint32_t *)versions;
        m.versions.count = 1;
        break;
    case TEEP_ERR_UNSUPPORTED_SUIT_REPORT:
        m.present |= TEEP_OPT_BIT(TEEP_OPT_SUPPORTED_SUIT_COSE_PROFILES);
        m.suit_profiles.items = (teep_suit_profile_t *)agent__suit_profiles;
        m.suit_profiles.count = agent__n_suit_profiles;
        break;
    default: break;
    }
    if (n_reports > 0) {
        m.present |= TEEP_OPT_BIT(TEEP_OPT_SUIT_REPORTS);
        m.suit_reports.items = (teep_slice_t *)suit_reports;
        m.suit_reports.count = n_reports;
    }
    return agent__sign_reply(agent, &m, profile, out, out_len);
}
