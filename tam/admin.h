/*
 * admin.h: the admin API's handlers and what they share (private to
 * tam/).  admin.c routes a request to one handler with the numbers the
 * path carried; handlers answer JSON through the helpers below.
 */
#ifndef TEEP_TAM_ADMIN_H
#define TEEP_TAM_ADMIN_H

#include <jansson.h>

#include "internal.h"

typedef struct admin_ctx {
    teep_tam_t *tam;
    tam_store_t *store;
    const teep_tam_admin_request_t *req;
    int64_t ids[2]; /* the numbers in the path, in order */
    int64_t now;
    teep_tam_reply_t *reply;
} admin_ctx_t;

typedef int (*admin_handler_t)(admin_ctx_t *c);

/* Answer status with the JSON value j (takes the reference).  Returns 0,
 * or -ENOMEM when it cannot be serialised. */
int admin_json(admin_ctx_t *c, int status, json_t *j);
/* Answer status with {"error": message}; also logged.  Returns 0. */
int admin_error(admin_ctx_t *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The status for a store code: 404, 409, 503 or 500, with its text. */
int admin_store_error(admin_ctx_t *c, int rc, const char *what);

/* The request body as a JSON object, or NULL after answering 400. */
json_t *admin_body_json(admin_ctx_t *c);

/* The value of query parameter name, percent-decoded into out[0..cap):
 * 0, -ENOENT when absent, -EINVAL when it does not fit or is malformed. */
int admin_query(const admin_ctx_t *c, const char *name, char *out, size_t cap);

/* Bytes as lower-case hex JSON text. */
json_t *admin_hex(const uint8_t *p, size_t len);
/* A column of st as JSON: integer, text, hex for blobs, null. */
json_t *admin_column(sqlite3_stmt *st, int col);
/* Every row of st as an object keyed by the column names, blobs in hex;
 * NULL when the store fails. */
json_t *admin_rows(admin_ctx_t *c, sqlite3_stmt *st);

/* Handlers: admin_devices.c */
int admin_tam_info(admin_ctx_t *c);
int admin_device_add(admin_ctx_t *c);
int admin_device_list(admin_ctx_t *c);
int admin_device_get(admin_ctx_t *c);
int admin_device_attested_key(admin_ctx_t *c);

/* admin_packages.c */
int admin_package_add(admin_ctx_t *c);
int admin_package_list(admin_ctx_t *c);
int admin_package_get(admin_ctx_t *c);
int admin_pd_upload(admin_ctx_t *c);

/* admin_deployments.c */
int admin_deployment_add(admin_ctx_t *c);
int admin_deployment_list(admin_ctx_t *c);
int admin_deployment_get(admin_ctx_t *c);
int admin_attestation_get(admin_ctx_t *c);
int admin_audit_list(admin_ctx_t *c);

#endif
