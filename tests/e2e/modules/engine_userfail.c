/*
 * Fails every run with a message that depends on the VU: "user 0" or
 * "user 1" (tests/e2e/engine_failures_dedup.sh).
 */
#include <loads.h>

LOADS_TEST(TestUserFail, test_fail)
{
    loads_assert(t, 0, "user %d", loads_user(t) % 2);
}

/* Fails every run with a message of its own: "failure N", N counting the
 * worker's runs (tests/e2e/engine_failures_dedup.sh, with -w 1). */
LOADS_TEST(TestUserFail, test_unique)
{
    static int n;

    loads_fail(t, "failure %d", n++);
}
