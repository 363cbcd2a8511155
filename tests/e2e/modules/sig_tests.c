/* Tests for tests/e2e/signals.sh and kill_workers.sh. */
#include <loads.h>

LOADS_TEST(TestSig, test_browse)
{
    loads_get(t, "/");
    loads_sleep(t, 0.1);
}

LOADS_TEST(TestSig, test_long)
{
    loads_sleep(t, 20);
    loads_get(t, "/");
}

LOADS_TEST(TestSig, test_busy)
{
    loads_get(t, "/");
    loads_sleep(t, 0.01);
}
