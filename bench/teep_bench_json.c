/*
 * teep_bench_json.c: what a run measured, as JSON (one object per run,
 * files in bench/out/), and the /proc readings the runs take of a target.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "teep_bench.h"

double teep_bench_proc_cpu(int pid)
{
    if (pid <= 0)
        return -1;
    char path[64], line[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    size_t n = fread(line, 1, sizeof(line) - 1, f);
    fclose(f);
    line[n] = '\0';
    /* The command name may hold spaces: fields count from its ')'. */
    char *p = strrchr(line, ')');
    unsigned long utime = 0, stime = 0;
    if (p == NULL || sscanf(p + 2,
                            "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
                            "%lu %lu",
                            &utime, &stime) != 2)
        return -1;
    return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

long teep_bench_proc_rss_kb(int pid)
{
    if (pid <= 0)
        return -1;
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    long kb = -1;
    while (fgets(line, sizeof(line), f) != NULL)
        if (sscanf(line, "VmRSS: %ld", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

static json_t *us(uint64_t ns)
{
    return json_real((double)ns / 1000.0);
}

json_t *teep_bench_run_json(const teep_bench_run_t *r)
{
    const teep_bench_hist_t *h = &r->hist;
    json_t *lat = json_pack("{s:o, s:o, s:o, s:o, s:o, s:I}", "p50",
                            us(teep_bench_hist_quantile(h, 0.50)), "p90",
                            us(teep_bench_hist_quantile(h, 0.90)), "p99",
                            us(teep_bench_hist_quantile(h, 0.99)), "p999",
                            us(teep_bench_hist_quantile(h, 0.999)), "max",
                            us(h->max), "count", (json_int_t)h->count);
    json_t *o = json_pack("{s:s, s:s, s:s, s:i, s:f, s:f, s:f, s:I, s:I, s:I, "
                          "s:o}",
                          "target", r->target ? r->target : "", "transport",
                          r->transport, "model", r->model, "connections",
                          (int)r->connections, "offered_rate", r->offered_rate,
                          "seconds", r->seconds, "rate", r->rate, "ok",
                          (json_int_t)r->ok, "errors", (json_int_t)r->errors,
                          "late", (json_int_t)r->late, "latency_us", lat);
    if (r->cpu_s >= 0 && h->count > 0)
        json_object_set_new(o, "cpu_us_per_exchange",
                            json_real(r->cpu_s * 1e6 / (double)h->count));
    if (r->rss_kb >= 0)
        json_object_set_new(o, "rss_kb", json_integer(r->rss_kb));
    return o;
}

int teep_bench_json_write(json_t *o, const char *path)
{
    char date[32];
    time_t now = time(NULL);
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    struct utsname u;
    char machine[160] = "unknown";
    if (uname(&u) == 0)
        snprintf(machine, sizeof(machine), "%s %s, %ld CPUs", u.sysname,
                 u.machine, sysconf(_SC_NPROCESSORS_ONLN));
    json_object_set_new(o, "tool", json_string("teep-bench"));
    json_object_set_new(o, "date", json_string(date));
    json_object_set_new(o, "machine", json_string(machine));
    int rc = 0;
    if (strcmp(path, "-") == 0) {
        if (json_dumpf(o, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(6)) < 0)
            rc = -EIO;
        putchar('\n');
    } else if (json_dump_file(o, path,
                              JSON_INDENT(2) | JSON_REAL_PRECISION(6)) < 0) {
        rc = -EIO;
    }
    json_decref(o);
    return rc;
}
