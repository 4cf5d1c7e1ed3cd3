/*
 * ws_binding.h: TEEP over WebSocket (docs/transport-ws.md), the parts both
 * ends share: the subprotocol name, the control vocabulary and the close
 * codes.  The broker's WebSocket transport (this directory) and the device
 * agent (tools/teep-agent) link the same code, so the two ends cannot
 * drift apart.
 *
 * Framing: one binary message is one TEEP message (COSE-wrapped,
 * application/teep+cbor); an empty binary message asks the TAM for a new
 * session.  Text messages carry control lines, broker to device only:
 *
 *     no-content                      the TAM has nothing more (HTTP 204)
 *     error STATUS [retry-after=S] [REASON]
 *                                     the exchange failed; STATUS is the
 *                                     HTTP status TEEP over HTTP would
 *                                     have answered (400, 404, 413, 415,
 *                                     500, 502, 503, 504 ...)
 *     check-in                        push: run a policy check now
 */
#ifndef TEEP_WS_BINDING_H
#define TEEP_WS_BINDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "teep/transport_plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The Sec-WebSocket-Protocol both ends must agree on. */
#define TEEP_WS_SUBPROTOCOL "teep.v1"

/* The query parameter that names the device (for push): ?device=NAME. */
#define TEEP_WS_DEVICE_ARG "device"
/* A device name: 1..TEEP_WS_DEVICE_MAX of [A-Za-z0-9._:@-]. */
#define TEEP_WS_DEVICE_MAX 64

/* Close codes (RFC 6455 section 7.4.1) and what they mean here. */
enum {
    TEEP_WS_CLOSE_NORMAL = 1000,      /* the device is done */
    TEEP_WS_CLOSE_GOING_AWAY = 1001,  /* the broker is draining: reconnect
                                         later, maybe elsewhere */
    TEEP_WS_CLOSE_PROTOCOL = 1002,    /* not WebSocket (lws itself) */
    TEEP_WS_CLOSE_UNSUPPORTED = 1003, /* a text message from a device */
    TEEP_WS_CLOSE_POLICY = 1008,      /* a message while one is pending,
                                         or too many fragments */
    TEEP_WS_CLOSE_TOO_BIG = 1009,     /* a message over the limit */
    TEEP_WS_CLOSE_INTERNAL = 1011,    /* the broker cannot take messages */
    TEEP_WS_CLOSE_TRY_LATER = 1013,   /* too many connections (in all, or
                                         from this address) */
};

/* The words of the control vocabulary. */
#define TEEP_WS_WORD_NO_CONTENT "no-content"
#define TEEP_WS_WORD_ERROR      "error"
#define TEEP_WS_WORD_CHECK_IN   "check-in"
#define TEEP_WS_ARG_RETRY_AFTER "retry-after="

/* The longest control line either end sends or accepts. */
#define TEEP_WS_CONTROL_MAX 256

typedef enum teep_ws_control_kind {
    TEEP_WS_NO_CONTENT = 1,
    TEEP_WS_ERROR = 2,
    TEEP_WS_CHECK_IN = 3,
} teep_ws_control_kind_t;

/* A parsed control line.  reason points into the parsed bytes. */
typedef struct teep_ws_control {
    teep_ws_control_kind_t kind;
    int status;           /* ERROR: 400..599 */
    uint32_t retry_after; /* ERROR: seconds, 0 when absent */
    const char *reason;   /* ERROR: reason_len bytes, may be empty */
    size_t reason_len;
} teep_ws_control_t;

/*
 * Write the control line for c into out[0..cap) (no NUL needed by the
 * wire; one is written when it fits).  A reason is cut to what fits and
 * its control characters become spaces.  Returns the line's length, or
 * -EINVAL (bad kind, status outside 400..599), -ENOSPC (cap under 32).
 */
int teep_ws_control_format(const teep_ws_control_t *c, char *out, size_t cap);

/*
 * Parse the text message p[0..n) into *out (reason borrowed from p).
 * Returns 0, or -EINVAL when it is not a control line of the vocabulary
 * (unknown word, bad status, over TEEP_WS_CONTROL_MAX bytes).
 */
int teep_ws_control_parse(const uint8_t *p, size_t n, teep_ws_control_t *out);

/*
 * The control line that tells a device how an exchange ended, for a
 * NO_CONTENT or FAILED reply: the status TEEP over HTTP would answer
 * (teep/transport_plugin.h lists the mapping), retry-after for 503, the
 * reply's reason.  Returns teep_ws_control_format's result; -EINVAL for a
 * MESSAGE reply, which is sent as a binary message instead.
 */
int teep_ws_control_for_reply(const teep_exchange_reply_t *reply, char *out,
                              size_t cap);

/* Whether name[0..len) is a valid device name. */
bool teep_ws_device_name_ok(const char *name, size_t len);

#ifdef __cplusplus
}
#endif
#endif
