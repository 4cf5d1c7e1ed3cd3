/*
 * tam.h: libteeptam, the reference TAM's core (docs/tam.md).
 *
 * The core has no sockets: it turns the body of one TEEP-over-HTTP POST
 * into the answer (digest 3.3: ProcessConnect for an empty body,
 * ProcessTeepMessage otherwise) and one admin API request into its JSON
 * answer.  Every piece of state lives in SQLite, so any worker thread, any
 * connection, or a restarted process continues where another left off.
 *
 * Threads: teep_tam_process_* and teep_tam_admin may run on several
 * threads at once; a call takes a SQLite connection from the pool
 * (cfg.connections of them) only while it reads or writes the database
 * and gives it back around its crypto.  The keys are loaded once and
 * only read afterwards.
 */
#ifndef TEEP_TAM_H
#define TEEP_TAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "teep/common.h"
#include "teep/cose.h"
#include "teep/eat.h"
#include "teep/message.h"

#define TEEP_TAM_MEDIA_TYPE "application/teep+cbor"
#define TEEP_TAM_PATH       "/tam"

/* Defaults (docs/tam.md says why). */
#define TEEP_TAM_DEFAULT_TOKEN_TTL  (4 * 3600) /* digest 1.9: hours */
#define TEEP_TAM_DEFAULT_MAX_AGE    300        /* evidence freshness */
#define TEEP_TAM_DEFAULT_CLOCK_SKEW 30
#define TEEP_TAM_DEFAULT_MAX_MESSAGE                                           \
    (1u << 20) /* a TEEP body from an Agent                                    \
                */
#define TEEP_TAM_DEFAULT_MAX_PACKAGE (64u << 20)
#define TEEP_TAM_DEFAULT_CONNECTIONS 1 /* docs/tam.md: why one */

/* Seconds since the epoch. */
typedef int64_t (*teep_tam_clock_fn)(void *ctx);

/*
 * Configuration.  Pointers are borrowed and must outlive the teep_tam_t.
 * Zero numeric fields take the defaults above.
 */
typedef struct teep_tam_config {
    /* Keys and the default database live here, made on first start
     * (keys.c).  NULL: keys are generated in memory for this process only
     * (tests, the benchmark, the fuzzer). */
    const char *data_dir;
    /* NULL: <data_dir>/tam.db.  ":memory:" (with connections = 1): a
     * private in-memory database. */
    const char *db_path;
    /* Numbering for the first QueryRequest of a session, before the
     * Agent is known (digest 0.1). */
    teep_profile_t profile;
    uint32_t token_ttl;        /* seconds a request waits for its answer */
    uint32_t evidence_max_age; /* seconds evidence stays fresh */
    uint32_t clock_skew;
    unsigned connections; /* SQLite connections (calls in SQLite at once) */
    size_t max_package;   /* largest package upload */
    /* Reference values Evidence must match (empty: anything). */
    const teep_slice_t *hwmodels;
    size_t n_hwmodels;
    const teep_eat_sw_ref_t *sw;
    size_t n_sw;
    /* The admin API's bearer token (NUL-terminated); NULL with a data_dir:
     * read or made in <data_dir>/admin.token. */
    const char *admin_token;
    teep_tam_clock_fn clock; /* NULL: time() */
    void *clock_ctx;
} teep_tam_config_t;

/* The TAM's keys: TEEP message signing in both mandatory suites, and the
 * Trusted Component signer that signs the SUIT manifests it builds. */
typedef struct teep_tam_keys {
    teep_key_t esp256;
    teep_key_t ed25519;
    teep_key_t tc_signer;
} teep_tam_keys_t;

struct tam_pool;
struct tam_keycache;
struct tam_manifest_cache;

/* The TAM core.  Caller-allocated; the fields are the library's. */
typedef struct teep_tam {
    teep_tam_config_t cfg;
    teep_tam_keys_t keys;
    char admin_token[65];
    struct tam_pool *pool;
    struct tam_keycache *keycache;
    struct tam_manifest_cache *manifests;
    void *data; /* for the user */
} teep_tam_t;

/*
 * The answer to one request: an HTTP status, a body, and for a refusal
 * (status >= 400) the reason that goes to the log.  body is malloc'd and
 * owned by the caller after the call (teep_tam_reply_clear frees it);
 * content_type names it ("application/teep+cbor", "application/json").
 */
typedef struct teep_tam_reply {
    int status;
    uint8_t *body;
    size_t len;
    const char *content_type;
    char reason[200];
} teep_tam_reply_t;

void teep_tam_reply_clear(teep_tam_reply_t *reply);

/*
 * Open the core: load or create the keys (cfg->data_dir), open the
 * database pool and migrate the schema.  *created (may be NULL) is set
 * when the keys were made by this call (first start).  Returns 0,
 * -EINVAL (bad configuration), -errno from the data directory, -EIO or
 * -EPROTO from the database (logged).
 */
int teep_tam_open(teep_tam_t *tam, const teep_tam_config_t *cfg, bool *created);

/* Close the database pool and wipe the keys.  No call may be running. */
void teep_tam_close(teep_tam_t *tam);

/* The configured clock's time. */
int64_t teep_tam_now(const teep_tam_t *tam);

/*
 * ProcessConnect (digest 3.3, 4.2): an empty POST opens a session.  The
 * reply is 200 with a QueryRequest (COSE_Sign with ESP256 and Ed25519: the
 * Agent is not known yet) carrying a fresh token and challenge and the
 * attestation bit, or 500 when it cannot be made.  Returns 0, or a
 * negative code when reply could not even be filled (-ENOMEM).
 */
int teep_tam_process_connect(teep_tam_t *tam, teep_tam_reply_t *reply);

/*
 * ProcessTeepMessage: msg[0..len) is the body of a POST (borrowed for the
 * call).  The message is verified against the registered Agent whose kid
 * signed it, its token must be one this TAM issued, unused and unexpired
 * (then it is used up), and the deployment steps advance.  reply: 200
 * with the next QueryRequest or Update, 204 when the TAM has nothing more,
 * 400 for a message that is refused (malformed, unknown signer, bad
 * signature, unknown / replayed / expired token; reason says which), 500
 * when the TAM failed.  Returns as teep_tam_process_connect.
 */
int teep_tam_process_message(teep_tam_t *tam, const uint8_t *msg, size_t len,
                             teep_tam_reply_t *reply);

/* Drop tokens that expired more than a TTL ago (the periodic clean-up).
 * Returns the number dropped or a negative code. */
int teep_tam_purge(teep_tam_t *tam);

/* One admin API request (admin.c). */
typedef struct teep_tam_admin_request {
    const char *method;        /* "GET", "POST", "PUT" */
    const char *path;          /* "/devices/3", without the query */
    const char *query;         /* after '?', or NULL */
    const char *authorization; /* the header's value, or NULL */
    const uint8_t *body;
    size_t body_len;
} teep_tam_admin_request_t;

/*
 * Serve an admin API request (docs/tam.md lists the endpoints): 401
 * without the bearer token, 404 for an unknown path, 405 for a wrong
 * method, 400 / 409 / 413 / 422 with {"error": "..."} for a refused
 * request, 200 / 201 with JSON otherwise.  Returns as
 * teep_tam_process_connect.
 */
int teep_tam_admin(teep_tam_t *tam, const teep_tam_admin_request_t *req,
                   teep_tam_reply_t *reply);

#endif
