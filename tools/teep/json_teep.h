/*
 * json_teep.h: a TEEP message as JSON and back, through one table of
 * options (names from teep_option_name()), so decode and encode cannot
 * drift apart.
 *
 *   {"profile": "legacy", "type": "QueryRequest",
 *    "options": {"token": "A0A1..", "versions": [0], ...,
 *                "unknown": [{"label": 5, "cbor": "818212.."}]},
 *    "supported-teep-cipher-suites": [[[18, -9]], [[18, -19]]],
 *    "supported-teep-cipher-suites_names": ["sign1-esp256", ...],
 *    "supported-suit-cose-profiles": [[-16, -9, -29, -65534], ...],
 *    "data-item-requested": 3,
 *    "data-item-requested_names": ["attestation", "trusted-components"]}
 *
 * Keys are CDDL names; a key with an underscore ("_names", "_name") is a
 * readable annotation that encode ignores.  Byte strings are hex, text is
 * text, SUIT items the message does not interpret (tc-list entries,
 * component ids) are cbor_json views.  Numbers are as on the wire in the
 * JSON's "profile" (err-code 17 is ERR_MANIFEST_PROCESSING_FAILED in
 * legacy, 11 in rfc), unknown option labels included.
 */
#ifndef TEEP_CLI_JSON_TEEP_H
#define TEEP_CLI_JSON_TEEP_H

#include <jansson.h>
#include <stddef.h>

#include "teep/cose.h"
#include "teep/message.h"

/* msg (decoded in profile) as the object above.  New reference; NULL when
 * out of memory. */
json_t *json_teep_from_message(const teep_message_t *msg,
                               teep_profile_t profile);

/* {"structure": "COSE_Sign1", "signatures": [{"alg": "ESP256",
 * "alg_id": -9, "kid": "HEX"}]}: "alg" only when known, "kid" only when
 * present. */
json_t *json_teep_from_cose(const teep_cose_t *cose);

/* Memory a message built from JSON points into (its slices and lists). */
typedef struct json_teep_owned {
    void **blocks;
    size_t count;
    size_t cap;
} json_teep_owned_t;

void json_teep_owned_free(json_teep_owned_t *owned);

/*
 * The reverse of json_teep_from_message (a "cose" member is ignored).
 * *profile receives the JSON's "profile" (rfc when absent), the numbering
 * its numbers are in.  Everything msg points to is in owned, which the
 * caller frees after using msg, also after a failure.  Returns 0, or
 * -EINVAL with a reason naming the JSON member in err, or -ENOMEM.
 */
int json_teep_to_message(const json_t *root, teep_message_t *msg,
                         teep_profile_t *profile, json_teep_owned_t *owned,
                         char *err, size_t err_cap);

#endif
