/* attest.c: the TAM as Verifier (background-check model, docs/
 * attestation.md): Evidence from a QueryResponse is appraised with the
 * proto/ verifier against the device's enrolled attestation key, the
 * challenge the TAM issued, and the TEEP key that signed the message
 * (cnf); the result, the verified claims and the PD key the Evidence
 * vouches for are stored as the attestation result. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "internal.h"

#define EAT_MEDIA_TYPE "application/eat+cwt"

static const char SQL_STORE[] =
    "INSERT INTO attestations (device_id, conversation, status, findings,"
    " claims, pd_key, pd_kid, evidence, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";

/* The format names the TEEP EAT profile's media type (digest 2.1), or is
 * absent, which means the same. */
static bool format_supported(teep_slice_t format)
{
    size_t n = strlen(EAT_MEDIA_TYPE);
    if (format.ptr == NULL)
        return true;
    return format.len >= n && memcmp(format.ptr, EAT_MEDIA_TYPE, n) == 0 &&
           (format.len == n || format.ptr[n] == ';');
}

static void refuse(teep_eat_result_t *r, tam_appraisal_t *out, const char *why)
{
    memset(r, 0, sizeof(*r));
    r->status = TEEP_EAT_STATUS_CONTRAINDICATED;
    out->status = r->status;
    out->affirming = false;
    snprintf(out->summary, sizeof(out->summary), "contraindicated: %s", why);
}

static void summarise(const teep_eat_result_t *r, tam_appraisal_t *out)
{
    size_t len = (size_t)snprintf(out->summary, sizeof(out->summary), "%s",
                                  teep_eat_status_name(r->status));
    for (size_t i = 0; i < r->n_findings && len < sizeof(out->summary); i++)
        len += (size_t)snprintf(out->summary + len, sizeof(out->summary) - len,
                                "%s %s (%s)", i == 0 ? ":" : ";",
                                teep_eat_reason_name(r->findings[i].reason),
                                r->findings[i].text);
}

/* The PD key the verified claims carry (pd-key, -70003): only a key the
 * TEE can do ECDH with is one PD may be encrypted to.  The TAM only names
 * it (its thumbprint, the kid PD must be encrypted to) and never uses it,
 * so it is not loaded: a P-256 key object costs about a signature, and
 * every device's first Evidence brings a new key.  Whoever encrypts to it
 * loads it, which checks the point (teep pd encrypt, GET attested-key). */
static void pd_key_of(const teep_eat_result_t *r, tam_appraisal_t *out)
{
    teep_key_type_t type;
    uint8_t kid[32];
    if (!r->claims_verified || !(r->claims.present & TEEP_EAT_HAS_PD_KEY) ||
        teep_key_cose_thumbprint(r->claims.pd_key.ptr, r->claims.pd_key.len,
                                 &type, kid) != 0)
        return;
    if (type == TEEP_KEY_P256 || type == TEEP_KEY_X25519) {
        memcpy(out->pd_kid, kid, sizeof(kid));
        out->pd_kid_len = sizeof(kid);
    }
}

int tam_attest_appraise(const teep_tam_t *tam, const tam_device_t *d,
                        const tam_token_t *t, teep_slice_t payload,
                        teep_slice_t format, int64_t now,
                        teep_eat_result_t *result, tam_appraisal_t *out)
{
    memset(out, 0, sizeof(out[0]));
    if (payload.ptr == NULL || payload.len == 0) {
        refuse(result, out, "the QueryResponse has no attestation-payload");
        return 0;
    }
    if (!format_supported(format)) {
        refuse(result, out, "attestation-payload-format is not an EAT");
        return 0;
    }
    if (!t->has_challenge) {
        refuse(result, out, "the QueryRequest asked for no attestation");
        return 0;
    }
    teep_eat_trusted_key_t enrolled = {d->attestation_key.key, d->name};
    const teep_tam_config_t *c = &tam->cfg;
    teep_eat_policy_t policy = {
        .keys = &enrolled,
        .n_keys = d->has_attestation_key ? 1 : 0,
        .hwmodels = c->hwmodels,
        .n_hwmodels = c->n_hwmodels,
        .sw = c->sw,
        .n_sw = c->n_sw,
        .nonce = {t->challenge, sizeof(t->challenge)},
        .cnf_kid = {d->teep_key.key->kid, sizeof(d->teep_key.key->kid)},
        .now = now,
        .challenge_time = t->issued_at,
        .max_age = c->evidence_max_age,
        .clock_skew = c->clock_skew,
    };
    int rc =
        teep_eat_verify_evidence(payload.ptr, payload.len, &policy, result);
    if (rc == TEEP_E_CRYPTO || rc == -EINVAL || rc == -ENOMEM)
        return rc;
    out->status = result->status;
    out->affirming = rc == 0 && result->status == TEEP_EAT_STATUS_AFFIRMING;
    summarise(result, out);
    pd_key_of(result, out);
    return 0;
}

static json_t *hex_json(teep_slice_t s)
{
    char *hex = malloc(2 * s.len + 1);
    if (hex == NULL)
        return NULL;
    tam_hex(s.ptr, s.len, hex);
    json_t *j = json_string(hex);
    free(hex);
    return j;
}

static json_t *text_json(teep_slice_t s)
{
    return json_stringn((const char *)s.ptr, s.len);
}

static json_t *findings_json(const teep_eat_result_t *r)
{
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && i < r->n_findings; i++)
        json_array_append_new(
            a, json_pack("{s:s, s:s, s:s}", "reason",
                         teep_eat_reason_name(r->findings[i].reason), "tier",
                         teep_eat_status_name(r->findings[i].tier), "text",
                         r->findings[i].text));
    return a;
}

static json_t *manifests_json(const teep_eat_claims_t *c)
{
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && i < c->n_manifests; i++) {
        const teep_eat_manifest_t *m = &c->manifests[i];
        json_t *o = json_object();
        json_object_set_new(o, "content_type", json_integer(m->content_type));
        if (m->uri.ptr != NULL)
            json_object_set_new(o, "uri", text_json(m->uri));
        if (m->digest.ptr != NULL)
            json_object_set_new(o, "digest", hex_json(m->digest));
        json_array_append_new(a, o);
    }
    return a;
}

/* ta-keys (-70004): which key each running TA holds, for its callers to
 * compare with the key the TA gave them (examples/ot). */
static json_t *ta_keys_json(const teep_eat_claims_t *c)
{
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && i < c->n_ta_keys; i++)
        json_array_append_new(a, json_pack("{s:o, s:o}", "component_id",
                                           hex_json(c->ta_keys[i].component_id),
                                           "key_sha256",
                                           hex_json(c->ta_keys[i].key_sha256)));
    return a;
}

static json_t *claims_json(const teep_eat_result_t *r, const tam_appraisal_t *a)
{
    json_t *o = json_object();
    const teep_eat_claims_t *c = &r->claims;
    if (o == NULL || !r->claims_verified)
        return o;
    if (c->present & TEEP_EAT_HAS_IAT)
        json_object_set_new(o, "iat", json_integer(c->iat));
    if (c->present & TEEP_EAT_HAS_NONCE)
        json_object_set_new(o, "eat_nonce", hex_json(c->nonce));
    if (c->present & TEEP_EAT_HAS_CNF)
        json_object_set_new(o, "cnf_kid", hex_json(c->cnf_kid));
    if (c->present & TEEP_EAT_HAS_UEID)
        json_object_set_new(o, "ueid", hex_json(c->ueid));
    if ((c->present & TEEP_EAT_HAS_OEMID) && c->oemid.is_pen)
        json_object_set_new(o, "oemid_pen", json_integer(c->oemid.pen));
    else if (c->present & TEEP_EAT_HAS_OEMID)
        json_object_set_new(o, "oemid", hex_json(c->oemid.id));
    if (c->present & TEEP_EAT_HAS_HWMODEL)
        json_object_set_new(o, "hwmodel", hex_json(c->hwmodel));
    if ((c->present & TEEP_EAT_HAS_HWVERSION) && !c->hwversion.as_bytes)
        json_object_set_new(o, "hwversion", text_json(c->hwversion.version));
    if (c->present & TEEP_EAT_HAS_SWNAME)
        json_object_set_new(o, "swname", text_json(c->swname));
    if ((c->present & TEEP_EAT_HAS_SWVERSION) && !c->swversion.as_bytes)
        json_object_set_new(o, "swversion", text_json(c->swversion.version));
    if ((c->present & TEEP_EAT_HAS_PROFILE) && !c->profile_is_oid)
        json_object_set_new(o, "eat_profile", text_json(c->profile));
    if (c->present & TEEP_EAT_HAS_MANIFESTS)
        json_object_set_new(o, "manifests", manifests_json(c));
    if (c->present & TEEP_EAT_HAS_TA_KEYS)
        json_object_set_new(o, "ta_keys", ta_keys_json(c));
    if (a->pd_kid_len > 0)
        json_object_set_new(o, "pd_kid",
                            hex_json((teep_slice_t){a->pd_kid, a->pd_kid_len}));
    return o;
}

static char *dump(json_t *j)
{
    char *text = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    return text;
}

int tam_attest_store(tam_store_t *s, int64_t device, int64_t conversation,
                     teep_slice_t payload, const teep_eat_result_t *result,
                     tam_appraisal_t *a, int64_t now)
{
    char *findings = dump(findings_json(result));
    char *claims = dump(claims_json(result, a));
    sqlite3_stmt *st = tam_store_stmt(s, SQL_STORE);
    int rc = findings == NULL || claims == NULL ? -ENOMEM
             : st == NULL                       ? -EIO
                                                : 0;
    if (rc == 0) {
        bool pd = a->pd_kid_len > 0;
        sqlite3_bind_int64(st, 1, device);
        sqlite3_bind_int64(st, 2, conversation);
        tam_bind_text(st, 3, teep_eat_status_name(a->status));
        tam_bind_text(st, 4, findings);
        tam_bind_text(st, 5, claims);
        tam_bind_blob(st, 6, pd ? result->claims.pd_key.ptr : NULL,
                      result->claims.pd_key.len);
        tam_bind_blob(st, 7, pd ? a->pd_kid : NULL, a->pd_kid_len);
        tam_bind_blob(st, 8, payload.ptr != NULL ? payload.ptr : (uint8_t *)"",
                      payload.len);
        sqlite3_bind_int64(st, 9, now);
        rc = tam_store_exec(s, st);
    }
    if (rc == 0)
        a->id = sqlite3_last_insert_rowid(s->db);
    free(findings);
    free(claims);
    return rc;
}
