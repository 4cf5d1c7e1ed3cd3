/*
 * internal.h: what the files of libteeptam share (private to tam/).
 * One section per file; each function's contract sits with it here.
 */
#ifndef TEEP_TAM_INTERNAL_H
#define TEEP_TAM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "store.h"
#include "tam.h"

#define TAM_TOKEN_LEN     16 /* digest 1.9: 8..64, from the CSPRNG */
#define TAM_CHALLENGE_LEN 32 /* fits eat_nonce (8..64, digest 1.10) */
#define TAM_NAME_MAX      128
#define TAM_KID_MAX       64

/* ---- core.c: the connection pool and replies ---------------------- */

/* A connection from the pool, waiting while all are in use; never NULL
 * once teep_tam_open succeeded.  Give it back with tam_pool_put. */
tam_store_t *tam_pool_get(teep_tam_t *tam);
void tam_pool_put(teep_tam_t *tam, tam_store_t *s);

/* Fill reply with status and body (takes ownership of the malloc'd body,
 * which may be NULL with len 0). */
void tam_reply_set(teep_tam_reply_t *reply, int status,
                   const char *content_type, uint8_t *body, size_t len);
/* A refusal: status, no body, reason printf-style (also logged). */
void tam_reply_refuse(teep_tam_reply_t *reply, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Lower-case hex of p[0..len) into out, which holds 2 * len + 1. */
void tam_hex(const uint8_t *p, size_t len, char *out);
/* Parse hex text (even length, either case) into out[0..cap).  Returns 0
 * with *len set, or -EINVAL. */
int tam_unhex(const char *hex, uint8_t *out, size_t cap, size_t *len);

/* ---- keycache.c ---------------------------------------------------- */

/* A key on loan from the cache (or, when the cache is full, loaded just
 * for the caller into own). */
typedef struct tam_key_ref {
    const teep_key_t *key;
    bool owned;
    teep_key_t own;
} tam_key_ref_t;

/* Loading a COSE_Key builds a backend object, which costs as much as a
 * signature; devices send the same keys every time, so they are loaded
 * once per process and shared read-only by the threads (cose.h allows
 * that for loaded keys).  The cache is keyed by the encoded bytes, so a
 * hit is the same key by construction.  Returns 0 with ref set, or
 * teep_key_from_cose's code.  Release with tam_key_release. */
int tam_keycache_get(const teep_tam_t *tam, const uint8_t *cose, size_t len,
                     tam_key_ref_t *ref);
void tam_key_release(tam_key_ref_t *ref);
/* Offer a key just loaded elsewhere (a device's key at registration) to
 * the cache, under the COSE_Key bytes teep_key_to_cose gives for it, the
 * bytes the devices table stores: the device's first message then finds
 * it loaded instead of building it again.  Takes key's backend object
 * (key->native is NULL afterwards; teep_key_clear(key) is still due).
 * Keys with a private part, or not loaded, are not taken.  Best effort:
 * when the cache is full or already holds those bytes, the object is
 * freed instead. */
void tam_keycache_put(const teep_tam_t *tam, teep_key_t *key);
/* Whether the cache holds the key encoded as cose (tests). */
bool tam_keycache_holds(const teep_tam_t *tam, const uint8_t *cose, size_t len);

/* Made by teep_tam_open, freed by teep_tam_close. */
int tam_keycache_open(struct tam_keycache **out);
void tam_keycache_close(struct tam_keycache *c);

/* ---- keys.c -------------------------------------------------------- */

/* Load the TAM's keys from dir, creating any that is missing (files
 * mode 0600, public halves beside them); dir NULL: generate them in
 * memory.  *created is set when a key was made.  Returns 0, -errno, or
 * a teep_key_* code. */
int tam_keys_load(teep_tam_keys_t *keys, const char *dir, bool *created);
void tam_keys_clear(teep_tam_keys_t *keys);
/* Read dir/admin.token, or make one (64 hex digits, mode 0600). */
int tam_keys_admin_token(const char *dir, char out[65], bool *created);
/* The TEEP signing key for a COSE algorithm (-9/-7 P-256, -19/-8
 * Ed25519), or NULL. */
const teep_key_t *tam_keys_for_alg(const teep_tam_keys_t *keys, int64_t alg);

/* ---- devices.c ----------------------------------------------------- */

#define TAM_PROFILE_AUTO (-1)

typedef struct tam_device {
    int64_t id;
    char name[TAM_NAME_MAX];
    tam_key_ref_t teep_key;
    bool has_attestation_key;
    tam_key_ref_t attestation_key;
    int profile;          /* teep_profile_t or TAM_PROFILE_AUTO */
    int detected_profile; /* teep_profile_t or -1 when not yet seen */
    int64_t alg;          /* COSE alg of its last message, 0 unknown */
} tam_device_t;

/* Load the device with this TEEP key kid, its keys through the key
 * cache.  Returns 0, -ENOENT, or a store / key code.  Release with
 * tam_device_clear. */
int tam_device_by_kid(const teep_tam_t *tam, tam_store_t *s, const uint8_t *kid,
                      size_t len, tam_device_t *out);
void tam_device_clear(tam_device_t *d);

/* Register a device: teep_key and attestation_key (may be NULL) are
 * public keys; profile as above.  Returns 0 with *id, -EEXIST (name or
 * key taken), or a store code. */
int tam_device_add(tam_store_t *s, const char *name, const teep_key_t *teep_key,
                   const teep_key_t *attestation_key, int profile, int64_t now,
                   int64_t *id);

/* Record a verified message: when, which algorithm, which profile. */
int tam_device_seen(tam_store_t *s, int64_t id, int profile, int64_t alg,
                    int64_t now);

/* The profile to speak to d: configured, else detected, else dflt. */
teep_profile_t tam_device_profile(const tam_device_t *d, teep_profile_t dflt);

/* ---- tokens.c: sessions -------------------------------------------- */

typedef struct tam_token {
    uint8_t token[TAM_TOKEN_LEN];
    int64_t conversation;
    int64_t device_id; /* 0: not bound yet (a connect QueryRequest) */
    int msg_type;      /* TEEP_QUERY_REQUEST or TEEP_UPDATE */
    bool has_challenge;
    uint8_t challenge[TAM_CHALLENGE_LEN];
    int64_t target_id; /* 0: no deployment step */
    int step;          /* -1: none */
    int64_t issued_at;
    int64_t expires_at;
    int64_t row; /* where it is stored (set by the lookups) */
} tam_token_t;

/* Start a conversation: the chain of exchanges an empty POST opens. */
int tam_conversation_new(tam_store_t *s, int64_t now, int64_t *id);

/* Issue t: fills t->token (and t->challenge when with_challenge) from
 * the CSPRNG, issued_at and expires_at, and stores it.  The caller sets
 * conversation, device_id, msg_type, target_id and step.  Returns 0 or a
 * code. */
int tam_token_issue(tam_store_t *s, tam_token_t *t, bool with_challenge,
                    int64_t now, uint32_t ttl);

/* Use up token (one answer only, digest 1.9) for device: succeeds only
 * if it was issued, is unused, unexpired, and was issued to this device
 * or to none yet (then it and its conversation are bound to it).
 * Returns 0 with *out, or -ENOENT / -EALREADY (used) / -ETIMEDOUT
 * (expired) / -EPERM (another device's), or a store code. */
int tam_token_consume(tam_store_t *s, teep_slice_t token, int64_t device,
                      int64_t now, tam_token_t *out);

/* Look token up without using it: *out when it is outstanding (issued,
 * unused, unexpired), else -ENOENT.  For work done before the transaction
 * that consumes it (appraising Evidence against its challenge). */
int tam_token_find(tam_store_t *s, teep_slice_t token, int64_t now,
                   tam_token_t *out);

/* tam_token_consume for a token found before (tam_token_find, earlier
 * on this database): one guarded UPDATE uses it up when it is still
 * unused, unexpired at now and free for device, without reading its row
 * again; when it no longer is, tam_token_consume says why.  Same
 * results. */
int tam_token_use(tam_store_t *s, const tam_token_t *found, int64_t device,
                  int64_t now, tam_token_t *out);

/* Delete tokens that expired before 'before'.  Returns how many, or a
 * code. */
int tam_token_purge(tam_store_t *s, int64_t before);

/* ---- packages.c ---------------------------------------------------- */

typedef enum tam_package_kind {
    TAM_PKG_TA = 0, /* a Trusted Application: process, container or VM */
    TAM_PKG_UA = 1, /* an Untrusted Application for the REE */
    TAM_PKG_PD = 2, /* personalization data, encrypted (a PD blob) */
} tam_package_kind_t;

/* "ta", "ua", "pd"; and back (-EINVAL for anything else). */
const char *tam_package_kind_name(tam_package_kind_t kind);
int tam_package_kind_parse(const char *name, tam_package_kind_t *kind);

/* Whether name may be a package or device name: 1..TAM_NAME_MAX - 1 of
 * [A-Za-z0-9._-], not starting with '.', and not "ta" / "ua" (component
 * identifiers end in those, docs/tam.md). */
bool tam_name_ok(const char *name);

typedef struct tam_package {
    int64_t id;
    tam_package_kind_t kind;
    char name[TAM_NAME_MAX];
    uint64_t version; /* SUIT sequence number; 0 on add: the next one */
    uint8_t sha256[32];
    uint64_t size;
    uint8_t *content; /* malloc'd when loaded with content */
    bool has_vendor_id, has_class_id;
    uint8_t vendor_id[16], class_id[16];
    /* pd: the kid it is encrypted to, its content algorithm, and the
     * plaintext's SHA-256 and size that the manifest lets the TEE check. */
    size_t recipient_kid_len;
    uint8_t recipient_kid[TAM_KID_MAX];
    int64_t content_alg;
    uint8_t plaintext_sha256[32];
    uint64_t plaintext_size;
} tam_package_t;

/* Store a package: p's metadata (id, sha256, size and, when 0, version
 * are filled in) and content[0..len) (copied).  Returns 0, -EEXIST (that
 * kind, name and version exist) or a store code. */
int tam_package_add(tam_store_t *s, tam_package_t *p, const uint8_t *content,
                    size_t len, int64_t now);

/* Load package id; with_content also reads the bytes (malloc'd into
 * p->content; tam_package_clear frees them).  Returns 0, -ENOENT, -ENOMEM
 * or a store code. */
int tam_package_load(tam_store_t *s, int64_t id, bool with_content,
                     tam_package_t *p);
void tam_package_clear(tam_package_t *p);

/* ---- attest.c ------------------------------------------------------ */

/* The TAM's verdict on one attestation payload, as stored. */
typedef struct tam_appraisal {
    int64_t id; /* the attestations row */
    teep_eat_status_t status;
    bool affirming;    /* status AFFIRMING and the token appraised cleanly */
    char summary[240]; /* "affirming" or the findings, for logs and steps */
    size_t pd_kid_len; /* the PD key the verified Evidence vouches for */
    uint8_t pd_kid[32];
} tam_appraisal_t;

/*
 * Appraise the attestation payload (and its format, empty when absent) of
 * a QueryResponse from device d that answers the QueryRequest t, with the
 * TAM's policy: d's attestation key, nonce = t's challenge issued at
 * t->issued_at, cnf = d's TEEP key, reference values from the config.
 * Crypto only; nothing is stored.  result is caller memory (large) that
 * tam_attest_store reads afterwards; payload must stay alive until then.
 * Fills out (id 0).  Returns 0 (whatever the verdict) or -ENOMEM /
 * TEEP_E_CRYPTO when the appraisal could not run.
 */
int tam_attest_appraise(const teep_tam_t *tam, const tam_device_t *d,
                        const tam_token_t *t, teep_slice_t payload,
                        teep_slice_t format, int64_t now,
                        teep_eat_result_t *result, tam_appraisal_t *out);

/* Store the appraisal (findings and verified claims as JSON, the PD key)
 * for device in conversation; sets out->id.  Returns 0 or a store code. */
int tam_attest_store(tam_store_t *s, int64_t device, int64_t conversation,
                     teep_slice_t payload, const teep_eat_result_t *result,
                     tam_appraisal_t *a, int64_t now);

/* ---- report.c ------------------------------------------------------ */

typedef struct tam_report_outcome {
    size_t n_reports;
    bool failed;   /* a report says its manifest failed */
    char why[200]; /* the first failure, in words */
} tam_report_outcome_t;

/* Read the SUIT reports of a Success or Error (unprotected SUIT_Report
 * maps, or COSE_Sign1 around one): each must decode and, since the TAM
 * always sends a token, carry suit-report-nonce = token (digest 1.9).
 * Returns 0 with *out, or -EBADMSG with out->why when a report is
 * malformed or its nonce differs (the message is then dropped). */
int tam_report_check(const teep_message_t *m, teep_slice_t token,
                     tam_report_outcome_t *out);

/* ---- manifest.c ---------------------------------------------------- */

/* Component identifiers (docs/tam.md, agent/component.c): the last
 * segment names the kind.
 *   TA  TEE/<instance-type>/<ta-name>/ta
 *   PD  TEE/<instance-type>/<ta-name>/<pd-name>  (for that TA)
 *   UA  REE/<ua-name>/ua                         (installed by the broker)
 * Each manifest's suit-manifest-component-id is its component's id with
 * "suit" appended. */

/* Build and sign (with the TC signer key) the SUIT envelope that delivers
 * package p (loaded with its content) as the component given in the text
 * form of suit.h.  *out is malloc'd (the caller frees it).  Returns 0,
 * -EINVAL (a PD package that is no PD blob, a bad identifier), -ENOMEM,
 * or teep_suit_build's codes. */
int tam_manifest_build(const teep_tam_t *tam, const tam_package_t *p,
                       const char *component, uint8_t **out, size_t *len);

/* The component identifier text for package p deployed as
 * instance_type next to the TA named ta_name. */
void tam_manifest_component(const tam_package_t *p, const char *instance_type,
                            const char *ta_name, char *out, size_t cap);

/* The envelope for package p (metadata loaded without content) as
 * component: a copy of the cached one when there is one, else p's content
 * is read from s, the envelope built and signed, and kept for the next
 * device (manifest_cache.c).  *out is malloc'd (the caller frees it).
 * Returns 0, tam_package_load's or tam_manifest_build's codes. */
int tam_manifest_envelope(const teep_tam_t *tam, tam_store_t *s,
                          const tam_package_t *p, const char *component,
                          uint8_t **out, size_t *len);

/* ---- manifest_cache.c ---------------------------------------------- */

/* An envelope depends only on the package (kind, version, digest, size,
 * vendor / class ids), the component and the TC signer key, which is the
 * TAM's for its lifetime: signing it again for every device that gets
 * the same TA costs a signature, a SHA-256 over the image and reading the
 * image from SQLite.  TA and UA envelopes are kept (PD is per device);
 * at most this many, and this many bytes (an envelope over a quarter of
 * it is not kept). */
#define TAM_MANIFEST_CACHE_ENTRIES 256
#define TAM_MANIFEST_CACHE_BYTES   (64u << 20)

/* Made by teep_tam_open, freed by teep_tam_close. */
int tam_manifest_cache_open(struct tam_manifest_cache **out);
void tam_manifest_cache_close(struct tam_manifest_cache *c);

/* A copy (malloc'd into *out) of the envelope kept for p as component.
 * Returns 0, -ENOENT (not kept; always for PD) or -ENOMEM.  Thread-safe. */
int tam_manifest_cache_get(struct tam_manifest_cache *c, const tam_package_t *p,
                           const char *component, uint8_t **out, size_t *len);

/* Keep a copy of envelope[0..len), the one tam_manifest_build made for p
 * as component.  Best effort: nothing is kept for PD, on ENOMEM, or when
 * the same envelope is already there.  Thread-safe. */
void tam_manifest_cache_put(struct tam_manifest_cache *c,
                            const tam_package_t *p, const char *component,
                            const uint8_t *envelope, size_t len);

/* ---- messages.c: what the TAM sends -------------------------------- */

/* The signers for a message to an Agent: both TEEP keys (COSE_Sign, the
 * Agent's suite unknown) when alg is 0, else the key for alg (COSE_Sign1
 * in the suite the Agent signs with).  Legacy numbering names the
 * algorithms -7 / -8, as libteep-era peers expect.  Returns how many. */
size_t tam_message_signers(const teep_tam_t *tam, teep_profile_t profile,
                           int64_t alg, teep_signer_t out[2]);

/* A QueryRequest for t (token, challenge and the attestation bit when t
 * has one), encoded in profile and signed: reply 200.  Returns 0 or a
 * code (reply untouched). */
int tam_message_query(const teep_tam_t *tam, const tam_token_t *t,
                      teep_profile_t profile, const teep_signer_t *signers,
                      size_t n_signers, teep_tam_reply_t *reply);

/* An Update for token with the envelopes (borrowed), or, with err_code
 * set, none and the err-code / err-msg (cut to 128 bytes): reply 200.
 * Returns 0 or a code. */
int tam_message_update(const teep_tam_t *tam, const tam_token_t *t,
                       teep_profile_t profile, const teep_signer_t *signer,
                       const teep_slice_t *envelopes, size_t n,
                       uint64_t err_code, const char *err_msg,
                       teep_tam_reply_t *reply);

/* ---- audit.c ------------------------------------------------------- */

/* Append to the audit log (device / deployment 0: none) and write the
 * line to the log.  Never fails the caller: a failed insert is logged. */
void tam_audit(tam_store_t *s, int64_t now, int64_t device, int64_t deployment,
               const char *event, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

#endif
