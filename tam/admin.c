/* admin.c: the admin API for the network user and the data owner (HTTP +
 * JSON, bearer token): routing, authorisation and the JSON helpers the
 * handlers share.  docs/tam.md lists the endpoints. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"

#define MAX_ID_DIGITS 18

typedef struct route {
    const char *method;
    const char *pattern; /* '#' is a decimal id */
    admin_handler_t handler;
} route_t;

static const route_t routes[] = {
    {"GET", "/tam", admin_tam_info},
    {"POST", "/devices", admin_device_add},
    {"GET", "/devices", admin_device_list},
    {"GET", "/devices/#", admin_device_get},
    {"GET", "/devices/#/attested-key", admin_device_attested_key},
    {"POST", "/packages", admin_package_add},
    {"GET", "/packages", admin_package_list},
    {"GET", "/packages/#", admin_package_get},
    {"POST", "/deployments", admin_deployment_add},
    {"GET", "/deployments", admin_deployment_list},
    {"GET", "/deployments/#", admin_deployment_get},
    {"PUT", "/deployments/#/devices/#/pd", admin_pd_upload},
    {"GET", "/attestations/#", admin_attestation_get},
    {"GET", "/audit", admin_audit_list},
};

/* Match path against pattern, collecting the ids.  A trailing '/' is
 * not accepted: one resource, one spelling. */
static bool match(const char *pattern, const char *path, int64_t ids[2])
{
    size_t n_ids = 0;
    while (*pattern != 0) {
        if (*pattern == '#') {
            size_t digits = strspn(path, "0123456789");
            if (digits == 0 || digits > MAX_ID_DIGITS || n_ids == 2)
                return false;
            ids[n_ids++] = strtoll(path, NULL, 10);
            path += digits;
            pattern++;
        } else if (*pattern++ != *path++) {
            return false;
        }
    }
    return *path == 0;
}

/* Constant time: the token is a secret. */
static bool authorised(const teep_tam_t *tam, const char *header)
{
    static const char scheme[] = "Bearer ";
    size_t want = strlen(tam->admin_token);
    if (want == 0 || header == NULL ||
        strncmp(header, scheme, sizeof(scheme) - 1) != 0)
        return false;
    const char *given = header + sizeof(scheme) - 1;
    if (strlen(given) != want)
        return false;
    unsigned diff = 0;
    for (size_t i = 0; i < want; i++)
        diff |= (unsigned)(given[i] ^ tam->admin_token[i]);
    return diff == 0;
}

int teep_tam_admin(teep_tam_t *tam, const teep_tam_admin_request_t *req,
                   teep_tam_reply_t *reply)
{
    memset(reply, 0, sizeof(*reply));
    admin_ctx_t c = {.tam = tam, .req = req, .reply = reply};
    c.now = teep_tam_now(tam);
    if (!authorised(tam, req->authorization))
        return admin_error(&c, 401, "a valid bearer token is required");
    const route_t *route = NULL;
    bool path_known = false;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        if (!match(routes[i].pattern, req->path, c.ids))
            continue;
        path_known = true;
        if (strcmp(routes[i].method, req->method) == 0) {
            route = &routes[i];
            break;
        }
    }
    if (route == NULL)
        return path_known ? admin_error(&c, 405, "method not allowed")
                          : admin_error(&c, 404, "no such resource");
    c.store = tam_pool_get(tam);
    int rc = route->handler(&c);
    tam_pool_put(tam, c.store);
    if (rc != 0 && reply->status == 0)
        admin_error(&c, 500, "%s", teep_strerror(rc));
    return 0;
}

int admin_json(admin_ctx_t *c, int status, json_t *j)
{
    char *text =
        j != NULL ? json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
    json_decref(j);
    if (text == NULL)
        return -ENOMEM;
    size_t len = strlen(text);
    /* A final newline, so that curl output ends its line. */
    char *body = realloc(text, len + 2);
    if (body == NULL) {
        free(text);
        return -ENOMEM;
    }
    body[len] = '\n';
    body[len + 1] = 0;
    tam_reply_set(c->reply, status, "application/json", (uint8_t *)body,
                  len + 1);
    return 0;
}

int admin_error(admin_ctx_t *c, int status, const char *fmt, ...)
{
    char text[sizeof(c->reply->reason)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    tam_log(status >= 500 ? TEEP_LOG_ERROR : TEEP_LOG_INFO,
            "admin %s %s: %d %s", c->req->method, c->req->path, status, text);
    if (admin_json(c, status, json_pack("{s:s}", "error", text)) != 0)
        tam_reply_set(c->reply, status, NULL, NULL, 0);
    snprintf(c->reply->reason, sizeof(c->reply->reason), "%s", text);
    return 0;
}

int admin_store_error(admin_ctx_t *c, int rc, const char *what)
{
    switch (rc) {
    case -ENOENT: return admin_error(c, 404, "no such %s", what);
    case -EEXIST: return admin_error(c, 409, "%s exists already", what);
    case -EBUSY: return admin_error(c, 503, "database busy, try again");
    default: return admin_error(c, 500, "%s: %s", what, teep_strerror(rc));
    }
}

json_t *admin_body_json(admin_ctx_t *c)
{
    json_error_t err;
    json_t *j =
        json_loadb((const char *)c->req->body, c->req->body_len, 0, &err);
    if (j == NULL || !json_is_object(j)) {
        json_decref(j);
        admin_error(c, 400, "the body must be a JSON object%s%s",
                    j == NULL ? ": " : "", j == NULL ? err.text : "");
        return NULL;
    }
    return j;
}

static int hex_value(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch = (char)(ch | 0x20);
    return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* Percent-decode in[0..len) into out[0..cap) with a NUL. */
static int decode_value(const char *in, size_t len, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = in[i];
        if (ch == '+') {
            ch = ' ';
        } else if (ch == '%') {
            if (i + 2 >= len)
                return -EINVAL;
            int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
            if (hi < 0 || lo < 0)
                return -EINVAL;
            ch = (char)(hi << 4 | lo);
            i += 2;
        }
        if (ch == 0 || n + 1 >= cap)
            return -EINVAL;
        out[n++] = ch;
    }
    out[n] = 0;
    return 0;
}

int admin_query(const admin_ctx_t *c, const char *name, char *out, size_t cap)
{
    const char *q = c->req->query;
    size_t name_len = strlen(name);
    while (q != NULL && *q != 0) {
        size_t len = strcspn(q, "&");
        if (len > name_len && strncmp(q, name, name_len) == 0 &&
            q[name_len] == '=')
            return decode_value(q + name_len + 1, len - name_len - 1, out, cap);
        q += len;
        if (*q == '&')
            q++;
    }
    return -ENOENT;
}

json_t *admin_hex(const uint8_t *p, size_t len)
{
    char *hex = malloc(2 * len + 1);
    if (hex == NULL)
        return NULL;
    tam_hex(p, len, hex);
    json_t *j = json_string(hex);
    free(hex);
    return j;
}

json_t *admin_column(sqlite3_stmt *st, int col)
{
    switch (sqlite3_column_type(st, col)) {
    case SQLITE_INTEGER: return json_integer(sqlite3_column_int64(st, col));
    case SQLITE_TEXT:
        return json_stringn((const char *)sqlite3_column_text(st, col),
                            (size_t)sqlite3_column_bytes(st, col));
    case SQLITE_BLOB:
        return admin_hex(sqlite3_column_blob(st, col),
                         (size_t)sqlite3_column_bytes(st, col));
    default: return json_null();
    }
}

json_t *admin_rows(admin_ctx_t *c, sqlite3_stmt *st)
{
    json_t *rows = json_array();
    int rc;
    while (rows != NULL && (rc = tam_store_row(c->store, st)) == 1) {
        json_t *row = json_object();
        for (int i = 0; row != NULL && i < sqlite3_column_count(st); i++)
            json_object_set_new(row, sqlite3_column_name(st, i),
                                admin_column(st, i));
        json_array_append_new(rows, row);
    }
    sqlite3_reset(st);
    if (rows != NULL && rc < 0) {
        json_decref(rows);
        return NULL;
    }
    return rows;
}
