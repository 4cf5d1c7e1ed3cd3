/*
 * http_transport.h: what the HTTP transport plugin's two files share.
 * http_transport.c is the plugin (instances, requests, options);
 * http_reply.c turns an exchange's outcome into the HTTP answer of
 * draft-ietf-teep-otrp-over-http (digest section 3).
 */
#ifndef TEEP_HTTP_TRANSPORT_H
#define TEEP_HTTP_TRANSPORT_H

#include "teep/http.h"
#include "teep/transport_plugin.h"

/* Answer req with the outcome of its exchange: 200 + the message + the
 * security headers, 204, or the error's status with a one-line text body
 * (and Retry-After on 503).  Returns teep_http_respond's code. */
int teep_http_transport_reply(teep_http_request_t *req,
                              const teep_exchange_reply_t *reply);

/* Answer req with a refusal decided before any exchange (400, 404, 405,
 * 406, 415): the status, a text body, and the extra header (may be
 * NULL). */
int teep_http_transport_refuse(teep_http_request_t *req, int status,
                               const char *text,
                               const teep_http_header_t *extra);

#endif
