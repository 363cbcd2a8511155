/*
 * URLs of requests: resolution against --server-url and per-URL keys.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "worker/url.h"

char *worker_url_resolve(const char *base, const char *url)
{
    size_t blen = strlen(base);
    char *out;

    if (strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0)
        return strdup(url);
    if (!base[0])
        return NULL;
    while (blen && base[blen - 1] == '/')
        blen--;
    if (asprintf(&out, "%.*s%s%s", (int)blen, base, url[0] == '/' ? "" : "/", url) < 0)
        return NULL;
    return out;
}

void worker_url_key(char *key, size_t len, const char *method, const char *url)
{
    size_t n = strcspn(url, "?#");

    snprintf(key, len, "%s %.*s", method, (int)n, url);
}

/* Characters after which curl would rewrite or refuse the target. */
static int target_simple(const char *t, size_t len)
{
    int query = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)t[i];

        if (c <= ' ' || c >= 0x7f)
            return 0;
        /* Dot segments ("/./", "/../", a trailing "/." or "/..") curl removes. */
        if (!query && c == '.' && i > 0 && t[i - 1] == '/' &&
            (i + 1 == len || t[i + 1] == '/' || t[i + 1] == '?' ||
             (t[i + 1] == '.' && (i + 2 == len || t[i + 2] == '/' || t[i + 2] == '?'))))
            return 0;
        if (c == '?')
            query = 1;
    }
    return 1;
}

/* A host[:port] of plain names or addresses, that curl would not convert. */
static int authority_simple(const char *a, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)a[i]) && !strchr("-._~:[]", a[i]))
            return 0;
    return 1;
}

int worker_url_parse(const char *url, struct url_parts *u)
{
    const char *a, *end, *h, *hend, *p;
    size_t alen, hlen;

    memset(u, 0, sizeof(*u));
    if (strncasecmp(url, "http://", 7) == 0) {
        a = url + 7;
        u->port = 80;
        u->simple = 1;
    } else if (strncasecmp(url, "https://", 8) == 0) {
        a = url + 8;
        u->port = 443;
        u->https = 1;
        u->simple = 1;
    } else if (strncasecmp(url, "ws://", 5) == 0) {
        a = url + 5;
        u->port = 80;
    } else if (strncasecmp(url, "wss://", 6) == 0) {
        a = url + 6;
        u->port = 443;
        u->https = 1;
    } else {
        return -1;
    }
    alen = strcspn(a, "/?#");
    end = a + alen;
    if (memchr(a, '@', alen))
        u->simple = 0;
    h = memchr(a, '@', alen) ? (const char *)memrchr(a, '@', alen) + 1 : a;
    if (*h == '[') {
        hend = memchr(h, ']', (size_t)(end - h));
        if (!hend)
            return -1;
        hlen = (size_t)(hend - h - 1);
        h++;
        p = hend + 1;
    } else {
        p = memchr(h, ':', (size_t)(end - h));
        if (!p)
            p = end;
        hlen = (size_t)(p - h);
    }
    if (hlen == 0 || hlen >= sizeof(u->host))
        return -1;
    for (size_t i = 0; i < hlen; i++)
        u->host[i] = (char)tolower((unsigned char)h[i]);
    if (p < end) {
        unsigned port = 0;

        if (*p != ':' || p + 1 == end || end - p > 6)
            return -1;
        for (p++; p < end; p++) {
            if (*p < '0' || *p > '9')
                return -1;
            port = port * 10 + (unsigned)(*p - '0');
        }
        if (port == 0 || port > 65535)
            return -1;
        u->port = port;
    }
    u->authority = h - (h > a && h[-1] == '[' ? 1 : 0);
    u->authority_len = (size_t)(end - u->authority);
    u->target = end[0] == '#' ? "" : end;
    u->target_len = end[0] == '#' ? 0 : strcspn(end, "#");
    u->path_len = strcspn(u->target, "?#");
    if (u->path_len > u->target_len)
        u->path_len = u->target_len;
    if (u->simple && (!target_simple(u->target, u->target_len) ||
                      !authority_simple(u->authority, u->authority_len)))
        u->simple = 0;
    return 0;
}
