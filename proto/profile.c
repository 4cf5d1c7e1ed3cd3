/* profile.c: the two numbering profiles as tables (digest 1.2-1.7). */
#include <errno.h>
#include <string.h>

#include "teep/message.h"

int teep_profile_parse(const char *name, teep_profile_t *out)
{
    if (name != NULL && strcmp(name, "rfc") == 0)
        *out = TEEP_PROFILE_RFC;
    else if (name != NULL && strcmp(name, "legacy") == 0)
        *out = TEEP_PROFILE_LEGACY;
    else
        return -EINVAL;
    return 0;
}

const char *teep_profile_name(teep_profile_t profile)
{
    return profile == TEEP_PROFILE_LEGACY ? "legacy" : "rfc";
}

const char *teep_msg_type_name(teep_msg_type_t type)
{
    switch (type) {
    case TEEP_QUERY_REQUEST: return "QueryRequest";
    case TEEP_QUERY_RESPONSE: return "QueryResponse";
    case TEEP_UPDATE: return "Update";
    case TEEP_SUCCESS: return "Success";
    case TEEP_ERROR: return "Error";
    }
    return "unknown";
}

uint64_t teep_profile_type_to_wire(teep_profile_t profile, teep_msg_type_t t)
{
    if (profile == TEEP_PROFILE_LEGACY &&
        (t == TEEP_SUCCESS || t == TEEP_ERROR))
        return (uint64_t)t + 1;
    return (uint64_t)t;
}

teep_msg_type_t teep_profile_type_from_wire(teep_profile_t profile,
                                            uint64_t wire)
{
    if (profile == TEEP_PROFILE_LEGACY) {
        if (wire == 5 || wire == 6)
            return (teep_msg_type_t)(wire - 1);
        if (wire == 4)
            return 0;
    }
    if (wire >= TEEP_QUERY_REQUEST && wire <= TEEP_ERROR)
        return (teep_msg_type_t)wire;
    return 0;
}

#define LEGACY_MANIFEST_PROCESSING_FAILED 17

uint64_t teep_profile_err_to_wire(teep_profile_t profile, uint64_t err_code)
{
    /* The two numberings swap 11 and 17; swapping both ways keeps an
     * unassigned code distinct and makes decode + encode the identity. */
    return teep_profile_err_from_wire(profile, err_code);
}

uint64_t teep_profile_err_from_wire(teep_profile_t profile, uint64_t wire)
{
    if (profile == TEEP_PROFILE_LEGACY) {
        if (wire == LEGACY_MANIFEST_PROCESSING_FAILED)
            return TEEP_ERR_MANIFEST_PROCESSING_FAILED;
        if (wire == TEEP_ERR_MANIFEST_PROCESSING_FAILED)
            return LEGACY_MANIFEST_PROCESSING_FAILED;
    }
    return wire;
}

const char *teep_err_code_name(uint64_t err_code)
{
    static const char *const names[] = {
        [TEEP_ERR_PERMANENT_ERROR] = "ERR_PERMANENT_ERROR",
        [TEEP_ERR_UNSUPPORTED_EXTENSION] = "ERR_UNSUPPORTED_EXTENSION",
        [TEEP_ERR_UNSUPPORTED_FRESHNESS_MECHANISMS] =
            "ERR_UNSUPPORTED_FRESHNESS_MECHANISMS",
        [TEEP_ERR_UNSUPPORTED_MSG_VERSION] = "ERR_UNSUPPORTED_MSG_VERSION",
        [TEEP_ERR_UNSUPPORTED_CIPHER_SUITES] = "ERR_UNSUPPORTED_CIPHER_SUITES",
        [TEEP_ERR_BAD_CERTIFICATE] = "ERR_BAD_CERTIFICATE",
        [TEEP_ERR_ATTESTATION_REQUIRED] = "ERR_ATTESTATION_REQUIRED",
        [TEEP_ERR_UNSUPPORTED_SUIT_REPORT] = "ERR_UNSUPPORTED_SUIT_REPORT",
        [TEEP_ERR_CERTIFICATE_EXPIRED] = "ERR_CERTIFICATE_EXPIRED",
        [TEEP_ERR_TEMPORARY_ERROR] = "ERR_TEMPORARY_ERROR",
        [TEEP_ERR_MANIFEST_PROCESSING_FAILED] =
            "ERR_MANIFEST_PROCESSING_FAILED",
    };
    if (err_code < sizeof(names) / sizeof(names[0]))
        return names[err_code];
    return NULL;
}

/* Wire labels per option: {rfc, legacy}.  Order = teep_option_t. */
static const struct {
    const char *name;
    uint8_t label[2];
} options[TEEP_OPT_COUNT] = {
    [TEEP_OPT_SUPPORTED_TEEP_CIPHER_SUITES] = {"supported-teep-cipher-suites",
                                               {1, 1}},
    [TEEP_OPT_CHALLENGE] = {"challenge", {2, 2}},
    [TEEP_OPT_VERSIONS] = {"versions", {3, 3}},
    [TEEP_OPT_SUPPORTED_SUIT_COSE_PROFILES] = {"supported-suit-cose-profiles",
                                               {4, 4}},
    [TEEP_OPT_SELECTED_VERSION] = {"selected-version", {5, 6}},
    [TEEP_OPT_ATTESTATION_PAYLOAD] = {"attestation-payload", {6, 7}},
    [TEEP_OPT_TC_LIST] = {"tc-list", {7, 8}},
    [TEEP_OPT_EXT_LIST] = {"ext-list", {8, 9}},
    [TEEP_OPT_MANIFEST_LIST] = {"manifest-list", {9, 10}},
    [TEEP_OPT_MSG] = {"msg", {10, 11}},
    [TEEP_OPT_ERR_MSG] = {"err-msg", {11, 12}},
    [TEEP_OPT_ATTESTATION_PAYLOAD_FORMAT] = {"attestation-payload-format",
                                             {12, 13}},
    [TEEP_OPT_REQUESTED_TC_LIST] = {"requested-tc-list", {13, 14}},
    [TEEP_OPT_UNNEEDED_MANIFEST_LIST] = {"unneeded-manifest-list", {14, 15}},
    [TEEP_OPT_SUIT_REPORTS] = {"suit-reports", {18, 19}},
    [TEEP_OPT_TOKEN] = {"token", {19, 20}},
    [TEEP_OPT_SUPPORTED_FRESHNESS_MECHANISMS] =
        {"supported-freshness-mechanisms", {20, 21}},
    [TEEP_OPT_ERR_LANG] = {"err-lang", {21, 22}},
    [TEEP_OPT_ERR_CODE] = {"err-code", {22, 23}},
};

/* component-id, tc-manifest-sequence-number, have-binary: {rfc, legacy} */
static const uint8_t tc_info_labels[3][2] = {{15, 16}, {16, 17}, {17, 18}};

uint64_t teep_profile_option_label(teep_profile_t profile, teep_option_t o)
{
    return (unsigned)o < TEEP_OPT_COUNT
               ? options[o].label[profile == TEEP_PROFILE_LEGACY]
               : UINT64_MAX;
}

uint64_t teep_profile_tc_info_label(teep_profile_t profile,
                                    teep_tc_info_label_t l)
{
    return (unsigned)l < 3 ? tc_info_labels[l][profile == TEEP_PROFILE_LEGACY]
                           : UINT64_MAX;
}

const char *teep_option_name(teep_option_t o)
{
    return (unsigned)o < TEEP_OPT_COUNT ? options[o].name : "unknown";
}

#define B(o) TEEP_OPT_BIT(TEEP_OPT_##o)

/* Options each message's CDDL lists (digest 1.3). */
static uint32_t allowed_options(teep_msg_type_t t)
{
    switch (t) {
    case TEEP_QUERY_REQUEST:
        return B(TOKEN) | B(SUPPORTED_FRESHNESS_MECHANISMS) | B(CHALLENGE) |
               B(VERSIONS) | B(ATTESTATION_PAYLOAD_FORMAT) |
               B(ATTESTATION_PAYLOAD) | B(SUIT_REPORTS);
    case TEEP_QUERY_RESPONSE:
        return B(TOKEN) | B(SELECTED_VERSION) | B(ATTESTATION_PAYLOAD_FORMAT) |
               B(ATTESTATION_PAYLOAD) | B(SUIT_REPORTS) | B(TC_LIST) |
               B(REQUESTED_TC_LIST) | B(UNNEEDED_MANIFEST_LIST) | B(EXT_LIST);
    case TEEP_UPDATE:
        return B(TOKEN) | B(UNNEEDED_MANIFEST_LIST) | B(MANIFEST_LIST) |
               B(ATTESTATION_PAYLOAD_FORMAT) | B(ATTESTATION_PAYLOAD) |
               B(ERR_CODE) | B(ERR_MSG) | B(ERR_LANG);
    case TEEP_SUCCESS: return B(TOKEN) | B(MSG) | B(SUIT_REPORTS);
    case TEEP_ERROR:
        return B(TOKEN) | B(ERR_MSG) | B(ERR_LANG) |
               B(SUPPORTED_TEEP_CIPHER_SUITES) |
               B(SUPPORTED_FRESHNESS_MECHANISMS) |
               B(SUPPORTED_SUIT_COSE_PROFILES) | B(CHALLENGE) | B(VERSIONS) |
               B(SUIT_REPORTS);
    }
    return 0;
}

bool teep_option_allowed(teep_msg_type_t t, teep_option_t o)
{
    return (unsigned)o < TEEP_OPT_COUNT &&
           (allowed_options(t) & TEEP_OPT_BIT(o)) != 0;
}
