/*
 * store.h: the TAM's state in SQLite (private to tam/).
 *
 * One tam_store_t is one SQLite connection with its cache of prepared
 * statements; it is used by one thread at a time (the core hands
 * connections out from a pool).  The database runs in WAL mode so that
 * readers never wait for the one writer, and every multi-statement change
 * runs inside tam_store_begin / tam_store_commit (BEGIN IMMEDIATE: the
 * write lock is taken up front, so two connections never deadlock on a
 * lock upgrade).
 *
 * Errors: 0 or a negative errno: -ENOENT (no such row), -EEXIST (a unique
 * constraint), -EBUSY (the database stayed locked past the busy timeout),
 * -EIO (anything else SQLite reports; the message goes to the log).
 */
#ifndef TEEP_TAM_STORE_H
#define TEEP_TAM_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pthread.h>
#include <sqlite3.h>

/* The schema version this build writes; older databases are migrated. */
#define TAM_SCHEMA_VERSION 1

/* Prepared statements cached per connection. */
#define TAM_STORE_MAX_STMTS 96

/* Audit rows a transaction queues (audit.c) and writes at its commit in
 * one multi-row INSERT: one statement per transaction instead of one per
 * row, and none when it rolls back. */
#define TAM_AUDIT_QUEUE 8

typedef struct tam_audit_row {
    int64_t at, device, deployment; /* 0: NULL */
    char event[24];
    char detail[400];
} tam_audit_row_t;

typedef struct tam_store {
    sqlite3 *db;
    size_t n_stmts;
    const char *sql[TAM_STORE_MAX_STMTS]; /* cache key: the SQL pointer */
    sqlite3_stmt *stmt[TAM_STORE_MAX_STMTS];
    int depth;   /* tam_store_begin nesting */
    bool failed; /* a nested part failed: the outer commit rolls back */
    /* Shared by the connections of one process: writers queue here and
     * are woken in turn, instead of polling SQLite's lock. */
    pthread_mutex_t *writer;
    size_t n_audit; /* rows queued by the open transaction */
    tam_audit_row_t audit[TAM_AUDIT_QUEUE];
} tam_store_t;

/*
 * Open (creating if needed) the database at path (":memory:" for a private
 * in-memory one), switch it to WAL, and create or migrate the schema to
 * TAM_SCHEMA_VERSION.  *s is caller-allocated; writer (may be NULL) is the
 * mutex the process's connections share for transactions.  Returns 0,
 * -EIO, or -EPROTO when the database is newer than this build.
 */
int tam_store_open(tam_store_t *s, const char *path, pthread_mutex_t *writer);

/* Finalize the cached statements and close the connection. */
void tam_store_close(tam_store_t *s);

/* The cached statement for sql (a string with static storage: the
 * pointer is the cache key), reset and with its bindings cleared, or NULL
 * when it does not prepare (logged). */
sqlite3_stmt *tam_store_stmt(tam_store_t *s, const char *sql);

/* Run st to its end (an INSERT / UPDATE / DELETE).  Returns 0 or a code
 * as above. */
int tam_store_exec(tam_store_t *s, sqlite3_stmt *st);

/* Step st expecting a row: 1 when there is one, 0 when done, or a
 * negative code. */
int tam_store_row(tam_store_t *s, sqlite3_stmt *st);

/* Map the SQLite result code rc to the convention above (logging it). */
int tam_store_error(tam_store_t *s, int rc);

/* Transactions.  Nested begin/commit pairs join the outer transaction;
 * rollback anywhere makes the outermost commit roll back and return
 * -EIO.  The outermost commit first writes the queued audit rows (inside
 * the transaction, so they stand or fall with the change they explain);
 * a rollback drops them. */
int tam_store_begin(tam_store_t *s);
int tam_store_commit(tam_store_t *s);
void tam_store_rollback(tam_store_t *s);

/* Write s's queued audit rows now (audit.c).  Never fails the caller: a
 * failed insert is logged and the rows are dropped. */
void tam_audit_flush(tam_store_t *s);

/* Bind helpers: a NULL pointer binds SQL NULL.  Bytes and text are
 * copied by SQLite (SQLITE_TRANSIENT) so the caller's buffers may go. */
void tam_bind_blob(sqlite3_stmt *st, int i, const void *p, size_t len);
void tam_bind_text(sqlite3_stmt *st, int i, const char *text);

/* Copy column i (text) into out[0..cap) NUL-terminated; "" for NULL. */
void tam_column_text(sqlite3_stmt *st, int i, char *out, size_t cap);
/* Copy column i (blob) into out[0..cap); returns its length, or 0 when
 * NULL or longer than cap. */
size_t tam_column_blob(sqlite3_stmt *st, int i, uint8_t *out, size_t cap);

#endif
