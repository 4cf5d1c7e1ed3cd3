/* peek.c: see teep/peek.h.  The relay path's only look into a message, so
 * it reads every head on the reader's lean path (kind and value, no
 * tp_cbor_item_t) and skips what it does not need in one loop. */
#include "teep/peek.h"

#include "cbor_reader.h"

/* The depth budget of each element peek skips past, the element itself
 * counted: TEEP_MAX_DEPTH less the two levels around it. */
#define PEEK_SKIP_DEPTH (TEEP_MAX_DEPTH - 2)

/* One pair of the options map with an unsigned key and a bstr value: is it
 * the token?  Under TEEP_PEEK_AUTO the legacy label (20) or the rfc label
 * (19, an array in legacy) tells the profile. */
static bool is_token(uint64_t key, teep_peek_t *out)
{
    if (out->profile == TEEP_PEEK_AUTO) {
        if (key == teep_profile_option_label(TEEP_PROFILE_RFC, TEEP_OPT_TOKEN))
            out->profile = TEEP_PROFILE_RFC;
        else if (key ==
                 teep_profile_option_label(TEEP_PROFILE_LEGACY, TEEP_OPT_TOKEN))
            out->profile = TEEP_PROFILE_LEGACY;
        else
            return false;
        return true;
    }
    return key == teep_profile_option_label((teep_profile_t)out->profile,
                                            TEEP_OPT_TOKEN);
}

/* The options map of the payload: find the token without decoding
 * anything else. */
static int peek_options(tp_cbor_reader_t *r, uint64_t pairs, teep_peek_t *out)
{
    for (uint64_t i = 0; i < pairs; i++) {
        tp_cbor_kind_t key_kind, value_kind;
        uint64_t key, value;
        int rc = tp_cbor_head(r, &key_kind, &key);
        if (rc == 0)
            rc = tp_cbor_skip_contents(r, key_kind, key, PEEK_SKIP_DEPTH);
        if (rc == 0)
            rc = tp_cbor_head(r, &value_kind, &value);
        if (rc != 0)
            return rc;
        if (key_kind == TP_CBOR_UINT && value_kind == TP_CBOR_BSTR &&
            is_token(key, out)) {
            out->token.ptr = tp_cbor_string_bytes(r, value);
            out->token.len = (size_t)value;
        }
        rc = tp_cbor_skip_contents(r, value_kind, value, PEEK_SKIP_DEPTH);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* The TEEP message inside the COSE payload: [type, {options}, *rest]. */
static int peek_payload(const uint8_t *buf, size_t len, size_t base,
                        teep_peek_t *out, teep_diag_t *diag)
{
    tp_cbor_reader_t r;
    uint64_t elements = 0, pairs = 0;
    size_t at = 0;
    tp_cbor_reader_init(&r, buf, len, diag);
    int rc = tp_cbor_expect_head(&r, TP_CBOR_ARRAY, &elements, "TEEP message");
    if (rc == 0 && elements < 2)
        rc = tp_cbor_fail(&r, TEEP_E_MISSING, at,
                          "TEEP message: %llu elements, needs type and options",
                          (unsigned long long)elements);
    uint64_t type = 0;
    if (rc == 0)
        rc = tp_cbor_expect_head(&r, TP_CBOR_UINT, &type, "TEEP type");
    if (rc == 0)
        out->wire_type = type;
    if (rc == 0)
        rc = tp_cbor_expect_head(&r, TP_CBOR_MAP, &pairs, "TEEP options");
    if (rc == 0)
        rc = peek_options(&r, pairs, out);
    for (uint64_t i = 2; rc == 0 && i < elements; i++)
        rc = tp_cbor_skip(&r, TEEP_MAX_DEPTH - 1, NULL, NULL);
    if (rc == 0)
        rc = tp_cbor_finish(&r);
    if (rc != 0 && diag != NULL)
        diag->offset += base; /* report offsets in the outer input */
    return rc;
}

/* The protected header: a bstr holding one well-formed item (or empty). */
static int peek_protected(const uint8_t *buf, const uint8_t *hdr, size_t len,
                          teep_diag_t *diag)
{
    if (len == 0)
        return 0;
    tp_cbor_reader_t r;
    tp_cbor_reader_init(&r, hdr, len, diag);
    int rc = tp_cbor_skip(&r, TEEP_MAX_DEPTH, NULL, NULL);
    if (rc == 0)
        rc = tp_cbor_finish(&r);
    if (rc != 0 && diag != NULL)
        diag->offset += (size_t)(hdr - buf);
    return rc;
}

int teep_peek(const uint8_t *buf, size_t len, int profile, teep_peek_t *out,
              teep_diag_t *diag)
{
    tp_cbor_reader_t r;
    tp_cbor_kind_t kind;
    uint64_t value = 0;
    size_t at;
    int rc;

    *out = (teep_peek_t){.profile = profile};
    tp_cbor_reader_init(&r, buf, len, diag);

    rc = tp_cbor_expect_head(&r, TP_CBOR_TAG, &value, "COSE tag");
    if (rc != 0)
        return rc == TEEP_E_TYPE ? tp_cbor_fail(&r, TEEP_E_COSE, 0,
                                                "not a tagged COSE structure")
                                 : rc;
    if (value != 18 && value != 98)
        return tp_cbor_fail(&r, TEEP_E_COSE, 0,
                            "tag %llu is neither COSE_Sign1 (18) nor "
                            "COSE_Sign (98)",
                            (unsigned long long)value);
    out->cose_tag = value;
    at = r.pos;
    rc = tp_cbor_expect_head(&r, TP_CBOR_ARRAY, &value, "COSE structure");
    if (rc == 0 && value != 4)
        rc = tp_cbor_fail(&r, TEEP_E_COSE, at,
                          "COSE structure has %llu elements, not 4",
                          (unsigned long long)value);
    if (rc == 0)
        rc = tp_cbor_expect_head(&r, TP_CBOR_BSTR, &value, "protected header");
    if (rc == 0)
        rc = peek_protected(buf, tp_cbor_string_bytes(&r, value), (size_t)value,
                            diag);
    if (rc == 0)
        rc = tp_cbor_expect_head(&r, TP_CBOR_MAP, &value, "unprotected header");
    if (rc == 0)
        rc = tp_cbor_skip_contents(&r, TP_CBOR_MAP, value, PEEK_SKIP_DEPTH);
    if (rc == 0)
        rc = tp_cbor_expect_head(&r, TP_CBOR_BSTR, &value, "COSE payload");
    if (rc != 0)
        return rc;
    out->payload.ptr = tp_cbor_string_bytes(&r, value);
    out->payload.len = (size_t)value;
    /* signature (Sign1) or signatures array (Sign): well-formed, bounded */
    at = r.pos;
    rc = tp_cbor_head(&r, &kind, &value);
    if (rc == 0 && kind != (out->cose_tag == 18 ? TP_CBOR_BSTR : TP_CBOR_ARRAY))
        rc = tp_cbor_fail(&r, TEEP_E_COSE, at, "%s: signature element is a %s",
                          out->cose_tag == 18 ? "COSE_Sign1" : "COSE_Sign",
                          tp_cbor_kind_name(kind));
    if (rc == 0)
        rc = tp_cbor_skip_contents(&r, kind, value, PEEK_SKIP_DEPTH);
    if (rc == 0)
        rc = tp_cbor_finish(&r);
    if (rc == 0)
        rc = peek_payload(out->payload.ptr, out->payload.len,
                          (size_t)(out->payload.ptr - buf), out, diag);
    if (rc != 0)
        return rc;
    if (out->profile != TEEP_PEEK_AUTO)
        out->type = teep_profile_type_from_wire((teep_profile_t)out->profile,
                                                out->wire_type);
    else if (out->wire_type == 6)
        out->type = TEEP_ERROR, out->profile = TEEP_PROFILE_LEGACY;
    else if (out->wire_type <= TEEP_UPDATE)
        out->type =
            teep_profile_type_from_wire(TEEP_PROFILE_RFC, out->wire_type);
    return 0;
}
