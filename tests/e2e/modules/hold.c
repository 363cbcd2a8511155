/*
 * Test code that does not return to Loads: it holds its worker's loop, and
 * with it every VU of that worker (tests/e2e/hold_loop.sh).
 */
#include <loads.h>
#include <time.h>
#include <unistd.h>

/* Spins for s seconds of CLOCK_MONOTONIC without a call into Loads. */
static void spin(double s)
{
    struct timespec a, b;

    clock_gettime(CLOCK_MONOTONIC, &a);
    do
        clock_gettime(CLOCK_MONOTONIC, &b);
    while ((double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9 < s);
}

/* test_a runs first in the suite, returns to Loads at once and is innocent. */
LOADS_TEST(TestSpin, test_a_fine)
{
    loads_get(t, "/");
}

/* A busy loop that never ends. */
LOADS_TEST(TestSpin, test_b_spin)
{
    volatile unsigned long n = 0;

    loads_get(t, "/");
    for (;;)
        n++;
}

/* A blocking call that never returns: read(2) on a pipe nobody writes to. */
LOADS_TEST(TestBlock, test_read)
{
    int fds[2];
    char c;

    loads_get(t, "/");
    if (pipe(fds) < 0)
        loads_fail(t, "pipe failed");
    if (read(fds[0], &c, 1) >= 0)
        loads_fail(t, "read returned");
}

/* Holds the loop 1.6 s, then ends normally: a warning, not an Error. */
LOADS_TEST(TestBlock, test_slow_code)
{
    loads_get(t, "/");
    spin(1.6);
}
