/* worker/jpath.c: paths into JSON documents parsed by jansson. */
#include <errno.h>
#include <stdlib.h>

#include "tests/unit/unit.h"
#include "worker/jpath.h"

static const char doc_text[] =
    "{\"user\": {\"name\": \"Ann\", \"age\": 41, \"admin\": false, \"boss\": null},"
    " \"items\": [{\"id\": 17, \"price\": 2.5}, {\"id\": 18, \"tags\": [\"a\", \"b\"]}],"
    " \"a.b\": {\"c]\": \"odd \\\"keys\\\"\"}, \"empty\": [], \"\\u00e9t\\u00e9\": \"summer\"}";

/* The text at path, or "(none)" / "(bad)". */
static char *at(json_t *doc, const char *path)
{
    json_t *node;
    char err[128];
    int rc = jpath_find(doc, path, &node, err, sizeof(err));

    if (rc == -ENOENT)
        return strdup("(none)");
    if (rc == -EINVAL) {
        CHECK(err[0] != '\0');
        return strdup("(bad)");
    }
    CHECK_INT_EQ(rc, 0);
    return jpath_text(node);
}

#define CHECK_AT(path, want)                                                       \
    do {                                                                           \
        char *got_ = at(doc, (path));                                              \
        CHECK_STR_EQ(got_, (want));                                                \
        free(got_);                                                                \
    } while (0)

UNIT_TEST(jpath_values)
{
    json_t *doc = json_loads(doc_text, 0, NULL);

    CHECK(doc != NULL);
    CHECK_AT("user.name", "Ann");
    CHECK_AT("user.age", "41");
    CHECK_AT("user.admin", "false");
    CHECK_AT("user.boss", "null");
    CHECK_AT("items[0].id", "17");
    CHECK_AT("items[0].price", "2.5");
    CHECK_AT("items[1].tags[1]", "b");
    CHECK_AT("items[-1].id", "18");
    CHECK_AT("items[-2].id", "17");
    CHECK_AT("items[1].tags", "[\"a\",\"b\"]");
    CHECK_AT("items[0]", "{\"id\":17,\"price\":2.5}");
    CHECK_AT("[\"a.b\"][\"c]\"]", "odd \"keys\"");
    CHECK_AT("\xc3\xa9t\xc3\xa9", "summer");
    CHECK_AT("empty", "[]");
    json_decref(doc);
}

UNIT_TEST(jpath_missing)
{
    json_t *doc = json_loads(doc_text, 0, NULL);

    CHECK(doc != NULL);
    CHECK_AT("user.email", "(none)");
    CHECK_AT("items[2]", "(none)");
    CHECK_AT("items[-3]", "(none)");
    CHECK_AT("empty[0]", "(none)");
    CHECK_AT("user[0]", "(none)");          /* an index into an object */
    CHECK_AT("items.id", "(none)");         /* a key into an array */
    CHECK_AT("user.name.first", "(none)");  /* a key into a string */
    CHECK_AT("nothing.at[3].all", "(none)");
    json_decref(doc);
}

UNIT_TEST(jpath_bad_paths)
{
    json_t *doc = json_loads(doc_text, 0, NULL);
    static const char *const bad[] = {".user", "user.", "user..name", "items[", "items[]",
                                      "items[x]", "items[0", "items]", "[\"a.b\"",
                                      "[\"a.b]", "items[0]id", "items[99999999999999999999]",
                                      "user.name.", "a[--1]"};

    CHECK(doc != NULL);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *got = at(doc, bad[i]);

        if (strcmp(got, "(bad)") != 0)
            unit_fail(__FILE__, __LINE__, "path '%s': expected (bad), got %s", bad[i], got);
        free(got);
    }
    /* Even when the walk already failed, the rest is still checked. */
    CHECK_AT("missing[", "(bad)");
    json_decref(doc);
}

UNIT_TEST(jpath_top_level)
{
    json_t *arr = json_loads("[10, [20, 30]]", 0, NULL), *num;

    CHECK(arr != NULL);
    {
        json_t *doc = arr;

        CHECK_AT("", "[10,[20,30]]");
        CHECK_AT("[1][0]", "20");
        CHECK_AT("[-1][-1]", "30");
    }
    json_decref(arr);
    num = json_loads("3.25", JSON_DECODE_ANY, NULL);
    CHECK(num != NULL);
    {
        json_t *doc = num;

        CHECK_AT("", "3.25");
        CHECK_AT("a", "(none)");
    }
    json_decref(num);
}
