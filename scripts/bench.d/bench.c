/*
 * Tests for scripts/bench.  TestBench.test_get does what wrk does: one GET
 * of the page, nothing else.  TestIdle.test_slow holds its connection open
 * at a low request rate, for measuring memory per VU.  TestRate: for
 * scripts/bench-rate, below.
 */
#include <loads.h>

LOADS_TEST(TestBench, test_get)
{
    loads_get(t, "/");
}

LOADS_TEST(TestIdle, test_slow)
{
    loads_get(t, "/");
    loads_sleep(t, 2.0);
}

/*
 * scripts/bench-rate: TestRate.test_nothing is a run with no request, so
 * that an open model's run at a rate costs the scheduler alone;
 * test_stamp is one GET that nginx logs with its time ($msec).
 */
LOADS_TEST(TestRate, test_nothing)
{
}

LOADS_TEST(TestRate, test_stamp)
{
    loads_get(t, "/stamp");
}
