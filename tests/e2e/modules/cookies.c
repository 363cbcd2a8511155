/* The session keeps cookies between requests (tests/e2e/cookies.sh). */
#include <loads.h>
#include <stdio.h>

LOADS_TEST(TestCookies, test_session)
{
    loads_response *r = loads_get(t, "/set-cookie");
    loads_assert(t, loads_status(r) == 200, "/set-cookie: status %d", loads_status(r));
    r = loads_get(t, "/need-cookie");
    loads_assert(t, loads_status(r) == 200, "/need-cookie: status %d, cookie not sent",
                 loads_status(r));
}

/*
 * VUs share no cookies (tests/e2e/cookies.sh, many VUs in one worker): an
 * even VU sets the cookie vu=<its number>, every VU waits for the others to
 * have set theirs, then asks nginx to check it: an even VU must send its
 * own value, an odd one none.
 */
LOADS_TEST(TestCookies, test_per_vu)
{
    int vu = loads_user(t);
    char url[64];
    loads_response *r;

    if (vu % 2 == 0) {
        snprintf(url, sizeof(url), "/vu/set?vu=%d", vu);
        r = loads_get(t, url);
        loads_assert(t, loads_status(r) == 200, "%s: status %d", url, loads_status(r));
    }
    loads_sleep(t, 0.2);
    snprintf(url, sizeof(url), "/vu/check?vu=%d", vu);
    r = loads_get(t, url);
    if (vu % 2 == 0)
        loads_assert(t, loads_status(r) == 200, "%s", loads_body(r));
    else
        loads_assert(t, loads_status(r) == 409 && loads_contains(r, "cookie []"), "%s",
                     loads_body(r));
}
