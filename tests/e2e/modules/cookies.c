/* The session keeps cookies between requests (tests/e2e/cookies.sh). */
#include <loads.h>

LOADS_TEST(TestCookies, test_session)
{
    loads_response *r = loads_get(t, "/set-cookie");
    loads_assert(t, loads_status(r) == 200, "/set-cookie: status %d", loads_status(r));
    r = loads_get(t, "/need-cookie");
    loads_assert(t, loads_status(r) == 200, "/need-cookie: status %d, cookie not sent",
                 loads_status(r));
}
