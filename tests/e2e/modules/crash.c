/*
 * Tests that crash their worker, for tests/e2e/crash_*.sh.  "Once" tests
 * crash the first time any VU gets there (a marker file in the current
 * directory remembers it), then behave: so a replacement worker succeeds.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <loads.h>

/* True for exactly one caller across all workers of the run. */
static int first_time(const char *marker)
{
    int fd = open(marker, O_CREAT | O_EXCL | O_WRONLY, 0600);

    if (fd < 0)
        return 0;
    close(fd);
    return 1;
}

static int recurse(int depth)
{
    volatile char pad[1024];

    pad[0] = (char)depth;
    return recurse(depth + 1) + pad[0];
}

LOADS_TEST(TestCrash, test_segv)
{
    loads_get(t, "/");
    if (loads_user(t) == 1 && first_time("crashed.segv"))
        *(volatile int *)0 = 1;
}

LOADS_TEST(TestCrash, test_abort)
{
    loads_get(t, "/");
    if (loads_user(t) == 1 && first_time("crashed.abort"))
        abort();
}

LOADS_TEST(TestCrash, test_fpe)
{
    volatile int zero = 0, quotient;

    loads_get(t, "/");
    if (loads_user(t) == 1 && first_time("crashed.fpe")) {
        quotient = 100 / zero;
        loads_assert(t, quotient != 100, "not reached");
    }
}

LOADS_TEST(TestCrash, test_stack)
{
    loads_get(t, "/");
    if (loads_user(t) == 1 && first_time("crashed.stack"))
        loads_assert(t, recurse(0) == 0, "not reached");
}

LOADS_TEST(TestCrash, test_exit)
{
    loads_get(t, "/");
    if (loads_user(t) == 1 && first_time("crashed.exit"))
        exit(0);
}

LOADS_TEST(TestLoop, test_always)
{
    kill(getpid(), SIGSEGV);
}

LOADS_TEST(TestSlow, test_get_sleep)
{
    loads_get(t, "/");
    loads_sleep(t, 0.05);
}
