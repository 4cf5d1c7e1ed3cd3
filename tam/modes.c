/* modes.c: the package modes and their deploy steps, exactly as the table
 * of USECASE.md (IETF 114 presentation, and mode 6 from the May 2025
 * draft) orders them.  The order is the same for the three instance
 * types; only X, the target of "TA -> X", is named after the type. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "deploy.h"

/* One row per mode, laid out like the table it copies. */
/* clang-format off */
static const tam_mode_t modes[] = {
    {1, "(UA, TA, PD)", true, 4,
     {TAM_STEP_ATT, TAM_STEP_TA, TAM_STEP_PD, TAM_STEP_UA}},
    {2, "(UA, TA) + [PD], or [UA] [TA] [PD]", true, 4,
     {TAM_STEP_UA, TAM_STEP_TA, TAM_STEP_ATT, TAM_STEP_PD}},
    {3, "(TA, PD) + [UA]", true, 3,
     {TAM_STEP_UA, TAM_STEP_ATT, TAM_STEP_TA_PD}},
    {4, "[TA] [PD] (no UA)", false, 3,
     {TAM_STEP_TA, TAM_STEP_ATT, TAM_STEP_PD}},
    {5, "(TA, PD) (no UA)", false, 2,
     {TAM_STEP_ATT, TAM_STEP_TA_PD}},
    /* The UA travels inside the encrypted (UA, PD) bundle, which the TA
     * decrypts in the TEE: no separate UA package. */
    {6, "(UA, PD) + [TA]", false, 3,
     {TAM_STEP_ATT, TAM_STEP_TA, TAM_STEP_UA_PD}},
};
/* clang-format on */

static const char *const codes[TAM_STEP_KIND_COUNT] = {
    "att", "ta", "pd", "ua", "ta+pd", "ua+pd",
};

const tam_mode_t *tam_mode_get(int number)
{
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
        if (modes[i].number == number)
            return &modes[i];
    return NULL;
}

const char *tam_step_code(tam_step_kind_t kind)
{
    return (unsigned)kind < TAM_STEP_KIND_COUNT ? codes[kind] : "?";
}

int tam_step_parse(const char *code, tam_step_kind_t *kind)
{
    for (unsigned i = 0; i < TAM_STEP_KIND_COUNT; i++) {
        if (strcmp(code, codes[i]) == 0) {
            *kind = (tam_step_kind_t)i;
            return 0;
        }
    }
    return -EINVAL;
}

static const char *target_name(const char *instance_type)
{
    if (strcmp(instance_type, "process") == 0)
        return "Trusted Process";
    if (strcmp(instance_type, "container") == 0)
        return "Trusted Container";
    return "Trusted VM";
}

void tam_step_title(tam_step_kind_t kind, const char *instance_type, char *out,
                    size_t cap)
{
    const char *x = target_name(instance_type);
    switch (kind) {
    case TAM_STEP_ATT: snprintf(out, cap, "att"); break;
    case TAM_STEP_TA: snprintf(out, cap, "TA -> %s", x); break;
    case TAM_STEP_PD: snprintf(out, cap, "PD -> TA"); break;
    case TAM_STEP_UA: snprintf(out, cap, "UA -> REE"); break;
    case TAM_STEP_TA_PD: snprintf(out, cap, "TA&PD -> %s", x); break;
    case TAM_STEP_UA_PD: snprintf(out, cap, "(UA, PD) -> TA"); break;
    default: snprintf(out, cap, "?"); break;
    }
}

bool tam_step_carries_pd(tam_step_kind_t kind)
{
    return kind == TAM_STEP_PD || kind == TAM_STEP_TA_PD ||
           kind == TAM_STEP_UA_PD;
}

bool tam_instance_type_ok(const char *type)
{
    return strcmp(type, "process") == 0 || strcmp(type, "container") == 0 ||
           strcmp(type, "vm") == 0;
}
