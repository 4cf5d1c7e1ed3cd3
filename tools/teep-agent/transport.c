/*
 * transport.c: teep-agent's transports by URI (device.h).  The TAM URI
 * the Agent returns is the broker's; its scheme picks TEEP over HTTP
 * (http, https), over WebSocket (ws, wss) or over CoAP (coap).  One transport
 * per URI, opened on first use and kept until the agent stops: a WebSocket
 * connection stays up between sessions to hear pushes.
 */
#include <string.h>

#include "device.h"

static const dev_transport_ops_t *const all[] = {
    &dev_transport_http,
    &dev_transport_ws,
    &dev_transport_coap,
};

static const dev_transport_ops_t *for_scheme(const char *uri)
{
    size_t n = strcspn(uri, ":");
    if (uri[n] != ':')
        return NULL;
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        for (const char *const *s = all[i]->schemes; *s != NULL; s++)
            if (strlen(*s) == n && strncmp(uri, *s, n) == 0)
                return all[i];
    return NULL;
}

dev_transport_t *dev_transport_get(device_t *dev, const char *uri)
{
    if (dev->stopping)
        return NULL;
    for (dev_transport_t *t = dev->transports; t != NULL; t = t->next)
        if (strcmp(t->uri, uri) == 0)
            return t;
    const dev_transport_ops_t *ops = for_scheme(uri);
    if (ops == NULL) {
        dev_log(dev, TEEP_LOG_ERROR, "%s: no transport for this scheme", uri);
        return NULL;
    }
    if (strlen(uri) >= TEEP_TEE_URI_MAX)
        return NULL;
    dev_transport_t *t;
    if (ops->open(dev, uri, &t) != 0)
        return NULL;
    t->ops = ops;
    t->dev = dev;
    strcpy(t->uri, uri);
    t->next = dev->transports;
    dev->transports = t;
    dev_log(dev, TEEP_LOG_INFO, "%s: TEEP over %s", uri, ops->name);
    return t;
}

static void one_closed(void *arg)
{
    device_t *dev = arg;
    if (--dev->transports_closing == 0)
        dev->transports_closed(dev);
}

void dev_transports_close(device_t *dev, void (*done)(device_t *dev))
{
    dev->transports_closed = done;
    /* Counted from one, so that done cannot run before every close has
     * been asked for. */
    dev->transports_closing = 1;
    while (dev->transports != NULL) {
        dev_transport_t *t = dev->transports;
        dev->transports = t->next;
        dev->transports_closing++;
        t->ops->close(t, one_closed, dev);
    }
    one_closed(dev);
}
