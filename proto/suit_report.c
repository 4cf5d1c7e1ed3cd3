/* suit_report.c: records, failures, and the SUIT_Report encoding
 * (draft-ietf-suit-report). */
#include <errno.h>
#include <string.h>

#include "suit_internal.h"

/* SUIT_Report and SUIT_Record keys. */
enum {
    REPORT_NONCE = 2,
    REPORT_RECORDS = 3,
    REPORT_RESULT = 4,
    REPORT_RESULT_CODE = 5,
    REPORT_RESULT_RECORD = 6,
    REPORT_RESULT_REASON = 7,
    REPORT_REFERENCE = 99,
    SYSTEM_COMPONENT_ID = 0,
};

teep_suit_reason_t tp_suit_reason_for(int code)
{
    switch (code) {
    case 0: return TEEP_SUIT_REASON_OK;
    case TEEP_E_COSE: return TEEP_SUIT_REASON_COSE_UNSUPPORTED;
    case TEEP_E_ALG: return TEEP_SUIT_REASON_ALG_UNSUPPORTED;
    case TEEP_E_SIGNATURE:
    case TEEP_E_KEY:
    case TEEP_E_SUIT_ROLLBACK: return TEEP_SUIT_REASON_UNAUTHORISED;
    case TEEP_E_SUIT_CONDITION:
    case TEEP_E_SUIT_DIGEST: return TEEP_SUIT_REASON_CONDITION_FAILED;
    case TEEP_E_SUIT_UNSUPPORTED: return TEEP_SUIT_REASON_COMMAND_UNSUPPORTED;
    case TEEP_E_SUIT_SEVERED: return TEEP_SUIT_REASON_SEVERING_UNSUPPORTED;
    case TEEP_E_VERSION:
    case TEEP_E_CBOR:
    case TEEP_E_TRUNCATED:
    case TEEP_E_TRAILING:
    case TEEP_E_DEPTH:
    case TEEP_E_INDEFINITE:
    case TEEP_E_TYPE:
    case TEEP_E_MISSING:
    case TEEP_E_RANGE:
    case TEEP_E_DUPLICATE:
    case TEEP_E_LIMIT: return TEEP_SUIT_REASON_CBOR_PARSE;
    default: return TEEP_SUIT_REASON_OPERATION_FAILED;
    }
}

/* suit-record-properties are for what decided the command's outcome
 * (draft-ietf-suit-report, The SUIT Record); the content parameter is the
 * payload itself, already in the manifest the report references (its digest,
 * the section and offset name the command), and can be megabytes (a PD).  So
 * a record keeps only its length, as image-size, unless the command
 * consumed an image-size of its own. */
static void record__drop_content(teep_suit_params_t *props)
{
    const uint32_t content = TEEP_SUIT_PARAM_BIT(TEEP_SUIT_PARAM_CONTENT);
    const uint32_t size = TEEP_SUIT_PARAM_BIT(TEEP_SUIT_PARAM_IMAGE_SIZE);
    if (!(props->present & content))
        return;
    if (!(props->present & size)) {
        props->image_size = props->content.len;
        props->present |= size;
    }
    props->present &= ~content;
    props->content = (teep_slice_t){0};
}

void tp_suit_record_fill(const tp_suit_exec_t *x, uint32_t idx, int64_t code,
                         size_t offset, bool success,
                         const tp_suit_outcome_t *o, uint64_t policy,
                         teep_suit_record_t *rec)
{
    const tp_suit_frame_t *f = x->f;
    memset(rec, 0, sizeof(*rec));
    memcpy(rec->manifest_path, f->path, f->path_len);
    rec->manifest_path_len = f->path_len;
    rec->section = x->section;
    rec->offset = offset;
    rec->component_index = idx;
    rec->command = code;
    rec->success = success;
    if (idx < f->n_index && f->slot[idx] != TP_SUIT_NO_SLOT) {
        const tp_suit_slot_t *slot = &x->p->slots[f->slot[idx]];
        rec->properties = slot->params;
        rec->properties.present &= o->consumed;
        record__drop_content(&rec->properties);
        rec->system_component_id = slot->id;
    }
    uint64_t want =
        success ? TEEP_SUIT_SYSINFO_SUCCESS : TEEP_SUIT_SYSINFO_FAILURE;
    if ((policy & want) && (o->system.present != 0 || o->has_measured) &&
        rec->system_component_id.ptr != NULL) {
        rec->has_system = true;
        rec->system = o->system;
        rec->has_measured_digest = o->has_measured;
        memcpy(rec->measured_digest, o->measured, sizeof(o->measured));
    }
}

void tp_suit_record_add(tp_suit_proc_t *p, const teep_suit_record_t *rec,
                        uint64_t policy)
{
    uint64_t want =
        rec->success ? TEEP_SUIT_REC_ON_SUCCESS : TEEP_SUIT_REC_ON_FAILURE;
    /* sysinfo alone still reports: the claims follow a record. */
    if (p->report == NULL || !((policy & want) || rec->has_system))
        return;
    if (p->report->n_records == TEEP_SUIT_MAX_RECORDS) {
        p->report->dropped_records++;
        return;
    }
    p->report->records[p->report->n_records++] = *rec;
}

void tp_suit_fail(tp_suit_proc_t *p, int code, teep_suit_reason_t reason,
                  const teep_suit_record_t *rec, const teep_diag_t *diag)
{
    p->failure.code = code;
    p->failure.reason = reason;
    if (rec != NULL)
        p->failure.record = *rec;
    else
        memset(&p->failure.record, 0, sizeof(p->failure.record));
    if (diag != NULL)
        p->failure.diag = *diag;
    p->fail_serial++;
}

static void encode_record(tp_cbor_writer_t *w, const teep_suit_record_t *r)
{
    tp_cw_array(w, 5);
    tp_cw_array(w, r->manifest_path_len);
    for (size_t i = 0; i < r->manifest_path_len; i++)
        tp_cw_uint(w, r->manifest_path[i]);
    tp_cw_int(w, r->section);
    tp_cw_uint(w, r->offset);
    tp_cw_uint(w, r->component_index);
    tp_suit_params_encode(w, &r->properties);
}

/* system-property-claims = {0: component id, + parameters}; the measured
 * digest becomes image-digest, wrapped like the parameter. */
static void encode_system(tp_cbor_writer_t *w, const teep_suit_record_t *r)
{
    teep_suit_params_t sys = r->system;
    uint8_t digest[40];
    if (r->has_measured_digest) {
        tp_cbor_writer_t dw;
        tp_cw_init(&dw, digest, sizeof(digest));
        tp_suit_digest_encode(&dw, TEEP_SUIT_ALG_SHA256, r->measured_digest,
                              sizeof(r->measured_digest));
        sys.image_digest = (teep_slice_t){digest, dw.len};
        sys.present |= TEEP_SUIT_PARAM_BIT(TEEP_SUIT_PARAM_IMAGE_DIGEST);
    }
    tp_cw_map(w, 1 + tp_suit_params_count(&sys));
    tp_cw_uint(w, SYSTEM_COMPONENT_ID);
    tp_cw_raw(w, r->system_component_id.ptr, r->system_component_id.len);
    tp_suit_params_encode_entries(w, &sys);
}

int teep_suit_report_encode(const teep_suit_report_t *report, uint8_t *out,
                            size_t cap, size_t *out_len)
{
    if (report == NULL || out_len == NULL)
        return -EINVAL;
    tp_cbor_writer_t w;
    tp_cw_init(&w, out, cap);
    bool has_nonce = report->nonce.ptr != NULL;
    tp_cw_map(&w, has_nonce ? 4 : 3);
    if (has_nonce) {
        tp_cw_uint(&w, REPORT_NONCE);
        tp_cw_bstr(&w, report->nonce.ptr, report->nonce.len);
    }
    size_t items = 0;
    for (size_t i = 0; i < report->n_records; i++)
        items += 1 + report->records[i].has_system;
    tp_cw_uint(&w, REPORT_RECORDS);
    tp_cw_array(&w, items);
    for (size_t i = 0; i < report->n_records; i++) {
        encode_record(&w, &report->records[i]);
        if (report->records[i].has_system)
            encode_system(&w, &report->records[i]);
    }
    tp_cw_uint(&w, REPORT_RESULT);
    if (report->success) {
        tp_cw_bool(&w, true);
    } else {
        tp_cw_map(&w, 3);
        tp_cw_uint(&w, REPORT_RESULT_CODE);
        tp_cw_int(&w, report->result_code);
        tp_cw_uint(&w, REPORT_RESULT_RECORD);
        encode_record(&w, &report->result_record);
        tp_cw_uint(&w, REPORT_RESULT_REASON);
        tp_cw_uint(&w, report->reason);
    }
    tp_cw_uint(&w, REPORT_REFERENCE);
    tp_cw_array(&w, 2);
    tp_cw_tstr(&w, (const char *)report->reference_uri.ptr,
               report->reference_uri.len);
    tp_suit_digest_encode(&w, report->digest_alg, report->digest,
                          report->digest_len);
    *out_len = w.len;
    return out == NULL ? 0 : tp_cw_result(&w);
}
