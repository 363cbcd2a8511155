/*
 * Unit tests for http/cookie.c: storing, replacing and deleting cookies,
 * expiry by Max-Age and Expires, Domain and Path matching (host names and
 * IP addresses), Secure and the name prefixes, the order and truncation of
 * the Cookie header, the 300 cookie cap, and the parser's tolerance of odd
 * spacing, attribute case and control characters.
 */
#include <stdlib.h>

#include "tests/unit/unit.h"
#include "http/cookie.h"

/* A fixed clock: 2023-11-14 22:13:20 UTC. */
#define T0 ((time_t)1700000000)

/* Stores value as received from a request to host and path at T0. */
static int set(struct cookie_jar *j, const char *host, const char *path, int secure,
               const char *value)
{
    return cookie_jar_set(j, host, path, secure, value, strlen(value), T0);
}

/* The Cookie header for a request at now, in a static buffer. */
static const char *hdr_at(struct cookie_jar *j, const char *host, const char *path,
                          int secure, time_t now)
{
    static char buf[16384];
    size_t n = cookie_jar_header(j, host, path, secure, now, buf, sizeof(buf));

    CHECK_INT_EQ(n, strlen(buf));
    return buf;
}

/* The Cookie header for a request at T0. */
static const char *hdr(struct cookie_jar *j, const char *host, const char *path,
                       int secure)
{
    return hdr_at(j, host, path, secure, T0);
}

static struct cookie_jar *jar(void)
{
    struct cookie_jar *j = cookie_jar_new();

    CHECK(j != NULL);
    return j;
}

UNIT_TEST(cookie_empty)
{
    struct cookie_jar *j = jar();
    char buf[8] = "x";

    CHECK_INT_EQ(cookie_jar_count(j), 0);
    CHECK_INT_EQ(cookie_jar_header(j, "example.com", "/", 0, T0, buf, sizeof(buf)), 0);
    CHECK_STR_EQ(buf, "");
    CHECK_INT_EQ(cookie_jar_header(j, "example.com", "/", 0, T0, NULL, 0), 0);
    buf[0] = 'x';
    CHECK_INT_EQ(cookie_jar_header(NULL, "example.com", "/", 0, T0, buf, sizeof(buf)), 0);
    CHECK_STR_EQ(buf, "");
    cookie_jar_free(j);
    cookie_jar_free(NULL);
}

UNIT_TEST(cookie_session)
{
    struct cookie_jar *j = jar();

    CHECK_INT_EQ(set(j, "example.com", "/login", 0, "sid=abc123"), 0);
    CHECK_INT_EQ(cookie_jar_count(j), 1);
    CHECK_STR_EQ(hdr(j, "example.com", "/", 0), "sid=abc123");
    CHECK_STR_EQ(hdr(j, "example.com", "/deep/page", 1), "sid=abc123");
    /* A session cookie outlives any clock. */
    CHECK_STR_EQ(hdr_at(j, "example.com", "/", 0, T0 + 100000000), "sid=abc123");
    CHECK_STR_EQ(hdr(j, "other.com", "/", 0), "");
    cookie_jar_free(j);
}

UNIT_TEST(cookie_replace)
{
    struct cookie_jar *j = jar();

    CHECK_INT_EQ(set(j, "example.com", "/", 0, "a=1"), 0);
    CHECK_INT_EQ(set(j, "example.com", "/", 0, "b=2"), 0);
    CHECK_INT_EQ(set(j, "example.com", "/", 0, "a=3"), 0);
    CHECK_INT_EQ(cookie_jar_count(j), 2);
    /* The new a keeps the old one's creation order: still before b. */
    CHECK_STR_EQ(hdr(j, "example.com", "/", 0), "a=3; b=2");
    /* Names are case-sensitive; another path is another cookie. */
    CHECK_INT_EQ(set(j, "example.com", "/", 0, "A=4"), 0);
    CHECK_INT_EQ(set(j, "example.com", "/", 0, "a=5; Path=/x"), 0);
    CHECK_INT_EQ(cookie_jar_count(j), 4);
    CHECK_STR_EQ(hdr(j, "example.com", "/x", 0), "a=5; a=3; b=2; A=4");
    cookie_jar_free(j);
}

UNIT_TEST(cookie_delete_max_age)
{
    struct cookie_jar *j = jar();

    set(j, "example.com", "/", 0, "a=1");
    set(j, "example.com", "/", 0, "b=2");
    CHECK_INT_EQ(set(j, "example.com", "/", 0, "a=; Max-Age=0"), 0);
    CHECK_INT_EQ(cookie_jar_count(j), 1);
    CHECK_STR_EQ(hdr(j, "example.com", "/", 0), "b=2");
    CHECK_INT_EQ(set(j, "example.com", "/", 0, "b=2; Max-Age=-1"), 0);
    CHECK_INT_EQ(cookie_jar_count(j), 0);
    CHECK_STR_EQ(hdr(j, "example.com", "/", 0), "");
    /* An expired cookie with nothing to delete is not stored either. */
    CHECK_INT_EQ(set(j, "example.com", "/", 0, "c=3; Max-Age=0"), 0);
    CHECK_INT_EQ(cookie_jar_count(j), 0);
    cookie_jar_free(j);
}

UNIT_TEST(cookie_delete_expires)
{
    struct cookie_jar *j = jar();

    set(j, "example.com", "/", 0, "a=1");
    CHECK_INT_EQ(
        set(j, "example.com", "/", 0, "a=1; Expires=Thu, 01 Jan 1970 00:00:00 GMT"), 0);
    CHECK_INT_EQ(cookie_jar_count(j), 0);
    /* Only the cookie with the same domain and path goes. */
    set(j, "example.com", "/", 0, "a=1");
    set(j, "example.com", "/", 0, "a=2; Expires=Sun, 06 Nov 1994 08:49:37 GMT; Path=/x");
    CHECK_INT_EQ(cookie_jar_count(j), 1);
    CHECK_STR_EQ(hdr(j, "example.com", "/x", 0), "a=1");
    cookie_jar_free(j);
}

UNIT_TEST(cookie_max_age_over_expires)
{
    struct cookie_jar *j = jar();

    /* Max-Age wins wherever it stands. */
    set(j, "example.com", "/", 0,
        "a=1; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=100");
    set(j, "example.com", "/", 0,
        "b=2; Max-Age=100; Expires=Thu, 01 Jan 1970 00:00:00 GMT");
    set(j, "example.com", "/", 0,
        "c=3; Max-Age=0; Expires=Fri, 01 Jan 2100 00:00:00 GMT");
    CHECK_STR_EQ(hdr(j, "example.com", "/", 0), "a=1; b=2");
    CHECK_STR_EQ(hdr_at(j, "example.com", "/", 0, T0 + 99), "a=1; b=2");
    CHECK_STR_EQ(hdr_at(j, "example.com", "/", 0, T0 + 100), "");
    cookie_jar_free(j);
}

UNIT_TEST(cookie_expiry_in_time)
{
    struct cookie_jar *j = jar();

    set(j, "example.com", "/", 0, "a=1; Max-Age=5");
    set(j, "example.com", "/", 0,
        "b=2; Expires=Tue, 14 Nov 2023 22:13:30 GMT"); /* T0 + 10 */
    set(j, "example.com", "/", 0, "c=3");
    CHECK_STR_EQ(hdr_at(j, "example.com", "/", 0, T0 + 4), "a=1; b=2; c=3");
    CHECK_INT_EQ(cookie_jar_count(j), 3);
    CHECK_STR_EQ(hdr_at(j, "example.com", "/", 0, T0 + 9), "b=2; c=3");
    CHECK_INT_EQ(cookie_jar_count(j), 2);
    CHECK_STR_EQ(hdr_at(j, "example.com", "/", 0, T0 + 10), "c=3");
    CHECK_INT_EQ(cookie_jar_count(j), 1);
    /* Expired cookies go even when the request would not carry them. */
    set(j, "example.com", "/", 0, "d=4; Max-Age=1; Path=/only");
    CHECK_INT_EQ(cookie_jar_count(j), 2);
    CHECK_STR_EQ(hdr_at(j, "other.org", "/", 0, T0 + 20), "");
    CHECK_INT_EQ(cookie_jar_count(j), 1);
    cookie_jar_free(j);
}

UNIT_TEST(cookie_bad_expiry_ignored)
{
    struct cookie_jar *j = jar();

    /* An unparsable date or Max-Age is ignored: a session cookie. */
    set(j, "example.com", "/", 0, "a=1; Expires=not a date");
    set(j, "example.com", "/", 0, "b=2; Max-Age=1x");
    set(j, "example.com", "/", 0, "c=3; Max-Age=-");
    set(j, "example.com", "/", 0, "d=4; Max-Age=");
    set(j, "example.com", "/", 0, "e=5; Max-Age=+5");
    CHECK_STR_EQ(hdr_at(j, "example.com", "/", 0, T0 + 1000000),
                 "a=1; b=2; c=3; d=4; e=5");
    /* A huge Max-Age saturates instead of wrapping into the past. */
    set(j, "example.com", "/", 0, "f=6; Max-Age=99999999999999999999999999");
    CHECK_INT_EQ(cookie_jar_count(j), 6);
    cookie_jar_free(j);
}

UNIT_TEST(cookie_domain_subdomains)
{
    struct cookie_jar *j = jar();

    CHECK_INT_EQ(set(j, "www.example.com", "/", 0, "d=1; Domain=.Example.COM"), 0);
    CHECK_INT_EQ(set(j, "www.example.com", "/", 0, "h=2"), 0);
    CHECK_STR_EQ(hdr(j, "www.example.com", "/", 0), "d=1; h=2");
    CHECK_STR_EQ(hdr(j, "example.com", "/", 0), "d=1");
    CHECK_STR_EQ(hdr(j, "a.b.example.com", "/", 0), "d=1");
    CHECK_STR_EQ(hdr(j, "WWW.Example.com", "/", 0), "d=1; h=2");
    /* Host-only: not for the subdomains of the host. */
    CHECK_STR_EQ(hdr(j, "x.www.example.com", "/", 0), "d=1");
    CHECK_STR_EQ(hdr(j, "badexample.com", "/", 0), "");
    CHECK_STR_EQ(hdr(j, "example.org", "/", 0), "");
    CHECK_STR_EQ(hdr(j, "com", "/", 0), "");
    /* Domain equal to the host is still a domain cookie. */
    CHECK_INT_EQ(set(j, "example.org", "/", 0, "e=3; Domain=example.org"), 0);
    CHECK_STR_EQ(hdr(j, "api.example.org", "/", 0), "e=3");
    cookie_jar_free(j);
}

UNIT_TEST(cookie_domain_foreign)
{
    struct cookie_jar *j = jar();

    CHECK_INT_EQ(set(j, "www.example.com", "/", 0, "a=1; Domain=example.org"), 1);
    CHECK_INT_EQ(set(j, "www.example.com", "/", 0, "a=1; Domain=sub.www.example.com"), 1);
    CHECK_INT_EQ(set(j, "www.example.com", "/", 0, "a=1; Domain=ww.example.com"), 1);
    CHECK_INT_EQ(set(j, "www.example.com", "/", 0, "a=1; Domain=le.com"), 1);
    /* No public suffix list: a Domain needs an inner dot. */
    CHECK_INT_EQ(set(j, "www.example.com", "/", 0, "a=1; Domain=com"), 1);
    CHECK_INT_EQ(set(j, "www.example.com", "/", 0, "a=1; Domain=.com"), 1);
    CHECK_INT_EQ(set(j, "www.example.com", "/", 0, "a=1; Domain=com."), 1);
    CHECK_INT_EQ(cookie_jar_count(j), 0);
    /* localhost is allowed, and an empty Domain is ignored. */
    CHECK_INT_EQ(set(j, "api.localhost", "/", 0, "l=1; Domain=localhost"), 0);
    CHECK_STR_EQ(hdr(j, "web.localhost", "/", 0), "l=1");
    CHECK_INT_EQ(set(j, "www.example.com", "/", 0, "e=1; Domain="), 0);
    CHECK_STR_EQ(hdr(j, "www.example.com", "/", 0), "e=1");
    CHECK_STR_EQ(hdr(j, "example.com", "/", 0), "");
    cookie_jar_free(j);
}

UNIT_TEST(cookie_ip_host)
{
    struct cookie_jar *j = jar();

    CHECK_INT_EQ(set(j, "192.168.0.1", "/", 0, "a=1"), 0);
    CHECK_INT_EQ(set(j, "192.168.0.1", "/", 0, "b=2; Domain=168.0.1"), 1);
    CHECK_INT_EQ(set(j, "192.168.0.1", "/", 0, "c=3; Domain=192.168.0.1"), 0);
    CHECK_STR_EQ(hdr(j, "192.168.0.1", "/", 0), "a=1; c=3");
    CHECK_STR_EQ(hdr(j, "x.192.168.0.1", "/", 0), "");
    CHECK_STR_EQ(hdr(j, "192.168.0.2", "/", 0), "");
    /* IPv6, given without brackets. */
    CHECK_INT_EQ(set(j, "::1", "/", 0, "v6=1"), 0);
    CHECK_INT_EQ(set(j, "::1", "/", 0, "w=1; Domain=1"), 1);
    CHECK_STR_EQ(hdr(j, "::1", "/", 0), "v6=1");
    /* A domain cookie whose tail is an address does not match an address. */
    CHECK_INT_EQ(set(j, "a.0.1", "/", 0, "t=1; Domain=0.1"), 0);
    CHECK_STR_EQ(hdr(j, "10.0.0.1", "/", 0), "");
    cookie_jar_free(j);
}

UNIT_TEST(cookie_path_default)
{
    struct cookie_jar *j = jar();

    set(j, "example.com", "/a/b/c", 0, "x=1");           /* path /a/b */
    set(j, "example.com", "/page", 0, "y=2");            /* path / */
    set(j, "example.com", "/a/b/c", 0, "z=3; Path=rel"); /* path /a/b */
    set(j, "example.com", "/a/b/c", 0, "w=4; Path=");    /* path /a/b */
    set(j, "example.com", "/q/r?x=/s/t", 0, "q=5");      /* path /q */
    CHECK_INT_EQ(cookie_jar_count(j), 5);
    CHECK_STR_EQ(hdr(j, "example.com", "/a/b", 0), "x=1; z=3; w=4; y=2");
    CHECK_STR_EQ(hdr(j, "example.com", "/a/b/other", 0), "x=1; z=3; w=4; y=2");
    CHECK_STR_EQ(hdr(j, "example.com", "/a/bc", 0), "y=2");
    CHECK_STR_EQ(hdr(j, "example.com", "/a", 0), "y=2");
    CHECK_STR_EQ(hdr(j, "example.com", "/q/z", 0), "q=5; y=2");
    cookie_jar_free(j);
}

UNIT_TEST(cookie_path_match)
{
    struct cookie_jar *j = jar();

    set(j, "example.com", "/", 0, "a=1; Path=/a");
    CHECK_STR_EQ(hdr(j, "example.com", "/a", 0), "a=1");
    CHECK_STR_EQ(hdr(j, "example.com", "/a/b", 0), "a=1");
    CHECK_STR_EQ(hdr(j, "example.com", "/a?x=1", 0), "a=1");
    CHECK_STR_EQ(hdr(j, "example.com", "/ab", 0), "");
    CHECK_STR_EQ(hdr(j, "example.com", "/", 0), "");
    CHECK_STR_EQ(hdr(j, "example.com", "/A", 0), "");
    set(j, "example.com", "/", 0, "a=1; Path=/a");
    set(j, "example.com", "/", 0, "s=2; Path=/s/");
    CHECK_STR_EQ(hdr(j, "example.com", "/s/x", 0), "s=2");
    CHECK_STR_EQ(hdr(j, "example.com", "/s/", 0), "s=2");
    CHECK_STR_EQ(hdr(j, "example.com", "/s", 0), "");
    cookie_jar_free(j);
}

UNIT_TEST(cookie_secure)
{
    struct cookie_jar *j = jar();

    CHECK_INT_EQ(set(j, "example.com", "/", 1, "s=1; Secure"), 0);
    CHECK_INT_EQ(set(j, "example.com", "/", 1, "p=2"), 0);
    CHECK_STR_EQ(hdr(j, "example.com", "/", 1), "s=1; p=2");
    CHECK_STR_EQ(hdr(j, "example.com", "/", 0), "p=2");
    /* An insecure origin can neither set a Secure cookie... */
    CHECK_INT_EQ(set(j, "example.com", "/", 0, "t=3; Secure"), 1);
    /* ...nor overwrite, shadow or delete one. */
    CHECK_INT_EQ(set(j, "example.com", "/", 0, "s=evil"), 1);
    CHECK_INT_EQ(set(j, "www.example.com", "/", 0, "s=evil; Path=/x"), 1);
    CHECK_INT_EQ(set(j, "example.com", "/", 0, "s=; Max-Age=0"), 1);
    CHECK_INT_EQ(cookie_jar_count(j), 2);
    CHECK_STR_EQ(hdr(j, "example.com", "/", 1), "s=1; p=2");
    /* A secure origin may replace a Secure cookie with a plain one. */
    CHECK_INT_EQ(set(j, "example.com", "/", 1, "s=plain"), 0);
    CHECK_STR_EQ(hdr(j, "example.com", "/", 0), "s=plain; p=2");
    cookie_jar_free(j);
}

UNIT_TEST(cookie_prefixes)
{
    struct cookie_jar *j = jar();

    CHECK_INT_EQ(set(j, "example.com", "/", 1, "__Secure-a=1"), 1);
    CHECK_INT_EQ(set(j, "example.com", "/", 1, "__Secure-a=1; Secure"), 0);
    CHECK_INT_EQ(set(j, "example.com", "/", 1, "__Host-b=1; Secure"), 1);
    CHECK_INT_EQ(set(j, "example.com", "/", 1, "__Host-b=1; Secure; Path=/x"), 1);
    CHECK_INT_EQ(
        set(j, "example.com", "/", 1, "__Host-b=1; Secure; Path=/; Domain=example.com"),
        1);
    CHECK_INT_EQ(set(j, "example.com", "/", 1, "__host-b=2; Secure; Path=/"), 0);
    CHECK_STR_EQ(hdr(j, "example.com", "/", 1), "__Secure-a=1; __host-b=2");
    cookie_jar_free(j);
}

UNIT_TEST(cookie_order)
{
    struct cookie_jar *j = jar();

    set(j, "example.com", "/", 0, "a=1; Path=/");
    set(j, "example.com", "/", 0, "b=2; Path=/x/y");
    set(j, "example.com", "/", 0, "c=3; Path=/x");
    set(j, "example.com", "/", 0, "d=4; Path=/x");
    set(j, "example.com", "/", 0, "e=5; Path=/x/y/z/w");
    CHECK_STR_EQ(hdr(j, "example.com", "/x/y/z", 0), "b=2; c=3; d=4; a=1");
    /* Replacing c keeps it ahead of d. */
    set(j, "example.com", "/", 0, "c=33; Path=/x");
    CHECK_STR_EQ(hdr(j, "example.com", "/x/y/z/w", 0), "e=5; b=2; c=33; d=4; a=1");
    /* Deleting and setting c again puts it after d. */
    set(j, "example.com", "/", 0, "c=; Path=/x; Max-Age=0");
    set(j, "example.com", "/", 0, "c=3; Path=/x");
    CHECK_STR_EQ(hdr(j, "example.com", "/x", 0), "d=4; c=3; a=1");
    cookie_jar_free(j);
}

UNIT_TEST(cookie_truncation)
{
    static char big[2 + 4096];
    struct cookie_jar *j = jar();
    char buf[8];

    set(j, "example.com", "/", 0, "a=1");
    set(j, "example.com", "/", 0, "bb=22");
    /* "a=1; bb=22" is 10 bytes. */
    CHECK_INT_EQ(cookie_jar_header(j, "example.com", "/", 0, T0, NULL, 0), 10);
    memset(buf, 'x', sizeof(buf));
    CHECK_INT_EQ(cookie_jar_header(j, "example.com", "/", 0, T0, buf, 1), 10);
    CHECK_STR_EQ(buf, "");
    CHECK_INT_EQ(cookie_jar_header(j, "example.com", "/", 0, T0, buf, 4), 10);
    CHECK_STR_EQ(buf, "a=1");
    CHECK_INT_EQ(cookie_jar_header(j, "example.com", "/", 0, T0, buf, 5), 10);
    CHECK_STR_EQ(buf, "a=1;");
    CHECK_INT_EQ(cookie_jar_header(j, "example.com", "/", 0, T0, buf, 8), 10);
    CHECK_STR_EQ(buf, "a=1; bb");
    CHECK_STR_EQ(hdr(j, "example.com", "/", 0), "a=1; bb=22");
    /* The size limit of a pair: 4096 bytes of name and value. */
    memset(big, 'v', sizeof(big));
    big[0] = 'n';
    big[1] = '=';
    CHECK_INT_EQ(cookie_jar_set(j, "example.com", "/", 0, big, 2 + 4096, T0), 1);
    CHECK_INT_EQ(cookie_jar_set(j, "example.com", "/", 0, big, 2 + 4095, T0), 0);
    CHECK_INT_EQ(cookie_jar_header(j, "example.com", "/", 0, T0, NULL, 0), 10 + 2 + 4097);
    cookie_jar_free(j);
}

UNIT_TEST(cookie_cap_300)
{
    struct cookie_jar *j = jar();
    char v[32];
    int i;

    for (i = 0; i < 301; i++) {
        snprintf(v, sizeof(v), "c%d=%d", i, i);
        CHECK_INT_EQ(set(j, "example.com", "/", 0, v), 0);
    }
    /* The oldest goes. */
    CHECK_INT_EQ(cookie_jar_count(j), 300);
    CHECK(strncmp(hdr(j, "example.com", "/", 0), "c1=1; c2=2;", 11) == 0);
    cookie_jar_free(j);

    /* Expired cookies go first, even before the oldest. */
    j = jar();
    set(j, "example.com", "/", 0, "old=1");
    set(j, "example.com", "/", 0, "short=1; Max-Age=5");
    for (i = 0; i < 298; i++) {
        snprintf(v, sizeof(v), "c%d=%d", i, i);
        set(j, "example.com", "/", 0, v);
    }
    CHECK_INT_EQ(cookie_jar_count(j), 300);
    CHECK_INT_EQ(cookie_jar_set(j, "example.com", "/", 0, "new=1", 5, T0 + 10), 0);
    CHECK_INT_EQ(cookie_jar_count(j), 300);
    CHECK(strncmp(hdr(j, "example.com", "/", 0), "old=1; c0=0;", 12) == 0);
    CHECK(strstr(hdr(j, "example.com", "/", 0), "; new=1") != NULL);
    cookie_jar_free(j);
}

UNIT_TEST(cookie_spacing)
{
    struct cookie_jar *j = jar();

    CHECK_INT_EQ(
        set(j, "example.com", "/", 1, " \t a  =  1 2 \t;  Path = /p ;Secure ; ;;"), 0);
    CHECK_INT_EQ(set(j, "example.com", "/", 1, "b=\"quoted\";HttpOnly;Foo=bar;Path"), 0);
    CHECK_INT_EQ(set(j, "example.com", "/", 1, "c="), 0);
    CHECK_INT_EQ(set(j, "example.com", "/", 1, "d = x=y"), 0);
    CHECK_STR_EQ(hdr(j, "example.com", "/p", 1), "a=1 2; b=\"quoted\"; c=; d=x=y");
    CHECK_STR_EQ(hdr(j, "example.com", "/p", 0), "b=\"quoted\"; c=; d=x=y");
    /* No '=', an empty name, nothing at all. */
    CHECK_INT_EQ(set(j, "example.com", "/", 1, "novalue"), 1);
    CHECK_INT_EQ(set(j, "example.com", "/", 1, "novalue; a=1"), 1);
    CHECK_INT_EQ(set(j, "example.com", "/", 1, "=1"), 1);
    CHECK_INT_EQ(set(j, "example.com", "/", 1, "  =1"), 1);
    CHECK_INT_EQ(set(j, "example.com", "/", 1, ""), 1);
    CHECK_INT_EQ(set(j, "example.com", "/", 1, ";"), 1);
    CHECK_INT_EQ(cookie_jar_count(j), 4);
    cookie_jar_free(j);
}

UNIT_TEST(cookie_attribute_case)
{
    struct cookie_jar *j = jar();

    CHECK_INT_EQ(set(j, "www.example.com", "/", 1,
                     "a=1; pATH=/x; DOMAIN=example.com; sEcUrE; HTTPONLY; max-AGE=50"),
                 0);
    CHECK_STR_EQ(hdr(j, "example.com", "/x", 1), "a=1");
    CHECK_STR_EQ(hdr(j, "example.com", "/x", 0), "");
    CHECK_STR_EQ(hdr_at(j, "example.com", "/x", 1, T0 + 50), "");
    set(j, "example.com", "/", 0, "b=1");
    CHECK_INT_EQ(
        set(j, "example.com", "/", 0, "b=1; EXPIRES=Thu, 01 Jan 1970 00:00:00 GMT"), 0);
    CHECK_INT_EQ(cookie_jar_count(j), 0);
    cookie_jar_free(j);
}

UNIT_TEST(cookie_control_chars)
{
    struct cookie_jar *j = jar();

    CHECK_INT_EQ(set(j, "example.com", "/", 0, "a=b\r\nX-Evil: 1"), 1);
    CHECK_INT_EQ(set(j, "example.com", "/", 0, "a\n=b"), 1);
    CHECK_INT_EQ(set(j, "example.com", "/", 0, "a=b\x7f"), 1);
    CHECK_INT_EQ(cookie_jar_set(j, "example.com", "/", 0, "a=b\0c", 5, T0), 1);
    CHECK_INT_EQ(cookie_jar_set(j, "example.com", "/", 0, "a=b; Path=/\0", 12, T0), 1);
    /* A tab inside a value is allowed. */
    CHECK_INT_EQ(set(j, "example.com", "/", 0, "t=x\ty"), 0);
    CHECK_STR_EQ(hdr(j, "example.com", "/", 0), "t=x\ty");
    CHECK_INT_EQ(cookie_jar_count(j), 1);
    cookie_jar_free(j);
}

/*
 * cookie_jar_get: the value a request would send, by name: the longest
 * path first, domain and Secure matched, expired ones not seen.
 */
UNIT_TEST(cookie_get_by_name)
{
    struct cookie_jar *j = cookie_jar_new();

    CHECK(cookie_jar_get(NULL, "a.example", "/", 0, T0, "sid") == NULL);
    CHECK_INT_EQ(set(j, "a.example", "/", 0, "sid=root; Path=/"), 0);
    CHECK_INT_EQ(set(j, "a.example", "/", 0, "sid=deep; Path=/app"), 0);
    CHECK_INT_EQ(set(j, "a.example", "/", 1, "tok=secret; Secure"), 0);
    CHECK_INT_EQ(set(j, "a.example", "/", 0, "old=x; Max-Age=10"), 0);
    CHECK_INT_EQ(set(j, "b.example", "/", 0, "sid=other"), 0);
    CHECK_STR_EQ(cookie_jar_get(j, "a.example", "/", 0, T0, "sid"), "root");
    CHECK_STR_EQ(cookie_jar_get(j, "a.example", "/app/x", 0, T0, "sid"), "deep");
    CHECK_STR_EQ(cookie_jar_get(j, "b.example", "/app", 0, T0, "sid"), "other");
    CHECK(cookie_jar_get(j, "a.example", "/", 0, T0, "tok") == NULL);
    CHECK_STR_EQ(cookie_jar_get(j, "a.example", "/", 1, T0, "tok"), "secret");
    CHECK_STR_EQ(cookie_jar_get(j, "a.example", "/", 0, T0, "old"), "x");
    CHECK(cookie_jar_get(j, "a.example", "/", 0, T0 + 10, "old") == NULL);
    CHECK(cookie_jar_get(j, "a.example", "/", 0, T0, "si") == NULL);
    CHECK(cookie_jar_get(j, "c.example", "/", 0, T0, "sid") == NULL);
    cookie_jar_free(j);
}
