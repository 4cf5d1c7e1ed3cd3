/*
 * fuzz_message_decode.c: libFuzzer target for teep_message_decode().
 *
 * Each input is decoded with both numbering profiles into a stack arena.
 * Whatever decodes must encode, the encoding must decode again, and a
 * second encoding must give the same bytes as the first: encode(decode(x))
 * is the canonical form, and the canonical form is a fixed point.  It is
 * also never longer than the input, since the encoder writes preferred
 * (shortest) heads and copies every kept item as it came.  Any break of
 * these rules aborts, which libFuzzer reports as a crash.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "teep/message.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what, teep_profile_t profile, int rc)
{
    fprintf(stderr, "fuzz_message_decode: %s (%s profile): %d %s\n", what,
            teep_profile_name(profile), rc, teep_strerror(rc));
    abort();
}

/* Encode m into a buffer sized by a first, counting-only call. */
static uint8_t *encode(const teep_message_t *m, teep_profile_t profile,
                       size_t *len)
{
    int rc = teep_message_encode(m, profile, NULL, 0, len);
    if (rc != -ENOSPC)
        die("encode of a decoded message refused", profile, rc);
    uint8_t *out = malloc(*len);
    if (out == NULL)
        abort();
    rc = teep_message_encode(m, profile, out, *len, len);
    if (rc != 0)
        die("encode into a buffer of the size it asked for", profile, rc);
    return out;
}

static void check_profile(const uint8_t *data, size_t size,
                          teep_profile_t profile)
{
    uint64_t mem[TEEP_ARENA_DEFAULT / sizeof(uint64_t)];
    uint64_t mem2[TEEP_ARENA_DEFAULT / sizeof(uint64_t)];
    teep_arena_t arena;
    teep_message_t m, again;
    teep_diag_t diag;

    teep_arena_init(&arena, mem, sizeof(mem));
    if (teep_message_decode(data, size, profile, &arena, &m, &diag) != 0)
        return;
    size_t len1, len2;
    uint8_t *first = encode(&m, profile, &len1);
    if (len1 > size)
        die("canonical form longer than the input", profile, 0);
    teep_arena_init(&arena, mem2, sizeof(mem2));
    int rc = teep_message_decode(first, len1, profile, &arena, &again, &diag);
    if (rc != 0) {
        fprintf(stderr, "re-decode: %s at %zu\n", diag.reason, diag.offset);
        die("the canonical form does not decode", profile, rc);
    }
    if (again.type != m.type || again.present != m.present ||
        again.unknown_options.count != m.unknown_options.count)
        die("the canonical form decodes to another message", profile, 0);
    uint8_t *second = encode(&again, profile, &len2);
    if (len1 != len2 || memcmp(first, second, len1) != 0)
        die("the canonical form is not a fixed point", profile, 0);
    free(second);
    free(first);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_profile(data, size, TEEP_PROFILE_RFC);
    check_profile(data, size, TEEP_PROFILE_LEGACY);
    return 0;
}
