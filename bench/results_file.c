/* results_file.c: see results_file.h. */
#include "results_file.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void bench_text_append(bench_text_t *t, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = t->text != NULL
                    ? vsnprintf(t->text + t->len, t->cap - t->len, fmt, ap)
                    : -1;
        va_end(ap);
        if (n >= 0 && (size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = t->cap * 2 + 4096 + (size_t)(n > 0 ? n : 0);
        char *text = realloc(t->text, cap);
        if (text == NULL) {
            fputs("benchmark: out of memory\n", stderr);
            exit(1);
        }
        t->text = text;
        t->cap = cap;
    }
}

/* The whole file, NUL-terminated, or NULL when it does not exist. */
static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = size >= 0 ? calloc(1, (size_t)size + 1) : NULL;
    *len = text != NULL ? fread(text, 1, (size_t)size, f) : 0;
    fclose(f);
    return text;
}

int bench_results_write(const char *tool, const char *path, const char *name,
                        const char *section)
{
    char begin[128], end[128];
    snprintf(begin, sizeof(begin), "<!-- %s:begin -->", name);
    snprintf(end, sizeof(end), "<!-- %s:end -->", name);
    size_t old_len = 0;
    char *old = read_all(path, &old_len);
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        fprintf(stderr, "%s: %s: %s\n", tool, path, strerror(errno));
        free(old);
        return -1;
    }
    char *b = old != NULL ? strstr(old, begin) : NULL;
    char *e = b != NULL ? strstr(b, end) : NULL;
    if (b != NULL && e != NULL) {
        fwrite(old, 1, (size_t)(b - old), f);
        fprintf(f, "%s\n%s%s", begin, section, e);
    } else {
        if (old != NULL)
            fwrite(old, 1, old_len, f);
        else
            fputs("# Benchmark results\n\nEvery figure here is written by "
                  "the benchmark that measured it; none is typed in by "
                  "hand.\n",
                  f);
        fprintf(f, "\n%s\n%s%s\n", begin, section, end);
    }
    int rc = fclose(f) == 0 ? 0 : -1;
    free(old);
    return rc;
}
