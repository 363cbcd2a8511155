/*
 * --data and --env (tests/e2e/data.sh): each run asks for the item of its
 * row, the row's name and the VU in the query, so that nginx's log shows
 * which VU took which row.
 */
#include <stdio.h>

#include <loads.h>

LOADS_TEST(TestData, test_row)
{
    char url[256];

    snprintf(url, sizeof(url), "/api/items/%s?name=%s&vu=%d", loads_data(t, "id"),
             loads_urlencode(t, loads_data(t, "name")), loads_user(t));
    loads_send(t, "GET", url, &(struct loads_req){.name = "item", .fail = 1});
}

LOADS_TEST(TestData, test_env)
{
    const char *greeting = loads_env(t, "GREETING"), *other = loads_env(t, "HOME");
    char url[256];

    snprintf(url, sizeof(url), "/search?q=%s&home=%s",
             greeting ? loads_urlencode(t, greeting) : "none", other ? "set" : "none");
    loads_get(t, url);
}

LOADS_TEST(TestData, test_no_column)
{
    loads_data(t, "email");
}
