/* Tests of how the simulated TEE starts its TAs (plugins/tee/sim/sim_ta.c,
 * compiled in): a TA whose execve() fails is reported by sim__ta_start
 * (not left for the Agent to find dead when its PD is due), and sessions
 * that store and start TAs on several threads at once never hand one
 * another's child a writer of their executables (which made execve() fail
 * with ETXTBSY: the end-to-end demo's "PD -> TA failed ... code -2" on a
 * loaded machine).  Process instances only: no root needed. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka.h needs the four above first. */
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim_internal.h"

/* Sessions started at once, and TA starts each. */
#define N_THREADS 4
#define N_STARTS  40

static void quiet_log(const teep_tee_host_t *host, teep_log_level_t level,
                      const char *fmt, ...)
{
}

static const teep_tee_host_t host = {.size = sizeof(host), .log = quiet_log};

static uint8_t *hello_ta;
static size_t hello_ta_len;

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
    return remove(path);
}

typedef struct tee {
    teep_tee_session_t s;
    sim_ta_t *ta;
    int failures; /* starts that did not give a TA that answers */
    int first_rc;
} tee_t;

static void tee_open(tee_t *t)
{
    memset(t, 0, sizeof(*t));
    t->s.host = &host;
    t->s.instance = TEEP_TEE_INSTANCE_PROCESS;
    snprintf(t->s.state_dir, sizeof(t->s.state_dir),
             "/tmp/teep-sim-spawn.XXXXXX");
    assert_non_null(mkdtemp(t->s.state_dir));
    for (size_t i = 0; i < TEEP_AGENT_MAX_COMPONENTS; i++)
        t->s.tas[i].fd = -1;
    static const uint8_t id[] = {0x81, 0x42, 't', 'a'};
    t->ta = sim__ta(&t->s, (teep_slice_t){id, sizeof(id)}, true);
    assert_non_null(t->ta);
}

static void tee_close(tee_t *t)
{
    sim__ta_remove(t->ta);
    nftw(t->s.state_dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* The TA answers an invocation: it runs. */
static int answers(sim_ta_t *ta)
{
    uint8_t *reply = NULL;
    size_t len = 0;
    int rc = sim__ta_invoke(ta, (const uint8_t *)"x", 1, &reply, &len);
    if (rc == 0 && (len < 10 || memcmp(reply, "hello from", 10) != 0))
        rc = -EPROTO;
    free(reply);
    return rc;
}

static void exec_failure_reported(void **state)
{
    tee_t t;
    tee_open(&t);
    /* Not an executable: execve() says ENOEXEC, and so does the start. */
    static const uint8_t junk[] = "not an executable";
    assert_int_equal(sim__ta_store(&t.s, t.ta, junk, sizeof(junk)), 0);
    assert_int_equal(sim__ta_start(&t.s, t.ta), -ENOEXEC);
    assert_true(t.ta->pid == 0 && t.ta->fd == -1);
    assert_int_equal(sim__ta_deliver(t.ta, junk, sizeof(junk)), -ENOENT);

    /* A writer of the executable (what a child cloned by another thread
     * held): ETXTBSY, reported; without the writer, the TA runs. */
    assert_int_equal(sim__ta_store(&t.s, t.ta, hello_ta, hello_ta_len), 0);
    char path[SIM_PATH_MAX + 8];
    snprintf(path, sizeof(path), "%s/ta", t.ta->dir);
    int writer = open(path, O_WRONLY | O_CLOEXEC);
    assert_true(writer >= 0);
    assert_int_equal(sim__ta_start(&t.s, t.ta), -ETXTBSY);
    assert_true(t.ta->pid == 0 && t.ta->fd == -1);
    close(writer);
    assert_int_equal(sim__ta_start(&t.s, t.ta), 0);
    assert_true(t.ta->pid > 0);
    assert_int_equal(answers(t.ta), 0);
    tee_close(&t);
}

/* One session: store and start its TA N_STARTS times, as an Update does. */
static void *starter(void *arg)
{
    tee_t *t = arg;
    for (int i = 0; i < N_STARTS; i++) {
        sim__ta_stop(t->ta);
        int rc = sim__ta_store(&t->s, t->ta, hello_ta, hello_ta_len);
        if (rc == 0)
            rc = sim__ta_start(&t->s, t->ta);
        if (rc == 0)
            rc = answers(t->ta);
        if (rc != 0) {
            if (t->failures++ == 0)
                t->first_rc = rc;
        }
    }
    return NULL;
}

static void concurrent_starts(void **state)
{
    tee_t tees[N_THREADS];
    pthread_t threads[N_THREADS];
    for (int i = 0; i < N_THREADS; i++)
        tee_open(&tees[i]);
    for (int i = 0; i < N_THREADS; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, starter, &tees[i]),
                         0);
    int failures = 0;
    for (int i = 0; i < N_THREADS; i++) {
        pthread_join(threads[i], NULL);
        if (tees[i].failures > 0)
            fprintf(stderr, "session %d: %d of %d starts failed, first %s\n", i,
                    tees[i].failures, N_STARTS, strerror(-tees[i].first_rc));
        failures += tees[i].failures;
    }
    for (int i = 0; i < N_THREADS; i++)
        tee_close(&tees[i]);
    assert_int_equal(failures, 0);
}

static int read_hello_ta(void **state)
{
    FILE *f = fopen(TEEP_HELLO_TA, "rb");
    if (f == NULL)
        return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    hello_ta = n > 0 ? malloc((size_t)n) : NULL;
    hello_ta_len = hello_ta != NULL ? fread(hello_ta, 1, (size_t)n, f) : 0;
    fclose(f);
    return hello_ta_len == (size_t)n && n > 0 ? 0 : -1;
}

static int free_hello_ta(void **state)
{
    free(hello_ta);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exec_failure_reported),
        cmocka_unit_test(concurrent_starts),
    };
    return cmocka_run_group_tests(tests, read_hello_ta, free_hello_ta);
}
