/*
 * Weighted scenarios: a shop's visitors mostly browse, some search, a few
 * buy.  Each hit runs ONE of the suite's tests, picked by weight:
 *
 *     loads-runner shop.Shop -u 10 -c 100 --server-url http://127.0.0.1:8080
 *
 * runs 1000 tests: 700 browse, 200 search, 100 buy; the summary counts
 * each test's outcomes, the counters what the visitors did.
 *
 * The server: GET /api/items/ID (JSON), GET /search?q=..., POST /post;
 * tests/nginx.conf.in has them.
 */
#include <stdio.h>
#include <string.h>

#include <loads.h>

LOADS_TEST_WEIGHT(Shop, browse, 70)
{
    char url[64];

    snprintf(url, sizeof(url), "/api/items/%d", 1 + loads_user(t) % 50);
    loads_send(t, "GET", url, &(struct loads_req){.name = "GET /api/items/{id}", .fail = 1});
    loads_incr_counter(t, "pages viewed");
    loads_sleep(t, 0.005); /* think time */
}

LOADS_TEST_WEIGHT(Shop, search, 20)
{
    char url[128];
    loads_response *r;

    snprintf(url, sizeof(url), "/search?q=%s", loads_urlencode(t, "red shoes"));
    r = loads_send(t, "GET", url, &(struct loads_req){.name = "GET /search", .fail = 1});
    loads_check(t, loads_regex(t, loads_body(r), "results for (.*)") != NULL, "results");
}

LOADS_TEST_WEIGHT(Shop, buy, 10)
{
    static const char order[] = "item=1&quantity=2";

    loads_send(t, "POST", "/post", &(struct loads_req){
            .body = order, .body_len = strlen(order), .fail = 1});
    loads_incr_counter(t, "orders");
}
