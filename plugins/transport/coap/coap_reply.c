/*
 * coap_reply.c: CoAP answers for exchange outcomes (coap_transport.h),
 * the table of docs/transport-coap.md, "Response codes".
 */
#include <string.h>

#include "coap_transport.h"

/* RFC 8075 section 7 maps HTTP status codes onto CoAP ones; the TAM's own
 * refusals travel that way to the Agent. */
static coap_pdu_code_t from_http(int status)
{
    switch (status) {
    case 400: return COAP_RESPONSE_CODE(400);
    case 401: return COAP_RESPONSE_CODE(401);
    case 403: return COAP_RESPONSE_CODE(403);
    case 404: return COAP_RESPONSE_CODE(404);
    case 405: return COAP_RESPONSE_CODE(405);
    case 406: return COAP_RESPONSE_CODE(406);
    case 412: return COAP_RESPONSE_CODE(412);
    case 413: return COAP_RESPONSE_CODE(413);
    case 415: return COAP_RESPONSE_CODE(415);
    case 429: return COAP_RESPONSE_CODE(429);
    case 501: return COAP_RESPONSE_CODE(501);
    case 502: return COAP_RESPONSE_CODE(502);
    case 503: return COAP_RESPONSE_CODE(503);
    case 504: return COAP_RESPONSE_CODE(504);
    default:
        if (status >= 400 && status <= 499)
            return COAP_RESPONSE_CODE(400);
        if (status >= 500 && status <= 599)
            return COAP_RESPONSE_CODE(500);
        /* Anything else the TAM said is not TEEP over HTTP. */
        return COAP_RESPONSE_CODE(502);
    }
}

coap_pdu_code_t teep_coap_reply_code(const teep_coap_answer_t *a)
{
    switch (a->error) {
    case TEEP_XERR_BAD_MESSAGE: return COAP_RESPONSE_CODE(400);
    case TEEP_XERR_MEDIA_TYPE: return COAP_RESPONSE_CODE(415);
    case TEEP_XERR_TOO_LARGE: return COAP_RESPONSE_CODE(413);
    case TEEP_XERR_UNKNOWN_ROUTE: return COAP_RESPONSE_CODE(404);
    case TEEP_XERR_OVERLOADED:
    case TEEP_XERR_DRAINING: return COAP_RESPONSE_CODE(503);
    case TEEP_XERR_UPSTREAM_DOWN:
    case TEEP_XERR_UPSTREAM_PROTOCOL: return COAP_RESPONSE_CODE(502);
    case TEEP_XERR_UPSTREAM_TIMEOUT: return COAP_RESPONSE_CODE(504);
    case TEEP_XERR_UPSTREAM_STATUS: return from_http(a->upstream_status);
    default: return COAP_RESPONSE_CODE(500);
    }
}

/* A counter per answer class that a test or an operator looks for. */
static const char *counter_of(coap_pdu_code_t code)
{
    switch ((int)code) {
    case COAP_RESPONSE_CODE(400): return "coap_4_00";
    case COAP_RESPONSE_CODE(404): return "coap_4_04";
    case COAP_RESPONSE_CODE(406): return "coap_4_06";
    case COAP_RESPONSE_CODE(408): return "coap_4_08";
    case COAP_RESPONSE_CODE(413): return "coap_4_13";
    case COAP_RESPONSE_CODE(415): return "coap_4_15";
    case COAP_RESPONSE_CODE(429): return "coap_4_29";
    case COAP_RESPONSE_CODE(500): return "coap_5_00";
    case COAP_RESPONSE_CODE(502): return "coap_5_02";
    case COAP_RESPONSE_CODE(503): return "coap_5_03";
    case COAP_RESPONSE_CODE(504): return "coap_5_04";
    default: return "coap_other_error";
    }
}

static void add_uint_option(coap_pdu_t *pdu, coap_option_num_t number,
                            uint32_t value)
{
    uint8_t buf[4];
    coap_add_option(pdu, number, coap_encode_var_safe(buf, sizeof(buf), value),
                    buf);
}

void teep_coap_reply_refuse(teep_coap_t *in, coap_pdu_t *resp,
                            coap_pdu_code_t code, int max_age,
                            const char *reason)
{
    coap_pdu_set_code(resp, code);
    if (max_age >= 0)
        add_uint_option(resp, COAP_OPTION_MAXAGE, (uint32_t)max_age);
    if (code == COAP_RESPONSE_CODE(413))
        add_uint_option(resp, COAP_OPTION_SIZE1, (uint32_t)in->cfg.max_body);
    /* RFC 7252 5.5.2: a diagnostic payload, UTF-8 text without a
     * Content-Format, short enough to stay in one datagram. */
    size_t len = strlen(reason);
    if (len > 96)
        len = 96;
    coap_add_data(resp, len, (const uint8_t *)reason);
    teep_coap_count(in, counter_of(code), 1);
}

/* libcoap calls this once it no longer needs the bytes it was given:
 * after the last block went out, or on failure. */
static void release_body(coap_session_t *s, void *body)
{
    (void)s;
    teep_buf_unref(body);
}

void teep_coap_reply_answer(teep_coap_t *in, coap_resource_t *r,
                            coap_session_t *s, const coap_pdu_t *req,
                            const coap_string_t *q, coap_pdu_t *resp,
                            teep_coap_answer_t *a)
{
    if (a->outcome == TEEP_EXCHANGE_FAILED) {
        coap_pdu_code_t code = teep_coap_reply_code(a);
        int max_age = -1;
        if (code == COAP_RESPONSE_CODE(503))
            max_age = (int)(a->retry_after_s > 0 ? a->retry_after_s
                                                 : in->cfg.retry_after_s);
        teep_coap_reply_refuse(in, resp, code, max_age,
                               a->reason[0] ? a->reason : "exchange failed");
        return;
    }
    coap_pdu_set_code(resp, COAP_RESPONSE_CODE(204));
    /* RFC 7959 2.3: the response to the last block of a Block1 request
     * carries Block1 with that block's number (M clear); the request
     * handler noted it (parsing req again cost a walk of its options). */
    if (a->block1 >= 0)
        add_uint_option(resp, COAP_OPTION_BLOCK1, (uint32_t)a->block1);
    teep_buf_t *body = a->body;
    a->body = NULL;
    if (a->outcome != TEEP_EXCHANGE_MESSAGE || body == NULL ||
        teep_buf_len(body) == 0) {
        teep_buf_unref(body);
        teep_coap_count(in, "coap_2_04_empty", 1);
        return;
    }
    /* The TAM's buffer as it was read: libcoap sends from it (in blocks
     * when it does not fit one datagram) and drops our reference through
     * release_body, also when it fails. */
    coap_add_data_large_response(r, s, req, resp, q, in->cfg.content_format, -1,
                                 0, teep_buf_len(body), body->pos, release_body,
                                 body);
    teep_coap_count(in, "coap_2_04_message", 1);
}
