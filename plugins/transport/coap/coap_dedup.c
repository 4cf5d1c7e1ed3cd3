/*
 * coap_dedup.c: duplicate detection for exchanges already answered.
 *
 * RFC 7252 4.5: a request is processed once within EXCHANGE_LIFETIME.
 * While an exchange waits for the TAM, its async entry in libcoap
 * recognises a retransmission (coap_exchange.c); once the answer went
 * out that entry is gone, so a late copy of the request (its empty ACK
 * was lost, the client sent it again) would start a second exchange at
 * the TAM.  This direct-mapped cache remembers (source, Message ID) of
 * answered exchanges: a fixed array, an entry overwritten by the next
 * that hashes to its slot, which only ever costs a missed detection.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "coap_transport.h"

/* RFC 7252 4.8.2 with the default transmission parameters. */
#define EXCHANGE_LIFETIME_MS 247000u

struct teep_coap_seen {
    uint8_t addr[16];
    uint16_t port;
    uint16_t mid;
    uint8_t family;
    uint64_t at_ms;
};

static void key_of(const coap_address_t *a, uint8_t addr[16], uint16_t *port)
{
    memset(addr, 0, 16);
    *port = 0;
    if (a->addr.sa.sa_family == AF_INET) {
        memcpy(addr, &a->addr.sin.sin_addr, 4);
        *port = a->addr.sin.sin_port;
    } else if (a->addr.sa.sa_family == AF_INET6) {
        memcpy(addr, &a->addr.sin6.sin6_addr, 16);
        *port = a->addr.sin6.sin6_port;
    }
}

static teep_coap_seen_t *slot_of(teep_coap_t *in, const uint8_t addr[16],
                                 uint16_t port, uint16_t mid)
{
    uint32_t h = 2166136261u;
    for (int i = 0; i < 16; i++)
        h = (h ^ addr[i]) * 16777619u;
    h = (h ^ port) * 16777619u;
    h = (h ^ mid) * 16777619u;
    return &in->seen[h % in->n_seen];
}

int teep_coap_dedup_init(teep_coap_t *in, unsigned slots)
{
    in->seen = calloc(slots, sizeof(*in->seen));
    if (in->seen == NULL)
        return -ENOMEM;
    in->n_seen = slots;
    return 0;
}

void teep_coap_dedup_free(teep_coap_t *in)
{
    free(in->seen);
    in->seen = NULL;
    in->n_seen = 0;
}

void teep_coap_dedup_note(teep_coap_t *in, const coap_address_t *from,
                          uint16_t mid)
{
    uint8_t addr[16];
    uint16_t port;
    key_of(from, addr, &port);
    teep_coap_seen_t *e = slot_of(in, addr, port, mid);
    memcpy(e->addr, addr, 16);
    e->port = port;
    e->mid = mid;
    e->family = (uint8_t)from->addr.sa.sa_family;
    e->at_ms = uv_now(in->host->loop);
}

bool teep_coap_dedup_seen(teep_coap_t *in, const coap_address_t *from,
                          uint16_t mid)
{
    uint8_t addr[16];
    uint16_t port;
    key_of(from, addr, &port);
    const teep_coap_seen_t *e = slot_of(in, addr, port, mid);
    return e->family == from->addr.sa.sa_family && e->port == port &&
           e->mid == mid && memcmp(e->addr, addr, 16) == 0 &&
           uv_now(in->host->loop) - e->at_ms < EXCHANGE_LIFETIME_MS;
}
