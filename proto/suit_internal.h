/*
 * suit_internal.h (private to proto/): what the SUIT files share: the
 * generic "bstr-wrapped item" reader, component identifiers and digests on
 * the reader, parameter encoding, and the processor's state (frames,
 * parameter slots, the sequence interpreter's context).
 */
#ifndef TP_SUIT_INTERNAL_H
#define TP_SUIT_INTERNAL_H

#include "cbor_reader.h"
#include "cbor_writer.h"
#include "teep/suit.h"

/* ------------------------------------------------------------------ */
/* Decoding helpers (suit_cbor.c)                                     */

/* Parses one item from r (a reader over the content of a bstr). */
typedef int (*tp_suit_parse_fn)(tp_cbor_reader_t *r, void *out);

/*
 * Parse the content of the bstr item it (just read from r) with fn, which
 * must consume all of it.  diag offsets from fn are made relative to r's
 * buffer, so nested wrapping still reports offsets in the outermost input.
 */
int tp_suit_parse_wrapped(tp_cbor_reader_t *r, const tp_cbor_item_t *it,
                          tp_suit_parse_fn fn, void *out);

/* Read a bstr from r and parse its content as above.  wrapped (the whole
 * item) and content may be NULL. */
int tp_suit_read_wrapped(tp_cbor_reader_t *r, const char *what,
                         tp_suit_parse_fn fn, void *out, teep_slice_t *wrapped,
                         teep_slice_t *content);

/* Read a SUIT_Component_Identifier ([* bstr], at most
 * TEEP_SUIT_MAX_COMPONENTS segments); *encoded is the whole item. */
int tp_suit_read_component_id(tp_cbor_reader_t *r, teep_slice_t *encoded);

/* A tp_suit_parse_fn for SUIT_Digest (out: teep_suit_digest_t). */
int tp_suit_parse_digest(tp_cbor_reader_t *r, void *out);

/* A tp_suit_parse_fn for SUIT_Manifest (out: teep_suit_manifest_t),
 * suit_manifest.c. */
int tp_suit_parse_manifest(tp_cbor_reader_t *r, void *out);

/* Where the member a manifest key names lives: 0..TEEP_SUIT_SEQ_COUNT-1
 * in sequences[], TEEP_SUIT_SEQ_COUNT for text, -1 for other keys;
 * *severable tells whether the envelope may carry it instead. */
int tp_suit_member_index(int64_t key, bool *severable);

/* A tp_suit_parse_fn that accepts any one well-formed item (out unused):
 * for bstr-wrapped CBOR kept opaque (text maps, encryption info). */
int tp_suit_parse_any(tp_cbor_reader_t *r, void *out);

/* Whether digest is a SHA-256 of data[0..len): 0, TEEP_E_ALG,
 * TEEP_E_SUIT_DIGEST, or the hash's error. */
int tp_suit_digest_check(const teep_suit_digest_t *digest, const uint8_t *data,
                         size_t len);

/* Byte-exact slice equality, and the constant-time variant for content
 * checks (no early exit on the first difference). */
bool tp_suit_slice_eq(teep_slice_t a, teep_slice_t b);
bool tp_suit_slice_eq_ct(teep_slice_t a, teep_slice_t b);

/* suit_params.c: encode a parameter map with the parameters in
 * p->present in ascending key order; or only its entries (for maps that
 * hold more, like system-property-claims) and their count. */
void tp_suit_params_encode(tp_cbor_writer_t *w, const teep_suit_params_t *p);
void tp_suit_params_encode_entries(tp_cbor_writer_t *w,
                                   const teep_suit_params_t *p);
size_t tp_suit_params_count(const teep_suit_params_t *p);
/* Copy the parameters of src that are in mask into dst: all of them
 * (override) or those dst lacks (set-parameters). */
void tp_suit_params_merge(teep_suit_params_t *dst,
                          const teep_suit_params_t *src, bool override,
                          uint32_t mask);

/* Encode [alg, bytes] (a SUIT_Digest). */
void tp_suit_digest_encode(tp_cbor_writer_t *w, int64_t alg,
                           const uint8_t *bytes, size_t len);

/* ------------------------------------------------------------------ */
/* Processor state (suit_processor.c, suit_interp.c, suit_actions.c)  */

/* Status of a command / sequence besides 0 and negative codes: a
 * condition failed (soft failure may absorb it). */
#define TP_SUIT_COND_FAILED 1

/* Parameters live per component identifier, shared by a manifest and its
 * dependencies: a dependent sets what its dependency consumes
 * (suit-trust-domains "Set Parameters", the encryption examples). */
#define TP_SUIT_MAX_SLOTS 32
typedef struct tp_suit_slot {
    teep_slice_t id;
    teep_suit_params_t params;
} tp_suit_slot_t;

/* Manifests to commit after a successful update, dependencies first:
 * each dependency holds a parameter slot, the root may have no id. */
#define TP_SUIT_MAX_COMMITS (TP_SUIT_MAX_SLOTS + 1)
typedef struct tp_suit_commit {
    teep_slice_t manifest_id;
    uint64_t sequence_number;
    teep_slice_t envelope;
} tp_suit_commit_t;

/* Why processing stopped: kept at the latest failure, reported when the
 * procedure fails. */
typedef struct tp_suit_failure {
    int code;
    teep_suit_reason_t reason;
    teep_suit_record_t record;
    teep_diag_t diag;
} tp_suit_failure_t;

typedef struct tp_suit_proc {
    const teep_suit_config_t *cfg;
    const teep_suit_ops_t *ops;
    void *ctx;
    teep_suit_report_t *report; /* may be NULL */
    size_t n_slots;
    tp_suit_slot_t slots[TP_SUIT_MAX_SLOTS];
    size_t n_commits;
    tp_suit_commit_t commits[TP_SUIT_MAX_COMMITS];
    tp_suit_failure_t failure;
    unsigned fail_serial; /* bumped by tp_suit_fail: lets an outer command
                             see that a nested one recorded the failure */
} tp_suit_proc_t;

#define TP_SUIT_NO_SLOT 0xff

/* One manifest being processed: the root, or a dependency below it. */
typedef struct tp_suit_frame {
    const teep_suit_envelope_t *env;
    teep_slice_t manifest_id; /* the dependent's prefix overrides (TD) */
    uint8_t path[TEEP_SUIT_MAX_DEPENDENCY_DEPTH];
    uint8_t path_len;
    uint32_t n_index;                       /* component indices in use */
    uint8_t slot[TEEP_SUIT_MAX_INDEX];      /* index -> proc slot */
    int8_t dependency[TEEP_SUIT_MAX_INDEX]; /* index -> dependencies[] */
    /* per dependency: its envelope once fetched / written, and whether
     * dependency-integrity passed for it in this manifest's context */
    teep_slice_t dep_envelope[TEEP_SUIT_MAX_DEPENDENCIES];
    bool dep_checked[TEEP_SUIT_MAX_DEPENDENCIES];
} tp_suit_frame_t;

/* Running one command sequence of one frame. */
typedef struct tp_suit_exec {
    tp_suit_proc_t *p;
    tp_suit_frame_t *f;
    int64_t section;             /* manifest key, for records */
    const uint8_t *section_base; /* record offsets count from here */
    uint8_t selected[TEEP_SUIT_MAX_INDEX];
    uint8_t n_selected;
    bool select_all; /* component index True */
    bool soft_failure;
    bool strict_order;
    unsigned nesting;
} tp_suit_exec_t;

/* What a command did, for its record. */
typedef struct tp_suit_outcome {
    uint32_t consumed;         /* parameters it read (properties) */
    teep_suit_params_t system; /* what the device has (sysinfo) */
    bool has_measured;
    uint8_t measured[32];
    teep_suit_reason_t reason; /* when it failed; 0: derive from code */
    teep_diag_t diag;          /* when it failed: why (code 0: generic) */
} tp_suit_outcome_t;

/* suit_interp.c: run the sequence seq (an encoded command array) of frame
 * f as section `section`.  Returns 0, TP_SUIT_COND_FAILED or a negative
 * code (failure recorded in p->failure). */
int tp_suit_run_sequence(tp_suit_proc_t *p, tp_suit_frame_t *f, int64_t section,
                         teep_slice_t seq);

/* suit_actions.c: one condition or component directive on component idx.
 * Returns 0, TP_SUIT_COND_FAILED or a negative code. */
int tp_suit_command(tp_suit_exec_t *x, uint32_t idx, int64_t code,
                    tp_suit_outcome_t *o);

/* The component handed to callbacks for index idx of frame f. */
void tp_suit_component(const tp_suit_frame_t *f, uint32_t idx,
                       teep_suit_component_t *c);

/* Parameters of index idx of frame f. */
teep_suit_params_t *tp_suit_params(tp_suit_proc_t *p, const tp_suit_frame_t *f,
                                   uint32_t idx);

/* suit_processor.c: the trust-domains commands that reach into other
 * manifests. */
int tp_suit_dependency_integrity(tp_suit_exec_t *x, uint32_t idx,
                                 tp_suit_outcome_t *o);
int tp_suit_process_dependency(tp_suit_exec_t *x, uint32_t idx,
                               tp_suit_outcome_t *o);

/* suit_report.c */
teep_suit_reason_t tp_suit_reason_for(int code);
/* Fill a record for command code at offset of x's section on idx; the
 * system information is kept when policy asks for it. */
void tp_suit_record_fill(const tp_suit_exec_t *x, uint32_t idx, int64_t code,
                         size_t offset, bool success,
                         const tp_suit_outcome_t *o, uint64_t policy,
                         teep_suit_record_t *rec);
/* Append rec to the report if the policy asks for it. */
void tp_suit_record_add(tp_suit_proc_t *p, const teep_suit_record_t *rec,
                        uint64_t policy);
/* Remember a failure (code, reason, where) as the latest. */
void tp_suit_fail(tp_suit_proc_t *p, int code, teep_suit_reason_t reason,
                  const teep_suit_record_t *rec, const teep_diag_t *diag);

#endif
