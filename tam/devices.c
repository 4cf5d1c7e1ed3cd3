/* devices.c: registered TEEP Agents: their TEEP key (kid), attestation
 * key and numbering profile. */
#include <errno.h>
#include <string.h>

#include "internal.h"

#define COSE_KEY_MAX 160

static const char SQL_BY_KID[] =
    "SELECT id, name, teep_key, attestation_key, profile, detected_profile,"
    " alg FROM devices WHERE kid = ?";
static const char SQL_ADD[] =
    "INSERT INTO devices (name, kid, teep_key, attestation_key, profile,"
    " created_at) VALUES (?, ?, ?, ?, ?, ?)";
/* Only when something changed: a device's messages within one second
 * then leave its row (and, on disk, its page) alone. */
static const char SQL_SEEN[] =
    "UPDATE devices SET last_seen = ?2, alg = ?3,"
    " detected_profile = COALESCE(?4, detected_profile) WHERE id = ?1"
    " AND (last_seen IS NOT ?2 OR alg IS NOT ?3"
    " OR detected_profile IS NOT COALESCE(?4, detected_profile))";

static int profile_from_text(const char *text)
{
    teep_profile_t p;
    return teep_profile_parse(text, &p) == 0 ? (int)p : TAM_PROFILE_AUTO;
}

static int key_column(const teep_tam_t *tam, sqlite3_stmt *st, int col,
                      tam_key_ref_t *key)
{
    const void *p = sqlite3_column_blob(st, col);
    int n = sqlite3_column_bytes(st, col);
    return tam_keycache_get(tam, p, (size_t)n, key);
}

static int load(const teep_tam_t *tam, tam_store_t *s, sqlite3_stmt *st,
                tam_device_t *d)
{
    memset(d, 0, sizeof(*d));
    int rc = tam_store_row(s, st);
    if (rc <= 0) {
        sqlite3_reset(st);
        return rc == 0 ? -ENOENT : rc;
    }
    char text[16];
    d->id = sqlite3_column_int64(st, 0);
    tam_column_text(st, 1, d->name, sizeof(d->name));
    rc = key_column(tam, st, 2, &d->teep_key);
    if (rc == 0 && sqlite3_column_type(st, 3) != SQLITE_NULL) {
        rc = key_column(tam, st, 3, &d->attestation_key);
        d->has_attestation_key = rc == 0;
    }
    tam_column_text(st, 4, text, sizeof(text));
    d->profile = profile_from_text(text);
    tam_column_text(st, 5, text, sizeof(text));
    d->detected_profile = text[0] != 0 ? profile_from_text(text) : -1;
    d->alg = sqlite3_column_int64(st, 6);
    sqlite3_reset(st);
    if (rc != 0)
        tam_device_clear(d);
    return rc;
}

int tam_device_by_kid(const teep_tam_t *tam, tam_store_t *s, const uint8_t *kid,
                      size_t len, tam_device_t *out)
{
    sqlite3_stmt *st = tam_store_stmt(s, SQL_BY_KID);
    if (st == NULL)
        return -EIO;
    tam_bind_blob(st, 1, kid, len);
    return load(tam, s, st, out);
}

void tam_device_clear(tam_device_t *d)
{
    tam_key_release(&d->teep_key);
    tam_key_release(&d->attestation_key);
    d->has_attestation_key = false;
}

int tam_device_add(tam_store_t *s, const char *name, const teep_key_t *teep_key,
                   const teep_key_t *attestation_key, int profile, int64_t now,
                   int64_t *id)
{
    uint8_t teep_cose[COSE_KEY_MAX], att_cose[COSE_KEY_MAX];
    size_t teep_len, att_len = 0;
    int rc = teep_key_to_cose(teep_key, false, teep_cose, sizeof(teep_cose),
                              &teep_len);
    if (rc == 0 && attestation_key != NULL)
        rc = teep_key_to_cose(attestation_key, false, att_cose,
                              sizeof(att_cose), &att_len);
    if (rc != 0)
        return rc;
    sqlite3_stmt *st = tam_store_stmt(s, SQL_ADD);
    if (st == NULL)
        return -EIO;
    tam_bind_text(st, 1, name);
    tam_bind_blob(st, 2, teep_key->kid, sizeof(teep_key->kid));
    tam_bind_blob(st, 3, teep_cose, teep_len);
    tam_bind_blob(st, 4, attestation_key != NULL ? att_cose : NULL, att_len);
    tam_bind_text(st, 5,
                  profile == TAM_PROFILE_AUTO
                      ? "auto"
                      : teep_profile_name((teep_profile_t)profile));
    sqlite3_bind_int64(st, 6, now);
    rc = tam_store_exec(s, st);
    if (rc == 0)
        *id = sqlite3_last_insert_rowid(s->db);
    return rc;
}

int tam_device_seen(tam_store_t *s, int64_t id, int profile, int64_t alg,
                    int64_t now)
{
    sqlite3_stmt *st = tam_store_stmt(s, SQL_SEEN);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_int64(st, 3, alg);
    tam_bind_text(st, 4,
                  profile >= 0 ? teep_profile_name((teep_profile_t)profile)
                               : NULL);
    return tam_store_exec(s, st);
}

teep_profile_t tam_device_profile(const tam_device_t *d, teep_profile_t dflt)
{
    if (d->profile != TAM_PROFILE_AUTO)
        return (teep_profile_t)d->profile;
    if (d->detected_profile >= 0)
        return (teep_profile_t)d->detected_profile;
    return dflt;
}
