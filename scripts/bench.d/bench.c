/*
 * Tests for scripts/bench.  TestBench.test_get does what wrk does: one GET
 * of the page, nothing else.  TestIdle.test_slow holds its connection open
 * at a low request rate, for measuring memory per VU.
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
