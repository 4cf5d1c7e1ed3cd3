/*
 * teep_agent.h: the TEEP Agent core (libteepagent), the part of a TEE
 * plugin that speaks TEEP (digest 4.3).  It verifies TAM messages against
 * configured trust anchors, answers QueryRequest with QueryResponse and
 * Evidence, runs Update through the SUIT processor, and answers Success or
 * Error.  It does no I/O except in its state directory; everything the TEE
 * itself does (run a TA, hand it personalization data, install a UA in the
 * REE) goes through teep_agent_tee_ops_t, which the TEE plugin provides.
 *
 * Crypto is libteepproto's mbedtls backend: ESP256 for TEEP messages and
 * Evidence, P-256 ECDH for personalization data.  docs/agent.md describes
 * the behaviour, the state files and principle 1.
 *
 * Threads: one teep_agent_t is used by one thread at a time (the TEE plugin
 * host serialises calls per session).
 */
#ifndef TEEP_AGENT_H
#define TEEP_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "teep/common.h"
#include "teep/cose.h"
#include "teep/message.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Capacities of the Agent's state. */
#define TEEP_AGENT_MAX_TAMS       8
#define TEEP_AGENT_MAX_SIGNERS    8
#define TEEP_AGENT_MAX_MANIFESTS  32
#define TEEP_AGENT_MAX_COMPONENTS 32
#define TEEP_AGENT_MAX_REQUESTS   16
#define TEEP_AGENT_MAX_CHAINS     16
/* Public keys the Agent writes (PEM, mode 0644) into its state directory
 * on every open, for the network user to register the device with a TAM:
 * the key that signs its TEEP messages and the one that signs its
 * Evidence.  (The PD key is published in attested Evidence instead.) */
#define AGENT_PUBLIC_TEEP_KEY   "teep-key.pub.pem"
#define AGENT_PUBLIC_ATTEST_KEY "attestation-key.pub.pem"

/* Largest sealed state file and largest TEEP reply. */
#define TEEP_AGENT_STATE_MAX (64u << 20)

/* profile: follow what each TAM sends (its first decodable message). */
#define TEEP_AGENT_PROFILE_AUTO (-1)

/* What a component is, from the last segment of its identifier
 * (docs/agent.md): "ta" an executable TA, "ua" an Untrusted Application
 * for the REE, anything else personalization data for a TA. */
typedef enum teep_agent_kind {
    TEEP_AGENT_KIND_TA = 1,
    TEEP_AGENT_KIND_UA = 2,
    TEEP_AGENT_KIND_PD = 3,
} teep_agent_kind_t;

/*
 * What the TEE does for the Agent.  Byte arguments are borrowed for the
 * call.  Each returns 0 or a negative code, which fails the manifest that
 * asked for it (ERR_MANIFEST_PROCESSING_FAILED with a SUIT report).
 */
typedef struct teep_agent_tee_ops {
    /* Install the TA component_id (an encoded identifier) whose
     * executable is bytes, replacing any older version, and start it.
     * bytes NULL (teep_agent_restore): start the one installed before. */
    int (*ta_install)(void *ctx, teep_slice_t component_id,
                      const uint8_t *bytes, size_t len);
    /* Stop and remove the TA. -ENOENT if the TEE does not have it. */
    int (*ta_uninstall)(void *ctx, teep_slice_t component_id);
    /* Hand decrypted personalization data to the running TA. */
    int (*pd_deliver)(void *ctx, teep_slice_t ta_component_id,
                      const uint8_t *pd, size_t len);
    /* Install a UA in the REE under name. */
    int (*ua_install)(void *ctx, const char *name, const uint8_t *bytes,
                      size_t len);
    /* Optional (NULL: the TEE has no such thing): the SHA-256 of the
     * public key the running TA ta_component_id registered with the TEE
     * for its callers, into sha256.  0, or -ENOENT when it has none.  The
     * Evidence names each (ta-keys, docs/attestation.md), so a caller who
     * got a key from the TA can check it is the attested TA's. */
    int (*ta_key)(void *ctx, teep_slice_t ta_component_id, uint8_t sha256[32]);
} teep_agent_tee_ops_t;

/*
 * Configuration, borrowed: it and everything it points to must outlive
 * the agent.  Keys are public keys (loaded with teep_key_load*).
 */
typedef struct teep_agent_config {
    const char *state_dir; /* exists, 0700; the Agent's files go there */
    /* TAMs: trust anchor (the key that signs its TEEP messages) and URI,
     * pairwise; at least one. */
    const teep_key_t *tam_keys;
    const char *const *tam_uris;
    size_t n_tams;
    /* Trusted Component signers: the SUIT manifest trust anchors. */
    const teep_key_t *tc_signer_keys;
    size_t n_tc_signers;
    int profile; /* teep_profile_t or TEEP_AGENT_PROFILE_AUTO */
    /* Device identity for Evidence: hwmodel (1..32 bytes), the TEE
     * hardware version, and the TEE firmware measurement (SHA-256 of the
     * code that runs the Agent, 32 bytes) with its URI. */
    teep_slice_t hwmodel;
    const char *hwversion;
    const char *firmware_uri;
    teep_slice_t firmware_digest;
    /* SUIT vendor / class identifiers this device matches (may be
     * empty: a manifest that checks them then fails). */
    teep_slice_t vendor_id;
    teep_slice_t class_id;
    /* How long (s) a TAM conversation may take from the Evidence to the
     * Update that uses it; 0: 4 hours (digest 1.9: updates can be slow). */
    uint32_t attestation_max_age;
    /* Seconds since the epoch; NULL: time(). */
    int64_t (*clock)(void);
    const teep_agent_tee_ops_t *tee;
    void *tee_ctx;
} teep_agent_config_t;

/* One installed component. */
typedef struct teep_agent_component {
    uint8_t *id; /* encoded SUIT_Component_Identifier */
    size_t id_len;
    teep_agent_kind_t kind;
    uint8_t digest[32]; /* SHA-256 of the content */
    uint64_t size;
    uint8_t *manifest_id; /* the manifest that installed it */
    size_t manifest_id_len;
    uint8_t *pd; /* TA: its personalization data, or NULL */
    size_t pd_len;
} teep_agent_component_t;

/* One installed manifest: what anti-rollback and uninstall need. */
typedef struct teep_agent_manifest {
    uint8_t *id; /* encoded suit-manifest-component-id */
    size_t id_len;
    uint64_t sequence_number;
    uint8_t *envelope;
    size_t envelope_len;
} teep_agent_manifest_t;

/* A RequestTA / UnrequestTA the Agent reports to the TAM. */
typedef struct teep_agent_request {
    uint8_t *id;
    size_t id_len;
} teep_agent_request_t;

/* A conversation with a TAM (principle 1 bookkeeping). */
typedef struct teep_agent_chain {
    bool in_use;
    uint64_t tam_session;
    int tam;       /* index of the TAM whose key verified */
    bool attested; /* this Agent gave Evidence in it */
    int64_t evidence_time;
    uint64_t last_use; /* for replacing the oldest */
} teep_agent_chain_t;

/* The Agent.  Caller-allocated; fields are the library's. */
typedef struct teep_agent {
    teep_agent_config_t cfg;
    uint8_t sealing_key[32];
    teep_key_t teep_key;   /* signs TEEP messages; cnf in Evidence */
    teep_key_t attest_key; /* signs Evidence */
    teep_key_t pd_key;     /* ECDH: personalization data is encrypted to it */
    uint8_t ueid[17];      /* RAND type (0x01) + 16 random bytes */
    uint8_t oemid[16];     /* random, per device */
    int tam_profile[TEEP_AGENT_MAX_TAMS]; /* detected, or -1 */
    size_t n_manifests;
    teep_agent_manifest_t manifests[TEEP_AGENT_MAX_MANIFESTS];
    size_t n_components;
    teep_agent_component_t components[TEEP_AGENT_MAX_COMPONENTS];
    size_t n_requested;
    teep_agent_request_t requested[TEEP_AGENT_MAX_REQUESTS];
    size_t n_unneeded;
    teep_agent_request_t unneeded[TEEP_AGENT_MAX_REQUESTS];
    teep_agent_chain_t chains[TEEP_AGENT_MAX_CHAINS];
    uint64_t chain_clock;
    size_t next_policy_tam;
    void *data; /* for the user */
} teep_agent_t;

/*
 * Open the Agent on cfg->state_dir: read the sealing key (made on first
 * start, mode 0600), then the sealed keys (made on first start: TEEP key,
 * attestation key, PD key, device identity) and the sealed state.
 * Returns 0, -EINVAL (bad config), -errno from the files, TEEP_E_CRYPTO,
 * or TEEP_E_SIGNATURE when a sealed file does not open (tampered, or
 * sealed under another key).  On failure nothing needs closing.
 */
int teep_agent_open(teep_agent_t *agent, const teep_agent_config_t *cfg);

/* Release memory and wipe keys.  Files stay. */
void teep_agent_close(teep_agent_t *agent);

/*
 * Hand the TEE what it must run again after a restart: ta_install for
 * every installed TA, then pd_deliver for each TA that has PD.  Returns 0
 * or the first failing callback's code (after trying every TA).
 */
int teep_agent_restore(teep_agent_t *agent);

/*
 * ProcessTeepMessage (digest 4.3): msg[0..len) came from a TAM in the
 * conversation tam_session.  *reply receives a malloc'd COSE_Sign1 TEEP
 * message (QueryResponse, Success or Error; the caller frees it).  An
 * invalid or refused message, or an Update whose effects could not be
 * saved, is answered with an Error message and 0.  Returns 0, -ENOMEM, or
 * the signing key's TEEP_E_* code (no reply then).
 */
int teep_agent_process(teep_agent_t *agent, uint64_t tam_session,
                       const uint8_t *msg, size_t len, uint8_t **reply,
                       size_t *reply_len);

/* The conversation tam_session ended with an error in the REE: forget it
 * (its attestation no longer allows personalization data). */
void teep_agent_forget(teep_agent_t *agent, uint64_t tam_session);

/*
 * RequestTA / UnrequestTA: record component_id (encoded identifier) for
 * the next QueryResponse's requested-tc-list / unneeded-manifest-list and
 * name the TAM to contact (*tam_uri, a config string; NULL when nothing
 * is to be done: requested and installed already, or unrequested and not
 * installed).  hint (may be NULL) picks the TAM with that URI when it is
 * configured.  Returns 0, -EINVAL (not an identifier), -ENOSPC (list
 * full), -EIO (state not saved).
 */
int teep_agent_request_ta(teep_agent_t *agent, teep_slice_t component_id,
                          const char *hint, const char **tam_uri);
int teep_agent_unrequest_ta(teep_agent_t *agent, teep_slice_t component_id,
                            const char *hint, const char **tam_uri);

/* RequestPolicyCheck: the TAMs in turn, one per call; *tam_uri NULL once
 * every TAM was named since the last time the list started over. */
void teep_agent_policy_check(teep_agent_t *agent, const char **tam_uri);

/* The kind of a component from its encoded identifier; -EINVAL if
 * malformed. */
int teep_agent_component_kind(teep_slice_t component_id,
                              teep_agent_kind_t *kind);

/* The installed component with this identifier, or NULL. */
teep_agent_component_t *teep_agent_find_component(teep_agent_t *agent,
                                                  teep_slice_t component_id);

#ifdef __cplusplus
}
#endif
#endif
