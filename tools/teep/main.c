/*
 * main.c: `teep COMMAND [OPTIONS] ...`: dispatch to the command and the
 * messages and option handling the commands share.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "teep/cose.h"
#include "teep/peek.h"

#ifndef TEEP_VERSION
#define TEEP_VERSION "0.1.0"
#endif

static const cli_cmd_t *const commands[] = {
    &cli_cmd_decode, &cli_cmd_encode, &cli_cmd_verify, &cli_cmd_sign,
    &cli_cmd_keygen, &cli_cmd_eat,    &cli_cmd_suit,   &cli_cmd_pd,
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void print_usage(FILE *out)
{
    fputs("Usage: teep COMMAND [OPTIONS] [FILE]\n"
          "       teep --help | --version\n"
          "\n"
          "TEEP (draft-ietf-teep-protocol) messages on the command line.\n"
          "\n"
          "Commands:\n",
          out);
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-8s %s\n", commands[i]->name, commands[i]->summary);
    fputs("\n"
          "FILE is hex text or binary (detected), '-' reads stdin.\n"
          "Exit status: 0 ok, 1 verification failed, 2 usage or input "
          "error.\n"
          "Run 'teep COMMAND --help' for the options of a command.\n",
          out);
}

static void print_version(void)
{
    printf("teep %s (libteepproto, %s crypto)\n", TEEP_VERSION,
           teep_crypto_backend());
}

static const cli_cmd_t *find_command(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i]->name, name) == 0)
            return commands[i];
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *word = argv[1];
    if (strcmp(word, "--help") == 0 || strcmp(word, "-h") == 0) {
        print_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(word, "--version") == 0 || strcmp(word, "-V") == 0) {
        print_version();
        return CLI_EXIT_OK;
    }
    const cli_cmd_t *cmd = find_command(word);
    if (cmd == NULL) {
        fprintf(stderr,
                "teep: unknown %s '%s'\n"
                "Try 'teep --help' for the list of commands.\n",
                word[0] == '-' ? "option" : "command", word);
        return CLI_EXIT_USAGE;
    }
    /* The command sees itself as argv[0], so getopt_long starts after it. */
    return cmd->run(argc - 1, argv + 1);
}

static void vprint_error(const cli_cmd_t *cmd, const char *fmt, va_list ap)
{
    fprintf(stderr, "teep %s: ", cmd->name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

int cli_error(const cli_cmd_t *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprint_error(cmd, fmt, ap);
    va_end(ap);
    return CLI_EXIT_USAGE;
}

int cli_usage_error(const cli_cmd_t *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprint_error(cmd, fmt, ap);
    va_end(ap);
    fprintf(stderr, "Try 'teep %s --help' for more information.\n", cmd->name);
    return CLI_EXIT_USAGE;
}

int cli_option_default(const cli_cmd_t *cmd, int opt, char **argv)
{
    /* A missing argument ends its word, so optind is past it.  An unknown
     * short option may sit inside a group ("-xq"): getopt_long names it in
     * optopt, which is 0 for an unknown long option. */
    char short_name[3] = {'-', (char)optopt, '\0'};
    switch (opt) {
    case 'h': fputs(cmd->usage, stdout); return CLI_EXIT_OK;
    case ':':
        return cli_usage_error(cmd, "option '%s' needs an argument",
                               argv[optind - 1]);
    default:
        return cli_usage_error(cmd, "unknown option '%s'",
                               optopt != 0 ? short_name : argv[optind - 1]);
    }
}

int cli_one_operand(const cli_cmd_t *cmd, int argc, char **argv,
                    const char **path)
{
    if (optind >= argc)
        return cli_usage_error(cmd, "missing FILE (use '-' for stdin)");
    if (optind + 1 < argc)
        return cli_usage_error(cmd, "one FILE expected, got '%s' too",
                               argv[optind + 1]);
    *path = argv[optind];
    return 0;
}

int cli_run_subcommand(const cli_cmd_t *parent, const cli_cmd_t *const *subs,
                       size_t n_subs, int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error(parent, "missing sub-command");
    const char *word = argv[1];
    if (strcmp(word, "--help") == 0 || strcmp(word, "-h") == 0) {
        fputs(parent->usage, stdout);
        return CLI_EXIT_OK;
    }
    size_t skip = strlen(parent->name) + 1; /* "suit verify" -> "verify" */
    for (size_t i = 0; i < n_subs; i++)
        if (strlen(subs[i]->name) > skip &&
            strcmp(word, subs[i]->name + skip) == 0)
            return subs[i]->run(argc - 1, argv + 1);
    return cli_usage_error(parent, "unknown sub-command '%s'", word);
}

int cli_parse_profile(const cli_cmd_t *cmd, const char *arg, bool allow_auto,
                      int *profile)
{
    teep_profile_t p;
    if (allow_auto && strcmp(arg, "auto") == 0) {
        *profile = TEEP_PEEK_AUTO;
        return 0;
    }
    if (teep_profile_parse(arg, &p) != 0)
        return cli_usage_error(cmd, "unknown profile '%s' (use rfc, legacy%s)",
                               arg, allow_auto ? " or auto" : "");
    *profile = (int)p;
    return 0;
}

const char *cli_input_label(const char *path)
{
    return strcmp(path, "-") == 0 ? "stdin" : path;
}
