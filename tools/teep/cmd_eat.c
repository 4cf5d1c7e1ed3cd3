/*
 * cmd_eat.c: `teep eat decode|verify|create`: attestation tokens (EAT, TEEP
 * profile; teep/eat.h) on the command line: print one as JSON, appraise one
 * as the TAM's Verifier would, or make one as an Agent would.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cbor_json.h"
#include "cli.h"
#include "io.h"
#include "json_teep.h"
#include "teep/eat.h"
#include "teep/suit.h"
#include "teep_input.h"

/* Repeatable reference values a verify command line holds. */
#define MAX_REFS 16
/* Room for a signed token: claims are bounded by the command line. */
#define TOKEN_CAP 16384

static int run(int argc, char **argv);
static int run_decode(int argc, char **argv);
static int run_verify(int argc, char **argv);
static int run_create(int argc, char **argv);

const cli_cmd_t cli_cmd_eat = {
    .name = "eat",
    .summary = "decode, verify or create attestation tokens (EAT)",
    .usage = "Usage: teep eat decode FILE\n"
             "       teep eat verify --key KEY [OPTIONS] FILE\n"
             "       teep eat create --key KEY --nonce HEX --ueid HEX "
             "[OPTIONS]\n"
             "\n"
             "Entity Attestation Tokens (RFC 9711) with the TEEP profile:\n"
             "a COSE_Sign1 around a claims map (ueid, oemid, hwmodel,\n"
             "hwversion, swname, swversion, manifests, eat_nonce, cnf, iat,\n"
             "eat_profile).\n"
             "\n"
             "  decode  print a token's claims as JSON (no signature check)\n"
             "  verify  appraise Evidence or a signed Attestation Result\n"
             "          and print the result as JSON\n"
             "  create  make Evidence signed by a device attestation key\n"
             "\n"
             "Run 'teep eat SUBCOMMAND --help' for its options.\n",
    .run = run,
};

static const cli_cmd_t eat_decode = {
    .name = "eat decode",
    .usage =
        "Usage: teep eat decode FILE\n"
        "\n"
        "Print the token in FILE (hex or binary, '-' for stdin) as JSON:\n"
        "\"cose\" (structure, alg and the signer's kid) and \"claims\", each\n"
        "by its name; byte strings in hex.  A bare claims map (no COSE)\n"
        "is accepted too.  Claims this profile does not define are under\n"
        "\"unknown\" by label.  The signature is not checked: use\n"
        "`teep eat verify`.\n"
        "\n"
        "Exit status: 0 decoded, 2 malformed (one line on stderr saying\n"
        "why and at which byte).\n"
        "\n"
        "Example:\n"
        "  teep eat decode tests/vectors/libteep_evidence_cose.hex\n",
    .run = run_decode,
};

static const cli_cmd_t eat_verify = {
    .name = "eat verify",
    .usage =
        "Usage: teep eat verify --key KEY [--key KEY ...] [--nonce HEX]\n"
        "                       [--hwmodel HEX ...] [--sw NAME[=VERSION] "
        "...]\n"
        "                       [--manifest-digest HEX ...] [--max-age S]\n"
        "                       [--cnf-kid HEX | --cnf-key KEY] [--ar]\n"
        "                       [--sign-ar KEY --out FILE] FILE\n"
        "\n"
        "Appraise the token in FILE as the TAM's Verifier and print the\n"
        "attestation result as JSON: status (affirming, warning,\n"
        "contraindicated), findings with reason and text, the key that\n"
        "verified, and the verified claims.\n"
        "\n"
        "  -k, --key KEY            an enrolled attestation public key (a\n"
        "                           Verifier key with --ar); repeatable\n"
        "  -n, --nonce HEX          the challenge the TAM issued\n"
        "  -m, --hwmodel HEX        an allowed hwmodel; repeatable\n"
        "  -s, --sw NAME[=VERSION]  allowed swname (and swversion)\n"
        "  -d, --manifest-digest HEX  an allowed manifest digest\n"
        "  -a, --max-age S          oldest acceptable iat / challenge, s\n"
        "  -c, --cnf-kid HEX        kid of the TEEP message signer's key\n"
        "  -C, --cnf-key KEY        the same, from the key itself\n"
        "      --now S              the time to judge by (default: now)\n"
        "      --challenge-time S   when the challenge was issued\n"
        "      --skew S             clock skew tolerated (default 0)\n"
        "  -r, --ar                 FILE is a signed Attestation Result\n"
        "      --sign-ar KEY        also issue a signed Attestation Result\n"
        "                           with this Verifier key, to --out\n"
        "      --issuer TEXT        its iss claim\n"
        "  -o, --out FILE           where the signed result goes\n"
        "  -x, --hex / -b, --binary its format\n"
        "  -h, --help               this text\n"
        "\n"
        "Exit status: 0 affirming, 1 warning or contraindicated, 2 bad\n"
        "usage or a malformed token.\n"
        "\n"
        "Example:\n"
        "  teep eat verify --key keys/libteep_teep_agent_prime256v1_pub.pem"
        " \\\n"
        "      --nonce A0A1A2A3A4A5A6A7A8A9AAABACADAEAF "
        "libteep_evidence_cose.hex\n",
    .run = run_verify,
};

static const cli_cmd_t eat_create = {
    .name = "eat create",
    .usage =
        "Usage: teep eat create --key KEY --nonce HEX --ueid HEX [OPTIONS]\n"
        "\n"
        "Make Evidence as a TEEP Agent would: the TEEP profile's claims,\n"
        "eat_profile " TEEP_EAT_PROFILE_URI ", signed (COSE_Sign1) with\n"
        "the device attestation KEY.\n"
        "\n"
        "  -k, --key KEY          the attestation private key\n"
        "  -n, --nonce HEX        eat_nonce: the TAM's challenge (8..64 B)\n"
        "  -u, --ueid HEX         ueid (7..33 bytes)\n"
        "      --oemid HEX        oemid: IEEE OUI (3 B) or random (16 B)\n"
        "      --oemid-pen N      oemid: a Private Enterprise Number\n"
        "  -m, --hwmodel HEX      hwmodel (1..32 bytes)\n"
        "      --hwversion V      hwversion\n"
        "      --swname NAME      swname\n"
        "      --swversion V      swversion\n"
        "      --manifest URI=HEX a manifests entry: a SUIT_Reference to\n"
        "                         URI with this SHA-256 digest; repeatable\n"
        "  -c, --cnf-kid HEX      cnf kid: the Agent's TEEP key thumbprint\n"
        "  -C, --cnf-key KEY      the same, from the key itself\n"
        "      --iat S            iat (default: now)\n"
        "      --no-iat           leave iat out\n"
        "      --iss TEXT         iss\n"
        "  -o, --out FILE         write there (binary unless --hex)\n"
        "  -x, --hex / -b, --binary  output format (hex on stdout)\n"
        "  -h, --help             this text\n"
        "\n"
        "Exit status: 0 written, 2 bad usage or unusable key.\n"
        "\n"
        "Example:\n"
        "  teep eat create --key device.pem --nonce 0102030405060708 \\\n"
        "      --ueid 0111223344556677 --hwmodel 01 --out evidence.cbor\n",
    .run = run_create,
};

static const cli_cmd_t *const subcommands[] = {&eat_decode, &eat_verify,
                                               &eat_create};

static int run(int argc, char **argv)
{
    return cli_run_subcommand(&cli_cmd_eat, subcommands,
                              sizeof(subcommands) / sizeof(subcommands[0]),
                              argc, argv);
}

/* ---- JSON --------------------------------------------------------------- */

static json_t *hex_json(teep_slice_t s)
{
    char *text = cli_hex(s.ptr, s.len);
    json_t *j = text != NULL ? json_string(text) : NULL;
    free(text);
    return j;
}

/* Decoded text is valid UTF-8 (the decoder checks), so jansson takes it. */
static json_t *text_json(teep_slice_t s)
{
    return json_stringn((const char *)s.ptr, s.len);
}

static json_t *version_json(const teep_eat_version_t *v)
{
    json_t *o = json_object();
    json_object_set_new(o, "version", text_json(v->version));
    if (v->as_bytes)
        json_object_set_new(o, "version_hex", hex_json(v->version));
    if (v->has_scheme)
        json_object_set_new(o, "scheme", json_integer(v->scheme));
    return o;
}

static json_t *manifest_json(const teep_eat_manifest_t *m)
{
    json_t *o = json_object();
    json_object_set_new(o, "content-type", json_integer(m->content_type));
    if (m->content_type != TEEP_EAT_MANIFEST_CONTENT_TYPE) {
        json_object_set_new(o, "body", hex_json(m->body));
        return o;
    }
    json_object_set_new(o, "uri", text_json(m->uri));
    json_object_set_new(o, "digest",
                        json_pack("{s:I,s:o}", "alg", (json_int_t)m->digest_alg,
                                  "value", hex_json(m->digest)));
    return o;
}

static json_t *unknown_json(const teep_eat_claims_t *c)
{
    json_t *o = json_object();
    for (size_t i = 0; i < c->n_unknown; i++) {
        const teep_eat_unknown_t *u = &c->unknown[i];
        char label[24];
        snprintf(label, sizeof(label), "%lld", (long long)u->label);
        json_t *v = cbor_json_view(u->value.ptr, u->value.len);
        if (u->text_label.ptr != NULL)
            json_object_setn_new(o, (const char *)u->text_label.ptr,
                                 u->text_label.len, v);
        else
            json_object_set_new(o, label, v);
    }
    return o;
}

/* ta-keys entry: the component both as hex and, when it is a well-formed
 * SUIT_Component_Identifier, as the text `teep suit` takes. */
static json_t *ta_key_json(const teep_eat_ta_key_t *k)
{
    json_t *o = json_object();
    json_object_set_new(o, "component-id", hex_json(k->component_id));
    char text[4 * TEEP_EAT_COMPONENT_MAX + 1];
    if (teep_suit_component_id_to_text(k->component_id, text, sizeof(text)) ==
        0)
        json_object_set_new(o, "component", json_string(text));
    json_object_set_new(o, "key-sha256", hex_json(k->key_sha256));
    return o;
}

/* Every claim by its name (teep_eat_claim_name), in label order. */
static json_t *claims_json(const teep_eat_claims_t *c)
{
    json_t *o = json_object();
#define NAME(label) teep_eat_claim_name(TEEP_EAT_LABEL_##label)
#define HAS(bit)    (c->present & TEEP_EAT_HAS_##bit)
    if (HAS(ISS))
        json_object_set_new(o, NAME(ISS), text_json(c->iss));
    if (HAS(IAT))
        json_object_set_new(o, NAME(IAT), json_integer(c->iat));
    if (HAS(CNF))
        json_object_set_new(o, NAME(CNF),
                            json_pack("{s:o}", "kid", hex_json(c->cnf_kid)));
    if (HAS(NONCE))
        json_object_set_new(o, NAME(NONCE), hex_json(c->nonce));
    if (HAS(UEID))
        json_object_set_new(o, NAME(UEID), hex_json(c->ueid));
    if (HAS(OEMID))
        json_object_set_new(o, NAME(OEMID),
                            c->oemid.is_pen ? json_integer(c->oemid.pen)
                                            : hex_json(c->oemid.id));
    if (HAS(HWMODEL))
        json_object_set_new(o, NAME(HWMODEL), hex_json(c->hwmodel));
    if (HAS(HWVERSION))
        json_object_set_new(o, NAME(HWVERSION), version_json(&c->hwversion));
    if (HAS(PROFILE))
        json_object_set_new(
            o, NAME(PROFILE),
            c->profile_is_oid ? json_pack("{s:o}", "oid", hex_json(c->profile))
                              : text_json(c->profile));
    if (HAS(SWNAME))
        json_object_set_new(o, NAME(SWNAME), text_json(c->swname));
    if (HAS(SWVERSION))
        json_object_set_new(o, NAME(SWVERSION), version_json(&c->swversion));
    if (HAS(MANIFESTS)) {
        json_t *a = json_array();
        for (size_t i = 0; i < c->n_manifests; i++)
            json_array_append_new(a, manifest_json(&c->manifests[i]));
        json_object_set_new(o, NAME(MANIFESTS), a);
    }
    if (HAS(AR_STATUS)) {
        json_object_set_new(o, NAME(AR_STATUS), json_integer(c->ar_status));
        json_object_set_new(o, "ar-status_name",
                            json_string(teep_eat_status_name(c->ar_status)));
    }
    if (HAS(AR_REASONS)) {
        json_t *codes = json_array(), *names = json_array();
        for (size_t i = 0; i < c->n_ar_reasons; i++) {
            json_array_append_new(codes, json_integer(c->ar_reasons[i]));
            json_array_append_new(
                names, json_string(teep_eat_reason_name(c->ar_reasons[i])));
        }
        json_object_set_new(o, NAME(AR_REASONS), codes);
        json_object_set_new(o, "ar-reasons_names", names);
    }
    if (HAS(PD_KEY)) {
        json_object_set_new(o, NAME(PD_KEY), hex_json(c->pd_key));
        /* the COSE_Key itself, readable */
        json_object_set_new(o, "pd-key_cose_key",
                            cbor_json_view(c->pd_key.ptr, c->pd_key.len));
    }
    if (HAS(TA_KEYS)) {
        json_t *a = json_array();
        for (size_t i = 0; i < c->n_ta_keys; i++)
            json_array_append_new(a, ta_key_json(&c->ta_keys[i]));
        json_object_set_new(o, NAME(TA_KEYS), a);
    }
#undef NAME
#undef HAS
    if (c->n_unknown > 0)
        json_object_set_new(o, "unknown", unknown_json(c));
    return o;
}

static json_t *result_json(const teep_eat_result_t *r)
{
    json_t *findings = json_array();
    for (size_t i = 0; i < r->n_findings; i++) {
        const teep_eat_finding_t *f = &r->findings[i];
        json_array_append_new(findings,
                              json_pack("{s:s,s:s,s:s}", "reason",
                                        teep_eat_reason_name(f->reason), "tier",
                                        teep_eat_status_name(f->tier), "text",
                                        f->text));
    }
    json_t *o =
        json_pack("{s:s,s:i,s:o}", "status", teep_eat_status_name(r->status),
                  "status_code", (int)r->status, "findings", findings);
    if (r->key != NULL)
        json_object_set_new(o, "key", json_string(r->key->label));
    if (r->kid.len > 0)
        json_object_set_new(o, "kid", hex_json(r->kid));
    if (r->claims_verified)
        json_object_set_new(o, "claims", claims_json(&r->claims));
    return o;
}

/* ---- Options ------------------------------------------------------------ */

/* A hex option of min..max bytes into out. */
static int parse_hex(const cli_cmd_t *cmd, const char *option, const char *arg,
                     size_t min, size_t max, uint8_t *out, size_t *len)
{
    size_t digits = strlen(arg);
    if (digits % 2 != 0 || digits / 2 < min || digits / 2 > max ||
        cli_unhex(arg, digits, out) != 0)
        return cli_usage_error(cmd, "--%s: expected %zu..%zu bytes in hex",
                               option, min, max);
    *len = digits / 2;
    return 0;
}

static int parse_int(const cli_cmd_t *cmd, const char *option, const char *arg,
                     int64_t min, int64_t max, int64_t *out)
{
    char *end;
    long long v = strtoll(arg, &end, 10);
    if (*arg == '\0' || *end != '\0' || v < min || v > max)
        return cli_usage_error(cmd, "--%s: expected an integer %lld..%lld",
                               option, (long long)min, (long long)max);
    *out = v;
    return 0;
}

/* The RFC 9679 thumbprint of the key in path, for --cnf-key. */
static int kid_of_key(const cli_cmd_t *cmd, const char *path, uint8_t kid[32])
{
    teep_key_t key = {0};
    int rc = teep_key_load_file(&key, path);
    if (rc == 0)
        memcpy(kid, key.kid, sizeof(key.kid));
    teep_key_clear(&key);
    if (rc != 0)
        return cli_error(cmd, "%s: cannot load key: %s", path,
                         teep_strerror(rc));
    return 0;
}

/* ---- decode ------------------------------------------------------------- */

static int run_decode(int argc, char **argv)
{
    static const struct option options[] = {
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const cli_cmd_t *cmd = &eat_decode;
    int opt;
    while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1)
        return cli_option_default(cmd, opt, argv);
    const char *path;
    int rc = cli_one_operand(cmd, argc, argv, &path);
    if (rc != 0)
        return rc;
    cli_buf_t in;
    rc = cli_read_input(cmd, path, &in);
    if (rc != 0)
        return rc;
    teep_diag_t diag = {0};
    teep_cose_t cose;
    teep_eat_claims_t claims;
    /* A map (major type 5) is a bare claims set; anything else must be a
     * token. */
    bool bare = (in.data[0] >> 5) == 5;
    rc = bare ? teep_eat_claims_decode(in.data, in.len, &claims, &diag)
              : teep_eat_parse(in.data, in.len, &cose, &claims, &diag);
    if (rc != 0) {
        rc = cli_diag_error(cmd, path, rc, &diag);
    } else {
        json_t *root = json_object();
        if (!bare)
            json_object_set_new(root, "cose", json_teep_from_cose(&cose));
        json_object_set_new(root, "claims", claims_json(&claims));
        rc = cli_print_json(cmd, root);
    }
    cli_buf_free(&in);
    return rc;
}

/* ---- verify ------------------------------------------------------------- */

typedef struct verify_args {
    cli_keys_t keys;
    teep_eat_trusted_key_t trusted[CLI_MAX_KEYS];
    teep_eat_policy_t policy;
    uint8_t nonce[TEEP_EAT_NONCE_MAX];
    uint8_t cnf[TEEP_EAT_KID_MAX];
    uint8_t hwmodels[MAX_REFS][TEEP_EAT_HWMODEL_MAX];
    teep_slice_t hwmodel_list[MAX_REFS];
    uint8_t digests[MAX_REFS][TEEP_EAT_DIGEST_MAX];
    teep_slice_t digest_list[MAX_REFS];
    teep_eat_sw_ref_t sw[MAX_REFS];
    bool is_ar;
    const char *ar_key;
    const char *issuer;
    cli_output_t out;
    const char *path;
} verify_args_t;

enum {
    OPT_NOW = 256,
    OPT_CHALLENGE_TIME,
    OPT_SKEW,
    OPT_SIGN_AR,
    OPT_ISSUER,
    OPT_OEMID,
    OPT_OEMID_PEN,
    OPT_HWVERSION,
    OPT_SWNAME,
    OPT_SWVERSION,
    OPT_MANIFEST,
    OPT_IAT,
    OPT_NO_IAT,
    OPT_ISS,
};

static int add_ref(const cli_cmd_t *cmd, const char *option, size_t *count)
{
    if (*count == MAX_REFS)
        return cli_usage_error(cmd, "at most %d --%s options", MAX_REFS,
                               option);
    (*count)++;
    return 0;
}

/* NAME[=VERSION]; the '=' is overwritten to end the name. */
static int add_sw(verify_args_t *a, char *arg)
{
    int rc = add_ref(&eat_verify, "sw", &a->policy.n_sw);
    if (rc != 0)
        return rc;
    char *eq = strchr(arg, '=');
    if (eq != NULL)
        *eq = '\0';
    a->sw[a->policy.n_sw - 1] =
        (teep_eat_sw_ref_t){arg, eq != NULL ? eq + 1 : NULL};
    return 0;
}

static int verify_option(verify_args_t *a, int opt, char *arg, char **argv)
{
    const cli_cmd_t *cmd = &eat_verify;
    teep_eat_policy_t *p = &a->policy;
    int64_t v = 0;
    int rc;
    switch (opt) {
    case 'k': return cli_keys_add(cmd, &a->keys, arg);
    case 'n':
        p->nonce.ptr = a->nonce;
        return parse_hex(cmd, "nonce", arg, TEEP_EAT_NONCE_MIN,
                         TEEP_EAT_NONCE_MAX, a->nonce, &p->nonce.len);
    case 'm':
        rc = add_ref(cmd, "hwmodel", &p->n_hwmodels);
        if (rc == 0) {
            teep_slice_t *s = &a->hwmodel_list[p->n_hwmodels - 1];
            s->ptr = a->hwmodels[p->n_hwmodels - 1];
            rc = parse_hex(cmd, "hwmodel", arg, 1, TEEP_EAT_HWMODEL_MAX,
                           a->hwmodels[p->n_hwmodels - 1], &s->len);
        }
        return rc;
    case 'd':
        rc = add_ref(cmd, "manifest-digest", &p->n_manifest_digests);
        if (rc == 0) {
            size_t i = p->n_manifest_digests - 1;
            a->digest_list[i].ptr = a->digests[i];
            rc = parse_hex(cmd, "manifest-digest", arg, 1, TEEP_EAT_DIGEST_MAX,
                           a->digests[i], &a->digest_list[i].len);
        }
        return rc;
    case 's': return add_sw(a, arg);
    case 'c':
        p->cnf_kid.ptr = a->cnf;
        return parse_hex(cmd, "cnf-kid", arg, 1, TEEP_EAT_KID_MAX, a->cnf,
                         &p->cnf_kid.len);
    case 'C':
        p->cnf_kid = (teep_slice_t){a->cnf, 32};
        return kid_of_key(cmd, arg, a->cnf);
    case 'a':
        rc = parse_int(cmd, "max-age", arg, 1, UINT32_MAX, &v);
        p->max_age = (uint32_t)v;
        return rc;
    case OPT_NOW: return parse_int(cmd, "now", arg, 1, INT64_MAX, &p->now);
    case OPT_CHALLENGE_TIME:
        return parse_int(cmd, "challenge-time", arg, 1, INT64_MAX,
                         &p->challenge_time);
    case OPT_SKEW:
        rc = parse_int(cmd, "skew", arg, 0, UINT32_MAX, &v);
        p->clock_skew = (uint32_t)v;
        return rc;
    case 'r': a->is_ar = true; return 0;
    case OPT_SIGN_AR: a->ar_key = arg; return 0;
    case OPT_ISSUER: a->issuer = arg; return 0;
    default:
        if (cli_output_option(opt, arg, &a->out))
            return 0;
        return cli_option_default(cmd, opt, argv);
    }
}

static int parse_verify(int argc, char **argv, verify_args_t *a)
{
    static const struct option options[] = {
        {"key", required_argument, NULL, 'k'},
        {"nonce", required_argument, NULL, 'n'},
        {"hwmodel", required_argument, NULL, 'm'},
        {"sw", required_argument, NULL, 's'},
        {"manifest-digest", required_argument, NULL, 'd'},
        {"max-age", required_argument, NULL, 'a'},
        {"cnf-kid", required_argument, NULL, 'c'},
        {"cnf-key", required_argument, NULL, 'C'},
        {"now", required_argument, NULL, OPT_NOW},
        {"challenge-time", required_argument, NULL, OPT_CHALLENGE_TIME},
        {"skew", required_argument, NULL, OPT_SKEW},
        {"ar", no_argument, NULL, 'r'},
        {"sign-ar", required_argument, NULL, OPT_SIGN_AR},
        {"issuer", required_argument, NULL, OPT_ISSUER},
        CLI_OUTPUT_OPTIONS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const cli_cmd_t *cmd = &eat_verify;
    int opt;
    while ((opt = getopt_long(argc, argv,
                              ":k:n:m:s:d:a:c:C:rh" CLI_OUTPUT_OPTSTRING,
                              options, NULL)) != -1) {
        int rc = verify_option(a, opt, optarg, argv);
        if (rc != 0 || opt == 'h')
            return rc;
    }
    if (a->ar_key != NULL && a->out.path == NULL)
        return cli_usage_error(cmd, "--sign-ar needs --out FILE");
    return cli_one_operand(cmd, argc, argv, &a->path);
}

/* Issue the signed Attestation Result of res (passport model). */
static int sign_ar(const verify_args_t *a, const teep_eat_result_t *res)
{
    const cli_cmd_t *cmd = &eat_verify;
    teep_key_t key = {0};
    uint8_t *token = malloc(TOKEN_CAP);
    size_t len = 0;
    int rc = token != NULL ? teep_key_load_file(&key, a->ar_key) : -ENOMEM;
    if (rc != 0) {
        rc = cli_error(cmd, "%s: cannot load key: %s", a->ar_key,
                       teep_strerror(rc));
    } else {
        teep_signer_t signer = {&key, 0};
        rc = teep_eat_ar_sign(&signer, res, a->issuer, a->policy.now, token,
                              TOKEN_CAP, &len);
        rc = rc != 0 ? cli_error(cmd, "cannot sign the result: %s",
                                 teep_strerror(rc))
                     : cli_write_output(cmd, &a->out, token, len);
    }
    teep_key_clear(&key);
    free(token);
    return rc;
}

static int verify_file(verify_args_t *a)
{
    const cli_cmd_t *cmd = &eat_verify;
    int rc = cli_keys_load(cmd, &a->keys);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < a->keys.count; i++)
        a->trusted[i] =
            (teep_eat_trusted_key_t){&a->keys.keys[i], a->keys.paths[i]};
    a->policy.keys = a->trusted;
    a->policy.n_keys = a->keys.count;
    a->policy.hwmodels = a->hwmodel_list;
    a->policy.manifest_digests = a->digest_list;
    a->policy.sw = a->sw;
    if (a->policy.now == 0)
        a->policy.now = (int64_t)time(NULL);

    cli_buf_t in;
    rc = cli_read_input(cmd, a->path, &in);
    if (rc != 0)
        return rc;
    teep_eat_result_t *res = malloc(sizeof(*res));
    if (res == NULL) {
        cli_buf_free(&in);
        return cli_error(cmd, "out of memory");
    }
    rc = a->is_ar ? teep_eat_verify_ar(in.data, in.len, &a->policy, res)
                  : teep_eat_verify_evidence(in.data, in.len, &a->policy, res);
    if (rc != 0 && res->diag.code == rc) {
        /* malformed: the JSON still says so, then exit 2 */
        cli_print_json(cmd, result_json(res));
        rc = cli_diag_error(cmd, a->path, rc, &res->diag);
    } else if (rc != 0) {
        rc = cli_error(cmd, "%s: %s", cli_input_label(a->path),
                       teep_strerror(rc));
    } else {
        rc = cli_print_json(cmd, result_json(res));
        if (rc == 0 && a->ar_key != NULL)
            rc = sign_ar(a, res);
        if (rc == 0 && res->status != TEEP_EAT_STATUS_AFFIRMING)
            rc = CLI_EXIT_FAIL;
    }
    free(res);
    cli_buf_free(&in);
    return rc;
}

static int run_verify(int argc, char **argv)
{
    verify_args_t *a = calloc(1, sizeof(*a));
    if (a == NULL)
        return cli_error(&eat_verify, "out of memory");
    /* --help returns 0 without a FILE: only a parsed command line has
     * one. */
    int rc = parse_verify(argc, argv, a);
    if (rc == 0 && a->path != NULL)
        rc = verify_file(a);
    cli_keys_clear(&a->keys);
    free(a);
    return rc;
}

/* ---- create ------------------------------------------------------------- */

typedef struct create_args {
    cli_keys_t keys;
    teep_eat_claims_t claims;
    uint8_t nonce[TEEP_EAT_NONCE_MAX];
    uint8_t ueid[TEEP_EAT_UEID_MAX];
    uint8_t oemid[16];
    uint8_t hwmodel[TEEP_EAT_HWMODEL_MAX];
    uint8_t cnf[TEEP_EAT_KID_MAX];
    uint8_t digests[TEEP_EAT_MAX_MANIFESTS][TEEP_EAT_DIGEST_MAX];
    bool no_iat;
    bool help;
    cli_output_t out;
} create_args_t;

static teep_slice_t text_slice(const char *s)
{
    return (teep_slice_t){(const uint8_t *)s, strlen(s)};
}

/* URI=HEX: a SUIT_Reference with a SHA-256 digest. */
static int add_manifest(create_args_t *a, const char *arg)
{
    const cli_cmd_t *cmd = &eat_create;
    teep_eat_claims_t *c = &a->claims;
    const char *eq = strrchr(arg, '=');
    if (eq == NULL || eq == arg)
        return cli_usage_error(cmd, "--manifest: expected URI=HEXDIGEST");
    if (c->n_manifests == TEEP_EAT_MAX_MANIFESTS)
        return cli_usage_error(cmd, "at most %d --manifest options",
                               TEEP_EAT_MAX_MANIFESTS);
    size_t i = c->n_manifests;
    teep_eat_manifest_t *m = &c->manifests[i];
    *m = (teep_eat_manifest_t){
        .content_type = TEEP_EAT_MANIFEST_CONTENT_TYPE,
        .uri = {(const uint8_t *)arg, (size_t)(eq - arg)},
        .digest_alg = -16, /* SHA-256 */
        .digest = {a->digests[i], 0},
    };
    int rc = parse_hex(cmd, "manifest", eq + 1, 32, 32, a->digests[i],
                       &m->digest.len);
    if (rc == 0) {
        c->n_manifests++;
        c->present |= TEEP_EAT_HAS_MANIFESTS;
    }
    return rc;
}

static int create_option(create_args_t *a, int opt, char *arg, char **argv)
{
    const cli_cmd_t *cmd = &eat_create;
    teep_eat_claims_t *c = &a->claims;
    int rc;
    /* Each claim option sets its present bit; a bad value fails the whole
     * command, so the bit of a refused option does not matter. */
    switch (opt) {
    case 'k': return cli_keys_add(cmd, &a->keys, arg);
    case 'n':
        c->present |= TEEP_EAT_HAS_NONCE;
        c->nonce.ptr = a->nonce;
        return parse_hex(cmd, "nonce", arg, TEEP_EAT_NONCE_MIN,
                         TEEP_EAT_NONCE_MAX, a->nonce, &c->nonce.len);
    case 'u':
        c->present |= TEEP_EAT_HAS_UEID;
        c->ueid.ptr = a->ueid;
        return parse_hex(cmd, "ueid", arg, TEEP_EAT_UEID_MIN, TEEP_EAT_UEID_MAX,
                         a->ueid, &c->ueid.len);
    case OPT_OEMID:
        c->present |= TEEP_EAT_HAS_OEMID;
        c->oemid = (teep_eat_oemid_t){.id = {a->oemid, 0}};
        rc = parse_hex(cmd, "oemid", arg, 3, 16, a->oemid, &c->oemid.id.len);
        if (rc == 0 && c->oemid.id.len != 3 && c->oemid.id.len != 16)
            rc = cli_usage_error(cmd, "--oemid: 3 or 16 bytes");
        return rc;
    case OPT_OEMID_PEN:
        c->present |= TEEP_EAT_HAS_OEMID;
        c->oemid = (teep_eat_oemid_t){.is_pen = true};
        return parse_int(cmd, "oemid-pen", arg, 0, INT64_MAX, &c->oemid.pen);
    case 'm':
        c->present |= TEEP_EAT_HAS_HWMODEL;
        c->hwmodel.ptr = a->hwmodel;
        return parse_hex(cmd, "hwmodel", arg, 1, TEEP_EAT_HWMODEL_MAX,
                         a->hwmodel, &c->hwmodel.len);
    case OPT_HWVERSION:
        c->present |= TEEP_EAT_HAS_HWVERSION;
        c->hwversion = (teep_eat_version_t){.version = text_slice(arg)};
        return 0;
    case OPT_SWNAME:
        c->present |= TEEP_EAT_HAS_SWNAME;
        c->swname = text_slice(arg);
        return 0;
    case OPT_SWVERSION:
        c->present |= TEEP_EAT_HAS_SWVERSION;
        c->swversion = (teep_eat_version_t){.version = text_slice(arg)};
        return 0;
    case OPT_MANIFEST: return add_manifest(a, arg);
    case 'c':
        c->present |= TEEP_EAT_HAS_CNF;
        c->cnf_kid.ptr = a->cnf;
        return parse_hex(cmd, "cnf-kid", arg, 1, TEEP_EAT_KID_MAX, a->cnf,
                         &c->cnf_kid.len);
    case 'C':
        c->present |= TEEP_EAT_HAS_CNF;
        c->cnf_kid = (teep_slice_t){a->cnf, 32};
        return kid_of_key(cmd, arg, a->cnf);
    case OPT_IAT:
        c->present |= TEEP_EAT_HAS_IAT;
        return parse_int(cmd, "iat", arg, INT64_MIN, INT64_MAX, &c->iat);
    case OPT_NO_IAT: a->no_iat = true; return 0;
    case OPT_ISS:
        c->present |= TEEP_EAT_HAS_ISS;
        c->iss = text_slice(arg);
        return 0;
    case 'h': a->help = true; return cli_option_default(cmd, opt, argv);
    default:
        if (cli_output_option(opt, arg, &a->out))
            return 0;
        return cli_option_default(cmd, opt, argv);
    }
}

static int parse_create(int argc, char **argv, create_args_t *a)
{
    static const struct option options[] = {
        {"key", required_argument, NULL, 'k'},
        {"nonce", required_argument, NULL, 'n'},
        {"ueid", required_argument, NULL, 'u'},
        {"oemid", required_argument, NULL, OPT_OEMID},
        {"oemid-pen", required_argument, NULL, OPT_OEMID_PEN},
        {"hwmodel", required_argument, NULL, 'm'},
        {"hwversion", required_argument, NULL, OPT_HWVERSION},
        {"swname", required_argument, NULL, OPT_SWNAME},
        {"swversion", required_argument, NULL, OPT_SWVERSION},
        {"manifest", required_argument, NULL, OPT_MANIFEST},
        {"cnf-kid", required_argument, NULL, 'c'},
        {"cnf-key", required_argument, NULL, 'C'},
        {"iat", required_argument, NULL, OPT_IAT},
        {"no-iat", no_argument, NULL, OPT_NO_IAT},
        {"iss", required_argument, NULL, OPT_ISS},
        CLI_OUTPUT_OPTIONS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const cli_cmd_t *cmd = &eat_create;
    int opt;
    while ((opt = getopt_long(argc, argv, ":k:n:u:m:c:C:h" CLI_OUTPUT_OPTSTRING,
                              options, NULL)) != -1) {
        int rc = create_option(a, opt, optarg, argv);
        if (rc != 0 || a->help)
            return rc;
    }
    if (optind < argc)
        return cli_usage_error(cmd, "unexpected operand '%s'", argv[optind]);
    if (!(a->claims.present & TEEP_EAT_HAS_NONCE))
        return cli_usage_error(cmd, "missing --nonce HEX");
    if (!(a->claims.present & TEEP_EAT_HAS_UEID))
        return cli_usage_error(cmd, "missing --ueid HEX");
    if (a->keys.count > 1)
        return cli_usage_error(cmd, "one --key: Evidence has one signer");
    return 0;
}

static int create_token(create_args_t *a)
{
    const cli_cmd_t *cmd = &eat_create;
    teep_eat_claims_t *c = &a->claims;
    int rc = cli_keys_load(cmd, &a->keys);
    if (rc != 0)
        return rc;
    if (!a->keys.keys[0].has_private)
        return cli_error(cmd, "%s: not a private key", a->keys.paths[0]);
    if (a->no_iat) {
        c->present &= ~(uint32_t)TEEP_EAT_HAS_IAT;
    } else if (!(c->present & TEEP_EAT_HAS_IAT)) {
        c->present |= TEEP_EAT_HAS_IAT;
        c->iat = (int64_t)time(NULL);
    }
    c->present |= TEEP_EAT_HAS_PROFILE;
    c->profile = text_slice(TEEP_EAT_PROFILE_URI);

    uint8_t *token = malloc(TOKEN_CAP);
    if (token == NULL)
        return cli_error(cmd, "out of memory");
    teep_signer_t signer = {&a->keys.keys[0], 0};
    size_t len = 0;
    rc = teep_eat_sign(&signer, c, token, TOKEN_CAP, &len);
    if (rc == -EINVAL)
        rc = cli_usage_error(cmd,
                             "a claim is outside the TEEP profile's "
                             "sizes (text of 1..%d bytes)",
                             TEEP_EAT_TEXT_MAX);
    else if (rc != 0)
        rc = cli_error(cmd, "cannot sign: %s", teep_strerror(rc));
    else
        rc = cli_write_output(cmd, &a->out, token, len);
    free(token);
    return rc;
}

static int run_create(int argc, char **argv)
{
    create_args_t *a = calloc(1, sizeof(*a));
    if (a == NULL)
        return cli_error(&eat_create, "out of memory");
    int rc = parse_create(argc, argv, a);
    if (rc == 0 && !a->help)
        rc = create_token(a);
    cli_keys_clear(&a->keys);
    free(a);
    return rc;
}
