/* suit_actions.c: the conditions and directives that act on one component
 * through the device's callbacks (teep_suit_ops_t). */
#include <errno.h>
#include <string.h>

#include "suit_internal.h"

#define BIT(p) TEEP_SUIT_PARAM_BIT(TEEP_SUIT_PARAM_##p)

/* A callback the device did not provide: the command is unsupported. */
static int unsupported(tp_suit_outcome_t *o, const char *what)
{
    o->reason = TEEP_SUIT_REASON_COMMAND_UNSUPPORTED;
    return teep_diag_set(&o->diag, TEEP_E_SUIT_UNSUPPORTED, 0,
                         "the device does not %s", what);
}

/* A parameter the command needs is not set: a condition fails, a
 * directive aborts. */
static int missing(tp_suit_outcome_t *o, bool condition, const char *what)
{
    if (condition)
        return TP_SUIT_COND_FAILED;
    o->reason = TEEP_SUIT_REASON_PARAMETER_UNSUPPORTED;
    return teep_diag_set(&o->diag, TEEP_E_MISSING, 0, "parameter %s not set",
                         what);
}

static int operation_failed(tp_suit_outcome_t *o, int rc, const char *what)
{
    o->reason = TEEP_SUIT_REASON_OPERATION_FAILED;
    return teep_diag_set(
        &o->diag, rc < 0 ? rc : TEEP_E_SUIT_OPERATION, 0, "%s failed: %s", what,
        teep_suit_strerror(rc < 0 ? rc : TEEP_E_SUIT_OPERATION));
}

/* Vendor, class and device identifier conditions. */
static int check_id(tp_suit_exec_t *x, uint32_t idx, uint32_t bit,
                    const teep_suit_ids_t *ids, tp_suit_outcome_t *o)
{
    const teep_suit_params_t *pr = tp_suit_params(x->p, x->f, idx);
    o->consumed = bit;
    if (!(pr->present & bit))
        return TP_SUIT_COND_FAILED;
    teep_slice_t want = bit == BIT(VENDOR_ID)  ? pr->vendor_id
                        : bit == BIT(CLASS_ID) ? pr->class_id
                                               : pr->device_id;
    bool match = false;
    size_t which = 0;
    for (size_t i = 0; i < ids->count && !match; i++)
        if (tp_suit_slice_eq(ids->ids[i], want))
            match = true, which = i;
    if (ids->count > 0) {
        o->system.present = bit;
        teep_slice_t have = ids->ids[which];
        if (bit == BIT(VENDOR_ID))
            o->system.vendor_id = have;
        else if (bit == BIT(CLASS_ID))
            o->system.class_id = have;
        else
            o->system.device_id = have;
    }
    return match ? 0 : TP_SUIT_COND_FAILED;
}

/* The bytes component idx holds: a dependency's envelope as fetched in
 * this run, else what the device reads back. */
static int read_component(tp_suit_exec_t *x, uint32_t idx, teep_slice_t *bytes,
                          tp_suit_outcome_t *o)
{
    int j = x->f->dependency[idx];
    if (j >= 0) {
        *bytes = x->f->dep_envelope[j];
        return bytes->ptr != NULL ? 0 : -ENOENT;
    }
    if (x->p->ops->read == NULL)
        return unsupported(o, "read components");
    teep_suit_component_t c;
    tp_suit_component(x->f, idx, &c);
    return x->p->ops->read(x->p->ctx, &c, bytes);
}

/* Store bytes as the content of idx: a dependency's envelope stays with
 * the processor (and needs checking again), an image goes to the device. */
static int store(tp_suit_exec_t *x, uint32_t idx, teep_slice_t bytes,
                 tp_suit_outcome_t *o)
{
    int j = x->f->dependency[idx];
    if (j >= 0) {
        x->f->dep_envelope[j] = bytes;
        x->f->dep_checked[j] = false;
        return 0;
    }
    if (x->p->ops->write == NULL)
        return unsupported(o, "write components");
    teep_suit_component_t c;
    tp_suit_component(x->f, idx, &c);
    int rc = x->p->ops->write(x->p->ctx, &c, bytes);
    return rc != 0 ? operation_failed(o, rc, "write") : 0;
}

/* Decrypt with the encryption-info parameter when it is set. */
static int maybe_decrypt(tp_suit_exec_t *x, uint32_t idx, teep_slice_t in,
                         teep_slice_t *out, tp_suit_outcome_t *o)
{
    const teep_suit_params_t *pr = tp_suit_params(x->p, x->f, idx);
    if (!(pr->present & BIT(ENCRYPTION_INFO))) {
        *out = in;
        return 0;
    }
    o->consumed |= BIT(ENCRYPTION_INFO);
    if (x->p->ops->decrypt == NULL)
        return unsupported(o, "decrypt");
    teep_suit_component_t c;
    tp_suit_component(x->f, idx, &c);
    int rc = x->p->ops->decrypt(x->p->ctx, &c, pr->encryption_info, in, out);
    return rc != 0 ? operation_failed(o, rc, "decryption") : 0;
}

/* image-match: SHA-256 and size.  For a dependency the digest covers its
 * bstr-wrapped manifest and the size its whole envelope (trust-domains). */
static int image_match(tp_suit_exec_t *x, uint32_t idx, tp_suit_outcome_t *o)
{
    const teep_suit_params_t *pr = tp_suit_params(x->p, x->f, idx);
    o->consumed = BIT(IMAGE_DIGEST) | (pr->present & BIT(IMAGE_SIZE));
    if (!(pr->present & BIT(IMAGE_DIGEST)))
        return TP_SUIT_COND_FAILED;
    teep_suit_digest_t want;
    int rc = teep_suit_digest_decode(pr->image_digest, &want, NULL);
    if (rc != 0)
        return rc;
    if (want.alg != TEEP_SUIT_ALG_SHA256) {
        o->reason = TEEP_SUIT_REASON_ALG_UNSUPPORTED;
        return TEEP_E_ALG;
    }
    teep_slice_t bytes;
    rc = read_component(x, idx, &bytes, o);
    if (rc == -ENOENT)
        return TP_SUIT_COND_FAILED;
    if (rc != 0)
        return o->reason != 0 ? rc : operation_failed(o, rc, "read");
    teep_slice_t hashed = bytes;
    if (x->f->dependency[idx] >= 0) {
        teep_suit_envelope_t env;
        if (teep_suit_envelope_decode(bytes.ptr, bytes.len, &env, NULL) != 0)
            return TP_SUIT_COND_FAILED;
        hashed = env.manifest_wrapped;
    }
    rc = teep_sha256(hashed.ptr, hashed.len, o->measured);
    if (rc != 0)
        return operation_failed(o, rc, "hash");
    o->has_measured = true;
    o->system.present = BIT(IMAGE_SIZE);
    o->system.image_size = bytes.len;
    bool ok = tp_suit_slice_eq_ct(want.bytes, (teep_slice_t){o->measured, 32});
    if (pr->present & BIT(IMAGE_SIZE))
        ok = ok && pr->image_size == bytes.len;
    return ok ? 0 : TP_SUIT_COND_FAILED;
}

static int check_content(tp_suit_exec_t *x, uint32_t idx, tp_suit_outcome_t *o)
{
    const teep_suit_params_t *pr = tp_suit_params(x->p, x->f, idx);
    o->consumed = BIT(CONTENT);
    if (!(pr->present & BIT(CONTENT)))
        return TP_SUIT_COND_FAILED;
    teep_slice_t bytes;
    int rc = read_component(x, idx, &bytes, o);
    if (rc == -ENOENT)
        return TP_SUIT_COND_FAILED;
    if (rc != 0)
        return o->reason != 0 ? rc : operation_failed(o, rc, "read");
    return tp_suit_slice_eq_ct(bytes, pr->content) ? 0 : TP_SUIT_COND_FAILED;
}

static int component_slot(tp_suit_exec_t *x, uint32_t idx, tp_suit_outcome_t *o)
{
    const teep_suit_params_t *pr = tp_suit_params(x->p, x->f, idx);
    o->consumed = BIT(COMPONENT_SLOT);
    if (!(pr->present & BIT(COMPONENT_SLOT)))
        return TP_SUIT_COND_FAILED;
    if (x->p->ops->slot == NULL)
        return unsupported(o, "tell component slots");
    teep_suit_component_t c;
    tp_suit_component(x->f, idx, &c);
    uint64_t slot;
    int rc = x->p->ops->slot(x->p->ctx, &c, &slot);
    if (rc != 0)
        return operation_failed(o, rc, "slot query");
    o->system.present = BIT(COMPONENT_SLOT);
    o->system.component_slot = slot;
    return slot == pr->component_slot ? 0 : TP_SUIT_COND_FAILED;
}

/* fetch: the uri names an envelope element (integrated payload or
 * dependency, "#name" or a pre-fetched URI) or is fetched by the device. */
static int fetch(tp_suit_exec_t *x, uint32_t idx, tp_suit_outcome_t *o)
{
    const teep_suit_params_t *pr = tp_suit_params(x->p, x->f, idx);
    o->consumed = BIT(URI) | (pr->present & BIT(FETCH_ARGS));
    if (!(pr->present & BIT(URI)))
        return missing(o, false, "uri");
    teep_slice_t bytes;
    if (teep_suit_integrated_find(x->f->env, pr->uri, &bytes) != 0) {
        if (pr->uri.len > 0 && pr->uri.ptr[0] == '#') {
            o->reason = TEEP_SUIT_REASON_OPERATION_FAILED;
            return teep_diag_set(&o->diag, TEEP_E_MISSING, 0,
                                 "integrated payload \"%.*s\" not in the "
                                 "envelope",
                                 (int)(pr->uri.len > 40 ? 40 : pr->uri.len),
                                 (const char *)pr->uri.ptr);
        }
        if (x->p->ops->fetch == NULL)
            return unsupported(o, "fetch");
        teep_suit_component_t c;
        tp_suit_component(x->f, idx, &c);
        int rc = x->p->ops->fetch(x->p->ctx, &c, pr->uri, &bytes);
        if (rc != 0)
            return operation_failed(o, rc, "fetch");
    }
    return store(x, idx, bytes, o);
}

static int write_content(tp_suit_exec_t *x, uint32_t idx, tp_suit_outcome_t *o)
{
    const teep_suit_params_t *pr = tp_suit_params(x->p, x->f, idx);
    o->consumed = BIT(CONTENT);
    if (!(pr->present & BIT(CONTENT)))
        return missing(o, false, "content");
    teep_slice_t plain;
    int rc = maybe_decrypt(x, idx, pr->content, &plain, o);
    return rc != 0 ? rc : store(x, idx, plain, o);
}

static int copy(tp_suit_exec_t *x, uint32_t idx, tp_suit_outcome_t *o)
{
    const teep_suit_params_t *pr = tp_suit_params(x->p, x->f, idx);
    o->consumed = BIT(SOURCE_COMPONENT);
    if (!(pr->present & BIT(SOURCE_COMPONENT)))
        return missing(o, false, "source-component");
    uint64_t src = pr->source_component;
    if (src >= x->f->n_index || x->f->slot[src] == TP_SUIT_NO_SLOT) {
        o->reason = TEEP_SUIT_REASON_COMPONENT_UNSUPPORTED;
        return TEEP_E_SUIT_UNSUPPORTED;
    }
    teep_slice_t bytes, plain;
    int rc = read_component(x, (uint32_t)src, &bytes, o);
    if (rc != 0)
        return o->reason != 0 ? rc : operation_failed(o, rc, "read source");
    rc = maybe_decrypt(x, idx, bytes, &plain, o);
    return rc != 0 ? rc : store(x, idx, plain, o);
}

/* invoke and unlink: handed to the device as they are. */
static int pass_on(tp_suit_exec_t *x, uint32_t idx, int64_t code,
                   tp_suit_outcome_t *o)
{
    const teep_suit_ops_t *ops = x->p->ops;
    teep_suit_component_t c;
    tp_suit_component(x->f, idx, &c);
    int rc;
    if (code == TEEP_SUIT_DIR_INVOKE) {
        const teep_suit_params_t *pr = tp_suit_params(x->p, x->f, idx);
        o->consumed = pr->present & BIT(INVOKE_ARGS);
        if (ops->invoke == NULL)
            return unsupported(o, "invoke");
        rc = ops->invoke(x->p->ctx, &c, pr->invoke_args);
    } else {
        if (ops->unlink == NULL)
            return unsupported(o, "unlink");
        rc = ops->unlink(x->p->ctx, &c);
    }
    return rc != 0 ? operation_failed(o, rc, teep_suit_command_name(code)) : 0;
}

int tp_suit_command(tp_suit_exec_t *x, uint32_t idx, int64_t code,
                    tp_suit_outcome_t *o)
{
    const teep_suit_config_t *cfg = x->p->cfg;
    switch (code) {
    case TEEP_SUIT_COND_VENDOR_ID:
        return check_id(x, idx, BIT(VENDOR_ID), &cfg->vendor_ids, o);
    case TEEP_SUIT_COND_CLASS_ID:
        return check_id(x, idx, BIT(CLASS_ID), &cfg->class_ids, o);
    case TEEP_SUIT_COND_DEVICE_ID:
        return check_id(x, idx, BIT(DEVICE_ID), &cfg->device_ids, o);
    case TEEP_SUIT_COND_IMAGE_MATCH: return image_match(x, idx, o);
    case TEEP_SUIT_COND_CHECK_CONTENT: return check_content(x, idx, o);
    case TEEP_SUIT_COND_COMPONENT_SLOT: return component_slot(x, idx, o);
    case TEEP_SUIT_COND_ABORT: return TP_SUIT_COND_FAILED;
    case TEEP_SUIT_COND_IS_DEPENDENCY:
        return x->f->dependency[idx] >= 0 ? 0 : TP_SUIT_COND_FAILED;
    case TEEP_SUIT_COND_DEPENDENCY_INTEGRITY:
        return tp_suit_dependency_integrity(x, idx, o);
    case TEEP_SUIT_DIR_PROCESS_DEPENDENCY:
        return tp_suit_process_dependency(x, idx, o);
    case TEEP_SUIT_DIR_FETCH: return fetch(x, idx, o);
    case TEEP_SUIT_DIR_WRITE: return write_content(x, idx, o);
    case TEEP_SUIT_DIR_COPY: return copy(x, idx, o);
    case TEEP_SUIT_DIR_INVOKE:
    case TEEP_SUIT_DIR_UNLINK: return pass_on(x, idx, code, o);
    default:
        /* swap, custom and unknown commands; an unknown condition must
         * fail too, and failing the whole procedure is the safe side. */
        o->reason = TEEP_SUIT_REASON_COMMAND_UNSUPPORTED;
        return teep_diag_set(&o->diag, TEEP_E_SUIT_UNSUPPORTED, 0,
                             "command %lld (%s) is not supported",
                             (long long)code, teep_suit_command_name(code));
    }
}
