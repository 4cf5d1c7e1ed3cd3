/*
 * log.h: the TAM's log lines (private to tam/).  One line per event on
 * stderr: "teep-tam LEVEL message".  Thread-safe (one fprintf per line).
 */
#ifndef TEEP_TAM_LOG_H
#define TEEP_TAM_LOG_H

#include "teep/plugin.h"

/* Lines above level are dropped; the default is TEEP_LOG_INFO. */
void tam_log_set_level(teep_log_level_t level);

/* Write one line at level, printf-style. */
void tam_log(teep_log_level_t level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
