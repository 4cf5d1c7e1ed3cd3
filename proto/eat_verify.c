/*
 * eat_verify.c: the Verifier (teep/eat.h): appraisal of Evidence for the
 * TAM (background-check model), appraisal of signed Attestation Results
 * (passport model), and issuing signed Attestation Results.
 *
 * Order of the checks: the signature comes before anything in the claims
 * is read, so unauthenticated bytes reach no code but the COSE parser; a
 * token that fails there is not appraised further.  The claim checks
 * after it all run, so a result lists every reason at once.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "eat_internal.h"
#include "teep/eat.h"

static const struct {
    const char *name;
    teep_eat_status_t tier;
} reasons[TEEP_EAT_R_COUNT] = {
    [TEEP_EAT_R_MALFORMED] = {"malformed", TEEP_EAT_STATUS_CONTRAINDICATED},
    [TEEP_EAT_R_UNKNOWN_KEY] = {"unknown-key", TEEP_EAT_STATUS_CONTRAINDICATED},
    [TEEP_EAT_R_BAD_SIGNATURE] = {"bad-signature",
                                  TEEP_EAT_STATUS_CONTRAINDICATED},
    [TEEP_EAT_R_NONCE_MISSING] = {"nonce-missing",
                                  TEEP_EAT_STATUS_CONTRAINDICATED},
    [TEEP_EAT_R_NONCE_MISMATCH] = {"nonce-mismatch",
                                   TEEP_EAT_STATUS_CONTRAINDICATED},
    [TEEP_EAT_R_STALE] = {"stale", TEEP_EAT_STATUS_CONTRAINDICATED},
    [TEEP_EAT_R_NOT_FRESH] = {"freshness-unchecked", TEEP_EAT_STATUS_WARNING},
    [TEEP_EAT_R_UNKNOWN_MODEL] = {"unknown-hwmodel",
                                  TEEP_EAT_STATUS_CONTRAINDICATED},
    [TEEP_EAT_R_SW_NOT_ALLOWED] = {"swname-not-allowed",
                                   TEEP_EAT_STATUS_CONTRAINDICATED},
    [TEEP_EAT_R_MANIFEST_NOT_ALLOWED] = {"manifest-not-allowed",
                                         TEEP_EAT_STATUS_CONTRAINDICATED},
    [TEEP_EAT_R_CNF_MISSING] = {"cnf-missing", TEEP_EAT_STATUS_CONTRAINDICATED},
    [TEEP_EAT_R_CNF_MISMATCH] = {"cnf-mismatch",
                                 TEEP_EAT_STATUS_CONTRAINDICATED},
    [TEEP_EAT_R_CNF_UNCHECKED] = {"cnf-unchecked", TEEP_EAT_STATUS_WARNING},
    [TEEP_EAT_R_CLAIM_MISSING] = {"claim-missing", TEEP_EAT_STATUS_WARNING},
    [TEEP_EAT_R_PROFILE_MISMATCH] = {"profile-mismatch",
                                     TEEP_EAT_STATUS_CONTRAINDICATED},
    [TEEP_EAT_R_AR_NOT_AFFIRMING] = {"ar-not-affirming",
                                     TEEP_EAT_STATUS_CONTRAINDICATED},
    [TEEP_EAT_R_AR_NO_STATUS] = {"ar-status-missing", TEEP_EAT_STATUS_WARNING},
};

_Static_assert(TEEP_EAT_MAX_FINDINGS <= TEEP_EAT_MAX_REASONS,
               "an Attestation Result lists every stored finding");

/* Most bytes of a value a finding's text shows in hex. */
#define HEX_SHOWN 16

const char *teep_eat_reason_name(teep_eat_reason_t reason)
{
    if (reason <= 0 || reason >= TEEP_EAT_R_COUNT)
        return "unknown";
    return reasons[reason].name;
}

teep_eat_status_t teep_eat_reason_tier(teep_eat_reason_t reason)
{
    if (reason <= 0 || reason >= TEEP_EAT_R_COUNT)
        return TEEP_EAT_STATUS_CONTRAINDICATED;
    return reasons[reason].tier;
}

const char *teep_eat_status_name(teep_eat_status_t status)
{
    switch (status) {
    case TEEP_EAT_STATUS_NONE: return "none";
    case TEEP_EAT_STATUS_AFFIRMING: return "affirming";
    case TEEP_EAT_STATUS_WARNING: return "warning";
    case TEEP_EAT_STATUS_CONTRAINDICATED: return "contraindicated";
    }
    return "unknown";
}

/* Record a finding at a tier; the status is the worst tier seen (the tier
 * values grow with severity). */
static void add_tiered(teep_eat_result_t *res, teep_eat_reason_t reason,
                       teep_eat_status_t tier, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void add_tiered(teep_eat_result_t *res, teep_eat_reason_t reason,
                       teep_eat_status_t tier, const char *fmt, ...)
{
    if (tier > res->status)
        res->status = tier;
    res->n_findings_total++;
    if (res->n_findings == TEEP_EAT_MAX_FINDINGS)
        return;
    teep_eat_finding_t *f = &res->findings[res->n_findings++];
    f->reason = reason;
    f->tier = tier;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->text, sizeof(f->text), fmt, ap);
    va_end(ap);
}

#define add_finding(res, reason, ...)                                          \
    add_tiered((res), (reason), teep_eat_reason_tier(reason), __VA_ARGS__)

/* The first bytes of s as hex, "..." when cut, for a finding's text. */
static const char *hex_of(teep_slice_t s, char out[2 * HEX_SHOWN + 4])
{
    static const char digits[] = "0123456789ABCDEF";
    size_t n = s.len < HEX_SHOWN ? s.len : HEX_SHOWN;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[s.ptr[i] >> 4];
        out[2 * i + 1] = digits[s.ptr[i] & 0x0f];
    }
    strcpy(out + 2 * n, s.len > n ? "..." : "");
    return out;
}

static bool slice_eq(teep_slice_t a, const uint8_t *b, size_t len)
{
    return a.len == len && (len == 0 || memcmp(a.ptr, b, len) == 0);
}

static bool slice_eq_str(teep_slice_t a, const char *s)
{
    return slice_eq(a, (const uint8_t *)s, strlen(s));
}

static bool in_list(teep_slice_t v, const teep_slice_t *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (slice_eq(v, list[i].ptr, list[i].len))
            return true;
    return false;
}

/* Whether a - b > limit, without overflow: times come from the token and
 * may be anywhere in int64_t. */
static bool later_by_more_than(int64_t a, int64_t b, int64_t limit)
{
    int64_t d;
    if (__builtin_sub_overflow(a, b, &d))
        return a > b;
    return d > limit;
}

/* ---- The checks -------------------------------------------------------- */

/* The enrolled key named by the header kid (or, without a kid, any
 * enrolled key) must verify the signature.  Returns 0 when one did, 1 when
 * none did (findings recorded), TEEP_E_CRYPTO when the backend failed. */
static int check_signature(const teep_cose_t *cose,
                           const teep_eat_policy_t *policy,
                           teep_eat_result_t *res)
{
    char hex[2 * HEX_SHOWN + 4];
    teep_slice_t kid = cose->signatures[0].kid;
    const teep_eat_trusted_key_t *tried = NULL;
    int last = 0;
    for (size_t i = 0; i < policy->n_keys; i++) {
        const teep_eat_trusted_key_t *t = &policy->keys[i];
        if (t->key == NULL ||
            (kid.len > 0 && !slice_eq(kid, t->key->kid, sizeof(t->key->kid))))
            continue;
        tried = t;
        last = teep_cose_verify(cose, t->key, NULL, 0);
        if (last == 0) {
            res->key = t;
            return 0;
        }
        if (last == TEEP_E_CRYPTO) {
            add_finding(res, TEEP_EAT_R_BAD_SIGNATURE,
                        "the crypto backend failed verifying with '%s'",
                        t->label);
            return last;
        }
    }
    if (tried == NULL && kid.len > 0)
        add_finding(res, TEEP_EAT_R_UNKNOWN_KEY,
                    "signed by kid %s, which is not enrolled",
                    hex_of(kid, hex));
    else if (tried == NULL || kid.len == 0)
        add_finding(res, TEEP_EAT_R_UNKNOWN_KEY,
                    "no kid in the header and no enrolled key verifies");
    else
        add_finding(res, TEEP_EAT_R_BAD_SIGNATURE,
                    "signature does not verify with enrolled key '%s': %s",
                    tried->label, teep_strerror(last));
    return 1;
}

static void check_nonce(const teep_eat_policy_t *policy, teep_eat_result_t *res)
{
    const teep_eat_claims_t *c = &res->claims;
    if (!(c->present & TEEP_EAT_HAS_NONCE))
        add_finding(res, TEEP_EAT_R_NONCE_MISSING,
                    "no eat_nonce; the challenge has %zu bytes",
                    policy->nonce.len);
    else if (!slice_eq(c->nonce, policy->nonce.ptr, policy->nonce.len))
        add_finding(res, TEEP_EAT_R_NONCE_MISMATCH,
                    "eat_nonce is not the challenge the TAM issued");
}

static void check_age(const teep_eat_policy_t *policy, teep_eat_result_t *res)
{
    const teep_eat_claims_t *c = &res->claims;
    int64_t skew = policy->clock_skew;
    int64_t limit = (int64_t)policy->max_age + skew;
    bool aged = false;
    if (policy->challenge_time != 0) {
        aged = true;
        if (later_by_more_than(policy->now, policy->challenge_time, limit))
            add_finding(res, TEEP_EAT_R_STALE,
                        "the challenge was issued more than %u s ago",
                        policy->max_age);
    }
    if (c->present & TEEP_EAT_HAS_IAT) {
        aged = true;
        if (later_by_more_than(c->iat, policy->now, skew))
            add_finding(res, TEEP_EAT_R_STALE, "iat %lld is in the future",
                        (long long)c->iat);
        else if (later_by_more_than(policy->now, c->iat, limit))
            add_finding(res, TEEP_EAT_R_STALE,
                        "iat %lld is more than %u s before now",
                        (long long)c->iat, policy->max_age);
    }
    if (!aged)
        add_finding(res, TEEP_EAT_R_STALE,
                    "age unknown: no iat, and no time for the challenge");
}

static void check_freshness(const teep_eat_policy_t *policy,
                            teep_eat_result_t *res)
{
    if (policy->nonce.ptr != NULL)
        check_nonce(policy, res);
    if (policy->max_age > 0)
        check_age(policy, res);
    if (policy->nonce.ptr == NULL && policy->max_age == 0)
        add_finding(res, TEEP_EAT_R_NOT_FRESH,
                    "no nonce and no max age: the token may be a replay");
}

/* Proof of possession (digest 2.3): cnf names the key that signed the
 * TEEP message carrying this token, so one Agent cannot pass off another's
 * attestation. */
static void check_cnf(const teep_eat_policy_t *policy, teep_eat_result_t *res)
{
    const teep_eat_claims_t *c = &res->claims;
    if (policy->cnf_kid.ptr == NULL)
        add_finding(res, TEEP_EAT_R_CNF_UNCHECKED,
                    "no expected cnf kid: proof of possession not checked");
    else if (!(c->present & TEEP_EAT_HAS_CNF))
        add_finding(res, TEEP_EAT_R_CNF_MISSING,
                    "no cnf claim binding the TEEP signing key");
    else if (!slice_eq(c->cnf_kid, policy->cnf_kid.ptr, policy->cnf_kid.len))
        add_finding(res, TEEP_EAT_R_CNF_MISMATCH,
                    "cnf kid is not the TEEP message signer's key");
}

static void check_hwmodel(const teep_eat_policy_t *policy,
                          teep_eat_result_t *res)
{
    char hex[2 * HEX_SHOWN + 4];
    const teep_eat_claims_t *c = &res->claims;
    if (policy->n_hwmodels == 0)
        return;
    if (!(c->present & TEEP_EAT_HAS_HWMODEL))
        add_finding(res, TEEP_EAT_R_UNKNOWN_MODEL, "no hwmodel claim");
    else if (!in_list(c->hwmodel, policy->hwmodels, policy->n_hwmodels))
        add_finding(res, TEEP_EAT_R_UNKNOWN_MODEL, "hwmodel %s is not allowed",
                    hex_of(c->hwmodel, hex));
}

static bool sw_matches(const teep_eat_claims_t *c, const teep_eat_sw_ref_t *sw)
{
    if (!slice_eq_str(c->swname, sw->name))
        return false;
    if (sw->version == NULL)
        return true;
    return (c->present & TEEP_EAT_HAS_SWVERSION) &&
           slice_eq_str(c->swversion.version, sw->version);
}

static void check_sw(const teep_eat_policy_t *policy, teep_eat_result_t *res)
{
    const teep_eat_claims_t *c = &res->claims;
    if (policy->n_sw == 0)
        return;
    if (!(c->present & TEEP_EAT_HAS_SWNAME)) {
        add_finding(res, TEEP_EAT_R_SW_NOT_ALLOWED, "no swname claim");
        return;
    }
    for (size_t i = 0; i < policy->n_sw; i++)
        if (sw_matches(c, &policy->sw[i]))
            return;
    /* The text shows the start of each; a version without its claim is
     * shown empty. */
    teep_slice_t version = (c->present & TEEP_EAT_HAS_SWVERSION)
                               ? c->swversion.version
                               : (teep_slice_t){(const uint8_t *)"", 0};
    add_finding(res, TEEP_EAT_R_SW_NOT_ALLOWED,
                "swname '%.*s' version '%.*s' is not allowed",
                (int)(c->swname.len > 48 ? 48 : c->swname.len),
                (const char *)c->swname.ptr,
                (int)(version.len > 24 ? 24 : version.len),
                (const char *)version.ptr);
}

static void check_manifests(const teep_eat_policy_t *policy,
                            teep_eat_result_t *res)
{
    char hex[2 * HEX_SHOWN + 4];
    const teep_eat_claims_t *c = &res->claims;
    if (policy->n_manifest_digests == 0)
        return;
    if (!(c->present & TEEP_EAT_HAS_MANIFESTS))
        add_finding(res, TEEP_EAT_R_MANIFEST_NOT_ALLOWED, "no manifests claim");
    for (size_t i = 0; i < c->n_manifests; i++) {
        const teep_eat_manifest_t *m = &c->manifests[i];
        if (m->content_type != TEEP_EAT_MANIFEST_CONTENT_TYPE)
            add_finding(res, TEEP_EAT_R_MANIFEST_NOT_ALLOWED,
                        "manifest %zu: content type %llu has no digest to "
                        "check",
                        i, (unsigned long long)m->content_type);
        else if (!in_list(m->digest, policy->manifest_digests,
                          policy->n_manifest_digests))
            add_finding(res, TEEP_EAT_R_MANIFEST_NOT_ALLOWED,
                        "manifest %zu: digest %s is not allowed", i,
                        hex_of(m->digest, hex));
    }
}

static void check_profile(teep_eat_result_t *res)
{
    const teep_eat_claims_t *c = &res->claims;
    if (!(c->present & TEEP_EAT_HAS_PROFILE))
        return;
    if (c->profile_is_oid || !slice_eq_str(c->profile, TEEP_EAT_PROFILE_URI))
        add_finding(res, TEEP_EAT_R_PROFILE_MISMATCH, "eat_profile is not %s",
                    TEEP_EAT_PROFILE_URI);
}

/* Evidence: the claims the TEEP profile requires (digest 2.2).  A missing
 * cnf the policy asked for is already a CNF_MISSING. */
static void check_required(const teep_eat_policy_t *policy,
                           teep_eat_result_t *res)
{
    uint32_t missing = TEEP_EAT_REQUIRED & ~res->claims.present;
    if (policy->cnf_kid.ptr != NULL)
        missing &= ~(uint32_t)TEEP_EAT_HAS_CNF;
    for (uint32_t bit = 1; bit != 0 && bit <= missing; bit <<= 1)
        if (missing & bit)
            add_finding(res, TEEP_EAT_R_CLAIM_MISSING,
                        "%s is required by the TEEP profile and absent",
                        eat__claim_name_by_bit(bit));
}

/* Attestation Result: the Verifier's own verdict bounds ours. */
static void check_ar_status(teep_eat_result_t *res)
{
    const teep_eat_claims_t *c = &res->claims;
    if (!(c->present & TEEP_EAT_HAS_AR_STATUS)) {
        add_finding(res, TEEP_EAT_R_AR_NO_STATUS,
                    "the result states no status: the Verifier's verdict is "
                    "unknown");
        return;
    }
    if (c->ar_status == TEEP_EAT_STATUS_AFFIRMING)
        return;
    char why[64] = "";
    size_t used = 0;
    for (size_t i = 0; i < c->n_ar_reasons && used < sizeof(why); i++) {
        int n =
            snprintf(why + used, sizeof(why) - used, "%s%s", i > 0 ? "," : "",
                     teep_eat_reason_name(c->ar_reasons[i]));
        used += n > 0 ? (size_t)n : 0;
    }
    /* AR4SI "none" makes no claim either way: not an affirmation. */
    teep_eat_status_t tier = c->ar_status == TEEP_EAT_STATUS_NONE
                                 ? TEEP_EAT_STATUS_WARNING
                                 : c->ar_status;
    add_tiered(res, TEEP_EAT_R_AR_NOT_AFFIRMING, tier,
               "the Verifier's status is %s (%s)",
               teep_eat_status_name(c->ar_status), why);
}

/* ---- Appraisal --------------------------------------------------------- */

static int malformed(teep_eat_result_t *res, int code)
{
    add_finding(res, TEEP_EAT_R_MALFORMED, "%s at offset %zu: %s",
                teep_strerror(code), res->diag.offset, res->diag.reason);
    return code;
}

static int appraise(const uint8_t *buf, size_t len,
                    const teep_eat_policy_t *policy, teep_eat_result_t *res,
                    bool is_ar)
{
    if (res == NULL)
        return -EINVAL;
    memset(res, 0, sizeof(*res));
    res->status = TEEP_EAT_STATUS_AFFIRMING;
    if (policy == NULL || (buf == NULL && len > 0) ||
        (policy->keys == NULL && policy->n_keys > 0)) {
        add_finding(res, TEEP_EAT_R_MALFORMED, "invalid arguments");
        return -EINVAL;
    }
    teep_cose_t cose;
    int rc = eat__open(buf, len, &cose, &res->diag);
    if (rc != 0)
        return malformed(res, rc);
    res->kid = cose.signatures[0].kid;
    rc = check_signature(&cose, policy, res);
    if (rc != 0)
        return rc < 0 ? rc : 0;
    rc = teep_eat_claims_decode(cose.payload.ptr, cose.payload.len,
                                &res->claims, &res->diag);
    if (rc != 0) {
        eat__shift_diag(&res->diag, rc, (size_t)(cose.payload.ptr - buf));
        return malformed(res, rc);
    }
    res->claims_verified = true;
    check_freshness(policy, res);
    check_cnf(policy, res);
    check_hwmodel(policy, res);
    check_sw(policy, res);
    check_manifests(policy, res);
    check_profile(res);
    if (is_ar)
        check_ar_status(res);
    else
        check_required(policy, res);
    return 0;
}

int teep_eat_verify_evidence(const uint8_t *buf, size_t len,
                             const teep_eat_policy_t *policy,
                             teep_eat_result_t *result)
{
    return appraise(buf, len, policy, result, false);
}

int teep_eat_verify_ar(const uint8_t *buf, size_t len,
                       const teep_eat_policy_t *policy,
                       teep_eat_result_t *result)
{
    return appraise(buf, len, policy, result, true);
}

/* Device claims an Attestation Result repeats from appraised Evidence: the
 * TAM needs the TEEP profile's claims, which AR4SI lacks (digest 2.4), and
 * a TA's caller needs the TA keys the Evidence bound. */
#define AR_COPIED_CLAIMS                                                       \
    (TEEP_EAT_HAS_CNF | TEEP_EAT_HAS_NONCE | TEEP_EAT_HAS_UEID |               \
     TEEP_EAT_HAS_OEMID | TEEP_EAT_HAS_HWMODEL | TEEP_EAT_HAS_HWVERSION |      \
     TEEP_EAT_HAS_SWNAME | TEEP_EAT_HAS_SWVERSION | TEEP_EAT_HAS_MANIFESTS |   \
     TEEP_EAT_HAS_TA_KEYS)

int teep_eat_ar_sign(const teep_signer_t *verifier,
                     const teep_eat_result_t *result, const char *issuer,
                     int64_t iat, uint8_t *out, size_t cap, size_t *out_len)
{
    teep_eat_claims_t ar;
    *out_len = 0;
    if (verifier == NULL || result == NULL)
        return -EINVAL;
    memset(&ar, 0, sizeof(ar));
    if (result->claims_verified) {
        ar = result->claims;
        ar.present &= AR_COPIED_CLAIMS;
        ar.n_unknown = 0;
    }
    if (issuer != NULL) {
        ar.iss = (teep_slice_t){(const uint8_t *)issuer, strlen(issuer)};
        ar.present |= TEEP_EAT_HAS_ISS;
    }
    ar.iat = iat;
    ar.profile = (teep_slice_t){(const uint8_t *)TEEP_EAT_PROFILE_URI,
                                strlen(TEEP_EAT_PROFILE_URI)};
    ar.profile_is_oid = false;
    ar.ar_status = result->status;
    ar.present |=
        TEEP_EAT_HAS_IAT | TEEP_EAT_HAS_PROFILE | TEEP_EAT_HAS_AR_STATUS;
    ar.n_ar_reasons = 0;
    for (size_t i = 0; i < result->n_findings; i++)
        ar.ar_reasons[ar.n_ar_reasons++] = (uint16_t)result->findings[i].reason;
    if (ar.n_ar_reasons > 0)
        ar.present |= TEEP_EAT_HAS_AR_REASONS;
    return teep_eat_sign(verifier, &ar, out, cap, out_len);
}
