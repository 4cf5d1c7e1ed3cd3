/*
 * canned_tam.h: a transport host (teep/transport_plugin.h) whose TAM is
 * canned: it answers exchanges from the published vectors, the way the
 * broker's relay hands a transport the TAM's answers, so that the
 * WebSocket plugin can be driven without a broker (tests/ws).
 *
 *   empty body (a new session)  -> the QueryRequest vector
 *   the QueryResponse vector    -> the Update vector
 *   the Success vector          -> no content
 *   "slow..."                   -> the Update vector, 300 ms later
 *   "busy..."                   -> failed: overloaded, retry after 7 s
 *   "who"                       -> a text message "route=R device=D"
 *   anything else               -> failed: bad message
 *
 * Answers come from a timer (never from inside submit, as the ABI
 * promises) in buffers with the headroom the plugin asked for, unless
 * headroom is set lower to see the plugin copy.
 */
#ifndef TEEP_TESTS_CANNED_TAM_H
#define TEEP_TESTS_CANNED_TAM_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "teep/transport_plugin.h"

#define CANNED_COUNTERS 32

typedef struct canned_tam {
    teep_transport_host_t host; /* host.host_data points here */
    uv_loop_t *loop;
    size_t headroom; /* of answer buffers */
    uint8_t *query_request, *query_response, *update, *success;
    size_t query_request_len, query_response_len, update_len, success_len;
    uint64_t submitted, cancelled, answered;
    char last_route[80];
    char last_device[80];
    struct {
        const char *name;
        uint64_t value;
    } counters[CANNED_COUNTERS];
    uint64_t gauge_connections;
    uint64_t buf_bytes; /* given out by host.buf_new */
    unsigned pending;   /* exchanges not answered or cancelled yet */
    bool quiet;         /* no log lines */
} canned_tam_t;

/* Load the vectors from vectors_dir, set up the host table on loop.
 * Returns 0 or -ENOENT (a vector is missing). */
int canned_tam_init(canned_tam_t *t, uv_loop_t *loop, const char *vectors_dir,
                    size_t headroom);

/* Free the vectors (every exchange answered or cancelled first). */
void canned_tam_free(canned_tam_t *t);

/* A transport counter the plugin counted (0 if never). */
uint64_t canned_tam_counter(const canned_tam_t *t, const char *name);

#endif
