/*
 * teep/tls.h: TLS configuration for the HTTP module (teep/http.h).
 *
 * One teep_tls_ctx_t wraps an OpenSSL SSL_CTX: the certificate and key a
 * server presents, or the trust anchors a client verifies servers with.
 * Connections run TLS over OpenSSL memory BIOs on the same libuv stream
 * code as plain HTTP; the context only configures them.
 *
 * Lifetime: each connection holds its own reference to the SSL_CTX, so a
 * context may be freed while connections made with it are still open.
 * Versions: TLS 1.2 and 1.3 only (BCP 195 / RFC 9325), renegotiation off.
 */
#ifndef TEEP_TLS_H
#define TEEP_TLS_H

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct teep_tls_ctx {
    void *ssl_ctx; /* SSL_CTX *, owned */
    bool server;
} teep_tls_ctx_t;

/* A server context presenting the certificate chain in cert_pem (leaf
 * first) with the private key in key_pem (PEM files).  Returns 0, -ENOENT
 * when a file cannot be read, -EINVAL when the key does not match the
 * certificate or a file is not PEM, -ENOMEM.  On failure ctx holds
 * nothing to free. */
int teep_tls_server_ctx_init(teep_tls_ctx_t *ctx, const char *cert_pem,
                             const char *key_pem);

/* A client context that verifies servers against the CA certificates in
 * ca_pem (a PEM file), or against the system's default trust store when
 * ca_pem is NULL.  Each connection also checks that the certificate names
 * the host it connects to (DNS name or IP address, RFC 9110 section
 * 4.3.4) and sends that name as SNI when it is not an address.  Returns 0,
 * -ENOENT, -EINVAL, -ENOMEM as above. */
int teep_tls_client_ctx_init(teep_tls_ctx_t *ctx, const char *ca_pem);

/* Drop the context's reference to its SSL_CTX.  ctx may be zeroed or
 * already freed (then nothing happens). */
void teep_tls_ctx_free(teep_tls_ctx_t *ctx);

#ifdef __cplusplus
}
#endif
#endif
