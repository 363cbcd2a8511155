/* Tests for tests/e2e/signals.sh and tests/e2e/kill_workers.sh. */
#include <loads.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

/* A short run: a request, then 0.1 s of think time. */
LOADS_TEST(TestSig, test_browse)
{
    loads_get(t, "/");
    loads_sleep(t, 0.1);
}

/* A run that outlasts any grace period the tests give: 20 s asleep.  Its
 * request first says to nginx's log that the run is under way. */
LOADS_TEST(TestSig, test_long)
{
    loads_get(t, "/");
    loads_sleep(t, 20);
    loads_get(t, "/");
}

/* A run of a request, 1 s asleep, then a request: within the default grace
 * period (the first request says to nginx's log that the run is under way). */
LOADS_TEST(TestSig, test_second)
{
    loads_get(t, "/");
    loads_sleep(t, 1);
    loads_get(t, "/");
}

/* A run that the default grace period (5 s) would let end: 3 s asleep
 * (after a request that says to nginx's log that the run is under way). */
LOADS_TEST(TestSig, test_within_grace)
{
    loads_get(t, "/");
    loads_sleep(t, 3);
    loads_get(t, "/");
}

/* kill_workers.sh: /kill is logged with its time ($msec) as well. */
LOADS_TEST(TestSig, test_busy)
{
    loads_get(t, "/kill");
    loads_sleep(t, 0.01);
}

/* A program the test starts can be stopped: the worker's own disregard
 * of stop signals is not passed on to it. */
LOADS_TEST(TestSig, test_child_signals)
{
    int st = system("kill -TERM $$; exit 0");

    loads_assert(t, st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM,
                 "a program the test started did not die of SIGTERM (status %d)", st);
}
