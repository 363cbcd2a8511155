/*
 * Tests run against servers that misbehave (tests/e2e/bad_server*.sh, with
 * tests/e2e/modules/bad_http_server.c and nginx).
 */
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
