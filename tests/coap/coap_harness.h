/*
 * coap_harness.h: a host for the CoAP transport plugin in tests.
 *
 * It loads transport_coap through the broker's plugin loader, gives it a
 * teep_transport_host_t whose submit is a canned TAM (answers after a uv
 * timer, so every answer is a separate response), runs the real
 * coap-client binary on the same loop, and sends raw datagrams for what
 * coap-client will not produce (malformed input, duplicates, floods).
 *
 * The canned TAM answers by route:
 *   ""      empty body: the QueryRequest vector; a body: the Update vector
 *   "echo"  the request body itself
 *   "big"   3000 bytes of a counting pattern
 *   "none"  no content (2.04 empty)
 *   "busy"  overloaded, retry after 7 s (5.03, Max-Age 7)
 *   "slow"  the TAM timed out (5.04)
 *   other   unknown route (4.04)
 */
#ifndef TEEP_TEST_COAP_HARNESS_H
#define TEEP_TEST_COAP_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "plugin_loader.h"
#include "teep/transport_plugin.h"

#define HARNESS_MAX_COUNTERS 64

typedef struct harness {
    uv_loop_t loop;
    teep_plugin_handle_t plugin;
    const teep_transport_ops_t *ops;
    teep_transport_host_t host;
    void *instance;
    bool started;
    char uri[256]; /* local_uri after start */
    uint16_t port;
    unsigned delay_ms; /* canned TAM latency */
    /* what the canned TAM saw */
    unsigned submissions, cancels, answered;
    char last_route[64];
    char last_device[64];
    size_t last_body_len;
    uint8_t *qr, *update; /* vectors */
    size_t qr_len, update_len;
    struct {
        const char *name;
        uint64_t value;
    } counters[HARNESS_MAX_COUNTERS];
    size_t n_counters;
    bool stopped;
} harness_t;

/* Load the plugin and the vectors, create an instance for uri with the
 * options (key, value pairs, NULL-terminated) and start it.  Returns the
 * start code (0, -EADDRINUSE ...); create failures fail the test. */
int harness_start(harness_t *h, const char *uri, const char *const *options);

/* Stop (drain) and destroy the instance, unload, close the loop. */
void harness_stop(harness_t *h);

/* A counter the plugin reported through host->count (0 if never). */
uint64_t harness_counter(const harness_t *h, const char *name);

/* Run the loop for ms milliseconds. */
void harness_run_for(harness_t *h, unsigned ms);

/* ------------------------------------------------------- coap-client */

typedef struct client_run {
    uv_process_t proc;
    uv_pipe_t out, err;
    uv_timer_t deadline;
    int open;
    int64_t exit_status;
    int term_signal;
    char stdout_buf[256 * 1024];
    size_t stdout_len;
    char stderr_buf[16 * 1024];
    size_t stderr_len;
} client_run_t;

/* The coap-client binary (COAP_CLIENT, else coap-client-openssl). */
const char *harness_coap_client(void);

/* Start coap-client with argv (argv[0] is replaced by the binary), killed
 * after timeout_ms.  Returns 0 or a libuv error. */
int client_start(harness_t *h, client_run_t *r, const char *const *argv,
                 unsigned timeout_ms);

/* Run the loop until the client exited and its output is read. */
void client_wait(harness_t *h, client_run_t *r);

/* client_start + client_wait; returns the exit status (-1 if killed). */
int client_run(harness_t *h, client_run_t *r, const char *const *argv,
               unsigned timeout_ms);

/* ----------------------------------------------------- raw datagrams */

typedef struct coap_opt_spec {
    uint16_t number;
    const uint8_t *value;
    size_t len;
} coap_opt_spec_t;

/* Encode a CoAP message (options sorted by the caller) into out; returns
 * its length. */
size_t pdu_encode(uint8_t *out, size_t cap, int type, int code, uint16_t mid,
                  const uint8_t *token, size_t token_len,
                  const coap_opt_spec_t *opts, size_t n_opts,
                  const uint8_t *payload, size_t payload_len);

typedef struct pdu_view {
    int type, code;
    uint16_t mid;
    uint8_t token[8];
    size_t token_len;
    bool has_max_age, has_block1, has_size1;
    uint32_t max_age, block1, size1;
    const uint8_t *payload;
    size_t payload_len;
} pdu_view_t;

/* Decode a datagram (only what tests look at).  Returns 0 or -1. */
int pdu_decode(const uint8_t *d, size_t n, pdu_view_t *v);

/* A UDP socket bound to local (an IPv4 address) on an ephemeral port. */
int udp_open(const char *local);

/* Send n bytes to the instance. */
void udp_send(harness_t *h, int fd, const uint8_t *d, size_t n);

/* Run the loop until a datagram arrives on fd (returns its length,
 * copied into buf) or timeout_ms passes (returns 0). */
size_t udp_recv(harness_t *h, int fd, uint8_t *buf, size_t cap,
                unsigned timeout_ms);

#endif
