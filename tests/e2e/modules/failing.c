/* A test that fails: the page has no "NotThere" (tests/e2e/failing_assertion.sh). */
#include <loads.h>

LOADS_TEST(TestFailing, test_not_there)
{
    loads_response *r = loads_get(t, "/");
    loads_assert(t, loads_contains(r, "NotThere"), "no NotThere in body (status %d)",
                 loads_status(r));
}
