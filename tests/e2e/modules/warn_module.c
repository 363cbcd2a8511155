/*
 * A module with a warning that -Wall shows (tests/e2e/module_builds.sh):
 * an unused variable.  It builds and runs all the same.
 */
#include <loads.h>

LOADS_TEST(TestWarn, test_get)
{
    int unused_here;
    loads_response *r = loads_get(t, "/");

    loads_assert(t, loads_status(r) == 200, "status %d", loads_status(r));
}
