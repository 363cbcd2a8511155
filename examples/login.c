/*
 * A login flow with cookies.  Each VU logs in once, before its first run
 * (LOADS_SETUP_VU): the server's session cookie goes into the VU's jar and
 * with every request of its runs after that; it logs out after its last.
 *
 *     loads-runner login.TestLogin -u 10 -c 20 --server-url http://127.0.0.1:8080
 *
 * The server: POST /login sets "session" and redirects to /need-cookie,
 * which answers 200 "cookie ok" with the cookie (403 without); /logout
 * expires it.  tests/nginx.conf.in has these locations.
 */
#include <string.h>

#include <loads.h>

LOADS_SETUP_VU(TestLogin)
{
    static const char form[] = "user=ann&password=s3cret";
    loads_response *r = loads_post(t, "/login", NULL, form, strlen(form));

    /* The redirect was followed: this is /need-cookie's answer. */
    loads_assert(t, loads_status(r) == 200, "login: status %d", loads_status(r));
    loads_assert(t, loads_cookie(t, "/", "session") != NULL, "login: no session cookie");
}

LOADS_TEST(TestLogin, test_account)
{
    loads_response *r = loads_send(t, "GET", "/need-cookie",
                                   &(struct loads_req){.name = "account", .fail = 1});

    loads_check(t, loads_contains(r, "cookie ok"), "signed in");
    loads_sleep(t, 0.01); /* think time: the other VUs run meanwhile */
}

LOADS_TEARDOWN_VU(TestLogin)
{
    loads_get(t, "/logout");
    loads_check(t, loads_cookie(t, "/", "session") == NULL, "signed out");
}
