/* peek.c: see teep/peek.h.  The relay path's only look into a message. */
#include "teep/peek.h"

#include "cbor_reader.h"

/* The options map of the payload: find the token without decoding
 * anything else.  Under TEEP_PEEK_AUTO a bstr under the legacy label (20)
 * or the rfc label (19, an array in legacy) tells the profile. */
static int peek_options(tp_cbor_reader_t *r, uint64_t pairs, teep_peek_t *out)
{
    uint64_t rfc_label =
        teep_profile_option_label(TEEP_PROFILE_RFC, TEEP_OPT_TOKEN);
    uint64_t legacy_label =
        teep_profile_option_label(TEEP_PROFILE_LEGACY, TEEP_OPT_TOKEN);

    for (uint64_t i = 0; i < pairs; i++) {
        tp_cbor_item_t key, value;
        int rc = tp_cbor_next(r, &key);
        if (rc != 0)
            return rc;
        rc = tp_cbor_skip_rest(r, &key, TEEP_MAX_DEPTH - 2);
        if (rc != 0)
            return rc;
        rc = tp_cbor_next(r, &value);
        if (rc != 0)
            return rc;
        bool is_token = false;
        if (key.kind == TP_CBOR_UINT && value.kind == TP_CBOR_BSTR) {
            if (out->profile == TEEP_PEEK_AUTO &&
                (key.u == rfc_label || key.u == legacy_label)) {
                out->profile =
                    key.u == rfc_label ? TEEP_PROFILE_RFC : TEEP_PROFILE_LEGACY;
            }
            is_token = out->profile != TEEP_PEEK_AUTO &&
                       key.u == teep_profile_option_label(out->profile,
                                                          TEEP_OPT_TOKEN);
        }
        if (is_token) {
            out->token.ptr = value.ptr;
            out->token.len = (size_t)value.u;
        }
        rc = tp_cbor_skip_rest(r, &value, TEEP_MAX_DEPTH - 2);
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
    tp_cbor_item_t it;
    tp_cbor_reader_init(&r, buf, len, diag);
    int rc = tp_cbor_expect(&r, TP_CBOR_ARRAY, &it, "TEEP message");
    if (rc == 0 && it.u < 2)
        rc = tp_cbor_fail(&r, TEEP_E_MISSING, it.offset,
                          "TEEP message: %llu elements, needs type and options",
                          (unsigned long long)it.u);
    uint64_t rest = it.u - 2;
    if (rc == 0)
        rc = tp_cbor_read_uint(&r, UINT64_MAX, &out->wire_type, "TEEP type");
    tp_cbor_item_t options;
    if (rc == 0)
        rc = tp_cbor_expect(&r, TP_CBOR_MAP, &options, "TEEP options");
    if (rc == 0)
        rc = peek_options(&r, options.u, out);
    for (uint64_t i = 0; rc == 0 && i < rest; i++)
        rc = tp_cbor_skip(&r, TEEP_MAX_DEPTH - 1, NULL, NULL);
    if (rc == 0)
        rc = tp_cbor_finish(&r);
    if (rc != 0 && diag != NULL)
        diag->offset += base; /* report offsets in the outer input */
    return rc;
}

int teep_peek(const uint8_t *buf, size_t len, int profile, teep_peek_t *out,
              teep_diag_t *diag)
{
    tp_cbor_reader_t r;
    tp_cbor_item_t it, payload;
    int rc;

    *out = (teep_peek_t){.profile = profile};
    tp_cbor_reader_init(&r, buf, len, diag);

    rc = tp_cbor_expect(&r, TP_CBOR_TAG, &it, "COSE tag");
    if (rc != 0)
        return rc == TEEP_E_TYPE ? tp_cbor_fail(&r, TEEP_E_COSE, 0,
                                                "not a tagged COSE structure")
                                 : rc;
    if (it.u != 18 && it.u != 98)
        return tp_cbor_fail(&r, TEEP_E_COSE, it.offset,
                            "tag %llu is neither COSE_Sign1 (18) nor "
                            "COSE_Sign (98)",
                            (unsigned long long)it.u);
    out->cose_tag = it.u;
    rc = tp_cbor_expect(&r, TP_CBOR_ARRAY, &it, "COSE structure");
    if (rc == 0 && it.u != 4)
        rc = tp_cbor_fail(&r, TEEP_E_COSE, it.offset,
                          "COSE structure has %llu elements, not 4",
                          (unsigned long long)it.u);
    /* protected header: a bstr holding one well-formed item (or empty) */
    if (rc == 0)
        rc = tp_cbor_expect(&r, TP_CBOR_BSTR, &it, "protected header");
    if (rc == 0 && it.u > 0) {
        tp_cbor_reader_t hdr;
        tp_cbor_reader_init(&hdr, it.ptr, (size_t)it.u, diag);
        rc = tp_cbor_skip(&hdr, TEEP_MAX_DEPTH, NULL, NULL);
        if (rc == 0)
            rc = tp_cbor_finish(&hdr);
        if (rc != 0 && diag != NULL)
            diag->offset += (size_t)(it.ptr - buf);
    }
    if (rc == 0)
        rc = tp_cbor_expect(&r, TP_CBOR_MAP, &it, "unprotected header");
    if (rc == 0)
        rc = tp_cbor_skip_rest(&r, &it, TEEP_MAX_DEPTH - 2);
    if (rc == 0)
        rc = tp_cbor_expect(&r, TP_CBOR_BSTR, &payload, "COSE payload");
    if (rc != 0)
        return rc;
    out->payload.ptr = payload.ptr;
    out->payload.len = (size_t)payload.u;
    /* signature (Sign1) or signatures array (Sign): well-formed, bounded */
    rc = tp_cbor_next(&r, &it);
    if (rc == 0 &&
        it.kind != (out->cose_tag == 18 ? TP_CBOR_BSTR : TP_CBOR_ARRAY))
        rc = tp_cbor_fail(&r, TEEP_E_COSE, it.offset,
                          "%s: signature element is a %s",
                          out->cose_tag == 18 ? "COSE_Sign1" : "COSE_Sign",
                          tp_cbor_kind_name(it.kind));
    if (rc == 0)
        rc = tp_cbor_skip_rest(&r, &it, TEEP_MAX_DEPTH - 2);
    if (rc == 0)
        rc = tp_cbor_finish(&r);
    if (rc == 0)
        rc = peek_payload(payload.ptr, (size_t)payload.u,
                          (size_t)(payload.ptr - buf), out, diag);
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
