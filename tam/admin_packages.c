/* admin_packages.c: uploading TA and UA images (raw request bodies, the
 * metadata in the query), and the data owner's encrypted PD for one
 * device of a deployment. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "deploy.h"

#define PD_DEFAULT_NAME "pd"

static const char SQL_LIST[] =
    "SELECT id, kind, name, version, sha256, size, created_at FROM packages"
    " ORDER BY id";
static const char SQL_GET[] =
    "SELECT id, kind, name, version, sha256, size, vendor_id, class_id,"
    " recipient_kid, content_alg, plaintext_sha256, plaintext_size,"
    " created_at FROM packages WHERE id = ?";

/* An optional hex query parameter of exactly len bytes. */
static int query_hex(admin_ctx_t *c, const char *name, uint8_t *out, size_t len,
                     bool *present)
{
    char text[2 * 64 + 1];
    size_t got = 0;
    int rc = admin_query(c, name, text, sizeof(text));
    *present = rc == 0;
    if (rc == -ENOENT)
        return 0;
    if (rc != 0 || tam_unhex(text, out, len, &got) != 0 || got != len)
        return admin_error(c, 400, "%s: %zu bytes in hex", name, len), -EINVAL;
    return 0;
}

static int query_uint(admin_ctx_t *c, const char *name, uint64_t *out,
                      bool *present)
{
    char text[24], *end = NULL;
    int rc = admin_query(c, name, text, sizeof(text));
    *present = rc == 0;
    if (rc == -ENOENT)
        return 0;
    *out = rc == 0 ? strtoull(text, &end, 10) : 0;
    if (rc != 0 || end == text || *end != 0 || text[0] == '-')
        return admin_error(c, 400, "%s: a decimal number", name), -EINVAL;
    return 0;
}

static int answer_package(admin_ctx_t *c, int status, const tam_package_t *p)
{
    return admin_json(
        c, status,
        json_pack("{s:I, s:s, s:s, s:I, s:o, s:I}", "id", (json_int_t)p->id,
                  "kind", tam_package_kind_name(p->kind), "name", p->name,
                  "version", (json_int_t)p->version, "sha256",
                  admin_hex(p->sha256, 32), "size", (json_int_t)p->size));
}

int admin_package_add(admin_ctx_t *c)
{
    tam_package_t p;
    char kind[8];
    bool present;
    memset(&p, 0, sizeof(p));
    if (admin_query(c, "kind", kind, sizeof(kind)) != 0 ||
        tam_package_kind_parse(kind, &p.kind) != 0 || p.kind == TAM_PKG_PD)
        return admin_error(c, 400,
                           "kind=ta or kind=ua (encrypted PD goes to "
                           "PUT /deployments/{id}/devices/{device}/pd)");
    if (admin_query(c, "name", p.name, sizeof(p.name)) != 0 ||
        !tam_name_ok(p.name))
        return admin_error(c, 400, "name: 1..127 of [A-Za-z0-9._-]");
    if (c->req->body_len == 0)
        return admin_error(c, 400, "the body is the package image");
    if (c->req->body_len > c->tam->cfg.max_package)
        return admin_error(c, 413, "larger than %zu bytes",
                           c->tam->cfg.max_package);
    if (query_uint(c, "version", &p.version, &present) != 0 ||
        query_hex(c, "vendor-id", p.vendor_id, 16, &p.has_vendor_id) != 0 ||
        query_hex(c, "class-id", p.class_id, 16, &p.has_class_id) != 0)
        return 0;
    if (present && p.version == 0)
        return admin_error(c, 400, "version: 1 or more");
    int rc =
        tam_package_add(c->store, &p, c->req->body, c->req->body_len, c->now);
    if (rc != 0)
        return admin_store_error(c, rc,
                                 "package of that kind, name and "
                                 "version");
    tam_audit(c->store, c->now, 0, 0, "package", "%s %s v%llu, %zu bytes", kind,
              p.name, (unsigned long long)p.version, c->req->body_len);
    return answer_package(c, 201, &p);
}

int admin_package_list(admin_ctx_t *c)
{
    sqlite3_stmt *st = tam_store_stmt(c->store, SQL_LIST);
    json_t *rows = st != NULL ? admin_rows(c, st) : NULL;
    return rows != NULL ? admin_json(c, 200, rows)
                        : admin_store_error(c, -EIO, "packages");
}

int admin_package_get(admin_ctx_t *c)
{
    sqlite3_stmt *st = tam_store_stmt(c->store, SQL_GET);
    if (st == NULL)
        return admin_store_error(c, -EIO, "package");
    sqlite3_bind_int64(st, 1, c->ids[0]);
    json_t *rows = admin_rows(c, st);
    json_t *row = json_incref(json_array_get(rows, 0));
    json_decref(rows);
    return row != NULL ? admin_json(c, 200, row)
                       : admin_store_error(c, -ENOENT, "package");
}

int admin_pd_upload(admin_ctx_t *c)
{
    uint8_t digest[32];
    uint64_t size = 0;
    bool has_digest, has_size;
    char name[TAM_NAME_MAX] = PD_DEFAULT_NAME;
    if (query_hex(c, "plaintext-sha256", digest, 32, &has_digest) != 0 ||
        query_uint(c, "plaintext-size", &size, &has_size) != 0)
        return 0;
    /* The manifest lets the TEE check what it decrypted (digest 5.5); the
     * TAM cannot compute these itself, it never sees the plaintext. */
    if (!has_digest || !has_size)
        return admin_error(c, 400,
                           "plaintext-sha256 and plaintext-size are needed "
                           "(sha256sum and the size of the plaintext file)");
    int q = admin_query(c, "name", name, sizeof(name));
    if (q != 0 && q != -ENOENT)
        return admin_error(c, 400, "name: 1..127 of [A-Za-z0-9._-]");
    if (c->req->body_len == 0)
        return admin_error(c, 400, "the body is the PD blob");
    int64_t id = 0;
    char why[300] = "";
    int rc = tam_pd_accept(c->store, c->ids[0], c->ids[1], name, c->req->body,
                           c->req->body_len, digest, size, c->now, &id, why,
                           sizeof(why));
    switch (rc) {
    case 0:
        return admin_json(c, 201,
                          json_pack("{s:I, s:I, s:I}", "package",
                                    (json_int_t)id, "deployment",
                                    (json_int_t)c->ids[0], "device",
                                    (json_int_t)c->ids[1]));
    case -ENOENT: return admin_error(c, 404, "%s", why);
    case -EAGAIN:
    case -EALREADY: return admin_error(c, 409, "%s", why);
    case -EINVAL: return admin_error(c, 422, "%s", why);
    default: return admin_store_error(c, rc, "PD");
    }
}
