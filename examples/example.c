/*
 * The first example of Loads: fetch the home page and check it mentions
 * "Search".  Run it with
 *     loads-runner example.TestWebSite.test_something --server-url http://127.0.0.1:9200
 */
#include <loads.h>

LOADS_TEST(TestWebSite, test_something)
{
    loads_response *r = loads_get(t, "/");
    loads_assert(t, loads_contains(r, "Search"), "no Search in body");
}
