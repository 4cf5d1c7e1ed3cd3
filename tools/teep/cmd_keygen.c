/* cmd_keygen.c: `teep keygen`: a new key pair, written as PEM or COSE_Key,
 * and its kid. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "io.h"

static int run(int argc, char **argv);

const cli_cmd_t cli_cmd_keygen = {
    .name = "keygen",
    .summary = "make a P-256, Ed25519 or X25519 key; print its kid",
    .usage =
        "Usage: teep keygen --out FILE [--pub FILE] [--type TYPE] "
        "[--format F]\n"
        "\n"
        "Generate a private key into FILE (created with mode 0600) and\n"
        "print its kid, the RFC 9679 COSE_Key thumbprint that `teep sign`\n"
        "puts in the unprotected header, as hex on stdout.\n"
        "\n"
        "  -o, --out FILE     the private key (required)\n"
        "  -P, --pub FILE     the public key as well\n"
        "  -t, --type TYPE    p256 (default), ed25519, or x25519 (key\n"
        "                     agreement only: it cannot sign)\n"
        "  -f, --format F     pem (PKCS#8 / SPKI, default) or cose (binary\n"
        "                     COSE_Key)\n"
        "  -h, --help         this text\n"
        "\n"
        "Exit status: 0 written, 2 bad usage or unwritable file.\n"
        "\n"
        "Example:\n"
        "  teep keygen --type ed25519 --out tam.pem --pub tam_pub.pem\n",
    .run = run,
};

typedef struct keygen_args {
    teep_key_type_t type;
    bool cose;
    const char *out;
    const char *pub;
} keygen_args_t;

/* The key as PEM or COSE_Key in buf; 0 or a TEEP/errno code. */
static int serialize(const teep_key_t *key, bool cose, bool with_private,
                     uint8_t *buf, size_t cap, size_t *len)
{
    if (cose)
        return teep_key_to_cose(key, with_private, buf, cap, len);
    return teep_key_to_pem(key, with_private, (char *)buf, cap, len);
}

static int write_key(const teep_key_t *key, const keygen_args_t *a,
                     bool with_private)
{
    const cli_cmd_t *cmd = &cli_cmd_keygen;
    uint8_t buf[2048];
    size_t len;
    int rc = serialize(key, a->cose, with_private, buf, sizeof(buf), &len);
    if (rc != 0)
        return cli_error(cmd, "cannot encode the key: %s", teep_strerror(rc));
    /* Private keys are for the owner only. */
    rc = cli_write_file(cmd, with_private ? a->out : a->pub,
                        with_private ? 0600 : 0644, buf, len);
    /* buf held the private key: do not leave it on the stack. */
    explicit_bzero(buf, sizeof(buf));
    return rc;
}

static int generate(const keygen_args_t *a)
{
    teep_key_t key = {0};
    int rc = teep_key_generate(&key, a->type);
    if (rc != 0)
        return cli_error(&cli_cmd_keygen, "cannot generate the key: %s",
                         teep_strerror(rc));
    rc = write_key(&key, a, true);
    if (rc == 0 && a->pub != NULL)
        rc = write_key(&key, a, false);
    if (rc == 0) {
        char *kid = cli_hex(key.kid, sizeof(key.kid));
        if (kid != NULL)
            puts(kid);
        else
            rc = cli_error(&cli_cmd_keygen, "out of memory");
        free(kid);
    }
    teep_key_clear(&key);
    return rc;
}

static int parse_type(const char *arg, teep_key_type_t *type)
{
    static const struct {
        const char *name;
        teep_key_type_t type;
    } types[] = {{"p256", TEEP_KEY_P256},
                 {"ed25519", TEEP_KEY_ED25519},
                 {"x25519", TEEP_KEY_X25519}};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        if (strcmp(arg, types[i].name) == 0) {
            *type = types[i].type;
            return 0;
        }
    }
    return cli_usage_error(&cli_cmd_keygen,
                           "unknown key type '%s' (use p256, ed25519 or "
                           "x25519)",
                           arg);
}

static int parse_format(const char *arg, bool *cose)
{
    *cose = strcmp(arg, "cose") == 0;
    if (*cose || strcmp(arg, "pem") == 0)
        return 0;
    return cli_usage_error(&cli_cmd_keygen,
                           "unknown format '%s' (use pem or cose)", arg);
}

static int run(int argc, char **argv)
{
    static const struct option options[] = {
        {"out", required_argument, NULL, 'o'},
        {"pub", required_argument, NULL, 'P'},
        {"type", required_argument, NULL, 't'},
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const cli_cmd_t *cmd = &cli_cmd_keygen;
    keygen_args_t a = {.type = TEEP_KEY_P256};
    int opt, rc = 0;
    while ((opt = getopt_long(argc, argv, ":o:P:t:f:h", options, NULL)) != -1) {
        switch (opt) {
        case 'o': a.out = optarg; break;
        case 'P': a.pub = optarg; break;
        case 't': rc = parse_type(optarg, &a.type); break;
        case 'f': rc = parse_format(optarg, &a.cose); break;
        default: return cli_option_default(cmd, opt, argv);
        }
        if (rc != 0)
            return rc;
    }
    if (optind < argc)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if (a.out == NULL)
        return cli_usage_error(cmd, "missing --out FILE for the private key "
                                    "(it is never printed)");
    return generate(&a);
}
