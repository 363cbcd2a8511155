/*
 * What the HTTP client does with a request and its response
 * (tests/e2e/http_client.sh against nginx, http_framing.sh against
 * bad_http_server): redirects, headers, bodies, framings.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <loads.h>

/* The body must be exactly want. */
static void expect_body(loads_test *t, const loads_response *r, const char *want)
{
    loads_assert(t, loads_body_len(r) == strlen(want) && strcmp(loads_body(r), want) == 0,
                 "body [%s], expected [%s]", loads_body(r), want);
}

/* "hello world\n", whatever the framing (bad_http_server chunked, close, interim). */
LOADS_TEST(TestHttp, test_hello)
{
    loads_response *r = loads_get(t, "/");

    loads_assert(t, loads_status(r) == 200, "status %d", loads_status(r));
    expect_body(t, r, "hello world\n");
}

/* 302 to /: two hits, the last response's status and body. */
LOADS_TEST(TestHttp, test_redirect)
{
    loads_response *r = loads_get(t, "/redirect");

    loads_assert(t, loads_status(r) == 200, "status %d", loads_status(r));
    loads_assert(t, loads_contains(r, "Loads test site"), "body [%s]", loads_body(r));
    loads_assert(t, loads_header(r, "Location") == NULL, "headers of the 302 kept");
}

/* 303 turns a POST into a GET without a body; 307 keeps both. */
LOADS_TEST(TestHttp, test_redirect_methods)
{
    loads_response *r = loads_post(t, "/see-other", "text/plain", "12345", 5);

    expect_body(t, r, "GET \n");
    r = loads_post(t, "/temporary", "text/plain", "12345", 5);
    expect_body(t, r, "POST 5\n");
}

/* A cookie set by a redirect is sent on the hop it leads to. */
LOADS_TEST(TestHttp, test_cookie_on_redirect)
{
    loads_response *r = loads_get(t, "/login");

    loads_assert(t, loads_status(r) == 200, "status %d: cookie not sent", loads_status(r));
}

/* A redirect to itself ends as an Error after 30 redirects (31 hits). */
LOADS_TEST(TestHttp, test_loop)
{
    loads_get(t, "/loop");
}

/* User headers replace, remove ("Name:") or send empty ("Name;") headers. */
LOADS_TEST(TestHttp, test_headers)
{
    static const char *const h[] = {"User-Agent: custom/1", "Accept:", "X-Test: yes",
                                    "X-Empty;", NULL};
    loads_response *r = loads_request(t, "GET", "/headers", h, NULL, 0);
    const char *want_host = strstr(loads_server_url(t), "//");

    loads_assert(t, loads_status(r) == 200, "status %d", loads_status(r));
    loads_assert(t, loads_contains(r, "ua=custom/1 accept= x=yes empty=[] type= length= "),
                 "body [%s]", loads_body(r));
    loads_assert(t, want_host && loads_contains(r, want_host + 2), "host: body [%s]",
                 loads_body(r));
    r = loads_get(t, "/headers");
    loads_assert(t, loads_contains(r, "ua=loads/"), "default User-Agent: [%s]",
                 loads_body(r));
    loads_assert(t, loads_contains(r, "accept=*/*"), "default Accept: [%s]", loads_body(r));
}

/* A body without a type goes as a form, with its length. */
LOADS_TEST(TestHttp, test_post_form)
{
    loads_response *r = loads_request(t, "POST", "/headers", NULL, "a=1&b=2", 7);

    loads_assert(t, loads_contains(r, "type=application/x-www-form-urlencoded length=7 "),
                 "body [%s]", loads_body(r));
    r = loads_request(t, "PUT", "/method", NULL, "xyz", 3);
    expect_body(t, r, "PUT 3\n");
    r = loads_request(t, "DELETE", "/method", NULL, NULL, 0);
    expect_body(t, r, "DELETE \n");
}

/* HEAD: the headers of a GET, no body to wait for. */
LOADS_TEST(TestHttp, test_head)
{
    loads_response *r = loads_request(t, "HEAD", "/big", NULL, NULL, 0);
    const char *len = loads_header(r, "Content-Length");

    loads_assert(t, loads_status(r) == 200, "status %d", loads_status(r));
    loads_assert(t, len && strcmp(len, "65536") == 0, "Content-Length %s", len ? len : "none");
    loads_assert(t, loads_body_len(r) == 0, "body of %zu bytes", loads_body_len(r));
    r = loads_get(t, "/big");
    loads_assert(t, loads_body_len(r) == 65536, "body of %zu bytes", loads_body_len(r));
}

/* nginx closes the connection after every 2 requests: nothing is lost. */
LOADS_TEST(TestHttp, test_server_closes)
{
    loads_response *r = loads_get(t, "/ka-requests");

    loads_assert(t, loads_status(r) == 200, "status %d", loads_status(r));
}

/* nginx closes the idle connection while the VU sleeps: the next request
 * goes on a new one. */
LOADS_TEST(TestHttp, test_idle_closed)
{
    loads_response *r = loads_get(t, "/ka-timeout");

    loads_assert(t, loads_status(r) == 200, "status %d", loads_status(r));
    loads_sleep(t, 1.5);
    r = loads_get(t, "/ka-timeout");
    loads_assert(t, loads_status(r) == 200, "status %d", loads_status(r));
}

/* A plain http 302 to an https URL: the first hop by the built-in client,
 * the second through curl, one request for the test. */
LOADS_TEST(TestHttp, test_to_tls)
{
    char url[64];
    loads_response *r;

    snprintf(url, sizeof(url), "/to-tls?port=%s&path=plain", getenv("TLS_PORT"));
    r = loads_get(t, url);
    loads_assert(t, loads_status(r) == 200, "status %d", loads_status(r));
    expect_body(t, r, "tls ok\n");
}

/* A redirect keeps the user's Authorization on the same server, and drops
 * it (and Cookie) for another one, as curl does. */
LOADS_TEST(TestHttp, test_private_headers)
{
    static const char *const h[] = {"Authorization: Basic eDp5", "X-Keep: 1", NULL};
    char url[64];
    loads_response *r = loads_request(t, "GET", "/to-auth", h, NULL, 0);

    expect_body(t, r, "auth=[Basic eDp5] keep=[1]\n");
    snprintf(url, sizeof(url), "/to-tls?port=%s&path=auth", getenv("TLS_PORT"));
    r = loads_request(t, "GET", url, h, NULL, 0);
    expect_body(t, r, "auth=[] keep=[1]\n");
}

/* 301 and 302 turn a POST into a GET without its body; 308 keeps both. */
LOADS_TEST(TestHttp, test_redirect_post)
{
    loads_response *r = loads_post(t, "/moved", "text/plain", "12345", 5);

    expect_body(t, r, "GET \n");
    r = loads_post(t, "/found", "text/plain", "12345", 5);
    expect_body(t, r, "GET \n");
    r = loads_post(t, "/permanent", "text/plain", "12345", 5);
    expect_body(t, r, "POST 5\n");
    r = loads_request(t, "PUT", "/moved", NULL, "xyz", 3);
    expect_body(t, r, "PUT 3\n");
}

/* HEAD through a 303 stays a HEAD (nginx's log shows both hops). */
LOADS_TEST(TestHttp, test_head_see_other)
{
    loads_response *r = loads_request(t, "HEAD", "/see-other", NULL, NULL, 0);

    loads_assert(t, loads_status(r) == 200, "status %d", loads_status(r));
    loads_assert(t, loads_body_len(r) == 0, "body of %zu bytes", loads_body_len(r));
}

/* The user's Host, Cookie and Content-Type replace the client's own; the
 * jar's cookie goes when the user gives none. */
LOADS_TEST(TestHttp, test_replace_headers)
{
    static const char *const h[] = {"Host: example.test", "Cookie: mine=1",
                                    "Content-Type: text/x-mine", NULL};
    loads_response *r = loads_get(t, "/set-cookie");

    r = loads_request(t, "POST", "/headers", h, "abc", 3);
    loads_assert(t,
                 loads_contains(r, "type=text/x-mine length=3 host=example.test "
                                   "cookie=[mine=1]\n"),
                 "replaced: body [%s]", loads_body(r));
    r = loads_get(t, "/headers");
    loads_assert(t, loads_contains(r, " cookie=[session=abc123]\n"), "jar: body [%s]",
                 loads_body(r));
}

/* loads_header finds a header whatever the case of its name. */
LOADS_TEST(TestHttp, test_header_case)
{
    loads_response *r = loads_get(t, "/big");
    const char *len = loads_header(r, "content-LENGTH");
    const char *type = loads_header(r, "CONTENT-TYPE");

    loads_assert(t, len && strcmp(len, "65536") == 0, "content-LENGTH: %s", len ? len : "none");
    loads_assert(t, type && strcmp(type, "application/octet-stream") == 0, "CONTENT-TYPE: %s",
                 type ? type : "none");
    loads_assert(t, loads_header(r, "X-Not-There") == NULL, "a header that is not there");
}

/* URLs the built-in client leaves to curl: user:pw@ (sent as Basic
 * authorization), and /../ (resolved before sending: nginx logs /headers). */
LOADS_TEST(TestHttp, test_odd_urls)
{
    const char *base = loads_server_url(t);
    char url[256];
    loads_response *r;

    loads_assert(t, strncmp(base, "http://", 7) == 0, "--server-url %s", base);
    snprintf(url, sizeof(url), "http://u:pw@%s/auth", base + 7);
    r = loads_get(t, url);
    expect_body(t, r, "auth=[Basic dTpwdw==] keep=[]\n");
    r = loads_get(t, "/x/../headers");
    loads_assert(t, loads_contains(r, "ua=loads/"), "/x/../headers: body [%s]", loads_body(r));
}

/* A GET of $TARGET/method, where nothing listens: through the proxy of
 * http_proxy only. */
LOADS_TEST(TestHttp, test_proxy)
{
    char url[256];
    loads_response *r;

    snprintf(url, sizeof(url), "%s/method", getenv("TARGET"));
    r = loads_get(t, url);
    expect_body(t, r, "GET \n");
}
