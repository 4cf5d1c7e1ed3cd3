/*
 * coap_path.c: the Uri-Path of a request against the listener's prefix
 * (coap_transport.h).
 */
#include <string.h>

#include "coap_transport.h"

bool teep_coap_name_ok(const char *p, size_t n)
{
    if (n == 0 || n > TEEP_COAP_NAME_MAX)
        return false;
    /* RFC 3986 unreserved characters: a name needs no percent-encoding
     * in a URI, a log line or a metric label. */
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
              c == '~'))
            return false;
    }
    return !(n == 1 && p[0] == '.') && !(n == 2 && memcmp(p, "..", 2) == 0);
}

int teep_coap_path_rest(const teep_coap_t *in, const coap_pdu_t *req,
                        char *rest, size_t cap, size_t *len)
{
    coap_string_t *path = coap_get_uri_path(req);
    int rc = -1;
    *len = 0;
    if (path == NULL)
        return -1;
    size_t pl = in->cfg.prefix_len;
    if (path->length > pl + 1 && path->length - pl - 1 < cap &&
        memcmp(path->s, in->cfg.prefix, pl) == 0 && path->s[pl] == '/') {
        *len = path->length - pl - 1;
        memcpy(rest, path->s + pl + 1, *len);
        rc = 0;
    }
    coap_delete_string(path);
    return rc;
}
