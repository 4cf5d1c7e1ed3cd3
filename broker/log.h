/*
 * log.h: the broker's log, key=value lines on stderr.
 *
 * Two paths.  teep_broker_log formats one line and writes it with one
 * write(2), so lines of different threads never interleave; it is for
 * events (start, reload, health changes, errors).  The relay's one line per
 * exchange outcome goes through a teep_broker_logbuf_t owned by the worker
 * instead: lines are appended to a buffer and written once per loop
 * iteration, so a busy worker does one system call for many exchanges.
 */
#ifndef TEEP_BROKER_LOG_H
#define TEEP_BROKER_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "teep/plugin.h"

/* Lines above this level are dropped (process-wide, set at start). */
void teep_broker_log_set_level(teep_log_level_t level);
teep_log_level_t teep_broker_log_level(void);

/* "error" / "warn" / "info" / "debug" -> *out: 0 or -EINVAL. */
int teep_broker_log_level_parse(const char *name, teep_log_level_t *out);

/* One line: "ts=... level=... " then the formatted key=value text.
 * Thread-safe.  Values that may hold spaces are quoted by the caller
 * (teep_broker_log_quote). */
void teep_broker_log(teep_log_level_t level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void teep_broker_logv(teep_log_level_t level, const char *fmt, va_list ap);

/* Write s into out[0..cap) as a log value: as is when it is a plain token,
 * else in double quotes with '"', '\\' and control bytes escaped.  Always
 * NUL-terminates (truncating).  Returns out. */
char *teep_broker_log_quote(const char *s, size_t len, char *out, size_t cap);

/* A worker's buffered exchange log. */
#define TEEP_BROKER_LOGBUF_SIZE 4096 /* PIPE_BUF: one write stays atomic */
typedef struct teep_broker_logbuf {
    size_t len;
    char buf[TEEP_BROKER_LOGBUF_SIZE];
} teep_broker_logbuf_t;

/* Append one line (level info, with the same prefix as teep_broker_log);
 * flushes first when it would not fit. */
void teep_broker_logbuf_printf(teep_broker_logbuf_t *lb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Write out what is buffered. */
void teep_broker_logbuf_flush(teep_broker_logbuf_t *lb);

#endif
