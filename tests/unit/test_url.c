/* http/url.c: what the clients take from a URL, and the one resolver of URLs. */
#include <stdlib.h>

#include "tests/unit/unit.h"
#include "http/url.h"

UNIT_TEST(url_parse_plain)
{
    struct url_parts u;

    CHECK_INT_EQ(url_parse("http://LocalHost:8080/a/b?q=1#frag", &u), 0);
    CHECK_STR_EQ(u.host, "localhost");
    CHECK_INT_EQ(u.port, 8080);
    CHECK(u.simple && !u.https);
    CHECK_INT_EQ(u.authority_len, 14);
    CHECK(strncmp(u.authority, "LocalHost:8080", 14) == 0);
    CHECK_INT_EQ(u.target_len, 8);
    CHECK(strncmp(u.target, "/a/b?q=1", 8) == 0);
    CHECK_INT_EQ(u.path_len, 4);
}

UNIT_TEST(url_parse_defaults_and_v6)
{
    struct url_parts u;

    CHECK_INT_EQ(url_parse("http://127.0.0.1", &u), 0);
    CHECK_INT_EQ(u.port, 80);
    CHECK_INT_EQ(u.target_len, 0);
    CHECK_INT_EQ(url_parse("https://[::1]:8443/x", &u), 0);
    CHECK_STR_EQ(u.host, "::1");
    CHECK_INT_EQ(u.port, 8443);
    CHECK(u.https && u.simple);
    CHECK(strncmp(u.authority, "[::1]:8443", u.authority_len) == 0);
    CHECK_INT_EQ(url_parse("http://h?x=1", &u), 0);
    CHECK_INT_EQ(u.path_len, 0);
    CHECK_INT_EQ(u.target_len, 4);
}

/* What curl would rewrite (dot segments, userinfo, spaces) goes to curl. */
UNIT_TEST(url_parse_not_simple)
{
    struct url_parts u;

    CHECK_INT_EQ(url_parse("http://h/a/../b", &u), 0);
    CHECK(!u.simple);
    CHECK_INT_EQ(url_parse("http://h/a/.", &u), 0);
    CHECK(!u.simple);
    CHECK_INT_EQ(url_parse("http://user:pw@h/", &u), 0);
    CHECK(!u.simple);
    CHECK_STR_EQ(u.host, "h");
    CHECK_INT_EQ(url_parse("http://h/a b", &u), 0);
    CHECK(!u.simple);
    CHECK_INT_EQ(url_parse("http://h/a?x=/../y", &u), 0);
    CHECK(u.simple);
    CHECK_INT_EQ(url_parse("http://h/.well-known/x", &u), 0);
    CHECK(u.simple);
}

UNIT_TEST(url_parse_refused)
{
    struct url_parts u;

    CHECK_INT_EQ(url_parse("ftp://h/", &u), -1);
    CHECK_INT_EQ(url_parse("http:///x", &u), -1);
    CHECK_INT_EQ(url_parse("http://h:0/", &u), -1);
    CHECK_INT_EQ(url_parse("http://h:65536/", &u), -1);
    CHECK_INT_EQ(url_parse("http://h:8x/", &u), -1);
    CHECK_INT_EQ(url_parse("http://[::1/", &u), -1);
}

/* Web socket URLs: never the built-in HTTP client's. */
UNIT_TEST(url_parse_ws)
{
    struct url_parts u;

    CHECK_INT_EQ(url_parse("ws://127.0.0.1:9/echo?x=1", &u), 0);
    CHECK_INT_EQ(u.port, 9);
    CHECK(!u.https && !u.simple);
    CHECK(strncmp(u.target, "/echo?x=1", u.target_len) == 0);
    CHECK_INT_EQ(url_parse("WSS://Example.test/", &u), 0);
    CHECK_INT_EQ(u.port, 443);
    CHECK(u.https && !u.simple);
    CHECK_STR_EQ(u.host, "example.test");
}

/* RFC 3986 section 5.4: its normal and abnormal examples, base and all. */
UNIT_TEST(url_resolve_rfc3986)
{
    static const char *const cases[][2] = {
        {"g", "http://a/b/c/g"},          {"./g", "http://a/b/c/g"},
        {"g/", "http://a/b/c/g/"},        {"/g", "http://a/g"},
        {"//g", "http://g"},              {"?y", "http://a/b/c/d;p?y"},
        {"g?y", "http://a/b/c/g?y"},      {"#s", "http://a/b/c/d;p?q"},
        {"g#s", "http://a/b/c/g"},        {"g?y#s", "http://a/b/c/g?y"},
        {";x", "http://a/b/c/;x"},        {"g;x", "http://a/b/c/g;x"},
        {"", "http://a/b/c/d;p?q"},       {".", "http://a/b/c/"},
        {"./", "http://a/b/c/"},          {"..", "http://a/b/"},
        {"../", "http://a/b/"},           {"../g", "http://a/b/g"},
        {"../..", "http://a/"},           {"../../", "http://a/"},
        {"../../g", "http://a/g"},        {"../../../g", "http://a/g"},
        {"../../../../g", "http://a/g"},  {"/./g", "http://a/g"},
        {"/../g", "http://a/g"},          {"g.", "http://a/b/c/g."},
        {".g", "http://a/b/c/.g"},        {"g..", "http://a/b/c/g.."},
        {"..g", "http://a/b/c/..g"},      {"./../g", "http://a/b/g"},
        {"./g/.", "http://a/b/c/g/"},     {"g/./h", "http://a/b/c/g/h"},
        {"g/../h", "http://a/b/c/h"},     {"g;x=1/./y", "http://a/b/c/g;x=1/y"},
        {"g;x=1/../y", "http://a/b/c/y"}, {"HTTPS://B:8443/x/../y", "https://B:8443/y"},
        {"g?y/./x", "http://a/b/c/g?y/./x"},
    };
    const char *why;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *out = url_resolve("http://a/b/c/d;p?q", cases[i][0], &why);

        CHECK_STR_EQ(out, cases[i][1]);
        free(out);
    }
}

/* Only http and https are followed; nothing malformed is. */
UNIT_TEST(url_resolve_refused)
{
    static const char *const refs[][2] = {
        {"file:///etc/shadow", "unsupported protocol"},
        {"gopher://127.0.0.1:70/x", "unsupported protocol"},
        {"dict://127.0.0.1:2628/d:x", "unsupported protocol"},
        {"ws://h/", "unsupported protocol"},
        {"g:h", "unsupported protocol"},
        {"/a b", "bad Location"},
        {"/a\r\nSet-Cookie: x=1", "bad Location"},
        {"http:g", "bad Location"},
        {"http://", "bad Location"},
        {"http://h:99999/", "bad Location"},
    };
    const char *why;

    for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++) {
        why = NULL;
        CHECK(url_resolve("http://a/b", refs[i][0], &why) == NULL);
        CHECK_STR_EQ(why, refs[i][1]);
    }
}

/* A test's URL: absolute, or joined to --server-url; ws maps http to ws. */
UNIT_TEST(url_join_kinds)
{
    const char *why = NULL;
    char *out;

    out = url_join("http://h:1/base/", "x", URL_HTTP, &why);
    CHECK_STR_EQ(out, "http://h:1/base/x");
    free(out);
    out = url_join("http://h:1", "/x", URL_HTTP, &why);
    CHECK_STR_EQ(out, "http://h:1/x");
    free(out);
    out = url_join("", "HTTPS://h/x", URL_HTTP, &why);
    CHECK_STR_EQ(out, "https://h/x");
    free(out);
    out = url_join("https://h:2/", "/chat", URL_WS, &why);
    CHECK_STR_EQ(out, "wss://h:2/chat");
    free(out);
    out = url_join("", "http://h/x", URL_WS, &why);
    CHECK_STR_EQ(out, "ws://h/x");
    free(out);
    CHECK(url_join("http://h", "file:///etc/passwd", URL_HTTP, &why) == NULL);
    CHECK_STR_EQ(why, "unsupported protocol");
    CHECK(url_join("http://h", "ws://h/", URL_HTTP, &why) == NULL);
    CHECK_STR_EQ(why, "unsupported protocol");
    CHECK(url_join("", "/x", URL_HTTP, &why) == NULL);
    CHECK_STR_EQ(why, "relative URL and no --server-url");
}

/* Passwords stay out of the URL table's keys and of messages. */
UNIT_TEST(url_key_and_show)
{
    char out[128];

    url_key(out, sizeof(out), "GET", "http://u:secret@127.0.0.1:1/a?b#c");
    CHECK_STR_EQ(out, "GET http://u@127.0.0.1:1/a");
    url_show(out, sizeof(out), "http://u:secret@127.0.0.1:1/a?b#c");
    CHECK_STR_EQ(out, "http://u@127.0.0.1:1/a?b#c");
    url_show(out, sizeof(out), "http://u@h/");
    CHECK_STR_EQ(out, "http://u@h/");
    url_key(out, sizeof(out), "WS", "ws://h/chat?x=1");
    CHECK_STR_EQ(out, "WS ws://h/chat");
}

UNIT_TEST(url_encode_values)
{
    char out[64];

    CHECK_INT_EQ(url_encode(out, sizeof(out), "a b&c=d/é~._-"), 26);
    CHECK_STR_EQ(out, "a%20b%26c%3Dd%2F%C3%A9~._-");
    CHECK_INT_EQ(url_encode(out, sizeof(out), ""), 0);
    CHECK_STR_EQ(out, "");
    /* Truncated as snprintf does, whole length returned. */
    CHECK_INT_EQ(url_encode(out, 5, "a b c"), 9);
    CHECK_STR_EQ(out, "a%20");
    CHECK_INT_EQ(url_encode(NULL, 0, "%"), 3);
}
