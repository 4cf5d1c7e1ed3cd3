/* audit.c: the audit log: what the TAM did and refused, per device and
 * deployment, kept in the database next to the state it explains.
 *
 * A message's transaction writes several rows (attestation, steps,
 * refusals); they are queued on the connection and written at its commit
 * in one multi-row INSERT (store.h), which costs SQLite about what one
 * row does.  Outside a transaction a row is written at once. */
#include <stdarg.h>
#include <stdio.h>

#include "internal.h"

#define AUDIT_INSERT                                                           \
    "INSERT INTO audit (at, device_id, deployment_id, event, detail) VALUES "
#define R1 "(?, ?, ?, ?, ?)"
#define R2 R1 ", " R1
#define R4 R2 ", " R2

/* SQL_AUDIT[n - 1] inserts n rows; each string is its own cached
 * statement (the pointer is the cache key). */
static const char *const SQL_AUDIT[TAM_AUDIT_QUEUE] = {
    AUDIT_INSERT R1,
    AUDIT_INSERT R2,
    AUDIT_INSERT R2 ", " R1,
    AUDIT_INSERT R4,
    AUDIT_INSERT R4 ", " R1,
    AUDIT_INSERT R4 ", " R2,
    AUDIT_INSERT R4 ", " R2 ", " R1,
    AUDIT_INSERT R4 ", " R4,
};

static void bind_id(sqlite3_stmt *st, int i, int64_t id)
{
    if (id != 0)
        sqlite3_bind_int64(st, i, id);
    else
        sqlite3_bind_null(st, i);
}

void tam_audit_flush(tam_store_t *s)
{
    size_t n = s->n_audit;
    s->n_audit = 0;
    if (n == 0)
        return;
    sqlite3_stmt *st = tam_store_stmt(s, SQL_AUDIT[n - 1]);
    if (st == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        const tam_audit_row_t *r = &s->audit[i];
        int col = (int)(5 * i);
        sqlite3_bind_int64(st, col + 1, r->at);
        bind_id(st, col + 2, r->device);
        bind_id(st, col + 3, r->deployment);
        /* The rows live on the connection until the statement ran. */
        sqlite3_bind_text(st, col + 4, r->event, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, col + 5, r->detail, -1, SQLITE_STATIC);
    }
    tam_store_exec(s, st);
}

void tam_audit(tam_store_t *s, int64_t now, int64_t device, int64_t deployment,
               const char *event, const char *fmt, ...)
{
    /* A full queue is written early, still inside the transaction. */
    if (s->n_audit == TAM_AUDIT_QUEUE)
        tam_audit_flush(s);
    tam_audit_row_t *r = &s->audit[s->n_audit++];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
    va_end(ap);
    snprintf(r->event, sizeof(r->event), "%s", event);
    r->at = now;
    r->device = device;
    r->deployment = deployment;
    tam_log(TEEP_LOG_INFO, "device %lld deployment %lld %s: %s",
            (long long)device, (long long)deployment, event, r->detail);
    if (s->depth == 0)
        tam_audit_flush(s);
}
