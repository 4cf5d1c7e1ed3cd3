/*
 * fuzz_broker_config: the broker's configuration loader (broker/config.c)
 * on arbitrary text: libconfig's parser, then every check the broker
 * makes of settings, types, ranges, names and URLs.  Problems go to a
 * null stream: only crashes, leaks and undefined behaviour matter here.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);

/* libconfig 1.5 (Debian 12) leaks scanner buffers on some syntax errors
 * (strbuf_append when an error interrupts a string literal, libconfig_yylex
 * for an empty string literal "" at the top level): leaks of the library,
 * a few bytes per refused file, not of the loader, so they are not reported
 * here.  Frames of our own code above them still are. */
const char *__lsan_default_suppressions(void)
{
    return "leak:strbuf_append\nleak:libconfig_yylex\n";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *sink;
    if (sink == NULL)
        sink = fopen("/dev/null", "w");
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    teep_broker_config_t cfg;
    teep_broker_config_parse(&cfg, text, "fuzz.conf", sink);
    teep_broker_config_free(&cfg);
    free(text);
    return 0;
}
