/*
 * tee_ua_gateway.h: how an Untrusted Application reaches its TA through
 * the host: a Unix stream socket (mode 0600: the REE's access control
 * decides which UAs may talk) on which each connection carries one
 * invocation, relayed to the TEE plugin's invoke_ta on the session's lane.
 *
 *   request  u32 id-length | encoded SUIT_Component_Identifier of the TA |
 *            u32 length | request bytes          (big-endian lengths)
 *   answer   i32 status (0 or -errno) | u32 length | answer bytes
 *
 * Lengths are bounded: an identifier of at most 256 bytes, requests and
 * answers of at most TEEP_TEE_INVOKE_MAX.  examples/hello/hello_ua.c is a
 * client.
 */
#ifndef TEEP_TEE_UA_GATEWAY_H
#define TEEP_TEE_UA_GATEWAY_H

#include "tee_host.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TEEP_UA_ID_MAX 256

typedef struct teep_tee_ua_gateway {
    uv_pipe_t server;
    teep_tee_runner_t *runner;
    teep_tee_lane_t *lane;
    char path[108];
    void *data; /* for the caller */
} teep_tee_ua_gateway_t;

/* Listen on the socket path (replaced if it exists) for invocations of
 * the TAs of lane's session.  Loop thread.  Returns 0 or a libuv error. */
int teep_tee_ua_gateway_start(teep_tee_ua_gateway_t *gw,
                              teep_tee_runner_t *runner, teep_tee_lane_t *lane,
                              const char *path);

/* Stop listening and remove the socket file; connections in flight finish
 * on their own.  Loop thread. */
void teep_tee_ua_gateway_close(teep_tee_ua_gateway_t *gw);

#ifdef __cplusplus
}
#endif
#endif
