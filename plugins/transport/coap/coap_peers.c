/*
 * coap_peers.c: per-source admission, so that one source cannot take the
 * broker from the others (docs/transport-coap.md, "Floods").
 *
 * A fixed table of source addresses (the IP without the port: a flood
 * from many ports of one host is one source), each with a token bucket
 * (peer_rate requests/s, peer_burst deep) and a count of its exchanges
 * at the TAM (peer_max_pending).  Memory is the table, whatever the
 * traffic: an address finds its slot by hash and linear probing over a
 * few slots; an idle slot (nothing pending) is reused by the next address
 * that needs one, and when every probed slot is busy the request is
 * refused like an over-eager one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "coap_transport.h"

#define PROBES 8

struct teep_coap_peer {
    uint8_t addr[16];
    uint8_t family; /* 0: free */
    uint16_t pending;
    uint32_t tokens_milli; /* thousandths of a request */
    uint64_t refilled_ms;
};

int teep_coap_peers_init(teep_coap_peers_t *p, unsigned slots, unsigned rate,
                         unsigned burst, unsigned max_pending)
{
    p->slots = calloc(slots, sizeof(*p->slots));
    if (p->slots == NULL)
        return -ENOMEM;
    p->n = slots;
    p->rate = rate;
    p->burst = burst;
    p->max_pending = max_pending;
    return 0;
}

void teep_coap_peers_free(teep_coap_peers_t *p)
{
    free(p->slots);
    p->slots = NULL;
    p->n = 0;
}

static size_t key_of(const coap_address_t *a, uint8_t key[16])
{
    memset(key, 0, 16);
    if (a->addr.sa.sa_family == AF_INET) {
        memcpy(key, &a->addr.sin.sin_addr, 4);
        return 4;
    }
    if (a->addr.sa.sa_family == AF_INET6) {
        memcpy(key, &a->addr.sin6.sin6_addr, 16);
        return 16;
    }
    return 0;
}

/* FNV-1a: the table is small and the key is an address. */
static uint32_t hash(const uint8_t *k, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ k[i]) * 16777619u;
    return h;
}

static teep_coap_peer_t *find(teep_coap_peers_t *p, const uint8_t key[16],
                              uint8_t family, uint64_t now_ms)
{
    uint32_t h = hash(key, 16);
    teep_coap_peer_t *reuse = NULL;
    for (unsigned i = 0; i < PROBES && i < p->n; i++) {
        teep_coap_peer_t *e = &p->slots[(h + i) % p->n];
        if (e->family == family && memcmp(e->addr, key, 16) == 0)
            return e;
        if (reuse == NULL && (e->family == 0 || e->pending == 0))
            reuse = e;
    }
    if (reuse != NULL) {
        memcpy(reuse->addr, key, 16);
        reuse->family = family;
        reuse->pending = 0;
        reuse->tokens_milli = p->burst * 1000u;
        reuse->refilled_ms = now_ms;
    }
    return reuse;
}

int teep_coap_peers_admit(teep_coap_peers_t *p, const coap_address_t *a,
                          uint64_t now_ms, bool exchange, int *slot,
                          uint32_t *retry_s)
{
    uint8_t key[16];
    *slot = -1;
    *retry_s = 1;
    if (key_of(a, key) == 0)
        return 0;
    teep_coap_peer_t *e = find(p, key, (uint8_t)a->addr.sa.sa_family, now_ms);
    if (e == NULL)
        return -ENOSPC;
    *slot = (int)(e - p->slots);
    if (p->rate > 0) {
        uint64_t elapsed = now_ms - e->refilled_ms;
        uint64_t t = e->tokens_milli + elapsed * p->rate;
        uint64_t cap = (uint64_t)p->burst * 1000u;
        e->tokens_milli = (uint32_t)(t < cap ? t : cap);
        e->refilled_ms = now_ms;
        if (e->tokens_milli < 1000u) {
            uint64_t wait_ms = (1000u - e->tokens_milli) / p->rate + 1;
            *retry_s = (uint32_t)((wait_ms + 999) / 1000);
            return -EAGAIN;
        }
        e->tokens_milli -= 1000u;
    }
    if (exchange && e->pending >= p->max_pending)
        return -EBUSY;
    return 0;
}

void teep_coap_peers_pending(teep_coap_peers_t *p, int slot, int delta)
{
    if (slot < 0 || (unsigned)slot >= p->n)
        return;
    teep_coap_peer_t *e = &p->slots[slot];
    if (delta < 0 && e->pending > 0)
        e->pending--;
    else if (delta > 0 && e->pending < UINT16_MAX)
        e->pending++;
}
