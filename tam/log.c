/* log.c: one line per event on stderr. */
#include <stdarg.h>
#include <stdio.h>

#include "log.h"

static teep_log_level_t log_level = TEEP_LOG_INFO;

void tam_log_set_level(teep_log_level_t level)
{
    log_level = level;
}

void tam_log(teep_log_level_t level, const char *fmt, ...)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    if (level > log_level)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    /* One call per line so lines from worker threads do not interleave. */
    fprintf(stderr, "teep-tam %s %s\n", names[level], line);
}
