/*
 * sim_config.c: a sim session's options (docs/tee-sim.md) and the Agent
 * configuration made from them.  The TEE firmware measurement the
 * Evidence carries is the SHA-256 of this plugin's own file: the code
 * that runs the Agent.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

#define DEFAULT_HWMODEL "teep-broker-sim"
#define FIRMWARE_URI    "urn:teep-broker:tee:sim"

static int hex16(const char *text, uint8_t out[16], size_t *len)
{
    if (strlen(text) != 32)
        return -EINVAL;
    for (size_t i = 0; i < 16; i++) {
        unsigned v;
        if (sscanf(text + 2 * i, "%2x", &v) != 1)
            return -EINVAL;
        out[i] = (uint8_t)v;
    }
    *len = 16;
    return 0;
}

static int measure_self(uint8_t digest[32])
{
    Dl_info info;
    if (dladdr((void *)measure_self, &info) == 0 || info.dli_fname == NULL)
        return -ENOENT;
    FILE *f = fopen(info.dli_fname, "rb");
    if (f == NULL)
        return -errno;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = size > 0 ? malloc((size_t)size) : NULL;
    int rc = buf != NULL && fread(buf, 1, (size_t)size, f) == (size_t)size
                 ? teep_sha256(buf, (size_t)size, digest)
                 : -EIO;
    free(buf);
    fclose(f);
    return rc;
}

static int bad(teep_tee_session_t *s, const teep_tee_option_t *o,
               const char *why)
{
    s->host->log(s->host, TEEP_LOG_ERROR, "option %s=%s: %s", o->key,
                 o->value != NULL ? o->value : "", why);
    return -EINVAL;
}

static int apply(teep_tee_session_t *s, const teep_tee_option_t *o,
                 size_t *n_keys, int *profile)
{
    const char *k = o->key, *v = o->value;
    if (k == NULL || v == NULL)
        return bad(s, o, "key and value are needed");
    if (strcmp(k, "tam_uri") == 0) {
        if (s->n_tams == TEEP_AGENT_MAX_TAMS || strlen(v) >= TEEP_TEE_URI_MAX)
            return bad(s, o, "too many TAMs, or URI too long");
        s->tam_uris[s->n_tams] = strdup(v);
        return s->tam_uris[s->n_tams++] != NULL ? 0 : -ENOMEM;
    }
    if (strcmp(k, "tam_key") == 0 || strcmp(k, "tc_signer_key") == 0) {
        bool tam = k[1] == 'a';
        size_t *n = tam ? n_keys : &s->n_signers;
        size_t max = tam ? TEEP_AGENT_MAX_TAMS : TEEP_AGENT_MAX_SIGNERS;
        teep_key_t *keys = tam ? s->tam_keys : s->signer_keys;
        if (*n == max)
            return bad(s, o, "too many keys");
        int rc = teep_key_load_file(&keys[*n], v);
        if (rc != 0)
            return bad(s, o, teep_strerror(rc));
        (*n)++;
        return 0;
    }
    if (strcmp(k, "profile") == 0) {
        teep_profile_t p;
        if (strcmp(v, "auto") == 0)
            *profile = TEEP_AGENT_PROFILE_AUTO;
        else if (teep_profile_parse(v, &p) == 0)
            *profile = p;
        else
            return bad(s, o, "auto, rfc or legacy");
        return 0;
    }
    if (strcmp(k, "policy_check_interval") == 0) {
        char *end;
        unsigned long secs = strtoul(v, &end, 10);
        if (*v == 0 || *end != 0 || secs > 86400 * 7)
            return bad(s, o, "seconds, at most a week");
        s->policy_interval_s = (uint32_t)secs;
        return 0;
    }
    if (strcmp(k, "hwmodel") == 0) {
        if (v[0] == 0 || strlen(v) >= sizeof(s->hwmodel))
            return bad(s, o, "1..32 bytes");
        snprintf(s->hwmodel, sizeof(s->hwmodel), "%s", v);
        return 0;
    }
    if (strcmp(k, "vendor_id") == 0)
        return hex16(v, s->vendor_id, &s->vendor_id_len) == 0
                   ? 0
                   : bad(s, o, "a UUID as 32 hex digits");
    if (strcmp(k, "class_id") == 0)
        return hex16(v, s->class_id, &s->class_id_len) == 0
                   ? 0
                   : bad(s, o, "a UUID as 32 hex digits");
    return bad(s, o, "unknown option");
}

int sim__configure(teep_tee_session_t *s,
                   const teep_tee_session_params_t *params)
{
    size_t n_keys = 0;
    int profile = TEEP_AGENT_PROFILE_AUTO;
    snprintf(s->hwmodel, sizeof(s->hwmodel), "%s", DEFAULT_HWMODEL);
    for (size_t i = 0; i < params->n_options; i++) {
        int rc = apply(s, &params->options[i], &n_keys, &profile);
        if (rc != 0)
            return rc;
    }
    if (s->n_tams == 0 || n_keys != s->n_tams || s->n_signers == 0) {
        s->host->log(s->host, TEEP_LOG_ERROR,
                     "a sim TEE needs tam_uri and tam_key in pairs (%zu and "
                     "%zu given) and at least one tc_signer_key",
                     s->n_tams, n_keys);
        return -EINVAL;
    }
    int rc = measure_self(s->firmware_digest);
    if (rc != 0)
        return rc;
    s->cfg = (teep_agent_config_t){
        .state_dir = s->state_dir,
        .tam_keys = s->tam_keys,
        .tam_uris = (const char *const *)s->tam_uris,
        .n_tams = s->n_tams,
        .tc_signer_keys = s->signer_keys,
        .n_tc_signers = s->n_signers,
        .profile = profile,
        .hwmodel = {(const uint8_t *)s->hwmodel, strlen(s->hwmodel)},
        .hwversion = teep_tee_instance_name(s->instance),
        .firmware_uri = FIRMWARE_URI,
        .firmware_digest = {s->firmware_digest, sizeof(s->firmware_digest)},
        .vendor_id = {s->vendor_id, s->vendor_id_len},
        .class_id = {s->class_id, s->class_id_len},
        .tee = &sim__agent_ops,
        .tee_ctx = s,
    };
    return 0;
}

void sim__unconfigure(teep_tee_session_t *s)
{
    for (size_t i = 0; i < TEEP_AGENT_MAX_TAMS; i++) {
        free(s->tam_uris[i]);
        s->tam_uris[i] = NULL;
        teep_key_clear(&s->tam_keys[i]);
    }
    for (size_t i = 0; i < TEEP_AGENT_MAX_SIGNERS; i++)
        teep_key_clear(&s->signer_keys[i]);
    s->n_tams = s->n_signers = 0;
}
