/* cmd_sign.c: `teep sign`: wrap an unsigned TEEP message in a COSE_Sign1
 * (one key) or a COSE_Sign (several keys, one signature each). */
#include <getopt.h>

#include "cli.h"
#include "io.h"
#include "names.h"
#include "teep/peek.h"
#include "teep_input.h"

static int run(int argc, char **argv);

const cli_cmd_t cli_cmd_sign = {
    .name = "sign",
    .summary = "sign a TEEP message: COSE_Sign1 (one key) or COSE_Sign",
    .usage =
        "Usage: teep sign --key KEY [--key KEY ...] [--alg ALG] [--out FILE]\n"
        "                 [--hex|--binary] [--profile P] FILE\n"
        "\n"
        "Sign the unsigned TEEP message in FILE (hex or binary, '-' for\n"
        "stdin; it must decode as a TEEP message).  One key makes a\n"
        "COSE_Sign1, several a COSE_Sign with one signature per key.\n"
        "Headers: protected {1: alg}, unprotected {4: kid} with the RFC\n"
        "9679 thumbprint of the key.\n"
        "\n"
        "  -k, --key KEY      private key: PEM (PKCS#8, SEC1) or COSE_Key\n"
        "                     (binary or hex); repeatable (up to 8)\n"
        "  -a, --alg ALG      esp256, ed25519, es256 or eddsa, for every\n"
        "                     key (default: ESP256 for P-256 keys, Ed25519\n"
        "                     for Ed25519 keys; legacy peers such as\n"
        "                     libteep expect es256 / eddsa)\n"
        "  -o, --out FILE     write there (binary unless --hex)\n"
        "  -x, --hex          write hex text (the default on stdout)\n"
        "  -b, --binary       write binary CBOR\n"
        "  -p, --profile P    numbering FILE is checked in: rfc, legacy or\n"
        "                     auto (default)\n"
        "  -h, --help         this text\n"
        "\n"
        "Exit status: 0 signed, 2 bad usage, unusable key, or FILE not an\n"
        "unsigned TEEP message.\n"
        "\n"
        "Example:\n"
        "  teep sign --key tam.pem --out update.cbor update.hex\n"
        "  teep sign -k tam_p256.pem -k tam_ed25519.pem query.hex\n",
    .run = run,
};

typedef struct sign_args {
    cli_keys_t keys;
    int64_t alg; /* 0: each key's default */
    int profile;
    cli_output_t out;
    const char *path;
} sign_args_t;

/* Every key must hold its private part and fit the algorithm. */
static int make_signers(const sign_args_t *a, teep_signer_t *signers)
{
    const cli_cmd_t *cmd = &cli_cmd_sign;
    for (size_t i = 0; i < a->keys.count; i++) {
        const teep_key_t *key = &a->keys.keys[i];
        if (!key->has_private)
            return cli_error(cmd,
                             "%s: public key only: signing needs the "
                             "private key",
                             a->keys.paths[i]);
        int64_t alg = a->alg != 0 ? a->alg : teep_key_default_alg(key);
        if (a->alg == 0 && !teep_key_supports_alg(key, alg))
            return cli_error(cmd,
                             "%s: this key type cannot sign (X25519 "
                             "is for key agreement only)",
                             a->keys.paths[i]);
        if (!teep_key_supports_alg(key, alg))
            return cli_error(cmd,
                             "%s: cannot sign with %s (P-256 keys "
                             "take esp256/es256, Ed25519 keys "
                             "ed25519/eddsa)",
                             a->keys.paths[i], cli_alg_name(alg));
        signers[i] = (teep_signer_t){key, a->alg};
    }
    return 0;
}

typedef struct sign_job {
    const teep_signer_t *signers;
    size_t n;
    const cli_buf_t *payload;
} sign_job_t;

/* COSE_Sign1 for one signer, COSE_Sign for several. */
static int sign_into(void *ctx, uint8_t *buf, size_t cap, size_t *len)
{
    const sign_job_t *job = ctx;
    const cli_buf_t *p = job->payload;
    if (job->n == 1)
        return teep_cose_sign1(job->signers, p->data, p->len, buf, cap, len);
    return teep_cose_sign(job->signers, job->n, p->data, p->len, buf, cap, len);
}

/* The input must be an unsigned TEEP message: signing garbage, or
 * signing a signature, is a mistake worth stopping. */
static int check_payload(const sign_args_t *a, const cli_buf_t *in)
{
    const cli_cmd_t *cmd = &cli_cmd_sign;
    cli_message_t m;
    teep_diag_t diag = {0};
    int rc = cli_message_decode(in->data, in->len, a->profile, &m, &diag);
    if (rc != 0)
        rc = cli_diag_error(cmd, a->path, rc, &diag);
    else if (m.is_cose)
        rc = cli_error(cmd,
                       "%s: already signed (%s): sign takes the "
                       "unsigned message (`teep decode FILE | teep "
                       "encode -` extracts it)",
                       cli_input_label(a->path),
                       cli_cose_structure_name(m.cose.tag));
    cli_message_free(&m);
    return rc;
}

static int sign_file(sign_args_t *a)
{
    const cli_cmd_t *cmd = &cli_cmd_sign;
    teep_signer_t signers[CLI_MAX_KEYS];
    cli_buf_t in = {0}, signed_msg = {0};
    int rc = cli_read_input(cmd, a->path, &in);
    if (rc == 0)
        rc = check_payload(a, &in);
    if (rc == 0)
        rc = cli_keys_load(cmd, &a->keys);
    if (rc == 0)
        rc = make_signers(a, signers);
    if (rc == 0) {
        sign_job_t job = {signers, a->keys.count, &in};
        /* Headers, kid and signature take about 150 bytes per signer. */
        rc = cli_buf_fill(&signed_msg, in.len + 256 * job.n, sign_into, &job);
        if (rc != 0)
            rc = cli_error(cmd, "signing failed: %s", teep_strerror(rc));
    }
    if (rc == 0)
        rc = cli_write_output(cmd, &a->out, signed_msg.data, signed_msg.len);
    cli_buf_free(&signed_msg);
    cli_buf_free(&in);
    return rc;
}

static int parse_alg(const char *arg, int64_t *alg)
{
    if (cli_alg_parse(arg, alg))
        return 0;
    return cli_usage_error(&cli_cmd_sign,
                           "unknown algorithm '%s' (use esp256, ed25519, "
                           "es256 or eddsa)",
                           arg);
}

static int parse_args(int argc, char **argv, sign_args_t *a)
{
    static const struct option options[] = {
        {"key", required_argument, NULL, 'k'},
        {"alg", required_argument, NULL, 'a'},
        {"profile", required_argument, NULL, 'p'},
        CLI_OUTPUT_OPTIONS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const cli_cmd_t *cmd = &cli_cmd_sign;
    int opt, rc = 0;
    while ((opt = getopt_long(argc, argv, ":k:a:p:h" CLI_OUTPUT_OPTSTRING,
                              options, NULL)) != -1) {
        if (opt == 'k')
            rc = cli_keys_add(cmd, &a->keys, optarg);
        else if (opt == 'a')
            rc = parse_alg(optarg, &a->alg);
        else if (opt == 'p')
            rc = cli_parse_profile(cmd, optarg, true, &a->profile);
        else if (!cli_output_option(opt, optarg, &a->out))
            return cli_option_default(cmd, opt, argv);
        if (rc != 0)
            return rc;
    }
    return cli_one_operand(cmd, argc, argv, &a->path);
}

static int run(int argc, char **argv)
{
    sign_args_t a = {.profile = TEEP_PEEK_AUTO};
    /* --help exits 0 from parse_args: tell it apart from a parsed
     * command line by the FILE operand it sets. */
    int rc = parse_args(argc, argv, &a);
    if (rc == 0 && a.path != NULL)
        rc = sign_file(&a);
    cli_keys_clear(&a.keys);
    return rc;
}
