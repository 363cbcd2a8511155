/*
 * Fails every run with a message that depends on the VU: "user 0" or
 * "user 1" (tests/e2e/engine_failures_dedup.sh).
 */
#include <loads.h>

LOADS_TEST(TestUserFail, test_fail)
{
    loads_assert(t, 0, "user %d", loads_user(t) % 2);
}
