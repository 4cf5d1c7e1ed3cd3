/* packages.c: what the TAM deploys: TA and UA images, and personalization
 * data that arrives encrypted to one attested TEE (it is never decrypted
 * here).  Packages are immutable once stored: a new version is a new row,
 * so a step that was planned with a package always sends the same bytes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const char SQL_NEXT_VERSION[] =
    "SELECT COALESCE(MAX(version), 0) + 1 FROM packages"
    " WHERE kind = ? AND name = ?";
static const char SQL_ADD[] =
    "INSERT INTO packages (kind, name, version, sha256, size, content,"
    " vendor_id, class_id, recipient_kid, content_alg, plaintext_sha256,"
    " plaintext_size, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
    " ?, ?)";
static const char SQL_LOAD[] =
    "SELECT kind, name, version, sha256, size, vendor_id, class_id,"
    " recipient_kid, content_alg, plaintext_sha256, plaintext_size,"
    " CASE WHEN ?2 THEN content END FROM packages WHERE id = ?1";

static const char *const kind_names[] = {"ta", "ua", "pd"};

const char *tam_package_kind_name(tam_package_kind_t kind)
{
    return (unsigned)kind < 3 ? kind_names[kind] : "?";
}

int tam_package_kind_parse(const char *name, tam_package_kind_t *kind)
{
    for (unsigned i = 0; i < 3; i++) {
        if (strcmp(name, kind_names[i]) == 0) {
            *kind = (tam_package_kind_t)i;
            return 0;
        }
    }
    return -EINVAL;
}

static bool is_hex32(const char *name)
{
    if (strlen(name) != 32)
        return false;
    for (size_t i = 0; i < 32; i++)
        if (!((name[i] >= '0' && name[i] <= '9') ||
              (name[i] >= 'a' && name[i] <= 'f') ||
              (name[i] >= 'A' && name[i] <= 'F')))
            return false;
    return true;
}

bool tam_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n >= TAM_NAME_MAX || name[0] == '.' ||
        strcmp(name, "ta") == 0 || strcmp(name, "ua") == 0 ||
        strncmp(name, "0x", 2) == 0 || is_hex32(name))
        return false; /* the last three would read as other segments */
    for (size_t i = 0; i < n; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') ||
              (name[i] >= 'A' && name[i] <= 'Z') ||
              (name[i] >= '0' && name[i] <= '9') || name[i] == '-' ||
              name[i] == '_' || name[i] == '.'))
            return false;
    return true;
}

static int next_version(tam_store_t *s, const tam_package_t *p,
                        uint64_t *version)
{
    sqlite3_stmt *st = tam_store_stmt(s, SQL_NEXT_VERSION);
    if (st == NULL)
        return -EIO;
    tam_bind_text(st, 1, tam_package_kind_name(p->kind));
    tam_bind_text(st, 2, p->name);
    int rc = tam_store_row(s, st);
    if (rc == 1)
        *version = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == 1 ? 0 : rc < 0 ? rc : -EIO;
}

int tam_package_add(tam_store_t *s, tam_package_t *p, const uint8_t *content,
                    size_t len, int64_t now)
{
    int rc = teep_sha256(content, len, p->sha256);
    p->size = len;
    if (rc == 0)
        rc = tam_store_begin(s);
    if (rc != 0)
        return rc;
    if (p->version == 0)
        rc = next_version(s, p, &p->version);
    sqlite3_stmt *st = rc == 0 ? tam_store_stmt(s, SQL_ADD) : NULL;
    if (st != NULL) {
        bool pd = p->kind == TAM_PKG_PD;
        tam_bind_text(st, 1, tam_package_kind_name(p->kind));
        tam_bind_text(st, 2, p->name);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)p->version);
        tam_bind_blob(st, 4, p->sha256, 32);
        sqlite3_bind_int64(st, 5, (sqlite3_int64)len);
        tam_bind_blob(st, 6, content != NULL ? content : (const uint8_t *)"",
                      len);
        tam_bind_blob(st, 7, p->has_vendor_id ? p->vendor_id : NULL, 16);
        tam_bind_blob(st, 8, p->has_class_id ? p->class_id : NULL, 16);
        tam_bind_blob(st, 9, pd ? p->recipient_kid : NULL,
                      p->recipient_kid_len);
        if (pd) {
            sqlite3_bind_int64(st, 10, p->content_alg);
            tam_bind_blob(st, 11, p->plaintext_sha256, 32);
            sqlite3_bind_int64(st, 12, (sqlite3_int64)p->plaintext_size);
        }
        sqlite3_bind_int64(st, 13, now);
        rc = tam_store_exec(s, st);
    } else if (rc == 0) {
        rc = -EIO;
    }
    if (rc == 0)
        p->id = sqlite3_last_insert_rowid(s->db);
    else
        tam_store_rollback(s);
    int end = tam_store_commit(s);
    return rc != 0 ? rc : end;
}

static bool fixed_blob(sqlite3_stmt *st, int col, uint8_t *out, size_t len)
{
    return tam_column_blob(st, col, out, len) == len;
}

int tam_package_load(tam_store_t *s, int64_t id, bool with_content,
                     tam_package_t *p)
{
    memset(p, 0, sizeof(*p));
    sqlite3_stmt *st = tam_store_stmt(s, SQL_LOAD);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int(st, 2, with_content);
    int rc = tam_store_row(s, st);
    if (rc != 1) {
        sqlite3_reset(st);
        return rc == 0 ? -ENOENT : rc;
    }
    char kind[8];
    p->id = id;
    tam_column_text(st, 0, kind, sizeof(kind));
    rc = tam_package_kind_parse(kind, &p->kind);
    tam_column_text(st, 1, p->name, sizeof(p->name));
    p->version = (uint64_t)sqlite3_column_int64(st, 2);
    fixed_blob(st, 3, p->sha256, 32);
    p->size = (uint64_t)sqlite3_column_int64(st, 4);
    p->has_vendor_id = fixed_blob(st, 5, p->vendor_id, 16);
    p->has_class_id = fixed_blob(st, 6, p->class_id, 16);
    p->recipient_kid_len =
        tam_column_blob(st, 7, p->recipient_kid, sizeof(p->recipient_kid));
    p->content_alg = sqlite3_column_int64(st, 8);
    fixed_blob(st, 9, p->plaintext_sha256, 32);
    p->plaintext_size = (uint64_t)sqlite3_column_int64(st, 10);
    if (rc == 0 && with_content) {
        const void *bytes = sqlite3_column_blob(st, 11);
        size_t n = (size_t)sqlite3_column_bytes(st, 11);
        p->content = malloc(n > 0 ? n : 1);
        if (p->content == NULL)
            rc = -ENOMEM;
        else if (n > 0)
            memcpy(p->content, bytes, n);
        p->size = n;
    }
    sqlite3_reset(st);
    if (rc != 0)
        tam_package_clear(p);
    return rc;
}

void tam_package_clear(tam_package_t *p)
{
    free(p->content);
    p->content = NULL;
}
