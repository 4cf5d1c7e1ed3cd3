/* suit_builder.c: build and sign a SUIT envelope for one component (the
 * TAM side and `teep suit create`), shaped like the TEEP examples:
 * shared sequence with the identity checks and the image digest, install
 * fetching (integrated or by URI) or writing decrypted content, validate,
 * uninstall, and trust-domains dependencies. */
#include <errno.h>
#include <string.h>

#include "suit_internal.h"

#define SIG_LEN        64
#define POLICY_ALL     15 /* record and sysinfo on success and failure */
#define DIGEST_ENC_MAX 40 /* [-16, bstr 32] takes 36 bytes */

typedef struct build_ctx {
    const teep_suit_build_t *b;
    uint8_t image_digest[DIGEST_ENC_MAX];
    size_t image_digest_len;
    uint64_t image_size;
    uint8_t dep_digest[TEEP_SUIT_MAX_DEPENDENCIES][DIGEST_ENC_MAX];
    size_t dep_digest_len[TEEP_SUIT_MAX_DEPENDENCIES];
    bool encrypted;
    /* signing */
    int64_t alg;
    const uint8_t *kid;
    uint8_t digest_encoded[DIGEST_ENC_MAX];
    size_t digest_encoded_len;
    uint8_t signature[SIG_LEN];
} build_ctx_t;

typedef void (*write_fn)(tp_cbor_writer_t *w, const build_ctx_t *c);

/* Write fn's output as a bstr: measure it with a counting writer first,
 * then write the head and the content in place. */
static void wrapped(tp_cbor_writer_t *w, write_fn fn, const build_ctx_t *c)
{
    tp_cbor_writer_t count;
    tp_cw_init(&count, NULL, 0);
    fn(&count, c);
    tp_cw_bstr_head(w, count.len);
    fn(w, c);
}

static void command(tp_cbor_writer_t *w, int64_t code, uint64_t arg)
{
    tp_cw_int(w, code);
    tp_cw_uint(w, arg);
}

static size_t n_components(const build_ctx_t *c)
{
    return 1 + c->b->n_dependencies;
}

/* Sequences with dependencies start by naming the component. */
static size_t select_image(tp_cbor_writer_t *w, const build_ctx_t *c)
{
    if (n_components(c) == 1)
        return 0;
    command(w, TEEP_SUIT_DIR_SET_COMPONENT_INDEX, 0);
    return 1;
}

static void override(tp_cbor_writer_t *w, const teep_suit_params_t *p)
{
    tp_cw_uint(w, TEEP_SUIT_DIR_OVERRIDE_PARAMETERS);
    tp_suit_params_encode(w, p);
}

static bool has(teep_slice_t s)
{
    return s.ptr != NULL && s.len > 0;
}

static void shared_sequence(tp_cbor_writer_t *w, const build_ctx_t *c)
{
    const teep_suit_build_t *b = c->b;
    size_t n = (n_components(c) > 1) + 1 + has(b->vendor_id) + has(b->class_id);
    tp_cw_array(w, 2 * n);
    select_image(w, c);
    teep_suit_params_t p = {
        .present = TEEP_SUIT_PARAM_BIT(TEEP_SUIT_PARAM_IMAGE_DIGEST) |
                   TEEP_SUIT_PARAM_BIT(TEEP_SUIT_PARAM_IMAGE_SIZE),
        .vendor_id = b->vendor_id,
        .class_id = b->class_id,
        .image_digest = {c->image_digest, c->image_digest_len},
        .image_size = c->image_size,
    };
    if (has(b->vendor_id))
        p.present |= TEEP_SUIT_PARAM_BIT(TEEP_SUIT_PARAM_VENDOR_ID);
    if (has(b->class_id))
        p.present |= TEEP_SUIT_PARAM_BIT(TEEP_SUIT_PARAM_CLASS_ID);
    override(w, &p);
    if (has(b->vendor_id))
        command(w, TEEP_SUIT_COND_VENDOR_ID, POLICY_ALL);
    if (has(b->class_id))
        command(w, TEEP_SUIT_COND_CLASS_ID, POLICY_ALL);
}

static void common(tp_cbor_writer_t *w, const build_ctx_t *c)
{
    const teep_suit_build_t *b = c->b;
    tp_cw_map(w, b->n_dependencies > 0 ? 3 : 2);
    if (b->n_dependencies > 0) {
        tp_cw_uint(w, TEEP_SUIT_DEPENDENCIES);
        tp_cw_map(w, b->n_dependencies);
        for (size_t i = 0; i < b->n_dependencies; i++) {
            tp_cw_uint(w, 1 + i);
            tp_cw_map(w, 1);
            tp_cw_uint(w, TEEP_SUIT_DEPENDENCY_PREFIX);
            tp_cw_raw(w, b->dependencies[i].manifest_id.ptr,
                      b->dependencies[i].manifest_id.len);
        }
    }
    /* Dependencies are listed as components too (their identifier is
     * their prefix), which suits either reading of the trust-domains
     * draft. */
    tp_cw_uint(w, TEEP_SUIT_COMPONENTS);
    tp_cw_array(w, n_components(c));
    tp_cw_raw(w, b->component_id.ptr, b->component_id.len);
    for (size_t i = 0; i < b->n_dependencies; i++)
        tp_cw_raw(w, b->dependencies[i].manifest_id.ptr,
                  b->dependencies[i].manifest_id.len);
    tp_cw_uint(w, TEEP_SUIT_SHARED_SEQUENCE);
    wrapped(w, shared_sequence, c);
}

static void dependency_resolution(tp_cbor_writer_t *w, const build_ctx_t *c)
{
    const teep_suit_build_t *b = c->b;
    tp_cw_array(w, 2 * 4 * b->n_dependencies);
    for (size_t i = 0; i < b->n_dependencies; i++) {
        const teep_suit_build_dependency_t *d = &b->dependencies[i];
        command(w, TEEP_SUIT_DIR_SET_COMPONENT_INDEX, 1 + i);
        teep_suit_params_t p = {
            .present = TEEP_SUIT_PARAM_BIT(TEEP_SUIT_PARAM_IMAGE_DIGEST) |
                       TEEP_SUIT_PARAM_BIT(TEEP_SUIT_PARAM_URI),
            .image_digest = {c->dep_digest[i], c->dep_digest_len[i]},
            .image_size = d->envelope_size,
            .uri = d->uri,
        };
        if (d->envelope_size > 0)
            p.present |= TEEP_SUIT_PARAM_BIT(TEEP_SUIT_PARAM_IMAGE_SIZE);
        override(w, &p);
        command(w, TEEP_SUIT_DIR_FETCH, POLICY_ALL);
        command(w, TEEP_SUIT_COND_DEPENDENCY_INTEGRITY, POLICY_ALL);
    }
}

/* set-component-index i, then `code` for every dependency. */
static void each_dependency(tp_cbor_writer_t *w, const build_ctx_t *c,
                            int64_t code)
{
    for (size_t i = 0; i < c->b->n_dependencies; i++) {
        command(w, TEEP_SUIT_DIR_SET_COMPONENT_INDEX, 1 + i);
        command(w, code, POLICY_ALL);
    }
}

static void install(tp_cbor_writer_t *w, const build_ctx_t *c)
{
    const teep_suit_build_t *b = c->b;
    size_t n = 2 * b->n_dependencies + (n_components(c) > 1) + 3;
    tp_cw_array(w, 2 * n);
    each_dependency(w, c, TEEP_SUIT_DIR_PROCESS_DEPENDENCY);
    select_image(w, c);
    teep_suit_params_t p = {0};
    if (c->encrypted) {
        p.present = TEEP_SUIT_PARAM_BIT(TEEP_SUIT_PARAM_CONTENT) |
                    TEEP_SUIT_PARAM_BIT(TEEP_SUIT_PARAM_ENCRYPTION_INFO);
        p.content = b->payload;
        p.encryption_info = b->encryption_info;
    } else {
        p.present = TEEP_SUIT_PARAM_BIT(TEEP_SUIT_PARAM_URI);
        p.uri = has(b->integrated_name) ? b->integrated_name : b->uri;
    }
    override(w, &p);
    command(w, c->encrypted ? TEEP_SUIT_DIR_WRITE : TEEP_SUIT_DIR_FETCH,
            POLICY_ALL);
    command(w, TEEP_SUIT_COND_IMAGE_MATCH, POLICY_ALL);
}

static void validate(tp_cbor_writer_t *w, const build_ctx_t *c)
{
    size_t n = 2 * c->b->n_dependencies + (n_components(c) > 1) + 1;
    tp_cw_array(w, 2 * n);
    each_dependency(w, c, TEEP_SUIT_DIR_PROCESS_DEPENDENCY);
    select_image(w, c);
    command(w, TEEP_SUIT_COND_IMAGE_MATCH, POLICY_ALL);
}

static void uninstall(tp_cbor_writer_t *w, const build_ctx_t *c)
{
    size_t n = 2 * c->b->n_dependencies + (n_components(c) > 1) + 1;
    tp_cw_array(w, 2 * n);
    each_dependency(w, c, TEEP_SUIT_DIR_PROCESS_DEPENDENCY);
    select_image(w, c);
    command(w, TEEP_SUIT_DIR_UNLINK, POLICY_ALL);
}

/* SUIT_Text_Map with an English manifest description. */
static void text(tp_cbor_writer_t *w, const build_ctx_t *c)
{
    tp_cw_map(w, 1);
    tp_cw_tstr(w, "en", 2);
    tp_cw_map(w, 1);
    tp_cw_uint(w, 1); /* suit-text-manifest-description */
    tp_cw_tstr(w, (const char *)c->b->text.ptr, c->b->text.len);
}

static void manifest(tp_cbor_writer_t *w, const build_ctx_t *c)
{
    const teep_suit_build_t *b = c->b;
    bool deps = b->n_dependencies > 0;
    tp_cw_map(w, 6 + has(b->manifest_component_id) + deps + has(b->text));
    tp_cw_uint(w, TEEP_SUIT_MANIFEST_VERSION);
    tp_cw_uint(w, 1);
    tp_cw_uint(w, TEEP_SUIT_MANIFEST_SEQUENCE_NUMBER);
    tp_cw_uint(w, b->sequence_number);
    tp_cw_uint(w, TEEP_SUIT_COMMON);
    wrapped(w, common, c);
    if (has(b->manifest_component_id)) {
        tp_cw_uint(w, TEEP_SUIT_MANIFEST_COMPONENT_ID);
        tp_cw_raw(w, b->manifest_component_id.ptr,
                  b->manifest_component_id.len);
    }
    tp_cw_uint(w, TEEP_SUIT_VALIDATE);
    wrapped(w, validate, c);
    if (deps) {
        tp_cw_uint(w, TEEP_SUIT_DEPENDENCY_RESOLUTION);
        wrapped(w, dependency_resolution, c);
    }
    tp_cw_uint(w, TEEP_SUIT_INSTALL);
    wrapped(w, install, c);
    if (has(b->text)) {
        tp_cw_uint(w, TEEP_SUIT_TEXT);
        wrapped(w, text, c);
    }
    tp_cw_uint(w, TEEP_SUIT_UNINSTALL);
    wrapped(w, uninstall, c);
}

static void protected_header(tp_cbor_writer_t *w, const build_ctx_t *c)
{
    tp_cw_map(w, 1);
    tp_cw_uint(w, 1); /* alg */
    tp_cw_int(w, c->alg);
}

/* COSE_Sign1_Tagged with a nil (detached) payload: the SUIT_Digest. */
static void cose_sign1(tp_cbor_writer_t *w, const build_ctx_t *c)
{
    tp_cw_tag(w, 18);
    tp_cw_array(w, 4);
    wrapped(w, protected_header, c);
    tp_cw_map(w, 1);
    tp_cw_uint(w, 4); /* kid */
    tp_cw_bstr(w, c->kid, 32);
    tp_cw_null(w);
    tp_cw_bstr(w, c->signature, SIG_LEN);
}

static void authentication(tp_cbor_writer_t *w, const build_ctx_t *c)
{
    tp_cw_array(w, 2);
    tp_cw_bstr(w, c->digest_encoded, c->digest_encoded_len);
    wrapped(w, cose_sign1, c);
}

/* Sig_structure = ["Signature1", protected, h'', payload]: cose.h signs
 * attached payloads only, so the detached form is built here on
 * teep_sign_raw. */
static int sign_digest(build_ctx_t *c, const teep_signer_t *signer)
{
    uint8_t tbs[128];
    tp_cbor_writer_t w;
    tp_cw_init(&w, tbs, sizeof(tbs));
    tp_cw_array(&w, 4);
    tp_cw_tstr(&w, "Signature1", 10);
    wrapped(&w, protected_header, c);
    tp_cw_bstr(&w, NULL, 0);
    tp_cw_bstr(&w, c->digest_encoded, c->digest_encoded_len);
    if (tp_cw_result(&w) != 0)
        return -ENOSPC;
    return teep_sign_raw(signer->key, c->alg, tbs, w.len, c->signature);
}

static int encode_digest(const uint8_t *data, size_t len, const uint8_t *given,
                         uint8_t out[DIGEST_ENC_MAX], size_t *out_len)
{
    static const uint8_t empty[1];
    uint8_t h[32];
    if (given == NULL) {
        int rc = teep_sha256(data != NULL ? data : empty, len, h);
        if (rc != 0)
            return rc;
        given = h;
    }
    tp_cbor_writer_t w;
    tp_cw_init(&w, out, DIGEST_ENC_MAX);
    tp_suit_digest_encode(&w, TEEP_SUIT_ALG_SHA256, given, 32);
    *out_len = w.len;
    return tp_cw_result(&w);
}

static int check_request(const teep_suit_build_t *b)
{
    if (!has(b->component_id) || (b->payload.ptr == NULL && b->payload.len))
        return -EINVAL;
    if (has(b->encryption_info)) {
        if (b->plaintext_digest == NULL || has(b->uri) ||
            has(b->integrated_name))
            return -EINVAL;
    } else if (has(b->uri) == has(b->integrated_name)) {
        return -EINVAL;
    }
    if (b->n_dependencies > TEEP_SUIT_MAX_DEPENDENCIES ||
        (b->n_dependencies > 0 && b->dependencies == NULL))
        return -EINVAL;
    for (size_t i = 0; i < b->n_dependencies; i++) {
        const teep_suit_build_dependency_t *d = &b->dependencies[i];
        if (!has(d->manifest_id) || !has(d->uri) ||
            d->manifest_digest.len != 32 || d->manifest_digest.ptr == NULL)
            return -EINVAL;
    }
    return 0;
}

static int prepare(build_ctx_t *c, const teep_suit_build_t *b,
                   const teep_signer_t *signer)
{
    memset(c, 0, sizeof(*c));
    c->b = b;
    if (signer == NULL || signer->key == NULL)
        return -EINVAL;
    c->alg = signer->alg != 0 ? signer->alg : teep_key_default_alg(signer->key);
    c->kid = signer->key->kid;
    c->encrypted = has(b->encryption_info);
    c->image_size = c->encrypted ? b->plaintext_size : b->payload.len;
    int rc = encode_digest(b->payload.ptr, b->payload.len,
                           c->encrypted ? b->plaintext_digest : NULL,
                           c->image_digest, &c->image_digest_len);
    for (size_t i = 0; rc == 0 && i < b->n_dependencies; i++)
        rc = encode_digest(NULL, 0, b->dependencies[i].manifest_digest.ptr,
                           c->dep_digest[i], &c->dep_digest_len[i]);
    /* Sizes do not depend on the digest's and signature's values. */
    if (rc == 0)
        rc = encode_digest(NULL, 0, c->image_digest, c->digest_encoded,
                           &c->digest_encoded_len);
    return rc;
}

int teep_suit_build(const teep_suit_build_t *b, const teep_signer_t *signer,
                    uint8_t *out, size_t cap, size_t *out_len)
{
    build_ctx_t c;
    if (b == NULL || out_len == NULL)
        return -EINVAL;
    int rc = check_request(b);
    if (rc == 0)
        rc = prepare(&c, b, signer);
    if (rc != 0)
        return rc;
    bool integrated = !c.encrypted && has(b->integrated_name);

    /* The layout is fixed once the sizes are known: measure, then write
     * the manifest, hash it, and sign into the space left for the
     * authentication wrapper. */
    tp_cbor_writer_t count;
    tp_cw_init(&count, NULL, 0);
    authentication(&count, &c);
    size_t auth_len = count.len;
    tp_cw_init(&count, NULL, 0);
    manifest(&count, &c);
    size_t manifest_len = count.len;

    tp_cbor_writer_t w;
    tp_cw_init(&w, out, cap);
    tp_cw_map(&w, integrated ? 3 : 2);
    tp_cw_uint(&w, TEEP_SUIT_AUTHENTICATION_WRAPPER);
    tp_cw_bstr_head(&w, auth_len);
    size_t auth_at = w.len;
    w.len += auth_len;
    tp_cw_uint(&w, TEEP_SUIT_MANIFEST);
    size_t manifest_at = w.len;
    tp_cw_bstr_head(&w, manifest_len);
    manifest(&w, &c);
    size_t manifest_end = w.len;
    if (integrated) {
        tp_cw_tstr(&w, (const char *)b->integrated_name.ptr,
                   b->integrated_name.len);
        tp_cw_bstr(&w, b->payload.ptr, b->payload.len);
    }
    *out_len = w.len;
    if (out == NULL)
        return 0;
    if (tp_cw_result(&w) != 0 || w.len > cap)
        return -ENOSPC;

    uint8_t h[32];
    rc = teep_sha256(out + manifest_at, manifest_end - manifest_at, h);
    if (rc == 0)
        rc = encode_digest(NULL, 0, h, c.digest_encoded, &c.digest_encoded_len);
    if (rc == 0)
        rc = sign_digest(&c, signer);
    if (rc != 0)
        return rc;
    tp_cbor_writer_t aw;
    tp_cw_init(&aw, out + auth_at, auth_len);
    authentication(&aw, &c);
    return tp_cw_result(&aw) == 0 && aw.len == auth_len ? 0 : -EINVAL;
}
