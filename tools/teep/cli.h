/*
 * cli.h: what the `teep` commands share: the command descriptor, exit
 * codes, and the messages every command prints the same way.
 *
 * Messages follow the openssl / coreutils habit: "teep CMD: what went
 * wrong", and a usage error adds "Try 'teep CMD --help'".
 */
#ifndef TEEP_CLI_H
#define TEEP_CLI_H

#include <stdbool.h>
#include <stddef.h>

/* Exit codes, the same for every command (verify uses CLI_EXIT_FAIL). */
enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAIL = 1,  /* the check the command makes did not pass */
    CLI_EXIT_USAGE = 2, /* bad usage, unreadable or malformed input */
};

typedef struct cli_cmd {
    const char *name;
    const char *summary; /* one line for `teep --help` */
    const char *usage;   /* full text for `teep CMD --help` */
    /* argv[0] is the command name; getopt_long starts at argv[1]. */
    int (*run)(int argc, char **argv);
} cli_cmd_t;

extern const cli_cmd_t cli_cmd_decode;
extern const cli_cmd_t cli_cmd_encode;
extern const cli_cmd_t cli_cmd_verify;
extern const cli_cmd_t cli_cmd_sign;
extern const cli_cmd_t cli_cmd_keygen;
extern const cli_cmd_t cli_cmd_eat;  /* cmd_eat.c: attestation tokens */
extern const cli_cmd_t cli_cmd_suit; /* cmd_suit.c: SUIT manifests */
extern const cli_cmd_t cli_cmd_pd;   /* cmd_pd.c: personalization data */

/* "teep CMD: <message>" on stderr.  Returns CLI_EXIT_USAGE so a caller can
 * `return cli_error(...)`. */
int cli_error(const cli_cmd_t *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* cli_error plus the "Try 'teep CMD --help'" hint: for usage mistakes. */
int cli_usage_error(const cli_cmd_t *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * The getopt_long results every command treats alike, for the default
 * branch of its option switch: 'h' prints the usage on stdout (exit 0),
 * '?' and ':' (optstring starts with ':') report the unknown option or the
 * missing argument (exit 2).  Returns the exit code.
 */
int cli_option_default(const cli_cmd_t *cmd, int opt, char **argv);

/* After option parsing: the one FILE operand, or a usage error.  Returns
 * 0 with *path set, else the exit code. */
int cli_one_operand(const cli_cmd_t *cmd, int argc, char **argv,
                    const char **path);

/* --profile: "rfc", "legacy", and "auto" when allow_auto (stored as
 * TEEP_PEEK_AUTO).  Returns 0 or the exit code of a usage error. */
int cli_parse_profile(const cli_cmd_t *cmd, const char *arg, bool allow_auto,
                      int *profile);

/*
 * Run the sub-command of a command with sub-commands ("teep suit verify"):
 * argv[1] names one of subs (whose names are "<parent> <word>"), which
 * runs with argv shifted by one; "--help" prints the parent's usage.
 * Returns the sub-command's exit code, or that of a usage error.
 */
int cli_run_subcommand(const cli_cmd_t *parent, const cli_cmd_t *const *subs,
                       size_t n_subs, int argc, char **argv);

/* The name to print for an input path ("stdin" for "-"). */
const char *cli_input_label(const char *path);

#endif
