/* One GET of "/" per run (tests/e2e/engine_*.sh): a run is one hit. */
#include <loads.h>

LOADS_TEST(TestGet, test_root)
{
    loads_response *r = loads_get(t, "/");
    loads_assert(t, loads_status(r) == 200, "/: status %d", loads_status(r));
}

/* GET /stamp, which nginx logs with its time ($msec) in stamps.log. */
LOADS_TEST(TestGet, test_stamp)
{
    loads_response *r = loads_get(t, "/stamp");
    loads_assert(t, loads_status(r) == 200, "/stamp: status %d", loads_status(r));
}
