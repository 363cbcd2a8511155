/*
 * Tests of the open model (tests/e2e/rate_*.sh).  GET /stamp is logged by
 * nginx with its time ($msec) in stamps.log, one line per request: the
 * runs the server saw, and when.
 */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include <loads.h>

/* One request per run: a run is one line of stamps.log. */
LOADS_TEST(TestRate, test_stamp)
{
    loads_response *r = loads_get(t, "/stamp");
    loads_assert(t, loads_status(r) == 200, "/stamp: status %d", loads_status(r));
}

/* One request, then 0.2 s of think time: each run holds its user 0.2 s. */
LOADS_TEST(TestRate, test_slow)
{
    loads_response *r = loads_get(t, "/stamp");
    loads_assert(t, loads_status(r) == 200, "/stamp: status %d", loads_status(r));
    loads_sleep(t, 0.2);
}

/* GET /, and every 4th run of a worker fails (-w 1: exactly a quarter). */
LOADS_TEST(TestRate, test_some_fail)
{
    static int n;
    loads_response *r = loads_get(t, "/");
    loads_assert(t, ++n % 4 != 0, "run %d of 4 fails", n);
    (void)r;
}

/* GET /, then GET /post: two URL rows per run. */
LOADS_TEST(TestRate, test_two_urls)
{
    loads_get(t, "/");
    loads_post(t, "/post", "text/plain", "x", 1);
}

/* A login that is refused: each VU's setUpVU fails, so no VU runs a test. */
LOADS_SETUP_VU(TestRateLogin)
{
    loads_assert(t, 0, "login refused");
}

LOADS_TEST(TestRateLogin, test_stamp)
{
    loads_get(t, "/stamp");
}

/* No request: each run holds its user 1 s. */
LOADS_TEST(TestRate, test_hold)
{
    loads_sleep(t, 1);
}

/* A session per user: a login and a logout, under /at/ (at.log). */
LOADS_SETUP_VU(TestRateSession)
{
    loads_get(t, "/at/login");
}

LOADS_TEARDOWN_VU(TestRateSession)
{
    loads_get(t, "/at/logout");
}

LOADS_TEST(TestRateSession, test_stamp)
{
    loads_get(t, "/stamp");
}

/*
 * GET /stamp; the first run of a worker first holds the worker's loop
 * (blocking sleeps, no Loads wait: nothing else of the worker runs) until
 * the file $RELEASE exists, 20 s at most, having made the file $HELD.
 * Runs fall due meanwhile, and a stop can come before the worker sees
 * them (rate_stop_counts.sh).
 */
LOADS_TEST(TestRate, test_hold_loop)
{
    static int held;

    if (!held++) {
        const char *release = loads_env(t, "RELEASE");
        FILE *f = fopen(loads_env(t, "HELD"), "w");
        struct timespec ms10 = {0, 10 * 1000 * 1000};

        loads_assert(t, f && release, "HELD and RELEASE are needed");
        fclose(f);
        for (int i = 0; i < 2000 && access(release, F_OK) != 0; i++)
            nanosleep(&ms10, NULL);
    }
    loads_response *r = loads_get(t, "/stamp");
    loads_assert(t, loads_status(r) == 200, "/stamp: status %d", loads_status(r));
}

/* A login that takes 2 s: a stop's grace period can cut it (rate_stop_counts.sh). */
LOADS_SETUP_VU(TestRateSlowLogin)
{
    loads_sleep(t, 2);
}

LOADS_TEST(TestRateSlowLogin, test_stamp)
{
    loads_get(t, "/stamp");
}
