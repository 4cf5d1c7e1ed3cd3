/*
 * http_reply.c: HTTP answers for exchange outcomes (http_transport.h).
 */
#include <stdio.h>
#include <string.h>

#include "http_transport.h"

/* Digest 3.1: every response with content carries these. */
#define SECURITY_HEADERS                                                       \
    TEEP_HTTP_HEADER("X-Content-Type-Options", "nosniff"),                     \
        TEEP_HTTP_HEADER("Content-Security-Policy", "default-src 'none'"),     \
        TEEP_HTTP_HEADER("Referrer-Policy", "no-referrer")

static int text_answer(teep_http_request_t *req, int status, const char *text,
                       const teep_http_header_t *extra)
{
    teep_http_header_t h[5] = {
        TEEP_HTTP_HEADER("Content-Type", "text/plain; charset=utf-8"),
        SECURITY_HEADERS,
    };
    size_t n = 4;
    if (extra != NULL)
        h[n++] = *extra;
    char line[320];
    int len = snprintf(line, sizeof(line), "%s\n", text);
    if (len < 0 || (size_t)len >= sizeof(line))
        len = (int)sizeof(line) - 1;
    teep_buf_t *body = teep_buf_copy(0, line, (size_t)len);
    int rc = teep_http_respond(req, status, h, n, body);
    teep_buf_unref(body);
    return rc;
}

int teep_http_transport_refuse(teep_http_request_t *req, int status,
                               const char *text,
                               const teep_http_header_t *extra)
{
    return text_answer(req, status, text, extra);
}

int teep_http_transport_reply(teep_http_request_t *req,
                              const teep_exchange_reply_t *reply)
{
    static const teep_http_header_t message_headers[] = {
        TEEP_HTTP_HEADER("Content-Type", TEEP_MEDIA_TYPE),
        SECURITY_HEADERS,
    };
    switch (reply->outcome) {
    case TEEP_EXCHANGE_MESSAGE:
        /* The TAM's buffer, by reference: written with writev. */
        return teep_http_respond(req, 200, message_headers, 4, reply->body);
    case TEEP_EXCHANGE_NO_CONTENT:
        return teep_http_respond(req, 204, NULL, 0, NULL);
    case TEEP_EXCHANGE_FAILED: break;
    }
    int status = teep_exchange_http_status(reply);
    char secs[16];
    teep_http_header_t retry = {{(const uint8_t *)"Retry-After", 11},
                                {(const uint8_t *)secs, 0}};
    bool with_retry = status == 503 && reply->retry_after_s > 0;
    if (with_retry)
        retry.value.len =
            (size_t)snprintf(secs, sizeof(secs), "%u", reply->retry_after_s);
    return text_answer(req, status,
                       reply->reason != NULL ? reply->reason : "failed",
                       with_retry ? &retry : NULL);
}
