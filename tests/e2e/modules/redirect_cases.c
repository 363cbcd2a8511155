/*
 * Redirects to schemes no client may follow (tests/e2e/redirect_schemes.sh).
 * PORT is a listener of the test's own, which must see no connection.
 */
#include <loads.h>
#include <stdio.h>
#include <stdlib.h>

LOADS_TEST(TestSchemes, test_file)
{
    loads_response *r = loads_get(t, "/to-file");

    loads_assert(t, 0, "followed to file://, status %d", loads_status(r));
}

LOADS_TEST(TestSchemes, test_gopher)
{
    char url[64];

    snprintf(url, sizeof(url), "/to-gopher?port=%s", getenv("PORT"));
    loads_get(t, url);
}

LOADS_TEST(TestSchemes, test_dict)
{
    char url[64];

    snprintf(url, sizeof(url), "/to-dict?port=%s", getenv("PORT"));
    loads_get(t, url);
}

/* Not through a redirect: the test's own URL. */
LOADS_TEST(TestSchemes, test_direct)
{
    loads_get(t, "file:///etc/passwd");
}
