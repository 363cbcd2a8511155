/*
 * The test API around a test (tests/e2e/api_lifecycle.sh): setUp and
 * tearDown, the order of a suite's tests, loads_fail, custom counters,
 * loads_elapsed, code after a failed assertion.  Each step stamps itself in
 * nginx's log with a request to /at/NAME (at.log), so that the order of what
 * ran, and what did not, is read from the server.
 */
#include <stdio.h>
#include <stdlib.h>

#include <loads.h>

static void at(loads_test *t, const char *name)
{
    char url[128];
    loads_response *r;

    snprintf(url, sizeof(url), "/at/%s", name);
    r = loads_get(t, url);
    loads_assert(t, loads_status(r) == 200, "%s: status %d", url, loads_status(r));
}

/* A suite with setUp and tearDown; its tests defined out of name order. */
LOADS_SETUP(TestLife)
{
    at(t, "setup");
}

LOADS_TEARDOWN(TestLife)
{
    at(t, "teardown");
}

LOADS_TEST(TestLife, test_c_fails)
{
    at(t, "c");
    loads_assert(t, 1 + 1 == 3, "c: arithmetic is %s", "broken");
    at(t, "c-after-assert"); /* never runs */
}

LOADS_TEST(TestLife, test_a)
{
    at(t, "a");
}

LOADS_TEST(TestLife, test_b_fail)
{
    at(t, "b");
    loads_fail(t, "b: failed on purpose, run %d", 7);
    at(t, "b-after-fail"); /* never runs */
}

/* setUp fails: the test is skipped, and so is tearDown. */
LOADS_SETUP(TestBadSetup)
{
    at(t, "bad-setup");
    loads_fail(t, "setUp broke");
}

LOADS_TEARDOWN(TestBadSetup)
{
    at(t, "bad-setup-teardown"); /* never runs */
}

LOADS_TEST(TestBadSetup, test_skipped)
{
    at(t, "bad-setup-test"); /* never runs */
}

/* tearDown fails: after a passing test its failure counts; after a failing
 * test the test's own failure is the one kept. */
LOADS_TEARDOWN(TestBadTeardown)
{
    at(t, "bad-teardown");
    loads_fail(t, "tearDown broke");
}

LOADS_TEST(TestBadTeardown, test_passes)
{
    at(t, "passes");
}

LOADS_TEST(TestBadTeardown, test_fails)
{
    at(t, "fails");
    loads_fail(t, "the test broke");
}

/* Custom counters: 1 + 5 + 0 per run. */
LOADS_TEST(TestCounters, test_add)
{
    loads_incr_counter(t, "visits");
    loads_add_counter(t, "items", 5);
    loads_add_counter(t, "zero", 0);
}

/* loads_elapsed of a 100 ms response, told to nginx in the next URL. */
LOADS_TEST(TestElapsed, test_elapsed)
{
    loads_response *r;
    char name[64];

    loads_sleep(t, 0.2); /* not part of the request's time: api_lifecycle.sh would see it */
    r = loads_get(t, "/stats/sleep/0.1");
    snprintf(name, sizeof(name), "elapsed?us=%.0f", loads_elapsed(r) * 1e6);
    at(t, name);
}
