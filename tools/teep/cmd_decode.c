/* cmd_decode.c: `teep decode`: a TEEP message, signed or not, as JSON. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "io.h"
#include "json_teep.h"
#include "teep/peek.h"
#include "teep_input.h"

static int run(int argc, char **argv);

const cli_cmd_t cli_cmd_decode = {
    .name = "decode",
    .summary = "print a TEEP message (COSE-signed or bare) as JSON",
    .usage =
        "Usage: teep decode [--profile rfc|legacy|auto] FILE\n"
        "\n"
        "Print the TEEP message in FILE as one JSON object.  FILE is hex\n"
        "text or binary CBOR ('-' for stdin): a COSE_Sign1 / COSE_Sign\n"
        "around a TEEP message, or the bare message.\n"
        "\n"
        "  -p, --profile P  numbering of the message: rfc (draft -26),\n"
        "                   legacy (published examples, libteep), or auto\n"
        "                   (default: from the token label, else the one\n"
        "                   that decodes, rfc first)\n"
        "  -h, --help       this text\n"
        "\n"
        "The JSON has \"cose\" (structure, and alg and kid per signature)\n"
        "for signed input, then \"profile\", \"type\", \"options\" by CDDL\n"
        "name and the positional elements.  `teep encode` reads it back.\n"
        "Signatures are not checked: use `teep verify`.\n"
        "\n"
        "Exit status: 0 decoded, 2 not a TEEP message (one line on stderr\n"
        "saying why and at which byte).\n"
        "\n"
        "Example:\n"
        "  teep decode tests/vectors/gen_tp_update_cose_sign1_esp256.hex\n"
        "  teep decode msg.cbor | jq .options.token\n",
    .run = run,
};

/* {"cose": ...} for signed input, then the message's members. */
static json_t *message_json(const cli_message_t *m)
{
    json_t *root = json_object();
    json_t *msg = json_teep_from_message(&m->msg, m->profile);
    int rc = root == NULL || msg == NULL;
    if (rc == 0 && m->is_cose)
        rc = json_object_set_new(root, "cose", json_teep_from_cose(&m->cose));
    if (rc == 0)
        rc = json_object_update(root, msg);
    json_decref(msg);
    if (rc != 0) {
        json_decref(root);
        return NULL;
    }
    return root;
}

static int decode_file(const char *path, int profile)
{
    const cli_cmd_t *cmd = &cli_cmd_decode;
    cli_buf_t in;
    int rc = cli_read_input(cmd, path, &in);
    if (rc != 0)
        return rc;
    cli_message_t m;
    teep_diag_t diag = {0};
    rc = cli_message_decode(in.data, in.len, profile, &m, &diag);
    if (rc != 0) {
        rc = cli_diag_error(cmd, path, rc, &diag);
    } else {
        json_t *j = message_json(&m);
        rc = j != NULL ? cli_print_json(cmd, j)
                       : cli_error(cmd,
                                   "%s: text that is not UTF-8, or out "
                                   "of memory",
                                   cli_input_label(path));
    }
    cli_message_free(&m);
    cli_buf_free(&in);
    return rc;
}

static int run(int argc, char **argv)
{
    static const struct option options[] = {
        {"profile", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const cli_cmd_t *cmd = &cli_cmd_decode;
    int profile = TEEP_PEEK_AUTO;
    int opt, rc;
    while ((opt = getopt_long(argc, argv, ":p:h", options, NULL)) != -1) {
        if (opt == 'p')
            rc = cli_parse_profile(cmd, optarg, true, &profile);
        else
            return cli_option_default(cmd, opt, argv);
        if (rc != 0)
            return rc;
    }
    const char *path;
    rc = cli_one_operand(cmd, argc, argv, &path);
    return rc != 0 ? rc : decode_file(path, profile);
}
