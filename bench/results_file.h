/*
 * results_file.h: what the C benchmarks share to record their figures:
 * a growing text buffer for a section, and the rewrite of that section
 * between its marker comments in bench/RESULTS.md (the rest of the file
 * is kept; a missing section is appended).
 */
#ifndef BENCH_RESULTS_FILE_H
#define BENCH_RESULTS_FILE_H

#include <stddef.h>

/* A growing NUL-terminated text; zero-initialise, free text with free(). */
typedef struct bench_text {
    char *text;
    size_t len;
    size_t cap;
} bench_text_t;

/* Append printf-style text.  Exits the program when out of memory (a
 * benchmark has nothing better to do). */
void bench_text_append(bench_text_t *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Replace what stands between "<!-- name:begin -->" and
 * "<!-- name:end -->" in path with section, or append the section with
 * its markers.  Returns 0, or -1 with the reason on stderr (prefixed by
 * tool). */
int bench_results_write(const char *tool, const char *path, const char *name,
                        const char *section);

#endif
