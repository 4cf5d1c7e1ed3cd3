/*
 * TLS contexts (teep/tls.h) and sessions over memory BIOs
 * (net/tls_session.h) on OpenSSL 3.
 */
#include <errno.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <unistd.h>

#include "teep/http.h"
#include "tls_session.h"

static SSL_CTX *ctx_new(const SSL_METHOD *method)
{
    SSL_CTX *ctx = SSL_CTX_new(method);
    if (ctx == NULL)
        return NULL;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    /* Idle keep-alive connections need not hold 2 x 16 KiB of record
     * buffers each. */
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    return ctx;
}

static int readable(const char *path)
{
    return path != NULL && access(path, R_OK) == 0 ? 0 : -ENOENT;
}

int teep_tls_server_ctx_init(teep_tls_ctx_t *out, const char *cert_pem,
                             const char *key_pem)
{
    memset(out, 0, sizeof(*out));
    if (readable(cert_pem) < 0 || readable(key_pem) < 0)
        return -ENOENT;
    SSL_CTX *ctx = ctx_new(TLS_server_method());
    if (ctx == NULL)
        return -ENOMEM;
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_pem) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key_pem, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        ERR_clear_error();
        SSL_CTX_free(ctx);
        return -EINVAL;
    }
    out->ssl_ctx = ctx;
    out->server = true;
    return 0;
}

int teep_tls_client_ctx_init(teep_tls_ctx_t *out, const char *ca_pem)
{
    memset(out, 0, sizeof(*out));
    if (ca_pem != NULL && readable(ca_pem) < 0)
        return -ENOENT;
    SSL_CTX *ctx = ctx_new(TLS_client_method());
    if (ctx == NULL)
        return -ENOMEM;
    int ok = ca_pem != NULL ? SSL_CTX_load_verify_locations(ctx, ca_pem, NULL)
                            : SSL_CTX_set_default_verify_paths(ctx);
    if (ok != 1) {
        ERR_clear_error();
        SSL_CTX_free(ctx);
        return -EINVAL;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    out->ssl_ctx = ctx;
    out->server = false;
    return 0;
}

void teep_tls_ctx_free(teep_tls_ctx_t *ctx)
{
    SSL_CTX_free(ctx->ssl_ctx);
    ctx->ssl_ctx = NULL;
}

/* Bind the session to the host the client meant to reach: an address
 * literal must be in the certificate's IP SANs, a name in its DNS names,
 * and only a name goes into SNI (RFC 6066 section 3). */
static int set_peer_name(SSL *ssl, const char *host)
{
    struct sockaddr_storage ss;
    if (teep_http_addr_literal(host, 0, &ss) == 0)
        return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) == 1
                   ? 0
                   : -EINVAL;
    if (SSL_set_tlsext_host_name(ssl, host) != 1 ||
        SSL_set1_host(ssl, host) != 1)
        return -EINVAL;
    return 0;
}

int teep_tls__session_init(teep_tls__session_t *s, const teep_tls_ctx_t *ctx,
                           const char *host)
{
    memset(s, 0, sizeof(*s));
    if (ctx == NULL || ctx->ssl_ctx == NULL || ctx->server != (host == NULL))
        return -EINVAL;
    SSL *ssl = SSL_new(ctx->ssl_ctx);
    BIO *rbio = BIO_new(BIO_s_mem());
    BIO *wbio = BIO_new(BIO_s_mem());
    if (ssl == NULL || rbio == NULL || wbio == NULL) {
        SSL_free(ssl);
        BIO_free(rbio);
        BIO_free(wbio);
        return -ENOMEM;
    }
    /* An empty memory BIO means "wait for more", not end of file. */
    BIO_set_mem_eof_return(rbio, -1);
    BIO_set_mem_eof_return(wbio, -1);
    SSL_set_bio(ssl, rbio, wbio);
    if (host == NULL) {
        SSL_set_accept_state(ssl);
    } else {
        SSL_set_connect_state(ssl);
        if (set_peer_name(ssl, host) < 0) {
            SSL_free(ssl);
            return -EINVAL;
        }
    }
    s->ssl = ssl;
    s->rbio = rbio;
    s->wbio = wbio;
    return 0;
}

void teep_tls__session_free(teep_tls__session_t *s)
{
    SSL_free(s->ssl); /* frees both BIOs */
    memset(s, 0, sizeof(*s));
}

int teep_tls__feed(teep_tls__session_t *s, const uint8_t *data, size_t len)
{
    while (len > 0) {
        int chunk = len > INT_MAX ? INT_MAX : (int)len;
        int n = BIO_write(s->rbio, data, chunk);
        if (n <= 0)
            return -ENOMEM;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

int teep_tls__read(teep_tls__session_t *s, uint8_t *out, size_t cap, size_t *n)
{
    *n = 0;
    int want = cap > INT_MAX ? INT_MAX : (int)cap;
    int rc = SSL_read(s->ssl, out, want);
    if (rc > 0) {
        *n = (size_t)rc;
        return 0;
    }
    switch (SSL_get_error(s->ssl, rc)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE: /* memory BIOs never fill */ return 0;
    case SSL_ERROR_ZERO_RETURN: return UV_EOF;
    default: ERR_clear_error(); return TEEP_HTTP_E_TLS;
    }
}

bool teep_tls__handshake_done(const teep_tls__session_t *s)
{
    return SSL_is_init_finished(s->ssl) == 1;
}

int teep_tls__write(teep_tls__session_t *s, const uv_buf_t *bufs,
                    unsigned nbufs)
{
    for (unsigned i = 0; i < nbufs; i++) {
        const char *p = bufs[i].base;
        size_t left = bufs[i].len;
        while (left > 0) {
            int chunk = left > INT_MAX ? INT_MAX : (int)left;
            int rc = SSL_write(s->ssl, p, chunk);
            if (rc <= 0) {
                ERR_clear_error();
                return TEEP_HTTP_E_TLS;
            }
            p += rc;
            left -= (size_t)rc;
        }
    }
    return 0;
}

void teep_tls__shutdown(teep_tls__session_t *s)
{
    if (SSL_is_init_finished(s->ssl) == 1 && SSL_shutdown(s->ssl) < 0)
        ERR_clear_error();
}

size_t teep_tls__pending(const teep_tls__session_t *s)
{
    return BIO_ctrl_pending(s->wbio);
}

size_t teep_tls__take(teep_tls__session_t *s, uint8_t *out, size_t cap)
{
    int want = cap > INT_MAX ? INT_MAX : (int)cap;
    int n = BIO_read(s->wbio, out, want);
    return n > 0 ? (size_t)n : 0;
}
