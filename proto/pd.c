/*
 * pd.c: the crypto side of teep/pd.h: ECDH-ES to the TEE's key, the
 * COSE_KDF_Context and HKDF, AES key wrap, and the content cipher with
 * its Enc_structure.  The CBOR is pd_info.c's; the primitives are the
 * backend's (crypto.h).
 */
#include <errno.h>
#include <string.h>

#include "cbor_writer.h"
#include "pd_internal.h"

/* AlgorithmID of the KDF context when the derived key is a KEK for
 * A128KW (RFC 9053 section 6.2.1). */
#define COSE_ALG_A128KW -3
/* The KDF context: fixed parts (about 20 bytes), the recipient's
 * protected header and SuppPubInfo.other. */
#define KDF_CONTEXT_MAX (PD_PROTECTED_MAX + 64)
/* Enc_structure: array head, "Encrypt", the protected bstr, h''. */
#define ENC_STRUCTURE_MAX (PD_PROTECTED_MAX + 16)
/* The longest content key (ChaCha20) and its wrapped form. */
#define CEK_MAX     32
#define WRAPPED_MAX (CEK_MAX + 8)
#define IV_MAX      16
#define TAG_LEN     16

/* SuppPubInfo.other for SUIT payloads (suit-firmware-encryption: a byte
 * string; the text string would not decrypt the published examples). */
static const uint8_t kdf_other[] = {'S', 'U', 'I', 'T', ' ', 'P', 'a', 'y',
                                    'l', 'o', 'a', 'd', ' ', 'E', 'n', 'c',
                                    'r', 'y', 'p', 't', 'i', 'o', 'n'};

static const pd_content_alg_t content_algs[] = {
    {TEEP_PD_ALG_A128GCM, "A128GCM", TP_CIPHER_AES128_GCM, 16, 12, TAG_LEN},
    {TEEP_PD_ALG_A128CTR, "A128CTR", TP_CIPHER_AES128_CTR, 16, 16, 0},
    {TEEP_PD_ALG_CHACHA20_POLY1305, "ChaCha20/Poly1305",
     TP_CIPHER_CHACHA20_POLY1305, 32, 12, TAG_LEN},
};

const pd_content_alg_t *pd__content_alg(int64_t alg)
{
    for (size_t i = 0; i < sizeof(content_algs) / sizeof(content_algs[0]); i++)
        if (content_algs[i].alg == alg)
            return &content_algs[i];
    return NULL;
}

bool pd__key_alg_supported(int64_t alg)
{
    return alg == TEEP_PD_ALG_ECDH_ES_A128KW ||
           alg == TEEP_PD_ALG_ECDH_ES_HKDF_256;
}

/* SUIT profile arrays [digest, signing, key distribution, content]
 * (suit-mti): -16 SHA-256, -9 ESP256, -19 Ed25519. */
static const teep_pd_profile_t profiles[] = {
    {"esp256-a128kw-a128gcm",
     "suit-sha256-esp256-ecdh-a128gcm",
     {-16, -9, TEEP_PD_ALG_ECDH_ES_A128KW, TEEP_PD_ALG_A128GCM},
     TEEP_KEY_P256,
     TEEP_PD_ALG_ECDH_ES_A128KW,
     TEEP_PD_ALG_A128GCM},
    {"esp256-a128kw-a128ctr",
     "suit-sha256-esp256-ecdh-a128ctr",
     {-16, -9, TEEP_PD_ALG_ECDH_ES_A128KW, TEEP_PD_ALG_A128CTR},
     TEEP_KEY_P256,
     TEEP_PD_ALG_ECDH_ES_A128KW,
     TEEP_PD_ALG_A128CTR},
    {"x25519-a128kw-a128ctr",
     "suit-sha256-ed25519-ecdh-a128ctr",
     {-16, -19, TEEP_PD_ALG_ECDH_ES_A128KW, TEEP_PD_ALG_A128CTR},
     TEEP_KEY_X25519,
     TEEP_PD_ALG_ECDH_ES_A128KW,
     TEEP_PD_ALG_A128CTR},
    {"x25519-a128kw-chachapoly",
     "suit-sha256-ed25519-ecdh-chacha-poly",
     {-16, -19, TEEP_PD_ALG_ECDH_ES_A128KW, TEEP_PD_ALG_CHACHA20_POLY1305},
     TEEP_KEY_X25519,
     TEEP_PD_ALG_ECDH_ES_A128KW,
     TEEP_PD_ALG_CHACHA20_POLY1305},
    {"esp256-hkdf-a128gcm",
     NULL,
     {0, 0, 0, 0},
     TEEP_KEY_P256,
     TEEP_PD_ALG_ECDH_ES_HKDF_256,
     TEEP_PD_ALG_A128GCM},
    {"x25519-hkdf-chachapoly",
     NULL,
     {0, 0, 0, 0},
     TEEP_KEY_X25519,
     TEEP_PD_ALG_ECDH_ES_HKDF_256,
     TEEP_PD_ALG_CHACHA20_POLY1305},
};

/* The profile table (static storage); *count receives its length. */
const teep_pd_profile_t *teep_pd_profiles(size_t *count)
{
    *count = sizeof(profiles) / sizeof(profiles[0]);
    return profiles;
}

/* The profile whose name or SUIT name is name, or NULL. */
const teep_pd_profile_t *teep_pd_profile_find(const char *name)
{
    for (size_t i = 0; name != NULL && i < sizeof(profiles) / sizeof(*profiles);
         i++)
        if (strcmp(profiles[i].name, name) == 0 ||
            (profiles[i].suit_name != NULL &&
             strcmp(profiles[i].suit_name, name) == 0))
            return &profiles[i];
    return NULL;
}

/* "A128GCM", "ECDH-ES+A128KW" ...; "unknown" for anything else. */
const char *teep_pd_alg_name(int64_t alg)
{
    if (alg == TEEP_PD_ALG_ECDH_ES_A128KW)
        return "ECDH-ES+A128KW";
    if (alg == TEEP_PD_ALG_ECDH_ES_HKDF_256)
        return "ECDH-ES+HKDF-256";
    const pd_content_alg_t *c = pd__content_alg(alg);
    return c != NULL ? c->name : "unknown";
}

/* COSE_KDF_Context (RFC 9053 section 5.2) as SUIT fixes it: no party
 * info, keyDataLength in bits, the recipient's protected header, and
 * 'SUIT Payload Encryption' as a byte string. */
static void write_kdf_context(tp_cbor_writer_t *w, int64_t alg_id,
                              size_t key_len, teep_slice_t recipient_prot)
{
    tp_cw_array(w, 4);
    tp_cw_int(w, alg_id);
    for (int party = 0; party < 2; party++) {
        tp_cw_array(w, 3);
        tp_cw_null(w);
        tp_cw_null(w);
        tp_cw_null(w);
    }
    tp_cw_array(w, 3);
    tp_cw_uint(w, key_len * 8);
    tp_cw_bstr(w, recipient_prot.ptr, recipient_prot.len);
    tp_cw_bstr(w, kdf_other, sizeof(kdf_other));
}

/*
 * The key the recipient layer yields from the shared secret z: with key
 * wrap (-29) the 16-byte KEK for A128KW, direct (-25) the CEK itself,
 * whose algorithm the context then names.  HKDF-SHA-256 without salt.
 */
static int derive_layer_key(const uint8_t z[32], int64_t key_alg,
                            const pd_content_alg_t *c,
                            teep_slice_t recipient_prot, uint8_t *out)
{
    bool wrap = key_alg == TEEP_PD_ALG_ECDH_ES_A128KW;
    size_t len = wrap ? 16 : c->key_len;
    uint8_t context[KDF_CONTEXT_MAX];
    tp_cbor_writer_t w;
    tp_cw_init(&w, context, sizeof(context));
    write_kdf_context(&w, wrap ? COSE_ALG_A128KW : c->alg, len, recipient_prot);
    int rc = tp_cw_result(&w);
    if (rc == 0)
        rc = tp_crypto_hkdf_sha256(NULL, 0, z, 32, context, w.len, out, len);
    return rc;
}

/* ECDH, refusing the all-zero X25519 secret a low-order point gives
 * (RFC 7748 section 6.1): a sender could otherwise force a known key. */
static int agree(const teep_key_t *priv, const teep_key_t *peer, uint8_t z[32])
{
    int rc = tp_crypto_ecdh(priv, peer, z);
    if (rc != 0)
        return rc;
    uint8_t any = 0;
    for (size_t i = 0; i < 32; i++)
        any |= z[i];
    if (any == 0) {
        tp_crypto_wipe(z, 32);
        return TEEP_E_KEY;
    }
    return 0;
}

/*
 * The content cipher: len bytes of plaintext (encrypt) or of ciphertext
 * without its tag (decrypt) from in to out; the tag follows the
 * ciphertext (written after out[len) or read after in[len)).  The AEADs
 * authenticate Enc_structure ["Encrypt", protected, h''] (RFC 9052
 * section 5.3).
 */
static int content_cipher(const pd_content_alg_t *c, bool encrypt,
                          const uint8_t *cek, teep_slice_t iv,
                          teep_slice_t prot, const uint8_t *in, size_t len,
                          uint8_t *out)
{
    static const char context[] = "Encrypt";
    uint8_t aad[ENC_STRUCTURE_MAX];
    uint8_t tag[TAG_LEN];
    tp_cbor_writer_t w;
    tp_cw_init(&w, aad, sizeof(aad));
    if (c->tag_len > 0) {
        tp_cw_array(&w, 3);
        tp_cw_tstr(&w, context, sizeof(context) - 1);
        tp_cw_bstr(&w, prot.ptr, prot.len);
        tp_cw_bstr(&w, NULL, 0); /* external_aad: SUIT has none */
        /* A copy: decrypting in place must not read a tag it overwrote. */
        if (!encrypt)
            memcpy(tag, in + len, TAG_LEN);
    }
    int rc = tp_cw_result(&w);
    if (rc == 0)
        rc = tp_crypto_cipher(c->cipher, encrypt, cek, iv.ptr, aad, w.len, in,
                              len, out, c->tag_len > 0 ? tag : NULL);
    if (rc == 0 && encrypt && c->tag_len > 0)
        memcpy(out + len, tag, TAG_LEN);
    return rc;
}

/* What teep_pd_encrypt will do, from its arguments. */
typedef struct plan {
    const pd_content_alg_t *content;
    int64_t key_alg;
    teep_slice_t kid;
} plan_t;

static int make_plan(const teep_key_t *recipient,
                     const teep_pd_params_t *params, plan_t *p)
{
    teep_pd_params_t defaults = {0};
    if (params == NULL)
        params = &defaults;
    if (recipient->type != TEEP_KEY_P256 && recipient->type != TEEP_KEY_X25519)
        return TEEP_E_KEY;
    p->key_alg =
        params->key_alg != 0 ? params->key_alg : TEEP_PD_ALG_ECDH_ES_A128KW;
    int64_t content = params->content_alg;
    if (content == 0)
        content = recipient->type == TEEP_KEY_P256
                      ? TEEP_PD_ALG_A128GCM
                      : TEEP_PD_ALG_CHACHA20_POLY1305;
    p->content = pd__content_alg(content);
    p->kid = params->kid;
    if (p->kid.len > TEEP_PD_KID_MAX || (p->kid.ptr == NULL && p->kid.len > 0))
        return -EINVAL;
    if (p->content == NULL || !pd__key_alg_supported(p->key_alg) ||
        (p->key_alg == TEEP_PD_ALG_ECDH_ES_HKDF_256 &&
         p->content->tag_len == 0))
        return TEEP_E_ALG;
    return 0;
}

/* The fields of the SUIT_Encryption_Info a plan makes; the pointers are
 * filled in by the caller (counting needs none). */
static pd_info_fields_t plan_fields(const plan_t *p, const teep_key_t *eph)
{
    return (pd_info_fields_t){
        .content = p->content,
        .key_alg = p->key_alg,
        .ephemeral = eph,
        .kid = p->kid,
        .wrapped_len = p->key_alg == TEEP_PD_ALG_ECDH_ES_A128KW
                           ? p->content->key_len + 8
                           : 0,
    };
}

/* The sizes the outputs of a plan take. */
static int plan_sizes(const plan_t *p, teep_key_type_t type, size_t len,
                      size_t *info_len, size_t *ct_len)
{
    teep_key_t shape = {.type = type};
    pd_info_fields_t f = plan_fields(p, &shape);
    *ct_len = len + p->content->tag_len;
    int rc = pd__info_encode(&f, NULL, 0, info_len);
    return rc == -ENOSPC ? 0 : rc;
}

/* The recipient layer, sender side: the CEK and, with key wrap, its
 * wrapped form in wrapped[0..f->wrapped_len). */
static int seal_cek(const teep_key_t *recipient, const teep_key_t *eph,
                    const pd_info_fields_t *f, uint8_t cek[CEK_MAX],
                    uint8_t wrapped[WRAPPED_MAX])
{
    uint8_t z[32], layer_key[CEK_MAX], rprot[PD_ALG_HEADER_MAX];
    teep_slice_t prot = {rprot, pd__alg_header(f->key_alg, rprot)};
    int rc = agree(eph, recipient, z);
    if (rc == 0)
        rc = derive_layer_key(z, f->key_alg, f->content, prot, layer_key);
    if (rc == 0 && f->wrapped_len == 0) {
        memcpy(cek, layer_key, f->content->key_len);
    } else if (rc == 0) {
        rc = tp_crypto_random(cek, f->content->key_len);
        if (rc == 0)
            rc = tp_crypto_aes_kw_wrap(layer_key, cek, f->content->key_len,
                                       wrapped);
    }
    tp_crypto_wipe(z, sizeof(z));
    tp_crypto_wipe(layer_key, sizeof(layer_key));
    return rc;
}

/* Encrypt with a plan whose output sizes the caller checked. */
static int seal(const teep_key_t *recipient, const plan_t *p,
                const uint8_t *plaintext, size_t len, uint8_t *info,
                size_t info_cap, size_t *info_len, uint8_t *ciphertext)
{
    teep_key_t eph;
    int rc = teep_key_generate(&eph, recipient->type);
    if (rc != 0)
        return rc;
    uint8_t cek[CEK_MAX], wrapped[WRAPPED_MAX], iv[IV_MAX];
    uint8_t prot[PD_ALG_HEADER_MAX];
    pd_info_fields_t f = plan_fields(p, &eph);
    f.iv = iv;
    f.wrapped_cek = wrapped;
    rc = seal_cek(recipient, &eph, &f, cek, wrapped);
    if (rc == 0)
        rc = tp_crypto_random(iv, p->content->iv_len);
    if (rc == 0)
        rc = pd__info_encode(&f, info, info_cap, info_len);
    if (rc == 0) {
        teep_slice_t iv_slice = {iv, p->content->iv_len};
        teep_slice_t prot_slice = {prot,
                                   pd__content_protected(p->content, prot)};
        rc = content_cipher(p->content, true, cek, iv_slice, prot_slice,
                            plaintext, len, ciphertext);
    }
    tp_crypto_wipe(cek, sizeof(cek));
    teep_key_clear(&eph);
    return rc;
}

/*
 * Encrypt plaintext[0..len) to recipient's public key (see teep/pd.h):
 * the SUIT_Encryption_Info into info, the ciphertext and tag into
 * ciphertext.  Returns 0, -EINVAL, -ENOSPC (both sizes set), TEEP_E_KEY,
 * TEEP_E_ALG, TEEP_E_CRYPTO.
 */
int teep_pd_encrypt(const teep_key_t *recipient, const teep_pd_params_t *params,
                    const uint8_t *plaintext, size_t len, uint8_t *info,
                    size_t info_cap, size_t *info_len, uint8_t *ciphertext,
                    size_t ct_cap, size_t *ct_len)
{
    if (recipient == NULL || info_len == NULL || ct_len == NULL ||
        (plaintext == NULL && len > 0) || (info == NULL && info_cap > 0) ||
        (ciphertext == NULL && ct_cap > 0))
        return -EINVAL;
    plan_t p;
    int rc = make_plan(recipient, params, &p);
    if (rc == 0)
        rc = plan_sizes(&p, recipient->type, len, info_len, ct_len);
    if (rc != 0)
        return rc;
    if (*info_len > info_cap || *ct_len > ct_cap)
        return -ENOSPC;
    rc = seal(recipient, &p, plaintext, len, info, info_cap, info_len,
              ciphertext);
    if (rc != 0) {
        if (info_cap > 0)
            tp_crypto_wipe(info, info_cap);
        if (ct_cap > 0)
            tp_crypto_wipe(ciphertext, ct_cap);
    }
    return rc;
}

/*
 * The same as one PD blob [bstr info, bstr ciphertext] in out[0..cap):
 * the sizes are known before anything is encrypted, so both parts are
 * written in place behind their heads.
 */
int teep_pd_encrypt_blob(const teep_key_t *recipient,
                         const teep_pd_params_t *params,
                         const uint8_t *plaintext, size_t len, uint8_t *out,
                         size_t cap, size_t *out_len)
{
    if (recipient == NULL || out_len == NULL || (out == NULL && cap > 0) ||
        (plaintext == NULL && len > 0))
        return -EINVAL;
    plan_t p;
    size_t info_len, ct_len;
    int rc = make_plan(recipient, params, &p);
    if (rc == 0)
        rc = plan_sizes(&p, recipient->type, len, &info_len, &ct_len);
    if (rc != 0)
        return rc;
    size_t info_at = 1 + tp_cw_head_size(info_len);
    size_t ct_at = info_at + info_len + tp_cw_head_size(ct_len);
    *out_len = ct_at + ct_len;
    if (*out_len > cap)
        return -ENOSPC;
    rc = seal(recipient, &p, plaintext, len, out + info_at, info_len, &info_len,
              out + ct_at);
    if (rc != 0) {
        tp_crypto_wipe(out, cap);
        return rc;
    }
    tp_cbor_writer_t heads, ct_head;
    tp_cw_init(&heads, out, info_at);
    tp_cw_array(&heads, 2);
    tp_cw_bstr_head(&heads, info_len);
    tp_cw_init(&ct_head, out + info_at + info_len, ct_at - info_at - info_len);
    tp_cw_bstr_head(&ct_head, ct_len);
    rc = tp_cw_result(&heads);
    return rc != 0 ? rc : tp_cw_result(&ct_head);
}

/* The recipient layer, receiving side: the CEK from one recipient.
 * TEEP_E_DECRYPT when the wrapped CEK does not unwrap (not for this key,
 * or altered). */
static int open_cek(const teep_key_t *key, const pd_content_alg_t *c,
                    const teep_pd_recipient_t *r, uint8_t cek[CEK_MAX])
{
    teep_key_t eph = {.type = r->ephemeral_type};
    memcpy(eph.x, r->ephemeral_x, 32);
    memcpy(eph.y, r->ephemeral_y, 32);
    uint8_t z[32], layer_key[CEK_MAX];
    int rc = agree(key, &eph, z);
    if (rc == 0)
        rc = derive_layer_key(z, r->key_alg, c, r->protected_hdr, layer_key);
    if (rc == 0 && r->key_alg == TEEP_PD_ALG_ECDH_ES_HKDF_256)
        memcpy(cek, layer_key, c->key_len);
    else if (rc == 0)
        rc = tp_crypto_aes_kw_unwrap(layer_key, r->wrapped_cek.ptr,
                                     r->wrapped_cek.len, cek);
    tp_crypto_wipe(z, sizeof(z));
    tp_crypto_wipe(layer_key, sizeof(layer_key));
    return rc;
}

/* The CEK from the recipient meant for key: those naming its kid first,
 * then the others of its type.  A wrapped CEK that does not unwrap
 * outranks "no recipient for this key". */
static int find_cek(const teep_key_t *key, const teep_pd_info_t *info,
                    const pd_content_alg_t *c, uint8_t cek[CEK_MAX],
                    teep_diag_t *diag)
{
    int result = TEEP_E_KEY;
    bool tried = false;
    size_t at = info->n_recipients > 0 ? info->recipients[0].offset : 0;
    for (int kid_pass = 1; kid_pass >= 0; kid_pass--) {
        for (size_t i = 0; i < info->n_recipients; i++) {
            const teep_pd_recipient_t *r = &info->recipients[i];
            bool named = r->kid.len == sizeof(key->kid) &&
                         memcmp(r->kid.ptr, key->kid, sizeof(key->kid)) == 0;
            if (named != (kid_pass == 1) || r->ephemeral_type != key->type)
                continue;
            int rc = open_cek(key, c, r, cek);
            if (rc == 0)
                return 0;
            if (rc == TEEP_E_DECRYPT || !tried || result == TEEP_E_KEY) {
                result = rc;
                at = r->offset;
            }
            tried = true;
        }
    }
    if (!tried)
        return teep_diag_set(diag, TEEP_E_KEY, at,
                             "no recipient for a key of this type");
    return teep_diag_set(diag, result, at, "recipient: %s",
                         result == TEEP_E_DECRYPT
                             ? "the CEK does not unwrap: not encrypted to "
                               "this key, or altered"
                             : teep_strerror(result));
}

/* Decrypt with a parsed info; diag offsets for the ciphertext are
 * ct_offset. */
static int open_info(const teep_key_t *key, const teep_pd_info_t *info,
                     teep_slice_t ciphertext, size_t ct_offset, uint8_t *out,
                     size_t cap, size_t *out_len, teep_diag_t *diag)
{
    if (!key->has_private)
        return teep_diag_set(diag, TEEP_E_KEY, 0,
                             "decryption needs the private key");
    if (info->ciphertext.ptr != NULL && ciphertext.ptr != NULL)
        return teep_diag_set(diag, TEEP_E_COSE, 0,
                             "ciphertext both attached and given");
    if (info->ciphertext.ptr == NULL && ciphertext.ptr == NULL)
        return teep_diag_set(diag, TEEP_E_MISSING, 0,
                             "detached ciphertext (nil) and none given");
    if (info->ciphertext.ptr != NULL)
        ciphertext = info->ciphertext;
    const pd_content_alg_t *c = pd__content_alg(info->content_alg);
    if (c == NULL)
        return -EINVAL;
    if (ciphertext.len < c->tag_len)
        return teep_diag_set(diag, TEEP_E_TRUNCATED, ct_offset,
                             "ciphertext of %zu bytes, shorter than the %s "
                             "tag",
                             ciphertext.len, c->name);
    *out_len = ciphertext.len - c->tag_len;
    if (*out_len > cap)
        return teep_diag_set(diag, -ENOSPC, 0, "plaintext needs %zu bytes",
                             *out_len);
    if (out == NULL && *out_len > 0)
        return -EINVAL;

    uint8_t cek[CEK_MAX];
    int rc = find_cek(key, info, c, cek, diag);
    if (rc == 0) {
        rc = content_cipher(c, false, cek, info->iv, info->protected_hdr,
                            ciphertext.ptr, *out_len, out);
        if (rc == TEEP_E_DECRYPT)
            teep_diag_set(diag, rc, ct_offset,
                          "%s tag does not verify: wrong key or altered "
                          "data",
                          c->name);
        else if (rc != 0)
            teep_diag_set(diag, rc, ct_offset, "%s failed", c->name);
    }
    tp_crypto_wipe(cek, sizeof(cek));
    /* Whatever failed, no partial plaintext stays behind. */
    if (rc != 0 && *out_len > 0)
        tp_crypto_wipe(out, *out_len);
    return rc;
}

/*
 * Decrypt ciphertext (detached; empty when the info carries it) with the
 * TEE's private key and the SUIT_Encryption_Info (see teep/pd.h) into
 * out[0..cap).  Returns 0, a parse error, TEEP_E_MISSING, TEEP_E_COSE,
 * TEEP_E_TRUNCATED, -ENOSPC, TEEP_E_KEY, TEEP_E_DECRYPT, TEEP_E_CRYPTO.
 */
int teep_pd_decrypt(const teep_key_t *key, teep_slice_t encryption_info,
                    teep_slice_t ciphertext, uint8_t *out, size_t cap,
                    size_t *out_len, teep_diag_t *diag)
{
    if (key == NULL || encryption_info.ptr == NULL || out_len == NULL ||
        (ciphertext.ptr == NULL && ciphertext.len > 0))
        return -EINVAL;
    teep_pd_info_t info;
    int rc = pd__info_parse(encryption_info.ptr, 0, encryption_info.len, &info,
                            diag);
    if (rc != 0)
        return rc;
    return open_info(key, &info, ciphertext, 0, out, cap, out_len, diag);
}

/*
 * teep_pd_blob_parse then decrypt; diag offsets count from the blob.
 * Same return codes as teep_pd_decrypt.
 */
int teep_pd_decrypt_blob(const teep_key_t *key, const uint8_t *blob, size_t len,
                         uint8_t *out, size_t cap, size_t *out_len,
                         teep_diag_t *diag)
{
    if (key == NULL || blob == NULL || out_len == NULL)
        return -EINVAL;
    teep_slice_t info_bytes, ciphertext;
    int rc = teep_pd_blob_parse(blob, len, &info_bytes, &ciphertext, diag);
    if (rc != 0)
        return rc;
    size_t info_at = (size_t)(info_bytes.ptr - blob);
    teep_pd_info_t info;
    rc = pd__info_parse(blob, info_at, info_at + info_bytes.len, &info, diag);
    if (rc != 0)
        return rc;
    return open_info(key, &info, ciphertext, (size_t)(ciphertext.ptr - blob),
                     out, cap, out_len, diag);
}
