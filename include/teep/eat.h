/*
 * teep/eat.h: attestation for TEEP (digest section 2): the Entity
 * Attestation Token (RFC 9711) claims of the TEEP EAT profile, Evidence
 * signed by a device attestation key, its appraisal by a Verifier for the
 * TAM (background-check model), and signed Attestation Results that a TAM
 * accepts from a configured Verifier (passport model).
 *
 * Tokens are CWTs: a COSE_Sign1 (tag 18, optionally inside the CWT tag 61)
 * whose payload is the claims map.  Claims are integer-labelled:
 *
 *   1 iss, 6 iat, 8 cnf {3: kid}, 10 eat_nonce, 256 ueid, 258 oemid,
 *   259 hwmodel, 260 hwversion, 265 eat_profile, 270 swname,
 *   271 swversion, 272 manifests
 *
 * and, in Attestation Results only, two private-use labels (RFC 8392
 * reserves labels below -65536 for private use; libteep uses -70000 the
 * same way): -70001 status, an AR4SI trustworthiness tier with the code
 * points EAR gives "ear.status" (0 none, 2 affirming, 32 warning, 96
 * contraindicated), and -70002 the list of teep_eat_reason_t codes behind
 * it.  EAR's own integer labels (1000...) are not IANA-registered, so we do
 * not squat on them.
 *
 * Evidence may carry one more private-use claim, -70003 pd-key: a bstr
 * holding the encoded public COSE_Key (EC2 P-256) of the Agent's
 * personalization-data key, the ECDH key a data owner encrypts PD to.  The
 * attestation key's signature binds it to the attested TEE (principle 2 of
 * USECASE.md: PD readable only by the attested TEE); docs/attestation.md.
 * And -70004 ta-keys: [+ [component-id: bstr, key-sha256: bstr .size 32]],
 * for each running TA that registered a public key with its TEE (the key
 * its callers agree a channel with), the SHA-256 of that key, so the
 * attestation key's signature binds the key to the TA in the attested TEE.
 *
 * manifests entries are [content-type, bstr]; for the TEEP profile the body
 * is a SUIT_Reference [uri, SUIT_Digest] (suit-report) wrapped in a bstr,
 * with content-type TEEP_EAT_MANIFEST_CONTENT_TYPE until suit-report's CoAP
 * content-format is assigned.
 *
 * Decoding is strict, bounded and zero-copy: every string is a slice of the
 * caller's input, which must outlive the claims; nothing is allocated.
 * Encoding is deterministic (RFC 8949 core deterministic order, which for
 * these labels is the order of the list above, then -70001, -70002,
 * -70003, -70004).
 */
#ifndef TEEP_EAT_H
#define TEEP_EAT_H

#include <stdbool.h>

#include "teep/common.h"
#include "teep/cose.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The TEEP EAT profile identifier (digest 2.2).  XXXX stands for the TEEP
 * protocol RFC number, which is not assigned yet; the draft itself uses
 * this literal string, so peers built from it agree on it. */
#define TEEP_EAT_PROFILE_URI "urn:ietf:rfc:rfcXXXX"

/* CoAP content-format 60 (application/cbor) for a manifests entry whose
 * body is a bstr-wrapped SUIT_Reference: the draft's own placeholder
 * (digest 1.14-4), to be replaced by suit-report's value once assigned. */
#define TEEP_EAT_MANIFEST_CONTENT_TYPE 60

/* Claim labels. */
enum {
    TEEP_EAT_LABEL_ISS = 1,
    TEEP_EAT_LABEL_IAT = 6,
    TEEP_EAT_LABEL_CNF = 8,
    TEEP_EAT_LABEL_NONCE = 10,
    TEEP_EAT_LABEL_UEID = 256,
    TEEP_EAT_LABEL_OEMID = 258,
    TEEP_EAT_LABEL_HWMODEL = 259,
    TEEP_EAT_LABEL_HWVERSION = 260,
    TEEP_EAT_LABEL_PROFILE = 265,
    TEEP_EAT_LABEL_SWNAME = 270,
    TEEP_EAT_LABEL_SWVERSION = 271,
    TEEP_EAT_LABEL_MANIFESTS = 272,
    TEEP_EAT_LABEL_AR_STATUS = -70001,
    TEEP_EAT_LABEL_AR_REASONS = -70002,
    TEEP_EAT_LABEL_PD_KEY = -70003,
    TEEP_EAT_LABEL_TA_KEYS = -70004,
};

/* One bit per claim in teep_eat_claims_t.present. */
enum {
    TEEP_EAT_HAS_ISS = 1u << 0,
    TEEP_EAT_HAS_IAT = 1u << 1,
    TEEP_EAT_HAS_CNF = 1u << 2,
    TEEP_EAT_HAS_NONCE = 1u << 3,
    TEEP_EAT_HAS_UEID = 1u << 4,
    TEEP_EAT_HAS_OEMID = 1u << 5,
    TEEP_EAT_HAS_HWMODEL = 1u << 6,
    TEEP_EAT_HAS_HWVERSION = 1u << 7,
    TEEP_EAT_HAS_PROFILE = 1u << 8,
    TEEP_EAT_HAS_SWNAME = 1u << 9,
    TEEP_EAT_HAS_SWVERSION = 1u << 10,
    TEEP_EAT_HAS_MANIFESTS = 1u << 11,
    TEEP_EAT_HAS_AR_STATUS = 1u << 12,
    TEEP_EAT_HAS_AR_REASONS = 1u << 13,
    TEEP_EAT_HAS_PD_KEY = 1u << 14,
    TEEP_EAT_HAS_TA_KEYS = 1u << 15,
};

/* Claims the TEEP profile requires in Evidence (digest 2.2); eat_nonce too
 * when the nonce freshness mechanism is used. */
#define TEEP_EAT_REQUIRED                                                      \
    (TEEP_EAT_HAS_UEID | TEEP_EAT_HAS_OEMID | TEEP_EAT_HAS_HWMODEL |           \
     TEEP_EAT_HAS_HWVERSION | TEEP_EAT_HAS_MANIFESTS | TEEP_EAT_HAS_CNF)

/* Sizes from the RFC 9711 CDDL, and bounds of this build. */
#define TEEP_EAT_NONCE_MIN     8
#define TEEP_EAT_NONCE_MAX     64
#define TEEP_EAT_UEID_MIN      7
#define TEEP_EAT_UEID_MAX      33
#define TEEP_EAT_HWMODEL_MAX   32
#define TEEP_EAT_KID_MAX       64   /* cnf kid; a SHA-256 thumbprint is 32 */
#define TEEP_EAT_DIGEST_MAX    64   /* SUIT_Digest bytes, up to SHA-512 */
#define TEEP_EAT_TEXT_MAX      1024 /* iss, swname, URIs, versions */
#define TEEP_EAT_MAX_MANIFESTS 16
#define TEEP_EAT_MAX_REASONS   16
#define TEEP_EAT_MAX_UNKNOWN   16
#define TEEP_EAT_PD_KEY_MAX    256 /* an encoded public COSE_Key */
#define TEEP_EAT_MAX_TA_KEYS   8   /* ta-keys entries */
#define TEEP_EAT_COMPONENT_MAX 256 /* an encoded SUIT_Component_Identifier */
#define TEEP_EAT_KEY_HASH_LEN  32  /* SHA-256 */

/* hwversion / swversion: [version, ? scheme].  RFC 9711 has the version as
 * text; libteep writes a byte string, which decode accepts and flags so
 * that re-encoding reproduces it. */
typedef struct teep_eat_version {
    teep_slice_t version;
    bool as_bytes;
    bool has_scheme;
    int64_t scheme; /* CoSWID $version-scheme: 1 multipartnumeric, ... */
} teep_eat_version_t;

/* oemid: an IANA Private Enterprise Number, or 3 (IEEE OUI) or 16 (random)
 * bytes. */
typedef struct teep_eat_oemid {
    bool is_pen;
    int64_t pen;
    teep_slice_t id;
} teep_eat_oemid_t;

/* One manifests entry.  With TEEP_EAT_MANIFEST_CONTENT_TYPE the body is a
 * SUIT_Reference and uri / digest_alg / digest are its fields (decode
 * fills them from body; encode writes body from them).  Any other content
 * type is carried as the opaque body. */
typedef struct teep_eat_manifest {
    uint64_t content_type;
    teep_slice_t body;
    teep_slice_t uri;
    int64_t digest_alg; /* COSE hash algorithm, -16 = SHA-256 */
    teep_slice_t digest;
} teep_eat_manifest_t;

/* A claim this codec does not model: its label (an integer, or text when
 * text_label.ptr is set) and its encoded value.  Decode only: encode never
 * writes these. */
typedef struct teep_eat_unknown {
    int64_t label;
    teep_slice_t text_label;
    teep_slice_t value;
} teep_eat_unknown_t;

/* One ta-keys entry: a TA (its encoded SUIT_Component_Identifier) and
 * the SHA-256 of the public key it registered with its TEE. */
typedef struct teep_eat_ta_key {
    teep_slice_t component_id;
    teep_slice_t key_sha256; /* TEEP_EAT_KEY_HASH_LEN bytes */
} teep_eat_ta_key_t;

/* AR4SI trustworthiness tiers (the EAR "ear.status" code points). */
typedef enum teep_eat_status {
    TEEP_EAT_STATUS_NONE = 0,
    TEEP_EAT_STATUS_AFFIRMING = 2,
    TEEP_EAT_STATUS_WARNING = 32,
    TEEP_EAT_STATUS_CONTRAINDICATED = 96,
} teep_eat_status_t;

/*
 * A claims set.  present says which fields hold a claim (TEEP_EAT_HAS_*);
 * a field without its bit is ignored by encode and left zero by decode.
 * Strings are slices: into the decoded input, or, to encode, into memory
 * the caller owns.  Text (iss, swname, versions, the profile URI, a
 * manifest's uri) is UTF-8 without a terminator.
 */
typedef struct teep_eat_claims {
    uint32_t present;
    teep_slice_t iss;
    int64_t iat; /* NumericDate, seconds since the epoch */
    teep_slice_t cnf_kid;
    teep_slice_t nonce;
    teep_slice_t ueid;
    teep_eat_oemid_t oemid;
    teep_slice_t hwmodel;
    teep_eat_version_t hwversion;
    teep_slice_t profile; /* a URI (text) or, if profile_is_oid, an OID */
    bool profile_is_oid;
    teep_slice_t swname;
    teep_eat_version_t swversion;
    size_t n_manifests;
    teep_eat_manifest_t manifests[TEEP_EAT_MAX_MANIFESTS];
    teep_eat_status_t ar_status;
    size_t n_ar_reasons;
    uint16_t ar_reasons[TEEP_EAT_MAX_REASONS]; /* teep_eat_reason_t */
    teep_slice_t pd_key; /* encoded public COSE_Key (Evidence) */
    size_t n_ta_keys;    /* ta-keys (Evidence) */
    teep_eat_ta_key_t ta_keys[TEEP_EAT_MAX_TA_KEYS];
    size_t n_unknown;
    teep_eat_unknown_t unknown[TEEP_EAT_MAX_UNKNOWN];
} teep_eat_claims_t;

/* Name of a claim ("ueid", "eat_nonce", "ar-status", ...); NULL for a
 * label this codec does not model. */
const char *teep_eat_claim_name(int64_t label);

/*
 * Decode a claims map from buf[0..len) (the whole buffer is the one map).
 * Known claims are checked against the RFC 9711 / TEEP profile CDDL (types,
 * sizes; no tags; text is valid UTF-8; a claim appears once); unknown
 * claims, integer- or text-labelled, must be well-formed and nest at most
 * TEEP_MAX_DEPTH levels, and are listed in out->unknown (more than
 * TEEP_EAT_MAX_UNKNOWN of them is TEEP_E_LIMIT: keeping them all is what
 * lets every duplicate label be refused).  On success *out
 * holds slices into buf.  Returns 0, or a TEEP_E_* code with diag (may be
 * NULL) saying why and at which offset of buf; *out is then zeroed.
 */
int teep_eat_claims_decode(const uint8_t *buf, size_t len,
                           teep_eat_claims_t *out, teep_diag_t *diag);

/*
 * Encode the claims whose present bit is set, deterministically, into
 * out[0..cap); copies everything.  *out_len receives the size, also on
 * -ENOSPC, so a call with out NULL and cap 0 measures.  What is written
 * must decode with teep_eat_claims_decode (encode checks it), so a claim
 * outside the profile's sizes is refused; the check decodes into a
 * teep_eat_claims_t on the stack (about 2 KiB).  Returns 0, -ENOSPC, or
 * -EINVAL (a claim the decoder would refuse, or no claim at all).
 */
int teep_eat_claims_encode(const teep_eat_claims_t *claims, uint8_t *out,
                           size_t cap, size_t *out_len);

/*
 * Encode claims and sign them as COSE_Sign1 (teep_cose_sign1: protected
 * {1: alg}, unprotected {4: kid}) with signer, the device attestation key
 * for Evidence or the Verifier's key for a result.  The encoded claims are
 * staged at the end of out, so cap must hold the token plus one more copy
 * of the claims (about twice the claims plus 128 bytes).  Returns 0, or
 * the codes of teep_eat_claims_encode and teep_cose_sign1.
 */
int teep_eat_sign(const teep_signer_t *signer, const teep_eat_claims_t *claims,
                  uint8_t *out, size_t cap, size_t *out_len);

/*
 * Parse a token without verifying it, for inspection (the CLI's decode):
 * a COSE_Sign1, optionally inside the CWT tag 61, with an attached payload
 * that decodes as claims.  cose and claims receive slices into buf.  Never
 * trust what this returns: use the verifier.  Returns 0 or a TEEP_E_* code
 * with diag; diag->offset counts from the start of buf.
 */
int teep_eat_parse(const uint8_t *buf, size_t len, teep_cose_t *cose,
                   teep_eat_claims_t *claims, teep_diag_t *diag);

/* ---- Verifier ---------------------------------------------------------- */

/* Why a token is not affirmed; each reason has a fixed tier
 * (teep_eat_reason_tier) except AR_NOT_AFFIRMING, which takes the tier the
 * Attestation Result states. */
typedef enum teep_eat_reason {
    TEEP_EAT_R_MALFORMED = 1,  /* not a token, or claims refused */
    TEEP_EAT_R_UNKNOWN_KEY,    /* signed by no enrolled key */
    TEEP_EAT_R_BAD_SIGNATURE,  /* the enrolled key does not verify it */
    TEEP_EAT_R_NONCE_MISSING,  /* a nonce was expected, none in claims */
    TEEP_EAT_R_NONCE_MISMATCH, /* eat_nonce is not the challenge */
    TEEP_EAT_R_STALE,          /* too old, from the future, age unknown */
    TEEP_EAT_R_NOT_FRESH,      /* policy checks no freshness (warning) */
    TEEP_EAT_R_UNKNOWN_MODEL,  /* hwmodel absent or not allowed */
    TEEP_EAT_R_SW_NOT_ALLOWED, /* swname/swversion absent or not allowed */
    TEEP_EAT_R_MANIFEST_NOT_ALLOWED, /* a manifest digest not allowed */
    TEEP_EAT_R_CNF_MISSING,          /* no cnf while the policy expects one */
    TEEP_EAT_R_CNF_MISMATCH,     /* cnf kid is not the TEEP message signer's */
    TEEP_EAT_R_CNF_UNCHECKED,    /* policy checks no cnf (warning) */
    TEEP_EAT_R_CLAIM_MISSING,    /* a claim the profile requires (warning) */
    TEEP_EAT_R_PROFILE_MISMATCH, /* eat_profile is not the TEEP profile */
    TEEP_EAT_R_AR_NOT_AFFIRMING, /* the Attestation Result says so */
    TEEP_EAT_R_AR_NO_STATUS,     /* a result without a status (warning) */
    TEEP_EAT_R_COUNT
} teep_eat_reason_t;

/* "malformed", "unknown-key", ...; "unknown" past the list. */
const char *teep_eat_reason_name(teep_eat_reason_t reason);
/* The tier a reason puts a result in at least. */
teep_eat_status_t teep_eat_reason_tier(teep_eat_reason_t reason);
/* "none", "affirming", "warning", "contraindicated"; "unknown" else. */
const char *teep_eat_status_name(teep_eat_status_t status);

/* An enrolled key: a device's attestation key (Evidence) or a Verifier's
 * signing key (Attestation Results), public part at least. */
typedef struct teep_eat_trusted_key {
    const teep_key_t *key;
    const char *label; /* device or Verifier name, for the result */
} teep_eat_trusted_key_t;

/* Allowed software: name, and version when not NULL. */
typedef struct teep_eat_sw_ref {
    const char *name;
    const char *version;
} teep_eat_sw_ref_t;

/*
 * What the TAM expects.  The policy and everything it points to must
 * outlive the result (result->key points into keys).  An empty reference
 * list (n == 0) allows any value; a NULL slice (ptr NULL) checks nothing.
 *
 * Freshness: nonce is the challenge the TAM sent (background check) or the
 * QueryRequest token (passport).  With max_age > 0 the token is stale when
 * iat is older than max_age seconds before now or later than now, or when
 * the challenge was issued (challenge_time, 0 = unknown) more than max_age
 * seconds before now; without iat the challenge's time must show the age.
 * clock_skew seconds of tolerance apply to every comparison.  A policy with
 * neither nonce nor max_age gets a NOT_FRESH warning.
 *
 * cnf_kid is the RFC 9679 thumbprint of the key that signed the enclosing
 * TEEP message (proof of possession, digest 2.3); without it the result
 * gets a CNF_UNCHECKED warning.
 */
typedef struct teep_eat_policy {
    const teep_eat_trusted_key_t *keys;
    size_t n_keys;
    const teep_slice_t *hwmodels;
    size_t n_hwmodels;
    const teep_eat_sw_ref_t *sw;
    size_t n_sw;
    const teep_slice_t *manifest_digests; /* allowed SUIT_Reference digests */
    size_t n_manifest_digests;
    teep_slice_t nonce;
    teep_slice_t cnf_kid;
    int64_t now;
    int64_t challenge_time;
    uint32_t max_age;
    uint32_t clock_skew;
} teep_eat_policy_t;

#define TEEP_EAT_MAX_FINDINGS 16

typedef struct teep_eat_finding {
    teep_eat_reason_t reason;
    teep_eat_status_t tier;
    char text[112];
} teep_eat_finding_t;

/*
 * An appraisal.  status is the worst tier of all findings (AFFIRMING when
 * there are none).  Findings past TEEP_EAT_MAX_FINDINGS still count in
 * status and n_findings_total but are not stored.  claims are valid only
 * when claims_verified (signature checked with key); they are slices of the
 * token, which must outlive the result.
 */
typedef struct teep_eat_result {
    teep_eat_status_t status;
    size_t n_findings;
    size_t n_findings_total;
    teep_eat_finding_t findings[TEEP_EAT_MAX_FINDINGS];
    bool claims_verified;
    teep_eat_claims_t claims;
    const teep_eat_trusted_key_t *key; /* the key that verified, or NULL */
    teep_slice_t kid;                  /* kid in the token's header */
    teep_diag_t diag;                  /* where, for MALFORMED */
} teep_eat_result_t;

/*
 * Appraise Evidence buf[0..len) against policy (background-check model):
 * find the enrolled key by the header kid (every key when there is none),
 * verify the signature, decode the claims, then check freshness, cnf,
 * reference values, the eat_profile and the claims the TEEP profile
 * requires.  Returns 0 when the token was appraised, whatever the status;
 * a TEEP_E_* code when it is malformed (result: CONTRAINDICATED with a
 * MALFORMED finding, result->diag where); TEEP_E_CRYPTO when the backend
 * failed; -EINVAL for a NULL argument.
 */
int teep_eat_verify_evidence(const uint8_t *buf, size_t len,
                             const teep_eat_policy_t *policy,
                             teep_eat_result_t *result);

/*
 * Appraise a signed Attestation Result (passport model) against policy,
 * whose keys are the Verifiers the TAM trusts: signature, freshness, cnf
 * and reference values as for Evidence, and the Verifier's own status
 * (-70001): a result is affirming only when the Verifier affirmed.  A
 * result without a status (libteep's) gets an AR_NO_STATUS warning.
 * Returns as teep_eat_verify_evidence.
 */
int teep_eat_verify_ar(const uint8_t *buf, size_t len,
                       const teep_eat_policy_t *policy,
                       teep_eat_result_t *result);

/*
 * Issue a signed Attestation Result for an appraisal: iss = issuer (may be
 * NULL), iat, eat_profile = TEEP_EAT_PROFILE_URI, status and the reason
 * codes of result, and when result->claims_verified the appraised device
 * claims (cnf, eat_nonce, ueid, oemid, hwmodel, hwversion, swname,
 * swversion, manifests, ta-keys).  result's claims point into the Evidence,
 * which must still be alive.  Writes into out[0..cap) as teep_eat_sign.
 */
int teep_eat_ar_sign(const teep_signer_t *verifier,
                     const teep_eat_result_t *result, const char *issuer,
                     int64_t iat, uint8_t *out, size_t cap, size_t *out_len);

#ifdef __cplusplus
}
#endif
#endif
