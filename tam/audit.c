/* audit.c: the audit log: what the TAM did and refused, per device and
 * deployment, kept in the database next to the state it explains. */
#include <stdarg.h>
#include <stdio.h>

#include "internal.h"

static const char SQL_AUDIT[] =
    "INSERT INTO audit (at, device_id, deployment_id, event, detail)"
    " VALUES (?, ?, ?, ?, ?)";

void tam_audit(tam_store_t *s, int64_t now, int64_t device, int64_t deployment,
               const char *event, const char *fmt, ...)
{
    char detail[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    tam_log(TEEP_LOG_INFO, "device %lld deployment %lld %s: %s",
            (long long)device, (long long)deployment, event, detail);
    sqlite3_stmt *st = tam_store_stmt(s, SQL_AUDIT);
    if (st == NULL)
        return;
    sqlite3_bind_int64(st, 1, now);
    if (device != 0)
        sqlite3_bind_int64(st, 2, device);
    if (deployment != 0)
        sqlite3_bind_int64(st, 3, deployment);
    tam_bind_text(st, 4, event);
    tam_bind_text(st, 5, detail);
    tam_store_exec(s, st);
}
