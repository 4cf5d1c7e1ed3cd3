/* pdata.c: personalization data from the data owner (principle 2 of
 * USECASE.md).  The TAM never sees PD in plaintext: the owner reads the
 * PD key the device's Evidence vouched for (GET
 * /devices/{id}/attested-key), encrypts with `teep pd encrypt`, and
 * uploads the PD blob, which is accepted only when it is encrypted to
 * exactly that key. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "teep/pd.h"

#include "deploy.h"

static const char SQL_TARGET[] =
    "SELECT t.id, t.state, t.step, COALESCE(t.pd_package, 0), d.mode,"
    " a.status, a.pd_kid FROM targets t"
    " JOIN deployments d ON d.id = t.deployment_id"
    " LEFT JOIN attestations a ON a.id = t.attestation_id"
    " WHERE t.deployment_id = ? AND t.device_id = ?";
static const char SQL_LINK[] =
    "UPDATE targets SET pd_package = ?2, updated_at = ?3,"
    " state = CASE state WHEN 'waiting-pd' THEN 'running' ELSE state END"
    " WHERE id = ?1";

typedef struct pd_target {
    int64_t id;
    char state[16];
    int step;
    int64_t pd_package;
    const tam_mode_t *mode;
    bool affirmed;
    size_t pd_kid_len;
    uint8_t pd_kid[TAM_KID_MAX];
} pd_target_t;

static int load_target(tam_store_t *s, int64_t deployment, int64_t device,
                       pd_target_t *t)
{
    memset(t, 0, sizeof(*t));
    sqlite3_stmt *st = tam_store_stmt(s, SQL_TARGET);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_int64(st, 1, deployment);
    sqlite3_bind_int64(st, 2, device);
    int rc = tam_store_row(s, st);
    if (rc == 1) {
        char status[24];
        t->id = sqlite3_column_int64(st, 0);
        tam_column_text(st, 1, t->state, sizeof(t->state));
        t->step = sqlite3_column_int(st, 2);
        t->pd_package = sqlite3_column_int64(st, 3);
        t->mode = tam_mode_get(sqlite3_column_int(st, 4));
        tam_column_text(st, 5, status, sizeof(status));
        t->affirmed = strcmp(status, "affirming") == 0;
        t->pd_kid_len = tam_column_blob(st, 6, t->pd_kid, sizeof(t->pd_kid));
    }
    sqlite3_reset(st);
    return rc == 1 ? (t->mode != NULL ? 0 : -EIO) : rc == 0 ? -ENOENT : rc;
}

/* Whether the step that carries PD is still ahead (or current). */
static bool pd_step_ahead(const pd_target_t *t)
{
    if (strcmp(t->state, "done") == 0 || strcmp(t->state, "failed") == 0)
        return false;
    for (size_t i = (size_t)t->step; i < t->mode->n_steps; i++)
        if (tam_step_carries_pd(t->mode->steps[i]))
            return true;
    return false;
}

/* The blob is a SUIT_Encryption_Info plus ciphertext with a recipient
 * whose kid is the attested PD key's thumbprint.  Returns 0 with the
 * content algorithm, or -EINVAL with why. */
static int check_blob(const pd_target_t *t, const uint8_t *blob, size_t len,
                      int64_t *content_alg, char *why, size_t cap)
{
    teep_slice_t info, ciphertext;
    teep_pd_info_t parsed;
    teep_diag_t diag = {0};
    int rc = teep_pd_blob_parse(blob, len, &info, &ciphertext, &diag);
    if (rc == 0)
        rc = teep_pd_info_parse(info.ptr, info.len, &parsed, &diag);
    if (rc != 0)
        return snprintf(why, cap, "not a PD blob: %s at byte %zu", diag.reason,
                        diag.offset),
               -EINVAL;
    if (ciphertext.len == 0)
        return snprintf(why, cap, "the PD blob has no ciphertext"), -EINVAL;
    for (size_t i = 0; i < parsed.n_recipients; i++) {
        teep_slice_t kid = parsed.recipients[i].kid;
        if (kid.len == t->pd_kid_len &&
            memcmp(kid.ptr, t->pd_kid, kid.len) == 0) {
            *content_alg = parsed.content_alg;
            return 0;
        }
    }
    char hex[2 * TAM_KID_MAX + 1];
    tam_hex(t->pd_kid, t->pd_kid_len, hex);
    snprintf(why, cap,
             "the PD is not encrypted to the attested PD key (kid %s): "
             "encrypt it with `teep pd encrypt --to` the key from "
             "GET /devices/{id}/attested-key",
             hex);
    return -EINVAL;
}

static int refuse(int code, char *why, size_t cap, const char *text)
{
    snprintf(why, cap, "%s", text);
    return code;
}

int tam_pd_accept(tam_store_t *s, int64_t deployment, int64_t device,
                  const char *name, const uint8_t *blob, size_t len,
                  const uint8_t plaintext_sha256[32], uint64_t plaintext_size,
                  int64_t now, int64_t *package_id, char *why, size_t cap)
{
    pd_target_t t;
    int64_t content_alg = 0;
    if (!tam_name_ok(name))
        return refuse(-EINVAL, why, cap, "bad PD name");
    int rc = tam_store_begin(s);
    if (rc != 0)
        return rc;
    rc = load_target(s, deployment, device, &t);
    if (rc == -ENOENT)
        refuse(rc, why, cap, "the deployment has no such device");
    else if (rc == 0 && !pd_step_ahead(&t))
        rc = refuse(-EALREADY, why, cap,
                    "no step of this deployment is left to carry PD");
    else if (rc == 0 && (!t.affirmed || t.pd_kid_len == 0))
        rc = refuse(-EAGAIN, why, cap,
                    "the device has not passed attestation with a PD key in "
                    "this deployment yet");
    else if (rc == 0)
        rc = check_blob(&t, blob, len, &content_alg, why, cap);
    tam_package_t p = {.kind = TAM_PKG_PD,
                       .content_alg = content_alg,
                       .plaintext_size = plaintext_size};
    if (rc == 0) {
        snprintf(p.name, sizeof(p.name), "%s", name);
        memcpy(p.recipient_kid, t.pd_kid, t.pd_kid_len);
        p.recipient_kid_len = t.pd_kid_len;
        memcpy(p.plaintext_sha256, plaintext_sha256, 32);
        rc = tam_package_add(s, &p, blob, len, now);
    }
    sqlite3_stmt *st = rc == 0 ? tam_store_stmt(s, SQL_LINK) : NULL;
    if (rc == 0 && st == NULL)
        rc = -EIO;
    if (rc == 0) {
        sqlite3_bind_int64(st, 1, t.id);
        sqlite3_bind_int64(st, 2, p.id);
        sqlite3_bind_int64(st, 3, now);
        rc = tam_store_exec(s, st);
    }
    if (rc == 0) {
        *package_id = p.id;
        tam_audit(s, now, device, deployment, "pd",
                  "encrypted PD %s v%llu (%llu bytes) accepted", p.name,
                  (unsigned long long)p.version, (unsigned long long)len);
    } else {
        tam_store_rollback(s);
    }
    int end = tam_store_commit(s);
    return rc != 0 ? rc : end;
}
