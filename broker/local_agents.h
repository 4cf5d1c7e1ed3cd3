/*
 * local_agents.h: the broker as the TEEP Broker of its own node.  Each
 * configured TEE is a session of a TEE plugin (teep/tee_plugin.h, run by
 * plugins/host/tee_host.h on the worker's loop); its Agent's requests
 * (RequestPolicyCheck at start, on a timer and on demand; RequestTA for
 * the configured components and on demand) start TEEP conversations that
 * go through the relay exactly like a remote agent's (digest 3.2, the
 * Broker state machine of 4.4).  UAs the Agent authorises are installed
 * into the TEE's ua_dir by the TEE host.
 *
 * Everything here runs on one worker's loop; the plugin's ops run on
 * libuv's thread pool, one at a time per TEE.
 */
#ifndef TEEP_BROKER_LOCAL_AGENTS_H
#define TEEP_BROKER_LOCAL_AGENTS_H

#include <stdio.h>
#include <uv.h>

#include "metrics.h"
#include "plugin_host.h"
#include "relay.h"
#include "route.h"

typedef struct teep_broker_agents teep_broker_agents_t;

/*
 * Open a session for every TEE of routes->config (the agents keep a
 * reference to routes for their configuration), relaying through relay
 * and counting sessions in shard.  Policy checks and RequestTA of the
 * configuration start once the sessions are open.  Returns 0 with *out
 * set (NULL when no TEE is configured), or a negative code with the
 * reason logged; then too *out may be set, to be closed and freed like an
 * open one.
 */
int teep_broker_agents_open(teep_broker_agents_t **out, uv_loop_t *loop,
                            teep_broker_routes_t *routes,
                            const teep_broker_plugins_t *plugins,
                            teep_broker_relay_t *relay,
                            teep_broker_shard_t *shard);

/* Run RequestPolicyCheck for the TEE named tee now.  Returns 0 or
 * -ENOENT. */
int teep_broker_agents_policy_check(teep_broker_agents_t *a, const char *tee);

/* Run RequestTA for component_hex (an encoded SUIT component identifier,
 * hex) on the TEE named tee.  Returns 0, -ENOENT, -EINVAL (not hex). */
int teep_broker_agents_request_ta(teep_broker_agents_t *a, const char *tee,
                                  const char *component_hex);

/* Stop timers, let conversations in progress end, close the sessions and
 * the plugins' runners, then call done(arg) (on a later loop turn, never
 * from inside a TEE host callback). */
void teep_broker_agents_close(teep_broker_agents_t *a, void (*done)(void *arg),
                              void *arg);

/* Free a closed a once the loop has run out of handles: the runners'
 * handles close asynchronously and live in it.  a may be NULL. */
void teep_broker_agents_free(teep_broker_agents_t *a);

#endif
