/*
 * coap_dtls.c: coaps listeners (libcoap-3-openssl's DTLS).
 *
 * A pre-shared key (psk_key, any identity; the identity then names the
 * device in logs and guards its check-in resource), a certificate and key
 * (dtls_cert, dtls_key), or both.  With dtls_ca, clients must present a
 * certificate signed by that CA.
 */
#include <errno.h>
#include <string.h>

#include "coap_transport.h"

static int setup_psk(teep_coap_t *in, coap_context_t *ctx)
{
    const teep_coap_config_t *c = &in->cfg;
    coap_dtls_spsk_t psk;
    memset(&psk, 0, sizeof(psk));
    psk.version = COAP_DTLS_SPSK_SETUP_VERSION;
    /* libcoap copies the hint and the key into its context. */
    if (c->psk_hint != NULL) {
        psk.psk_info.hint.s = (const uint8_t *)c->psk_hint;
        psk.psk_info.hint.length = strlen(c->psk_hint);
    }
    psk.psk_info.key.s = (const uint8_t *)c->psk_key;
    psk.psk_info.key.length = strlen(c->psk_key);
    return coap_context_set_psk2(ctx, &psk) == 1 ? 0 : -EINVAL;
}

static int setup_pki(teep_coap_t *in, coap_context_t *ctx)
{
    const teep_coap_config_t *c = &in->cfg;
    coap_dtls_pki_t pki;
    memset(&pki, 0, sizeof(pki));
    pki.version = COAP_DTLS_PKI_SETUP_VERSION;
    bool clients_too = c->ca != NULL;
    pki.verify_peer_cert = clients_too;
    pki.check_common_ca = clients_too;
    pki.cert_chain_validation = 1;
    pki.cert_chain_verify_depth = 3;
    pki.pki_key.key_type = COAP_PKI_KEY_PEM;
    pki.pki_key.key.pem.public_cert = c->cert;
    pki.pki_key.key.pem.private_key = c->key;
    pki.pki_key.key.pem.ca_file = c->ca;
    return coap_context_set_pki(ctx, &pki) == 1 ? 0 : -EINVAL;
}

int teep_coap_dtls_setup(teep_coap_t *in, coap_context_t *ctx)
{
    const teep_coap_config_t *c = &in->cfg;
    const teep_transport_host_t *h = in->host;
    bool pki = c->cert != NULL || c->key != NULL;
    if (!coap_dtls_is_supported()) {
        h->log(h->host_data, TEEP_LOG_ERROR, "%s: this libcoap has no DTLS",
               in->listen_uri);
        return -EINVAL;
    }
    if (c->psk_key == NULL && !pki) {
        h->log(h->host_data, TEEP_LOG_ERROR,
               "%s: coaps needs psk_key, or dtls_cert and dtls_key",
               in->listen_uri);
        return -EINVAL;
    }
    if ((pki || c->ca != NULL) && (c->cert == NULL || c->key == NULL)) {
        h->log(h->host_data, TEEP_LOG_ERROR,
               "%s: dtls_cert and dtls_key go together (and dtls_ca with "
               "them)",
               in->listen_uri);
        return -EINVAL;
    }
    if (c->psk_key != NULL && setup_psk(in, ctx) < 0) {
        h->log(h->host_data, TEEP_LOG_ERROR, "%s: libcoap refused the PSK",
               in->listen_uri);
        return -EINVAL;
    }
    if (pki && setup_pki(in, ctx) < 0) {
        h->log(h->host_data, TEEP_LOG_ERROR,
               "%s: certificate %s, key %s or CA %s unusable", in->listen_uri,
               c->cert, c->key, c->ca ? c->ca : "(none)");
        return -EINVAL;
    }
    return 0;
}
