/*
 * key.c: teep_key_t loading, saving and identity (teep/cose.h).  The CBOR
 * (COSE_Key) and PEM framing is here; the arithmetic and the DER inside the
 * PEM belong to the backend (crypto.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbor_reader.h"
#include "cbor_writer.h"
#include "crypto.h"
#include "teep/cose.h"
#include "teep/message.h"

/* COSE_Key labels and values (RFC 9052 section 7, RFC 9053). */
enum {
    COSE_KEY_KTY = 1,
    COSE_KEY_CRV = -1,
    COSE_KEY_X = -2,
    COSE_KEY_Y = -3,
    COSE_KEY_D = -4,
    COSE_KTY_OKP = 1,
    COSE_KTY_EC2 = 2,
    COSE_CRV_P256 = 1,
    COSE_CRV_X25519 = 4,
    COSE_CRV_ED25519 = 6,
};

/* Longest encoded COSE_Key we write: map head, kty, crv, three 32-byte
 * bstrs with their heads and labels. */
#define COSE_KEY_MAX 128
/* Longest hex text of a COSE_Key that teep_key_load decodes; real keys
 * are under 200 bytes, unknown members included. */
#define COSE_KEY_HEX_MAX 1024
/* Longest key file teep_key_load_file reads. */
#define KEY_FILE_MAX 65536

static void key_init(teep_key_t *key)
{
    memset(key, 0, sizeof(*key));
}

/* Encode the key as a deterministic COSE_Key (RFC 8949 section 4.2.1: the
 * labels 1, -1, -2, -3, -4 sort in that order), with d when
 * include_private.  Without d this is exactly the RFC 9679 thumbprint
 * input: only the required members. */
static void write_cose_key(tp_cbor_writer_t *w, const teep_key_t *key,
                           bool include_private)
{
    bool ec2 = key->type == TEEP_KEY_P256;
    tp_cw_map(w, (ec2 ? 4 : 3) + (include_private ? 1 : 0));
    tp_cw_uint(w, COSE_KEY_KTY);
    tp_cw_uint(w, ec2 ? COSE_KTY_EC2 : COSE_KTY_OKP);
    tp_cw_int(w, COSE_KEY_CRV);
    tp_cw_uint(w, ec2                             ? COSE_CRV_P256
                  : key->type == TEEP_KEY_ED25519 ? COSE_CRV_ED25519
                                                  : COSE_CRV_X25519);
    tp_cw_int(w, COSE_KEY_X);
    tp_cw_bstr(w, key->x, 32);
    if (ec2) {
        tp_cw_int(w, COSE_KEY_Y);
        tp_cw_bstr(w, key->y, 32);
    }
    if (include_private) {
        tp_cw_int(w, COSE_KEY_D);
        tp_cw_bstr(w, key->d, 32);
    }
}

/* RFC 9679 thumbprint into key->kid. */
static int compute_kid(teep_key_t *key)
{
    uint8_t buf[COSE_KEY_MAX];
    tp_cbor_writer_t w;
    tp_cw_init(&w, buf, sizeof(buf));
    write_cose_key(&w, key, false);
    int rc = tp_cw_result(&w);
    return rc != 0 ? rc : tp_crypto_sha256(buf, w.len, key->kid);
}

/* Fill in or check the public part of a private key against d: a key
 * whose halves disagree would sign with one key and name another in its
 * kid.  When the backend cannot do the curve (mbedtls and Ed25519) a
 * given public part is taken as it is: the key then only serves as data. */
static int check_public(teep_key_t *key, bool have_public)
{
    uint8_t x[32], y[32] = {0};
    int rc = tp_crypto_public_from_private(key->type, key->d, x, y);
    if (rc == TEEP_E_ALG && have_public)
        return 0;
    if (rc != 0)
        return rc;
    if (have_public) {
        bool ec2 = key->type == TEEP_KEY_P256;
        if (memcmp(x, key->x, 32) != 0 || (ec2 && memcmp(y, key->y, 32) != 0))
            return TEEP_E_KEY;
    } else {
        memcpy(key->x, x, 32);
        memcpy(key->y, y, 32);
    }
    return 0;
}

/* Last step of every load: kid, then the backend object.  On failure the
 * key is cleared (its private part wiped). */
static int key_finish(teep_key_t *key, bool check, bool have_public)
{
    int rc = check && key->has_private ? check_public(key, have_public) : 0;
    if (rc == 0)
        rc = compute_kid(key);
    if (rc == 0) {
        rc = tp_crypto_key_prepare(key);
        /* A curve the backend lacks still loads, as data. */
        if (rc == TEEP_E_ALG)
            rc = 0;
    }
    if (rc != 0)
        teep_key_clear(key);
    return rc;
}

/*
 * Fresh key pair of the given type from the backend's CSPRNG, with its
 * kid.  Overwrites *key (data becomes NULL).  Returns 0, -EINVAL for an
 * unknown type, TEEP_E_ALG if the backend lacks the curve, TEEP_E_CRYPTO.
 */
int teep_key_generate(teep_key_t *key, teep_key_type_t type)
{
    key_init(key);
    int rc = tp_crypto_generate(key, type);
    if (rc != 0) {
        teep_key_clear(key);
        return rc;
    }
    return key_finish(key, false, true);
}

/* Labels of a PEM block and what they hold.  "EC PARAMETERS" and the like
 * are skipped (libteep's PEM files put one before the key). */
static const struct {
    const char *label;
    tp_pem_kind_t kind;
} pem_labels[] = {
    {"PUBLIC KEY", TP_PEM_PUBLIC},
    {"PRIVATE KEY", TP_PEM_PRIVATE},
    {"EC PRIVATE KEY", TP_PEM_PRIVATE},
};

/* Find the first key block in PEM text: *start..*end spans its BEGIN line
 * through its END marker.  TEEP_E_KEY if there is none. */
static int find_pem_block(const uint8_t *buf, size_t len, tp_pem_kind_t *kind,
                          size_t *start, size_t *end)
{
    static const char begin[] = "-----BEGIN ";
    const uint8_t *p = buf;
    const uint8_t *stop = buf + len;
    while ((p = memmem(p, (size_t)(stop - p), begin, sizeof(begin) - 1)) !=
           NULL) {
        const uint8_t *label = p + sizeof(begin) - 1;
        const uint8_t *dash = memmem(label, (size_t)(stop - label), "-----", 5);
        if (dash == NULL)
            break;
        size_t label_len = (size_t)(dash - label);
        for (size_t i = 0; i < sizeof(pem_labels) / sizeof(pem_labels[0]);
             i++) {
            if (strlen(pem_labels[i].label) != label_len ||
                memcmp(pem_labels[i].label, label, label_len) != 0)
                continue;
            char marker[40];
            int n = snprintf(marker, sizeof(marker), "-----END %s-----",
                             pem_labels[i].label);
            const uint8_t *e =
                memmem(dash, (size_t)(stop - dash), marker, (size_t)n);
            if (e == NULL)
                return TEEP_E_KEY;
            *kind = pem_labels[i].kind;
            *start = (size_t)(p - buf);
            *end = (size_t)(e - buf) + (size_t)n;
            return 0;
        }
        p = dash + 5;
    }
    return TEEP_E_KEY;
}

/*
 * Load a key from PEM text: SEC1 "EC PRIVATE KEY", PKCS#8 "PRIVATE KEY" or
 * SPKI "PUBLIC KEY"; other blocks before the key are skipped.  Copies what
 * it needs from buf (need not be NUL-terminated).  Overwrites *key.
 * Returns 0, TEEP_E_KEY (no key block, unreadable, encrypted, or halves
 * that disagree), TEEP_E_ALG (a curve TEEP does not use, or Ed25519 on
 * mbedtls), -ENOMEM, TEEP_E_CRYPTO.
 */
int teep_key_from_pem(teep_key_t *key, const uint8_t *buf, size_t len)
{
    key_init(key);
    tp_pem_kind_t kind;
    size_t start, end;
    int rc = find_pem_block(buf, len, &kind, &start, &end);
    if (rc == 0)
        rc = tp_crypto_pem_import(key, kind, buf + start, end - start);
    if (rc != 0) {
        teep_key_clear(key);
        return rc;
    }
    return key_finish(key, true, true);
}

/* One 32-byte coordinate or private key member. */
static int read_coord(tp_cbor_reader_t *r, uint8_t out[32], bool *seen,
                      const char *what)
{
    tp_cbor_item_t it;
    int rc = tp_cbor_next(r, &it);
    if (rc != 0)
        return rc;
    if (*seen)
        return tp_cbor_fail(r, TEEP_E_DUPLICATE, it.offset, "%s twice", what);
    /* A bool y would be point compression, which TEEP keys do not use. */
    if (it.kind != TP_CBOR_BSTR || it.u != 32)
        return tp_cbor_fail(r, TEEP_E_KEY, it.offset,
                            "%s: expected a 32-byte byte string", what);
    memcpy(out, it.ptr, 32);
    *seen = true;
    return 0;
}

/* One integer member (kty, crv). */
static int read_label_int(tp_cbor_reader_t *r, int64_t *out, bool *seen,
                          const char *what)
{
    size_t at = r->pos;
    if (*seen)
        return tp_cbor_fail(r, TEEP_E_DUPLICATE, at, "%s twice", what);
    *seen = true;
    return tp_cbor_read_int(r, out, what);
}

/* Walk the COSE_Key map into the raw fields.  Members other than kty,
 * crv, x, y and d (kid, alg, key_ops, text labels) are skipped: the kid
 * we use is the thumbprint, and the algorithm comes with each use. */
static int parse_cose_key(tp_cbor_reader_t *r, teep_key_t *key,
                          bool *have_public)
{
    tp_cbor_item_t map;
    int rc = tp_cbor_expect(r, TP_CBOR_MAP, &map, "COSE_Key");
    if (rc != 0)
        return rc;
    int64_t kty = 0, crv = 0;
    bool has_kty = false, has_crv = false, has_x = false, has_y = false;
    for (uint64_t i = 0; i < map.u && rc == 0; i++) {
        tp_cbor_item_t label;
        rc = tp_cbor_next(r, &label);
        if (rc != 0)
            break;
        if (label.kind != TP_CBOR_UINT && label.kind != TP_CBOR_NEGINT &&
            label.kind != TP_CBOR_TSTR)
            return tp_cbor_fail(r, TEEP_E_TYPE, label.offset,
                                "COSE_Key label must be int or tstr");
        /* 0 stands for the labels we never read: text, and integers
         * beyond int64. */
        int64_t l = 0;
        if (label.kind != TP_CBOR_TSTR && label.u <= INT64_MAX)
            l = label.kind == TP_CBOR_UINT ? (int64_t)label.u
                                           : -1 - (int64_t)label.u;
        switch (l) {
        case COSE_KEY_KTY: rc = read_label_int(r, &kty, &has_kty, "kty"); break;
        case COSE_KEY_CRV: rc = read_label_int(r, &crv, &has_crv, "crv"); break;
        case COSE_KEY_X: rc = read_coord(r, key->x, &has_x, "x"); break;
        case COSE_KEY_Y: rc = read_coord(r, key->y, &has_y, "y"); break;
        case COSE_KEY_D:
            rc = read_coord(r, key->d, &key->has_private, "d");
            break;
        default: rc = tp_cbor_skip(r, TEEP_MAX_DEPTH - 1, NULL, NULL);
        }
    }
    if (rc != 0)
        return rc;
    if (!has_kty || !has_crv)
        return tp_cbor_fail(r, TEEP_E_MISSING, map.offset,
                            "COSE_Key without kty or crv");
    if (kty == COSE_KTY_EC2 && crv == COSE_CRV_P256)
        key->type = TEEP_KEY_P256;
    else if (kty == COSE_KTY_OKP && crv == COSE_CRV_ED25519)
        key->type = TEEP_KEY_ED25519;
    else if (kty == COSE_KTY_OKP && crv == COSE_CRV_X25519)
        key->type = TEEP_KEY_X25519;
    else
        return tp_cbor_fail(r, TEEP_E_ALG, map.offset,
                            "COSE_Key kty %lld crv %lld not supported",
                            (long long)kty, (long long)crv);
    if (key->type == TEEP_KEY_P256 ? has_x != has_y : has_y)
        return tp_cbor_fail(r, TEEP_E_KEY, map.offset,
                            "COSE_Key with a wrong set of coordinates");
    if (!has_x && !key->has_private)
        return tp_cbor_fail(r, TEEP_E_MISSING, map.offset,
                            "COSE_Key with neither x nor d");
    *have_public = has_x;
    return tp_cbor_finish(r);
}

/*
 * Load a key from an encoded COSE_Key: kty 2 / crv 1, or kty 1 / crv 6 or
 * 4, with x (and y), d, or both (x and y are derived from d when absent,
 * and must match it when present).  The whole buffer must be the one map.
 * Copies from buf.  Overwrites *key.  Returns 0, a CBOR error (TEEP_E_CBOR,
 * TEEP_E_TRUNCATED, TEEP_E_TRAILING, TEEP_E_TYPE, TEEP_E_DUPLICATE ...),
 * TEEP_E_MISSING, TEEP_E_KEY, TEEP_E_ALG, TEEP_E_CRYPTO.
 */
int teep_key_from_cose(teep_key_t *key, const uint8_t *buf, size_t len)
{
    key_init(key);
    tp_cbor_reader_t r;
    tp_cbor_reader_init(&r, buf, len, NULL);
    bool have_public = false;
    int rc = parse_cose_key(&r, key, &have_public);
    if (rc != 0) {
        teep_key_clear(key);
        return rc;
    }
    return key_finish(key, true, have_public);
}

int teep_key_cose_thumbprint(const uint8_t *buf, size_t len,
                             teep_key_type_t *type, uint8_t kid[32])
{
    teep_key_t key;
    key_init(&key);
    tp_cbor_reader_t r;
    tp_cbor_reader_init(&r, buf, len, NULL);
    bool have_public = false;
    int rc = parse_cose_key(&r, &key, &have_public);
    if (rc == 0 && (key.has_private || !have_public))
        rc = -EINVAL;
    if (rc == 0)
        rc = compute_kid(&key);
    if (rc == 0) {
        *type = key.type;
        memcpy(kid, key.kid, sizeof(key.kid));
    }
    teep_key_clear(&key);
    return rc;
}

static int hex_value(int c)
{
    return isdigit(c) ? c - '0' : isxdigit(c) ? tolower(c) - 'a' + 10 : -1;
}

/* Hex text (whitespace ignored) into out; -1 if it is not hex. */
static int decode_hex(const uint8_t *buf, size_t len, uint8_t *out, size_t cap,
                      size_t *out_len)
{
    size_t n = 0;
    int hi = -1;
    for (size_t i = 0; i < len; i++) {
        if (isspace(buf[i]))
            continue;
        int v = hex_value(buf[i]);
        if (v < 0)
            return -1;
        if (hi < 0) {
            hi = v;
            continue;
        }
        if (n == cap)
            return -1;
        out[n++] = (uint8_t)(hi << 4 | v);
        hi = -1;
    }
    *out_len = n;
    return hi < 0 && n > 0 ? 0 : -1;
}

/*
 * Load a key whatever its form: binary COSE_Key (starts with a CBOR map
 * head), hex text of a COSE_Key, or PEM text.  Copies from buf; overwrites
 * *key.  Returns what teep_key_from_cose / teep_key_from_pem return, or
 * TEEP_E_KEY if buf is none of the three.
 */
int teep_key_load(teep_key_t *key, const uint8_t *buf, size_t len)
{
    size_t i = 0;
    while (i < len && isspace(buf[i]))
        i++;
    if (i < len && (buf[i] >> 5) == 5)
        return teep_key_from_cose(key, buf + i, len - i);
    uint8_t bin[COSE_KEY_HEX_MAX];
    size_t n;
    if (decode_hex(buf, len, bin, sizeof(bin), &n) == 0) {
        int rc = teep_key_from_cose(key, bin, n);
        tp_crypto_wipe(bin, sizeof(bin));
        return rc;
    }
    tp_crypto_wipe(bin, sizeof(bin));
    if (memmem(buf, len, "-----BEGIN ", 11) != NULL)
        return teep_key_from_pem(key, buf, len);
    key_init(key);
    return TEEP_E_KEY;
}

/*
 * Read the file at path (up to 64 KiB) and teep_key_load it.  Overwrites
 * *key.  Returns 0, -errno from opening or reading, -EFBIG for a larger
 * file, or what teep_key_load returns.  The file's bytes are wiped from
 * memory afterwards.
 */
int teep_key_load_file(teep_key_t *key, const char *path)
{
    key_init(key);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return -errno;
    uint8_t *buf = malloc(KEY_FILE_MAX + 1);
    if (buf == NULL) {
        fclose(f);
        return -ENOMEM;
    }
    size_t n = fread(buf, 1, KEY_FILE_MAX + 1, f);
    int rc = ferror(f) ? -EIO : n > KEY_FILE_MAX ? -EFBIG : 0;
    fclose(f);
    if (rc == 0)
        rc = teep_key_load(key, buf, n);
    tp_crypto_wipe(buf, KEY_FILE_MAX + 1);
    free(buf);
    return rc;
}

/*
 * Write the key as PEM: PKCS#8 "PRIVATE KEY" when include_private, else
 * SPKI "PUBLIC KEY", into out[0..cap) with a terminating NUL; *out_len
 * excludes the NUL.  Returns 0, -EINVAL (include_private without a private
 * part), -ENOSPC, TEEP_E_ALG (Ed25519/X25519 on mbedtls), TEEP_E_CRYPTO.
 */
int teep_key_to_pem(const teep_key_t *key, bool include_private, char *out,
                    size_t cap, size_t *out_len)
{
    if (include_private && !key->has_private)
        return -EINVAL;
    return tp_crypto_pem_export(key, include_private, out, cap, out_len);
}

/*
 * Write the key as a deterministic COSE_Key {1: kty, -1: crv, -2: x
 * [, -3: y] [, -4: d]} into out[0..cap).  Returns 0, -EINVAL
 * (include_private without a private part) or -ENOSPC (*out_len then
 * holds the size needed).
 */
int teep_key_to_cose(const teep_key_t *key, bool include_private, uint8_t *out,
                     size_t cap, size_t *out_len)
{
    if (include_private && !key->has_private)
        return -EINVAL;
    tp_cbor_writer_t w;
    tp_cw_init(&w, out, cap);
    write_cose_key(&w, key, include_private);
    *out_len = w.len;
    return tp_cw_result(&w);
}

/*
 * Release the backend object and wipe the key, private part included;
 * only key->data is kept.  The key may be loaded again afterwards.
 * Safe on a zeroed or already cleared key.
 */
void teep_key_clear(teep_key_t *key)
{
    if (key == NULL)
        return;
    void *data = key->data;
    tp_crypto_key_release(key);
    tp_crypto_wipe(key, sizeof(*key));
    key->data = data;
}

/* ESP256 for P-256, Ed25519 for Ed25519, 0 (none) for X25519, which only
 * agrees keys. */
int64_t teep_key_default_alg(const teep_key_t *key)
{
    switch (key->type) {
    case TEEP_KEY_P256: return TEEP_ALG_ESP256;
    case TEEP_KEY_ED25519: return TEEP_ALG_ED25519;
    default: return 0;
    }
}

/* ESP256 and its legacy ES256 with P-256; Ed25519 and the legacy EdDSA
 * with Ed25519 (EdDSA is fully specified by the key's curve). */
bool teep_key_supports_alg(const teep_key_t *key, int64_t alg)
{
    switch (key->type) {
    case TEEP_KEY_P256: return alg == TEEP_ALG_ESP256 || alg == TEEP_ALG_ES256;
    case TEEP_KEY_ED25519:
        return alg == TEEP_ALG_ED25519 || alg == TEEP_ALG_EDDSA;
    default: return false;
    }
}
