/*
 * test_broker_units: the broker's pure functions, without sockets: the
 * configuration reader and its checks, the route table, the latency
 * histogram's buckets, log value quoting.  (The integration scripts next
 * to this file run the real processes.)
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "log.h"
#include "metrics.h"
#include "route.h"
#include "teep/http.h"

static const char good[] =
    "workers = 2;\n"
    "listeners = ( { uri = \"http://127.0.0.1:0\";\n"
    "                options = { max_body = 1000; route_from = \"host\"; }; } "
    ");\n"
    "default_route = \"b\";\n"
    "routes = (\n"
    "  { name = \"a\"; endpoints = [ \"http://127.0.0.1:1/tam\" ]; },\n"
    "  { name = \"b\"; endpoints = [ \"http://127.0.0.1:2/x\",\n"
    "                               \"http://127.0.0.1:3/y\" ];\n"
    "    balance = \"round-robin\"; max_pending = 10;\n"
    "    health = { check = \"none\"; }; }\n"
    ");\n";

/* Parse text; the problems printed go to *out (caller frees). */
static int parse(const char *text, teep_broker_config_t *cfg, char **out)
{
    size_t len;
    FILE *err = open_memstream(out, &len);
    int rc = teep_broker_config_parse(cfg, text, "t.conf", err);
    fclose(err);
    return rc;
}

static void config_good(void **state)
{
    teep_broker_config_t cfg;
    char *errors = NULL;
    assert_int_equal(parse(good, &cfg, &errors), 0);
    assert_string_equal(errors, "");
    assert_int_equal(cfg.workers, 2);
    assert_int_equal(cfg.n_listeners, 1);
    assert_int_equal(cfg.listeners[0].n_options, 2);
    assert_string_equal(cfg.listeners[0].options[0].key, "max_body");
    assert_string_equal(cfg.listeners[0].options[0].value, "1000");
    assert_int_equal(cfg.n_routes, 2);
    assert_int_equal(cfg.routes[1].balance, TEEP_BROKER_BALANCE_ROUND_ROBIN);
    assert_int_equal(cfg.routes[1].max_pending, 10);
    assert_int_equal(cfg.routes[1].check, TEEP_BROKER_CHECK_NONE);
    assert_int_equal(cfg.routes[0].read_timeout_ms, 30000); /* default */
    free(errors);
    teep_broker_config_free(&cfg);
}

/* Every problem of a file is reported, each with its line. */
static void config_problems(void **state)
{
    static const char bad[] =
        "workers = \"two\";\n"
        "listeners = ( { uri = \"http://127.0.0.1:0\"; } );\n"
        "routes = ( { name = \"a b\";\n"
        "             endpoints = [ \"http://127.0.0.1:1/tam\" ];\n"
        "             retry_after = 0; shade = 1; } );\n";
    teep_broker_config_t cfg;
    char *errors = NULL;
    int rc = parse(bad, &cfg, &errors);
    assert_true(rc <= -3);
    assert_non_null(strstr(errors, "t.conf:1: workers: an integer"));
    assert_non_null(strstr(errors, "t.conf:5: retry_after: 0 is out of"));
    assert_non_null(strstr(errors, "t.conf:5: unknown setting \"shade\""));
    free(errors);
    teep_broker_config_free(&cfg);
}

static void config_semantics(void **state)
{
    static const char bad[] =
        "listeners = ( { uri = \"http://127.0.0.1:0\"; } );\n"
        "default_route = \"zz\";\n"
        "routes = ( { name = \"a\"; endpoints = [ \"gopher://x/\" ]; },\n"
        "           { name = \"a\"; endpoints = [ \"http://x/\" ]; } );\n";
    teep_broker_config_t cfg;
    char *errors = NULL;
    assert_true(parse(bad, &cfg, &errors) < 0);
    assert_non_null(strstr(errors, "endpoint \"gopher://x/\""));
    assert_non_null(strstr(errors, "route \"a\" defined twice"));
    assert_non_null(strstr(errors, "default_route \"zz\""));
    free(errors);
    teep_broker_config_free(&cfg);
}

static void listen_addr(void **state)
{
    char host[TEEP_HTTP_MAX_HOST + 1];
    uint16_t port = 1;
    assert_int_equal(teep_broker_listen_addr("127.0.0.1:0", host, &port), 0);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 0);
    assert_int_equal(teep_broker_listen_addr("[::1]:9090", host, &port), 0);
    assert_int_equal(port, 9090);
    assert_int_equal(teep_broker_listen_addr("localhost:1", host, &port),
                     -EINVAL); /* a name, not an address literal */
}

static void routes_table(void **state)
{
    teep_broker_config_t cfg;
    char *errors = NULL;
    assert_int_equal(parse(good, &cfg, &errors), 0);
    free(errors);
    teep_broker_routes_t *t;
    assert_int_equal(teep_broker_routes_new(&cfg, 3, 1, &t), 0);
    assert_int_equal(t->default_route, 1);
    assert_int_equal(teep_broker_routes_find(t, "", 0), 1);
    assert_int_equal(teep_broker_routes_find(t, "a", 1), 0);
    assert_int_equal(teep_broker_routes_find(t, "c", 1), -1);
    assert_int_equal(teep_broker_routes_find_url(t, "http://127.0.0.1:3/y"), 1);
    assert_string_equal(t->routes[1].endpoints[0].path, "/x");
    /* Health is inherited by URL across tables. */
    teep_broker_endpoint_set(&t->routes[1].endpoints[1], false);
    char *errors2 = NULL;
    assert_int_equal(parse(good, &cfg, &errors2), 0);
    free(errors2);
    teep_broker_routes_t *t2;
    assert_int_equal(teep_broker_routes_new(&cfg, 3, 2, &t2), 0);
    teep_broker_routes_inherit(t2, t);
    assert_false(teep_broker_endpoint_healthy(&t2->routes[1].endpoints[1]));
    assert_true(teep_broker_endpoint_healthy(&t2->routes[1].endpoints[0]));
    teep_broker_routes_unref(t);
    teep_broker_routes_unref(t2);
}

static void histogram(void **state)
{
    assert_int_equal(teep_broker_hist_index(0), 0);
    assert_int_equal(teep_broker_hist_index(10000), 0);   /* 10 us */
    assert_int_equal(teep_broker_hist_index(10001), 1);   /* to 25 us */
    assert_int_equal(teep_broker_hist_index(999999), 6);  /* to 1 ms */
    assert_int_equal(teep_broker_hist_index(1000000), 6); /* 1 ms */
    assert_int_equal(teep_broker_hist_index(200ull * 1000000000),
                     TEEP_BROKER_HIST_BUCKETS); /* +Inf */
    for (unsigned i = 1; i < TEEP_BROKER_HIST_BUCKETS; i++)
        assert_true(teep_broker_hist_bounds_ns[i - 1] <
                    teep_broker_hist_bounds_ns[i]);
}

static void quoting(void **state)
{
    char out[32];
    assert_string_equal(teep_broker_log_quote("plain", 5, out, sizeof(out)),
                        "plain");
    assert_string_equal(teep_broker_log_quote("a b", 3, out, sizeof(out)),
                        "\"a b\"");
    assert_string_equal(teep_broker_log_quote("q\"\n", 3, out, sizeof(out)),
                        "\"q\\\"\\x0a\"");
    assert_string_equal(teep_broker_log_quote("", 0, out, sizeof(out)), "\"\"");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(config_good),      cmocka_unit_test(config_problems),
        cmocka_unit_test(config_semantics), cmocka_unit_test(listen_addr),
        cmocka_unit_test(routes_table),     cmocka_unit_test(histogram),
        cmocka_unit_test(quoting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
