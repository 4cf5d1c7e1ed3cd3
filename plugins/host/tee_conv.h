/*
 * tee_conv.h: one TEEP conversation of a TEE's Agent, the Broker state
 * machine of digest 4.4 (RFC 9397 6.2.1), for every host that plays the
 * TEEP Broker of a TEE run by tee_host.h: the broker's own TEEs
 * (broker/local_agents.c) and teep-agent (tools/teep-agent/session.c).
 *
 *   RequestPolicyCheck / RequestTA -> TAM URI [+ message]
 *     -> exchange (the caller carries it) -> answer:
 *        message    -> ProcessTeepMessage -> reply? exchange it : ok
 *        no content -> ok
 *        failure    -> ProcessError -> failed
 *
 * The contract with the caller: the conversation says "exchange these
 * bytes with the TAM at tam_uri" (cbs->exchange) and the caller answers
 * later with teep_tee_conv_answer or teep_tee_conv_fail; the conversation
 * says "this TAM session ended ok / failed, why" (cbs->session_ended) and
 * finally "the conversation is over" (cbs->ended).  How messages travel,
 * what is logged or counted, and how conversations are queued stay with
 * the caller.
 *
 * A policy check goes on with a new TAM session while the Agent names a
 * TAM (each RequestPolicyCheck names one), at most
 * TEEP_TEE_CONV_MAX_ROUNDS times; one TAM session carries at most
 * TEEP_TEE_CONV_MAX_MESSAGES messages: bounds against an Agent or a TAM
 * that never ends.
 *
 * Threads: everything here runs on the runner's loop; the Agent's ops run
 * on its worker threads through the TEE session's lane.
 */
#ifndef TEEP_TEE_CONV_H
#define TEEP_TEE_CONV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tee_host.h"
#include "teep/buf.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TEEP_TEE_CONV_MAX_ROUNDS   8
#define TEEP_TEE_CONV_MAX_MESSAGES 64

typedef enum teep_tee_conv_kind {
    TEEP_TEE_CONV_POLICY_CHECK = 0, /* RequestPolicyCheck, repeated */
    TEEP_TEE_CONV_REQUEST_TA = 1,   /* RequestTA of one component */
} teep_tee_conv_kind_t;

typedef struct teep_tee_conv teep_tee_conv_t;

typedef struct teep_tee_conv_cbs {
    /*
     * Carry the Agent's message bytes[0..len) (plugin memory, valid only
     * during the call: copy it; len 0: the empty message that asks the
     * TAM for a new session) to the TAM at conv->tam_uri.  On 0 the caller
     * later calls teep_tee_conv_answer or teep_tee_conv_fail exactly once,
     * never from inside this call.  On a negative code, with *why set to
     * a static reason, the conversation fails with them (the Agent hears
     * of it through ProcessError).
     */
    int (*exchange)(teep_tee_conv_t *conv, const uint8_t *bytes, size_t len,
                    const char **why);
    /*
     * A TAM session ended: ok or failed, and why (static text).
     * conv->tam_uri is "" when the Agent named no TAM.  Returns whether a
     * policy check may go on with another TAM session (false while the
     * caller stops).
     */
    bool (*session_ended)(teep_tee_conv_t *conv, bool ok, const char *why);
    /* The conversation is over: nothing of it runs any more and the
     * caller may free conv. */
    void (*ended)(teep_tee_conv_t *conv);
} teep_tee_conv_cbs_t;

/* Caller-allocated and zeroed; the caller sets the first block, reads the
 * second, and leaves the rest alone.  Must stay alive until cbs->ended. */
struct teep_tee_conv {
    teep_tee_runner_t *runner;
    teep_tee_lane_t *lane; /* the open TEE session's */
    const teep_tee_conv_cbs_t *cbs;
    uint64_t *session_counter; /* each TAM session takes ++*counter */
    void *data;                /* for the caller */

    teep_tee_conv_kind_t kind;
    uint64_t tam_session;
    char tam_uri[TEEP_TEE_URI_MAX]; /* "" until the Agent names a TAM */
    unsigned messages;              /* carried in this TAM session */

    const uint8_t *component; /* REQUEST_TA: borrowed until ended */
    size_t component_len;
    int op;
    unsigned rounds;
    teep_tee_call_t call;
    teep_tee_request_result_t result;
    teep_tee_buf_t reply;
    teep_buf_t *incoming; /* the TAM's message being processed */
    int error_code;       /* for ProcessError */
    const char *why;
};

/*
 * Start conv (set up as above) as a conversation of kind; REQUEST_TA asks
 * for the encoded component identifier component[0..len), which the
 * caller keeps valid until cbs->ended.  The first op is queued on the
 * lane: nothing is called back from inside this call.
 */
void teep_tee_conv_start(teep_tee_conv_t *conv, teep_tee_conv_kind_t kind,
                         const uint8_t *component, size_t len);

/* The answer to the exchange in progress: the TAM's next message (takes
 * a reference to message, which the Agent then processes), or NULL: the
 * TAM has nothing more, the TAM session ended ok. */
void teep_tee_conv_answer(teep_tee_conv_t *conv, teep_buf_t *message);

/* The exchange in progress failed or was abandoned: the Agent hears of it
 * through ProcessError(code), then the TAM session ends failed with why
 * (static text). */
void teep_tee_conv_fail(teep_tee_conv_t *conv, int code, const char *why);

#ifdef __cplusplus
}
#endif
#endif
