/* Unit tests of the SUIT codec, verifier, processor, report and builder
 * (proto/suit_*.c) against the published vectors and an in-memory device. */
/* cmocka.h needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <errno.h>

#include "cbor_reader.h"
#include "cbor_writer.h"
#include "teep/message.h"
#include "teep/suit.h"
#include "vectors.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define SLICE(s)     ((teep_slice_t){(const uint8_t *)(s), sizeof(s) - 1})

static const char HELLO[] = "Hello, Secure World!";
static const char TA_URI[] =
    "https://example.org/8d82573a-926d-4754-9353-32dc29997f74.ta";
static const char TA_MANIFEST_URI[] =
    "https://example.org/8d82573a-926d-4754-9353-32dc29997f74.suit";
static const char CONFIG_JSON[] =
    "{\"name\":\"FOO Bar\",\"secret\":\"0123456789abfcdef0123456789abcd\"}";
static const char FIRMWARE[] = "This is a real firmware image.";
static const uint8_t VENDOR_ID[16] = {0xC0, 0xDD, 0xD5, 0xF1, 0x52, 0x43,
                                      0x56, 0x60, 0x87, 0xDB, 0x4F, 0x5B,
                                      0x0A, 0xA2, 0x6C, 0x2F};
static const uint8_t CLASS_ID[16] = {0xDB, 0x42, 0xF7, 0x09, 0x3D, 0x8C,
                                     0x55, 0xBA, 0xA8, 0xC5, 0x26, 0x5F,
                                     0xC5, 0x82, 0x0F, 0x4E};
static const uint8_t TOKEN[16] = {0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5,
                                  0xA6, 0xA7, 0xA8, 0xA9, 0xAA, 0xAB,
                                  0xAC, 0xAD, 0xAE, 0xAF};

/* ------------------------------------------------------------------ */
/* Vectors and keys                                                    */

static uint8_t *load(const char *name, size_t *len)
{
    uint8_t *buf = vector_load_hex(name, len);
    if (buf == NULL)
        fail_msg("vector %s missing", name);
    return buf;
}

static void load_key(teep_key_t *key, const char *name)
{
    size_t len = 0;
    char *pem = vector_load_text(name, &len);
    assert_non_null(pem);
    assert_int_equal(teep_key_load(key, (const uint8_t *)pem, len), 0);
    free(pem);
}

static teep_key_t draft_key, tam_key;

static int load_keys(void **state)
{
    load_key(&draft_key, "keys/teep_draft_suit_signing_key_public.pem");
    load_key(&tam_key, "keys/libteep_tam_prime256v1_pub.pem");
    return 0;
}

static int clear_keys(void **state)
{
    teep_key_clear(&draft_key);
    teep_key_clear(&tam_key);
    return 0;
}

static void decode_ok(const uint8_t *buf, size_t len, teep_suit_envelope_t *env)
{
    teep_diag_t diag = {0};
    int rc = teep_suit_envelope_decode(buf, len, env, &diag);
    if (rc != 0)
        print_error("decode: %s at %zu\n", diag.reason, diag.offset);
    assert_int_equal(rc, 0);
}

static void verify_ok(teep_suit_envelope_t *env, const teep_key_t *key)
{
    teep_diag_t diag = {0};
    int rc = teep_suit_envelope_verify(env, key, 1, &diag);
    if (rc != 0)
        print_error("verify: %s at %zu\n", diag.reason, diag.offset);
    assert_int_equal(rc, 0);
    assert_true(env->verified);
}

/* ------------------------------------------------------------------ */
/* An in-memory device                                                 */

typedef struct mem_component {
    uint8_t id[96];
    size_t id_len;
    uint8_t data[512];
    size_t len;
} mem_component_t;

typedef struct mem_manifest {
    uint8_t id[96];
    size_t id_len;
    uint64_t seq;
    teep_slice_t envelope;
} mem_manifest_t;

typedef struct mem_device {
    mem_component_t comps[8];
    size_t n_comps;
    struct {
        const char *uri;
        teep_slice_t bytes;
    } web[4];
    size_t n_web;
    mem_manifest_t installed[4]; /* committed manifests */
    size_t n_installed;
    teep_slice_t plaintext; /* what decrypt returns */
    int fetches, decrypts, invokes, unlinks, commits;
    char invoke_args[64];
    int fail_write; /* error code write returns, 0: works */
} mem_device_t;

static mem_component_t *find_comp(mem_device_t *d, teep_slice_t id)
{
    for (size_t i = 0; i < d->n_comps; i++)
        if (d->comps[i].id_len == id.len &&
            memcmp(d->comps[i].id, id.ptr, id.len) == 0)
            return &d->comps[i];
    return NULL;
}

static mem_manifest_t *find_manifest(mem_device_t *d, teep_slice_t id)
{
    for (size_t i = 0; i < d->n_installed; i++)
        if (d->installed[i].id_len == id.len &&
            (id.len == 0 || memcmp(d->installed[i].id, id.ptr, id.len) == 0))
            return &d->installed[i];
    return NULL;
}

static int mem_fetch(void *ctx, const teep_suit_component_t *c,
                     teep_slice_t uri, teep_slice_t *bytes)
{
    mem_device_t *d = ctx;
    d->fetches++;
    for (size_t i = 0; i < d->n_web; i++) {
        if (strlen(d->web[i].uri) == uri.len &&
            memcmp(d->web[i].uri, uri.ptr, uri.len) == 0) {
            *bytes = d->web[i].bytes;
            return 0;
        }
    }
    return -ENOENT;
}

static int mem_write(void *ctx, const teep_suit_component_t *c,
                     teep_slice_t bytes)
{
    mem_device_t *d = ctx;
    if (d->fail_write != 0)
        return d->fail_write;
    mem_component_t *m = find_comp(d, c->id);
    if (m == NULL) {
        assert_true(d->n_comps < ARRAY_LEN(d->comps));
        m = &d->comps[d->n_comps++];
        assert_true(c->id.len <= sizeof(m->id));
        memcpy(m->id, c->id.ptr, c->id.len);
        m->id_len = c->id.len;
    }
    assert_true(bytes.len <= sizeof(m->data));
    memcpy(m->data, bytes.ptr, bytes.len);
    m->len = bytes.len;
    return 0;
}

static int mem_read(void *ctx, const teep_suit_component_t *c,
                    teep_slice_t *bytes)
{
    mem_component_t *m = find_comp(ctx, c->id);
    if (m == NULL)
        return -ENOENT;
    *bytes = (teep_slice_t){m->data, m->len};
    return 0;
}

static int mem_decrypt(void *ctx, const teep_suit_component_t *c,
                       teep_slice_t info, teep_slice_t ciphertext,
                       teep_slice_t *plaintext)
{
    mem_device_t *d = ctx;
    d->decrypts++;
    assert_true(info.len > 0 && ciphertext.len > 0);
    /* SUIT_Encryption_Info is #6.96(COSE_Encrypt): 0xd8 0x60 */
    assert_int_equal(info.ptr[0], 0xd8);
    assert_int_equal(info.ptr[1], 0x60);
    *plaintext = d->plaintext;
    return 0;
}

static int mem_invoke(void *ctx, const teep_suit_component_t *c,
                      teep_slice_t args)
{
    mem_device_t *d = ctx;
    d->invokes++;
    snprintf(d->invoke_args, sizeof(d->invoke_args), "%.*s", (int)args.len,
             (const char *)args.ptr);
    return 0;
}

static int mem_unlink(void *ctx, const teep_suit_component_t *c)
{
    ((mem_device_t *)ctx)->unlinks++;
    return 0;
}

static int mem_slot(void *ctx, const teep_suit_component_t *c, uint64_t *slot)
{
    *slot = 1;
    return 0;
}

static int mem_installed(void *ctx, teep_slice_t id, uint64_t *seq)
{
    mem_manifest_t *m = find_manifest(ctx, id);
    if (m == NULL)
        return -ENOENT;
    *seq = m->seq;
    return 0;
}

static int mem_load(void *ctx, teep_slice_t id, teep_slice_t *envelope)
{
    mem_manifest_t *m = find_manifest(ctx, id);
    if (m == NULL || m->envelope.ptr == NULL)
        return -ENOENT;
    *envelope = m->envelope;
    return 0;
}

static void install_manifest(mem_device_t *d, teep_slice_t id, uint64_t seq,
                             teep_slice_t envelope)
{
    mem_manifest_t *m = find_manifest(d, id);
    if (m == NULL) {
        assert_true(d->n_installed < ARRAY_LEN(d->installed));
        m = &d->installed[d->n_installed++];
        assert_true(id.len <= sizeof(m->id));
        if (id.len > 0) /* a manifest without manifest-component-id */
            memcpy(m->id, id.ptr, id.len);
        m->id_len = id.len;
    }
    m->seq = seq;
    m->envelope = envelope;
}

static int mem_commit(void *ctx, teep_slice_t id, uint64_t seq,
                      teep_slice_t envelope)
{
    mem_device_t *d = ctx;
    d->commits++;
    install_manifest(d, id, seq, envelope);
    return 0;
}

static const teep_suit_ops_t mem_ops = {
    .fetch = mem_fetch,
    .write = mem_write,
    .read = mem_read,
    .decrypt = mem_decrypt,
    .invoke = mem_invoke,
    .unlink = mem_unlink,
    .installed_sequence = mem_installed,
    .load_manifest = mem_load,
    .commit = mem_commit,
};

static const teep_slice_t vendor_ids[] = {{VENDOR_ID, sizeof(VENDOR_ID)}};
static const teep_slice_t class_ids[] = {{CLASS_ID, sizeof(CLASS_ID)}};

static teep_suit_config_t config_for(const teep_key_t *anchors, size_t n,
                                     unsigned procedure)
{
    return (teep_suit_config_t){
        .trust_anchors = anchors,
        .n_trust_anchors = n,
        .vendor_ids = {vendor_ids, 1},
        .class_ids = {class_ids, 1},
        .procedure = procedure,
        .nonce = {TOKEN, sizeof(TOKEN)},
    };
}

/* The encoded component identifier of a text path. */
static teep_slice_t component(const char *text, uint8_t *buf, size_t cap)
{
    size_t len = 0;
    assert_int_equal(teep_suit_component_id_from_text(text, buf, cap, &len), 0);
    return (teep_slice_t){buf, len};
}

static void assert_component(mem_device_t *d, const char *id_text,
                             const void *want, size_t want_len)
{
    uint8_t id[96];
    mem_component_t *m = find_comp(d, component(id_text, id, sizeof(id)));
    if (m == NULL)
        fail_msg("component %s was not written", id_text);
    assert_int_equal(m->len, want_len);
    assert_memory_equal(m->data, want, want_len);
}

static teep_suit_report_t report;

static int process(const uint8_t *buf, size_t len,
                   const teep_suit_config_t *cfg, mem_device_t *d)
{
    return teep_suit_process(buf, len, cfg, &mem_ops, d, &report);
}

/* Processing that must succeed; says why when it does not. */
static void process_ok(const uint8_t *buf, size_t len,
                       const teep_suit_config_t *cfg, mem_device_t *d)
{
    int rc = process(buf, len, cfg, d);
    if (rc != 0)
        fail_msg("process: %s (%s, reason %s) at %zu", report.diag.reason,
                 teep_suit_strerror(rc), teep_suit_reason_name(report.reason),
                 report.diag.offset);
}

/* ------------------------------------------------------------------ */
/* Decoding and verification of the published vectors                  */

static void decodes_and_verifies(const char *name, const teep_key_t *key,
                                 teep_suit_envelope_t *env, uint8_t **buf)
{
    size_t len = 0;
    *buf = load(name, &len);
    decode_ok(*buf, len, env);
    verify_ok(env, key);
}

static void published_vectors_verify(void **state)
{
    static const char *names[] = {
        "tp_suit_uri.hex",
        "tp_suit_integrated.hex",
        "tp_suit_personalization.hex",
        "suittd_example0_dependent.hex",
        "suittd_example1_process.hex",
        "suittd_example2_integrated.hex",
        "suitenc_suit-manifest-es-ecdh-content.hex",
    };
    for (size_t i = 0; i < ARRAY_LEN(names); i++) {
        teep_suit_envelope_t env;
        uint8_t *buf;
        decodes_and_verifies(names[i], &draft_key, &env, &buf);
        assert_int_equal(env.manifest.version, 1);
        assert_int_equal(env.anchor, 0);
        free(buf);
    }
}

static void vector_fields(void **state)
{
    teep_suit_envelope_t env;
    uint8_t *buf;
    decodes_and_verifies("tp_suit_integrated.hex", &draft_key, &env, &buf);
    const teep_suit_manifest_t *m = &env.manifest;
    assert_false(env.tagged);
    assert_int_equal(m->sequence_number, 3);
    assert_int_equal(m->n_components, 1);
    assert_non_null(m->component_id.ptr);
    assert_true(m->sequences[TEEP_SUIT_SEQ_INSTALL].present);
    assert_true(m->sequences[TEEP_SUIT_SEQ_UNINSTALL].present);
    assert_false(m->sequences[TEEP_SUIT_SEQ_INVOKE].present);
    assert_int_equal(env.n_integrated, 1);
    assert_int_equal(env.integrated[0].bytes.len, 20);
    assert_memory_equal(env.integrated[0].bytes.ptr, HELLO, 20);
    char text[128];
    assert_int_equal(
        teep_suit_component_id_to_text(m->components[0], text, sizeof(text)),
        0);
    assert_string_equal(text,
                        "TEEP-Device/SecureFS/8d82573a926d4754935332dc29997f74/"
                        "ta");
    free(buf);

    decodes_and_verifies("tp_suit_personalization.hex", &draft_key, &env, &buf);
    assert_int_equal(env.manifest.n_dependencies, 1);
    assert_int_equal(env.manifest.dependencies[0].index, 1);
    assert_int_equal(
        teep_suit_component_id_to_text(env.manifest.dependencies[0].prefix,
                                       text, sizeof(text)),
        0);
    assert_string_equal(
        text, "TEEP-Device/SecureFS/8d82573a926d4754935332dc29997f74/suit");
    assert_true(env.manifest.sequences[TEEP_SUIT_SEQ_VALIDATE].present);
    assert_true(
        env.manifest.sequences[TEEP_SUIT_SEQ_DEPENDENCY_RESOLUTION].present);
    free(buf);

    decodes_and_verifies("suittd_example2_integrated.hex", &draft_key, &env,
                         &buf);
    assert_true(env.tagged);
    assert_int_equal(env.n_integrated, 1);
    teep_suit_envelope_t inner;
    decode_ok(env.integrated[0].bytes.ptr, env.integrated[0].bytes.len, &inner);
    verify_ok(&inner, &draft_key);
    free(buf);
}

/* Outer manifest signed by the libteep TAM key, the integrated dependency
 * by the draft key. */
static void encryption_dependency_vector(void **state)
{
    teep_suit_envelope_t env, inner;
    uint8_t *buf;
    decodes_and_verifies("suitenc_suit-manifest-es-ecdh-dependency.hex",
                         &tam_key, &env, &buf);
    assert_int_equal(teep_suit_envelope_verify(&env, &draft_key, 1, NULL),
                     TEEP_E_SIGNATURE);
    teep_slice_t bytes;
    assert_int_equal(
        teep_suit_integrated_find(&env, SLICE("#dependency-manifest"), &bytes),
        0);
    decode_ok(bytes.ptr, bytes.len, &inner);
    verify_ok(&inner, &draft_key);
    /* Two anchors: the second one verifies. */
    teep_key_t both[2] = {draft_key, tam_key};
    assert_int_equal(teep_suit_envelope_verify(&env, both, 2, NULL), 0);
    assert_int_equal(env.anchor, 1);
    free(buf);
}

/* The Update example's embedded manifest: extracted with the message codec;
 * its install sequence sits under key 9 (invoke), processed as written. */
static void update_embedded_manifest(void **state)
{
    size_t len = 0;
    uint8_t *buf = load("tp_update.hex", &len);
    static uint64_t arena_mem[TEEP_ARENA_DEFAULT / sizeof(uint64_t)];
    teep_arena_t arena;
    teep_arena_init(&arena, arena_mem, sizeof(arena_mem));
    teep_message_t msg;
    assert_int_equal(
        teep_message_decode(buf, len, TEEP_PROFILE_LEGACY, &arena, &msg, NULL),
        0);
    assert_int_equal(msg.manifest_list.count, 1);
    teep_slice_t e = msg.manifest_list.items[0];
    teep_suit_envelope_t env;
    decode_ok(e.ptr, e.len, &env);
    verify_ok(&env, &draft_key);
    assert_true(env.manifest.sequences[TEEP_SUIT_SEQ_INVOKE].present);
    assert_false(env.manifest.sequences[TEEP_SUIT_SEQ_INSTALL].present);

    /* update alone does not run invoke: nothing is fetched */
    mem_device_t d = {.web = {{TA_URI, SLICE(HELLO)}}, .n_web = 1};
    teep_suit_config_t cfg = config_for(&draft_key, 1, TEEP_SUIT_PROC_UPDATE);
    process_ok(e.ptr, e.len, &cfg, &d);
    assert_int_equal(d.fetches, 0);
    /* update + invoke does, from the invoke sequence */
    d = (mem_device_t){.web = {{TA_URI, SLICE(HELLO)}}, .n_web = 1};
    cfg.procedure = TEEP_SUIT_PROC_UPDATE | TEEP_SUIT_PROC_INVOKE;
    process_ok(e.ptr, e.len, &cfg, &d);
    assert_int_equal(d.fetches, 1);
    assert_component(&d,
                     "TEEP-Device/SecureFS/8d82573a926d4754935332dc29997f74/ta",
                     HELLO, 20);
    free(buf);
}

/* ------------------------------------------------------------------ */
/* Processing                                                          */

static void integrated_end_to_end(void **state)
{
    size_t len = 0;
    uint8_t *buf = load("tp_suit_integrated.hex", &len);
    mem_device_t d = {0};
    teep_suit_config_t cfg = config_for(&draft_key, 1, TEEP_SUIT_PROC_UPDATE);
    process_ok(buf, len, &cfg, &d);
    assert_component(&d,
                     "TEEP-Device/SecureFS/8d82573a926d4754935332dc29997f74/ta",
                     HELLO, 20);
    assert_int_equal(d.fetches, 0); /* "#tc" resolved from the envelope */
    assert_int_equal(d.commits, 1);
    assert_int_equal(d.installed[0].seq, 3);
    assert_true(report.success);
    /* shared: vendor, class; install: fetch, image-match (policy 15) */
    assert_int_equal(report.n_records, 4);
    assert_int_equal(report.records[3].command, TEEP_SUIT_COND_IMAGE_MATCH);
    assert_int_equal(report.records[3].section, TEEP_SUIT_INSTALL);
    assert_true(report.records[3].success);
    assert_true(report.records[3].has_measured_digest);
    assert_int_equal(report.records[0].section, TEEP_SUIT_COMMON);

    /* The encoded report: {2: nonce, 3: records, 4: true, 99: reference} */
    uint8_t out[4096];
    size_t out_len = 0, need = 0;
    assert_int_equal(teep_suit_report_encode(&report, NULL, 0, &need), 0);
    assert_int_equal(
        teep_suit_report_encode(&report, out, sizeof(out), &out_len), 0);
    assert_int_equal(need, out_len);
    assert_int_equal(teep_suit_report_encode(&report, out, need - 1, &out_len),
                     -ENOSPC);
    tp_cbor_reader_t r;
    tp_cbor_item_t it;
    tp_cbor_reader_init(&r, out, need, NULL);
    assert_int_equal(tp_cbor_skip(&r, TEEP_MAX_DEPTH, NULL, NULL), 0);
    assert_int_equal(tp_cbor_finish(&r), 0);
    tp_cbor_reader_init(&r, out, need, NULL);
    assert_int_equal(tp_cbor_expect(&r, TP_CBOR_MAP, &it, "report"), 0);
    assert_int_equal(it.u, 4);
    uint64_t key;
    assert_int_equal(tp_cbor_read_uint(&r, 100, &key, "key"), 0);
    assert_int_equal(key, 2);
    assert_int_equal(tp_cbor_expect(&r, TP_CBOR_BSTR, &it, "nonce"), 0);
    assert_memory_equal(it.ptr, TOKEN, sizeof(TOKEN));
    free(buf);
}

static void uri_payload_is_fetched(void **state)
{
    size_t len = 0;
    uint8_t *buf = load("tp_suit_uri.hex", &len);
    mem_device_t d = {.web = {{TA_URI, SLICE(HELLO)}}, .n_web = 1};
    teep_suit_config_t cfg = config_for(&draft_key, 1, TEEP_SUIT_PROC_UPDATE);
    process_ok(buf, len, &cfg, &d);
    assert_int_equal(d.fetches, 1);
    assert_component(&d,
                     "TEEP-Device/SecureFS/8d82573a926d4754935332dc29997f74/ta",
                     HELLO, 20);

    /* a wrong payload fails image-match */
    d = (mem_device_t){.web = {{TA_URI, SLICE("Hello, Secure World?")}},
                       .n_web = 1};
    assert_int_equal(process(buf, len, &cfg, &d), TEEP_E_SUIT_CONDITION);
    assert_int_equal(report.reason, TEEP_SUIT_REASON_CONDITION_FAILED);
    assert_int_equal(report.result_record.command, TEEP_SUIT_COND_IMAGE_MATCH);
    assert_int_equal(d.commits, 0);

    /* an unreachable URI is an operation failure */
    d = (mem_device_t){0};
    assert_int_equal(process(buf, len, &cfg, &d), -ENOENT);
    assert_int_equal(report.reason, TEEP_SUIT_REASON_OPERATION_FAILED);
    assert_int_equal(report.result_record.command, TEEP_SUIT_DIR_FETCH);
    free(buf);
}

static void rollback_is_refused(void **state)
{
    size_t len = 0;
    uint8_t *buf = load("tp_suit_integrated.hex", &len);
    teep_suit_envelope_t env;
    decode_ok(buf, len, &env);
    teep_suit_config_t cfg = config_for(&draft_key, 1, TEEP_SUIT_PROC_UPDATE);
    for (uint64_t installed = 2; installed <= 4; installed++) {
        mem_device_t d = {0};
        install_manifest(&d, env.manifest.component_id, installed,
                         (teep_slice_t){0});
        int rc = process(buf, len, &cfg, &d);
        if (installed < 3) {
            assert_int_equal(rc, 0);
            continue;
        }
        assert_int_equal(rc, TEEP_E_SUIT_ROLLBACK);
        assert_int_equal(report.reason, TEEP_SUIT_REASON_UNAUTHORISED);
        assert_int_equal(d.n_comps, 0);
    }
    /* invoking the installed manifest is no rollback */
    mem_device_t d = {0};
    install_manifest(&d, env.manifest.component_id, 3, (teep_slice_t){0});
    cfg.procedure = TEEP_SUIT_PROC_INVOKE;
    process_ok(buf, len, &cfg, &d);
    free(buf);
}

/* A byte of the manifest changed: digest check fails before signatures. */
static void flipped_byte_fails_digest(void **state)
{
    size_t len = 0;
    uint8_t *buf = load("tp_suit_integrated.hex", &len);
    uint8_t *at = memmem(buf, len, VENDOR_ID, sizeof(VENDOR_ID));
    assert_non_null(at);
    at[5] ^= 0x01;
    teep_suit_envelope_t env;
    decode_ok(buf, len, &env);
    teep_diag_t diag = {0};
    assert_int_equal(teep_suit_envelope_verify(&env, &draft_key, 1, &diag),
                     TEEP_E_SUIT_DIGEST);
    assert_false(env.verified);
    mem_device_t d = {0};
    teep_suit_config_t cfg = config_for(&draft_key, 1, TEEP_SUIT_PROC_UPDATE);
    assert_int_equal(process(buf, len, &cfg, &d), TEEP_E_SUIT_DIGEST);
    assert_int_equal(report.reason, TEEP_SUIT_REASON_UNAUTHORISED);
    assert_int_equal(d.n_comps, 0);

    /* a changed signature byte leaves the digest right */
    at[5] ^= 0x01;
    uint8_t sig_start[] = {0x6A, 0x9F, 0x4D, 0x3D};
    at = memmem(buf, len, sig_start, sizeof(sig_start));
    assert_non_null(at);
    at[10] ^= 0x80;
    decode_ok(buf, len, &env);
    assert_int_equal(teep_suit_envelope_verify(&env, &draft_key, 1, NULL),
                     TEEP_E_SIGNATURE);
    free(buf);
}

static void wrong_key_fails(void **state)
{
    teep_suit_envelope_t env;
    size_t len = 0;
    uint8_t *buf = load("tp_suit_integrated.hex", &len);
    decode_ok(buf, len, &env);
    teep_diag_t diag = {0};
    assert_int_equal(teep_suit_envelope_verify(&env, &tam_key, 1, &diag),
                     TEEP_E_SIGNATURE);
    assert_int_equal(diag.code, TEEP_E_SIGNATURE);
    assert_int_equal(teep_suit_envelope_verify(&env, &tam_key, 0, NULL),
                     -EINVAL);
    mem_device_t d = {0};
    teep_suit_config_t cfg = config_for(&tam_key, 1, TEEP_SUIT_PROC_UPDATE);
    assert_int_equal(process(buf, len, &cfg, &d), TEEP_E_SIGNATURE);
    assert_int_equal(report.reason, TEEP_SUIT_REASON_UNAUTHORISED);
    assert_false(report.success);
    /* an unverified envelope is not processed */
    assert_int_equal(
        teep_suit_process_envelope(&env, &cfg, &mem_ops, &d, &report),
        TEEP_E_SIGNATURE);
    free(buf);
}

static void wrong_vendor_stops(void **state)
{
    size_t len = 0;
    uint8_t *buf = load("tp_suit_integrated.hex", &len);
    static const uint8_t other[16] = {1, 2, 3};
    teep_slice_t ids[] = {{other, sizeof(other)}};
    mem_device_t d = {0};
    teep_suit_config_t cfg = config_for(&draft_key, 1, TEEP_SUIT_PROC_UPDATE);
    cfg.vendor_ids = (teep_suit_ids_t){ids, 1};
    assert_int_equal(process(buf, len, &cfg, &d), TEEP_E_SUIT_CONDITION);
    assert_false(report.success);
    assert_int_equal(report.reason, TEEP_SUIT_REASON_CONDITION_FAILED);
    assert_int_equal(report.result_record.command, TEEP_SUIT_COND_VENDOR_ID);
    assert_int_equal(report.result_record.section, TEEP_SUIT_COMMON);
    assert_int_equal(report.result_record.component_index, 0);
    assert_int_equal(d.n_comps, 0);
    assert_int_equal(d.commits, 0);
    /* the failure record (policy 15) carries the device's vendor id */
    assert_int_equal(report.n_records, 1);
    assert_true(report.records[0].has_system);
    assert_memory_equal(report.records[0].system.vendor_id.ptr, other, 16);
    uint8_t out[1024];
    size_t out_len;
    assert_int_equal(
        teep_suit_report_encode(&report, out, sizeof(out), &out_len), 0);
    free(buf);
}

/* Scenario 3: the personalization manifest fetches the TA manifest,
 * processes it (fetching the TA), decrypts config.json into its
 * component and checks the plaintext digest. */
static void personalization_with_dependency(void **state)
{
    size_t len = 0, ta_len = 0;
    uint8_t *buf = load("tp_suit_personalization.hex", &len);
    uint8_t *ta = load("tp_suit_uri.hex", &ta_len);
    mem_device_t d = {
        .web = {{TA_MANIFEST_URI, {ta, ta_len}}, {TA_URI, SLICE(HELLO)}},
        .n_web = 2,
        .plaintext = SLICE(CONFIG_JSON),
    };
    teep_suit_config_t cfg = config_for(&draft_key, 1, TEEP_SUIT_PROC_UPDATE);
    process_ok(buf, len, &cfg, &d);
    assert_int_equal(d.fetches, 2);
    assert_int_equal(d.decrypts, 1);
    assert_component(&d,
                     "TEEP-Device/SecureFS/8d82573a926d4754935332dc29997f74/ta",
                     HELLO, 20);
    assert_component(&d, "TEEP-Device/SecureFS/config.json", CONFIG_JSON, 61);
    /* TA manifest committed first, then the personalization manifest */
    assert_int_equal(d.commits, 2);
    uint8_t id[96];
    assert_non_null(find_manifest(
        &d, component("TEEP-Device/SecureFS/8d82573a926d4754935332dc29997f74/"
                      "suit",
                      id, sizeof(id))));
    assert_non_null(find_manifest(
        &d, component("TEEP-Device/SecureFS/config.suit", id, sizeof(id))));
    /* records of the TA manifest carry its path [1] */
    bool dependency_record = false;
    for (size_t i = 0; i < report.n_records; i++)
        if (report.records[i].manifest_path_len == 1 &&
            report.records[i].manifest_path[0] == 1)
            dependency_record = true;
    assert_true(dependency_record);

    /* wrong plaintext: validate's image-match fails */
    mem_device_t bad = d;
    bad.n_comps = 0;
    bad.n_installed = 0;
    bad.plaintext = SLICE("{}");
    assert_int_equal(process(buf, len, &cfg, &bad), TEEP_E_SUIT_CONDITION);
    assert_int_equal(report.result_record.section, TEEP_SUIT_VALIDATE);

    /* the TA manifest installed with a newer sequence number: rollback of
     * the dependency is refused */
    mem_device_t newer = d;
    newer.n_comps = 0;
    newer.n_installed = 1; /* the TA manifest only */
    newer.installed[0].seq = 4;
    assert_int_equal(process(buf, len, &cfg, &newer), TEEP_E_SUIT_ROLLBACK);
    assert_int_equal(report.result_record.command,
                     TEEP_SUIT_DIR_PROCESS_DEPENDENCY);

    /* uninstall: the stored TA manifest is loaded, its uninstall runs */
    mem_device_t un = d;
    un.unlinks = 0;
    cfg.procedure = TEEP_SUIT_PROC_UNINSTALL;
    process_ok(buf, len, &cfg, &un);
    assert_int_equal(un.unlinks, 2);
    free(buf);
    free(ta);
}

/* suit-trust-domains examples: a dependency fetched by URI and checked
 * with dependency-integrity, and an integrated dependency. */
static void trust_domain_dependencies(void **state)
{
    size_t len = 0, dep_len = 0;
    uint8_t *dep = load("suittd_example0_dependent.hex", &dep_len);
    teep_suit_config_t cfg = config_for(
        &draft_key, 1, TEEP_SUIT_PROC_UPDATE | TEEP_SUIT_PROC_INVOKE);
    for (int integrated = 0; integrated < 2; integrated++) {
        uint8_t *buf = load(integrated ? "suittd_example2_integrated.hex"
                                       : "suittd_example1_process.hex",
                            &len);
        mem_device_t d = {
            .web = {{"http://example.com/dependent.suit", {dep, dep_len}}},
            .n_web = 1};
        process_ok(buf, len, &cfg, &d);
        assert_int_equal(d.fetches, integrated ? 0 : 1);
        assert_component(&d, "00", "hello world", 11);
        assert_component(&d, "10", " in multiple trust domains", 26);
        assert_int_equal(d.invokes, 1);
        assert_string_equal(d.invoke_args, "cat 00 10");
        assert_int_equal(d.commits, 2);
        free(buf);
    }
    free(dep);
}

static void encrypted_content(void **state)
{
    size_t len = 0;
    uint8_t *buf = load("suitenc_suit-manifest-es-ecdh-content.hex", &len);
    mem_device_t d = {.plaintext = SLICE(FIRMWARE)};
    teep_suit_config_t cfg = config_for(&draft_key, 1, TEEP_SUIT_PROC_UPDATE);
    process_ok(buf, len, &cfg, &d);
    assert_int_equal(d.decrypts, 1);
    assert_component(&d, "decrypted-firmware", FIRMWARE, 30);
    free(buf);

    /* The dependent sets content and encryption info for
     * ['decrypted-firmware']; its dependency writes and checks it. */
    buf = load("suitenc_suit-manifest-es-ecdh-dependency.hex", &len);
    teep_key_t anchors[2] = {tam_key, draft_key};
    d = (mem_device_t){.plaintext = SLICE(FIRMWARE)};
    cfg = config_for(anchors, 2, TEEP_SUIT_PROC_UPDATE);
    process_ok(buf, len, &cfg, &d);
    assert_int_equal(d.decrypts, 1);
    assert_component(&d, "decrypted-firmware", FIRMWARE, 30);
    /* the dependency's image-match checks the plaintext */
    d = (mem_device_t){.plaintext = SLICE("This is a fake firmware image.")};
    assert_int_equal(process(buf, len, &cfg, &d), TEEP_E_SUIT_CONDITION);
    assert_int_equal(report.result_record.manifest_path_len, 1);
    /* without the draft key the dependency is not authorised */
    d = (mem_device_t){.plaintext = SLICE(FIRMWARE)};
    cfg = config_for(&tam_key, 1, TEEP_SUIT_PROC_UPDATE);
    assert_int_equal(process(buf, len, &cfg, &d), TEEP_E_SIGNATURE);
    assert_int_equal(report.reason, TEEP_SUIT_REASON_UNAUTHORISED);
    free(buf);
}

/* ------------------------------------------------------------------ */
/* Hand-made manifests (unsigned; processed as already verified)       */

typedef struct made {
    uint8_t buf[2048];
    teep_suit_envelope_t env;
} made_t;

/* How make_ex places the install sequence. */
typedef enum install_form {
    IN_MANIFEST,     /* 20: << install >> in the manifest */
    SEVERED,         /* digest in the manifest, << install >> in the envelope */
    SEVERED_DROPPED, /* digest in the manifest only */
} install_form_t;

/* {1: 1, 2: 1, 3: << {2: components} >>, 20: install} in an envelope
 * without authentication blocks; "#x" carries "payload". */
static void make_ex(made_t *m, size_t n_components, const uint8_t *install,
                    size_t install_len, install_form_t form)
{
    uint8_t common[256], manifest[1024], wrapped[1100], digest[40], auth[64];
    tp_cbor_writer_t w;
    tp_cw_init(&w, common, sizeof(common));
    tp_cw_map(&w, 1);
    tp_cw_uint(&w, TEEP_SUIT_COMPONENTS);
    tp_cw_array(&w, n_components);
    for (size_t i = 0; i < n_components; i++) {
        uint8_t seg = (uint8_t)('a' + i);
        tp_cw_array(&w, 1);
        tp_cw_bstr(&w, &seg, 1);
    }
    size_t common_len = w.len;

    tp_cw_init(&w, manifest, sizeof(manifest));
    tp_cw_map(&w, 4);
    tp_cw_uint(&w, TEEP_SUIT_MANIFEST_VERSION);
    tp_cw_uint(&w, 1);
    tp_cw_uint(&w, TEEP_SUIT_MANIFEST_SEQUENCE_NUMBER);
    tp_cw_uint(&w, 1);
    tp_cw_uint(&w, TEEP_SUIT_COMMON);
    tp_cw_bstr(&w, common, common_len);
    tp_cw_uint(&w, TEEP_SUIT_INSTALL);
    uint8_t member[512], member_digest[32];
    tp_cbor_writer_t mw;
    tp_cw_init(&mw, member, sizeof(member));
    tp_cw_bstr(&mw, install, install_len);
    assert_int_equal(teep_sha256(member, mw.len, member_digest), 0);
    if (form == IN_MANIFEST) {
        tp_cw_raw(&w, member, mw.len);
    } else {
        tp_cw_array(&w, 2);
        tp_cw_int(&w, TEEP_SUIT_ALG_SHA256);
        tp_cw_bstr(&w, member_digest, sizeof(member_digest));
    }
    size_t manifest_len = w.len;

    /* the digest covers the bstr-wrapped manifest */
    tp_cw_init(&w, wrapped, sizeof(wrapped));
    tp_cw_bstr(&w, manifest, manifest_len);
    size_t wrapped_len = w.len;
    uint8_t h[32];
    assert_int_equal(teep_sha256(wrapped, wrapped_len, h), 0);
    tp_cw_init(&w, digest, sizeof(digest));
    tp_cw_array(&w, 2);
    tp_cw_int(&w, TEEP_SUIT_ALG_SHA256);
    tp_cw_bstr(&w, h, sizeof(h));
    size_t digest_len = w.len;
    tp_cw_init(&w, auth, sizeof(auth));
    tp_cw_array(&w, 1);
    tp_cw_bstr(&w, digest, digest_len);
    size_t auth_len = w.len;

    tp_cw_init(&w, m->buf, sizeof(m->buf));
    tp_cw_map(&w, form == SEVERED ? 4 : 3);
    tp_cw_uint(&w, TEEP_SUIT_AUTHENTICATION_WRAPPER);
    tp_cw_bstr(&w, auth, auth_len);
    tp_cw_uint(&w, TEEP_SUIT_MANIFEST);
    tp_cw_raw(&w, wrapped, wrapped_len);
    if (form == SEVERED) {
        tp_cw_uint(&w, TEEP_SUIT_INSTALL);
        tp_cw_raw(&w, member, mw.len);
    }
    tp_cw_tstr(&w, "#x", 2);
    tp_cw_bstr(&w, (const uint8_t *)"payload", 7);
    assert_int_equal(tp_cw_result(&w), 0);
    decode_ok(m->buf, w.len, &m->env);
    /* no authentication block: processed as if verified */
    m->env.verified = true;
}

static void make(made_t *m, size_t n_components, const uint8_t *install,
                 size_t install_len)
{
    make_ex(m, n_components, install, install_len, IN_MANIFEST);
}

static int run_made(made_t *m, mem_device_t *d)
{
    /* these manifests share one (absent) id: forget the last commit */
    d->n_installed = 0;
    teep_suit_config_t cfg = config_for(&draft_key, 1, TEEP_SUIT_PROC_UPDATE);
    return teep_suit_process_envelope(&m->env, &cfg, &mem_ops, d, &report);
}

static void unsupported_commands(void **state)
{
    static made_t m;
    mem_device_t d = {0};
    /* swap (31) */
    static const uint8_t swap[] = {0x82, 0x18, 0x1f, 0x0f};
    make(&m, 1, swap, sizeof(swap));
    assert_int_equal(run_made(&m, &d), TEEP_E_SUIT_UNSUPPORTED);
    assert_int_equal(report.reason, TEEP_SUIT_REASON_COMMAND_UNSUPPORTED);
    assert_int_equal(report.result_record.command, TEEP_SUIT_DIR_SWAP);
    /* a custom command with a text argument */
    static const uint8_t custom[] = {0x82, 0x20, 0x61, 'x'};
    make(&m, 1, custom, sizeof(custom));
    assert_int_equal(run_made(&m, &d), TEEP_E_SUIT_UNSUPPORTED);
    assert_int_equal(report.reason, TEEP_SUIT_REASON_COMMAND_UNSUPPORTED);
    /* an unknown parameter */
    static const uint8_t param[] = {0x82, 0x14, 0xa1, 0x18, 0x63, 0x00};
    make(&m, 1, param, sizeof(param));
    assert_int_equal(run_made(&m, &d), TEEP_E_SUIT_UNSUPPORTED);
    assert_int_equal(report.reason, TEEP_SUIT_REASON_PARAMETER_UNSUPPORTED);
    /* an index beyond the components */
    static const uint8_t index[] = {0x82, 0x0c, 0x05};
    make(&m, 1, index, sizeof(index));
    assert_int_equal(run_made(&m, &d), TEEP_E_SUIT_UNSUPPORTED);
    assert_int_equal(report.reason, TEEP_SUIT_REASON_COMPONENT_UNSUPPORTED);
    /* a sequence with an odd number of items */
    static const uint8_t odd[] = {0x81, 0x0e};
    make(&m, 1, odd, sizeof(odd));
    assert_int_equal(run_made(&m, &d), TEEP_E_MISSING);
    assert_int_equal(report.reason, TEEP_SUIT_REASON_CBOR_PARSE);
    /* a callback the device lacks */
    static const uint8_t invoke[] = {0x82, 0x17, 0x0f};
    make(&m, 1, invoke, sizeof(invoke));
    teep_suit_ops_t ops = mem_ops;
    ops.invoke = NULL;
    teep_suit_config_t cfg = config_for(&draft_key, 1, TEEP_SUIT_PROC_UPDATE);
    assert_int_equal(
        teep_suit_process_envelope(&m.env, &cfg, &ops, &d, &report),
        TEEP_E_SUIT_UNSUPPORTED);
    assert_int_equal(report.reason, TEEP_SUIT_REASON_COMMAND_UNSUPPORTED);
}

/* set-component-index forms, try-each, run-sequence and soft failure. */
static void control_flow(void **state)
{
    static made_t m;
    mem_device_t d = {0};
    /* [12, true, 20, {18: 'hi'}, 18, 15]: both components written */
    static const uint8_t all[] = {0x86, 0x0c, 0xf5, 0x14, 0xa1, 0x12,
                                  0x42, 'h',  'i',  0x12, 0x0f};
    make(&m, 2, all, sizeof(all));
    assert_int_equal(run_made(&m, &d), 0);
    assert_int_equal(d.n_comps, 2);
    assert_int_equal(report.n_records, 2);
    assert_int_equal(report.records[1].component_index, 1);
    /* [12, [2, 0], 20, {21: "#x"}, 21, 1]: two fetches of "#x", records on
     * success only */
    static const uint8_t list[] = {0x86, 0x0c, 0x82, 0x02, 0x00, 0x14, 0xa1,
                                   0x15, 0x62, '#',  'x',  0x15, 0x01};
    d = (mem_device_t){0};
    make(&m, 3, list, sizeof(list));
    assert_int_equal(run_made(&m, &d), 0);
    assert_int_equal(d.n_comps, 2);
    assert_int_equal(report.n_records, 2);
    assert_int_equal(report.records[0].component_index, 2);
    assert_false(report.records[0].has_system);
    /* try-each [<<[14, 2]>>, <<[20, {18: 'B'}]>>], 18, 0: the first
     * alternative aborts softly, the second sets content; policy 0 */
    static const uint8_t try_each[] = {
        0x84, 0x0f, 0x82, 0x43, 0x82, 0x0e, 0x02, 0x46,
        0x82, 0x14, 0xa1, 0x12, 0x41, 'B',  0x12, 0x00,
    };
    d = (mem_device_t){0};
    make(&m, 1, try_each, sizeof(try_each));
    assert_int_equal(run_made(&m, &d), 0);
    assert_component(&d, "a", "B", 1);
    /* the soft failure inside try-each recorded on failure (policy 2) */
    assert_int_equal(report.n_records, 1);
    assert_false(report.records[0].success);
    /* try-each where every alternative fails, and with a final nil */
    static const uint8_t all_fail[] = {0x82, 0x0f, 0x82, 0x43, 0x82, 0x0e,
                                       0x00, 0x43, 0x82, 0x0e, 0x00};
    make(&m, 1, all_fail, sizeof(all_fail));
    assert_int_equal(run_made(&m, &d), TEEP_E_SUIT_CONDITION);
    assert_int_equal(report.reason, TEEP_SUIT_REASON_CONDITION_FAILED);
    static const uint8_t nil_last[] = {0x82, 0x0f, 0x82, 0x43,
                                       0x82, 0x0e, 0x00, 0xf6};
    make(&m, 1, nil_last, sizeof(nil_last));
    assert_int_equal(run_made(&m, &d), 0);
    /* run-sequence <<[20, {13: true}, 14, 0]>>: soft failure ends it */
    static const uint8_t soft[] = {0x82, 0x18, 0x20, 0x47, 0x84, 0x14,
                                   0xa1, 0x0d, 0xf5, 0x0e, 0x00};
    make(&m, 1, soft, sizeof(soft));
    assert_int_equal(run_made(&m, &d), 0);
    /* without soft failure the abort stops everything */
    static const uint8_t hard[] = {0x82, 0x18, 0x20, 0x43, 0x82, 0x0e, 0x00};
    make(&m, 1, hard, sizeof(hard));
    assert_int_equal(run_made(&m, &d), TEEP_E_SUIT_CONDITION);
    assert_int_equal(report.result_record.command, TEEP_SUIT_COND_ABORT);
    /* soft failure outside try-each / run-sequence is refused */
    static const uint8_t outside[] = {0x82, 0x14, 0xa1, 0x0d, 0xf5};
    make(&m, 1, outside, sizeof(outside));
    assert_int_equal(run_made(&m, &d), TEEP_E_SUIT_UNSUPPORTED);
    /* check-content and a failing write */
    static const uint8_t content[] = {0x86, 0x14, 0xa1, 0x12, 0x41,
                                      'C',  0x12, 0x0f, 0x06, 0x0f};
    d = (mem_device_t){0};
    make(&m, 1, content, sizeof(content));
    assert_int_equal(run_made(&m, &d), 0);
    d.fail_write = -EIO;
    assert_int_equal(run_made(&m, &d), -EIO);
    assert_int_equal(report.reason, TEEP_SUIT_REASON_OPERATION_FAILED);
}

/* copy, device identifier, component slot, and the system information
 * those report (system-property-claims after their records). */
static void more_commands(void **state)
{
    /* [20, {18: 'src'}, 18, 15, 12, 1,
     *  20, {22: 0, 24: h'01020304', 5: 1}, 22, 15, 24, 15, 5, 15] */
    static const uint8_t install[] = {
        0x8e, 0x14, 0xa1, 0x12, 0x43, 's',  'r',  'c',  0x12, 0x0f, 0x0c,
        0x01, 0x14, 0xa3, 0x16, 0x00, 0x18, 0x18, 0x44, 0x01, 0x02, 0x03,
        0x04, 0x05, 0x01, 0x16, 0x0f, 0x18, 0x18, 0x0f, 0x05, 0x0f,
    };
    static made_t m;
    make(&m, 2, install, sizeof(install));
    static const uint8_t device[] = {1, 2, 3, 4};
    teep_slice_t devices[] = {{device, sizeof(device)}};
    teep_suit_config_t cfg = config_for(&draft_key, 1, TEEP_SUIT_PROC_UPDATE);
    cfg.device_ids = (teep_suit_ids_t){devices, 1};
    teep_suit_ops_t ops = mem_ops;
    ops.slot = mem_slot;
    mem_device_t d = {0};
    assert_int_equal(
        teep_suit_process_envelope(&m.env, &cfg, &ops, &d, &report), 0);
    assert_component(&d, "a", "src", 3);
    assert_component(&d, "b", "src", 3);
    assert_int_equal(report.n_records, 4);
    assert_true(report.records[2].has_system);
    assert_true(report.records[3].has_system);
    assert_int_equal(report.records[3].system.component_slot, 1);
    /* records: 4 SUIT_Records and 2 system-property-claims */
    uint8_t out[2048];
    size_t len;
    assert_int_equal(teep_suit_report_encode(&report, out, sizeof(out), &len),
                     0);
    tp_cbor_reader_t r;
    tp_cbor_item_t it;
    uint64_t key;
    tp_cbor_reader_init(&r, out, len, NULL);
    assert_int_equal(tp_cbor_expect(&r, TP_CBOR_MAP, &it, "report"), 0);
    assert_int_equal(tp_cbor_read_uint(&r, 100, &key, "key"), 0);
    assert_int_equal(key, 2);
    assert_int_equal(tp_cbor_skip(&r, TEEP_MAX_DEPTH, NULL, NULL), 0);
    assert_int_equal(tp_cbor_read_uint(&r, 100, &key, "key"), 0);
    assert_int_equal(key, 3);
    assert_int_equal(tp_cbor_expect(&r, TP_CBOR_ARRAY, &it, "records"), 0);
    assert_int_equal(it.u, 6);
    /* another device: the identifier condition fails */
    static const uint8_t other[] = {9};
    devices[0] = (teep_slice_t){other, 1};
    d = (mem_device_t){0};
    assert_int_equal(
        teep_suit_process_envelope(&m.env, &cfg, &ops, &d, &report),
        TEEP_E_SUIT_CONDITION);
    assert_int_equal(report.result_record.command, TEEP_SUIT_COND_DEVICE_ID);
}

/* A severed install: carried by the envelope and checked by its digest,
 * or missing (processing stops with severing-unsupported). */
static void severed_members(void **state)
{
    static const uint8_t install[] = {0x84, 0x14, 0xa1, 0x12,
                                      0x41, 'S',  0x12, 0x0f};
    static made_t m;
    mem_device_t d = {0};
    make_ex(&m, 1, install, sizeof(install), SEVERED);
    const teep_suit_member_t *mb =
        &m.env.manifest.sequences[TEEP_SUIT_SEQ_INSTALL];
    assert_true(mb->severed);
    assert_non_null(mb->value.ptr);
    /* digests all match; no authentication block to verify */
    assert_int_equal(teep_suit_envelope_verify(&m.env, &draft_key, 1, NULL),
                     TEEP_E_SIGNATURE);
    m.env.verified = true;
    assert_int_equal(run_made(&m, &d), 0);
    assert_component(&d, "a", "S", 1);
    /* the member changed in the envelope: its digest no longer matches */
    uint8_t *content = (uint8_t *)mb->value.ptr;
    content[5] = 'T';
    assert_int_equal(teep_suit_envelope_verify(&m.env, &draft_key, 1, NULL),
                     TEEP_E_SUIT_DIGEST);
    make_ex(&m, 1, install, sizeof(install), SEVERED_DROPPED);
    assert_null(m.env.manifest.sequences[TEEP_SUIT_SEQ_INSTALL].value.ptr);
    assert_int_equal(run_made(&m, &d), TEEP_E_SUIT_SEVERED);
    assert_int_equal(report.reason, TEEP_SUIT_REASON_SEVERING_UNSUPPORTED);
}

/* Nested run-sequence deeper than TEEP_SUIT_MAX_NESTING is refused. */
static void nesting_is_bounded(void **state)
{
    /* innermost [14, 0], wrapped in run-sequence one level too many */
    uint8_t seq[256] = {0x82, 0x0e, 0x00};
    size_t len = 3;
    for (int level = 0; level < TEEP_SUIT_MAX_NESTING + 1; level++) {
        uint8_t next[256];
        tp_cbor_writer_t w;
        tp_cw_init(&w, next, sizeof(next));
        tp_cw_array(&w, 2);
        tp_cw_uint(&w, TEEP_SUIT_DIR_RUN_SEQUENCE);
        tp_cw_bstr(&w, seq, len);
        memcpy(seq, next, w.len);
        len = w.len;
    }
    static made_t m;
    mem_device_t d = {0};
    make(&m, 1, seq, len);
    assert_int_equal(run_made(&m, &d), TEEP_E_DEPTH);
}

/* ------------------------------------------------------------------ */
/* Builder                                                             */

static void build_and_check(const teep_suit_build_t *b, teep_key_t *key,
                            uint8_t **out, size_t *out_len)
{
    teep_signer_t signer = {key, 0};
    size_t need = 0;
    assert_int_equal(teep_suit_build(b, &signer, NULL, 0, &need), 0);
    *out = malloc(need);
    assert_int_equal(teep_suit_build(b, &signer, *out, need - 1, out_len),
                     -ENOSPC);
    assert_int_equal(*out_len, need);
    assert_int_equal(teep_suit_build(b, &signer, *out, need, out_len), 0);
    assert_int_equal(*out_len, need);
    teep_suit_envelope_t env;
    decode_ok(*out, *out_len, &env);
    verify_ok(&env, key);
    assert_int_equal(env.manifest.sequence_number, b->sequence_number);
}

static void builder_round_trip(void **state)
{
    teep_key_t key;
    assert_int_equal(teep_key_generate(&key, TEEP_KEY_P256), 0);
    uint8_t cid[96], mid[96];
    teep_suit_build_t b = {
        .component_id = component(
            "TEEP-Device/SecureFS/8d82573a926d4754935332dc29997f74/ta", cid,
            sizeof(cid)),
        .manifest_component_id = component(
            "TEEP-Device/SecureFS/8d82573a926d4754935332dc29997f74/suit", mid,
            sizeof(mid)),
        .sequence_number = 7,
        .vendor_id = {VENDOR_ID, 16},
        .class_id = {CLASS_ID, 16},
        .payload = SLICE(HELLO),
        .integrated_name = SLICE("#tc"),
        .text = SLICE("a trusted component"),
    };
    teep_suit_config_t cfg = config_for(&key, 1, TEEP_SUIT_PROC_UPDATE);
    for (int by_uri = 0; by_uri < 2; by_uri++) {
        if (by_uri) {
            b.integrated_name = (teep_slice_t){0};
            b.uri = SLICE(TA_URI);
        }
        uint8_t *env;
        size_t len;
        build_and_check(&b, &key, &env, &len);
        mem_device_t d = {.web = {{TA_URI, SLICE(HELLO)}}, .n_web = 1};
        process_ok(env, len, &cfg, &d);
        assert_int_equal(d.fetches, by_uri);
        assert_component(
            &d,
            "TEEP-Device/SecureFS/8d82573a926d4754935332dc29997f74/"
            "ta",
            HELLO, 20);
        assert_int_equal(d.installed[0].seq, 7);
        /* the same manifest again is a replay */
        assert_int_equal(process(env, len, &cfg, &d), TEEP_E_SUIT_ROLLBACK);
        free(env);
    }
    /* neither or both of uri and integrated name */
    b.integrated_name = SLICE("#tc");
    teep_signer_t signer = {&key, 0};
    size_t n;
    assert_int_equal(teep_suit_build(&b, &signer, NULL, 0, &n), -EINVAL);
    teep_key_clear(&key);
}

/* A personalization manifest built by the TAM: depends on a TA manifest,
 * writes encrypted content, validates the plaintext. */
static void builder_dependency_and_encryption(void **state)
{
    teep_key_t key;
    assert_int_equal(teep_key_generate(&key, TEEP_KEY_P256), 0);
    uint8_t cid[96], mid[96], pid[96], pmid[96];
    teep_suit_build_t ta = {
        .component_id = component("TEEP-Device/SecureFS/ta", cid, sizeof(cid)),
        .manifest_component_id =
            component("TEEP-Device/SecureFS/ta.suit", mid, sizeof(mid)),
        .sequence_number = 1,
        .payload = SLICE(HELLO),
        .uri = SLICE(TA_URI),
    };
    uint8_t *ta_env;
    size_t ta_len;
    build_and_check(&ta, &key, &ta_env, &ta_len);
    teep_suit_envelope_t ta_decoded;
    decode_ok(ta_env, ta_len, &ta_decoded);

    static const uint8_t info[] = {0xd8, 0x60, 0x84, 0x40, 0xa0, 0xf6, 0x80};
    uint8_t plain_digest[32];
    assert_int_equal(
        teep_sha256((const uint8_t *)CONFIG_JSON, 61, plain_digest), 0);
    teep_suit_build_dependency_t dep = {
        .manifest_id = ta.manifest_component_id,
        .uri = SLICE(TA_MANIFEST_URI),
        .manifest_digest = ta_decoded.digest.bytes,
        .envelope_size = ta_len,
    };
    teep_suit_build_t pd = {
        .component_id =
            component("TEEP-Device/SecureFS/config.json", pid, sizeof(pid)),
        .manifest_component_id =
            component("TEEP-Device/SecureFS/config.suit", pmid, sizeof(pmid)),
        .sequence_number = 2,
        .payload = SLICE("ciphertext"),
        .encryption_info = {info, sizeof(info)},
        .plaintext_digest = plain_digest,
        .plaintext_size = 61,
        .n_dependencies = 1,
        .dependencies = &dep,
    };
    uint8_t *pd_env;
    size_t pd_len;
    build_and_check(&pd, &key, &pd_env, &pd_len);
    mem_device_t d = {
        .web = {{TA_MANIFEST_URI, {ta_env, ta_len}}, {TA_URI, SLICE(HELLO)}},
        .n_web = 2,
        .plaintext = SLICE(CONFIG_JSON),
    };
    teep_suit_config_t cfg = config_for(&key, 1, TEEP_SUIT_PROC_UPDATE);
    process_ok(pd_env, pd_len, &cfg, &d);
    assert_component(&d, "TEEP-Device/SecureFS/ta", HELLO, 20);
    assert_component(&d, "TEEP-Device/SecureFS/config.json", CONFIG_JSON, 61);
    assert_int_equal(d.commits, 2);
    /* invoke procedure: validate loads the stored TA manifest */
    cfg.procedure = TEEP_SUIT_PROC_INVOKE;
    d.n_web = 0;
    process_ok(pd_env, pd_len, &cfg, &d);
    free(ta_env);
    free(pd_env);
    teep_key_clear(&key);
}

/* The properties maps of the SUIT_Records in an encoded report, decoded
 * (system-property-claims are skipped); returns how many, at most max. */
static size_t report_properties(const uint8_t *buf, size_t len,
                                teep_suit_params_t *props, size_t max)
{
    tp_cbor_reader_t r;
    tp_cbor_item_t it;
    size_t n = 0;
    tp_cbor_reader_init(&r, buf, len, NULL);
    assert_int_equal(tp_cbor_expect(&r, TP_CBOR_MAP, &it, "report"), 0);
    for (uint64_t k = it.u; k > 0; k--) {
        uint64_t key;
        assert_int_equal(tp_cbor_read_uint(&r, 100, &key, "key"), 0);
        if (key != 3) {
            assert_int_equal(tp_cbor_skip(&r, TEEP_MAX_DEPTH, NULL, NULL), 0);
            continue;
        }
        tp_cbor_item_t items;
        assert_int_equal(tp_cbor_expect(&r, TP_CBOR_ARRAY, &items, "recs"), 0);
        for (uint64_t i = 0; i < items.u; i++) {
            tp_cbor_item_t rec;
            assert_int_equal(tp_cbor_next(&r, &rec), 0);
            if (rec.kind == TP_CBOR_MAP) {
                assert_int_equal(tp_cbor_skip_rest(&r, &rec, TEEP_MAX_DEPTH),
                                 0);
                continue;
            }
            assert_int_equal(rec.kind, TP_CBOR_ARRAY);
            assert_int_equal(rec.u, 5);
            for (int f = 0; f < 4; f++)
                assert_int_equal(tp_cbor_skip(&r, TEEP_MAX_DEPTH, NULL, NULL),
                                 0);
            size_t start, end;
            assert_int_equal(tp_cbor_skip(&r, TEEP_MAX_DEPTH, &start, &end), 0);
            assert_true(n < max);
            teep_slice_t map = {buf + start, end - start};
            assert_int_equal(teep_suit_params_decode(map, &props[n++], NULL),
                             0);
        }
    }
    assert_int_equal(tp_cbor_finish(&r), 0);
    return n;
}

/* A PD of 1 MiB written from the manifest (parameter content, as the TAM
 * builds it for the OT demo's table): the records of the write carry its
 * length as image-size, never the bytes, so the report stays small, on
 * success and on failure, and still decodes. */
static void report_omits_large_content(void **state)
{
    teep_key_t key;
    assert_int_equal(teep_key_generate(&key, TEEP_KEY_P256), 0);
    const size_t big_len = (size_t)1 << 20;
    uint8_t *big = malloc(big_len);
    assert_non_null(big);
    memset(big, 0x5a, big_len);
    static const uint8_t info[] = {0xd8, 0x60, 0x84, 0x40, 0xa0, 0xf6, 0x80};
    uint8_t plain_digest[32];
    assert_int_equal(
        teep_sha256((const uint8_t *)CONFIG_JSON, 61, plain_digest), 0);
    uint8_t cid[96], mid[96];
    teep_suit_build_t pd = {
        .component_id =
            component("TEEP-Device/SecureFS/config.json", cid, sizeof(cid)),
        .manifest_component_id =
            component("TEEP-Device/SecureFS/config.suit", mid, sizeof(mid)),
        .sequence_number = 1,
        .payload = {big, big_len},
        .encryption_info = {info, sizeof(info)},
        .plaintext_digest = plain_digest,
        .plaintext_size = 61,
    };
    uint8_t *env;
    size_t env_len;
    build_and_check(&pd, &key, &env, &env_len);
    assert_true(env_len > big_len);
    teep_suit_config_t cfg = config_for(&key, 1, TEEP_SUIT_PROC_UPDATE);
    const uint32_t content = TEEP_SUIT_PARAM_BIT(TEEP_SUIT_PARAM_CONTENT);
    const uint32_t size = TEEP_SUIT_PARAM_BIT(TEEP_SUIT_PARAM_IMAGE_SIZE);
    const uint32_t enc = TEEP_SUIT_PARAM_BIT(TEEP_SUIT_PARAM_ENCRYPTION_INFO);
    for (int failing = 0; failing < 2; failing++) {
        mem_device_t d = {.plaintext = SLICE(CONFIG_JSON)};
        if (failing) {
            d.fail_write = -EIO;
            assert_int_equal(process(env, env_len, &cfg, &d), -EIO);
            assert_int_equal(report.result_record.command, TEEP_SUIT_DIR_WRITE);
            const teep_suit_params_t *rp = &report.result_record.properties;
            assert_int_equal(rp->present & content, 0);
            assert_true(rp->present & size);
            assert_int_equal(rp->image_size, big_len);
        } else {
            process_ok(env, env_len, &cfg, &d);
            assert_component(&d, "TEEP-Device/SecureFS/config.json",
                             CONFIG_JSON, 61);
        }
        size_t writes = 0;
        for (size_t i = 0; i < report.n_records; i++) {
            const teep_suit_record_t *rec = &report.records[i];
            assert_int_equal(rec->properties.present & content, 0);
            if (rec->command != TEEP_SUIT_DIR_WRITE)
                continue;
            writes++;
            assert_true(rec->properties.present & size);
            assert_true(rec->properties.present & enc);
            assert_int_equal(rec->properties.image_size, big_len);
        }
        assert_int_equal(writes, 1);

        size_t need = 0, out_len = 0;
        assert_int_equal(teep_suit_report_encode(&report, NULL, 0, &need), 0);
        assert_true(need < 1024); /* was 1 MiB and more */
        uint8_t out[1024];
        assert_int_equal(
            teep_suit_report_encode(&report, out, sizeof(out), &out_len), 0);
        assert_int_equal(out_len, need);
        teep_suit_params_t props[TEEP_SUIT_MAX_RECORDS];
        size_t n = report_properties(out, out_len, props, ARRAY_LEN(props));
        assert_int_equal(n, report.n_records);
        size_t sized = 0;
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(props[i].present & content, 0);
            /* the write's; image-match reports the plaintext's 61 */
            sized +=
                (props[i].present & size) && props[i].image_size == big_len;
        }
        assert_int_equal(sized, 1);
    }
    free(env);
    free(big);
    teep_key_clear(&key);
}

static void component_id_text(void **state)
{
    uint8_t buf[128];
    char text[128];
    teep_slice_t id = component("a/0x00ff/0x/8D82573A926D4754935332DC29997F74",
                                buf, sizeof(buf));
    static const uint8_t want[] = {
        0x84, 0x41, 'a',  0x42, 0x00, 0xff, 0x40, 0x50, 0x8d, 0x82, 0x57, 0x3a,
        0x92, 0x6d, 0x47, 0x54, 0x93, 0x53, 0x32, 0xdc, 0x29, 0x99, 0x7f, 0x74};
    assert_int_equal(id.len, sizeof(want));
    assert_memory_equal(id.ptr, want, sizeof(want));
    assert_int_equal(teep_suit_component_id_to_text(id, text, sizeof(text)), 0);
    assert_string_equal(text, "a/0x00ff/0x/8d82573a926d4754935332dc29997f74");
    assert_int_equal(teep_suit_component_id_to_text(id, text, 8), -ENOSPC);
    size_t len;
    assert_int_equal(teep_suit_component_id_from_text("a//b", buf, 128, &len),
                     -EINVAL);
    assert_int_equal(teep_suit_component_id_from_text("", buf, 128, &len),
                     -EINVAL);
    assert_int_equal(teep_suit_component_id_from_text("abc", buf, 2, &len),
                     -ENOSPC);
}

/* ------------------------------------------------------------------ */
/* Robustness                                                          */

/* Every prefix of every SUIT vector is refused without a crash; each is
 * copied into a buffer of its exact size so ASan sees any overread. */
static void truncated_inputs(void **state)
{
    static const char *names[] = {
        "tp_suit_uri.hex",
        "tp_suit_integrated.hex",
        "tp_suit_personalization.hex",
        "suittd_example1_process.hex",
        "suittd_example2_integrated.hex",
        "suitenc_suit-manifest-es-ecdh-content.hex",
        "suitenc_suit-manifest-es-ecdh-dependency.hex",
    };
    teep_suit_config_t cfg = config_for(&draft_key, 1, TEEP_SUIT_PROC_UPDATE);
    for (size_t i = 0; i < ARRAY_LEN(names); i++) {
        size_t len = 0;
        uint8_t *buf = load(names[i], &len);
        for (size_t n = 0; n < len; n++) {
            uint8_t *copy = malloc(n > 0 ? n : 1);
            memcpy(copy, buf, n);
            teep_suit_envelope_t env;
            teep_diag_t diag = {0};
            int rc = teep_suit_envelope_decode(copy, n, &env, &diag);
            assert_int_not_equal(rc, 0);
            assert_int_equal(diag.code, rc);
            assert_true(diag.offset <= n);
            mem_device_t d = {0};
            assert_int_not_equal(
                teep_suit_process(copy, n, &cfg, &mem_ops, &d, &report), 0);
            assert_int_equal(report.reason, TEEP_SUIT_REASON_CBOR_PARSE);
            free(copy);
        }
        free(buf);
    }
}

static void decode_refuses_malformed(void **state)
{
    teep_suit_envelope_t env;
    teep_diag_t diag;
    /* tag 108 */
    static const uint8_t tag[] = {0xd8, 0x6c, 0xa0};
    assert_int_equal(teep_suit_envelope_decode(tag, sizeof(tag), &env, &diag),
                     TEEP_E_TYPE);
    /* empty envelope */
    static const uint8_t empty[] = {0xa0};
    assert_int_equal(
        teep_suit_envelope_decode(empty, sizeof(empty), &env, &diag),
        TEEP_E_MISSING);
    /* manifest version 2: {2: <<[<<[-16, h'']>>]>>, 3: <<{1: 2, 2: 0,
     * 3: <<{}>>}>>} */
    static const uint8_t v2[] = {0xa2, 0x02, 0x45, 0x81, 0x43, 0x82,
                                 0x2f, 0x40, 0x03, 0x48, 0xa3, 0x01,
                                 0x02, 0x02, 0x00, 0x03, 0x41, 0xa0};
    assert_int_equal(teep_suit_envelope_decode(v2, sizeof(v2), &env, &diag),
                     TEEP_E_VERSION);
    /* the offset counts from the envelope, through the bstr wrapping */
    assert_int_equal(diag.offset, 12);
    /* a severed install (20) in the envelope without its digest */
    static const uint8_t sev[] = {0xa3, 0x02, 0x45, 0x81, 0x43, 0x82, 0x2f,
                                  0x40, 0x03, 0x48, 0xa3, 0x01, 0x01, 0x02,
                                  0x00, 0x03, 0x41, 0xa0, 0x14, 0x41, 0x80};
    assert_int_equal(teep_suit_envelope_decode(sev, sizeof(sev), &env, &diag),
                     TEEP_E_MISSING);
    /* without it the envelope is fine */
    static const uint8_t ok[] = {0xa2, 0x02, 0x45, 0x81, 0x43, 0x82,
                                 0x2f, 0x40, 0x03, 0x48, 0xa3, 0x01,
                                 0x01, 0x02, 0x00, 0x03, 0x41, 0xa0};
    assert_int_equal(teep_suit_envelope_decode(ok, sizeof(ok), &env, &diag), 0);
    /* its empty digest does not match the manifest */
    assert_int_equal(teep_suit_envelope_verify(&env, &draft_key, 1, &diag),
                     TEEP_E_SUIT_DIGEST);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(published_vectors_verify),
        cmocka_unit_test(vector_fields),
        cmocka_unit_test(encryption_dependency_vector),
        cmocka_unit_test(update_embedded_manifest),
        cmocka_unit_test(integrated_end_to_end),
        cmocka_unit_test(uri_payload_is_fetched),
        cmocka_unit_test(rollback_is_refused),
        cmocka_unit_test(flipped_byte_fails_digest),
        cmocka_unit_test(wrong_key_fails),
        cmocka_unit_test(wrong_vendor_stops),
        cmocka_unit_test(personalization_with_dependency),
        cmocka_unit_test(trust_domain_dependencies),
        cmocka_unit_test(encrypted_content),
        cmocka_unit_test(unsupported_commands),
        cmocka_unit_test(control_flow),
        cmocka_unit_test(more_commands),
        cmocka_unit_test(severed_members),
        cmocka_unit_test(nesting_is_bounded),
        cmocka_unit_test(builder_round_trip),
        cmocka_unit_test(builder_dependency_and_encryption),
        cmocka_unit_test(report_omits_large_content),
        cmocka_unit_test(component_id_text),
        cmocka_unit_test(truncated_inputs),
        cmocka_unit_test(decode_refuses_malformed),
    };
    return cmocka_run_group_tests(tests, load_keys, clear_keys);
}
