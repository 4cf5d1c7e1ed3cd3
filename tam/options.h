/*
 * options.h: teep-tam's server options, from the command line and an
 * optional JSON config file whose keys are the long option names
 * (options.c).  The command line wins over the file.
 */
#ifndef TEEP_TAM_OPTIONS_H
#define TEEP_TAM_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "teep/http.h"

#include "tam.h"

#define TAM_OPT_MAX_REFS 16

typedef struct tam_options {
    char host[TEEP_HTTP_MAX_HOST + 1];
    uint16_t port;
    bool admin;
    char admin_host[TEEP_HTTP_MAX_HOST + 1];
    uint16_t admin_port;
    char data_dir[4096];
    teep_profile_t profile;
    uint32_t token_ttl;
    uint32_t max_age;
    unsigned threads;
    uint32_t request_timeout; /* seconds */
    uint64_t max_message;
    uint64_t max_package;
    uint32_t lifetime; /* seconds; 0: until a signal */
    char tls_cert[4096], tls_key[4096];
    char admin_tls_cert[4096], admin_tls_key[4096];
    size_t n_hwmodels;
    uint8_t hwmodel_bytes[TAM_OPT_MAX_REFS][32];
    teep_slice_t hwmodels[TAM_OPT_MAX_REFS];
    size_t n_sw;
    char sw_text[TAM_OPT_MAX_REFS][256];
    teep_eat_sw_ref_t sw[TAM_OPT_MAX_REFS];
    int verbosity; /* teep_log_level_t */
    bool help, version;
} tam_options_t;

/* Parse argv (after the program name) into o, reading --config first.
 * Returns 0, or -EINVAL after printing one line on stderr. */
int tam_options_parse(tam_options_t *o, int argc, char **argv);

/* The --help text. */
void tam_options_usage(FILE *out);

#endif
