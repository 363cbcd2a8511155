/*
 * A module whose behaviour comes from a header of its own and from a macro
 * the command line may set (tests/e2e/compile_cache.sh).
 */
#include <loads.h>

#include "cache_inc.h"

#ifndef CACHE_EXPECT
#define CACHE_EXPECT 200     /* LOADS_CFLAGS=-DCACHE_EXPECT=... changes it */
#endif

LOADS_TEST(TestCache, test_get)
{
    loads_response *r = loads_get(t, CACHE_PATH);

    loads_assert(t, loads_status(r) == CACHE_EXPECT, "%s: status %d, expected %d",
                 CACHE_PATH, loads_status(r), CACHE_EXPECT);
}
