/*
 * A login flow with redirects (tests/e2e/redirect_rows.sh): the login page
 * sets a session cookie and redirects to a page that needs it; then a
 * page that redirects to the home page.
 */
#include <loads.h>

LOADS_TEST(TestLogin, test_flow)
{
    loads_response *r = loads_post(t, "/login", NULL, "user=a", 6);

    loads_assert(t, loads_status(r) == 200, "after /login: status %d", loads_status(r));
    r = loads_get(t, "/redirect");
    loads_assert(t, loads_contains(r, "Search"), "/redirect did not lead home");
}
