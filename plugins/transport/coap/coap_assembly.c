/*
 * coap_assembly.c: Block1 request bodies, reassembled by us.
 *
 * libcoap 4.3.1 can deliver a Block1 body whole (COAP_BLOCK_SINGLE_BODY),
 * but it sizes its buffer from what the peer claims (Size1, the block
 * number times the block size) before any handler of ours runs: one
 * datagram could make it reserve a gigabyte.  So libcoap runs with
 * COAP_BLOCK_USE_LIBCOAP alone (it still answers 2.31 Continue with the
 * Block1 option and serves Block2), hands us every block, and we keep
 * the body under our limits:
 *   - one body in progress per session (a new block 0 replaces it), its
 *     blocks in order (else 4.08 Request Entity Incomplete, RFC 7959
 *     2.9.2), every block but the last full size (else 4.00);
 *   - no body beyond max_body (4.13, with Size1 saying the limit), all
 *     bodies in progress together within max_reassembly (else 5.03);
 *   - a body idle for block_timeout_ms is dropped.
 * Each byte is copied once, from libcoap's PDU into the teep_buf_t that
 * goes to the host (counted as payload_copied_bytes): libcoap owns its
 * PDUs, so this copy is the one CoAP cannot avoid.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "coap_transport.h"

struct teep_coap_assembly {
    teep_coap_assembly_t *prev, *next;
    coap_session_t *session; /* not referenced: dropped at SESSION_DEL */
    coap_resource_t *resource;
    char route[TEEP_COAP_NAME_MAX];
    size_t route_len;
    teep_buf_t *body;
    size_t next_offset;
    size_t reserved; /* bytes counted in in->assembly_bytes */
    uint64_t touched_ms;
};

static void unlink_free(teep_coap_t *in, teep_coap_assembly_t *a)
{
    if (a->prev != NULL)
        a->prev->next = a->next;
    else
        in->assemblies = a->next;
    if (a->next != NULL)
        a->next->prev = a->prev;
    in->assembly_bytes -= a->reserved;
    coap_session_set_app_data(a->session, NULL);
    teep_buf_unref(a->body);
    free(a);
}

void teep_coap_assembly_drop(teep_coap_t *in, coap_session_t *s)
{
    teep_coap_assembly_t *a = coap_session_get_app_data(s);
    if (a != NULL)
        unlink_free(in, a);
}

void teep_coap_assembly_expire(teep_coap_t *in, bool expire_all)
{
    uint64_t now = uv_now(in->host->loop);
    teep_coap_assembly_t *a = in->assemblies, *next;
    for (; a != NULL; a = next) {
        next = a->next;
        if (expire_all || now - a->touched_ms >= in->cfg.block_timeout_ms) {
            if (!expire_all)
                teep_coap_count(in, "block1_expired", 1);
            unlink_free(in, a);
        }
    }
}

/* Room for want more bytes after the data, within the budget. */
static int reserve(teep_coap_t *in, teep_coap_assembly_t *a, size_t want)
{
    if (teep_buf_tailroom(a->body) >= want)
        return 0;
    size_t len = teep_buf_len(a->body);
    size_t cap = len + teep_buf_tailroom(a->body);
    size_t target = cap * 2 > len + want ? cap * 2 : len + want;
    if (target > in->cfg.max_body)
        target = in->cfg.max_body;
    size_t grow = target - cap;
    if (in->assembly_bytes + grow > in->cfg.max_reassembly)
        return -ENOSPC;
    int rc = teep_buf_reserve(&a->body, target - len);
    if (rc < 0)
        return rc;
    in->assembly_bytes += grow;
    a->reserved += grow;
    return 0;
}

static teep_coap_assembly_t *start(teep_coap_t *in, coap_session_t *s,
                                   coap_resource_t *r, const char *route,
                                   size_t route_len, size_t first)
{
    if (in->assembly_bytes + first > in->cfg.max_reassembly)
        return NULL;
    teep_coap_assembly_t *a = calloc(1, sizeof(*a));
    if (a == NULL)
        return NULL;
    a->body = teep_coap_buf_new(in, first);
    if (a->body == NULL) {
        free(a);
        return NULL;
    }
    a->session = s;
    a->resource = r;
    memcpy(a->route, route, route_len);
    a->route_len = route_len;
    a->reserved = first;
    in->assembly_bytes += first;
    a->next = in->assemblies;
    if (a->next != NULL)
        a->next->prev = a;
    in->assemblies = a;
    coap_session_set_app_data(s, a);
    return a;
}

#define CODE(n) (-(int)COAP_RESPONSE_CODE(n))

int teep_coap_assembly_add(teep_coap_t *in, coap_session_t *s,
                           coap_resource_t *r, const char *route,
                           size_t route_len, const coap_block_t *b,
                           const uint8_t *data, size_t len, size_t size1,
                           teep_buf_t **body)
{
    *body = NULL;
    teep_coap_assembly_t *a = coap_session_get_app_data(s);
    if (b->szx > 6) {
        /* szx 7 is BERT, which exists only over reliable transports. */
        teep_coap_assembly_drop(in, s);
        return CODE(400);
    }
    size_t block = (size_t)1 << (b->szx + 4);
    size_t offset = (size_t)b->num << (b->szx + 4);
    if ((b->m && len != block) || len > block) {
        teep_coap_assembly_drop(in, s);
        return CODE(400);
    }
    if (size1 > in->cfg.max_body || offset + len > in->cfg.max_body) {
        teep_coap_assembly_drop(in, s);
        return CODE(413);
    }
    if (b->num == 0) {
        teep_coap_assembly_drop(in, s);
        if (!b->m) {
            /* One block is all there is: no state needed. */
            *body = teep_coap_buf_new(in, len);
            if (*body == NULL)
                return CODE(500);
            memcpy((*body)->last, data, len);
            (*body)->last += len;
            teep_coap_count(in, "payload_copied_bytes", len);
            return TEEP_COAP_ASSEMBLY_COMPLETE;
        }
        size_t first = size1 >= len ? size1 : 4 * block;
        if (first > in->cfg.max_body)
            first = in->cfg.max_body;
        a = start(in, s, r, route, route_len, first);
        if (a == NULL)
            return CODE(503);
    } else if (a == NULL || a->resource != r || a->route_len != route_len ||
               memcmp(a->route, route, route_len) != 0 ||
               a->next_offset != offset) {
        teep_coap_assembly_drop(in, s);
        return CODE(408);
    }
    if (reserve(in, a, len) < 0) {
        teep_coap_assembly_drop(in, s);
        return CODE(503);
    }
    memcpy(a->body->last, data, len);
    a->body->last += len;
    a->next_offset = offset + len;
    a->touched_ms = uv_now(in->host->loop);
    teep_coap_count(in, "payload_copied_bytes", len);
    if (b->m)
        return TEEP_COAP_ASSEMBLY_MORE;
    *body = a->body;
    a->body = NULL;
    unlink_free(in, a);
    return TEEP_COAP_ASSEMBLY_COMPLETE;
}
