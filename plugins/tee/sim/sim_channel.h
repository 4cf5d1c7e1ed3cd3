/*
 * sim_channel.h: the private channel between the simulated TEE and one of
 * its TAs.  It is one end of an AF_UNIX SOCK_SEQPACKET socketpair that
 * the TA inherits as file descriptor SIM_CHANNEL_FD; the other end stays
 * in the TEE plugin (close-on-exec, so no other process gets it).  Each
 * packet is a type byte and a payload:
 *
 *   'p' TEE -> TA  a piece of personalization data, more follows
 *   'P' TEE -> TA  the last (or only) piece of personalization data,
 *                  decrypted inside the TEE: the PD is the payloads of
 *                  the 'p' packets before it and its own, in order
 *   'I' TEE -> TA  an invocation from a UA (request bytes)
 *   'R' TA -> TEE  the answer to the last invocation
 *   'K' TA -> TEE  "my public key": the key the TA holds for its callers
 *                  (at most SIM_KEY_MAX bytes, any encoding); the TEE
 *                  keeps the last one per TA and its Agent names the
 *                  key's SHA-256 in its Evidence (docs/tee-sim.md)
 *
 * A packet carries at most SIM_CHANNEL_MAX bytes, so PD larger than that
 * arrives in several; a TA reassembles it with sim_pd_add, up to a bound
 * of its own (at most SIM_PD_MAX).
 *
 * Header-only so that a TA (a static executable, examples/hello) shares
 * it without linking anything of the plugin.
 */
#ifndef SIM_CHANNEL_H
#define SIM_CHANNEL_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#define SIM_CHANNEL_FD  3
#define SIM_MSG_PD_MORE 'p'
#define SIM_MSG_PD      'P'
#define SIM_MSG_INVOKE  'I'
#define SIM_MSG_REPLY   'R'
#define SIM_MSG_KEY     'K'
/* Largest payload of one packet (teep/tee_plugin.h TEEP_TEE_INVOKE_MAX). */
#define SIM_CHANNEL_MAX 65536
/* Largest PD the TEE hands a TA (the Agent's whole sealed state is
 * bounded by 64 MiB too, teep_agent.h TEEP_AGENT_STATE_MAX). */
#define SIM_PD_MAX (64u << 20)
/* Largest key a TA registers with 'K'. */
#define SIM_KEY_MAX 1024

/* Send one packet.  0 or -errno (-EMSGSIZE past SIM_CHANNEL_MAX). */
static inline int sim_channel_send(int fd, uint8_t type, const uint8_t *data,
                                   size_t len)
{
    if (len > SIM_CHANNEL_MAX)
        return -EMSGSIZE;
    struct iovec iov[2] = {{&type, 1}, {(void *)data, len}};
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = len > 0 ? 2 : 1};
    ssize_t n;
    do
        n = sendmsg(fd, &mh, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return n < 0 ? -errno : (size_t)n == len + 1 ? 0 : -EIO;
}

/* Receive one packet into buf[0..cap) (cap >= SIM_CHANNEL_MAX keeps any
 * packet whole).  Returns the payload length and *type, 0-length packets
 * included; -EPIPE when the peer closed; -EMSGSIZE for a cut packet. */
static inline ssize_t sim_channel_recv(int fd, uint8_t *type, uint8_t *buf,
                                       size_t cap)
{
    struct iovec iov[2] = {{type, 1}, {buf, cap}};
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
    ssize_t n;
    do
        n = recvmsg(fd, &mh, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    if (n == 0)
        return -EPIPE;
    if (mh.msg_flags & MSG_TRUNC)
        return -EMSGSIZE;
    return n - 1;
}

/* PD being reassembled by a TA: zero-initialise.  data is malloc'ed;
 * sim_pd_take hands it over once complete. */
typedef struct sim_pd {
    uint8_t *data;
    size_t len, cap;
    int error; /* 0, or why the rest of this PD is dropped */
} sim_pd_t;

/* Add one received packet of type 'p' or 'P' (payload p[0..n)) to pd,
 * whose total may not pass max (<= SIM_PD_MAX).  Returns 1 when 'P' completed
 * it (take it with sim_pd_take), 0 when more is to come, or at the 'P' of a PD
 * that failed (what came is dropped, pd is reset): -EMSGSIZE (past max) or
 * -ENOMEM.  -EINVAL for another type. */
static inline int sim_pd_add(sim_pd_t *pd, uint8_t type, const uint8_t *p,
                             size_t n, size_t max)
{
    if (type != SIM_MSG_PD_MORE && type != SIM_MSG_PD)
        return -EINVAL;
    if (pd->error == 0 && (n > max || pd->len > max - n))
        pd->error = -EMSGSIZE;
    if (pd->error == 0 && pd->len + n + 1 > pd->cap) {
        /* Doubling: a 25 MB table is about 400 packets, not 400 copies. */
        size_t cap = pd->cap > 0 ? pd->cap : SIM_CHANNEL_MAX;
        while (cap < pd->len + n + 1)
            cap *= 2;
        if (cap > max + 1)
            cap = max + 1; /* len + n <= max: still enough */
        uint8_t *grown = (uint8_t *)realloc(pd->data, cap);
        if (grown == NULL)
            pd->error = -ENOMEM;
        else
            pd->data = grown, pd->cap = cap;
    }
    if (pd->error == 0 && n > 0) {
        memcpy(pd->data + pd->len, p, n);
        pd->len += n;
    }
    if (pd->error != 0 && pd->data != NULL) {
        free(pd->data); /* nothing of a failed PD is kept */
        pd->data = NULL;
        pd->len = pd->cap = 0;
    }
    if (type == SIM_MSG_PD_MORE)
        return 0;
    if (pd->error == 0)
        return 1;
    int rc = pd->error;
    *pd = (sim_pd_t){0};
    return rc;
}

/* Hand the complete PD over (after sim_pd_add returned 1): *data is the
 * caller's to free(); pd is reset for the next one. */
static inline void sim_pd_take(sim_pd_t *pd, uint8_t **data, size_t *len)
{
    *data = pd->data;
    *len = pd->len;
    *pd = (sim_pd_t){0};
}

#endif
