/*
 * tests/e2e/js_runner.sh: responses of about 3 ms (nginx's echo_sleep), so
 * that the percentiles fall in histogram buckets wider than 1 us, where
 * a slot's value is its midpoint, not its lowest value.
 */
#include <loads.h>

LOADS_TEST(TestSleep, test_3ms)
{
    loads_response *r = loads_get(t, "/stats/sleep/0.003");
    loads_assert(t, loads_status(r) == 200, "/stats/sleep/0.003: status %d", loads_status(r));
}
