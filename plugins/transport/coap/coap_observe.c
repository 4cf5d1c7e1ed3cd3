/*
 * coap_observe.c: TAM-initiated check-ins over CoAP Observe (RFC 7641).
 *
 * A device observes GET <prefix>/device/NAME.  The representation is a
 * CBOR unsigned integer: how many check-ins the broker asked of NAME
 * since the resource was created (0 at registration).  ops->push(NAME)
 * increments it and notifies the observers; a device that sees it change
 * starts a TEEP exchange (an empty POST to <prefix>[/ROUTE]).
 *
 * libcoap observes only resources that exist, and the unknown resource
 * cannot be observed; so the first GET of a name lands in the unknown
 * resource's GET handler, which creates <prefix>/device/NAME and has
 * libcoap dispatch the same request again through its async API (delay
 * of one tick): the copy reaches the new resource, where libcoap
 * registers the observer as for any GET with Observe.
 *
 * Under DTLS with a PSK, NAME must be the client's PSK identity: a device
 * observes only its own check-ins.  Resources are bounded (max_devices);
 * one whose observers are all gone is deleted at the next push.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "coap_transport.h"

#define DEVICE_DIR     "device/"
#define DEVICE_DIR_LEN (sizeof(DEVICE_DIR) - 1)

struct teep_coap_device {
    teep_coap_device_t *next;
    coap_resource_t *resource;
    uint32_t checkins;
    size_t name_len;
    char name[TEEP_COAP_NAME_MAX];
};

static teep_coap_device_t *find(teep_coap_t *in, const char *name, size_t len)
{
    for (teep_coap_device_t *d = in->devices; d != NULL; d = d->next)
        if (d->name_len == len && memcmp(d->name, name, len) == 0)
            return d;
    return NULL;
}

static bool identity_allows(coap_session_t *s, const char *name, size_t len)
{
    /* libcoap gives an empty identity, not NULL, outside DTLS-PSK. */
    const coap_bin_const_t *id = coap_session_get_psk_identity(s);
    return id == NULL || id->length == 0 ||
           (id->length == len && memcmp(id->s, name, len) == 0);
}

static size_t cbor_uint(uint32_t v, uint8_t out[5])
{
    if (v < 24) {
        out[0] = (uint8_t)v;
        return 1;
    }
    if (v <= 0xff) {
        out[0] = 0x18;
        out[1] = (uint8_t)v;
        return 2;
    }
    if (v <= 0xffff) {
        out[0] = 0x19;
        out[1] = (uint8_t)(v >> 8);
        out[2] = (uint8_t)v;
        return 3;
    }
    out[0] = 0x1a;
    for (int i = 0; i < 4; i++)
        out[1 + i] = (uint8_t)(v >> (24 - 8 * i));
    return 5;
}

/* GET <prefix>/device/NAME: registration, plain reads and every
 * notification (libcoap calls it once per observer). */
static void get_device(coap_resource_t *r, coap_session_t *s,
                       const coap_pdu_t *req, const coap_string_t *q,
                       coap_pdu_t *resp)
{
    teep_coap_t *in = teep_coap_of(s);
    teep_coap_device_t *d = coap_resource_get_userdata(r);
    if (!identity_allows(s, d->name, d->name_len)) {
        teep_coap_reply_refuse(in, resp, COAP_RESPONSE_CODE(403), -1,
                               "a device observes its own check-ins only");
        return;
    }
    uint8_t value[5];
    size_t len = cbor_uint(d->checkins, value);
    coap_pdu_set_code(resp, COAP_RESPONSE_CODE(205));
    /* Small enough for one PDU: libcoap copies it now. */
    coap_add_data_large_response(r, s, req, resp, q, TEEP_COAP_FORMAT_CBOR, -1,
                                 0, len, value, NULL, NULL);
}

static teep_coap_device_t *create(teep_coap_t *in, const char *name, size_t len)
{
    if (in->n_devices >= in->cfg.max_devices)
        return NULL;
    char path[sizeof(in->cfg.prefix) + 1 + DEVICE_DIR_LEN + TEEP_COAP_NAME_MAX];
    size_t pl = in->cfg.prefix_len;
    memcpy(path, in->cfg.prefix, pl);
    path[pl] = '/';
    memcpy(path + pl + 1, DEVICE_DIR, DEVICE_DIR_LEN);
    memcpy(path + pl + 1 + DEVICE_DIR_LEN, name, len);
    teep_coap_device_t *d = calloc(1, sizeof(*d));
    coap_str_const_t *uri =
        d ? coap_new_str_const((const uint8_t *)path,
                               pl + 1 + DEVICE_DIR_LEN + len)
          : NULL;
    /* RELEASE_URI: the resource owns uri.  NOTIFY_CON: a check-in request
     * must arrive, and a confirmable notification finds dead observers. */
    coap_resource_t *r =
        uri ? coap_resource_init(uri, COAP_RESOURCE_FLAGS_RELEASE_URI |
                                          COAP_RESOURCE_FLAGS_NOTIFY_CON)
            : NULL;
    if (r == NULL) {
        if (uri != NULL)
            coap_delete_str_const(uri);
        free(d);
        return NULL;
    }
    memcpy(d->name, name, len);
    d->name_len = len;
    d->resource = r;
    coap_register_handler(r, COAP_REQUEST_GET, get_device);
    coap_resource_set_get_observable(r, 1);
    coap_resource_set_userdata(r, d);
    coap_add_resource(in->ctx, r);
    d->next = in->devices;
    in->devices = d;
    in->n_devices++;
    in->host->gauge(in->host->host_data, "coap_devices", in->n_devices);
    return d;
}

static void remove_device(teep_coap_t *in, teep_coap_device_t *d)
{
    teep_coap_device_t **p = &in->devices;
    while (*p != d)
        p = &(*p)->next;
    *p = d->next;
    coap_delete_resource(in->ctx, d->resource);
    free(d);
    in->n_devices--;
    in->host->gauge(in->host->host_data, "coap_devices", in->n_devices);
}

/* GET of a path without a resource: <prefix>/device/NAME creates NAME's
 * resource and re-dispatches; anything else is 4.04. */
static void get_unknown(coap_resource_t *r, coap_session_t *s,
                        const coap_pdu_t *req, const coap_string_t *q,
                        coap_pdu_t *resp)
{
    (void)r;
    (void)q;
    teep_coap_t *in = teep_coap_of(s);
    char rest[DEVICE_DIR_LEN + TEEP_COAP_NAME_MAX];
    size_t len;
    if (teep_coap_path_rest(in, req, rest, sizeof(rest), &len) < 0 ||
        len <= DEVICE_DIR_LEN ||
        memcmp(rest, DEVICE_DIR, DEVICE_DIR_LEN) != 0 ||
        !teep_coap_name_ok(rest + DEVICE_DIR_LEN, len - DEVICE_DIR_LEN)) {
        teep_coap_reply_refuse(in, resp, COAP_RESPONSE_CODE(404), -1,
                               "no such resource");
        return;
    }
    const char *name = rest + DEVICE_DIR_LEN;
    len -= DEVICE_DIR_LEN;
    if (coap_find_async(s, coap_pdu_get_token(req)) != NULL) {
        /* The re-dispatched copy, and still no resource: it was removed
         * meanwhile.  Do not loop. */
        teep_coap_reply_refuse(in, resp, COAP_RESPONSE_CODE(503),
                               (int)in->cfg.retry_after_s,
                               "check-in resource went away");
        return;
    }
    if (!identity_allows(s, name, len)) {
        teep_coap_reply_refuse(in, resp, COAP_RESPONSE_CODE(403), -1,
                               "a device observes its own check-ins only");
        return;
    }
    if (find(in, name, len) == NULL && create(in, name, len) == NULL) {
        teep_coap_reply_refuse(in, resp, COAP_RESPONSE_CODE(503),
                               (int)in->cfg.retry_after_s,
                               "too many check-in resources");
        return;
    }
    if (coap_register_async(s, req, 1) == NULL) {
        teep_coap_reply_refuse(in, resp, COAP_RESPONSE_CODE(500), -1,
                               "cannot register the observer");
        return;
    }
    /* No code: an empty ACK now, the Observe response from the new
     * resource as a separate response.  The async is due at once, and
     * coap_io.c re-reads libcoap's timers only when kicked. */
    teep_coap_io_kick(in);
}

void teep_coap_observe_init(teep_coap_t *in, coap_resource_t *unknown)
{
    (void)in;
    coap_register_handler(unknown, COAP_REQUEST_GET, get_unknown);
}

int teep_coap_observe_push(teep_coap_t *in, const char *device,
                           size_t device_len)
{
    teep_coap_device_t *d =
        in->ctx != NULL ? find(in, device, device_len) : NULL;
    if (d == NULL)
        return -ENOENT;
    d->checkins++;
    if (!coap_resource_notify_observers(d->resource, NULL)) {
        remove_device(in, d);
        return -ENOENT;
    }
    teep_coap_count(in, "coap_notifications", 1);
    teep_coap_io_kick(in);
    return 0;
}

void teep_coap_observe_free(teep_coap_t *in)
{
    while (in->devices != NULL) {
        teep_coap_device_t *d = in->devices;
        in->devices = d->next;
        free(d);
    }
    in->n_devices = 0;
}
