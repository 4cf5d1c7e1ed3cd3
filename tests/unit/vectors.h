/*
 * vectors.h: load the published test vectors (tests/vectors, copied from
 * ../shared/vectors; sources in tests/vectors/SOURCES.md) in unit tests.
 */
#ifndef TEST_VECTORS_H
#define TEST_VECTORS_H

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Read TEEP_VECTORS_DIR/name (a hex text file: one hex line, whitespace
 * ignored) into a malloc'd buffer.  Returns NULL if missing or not hex;
 * the caller frees. */
static inline uint8_t *vector_load_hex(const char *name, size_t *len)
{
    char path[512];
    *len = 0;
    snprintf(path, sizeof(path), "%s/%s", TEEP_VECTORS_DIR, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)size + 1);
    uint8_t *out = malloc((size_t)size / 2 + 1);
    size_t n = fread(text, 1, (size_t)size, f);
    fclose(f);
    size_t o = 0;
    int hi = -1;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)text[i];
        if (isspace(c))
            continue;
        int v =
            isdigit(c) ? c - '0' : (isxdigit(c) ? (tolower(c) - 'a' + 10) : -1);
        if (v < 0) {
            free(text);
            free(out);
            return NULL;
        }
        if (hi < 0) {
            hi = v;
        } else {
            out[o++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    free(text);
    *len = o;
    return out;
}

/* Read a whole file (PEM keys) as text; NUL-terminated; caller frees. */
static inline char *vector_load_text(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", TEEP_VECTORS_DIR, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)size + 1);
    size_t n = fread(text, 1, (size_t)size, f);
    fclose(f);
    text[n] = 0;
    if (len != NULL)
        *len = n;
    return text;
}

#endif
