/*
 * The web view's request parser and --web's address parser (http.h).
 */
#include "web/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

/* A token character of RFC 9110 (method names). */
static int is_tchar(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Copies n bytes of s into out (WEB_PATH_LEN) as a string; -EINVAL if too long. */
static int copy_part(char *out, const char *s, size_t n)
{
    if (n >= WEB_PATH_LEN)
        return -EINVAL;
    memcpy(out, s, n);
    out[n] = '\0';
    return 0;
}

/* "GET /path?q HTTP/1.1", n bytes without its line end, into req. */
static int parse_request_line(const char *s, size_t n, struct web_request *req)
{
    size_t i = 0, m, t, q;

    while (i < n && is_tchar((unsigned char)s[i]))
        i++;
    m = i;
    if (m == 0 || m > 16 || i >= n || s[i] != ' ')
        return -EINVAL;
    if (m == 3 && memcmp(s, "GET", 3) == 0)
        req->method = WEB_GET;
    else if (m == 4 && memcmp(s, "HEAD", 4) == 0)
        req->method = WEB_HEAD;
    else
        req->method = WEB_OTHER;
    t = ++i;
    while (i < n && s[i] != ' ')
        i++;
    /* Only the origin form: the view has no proxy's absolute form, nor '*'. */
    if (i == t || s[t] != '/' || i >= n)
        return -EINVAL;
    for (q = t; q < i && s[q] != '?'; q++)
        ;
    if (copy_part(req->path, s + t, q - t) < 0)
        return -EINVAL;
    if (copy_part(req->query, s + q + (q < i), i - q - (q < i)) < 0)
        return -EINVAL;
    i++;
    if (n - i != 8 || memcmp(s + i, "HTTP/1.", 7) != 0 || s[i + 7] < '0' || s[i + 7] > '9')
        return -EINVAL;
    return 0;
}

int web_parse_request(const char *buf, size_t len, struct web_request *req)
{
    size_t n = len < WEB_MAX_REQUEST ? len : WEB_MAX_REQUEST;
    size_t pos = 0;
    struct web_request r;

    memset(&r, 0, sizeof(r));
    for (unsigned line = 0;; line++) {
        const char *nl = memchr(buf + pos, '\n', n - pos);
        size_t eol, end;

        /* A line's bytes so far: no control character but a tab in a field. */
        end = nl ? (size_t)(nl - buf) : n;
        eol = end;
        if (nl && end > pos && buf[end - 1] == '\r')
            end--;
        for (size_t i = pos; i < end; i++) {
            unsigned char c = (unsigned char)buf[i];

            if ((c < 0x20 && !(c == '\t' && line > 0)) || c == 0x7f)
                if (!(c == '\r' && !nl && i + 1 == end))
                    return -EINVAL;
        }
        if (!nl)
            return n >= WEB_MAX_REQUEST ? -E2BIG : 0;
        if (line == 0) {
            if (parse_request_line(buf + pos, end - pos, &r) < 0)
                return -EINVAL;
        } else if (end == pos) {
            *req = r;
            return (int)(eol + 1);
        }
        pos = eol + 1;
    }
}

long long web_query_number(const char *q, const char *name, long long def)
{
    size_t nl = strlen(name);

    while (*q) {
        const char *amp = strchr(q, '&');
        size_t n = amp ? (size_t)(amp - q) : strlen(q);

        if (n > nl && memcmp(q, name, nl) == 0 && q[nl] == '=') {
            long long v = 0;
            size_t i = nl + 1;

            if (i == n)
                return def;
            for (; i < n; i++) {
                if (q[i] < '0' || q[i] > '9' || v > 100000000000LL)
                    return def;
                v = v * 10 + (q[i] - '0');
            }
            return v;
        }
        q += n + (amp != NULL);
    }
    return def;
}

/* A port from 1 to 65535, digits only. */
static int parse_port(const char *s, unsigned short *port)
{
    unsigned long v = 0;

    if (!*s)
        return -EINVAL;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -EINVAL;
        v = v * 10 + (unsigned long)(*s - '0');
        if (v > 65535)
            return -EINVAL;
    }
    if (v == 0)
        return -EINVAL;
    *port = (unsigned short)v;
    return 0;
}

int web_parse_addr(const char *s, struct sockaddr_storage *addr, socklen_t *addrlen,
                   char *err, size_t errlen)
{
    char host[64];
    const char *colon;
    unsigned short port;
    struct sockaddr_in *v4 = (struct sockaddr_in *)addr;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)addr;

    memset(addr, 0, sizeof(*addr));
    if (s[0] == '[') {
        const char *close = strchr(s, ']');

        if (!close || close[1] != ':' || (size_t)(close - s - 1) >= sizeof(host))
            goto bad;
        memcpy(host, s + 1, (size_t)(close - s - 1));
        host[close - s - 1] = '\0';
        if (inet_pton(AF_INET6, host, &v6->sin6_addr) != 1 || parse_port(close + 2, &port) < 0)
            goto bad;
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        *addrlen = sizeof(*v6);
        return 0;
    }
    colon = strrchr(s, ':');
    if (!colon) {
        snprintf(host, sizeof(host), "127.0.0.1");
        if (parse_port(s, &port) < 0)
            goto bad;
    } else {
        if ((size_t)(colon - s) >= sizeof(host))
            goto bad;
        memcpy(host, s, (size_t)(colon - s));
        host[colon - s] = '\0';
        if (strcmp(host, "localhost") == 0)
            snprintf(host, sizeof(host), "127.0.0.1");
        if (parse_port(colon + 1, &port) < 0)
            goto bad;
    }
    if (inet_pton(AF_INET, host, &v4->sin_addr) != 1)
        goto bad;
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    *addrlen = sizeof(*v4);
    return 0;
bad:
    snprintf(err, errlen, "not a web address: use PORT (on 127.0.0.1), ADDRESS:PORT "
                          "or [IPV6]:PORT, the port from 1 to 65535");
    return -EINVAL;
}
