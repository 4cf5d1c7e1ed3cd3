/* teep_input.c: see teep_input.h. */
#include "teep_input.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "teep/peek.h"

/* The decoder never allocates: it carves lists out of an arena and says
 * TEEP_E_LIMIT when that is too small.  A command-line tool can afford to
 * retry with more room, up to this much. */
#define ARENA_MAX (64u * 1024 * 1024)

static int decode_as(const uint8_t *p, size_t n, teep_profile_t profile,
                     cli_message_t *out, teep_diag_t *diag)
{
    size_t size = TEEP_ARENA_DEFAULT;
    for (;;) {
        void *mem = realloc(out->arena, size);
        if (mem == NULL)
            return teep_diag_set(diag, -ENOMEM, 0, "out of memory");
        out->arena = mem;
        teep_arena_t arena;
        teep_arena_init(&arena, mem, size);
        memset(&out->msg, 0, sizeof(out->msg));
        out->profile = profile;
        int rc = teep_message_decode(p, n, profile, &arena, &out->msg, diag);
        if (rc != TEEP_E_LIMIT || size >= ARENA_MAX)
            return rc;
        size *= 2;
    }
}

/* Keep the legacy decode in out if it is the better reading: the only
 * one that decodes, or one that leaves fewer options unknown (an Update's
 * token under label 20 is an unknown option to rfc, its token to legacy). */
static bool take_legacy(cli_message_t *out, int rfc_rc, cli_message_t *legacy)
{
    if (rfc_rc == 0 &&
        legacy->msg.unknown_options.count >= out->msg.unknown_options.count)
        return false;
    free(out->arena);
    out->arena = legacy->arena;
    out->msg = legacy->msg;
    out->profile = legacy->profile;
    legacy->arena = NULL;
    return true;
}

static int decode_payload(const uint8_t *p, size_t n, int profile,
                          cli_message_t *out, teep_diag_t *diag)
{
    if (profile != TEEP_PEEK_AUTO)
        return decode_as(p, n, (teep_profile_t)profile, out, diag);
    teep_diag_t rfc_diag = {0}, legacy_diag = {0};
    int rc = decode_as(p, n, TEEP_PROFILE_RFC, out, &rfc_diag);
    if (rc == 0 && out->msg.unknown_options.count == 0)
        return 0;
    cli_message_t legacy = {0};
    int legacy_rc = decode_as(p, n, TEEP_PROFILE_LEGACY, &legacy, &legacy_diag);
    bool took = legacy_rc == 0 && take_legacy(out, rc, &legacy);
    cli_message_free(&legacy);
    if (took || rc == 0)
        return 0;
    /* Neither decodes: the profile that got further into the input is the
     * one the sender most likely meant (a truncated legacy message fails
     * early as rfc, on its token under label 20). */
    if (legacy_diag.offset >= rfc_diag.offset) {
        rfc_diag = legacy_diag;
        rc = legacy_rc;
    }
    if (diag != NULL)
        *diag = rfc_diag;
    return rc;
}

/* Tag 18 is the single byte D2, tag 98 the two bytes D8 62. */
static bool looks_like_cose(const uint8_t *buf, size_t len)
{
    return (len >= 1 && buf[0] == 0xd2) ||
           (len >= 2 && buf[0] == 0xd8 && buf[1] == 0x62);
}

/* The profile teep_peek reads from the token label; `profile` unchanged
 * when there is no token (or peek refuses: the decoder says why). */
static int peek_profile(const uint8_t *buf, size_t len, int profile)
{
    teep_peek_t peek;
    if (profile == TEEP_PEEK_AUTO &&
        teep_peek(buf, len, TEEP_PEEK_AUTO, &peek, NULL) == 0 &&
        peek.profile != TEEP_PEEK_AUTO)
        return peek.profile;
    return profile;
}

int cli_message_decode(const uint8_t *buf, size_t len, int profile,
                       cli_message_t *out, teep_diag_t *diag)
{
    memset(out, 0, sizeof(*out));
    if (!looks_like_cose(buf, len))
        return decode_payload(buf, len, profile, out, diag);
    out->is_cose = true;
    int rc = teep_cose_parse(buf, len, &out->cose, diag);
    if (rc != 0)
        return rc;
    const teep_slice_t *payload = &out->cose.payload;
    if (payload->ptr == NULL)
        return teep_diag_set(diag, TEEP_E_COSE, 0,
                             "detached (nil) payload: no TEEP message");
    rc = decode_payload(payload->ptr, payload->len,
                        peek_profile(buf, len, profile), out, diag);
    if (rc != 0 && diag != NULL)
        diag->offset += (size_t)(payload->ptr - buf);
    return rc;
}

void cli_message_free(cli_message_t *m)
{
    free(m->arena);
    m->arena = NULL;
}

int cli_diag_error(const cli_cmd_t *cmd, const char *path, int rc,
                   const teep_diag_t *diag)
{
    const char *what = teep_strerror(rc);
    if (diag->reason[0] == '\0' || strcmp(diag->reason, what) == 0)
        return cli_error(cmd, "%s: %s at byte %zu", cli_input_label(path), what,
                         diag->offset);
    return cli_error(cmd, "%s: %s: %s at byte %zu", cli_input_label(path), what,
                     diag->reason, diag->offset);
}
