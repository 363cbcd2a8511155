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

/* Two GETs of /at/run 0.3 s apart, which nginx logs with their time and
 * connection in at.log (tests/e2e/engine_cycles.sh). */
LOADS_TEST(TestGet, test_at_twice)
{
    loads_response *r = loads_get(t, "/at/run");

    loads_assert(t, loads_status(r) == 200, "/at/run: status %d", loads_status(r));
    loads_sleep(t, 0.3);
    r = loads_get(t, "/at/run");
    loads_assert(t, loads_status(r) == 200, "/at/run: status %d", loads_status(r));
}
