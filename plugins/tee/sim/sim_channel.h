/*
 * sim_channel.h: the private channel between the simulated TEE and one of
 * its TAs.  It is one end of an AF_UNIX SOCK_SEQPACKET socketpair that
 * the TA inherits as file descriptor SIM_CHANNEL_FD; the other end stays
 * in the TEE plugin (close-on-exec, so no other process gets it).  Each
 * packet is a type byte and a payload:
 *
 *   'P' TEE -> TA  personalization data, decrypted inside the TEE
 *   'I' TEE -> TA  an invocation from a UA (request bytes)
 *   'R' TA -> TEE  the answer to the last invocation
 *
 * Header-only so that a TA (a static executable, examples/hello) shares
 * it without linking anything of the plugin.
 */
#ifndef SIM_CHANNEL_H
#define SIM_CHANNEL_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#define SIM_CHANNEL_FD 3
#define SIM_MSG_PD     'P'
#define SIM_MSG_INVOKE 'I'
#define SIM_MSG_REPLY  'R'
/* Largest payload of one packet (teep/tee_plugin.h TEEP_TEE_INVOKE_MAX;
 * PD is bounded the same way). */
#define SIM_CHANNEL_MAX 65536

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

#endif
