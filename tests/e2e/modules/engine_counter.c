/* One passing GET and a custom counter (tests/e2e/engine_json.sh). */
#include <loads.h>

LOADS_TEST(TestCounter, test_login)
{
    loads_response *r = loads_get(t, "/");
    loads_assert(t, loads_status(r) == 200, "/: status %d", loads_status(r));
    loads_incr_counter(t, "logins");
}
