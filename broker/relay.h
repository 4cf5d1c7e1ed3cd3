/*
 * relay.h: one worker's exchanges, from a submission (a transport's or a
 * local agent's) to its completion with the TAM's answer.
 *
 * Zero copy: the submitted body buffer is written to the TAM as it is
 * (the HTTP client takes a reference and writes it with writev), and the
 * buffer the TAM's answer was read into is what the completion hands
 * back.  The message is never decoded: teep_peek gives its type and token
 * for metrics and the log, and refuses what is not a COSE-wrapped TEEP
 * message at all (when validation is on).
 *
 * Everything here runs on the worker's loop.
 */
#ifndef TEEP_BROKER_RELAY_H
#define TEEP_BROKER_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "config.h"
#include "log.h"
#include "metrics.h"
#include "teep/transport_plugin.h"
#include "upstream.h"

typedef struct teep_broker_relay teep_broker_relay_t;

struct teep_broker_relay {
    uv_loop_t *loop;
    unsigned worker;
    teep_broker_shard_t *shard;
    teep_broker_logbuf_t *log;
    bool log_exchanges;
    bool validate;
    teep_broker_flip_t flip;
    teep_broker_upstreams_t *upstreams; /* the current set */
    size_t inflight;                    /* exchanges not completed */
    struct teep_exchange *free_list;    /* recycled exchanges */
    size_t n_free;
    struct teep_exchange *deferred; /* completions due next turn */
    struct teep_exchange **deferred_tail;
    uv_idle_t idle;
    bool draining;
    uint32_t drain_retry_after_s;
    /* Called when inflight drops to zero (drain), may be NULL. */
    void (*on_idle)(teep_broker_relay_t *relay);
    void *data;
};

/* Initialise on loop with the worker's shard and log, taking over the
 * upstream set.  Returns 0 or a libuv error. */
int teep_broker_relay_init(teep_broker_relay_t *relay, uv_loop_t *loop,
                           unsigned worker, teep_broker_shard_t *shard,
                           teep_broker_logbuf_t *log,
                           const teep_broker_config_t *cfg,
                           teep_broker_upstreams_t *upstreams);

/*
 * Submit an exchange (teep/transport_plugin.h): headroom is what the
 * submitter needs in front of the answer.  Takes a reference to
 * req->body.  On success *handle identifies the exchange until its
 * callback ran; the callback never runs inside this call.  Returns 0,
 * -EINVAL (a request without a callback, or of a size this host does
 * not know), -ENOMEM.
 */
int teep_broker_relay_submit(teep_broker_relay_t *relay,
                             const teep_exchange_request_t *req,
                             size_t headroom, teep_exchange_t **handle);

/* Drop an exchange whose submitter went away: its callback will not run.
 * The upstream request is canceled (a request on the wire costs its
 * connection, as an unclaimed answer would desynchronise it). */
void teep_broker_relay_cancel(teep_broker_relay_t *relay,
                              teep_exchange_t *handle);

/* Switch new exchanges to set (after a reload); the old set is retired
 * and closes once its exchanges are done. */
void teep_broker_relay_set_upstreams(teep_broker_relay_t *relay,
                                     teep_broker_upstreams_t *set);

/* Refuse new exchanges from now on (TEEP_XERR_DRAINING), and call
 * on_idle once none is in flight (now, if none is). */
void teep_broker_relay_drain(teep_broker_relay_t *relay);

/* Free the recycled exchanges, retire the current set and close the
 * idle handle; on_freed(arg) runs once the set is gone.  After drain. */
void teep_broker_relay_close(teep_broker_relay_t *relay,
                             void (*on_freed)(void *arg), void *arg);

#endif
