/*
 * The web view's HTTP/1.x request parser and its address parser: pure
 * functions, no I/O, unit-tested and fuzzed (tests/fuzz/fuzz_web.c).  The
 * server (web.c) answers one request per connection and closes it, so the
 * parser reads the request line and skips the header fields up to the
 * empty line; what follows (a body) is never read.
 */
#ifndef LOADS_WEB_HTTP_H
#define LOADS_WEB_HTTP_H

#include <stddef.h>
#include <sys/socket.h>

#define WEB_MAX_REQUEST 4096   /* bytes of a request line and its header fields */
#define WEB_PATH_LEN    256    /* bytes of a path, or of a query, with its NUL */

enum web_method { WEB_GET = 1, WEB_HEAD, WEB_OTHER };

struct web_request {
    enum web_method method;
    char path[WEB_PATH_LEN];   /* "/stats.json": the target up to '?' */
    char query[WEB_PATH_LEN];  /* what follows '?', "" for none */
};

/*
 * Parses the first len bytes of a request.  Returns the bytes of the
 * request head (through its empty line) once it is whole, 0 while more
 * is needed, -E2BIG when WEB_MAX_REQUEST bytes hold no whole head, or
 * -EINVAL when it is not an HTTP/1.x request (a bad request line, a
 * control character, a target that is not a path or is too long).  req
 * is filled only on success.
 */
int web_parse_request(const char *buf, size_t len, struct web_request *req);

/*
 * The number of the query parameter name in q ("from=12&x=1"), or def
 * when it is missing or not a number from 0 to 10^12.
 */
long long web_query_number(const char *q, const char *name, long long def);

/*
 * Parses a --web value: PORT (on 127.0.0.1), IPV4:PORT or [IPV6]:PORT,
 * the port from 1 to 65535, into addr and *addrlen.  Returns 0 or
 * -EINVAL with a one-line reason in err.
 */
int web_parse_addr(const char *s, struct sockaddr_storage *addr, socklen_t *addrlen,
                   char *err, size_t errlen);

#endif
