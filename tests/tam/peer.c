/* peer.c: the scripted TEEP Agent of peer.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "teep/eat.h"
#include "teep/pd.h"
#include "teep/peek.h"
#include "teep/suit.h"

#include "peer.h"

#define EVIDENCE_CAP  4096
#define COSE_KEY_MAX  160
#define PEM_MAX       1024
#define REPORTS_MAX   8
#define ARENA_SIZE    TEEP_ARENA_DEFAULT
#define SIGN_OVERHEAD 256

static const uint8_t hwmodel[] = "tam-test-peer";
static const uint8_t firmware_digest[32] = {0x7e, 0x57};

int tam_peer_init(tam_peer_t *p, teep_key_type_t teep_type, int profile)
{
    memset(p, 0, sizeof(*p));
    p->profile = profile;
    int rc = teep_key_generate(&p->teep_key, teep_type);
    if (rc == 0)
        rc = teep_key_generate(&p->attest_key, TEEP_KEY_P256);
    if (rc == 0)
        rc = teep_key_generate(&p->pd_key, TEEP_KEY_P256);
    if (rc == 0)
        rc = teep_key_generate(&p->rogue_key, TEEP_KEY_P256);
    if (rc != 0)
        tam_peer_clear(p);
    return rc;
}

/* A copy of key's public part (keys are not copied by value). */
static int copy_public(teep_key_t *dst, const teep_key_t *src)
{
    uint8_t cose[COSE_KEY_MAX];
    size_t len;
    int rc = teep_key_to_cose(src, false, cose, sizeof(cose), &len);
    return rc == 0 ? teep_key_from_cose(dst, cose, len) : rc;
}

int tam_peer_trust_tam(tam_peer_t *p, const teep_key_t *key)
{
    if (p->n_tam_keys == PEER_MAX_TAM_KEYS)
        return -ENOSPC;
    int rc = copy_public(&p->tam_keys[p->n_tam_keys], key);
    if (rc == 0)
        p->n_tam_keys++;
    return rc;
}

int tam_peer_trust_tc_signer(tam_peer_t *p, const teep_key_t *key)
{
    if (p->has_tc_signer)
        teep_key_clear(&p->tc_signer);
    int rc = copy_public(&p->tc_signer, key);
    p->has_tc_signer = rc == 0;
    return rc;
}

void tam_peer_clear(tam_peer_t *p)
{
    teep_key_clear(&p->teep_key);
    teep_key_clear(&p->attest_key);
    teep_key_clear(&p->pd_key);
    teep_key_clear(&p->rogue_key);
    for (size_t i = 0; i < p->n_tam_keys; i++)
        teep_key_clear(&p->tam_keys[i]);
    if (p->has_tc_signer)
        teep_key_clear(&p->tc_signer);
    for (size_t i = 0; i < p->n_components; i++)
        free(p->components[i].bytes);
    memset(p, 0, sizeof(*p));
}

const peer_component_t *tam_peer_find(const tam_peer_t *p, const char *id)
{
    for (size_t i = 0; i < p->n_components; i++)
        if (strcmp(p->components[i].id, id) == 0)
            return &p->components[i];
    return NULL;
}

static int store(tam_peer_t *p, const char *id, teep_slice_t bytes)
{
    peer_component_t *c = (peer_component_t *)tam_peer_find(p, id);
    if (c == NULL) {
        if (p->n_components == PEER_MAX_COMPONENTS)
            return -ENOSPC;
        c = &p->components[p->n_components++];
        snprintf(c->id, sizeof(c->id), "%s", id);
    }
    uint8_t *copy = malloc(bytes.len > 0 ? bytes.len : 1);
    if (copy == NULL)
        return -ENOMEM;
    if (bytes.len > 0)
        memcpy(copy, bytes.ptr, bytes.len);
    free(c->bytes);
    c->bytes = copy;
    c->len = bytes.len;
    return 0;
}

/* ---- signing replies ----------------------------------------------- */

static int64_t sign_alg(const tam_peer_t *p, teep_profile_t profile)
{
    bool p256 = p->teep_key.type == TEEP_KEY_P256;
    if (profile == TEEP_PROFILE_LEGACY)
        return p256 ? TEEP_ALG_ES256 : TEEP_ALG_EDDSA;
    return p256 ? TEEP_ALG_ESP256 : TEEP_ALG_ED25519;
}

static int seal(const tam_peer_t *p, const teep_message_t *m,
                teep_profile_t profile, uint8_t **out, size_t *out_len)
{
    size_t len = 0;
    int rc = teep_message_encode(m, profile, NULL, 0, &len);
    if (rc != 0 && rc != -ENOSPC)
        return rc;
    uint8_t *payload = malloc(len);
    uint8_t *buf = malloc(len + SIGN_OVERHEAD);
    rc = payload == NULL || buf == NULL
             ? -ENOMEM
             : teep_message_encode(m, profile, payload, len, &len);
    teep_signer_t s = {&p->teep_key, sign_alg(p, profile)};
    if (rc == 0)
        rc = teep_cose_sign1(&s, payload, len, buf, len + SIGN_OVERHEAD,
                             out_len);
    free(payload);
    if (rc != 0) {
        free(buf);
        return rc;
    }
    *out = buf;
    return 0;
}

/* ---- QueryRequest -> QueryResponse --------------------------------- */

static int evidence(const tam_peer_t *p, teep_slice_t nonce, uint8_t *out,
                    size_t cap, size_t *len)
{
    uint8_t pd_cose[COSE_KEY_MAX], ueid[17] = {0x01};
    size_t pd_len;
    int rc =
        teep_key_to_cose(&p->pd_key, false, pd_cose, sizeof(pd_cose), &pd_len);
    if (rc != 0)
        return rc;
    memcpy(ueid + 1, p->teep_key.kid, 16);
    teep_eat_claims_t c;
    memset(&c, 0, sizeof(c));
    c.present = TEEP_EAT_HAS_IAT | TEEP_EAT_HAS_CNF | TEEP_EAT_HAS_NONCE |
                TEEP_EAT_HAS_UEID | TEEP_EAT_HAS_OEMID | TEEP_EAT_HAS_HWMODEL |
                TEEP_EAT_HAS_HWVERSION | TEEP_EAT_HAS_PROFILE |
                TEEP_EAT_HAS_SWNAME | TEEP_EAT_HAS_SWVERSION |
                TEEP_EAT_HAS_MANIFESTS | TEEP_EAT_HAS_PD_KEY;
    c.iat = (int64_t)time(NULL);
    c.cnf_kid = (teep_slice_t){p->teep_key.kid, sizeof(p->teep_key.kid)};
    c.nonce = nonce;
    c.ueid = (teep_slice_t){ueid, sizeof(ueid)};
    c.oemid.id = (teep_slice_t){p->attest_key.kid, 16};
    c.hwmodel = (teep_slice_t){hwmodel, sizeof(hwmodel) - 1};
    c.hwversion.version = (teep_slice_t){(const uint8_t *)"1.0", 3};
    c.profile = (teep_slice_t){(const uint8_t *)TEEP_EAT_PROFILE_URI,
                               strlen(TEEP_EAT_PROFILE_URI)};
    c.swname = (teep_slice_t){(const uint8_t *)"tam-test-peer", 13};
    c.swversion.version = (teep_slice_t){(const uint8_t *)"0.1", 3};
    c.n_manifests = 1;
    c.manifests[0] = (teep_eat_manifest_t){
        .content_type = TEEP_EAT_MANIFEST_CONTENT_TYPE,
        .uri = {(const uint8_t *)"https://example.org/peer.suit", 29},
        .digest_alg = TEEP_SUIT_ALG_SHA256,
        .digest = {firmware_digest, sizeof(firmware_digest)},
    };
    c.pd_key = (teep_slice_t){pd_cose, pd_len};
    teep_signer_t s = {p->bad_evidence ? &p->rogue_key : &p->attest_key,
                       TEEP_ALG_ESP256};
    return teep_eat_sign(&s, &c, out, cap, len);
}

static int query_response(tam_peer_t *p, const teep_message_t *q,
                          teep_profile_t profile, uint8_t **out,
                          size_t *out_len, peer_event_t *ev)
{
    teep_message_t r;
    memset(&r, 0, sizeof(r));
    r.type = TEEP_QUERY_RESPONSE;
    if (q->present & TEEP_OPT_BIT(TEEP_OPT_TOKEN)) {
        r.present |= TEEP_OPT_BIT(TEEP_OPT_TOKEN);
        r.token = q->token;
    }
    uint8_t *eat = malloc(EVIDENCE_CAP);
    size_t eat_len = 0;
    int rc = eat != NULL ? 0 : -ENOMEM;
    bool wanted = q->data_item_requested & TEEP_DATA_ATTESTATION;
    teep_slice_t nonce =
        q->present & TEEP_OPT_BIT(TEEP_OPT_CHALLENGE) ? q->challenge : q->token;
    if (rc == 0 && wanted && !p->no_evidence) {
        rc = evidence(p, nonce, eat, EVIDENCE_CAP, &eat_len);
        r.present |= TEEP_OPT_BIT(TEEP_OPT_ATTESTATION_PAYLOAD);
        r.attestation_payload = (teep_slice_t){eat, eat_len};
        ev->evidence = rc == 0;
    }
    if (rc == 0)
        rc = seal(p, &r, profile, out, out_len);
    free(eat);
    return rc;
}

/* ---- Update -> Success / Error ------------------------------------- */

typedef struct run {
    tam_peer_t *p;
    size_t installed;
    bool pd;
    size_t n_plain;
    uint8_t *plain[4]; /* decrypted PD, freed after the manifest */
} run_t;

static int op_write(void *ctx, const teep_suit_component_t *c,
                    teep_slice_t bytes)
{
    run_t *r = ctx;
    char id[256];
    if (r->p->fail_install)
        return -EIO;
    int rc = teep_suit_component_id_to_text(c->id, id, sizeof(id));
    if (rc == 0)
        rc = store(r->p, id, bytes);
    if (rc == 0)
        r->installed++;
    return rc;
}

static int op_read(void *ctx, const teep_suit_component_t *c,
                   teep_slice_t *bytes)
{
    run_t *r = ctx;
    char id[256];
    if (teep_suit_component_id_to_text(c->id, id, sizeof(id)) != 0)
        return -EINVAL;
    const peer_component_t *pc = tam_peer_find(r->p, id);
    if (pc == NULL)
        return -ENOENT;
    *bytes = (teep_slice_t){pc->bytes, pc->len};
    return 0;
}

static int op_decrypt(void *ctx, const teep_suit_component_t *c,
                      teep_slice_t info, teep_slice_t ciphertext,
                      teep_slice_t *plaintext)
{
    run_t *r = ctx;
    size_t n = 0;
    if (r->n_plain == sizeof(r->plain) / sizeof(r->plain[0]))
        return -ENOSPC;
    uint8_t *out = malloc(ciphertext.len > 0 ? ciphertext.len : 1);
    if (out == NULL)
        return -ENOMEM;
    int rc = teep_pd_decrypt(&r->p->pd_key, info, ciphertext, out,
                             ciphertext.len, &n, NULL);
    if (rc != 0) {
        free(out);
        return rc;
    }
    r->plain[r->n_plain++] = out;
    r->pd = true;
    *plaintext = (teep_slice_t){out, n};
    return 0;
}

static int op_installed_sequence(void *ctx, teep_slice_t manifest_id,
                                 uint64_t *sequence_number)
{
    return -ENOENT; /* the TAM's versions only grow: any is newer */
}

static int op_commit(void *ctx, teep_slice_t manifest_id,
                     uint64_t sequence_number, teep_slice_t envelope)
{
    return 0;
}

static const teep_suit_ops_t suit_ops = {
    .write = op_write,
    .read = op_read,
    .decrypt = op_decrypt,
    .installed_sequence = op_installed_sequence,
    .commit = op_commit,
};

/* Run one envelope; its encoded report goes to *report. */
static int run_manifest(tam_peer_t *p, teep_slice_t envelope,
                        teep_slice_t token, teep_suit_report_t *rep,
                        teep_slice_t *report, peer_event_t *ev)
{
    run_t r = {.p = p};
    teep_suit_config_t cfg = {
        .trust_anchors = &p->tc_signer,
        .n_trust_anchors = p->has_tc_signer ? 1 : 0,
        .procedure = TEEP_SUIT_PROC_UPDATE,
        .nonce = token,
    };
    int rc =
        teep_suit_process(envelope.ptr, envelope.len, &cfg, &suit_ops, &r, rep);
    ev->n_installed += r.installed;
    ev->pd_delivered = ev->pd_delivered || (rc == 0 && r.pd);
    for (size_t i = 0; i < r.n_plain; i++)
        free(r.plain[i]);
    if (rc != 0)
        snprintf(ev->detail, sizeof(ev->detail), "manifest failed: %s",
                 rep->diag.reason[0] != 0 ? rep->diag.reason
                                          : teep_suit_strerror(rc));
    size_t n = 0;
    int erc = teep_suit_report_encode(rep, NULL, 0, &n);
    uint8_t *buf = erc == 0 ? malloc(n) : NULL;
    if (buf == NULL || teep_suit_report_encode(rep, buf, n, &n) != 0) {
        free(buf);
        return -ENOMEM;
    }
    *report = (teep_slice_t){buf, n};
    return rc;
}

static int update(tam_peer_t *p, const teep_message_t *u,
                  teep_profile_t profile, uint8_t **out, size_t *out_len,
                  peer_event_t *ev)
{
    teep_message_t r;
    teep_slice_t reports[REPORTS_MAX];
    size_t n_reports = 0;
    bool failed = false;
    memset(&r, 0, sizeof(r));
    r.type = TEEP_SUCCESS;
    r.present = TEEP_OPT_BIT(TEEP_OPT_TOKEN);
    r.token = u->token;
    ev->err_code =
        u->present & TEEP_OPT_BIT(TEEP_OPT_ERR_CODE) ? u->err_code : 0;
    ev->n_manifests = u->manifest_list.count;
    teep_suit_report_t *rep = malloc(sizeof(*rep));
    int rc = rep != NULL ? 0 : -ENOMEM;
    for (size_t i = 0; rc == 0 && i < u->manifest_list.count; i++) {
        if (n_reports == REPORTS_MAX)
            break;
        int mrc = run_manifest(p, u->manifest_list.items[i], u->token, rep,
                               &reports[n_reports], ev);
        if (mrc == -ENOMEM)
            rc = mrc;
        else
            n_reports++;
        failed = failed || mrc != 0;
    }
    free(rep);
    if (n_reports > 0) {
        r.present |= TEEP_OPT_BIT(TEEP_OPT_SUIT_REPORTS);
        r.suit_reports.items = reports;
        r.suit_reports.count = n_reports;
    }
    if (failed) {
        r.type = TEEP_ERROR;
        r.err_code = TEEP_ERR_MANIFEST_PROCESSING_FAILED;
        r.present |= TEEP_OPT_BIT(TEEP_OPT_ERR_MSG);
        r.err_msg = (teep_slice_t){(const uint8_t *)"manifest failed", 15};
    }
    if (rc == 0)
        rc = seal(p, &r, profile, out, out_len);
    for (size_t i = 0; i < n_reports; i++)
        free((void *)reports[i].ptr);
    return rc;
}

/* ---- one message --------------------------------------------------- */

static bool verified(const tam_peer_t *p, const teep_cose_t *cose)
{
    for (size_t i = 0; i < p->n_tam_keys; i++)
        if (teep_cose_verify(cose, &p->tam_keys[i], NULL, 0) == 0)
            return true;
    return false;
}

int tam_peer_handle(tam_peer_t *p, const uint8_t *msg, size_t len,
                    uint8_t **reply, size_t *reply_len, peer_event_t *ev)
{
    peer_event_t scratch;
    ev = ev != NULL ? ev : &scratch;
    memset(ev, 0, sizeof(*ev));
    *reply = NULL;
    *reply_len = 0;
    teep_cose_t cose;
    teep_diag_t diag = {0};
    if (teep_cose_parse(msg, len, &cose, &diag) != 0) {
        snprintf(ev->detail, sizeof(ev->detail), "not COSE: %s", diag.reason);
        return TEEP_E_COSE;
    }
    if (!verified(p, &cose)) {
        snprintf(ev->detail, sizeof(ev->detail), "no TAM key verifies it");
        return TEEP_E_SIGNATURE;
    }
    /* Read the TAM's numbering off its token; answer in our own when one
     * is set (a legacy-only Agent), else in the TAM's. */
    teep_peek_t pk;
    teep_profile_t in =
        p->profile >= 0 ? (teep_profile_t)p->profile : TEEP_PROFILE_RFC;
    if (teep_peek(msg, len, TEEP_PEEK_AUTO, &pk, NULL) == 0 &&
        pk.profile != TEEP_PEEK_AUTO)
        in = (teep_profile_t)pk.profile;
    teep_profile_t profile = p->profile >= 0 ? (teep_profile_t)p->profile : in;
    uint8_t *arena_mem = malloc(ARENA_SIZE);
    teep_arena_t arena;
    teep_message_t m;
    if (arena_mem == NULL)
        return -ENOMEM;
    teep_arena_init(&arena, arena_mem, ARENA_SIZE);
    int rc = teep_message_decode(cose.payload.ptr, cose.payload.len, in, &arena,
                                 &m, &diag);
    if (rc != 0) {
        snprintf(ev->detail, sizeof(ev->detail), "malformed: %s", diag.reason);
    } else {
        ev->received = m.type;
        if (m.type == TEEP_QUERY_REQUEST)
            rc = query_response(p, &m, profile, reply, reply_len, ev);
        else if (m.type == TEEP_UPDATE)
            rc = update(p, &m, profile, reply, reply_len, ev);
        else
            rc = TEEP_E_MSG_TYPE;
    }
    free(arena_mem);
    if (rc == 0 && *reply != NULL) {
        teep_peek_t out;
        ev->answered =
            teep_peek(*reply, *reply_len, (int)profile, &out, NULL) == 0
                ? out.type
                : 0;
    }
    return rc;
}

/* ---- files --------------------------------------------------------- */

static int save_key(const teep_key_t *key, bool private_part, const char *dir,
                    const char *name)
{
    char path[PATH_MAX], pem[PEM_MAX];
    size_t len;
    int rc = teep_key_to_pem(key, private_part, pem, sizeof(pem), &len);
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = rc == 0 ? fopen(path, "w") : NULL;
    if (f == NULL)
        return rc != 0 ? rc : -errno;
    rc = fwrite(pem, 1, len, f) == len ? 0 : -EIO;
    return fclose(f) == 0 ? rc : -EIO;
}

static int load_key(teep_key_t *key, const char *dir, const char *name)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return teep_key_load_file(key, path);
}

static int save_components(const tam_peer_t *p, const char *dir)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/installed", dir);
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return -errno;
    for (size_t i = 0; i < p->n_components; i++) {
        char name[256];
        snprintf(name, sizeof(name), "%s", p->components[i].id);
        for (char *c = name; *c != 0; c++)
            if (*c == '/')
                *c = '_';
        snprintf(path, sizeof(path), "%s/installed/%s", dir, name);
        FILE *f = fopen(path, "wb");
        if (f == NULL)
            return -errno;
        size_t n = fwrite(p->components[i].bytes, 1, p->components[i].len, f);
        if (fclose(f) != 0 || n != p->components[i].len)
            return -EIO;
    }
    return 0;
}

int tam_peer_save(const tam_peer_t *p, const char *dir)
{
    int rc = save_key(&p->teep_key, true, dir, "teep.pem");
    if (rc == 0)
        rc = save_key(&p->teep_key, false, dir, "teep.pub.pem");
    if (rc == 0)
        rc = save_key(&p->attest_key, true, dir, "attest.pem");
    if (rc == 0)
        rc = save_key(&p->attest_key, false, dir, "attest.pub.pem");
    if (rc == 0)
        rc = save_key(&p->pd_key, true, dir, "pd.pem");
    if (rc == 0)
        rc = save_key(&p->rogue_key, true, dir, "rogue.pem");
    for (size_t i = 0; rc == 0 && i < p->n_tam_keys; i++) {
        char name[32];
        snprintf(name, sizeof(name), "tam-%zu.pem", i);
        rc = save_key(&p->tam_keys[i], false, dir, name);
    }
    if (rc == 0 && p->has_tc_signer)
        rc = save_key(&p->tc_signer, false, dir, "tc-signer.pem");
    if (rc == 0)
        rc = save_components(p, dir);
    return rc;
}

int tam_peer_load(tam_peer_t *p, const char *dir)
{
    memset(p, 0, sizeof(*p));
    p->profile = -1;
    int rc = load_key(&p->teep_key, dir, "teep.pem");
    if (rc == 0)
        rc = load_key(&p->attest_key, dir, "attest.pem");
    if (rc == 0)
        rc = load_key(&p->pd_key, dir, "pd.pem");
    if (rc == 0)
        rc = load_key(&p->rogue_key, dir, "rogue.pem");
    for (; rc == 0 && p->n_tam_keys < PEER_MAX_TAM_KEYS; p->n_tam_keys++) {
        char name[32];
        snprintf(name, sizeof(name), "tam-%zu.pem", p->n_tam_keys);
        if (load_key(&p->tam_keys[p->n_tam_keys], dir, name) != 0)
            break;
    }
    if (rc == 0 && load_key(&p->tc_signer, dir, "tc-signer.pem") == 0)
        p->has_tc_signer = true;
    if (rc != 0)
        tam_peer_clear(p);
    return rc;
}
