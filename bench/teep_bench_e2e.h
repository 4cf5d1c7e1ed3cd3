/*
 * teep_bench_e2e.h: end-to-end agents of teep-bench (docs/bench.md):
 * full TEEP exchanges with the real teep-tam, directly or through
 * teep-broker.  Private to bench/.
 */
#ifndef TEEP_BENCH_E2E_H
#define TEEP_BENCH_E2E_H

#include "teep_bench.h"

/* What an end-to-end run needs beyond a load run's options. */
typedef struct {
    const char *admin_url; /* the TAM's admin API, http://HOST:PORT */
    const char *data_dir;  /* the TAM's data directory: admin.token and the
                              public keys its Agents trust */
    unsigned devices;      /* devices provisioned: one per exchange */
    int relay_pid;         /* a broker in front of the TAM, 0: none */
} teep_bench_e2e_opts_t;

/*
 * Provisions e->devices devices through the admin API (registered, each
 * named in a package-mode-6 deployment of one TA), then runs o's load
 * (closed or open loop, o->url the TEEP endpoint) where each exchange is
 * one device's empty POST -> QueryRequest, QueryResponse with Evidence ->
 * Update, Success -> 204.  Fills out (o->pid: the TAM); *provisioned and
 * *provision_s say what the set-up did, *relay_cpu_s the CPU seconds of
 * e->relay_pid over the measured window (-1: none).  Returns 0, -EINVAL
 * (options), -EIO with a line on stderr (the data directory or the admin
 * API failed), or -ENOMEM.
 */
int teep_bench_e2e_run(const teep_bench_e2e_opts_t *e,
                       const teep_bench_load_opts_t *o, teep_bench_run_t *out,
                       unsigned *provisioned, double *provision_s,
                       double *relay_cpu_s);

/* `teep-bench e2e ...`: argv[0] is "e2e".  Returns the exit status. */
int teep_bench_e2e_main(int argc, char **argv);

#endif
