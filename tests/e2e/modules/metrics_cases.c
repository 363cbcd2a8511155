/*
 * Checks, trends and gauges (tests/e2e/metrics.sh): each run reads five
 * items; ids that are multiples of 5 fail a check, the body sizes go into
 * a trend, and a gauge keeps the last id.
 */
#include <stdio.h>

#include <loads.h>

LOADS_TEST(TestMetrics, test_items)
{
    for (int id = 1; id <= 5; id++) {
        char url[64], want[32];
        loads_response *r;

        snprintf(url, sizeof(url), "/api/items/%d", id + 5 * loads_user(t));
        r = loads_send(t, "GET", url, &(struct loads_req){.name = "item"});
        snprintf(want, sizeof(want), "\"id\": %d,", id + 5 * loads_user(t));
        loads_check(t, loads_status(r) == 200, "status is 200");
        loads_check(t, loads_contains(r, want), "the item asked for");
        if (!loads_check(t, id % 5 != 0, "id not a multiple of 5"))
            loads_incr_counter(t, "multiples of 5");
        loads_trend(t, "body bytes", (double)loads_body_len(r));
        loads_gauge(t, "last id", id);
    }
}

/* VU 1 sets the gauge 0.5 s after VU 0: its value is the last. */
LOADS_TEST(TestMetrics, test_gauge_order)
{
    if (loads_user(t) == 1)
        loads_sleep(t, 0.5);
    loads_gauge(t, "who was last", 100 + loads_user(t));
    loads_trend(t, "fractions", 0.25 * (loads_user(t) + 1));
}

/* A NULL name is an Error, not a crash. */
LOADS_TEST(TestMetrics, test_null_name)
{
    loads_check(t, 1, NULL);
}
