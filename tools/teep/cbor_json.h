/*
 * cbor_json.h: a generic, lossless JSON view of a CBOR item, for the SUIT
 * elements TEEP carries without interpreting (tc-list entries, component
 * identifiers).
 *
 *   integer            -> JSON integer
 *   text string        -> JSON string
 *   byte string        -> JSON string "h'0102AB'" (diagnostic notation)
 *   array              -> JSON array
 *   map                -> JSON object; integer keys as decimal strings
 *                         ("0", "-1"), byte string keys as "h'..'"
 *   tag N (item)       -> {"tag": N, "value": item}
 *   true, false, null  -> themselves
 *
 * A view is only used when converting it back gives the original bytes;
 * otherwise (floats, non-preferred encodings, a text string that reads as
 * "h'..'", a map that reads as a tag ...) the item is shown as
 * {"cbor": "HEX"}, which converts back verbatim.  So view -> CBOR is the
 * identity on everything cbor_json_view produces.
 */
#ifndef TEEP_CLI_CBOR_JSON_H
#define TEEP_CLI_CBOR_JSON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* The view of the one CBOR item in buf[0..len).  New reference; NULL only
 * when out of memory. */
json_t *cbor_json_view(const uint8_t *buf, size_t len);

/* The CBOR a view stands for, in a malloc'd buffer the caller frees.
 * Returns 0, -ENOMEM, or -EINVAL when the JSON is no view (a real number,
 * a bad hex string, {"cbor": ...} that is not one CBOR item, nesting
 * deeper than TEEP_MAX_DEPTH). */
int cbor_json_encode(const json_t *view, uint8_t **out, size_t *out_len);

#endif
