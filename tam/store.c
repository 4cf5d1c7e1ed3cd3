/* store.c: the SQLite connection, the schema and its migrations, the
 * statement cache and transactions. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "store.h"

/*
 * Migrations: migration[v] takes a database from schema version v to v+1.
 * A new version appends one entry and never edits an old one, so every
 * database, whatever version it was written with, reaches the same schema.
 */
static const char *const migration[TAM_SCHEMA_VERSION] = {
    /* 0 -> 1: the first schema. */
    "CREATE TABLE devices ("
    " id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE,"
    " kid BLOB NOT NULL UNIQUE," /* RFC 9679 thumbprint of teep_key */
    " teep_key BLOB NOT NULL,"   /* public COSE_Key */
    " attestation_key BLOB,"     /* public COSE_Key; NULL: none */
    " profile TEXT NOT NULL DEFAULT 'auto'"
    "  CHECK (profile IN ('auto', 'rfc', 'legacy')),"
    " detected_profile TEXT," /* from its first message (auto) */
    " alg INTEGER,"           /* the suite it signs with */
    " created_at INTEGER NOT NULL,"
    " last_seen INTEGER);"
    "CREATE TABLE packages ("
    " id INTEGER PRIMARY KEY,"
    " kind TEXT NOT NULL CHECK (kind IN ('ta', 'ua', 'pd')),"
    " name TEXT NOT NULL,"
    " version INTEGER NOT NULL," /* SUIT manifest sequence number */
    " sha256 BLOB NOT NULL,"
    " size INTEGER NOT NULL,"
    " content BLOB NOT NULL," /* pd: the encrypted PD blob */
    " vendor_id BLOB,"
    " class_id BLOB,"
    " recipient_kid BLOB,"    /* pd: kid it is encrypted to */
    " content_alg INTEGER,"   /* pd: content encryption */
    " plaintext_sha256 BLOB," /* pd: what the TEE checks */
    " plaintext_size INTEGER,"
    " created_at INTEGER NOT NULL,"
    " UNIQUE (kind, name, version));"
    "CREATE TABLE deployments ("
    " id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " instance_type TEXT NOT NULL"
    "  CHECK (instance_type IN ('process', 'container', 'vm')),"
    " mode INTEGER NOT NULL CHECK (mode BETWEEN 1 AND 6),"
    " ta_package INTEGER NOT NULL REFERENCES packages(id),"
    " ua_package INTEGER REFERENCES packages(id),"
    " created_at INTEGER NOT NULL);"
    "CREATE TABLE conversations ("
    " id INTEGER PRIMARY KEY,"
    " device_id INTEGER REFERENCES devices(id),"
    " started_at INTEGER NOT NULL);"
    "CREATE TABLE attestations ("
    " id INTEGER PRIMARY KEY,"
    " device_id INTEGER NOT NULL REFERENCES devices(id),"
    " conversation INTEGER NOT NULL REFERENCES conversations(id),"
    " status TEXT NOT NULL,"
    " findings TEXT NOT NULL," /* JSON array */
    " claims TEXT NOT NULL,"   /* JSON object, {} if unverified */
    " pd_key BLOB,"            /* COSE_Key the evidence vouches for */
    " pd_kid BLOB,"
    " evidence BLOB NOT NULL,"
    " created_at INTEGER NOT NULL);"
    "CREATE INDEX attestations_device ON attestations(device_id, id);"
    "CREATE TABLE targets ("
    " id INTEGER PRIMARY KEY,"
    " deployment_id INTEGER NOT NULL REFERENCES deployments(id),"
    " device_id INTEGER NOT NULL REFERENCES devices(id),"
    " state TEXT NOT NULL,"
    " step INTEGER NOT NULL DEFAULT 0,"
    " pd_package INTEGER REFERENCES packages(id),"
    " attestation_id INTEGER REFERENCES attestations(id),"
    " reason TEXT,"
    " updated_at INTEGER NOT NULL,"
    " UNIQUE (deployment_id, device_id));"
    "CREATE INDEX targets_device ON targets(device_id, state);"
    "CREATE TABLE steps ("
    " target_id INTEGER NOT NULL REFERENCES targets(id),"
    " idx INTEGER NOT NULL,"
    " kind TEXT NOT NULL,"
    " status TEXT NOT NULL DEFAULT 'pending',"
    " token BLOB,"
    " detail TEXT,"
    " started_at INTEGER,"
    " finished_at INTEGER,"
    " PRIMARY KEY (target_id, idx));"
    "CREATE TABLE tokens ("
    " token BLOB PRIMARY KEY,"
    " conversation INTEGER NOT NULL REFERENCES conversations(id),"
    " device_id INTEGER REFERENCES devices(id),"
    " msg_type INTEGER NOT NULL,"
    " challenge BLOB,"
    " target_id INTEGER,"
    " step INTEGER,"
    " issued_at INTEGER NOT NULL,"
    " expires_at INTEGER NOT NULL,"
    " used_at INTEGER);"
    "CREATE INDEX tokens_expiry ON tokens(expires_at);"
    "CREATE TABLE audit ("
    " id INTEGER PRIMARY KEY,"
    " at INTEGER NOT NULL,"
    " device_id INTEGER,"
    " deployment_id INTEGER,"
    " event TEXT NOT NULL,"
    " detail TEXT NOT NULL);",
};

int tam_store_error(tam_store_t *s, int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW: return 0;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return -EBUSY;
    case SQLITE_CONSTRAINT:
        if (rc == SQLITE_CONSTRAINT_UNIQUE ||
            rc == SQLITE_CONSTRAINT_PRIMARYKEY)
            return -EEXIST;
        break;
    default: break;
    }
    tam_log(TEEP_LOG_ERROR, "sqlite: %s (%d)",
            s->db != NULL ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc), rc);
    return -EIO;
}

static int exec_sql(tam_store_t *s, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        tam_log(TEEP_LOG_ERROR, "sqlite: %s", msg != NULL ? msg : "?");
        sqlite3_free(msg);
        return rc == SQLITE_BUSY ? -EBUSY : -EIO;
    }
    return 0;
}

static int schema_version(tam_store_t *s, int *version)
{
    int rc = exec_sql(s, "CREATE TABLE IF NOT EXISTS schema_version"
                         " (version INTEGER NOT NULL)");
    if (rc != 0)
        return rc;
    sqlite3_stmt *st = tam_store_stmt(s, "SELECT version FROM schema_version");
    if (st == NULL)
        return -EIO;
    rc = tam_store_row(s, st);
    *version = rc == 1 ? sqlite3_column_int(st, 0) : 0;
    sqlite3_reset(st);
    return rc < 0 ? rc : 0;
}

/* Bring the schema to TAM_SCHEMA_VERSION in one transaction: a crash in
 * the middle leaves the old version intact. */
static int migrate(tam_store_t *s)
{
    int rc = tam_store_begin(s);
    int version = 0;
    if (rc == 0)
        rc = schema_version(s, &version);
    if (rc == 0 && version > TAM_SCHEMA_VERSION) {
        tam_log(TEEP_LOG_ERROR,
                "database schema %d is newer than this build's %d", version,
                TAM_SCHEMA_VERSION);
        rc = -EPROTO;
    }
    for (int v = version; rc == 0 && v < TAM_SCHEMA_VERSION; v++)
        rc = exec_sql(s, migration[v]);
    if (rc == 0 && version != TAM_SCHEMA_VERSION) {
        sqlite3_stmt *st = tam_store_stmt(
            s, version == 0 ? "INSERT INTO schema_version VALUES (?)"
                            : "UPDATE schema_version SET version = ?");
        if (st == NULL)
            rc = -EIO;
        else {
            sqlite3_bind_int(st, 1, TAM_SCHEMA_VERSION);
            rc = tam_store_exec(s, st);
        }
        if (rc == 0)
            tam_log(TEEP_LOG_INFO, "database schema %d -> %d", version,
                    TAM_SCHEMA_VERSION);
    }
    if (rc != 0) {
        tam_store_rollback(s);
        tam_store_commit(s);
        return rc;
    }
    return tam_store_commit(s);
}

/* Other processes on the same file (or a stray autocommit write) still
 * meet SQLite's lock: poll it every 50 us at first rather than the
 * default's milliseconds, for about 10 s in all. */
static int on_busy(void *ctx, int count)
{
    if (count >= 10100)
        return 0;
    usleep(count < 100 ? 50 : 1000);
    return 1;
}

int tam_store_open(tam_store_t *s, const char *path, pthread_mutex_t *writer)
{
    memset(s, 0, sizeof(*s));
    s->writer = writer;
    int rc = sqlite3_open_v2(path, &s->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                 SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI,
                             NULL);
    if (rc != SQLITE_OK) {
        tam_log(TEEP_LOG_ERROR, "sqlite: cannot open %s: %s", path,
                s->db != NULL ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
        tam_store_close(s);
        return -EIO;
    }
    /* Several connections share one file: wait for the writer rather than
     * fail, and let readers run beside it (WAL). */
    sqlite3_busy_handler(s->db, on_busy, NULL);
    /* Extended codes tell a unique constraint (-EEXIST) from the rest. */
    sqlite3_extended_result_codes(s->db, 1);
    int err = exec_sql(s, "PRAGMA journal_mode = WAL;"
                          "PRAGMA synchronous = NORMAL;"
                          "PRAGMA foreign_keys = ON;");
    if (err == 0)
        err = migrate(s);
    if (err != 0)
        tam_store_close(s);
    return err;
}

void tam_store_close(tam_store_t *s)
{
    for (size_t i = 0; i < s->n_stmts; i++)
        sqlite3_finalize(s->stmt[i]);
    s->n_stmts = 0;
    if (s->db != NULL)
        sqlite3_close(s->db);
    s->db = NULL;
}

sqlite3_stmt *tam_store_stmt(tam_store_t *s, const char *sql)
{
    for (size_t i = 0; i < s->n_stmts; i++) {
        if (s->sql[i] == sql) {
            sqlite3_reset(s->stmt[i]);
            sqlite3_clear_bindings(s->stmt[i]);
            return s->stmt[i];
        }
    }
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
                                NULL);
    if (rc != SQLITE_OK) {
        tam_store_error(s, rc);
        return NULL;
    }
    if (s->n_stmts == TAM_STORE_MAX_STMTS) {
        /* The set of statements is fixed at build time; a full cache is a
         * bug that must show, not a leak. */
        tam_log(TEEP_LOG_ERROR, "sqlite: statement cache full");
        sqlite3_finalize(st);
        return NULL;
    }
    s->sql[s->n_stmts] = sql;
    s->stmt[s->n_stmts++] = st;
    return st;
}

int tam_store_exec(tam_store_t *s, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    int err =
        rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : tam_store_error(s, rc);
    sqlite3_reset(st);
    return err;
}

int tam_store_row(tam_store_t *s, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    return tam_store_error(s, rc);
}

/* Transaction control runs several times per exchange: a cached
 * statement spares SQLite parsing the text each time (sqlite3_exec). */
static const char SQL_BEGIN[] = "BEGIN IMMEDIATE";
static const char SQL_COMMIT[] = "COMMIT";
static const char SQL_ROLLBACK[] = "ROLLBACK";

static int control(tam_store_t *s, const char *sql)
{
    sqlite3_stmt *st = tam_store_stmt(s, sql);
    return st != NULL ? tam_store_exec(s, st) : -EIO;
}

int tam_store_begin(tam_store_t *s)
{
    if (s->depth++ > 0)
        return 0;
    s->failed = false;
    s->n_audit = 0;
    if (s->writer != NULL)
        pthread_mutex_lock(s->writer);
    int rc = control(s, SQL_BEGIN);
    if (rc != 0) {
        s->depth = 0;
        if (s->writer != NULL)
            pthread_mutex_unlock(s->writer);
    }
    return rc;
}

int tam_store_commit(tam_store_t *s)
{
    if (s->depth == 0)
        return -EINVAL;
    if (--s->depth > 0)
        return 0;
    int rc = -EIO;
    if (!s->failed)
        tam_audit_flush(s);
    s->n_audit = 0;
    if (s->failed)
        control(s, SQL_ROLLBACK);
    else if ((rc = control(s, SQL_COMMIT)) != 0)
        control(s, SQL_ROLLBACK);
    s->failed = false;
    if (s->writer != NULL)
        pthread_mutex_unlock(s->writer);
    return rc;
}

void tam_store_rollback(tam_store_t *s)
{
    s->failed = true;
}

void tam_bind_blob(sqlite3_stmt *st, int i, const void *p, size_t len)
{
    if (p == NULL)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_blob64(st, i, p, len, SQLITE_TRANSIENT);
}

void tam_bind_text(sqlite3_stmt *st, int i, const char *text)
{
    if (text == NULL)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_text(st, i, text, -1, SQLITE_TRANSIENT);
}

void tam_column_text(sqlite3_stmt *st, int i, char *out, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    snprintf(out, cap, "%s", t != NULL ? (const char *)t : "");
}

size_t tam_column_blob(sqlite3_stmt *st, int i, uint8_t *out, size_t cap)
{
    const void *p = sqlite3_column_blob(st, i);
    size_t len = (size_t)sqlite3_column_bytes(st, i);
    if (p == NULL || len > cap)
        return 0;
    memcpy(out, p, len);
    return len;
}
