/*
 * io.h: reading inputs, writing outputs and loading keys, the one way
 * every command does it.  Each function reports its own failure as
 * "teep CMD: PATH: reason" and returns the exit code (CLI_EXIT_USAGE), so
 * a command can `return` it unchanged.
 */
#ifndef TEEP_CLI_IO_H
#define TEEP_CLI_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "cli.h"
#include "teep/cose.h"

/* Bytes read from a file, owned by the buffer (cli_buf_free). */
typedef struct cli_buf {
    uint8_t *data;
    size_t len;
} cli_buf_t;

void cli_buf_free(cli_buf_t *buf);

/* Produce bytes into out with fill(ctx, buf, cap, &len), starting with
 * room for `hint` bytes and growing while fill answers -ENOSPC (encoders
 * and signers write into caller buffers).  Returns fill's result or
 * -ENOMEM. */
typedef int (*cli_fill_fn)(void *ctx, uint8_t *buf, size_t cap, size_t *len);
int cli_buf_fill(cli_buf_t *out, size_t hint, cli_fill_fn fill, void *ctx);

/* Read path ("-" = stdin) whole, as it is. */
int cli_read_file(const cli_cmd_t *cmd, const char *path, cli_buf_t *out);

/* Read path and, when it is hex text (hex digits and white space only),
 * convert it to the bytes it spells; anything else is taken as binary. */
int cli_read_input(const cli_cmd_t *cmd, const char *path, cli_buf_t *out);

/* How to write bytes: hex text on stdout and binary into a file unless
 * told otherwise. */
typedef enum cli_format {
    CLI_FORMAT_AUTO = 0,
    CLI_FORMAT_HEX,
    CLI_FORMAT_BINARY,
} cli_format_t;

typedef struct cli_output {
    const char *path; /* NULL: stdout */
    cli_format_t format;
} cli_output_t;

/* The --out FILE, --hex and --binary options of commands that write
 * bytes, for their long option table and optstring ("o:xb"). */
/* clang-format off */
#define CLI_OUTPUT_OPTIONS                                                     \
    {"out", required_argument, NULL, 'o'},                                     \
    {"hex", no_argument, NULL, 'x'},                                           \
    {"binary", no_argument, NULL, 'b'}
/* clang-format on */
#define CLI_OUTPUT_OPTSTRING "o:xb"

/* Take opt if it is one of the output options; false otherwise. */
bool cli_output_option(int opt, const char *arg, cli_output_t *out);

/* Write bytes to out (hex gets a final newline).  Binary is not written to
 * a terminal. */
int cli_write_output(const cli_cmd_t *cmd, const cli_output_t *out,
                     const uint8_t *bytes, size_t len);

/* Print j on stdout (indented, members in order) and drop the reference:
 * takes it; NULL stands for out of memory.  Returns 0 or the exit code. */
int cli_print_json(const cli_cmd_t *cmd, json_t *j);

/* Create or truncate path with the given mode (applied even when the file
 * existed, so a private key never keeps looser permissions) and write. */
int cli_write_file(const cli_cmd_t *cmd, const char *path, mode_t mode,
                   const void *bytes, size_t len);

/* Hex: uppercase, as the vectors are written.  cli_hex returns a malloc'd
 * string (NULL when out of memory).  cli_unhex decodes exactly 2*n digits
 * of either case into out (capacity n = len/2); -EINVAL if not hex. */
char *cli_hex(const uint8_t *bytes, size_t len);
int cli_unhex(const char *text, size_t len, uint8_t *out);

/* Keys given as repeated --key options. */
#define CLI_MAX_KEYS TEEP_COSE_MAX_SIGNERS

typedef struct cli_keys {
    const char *paths[CLI_MAX_KEYS];
    teep_key_t keys[CLI_MAX_KEYS];
    size_t count;
} cli_keys_t;

/* Remember one --key PATH (usage error past CLI_MAX_KEYS). */
int cli_keys_add(const cli_cmd_t *cmd, cli_keys_t *keys, const char *path);
/* Load every remembered key (PEM, COSE_Key binary or hex); at least one
 * is required. */
int cli_keys_load(const cli_cmd_t *cmd, cli_keys_t *keys);
/* Wipe and release every key. */
void cli_keys_clear(cli_keys_t *keys);

/*
 * The command line of a command that checks FILE against keys (teep
 * verify, teep suit verify): -k/--key KEY (repeatable), -h/--help and one
 * FILE operand; then the keys are loaded.  Returns true with *path set and
 * the keys loaded: go on.  Returns false when the command is over (help
 * printed, or a usage error or an unreadable key reported), with
 * *exit_code set.  Either way the caller ends with cli_keys_clear(keys).
 */
bool cli_key_check_args(const cli_cmd_t *cmd, int argc, char **argv,
                        cli_keys_t *keys, const char **path, int *exit_code);

#endif
