/*
 * A JSON API with a data file and named requests.  Each run takes the
 * next row of the data file (its columns: id, name), asks the API for that
 * item, and checks what comes back.  One row of the URL table counts every
 * item, whatever its id.
 *
 *     loads-runner api.TestApi -u 10 -c 10 --data items.csv \
 *         --server-url http://127.0.0.1:8080
 *
 * The server: GET /api/items/ID answers {"id": ID, "name": "item ID",
 * "tags": [...], "price": 2.5}; tests/nginx.conf.in has it, and
 * examples/items.csv rows to match.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <loads.h>

LOADS_TEST(TestApi, test_item)
{
    const char *id = loads_data(t, "id"), *name, *price;
    loads_response *r;
    char url[128];

    snprintf(url, sizeof(url), "/api/items/%s", id);
    r = loads_send(t, "GET", url, &(struct loads_req){
            .name = "GET /api/items/{id}", /* one row, not one per id */
            .timeout = 5,                  /* seconds, this request only */
            .fail = 1});                   /* a status of 400 or more: a Failure */
    name = loads_json(t, loads_body(r), "name");
    loads_check(t, name && strcmp(name, loads_data(t, "name")) == 0, "the item asked for");
    loads_check(t, loads_json(t, loads_body(r), "tags[0]") != NULL, "tagged");
    price = loads_json(t, loads_body(r), "price");
    if (price)
        loads_trend(t, "price", atof(price));
}
