/*
 * Weighted tests (tests/e2e/weighted.sh): each test requests a URL of its
 * own, so that nginx's log counts the picks.  test_rare has no weight: 1.
 */
#include <loads.h>

LOADS_TEST_WEIGHT(TestShop, browse, 70)
{
    loads_send(t, "GET", "/api/items/1", &(struct loads_req){.fail = 1});
}

LOADS_TEST_WEIGHT(TestShop, search, 20)
{
    loads_send(t, "GET", "/search?q=shoes", &(struct loads_req){.fail = 1});
}

LOADS_TEST_WEIGHT(TestShop, buy, 9)
{
    loads_send(t, "POST", "/post", &(struct loads_req){.body = "item=1", .body_len = 6,
                                                      .fail = 1});
}

LOADS_TEST(TestShop, rare)
{
    loads_send(t, "GET", "/status/404", &(struct loads_req){.fail = 1});
}
