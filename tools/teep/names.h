/*
 * names.h: readable names for the numbers TEEP and COSE put on the wire
 * (algorithms, COSE structures, cipher suites, SUIT COSE profiles,
 * data-item-requested bits).  Names only annotate: the numbers stay the
 * data, so a name this table lacks loses nothing.
 */
#ifndef TEEP_CLI_NAMES_H
#define TEEP_CLI_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "teep/message.h"

/* "ESP256", "Ed25519", "ES256", "EdDSA"; NULL if unknown. */
const char *cli_alg_name(int64_t alg);
/* The reverse, case-insensitive; false if unknown. */
bool cli_alg_parse(const char *name, int64_t *alg);

/* "COSE_Sign1" for tag 18, "COSE_Sign" for 98, NULL otherwise. */
const char *cli_cose_structure_name(uint64_t tag);

/* A cipher suite as its operations, "sign1-esp256" or
 * "sign1-esp256+sign1-ed25519", numbers where no name is known.  Writes a
 * terminated string into out[0..cap). */
void cli_suite_name(const teep_cipher_suite_t *suite, char *out, size_t cap);

/* The suit-mti name of a SUIT COSE profile; NULL if not a known one. */
const char *cli_suit_profile_name(const teep_suit_profile_t *profile);

/* Name of data-item-requested bit number `bit`; NULL past the defined
 * ones. */
const char *cli_data_item_name(unsigned bit);

#endif
