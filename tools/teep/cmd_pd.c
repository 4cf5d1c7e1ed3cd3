/*
 * cmd_pd.c: `teep pd encrypt|decrypt`: personalization data (teep/pd.h)
 * on the command line.  A data owner encrypts PD to the public key of the
 * TEE that passed attestation; the TEE (or a test) decrypts it with the
 * private key.  The one-file form is the PD blob [encryption-info,
 * ciphertext]; --info keeps the SUIT_Encryption_Info apart, as a SUIT
 * manifest carries it.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "io.h"
#include "teep/pd.h"

static int run(int argc, char **argv);
static int run_encrypt(int argc, char **argv);
static int run_decrypt(int argc, char **argv);

const cli_cmd_t cli_cmd_pd = {
    .name = "pd",
    .summary = "encrypt or decrypt personalization data (SUIT encryption)",
    .usage = "Usage: teep pd encrypt --to KEY [OPTIONS] FILE\n"
             "       teep pd decrypt --key KEY [OPTIONS] FILE\n"
             "\n"
             "Personalization data (PD) travels only encrypted, to a key\n"
             "that only the attested TEE holds (docs/pd.md).  The format is\n"
             "SUIT's: a SUIT_Encryption_Info (COSE_Encrypt, ECDH-ES to the\n"
             "TEE's P-256 or X25519 key) and the ciphertext, shipped as one\n"
             "PD blob [encryption-info, ciphertext] or as two files.\n"
             "\n"
             "  encrypt  what the data owner runs, with the TEE's public key\n"
             "  decrypt  what the TEE does, with its private key\n"
             "\n"
             "Run 'teep pd SUBCOMMAND --help' for its options.\n",
    .run = run,
};

static const cli_cmd_t pd_encrypt = {
    .name = "pd encrypt",
    .usage =
        "Usage: teep pd encrypt --to KEY [--profile NAME] [--kid HEX | "
        "--no-kid]\n"
        "                       [--info FILE] [--out FILE] [--hex | "
        "--binary] FILE\n"
        "\n"
        "Encrypt FILE (taken as it is, '-' for stdin) to the public key KEY\n"
        "(PEM or COSE_Key, P-256 or X25519) with a fresh ephemeral key,\n"
        "content key and IV, and write the PD blob.\n"
        "\n"
        "  -t, --to KEY        the recipient TEE's public key\n"
        "  -p, --profile NAME  one of (the SUIT profile names work too):\n"
        "        esp256-a128kw-a128gcm     P-256, ECDH-ES+A128KW, A128GCM\n"
        "                                  (default for a P-256 key)\n"
        "        esp256-a128kw-a128ctr     P-256, ECDH-ES+A128KW, A128CTR\n"
        "        x25519-a128kw-a128ctr     X25519, ECDH-ES+A128KW, A128CTR\n"
        "        x25519-a128kw-chachapoly  X25519, ECDH-ES+A128KW,\n"
        "                                  ChaCha20/Poly1305 (default for\n"
        "                                  an X25519 key)\n"
        "        esp256-hkdf-a128gcm       P-256, ECDH-ES+HKDF-256 direct\n"
        "        x25519-hkdf-chachapoly    X25519, ECDH-ES+HKDF-256 direct\n"
        "                      A128CTR authenticates nothing: the manifest\n"
        "                      must carry the plaintext's digest.\n"
        "  -k, --kid HEX       the recipient kid to write (default: the\n"
        "                      key's RFC 9679 thumbprint)\n"
        "      --no-kid        write no kid\n"
        "  -i, --info FILE     write the SUIT_Encryption_Info to FILE\n"
        "                      (binary) and only the ciphertext to the\n"
        "                      output, for a SUIT manifest's parameters\n"
        "                      encryption-info (19) and content (18)\n"
        "  -o, --out FILE      write there (binary unless --hex)\n"
        "  -x, --hex / -b, --binary  output format (hex on stdout)\n"
        "  -h, --help          this text\n"
        "\n"
        "Exit status: 0 written, 2 bad usage, unusable key or file.\n"
        "\n"
        "Example:\n"
        "  teep pd encrypt --to tee_pub.pem --out config.pd config.json\n",
    .run = run_encrypt,
};

static const cli_cmd_t pd_decrypt = {
    .name = "pd decrypt",
    .usage =
        "Usage: teep pd decrypt --key KEY [--info FILE] [--out FILE]\n"
        "                       [--hex | --binary] FILE\n"
        "\n"
        "Decrypt the PD blob in FILE (hex or binary, '-' for stdin) with\n"
        "the private key KEY and write the plaintext.  With --info, FILE is\n"
        "the bare ciphertext and the SUIT_Encryption_Info comes from the\n"
        "other file (as in the published suitenc_* vectors).\n"
        "\n"
        "  -k, --key KEY       the TEE's private key (PEM or COSE_Key)\n"
        "  -i, --info FILE     the SUIT_Encryption_Info (hex or binary)\n"
        "  -o, --out FILE      write there (binary unless --hex)\n"
        "  -x, --hex / -b, --binary  output format (hex on stdout)\n"
        "  -h, --help          this text\n"
        "\n"
        "With A128CTR a changed ciphertext still decrypts (to other bytes):\n"
        "compare the digest the manifest states.\n"
        "\n"
        "Exit status: 0 decrypted, 1 decryption failed (not encrypted to\n"
        "this key, or altered), 2 bad usage, a public key, or malformed\n"
        "input.\n"
        "\n"
        "Example:\n"
        "  teep pd decrypt --key tee.pem --out config.json config.pd\n",
    .run = run_decrypt,
};

static const cli_cmd_t *const subcommands[] = {&pd_encrypt, &pd_decrypt};

static int run(int argc, char **argv)
{
    return cli_run_subcommand(&cli_cmd_pd, subcommands,
                              sizeof(subcommands) / sizeof(subcommands[0]),
                              argc, argv);
}

/* Load KEY or say why not. */
static int load_key(const cli_cmd_t *cmd, const char *path, teep_key_t *key)
{
    int rc = teep_key_load_file(key, path);
    if (rc != 0)
        return cli_error(cmd,
                         "%s: cannot load key: %s (expected PEM, or a "
                         "COSE_Key in binary or hex)",
                         path, teep_strerror(rc));
    return 0;
}

static const char *key_type_name(teep_key_type_t type)
{
    switch (type) {
    case TEEP_KEY_P256: return "P-256";
    case TEEP_KEY_ED25519: return "Ed25519";
    case TEEP_KEY_X25519: return "X25519";
    default: return "unknown";
    }
}

/* ---- encrypt ------------------------------------------------------------ */

typedef struct encrypt_args {
    const char *to;
    const char *profile;
    const char *info_path;
    bool no_kid;
    uint8_t kid[TEEP_PD_KID_MAX];
    size_t kid_len; /* with has_kid */
    bool has_kid;
    cli_output_t out;
} encrypt_args_t;

static int parse_kid(const char *arg, encrypt_args_t *a)
{
    size_t n = strlen(arg);
    if (n == 0 || n % 2 != 0 || n / 2 > TEEP_PD_KID_MAX ||
        cli_unhex(arg, n, a->kid) != 0)
        return cli_usage_error(&pd_encrypt,
                               "--kid: expected 1 to %d bytes of hex",
                               TEEP_PD_KID_MAX);
    a->kid_len = n / 2;
    a->has_kid = true;
    return 0;
}

/* The algorithms: the named profile (its key type must be the key's), or
 * the default for the key. */
static int choose_params(const encrypt_args_t *a, const teep_key_t *key,
                         teep_pd_params_t *params)
{
    const cli_cmd_t *cmd = &pd_encrypt;
    if (key->type != TEEP_KEY_P256 && key->type != TEEP_KEY_X25519)
        return cli_error(cmd,
                         "%s: %s keys only sign: give the TEE's P-256 or "
                         "X25519 key",
                         a->to, key_type_name(key->type));
    *params = (teep_pd_params_t){0};
    if (a->profile != NULL) {
        const teep_pd_profile_t *p = teep_pd_profile_find(a->profile);
        if (p == NULL)
            return cli_usage_error(cmd, "unknown profile '%s'", a->profile);
        if (p->key_type != key->type)
            return cli_error(cmd, "profile %s is for %s keys, not %s (%s)",
                             p->name, key_type_name(p->key_type),
                             key_type_name(key->type), a->to);
        params->key_alg = p->key_alg;
        params->content_alg = p->content_alg;
    }
    if (a->has_kid)
        params->kid = (teep_slice_t){a->kid, a->kid_len};
    else if (!a->no_kid)
        params->kid = (teep_slice_t){key->kid, sizeof(key->kid)};
    return 0;
}

static int encrypt_file(const encrypt_args_t *a, const char *path)
{
    const cli_cmd_t *cmd = &pd_encrypt;
    teep_key_t key = {0};
    teep_pd_params_t params;
    cli_buf_t plain = {0};
    uint8_t *out = NULL;
    int rc = load_key(cmd, a->to, &key);
    if (rc == 0)
        rc = choose_params(a, &key, &params);
    /* As it is: a hex-looking plaintext must stay text. */
    if (rc == 0)
        rc = cli_read_file(cmd, path, &plain);
    if (rc != 0)
        goto done;
    size_t cap = TEEP_PD_BLOB_MAX(plain.len), len = 0, info_len = 0;
    uint8_t info[TEEP_PD_INFO_MAX];
    out = malloc(cap);
    if (out == NULL) {
        rc = cli_error(cmd, "out of memory");
        goto done;
    }
    int prc = a->info_path != NULL
                  ? teep_pd_encrypt(&key, &params, plain.data, plain.len, info,
                                    sizeof(info), &info_len, out, cap, &len)
                  : teep_pd_encrypt_blob(&key, &params, plain.data, plain.len,
                                         out, cap, &len);
    if (prc != 0) {
        rc = cli_error(cmd, "%s: cannot encrypt: %s", cli_input_label(path),
                       teep_strerror(prc));
        goto done;
    }
    if (a->info_path != NULL)
        rc = cli_write_file(cmd, a->info_path, 0644, info, info_len);
    if (rc == 0)
        rc = cli_write_output(cmd, &a->out, out, len);
done:
    if (plain.data != NULL)
        explicit_bzero(plain.data, plain.len);
    cli_buf_free(&plain);
    free(out);
    teep_key_clear(&key);
    return rc;
}

static int run_encrypt(int argc, char **argv)
{
    enum { OPT_NO_KID = 256 };
    static const struct option options[] = {
        {"to", required_argument, NULL, 't'},
        {"profile", required_argument, NULL, 'p'},
        {"kid", required_argument, NULL, 'k'},
        {"no-kid", no_argument, NULL, OPT_NO_KID},
        {"info", required_argument, NULL, 'i'},
        CLI_OUTPUT_OPTIONS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const cli_cmd_t *cmd = &pd_encrypt;
    encrypt_args_t a = {0};
    int opt, rc = 0;
    while ((opt = getopt_long(argc, argv, ":t:p:k:i:" CLI_OUTPUT_OPTSTRING "h",
                              options, NULL)) != -1) {
        switch (opt) {
        case 't': a.to = optarg; break;
        case 'p': a.profile = optarg; break;
        case 'k': rc = parse_kid(optarg, &a); break;
        case OPT_NO_KID: a.no_kid = true; break;
        case 'i': a.info_path = optarg; break;
        default:
            if (!cli_output_option(opt, optarg, &a.out))
                return cli_option_default(cmd, opt, argv);
        }
        if (rc != 0)
            return rc;
    }
    if (a.to == NULL)
        return cli_usage_error(cmd, "missing --to KEY (the TEE's public key)");
    if (a.has_kid && a.no_kid)
        return cli_usage_error(cmd, "--kid and --no-kid together");
    const char *path;
    rc = cli_one_operand(cmd, argc, argv, &path);
    return rc != 0 ? rc : encrypt_file(&a, path);
}

/* ---- decrypt ------------------------------------------------------------ */

typedef struct decrypt_args {
    const char *key;
    const char *info_path;
    cli_output_t out;
} decrypt_args_t;

static int decrypt_file(const decrypt_args_t *a, const char *path)
{
    const cli_cmd_t *cmd = &pd_decrypt;
    teep_key_t key = {0};
    cli_buf_t input = {0}, info = {0};
    uint8_t *plain = NULL;
    size_t len = 0;
    int rc = load_key(cmd, a->key, &key);
    if (rc == 0 && !key.has_private)
        rc = cli_error(cmd,
                       "%s: a public key cannot decrypt: give the TEE's "
                       "private key",
                       a->key);
    if (rc == 0)
        rc = cli_read_input(cmd, path, &input);
    if (rc == 0 && a->info_path != NULL)
        rc = cli_read_input(cmd, a->info_path, &info);
    if (rc != 0)
        goto done;
    /* The plaintext is never longer than the ciphertext. */
    plain = malloc(input.len);
    if (plain == NULL) {
        rc = cli_error(cmd, "out of memory");
        goto done;
    }
    teep_diag_t diag = {0};
    teep_pd_info_t parsed;
    /* A separate info is checked on its own, so that its errors name its
     * file and count its bytes. */
    if (a->info_path != NULL &&
        teep_pd_info_parse(info.data, info.len, &parsed, &diag) != 0) {
        rc = cli_error(cmd, "%s: %s: %s at byte %zu",
                       cli_input_label(a->info_path), teep_strerror(diag.code),
                       diag.reason, diag.offset);
        goto done;
    }
    int prc = a->info_path != NULL
                  ? teep_pd_decrypt(&key, (teep_slice_t){info.data, info.len},
                                    (teep_slice_t){input.data, input.len},
                                    plain, input.len, &len, &diag)
                  : teep_pd_decrypt_blob(&key, input.data, input.len, plain,
                                         input.len, &len, &diag);
    if (prc == TEEP_E_DECRYPT || prc == TEEP_E_KEY) {
        /* Not for this key (or altered): about the key and the crypto, not
         * about a byte of the input. */
        cli_error(cmd, "%s: %s: %s", cli_input_label(path), teep_strerror(prc),
                  diag.reason);
        rc = CLI_EXIT_FAIL;
        goto done;
    }
    if (prc != 0) {
        rc = cli_error(cmd, "%s: %s: %s at byte %zu", cli_input_label(path),
                       teep_strerror(prc), diag.reason, diag.offset);
        goto done;
    }
    rc = cli_write_output(cmd, &a->out, plain, len);
done:
    if (plain != NULL)
        explicit_bzero(plain, input.len);
    free(plain);
    cli_buf_free(&input);
    cli_buf_free(&info);
    teep_key_clear(&key);
    return rc;
}

static int run_decrypt(int argc, char **argv)
{
    static const struct option options[] = {
        {"key", required_argument, NULL, 'k'},
        {"info", required_argument, NULL, 'i'},
        CLI_OUTPUT_OPTIONS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const cli_cmd_t *cmd = &pd_decrypt;
    decrypt_args_t a = {0};
    int opt;
    while ((opt = getopt_long(argc, argv, ":k:i:" CLI_OUTPUT_OPTSTRING "h",
                              options, NULL)) != -1) {
        switch (opt) {
        case 'k': a.key = optarg; break;
        case 'i': a.info_path = optarg; break;
        default:
            if (!cli_output_option(opt, optarg, &a.out))
                return cli_option_default(cmd, opt, argv);
        }
    }
    if (a.key == NULL)
        return cli_usage_error(cmd, "missing --key KEY (the TEE's private "
                                    "key)");
    const char *path;
    int rc = cli_one_operand(cmd, argc, argv, &path);
    return rc != 0 ? rc : decrypt_file(&a, path);
}
