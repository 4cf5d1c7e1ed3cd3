/* Unit tests of keys and COSE signing (proto/key.c, proto/cose.c and the
 * crypto backend the binary links: test_cose = OpenSSL, test_cose_mbedtls
 * = mbedtls, where Ed25519 operations must answer TEEP_E_ALG). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <errno.h>

#include "cbor_reader.h"
#include "cbor_writer.h"
#include "teep/cose.h"
#include "teep/message.h"
#include "vectors.h"

#define KEYS "keys/"

static bool has_ed25519(void)
{
    return strcmp(teep_crypto_backend(), "mbedtls") != 0;
}

static void load_key(teep_key_t *key, const char *name)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/" KEYS "%s", TEEP_VECTORS_DIR, name);
    int rc = teep_key_load_file(key, path);
    if (rc != 0)
        print_error("%s: %s\n", name, teep_strerror(rc));
    assert_int_equal(rc, 0);
}

static void hex_to_bytes(const char *hex, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
}

static void assert_kid(const teep_key_t *key, const char *hex)
{
    uint8_t kid[32];
    hex_to_bytes(hex, kid, sizeof(kid));
    assert_memory_equal(key->kid, kid, sizeof(kid));
}

#define KID_TAM                                                                \
    "C770EC535D8C949586324ADAF2DDFFB76B1A852DFA52E19C80F7440EC163BEEA"
#define KID_AGENT                                                              \
    "E96788B10B1610ABE478F9CE8DCFE2304C0911DD8CFEADDE25EC30CCB5A7B5AF"
#define KID_VERIFIER                                                           \
    "87B97E7C1FB5DE418B2F5BC289FD80C8F123D5A37B9CC32E4ECBB24D7615A502"
#define KID_ED25519                                                            \
    "866EEFBD6718C8846CD7DDFE43FC74AB1DAAC4538FF8514EA2EC2D410A415743"

#define TAM_PUB      "libteep_tam_es256_cose_key_public.hex"
#define TAM_PRIV     "libteep_tam_es256_cose_key_private.hex"
#define AGENT_PUB    "libteep_teep_agent_es256_cose_key_public.hex"
#define VERIFIER_PUB "libteep_verifier_es256_cose_key_public.hex"
#define ED_PRIV      "libteep_tam_ed25519_cose_key_private.hex"

/* Parse a vector and verify it with a key; returns the verify result. */
static int verify_vector(const char *name, const teep_key_t *key)
{
    size_t len = 0;
    uint8_t *buf = vector_load_hex(name, &len);
    assert_non_null(buf);
    teep_cose_t cose;
    teep_diag_t diag = {0};
    int rc = teep_cose_parse(buf, len, &cose, &diag);
    if (rc != 0)
        print_error("%s: %s at %zu\n", name, diag.reason, diag.offset);
    assert_int_equal(rc, 0);
    rc = teep_cose_verify(&cose, key, NULL, 0);
    free(buf);
    return rc;
}

static const struct {
    const char *vector;
    const char *key;
    bool ed25519;
} signed_vectors[] = {
    {"libteep_query_request_cose.hex", TAM_PUB, false},
    {"libteep_update_cose.hex", TAM_PUB, false},
    {"libteep_query_response_cose.hex", AGENT_PUB, false},
    {"libteep_teep_success_cose.hex", AGENT_PUB, false},
    {"libteep_teep_error_cose.hex", AGENT_PUB, false},
    {"libteep_evidence_cose.hex", AGENT_PUB, false},
    {"libteep_attestation_results_cose.hex", VERIFIER_PUB, false},
    {"gen_tp_query_request_cose_sign.hex", TAM_PUB, false},
    {"gen_tp_query_request_cose_sign.hex", ED_PRIV, true},
    {"gen_tp_query_request_cose_sign1_esp256.hex", TAM_PUB, false},
    {"gen_tp_update_cose_sign1_esp256.hex", TAM_PUB, false},
    {"gen_tp_update_cose_sign1_ed25519.hex", ED_PRIV, true},
    {"gen_tp_query_response_cose_sign1_esp256.hex", AGENT_PUB, false},
    {"gen_tp_teep_success_cose_sign1_esp256.hex", AGENT_PUB, false},
    {"gen_tp_teep_error_cose_sign1_esp256.hex", AGENT_PUB, false},
    {"gen_tp26_query_request_cose_sign.hex", TAM_PUB, false},
    {"gen_tp26_query_request_cose_sign.hex", ED_PRIV, true},
    {"gen_tp26_query_request_cose_sign1_esp256.hex", TAM_PUB, false},
    {"gen_tp26_update_cose_sign1_esp256.hex", TAM_PUB, false},
    {"gen_tp26_update_cose_sign1_ed25519.hex", ED_PRIV, true},
    {"gen_tp26_query_response_cose_sign1_esp256.hex", AGENT_PUB, false},
    {"gen_tp26_teep_success_cose_sign1_esp256.hex", AGENT_PUB, false},
    {"gen_tp26_teep_error_cose_sign1_esp256.hex", AGENT_PUB, false},
};
#define N_SIGNED (sizeof(signed_vectors) / sizeof(signed_vectors[0]))

static void every_signed_vector_verifies(void **state)
{
    for (size_t i = 0; i < N_SIGNED; i++) {
        teep_key_t key;
        load_key(&key, signed_vectors[i].key);
        int want = signed_vectors[i].ed25519 && !has_ed25519() ? TEEP_E_ALG : 0;
        int rc = verify_vector(signed_vectors[i].vector, &key);
        if (rc != want)
            print_error("%s with %s: %s\n", signed_vectors[i].vector,
                        signed_vectors[i].key, teep_strerror(rc));
        assert_int_equal(rc, want);
        teep_key_clear(&key);
    }
}

/* The same vectors refuse every other key: a P-256 key that did not sign
 * gives TEEP_E_SIGNATURE, a key of the other type TEEP_E_ALG. */
static void signed_vectors_refuse_other_keys(void **state)
{
    teep_key_t p256, ed;
    load_key(&p256, "teep_draft_suit_signing_key_public.pem");
    load_key(&ed, ED_PRIV);
    for (size_t i = 0; i < N_SIGNED; i++) {
        const char *v = signed_vectors[i].vector;
        bool is_sign = strstr(v, "cose_sign.hex") != NULL;
        bool ed_signed =
            signed_vectors[i].ed25519 || (is_sign && has_ed25519());
        assert_int_equal(verify_vector(v, &p256),
                         signed_vectors[i].ed25519 && !is_sign
                             ? TEEP_E_ALG
                             : TEEP_E_SIGNATURE);
        if (!ed_signed)
            assert_int_equal(verify_vector(v, &ed), TEEP_E_ALG);
    }
    teep_key_clear(&p256);
    teep_key_clear(&ed);
}

/* The gen_* payloads are the draft's unsigned messages; the COSE_Sign
 * carries one ESP256 and one Ed25519 signature naming their kids. */
static void vector_structure(void **state)
{
    size_t len = 0, plen = 0;
    uint8_t *buf = vector_load_hex("gen_tp_query_request_cose_sign.hex", &len);
    uint8_t *payload = vector_load_hex("tp_query_request.hex", &plen);
    teep_cose_t cose;
    assert_int_equal(teep_cose_parse(buf, len, &cose, NULL), 0);
    assert_int_equal(cose.tag, 98);
    assert_int_equal(cose.protected_hdr.len, 0);
    assert_int_equal(cose.n_signatures, 2);
    assert_int_equal(cose.payload.len, plen);
    assert_memory_equal(cose.payload.ptr, payload, plen);
    assert_int_equal(cose.signatures[0].alg, TEEP_ALG_ESP256);
    assert_int_equal(cose.signatures[1].alg, TEEP_ALG_ED25519);
    uint8_t kid[32];
    hex_to_bytes(KID_TAM, kid, 32);
    assert_int_equal(cose.signatures[0].kid.len, 32);
    assert_memory_equal(cose.signatures[0].kid.ptr, kid, 32);
    hex_to_bytes(KID_ED25519, kid, 32);
    assert_memory_equal(cose.signatures[1].kid.ptr, kid, 32);
    free(buf);

    buf = vector_load_hex("libteep_query_request_cose.hex", &len);
    assert_int_equal(teep_cose_parse(buf, len, &cose, NULL), 0);
    assert_int_equal(cose.tag, 18);
    assert_int_equal(cose.n_signatures, 1);
    assert_int_equal(cose.signatures[0].alg, TEEP_ALG_ES256);
    free(buf);
    free(payload);
}

/* mbedtls signs with RFC 6979 deterministic k, as the generator of the
 * gen_* vectors did, so re-signing their payload reproduces them. */
static void deterministic_ecdsa_reproduces_vectors(void **state)
{
    if (has_ed25519())
        skip(); /* OpenSSL 3.0 signs with random k */
    static const char *names[] = {
        "gen_tp_query_request_cose_sign1_esp256.hex",
        "gen_tp26_update_cose_sign1_esp256.hex",
    };
    teep_key_t tam;
    load_key(&tam, TAM_PRIV);
    for (size_t i = 0; i < 2; i++) {
        size_t len = 0;
        uint8_t *buf = vector_load_hex(names[i], &len);
        teep_cose_t cose;
        assert_int_equal(teep_cose_parse(buf, len, &cose, NULL), 0);
        uint8_t *out = malloc(len + 16);
        size_t out_len;
        teep_signer_t signer = {&tam, 0};
        assert_int_equal(teep_cose_sign1(&signer, cose.payload.ptr,
                                         cose.payload.len, out, len + 16,
                                         &out_len),
                         0);
        assert_int_equal(out_len, len);
        assert_memory_equal(out, buf, len);
        free(out);
        free(buf);
    }
    teep_key_clear(&tam);
}

/* Open one bstr-wrapped element: the reader moves into its content. */
static void enter_bstr(tp_cbor_reader_t *r, tp_cbor_item_t *it)
{
    assert_int_equal(tp_cbor_expect(r, TP_CBOR_BSTR, it, "bstr"), 0);
    tp_cbor_reader_init(r, it->ptr, (size_t)it->u, NULL);
}

/* SUIT authentication blocks are COSE_Sign1 with a detached payload: the
 * bstr-wrapped SUIT_Digest (element 0 of the authentication wrapper). */
static void suit_detached_payload(void **state)
{
    size_t len = 0;
    uint8_t *env = vector_load_hex("tp_suit_integrated.hex", &len);
    tp_cbor_reader_t r;
    tp_cbor_item_t it;
    tp_cbor_reader_init(&r, env, len, NULL);
    assert_int_equal(tp_cbor_expect(&r, TP_CBOR_MAP, &it, "envelope"), 0);
    assert_int_equal(tp_cbor_expect(&r, TP_CBOR_UINT, &it, "key"), 0);
    assert_int_equal(it.u, 2); /* authentication-wrapper comes first */
    enter_bstr(&r, &it);
    assert_int_equal(tp_cbor_expect(&r, TP_CBOR_ARRAY, &it, "wrapper"), 0);
    tp_cbor_item_t digest, block;
    assert_int_equal(tp_cbor_expect(&r, TP_CBOR_BSTR, &digest, "digest"), 0);
    assert_int_equal(tp_cbor_expect(&r, TP_CBOR_BSTR, &block, "block"), 0);

    teep_cose_t cose;
    assert_int_equal(teep_cose_parse(block.ptr, block.u, &cose, NULL), 0);
    assert_null(cose.payload.ptr);
    teep_key_t key;
    load_key(&key, "teep_draft_suit_signing_key_public.pem");
    assert_int_equal(teep_cose_verify(&cose, &key, NULL, 0), TEEP_E_MISSING);
    assert_int_equal(teep_cose_verify(&cose, &key, digest.ptr, digest.u), 0);
    /* The digest covers the manifest: another digest does not verify. */
    uint8_t other[64];
    memcpy(other, digest.ptr, digest.u);
    other[digest.u - 1] ^= 1;
    assert_int_equal(teep_cose_verify(&cose, &key, other, digest.u),
                     TEEP_E_SIGNATURE);
    teep_key_clear(&key);
    free(env);
}

static void keys_load_every_format(void **state)
{
    static const struct {
        const char *file;
        const char *kid;
        bool priv;
    } keys[] = {
        {"libteep_tam_prime256v1.pem", KID_TAM, true},      /* SEC1 */
        {"libteep_tam_prime256v1_pub.pem", KID_TAM, false}, /* SPKI */
        {TAM_PRIV, KID_TAM, true},                          /* COSE hex */
        {TAM_PUB, KID_TAM, false},
        {"libteep_teep_agent_prime256v1.pem", KID_AGENT,
         true}, /* params+SEC1 */
        {"libteep_teep_agent_prime256v1_pub.pem", KID_AGENT, false},
        {"teep_draft_personalization_kek_receiver.pem", KID_AGENT, true},
        {AGENT_PUB, KID_AGENT, false},
        {"libteep_verifier_prime256v1.pem", KID_VERIFIER, true}, /* PKCS#8 */
        {VERIFIER_PUB, KID_VERIFIER, false},
        {ED_PRIV, KID_ED25519, true},
    };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        teep_key_t key;
        load_key(&key, keys[i].file);
        assert_kid(&key, keys[i].kid);
        assert_int_equal(key.has_private, keys[i].priv);
        teep_key_clear(&key);
    }

    /* PKCS#8 and SPKI of the draft's SUIT key = libteep's trust anchor. */
    teep_key_t pem, cose;
    load_key(&pem, "teep_draft_suit_signing_key_private.pem");
    load_key(&cose, "libteep_trust_anchor_prime256v1_cose_key_private.hex");
    assert_memory_equal(pem.x, cose.x, 32);
    assert_memory_equal(pem.y, cose.y, 32);
    assert_memory_equal(pem.d, cose.d, 32);
    assert_memory_equal(pem.kid, cose.kid, 32);
    teep_key_clear(&pem);
    teep_key_clear(&cose);

    /* Ed25519 key = RFC 8032 7.1 TEST 1. */
    teep_key_t ed;
    load_key(&ed, ED_PRIV);
    uint8_t x[32];
    hex_to_bytes("D75A980182B10AB7D54BFED3C964073A0EE172F3DAA62325AF021A68F7"
                 "07511A",
                 x, 32);
    assert_int_equal(ed.type, TEEP_KEY_ED25519);
    assert_memory_equal(ed.x, x, 32);
    teep_key_clear(&ed);

    /* libteep's Ed25519 PEM (a different key) needs the backend. */
    size_t len = 0;
    char *text = vector_load_text(KEYS "libteep_tam_ed25519.pem", &len);
    int rc = teep_key_from_pem(&ed, (const uint8_t *)text, len);
    assert_int_equal(rc, has_ed25519() ? 0 : TEEP_E_ALG);
    if (rc == 0)
        assert_int_equal(ed.type, TEEP_KEY_ED25519);
    teep_key_clear(&ed);
    free(text);

    /* SEC1 without the optional public key: derived from d. */
    static const char sec1_no_public[] =
        "-----BEGIN EC PRIVATE KEY-----\n"
        "MDECAQEEIIQa67e56m8CYL5zVaJFiLl30j0qxb8ray2DeUMqH+qYoAoGCCqGSM49\n"
        "AwEH\n"
        "-----END EC PRIVATE KEY-----\n";
    assert_int_equal(teep_key_load(&cose, (const uint8_t *)sec1_no_public,
                                   sizeof(sec1_no_public) - 1),
                     0);
    assert_kid(&cose, KID_TAM);
    teep_key_clear(&cose);
    /* Encrypted keys are refused, never prompted for. */
    static const char encrypted[] =
        "-----BEGIN EC PRIVATE KEY-----\n"
        "Proc-Type: 4,ENCRYPTED\n"
        "DEK-Info: AES-128-CBC,2B2D5A17172FFD5DBCB75F04DF27ED6B\n"
        "\n"
        "LbYslOQ6rgYUcPA1Pe481r4Joeb1VBztUjAVfb5rXcREv06+TcRd6xR7oNS/PuRa\n"
        "k2V12SrQWZOZsK+e+g+Kqrq+gQ089wNgbhrCUAQKfkll36EN8UpO7A6pdEgcoB54\n"
        "aO1YNPdH3zJ9FMaoa1SrQBIH3S96JWgHh1Jmch+heCU=\n"
        "-----END EC PRIVATE KEY-----\n";
    assert_int_equal(
        teep_key_load(&cose, (const uint8_t *)encrypted, sizeof(encrypted) - 1),
        TEEP_E_KEY);

    /* Binary COSE_Key. */
    uint8_t *bin = vector_load_hex(KEYS TAM_PUB, &len);
    assert_int_equal(teep_key_load(&cose, bin, len), 0);
    assert_kid(&cose, KID_TAM);
    teep_key_clear(&cose);
    free(bin);
}

/* The draft's PEM files are exactly what we write. */
static void pem_output_matches_files(void **state)
{
    static const char *files[] = {"teep_draft_suit_signing_key_private.pem",
                                  "teep_draft_suit_signing_key_public.pem"};
    teep_key_t key;
    load_key(&key, files[0]);
    for (size_t i = 0; i < 2; i++) {
        size_t len = 0, out_len = 0;
        char name[128];
        snprintf(name, sizeof(name), KEYS "%s", files[i]);
        char *text = vector_load_text(name, &len);
        assert_non_null(text);
        char out[512];
        assert_int_equal(
            teep_key_to_pem(&key, i == 0, out, sizeof(out), &out_len), 0);
        assert_int_equal(out_len, len);
        assert_string_equal(out, text);
        assert_int_equal(teep_key_to_pem(&key, i == 0, out, len, &out_len),
                         -ENOSPC);
        free(text);
    }
    teep_key_clear(&key);
}

static void same_key(const teep_key_t *a, const teep_key_t *b, bool priv)
{
    assert_int_equal(a->type, b->type);
    assert_memory_equal(a->x, b->x, 32);
    assert_memory_equal(a->y, b->y, 32);
    assert_memory_equal(a->kid, b->kid, 32);
    assert_int_equal(b->has_private, priv);
    if (priv)
        assert_memory_equal(a->d, b->d, 32);
}

/* to_pem / to_cose and back give the same key, private or public. */
static void round_trip(const teep_key_t *key)
{
    for (int priv = 0; priv <= 1; priv++) {
        char pem[512];
        uint8_t cose[256];
        size_t len = 0;
        teep_key_t back;
        int rc = teep_key_to_pem(key, priv, pem, sizeof(pem), &len);
        if (key->type != TEEP_KEY_ED25519 || has_ed25519()) {
            assert_int_equal(rc, 0);
            assert_int_equal(strlen(pem), len);
            assert_int_equal(teep_key_load(&back, (uint8_t *)pem, len), 0);
            same_key(key, &back, priv);
            teep_key_clear(&back);
        } else {
            assert_int_equal(rc, TEEP_E_ALG);
        }
        assert_int_equal(teep_key_to_cose(key, priv, cose, sizeof(cose), &len),
                         0);
        assert_int_equal(teep_key_from_cose(&back, cose, len), 0);
        same_key(key, &back, priv);
        teep_key_clear(&back);
        assert_int_equal(teep_key_to_cose(key, priv, cose, len - 1, &len),
                         -ENOSPC);
    }
}

static void keys_round_trip(void **state)
{
    static const char *files[] = {TAM_PRIV, "libteep_verifier_prime256v1.pem",
                                  ED_PRIV};
    for (size_t i = 0; i < 3; i++) {
        teep_key_t key;
        load_key(&key, files[i]);
        round_trip(&key);
        teep_key_clear(&key);
    }
    /* The public COSE_Key is exactly the thumbprint input. */
    teep_key_t key;
    load_key(&key, TAM_PUB);
    uint8_t cose[128], digest[32];
    size_t len = 0;
    assert_int_equal(teep_key_to_cose(&key, false, cose, sizeof(cose), &len),
                     0);
    size_t file_len = 0;
    uint8_t *file = vector_load_hex(KEYS TAM_PUB, &file_len);
    assert_int_equal(len, file_len);
    assert_memory_equal(cose, file, len);
    assert_int_equal(teep_sha256(cose, len, digest), 0);
    assert_memory_equal(digest, key.kid, 32);
    assert_int_equal(
        teep_key_to_pem(&key, true, (char *)cose, sizeof(cose), &len), -EINVAL);
    free(file);
    teep_key_clear(&key);
}

/* Sign a payload with COSE_Sign1 and verify it with the same key. */
static void sign1_and_verify(const teep_key_t *key, int64_t alg)
{
    static const uint8_t payload[] = "a TEEP message";
    uint8_t out[256];
    size_t len = 0;
    teep_signer_t signer = {key, alg};
    assert_int_equal(teep_cose_sign1(&signer, payload, sizeof(payload), out,
                                     sizeof(out), &len),
                     0);
    teep_cose_t cose;
    assert_int_equal(teep_cose_parse(out, len, &cose, NULL), 0);
    assert_int_equal(cose.signatures[0].alg,
                     alg != 0 ? alg : teep_key_default_alg(key));
    assert_int_equal(cose.signatures[0].kid.len, 32);
    assert_memory_equal(cose.signatures[0].kid.ptr, key->kid, 32);
    assert_int_equal(teep_cose_verify(&cose, key, NULL, 0), 0);
}

static void generate_sign_verify(void **state)
{
    teep_key_t p256, ed, x25519;
    assert_int_equal(teep_key_generate(&p256, TEEP_KEY_P256), 0);
    assert_true(p256.has_private);
    sign1_and_verify(&p256, 0);
    sign1_and_verify(&p256, TEEP_ALG_ES256); /* legacy value written as is */
    round_trip(&p256);
    uint8_t sig[64];
    assert_int_equal(teep_sign_raw(&p256, TEEP_ALG_ESP256, sig, 10, sig), 0);

    /* Both backends agree keys on X25519 (mbedtls on its Curve25519
     * group, for teep/pd.h); neither signs with it. */
    assert_int_equal(teep_key_generate(&x25519, TEEP_KEY_X25519), 0);
    assert_int_equal(x25519.type, TEEP_KEY_X25519);
    assert_int_equal(teep_key_default_alg(&x25519), 0);
    assert_int_equal(teep_sign_raw(&x25519, TEEP_ALG_ED25519, sig, 1, sig),
                     TEEP_E_ALG);
    round_trip(&x25519);
    teep_key_clear(&x25519);

    int rc = teep_key_generate(&ed, TEEP_KEY_ED25519);
    if (!has_ed25519()) {
        assert_int_equal(rc, TEEP_E_ALG);
        teep_key_clear(&p256);
        return;
    }
    assert_int_equal(rc, 0);
    sign1_and_verify(&ed, 0);
    sign1_and_verify(&ed, TEEP_ALG_EDDSA);
    round_trip(&ed);
    teep_key_clear(&p256);
    teep_key_clear(&ed);
}

/* The Ed25519 signature of RFC 8032 7.1 TEST 1 (empty message). */
static void ed25519_known_answer(void **state)
{
    teep_key_t ed;
    load_key(&ed, ED_PRIV);
    uint8_t want[64], sig[64];
    hex_to_bytes("E5564300C360AC729086E2CC806E828A84877F1EB8E5D974D873E06522"
                 "4901555FB8821590A33BACC61E39701CF9B46BD25BF5F0595BBE24655141"
                 "438E7A100B",
                 want, 64);
    int rc = teep_sign_raw(&ed, TEEP_ALG_ED25519, (const uint8_t *)"", 0, sig);
    if (!has_ed25519()) {
        assert_int_equal(rc, TEEP_E_ALG);
        assert_int_equal(
            teep_verify_raw(&ed, TEEP_ALG_ED25519, sig, 0, want, 64),
            TEEP_E_ALG);
    } else {
        assert_int_equal(rc, 0);
        assert_memory_equal(sig, want, 64);
        assert_int_equal(teep_verify_raw(&ed, TEEP_ALG_EDDSA, sig, 0, want, 64),
                         0);
    }
    assert_int_equal(teep_verify_raw(&ed, TEEP_ALG_ED25519, sig, 0, want, 63),
                     TEEP_E_SIGNATURE);
    assert_int_equal(teep_verify_raw(&ed, TEEP_ALG_ESP256, sig, 0, want, 64),
                     TEEP_E_ALG);
    teep_key_clear(&ed);
}

/* Sign a fixed message with the TAM key; the caller flips bytes. */
static size_t signed_sample(teep_key_t *key, uint8_t *out, size_t cap)
{
    static const uint8_t payload[] = {0x82, 0x03, 0xa1, 0x14, 0x48, 1, 2,
                                      3,    4,    5,    6,    7,    8};
    load_key(key, TAM_PRIV);
    size_t len = 0;
    teep_signer_t signer = {key, 0};
    assert_int_equal(
        teep_cose_sign1(&signer, payload, sizeof(payload), out, cap, &len), 0);
    return len;
}

static int parse_verify(const uint8_t *buf, size_t len, const teep_key_t *key)
{
    teep_cose_t cose;
    int rc = teep_cose_parse(buf, len, &cose, NULL);
    return rc != 0 ? rc : teep_cose_verify(&cose, key, NULL, 0);
}

static void tampering_fails(void **state)
{
    teep_key_t key;
    uint8_t buf[256];
    size_t len = signed_sample(&key, buf, sizeof(buf));
    assert_int_equal(parse_verify(buf, len, &key), 0);
    teep_cose_t cose;
    assert_int_equal(teep_cose_parse(buf, len, &cose, NULL), 0);
    size_t kid_at = (size_t)(cose.signatures[0].kid.ptr - buf);
    size_t sig_at = (size_t)(cose.signatures[0].signature.ptr - buf);
    size_t payload_at = (size_t)(cose.payload.ptr - buf);
    size_t alg_at = (size_t)(cose.protected_hdr.ptr - buf) + 2;

    /* Signature, payload, protected header: still well-formed, no longer
     * signed.  -9 -> -7 keeps an acceptable algorithm. */
    size_t flips[] = {sig_at, sig_at + 40, len - 1, payload_at, payload_at + 8};
    for (size_t i = 0; i < sizeof(flips) / sizeof(flips[0]); i++) {
        buf[flips[i]] ^= 0x01;
        assert_int_equal(parse_verify(buf, len, &key), TEEP_E_SIGNATURE);
        buf[flips[i]] ^= 0x01;
    }
    assert_int_equal(buf[alg_at], 0x28);
    buf[alg_at] = 0x26;
    assert_int_equal(parse_verify(buf, len, &key), TEEP_E_SIGNATURE);
    buf[alg_at] = 0x28;

    /* Every bit of every byte matters, except in the unprotected kid
     * parameter (label 4 at kid_at - 3, bstr head, value): it is not
     * signed, and turned into an IV or an unknown parameter it still
     * parses. */
    for (size_t i = 0; i < len; i++) {
        if (i >= kid_at - 3 && i < kid_at + 32)
            continue;
        for (int bit = 0; bit < 8; bit++) {
            buf[i] ^= (uint8_t)(1u << bit);
            if (parse_verify(buf, len, &key) == 0)
                print_error("flip of bit %d at %zu verifies\n", bit, i);
            assert_int_not_equal(parse_verify(buf, len, &key), 0);
            buf[i] ^= (uint8_t)(1u << bit);
        }
    }
    teep_key_t other;
    load_key(&other, AGENT_PUB);
    assert_int_equal(parse_verify(buf, len, &other), TEEP_E_SIGNATURE);
    teep_key_clear(&other);
    teep_key_clear(&key);
}

static int parse_rc(const uint8_t *buf, size_t len)
{
    teep_cose_t cose;
    teep_diag_t diag;
    return teep_cose_parse(buf, len, &cose, &diag);
}

static void parse_refuses_bad_structure(void **state)
{
    teep_key_t key;
    uint8_t buf[256];
    size_t len = signed_sample(&key, buf, sizeof(buf));
    assert_int_equal(buf[0], 0xd2);
    assert_int_equal(buf[1], 0x84);

    assert_int_equal(parse_rc(buf + 1, len - 1), TEEP_E_COSE); /* untagged */
    buf[0] = 0xd1;                                             /* COSE_Mac0 */
    assert_int_equal(parse_rc(buf, len), TEEP_E_COSE);
    buf[0] = 0xd2;
    buf[1] = 0x83;
    assert_int_equal(parse_rc(buf, len), TEEP_E_COSE);
    buf[1] = 0x85;
    assert_int_equal(parse_rc(buf, len), TEEP_E_COSE);
    buf[1] = 0x84;
    for (size_t n = 0; n < len; n++)
        assert_int_not_equal(parse_rc(buf, n), 0);
    assert_int_equal(parse_rc(buf, len - 1), TEEP_E_TRUNCATED);
    buf[len] = 0x00;
    assert_int_equal(parse_rc(buf, len + 1), TEEP_E_TRAILING);
    assert_int_equal(parse_rc(buf, len), 0);

    /* Tag 98 on a Sign1 body: the signatures element is a bstr. */
    uint8_t sign[258] = {0xd8, 0x62};
    memcpy(sign + 2, buf + 1, len - 1);
    assert_int_equal(parse_rc(sign, len + 1), TEEP_E_TYPE);
    teep_key_clear(&key);
}

/* A COSE_Sign1 with hand-made headers and a dummy signature. */
static size_t build_sign1(uint8_t *out, size_t cap, const uint8_t *prot,
                          size_t prot_len, const uint8_t *unprot,
                          size_t unprot_len)
{
    static const uint8_t sig[64];
    tp_cbor_writer_t w;
    tp_cw_init(&w, out, cap);
    tp_cw_tag(&w, 18);
    tp_cw_array(&w, 4);
    tp_cw_bstr(&w, prot, prot_len);
    tp_cw_raw(&w, unprot, unprot_len);
    tp_cw_null(&w);
    tp_cw_bstr(&w, sig, sizeof(sig));
    assert_int_equal(tp_cw_result(&w), 0);
    return w.len;
}

static void parse_header_rules(void **state)
{
    static const struct {
        uint8_t prot[16];
        size_t prot_len;
        uint8_t unprot[16];
        size_t unprot_len;
        int rc;
    } cases[] = {
        /* {1: -9}, {} */
        {{0xa1, 0x01, 0x28}, 3, {0xa0}, 1, 0},
        /* {1: -9, 3: 0, 4: h'01', 5: h'02'} (all understood) */
        {{0xa4, 0x01, 0x28, 0x03, 0x00, 0x04, 0x41, 0x01, 0x05, 0x41, 0x02},
         11,
         {0xa0},
         1,
         0},
        /* {1: -9, 2: [4]}, crit naming kid */
        {{0xa2, 0x01, 0x28, 0x02, 0x81, 0x04}, 6, {0xa0}, 1, 0},
        /* unknown protected parameter 99 */
        {{0xa2, 0x01, 0x28, 0x18, 0x63, 0x00}, 6, {0xa0}, 1, TEEP_E_COSE},
        /* unknown protected parameter "x" */
        {{0xa2, 0x01, 0x28, 0x61, 0x78, 0x00}, 6, {0xa0}, 1, TEEP_E_COSE},
        /* crit naming an unknown parameter */
        {{0xa2, 0x01, 0x28, 0x02, 0x81, 0x18, 0x63}, 7, {0xa0}, 1, TEEP_E_COSE},
        /* empty crit */
        {{0xa2, 0x01, 0x28, 0x02, 0x80}, 5, {0xa0}, 1, TEEP_E_COSE},
        /* no alg */
        {{0}, 0, {0xa0}, 1, TEEP_E_MISSING},
        /* alg twice (non-preferred encoding of label 1 the second time) */
        {{0xa2, 0x01, 0x28, 0x18, 0x01, 0x28}, 6, {0xa0}, 1, TEEP_E_DUPLICATE},
        /* alg only unprotected */
        {{0}, 0, {0xa1, 0x01, 0x28}, 3, TEEP_E_COSE},
        /* kid in both buckets */
        {{0xa2, 0x01, 0x28, 0x04, 0x40},
         5,
         {0xa1, 0x04, 0x40},
         3,
         TEEP_E_DUPLICATE},
        /* unknown unprotected parameters are skipped, but not twice */
        {{0xa1, 0x01, 0x28}, 3, {0xa1, 0x18, 0x63, 0x81, 0x00}, 5, 0},
        {{0xa1, 0x01, 0x28},
         3,
         {0xa2, 0x20, 0x00, 0x20, 0x01},
         5,
         TEEP_E_DUPLICATE},
        /* crit must be protected */
        {{0xa1, 0x01, 0x28}, 3, {0xa1, 0x02, 0x81, 0x01}, 4, TEEP_E_COSE},
        /* kid must be a bstr */
        {{0xa1, 0x01, 0x28}, 3, {0xa1, 0x04, 0x61, 0x78}, 4, TEEP_E_TYPE},
        /* protected bstr with trailing bytes after the map */
        {{0xa1, 0x01, 0x28, 0x00}, 4, {0xa0}, 1, TEEP_E_TRAILING},
        /* protected bstr not holding a map */
        {{0x81, 0x01}, 2, {0xa0}, 1, TEEP_E_TYPE},
        /* label of a wrong type */
        {{0xa1, 0x01, 0x28}, 3, {0xa1, 0x40, 0x00}, 3, TEEP_E_TYPE},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t buf[128];
        size_t len =
            build_sign1(buf, sizeof(buf), cases[i].prot, cases[i].prot_len,
                        cases[i].unprot, cases[i].unprot_len);
        int rc = parse_rc(buf, len);
        if (rc != cases[i].rc)
            print_error("case %zu: %s\n", i, teep_strerror(rc));
        assert_int_equal(rc, cases[i].rc);
    }
}

/* A COSE_Sign with n dummy signatures. */
static int parse_rc_many(size_t n)
{
    static const uint8_t sig[64];
    static const uint8_t prot[] = {0xa1, 0x01, 0x28};
    uint8_t buf[2048];
    tp_cbor_writer_t w;
    tp_cw_init(&w, buf, sizeof(buf));
    tp_cw_tag(&w, 98);
    tp_cw_array(&w, 4);
    tp_cw_bstr(&w, NULL, 0);
    tp_cw_map(&w, 0);
    tp_cw_bstr(&w, prot, 0);
    tp_cw_array(&w, n);
    for (size_t i = 0; i < n; i++) {
        tp_cw_array(&w, 3);
        tp_cw_bstr(&w, prot, sizeof(prot));
        tp_cw_map(&w, 0);
        tp_cw_bstr(&w, sig, sizeof(sig));
    }
    assert_int_equal(tp_cw_result(&w), 0);
    return parse_rc(buf, w.len);
}

/* COSE_Sign with several signers: each key verifies its own signature. */
static void multi_signer(void **state)
{
    teep_key_t keys[4];
    size_t n = 0;
    load_key(&keys[n++], TAM_PRIV);
    load_key(&keys[n++], "libteep_teep_agent_es256_cose_key_private.hex");
    if (has_ed25519())
        load_key(&keys[n++], ED_PRIV);
    assert_int_equal(teep_key_generate(&keys[n++], TEEP_KEY_P256), 0);
    teep_signer_t signers[4];
    for (size_t i = 0; i < n; i++)
        signers[i] = (teep_signer_t){&keys[i], 0};
    signers[1].alg = TEEP_ALG_ES256;

    static const uint8_t payload[] = {0x83, 0x01, 0xa0, 0x80};
    uint8_t out[1024];
    size_t len = 0;
    assert_int_equal(
        teep_cose_sign(signers, n, payload, sizeof(payload), out, 10, &len),
        -ENOSPC);
    size_t need = len;
    assert_int_equal(
        teep_cose_sign(signers, n, payload, sizeof(payload), out, need, &len),
        0);
    assert_int_equal(len, need);
    teep_cose_t cose;
    assert_int_equal(teep_cose_parse(out, len, &cose, NULL), 0);
    assert_int_equal(cose.tag, 98);
    assert_int_equal(cose.n_signatures, n);
    assert_int_equal(cose.signatures[1].alg, TEEP_ALG_ES256);
    for (size_t i = 0; i < n; i++) {
        assert_memory_equal(cose.signatures[i].kid.ptr, keys[i].kid, 32);
        assert_int_equal(teep_cose_verify(&cose, &keys[i], NULL, 0), 0);
    }
    teep_key_t stranger;
    load_key(&stranger, VERIFIER_PUB);
    assert_int_equal(teep_cose_verify(&cose, &stranger, NULL, 0),
                     TEEP_E_SIGNATURE);
    teep_key_clear(&stranger);

    /* One signer still makes a COSE_Sign; 0 or too many are refused. */
    assert_int_equal(teep_cose_sign(signers, 1, payload, sizeof(payload), out,
                                    sizeof(out), &len),
                     0);
    assert_int_equal(out[0], 0xd8);
    assert_int_equal(out[1], 98);
    assert_int_equal(teep_cose_sign(signers, 0, payload, sizeof(payload), out,
                                    sizeof(out), &len),
                     -EINVAL);
    teep_signer_t many[TEEP_COSE_MAX_SIGNERS + 1];
    for (size_t i = 0; i < TEEP_COSE_MAX_SIGNERS + 1; i++)
        many[i] = signers[0];
    assert_int_equal(teep_cose_sign(many, TEEP_COSE_MAX_SIGNERS, payload,
                                    sizeof(payload), out, sizeof(out), &len),
                     0);
    assert_int_equal(teep_cose_parse(out, len, &cose, NULL), 0);
    assert_int_equal(cose.n_signatures, TEEP_COSE_MAX_SIGNERS);
    assert_int_equal(teep_cose_sign(many, TEEP_COSE_MAX_SIGNERS + 1, payload,
                                    sizeof(payload), out, sizeof(out), &len),
                     -EINVAL);
    /* The parser holds at most TEEP_COSE_MAX_SIGNERS signatures. */
    assert_int_equal(parse_rc_many(TEEP_COSE_MAX_SIGNERS + 1), TEEP_E_LIMIT);
    assert_int_equal(parse_rc_many(0), TEEP_E_COSE);
    for (size_t i = 0; i < n; i++)
        teep_key_clear(&keys[i]);
}

static void sign_refuses_bad_signers(void **state)
{
    teep_key_t priv, pub;
    load_key(&priv, TAM_PRIV);
    load_key(&pub, TAM_PUB);
    uint8_t out[256];
    size_t len = 0;
    static const uint8_t payload[] = {0x01};
    teep_signer_t s = {&pub, 0};
    assert_int_equal(teep_cose_sign1(&s, payload, 1, out, sizeof(out), &len),
                     TEEP_E_KEY);
    s = (teep_signer_t){&priv, TEEP_ALG_ED25519};
    assert_int_equal(teep_cose_sign1(&s, payload, 1, out, sizeof(out), &len),
                     TEEP_E_ALG);
    s = (teep_signer_t){&priv, -35}; /* ES384 */
    assert_int_equal(teep_cose_sign1(&s, payload, 1, out, sizeof(out), &len),
                     TEEP_E_ALG);
    s = (teep_signer_t){&priv, 0};
    assert_int_equal(teep_cose_sign1(&s, payload, 1, out, 20, &len), -ENOSPC);
    size_t need = len;
    assert_int_equal(teep_cose_sign1(&s, payload, 1, out, need, &len), 0);
    assert_int_equal(len, need);

    /* Payload attached and also given as detached: refused. */
    teep_cose_t cose;
    assert_int_equal(teep_cose_parse(out, len, &cose, NULL), 0);
    assert_int_equal(teep_cose_verify(&cose, &pub, payload, 1), TEEP_E_COSE);

    /* Ed25519 keys on mbedtls, and the right type with the wrong alg. */
    teep_key_t ed;
    load_key(&ed, ED_PRIV);
    s = (teep_signer_t){&ed, 0};
    assert_int_equal(teep_cose_sign1(&s, payload, 1, out, sizeof(out), &len),
                     has_ed25519() ? 0 : TEEP_E_ALG);
    s = (teep_signer_t){&ed, TEEP_ALG_ESP256};
    assert_int_equal(teep_cose_sign1(&s, payload, 1, out, sizeof(out), &len),
                     TEEP_E_ALG);
    teep_key_clear(&ed);
    teep_key_clear(&priv);
    teep_key_clear(&pub);
}

/* A payload larger than the stack Sig_structure buffer. */
static void large_payload(void **state)
{
    teep_key_t key;
    load_key(&key, TAM_PRIV);
    size_t plen = 70000, cap = plen + 200, len;
    uint8_t *payload = malloc(plen), *out = malloc(cap);
    assert_int_equal(teep_random(payload, plen), 0);
    teep_signer_t s = {&key, 0};
    assert_int_equal(teep_cose_sign1(&s, payload, plen, out, cap, &len), 0);
    assert_int_equal(parse_verify(out, len, &key), 0);
    out[len / 2] ^= 0x80;
    assert_int_equal(parse_verify(out, len, &key), TEEP_E_SIGNATURE);
    free(payload);
    free(out);
    teep_key_clear(&key);
}

static int cose_key_rc(const char *hex)
{
    uint8_t buf[256];
    size_t n = strlen(hex) / 2;
    hex_to_bytes(hex, buf, n);
    teep_key_t key;
    int rc = teep_key_from_cose(&key, buf, n);
    teep_key_clear(&key);
    return rc;
}

#define X32                                                                    \
    "5820D75A980182B10AB7D54BFED3C964073A0EE172F3DAA62325AF021A68F707511A"
#define TAM_X                                                                  \
    "58200E908AA8F066DB1F084E0C3652C63952BD99F2A5BDB22F9E01367AAD03ABA68B"
#define TAM_Y                                                                  \
    "582077DA1BD8AC4F0CB490BA210648BF79AB164D49AD3551D71D314B2749EE42D29A"
#define TAM_D                                                                  \
    "5820841AEBB7B9EA6F0260BE7355A24588B977D23D2AC5BF2B6B2D8379432A1FEA98"
#define AGENT_D                                                                \
    "582060FE6DD6D85D5740A5349B6F91267EEAC5BA81B8CB53EE249E4B4EB102C476B3"

static void keys_refuse_bad_input(void **state)
{
    /* The TAM key, then variations. */
    assert_int_equal(cose_key_rc("A40102200121" TAM_X "22" TAM_Y), 0);
    /* d alone: the public part is derived */
    assert_int_equal(cose_key_rc("A30102200123" TAM_D), 0);
    /* y off the curve */
    assert_int_equal(cose_key_rc("A40102200121" TAM_X "22"
                                 "582077DA1BD8AC4F0CB490BA210648"
                                 "BF79AB164D49AD3551D71D314B2749EE42D29B"),
                     TEEP_E_KEY);
    /* d of another key */
    assert_int_equal(cose_key_rc("A50102200121" TAM_X "22" TAM_Y "23" AGENT_D),
                     TEEP_E_KEY);
    /* d = 0 */
    assert_int_equal(cose_key_rc("A30102200123582000000000000000000000000000"
                                 "00000000000000000000000000000000000000"),
                     TEEP_E_KEY);
    /* P-384, RSA */
    assert_int_equal(cose_key_rc("A40102200221" TAM_X "22" TAM_Y), TEEP_E_ALG);
    assert_int_equal(cose_key_rc("A20103200121" TAM_X), TEEP_E_ALG);
    /* no kty; x without y; y on an OKP key; short x; x twice */
    assert_int_equal(cose_key_rc("A3200121" TAM_X "22" TAM_Y), TEEP_E_MISSING);
    assert_int_equal(cose_key_rc("A30102200121" TAM_X), TEEP_E_KEY);
    assert_int_equal(cose_key_rc("A40101200621" X32 "22" X32), TEEP_E_KEY);
    assert_int_equal(cose_key_rc("A3010120062141AA"), TEEP_E_KEY);
    assert_int_equal(cose_key_rc("A40101200621" X32 "21" X32),
                     TEEP_E_DUPLICATE);
    /* kid, alg and text labels are skipped; trailing bytes are not */
    assert_int_equal(cose_key_rc("A6010102414B03276161F5200621" X32), 0);
    assert_int_equal(cose_key_rc("A30101200621" X32 "00"), TEEP_E_TRAILING);

    /* Neither PEM, COSE_Key nor hex. */
    teep_key_t key;
    assert_int_equal(teep_key_load(&key, (const uint8_t *)"hello", 5),
                     TEEP_E_KEY);
    static const char params_only[] = "-----BEGIN EC PARAMETERS-----\n"
                                      "BggqhkjOPQMBBw==\n"
                                      "-----END EC PARAMETERS-----\n";
    assert_int_equal(teep_key_load(&key, (const uint8_t *)params_only,
                                   sizeof(params_only) - 1),
                     TEEP_E_KEY);
    static const char garbage[] = "-----BEGIN PUBLIC KEY-----\n"
                                  "AAAA\n"
                                  "-----END PUBLIC KEY-----\n";
    assert_int_equal(
        teep_key_load(&key, (const uint8_t *)garbage, sizeof(garbage) - 1),
        TEEP_E_KEY);
    char path[512];
    snprintf(path, sizeof(path), "%s/no-such-key", TEEP_VECTORS_DIR);
    assert_int_equal(teep_key_load_file(&key, path), -ENOENT);
}

static void clear_wipes(void **state)
{
    teep_key_t key;
    load_key(&key, TAM_PRIV);
    int marker;
    key.data = &marker;
    teep_key_clear(&key);
    static const uint8_t zero[32];
    assert_memory_equal(key.d, zero, 32);
    assert_memory_equal(key.x, zero, 32);
    assert_false(key.has_private);
    assert_null(key.native);
    assert_ptr_equal(key.data, &marker);
    teep_key_clear(&key); /* twice is fine */
}

static void hash_and_random(void **state)
{
    uint8_t digest[32], want[32];
    hex_to_bytes("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F2"
                 "0015AD",
                 want, 32);
    assert_int_equal(teep_sha256((const uint8_t *)"abc", 3, digest), 0);
    assert_memory_equal(digest, want, 32);
    uint8_t a[32] = {0}, b[32] = {0};
    assert_int_equal(teep_random(a, sizeof(a)), 0);
    assert_int_equal(teep_random(b, sizeof(b)), 0);
    assert_memory_not_equal(a, b, sizeof(a));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_signed_vector_verifies),
        cmocka_unit_test(signed_vectors_refuse_other_keys),
        cmocka_unit_test(vector_structure),
        cmocka_unit_test(deterministic_ecdsa_reproduces_vectors),
        cmocka_unit_test(suit_detached_payload),
        cmocka_unit_test(keys_load_every_format),
        cmocka_unit_test(pem_output_matches_files),
        cmocka_unit_test(keys_round_trip),
        cmocka_unit_test(generate_sign_verify),
        cmocka_unit_test(ed25519_known_answer),
        cmocka_unit_test(tampering_fails),
        cmocka_unit_test(parse_refuses_bad_structure),
        cmocka_unit_test(parse_header_rules),
        cmocka_unit_test(multi_signer),
        cmocka_unit_test(sign_refuses_bad_signers),
        cmocka_unit_test(large_payload),
        cmocka_unit_test(keys_refuse_bad_input),
        cmocka_unit_test(clear_wipes),
        cmocka_unit_test(hash_and_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
