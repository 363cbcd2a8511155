/*
 * Requests of known latencies for tests/e2e/stats_latency.sh: nginx answers
 * /stats/fast at once and /stats/sleep/S after S seconds (echo_sleep), and
 * logs its own time for each.
 */
#include <stdio.h>

#include <loads.h>

/* Runs of each VU so far (VU numbers are small in these tests). */
static int runs[256];

static void get(loads_test *t, const char *url)
{
    loads_response *r = loads_get(t, url);

    loads_assert(t, loads_status(r) == 200, "%s: status %d", url, loads_status(r));
}

/*
 * Each run: 6 fast requests (with queries of their own), 3 of 20 ms and 1
 * of 80 ms; the first run of
 * VU 0 adds one of 250 ms.  With 20 runs: 201 requests, 120 fast, 60 of
 * 20 ms, 20 of 80 ms and 1 of 250 ms, so that min, p50, p90, p99, p99.9 and
 * max each fall in a level of its own or on a known boundary.
 */
LOADS_TEST(TestStats, test_mix)
{
    int user = loads_user(t);

    char url[64];

    for (int i = 0; i < 3; i++) {
        /* The URL table keys a URL without its query: one row for these. */
        snprintf(url, sizeof(url), "/stats/fast?i=%d&vu=%d", i, user);
        get(t, url);
        get(t, "/stats/sleep/0.02");
        get(t, "/stats/fast");
    }
    get(t, "/stats/sleep/0.08");
    if (user == 0 && runs[0]++ == 0)
        get(t, "/stats/sleep/0.25");
}
