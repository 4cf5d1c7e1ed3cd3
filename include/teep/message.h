/*
 * teep/message.h: the five TEEP messages (draft-ietf-teep-protocol), their
 * data model and their CBOR codec.
 *
 * The model is profile-independent: message types, option names and error
 * codes use the renumbered values registered for draft -26 (the "rfc"
 * profile).  The codec translates to and from the wire numbering of the
 * profile chosen per peer (teep_profile_t).
 *
 * Decoding is zero-copy: byte and text strings, and elements that belong to
 * SUIT (tc-list entries, component identifiers, manifests, reports), are
 * slices into the caller's input.  Lists are stored in a caller-supplied
 * arena; nothing is allocated on the heap.
 *
 * Encoding writes into a caller buffer with libcbor's cbor_encode_*
 * functions and is deterministic: the token first, then every other option
 * in ascending order of its wire label, then the positional elements.  The
 * published vectors follow that order, so decode + encode reproduces them.
 */
#ifndef TEEP_MESSAGE_H
#define TEEP_MESSAGE_H

#include <stdbool.h>

#include "teep/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Numbering profiles (digest 0.1). */
typedef enum teep_profile {
    TEEP_PROFILE_RFC = 0,    /* renumbered, draft -26 / IANA: the default */
    TEEP_PROFILE_LEGACY = 1, /* classic: published examples, libteep */
} teep_profile_t;

/* "rfc" / "legacy" -> profile; returns 0 or -EINVAL. */
int teep_profile_parse(const char *name, teep_profile_t *out);
const char *teep_profile_name(teep_profile_t profile);

/* Message types, by their rfc numbers. */
typedef enum teep_msg_type {
    TEEP_QUERY_REQUEST = 1,
    TEEP_QUERY_RESPONSE = 2,
    TEEP_UPDATE = 3,
    TEEP_SUCCESS = 4,
    TEEP_ERROR = 5,
} teep_msg_type_t;

/* "QueryRequest", ...; "unknown" for anything else. */
const char *teep_msg_type_name(teep_msg_type_t type);

/* Wire number of a type in a profile, and back (0 if unknown). */
uint64_t teep_profile_type_to_wire(teep_profile_t profile, teep_msg_type_t t);
teep_msg_type_t teep_profile_type_from_wire(teep_profile_t profile,
                                            uint64_t wire);

/* Error codes (err-code), by their rfc numbers. */
enum {
    TEEP_ERR_PERMANENT_ERROR = 1,
    TEEP_ERR_UNSUPPORTED_EXTENSION = 2,
    TEEP_ERR_UNSUPPORTED_FRESHNESS_MECHANISMS = 3,
    TEEP_ERR_UNSUPPORTED_MSG_VERSION = 4,
    TEEP_ERR_UNSUPPORTED_CIPHER_SUITES = 5,
    TEEP_ERR_BAD_CERTIFICATE = 6,
    TEEP_ERR_ATTESTATION_REQUIRED = 7,
    TEEP_ERR_UNSUPPORTED_SUIT_REPORT = 8,
    TEEP_ERR_CERTIFICATE_EXPIRED = 9,
    TEEP_ERR_TEMPORARY_ERROR = 10,
    TEEP_ERR_MANIFEST_PROCESSING_FAILED = 11,
};

/* err-code translation (only MANIFEST_PROCESSING_FAILED differs: 11 <-> 17).
 * Unknown codes pass through unchanged. */
uint64_t teep_profile_err_to_wire(teep_profile_t profile, uint64_t err_code);
uint64_t teep_profile_err_from_wire(teep_profile_t profile, uint64_t wire);
/* "ERR_PERMANENT_ERROR", ...; NULL if unknown. */
const char *teep_err_code_name(uint64_t err_code);

/* Options, one bit each in teep_message_t.present.  The enum order is the
 * rfc label order. */
typedef enum teep_option {
    TEEP_OPT_SUPPORTED_TEEP_CIPHER_SUITES = 0,
    TEEP_OPT_CHALLENGE,
    TEEP_OPT_VERSIONS,
    TEEP_OPT_SUPPORTED_SUIT_COSE_PROFILES,
    TEEP_OPT_SELECTED_VERSION,
    TEEP_OPT_ATTESTATION_PAYLOAD,
    TEEP_OPT_TC_LIST,
    TEEP_OPT_EXT_LIST,
    TEEP_OPT_MANIFEST_LIST,
    TEEP_OPT_MSG,
    TEEP_OPT_ERR_MSG,
    TEEP_OPT_ATTESTATION_PAYLOAD_FORMAT,
    TEEP_OPT_REQUESTED_TC_LIST,
    TEEP_OPT_UNNEEDED_MANIFEST_LIST,
    TEEP_OPT_SUIT_REPORTS,
    TEEP_OPT_TOKEN,
    TEEP_OPT_SUPPORTED_FRESHNESS_MECHANISMS,
    TEEP_OPT_ERR_LANG,
    TEEP_OPT_ERR_CODE,
    TEEP_OPT_COUNT
} teep_option_t;

#define TEEP_OPT_BIT(o) (1u << (o))

/* Wire label of an option in a profile; option name ("token", ...). */
uint64_t teep_profile_option_label(teep_profile_t profile, teep_option_t o);
const char *teep_option_name(teep_option_t o);
/* Whether the CDDL allows option o in messages of type t. */
bool teep_option_allowed(teep_msg_type_t t, teep_option_t o);

/* requested-tc-info inner labels are options too in the wire tables:
 * component-id, tc-manifest-sequence-number, have-binary. */
typedef enum teep_tc_info_label {
    TEEP_TCI_COMPONENT_ID = 0,
    TEEP_TCI_TC_MANIFEST_SEQUENCE_NUMBER,
    TEEP_TCI_HAVE_BINARY,
} teep_tc_info_label_t;
uint64_t teep_profile_tc_info_label(teep_profile_t profile,
                                    teep_tc_info_label_t l);

/* data-item-requested bits. */
enum {
    TEEP_DATA_ATTESTATION = 1u << 0,
    TEEP_DATA_TRUSTED_COMPONENTS = 1u << 1,
    TEEP_DATA_EXTENSIONS = 1u << 2,
    TEEP_DATA_SUIT_REPORTS = 1u << 3,
};

/* freshness mechanisms */
enum { TEEP_FRESHNESS_NONCE = 0, TEEP_FRESHNESS_TIMESTAMP = 1 };

/* COSE algorithms and structure types TEEP names. */
enum {
    TEEP_COSE_SIGN1 = 18,
    TEEP_ALG_ES256 = -7,
    TEEP_ALG_EDDSA = -8,
    TEEP_ALG_ESP256 = -9,
    TEEP_ALG_ED25519 = -19,
};

/* A cipher suite: an array of operations [cose-type, cose-alg]. */
#define TEEP_SUITE_MAX_OPS 4
typedef struct teep_cipher_suite {
    uint8_t n_ops;
    struct {
        int64_t cose_type;
        int64_t alg;
    } ops[TEEP_SUITE_MAX_OPS];
} teep_cipher_suite_t;

/* A SUIT COSE profile: [digest, auth, key distribution, content
 * encryption], or the 2-element form of drafts <= 15. */
typedef struct teep_suit_profile {
    uint8_t n; /* 2 or 4 */
    int64_t alg[4];
} teep_suit_profile_t;

/* requested-tc-info */
typedef struct teep_requested_tc {
    teep_slice_t component_id; /* encoded SUIT_Component_Identifier */
    bool has_sequence_number;
    uint64_t sequence_number;
    bool has_have_binary;
    bool have_binary;
} teep_requested_tc_t;

/* An option this codec does not interpret (an extension, or a label the
 * CDDL does not allow in this message): kept as its encoded value so that
 * re-encoding reproduces it.  Decode leaves unknown_options sorted by
 * ascending label (the order encode writes them in); encode requires that
 * order, unique labels, no label of an option this message type has a
 * model field for, and each value one well-formed CBOR item. */
typedef struct teep_unknown_option {
    uint64_t label;
    teep_slice_t value; /* the encoded CBOR item */
} teep_unknown_option_t;

/* A list: pointer + count.  For decoded messages the items live in the
 * arena; for messages to encode, in memory the caller owns. */
#define TEEP_LIST(T)                                                           \
    struct {                                                                   \
        T *items;                                                              \
        size_t count;                                                          \
    }

/*
 * present holds TEEP_OPT_BIT(o) for each option carried in the options map.
 * Positional elements have no bit: QueryRequest's cipher_suites,
 * suit_profiles and data_item_requested, and Error's err_code, are always
 * there; decode leaves their bits clear and encode ignores them.  Encode
 * writes exactly the options whose bit is set (a field without its bit is
 * not written) and refuses with -EINVAL a bit for an option the type's
 * CDDL does not allow.
 */
typedef struct teep_message {
    teep_msg_type_t type;
    uint32_t present; /* TEEP_OPT_BIT(option) for each option present */

    teep_slice_t token;
    teep_slice_t challenge;
    teep_slice_t attestation_payload;
    teep_slice_t attestation_payload_format; /* text */
    teep_slice_t msg;                        /* text */
    teep_slice_t err_msg;                    /* text */
    teep_slice_t err_lang;                   /* text */
    uint32_t selected_version;
    /* Error: positional (always there); Update: the err-code option.
     * In the rfc numbering (decode translates, encode translates back). */
    uint64_t err_code;
    /* QueryRequest positional */
    uint64_t data_item_requested;

    /* QueryRequest: positional; Error: options. */
    TEEP_LIST(teep_cipher_suite_t) cipher_suites;
    TEEP_LIST(teep_suit_profile_t) suit_profiles;

    TEEP_LIST(uint32_t) versions;
    TEEP_LIST(uint64_t) freshness_mechanisms;
    TEEP_LIST(uint32_t) ext_list;
    TEEP_LIST(teep_slice_t) suit_reports; /* bstr contents */
    TEEP_LIST(teep_slice_t) tc_list;      /* encoded maps */
    TEEP_LIST(teep_requested_tc_t) requested_tc_list;
    TEEP_LIST(teep_slice_t) unneeded_manifest_list; /* encoded comp. ids */
    TEEP_LIST(teep_slice_t) manifest_list; /* bstr contents (envelopes) */
    TEEP_LIST(teep_unknown_option_t) unknown_options;
} teep_message_t;

/* Caller-owned memory that a decoder carves lists out of (from base +
 * used, each list aligned to 8 bytes).  Exhausting it is TEEP_E_LIMIT,
 * never a heap allocation. */
typedef struct teep_arena {
    uint8_t *base;
    size_t size;
    size_t used;
} teep_arena_t;

static inline void teep_arena_init(teep_arena_t *a, void *mem, size_t size)
{
    a->base = (uint8_t *)mem;
    a->size = size;
    a->used = 0;
}

/* An arena size that holds any message of up to ~64 KiB with typical
 * list lengths. */
#define TEEP_ARENA_DEFAULT 16384

/*
 * Decode one unsigned TEEP message (the COSE payload) from buf[0..len).
 * The whole buffer must be exactly one message (trailing bytes are an
 * error).  On success *out holds slices into buf and lists in arena; buf
 * and the arena must outlive *out; arena->used grows by what the lists
 * take.  A message without lists needs no arena (arena may be NULL).
 * Returns 0 or a TEEP_E_* code (-EINVAL for a NULL out or a bad profile)
 * with diag (may be NULL) telling where and why; on failure *out is
 * zeroed and the arena is left as it was.  Checks: CBOR well-formedness,
 * definite lengths, depth <= TEEP_MAX_DEPTH, exactly the array elements
 * the type's CDDL has (fewer: TEEP_E_MISSING, more: TEEP_E_RANGE), types
 * and sizes from the CDDL for every option the type allows, duplicate
 * labels.  Other options are kept in unknown_options.  Values the CDDL
 * leaves open pass: any err-code but the reserved 0 (unassigned ones are
 * "unknown errors" for the receiver), any data-item-requested bits, any
 * version number (support is the Agent's check, not the codec's).
 */
int teep_message_decode(const uint8_t *buf, size_t len, teep_profile_t profile,
                        teep_arena_t *arena, teep_message_t *out,
                        teep_diag_t *diag);

/*
 * Encode msg in profile's numbering into out[0..cap).  On success
 * *out_len is the encoded size.  Returns 0, -ENOSPC when cap is too small
 * (*out_len then holds the size needed; out may be NULL with cap 0 to
 * learn it), or -EINVAL / TEEP_E_RANGE / TEEP_E_MISSING when msg breaks
 * the CDDL (a token of 3 bytes, an Error without err-code, an empty list,
 * a malformed encoded item, ...); msg is checked completely first, with
 * the decoder's rules, so whatever encodes decodes to the same model.
 * Reads msg; copies its bytes.
 */
int teep_message_encode(const teep_message_t *msg, teep_profile_t profile,
                        uint8_t *out, size_t cap, size_t *out_len);

#ifdef __cplusplus
}
#endif
#endif
