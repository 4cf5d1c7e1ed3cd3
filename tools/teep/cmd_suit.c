/*
 * cmd_suit.c: `teep suit create|decode|verify`: SUIT manifests (teep/suit.h)
 * on the command line: build and sign an envelope that installs one
 * payload, print an envelope as JSON, check its signatures.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbor_json.h"
#include "cbor_reader.h"
#include "cli.h"
#include "io.h"
#include "names.h"
#include "teep/suit.h"

/* Component identifiers: 16 segments of UUIDs or short names. */
#define ID_CAP 1024
/* Integrated dependencies shown inside their dependent, this deep. */
#define MAX_SHOWN_DEPTH 3

static int run(int argc, char **argv);
static int run_create(int argc, char **argv);
static int run_decode(int argc, char **argv);
static int run_verify(int argc, char **argv);

const cli_cmd_t cli_cmd_suit = {
    .name = "suit",
    .summary = "create, decode or verify SUIT manifests",
    .usage = "Usage: teep suit create --component ID --payload FILE "
             "--key KEY [OPTIONS]\n"
             "       teep suit decode FILE\n"
             "       teep suit verify --key KEY [--key KEY ...] FILE\n"
             "\n"
             "SUIT envelopes (draft-ietf-suit-manifest, -trust-domains) as\n"
             "TEEP carries them in an Update's manifest-list.\n"
             "\n"
             "  create  build and sign an envelope installing one payload\n"
             "  decode  print an envelope as JSON (no signature check)\n"
             "  verify  check the digest and signature against keys\n"
             "\n"
             "Run 'teep suit SUBCOMMAND --help' for its options.\n",
    .run = run,
};

static const cli_cmd_t suit_create = {
    .name = "suit create",
    .usage =
        "Usage: teep suit create --component ID --payload FILE --key KEY\n"
        "                        [--integrated[=NAME] | --uri URI]\n"
        "                        [--sequence N] [--manifest-id ID]\n"
        "                        [--vendor-id HEX] [--class-id HEX]\n"
        "                        [--text TEXT] [--out FILE] [--hex|--binary]\n"
        "\n"
        "Build a SUIT envelope that installs FILE into component ID and\n"
        "sign it (COSE_Sign1, detached SUIT_Digest) with KEY.  The manifest\n"
        "checks vendor and class identifiers when given, fetches the\n"
        "payload (integrated in the envelope, or from URI), checks its\n"
        "SHA-256 and size at install and validate, and unlinks it on\n"
        "uninstall.\n"
        "\n"
        "ID is a component identifier as '/'-separated segments: 32 hex\n"
        "digits are a 16-byte UUID, 0x followed by hex digits are those\n"
        "bytes, anything else its UTF-8 text, e.g.\n"
        "TEEP-Device/SecureFS/8d82573a926d4754935332dc29997f74/ta.\n"
        "\n"
        "  -c, --component ID      component the payload goes to\n"
        "  -p, --payload FILE      the payload (binary, '-' for stdin)\n"
        "  -k, --key KEY           signing key with its private part (PEM or\n"
        "                          COSE_Key); ESP256 for P-256, Ed25519\n"
        "  -i, --integrated[=NAME] carry the payload in the envelope under\n"
        "                          NAME (default \"#tc\"); the default\n"
        "  -u, --uri URI           the device fetches the payload from URI\n"
        "  -n, --sequence N        sequence number (default 1)\n"
        "  -m, --manifest-id ID    manifest component id (default: ID with\n"
        "                          its last segment replaced by 'suit')\n"
        "  -V, --vendor-id HEX     vendor UUID (32 hex digits)\n"
        "  -C, --class-id HEX      class UUID (32 hex digits)\n"
        "  -t, --text TEXT         suit-text manifest description\n"
        "  -o, --out FILE          write there (binary unless --hex)\n"
        "  -x, --hex / -b, --binary  output format (hex on stdout)\n"
        "  -h, --help              this text\n"
        "\n"
        "Exit status: 0 written, 2 bad usage, unreadable file or key.\n"
        "\n"
        "Example:\n"
        "  teep suit create --component "
        "TEEP-Device/SecureFS/8d82573a926d4754935332dc29997f74/ta \\\n"
        "      --payload ta.bin --integrated --key tc_signer.pem \\\n"
        "      --sequence 3 --vendor-id c0ddd5f15243566087db4f5b0aa26c2f \\\n"
        "      --out ta.suit\n",
    .run = run_create,
};

static const cli_cmd_t suit_decode = {
    .name = "suit decode",
    .usage =
        "Usage: teep suit decode FILE\n"
        "\n"
        "Print the SUIT envelope in FILE (hex or binary, '-' for stdin) as\n"
        "JSON: the authentication blocks (structure, alg, kid), whether the\n"
        "manifest digest matches, the manifest fields, its components and\n"
        "dependencies as text identifiers, every command sequence as a\n"
        "list of commands with their parameters, and the integrated\n"
        "elements by name and size (an integrated dependency is decoded\n"
        "in place).  Signatures are not checked: use `teep suit verify`.\n"
        "\n"
        "Exit status: 0 decoded, 2 malformed (one line on stderr saying\n"
        "why and at which byte).\n"
        "\n"
        "Example:\n"
        "  teep suit decode tests/vectors/tp_suit_integrated.hex\n",
    .run = run_decode,
};

static const cli_cmd_t suit_verify = {
    .name = "suit verify",
    .usage =
        "Usage: teep suit verify --key KEY [--key KEY ...] FILE\n"
        "\n"
        "Check the SUIT envelope in FILE: the manifest digest, the digests\n"
        "of severed members, and that an authentication block verifies\n"
        "with one of the keys (trust anchors).  Integrated dependencies\n"
        "are checked the same way.\n"
        "\n"
        "  -k, --key KEY  public key (PEM or COSE_Key); repeatable (up to 8)\n"
        "  -h, --help     this text\n"
        "\n"
        "Exit status: 0 verified, 1 a digest or signature does not verify,\n"
        "2 malformed input or unreadable key.\n"
        "\n"
        "Example:\n"
        "  teep suit verify --key tests/vectors/keys/"
        "teep_draft_suit_signing_key_public.pem \\\n"
        "      tests/vectors/tp_suit_uri.hex\n",
    .run = run_verify,
};

static const cli_cmd_t *const subcommands[] = {&suit_create, &suit_decode,
                                               &suit_verify};

static int run(int argc, char **argv)
{
    return cli_run_subcommand(&cli_cmd_suit, subcommands,
                              sizeof(subcommands) / sizeof(subcommands[0]),
                              argc, argv);
}

/* A library failure: "teep suit X: PATH: what: why at byte N". */
static int suit_error(const cli_cmd_t *cmd, const char *path, int rc,
                      const teep_diag_t *diag)
{
    const char *what = teep_suit_strerror(rc);
    if (diag == NULL || diag->reason[0] == '\0')
        return cli_error(cmd, "%s: %s", cli_input_label(path), what);
    return cli_error(cmd, "%s: %s: %s at byte %zu", cli_input_label(path), what,
                     diag->reason, diag->offset);
}

static int read_envelope(const cli_cmd_t *cmd, const char *path, cli_buf_t *in,
                         teep_suit_envelope_t *env)
{
    int rc = cli_read_input(cmd, path, in);
    if (rc != 0)
        return rc;
    teep_diag_t diag = {0};
    rc = teep_suit_envelope_decode(in->data, in->len, env, &diag);
    return rc != 0 ? suit_error(cmd, path, rc, &diag) : 0;
}

/* ---- create ------------------------------------------------------------- */

/* A UUID option: 32 hex digits into out. */
static int parse_uuid(const cli_cmd_t *cmd, const char *option, const char *arg,
                      uint8_t out[16])
{
    if (strlen(arg) != 32 || cli_unhex(arg, 32, out) != 0)
        return cli_usage_error(cmd, "%s: expected 32 hex digits, got '%s'",
                               option, arg);
    return 0;
}

static int parse_id(const cli_cmd_t *cmd, const char *option, const char *text,
                    uint8_t *out, teep_slice_t *id)
{
    size_t len = 0;
    int rc = teep_suit_component_id_from_text(text, out, ID_CAP, &len);
    if (rc != 0)
        return cli_usage_error(cmd,
                               "%s: '%s' is no component identifier (empty "
                               "segment, or more than %d segments)",
                               option, text, TEEP_SUIT_MAX_COMPONENTS);
    *id = (teep_slice_t){out, len};
    return 0;
}

/* The TEEP examples name a manifest like its component with 'suit' as the
 * last segment. */
static int default_manifest_id(const cli_cmd_t *cmd, const char *component,
                               uint8_t *out, teep_slice_t *id)
{
    const char *slash = strrchr(component, '/');
    size_t keep =
        slash != NULL ? (size_t)(slash - component) : strlen(component);
    char text[ID_CAP];
    if (keep + sizeof("/suit") > sizeof(text))
        return cli_usage_error(cmd, "--component: identifier too long");
    memcpy(text, component, keep);
    strcpy(text + keep, "/suit");
    return parse_id(cmd, "--manifest-id", text, out, id);
}

typedef struct create_opts {
    const char *component;
    const char *manifest_id;
    const char *payload;
    const char *integrated;
    const char *uri;
    const char *text;
    uint64_t sequence;
    bool has_vendor, has_class;
    uint8_t vendor[16], class_id[16];
    cli_keys_t keys;
    cli_output_t out;
} create_opts_t;

/* Options into *o; *done when there is nothing more to do (--help). */
static int parse_create(int argc, char **argv, create_opts_t *o, bool *done)
{
    static const struct option options[] = {
        {"component", required_argument, NULL, 'c'},
        {"payload", required_argument, NULL, 'p'},
        {"key", required_argument, NULL, 'k'},
        {"integrated", optional_argument, NULL, 'i'},
        {"uri", required_argument, NULL, 'u'},
        {"sequence", required_argument, NULL, 'n'},
        {"manifest-id", required_argument, NULL, 'm'},
        {"vendor-id", required_argument, NULL, 'V'},
        {"class-id", required_argument, NULL, 'C'},
        {"text", required_argument, NULL, 't'},
        CLI_OUTPUT_OPTIONS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const cli_cmd_t *cmd = &suit_create;
    int opt, rc = 0;
    char *end;
    while ((opt = getopt_long(argc, argv,
                              ":c:p:k:i::u:n:m:V:C:t:" CLI_OUTPUT_OPTSTRING "h",
                              options, NULL)) != -1) {
        switch (opt) {
        case 'c': o->component = optarg; break;
        case 'p': o->payload = optarg; break;
        case 'k': rc = cli_keys_add(cmd, &o->keys, optarg); break;
        case 'i': o->integrated = optarg != NULL ? optarg : "#tc"; break;
        case 'u': o->uri = optarg; break;
        case 'm': o->manifest_id = optarg; break;
        case 't': o->text = optarg; break;
        case 'n':
            errno = 0;
            o->sequence = strtoull(optarg, &end, 10);
            if (errno != 0 || *end != '\0' || optarg[0] == '-' ||
                optarg[0] == '\0')
                rc = cli_usage_error(cmd, "--sequence: '%s' is not a number",
                                     optarg);
            break;
        case 'V':
            rc = parse_uuid(cmd, "--vendor-id", optarg, o->vendor);
            o->has_vendor = true;
            break;
        case 'C':
            rc = parse_uuid(cmd, "--class-id", optarg, o->class_id);
            o->has_class = true;
            break;
        default:
            if (cli_output_option(opt, optarg, &o->out))
                break;
            *done = true;
            return cli_option_default(cmd, opt, argv);
        }
        if (rc != 0)
            return rc;
    }
    if (optind < argc)
        return cli_usage_error(cmd, "unexpected operand '%s'", argv[optind]);
    if (o->component == NULL || o->payload == NULL)
        return cli_usage_error(cmd, "missing --component ID or --payload FILE");
    if (o->keys.count != 1)
        return cli_usage_error(cmd, "exactly one --key KEY signs");
    if (o->integrated != NULL && o->uri != NULL)
        return cli_usage_error(cmd, "--integrated and --uri exclude each "
                                    "other");
    if (o->uri == NULL && o->integrated == NULL)
        o->integrated = "#tc";
    return 0;
}

typedef struct build_call {
    const teep_suit_build_t *b;
    const teep_signer_t *signer;
} build_call_t;

static int fill_envelope(void *ctx, uint8_t *buf, size_t cap, size_t *len)
{
    const build_call_t *call = ctx;
    return teep_suit_build(call->b, call->signer, buf, cap, len);
}

static int create(create_opts_t *o)
{
    const cli_cmd_t *cmd = &suit_create;
    uint8_t component[ID_CAP], manifest_id[ID_CAP];
    teep_suit_build_t b = {.sequence_number = o->sequence};
    int rc =
        parse_id(cmd, "--component", o->component, component, &b.component_id);
    if (rc == 0)
        rc = o->manifest_id != NULL
                 ? parse_id(cmd, "--manifest-id", o->manifest_id, manifest_id,
                            &b.manifest_component_id)
                 : default_manifest_id(cmd, o->component, manifest_id,
                                       &b.manifest_component_id);
    if (rc != 0)
        return rc;
    if (!o->keys.keys[0].has_private)
        return cli_error(cmd, "%s: a public key cannot sign", o->keys.paths[0]);
    cli_buf_t payload = {0}, envelope = {0};
    rc = cli_read_file(cmd, o->payload, &payload);
    if (rc != 0)
        return rc;
    b.payload = (teep_slice_t){payload.data, payload.len};
    if (o->has_vendor)
        b.vendor_id = (teep_slice_t){o->vendor, 16};
    if (o->has_class)
        b.class_id = (teep_slice_t){o->class_id, 16};
    if (o->integrated != NULL)
        b.integrated_name = (teep_slice_t){(const uint8_t *)o->integrated,
                                           strlen(o->integrated)};
    if (o->uri != NULL)
        b.uri = (teep_slice_t){(const uint8_t *)o->uri, strlen(o->uri)};
    if (o->text != NULL)
        b.text = (teep_slice_t){(const uint8_t *)o->text, strlen(o->text)};
    teep_signer_t signer = {&o->keys.keys[0], 0};
    build_call_t call = {&b, &signer};
    size_t need = 0;
    rc = teep_suit_build(&b, &signer, NULL, 0, &need);
    if (rc == 0)
        rc = cli_buf_fill(&envelope, need, fill_envelope, &call);
    if (rc != 0)
        rc = cli_error(cmd, "cannot build the envelope: %s",
                       teep_suit_strerror(rc));
    else
        rc = cli_write_output(cmd, &o->out, envelope.data, envelope.len);
    cli_buf_free(&envelope);
    cli_buf_free(&payload);
    return rc;
}

static int run_create(int argc, char **argv)
{
    create_opts_t o = {.sequence = 1};
    bool done = false;
    int rc = parse_create(argc, argv, &o, &done);
    if (rc == 0 && !done)
        rc = cli_keys_load(&suit_create, &o.keys);
    if (rc == 0 && !done)
        rc = create(&o);
    cli_keys_clear(&o.keys);
    return rc;
}

/* ---- decode ------------------------------------------------------------- */

static json_t *hex_json(teep_slice_t s)
{
    char *text = cli_hex(s.ptr, s.len);
    json_t *j = text != NULL ? json_string(text) : NULL;
    free(text);
    return j;
}

/* The SUIT decoder does not check text for UTF-8; jansson refuses what
 * is not, which then shows as hex. */
static json_t *text_json(teep_slice_t s)
{
    json_t *j = json_stringn((const char *)s.ptr, s.len);
    return j != NULL ? j : json_pack("{s:o}", "hex", hex_json(s));
}

static json_t *view_json(teep_slice_t s)
{
    return cbor_json_view(s.ptr, s.len);
}

static json_t *id_json(teep_slice_t encoded)
{
    char text[ID_CAP];
    if (teep_suit_component_id_to_text(encoded, text, sizeof(text)) == 0)
        return json_string(text);
    return view_json(encoded);
}

static json_t *digest_json(const teep_suit_digest_t *d)
{
    return json_pack("{s:I,s:o}", "alg", (json_int_t)d->alg, "value",
                     hex_json(d->bytes));
}

static json_t *wrapped_digest_json(teep_slice_t encoded)
{
    teep_suit_digest_t d;
    if (teep_suit_digest_decode(encoded, &d, NULL) != 0)
        return view_json(encoded);
    return digest_json(&d);
}

static json_t *param_json(const teep_suit_params_t *p, int key)
{
    switch (key) {
    case TEEP_SUIT_PARAM_VENDOR_ID:
        return p->vendor_id_pen
                   ? json_pack("{s:o}", "pen", hex_json(p->vendor_id))
                   : hex_json(p->vendor_id);
    case TEEP_SUIT_PARAM_CLASS_ID: return hex_json(p->class_id);
    case TEEP_SUIT_PARAM_DEVICE_ID: return hex_json(p->device_id);
    case TEEP_SUIT_PARAM_IMAGE_DIGEST:
        return wrapped_digest_json(p->image_digest);
    case TEEP_SUIT_PARAM_IMAGE_SIZE:
        return json_integer((json_int_t)p->image_size);
    case TEEP_SUIT_PARAM_COMPONENT_SLOT:
        return json_integer((json_int_t)p->component_slot);
    case TEEP_SUIT_PARAM_SOURCE_COMPONENT:
        return json_integer((json_int_t)p->source_component);
    case TEEP_SUIT_PARAM_STRICT_ORDER: return json_boolean(p->strict_order);
    case TEEP_SUIT_PARAM_SOFT_FAILURE: return json_boolean(p->soft_failure);
    case TEEP_SUIT_PARAM_CONTENT: return hex_json(p->content);
    case TEEP_SUIT_PARAM_ENCRYPTION_INFO: return view_json(p->encryption_info);
    case TEEP_SUIT_PARAM_URI: return text_json(p->uri);
    case TEEP_SUIT_PARAM_INVOKE_ARGS: return hex_json(p->invoke_args);
    case TEEP_SUIT_PARAM_FETCH_ARGS: return hex_json(p->fetch_args);
    default: return json_null();
    }
}

/* Every parameter by name; a map the decoder refuses as a CBOR view. */
static json_t *params_json(teep_slice_t map)
{
    teep_suit_params_t p;
    if (teep_suit_params_decode(map, &p, NULL) != 0)
        return view_json(map);
    json_t *o = json_object();
    for (int key = 1; key < 32; key++)
        if (p.present & TEEP_SUIT_PARAM_BIT(key))
            json_object_set_new(o, teep_suit_param_name(key),
                                param_json(&p, key));
    return o;
}

static json_t *commands_json(teep_slice_t seq, unsigned depth);

/* One element of a try-each argument, or run-sequence's argument: a
 * bstr-wrapped sequence (or the final nil). */
static json_t *inner_sequence_json(tp_cbor_reader_t *r, unsigned depth)
{
    tp_cbor_item_t it;
    size_t start = r->pos;
    if (tp_cbor_next(r, &it) != 0)
        return NULL;
    if (it.kind == TP_CBOR_NULL)
        return json_null();
    if (it.kind == TP_CBOR_BSTR)
        return commands_json((teep_slice_t){it.ptr, (size_t)it.u}, depth + 1);
    r->pos = start;
    size_t end;
    if (tp_cbor_skip(r, TEEP_MAX_DEPTH, &start, &end) != 0)
        return NULL;
    return cbor_json_view(r->buf + start, end - start);
}

static json_t *try_each_json(teep_slice_t arg, unsigned depth)
{
    tp_cbor_reader_t r;
    tp_cbor_item_t arr;
    tp_cbor_reader_init(&r, arg.ptr, arg.len, NULL);
    if (tp_cbor_expect(&r, TP_CBOR_ARRAY, &arr, "try-each") != 0)
        return view_json(arg);
    json_t *a = json_array();
    for (uint64_t i = 0; i < arr.u; i++) {
        json_t *seq = inner_sequence_json(&r, depth);
        if (seq == NULL) {
            json_decref(a);
            return view_json(arg);
        }
        json_array_append_new(a, seq);
    }
    return a;
}

/* {"command": name, and its argument by what it means}. */
static json_t *command_json(const teep_suit_cmd_t *cmd, unsigned depth)
{
    json_t *o =
        json_pack("{s:s}", "command", teep_suit_command_name(cmd->code));
    tp_cbor_reader_t r;
    tp_cbor_item_t it;
    tp_cbor_reader_init(&r, cmd->arg.ptr, cmd->arg.len, NULL);
    switch (cmd->code) {
    case TEEP_SUIT_DIR_SET_COMPONENT_INDEX:
        json_object_set_new(o, "index", view_json(cmd->arg));
        break;
    case TEEP_SUIT_DIR_OVERRIDE_PARAMETERS:
    case TEEP_SUIT_DIR_SET_PARAMETERS:
        json_object_set_new(o, "parameters", params_json(cmd->arg));
        break;
    case TEEP_SUIT_DIR_TRY_EACH:
        json_object_set_new(o, "sequences", try_each_json(cmd->arg, depth));
        break;
    case TEEP_SUIT_DIR_RUN_SEQUENCE: {
        json_t *seq = inner_sequence_json(&r, depth);
        json_object_set_new(o, "sequence",
                            seq != NULL ? seq : view_json(cmd->arg));
        break;
    }
    default:
        if (strcmp(teep_suit_command_name(cmd->code), "unknown") == 0 ||
            cmd->code < 0)
            json_object_set_new(o, "code", json_integer(cmd->code));
        if (tp_cbor_next(&r, &it) == 0 && it.kind == TP_CBOR_UINT)
            json_object_set_new(o, "policy", json_integer((json_int_t)it.u));
        else
            json_object_set_new(o, "argument", view_json(cmd->arg));
    }
    return o;
}

/* The commands of a sequence; one that does not parse ends the list with
 * {"malformed": why}. */
static json_t *commands_json(teep_slice_t seq, unsigned depth)
{
    if (depth > TEEP_SUIT_MAX_NESTING)
        return view_json(seq);
    teep_suit_cmd_iter_t it;
    teep_suit_cmd_t cmd;
    teep_diag_t diag = {0};
    json_t *a = json_array();
    int rc = teep_suit_cmd_begin(&it, seq, &diag);
    while (rc == 0 && (rc = teep_suit_cmd_next(&it, &cmd, &diag)) == 1) {
        json_array_append_new(a, command_json(&cmd, depth));
        rc = 0;
    }
    if (rc < 0)
        json_array_append_new(a,
                              json_pack("{s:s,s:I}", "malformed", diag.reason,
                                        "offset", (json_int_t)diag.offset));
    return a;
}

/* A sequence or text in place, or severed: its digest, and its content
 * when the envelope carries it. */
static json_t *member_json(const teep_suit_member_t *m, bool text)
{
    json_t *content = NULL;
    if (m->value.ptr != NULL)
        content = text ? view_json(m->value) : commands_json(m->value, 0);
    if (!m->severed)
        return content;
    json_t *o = json_pack("{s:o}", "severed", digest_json(&m->digest));
    if (content != NULL)
        json_object_set_new(o, text ? "text" : "commands", content);
    return o;
}

static json_t *manifest_json(const teep_suit_manifest_t *m)
{
    json_t *o = json_pack("{s:I,s:I}", "version", (json_int_t)m->version,
                          "sequence-number", (json_int_t)m->sequence_number);
    if (m->reference_uri.ptr != NULL)
        json_object_set_new(o, "reference-uri", text_json(m->reference_uri));
    if (m->component_id.ptr != NULL)
        json_object_set_new(o, "manifest-component-id",
                            id_json(m->component_id));
    json_t *components = json_array();
    for (size_t i = 0; i < m->n_components; i++)
        json_array_append_new(components, id_json(m->components[i]));
    json_object_set_new(o, "components", components);
    if (m->n_dependencies > 0) {
        json_t *deps = json_array();
        for (size_t i = 0; i < m->n_dependencies; i++) {
            const teep_suit_dependency_t *d = &m->dependencies[i];
            json_t *dj =
                json_pack("{s:I}", "component-index", (json_int_t)d->index);
            if (d->prefix.ptr != NULL)
                json_object_set_new(dj, "prefix", id_json(d->prefix));
            json_array_append_new(deps, dj);
        }
        json_object_set_new(o, "dependencies", deps);
    }
    if (m->shared_sequence.ptr != NULL)
        json_object_set_new(o, "shared-sequence",
                            commands_json(m->shared_sequence, 0));
    for (int s = 0; s < TEEP_SUIT_SEQ_COUNT; s++) {
        const teep_suit_member_t *mb = &m->sequences[s];
        if (mb->present)
            json_object_set_new(
                o, teep_suit_section_name(teep_suit_sequence_key(s)),
                member_json(mb, false));
    }
    if (m->text.present)
        json_object_set_new(o, "text", member_json(&m->text, true));
    return o;
}

static json_t *auth_block_json(teep_slice_t block)
{
    teep_cose_t cose;
    teep_diag_t diag = {0};
    if (teep_cose_parse(block.ptr, block.len, &cose, &diag) != 0)
        return json_pack("{s:s}", "malformed", diag.reason);
    json_t *o =
        json_pack("{s:s}", "structure", cli_cose_structure_name(cose.tag));
    json_t *sigs = json_array();
    for (size_t i = 0; i < cose.n_signatures; i++) {
        const teep_cose_signature_t *s = &cose.signatures[i];
        const char *name = cli_alg_name(s->alg);
        json_t *sj =
            json_pack("{s:o}", "alg",
                      name != NULL ? json_string(name) : json_integer(s->alg));
        if (s->kid.len > 0)
            json_object_set_new(sj, "kid", hex_json(s->kid));
        json_array_append_new(sigs, sj);
    }
    json_object_set_new(o, "signatures", sigs);
    return o;
}

static json_t *envelope_json(const teep_suit_envelope_t *env, unsigned depth)
{
    /* Whether the digest matches needs no key: show it. */
    uint8_t h[32];
    bool matches = env->digest.alg == TEEP_SUIT_ALG_SHA256 &&
                   teep_sha256(env->manifest_wrapped.ptr,
                               env->manifest_wrapped.len, h) == 0 &&
                   env->digest.bytes.len == sizeof(h) &&
                   memcmp(env->digest.bytes.ptr, h, sizeof(h)) == 0;
    json_t *digest = digest_json(&env->digest);
    json_object_set_new(digest, "matches", json_boolean(matches));
    json_t *blocks = json_array();
    for (size_t i = 0; i < env->n_auth_blocks; i++)
        json_array_append_new(blocks, auth_block_json(env->auth_blocks[i]));
    json_t *o = json_pack("{s:b,s:{s:o,s:o},s:o}", "tagged", env->tagged,
                          "authentication", "digest", digest, "blocks", blocks,
                          "manifest", manifest_json(&env->manifest));
    json_t *integrated = json_array();
    for (size_t i = 0; i < env->n_integrated; i++) {
        const teep_suit_integrated_t *e = &env->integrated[i];
        json_t *ej = json_pack("{s:o,s:I}", "name", text_json(e->name), "size",
                               (json_int_t)e->bytes.len);
        teep_suit_envelope_t inner;
        if (depth < MAX_SHOWN_DEPTH &&
            teep_suit_envelope_decode(e->bytes.ptr, e->bytes.len, &inner,
                                      NULL) == 0)
            json_object_set_new(ej, "envelope",
                                envelope_json(&inner, depth + 1));
        json_array_append_new(integrated, ej);
    }
    json_object_set_new(o, "integrated", integrated);
    return o;
}

static int run_decode(int argc, char **argv)
{
    static const struct option options[] = {
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const cli_cmd_t *cmd = &suit_decode;
    int opt;
    while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1)
        return cli_option_default(cmd, opt, argv);
    const char *path;
    int rc = cli_one_operand(cmd, argc, argv, &path);
    if (rc != 0)
        return rc;
    cli_buf_t in = {0};
    teep_suit_envelope_t env;
    rc = read_envelope(cmd, path, &in, &env);
    if (rc == 0)
        rc = cli_print_json(cmd, envelope_json(&env, 0));
    cli_buf_free(&in);
    return rc;
}

/* ---- verify ------------------------------------------------------------- */

/* The envelope, then its integrated dependencies; all must verify. */
static bool verify_envelope(const char *label, teep_suit_envelope_t *env,
                            const cli_keys_t *keys, unsigned depth)
{
    teep_diag_t diag = {0};
    int rc = teep_suit_envelope_verify(env, keys->keys, keys->count, &diag);
    bool ok = rc == 0;
    if (ok)
        printf("%s: verified with %s (sequence number %llu)\n", label,
               keys->paths[env->anchor],
               (unsigned long long)env->manifest.sequence_number);
    else
        fprintf(stderr, "teep suit verify: %s: not verified: %s: %s\n", label,
                teep_suit_strerror(rc), diag.reason);
    for (size_t i = 0; i < env->n_integrated && depth < MAX_SHOWN_DEPTH; i++) {
        const teep_suit_integrated_t *e = &env->integrated[i];
        teep_suit_envelope_t inner;
        if (teep_suit_envelope_decode(e->bytes.ptr, e->bytes.len, &inner,
                                      NULL) != 0)
            continue; /* a payload, not a dependency */
        char inner_label[512];
        /* a label cut short still names the dependency well enough */
        if (snprintf(inner_label, sizeof(inner_label), "%s %.*s", label,
                     (int)e->name.len, (const char *)e->name.ptr) < 0)
            continue;
        ok = verify_envelope(inner_label, &inner, keys, depth + 1) && ok;
    }
    return ok;
}

static int run_verify(int argc, char **argv)
{
    const cli_cmd_t *cmd = &suit_verify;
    cli_keys_t keys = {0};
    const char *path;
    cli_buf_t in = {0};
    teep_suit_envelope_t env;
    int rc;
    if (cli_key_check_args(cmd, argc, argv, &keys, &path, &rc)) {
        rc = read_envelope(cmd, path, &in, &env);
        if (rc == 0)
            rc = verify_envelope(cli_input_label(path), &env, &keys, 0)
                     ? CLI_EXIT_OK
                     : CLI_EXIT_FAIL;
    }
    cli_buf_free(&in);
    cli_keys_clear(&keys);
    return rc;
}
