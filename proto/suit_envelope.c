/* suit_envelope.c: SUIT_Envelope decoding and authentication. */
#include <errno.h>
#include <string.h>

#include "suit_internal.h"

/* SUIT_Authentication = [bstr .cbor SUIT_Digest, * bstr .cbor block];
 * out: the envelope. */
static int parse_authentication(tp_cbor_reader_t *r, void *out)
{
    teep_suit_envelope_t *env = out;
    tp_cbor_item_t arr;
    int rc = tp_cbor_expect(r, TP_CBOR_ARRAY, &arr, "authentication wrapper");
    if (rc != 0)
        return rc;
    if (arr.u == 0)
        return tp_cbor_fail(r, TEEP_E_MISSING, arr.offset,
                            "authentication wrapper without digest");
    if (arr.u - 1 > TEEP_SUIT_MAX_AUTH_BLOCKS)
        return tp_cbor_fail(r, TEEP_E_LIMIT, arr.offset,
                            "%llu authentication blocks, at most %d",
                            (unsigned long long)(arr.u - 1),
                            TEEP_SUIT_MAX_AUTH_BLOCKS);
    rc = tp_suit_read_wrapped(r, "manifest digest", tp_suit_parse_digest,
                              &env->digest, NULL, &env->digest_encoded);
    for (uint64_t i = 1; rc == 0 && i < arr.u; i++)
        rc = tp_suit_read_wrapped(r, "authentication block", tp_suit_parse_any,
                                  NULL, NULL,
                                  &env->auth_blocks[env->n_auth_blocks++]);
    return rc;
}

/* Severed members the envelope carries, by manifest key, until they are
 * matched with the digests in the manifest. */
typedef struct severed {
    int64_t key;
    size_t offset;
    teep_slice_t wrapped, value;
} severed_t;

#define MAX_SEVERED 5

static teep_suit_member_t *member_for(teep_suit_manifest_t *m, int64_t key)
{
    bool severable;
    int i = tp_suit_member_index(key, &severable);
    if (i < 0)
        return NULL;
    return i < TEEP_SUIT_SEQ_COUNT ? &m->sequences[i] : &m->text;
}

static int read_integrated(tp_cbor_reader_t *r, const tp_cbor_item_t *name,
                           teep_suit_envelope_t *env)
{
    teep_slice_t key = {name->ptr, (size_t)name->u};
    for (size_t i = 0; i < env->n_integrated; i++)
        if (tp_suit_slice_eq(env->integrated[i].name, key))
            return tp_cbor_fail(r, TEEP_E_DUPLICATE, name->offset,
                                "integrated element \"%.*s\" given twice",
                                (int)(key.len > 40 ? 40 : key.len),
                                (const char *)key.ptr);
    if (env->n_integrated == TEEP_SUIT_MAX_INTEGRATED)
        return tp_cbor_fail(r, TEEP_E_LIMIT, name->offset,
                            "more than %d integrated elements",
                            TEEP_SUIT_MAX_INTEGRATED);
    tp_cbor_item_t v;
    int rc = tp_cbor_expect(r, TP_CBOR_BSTR, &v, "integrated element");
    if (rc != 0)
        return rc;
    env->integrated[env->n_integrated++] =
        (teep_suit_integrated_t){key, (teep_slice_t){v.ptr, (size_t)v.u}};
    return 0;
}

/* Put the severed members in their places in the manifest. */
static int attach_severed(tp_cbor_reader_t *r, teep_suit_envelope_t *env,
                          const severed_t *sev, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        teep_suit_member_t *m = member_for(&env->manifest, sev[i].key);
        if (m == NULL || !m->present || !m->severed)
            return tp_cbor_fail(r, TEEP_E_MISSING, sev[i].offset,
                                "severed member %lld has no digest in the "
                                "manifest",
                                (long long)sev[i].key);
        m->wrapped = sev[i].wrapped;
        m->value = sev[i].value;
    }
    return 0;
}

static int parse_envelope(tp_cbor_reader_t *r, teep_suit_envelope_t *env)
{
    tp_cbor_item_t it, map;
    severed_t sev[MAX_SEVERED];
    size_t n_sev = 0;
    uint32_t seen = 0;
    bool severable;
    int rc = tp_cbor_next(r, &it);
    if (rc != 0)
        return rc;
    if (it.kind == TP_CBOR_TAG) {
        if (it.u != TEEP_SUIT_TAG_ENVELOPE)
            return tp_cbor_fail(r, TEEP_E_TYPE, it.offset,
                                "tag %llu is not SUIT_Envelope (107)",
                                (unsigned long long)it.u);
        env->tagged = true;
        rc = tp_cbor_next(r, &it);
        if (rc != 0)
            return rc;
    }
    map = it;
    if (map.kind != TP_CBOR_MAP)
        return tp_cbor_fail(r, TEEP_E_TYPE, map.offset,
                            "SUIT_Envelope: expected map, got %s",
                            tp_cbor_kind_name(map.kind));
    for (uint64_t i = 0; rc == 0 && i < map.u; i++) {
        tp_cbor_item_t key;
        rc = tp_cbor_next(r, &key);
        if (rc != 0)
            return rc;
        if (key.kind == TP_CBOR_TSTR) {
            rc = read_integrated(r, &key, env);
            continue;
        }
        if (key.kind != TP_CBOR_UINT && key.kind != TP_CBOR_NEGINT)
            return tp_cbor_fail(r, TEEP_E_TYPE, key.offset,
                                "envelope key: expected int or text, got %s",
                                tp_cbor_kind_name(key.kind));
        int64_t k =
            key.kind == TP_CBOR_UINT && key.u < 32 ? (int64_t)key.u : -1;
        if (k >= 0 && (seen & (1u << k)))
            return tp_cbor_fail(r, TEEP_E_DUPLICATE, key.offset,
                                "envelope key %lld given twice", (long long)k);
        if (k >= 0)
            seen |= 1u << k;
        if (k == TEEP_SUIT_AUTHENTICATION_WRAPPER) {
            rc = tp_suit_read_wrapped(r, "authentication wrapper",
                                      parse_authentication, env, NULL, NULL);
        } else if (k == TEEP_SUIT_MANIFEST) {
            rc = tp_suit_read_wrapped(r, "manifest", tp_suit_parse_manifest,
                                      &env->manifest, &env->manifest_wrapped,
                                      NULL);
        } else if (k >= 0 && tp_suit_member_index(k, &severable) >= 0 &&
                   severable) {
            severed_t *s = &sev[n_sev++];
            s->key = k;
            s->offset = key.offset;
            rc = tp_suit_read_wrapped(r, "severed member", tp_suit_parse_any,
                                      NULL, &s->wrapped, &s->value);
        } else {
            /* Envelope extensions are outside the signature: skipping
             * them cannot change what the signed manifest does. */
            rc = tp_cbor_skip(r, TEEP_MAX_DEPTH, NULL, NULL);
        }
    }
    if (rc != 0)
        return rc;
    if (!(seen & (1u << TEEP_SUIT_AUTHENTICATION_WRAPPER)) ||
        !(seen & (1u << TEEP_SUIT_MANIFEST)))
        return tp_cbor_fail(
            r, TEEP_E_MISSING, map.offset, "envelope without %s",
            seen & (1u << TEEP_SUIT_MANIFEST) ? "authentication wrapper"
                                              : "manifest");
    return attach_severed(r, env, sev, n_sev);
}

int teep_suit_envelope_decode(const uint8_t *buf, size_t len,
                              teep_suit_envelope_t *env, teep_diag_t *diag)
{
    tp_cbor_reader_t r;
    memset(env, 0, sizeof(*env));
    env->raw = (teep_slice_t){buf, len};
    tp_cbor_reader_init(&r, buf, len, diag);
    int rc = parse_envelope(&r, env);
    return rc != 0 ? rc : tp_cbor_finish(&r);
}

int teep_suit_integrated_find(const teep_suit_envelope_t *env,
                              teep_slice_t name, teep_slice_t *bytes)
{
    for (size_t i = 0; i < env->n_integrated; i++) {
        if (tp_suit_slice_eq(env->integrated[i].name, name)) {
            *bytes = env->integrated[i].bytes;
            return 0;
        }
    }
    return -ENOENT;
}

static size_t offset_in(const teep_suit_envelope_t *env, teep_slice_t s)
{
    return s.ptr != NULL ? (size_t)(s.ptr - env->raw.ptr) : 0;
}

/* The digests: of the manifest, and of each severed member present. */
static int check_digests(const teep_suit_envelope_t *env, teep_diag_t *diag)
{
    int rc = tp_suit_digest_check(&env->digest, env->manifest_wrapped.ptr,
                                  env->manifest_wrapped.len);
    if (rc != 0)
        return teep_diag_set(diag, rc, offset_in(env, env->manifest_wrapped),
                             rc == TEEP_E_ALG
                                 ? "manifest digest algorithm %lld not "
                                   "supported"
                                 : "manifest digest does not match "
                                   "(algorithm %lld)",
                             (long long)env->digest.alg);
    const teep_suit_manifest_t *m = &env->manifest;
    for (int s = 0; s <= TEEP_SUIT_SEQ_COUNT; s++) {
        const teep_suit_member_t *mb =
            s < TEEP_SUIT_SEQ_COUNT ? &m->sequences[s] : &m->text;
        if (!mb->severed || mb->value.ptr == NULL)
            continue;
        rc =
            tp_suit_digest_check(&mb->digest, mb->wrapped.ptr, mb->wrapped.len);
        if (rc != 0)
            return teep_diag_set(
                diag, rc, offset_in(env, mb->wrapped), "severed %s: digest %s",
                teep_suit_section_name(
                    s < TEEP_SUIT_SEQ_COUNT
                        ? teep_suit_sequence_key((teep_suit_seq_t)s)
                        : TEEP_SUIT_TEXT),
                rc == TEEP_E_ALG ? "algorithm not supported"
                                 : "does not match");
    }
    return 0;
}

/* One authentication block against every anchor. */
static int verify_block(teep_suit_envelope_t *env, teep_slice_t block,
                        const teep_key_t *anchors, size_t n_anchors,
                        teep_diag_t *diag)
{
    teep_cose_t cose;
    int rc = teep_cose_parse(block.ptr, block.len, &cose, diag);
    if (rc != 0) {
        if (diag != NULL)
            diag->offset += offset_in(env, block);
        return rc;
    }
    if (cose.payload.ptr != NULL)
        return teep_diag_set(diag, TEEP_E_COSE, offset_in(env, block),
                             "authentication block carries a payload; SUIT "
                             "signs the digest detached");
    int result = TEEP_E_ALG;
    for (size_t i = 0; i < n_anchors; i++) {
        rc = teep_cose_verify(&cose, &anchors[i], env->digest_encoded.ptr,
                              env->digest_encoded.len);
        if (rc == 0) {
            env->verified = true;
            env->anchor = i;
            return 0;
        }
        if (rc != TEEP_E_ALG)
            result = rc;
    }
    return teep_diag_set(diag, result, offset_in(env, block),
                         result == TEEP_E_ALG
                             ? "no trust anchor fits the block's algorithm "
                               "%lld"
                             : "signature does not verify with any trust "
                               "anchor (algorithm %lld)",
                         (long long)cose.signatures[0].alg);
}

int teep_suit_envelope_verify(teep_suit_envelope_t *env,
                              const teep_key_t *anchors, size_t n_anchors,
                              teep_diag_t *diag)
{
    env->verified = false;
    if (anchors == NULL || n_anchors == 0)
        return teep_diag_set(diag, -EINVAL, 0, "no trust anchor given");
    int rc = check_digests(env, diag);
    if (rc != 0)
        return rc;
    if (env->n_auth_blocks == 0)
        return teep_diag_set(diag, TEEP_E_SIGNATURE, 0,
                             "no authentication block");
    /* A block that verifies wins; otherwise the first block's failure
     * tells the most (later blocks are usually other algorithms). */
    int first = 0;
    teep_diag_t first_diag = {0};
    for (size_t i = 0; i < env->n_auth_blocks; i++) {
        teep_diag_t d = {0};
        rc = verify_block(env, env->auth_blocks[i], anchors, n_anchors, &d);
        if (rc == 0)
            return 0;
        if (first == 0) {
            first = rc;
            first_diag = d;
        }
    }
    if (diag != NULL)
        *diag = first_diag;
    return first;
}
