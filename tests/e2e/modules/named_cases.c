/*
 * Named requests, expected statuses and per-request timeouts
 * (tests/e2e/named_requests.sh).
 */
#include <stdio.h>

#include <loads.h>

/* Ten ids in the path, one row: "GET /api/items/{id}". */
LOADS_TEST(TestNamed, test_items)
{
    for (int id = 1; id <= 10; id++) {
        char url[64];
        loads_response *r;

        snprintf(url, sizeof(url), "/api/items/%d?user=%d", id, loads_user(t));
        r = loads_send(t, "GET", url, &(struct loads_req){.name = "GET /api/items/{id}"});
        loads_assert(t, loads_status(r) == 200, "status %d", loads_status(r));
    }
}

/* A named request that is redirected: both hops on the name's row. */
LOADS_TEST(TestNamed, test_login)
{
    loads_response *r = loads_send(t, "POST", "/login", &(struct loads_req){
        .name = "login", .body = "user=a", .body_len = 6});

    loads_assert(t, loads_status(r) == 200, "status %d", loads_status(r));
}

/* 404 expected: OK in the table, no failure. */
LOADS_TEST(TestStatus, test_expected)
{
    static const int missing[] = {404, 0};
    loads_response *r = loads_send(t, "GET", "/status/404",
                                   &(struct loads_req){.expect = missing, .fail = 1});

    loads_assert(t, loads_status(r) == 404, "status %d", loads_status(r));
}

/* A 403 the test expects, among a class. */
LOADS_TEST(TestStatus, test_class)
{
    static const int ok[] = {2, 403, 0};

    loads_send(t, "GET", "/need-cookie", &(struct loads_req){.expect = ok, .fail = 1});
}

/* The default (below 400), with .fail: a Failure that names the status. */
LOADS_TEST(TestStatus, test_fail_default)
{
    loads_send(t, "GET", "/status/404", &(struct loads_req){.fail = 1});
    loads_fail(t, "not reached");
}

/* Only 2xx and 201 expected, the request named: the message uses the name. */
LOADS_TEST(TestStatus, test_fail_named)
{
    static const int ok[] = {201, 2, 0};

    loads_send(t, "GET", "/status/404",
               &(struct loads_req){.name = "missing page", .expect = ok, .fail = 1});
    loads_fail(t, "not reached");
}

/* Not expected, without .fail: counted not OK, the test goes on. */
LOADS_TEST(TestStatus, test_not_ok)
{
    loads_response *r = loads_send(t, "GET", "/status/404", NULL);

    loads_assert(t, loads_status(r) == 404, "status %d", loads_status(r));
}

/* /slow takes a minute: the request's own timeout ends it. */
LOADS_TEST(TestTimeout, test_short)
{
    loads_send(t, "GET", "/slow", &(struct loads_req){.timeout = 0.5});
}
