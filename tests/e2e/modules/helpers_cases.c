/*
 * Response helpers (tests/e2e/helpers.sh): what they read decides the
 * next request, so that nginx's log shows whether they read it right.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <loads.h>

/* /api/items/5 says its id; the next request doubles it: /api/items/10. */
LOADS_TEST(TestHelpers, test_json)
{
    loads_response *r = loads_get(t, "/api/items/5");
    const char *id = loads_json(t, loads_body(r), "id");
    char url[64];

    loads_assert(t, id != NULL, "no id in %s", loads_body(r));
    snprintf(url, sizeof(url), "/api/items/%d", atoi(id) * 2);
    r = loads_get(t, url);
    /* Strings, numbers, arrays, the last element, a missing key. */
    snprintf(url, sizeof(url), "/search?q=%s,%s,%s,%s,%s",
             loads_urlencode(t, loads_json(t, loads_body(r), "name")),
             loads_json(t, loads_body(r), "price"),
             loads_urlencode(t, loads_json(t, loads_body(r), "tags")),
             loads_json(t, loads_body(r), "tags[-1]"),
             loads_json(t, loads_body(r), "nothing") ? "found" : "none");
    loads_get(t, url);
    /* Any text: a literal, not JSON at all. */
    loads_assert(t, strcmp(loads_json(t, "{\"a\": {\"b\": [1, 2]}}", "a.b[1]"), "2") == 0,
                 "a.b[1]");
    loads_assert(t, loads_json(t, "<html>", "a") == NULL, "not JSON, yet a value");
}

/* The page's title, by a regular expression, URL-encoded into a search. */
LOADS_TEST(TestHelpers, test_regex)
{
    loads_response *r = loads_get(t, "/");
    const char *title = loads_regex(t, loads_body(r), "<title>([^<]*)</title>");
    const char *whole = loads_regex(t, loads_body(r), "Se[a-z]+");
    char url[256];

    loads_assert(t, title && whole, "no title or no word");
    loads_assert(t, loads_regex(t, loads_body(r), "^nothing like this") == NULL, "a match");
    snprintf(url, sizeof(url), "/search?q=%s&w=%s", loads_urlencode(t, title), whole);
    loads_get(t, url);
}

/* Cookies read from the jar, set into it and deleted. */
LOADS_TEST(TestHelpers, test_cookie)
{
    char url[128];

    /* A fresh VU: none yet; /need-cookie says 403. */
    loads_assert(t, loads_cookie(t, "/", "session") == NULL, "a cookie already");
    loads_get(t, "/need-cookie");
    /* Set by the test: nginx sees it (200). */
    loads_set_cookie(t, "/", "session=abc123; Path=/");
    loads_get(t, "/need-cookie");
    /* Deleted: 403 again. */
    loads_set_cookie(t, NULL, "session=; Max-Age=0");
    loads_get(t, "/need-cookie");
    /* Set by the server, read by the test. */
    loads_get(t, "/set-cookie");
    snprintf(url, sizeof(url), "/search?q=%s", loads_cookie(t, "/any/path", "session"));
    loads_get(t, url);
}

LOADS_TEST(TestBad, test_bad_path)
{
    loads_json(t, "{}", "items[");
}

LOADS_TEST(TestBad, test_bad_regex)
{
    loads_regex(t, "text", "a(b");
}

LOADS_TEST(TestBad, test_refused_cookie)
{
    loads_set_cookie(t, "/", "tok=1; Secure");
}
