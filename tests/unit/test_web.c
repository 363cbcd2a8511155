/* The web view's request and address parsers (web/http.c). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "tests/unit/unit.h"
#include "web/http.h"

static int parse(const char *s, struct web_request *r)
{
    return web_parse_request(s, strlen(s), r);
}

UNIT_TEST(web_request_whole)
{
    struct web_request r;
    const char *get = "GET /series.json?from=12&x=1 HTTP/1.1\r\nHost: a\r\n"
                      "Accept: */*\r\n\r\nBODY";

    CHECK_INT_EQ(parse(get, &r), (int)strlen(get) - 4);
    CHECK_INT_EQ(r.method, WEB_GET);
    CHECK_STR_EQ(r.path, "/series.json");
    CHECK_STR_EQ(r.query, "from=12&x=1");
    CHECK(web_query_number(r.query, "from", -1) == 12);
    CHECK(web_query_number(r.query, "x", -1) == 1);
    CHECK(web_query_number(r.query, "fro", -1) == -1);
    CHECK(web_query_number("from=&from=3", "from", -1) == -1);
    CHECK(web_query_number("from=1e3", "from", -1) == -1);
    CHECK(web_query_number("from=99999999999999999999", "from", -1) == -1);
    /* Bare LFs, HTTP/1.0, no header field, HEAD, other methods. */
    CHECK_INT_EQ(parse("HEAD / HTTP/1.0\n\n", &r), 17);
    CHECK_INT_EQ(r.method, WEB_HEAD);
    CHECK_STR_EQ(r.path, "/");
    CHECK_STR_EQ(r.query, "");
    CHECK(parse("POST /stats.json HTTP/1.1\r\nContent-Length: 3\r\n\r\n", &r) > 0);
    CHECK_INT_EQ(r.method, WEB_OTHER);
    CHECK(parse("get / HTTP/1.1\r\n\r\n", &r) > 0);
    CHECK_INT_EQ(r.method, WEB_OTHER); /* methods are case-sensitive */
    CHECK(parse("GET /?a=b?c HTTP/1.1\r\nX: a\tb\r\n\r\n", &r) > 0);
    CHECK_STR_EQ(r.query, "a=b?c");
}

UNIT_TEST(web_request_in_pieces)
{
    const char *get = "GET /stats.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    size_t n = strlen(get);
    struct web_request r;

    /* Every prefix is "more, please"; only the whole head is a request. */
    for (size_t i = 0; i < n; i++) {
        memset(&r, 0x5a, sizeof(r));
        CHECK_INT_EQ(web_parse_request(get, i, &r), 0);
        CHECK_INT_EQ(r.method, 0x5a5a5a5a); /* untouched */
    }
    CHECK_INT_EQ(web_parse_request(get, n, &r), (int)n);
    CHECK_STR_EQ(r.path, "/stats.json");
}

UNIT_TEST(web_request_refused)
{
    static const char *const bad[] = {
        "\r\nGET / HTTP/1.1\r\n\r\n",           /* an empty line first */
        "GET  / HTTP/1.1\r\n\r\n",              /* two spaces */
        "GET http://a/ HTTP/1.1\r\n\r\n",       /* absolute form */
        "OPTIONS * HTTP/1.1\r\n\r\n",           /* asterisk form */
        "GET / HTTP/2.0\r\n\r\n",
        "GET / HTTP/1.1 \r\n\r\n",
        "GET / FTP/1.1\r\n\r\n",
        "GET /\r\n\r\n",                        /* HTTP/0.9 */
        "GET /a\x01 HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nX: a\x7f\r\n\r\n",
        "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n",    /* a bare CR */
        "G\tT / HTTP/1.1\r\n\r\n",
        "GETTTTTTTTTTTTTTTTTTTT / HTTP/1.1\r\n\r\n", /* a method of 22 bytes */
    };
    struct web_request r;
    char big[WEB_MAX_REQUEST + 64];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (parse(bad[i], &r) != -EINVAL)
            unit_fail(__FILE__, __LINE__, "request %zu not refused", i);
    /* Refused as soon as the bad byte comes, not at the end of the head. */
    CHECK_INT_EQ(parse("GET /\x01", &r), -EINVAL);
    CHECK_INT_EQ(parse("GET / HTTP/1.1\r", &r), 0);
    /* A path of WEB_PATH_LEN bytes is too long; one less fits. */
    memcpy(big, "GET /", 5);
    memset(big + 5, 'a', WEB_PATH_LEN - 1);
    strcpy(big + 5 + WEB_PATH_LEN - 1, " HTTP/1.1\r\n\r\n");
    CHECK_INT_EQ(parse(big, &r), -EINVAL);
    memmove(big + 5, big + 6, strlen(big + 6) + 1);
    CHECK(parse(big, &r) > 0);
    CHECK_INT_EQ((int)strlen(r.path), WEB_PATH_LEN - 1);
    /* A head that does not end within WEB_MAX_REQUEST bytes. */
    memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
    memset(big + 19, 'x', sizeof(big) - 19);
    CHECK_INT_EQ(web_parse_request(big, WEB_MAX_REQUEST - 1, &r), 0);
    CHECK_INT_EQ(web_parse_request(big, WEB_MAX_REQUEST, &r), -E2BIG);
    CHECK_INT_EQ(web_parse_request(big, sizeof(big), &r), -E2BIG);
}

UNIT_TEST(web_addresses)
{
    struct sockaddr_storage a;
    struct sockaddr_in *v4 = (struct sockaddr_in *)&a;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&a;
    socklen_t len;
    char err[256], host[64];
    static const char *const bad[] = {
        "", "0", "65536", "8089x", "-1", "127.0.0.1", "127.0.0.1:", ":8089", "host:80",
        "1.2.3:80", "[::1]", "[::1]:", "[::1:80", "::1:80", "127.0.0.1:80:80", " 80",
    };

    CHECK_INT_EQ(web_parse_addr("8089", &a, &len, err, sizeof(err)), 0);
    CHECK_INT_EQ(a.ss_family, AF_INET);
    CHECK_INT_EQ(ntohs(v4->sin_port), 8089);
    CHECK_INT_EQ(ntohl(v4->sin_addr.s_addr), INADDR_LOOPBACK);
    CHECK_INT_EQ((int)len, (int)sizeof(*v4));
    CHECK_INT_EQ(web_parse_addr("0.0.0.0:65535", &a, &len, err, sizeof(err)), 0);
    CHECK_INT_EQ(ntohs(v4->sin_port), 65535);
    CHECK_INT_EQ(v4->sin_addr.s_addr, 0);
    CHECK_INT_EQ(web_parse_addr("localhost:1", &a, &len, err, sizeof(err)), 0);
    CHECK_INT_EQ(ntohl(v4->sin_addr.s_addr), INADDR_LOOPBACK);
    CHECK_INT_EQ(web_parse_addr("[::1]:8089", &a, &len, err, sizeof(err)), 0);
    CHECK_INT_EQ(a.ss_family, AF_INET6);
    CHECK_INT_EQ(ntohs(v6->sin6_port), 8089);
    inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof(host));
    CHECK_STR_EQ(host, "::1");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        if (web_parse_addr(bad[i], &a, &len, err, sizeof(err)) != -EINVAL || !err[0] ||
            strchr(err, '\n'))
            unit_fail(__FILE__, __LINE__, "address '%s' not refused in one line", bad[i]);
    }
}
