/*
 * Setup scopes (tests/e2e/scopes.sh).  Each setUp and tearDown asks for a
 * URL of its own, so that nginx's log counts how often each ran; the
 * values setUpOnce stores go into every test's request.
 */
#include <stdio.h>
#include <string.h>

#include <loads.h>

LOADS_SETUP_ONCE(TestScopes)
{
    loads_response *r = loads_get(t, "/api/items/42?scope=setUpOnce");

    loads_set_value(t, "token", loads_json(t, loads_body(r), "name"));
    loads_sleep(t, 0.3); /* longer than the worker's tick: nothing cuts it */
    loads_set_value(t, "ids", "[7, 8, 9]");
}

LOADS_TEARDOWN_ONCE(TestScopes)
{
    char url[128];

    loads_sleep(t, 0.3);
    snprintf(url, sizeof(url), "/search?q=tearDownOnce&token=%s",
             loads_urlencode(t, loads_value(t, "token")));
    loads_get(t, url);
}

LOADS_SETUP_VU(TestScopes)
{
    char vu[16];

    loads_get(t, "/set-cookie?scope=setUpVU");     /* a session for the VU's life */
    snprintf(vu, sizeof(vu), "vu%d", loads_user(t));
    loads_set_value(t, "me", vu);                   /* the VU's own */
}

LOADS_TEARDOWN_VU(TestScopes)
{
    char url[128];

    snprintf(url, sizeof(url), "/search?q=tearDownVU&me=%s", loads_value(t, "me"));
    loads_get(t, url);
}

LOADS_TEST(TestScopes, test_uses)
{
    loads_response *r = loads_get(t, "/need-cookie");   /* 200 only with the VU's session */
    char url[256];

    loads_assert(t, loads_status(r) == 200, "no session cookie: %d", loads_status(r));
    snprintf(url, sizeof(url), "/search?q=test&token=%s&id=%s&me=%s",
             loads_urlencode(t, loads_value(t, "token")), loads_json(t, loads_value(t, "ids"), "[1]"),
             loads_value(t, "me"));
    loads_get(t, url);
}

/* A suite whose setUpOnce fails: no test runs, no tearDownOnce. */
LOADS_SETUP_ONCE(TestBadOnce)
{
    loads_response *r = loads_get(t, "/status/404?scope=setUpOnce");

    loads_assert(t, loads_status(r) == 200, "no token: status %d", loads_status(r));
}

LOADS_TEARDOWN_ONCE(TestBadOnce)
{
    loads_get(t, "/search?q=never");
}

LOADS_TEST(TestBadOnce, test_never)
{
    loads_get(t, "/search?q=never");
}

/* A suite whose setUpVU fails for odd VUs: those run no test. */
LOADS_SETUP_VU(TestBadVU)
{
    loads_assert(t, loads_user(t) % 2 == 0, "odd VU %d", loads_user(t));
}

LOADS_TEARDOWN_VU(TestBadVU)
{
    loads_get(t, "/search?q=tearDownVU");
}

LOADS_TEST(TestBadVU, test_even)
{
    loads_get(t, "/search?q=test");
}

/* A slow setUpOnce (tests/e2e/scopes.sh stops the run during it). */
LOADS_SETUP_ONCE(TestSlowOnce)
{
    loads_get(t, "/search?q=slow");
    loads_sleep(t, 10); /* far longer than scopes.sh's grace (0.5 s) and its slack */
}

LOADS_TEARDOWN_ONCE(TestSlowOnce)
{
    loads_get(t, "/search?q=never");
}

LOADS_TEST(TestSlowOnce, test_never)
{
    loads_get(t, "/search?q=never");
}
