/*
 * session.c: teep-agent's conversations.  The Broker state machine of
 * digest 4.4 (RFC 9397 6.2.1) is plugins/host/tee_conv.h's; what is
 * teep-agent's own: its exchanges go over the transport the TAM URI's
 * scheme names, and conversations run one at a time, in the order they
 * were asked for (TEEP over WebSocket carries one exchange at a time, and
 * the TEE serialises its ops anyway); policy checks asked for while one
 * waits or runs are folded into one more run.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "tee_conv.h"

struct dev_conv {
    teep_tee_conv_t conv;
    device_t *dev;
    teep_tee_conv_kind_t kind;
    uint8_t *component; /* REQUEST_TA */
    size_t component_len;
    dev_conv_t *next;
};

static void run_next(device_t *dev);

static const char *kind_name(const dev_conv_t *c)
{
    return c->kind == TEEP_TEE_CONV_POLICY_CHECK ? "policy-check"
                                                 : "request-ta";
}

/* ---------------------------------------------------- conversations */

static void conv_free(dev_conv_t *c)
{
    free(c->component);
    free(c);
}

static void on_answer(void *arg, const dev_answer_t *a);

/* Send the Agent's bytes (plugin memory; len 0: the empty message) over
 * the TAM URI's transport. */
static int send_to_tam(teep_tee_conv_t *conv, const uint8_t *bytes, size_t len,
                       const char **why)
{
    dev_conv_t *c = conv->data;
    if (c->dev->stopping) {
        /* The transports are closing: tell the Agent, then end. */
        *why = "the device agent is stopping";
        return -ECANCELED;
    }
    dev_transport_t *t = dev_transport_get(c->dev, conv->tam_uri);
    if (t == NULL) {
        *why = "no transport for the TAM URI";
        return -EPROTONOSUPPORT;
    }
    int rc = t->ops->exchange(t, bytes, len, on_answer, c);
    if (rc < 0)
        *why = "the transport refused the message";
    return rc;
}

static void on_answer(void *arg, const dev_answer_t *a)
{
    dev_conv_t *c = arg;
    switch (a->kind) {
    case DEV_ANSWER_MESSAGE: teep_tee_conv_answer(&c->conv, a->body); return;
    case DEV_ANSWER_NONE: teep_tee_conv_answer(&c->conv, NULL); return;
    case DEV_ANSWER_FAILED:
        dev_log(c->dev, TEEP_LOG_WARN, "exchange with %s failed: %d %s",
                c->conv.tam_uri, a->code, a->reason != NULL ? a->reason : "");
        teep_tee_conv_fail(&c->conv, a->code, "the exchange failed");
        return;
    }
}

static bool session_ended(teep_tee_conv_t *conv, bool ok, const char *why)
{
    dev_conv_t *c = conv->data;
    device_t *dev = c->dev;
    dev_log(dev, ok ? TEEP_LOG_INFO : TEEP_LOG_WARN,
            "session %s tam=%s messages=%u result=%s (%s)", kind_name(c),
            conv->tam_uri[0] != '\0' ? conv->tam_uri : "-", conv->messages,
            ok ? "ok" : "failed", why);
    if (conv->tam_uri[0] != '\0') {
        if (ok)
            dev->sessions_ok++;
        else
            dev->sessions_failed++;
    }
    return !dev->stopping;
}

static void conv_ended(teep_tee_conv_t *conv)
{
    dev_conv_t *c = conv->data;
    device_t *dev = c->dev;
    bool policy = c->kind == TEEP_TEE_CONV_POLICY_CHECK;
    if (policy)
        dev->policy_queued = false;
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

static const teep_tee_conv_cbs_t conv_cbs = {
    .exchange = send_to_tam,
    .session_ended = session_ended,
    .ended = conv_ended,
};

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
    c->conv.runner = &dev->tee.runner;
    c->conv.lane = &dev->tee.lane;
    c->conv.cbs = &conv_cbs;
    c->conv.session_counter = &dev->next_session;
    c->conv.data = c;
    teep_tee_conv_start(&c->conv, c->kind, c->component, c->component_len);
}

static int enqueue(device_t *dev, teep_tee_conv_kind_t kind, const uint8_t *id,
                   size_t len)
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
        if (dev->running != NULL &&
            dev->running->kind == TEEP_TEE_CONV_POLICY_CHECK)
            dev->policy_again = true;
        return;
    }
    dev_log(dev, TEEP_LOG_INFO, "policy check (%s)", why);
    if (enqueue(dev, TEEP_TEE_CONV_POLICY_CHECK, NULL, 0) == 0)
        dev->policy_queued = true;
    else
        dev_log(dev, TEEP_LOG_ERROR, "policy check: out of memory");
}

int dev_request_ta(device_t *dev, const uint8_t *id, size_t len)
{
    return enqueue(dev, TEEP_TEE_CONV_REQUEST_TA, id, len);
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
    dev->policy_queued = dev->running != NULL &&
                         dev->running->kind == TEEP_TEE_CONV_POLICY_CHECK;
    dev->policy_again = false;
    return dev->running == NULL;
}
