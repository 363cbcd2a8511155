/* url_parse: what the built-in client takes from a request's URL. */
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
