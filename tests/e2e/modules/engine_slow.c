/* Tests that outlast a --duration (tests/e2e/engine_duration.sh, engine_grace.sh). */
#include <loads.h>

/* Two GETs 1.5 s apart: a run started before the deadline ends after it. */
LOADS_TEST(TestSlow, test_get_sleep_get)
{
    loads_response *r = loads_get(t, "/");
    loads_assert(t, loads_status(r) == 200, "first /: status %d", loads_status(r));
    loads_sleep(t, 1.5);
    r = loads_get(t, "/");
    loads_assert(t, loads_status(r) == 200, "second /: status %d", loads_status(r));
}

/* Sleeps 10 s before its GET: longer than any grace period it is given. */
LOADS_TEST(TestSlow, test_sleep_long)
{
    loads_response *r;

    loads_sleep(t, 10);
    r = loads_get(t, "/");
    loads_assert(t, loads_status(r) == 200, "/: status %d", loads_status(r));
}

/* Downloads /slow, 64 KiB that nginx sends at 1 KiB/s (a minute). */
LOADS_TEST(TestSlow, test_slow_download)
{
    loads_response *r = loads_get(t, "/slow");
    loads_assert(t, loads_status(r) == 200, "/slow: status %d", loads_status(r));
}

/* Stamps its start in nginx's log (/at/start, at.log), then sleeps 10 s. */
LOADS_TEST(TestSlow, test_stamp_sleep_long)
{
    loads_response *r = loads_get(t, "/at/start");

    loads_assert(t, loads_status(r) == 200, "/at/start: status %d", loads_status(r));
    loads_sleep(t, 10);
}
