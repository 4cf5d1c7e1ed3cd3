/* names.c: see names.h.  Sources: TEEP digest 1.6 and 1.8. */
#include "names.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const struct {
    int64_t alg;
    const char *name;
} algs[] = {
    {TEEP_ALG_ESP256, "ESP256"},
    {TEEP_ALG_ED25519, "Ed25519"},
    {TEEP_ALG_ES256, "ES256"},
    {TEEP_ALG_EDDSA, "EdDSA"},
};

const char *cli_alg_name(int64_t alg)
{
    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
        if (algs[i].alg == alg)
            return algs[i].name;
    return NULL;
}

bool cli_alg_parse(const char *name, int64_t *alg)
{
    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        if (strcasecmp(algs[i].name, name) == 0) {
            *alg = algs[i].alg;
            return true;
        }
    }
    return false;
}

const char *cli_cose_structure_name(uint64_t tag)
{
    switch (tag) {
    case TEEP_COSE_SIGN1: return "COSE_Sign1";
    case 98: return "COSE_Sign";
    default: return NULL;
    }
}

/* The CDDL names operations "sign1-<alg>" (teep-operation-sign1-esp256):
 * the structure without "COSE_", then the algorithm, in lower case. */
static void operation_name(int64_t cose_type, int64_t alg, char *out,
                           size_t cap)
{
    const char *structure = cli_cose_structure_name((uint64_t)cose_type);
    const char *alg_name = cli_alg_name(alg);
    int n = cose_type >= 0 && structure != NULL
                ? snprintf(out, cap, "%s-", structure + strlen("COSE_"))
                : snprintf(out, cap, "%lld-", (long long)cose_type);
    if (n < 0 || (size_t)n >= cap)
        return;
    if (alg_name != NULL)
        snprintf(out + n, cap - (size_t)n, "%s", alg_name);
    else
        snprintf(out + n, cap - (size_t)n, "%lld", (long long)alg);
    for (char *c = out; *c != '\0'; c++)
        *c = (char)tolower((unsigned char)*c);
}

void cli_suite_name(const teep_cipher_suite_t *suite, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < suite->n_ops && used + 1 < cap; i++) {
        if (i > 0)
            out[used++] = '+';
        operation_name(suite->ops[i].cose_type, suite->ops[i].alg, out + used,
                       cap - used);
        used += strlen(out + used);
    }
}

/* suit-mti's profiles (digest 1.8). */
static const struct {
    int64_t alg[4];
    const char *name;
} suit_profiles[] = {
    {{-16, 5, -3, -65534}, "suit-sha256-hmac-a128kw-a128ctr"},
    {{-16, -9, -29, -65534}, "suit-sha256-esp256-ecdh-a128ctr"},
    {{-16, -19, -29, -65534}, "suit-sha256-ed25519-ecdh-a128ctr"},
    {{-16, -9, -29, 1}, "suit-sha256-esp256-ecdh-a128gcm"},
    {{-16, -19, -29, 24}, "suit-sha256-ed25519-ecdh-chacha-poly"},
    {{-16, -46, -5, -65532}, "suit-sha256-hsslms-a256kw-a256ctr"},
};

const char *cli_suit_profile_name(const teep_suit_profile_t *profile)
{
    if (profile->n != 4)
        return NULL;
    for (size_t i = 0; i < sizeof(suit_profiles) / sizeof(suit_profiles[0]);
         i++)
        if (memcmp(suit_profiles[i].alg, profile->alg, sizeof(profile->alg)) ==
            0)
            return suit_profiles[i].name;
    return NULL;
}

const char *cli_data_item_name(unsigned bit)
{
    static const char *const names[] = {"attestation", "trusted-components",
                                        "extensions", "suit-reports"};
    return bit < sizeof(names) / sizeof(names[0]) ? names[bit] : NULL;
}
