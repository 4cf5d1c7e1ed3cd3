/*
 * coap_exchange.c: POST <prefix> (the default route) and POST
 * <prefix>/ROUTE, TEEP over CoAP as docs/transport-coap.md defines it.
 *
 * A request is checked (path, Content-Format, Accept, size, the source's
 * share), its body collected (one datagram, or Block1 blocks through
 * coap_assembly.c) and submitted to the host.  The TAM answers later, so
 * the answer is a separate response (RFC 7252 5.2.2) through libcoap
 * 4.3.1's async API:
 *   1. this handler reads the body (the async keeps only a copy of the
 *      last datagram), registers the request with coap_register_async
 *      (delay 0: wait for a trigger), submits, and sets no response code:
 *      libcoap acknowledges a CON with an empty ACK at once, a NON with
 *      nothing;
 *   2. the host's callback stores the outcome in the exchange and calls
 *      coap_async_trigger;
 *   3. libcoap calls this handler again with the copy of the request;
 *      coap_find_async tells it apart, the stored outcome becomes the
 *      response (a CON or NON of its own, Block2 when large), and libcoap
 *      frees the async on return.
 * A copy of the request that arrives while the TAM works (its empty ACK
 * was lost) finds the async too, with no outcome yet: it is acknowledged
 * again and not submitted twice; coap_dedup.c covers the time after.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "coap_transport.h"

struct teep_coap_xchg {
    teep_coap_xchg_t *prev, *next;
    teep_coap_t *in;
    coap_async_t *async;     /* libcoap's; holds a session reference */
    teep_exchange_t *handle; /* the host's, until the callback */
    coap_address_t from;     /* for the duplicate cache */
    uint16_t mid;
    int peer_slot;
    bool answered;
    teep_coap_answer_t answer;
};

static void unlink_xchg(teep_coap_t *in, teep_coap_xchg_t *x)
{
    if (x->prev != NULL)
        x->prev->next = x->next;
    else
        in->xchgs = x->next;
    if (x->next != NULL)
        x->next->prev = x->prev;
    x->prev = x->next = NULL;
}

static void free_xchg(teep_coap_xchg_t *x)
{
    teep_buf_unref(x->answer.body);
    free(x);
}

void teep_coap_exchange_drop_all(teep_coap_t *in)
{
    while (in->xchgs != NULL) {
        teep_coap_xchg_t *x = in->xchgs;
        unlink_xchg(in, x);
        if (x->handle != NULL)
            in->host->cancel(in->host->host_data, x->handle);
        free_xchg(x);
    }
    in->pending = 0;
}

/* The host's completion: keep the outcome, wake the async. */
static void on_done(void *cb_data, const teep_exchange_reply_t *r)
{
    teep_coap_xchg_t *x = cb_data;
    teep_coap_t *in = x->in;
    x->handle = NULL;
    in->pending--;
    teep_coap_peers_pending(&in->peers, x->peer_slot, -1);
    teep_coap_answer_t *a = &x->answer;
    a->outcome = r->outcome;
    a->error = r->error;
    a->upstream_status = r->upstream_status;
    a->retry_after_s = r->retry_after_s;
    a->body = r->outcome == TEEP_EXCHANGE_MESSAGE && r->body != NULL
                  ? teep_buf_ref(r->body)
                  : NULL;
    size_t n =
        r->reason != NULL ? strnlen(r->reason, sizeof(a->reason) - 1) : 0;
    memcpy(a->reason, r->reason != NULL ? r->reason : "", n);
    a->reason[n] = '\0';
    x->answered = true;
    coap_async_trigger(x->async);
    teep_coap_io_kick(in);
}

/* Step 3 (or a copy of the request meanwhile): see the file comment. */
static void answer(teep_coap_t *in, coap_resource_t *r, coap_session_t *s,
                   const coap_pdu_t *req, const coap_string_t *q,
                   coap_pdu_t *resp, coap_async_t *async)
{
    teep_coap_xchg_t *x = coap_async_get_app_data(async);
    if (x == NULL)
        return; /* answered already: the copy of a request that raced it */
    if (!x->answered) {
        teep_coap_count(in, "coap_duplicates", 1);
        return;
    }
    coap_async_set_app_data(async, NULL);
    unlink_xchg(in, x);
    teep_coap_dedup_note(in, &x->from, x->mid);
    teep_coap_reply_answer(in, r, s, req, q, resp, &x->answer);
    teep_coap_count(in, "coap_separate_responses", 1);
    free_xchg(x);
}

/* Decimal digits of v at p; returns the end. */
static char *put_uint(char *p, unsigned v)
{
    char d[10];
    int n = 0;
    do {
        d[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    while (n > 0)
        *p++ = d[--n];
    return p;
}

/* The peer for the host's logs, "A.B.C.D:PORT" or "[V6]:PORT" as
 * coap_print_addr writes it, into out[0..cap), cap at least
 * INET6_ADDRSTRLEN + 8.  By hand: coap_print_addr (inet_ntop and two
 * printf calls) was 4 % of the broker's instructions per exchange. */
static void format_peer(const coap_address_t *a, char *out, size_t cap)
{
    char *p = out;
    unsigned port;
    if (a->addr.sa.sa_family == AF_INET) {
        const uint8_t *b = (const uint8_t *)&a->addr.sin.sin_addr;
        for (int i = 0; i < 4; i++) {
            p = put_uint(p, b[i]);
            *p++ = i < 3 ? '.' : ':';
        }
        port = ntohs(a->addr.sin.sin_port);
    } else if (a->addr.sa.sa_family == AF_INET6) {
        *p++ = '[';
        if (inet_ntop(AF_INET6, &a->addr.sin6.sin6_addr, p,
                      (socklen_t)(cap - 8)) == NULL) {
            out[0] = '\0';
            return;
        }
        p += strlen(p);
        *p++ = ']';
        *p++ = ':';
        port = ntohs(a->addr.sin6.sin6_port);
    } else {
        out[0] = '\0';
        return;
    }
    p = put_uint(p, port);
    *p = '\0';
}

/* Step 1's second half: register, submit.  Takes body's reference. */
static void begin(teep_coap_t *in, coap_session_t *s, const coap_pdu_t *req,
                  coap_pdu_t *resp, const char *route, size_t route_len,
                  teep_buf_t *body, int peer_slot, int32_t block1)
{
    const teep_transport_host_t *h = in->host;
    teep_coap_xchg_t *x = calloc(1, sizeof(*x));
    coap_async_t *async = x ? coap_register_async(s, req, 0) : NULL;
    if (async == NULL) {
        free(x);
        teep_buf_unref(body);
        teep_coap_reply_refuse(in, resp, COAP_RESPONSE_CODE(500), -1,
                               "the broker cannot take the request");
        return;
    }
    x->in = in;
    x->async = async;
    x->peer_slot = peer_slot;
    x->answer.block1 = block1;
    x->mid = (uint16_t)coap_pdu_get_mid(req);
    x->from = *coap_session_get_addr_remote(s);
    coap_async_set_app_data(async, x);
    char peer[INET6_ADDRSTRLEN + 8];
    format_peer(&x->from, peer, sizeof(peer));
    /* Under DTLS with a PSK the identity names the device. */
    const coap_bin_const_t *id = coap_session_get_psk_identity(s);
    teep_exchange_request_t xr = {
        .size = sizeof(xr),
        .route = route,
        .route_len = route_len,
        .device = id ? (const char *)id->s : "",
        .device_len = id ? id->length : 0,
        .peer = peer,
        .body = body,
        .cb = on_done,
        .cb_data = x,
    };
    int rc = h->submit(h->host_data, &xr, &x->handle);
    teep_buf_unref(body);
    if (rc < 0) {
        coap_async_set_app_data(async, NULL);
        coap_free_async(s, async);
        free(x);
        teep_coap_reply_refuse(in, resp, COAP_RESPONSE_CODE(500), -1,
                               "the broker cannot take the request");
        return;
    }
    x->next = in->xchgs;
    if (x->next != NULL)
        x->next->prev = x;
    in->xchgs = x;
    in->pending++;
    teep_coap_peers_pending(&in->peers, peer_slot, +1);
    teep_coap_count(in, "coap_exchanges", 1);
    /* No response code: the empty ACK of RFC 7252 5.2.2 (CON), or
     * nothing (NON), until the TAM answers. */
}

/* The route a request names: 0 with route / *len set, -1 not ours. */
static int route_of(teep_coap_t *in, coap_resource_t *r, const coap_pdu_t *req,
                    char *route, size_t *len)
{
    *len = 0;
    if (r == in->tam)
        return 0;
    if (teep_coap_path_rest(in, req, route, TEEP_COAP_NAME_MAX, len) < 0)
        return -1;
    return teep_coap_name_ok(route, *len) ? 0 : -1;
}

/* The request options the checks look at, the first of each. */
typedef struct req_options {
    bool has_cf, has_accept;
    unsigned cf, accept, size1;
    int block1; /* 1: *b set, 0: no Block1, -1: ask coap_get_block */
    coap_block_t b;
} req_options_t;

/* Block1 from its option, as coap_get_block reads it: 0 to 3 bytes, the
 * last holding M and SZX; SZX 7 (BERT) is not for UDP: no Block1.  A
 * longer (malformed) option is left to coap_get_block (-1). */
static int block_of(const coap_opt_t *opt, coap_block_t *b)
{
    size_t len = coap_opt_length(opt);
    if (len > 3)
        return -1;
    unsigned v = coap_decode_var_bytes(coap_opt_value(opt), len);
    if ((v & 7) == 7)
        return 0;
    b->num = v >> 4;
    b->m = (v >> 3) & 1;
    b->szx = v & 7;
    return 1;
}

/* One walk over the options: coap_check_option walks them from the start
 * for each number asked (with a filter, a bitmap lookup per option). */
static void scan_options(const coap_pdu_t *req, req_options_t *o)
{
    memset(o, 0, sizeof(*o));
    bool has_size1 = false, has_block1 = false;
    coap_opt_iterator_t it;
    if (coap_option_iterator_init(req, &it, COAP_OPT_ALL) == NULL)
        return;
    coap_opt_t *opt;
    while ((opt = coap_option_next(&it)) != NULL) {
        bool *seen;
        unsigned *value;
        switch (it.number) {
        case COAP_OPTION_CONTENT_FORMAT:
            seen = &o->has_cf;
            value = &o->cf;
            break;
        case COAP_OPTION_ACCEPT:
            seen = &o->has_accept;
            value = &o->accept;
            break;
        case COAP_OPTION_SIZE1:
            seen = &has_size1;
            value = &o->size1;
            break;
        case COAP_OPTION_BLOCK1:
            if (!has_block1) {
                has_block1 = true;
                o->block1 = block_of(opt, &o->b);
            }
            continue;
        default: continue;
        }
        if (!*seen) {
            *seen = true;
            *value = coap_decode_var_bytes(coap_opt_value(opt),
                                           coap_opt_length(opt));
        }
    }
}

static const char *block_reason(int code)
{
    switch (-code) {
    case COAP_RESPONSE_CODE(408): return "Block1 block out of sequence";
    case COAP_RESPONSE_CODE(413): return "request body too large";
    case COAP_RESPONSE_CODE(503): return "reassembly memory exhausted";
    default: return "inconsistent Block1 size";
    }
}

/* 2.31 Continue with the Block1 option of RFC 7959 2.3.  libcoap adds
 * that option itself for a transfer it tracks; not when it took the
 * block for random access. */
static void continue_block(coap_pdu_t *resp, const coap_block_t *b)
{
    coap_opt_iterator_t it;
    coap_pdu_set_code(resp, COAP_RESPONSE_CODE(231));
    if (coap_check_option(resp, COAP_OPTION_BLOCK1, &it) != NULL)
        return;
    uint8_t buf[4];
    unsigned v = (b->num << 4) | (1u << 3) | b->szx;
    coap_add_option(resp, COAP_OPTION_BLOCK1,
                    coap_encode_var_safe(buf, sizeof(buf), v), buf);
}

/* The source's share: 0, or a refusal already set in resp. */
static int admit(teep_coap_t *in, coap_session_t *s, coap_pdu_t *resp,
                 bool exchange, int *slot)
{
    uint32_t retry_s;
    int rc =
        teep_coap_peers_admit(&in->peers, coap_session_get_addr_remote(s),
                              uv_now(in->host->loop), exchange, slot, &retry_s);
    if (rc == 0)
        return 0;
    /* 4.29 (RFC 8516) is "you, slow down"; when the table itself is
     * full the broker as a whole is overloaded: 5.03. */
    teep_coap_reply_refuse(
        in, resp,
        rc == -ENOSPC ? COAP_RESPONSE_CODE(503) : COAP_RESPONSE_CODE(429),
        (int)(rc == -ENOSPC ? in->cfg.retry_after_s : retry_s),
        rc == -EAGAIN ? "too many requests from this source"
                      : "too many exchanges from this source");
    return -1;
}

void teep_coap_exchange_post(coap_resource_t *r, coap_session_t *s,
                             const coap_pdu_t *req, const coap_string_t *q,
                             coap_pdu_t *resp)
{
    teep_coap_t *in = teep_coap_of(s);
    coap_async_t *async = coap_find_async(s, coap_pdu_get_token(req));
    if (async != NULL) {
        answer(in, r, s, req, q, resp, async);
        return;
    }
    teep_coap_count(in, "coap_requests", 1);
    if (teep_coap_dedup_seen(in, coap_session_get_addr_remote(s),
                             (uint16_t)coap_pdu_get_mid(req))) {
        teep_coap_count(in, "coap_duplicates", 1);
        return; /* empty ACK; the answer went out (and is retransmitted) */
    }
    char route[TEEP_COAP_NAME_MAX];
    size_t route_len;
    if (route_of(in, r, req, route, &route_len) < 0) {
        teep_coap_reply_refuse(in, resp, COAP_RESPONSE_CODE(404), -1,
                               "no TAM route at this path");
        return;
    }
    if (in->stopping) {
        teep_coap_reply_refuse(in, resp, COAP_RESPONSE_CODE(503),
                               (int)in->cfg.retry_after_s,
                               "the broker is shutting down");
        return;
    }
    size_t len = 0;
    const uint8_t *data = NULL;
    coap_get_data(req, &len, &data);
    req_options_t o;
    scan_options(req, &o);
    coap_block_t b = o.b;
    bool has_block =
        o.block1 > 0 ||
        (o.block1 < 0 && coap_get_block(req, COAP_OPTION_BLOCK1, &b));
    /* libcoap clients mark even an empty body Block1 0 (the block size
     * they prefer): that is an empty POST. */
    bool blockwise = has_block && !(b.num == 0 && !b.m && len == 0);
    if (o.has_cf ? o.cf != in->cfg.content_format : (len > 0 || blockwise)) {
        teep_coap_reply_refuse(in, resp, COAP_RESPONSE_CODE(415), -1,
                               "a TEEP message needs the TEEP "
                               "Content-Format");
        return;
    }
    if (o.has_accept && o.accept != in->cfg.content_format) {
        teep_coap_reply_refuse(in, resp, COAP_RESPONSE_CODE(406), -1,
                               "the answer has the TEEP Content-Format");
        return;
    }
    bool last = !blockwise || !b.m;
    int slot;
    if (admit(in, s, resp, last, &slot) < 0) {
        if (blockwise)
            teep_coap_assembly_drop(in, s);
        return;
    }
    teep_buf_t *body = NULL;
    if (blockwise) {
        int rc = teep_coap_assembly_add(in, s, r, route, route_len, &b, data,
                                        len, o.size1, &body);
        if (rc < 0) {
            teep_coap_reply_refuse(in, resp, (coap_pdu_code_t)-rc, -1,
                                   block_reason(rc));
            return;
        }
        teep_coap_count(in, "coap_block1", 1);
        if (rc == TEEP_COAP_ASSEMBLY_MORE) {
            continue_block(resp, &b);
            return;
        }
    } else if (len > 0) {
        if (len > in->cfg.max_body) {
            teep_coap_reply_refuse(in, resp, COAP_RESPONSE_CODE(413), -1,
                                   "request body too large");
            return;
        }
        body = teep_coap_buf_new(in, len);
        if (body != NULL) {
            memcpy(body->last, data, len);
            body->last += len;
        } else {
            teep_coap_reply_refuse(in, resp, COAP_RESPONSE_CODE(500), -1,
                                   "out of memory");
            return;
        }
        teep_coap_count(in, "payload_copied_bytes", len);
    }
    if (in->pending >= in->cfg.max_pending) {
        teep_buf_unref(body);
        teep_coap_reply_refuse(in, resp, COAP_RESPONSE_CODE(503),
                               (int)in->cfg.retry_after_s,
                               "too many exchanges in flight");
        return;
    }
    /* The last block (M clear) is what the answer echoes. */
    begin(in, s, req, resp, route, route_len, body, slot,
          has_block && !b.m ? (int32_t)((b.num << 4) | b.szx) : -1);
}
