/*
 * session.c: teep-agent's conversations, the Broker state machine of
 * digest 4.4 (RFC 9397 6.2.1):
 *
 *   RequestPolicyCheck / RequestTA -> TAM URI [+ message]
 *     -> exchange over the URI's transport -> answer:
 *        message    -> ProcessTeepMessage -> reply? exchange it : ok
 *        no content -> ok
 *        failure    -> ProcessError -> failed
 *
 * A policy check repeats RequestPolicyCheck until the Agent names no
 * TAM.  Conversations run one at a time, in the order they were asked
 * for (TEEP over WebSocket carries one exchange at a time, and the TEE
 * serialises its ops anyway); policy checks asked for while one waits or
 * runs are folded into one more run.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"

/* Bounds against an Agent or a TAM that never ends. */
#define MAX_POLICY_ROUNDS 8
#define MAX_MESSAGES      64

enum { KIND_POLICY = 0, KIND_REQUEST_TA = 1 };
enum { OP_REQUEST = 0, OP_PROCESS, OP_ERROR };

struct dev_conv {
    device_t *dev;
    int kind;
    int op;
    uint64_t tam_session;
    uint8_t *component; /* REQUEST_TA */
    size_t component_len;
    char tam_uri[TEEP_TEE_URI_MAX];
    dev_transport_t *transport;
    teep_tee_call_t call;
    teep_tee_request_result_t result;
    teep_tee_buf_t reply;
    teep_buf_t *incoming; /* the TAM's message being processed */
    int error_code;
    const char *why;
    unsigned messages;
    dev_conv_t *next;
};

static void run_next(device_t *dev);

static const char *kind_name(const dev_conv_t *c)
{
    return c->kind == KIND_POLICY ? "policy-check" : "request-ta";
}

/* ------------------------------------------------------------- ops */

static int op_run(teep_tee_call_t *call)
{
    dev_conv_t *c = call->data;
    const teep_tee_ops_t *ops = dev_tee_ops(c->dev);
    teep_tee_session_t *s = dev_tee_session(c->dev);
    switch (c->op) {
    case OP_REQUEST:
        if (c->kind == KIND_POLICY)
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

static void run_op(dev_conv_t *c, int op)
{
    c->op = op;
    c->call.data = c;
    memset(&c->reply, 0, sizeof(c->reply));
    if (op == OP_REQUEST)
        memset(&c->result, 0, sizeof(c->result));
    dev_tee_call(c->dev, &c->call, op_run, op_done);
}

/* ---------------------------------------------------- conversations */

static void conv_free(dev_conv_t *c)
{
    dev_tee_free(c->dev, &c->result.message);
    dev_tee_free(c->dev, &c->reply);
    teep_buf_unref(c->incoming);
    free(c->component);
    free(c);
}

static void conv_end(dev_conv_t *c, bool ok, const char *why)
{
    device_t *dev = c->dev;
    dev_log(dev, ok ? TEEP_LOG_INFO : TEEP_LOG_WARN,
            "session %s tam=%s messages=%u result=%s (%s)", kind_name(c),
            c->tam_uri[0] != '\0' ? c->tam_uri : "-", c->messages,
            ok ? "ok" : "failed", why);
    if (c->tam_uri[0] != '\0') {
        if (ok)
            dev->sessions_ok++;
        else
            dev->sessions_failed++;
    }
    /* A policy check goes on while the Agent names TAMs. */
    bool again = c->kind == KIND_POLICY && c->tam_uri[0] != '\0' &&
                 !dev->stopping && ++dev->policy_rounds < MAX_POLICY_ROUNDS;
    if (again) {
        dev_tee_free(dev, &c->result.message);
        c->tam_uri[0] = '\0';
        c->messages = 0;
        c->tam_session = ++dev->next_session;
        run_op(c, OP_REQUEST);
        return;
    }
    bool policy = c->kind == KIND_POLICY;
    if (policy) {
        dev->policy_queued = false;
        dev->policy_rounds = 0;
    }
    dev->running = NULL;
    conv_free(c);
    if (dev->stopping) {
        dev_conversations_ended(dev);
        return;
    }
    if (policy && dev->policy_again) {
        dev->policy_again = false;
        dev_policy_check(dev, "asked again while running");
    }
    run_next(dev);
}

static void conv_fail(dev_conv_t *c, int code, const char *why)
{
    c->why = why;
    c->error_code = code;
    run_op(c, OP_ERROR);
}

static void on_answer(void *arg, const dev_answer_t *a);

/* Send the Agent's bytes (plugin memory; len 0: the empty message). */
static void send_to_tam(dev_conv_t *c, const uint8_t *bytes, size_t len)
{
    if (c->dev->stopping) {
        /* The transports are closing: tell the Agent, then end. */
        conv_fail(c, -ECANCELED, "the device agent is stopping");
        return;
    }
    if (c->messages >= MAX_MESSAGES) {
        conv_fail(c, -ELOOP, "too many messages in one conversation");
        return;
    }
    c->messages++;
    int rc =
        c->transport->ops->exchange(c->transport, bytes, len, on_answer, c);
    if (rc < 0)
        conv_fail(c, rc, "the transport refused the message");
}

static void on_answer(void *arg, const dev_answer_t *a)
{
    dev_conv_t *c = arg;
    switch (a->kind) {
    case DEV_ANSWER_MESSAGE:
        c->incoming = teep_buf_ref(a->body);
        run_op(c, OP_PROCESS);
        return;
    case DEV_ANSWER_NONE: conv_end(c, true, "the TAM is done"); return;
    case DEV_ANSWER_FAILED:
        dev_log(c->dev, TEEP_LOG_WARN, "exchange with %s failed: %d %s",
                c->tam_uri, a->code, a->reason != NULL ? a->reason : "");
        conv_fail(c, a->code, "the exchange failed");
        return;
    }
}

static void op_done(teep_tee_call_t *call)
{
    dev_conv_t *c = call->data;
    device_t *dev = c->dev;
    int rc = call->result;
    switch (c->op) {
    case OP_REQUEST:
        if (rc < 0) {
            conv_end(c, false, "the Agent refused the request");
            return;
        }
        memcpy(c->tam_uri, c->result.tam_uri, sizeof(c->tam_uri));
        c->tam_uri[sizeof(c->tam_uri) - 1] = '\0';
        if (c->tam_uri[0] == '\0') {
            conv_end(c, true, "nothing to do");
            return;
        }
        c->transport = dev_transport_get(dev, c->tam_uri);
        if (c->transport == NULL) {
            conv_fail(c, -EPROTONOSUPPORT, "no transport for the TAM URI");
            return;
        }
        send_to_tam(c, c->result.message.ptr, c->result.message.len);
        dev_tee_free(dev, &c->result.message);
        return;
    case OP_PROCESS:
        teep_buf_unref(c->incoming);
        c->incoming = NULL;
        if (rc < 0) {
            conv_fail(c, rc, "the Agent could not process the message");
            return;
        }
        if (c->reply.ptr == NULL || c->reply.len == 0) {
            conv_end(c, true, "the Agent is done");
            return;
        }
        send_to_tam(c, c->reply.ptr, c->reply.len);
        dev_tee_free(dev, &c->reply);
        return;
    default: conv_end(c, false, c->why != NULL ? c->why : "failed"); return;
    }
}

/* ----------------------------------------------------------- queue */

static void run_next(device_t *dev)
{
    if (dev->running != NULL || dev->stopping || !dev->tee.open)
        return;
    dev_conv_t *c = dev->queue_head;
    if (c == NULL)
        return;
    dev->queue_head = c->next;
    if (dev->queue_head == NULL)
        dev->queue_tail = NULL;
    c->next = NULL;
    dev->running = c;
    c->tam_session = ++dev->next_session;
    run_op(c, OP_REQUEST);
}

static int enqueue(device_t *dev, int kind, const uint8_t *id, size_t len)
{
    dev_conv_t *c = calloc(1, sizeof(*c));
    if (c == NULL || (len > 0 && (c->component = malloc(len)) == NULL)) {
        free(c);
        return -ENOMEM;
    }
    if (len > 0)
        memcpy(c->component, id, len);
    c->component_len = len;
    c->dev = dev;
    c->kind = kind;
    if (dev->queue_tail != NULL)
        dev->queue_tail->next = c;
    else
        dev->queue_head = c;
    dev->queue_tail = c;
    run_next(dev);
    return 0;
}

void dev_policy_check(device_t *dev, const char *why)
{
    if (dev->stopping)
        return;
    if (dev->policy_queued) {
        /* The one waiting covers this; the one running may have asked
         * the TAM before whatever made this one necessary. */
        if (dev->running != NULL && dev->running->kind == KIND_POLICY)
            dev->policy_again = true;
        return;
    }
    dev_log(dev, TEEP_LOG_INFO, "policy check (%s)", why);
    if (enqueue(dev, KIND_POLICY, NULL, 0) == 0)
        dev->policy_queued = true;
    else
        dev_log(dev, TEEP_LOG_ERROR, "policy check: out of memory");
}

int dev_request_ta(device_t *dev, const uint8_t *id, size_t len)
{
    return enqueue(dev, KIND_REQUEST_TA, id, len);
}

bool dev_idle(const device_t *dev)
{
    return dev->running == NULL && dev->queue_head == NULL;
}

bool dev_drop_waiting(device_t *dev)
{
    while (dev->queue_head != NULL) {
        dev_conv_t *c = dev->queue_head;
        dev->queue_head = c->next;
        conv_free(c);
    }
    dev->queue_tail = NULL;
    dev->policy_queued =
        dev->running != NULL && dev->running->kind == KIND_POLICY;
    dev->policy_again = false;
    return dev->running == NULL;
}
