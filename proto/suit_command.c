/* suit_command.c: walking a SUIT_Command_Sequence, and the names of
 * commands, sections, report reasons and SUIT errors. */
#include "suit_internal.h"

int teep_suit_cmd_begin(teep_suit_cmd_iter_t *it, teep_slice_t seq,
                        teep_diag_t *diag)
{
    tp_cbor_reader_t r;
    tp_cbor_item_t arr;
    tp_cbor_reader_init(&r, seq.ptr, seq.len, diag);
    int rc = tp_cbor_expect(&r, TP_CBOR_ARRAY, &arr, "command sequence");
    if (rc != 0)
        return rc;
    if (arr.u % 2 != 0)
        return tp_cbor_fail(&r, TEEP_E_MISSING, arr.offset,
                            "command sequence of %llu items: a command "
                            "lacks its argument",
                            (unsigned long long)arr.u);
    *it = (teep_suit_cmd_iter_t){seq.ptr, seq.len, r.pos, arr.u / 2};
    return 0;
}

int teep_suit_cmd_next(teep_suit_cmd_iter_t *it, teep_suit_cmd_t *cmd,
                       teep_diag_t *diag)
{
    tp_cbor_reader_t r;
    tp_cbor_reader_init(&r, it->buf, it->len, diag);
    r.pos = it->pos;
    if (it->left == 0)
        return tp_cbor_finish(&r);
    cmd->offset = r.pos;
    int rc = tp_cbor_read_int(&r, &cmd->code, "command");
    size_t start = 0, end = 0;
    if (rc == 0)
        rc = tp_cbor_skip(&r, TEEP_MAX_DEPTH, &start, &end);
    if (rc != 0)
        return rc;
    cmd->arg = (teep_slice_t){it->buf + start, end - start};
    it->pos = r.pos;
    it->left--;
    return 1;
}

typedef struct name {
    int64_t value;
    const char *name;
} name_t;

static const char *lookup(const name_t *table, size_t n, int64_t value)
{
    for (size_t i = 0; i < n; i++)
        if (table[i].value == value)
            return table[i].name;
    return "unknown";
}

#define LOOKUP(table, v) lookup(table, sizeof(table) / sizeof(table[0]), v)

const char *teep_suit_command_name(int64_t command)
{
    static const name_t names[] = {
        {TEEP_SUIT_COND_VENDOR_ID, "condition-vendor-identifier"},
        {TEEP_SUIT_COND_CLASS_ID, "condition-class-identifier"},
        {TEEP_SUIT_COND_IMAGE_MATCH, "condition-image-match"},
        {TEEP_SUIT_COND_COMPONENT_SLOT, "condition-component-slot"},
        {TEEP_SUIT_COND_CHECK_CONTENT, "condition-check-content"},
        {TEEP_SUIT_COND_DEPENDENCY_INTEGRITY, "condition-dependency-integrity"},
        {TEEP_SUIT_COND_IS_DEPENDENCY, "condition-is-dependency"},
        {TEEP_SUIT_DIR_PROCESS_DEPENDENCY, "directive-process-dependency"},
        {TEEP_SUIT_DIR_SET_COMPONENT_INDEX, "directive-set-component-index"},
        {TEEP_SUIT_COND_ABORT, "condition-abort"},
        {TEEP_SUIT_DIR_TRY_EACH, "directive-try-each"},
        {TEEP_SUIT_DIR_WRITE, "directive-write"},
        {TEEP_SUIT_DIR_SET_PARAMETERS, "directive-set-parameters"},
        {TEEP_SUIT_DIR_OVERRIDE_PARAMETERS, "directive-override-parameters"},
        {TEEP_SUIT_DIR_FETCH, "directive-fetch"},
        {TEEP_SUIT_DIR_COPY, "directive-copy"},
        {TEEP_SUIT_DIR_INVOKE, "directive-invoke"},
        {TEEP_SUIT_COND_DEVICE_ID, "condition-device-identifier"},
        {TEEP_SUIT_DIR_SWAP, "directive-swap"},
        {TEEP_SUIT_DIR_RUN_SEQUENCE, "directive-run-sequence"},
        {TEEP_SUIT_DIR_UNLINK, "directive-unlink"},
    };
    return command < 0 ? "custom" : LOOKUP(names, command);
}

const char *teep_suit_param_name(int64_t param)
{
    static const name_t names[] = {
        {TEEP_SUIT_PARAM_VENDOR_ID, "vendor-identifier"},
        {TEEP_SUIT_PARAM_CLASS_ID, "class-identifier"},
        {TEEP_SUIT_PARAM_IMAGE_DIGEST, "image-digest"},
        {TEEP_SUIT_PARAM_COMPONENT_SLOT, "component-slot"},
        {TEEP_SUIT_PARAM_STRICT_ORDER, "strict-order"},
        {TEEP_SUIT_PARAM_SOFT_FAILURE, "soft-failure"},
        {TEEP_SUIT_PARAM_IMAGE_SIZE, "image-size"},
        {TEEP_SUIT_PARAM_CONTENT, "content"},
        {TEEP_SUIT_PARAM_ENCRYPTION_INFO, "encryption-info"},
        {TEEP_SUIT_PARAM_URI, "uri"},
        {TEEP_SUIT_PARAM_SOURCE_COMPONENT, "source-component"},
        {TEEP_SUIT_PARAM_INVOKE_ARGS, "invoke-args"},
        {TEEP_SUIT_PARAM_DEVICE_ID, "device-identifier"},
        {TEEP_SUIT_PARAM_FETCH_ARGS, "fetch-arguments"},
    };
    return param < 0 ? "custom" : LOOKUP(names, param);
}

/* Processing order of the sequences and their manifest keys. */
static const int64_t sequence_keys[TEEP_SUIT_SEQ_COUNT] = {
    [TEEP_SUIT_SEQ_DEPENDENCY_RESOLUTION] = TEEP_SUIT_DEPENDENCY_RESOLUTION,
    [TEEP_SUIT_SEQ_PAYLOAD_FETCH] = TEEP_SUIT_PAYLOAD_FETCH,
    [TEEP_SUIT_SEQ_CANDIDATE_VERIFICATION] = TEEP_SUIT_CANDIDATE_VERIFICATION,
    [TEEP_SUIT_SEQ_INSTALL] = TEEP_SUIT_INSTALL,
    [TEEP_SUIT_SEQ_VALIDATE] = TEEP_SUIT_VALIDATE,
    [TEEP_SUIT_SEQ_LOAD] = TEEP_SUIT_LOAD,
    [TEEP_SUIT_SEQ_INVOKE] = TEEP_SUIT_INVOKE,
    [TEEP_SUIT_SEQ_UNINSTALL] = TEEP_SUIT_UNINSTALL,
};

int64_t teep_suit_sequence_key(teep_suit_seq_t seq)
{
    return (unsigned)seq < TEEP_SUIT_SEQ_COUNT ? sequence_keys[seq] : 0;
}

const char *teep_suit_section_name(int64_t manifest_key)
{
    static const name_t names[] = {
        {TEEP_SUIT_COMMON, "common"},
        {TEEP_SUIT_VALIDATE, "validate"},
        {TEEP_SUIT_LOAD, "load"},
        {TEEP_SUIT_INVOKE, "invoke"},
        {TEEP_SUIT_DEPENDENCY_RESOLUTION, "dependency-resolution"},
        {TEEP_SUIT_PAYLOAD_FETCH, "payload-fetch"},
        {TEEP_SUIT_CANDIDATE_VERIFICATION, "candidate-verification"},
        {TEEP_SUIT_INSTALL, "install"},
        {TEEP_SUIT_TEXT, "text"},
        {TEEP_SUIT_UNINSTALL, "uninstall"},
    };
    return LOOKUP(names, manifest_key);
}

const char *teep_suit_reason_name(teep_suit_reason_t reason)
{
    static const name_t names[] = {
        {TEEP_SUIT_REASON_OK, "ok"},
        {TEEP_SUIT_REASON_CBOR_PARSE, "cbor-parse"},
        {TEEP_SUIT_REASON_COSE_UNSUPPORTED, "cose-unsupported"},
        {TEEP_SUIT_REASON_ALG_UNSUPPORTED, "alg-unsupported"},
        {TEEP_SUIT_REASON_UNAUTHORISED, "unauthorised"},
        {TEEP_SUIT_REASON_COMMAND_UNSUPPORTED, "command-unsupported"},
        {TEEP_SUIT_REASON_COMPONENT_UNSUPPORTED, "component-unsupported"},
        {TEEP_SUIT_REASON_COMPONENT_UNAUTHORISED, "component-unauthorised"},
        {TEEP_SUIT_REASON_PARAMETER_UNSUPPORTED, "parameter-unsupported"},
        {TEEP_SUIT_REASON_SEVERING_UNSUPPORTED, "severing-unsupported"},
        {TEEP_SUIT_REASON_CONDITION_FAILED, "condition-failed"},
        {TEEP_SUIT_REASON_OPERATION_FAILED, "operation-failed"},
        {TEEP_SUIT_REASON_INVOKE_PENDING, "invoke-pending"},
    };
    return LOOKUP(names, reason);
}

const char *teep_suit_strerror(int code)
{
    static const name_t names[] = {
        {TEEP_E_SUIT_CONDITION, "condition failed"},
        {TEEP_E_SUIT_UNSUPPORTED, "not supported"},
        {TEEP_E_SUIT_ROLLBACK, "sequence number not newer"},
        {TEEP_E_SUIT_DIGEST, "digest mismatch"},
        {TEEP_E_SUIT_SEVERED, "severed member missing"},
        {TEEP_E_SUIT_OPERATION, "operation failed"},
    };
    if (code <= TEEP_E_SUIT_CONDITION && code >= TEEP_E_SUIT_OPERATION)
        return LOOKUP(names, code);
    return teep_strerror(code);
}
