/*
 * teep_input.h: bytes from a file as a TEEP message, signed or not, with
 * the numbering profile given or detected.  Shared by decode (prints it)
 * and sign (checks that what it signs is a TEEP message).
 *
 * Detection (--profile auto): COSE input first asks teep_peek, which tells
 * the profile from the token label (legacy 20, rfc 19).  Without a token,
 * or for a bare message, the payload is decoded as rfc and as legacy: the
 * one that decodes wins, and when both do, the one that leaves fewer
 * options unknown, rfc on a tie.  (A legacy Error, wire type 6, never
 * decodes as rfc; a legacy Update's token under label 20 is an unknown
 * option to rfc.)
 */
#ifndef TEEP_CLI_TEEP_INPUT_H
#define TEEP_CLI_TEEP_INPUT_H

#include <stdbool.h>

#include "cli.h"
#include "teep/common.h"
#include "teep/cose.h"
#include "teep/message.h"

typedef struct cli_message {
    bool is_cose;           /* input was COSE_Sign1 / COSE_Sign */
    teep_cose_t cose;       /* when is_cose: slices into the input */
    teep_profile_t profile; /* the one the message decoded with */
    teep_message_t msg;     /* slices into the input, lists in arena */
    void *arena;            /* heap memory the decoder's arena uses */
} cli_message_t;

/*
 * Decode buf[0..len) (the caller keeps it alive while *out is used).
 * profile is a teep_profile_t or TEEP_PEEK_AUTO.  Returns 0, or a
 * TEEP_E_* / -errno code with diag telling why and where; diag->offset is
 * counted from the start of buf, also for an error inside a COSE payload.
 * Release with cli_message_free, also after a failure.
 */
int cli_message_decode(const uint8_t *buf, size_t len, int profile,
                       cli_message_t *out, teep_diag_t *diag);

void cli_message_free(cli_message_t *m);

/* Report a refused input on one line, "teep CMD: PATH: <what>: <why> at
 * byte N", and return CLI_EXIT_USAGE. */
int cli_diag_error(const cli_cmd_t *cmd, const char *path, int rc,
                   const teep_diag_t *diag);

#endif
