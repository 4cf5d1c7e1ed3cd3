/* libFuzzer target: teep_peek must accept or refuse any input without a
 * crash, and what it accepts must be consistent (slices inside the input);
 * without a diag it must come to the same answer. */
#include <stdint.h>
#include <stdlib.h>

#include "teep/peek.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int profiles[] = {TEEP_PEEK_AUTO, TEEP_PROFILE_RFC,
                                   TEEP_PROFILE_LEGACY};
    for (size_t i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++) {
        teep_peek_t p, quiet;
        teep_diag_t diag;
        int rc = teep_peek(data, size, profiles[i], &p, &diag);
        if (teep_peek(data, size, profiles[i], &quiet, NULL) != rc)
            abort();
        if (rc == 0 &&
            (p.cose_tag != quiet.cose_tag || p.wire_type != quiet.wire_type ||
             p.type != quiet.type || p.profile != quiet.profile ||
             p.token.ptr != quiet.token.ptr || p.token.len != quiet.token.len ||
             p.payload.ptr != quiet.payload.ptr ||
             p.payload.len != quiet.payload.len))
            abort();
        if (rc != 0) {
            if (diag.code != rc || diag.offset > size)
                abort();
            continue;
        }
        if (p.payload.ptr < data || p.payload.ptr + p.payload.len > data + size)
            abort();
        if (p.token.ptr != NULL &&
            (p.token.ptr < p.payload.ptr ||
             p.token.ptr + p.token.len > p.payload.ptr + p.payload.len))
            abort();
    }
    return 0;
}
