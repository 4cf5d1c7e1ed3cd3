/* tokens.c: the TAM side of TEEP sessions (digest 1.9, 3.5).  HTTP has
 * no session: every request the TAM sends carries a fresh token from the
 * CSPRNG, stored here with what it was for, and the answer is matched by
 * token and signer, on whatever connection it arrives.  A token answers
 * once and expires. */
#include <errno.h>
#include <string.h>

#include "internal.h"

static const char SQL_CONVERSATION[] =
    "INSERT INTO conversations (started_at) VALUES (?)";
static const char SQL_ISSUE[] =
    "INSERT INTO tokens (token, conversation, device_id, msg_type, challenge,"
    " target_id, step, issued_at, expires_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
/* A token is looked up by its key and used up by its rowid, guarded by
 * used_at IS NULL, so two answers racing on two connections cannot both
 * win even outside a transaction.  (One UPDATE ... RETURNING did both,
 * but SQLite runs RETURNING through a temporary table, which cost more
 * than the lookup and the update together.) */
static const char SQL_LOOKUP[] =
    "SELECT conversation, COALESCE(device_id, 0), msg_type, challenge,"
    " COALESCE(target_id, 0), COALESCE(step, -1), issued_at, expires_at,"
    " used_at IS NOT NULL, rowid FROM tokens WHERE token = ?";
static const char SQL_USE[] = "UPDATE tokens SET used_at = ?2, device_id = ?3"
                              " WHERE rowid = ?1 AND used_at IS NULL";
/* The same, for a row read before the transaction: every condition the
 * lookup checks is checked again here, in the transaction, by the one
 * statement that uses the token up (the token itself too, should its
 * row have been purged and the rowid given to another). */
static const char SQL_USE_FOUND[] =
    "UPDATE tokens SET used_at = ?2, device_id = ?3"
    " WHERE rowid = ?1 AND token = ?4 AND used_at IS NULL"
    " AND expires_at > ?2 AND (device_id IS NULL OR device_id = ?3)";
static const char SQL_BIND_CONVERSATION[] =
    "UPDATE conversations SET device_id = ?2 WHERE id = ?1"
    " AND device_id IS NULL";
static const char SQL_PURGE[] = "DELETE FROM tokens WHERE expires_at < ?";

int tam_conversation_new(tam_store_t *s, int64_t now, int64_t *id)
{
    sqlite3_stmt *st = tam_store_stmt(s, SQL_CONVERSATION);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_int64(st, 1, now);
    int rc = tam_store_exec(s, st);
    if (rc == 0)
        *id = sqlite3_last_insert_rowid(s->db);
    return rc;
}

static void bind_optional(sqlite3_stmt *st, int i, int64_t v, bool present)
{
    if (present)
        sqlite3_bind_int64(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

int tam_token_issue(tam_store_t *s, tam_token_t *t, bool with_challenge,
                    int64_t now, uint32_t ttl)
{
    int rc = teep_random(t->token, sizeof(t->token));
    t->has_challenge = with_challenge;
    if (rc == 0 && with_challenge)
        rc = teep_random(t->challenge, sizeof(t->challenge));
    if (rc != 0)
        return rc;
    t->issued_at = now;
    t->expires_at = now + ttl;
    sqlite3_stmt *st = tam_store_stmt(s, SQL_ISSUE);
    if (st == NULL)
        return -EIO;
    tam_bind_blob(st, 1, t->token, sizeof(t->token));
    sqlite3_bind_int64(st, 2, t->conversation);
    bind_optional(st, 3, t->device_id, t->device_id != 0);
    sqlite3_bind_int(st, 4, t->msg_type);
    tam_bind_blob(st, 5, with_challenge ? t->challenge : NULL,
                  sizeof(t->challenge));
    bind_optional(st, 6, t->target_id, t->target_id != 0);
    bind_optional(st, 7, t->step, t->step >= 0);
    sqlite3_bind_int64(st, 8, t->issued_at);
    sqlite3_bind_int64(st, 9, t->expires_at);
    return tam_store_exec(s, st);
}

/* The columns SQL_LOOKUP selects first, in order. */
static void read_row(sqlite3_stmt *st, teep_slice_t token, tam_token_t *out)
{
    memcpy(out->token, token.ptr, TAM_TOKEN_LEN);
    out->conversation = sqlite3_column_int64(st, 0);
    out->device_id = sqlite3_column_int64(st, 1);
    out->msg_type = sqlite3_column_int(st, 2);
    out->has_challenge =
        tam_column_blob(st, 3, out->challenge, sizeof(out->challenge)) ==
        sizeof(out->challenge);
    out->target_id = sqlite3_column_int64(st, 4);
    out->step = sqlite3_column_int(st, 5);
    out->issued_at = sqlite3_column_int64(st, 6);
    out->expires_at = sqlite3_column_int64(st, 7);
}

/* Look token up for device (0: any): 0 with *out and *rowid when it is
 * outstanding and may be answered by device, else why not, in this
 * order: -ENOENT, -EALREADY (used), -ETIMEDOUT, -EPERM (another
 * device's); or a store code. */
static int lookup(tam_store_t *s, teep_slice_t token, int64_t device,
                  int64_t now, tam_token_t *out, int64_t *rowid)
{
    memset(out, 0, sizeof(*out));
    if (token.len != TAM_TOKEN_LEN)
        return -ENOENT; /* not one of ours: we issue one size */
    sqlite3_stmt *st = tam_store_stmt(s, SQL_LOOKUP);
    if (st == NULL)
        return -EIO;
    tam_bind_blob(st, 1, token.ptr, token.len);
    int rc = tam_store_row(s, st);
    if (rc == 1) {
        read_row(st, token, out);
        *rowid = out->row = sqlite3_column_int64(st, 9);
        if (sqlite3_column_int(st, 8) != 0)
            rc = -EALREADY;
        else if (out->expires_at <= now)
            rc = -ETIMEDOUT;
        else if (device != 0 && out->device_id != 0 && out->device_id != device)
            rc = -EPERM;
        else
            rc = 0;
    } else if (rc == 0) {
        rc = -ENOENT;
    }
    sqlite3_reset(st);
    if (rc != 0)
        memset(out, 0, sizeof(*out));
    return rc;
}

/* A token issued to no device opened its conversation (an empty POST):
 * its first answer binds both.  Later tokens were issued to the device,
 * in a conversation bound already. */
static int bind_device(tam_store_t *s, int64_t device, tam_token_t *out)
{
    bool bind = out->device_id == 0;
    out->device_id = device;
    if (!bind)
        return 0;
    sqlite3_stmt *st = tam_store_stmt(s, SQL_BIND_CONVERSATION);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_int64(st, 1, out->conversation);
    sqlite3_bind_int64(st, 2, device);
    return tam_store_exec(s, st);
}

int tam_token_consume(tam_store_t *s, teep_slice_t token, int64_t device,
                      int64_t now, tam_token_t *out)
{
    int64_t rowid = 0;
    int rc = lookup(s, token, device, now, out, &rowid);
    sqlite3_stmt *st = rc == 0 ? tam_store_stmt(s, SQL_USE) : NULL;
    if (rc == 0 && st == NULL)
        rc = -EIO;
    if (rc == 0) {
        sqlite3_bind_int64(st, 1, rowid);
        sqlite3_bind_int64(st, 2, now);
        sqlite3_bind_int64(st, 3, device);
        rc = tam_store_exec(s, st);
        /* Another connection used it between the two statements. */
        if (rc == 0 && sqlite3_changes(s->db) != 1)
            rc = -EALREADY;
    }
    if (rc != 0) {
        memset(out, 0, sizeof(*out));
        return rc;
    }
    return bind_device(s, device, out);
}

int tam_token_use(tam_store_t *s, const tam_token_t *found, int64_t device,
                  int64_t now, tam_token_t *out)
{
    sqlite3_stmt *st = tam_store_stmt(s, SQL_USE_FOUND);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_int64(st, 1, found->row);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_int64(st, 3, device);
    tam_bind_blob(st, 4, found->token, sizeof(found->token));
    int rc = tam_store_exec(s, st);
    if (rc != 0) {
        memset(out, 0, sizeof(*out));
        return rc;
    }
    teep_slice_t token = {found->token, sizeof(found->token)};
    if (sqlite3_changes(s->db) != 1)
        return tam_token_consume(s, token, device, now, out);
    /* The row's other columns never change once issued. */
    *out = *found;
    return bind_device(s, device, out);
}

int tam_token_find(tam_store_t *s, teep_slice_t token, int64_t now,
                   tam_token_t *out)
{
    int64_t rowid;
    int rc = lookup(s, token, 0, now, out, &rowid);
    return rc == -EALREADY || rc == -ETIMEDOUT ? -ENOENT : rc;
}

int tam_token_purge(tam_store_t *s, int64_t before)
{
    sqlite3_stmt *st = tam_store_stmt(s, SQL_PURGE);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_int64(st, 1, before);
    int rc = tam_store_exec(s, st);
    return rc == 0 ? sqlite3_changes(s->db) : rc;
}
