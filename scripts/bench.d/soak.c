/*
 * The soak test of scripts/soak: a page, a cookie round trip and a custom
 * counter, with a little think time, so that every part of a run that
 * could leak (responses, headers, cookies, counters) runs for a long time.
 */
#include <loads.h>

LOADS_TEST(TestSoak, test_browse)
{
    loads_response *r = loads_get(t, "/");

    loads_assert(t, loads_status(r) == 200, "status %d", loads_status(r));
    r = loads_get(t, "/set-cookie");
    loads_assert(t, loads_header(r, "Set-Cookie") != NULL, "no cookie set");
    r = loads_get(t, "/need-cookie");
    loads_assert(t, loads_status(r) == 200, "cookie not sent back: %d", loads_status(r));
    loads_incr_counter(t, "browses");
    loads_sleep(t, 0.01);
}
