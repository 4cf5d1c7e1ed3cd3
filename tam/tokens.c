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
/* Used up in one statement, so two answers racing on two connections
 * cannot both win. */
static const char SQL_CONSUME[] =
    "UPDATE tokens SET used_at = ?3, device_id = ?2"
    " WHERE token = ?1 AND used_at IS NULL AND expires_at > ?3"
    " AND (device_id IS NULL OR device_id = ?2)"
    " RETURNING conversation, COALESCE(device_id, 0), msg_type, challenge,"
    " COALESCE(target_id, 0), COALESCE(step, -1), issued_at, expires_at";
static const char SQL_WHY[] =
    "SELECT used_at, expires_at, device_id FROM tokens WHERE token = ?";
static const char SQL_BIND_CONVERSATION[] =
    "UPDATE conversations SET device_id = ?2 WHERE id = ?1"
    " AND device_id IS NULL";
static const char SQL_FIND[] =
    "SELECT conversation, COALESCE(device_id, 0), msg_type, challenge,"
    " COALESCE(target_id, 0), COALESCE(step, -1), issued_at, expires_at"
    " FROM tokens WHERE token = ? AND used_at IS NULL AND expires_at > ?";
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

/* The columns SQL_CONSUME returns and SQL_FIND selects, in order. */
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

/* Why a token did not consume: for the log and the status line. */
static int why_not(tam_store_t *s, teep_slice_t token, int64_t device,
                   int64_t now)
{
    sqlite3_stmt *st = tam_store_stmt(s, SQL_WHY);
    if (st == NULL)
        return -EIO;
    tam_bind_blob(st, 1, token.ptr, token.len);
    int rc = tam_store_row(s, st);
    if (rc == 1) {
        if (sqlite3_column_type(st, 0) != SQLITE_NULL)
            rc = -EALREADY;
        else if (sqlite3_column_int64(st, 1) <= now)
            rc = -ETIMEDOUT;
        else if (sqlite3_column_int64(st, 2) != device)
            rc = -EPERM;
        else
            rc = -ENOENT;
    } else if (rc == 0) {
        rc = -ENOENT;
    }
    sqlite3_reset(st);
    return rc;
}

int tam_token_consume(tam_store_t *s, teep_slice_t token, int64_t device,
                      int64_t now, tam_token_t *out)
{
    memset(out, 0, sizeof(*out));
    if (token.len != TAM_TOKEN_LEN)
        return -ENOENT; /* not one of ours: we issue one size */
    sqlite3_stmt *st = tam_store_stmt(s, SQL_CONSUME);
    if (st == NULL)
        return -EIO;
    tam_bind_blob(st, 1, token.ptr, token.len);
    sqlite3_bind_int64(st, 2, device);
    sqlite3_bind_int64(st, 3, now);
    int rc = tam_store_row(s, st);
    if (rc == 1) {
        read_row(st, token, out);
        /* RETURNING: step to the end so that the update completes before
         * the statement is reset (the token is a primary key: one row). */
        int end = tam_store_row(s, st);
        rc = end < 0 ? end : 0;
    }
    sqlite3_reset(st);
    if (rc < 0)
        return rc;
    if (out->conversation == 0)
        return why_not(s, token, device, now);
    st = tam_store_stmt(s, SQL_BIND_CONVERSATION);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_int64(st, 1, out->conversation);
    sqlite3_bind_int64(st, 2, device);
    return tam_store_exec(s, st);
}

int tam_token_find(tam_store_t *s, teep_slice_t token, int64_t now,
                   tam_token_t *out)
{
    memset(out, 0, sizeof(*out));
    if (token.len != TAM_TOKEN_LEN)
        return -ENOENT;
    sqlite3_stmt *st = tam_store_stmt(s, SQL_FIND);
    if (st == NULL)
        return -EIO;
    tam_bind_blob(st, 1, token.ptr, token.len);
    sqlite3_bind_int64(st, 2, now);
    int rc = tam_store_row(s, st);
    if (rc == 1)
        read_row(st, token, out);
    sqlite3_reset(st);
    return rc == 1 ? 0 : rc == 0 ? -ENOENT : rc;
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
