/*
 * deploy.h: deployments, the package modes of USECASE.md and the step
 * engine (private to tam/).
 *
 * A deployment names an instance type, a package mode and packages; it
 * has one target per device, and each target runs the mode's steps in the
 * table's order.  The engine is driven by what the TEEP exchange learns
 * (an attestation result, the answer to an Update) and asked what to send
 * next; every decision is a change in SQLite made inside the caller's
 * transaction.
 *
 * The two principles are enforced here and nowhere else:
 *  1. a step carrying PD is planned only when the target's attestation
 *     step affirmed AND the Evidence of the QueryResponse being answered
 *     right now affirmed (the Agent accepts PD only in the first Update
 *     after its Evidence, agent/chain.c);
 *  2. the PD it sends is a PD blob encrypted to the key that very
 *     Evidence vouches for (pd-key), checked again at send time.
 */
#ifndef TEEP_TAM_DEPLOY_H
#define TEEP_TAM_DEPLOY_H

#include "internal.h"

typedef enum tam_step_kind {
    TAM_STEP_ATT = 0, /* att: QueryRequest with challenge + attestation bit */
    TAM_STEP_TA,      /* TA -> X */
    TAM_STEP_PD,      /* PD -> TA */
    TAM_STEP_UA,      /* UA -> REE */
    TAM_STEP_TA_PD,   /* TA&PD -> X: one Update with both manifests */
    TAM_STEP_UA_PD,   /* (UA, PD) -> TA: the encrypted bundle to the TA */
    TAM_STEP_KIND_COUNT
} tam_step_kind_t;

#define TAM_MODE_MAX_STEPS 4

/* One row of the package-mode table. */
typedef struct tam_mode {
    int number;            /* 1..6 */
    const char *packaging; /* "(UA, TA, PD)" as USECASE.md writes it */
    bool ua_package;       /* deploys a separate UA package */
    size_t n_steps;
    tam_step_kind_t steps[TAM_MODE_MAX_STEPS];
} tam_mode_t;

/* The mode numbered number, or NULL. */
const tam_mode_t *tam_mode_get(int number);

/* "att", "ta", "pd", "ua", "ta+pd", "ua+pd" (stored), and back. */
const char *tam_step_code(tam_step_kind_t kind);
int tam_step_parse(const char *code, tam_step_kind_t *kind);
/* "att", "TA -> X", "PD -> TA", ... with X named for instance_type. */
void tam_step_title(tam_step_kind_t kind, const char *instance_type, char *out,
                    size_t cap);
/* Whether the step moves personalization data. */
bool tam_step_carries_pd(tam_step_kind_t kind);

/* "process", "container", "vm". */
bool tam_instance_type_ok(const char *type);

typedef struct tam_deploy_request {
    const char *name;
    const char *instance_type;
    int mode;
    int64_t ta_package;
    int64_t ua_package; /* 0: none */
    const int64_t *devices;
    size_t n_devices;
} tam_deploy_request_t;

/* Create a deployment with one target per device and its step rows.
 * Returns 0 with *id, or -EINVAL / -ENOENT with why (a bad mode, type,
 * package or device), or a store code. */
int tam_deploy_create(tam_store_t *s, const tam_deploy_request_t *r,
                      int64_t now, int64_t *id, char *why, size_t cap);

typedef enum tam_action_kind {
    TAM_ACT_NONE = 0, /* nothing to send: HTTP 204 */
    TAM_ACT_ATTEST,   /* a QueryRequest with a challenge */
    TAM_ACT_UPDATE,   /* an Update carrying the step's manifests */
} tam_action_kind_t;

typedef struct tam_action {
    tam_action_kind_t kind;
    int64_t deployment_id;
    int64_t target_id;
    int step;
    tam_step_kind_t step_kind;
    char instance_type[16];
    int64_t ta_package, ua_package, pd_package;
} tam_action_t;

/* An attestation result for device: completes or fails the steps that
 * wait for one (docs/tam.md).  Returns 0 or a store code. */
int tam_deploy_on_attestation(tam_store_t *s, int64_t device,
                              const tam_appraisal_t *a, int64_t now);

/* The answer to the request sent for (target, step): ok advances, else
 * the target stops with why.  An answer for a step that is no longer
 * current is logged and ignored.  Returns 0 or a store code. */
int tam_deploy_on_result(tam_store_t *s, int64_t target, int step, bool ok,
                         const char *why, int64_t now);

/* What to send device next.  fresh is the appraisal of the QueryResponse
 * being answered (NULL for any other message).  Steps whose request is
 * still out (unused, unexpired token) are left alone.  Returns 0 with
 * *out or a store code. */
int tam_deploy_next(tam_store_t *s, int64_t device,
                    const tam_appraisal_t *fresh, int64_t now,
                    tam_action_t *out);

/* The request for action left with token.  Returns 0 or a store code. */
int tam_deploy_sent(tam_store_t *s, const tam_action_t *a,
                    const uint8_t token[TAM_TOKEN_LEN], int64_t now);

/* Stop target at step with why (a request that could not be built).
 * Returns 0 or a store code. */
int tam_deploy_fail(tam_store_t *s, int64_t target, int step, const char *why,
                    int64_t now);

/* ---- pdata.c: personalization data intake (principle 2) ------------ */

/*
 * Accept a PD blob (teep/pd.h) from the data owner for the target of
 * (deployment, device): the target's attestation step must have affirmed
 * Evidence carrying a pd-key, the blob must parse, and one recipient's
 * kid must be that key's thumbprint, so only the attested TEE can read
 * it.  plaintext_sha256 / plaintext_size describe the plaintext for the
 * manifest's image check.  Stores it as a "pd" package named name and
 * links it.  Returns 0 with *package_id; -ENOENT (no such target),
 * -EAGAIN (not attested yet), -EALREADY (its PD step ran), -EINVAL (not a
 * PD blob for the attested key), each with why; or a store code.
 */
int tam_pd_accept(tam_store_t *s, int64_t deployment, int64_t device,
                  const char *name, const uint8_t *blob, size_t len,
                  const uint8_t plaintext_sha256[32], uint64_t plaintext_size,
                  int64_t now, int64_t *package_id, char *why, size_t cap);

#endif
