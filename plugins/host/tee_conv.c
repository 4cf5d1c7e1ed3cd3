/*
 * tee_conv.c: the Broker state machine of digest 4.4 (tee_conv.h).  Each
 * Agent op runs on the lane (a worker thread); op_done continues on the
 * loop with the op's outcome.
 */
#include <errno.h>
#include <string.h>

#include "tee_conv.h"

enum { OP_REQUEST = 0, OP_PROCESS, OP_ERROR };

static const teep_tee_ops_t *ops_of(const teep_tee_conv_t *c)
{
    return c->runner->ops;
}

/* Hand plugin memory back (a zeroed buffer is a no-op). */
static void release(teep_tee_conv_t *c, teep_tee_buf_t *buf)
{
    ops_of(c)->free_buffer(c->runner->plugin_state, buf);
    memset(buf, 0, sizeof(*buf));
}

static int op_run(teep_tee_call_t *call)
{
    teep_tee_conv_t *c = call->data;
    const teep_tee_ops_t *ops = ops_of(c);
    teep_tee_session_t *s = c->lane->session;
    switch (c->op) {
    case OP_REQUEST:
        if (c->kind == TEEP_TEE_CONV_POLICY_CHECK)
            return ops->request_policy_check(s, c->tam_session, &c->result);
        return ops->request_ta(s, c->tam_session,
                               (teep_slice_t){c->component, c->component_len},
                               NULL, &c->result);
    case OP_PROCESS:
        return ops->process_teep_message(
            s, c->tam_session, c->tam_uri,
            (teep_slice_t){c->incoming->pos, teep_buf_len(c->incoming)},
            &c->reply);
    default:
        return ops->process_error(s, c->tam_session, c->tam_uri, c->error_code);
    }
}

static void op_done(teep_tee_call_t *call);

static void run_op(teep_tee_conv_t *c, int op)
{
    c->op = op;
    c->call.data = c;
    /* The ABI: the host zeroes every output before a call. */
    memset(&c->reply, 0, sizeof(c->reply));
    if (op == OP_REQUEST)
        memset(&c->result, 0, sizeof(c->result));
    teep_tee_runner_submit(c->runner, c->lane, &c->call, op_run, op_done);
}

/* A new TAM session: the Agent is asked again. */
static void request(teep_tee_conv_t *c)
{
    c->tam_uri[0] = '\0';
    c->messages = 0;
    c->why = NULL;
    c->tam_session = ++*c->session_counter;
    run_op(c, OP_REQUEST);
}

static void session_end(teep_tee_conv_t *c, bool ok, const char *why)
{
    release(c, &c->result.message);
    release(c, &c->reply);
    teep_buf_unref(c->incoming);
    c->incoming = NULL;
    bool may_go_on = c->cbs->session_ended(c, ok, why);
    /* A policy check goes on while the Agent names TAMs. */
    if (may_go_on && c->kind == TEEP_TEE_CONV_POLICY_CHECK &&
        c->tam_uri[0] != '\0' && ++c->rounds < TEEP_TEE_CONV_MAX_ROUNDS) {
        request(c);
        return;
    }
    c->cbs->ended(c); /* c may be gone */
}

void teep_tee_conv_fail(teep_tee_conv_t *c, int code, const char *why)
{
    c->why = why;
    c->error_code = code;
    run_op(c, OP_ERROR);
}

/* The Agent's bytes (plugin memory, released here) to the TAM, through
 * the caller. */
static void exchange(teep_tee_conv_t *c, teep_tee_buf_t *bytes)
{
    const char *why = NULL;
    int rc = -ELOOP;
    if (c->messages >= TEEP_TEE_CONV_MAX_MESSAGES)
        why = "too many messages in one conversation";
    else if ((rc = c->cbs->exchange(c, bytes->ptr, bytes->len, &why)) == 0)
        c->messages++;
    /* Before a failure's ProcessError, which zeroes the outputs. */
    release(c, bytes);
    if (rc < 0)
        teep_tee_conv_fail(c, rc, why != NULL ? why : "the exchange failed");
}

void teep_tee_conv_answer(teep_tee_conv_t *c, teep_buf_t *message)
{
    if (message == NULL) {
        session_end(c, true, "the TAM is done");
        return;
    }
    c->incoming = teep_buf_ref(message);
    run_op(c, OP_PROCESS);
}

static void op_done(teep_tee_call_t *call)
{
    teep_tee_conv_t *c = call->data;
    int rc = call->result;
    switch (c->op) {
    case OP_REQUEST:
        if (rc < 0) {
            session_end(c, false, "the Agent refused the request");
            return;
        }
        memcpy(c->tam_uri, c->result.tam_uri, sizeof(c->tam_uri));
        c->tam_uri[sizeof(c->tam_uri) - 1] = '\0';
        if (c->tam_uri[0] == '\0') {
            session_end(c, true, "nothing to do");
            return;
        }
        exchange(c, &c->result.message);
        return;
    case OP_PROCESS:
        teep_buf_unref(c->incoming);
        c->incoming = NULL;
        if (rc < 0) {
            teep_tee_conv_fail(c, rc,
                               "the Agent could not process the message");
            return;
        }
        if (c->reply.ptr == NULL || c->reply.len == 0) {
            session_end(c, true, "the Agent is done");
            return;
        }
        exchange(c, &c->reply);
        return;
    default: session_end(c, false, c->why != NULL ? c->why : "failed"); return;
    }
}

void teep_tee_conv_start(teep_tee_conv_t *c, teep_tee_conv_kind_t kind,
                         const uint8_t *component, size_t len)
{
    c->kind = kind;
    c->component = component;
    c->component_len = len;
    c->rounds = 0;
    request(c);
}
