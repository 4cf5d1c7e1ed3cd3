/*
 * fuzz_tam_message: arbitrary bytes into the TAM's session processing
 * (teep_tam_process_message) on an in-memory database.  Signatures stop
 * random bytes at the door, so the first byte picks how far in they go:
 *   0  the bytes as the POST body
 *   1  the bytes as a TEEP payload, signed by the registered Agent
 *   2  a signed QueryResponse answering a fresh QueryRequest, the bytes as
 *      its attestation-payload (the Verifier and the deploy engine)
 *   3  a signed Success answering an outstanding Update, the bytes as its
 *      SUIT report (the report reader)
 * Never crash, never leak; every answer is a status the HTTP layer can
 * send.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "internal.h"
#include "peer.h"

static teep_tam_t tam;
static tam_peer_t peer;

static int64_t fixed_clock(void *ctx)
{
    return 1800000000;
}

static char *pem_of(const teep_key_t *key, char *out, size_t cap)
{
    size_t len;
    return teep_key_to_pem(key, false, out, cap, &len) == 0 ? out : NULL;
}

static void setup(void)
{
    teep_tam_config_t cfg = {
        .db_path = ":memory:",
        .connections = 1,
        .admin_token = "fuzz-admin-token-0123456789",
        .clock = fixed_clock,
    };
    char teep[1024], att[1024];
    tam_log_set_level(TEEP_LOG_ERROR);
    if (teep_tam_open(&tam, &cfg, NULL) != 0 ||
        tam_peer_init(&peer, TEEP_KEY_P256, -1) != 0 ||
        tam_peer_trust_tam(&peer, &tam.keys.esp256) != 0 ||
        tam_peer_trust_tc_signer(&peer, &tam.keys.tc_signer) != 0 ||
        pem_of(&peer.teep_key, teep, sizeof(teep)) == NULL ||
        pem_of(&peer.attest_key, att, sizeof(att)) == NULL)
        abort();
    json_t *j = json_pack("{s:s, s:s, s:s}", "name", "fuzz", "teep_key", teep,
                          "attestation_key", att);
    char *body = j != NULL ? json_dumps(j, 0) : NULL;
    json_decref(j);
    if (body == NULL)
        abort();
    teep_tam_admin_request_t r = {
        .method = "POST",
        .path = "/devices",
        .authorization = "Bearer fuzz-admin-token-0123456789",
        .body = (const uint8_t *)body,
        .body_len = strlen(body),
    };
    teep_tam_reply_t reply;
    if (teep_tam_admin(&tam, &r, &reply) != 0 || reply.status != 201)
        abort();
    teep_tam_reply_clear(&reply);
    free(body);
}

/* Sign m as the Agent and post it. */
static void post_signed(const teep_message_t *m)
{
    uint8_t payload[8192], cose[8448];
    size_t len = 0, cose_len = 0;
    teep_signer_t s = {&peer.teep_key, 0};
    if (teep_message_encode(m, TEEP_PROFILE_RFC, payload, sizeof(payload),
                            &len) != 0 ||
        teep_cose_sign1(&s, payload, len, cose, sizeof(cose), &cose_len) != 0)
        return;
    teep_tam_reply_t reply;
    teep_tam_process_message(&tam, cose, cose_len, &reply);
    teep_tam_reply_clear(&reply);
}

static void signed_payload(const uint8_t *data, size_t size)
{
    uint8_t cose[70000];
    size_t len = 0;
    teep_signer_t s = {&peer.teep_key, 0};
    if (teep_cose_sign1(&s, data, size, cose, sizeof(cose), &len) != 0)
        return;
    teep_tam_reply_t reply;
    teep_tam_process_message(&tam, cose, len, &reply);
    teep_tam_reply_clear(&reply);
}

/* A token the TAM issued: a fresh QueryRequest's, or an Update's made in
 * the store directly (no deployment needs to be at that step). */
static bool outstanding(int type, uint8_t token[TAM_TOKEN_LEN])
{
    tam_store_t *s = tam_pool_get(&tam);
    tam_token_t t = {.msg_type = type, .step = -1};
    bool ok =
        tam_conversation_new(s, fixed_clock(NULL), &t.conversation) == 0 &&
        tam_token_issue(s, &t, type == TEEP_QUERY_REQUEST, fixed_clock(NULL),
                        3600) == 0;
    tam_pool_put(&tam, s);
    memcpy(token, t.token, TAM_TOKEN_LEN);
    return ok;
}

/* The database grows with every token and appraisal: start a fresh one
 * now and then so that long runs stay within the fuzzer's memory limit. */
#define RUNS_PER_DATABASE 5000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static unsigned runs;
    if (runs++ % RUNS_PER_DATABASE == 0) {
        if (runs > 1) {
            tam_peer_clear(&peer);
            teep_tam_close(&tam);
        }
        setup();
    }
    if (size == 0)
        return 0;
    uint8_t mode = data[0] % 4, token[TAM_TOKEN_LEN];
    data++;
    size--;
    teep_tam_reply_t reply;
    teep_message_t m;
    teep_slice_t report = {data, size};
    memset(&m, 0, sizeof(m));
    m.present = TEEP_OPT_BIT(TEEP_OPT_TOKEN);
    m.token = (teep_slice_t){token, sizeof(token)};
    switch (mode) {
    case 0:
        teep_tam_process_message(&tam, data, size, &reply);
        teep_tam_reply_clear(&reply);
        break;
    case 1: signed_payload(data, size); break;
    case 2:
        if (!outstanding(TEEP_QUERY_REQUEST, token) || size == 0)
            break;
        m.type = TEEP_QUERY_RESPONSE;
        m.present |= TEEP_OPT_BIT(TEEP_OPT_ATTESTATION_PAYLOAD);
        m.attestation_payload = (teep_slice_t){data, size};
        post_signed(&m);
        break;
    default:
        if (!outstanding(TEEP_UPDATE, token) || size == 0)
            break;
        m.type = TEEP_SUCCESS;
        m.present |= TEEP_OPT_BIT(TEEP_OPT_SUIT_REPORTS);
        m.suit_reports.items = &report;
        m.suit_reports.count = 1;
        post_signed(&m);
        break;
    }
    return 0;
}
