/* cmd_encode.c: `teep encode`: the JSON `teep decode` prints, back to an
 * unsigned TEEP message. */
#include <getopt.h>

#include "cli.h"
#include "io.h"
#include "json_teep.h"
#include "teep/peek.h"

static int run(int argc, char **argv);

const cli_cmd_t cli_cmd_encode = {
    .name = "encode",
    .summary = "turn the JSON of `teep decode` into a TEEP message",
    .usage =
        "Usage: teep encode [--profile rfc|legacy] [--out FILE] "
        "[--hex|--binary] FILE.json\n"
        "\n"
        "Encode the JSON that `teep decode` prints (its \"cose\" member is\n"
        "ignored, as are annotations: members whose name has an \"_\") as\n"
        "an unsigned TEEP message; sign it with `teep sign`.  FILE.json\n"
        "'-' reads stdin.  Decoding a message and encoding the JSON gives\n"
        "the same bytes.\n"
        "\n"
        "  -p, --profile P  numbering to write: rfc or legacy (default: the\n"
        "                   JSON's \"profile\"; another one converts)\n"
        "  -o, --out FILE   write there (binary unless --hex)\n"
        "  -x, --hex        write hex text (the default on stdout)\n"
        "  -b, --binary     write binary CBOR\n"
        "  -h, --help       this text\n"
        "\n"
        "Exit status: 0 encoded, 2 bad usage, bad JSON, or a message the\n"
        "CDDL does not allow (the reason names the JSON member).\n"
        "\n"
        "Example:\n"
        "  teep decode q.hex > q.json; $EDITOR q.json; teep encode q.json\n"
        "  teep decode --profile legacy old.hex | teep encode -p rfc -\n",
    .run = run,
};

typedef struct encode_job {
    const teep_message_t *msg;
    teep_profile_t profile;
} encode_job_t;

static int encode_into(void *ctx, uint8_t *buf, size_t cap, size_t *len)
{
    const encode_job_t *job = ctx;
    return teep_message_encode(job->msg, job->profile, buf, cap, len);
}

/* JSON text -> message -> bytes written to out. */
static int encode_json(const char *path, const cli_buf_t *text, int profile,
                       const cli_output_t *out)
{
    const cli_cmd_t *cmd = &cli_cmd_encode;
    json_error_t jerr;
    json_t *root = json_loadb((const char *)text->data, text->len,
                              JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL)
        return cli_error(cmd, "%s: invalid JSON: %s at line %d column %d",
                         cli_input_label(path), jerr.text, jerr.line,
                         jerr.column);
    teep_message_t msg;
    teep_profile_t json_profile;
    json_teep_owned_t owned = {0};
    cli_buf_t encoded = {0};
    char why[256];
    int rc = json_teep_to_message(root, &msg, &json_profile, &owned, why,
                                  sizeof(why));
    if (rc != 0) {
        rc = cli_error(cmd, "%s: %s", cli_input_label(path), why);
    } else {
        teep_profile_t target =
            profile == TEEP_PEEK_AUTO ? json_profile : (teep_profile_t)profile;
        encode_job_t job = {&msg, target};
        rc = cli_buf_fill(&encoded, 1024, encode_into, &job);
        if (rc != 0)
            rc = cli_error(cmd, "%s: cannot encode as %s: %s",
                           cli_input_label(path), teep_profile_name(target),
                           teep_strerror(rc));
    }
    if (rc == 0)
        rc = cli_write_output(cmd, out, encoded.data, encoded.len);
    cli_buf_free(&encoded);
    json_teep_owned_free(&owned);
    json_decref(root);
    return rc;
}

static int run(int argc, char **argv)
{
    static const struct option options[] = {
        {"profile", required_argument, NULL, 'p'},
        CLI_OUTPUT_OPTIONS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const cli_cmd_t *cmd = &cli_cmd_encode;
    int profile = TEEP_PEEK_AUTO; /* here: "as the JSON says" */
    cli_output_t out = {0};
    int opt, rc = 0;
    while ((opt = getopt_long(argc, argv, ":p:h" CLI_OUTPUT_OPTSTRING, options,
                              NULL)) != -1) {
        if (opt == 'p')
            rc = cli_parse_profile(cmd, optarg, false, &profile);
        else if (!cli_output_option(opt, optarg, &out))
            return cli_option_default(cmd, opt, argv);
        if (rc != 0)
            return rc;
    }
    const char *path;
    cli_buf_t text = {0};
    rc = cli_one_operand(cmd, argc, argv, &path);
    if (rc == 0)
        rc = cli_read_file(cmd, path, &text);
    if (rc == 0)
        rc = encode_json(path, &text, profile, &out);
    cli_buf_free(&text);
    return rc;
}
