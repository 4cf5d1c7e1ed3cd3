/*
 * log.c: key=value lines on stderr (log.h).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static _Atomic int log_level = TEEP_LOG_INFO;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void teep_broker_log_set_level(teep_log_level_t level)
{
    atomic_store(&log_level, (int)level);
}

teep_log_level_t teep_broker_log_level(void)
{
    return (teep_log_level_t)atomic_load_explicit(&log_level,
                                                  memory_order_relaxed);
}

int teep_broker_log_level_parse(const char *name, teep_log_level_t *out)
{
    for (int i = 0; i <= TEEP_LOG_DEBUG; i++) {
        if (strcmp(name, level_names[i]) == 0) {
            *out = (teep_log_level_t)i;
            return 0;
        }
    }
    return -EINVAL;
}

/* "ts=2026-11-27T23:10:00.123Z level=info " into out; returns its
 * length.  The date part is formatted once per second per thread: the
 * relay logs every exchange. */
static size_t prefix(char *out, size_t cap, teep_log_level_t level)
{
    static _Thread_local time_t cached_sec = -1;
    static _Thread_local char when[32];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (ts.tv_sec != cached_sec) {
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
        cached_sec = ts.tv_sec;
    }
    int n = snprintf(out, cap, "ts=%s.%03ldZ level=%s ", when,
                     ts.tv_nsec / 1000000L,
                     level <= TEEP_LOG_DEBUG ? level_names[level] : "?");
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* write(2) until done: stderr may be a pipe that takes less at once. */
static void write_all(const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(STDERR_FILENO, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

void teep_broker_logv(teep_log_level_t level, const char *fmt, va_list ap)
{
    if ((int)level > atomic_load_explicit(&log_level, memory_order_relaxed))
        return;
    char line[2048];
    size_t n = prefix(line, sizeof(line), level);
    int m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
    if (m < 0)
        return;
    n += (size_t)m < sizeof(line) - n - 1 ? (size_t)m : sizeof(line) - n - 2;
    line[n++] = '\n';
    write_all(line, n);
}

void teep_broker_log(teep_log_level_t level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    teep_broker_logv(level, fmt, ap);
    va_end(ap);
}

char *teep_broker_log_quote(const char *s, size_t len, char *out, size_t cap)
{
    bool plain = len > 0;
    for (size_t i = 0; i < len && plain; i++) {
        unsigned char c = (unsigned char)s[i];
        plain = c > ' ' && c < 0x7f && c != '"' && c != '=' && c != '\\';
    }
    size_t o = 0;
    if (cap == 0)
        return out;
    if (plain) {
        o = len < cap - 1 ? len : cap - 1;
        memcpy(out, s, o);
        out[o] = '\0';
        return out;
    }
    out[o++] = '"';
    for (size_t i = 0; i < len && o + 6 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c < ' ' || c == 0x7f) {
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
        } else {
            out[o++] = (char)c;
        }
    }
    if (o < cap - 1)
        out[o++] = '"';
    out[o] = '\0';
    return out;
}

void teep_broker_logbuf_flush(teep_broker_logbuf_t *lb)
{
    if (lb->len > 0)
        write_all(lb->buf, lb->len);
    lb->len = 0;
}

void teep_broker_logbuf_printf(teep_broker_logbuf_t *lb, const char *fmt, ...)
{
    if (TEEP_LOG_INFO > atomic_load_explicit(&log_level, memory_order_relaxed))
        return;
    char line[1024];
    size_t n = prefix(line, sizeof(line), TEEP_LOG_INFO);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
    va_end(ap);
    if (m < 0)
        return;
    n += (size_t)m < sizeof(line) - n - 1 ? (size_t)m : sizeof(line) - n - 2;
    line[n++] = '\n';
    if (lb->len + n > sizeof(lb->buf))
        teep_broker_logbuf_flush(lb);
    memcpy(lb->buf + lb->len, line, n);
    lb->len += n;
}
