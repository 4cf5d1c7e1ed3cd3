/*
 * agent_internal.h (private to agent/): what the Agent's files share.
 * One file per concern: seal.c (sealed files), keys.c (the Agent's keys),
 * state.c (installed components, sealed), cbor_out.c (a growable CBOR
 * encoder for state and reply fragments), component.c (identifiers and
 * kinds), chain.c (TAM conversations, principle 1), reply.c (verifying
 * TAM messages, signing replies, Error messages), query.c (QueryRequest),
 * evidence.c (the EAT), suit_run.c (the SUIT processor's callbacks and
 * their staged effects), update.c (Update), agent.c
 * (the public entry points).
 */
#ifndef AGENT_INTERNAL_H
#define AGENT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "teep/message.h"
#include "teep/suit.h"
#include "teep_agent.h"

#ifndef TEEP_AGENT_VERSION
#define TEEP_AGENT_VERSION "0"
#endif

/* ---- seal.c ------------------------------------------------------------ */

/* Read a whole regular file of at most max bytes into a malloc'd buffer
 * (*data, freed by the caller).  0 or -errno (-ENOENT, -EFBIG). */
int agent__read_file(const char *path, size_t max, uint8_t **data, size_t *len);
/* Replace path atomically (temporary file, fsync, rename) with data,
 * created with mode.  0 or -errno. */
int agent__write_file(const char *path, const uint8_t *data, size_t len,
                      mode_t mode);
/* The TEE's sealing key: <dir>/sealing.key, made on first use.  0 or
 * -errno. */
int agent__sealing_key(const char *dir, uint8_t key[32]);
/* Seal data into <dir>/<name> (name is also the additional data).
 * 0, -errno, TEEP_E_CRYPTO. */
int agent__seal_write(const uint8_t key[32], const char *dir, const char *name,
                      const uint8_t *data, size_t len);
/* Open <dir>/<name>: *data is malloc'd plaintext.  0, -ENOENT,
 * TEEP_E_SIGNATURE (not sealed by this key for this name), -errno. */
int agent__seal_read(const uint8_t key[32], const char *dir, const char *name,
                     uint8_t **data, size_t *len);
/* Zero memory the compiler may not drop. */
void agent__wipe(void *p, size_t len);

/* ---- cbor_out.c -------------------------------------------------------- */

/* A growable CBOR encoder: sticky error, like proto's writer. */
typedef struct agent_cbor {
    uint8_t *buf;
    size_t len;
    size_t cap;
    int err; /* 0 or -ENOMEM */
} agent_cbor_t;

void agent__cbor_init(agent_cbor_t *c);
void agent__cbor_free(agent_cbor_t *c);
void agent__cbor_uint(agent_cbor_t *c, uint64_t v);
void agent__cbor_int(agent_cbor_t *c, int64_t v);
void agent__cbor_bstr(agent_cbor_t *c, const uint8_t *p, size_t len);
void agent__cbor_tstr(agent_cbor_t *c, const char *s);
void agent__cbor_array(agent_cbor_t *c, size_t n);
void agent__cbor_map(agent_cbor_t *c, size_t n);
void agent__cbor_null(agent_cbor_t *c);
/* Copy already encoded CBOR. */
void agent__cbor_raw(agent_cbor_t *c, const uint8_t *p, size_t len);

/* ---- keys.c ------------------------------------------------------------ */

/* Open keys.sealed, or make the keys and the device identity and seal
 * them (first start).  0 or a negative code. */
int agent__keys_load(teep_agent_t *agent);

/* ---- state.c ----------------------------------------------------------- */

/* Read state.sealed (absent: empty state).  0 or a negative code. */
int agent__state_load(teep_agent_t *agent);
/* Seal the current state into state.sealed.  0 or a negative code. */
int agent__state_save(teep_agent_t *agent);
/* Free every list entry. */
void agent__state_clear(teep_agent_t *agent);
/* malloc'd copy of bytes; NULL on failure (or for len 0 with p NULL). */
uint8_t *agent__dup(const uint8_t *p, size_t len);
/* The manifest record with this id, or NULL. */
teep_agent_manifest_t *agent__find_manifest(teep_agent_t *agent,
                                            teep_slice_t id);
/* Add or replace a manifest record (copies).  0, -ENOMEM, -ENOSPC. */
int agent__put_manifest(teep_agent_t *agent, teep_slice_t id, uint64_t seq,
                        teep_slice_t envelope);
/* Add or replace a component record (copies id and manifest id; keeps
 * the PD of a replaced TA only when keep_pd).  *out: the record.
 * 0, -ENOMEM, -ENOSPC. */
int agent__put_component(teep_agent_t *agent, teep_slice_t id,
                         teep_agent_kind_t kind, teep_slice_t content,
                         teep_slice_t manifest_id,
                         teep_agent_component_t **out);
/* Remove list entry i (frees it). */
void agent__drop_component(teep_agent_t *agent, size_t i);
void agent__drop_manifest(teep_agent_t *agent, size_t i);
/* Remove id from a request list; true if it was there. */
bool agent__request_remove(teep_agent_request_t *list, size_t *n,
                           teep_slice_t id);

/* ---- component.c ------------------------------------------------------- */

/* Text form of an encoded identifier (teep_suit_component_id_to_text);
 * 0 or a negative code. */
int agent__id_text(teep_slice_t id, char *out, size_t cap);
/* The UA name in a UA identifier: the segment before "ua".  0 or
 * -EINVAL (no such segment, or one that is no plain file name). */
int agent__ua_name(teep_slice_t id, char *out, size_t cap);
/* The identifier of the TA a PD component belongs to by name: the same
 * segments with the last one replaced by "ta", encoded into out.  0 or a
 * negative code. */
int agent__pd_ta_id(teep_slice_t pd_id, uint8_t *out, size_t cap,
                    size_t *out_len);
bool agent__slice_eq(teep_slice_t a, const uint8_t *p, size_t len);

/* ---- chain.c ----------------------------------------------------------- */

/* The record of conversation tam_session; with create, a fresh one
 * (replacing the least recently used) when there is none. */
teep_agent_chain_t *agent__chain(teep_agent_t *agent, uint64_t tam_session,
                                 bool create);
/* Principle 1: whether an Update verified with TAM tam in conversation
 * tam_session may carry personalization data, i.e. this Agent gave
 * Evidence in that conversation, to that TAM, within the configured age.
 * Consumes the attestation: the next Update needs new Evidence. */
bool agent__chain_take_attestation(teep_agent_t *agent, uint64_t tam_session,
                                   int tam, bool tam_reported_error);
int64_t agent__now(const teep_agent_t *agent);

/* ---- reply.c ----------------------------------------------------------- */

/* A verified, decoded TAM message. */
typedef struct agent_in {
    int tam;                /* index of the TAM key that verified */
    teep_profile_t profile; /* numbering used */
    teep_message_t msg;     /* slices into the input, lists in arena */
    teep_arena_t arena;
    uint8_t *arena_mem;
} agent_in_t;

/*
 * Check buf[0..len) as a TAM message: COSE_Sign1 / COSE_Sign verifying
 * with one configured TAM key, and a TEEP message in that TAM's
 * profile (detected on first use with TEEP_AGENT_PROFILE_AUTO).  On
 * failure *diag says why and in->tam is -1 when no TAM was identified;
 * in->profile is always the profile to answer in.  Returns 0 or a
 * negative code.  agent__in_free releases in (also after a failure).
 */
int agent__verify_in(teep_agent_t *agent, const uint8_t *buf, size_t len,
                     agent_in_t *in, teep_diag_t *diag);
void agent__in_free(agent_in_t *in);

/* Encode msg in profile and sign it with the TEEP key (COSE_Sign1,
 * ESP256) into a malloc'd *out.  0 or a negative code. */
int agent__sign_reply(teep_agent_t *agent, const teep_message_t *msg,
                      teep_profile_t profile, uint8_t **out, size_t *out_len);

/*
 * An Error message: token (may be empty), err_code (rfc numbering), a
 * reason for err-msg (cut to 128 bytes, non-printable bytes replaced),
 * the lists the err-code requires (supported cipher suites, freshness
 * mechanisms, versions, SUIT COSE profiles) and suit_reports (may be
 * NULL).  Signed into *out as agent__sign_reply.
 */
int agent__error_reply(teep_agent_t *agent, teep_profile_t profile,
                       teep_slice_t token, uint64_t err_code,
                       const char *reason, const teep_slice_t *suit_reports,
                       size_t n_reports, uint8_t **out, size_t *out_len);

/* What this Agent supports, for QueryRequest checks and Error lists. */
extern const teep_cipher_suite_t agent__suites[];
extern const size_t agent__n_suites;
extern const teep_suit_profile_t agent__suit_profiles[];
extern const size_t agent__n_suit_profiles;

/* ---- query.c / evidence.c ---------------------------------------------- */

/* Answer a verified QueryRequest. */
int agent__query(teep_agent_t *agent, uint64_t tam_session, agent_in_t *in,
                 uint8_t **out, size_t *out_len);
/* Sign Evidence with nonce into a malloc'd *out.  0 or a negative code. */
int agent__evidence(teep_agent_t *agent, teep_slice_t nonce, uint8_t **out,
                    size_t *out_len);

/* ---- suit_run.c -------------------------------------------------------- */

#define AGENT_MAX_WRITES  16
#define AGENT_MAX_COMMITS 8
#define AGENT_MAX_UNLINKS 16

/* A component the processor wrote: bytes from the message, a stored
 * envelope, or a plaintext this run decrypted. */
typedef struct agent_write {
    teep_slice_t id;
    teep_slice_t manifest_id;
    teep_slice_t bytes;
    bool decrypted;
} agent_write_t;

/* A manifest the processor committed (copies). */
typedef struct agent_commit {
    teep_slice_t id;
    uint64_t sequence_number;
    teep_slice_t envelope;
    uint8_t *owned;
} agent_commit_t;

/*
 * One run of the SUIT processor over one envelope, with its effects
 * staged: nothing reaches the TEE or the state until agent__run_apply,
 * which is called only when the whole manifest (dependencies included)
 * succeeded.
 */
typedef struct agent_run {
    teep_agent_t *agent;
    bool pd_allowed; /* principle 1: this conversation attested */
    bool pd_refused; /* the manifest asked to decrypt and was refused */
    size_t n_writes;
    agent_write_t writes[AGENT_MAX_WRITES];
    size_t n_commits;
    agent_commit_t commits[AGENT_MAX_COMMITS];
    size_t n_unlinks;
    teep_slice_t unlinks[AGENT_MAX_UNLINKS];
    size_t n_plain;
    uint8_t *plain[AGENT_MAX_WRITES];
    size_t plain_len[AGENT_MAX_WRITES];
} agent_run_t;

void agent__run_init(agent_run_t *run, teep_agent_t *agent, bool pd_allowed);
/* Free what the run allocated (plaintexts are wiped). */
void agent__run_free(agent_run_t *run);
/* teep_suit_process over envelope for procedure, report nonce = token.
 * Returns its code. */
int agent__run_process(agent_run_t *run, teep_slice_t envelope,
                       unsigned procedure, teep_slice_t token,
                       teep_suit_report_t *report);
/* Carry out the staged effects of a successful update run: TAs to the
 * TEE, UAs to the REE, PD to its TA, manifests and components into the
 * state.  A failure is written into report.  Returns 0 or the code. */
int agent__run_apply(agent_run_t *run, teep_suit_report_t *report);

/* ---- update.c ---------------------------------------------------------- */

/* Answer a verified Update. */
int agent__update(teep_agent_t *agent, uint64_t tam_session, agent_in_t *in,
                  uint8_t **out, size_t *out_len);

#endif
