/* Threshold expressions: the parser and its errors, and measuring on a snapshot. */
#include <errno.h>
#include <stdlib.h>

#include "shm/threshold.h"
#include "tests/unit/unit.h"

static struct threshold parse_ok(const char *s, int line)
{
    struct threshold t;
    char err[256] = "";

    if (threshold_parse(s, &t, err, sizeof(err)) != 0)
        unit_fail(__FILE__, line, "'%s' refused: %s", s, err);
    return t;
}

#define PARSE(s) parse_ok(s, __LINE__)

UNIT_TEST(threshold_parses)
{
    struct threshold t;

    t = PARSE("p99<200ms");
    CHECK_INT_EQ(t.metric, THRESHOLD_PERCENTILE);
    CHECK(t.percentile == 99);
    CHECK_INT_EQ(t.op, THRESHOLD_LT);
    CHECK(t.value == 200000);
    CHECK_INT_EQ(t.service, 0);
    CHECK_STR_EQ(t.text, "p99<200ms");
    t = PARSE("  p50 <= 20 ms  ");
    CHECK_INT_EQ(t.op, THRESHOLD_LE);
    CHECK(t.value == 20000);
    CHECK_STR_EQ(t.text, "p50 <= 20 ms");
    t = PARSE("p99.9<1.5s");
    CHECK(t.percentile == 99.9);
    CHECK(t.value == 1500000);
    t = PARSE("service_p99<250us");
    CHECK_INT_EQ(t.service, 1);
    CHECK(t.value == 250);
    t = PARSE("errors<1%");
    CHECK_INT_EQ(t.metric, THRESHOLD_ERRORS);
    CHECK_INT_EQ(t.share, 1);
    CHECK(t.value == 1);
    t = PARSE("errors==0");
    CHECK_INT_EQ(t.share, 0);
    CHECK_INT_EQ(t.op, THRESHOLD_EQ);
    t = PARSE("rps>500");
    CHECK_INT_EQ(t.metric, THRESHOLD_RPS);
    CHECK_INT_EQ(t.op, THRESHOLD_GT);
    t = PARSE("rps >= 500/s");
    CHECK_INT_EQ(t.op, THRESHOLD_GE);
    t = PARSE("dropped==0");
    CHECK_INT_EQ(t.metric, THRESHOLD_DROPPED);
    t = PARSE("dropped<0.5%");
    CHECK_INT_EQ(t.share, 1);
    t = PARSE("mean!=3s");
    CHECK_INT_EQ(t.op, THRESHOLD_NE);
    t = PARSE("max<2s");
    CHECK_INT_EQ(t.metric, THRESHOLD_MAX);
    t = PARSE("hits>=100");
    CHECK_INT_EQ(t.metric, THRESHOLD_HITS);
    t = PARSE("runs>0");
    CHECK_INT_EQ(t.metric, THRESHOLD_RUNS);
    t = PARSE("p99{GET /login}<200ms");
    CHECK_STR_EQ(t.method, "GET");
    CHECK_STR_EQ(t.url, "/login");
    t = PARSE("p99{ post  http://127.0.0.1:9/a }<200ms");
    CHECK_STR_EQ(t.method, "POST");
    CHECK_STR_EQ(t.url, "http://127.0.0.1:9/a");
    t = PARSE("errors{/api}<5%");
    CHECK_STR_EQ(t.method, "");
    CHECK_STR_EQ(t.url, "/api");
    t = PARSE("p100<1s");
    CHECK(t.percentile == 100);
    /* Anything that is not a URL is a request's name (loads_send's .name). */
    t = PARSE("p99{login}<200ms");
    CHECK_INT_EQ(t.named, 1);
    CHECK_STR_EQ(t.method, "");
    CHECK_STR_EQ(t.url, "login");
    t = PARSE("errors{ log in } < 1%");
    CHECK_INT_EQ(t.named, 1);
    CHECK_STR_EQ(t.url, "log in");
    t = PARSE("p99{GET /api/items/{id}}<1s");
    CHECK_INT_EQ(t.named, 1);
    CHECK_STR_EQ(t.url, "GET /api/items/{id}");
    t = PARSE("p99{G3T /a}<1s");
    CHECK_INT_EQ(t.named, 1);
    t = PARSE("p99{GET /login}<200ms");
    CHECK_INT_EQ(t.named, 0);
    t = PARSE("checks{status {ok}}>=99%");
    CHECK_INT_EQ(t.named, 0);
    CHECK_STR_EQ(t.url, "status {ok}");
}

/* Each mistake with its column (from 1). */
UNIT_TEST(threshold_errors_name_the_column)
{
    static const struct {
        const char *in, *err;
    } cases[] = {
        {"", "column 1: empty: write a threshold such as p99<200ms or errors<1%"},
        {"p99<200", "column 8: add a unit to the time: us, ms or s (200ms)"},
        {"p99<<200ms", "column 5: one comparison: <, <=, >, >=, == or !="},
        {"p99=200ms", "column 4: use == to compare (a single = is not a comparison)"},
        {"p99 200ms", "column 5: expected a comparison: <, <=, >, >=, == or !="},
        {"p99<ms", "column 5: expected a number (such as 200 or 0.5)"},
        {"p99<200mss", "column 8: unknown unit 'mss': a time is in us, ms or s"},
        {"p0<1s", "column 1: a percentile is p and a number above 0, at most 100 (p50, p99.9)"},
        {"p101<1s", "column 1: a percentile is p and a number above 0, at most 100 (p50, p99.9)"},
        {"p99.<1s", "column 1: a percentile is p and a number above 0, at most 100 (p50, p99.9)"},
        {"latency<1s", "column 1: unknown metric 'latency': use p99, mean, min, max, "
                       "service_p99, errors, rps, hits, dropped, runs or checks"},
        {"<1s", "column 1: expected a metric: p99, mean, min, max, service_p99, errors, rps, "
                "hits, dropped, runs or checks"},
        {"service_errors<1", "column 1: service_ goes with a time: service_p99, service_mean, "
                             "service_min, service_max"},
        {"errors<1ms", "column 9: a count, or a share with % (errors<1%)"},
        {"checks>99", "column 10: checks is the share that passed: a % (checks>=99%)"},
        {"checks{}>99%", "column 8: expected a check's name in {}: checks{status ok}"},
        {"rps>5%", "column 6: rps is responses per second: a number, or with /s"},
        {"hits>5/s", "column 7: a count has no unit"},
        {"p99<200ms and p50<1ms", "column 11: unexpected 'and p50<1ms' after the threshold"},
        {"p99{/a<200ms", "column 4: '{' without its '}'"},
        {"p99{}<200ms", "column 5: expected a URL or a request's name in {}: {/login}, "
                        "{GET /login} or {login}"},
        {"p99{ }<200ms", "column 5: expected a URL or a request's name in {}: {/login}, "
                         "{GET /login} or {login}"},
        {"p99{/a?x=1}<1s", "column 7: URL rows have no query string: leave out from '?' on"},
        {"p99{GET /a?b}<1s", "column 11: URL rows have no query string: leave out from '?' on"},
        {"p99{a\tb}<1s", "column 6: a control character"},
        {"dropped{/a}<1", "column 8: dropped counts the whole run's runs: no {url}"},
        {"errors<-1", "column 8: expected a number (such as 200 or 0.5)"},
        {"p99<1e3ms", "column 6: unknown unit 'e': a time is in us, ms or s"},
        {"p99<2\n00ms", "column 6: a control character"},
    };
    char err[256];
    struct threshold t;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        err[0] = '\0';
        if (threshold_parse(cases[i].in, &t, err, sizeof(err)) != -EINVAL)
            unit_fail(__FILE__, __LINE__, "'%s' was accepted", cases[i].in);
        else if (strcmp(err, cases[i].err) != 0)
            unit_fail(__FILE__, __LINE__, "'%s': \"%s\", expected \"%s\"", cases[i].in, err,
                      cases[i].err);
    }
    {
        char long_one[400];

        memset(long_one, 'p', sizeof(long_one) - 1);
        long_one[sizeof(long_one) - 1] = '\0';
        CHECK_INT_EQ(threshold_parse(long_one, &t, err, sizeof(err)), -EINVAL);
        CHECK_STR_EQ(err, "column 256: a threshold of at most 255 characters");
    }
}

/* A snapshot by hand: two URL rows, known times, counts. */
static void snapshot(struct shm_stats *st)
{
    memset(st, 0, sizeof(*st));
    st->urls = calloc(4, sizeof(*st->urls));
    CHECK(st->urls != NULL);
    st->nurls = 4;
    snprintf(st->urls[0].key, sizeof(st->urls[0].key), "GET http://127.0.0.1:9/login");
    snprintf(st->urls[1].key, sizeof(st->urls[1].key), "POST http://127.0.0.1:9/login");
    snprintf(st->urls[2].key, sizeof(st->urls[2].key), "GET http://127.0.0.1:9/");
    /* /login GET: 100 hits of 1 ms service, 1001 ms response; 2 with status 500 */
    for (int i = 0; i < 100; i++) {
        hist_record(&st->urls[0].latency, 1000);
        hist_record(&st->urls[0].response, 1001000);
        hist_record(&st->latency, 1000);
        hist_record(&st->response, 1001000);
    }
    st->urls[0].hits = 100;
    st->urls[0].ok = 98;
    /* POST /login: 50 hits of 5 ms, 1 without a response */
    for (int i = 0; i < 50; i++) {
        hist_record(&st->urls[1].latency, 5000);
        hist_record(&st->urls[1].response, 5000);
        hist_record(&st->latency, 5000);
        hist_record(&st->response, 5000);
    }
    st->urls[1].hits = 50;
    st->urls[1].ok = 50;
    st->urls[1].errors = 1;
    /* a named request's row (loads_send's .name): 10 hits of 2 ms */
    snprintf(st->urls[3].key, sizeof(st->urls[3].key), "GET /api/items/{id}");
    for (int i = 0; i < 10; i++) {
        hist_record(&st->urls[3].latency, 2000);
        hist_record(&st->urls[3].response, 2000);
    }
    st->urls[3].hits = 10;
    st->urls[3].ok = 10;
    st->c.hits = 150;
    st->c.successes = 97;
    st->c.failures = 2;
    st->c.errors = 1;
    st->c.interrupted = 5;
    st->c.runs = 105;
    st->c.runs_started = 105;
    st->c.dropped = 15;
    st->elapsed = 3;
}

static struct threshold_result eval(const char *s, const struct shm_stats *st, int line)
{
    struct threshold t = parse_ok(s, line);
    struct threshold_result r;

    threshold_eval(&t, st, &r);
    return r;
}

#define EVAL(s) eval(s, &st, __LINE__)

UNIT_TEST(threshold_measures)
{
    struct shm_stats st;
    struct threshold_result r;
    struct threshold t;
    char v[64];

    snapshot(&st);
    r = EVAL("p99<200ms");
    CHECK(r.measured && !r.pass);
    CHECK(r.value > 1000000 && r.value < 1002000); /* 1.001 s, within 0.1% */
    r = EVAL("service_p99<200ms");
    CHECK(r.measured && r.pass);
    CHECK(r.value > 4990 && r.value < 5010);
    r = EVAL("p50{POST /login}<=5ms");
    CHECK(r.pass);
    r = EVAL("p50{/login}>1s");                  /* both methods: 100 of 150 at 1.001 s */
    CHECK(r.pass);
    r = EVAL("max{GET http://127.0.0.1:9/}<1s"); /* a row without responses */
    CHECK(!r.measured && !r.pass);
    r = EVAL("p99{/nowhere}<1s");
    CHECK(!r.measured && !r.pass);
    r = EVAL("hits{/nowhere}==0");
    CHECK(!r.measured && !r.pass);
    r = EVAL("errors<1%");                        /* 3 of 100 ended runs */
    CHECK(r.measured && !r.pass);
    CHECK(r.value == 3);
    r = EVAL("errors<=3");
    CHECK(r.pass);
    r = EVAL("errors{/login}<1.9%");              /* 2 statuses of 500 and 1 error of 151 */
    CHECK(!r.pass);
    CHECK(r.value > 1.98 && r.value < 1.99);
    r = EVAL("rps>=50");
    CHECK(r.pass && r.value == 50);
    r = EVAL("rps{POST /login}<17/s");
    CHECK(r.pass);
    r = EVAL("dropped==0");
    CHECK(!r.pass && r.value == 15);
    r = EVAL("dropped<=12.5%");                   /* 15 of 120 */
    CHECK(r.pass && r.value == 12.5);
    r = EVAL("runs==105");
    CHECK(r.pass);
    r = EVAL("hits!=150");
    CHECK(!r.pass);
    r = EVAL("hits{GET /api/items/{id}}==10");    /* a named row, by its name */
    CHECK(r.measured && r.pass);
    r = EVAL("p99{GET /api/items/{id}}<3ms");
    CHECK(r.pass && r.value > 1990 && r.value < 2010);
    r = EVAL("hits{/api/items/{id}}>0");           /* a name is the whole key */
    CHECK(!r.measured && !r.pass);
    r = EVAL("hits{GET /api/items}>0");            /* a URL is not a name */
    CHECK(!r.measured);

    t = PARSE("p99<200ms");
    threshold_eval(&t, &st, &r);
    threshold_format(v, sizeof(v), &t, &r);
    CHECK_STR_EQ(v, "1.00 s");
    t = PARSE("dropped<=12.5%");
    threshold_eval(&t, &st, &r);
    threshold_format(v, sizeof(v), &t, &r);
    CHECK_STR_EQ(v, "12.50%");
    t = PARSE("p99{/none}<1s");
    threshold_eval(&t, &st, &r);
    threshold_format(v, sizeof(v), &t, &r);
    CHECK_STR_EQ(v, "no data");
    shm_stats_free(&st);

    /* Nothing ran: a share has nothing to measure, a count is 0. */
    memset(&st, 0, sizeof(st));
    r = EVAL("errors<1%");
    CHECK(!r.measured && !r.pass);
    r = EVAL("errors==0");
    CHECK(r.measured && r.pass);
    r = EVAL("p50<1s");
    CHECK(!r.measured && !r.pass);
}

/* checks: the share of loads_check calls that passed, of all or one by name. */
UNIT_TEST(threshold_checks)
{
    struct shm_stats st;
    struct threshold_result r;
    struct threshold t;
    char err[128];

    memset(&st, 0, sizeof(st));
    snprintf(st.checks[0].name, sizeof(st.checks[0].name), "status is 200");
    st.checks[0].passes = 99;
    st.checks[0].fails = 1;
    snprintf(st.checks[1].name, sizeof(st.checks[1].name), "has a title");
    st.checks[1].passes = 50;
    st.checks[1].fails = 50;
    st.nchecks = 2;
    CHECK_INT_EQ(threshold_parse("checks{ status is 200 }>=99%", &t, err, sizeof(err)), 0);
    CHECK_STR_EQ(t.url, "status is 200");
    threshold_eval(&t, &st, &r);
    CHECK(r.measured && r.pass && r.value == 99);
    CHECK_INT_EQ(threshold_parse("checks>=99%", &t, err, sizeof(err)), 0);
    threshold_eval(&t, &st, &r); /* 149 of 200 */
    CHECK(r.measured && !r.pass && r.value == 74.5);
    CHECK_INT_EQ(threshold_parse("checks{has a title}==50%", &t, err, sizeof(err)), 0);
    threshold_eval(&t, &st, &r);
    CHECK(r.pass);
    CHECK_INT_EQ(threshold_parse("checks{no such check}>0%", &t, err, sizeof(err)), 0);
    threshold_eval(&t, &st, &r);
    CHECK(!r.measured && !r.pass);
}
