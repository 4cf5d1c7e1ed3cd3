/*
 * net/tls_session.h: one TLS session over OpenSSL memory BIOs, shared by
 * server and client connections.  The connection moves ciphertext between
 * the socket and the BIOs; the session never touches a socket, so TLS
 * runs on the same libuv stream code as plain HTTP.
 */
#ifndef TEEP_NET_TLS_SESSION_H
#define TEEP_NET_TLS_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "teep/tls.h"

struct ssl_st;
struct bio_st;

typedef struct teep_tls__session {
    struct ssl_st *ssl;  /* NULL: plain TCP */
    struct bio_st *rbio; /* ciphertext from the peer (owned by ssl) */
    struct bio_st *wbio; /* ciphertext for the peer (owned by ssl) */
} teep_tls__session_t;

/* Start a session with ctx.  host: the name or address a client connects
 * to (verified against the certificate, sent as SNI when a name); NULL for
 * a server.  Returns 0, -EINVAL (ctx role does not match), -ENOMEM. */
int teep_tls__session_init(teep_tls__session_t *s, const teep_tls_ctx_t *ctx,
                           const char *host);

void teep_tls__session_free(teep_tls__session_t *s);

/* Hand len bytes of ciphertext read from the socket to the session.
 * Returns 0 or -ENOMEM. */
int teep_tls__feed(teep_tls__session_t *s, const uint8_t *data, size_t len);

/* Drive the handshake, then decrypt up to cap bytes into out.  Returns 0
 * with *n bytes (0: more ciphertext needed), UV_EOF when the peer sent
 * close_notify, TEEP_HTTP_E_TLS on any failure (its alert, if any, is
 * waiting in the output). */
int teep_tls__read(teep_tls__session_t *s, uint8_t *out, size_t cap, size_t *n);

bool teep_tls__handshake_done(const teep_tls__session_t *s);

/* Encrypt the buffers (after the handshake).  Returns 0 or
 * TEEP_HTTP_E_TLS. */
int teep_tls__write(teep_tls__session_t *s, const uv_buf_t *bufs,
                    unsigned nbufs);

/* Queue close_notify. */
void teep_tls__shutdown(teep_tls__session_t *s);

/* Ciphertext waiting to be sent, and taking it (up to cap bytes; returns
 * how many). */
size_t teep_tls__pending(const teep_tls__session_t *s);
size_t teep_tls__take(teep_tls__session_t *s, uint8_t *out, size_t cap);

#endif
