/* cmd_verify.c: `teep verify`: check the signature(s) of a COSE_Sign1 or
 * COSE_Sign against one or more keys. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "io.h"
#include "names.h"
#include "teep_input.h"

static int run(int argc, char **argv);

const cli_cmd_t cli_cmd_verify = {
    .name = "verify",
    .summary = "check the COSE signature(s) of a signed message",
    .usage =
        "Usage: teep verify --key KEY [--key KEY ...] FILE\n"
        "\n"
        "Verify the COSE_Sign1 or COSE_Sign in FILE (hex or binary, '-'\n"
        "for stdin).  A COSE_Sign1 verifies when its signature verifies\n"
        "with one of the keys, a COSE_Sign when at least one of its\n"
        "signatures does.  Each signature that verifies is printed with\n"
        "its algorithm, its kid and the key that verified it.\n"
        "\n"
        "  -k, --key KEY  public or private key: PEM (SPKI, PKCS#8, SEC1),\n"
        "                 or a COSE_Key in binary or hex; repeatable (up\n"
        "                 to 8)\n"
        "  -h, --help     this text\n"
        "\n"
        "Exit status: 0 verified, 1 no signature verifies with the keys,\n"
        "2 malformed input or unreadable key.\n"
        "\n"
        "Example:\n"
        "  teep verify --key tam_pub.pem update.cbor\n"
        "  teep verify -k tam_p256.pem -k tam_ed25519.pem query.hex\n",
    .run = run,
};

/* Try every key on signature i alone: a COSE_Sign is checked one
 * signature at a time so we can say which kid verified.  Returns the
 * index of the key that verified, or -1. */
static int verify_signature(const teep_cose_t *cose, size_t i,
                            const cli_keys_t *keys)
{
    teep_cose_t one = *cose;
    one.n_signatures = 1;
    one.signatures[0] = cose->signatures[i];
    for (size_t k = 0; k < keys->count; k++)
        if (teep_cose_verify(&one, &keys->keys[k], NULL, 0) == 0)
            return (int)k;
    return -1;
}

static void print_verified(const teep_cose_t *cose, size_t i,
                           const char *key_path)
{
    const teep_cose_signature_t *s = &cose->signatures[i];
    const char *name = cli_alg_name(s->alg);
    char alg[24];
    if (name != NULL)
        snprintf(alg, sizeof(alg), "%s", name);
    else
        snprintf(alg, sizeof(alg), "%lld", (long long)s->alg);
    char *kid = cli_hex(s->kid.ptr, s->kid.len);
    printf("%s signature %zu/%zu (alg %s, kid %s): verified with %s\n",
           cli_cose_structure_name(cose->tag), i + 1, cose->n_signatures, alg,
           kid != NULL && kid[0] != '\0' ? kid : "none", key_path);
    free(kid);
}

static int verify_cose(const char *path, const cli_buf_t *in,
                       const cli_keys_t *keys)
{
    const cli_cmd_t *cmd = &cli_cmd_verify;
    teep_cose_t cose;
    teep_diag_t diag = {0};
    int rc = teep_cose_parse(in->data, in->len, &cose, &diag);
    if (rc != 0)
        return cli_diag_error(cmd, path, rc, &diag);
    if (cose.payload.ptr == NULL)
        return cli_error(cmd, "%s: detached (nil) payload: not supported",
                         cli_input_label(path));
    size_t verified = 0;
    for (size_t i = 0; i < cose.n_signatures; i++) {
        int k = verify_signature(&cose, i, keys);
        if (k >= 0) {
            print_verified(&cose, i, keys->paths[k]);
            verified++;
        }
    }
    if (verified > 0)
        return CLI_EXIT_OK;
    fprintf(stderr,
            "teep verify: %s: no signature verifies with the given key%s\n",
            cli_input_label(path), keys->count > 1 ? "s" : "");
    return CLI_EXIT_FAIL;
}

static int run(int argc, char **argv)
{
    const cli_cmd_t *cmd = &cli_cmd_verify;
    cli_keys_t keys = {0};
    const char *path;
    cli_buf_t in = {0};
    int rc;
    if (cli_key_check_args(cmd, argc, argv, &keys, &path, &rc)) {
        rc = cli_read_input(cmd, path, &in);
        if (rc == 0)
            rc = verify_cose(path, &in, &keys);
    }
    cli_buf_free(&in);
    cli_keys_clear(&keys);
    return rc;
}
