/*
 * Tests run against servers that misbehave (tests/e2e/bad_server*.sh, with
 * tests/e2e/modules/bad_http_server.c and nginx).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <loads.h>

/* The body's <title>, at most 100 bytes, or "" when it has none. */
static void title_of(const loads_response *r, char *out, size_t len)
{
    const char *b = loads_body(r), *s = strstr(b, "<title>"), *e;
    size_t n;

    out[0] = '\0';
    if (!s)
        return;
    s += strlen("<title>");
    e = strstr(s, "</title>");
    n = e ? (size_t)(e - s) : strlen(s);
    if (n > 100)
        n = 100;
    if (n >= len)
        n = len - 1;
    memcpy(out, s, n);
    out[n] = '\0';
}

/* GET / must answer 200. */
LOADS_TEST(TestBad, test_get)
{
    loads_response *r = loads_get(t, "/");
    char title[128];

    title_of(r, title, sizeof(title));
    loads_assert(t, loads_status(r) == 200, "GET /: status %d (%s)", loads_status(r), title);
}

/*
 * GET /bytes/8388608 from bad_http_server huge: 8 MiB of zeros, of which
 * --max-body 1048576 keeps the first MiB.
 */
LOADS_TEST(TestBad, test_8mib_kept_1mib)
{
    loads_response *r = loads_get(t, "/bytes/8388608");
    const char *cl = loads_header(r, "Content-Length");
    const char *b = loads_body(r);
    size_t len = loads_body_len(r), i;

    loads_assert(t, loads_status(r) == 200, "status %d", loads_status(r));
    loads_assert(t, cl && strcmp(cl, "8388608") == 0, "Content-Length: %s", cl ? cl : "none");
    loads_assert(t, len == 1048576, "loads_body_len: %zu, expected 1048576", len);
    for (i = 0; i < len && b[i] == '\0'; i++)
        ;
    loads_assert(t, i == len, "body byte %zu is %d, expected 0", i, b[i]);
    loads_assert(t, b[len] == '\0', "no NUL after the body");
}

/* GET of an absolute URL whose base is in the environment variable var. */
static void get_env(loads_test *t, const char *var, const char *path)
{
    const char *base = getenv(var);
    char url[256];

    loads_assert(t, base != NULL, "no %s in the environment", var);
    snprintf(url, sizeof(url), "%s%s", base, path);
    loads_get(t, url);
}

/*
 * A connect that never completes (bad_http_server full at FULL_URL) ends at
 * --timeout: setUp and tearDown stamp the time around it in nginx's log
 * (NGINX_URL, /at/ in at.log), and tearDown runs after the Error.
 */
LOADS_SETUP(TestConnect)
{
    get_env(t, "NGINX_URL", "/at/setup");
}

LOADS_TEARDOWN(TestConnect)
{
    get_env(t, "NGINX_URL", "/at/teardown");
}

LOADS_TEST(TestConnect, test_full)
{
    get_env(t, "FULL_URL", "/");
}
