/*
 * A test for the dashboard's end-to-end tests (tests/e2e/tui_*.sh): one
 * request, then think time, so that a short run has a few steady users.
 */
#include <loads.h>

LOADS_TEST(TestTui, test_sleep)
{
    loads_response *r = loads_get(t, "/");

    loads_assert(t, loads_status(r) == 200, "status %d", loads_status(r));
    loads_sleep(t, 0.2);
}
