/*
 * URLs of requests (see url.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/url.h"

/* ------------------------------------------------------------- schemes */

/*
 * The length of the scheme that url starts with (RFC 3986: a letter, then
 * letters, digits, "+", "-" or "."; then ":"), 0 when it has none.
 */
static size_t scheme_len(const char *url)
{
    size_t n = 0;

    if (!isalpha((unsigned char)url[0]))
        return 0;
    while (isalnum((unsigned char)url[n]) || url[n] == '+' || url[n] == '-' || url[n] == '.')
        n++;
    return url[n] == ':' ? n : 0;
}

static int scheme_is(const char *s, size_t n, const char *name)
{
    return strlen(name) == n && strncasecmp(s, name, n) == 0;
}

/*
 * The scheme a request of kind uses for one written s (n bytes): "http",
 * "https", "ws" or "wss" in lower case, or NULL when it is not one the
 * kind may use.
 */
static const char *scheme_for(const char *s, size_t n, enum url_kind kind)
{
    if (scheme_is(s, n, "http"))
        return kind == URL_WS ? "ws" : "http";
    if (scheme_is(s, n, "https"))
        return kind == URL_WS ? "wss" : "https";
    if (kind == URL_WS && scheme_is(s, n, "ws"))
        return "ws";
    if (kind == URL_WS && scheme_is(s, n, "wss"))
        return "wss";
    return NULL;
}

/* Where "://" follows url's scheme, or NULL when url has none. */
static const char *scheme_sep(const char *url)
{
    size_t n = scheme_len(url);

    return n && url[n + 1] == '/' && url[n + 2] == '/' ? url + n : NULL;
}

/*
 * A new string: scheme, then n bytes of rest, a slash when slash is set,
 * then tail.  NULL when memory ran out.
 */
static char *url_build(const char *scheme, const char *rest, size_t n, int slash,
                       const char *tail)
{
    size_t sl = strlen(scheme), tl = strlen(tail);
    char *out = malloc(sl + n + 1 + tl + 1), *o = out;

    if (!out)
        return NULL;
    memcpy(o, scheme, sl);
    memcpy(o += sl, rest, n);
    o += n;
    if (slash)
        *o++ = '/';
    memcpy(o, tail, tl + 1);
    return out;
}

char *url_join(const char *base, const char *url, enum url_kind kind, const char **why)
{
    const char *sep = scheme_sep(url), *scheme;
    size_t blen;
    char *out;

    if (sep) {
        if (!(scheme = scheme_for(url, (size_t)(sep - url), kind))) {
            *why = "unsupported protocol";
            return NULL;
        }
        out = url_build(scheme, sep, strlen(sep), 0, "");
    } else if (!base[0]) {
        *why = "relative URL and no --server-url";
        return NULL;
    } else {
        sep = scheme_sep(base);
        if (!sep || !(scheme = scheme_for(base, (size_t)(sep - base), kind))) {
            *why = "--server-url is not an http:// or https:// URL";
            return NULL;
        }
        blen = strlen(sep);
        while (blen > 3 && sep[blen - 1] == '/')
            blen--;
        out = url_build(scheme, sep, blen, url[0] != '/', url);
    }
    if (!out)
        *why = "out of memory";
    return out;
}

/* ---------------------------------------------------------- resolution */

/*
 * Appends the path p (n bytes) to out at *o with its dot segments removed,
 * as RFC 3986 section 5.2.4 does; out has room for n more bytes.
 */
static void put_path(char *out, size_t *o, const char *p, size_t n)
{
    size_t start = *o, i = 0;

    while (i < n) {
        const char *in = p + i;
        size_t left = n - i;

        if (left >= 3 && memcmp(in, "../", 3) == 0) {
            i += 3;
        } else if (left >= 2 && memcmp(in, "./", 2) == 0) {
            i += 2;
        } else if (left >= 3 && memcmp(in, "/./", 3) == 0) {
            i += 2;
        } else if (left == 2 && memcmp(in, "/.", 2) == 0) {
            out[(*o)++] = '/';
            i += 2;
        } else if ((left >= 4 && memcmp(in, "/../", 4) == 0) ||
                   (left == 3 && memcmp(in, "/..", 3) == 0)) {
            /* Up one: drop the output's last segment and its slash. */
            while (*o > start && out[*o - 1] != '/')
                (*o)--;
            if (*o > start)
                (*o)--;
            if (left == 3)
                out[(*o)++] = '/';
            i += 3; /* "/../" leaves its last slash to the input */
        } else if ((left == 1 && in[0] == '.') || (left == 2 && memcmp(in, "..", 2) == 0)) {
            i = n;
        } else {
            size_t seg = 1;

            while (seg < left && in[seg] != '/')
                seg++;
            memcpy(out + *o, in, seg);
            *o += seg;
            i += seg;
        }
    }
}

/* An absolute URL after its scheme's "//", or a reference: its pieces. */
struct url_split {
    const char *auth, *path, *query; /* query starts with its '?' */
    size_t auth_len, path_len, query_len;
};

/* Splits s; with_auth: s starts with an authority (after "//"). */
static void url_split(const char *s, int with_auth, struct url_split *u)
{
    u->auth = s;
    u->auth_len = with_auth ? strcspn(s, "/?#") : 0;
    u->path = s + u->auth_len;
    u->path_len = strcspn(u->path, "?#");
    u->query = u->path + u->path_len;
    u->query_len = u->query[0] == '?' ? strcspn(u->query, "#") : 0;
}

static void put(char *out, size_t *o, const char *s, size_t n)
{
    memcpy(out + *o, s, n);
    *o += n;
}

/*
 * Writes the target of reference r (no scheme) against base b into out at
 * *o: the authority, path and query (RFC 3986 section 5.2.2).  merged is
 * scratch room for a path.
 */
static void resolve_parts(char *out, size_t *o, const struct url_split *b,
                          const struct url_split *r, int r_auth, char *merged)
{
    size_t m = 0, keep;

    if (r_auth) {
        put(out, o, r->auth, r->auth_len);
        put_path(out, o, r->path, r->path_len);
        put(out, o, r->query, r->query_len);
        return;
    }
    put(out, o, b->auth, b->auth_len);
    if (r->path_len == 0) {
        /* "", "?q" or "#f": base's path, and ref's query if it has one. */
        put_path(out, o, b->path, b->path_len);
        if (r->query_len)
            put(out, o, r->query, r->query_len);
        else
            put(out, o, b->query, b->query_len);
        return;
    }
    if (r->path[0] != '/') {
        /* A relative path: base's path up to its last slash, then ref's. */
        keep = b->path_len;
        while (keep && b->path[keep - 1] != '/')
            keep--;
        if (!keep)
            merged[m++] = '/';
        memcpy(merged + m, b->path, keep);
        m += keep;
    }
    memcpy(merged + m, r->path, r->path_len);
    m += r->path_len;
    put_path(out, o, merged, m);
    put(out, o, r->query, r->query_len);
}

char *url_resolve(const char *base, const char *ref, const char **why)
{
    const char *bsep = scheme_sep(base), *scheme;
    size_t rlen = strlen(ref), slen, o, cap;
    struct url_split b, r;
    struct url_parts check;
    char *out = NULL, *copy = NULL, *merged = NULL;
    int r_auth;

    *why = "bad Location";
    while (rlen && (ref[rlen - 1] == ' ' || ref[rlen - 1] == '\t'))
        rlen--;
    for (size_t i = 0; i < rlen; i++)
        if ((unsigned char)ref[i] <= ' ' || ref[i] == 0x7f)
            return NULL;
    if (!bsep || !(scheme = scheme_for(base, (size_t)(bsep - base), URL_HTTP)))
        return NULL;
    slen = scheme_len(ref);
    if (slen && !(scheme = scheme_for(ref, slen, URL_HTTP))) {
        *why = "unsupported protocol";
        return NULL;
    }
    if (slen) {
        ref += slen + 1;
        rlen -= slen + 1;
        if (rlen < 2 || memcmp(ref, "//", 2) != 0)
            return NULL;
    }
    r_auth = rlen >= 2 && memcmp(ref, "//", 2) == 0;
    /* Every piece of base and ref, "://" and a slash fit in cap. */
    cap = strlen(scheme) + 3 + strlen(base) + rlen + 2;
    out = malloc(cap);
    copy = strndup(ref, rlen);
    merged = malloc(strlen(base) + rlen + 2);
    if (!out || !copy || !merged) {
        *why = "out of memory";
        goto fail;
    }
    url_split(bsep + 3, 1, &b);
    url_split(copy + (r_auth ? 2 : 0), r_auth, &r);
    o = (size_t)sprintf(out, "%s://", scheme);
    resolve_parts(out, &o, &b, &r, r_auth, merged);
    out[o] = '\0';
    if (url_parse(out, &check) < 0)
        goto fail;
    free(copy);
    free(merged);
    return out;

fail:
    free(out);
    free(copy);
    free(merged);
    return NULL;
}

/* ------------------------------------------------------------- display */

/* Appends n bytes of s at out[*o], as many as fit before len - 1. */
static void put_cut(char *out, size_t len, size_t *o, const char *s, size_t n)
{
    if (n > len - 1 - *o)
        n = len - 1 - *o;
    memcpy(out + *o, s, n);
    *o += n;
}

/*
 * Copies url into out (len bytes, cut and NUL-terminated) at *o without
 * the password of its user info; stop, when not NULL, ends the copy at the
 * first of its characters after the authority.  (On the path of every
 * request: no printf.)
 */
static void url_copy(char *out, size_t len, size_t o, const char *url, const char *stop)
{
    const char *sep = scheme_sep(url), *auth, *at, *colon, *rest;

    if (!len)
        return;
    if (!sep) {
        put_cut(out, len, &o, url, stop ? strcspn(url, stop) : strlen(url));
        out[o] = '\0';
        return;
    }
    auth = sep + 3;
    rest = auth + strcspn(auth, "/?#");
    at = memrchr(auth, '@', (size_t)(rest - auth));
    colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
    if (colon) {
        put_cut(out, len, &o, url, (size_t)(colon - url));
        put_cut(out, len, &o, at, (size_t)(rest - at));
    } else {
        put_cut(out, len, &o, url, (size_t)(rest - url));
    }
    put_cut(out, len, &o, rest, stop ? strcspn(rest, stop) : strlen(rest));
    out[o] = '\0';
}

void url_key(char *key, size_t len, const char *method, const char *url)
{
    size_t o = 0;

    if (!len)
        return;
    put_cut(key, len, &o, method, strlen(method));
    put_cut(key, len, &o, " ", 1);
    url_copy(key, len, o, url, "?#");
}

void url_show(char *out, size_t len, const char *url)
{
    url_copy(out, len, 0, url, NULL);
}

/* ---------------------------------------------------------------- parts */

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

int url_parse(const char *url, struct url_parts *u)
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

size_t url_encode(char *out, size_t cap, const char *in)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t len = 0;

    for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
        char enc[3] = {(char)*p, 0, 0};
        size_t n = 1;

        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' ||
              *p == '~')) {
            enc[0] = '%';
            enc[1] = hex[*p >> 4];
            enc[2] = hex[*p & 15];
            n = 3;
        }
        for (size_t i = 0; i < n; i++, len++)
            if (len + 1 < cap)
                out[len] = enc[i];
    }
    if (cap)
        out[len < cap ? len : cap - 1] = '\0';
    return len;
}
