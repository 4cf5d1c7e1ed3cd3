/*
 * ws_fixture.h: what the WebSocket tests share: the plugin loaded through
 * the host's loader on a libuv loop with the canned TAM as its host, WS
 * clients (plugins/transport/ws/ws_client.h) that record what they
 * receive, a raw TCP client for what a WebSocket client cannot send, and
 * a bounded way to run the loop until something happened.
 */
#ifndef TEEP_TESTS_WS_FIXTURE_H
#define TEEP_TESTS_WS_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "canned_tam.h"
#include "plugin_loader.h"
#include "teep/transport_plugin.h"
#include "ws_client.h"

#define FIX_MAX_MESSAGES 8
#define FIX_MAX_CLIENTS  256

/* A client that records its connection's events. */
typedef struct fix_client {
    teep_ws_client_t ws;
    bool opened, closed;
    int close_code;
    char close_reason[128];
    int n_messages;
    bool binary[FIX_MAX_MESSAGES];
    teep_buf_t *messages[FIX_MAX_MESSAGES]; /* NULL for an empty one */
} fix_client_t;

/* A raw TCP exchange: send bytes, collect the answer until the server
 * closes or enough(r) says it has what it needs. */
typedef struct fix_raw {
    bool (*enough)(const struct fix_raw *r);
    uv_tcp_t tcp;
    uv_connect_t connect;
    uv_write_t write;
    uv_buf_t out;
    char in[8192];
    size_t in_len;
    bool done;
} fix_raw_t;

typedef struct fix {
    uv_loop_t loop;
    canned_tam_t tam;
    teep_plugin_handle_t plugin;
    const teep_transport_ops_t *ops;
    void *instance;
    bool stopped;
    char uri[256];
    teep_ws_client_ctx_t *clients;
    bool clients_freed;
    struct fix_client *owned[FIX_MAX_CLIENTS]; /* freed by fix_finish */
    size_t n_owned;
} fix_t;

/* Load the plugin from plugin_dir, the vectors from vectors_dir, make the
 * loop and a client context.  Returns 0 or a negative code. */
int fix_init(fix_t *f, const char *plugin_dir, const char *vectors_dir);

/* Create and start an instance listening on ws://127.0.0.1:0/tam with
 * options (pairs, NULL-terminated: "max_message", "4096", NULL); f->uri
 * is where it listens.  Returns the plugin's code. */
int fix_start(fix_t *f, const char *const *options);

/* Stop the instance (waiting for its done), destroy it, free the
 * clients' context and the loop.  Returns uv_loop_close's result: 0 when
 * no handle was left behind. */
int fix_finish(fix_t *f);

/* Stop the instance and run until its done (for drain tests). */
void fix_stop(fix_t *f);

/* Run the loop until *flag is true or ms passed.  Returns *flag. */
bool fix_run_until(fix_t *f, const bool *flag, unsigned ms);

/* Run until the client has n messages or closed, at most ms. */
bool fix_wait_messages(fix_t *f, fix_client_t *c, int n, unsigned ms);

/* A new client owned by the fixture (freed by fix_finish, once its
 * connection is surely closed), connected to f->uri + suffix
 * ("?device=d1", "/route"); waits until it is open or closed (2 s).
 * NULL only when out of clients. */
fix_client_t *fix_connect(fix_t *f, const char *suffix);

/* Release what c recorded. */
void fix_client_clear(fix_client_t *c);

/* Send bytes on a new TCP connection to the instance's port and collect
 * the answer until the server closes or enough(r) (may be NULL) is true,
 * 3 s at most. */
void fix_raw(fix_t *f, fix_raw_t *r, const void *bytes, size_t len,
             bool (*enough)(const fix_raw_t *r));

/* fix_raw from the local address source (another loopback address is
 * another device as far as per-address limits go). */
void fix_raw_from(fix_t *f, fix_raw_t *r, const char *source, const void *bytes,
                  size_t len, bool (*enough)(const fix_raw_t *r));

/* The port of f->uri. */
int fix_port(const fix_t *f);

#endif
