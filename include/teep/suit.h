/*
 * teep/suit.h: the SUIT manifest subset TEEP uses (draft-ietf-suit-manifest,
 * -trust-domains, -firmware-encryption, -report): envelope and manifest
 * codec, signature verification against trust anchors, a manifest
 * processor driven by callbacks, the SUIT Report it produces, and a
 * builder for the TAM and the CLI.
 *
 * Decoding is zero-copy and bounded: every slice points into the caller's
 * input (which must outlive the structures), and lists have the fixed
 * capacities below; more elements is TEEP_E_LIMIT.  Nothing is allocated.
 * Errors follow teep/common.h (0 or a negative code, with a teep_diag_t
 * telling why and at which byte of the outermost input).
 *
 * docs/suit.md describes the supported subset, the processor's callback
 * contract and the defects of the published examples that are handled.
 */
#ifndef TEEP_SUIT_H
#define TEEP_SUIT_H

#include <stdbool.h>

#include "teep/common.h"
#include "teep/cose.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Capacities of one decoded manifest / envelope. */
#define TEEP_SUIT_MAX_COMPONENTS   16
#define TEEP_SUIT_MAX_DEPENDENCIES 8
#define TEEP_SUIT_MAX_INTEGRATED   16
#define TEEP_SUIT_MAX_AUTH_BLOCKS  4
/* Component indices a manifest may use: components plus dependencies that
 * the examples number after the components (docs/suit.md). */
#define TEEP_SUIT_MAX_INDEX                                                    \
    (TEEP_SUIT_MAX_COMPONENTS + TEEP_SUIT_MAX_DEPENDENCIES)
/* Processing bounds: dependency manifests below the root, try-each /
 * run-sequence nesting inside one sequence, records in one report. */
#define TEEP_SUIT_MAX_DEPENDENCY_DEPTH 3
#define TEEP_SUIT_MAX_NESTING          4
#define TEEP_SUIT_MAX_RECORDS          24

/* SUIT-specific failures (besides the TEEP_E_* input errors). */
enum {
    TEEP_E_SUIT_CONDITION = -5100,   /* a condition failed */
    TEEP_E_SUIT_UNSUPPORTED = -5101, /* command, parameter or component */
    TEEP_E_SUIT_ROLLBACK = -5102,    /* sequence number not newer */
    TEEP_E_SUIT_DIGEST = -5103,      /* a digest does not match */
    TEEP_E_SUIT_SEVERED = -5104,     /* a severed member is not there */
    TEEP_E_SUIT_OPERATION = -5105,   /* an operation (callback) failed */
};

/* Envelope (2, 3) and manifest element keys; the severable ones are the
 * same key in the envelope and in the manifest. */
enum {
    TEEP_SUIT_AUTHENTICATION_WRAPPER = 2,
    TEEP_SUIT_MANIFEST = 3,

    TEEP_SUIT_MANIFEST_VERSION = 1,
    TEEP_SUIT_MANIFEST_SEQUENCE_NUMBER = 2,
    TEEP_SUIT_COMMON = 3,
    TEEP_SUIT_REFERENCE_URI = 4,
    TEEP_SUIT_MANIFEST_COMPONENT_ID = 5,
    TEEP_SUIT_VALIDATE = 7,
    TEEP_SUIT_LOAD = 8,
    TEEP_SUIT_INVOKE = 9,
    TEEP_SUIT_DEPENDENCY_RESOLUTION = 15,
    TEEP_SUIT_PAYLOAD_FETCH = 16,
    TEEP_SUIT_CANDIDATE_VERIFICATION = 18,
    TEEP_SUIT_INSTALL = 20,
    TEEP_SUIT_TEXT = 23,
    TEEP_SUIT_UNINSTALL = 24,

    /* suit-common */
    TEEP_SUIT_DEPENDENCIES = 1,
    TEEP_SUIT_COMPONENTS = 2,
    TEEP_SUIT_SHARED_SEQUENCE = 4,
    /* SUIT_Dependency_Metadata */
    TEEP_SUIT_DEPENDENCY_PREFIX = 1,

    TEEP_SUIT_TAG_ENVELOPE = 107,
    TEEP_SUIT_ALG_SHA256 = -16,
};

/* Commands: conditions and directives. */
typedef enum teep_suit_command {
    TEEP_SUIT_COND_VENDOR_ID = 1,
    TEEP_SUIT_COND_CLASS_ID = 2,
    TEEP_SUIT_COND_IMAGE_MATCH = 3,
    TEEP_SUIT_COND_COMPONENT_SLOT = 5,
    TEEP_SUIT_COND_CHECK_CONTENT = 6,
    TEEP_SUIT_COND_DEPENDENCY_INTEGRITY = 7,
    TEEP_SUIT_COND_IS_DEPENDENCY = 8,
    TEEP_SUIT_DIR_PROCESS_DEPENDENCY = 11,
    TEEP_SUIT_DIR_SET_COMPONENT_INDEX = 12,
    TEEP_SUIT_COND_ABORT = 14,
    TEEP_SUIT_DIR_TRY_EACH = 15,
    TEEP_SUIT_DIR_WRITE = 18,
    TEEP_SUIT_DIR_SET_PARAMETERS = 19,
    TEEP_SUIT_DIR_OVERRIDE_PARAMETERS = 20,
    TEEP_SUIT_DIR_FETCH = 21,
    TEEP_SUIT_DIR_COPY = 22,
    TEEP_SUIT_DIR_INVOKE = 23,
    TEEP_SUIT_COND_DEVICE_ID = 24,
    TEEP_SUIT_DIR_SWAP = 31,
    TEEP_SUIT_DIR_RUN_SEQUENCE = 32,
    TEEP_SUIT_DIR_UNLINK = 33,
} teep_suit_command_t;

/* Parameters (suit-parameter-*). */
typedef enum teep_suit_param {
    TEEP_SUIT_PARAM_VENDOR_ID = 1,
    TEEP_SUIT_PARAM_CLASS_ID = 2,
    TEEP_SUIT_PARAM_IMAGE_DIGEST = 3,
    TEEP_SUIT_PARAM_COMPONENT_SLOT = 5,
    TEEP_SUIT_PARAM_STRICT_ORDER = 12,
    TEEP_SUIT_PARAM_SOFT_FAILURE = 13,
    TEEP_SUIT_PARAM_IMAGE_SIZE = 14,
    TEEP_SUIT_PARAM_CONTENT = 18,
    TEEP_SUIT_PARAM_ENCRYPTION_INFO = 19,
    TEEP_SUIT_PARAM_URI = 21,
    TEEP_SUIT_PARAM_SOURCE_COMPONENT = 22,
    TEEP_SUIT_PARAM_INVOKE_ARGS = 23,
    TEEP_SUIT_PARAM_DEVICE_ID = 24,
    TEEP_SUIT_PARAM_FETCH_ARGS = 25,
} teep_suit_param_t;

#define TEEP_SUIT_PARAM_BIT(p) (1u << (p))

/* Reporting policy bits (SUIT_Rep_Policy). */
enum {
    TEEP_SUIT_REC_ON_SUCCESS = 1u << 0,
    TEEP_SUIT_REC_ON_FAILURE = 1u << 1,
    TEEP_SUIT_SYSINFO_SUCCESS = 1u << 2,
    TEEP_SUIT_SYSINFO_FAILURE = 1u << 3,
};

/* suit-report reasons. */
typedef enum teep_suit_reason {
    TEEP_SUIT_REASON_OK = 0,
    TEEP_SUIT_REASON_CBOR_PARSE = 1,
    TEEP_SUIT_REASON_COSE_UNSUPPORTED = 2,
    TEEP_SUIT_REASON_ALG_UNSUPPORTED = 3,
    TEEP_SUIT_REASON_UNAUTHORISED = 4,
    TEEP_SUIT_REASON_COMMAND_UNSUPPORTED = 5,
    TEEP_SUIT_REASON_COMPONENT_UNSUPPORTED = 6,
    TEEP_SUIT_REASON_COMPONENT_UNAUTHORISED = 7,
    TEEP_SUIT_REASON_PARAMETER_UNSUPPORTED = 8,
    TEEP_SUIT_REASON_SEVERING_UNSUPPORTED = 9,
    TEEP_SUIT_REASON_CONDITION_FAILED = 10,
    TEEP_SUIT_REASON_OPERATION_FAILED = 11,
    TEEP_SUIT_REASON_INVOKE_PENDING = 12,
} teep_suit_reason_t;

/* Names for printing: "condition-failed", "condition-image-match",
 * "image-digest", "install", and the SUIT errors above (falls back to
 * teep_strerror).  Never NULL; unknown values give "unknown". */
const char *teep_suit_reason_name(teep_suit_reason_t reason);
const char *teep_suit_command_name(int64_t command);
const char *teep_suit_param_name(int64_t param);
const char *teep_suit_section_name(int64_t manifest_key);
const char *teep_suit_strerror(int code);

/* ------------------------------------------------------------------ */
/* Decoded structures                                                 */

/* SUIT_Digest = [alg, bytes]. */
typedef struct teep_suit_digest {
    int64_t alg;
    teep_slice_t bytes;
} teep_suit_digest_t;

/* The command sequences, in the order a full update + invocation runs
 * them.  teep_suit_sequence_key() gives the manifest key of each. */
typedef enum teep_suit_seq {
    TEEP_SUIT_SEQ_DEPENDENCY_RESOLUTION = 0,
    TEEP_SUIT_SEQ_PAYLOAD_FETCH,
    TEEP_SUIT_SEQ_CANDIDATE_VERIFICATION,
    TEEP_SUIT_SEQ_INSTALL,
    TEEP_SUIT_SEQ_VALIDATE,
    TEEP_SUIT_SEQ_LOAD,
    TEEP_SUIT_SEQ_INVOKE,
    TEEP_SUIT_SEQ_UNINSTALL,
    TEEP_SUIT_SEQ_COUNT
} teep_suit_seq_t;

int64_t teep_suit_sequence_key(teep_suit_seq_t seq);

/*
 * A manifest member that may be severed (or is a plain bstr-wrapped
 * member).  present: the manifest names it.  severed: the manifest holds
 * its digest and the bytes come from the envelope; when the envelope lacks
 * them, value.ptr is NULL.  value is the content of the bstr (the encoded
 * command sequence or text map).
 */
typedef struct teep_suit_member {
    bool present;
    bool severed;
    teep_suit_digest_t digest; /* when severed */
    teep_slice_t wrapped;      /* the whole bstr item (head included) */
    teep_slice_t value;
} teep_suit_member_t;

typedef struct teep_suit_dependency {
    uint32_t index;      /* component index of the dependency manifest */
    teep_slice_t prefix; /* encoded SUIT_Component_Identifier, or empty */
} teep_suit_dependency_t;

typedef struct teep_suit_manifest {
    teep_slice_t raw; /* the encoded SUIT_Manifest map */
    uint64_t version; /* always 1 once decoded */
    uint64_t sequence_number;
    teep_slice_t reference_uri; /* text; ptr NULL if absent */
    teep_slice_t component_id;  /* encoded identifier; ptr NULL if absent */
    teep_slice_t common;        /* the SUIT_Common map */
    size_t n_components;
    teep_slice_t components[TEEP_SUIT_MAX_COMPONENTS]; /* encoded ids */
    size_t n_dependencies;
    teep_suit_dependency_t dependencies[TEEP_SUIT_MAX_DEPENDENCIES];
    teep_slice_t shared_sequence; /* encoded sequence; ptr NULL if absent */
    teep_suit_member_t sequences[TEEP_SUIT_SEQ_COUNT];
    teep_suit_member_t text;
} teep_suit_manifest_t;

/* An envelope element with a text key: an integrated payload, or an
 * integrated dependency (an encoded SUIT_Envelope); the processor tells
 * them apart by use. */
typedef struct teep_suit_integrated {
    teep_slice_t name; /* the text key, e.g. "#tc" */
    teep_slice_t bytes;
} teep_suit_integrated_t;

typedef struct teep_suit_envelope {
    teep_slice_t raw; /* the whole input */
    bool tagged;      /* #6.107 */
    teep_suit_digest_t digest;
    teep_slice_t digest_encoded; /* the SUIT_Digest bytes: what is signed */
    size_t n_auth_blocks;
    teep_slice_t auth_blocks[TEEP_SUIT_MAX_AUTH_BLOCKS]; /* COSE bytes */
    teep_slice_t manifest_wrapped; /* bstr item incl. head: what is hashed */
    teep_suit_manifest_t manifest;
    size_t n_integrated;
    teep_suit_integrated_t integrated[TEEP_SUIT_MAX_INTEGRATED];
    /* Set by teep_suit_envelope_verify on success. */
    bool verified;
    size_t anchor; /* index of the trust anchor that verified */
} teep_suit_envelope_t;

/*
 * Decode a SUIT_Envelope (tagged 107 or not) that is the whole of
 * buf[0..len), including its manifest, common and severed members.  The
 * structure points into buf.  Checks well-formedness, types, the bounds
 * above, duplicate keys, manifest version 1, and that every severed member
 * in the envelope has its digest in the manifest.  Does not check digests
 * or signatures (teep_suit_envelope_verify).  Returns 0 or a TEEP_E_* code
 * with diag (may be NULL) giving the reason and the offset in buf.
 */
int teep_suit_envelope_decode(const uint8_t *buf, size_t len,
                              teep_suit_envelope_t *env, teep_diag_t *diag);

/* Decode a SUIT_Manifest map (the content of the envelope's bstr) that is
 * the whole of buf[0..len).  Severable members given as digests are left
 * with value.ptr NULL.  Same return codes as above. */
int teep_suit_manifest_decode(const uint8_t *buf, size_t len,
                              teep_suit_manifest_t *m, teep_diag_t *diag);

/*
 * Check a decoded envelope: the digest (SHA-256 of manifest_wrapped) and
 * the digest of every severed member, then the authentication blocks
 * (COSE_Sign1 or COSE_Sign with a nil payload, signed over digest_encoded)
 * against the trust anchors in order.  Success when one block verifies
 * with one anchor: sets env->verified and env->anchor.  Returns 0,
 * TEEP_E_ALG (digest or signature algorithm not supported),
 * TEEP_E_SUIT_DIGEST, TEEP_E_COSE (a block is no COSE_Sign1 / COSE_Sign, or
 * carries a payload), TEEP_E_SIGNATURE (no block verifies with any anchor,
 * or there is none), TEEP_E_CRYPTO, -EINVAL (no anchors).
 */
int teep_suit_envelope_verify(teep_suit_envelope_t *env,
                              const teep_key_t *anchors, size_t n_anchors,
                              teep_diag_t *diag);

/* The integrated element of env whose key equals name (byte-exact), or
 * -ENOENT. */
int teep_suit_integrated_find(const teep_suit_envelope_t *env,
                              teep_slice_t name, teep_slice_t *bytes);

/* Decode an encoded SUIT_Digest (the content of a bstr .cbor SUIT_Digest).
 * Returns 0 or a TEEP_E_* code. */
int teep_suit_digest_decode(teep_slice_t encoded, teep_suit_digest_t *out,
                            teep_diag_t *diag);

/* ------------------------------------------------------------------ */
/* Command sequences and parameters                                   */

/* One command of a sequence: its code, where it is (offset of the code
 * from the start of the sequence bytes) and its argument, an encoded CBOR
 * item (a reporting policy, an index, a parameter map, sequences). */
typedef struct teep_suit_cmd {
    int64_t code;
    size_t offset;
    teep_slice_t arg;
} teep_suit_cmd_t;

/* Walks an encoded SUIT_Command_Sequence; no storage beyond itself. */
typedef struct teep_suit_cmd_iter {
    const uint8_t *buf;
    size_t len;
    size_t pos;
    uint64_t left; /* commands not yet returned */
} teep_suit_cmd_iter_t;

/* Start walking seq (the encoded array, e.g. a member's value).  Returns 0
 * or a TEEP_E_* code (not an array of an even number of items). */
int teep_suit_cmd_begin(teep_suit_cmd_iter_t *it, teep_slice_t seq,
                        teep_diag_t *diag);
/* The next command into *cmd: returns 1, 0 at the end of the sequence, or
 * a TEEP_E_* code (diag offset counted from the start of seq). */
int teep_suit_cmd_next(teep_suit_cmd_iter_t *it, teep_suit_cmd_t *cmd,
                       teep_diag_t *diag);

/* A parameter map, decoded.  present has TEEP_SUIT_PARAM_BIT(p) for each
 * parameter given; slices point into the map's bytes.  image_digest is the
 * encoded SUIT_Digest (the bstr's content). */
typedef struct teep_suit_params {
    uint32_t present;
    bool vendor_id_pen; /* vendor_id was a #6.112 PEN, not a UUID */
    teep_slice_t vendor_id;
    teep_slice_t class_id;
    teep_slice_t device_id;
    teep_slice_t image_digest;
    uint64_t image_size;
    uint64_t component_slot;
    uint64_t source_component;
    teep_slice_t content;
    teep_slice_t encryption_info;
    teep_slice_t uri;
    teep_slice_t invoke_args;
    teep_slice_t fetch_args;
    bool strict_order;
    bool soft_failure;
} teep_suit_params_t;

/* Decode an encoded {+ SUIT_Parameters} map.  Custom (negative) keys are
 * skipped; an unknown positive key is TEEP_E_SUIT_UNSUPPORTED.  Returns 0
 * or a TEEP_E_* code. */
int teep_suit_params_decode(teep_slice_t map, teep_suit_params_t *out,
                            teep_diag_t *diag);

/* ------------------------------------------------------------------ */
/* Component identifiers                                              */

/*
 * Encode a component identifier written as text: segments separated by
 * '/'; a segment of exactly 32 hex digits is 16 bytes (a UUID), "0x"
 * followed by an even number of hex digits is those bytes, anything else
 * is its UTF-8 bytes.
 * "TEEP-Device/SecureFS/8d82573a926d4754935332dc29997f74/ta" gives
 * ['TEEP-Device', 'SecureFS', h'8D82...7F74', 'ta'].  Writes the CBOR array
 * into out[0..cap).  Returns 0, -EINVAL (empty text or segment, more than
 * TEEP_SUIT_MAX_COMPONENTS segments), -ENOSPC.
 */
int teep_suit_component_id_from_text(const char *text, uint8_t *out, size_t cap,
                                     size_t *out_len);

/* The reverse, NUL-terminated into out[0..cap): 16-byte segments as 32 hex
 * digits, printable text without '/' as itself, other bytes as 0x...
 * Returns 0, a TEEP_E_* code for a malformed identifier, -ENOSPC. */
int teep_suit_component_id_to_text(teep_slice_t encoded, char *out, size_t cap);

/* ------------------------------------------------------------------ */
/* Processor                                                          */

/* The component a callback acts on. */
typedef struct teep_suit_component {
    teep_slice_t id;          /* encoded SUIT_Component_Identifier */
    teep_slice_t manifest_id; /* id of the manifest naming it; may be empty */
    uint32_t index;           /* its index in that manifest */
    bool is_dependency;       /* a dependency manifest, not an image */
} teep_suit_component_t;

/*
 * What the processor asks of the device.  Every function returns 0 or a
 * negative code (which becomes the report's result code, reason
 * operation-failed).  Byte slices a callback hands back stay owned by the
 * callback's side and must stay valid until teep_suit_process returns, and
 * as long as the report is used when they hold a dependency's envelope
 * (its records point into it).  A NULL member makes the commands that need
 * it fail as unsupported.
 */
typedef struct teep_suit_ops {
    /* Fetch uri (a real URI: integrated "#..." payloads and envelope
     * elements named by the uri are resolved by the processor). */
    int (*fetch)(void *ctx, const teep_suit_component_t *c, teep_slice_t uri,
                 teep_slice_t *bytes);
    /* Store bytes as the content of component c (fetch, write, copy). */
    int (*write)(void *ctx, const teep_suit_component_t *c, teep_slice_t bytes);
    /* Current content of c (image-match, check-content, copy source);
     * -ENOENT when c holds nothing. */
    int (*read)(void *ctx, const teep_suit_component_t *c, teep_slice_t *bytes);
    /* Decrypt ciphertext with the SUIT_Encryption_Info (encoded COSE_Encrypt,
     * parameter 19) for component c. */
    int (*decrypt)(void *ctx, const teep_suit_component_t *c,
                   teep_slice_t encryption_info, teep_slice_t ciphertext,
                   teep_slice_t *plaintext);
    int (*invoke)(void *ctx, const teep_suit_component_t *c, teep_slice_t args);
    /* Unlink c (directive 33): drop the reference this manifest holds. */
    int (*unlink)(void *ctx, const teep_suit_component_t *c);
    /* Slot index of c (condition component-slot). */
    int (*slot)(void *ctx, const teep_suit_component_t *c, uint64_t *slot);
    /* Sequence number of the installed manifest with this id, -ENOENT if
     * none (then any sequence number is accepted). */
    int (*installed_sequence)(void *ctx, teep_slice_t manifest_id,
                              uint64_t *sequence_number);
    /* The stored envelope of an installed manifest, for process-dependency
     * when the dependency was not fetched in this run (invoke, uninstall).
     * -ENOENT if none. */
    int (*load_manifest)(void *ctx, teep_slice_t manifest_id,
                         teep_slice_t *envelope);
    /* After a successful update: record that the manifest with this id
     * and sequence number is installed (its envelope bytes, to keep for
     * later invoke / uninstall).  Called for each dependency processed,
     * then for the root. */
    int (*commit)(void *ctx, teep_slice_t manifest_id, uint64_t sequence_number,
                  teep_slice_t envelope);
} teep_suit_ops_t;

/* The procedures: update runs dependency-resolution, payload-fetch,
 * candidate-verification, install, validate; invoke runs validate, load,
 * invoke (both: validate once); uninstall runs uninstall alone. */
enum {
    TEEP_SUIT_PROC_UPDATE = 1u << 0,
    TEEP_SUIT_PROC_INVOKE = 1u << 1,
    TEEP_SUIT_PROC_UNINSTALL = 1u << 2,
};

/* Identifiers the device matches: a condition passes when the parameter
 * equals one of them (byte-exact). */
typedef struct teep_suit_ids {
    const teep_slice_t *ids;
    size_t count;
} teep_suit_ids_t;

typedef struct teep_suit_config {
    const teep_key_t *trust_anchors; /* TC signers; dependencies too */
    size_t n_trust_anchors;
    teep_suit_ids_t vendor_ids;
    teep_suit_ids_t class_ids;
    teep_suit_ids_t device_ids;
    unsigned procedure;         /* TEEP_SUIT_PROC_* */
    teep_slice_t nonce;         /* suit-report-nonce (the Update token) */
    teep_slice_t reference_uri; /* report uri; empty: the manifest's */
} teep_suit_config_t;

/* A SUIT_Record, and the system information that goes with it. */
typedef struct teep_suit_record {
    uint8_t manifest_path[TEEP_SUIT_MAX_DEPENDENCY_DEPTH]; /* dependency
                                                  indices from the root */
    uint8_t manifest_path_len;
    int64_t section; /* manifest key of the sequence (3: shared) */
    size_t offset;   /* of the command in the section's bytes */
    uint32_t component_index;
    int64_t command;
    bool success;
    /* parameters the command consumed, except content (the payload, up
     * to megabytes): its length stands in as image-size */
    teep_suit_params_t properties;
    /* system-property-claims when the policy asks for sysinfo */
    bool has_system;
    teep_slice_t system_component_id;
    teep_suit_params_t system; /* ids, image size the device has */
    bool has_measured_digest;  /* system image digest: SHA-256 below */
    uint8_t measured_digest[32];
} teep_suit_record_t;

typedef struct teep_suit_report {
    teep_slice_t reference_uri;
    int64_t digest_alg; /* SUIT_Digest of the manifest, copied */
    uint8_t digest[64];
    size_t digest_len;
    teep_slice_t nonce; /* empty: omitted */
    size_t n_records;
    size_t dropped_records; /* beyond TEEP_SUIT_MAX_RECORDS */
    teep_suit_record_t records[TEEP_SUIT_MAX_RECORDS];
    bool success;
    int result_code; /* 0 or the failure's code */
    teep_suit_reason_t reason;
    teep_suit_record_t result_record; /* where it failed */
    teep_diag_t diag;                 /* why, in words */
} teep_suit_report_t;

/*
 * Decode, verify (against cfg->trust_anchors) and run the envelope in
 * buf[0..len) for cfg->procedure, calling ops with ctx.  Checks that the
 * sequence number is newer than the installed one (update; equal is
 * accepted for dependencies and for invoke / uninstall), stops at the
 * first failure, and calls ops->commit after a successful update.  Fills
 * *report (may be NULL) in every case; the report points into buf, into
 * cfg and into dependency envelopes the callbacks handed over.  Returns 0 when
 * the procedure succeeded, else the code of the failure (TEEP_E_* input /
 * signature errors, TEEP_E_SUIT_*, a callback's code, -EINVAL for a bad cfg).
 */
int teep_suit_process(const uint8_t *buf, size_t len,
                      const teep_suit_config_t *cfg, const teep_suit_ops_t *ops,
                      void *ctx, teep_suit_report_t *report);

/* The same for an envelope the caller decoded and verified already
 * (env->verified must be set, else TEEP_E_SIGNATURE).  Dependencies are
 * still verified against cfg->trust_anchors. */
int teep_suit_process_envelope(const teep_suit_envelope_t *env,
                               const teep_suit_config_t *cfg,
                               const teep_suit_ops_t *ops, void *ctx,
                               teep_suit_report_t *report);

/* Encode the report as an (unsigned) SUIT_Report into out[0..cap); with out
 * NULL only *out_len is computed.  Returns 0 or -ENOSPC (*out_len is then
 * the size needed). */
int teep_suit_report_encode(const teep_suit_report_t *report, uint8_t *out,
                            size_t cap, size_t *out_len);

/* ------------------------------------------------------------------ */
/* Builder                                                            */

/* A dependency the built manifest resolves, fetches and processes. */
typedef struct teep_suit_build_dependency {
    teep_slice_t manifest_id;     /* encoded id: the dependency's prefix */
    teep_slice_t uri;             /* where to fetch its envelope */
    teep_slice_t manifest_digest; /* SHA-256 of its wrapped manifest, 32 */
    uint64_t envelope_size;       /* 0: not stated */
} teep_suit_build_dependency_t;

/*
 * What to build: one component (component_id) whose image is payload,
 * delivered integrated (integrated_name, an envelope text key such as
 * "#tc") or by uri, or written from the manifest (encryption_info set:
 * payload is the ciphertext, carried as parameter content with the
 * encryption info, and plaintext_digest / plaintext_size describe what the
 * device checks after decrypting).  Slices are borrowed for the call.
 */
typedef struct teep_suit_build {
    teep_slice_t component_id;          /* encoded identifier */
    teep_slice_t manifest_component_id; /* encoded; empty: omitted */
    uint64_t sequence_number;
    teep_slice_t vendor_id; /* 16 bytes or empty (no condition) */
    teep_slice_t class_id;  /* 16 bytes or empty (no condition) */
    teep_slice_t payload;
    teep_slice_t integrated_name;    /* text; empty with uri set */
    teep_slice_t uri;                /* text */
    teep_slice_t encryption_info;    /* encoded SUIT_Encryption_Info */
    const uint8_t *plaintext_digest; /* 32 bytes, with encryption_info */
    uint64_t plaintext_size;
    teep_slice_t text; /* suit-text manifest description, or empty */
    size_t n_dependencies;
    const teep_suit_build_dependency_t *dependencies;
} teep_suit_build_t;

/*
 * Build and sign (COSE_Sign1, detached payload = the SUIT_Digest) the
 * envelope into out[0..cap).  With out NULL only *out_len is computed (no
 * signing).  Returns 0, -EINVAL (inconsistent request: neither or both of
 * integrated_name and uri without encryption_info, more than
 * TEEP_SUIT_MAX_DEPENDENCIES, a digest of the wrong size), -ENOSPC
 * (*out_len is then the size needed), or the signer's TEEP_E_ALG /
 * TEEP_E_KEY / TEEP_E_CRYPTO.
 */
int teep_suit_build(const teep_suit_build_t *b, const teep_signer_t *signer,
                    uint8_t *out, size_t cap, size_t *out_len);

#ifdef __cplusplus
}
#endif
#endif
