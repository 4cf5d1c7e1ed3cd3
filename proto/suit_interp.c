/* suit_interp.c: the one interpreter every command sequence runs through
 * (shared, dependency-resolution ... uninstall, and the sequences nested in
 * try-each and run-sequence): component index, parameters, control flow,
 * records and failures.  The commands that act on a component are in
 * suit_actions.c. */
#include <string.h>

#include "suit_internal.h"

static int exec_commands(tp_suit_exec_t *x, teep_slice_t seq);

static size_t envelope_offset(const tp_suit_exec_t *x, size_t offset)
{
    return (size_t)(x->section_base - x->f->env->raw.ptr) + offset;
}

/* Record a failure at this command unless a nested one (a command inside
 * try-each, run-sequence or a dependency) already told where. */
static int fail_here(tp_suit_exec_t *x, unsigned serial, int rc, uint32_t idx,
                     int64_t code, size_t offset, const tp_suit_outcome_t *o)
{
    if (x->p->fail_serial != serial)
        return rc;
    int code_out = rc == TP_SUIT_COND_FAILED ? TEEP_E_SUIT_CONDITION : rc;
    teep_suit_record_t rec;
    tp_suit_record_fill(x, idx, code, offset, false, o, 0, &rec);
    /* A command's own words say why; the offset is the command's. */
    teep_diag_t d = o->diag;
    if (d.code == 0)
        teep_diag_set(&d, code_out, 0, "%s on component %u in %s: %s",
                      teep_suit_command_name(code), idx,
                      teep_suit_section_name(x->section),
                      teep_suit_strerror(code_out));
    d.code = code_out;
    d.offset = envelope_offset(x, offset);
    teep_suit_reason_t reason =
        o->reason != 0 ? o->reason : tp_suit_reason_for(code_out);
    tp_suit_fail(x->p, code_out, reason, &rec, &d);
    return rc;
}

static bool index_valid(const tp_suit_frame_t *f, uint64_t idx)
{
    return idx < f->n_index && f->slot[idx] != TP_SUIT_NO_SLOT;
}

/* set-component-index: uint, true or [+ uint]. */
static int select_components(tp_suit_exec_t *x, teep_slice_t arg,
                             tp_suit_outcome_t *o)
{
    tp_cbor_reader_t r;
    tp_cbor_item_t it;
    tp_cbor_reader_init(&r, arg.ptr, arg.len, NULL);
    int rc = tp_cbor_next(&r, &it);
    if (rc != 0)
        return rc;
    x->select_all = false;
    x->n_selected = 0;
    if (it.kind == TP_CBOR_TRUE) {
        for (uint32_t i = 0; i < x->f->n_index; i++)
            if (index_valid(x->f, i))
                x->selected[x->n_selected++] = (uint8_t)i;
        x->select_all = true;
        return 0;
    }
    uint64_t n = 1;
    if (it.kind == TP_CBOR_ARRAY) {
        n = it.u;
        if (n == 0 || n > TEEP_SUIT_MAX_INDEX)
            return TEEP_E_RANGE;
        rc = tp_cbor_next(&r, &it);
    }
    for (uint64_t i = 0; rc == 0 && i < n; i++) {
        if (i > 0)
            rc = tp_cbor_next(&r, &it);
        if (rc == 0 && it.kind != TP_CBOR_UINT)
            rc = TEEP_E_TYPE;
        if (rc == 0 && !index_valid(x->f, it.u)) {
            o->reason = TEEP_SUIT_REASON_COMPONENT_UNSUPPORTED;
            return TEEP_E_SUIT_UNSUPPORTED;
        }
        if (rc == 0)
            x->selected[x->n_selected++] = (uint8_t)it.u;
    }
    return rc;
}

/* override-parameters / set-parameters on every selected component; soft
 * failure and strict order belong to the sequence, not to components. */
static int apply_parameters(tp_suit_exec_t *x, teep_slice_t arg, bool override,
                            tp_suit_outcome_t *o)
{
    teep_suit_params_t np;
    int rc = teep_suit_params_decode(arg, &np, NULL);
    if (rc == TEEP_E_SUIT_UNSUPPORTED)
        o->reason = TEEP_SUIT_REASON_PARAMETER_UNSUPPORTED;
    if (rc != 0)
        return rc;
    if (np.present & TEEP_SUIT_PARAM_BIT(TEEP_SUIT_PARAM_SOFT_FAILURE)) {
        /* Only meaningful inside try-each / run-sequence (manifest
         * spec); elsewhere it must not be set. */
        if (x->nesting == 0) {
            o->reason = TEEP_SUIT_REASON_PARAMETER_UNSUPPORTED;
            return TEEP_E_SUIT_UNSUPPORTED;
        }
        x->soft_failure = np.soft_failure;
    }
    if (np.present & TEEP_SUIT_PARAM_BIT(TEEP_SUIT_PARAM_STRICT_ORDER))
        x->strict_order = np.strict_order;
    uint32_t component_params =
        ~(TEEP_SUIT_PARAM_BIT(TEEP_SUIT_PARAM_SOFT_FAILURE) |
          TEEP_SUIT_PARAM_BIT(TEEP_SUIT_PARAM_STRICT_ORDER));
    for (size_t i = 0; i < x->n_selected; i++)
        tp_suit_params_merge(tp_suit_params(x->p, x->f, x->selected[i]), &np,
                             override, component_params);
    return 0;
}

/* Run seq for component idx alone, as try-each and run-sequence do. */
static int run_nested(tp_suit_exec_t *x, uint32_t idx, teep_slice_t seq,
                      bool soft_failure, bool *soft_after)
{
    if (x->nesting + 1 > TEEP_SUIT_MAX_NESTING)
        return TEEP_E_DEPTH;
    tp_suit_exec_t child = *x;
    child.selected[0] = (uint8_t)idx;
    child.n_selected = 1;
    child.select_all = false;
    child.soft_failure = soft_failure;
    child.nesting++;
    int rc = exec_commands(&child, seq);
    *soft_after = child.soft_failure;
    return rc;
}

/* The bstr argument of run-sequence or one element of try-each. */
static int read_sequence(tp_cbor_reader_t *r, bool nil_ok, teep_slice_t *seq)
{
    tp_cbor_item_t it;
    int rc = tp_cbor_next(r, &it);
    if (rc != 0)
        return rc;
    if (it.kind == TP_CBOR_NULL && nil_ok) {
        *seq = (teep_slice_t){0};
        return 0;
    }
    if (it.kind != TP_CBOR_BSTR)
        return TEEP_E_TYPE;
    *seq = (teep_slice_t){it.ptr, (size_t)it.u};
    return 0;
}

/* try-each: the first alternative that completes wins; a condition that
 * fails while soft failure is on moves to the next one. */
static int try_each(tp_suit_exec_t *x, uint32_t idx, teep_slice_t arg)
{
    tp_cbor_reader_t r;
    tp_cbor_item_t arr;
    tp_cbor_reader_init(&r, arg.ptr, arg.len, NULL);
    int rc = tp_cbor_expect(&r, TP_CBOR_ARRAY, &arr, "try-each");
    if (rc != 0)
        return rc;
    if (arr.u < 2)
        return TEEP_E_MISSING;
    for (uint64_t i = 0; i < arr.u; i++) {
        teep_slice_t seq;
        rc = read_sequence(&r, i + 1 == arr.u, &seq);
        if (rc != 0)
            return rc;
        if (seq.ptr == NULL)
            return 0; /* a final nil: every alternative may fail */
        bool soft;
        rc = run_nested(x, idx, seq, true, &soft);
        if (rc != TP_SUIT_COND_FAILED || !soft)
            return rc;
    }
    return TP_SUIT_COND_FAILED;
}

/* run-sequence: a condition failing with soft failure on just ends it. */
static int run_sequence_arg(tp_suit_exec_t *x, uint32_t idx, teep_slice_t arg)
{
    tp_cbor_reader_t r;
    teep_slice_t seq;
    tp_cbor_reader_init(&r, arg.ptr, arg.len, NULL);
    int rc = read_sequence(&r, false, &seq);
    if (rc != 0)
        return rc;
    bool soft;
    rc = run_nested(x, idx, seq, false, &soft);
    return rc == TP_SUIT_COND_FAILED && soft ? 0 : rc;
}

/* A condition or component directive: argument is the reporting policy;
 * runs once per selected component and records each. */
static int component_command(tp_suit_exec_t *x, const teep_suit_cmd_t *cmd,
                             size_t offset)
{
    tp_cbor_reader_t r;
    tp_cbor_item_t it;
    tp_suit_outcome_t o = {0};
    tp_cbor_reader_init(&r, cmd->arg.ptr, cmd->arg.len, NULL);
    unsigned serial = x->p->fail_serial;
    int rc = tp_cbor_next(&r, &it);
    uint64_t policy = it.u;
    if (cmd->code < 0 || rc != 0 || it.kind != TP_CBOR_UINT) {
        /* Custom commands (any argument) are not supported here; a
         * standard one without a policy is malformed. */
        uint32_t at = x->n_selected > 0 ? x->selected[0] : 0;
        o.reason = cmd->code < 0 ? TEEP_SUIT_REASON_COMMAND_UNSUPPORTED
                                 : TEEP_SUIT_REASON_CBOR_PARSE;
        return fail_here(x, serial,
                         cmd->code < 0 ? TEEP_E_SUIT_UNSUPPORTED : TEEP_E_TYPE,
                         at, cmd->code, offset, &o);
    }
    if (x->n_selected == 0) {
        o.reason = TEEP_SUIT_REASON_COMPONENT_UNSUPPORTED;
        return fail_here(x, serial, TEEP_E_SUIT_UNSUPPORTED, 0, cmd->code,
                         offset, &o);
    }
    for (size_t i = 0; i < x->n_selected; i++) {
        uint32_t idx = x->selected[i];
        /* With index True, process-dependency means every dependency. */
        if (x->select_all && cmd->code == TEEP_SUIT_DIR_PROCESS_DEPENDENCY &&
            x->f->dependency[idx] < 0)
            continue;
        o = (tp_suit_outcome_t){0};
        serial = x->p->fail_serial;
        rc = tp_suit_command(x, idx, cmd->code, &o);
        teep_suit_record_t rec;
        tp_suit_record_fill(x, idx, cmd->code, offset, rc == 0, &o, policy,
                            &rec);
        tp_suit_record_add(x->p, &rec, policy);
        if (rc != 0)
            return fail_here(x, serial, rc, idx, cmd->code, offset, &o);
    }
    return 0;
}

static int exec_command(tp_suit_exec_t *x, const teep_suit_cmd_t *cmd,
                        teep_slice_t seq)
{
    size_t offset = (size_t)(seq.ptr - x->section_base) + cmd->offset;
    unsigned serial = x->p->fail_serial;
    tp_suit_outcome_t o = {0};
    uint32_t idx = x->n_selected > 0 ? x->selected[0] : 0;
    int rc = 0;
    switch (cmd->code) {
    case TEEP_SUIT_DIR_SET_COMPONENT_INDEX:
        /* Parallel runs (strict order off) must not switch components
         * (manifest spec, parallel processing). */
        if (!x->strict_order && x->nesting > 0) {
            o.reason = TEEP_SUIT_REASON_COMMAND_UNSUPPORTED;
            rc = TEEP_E_SUIT_UNSUPPORTED;
            break;
        }
        rc = select_components(x, cmd->arg, &o);
        break;
    case TEEP_SUIT_DIR_OVERRIDE_PARAMETERS:
    case TEEP_SUIT_DIR_SET_PARAMETERS:
        rc = apply_parameters(
            x, cmd->arg, cmd->code == TEEP_SUIT_DIR_OVERRIDE_PARAMETERS, &o);
        break;
    case TEEP_SUIT_DIR_TRY_EACH:
    case TEEP_SUIT_DIR_RUN_SEQUENCE:
        for (size_t i = 0; rc == 0 && i < x->n_selected; i++) {
            idx = x->selected[i];
            rc = cmd->code == TEEP_SUIT_DIR_TRY_EACH
                     ? try_each(x, idx, cmd->arg)
                     : run_sequence_arg(x, idx, cmd->arg);
        }
        break;
    default: return component_command(x, cmd, offset);
    }
    return rc != 0 ? fail_here(x, serial, rc, idx, cmd->code, offset, &o) : 0;
}

static int exec_commands(tp_suit_exec_t *x, teep_slice_t seq)
{
    teep_suit_cmd_iter_t it;
    teep_suit_cmd_t cmd;
    teep_diag_t d = {0};
    int rc = teep_suit_cmd_begin(&it, seq, &d);
    while (rc == 0 && (rc = teep_suit_cmd_next(&it, &cmd, &d)) == 1)
        rc = exec_command(x, &cmd, seq);
    if (rc < 0 && d.code != 0) {
        /* The sequence itself is malformed. */
        size_t at = (size_t)(seq.ptr - x->section_base) + d.offset;
        d.offset = envelope_offset(x, at);
        teep_suit_record_t rec;
        tp_suit_outcome_t none = {0};
        tp_suit_record_fill(x, x->n_selected > 0 ? x->selected[0] : 0, 0, at,
                            false, &none, 0, &rec);
        tp_suit_fail(x->p, rc, TEEP_SUIT_REASON_CBOR_PARSE, &rec, &d);
    }
    return rc;
}

int tp_suit_run_sequence(tp_suit_proc_t *p, tp_suit_frame_t *f, int64_t section,
                         teep_slice_t seq)
{
    tp_suit_exec_t x = {
        .p = p,
        .f = f,
        .section = section,
        .section_base = seq.ptr,
        .strict_order = true,
    };
    /* Each sequence starts at component 0 (the manifest spec requires a
     * set-component-index first when there are several). */
    if (index_valid(f, 0)) {
        x.selected[0] = 0;
        x.n_selected = 1;
    }
    return exec_commands(&x, seq);
}
