/*
 * ws_binding.c: the control vocabulary of TEEP over WebSocket
 * (ws_binding.h), shared by the broker's transport and the device agent.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ws_binding.h"

static size_t put_reason(char *out, size_t cap, const char *reason, size_t len)
{
    size_t n = len < cap ? len : cap;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)reason[i];
        /* One line of printable text: a TAM's reason must not be able to
         * forge a second control line or a terminal escape. */
        out[i] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
    }
    return n;
}

int teep_ws_control_format(const teep_ws_control_t *c, char *out, size_t cap)
{
    if (cap < 32)
        return -ENOSPC;
    if (cap > TEEP_WS_CONTROL_MAX + 1)
        cap = TEEP_WS_CONTROL_MAX + 1;
    int n;
    switch (c->kind) {
    case TEEP_WS_NO_CONTENT:
        n = snprintf(out, cap, TEEP_WS_WORD_NO_CONTENT);
        break;
    case TEEP_WS_CHECK_IN: n = snprintf(out, cap, TEEP_WS_WORD_CHECK_IN); break;
    case TEEP_WS_ERROR:
        if (c->status < 400 || c->status > 599)
            return -EINVAL;
        n = c->retry_after > 0
                ? snprintf(out, cap,
                           TEEP_WS_WORD_ERROR " %d " TEEP_WS_ARG_RETRY_AFTER
                                              "%u",
                           c->status, c->retry_after)
                : snprintf(out, cap, TEEP_WS_WORD_ERROR " %d", c->status);
        if (n < 0 || (size_t)n >= cap)
            return -ENOSPC;
        if (c->reason_len > 0 && (size_t)n + 2 < cap) {
            out[n++] = ' ';
            n += (int)put_reason(out + n, cap - 1 - (size_t)n, c->reason,
                                 c->reason_len);
            out[n] = '\0';
        }
        break;
    default: return -EINVAL;
    }
    return n;
}

/* The word at *p (up to a space or the end) equals w. */
static int take_word(const char **p, const char *end, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(end - *p) < n || memcmp(*p, w, n) != 0 ||
        (*p + n < end && (*p)[n] != ' '))
        return -EINVAL;
    *p += n;
    return 0;
}

/* A decimal number of at most digits digits at *p. */
static int take_number(const char **p, const char *end, int digits,
                       uint32_t *out)
{
    uint32_t v = 0;
    int i = 0;
    while (*p < end && **p >= '0' && **p <= '9' && i < digits) {
        v = v * 10 + (uint32_t)(**p - '0');
        (*p)++;
        i++;
    }
    if (i == 0 || (*p < end && **p != ' '))
        return -EINVAL;
    *out = v;
    return 0;
}

static int parse_error(const char *p, const char *end, teep_ws_control_t *out)
{
    uint32_t status;
    if (p == end || *p++ != ' ' || take_number(&p, end, 3, &status) != 0 ||
        status < 400 || status > 599)
        return -EINVAL;
    out->status = (int)status;
    if (p < end)
        p++; /* the space take_number stopped at */
    size_t arg = sizeof(TEEP_WS_ARG_RETRY_AFTER) - 1;
    if ((size_t)(end - p) >= arg &&
        memcmp(p, TEEP_WS_ARG_RETRY_AFTER, arg) == 0) {
        p += arg;
        if (take_number(&p, end, 9, &out->retry_after) != 0)
            return -EINVAL;
        if (p < end)
            p++;
    }
    out->reason = p;
    out->reason_len = (size_t)(end - p);
    return 0;
}

int teep_ws_control_parse(const uint8_t *bytes, size_t n,
                          teep_ws_control_t *out)
{
    memset(out, 0, sizeof(*out));
    out->reason = "";
    if (n == 0 || n > TEEP_WS_CONTROL_MAX)
        return -EINVAL;
    const char *p = (const char *)bytes, *end = p + n;
    if (take_word(&p, end, TEEP_WS_WORD_NO_CONTENT) == 0 && p == end) {
        out->kind = TEEP_WS_NO_CONTENT;
        return 0;
    }
    if (take_word(&p, end, TEEP_WS_WORD_CHECK_IN) == 0 && p == end) {
        out->kind = TEEP_WS_CHECK_IN;
        return 0;
    }
    if (take_word(&p, end, TEEP_WS_WORD_ERROR) == 0) {
        out->kind = TEEP_WS_ERROR;
        return parse_error(p, end, out);
    }
    return -EINVAL;
}

int teep_ws_control_for_reply(const teep_exchange_reply_t *reply, char *out,
                              size_t cap)
{
    teep_ws_control_t c = {.kind = TEEP_WS_NO_CONTENT};
    if (reply->outcome == TEEP_EXCHANGE_MESSAGE)
        return -EINVAL;
    if (reply->outcome == TEEP_EXCHANGE_FAILED) {
        c.kind = TEEP_WS_ERROR;
        c.status = teep_exchange_http_status(reply);
        if (c.status == 503)
            c.retry_after = reply->retry_after_s;
        c.reason = reply->reason != NULL ? reply->reason : "failed";
        c.reason_len = strlen(c.reason);
    }
    return teep_ws_control_format(&c, out, cap);
}

bool teep_ws_device_name_ok(const char *name, size_t len)
{
    if (len == 0 || len > TEEP_WS_DEVICE_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char ch = name[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == ':' ||
              ch == '@' || ch == '-'))
            return false;
    }
    return true;
}
