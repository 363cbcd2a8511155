/*
 * A VU's cookie jar (see cookie.h), after RFC 6265 section 5 and the parts
 * of its successor draft (6265bis) that browsers and curl follow: control
 * characters in a name or value refuse the cookie, an insecure origin can
 * neither set a Secure cookie nor shadow one, an attribute value over 1024
 * bytes is ignored, and the __Secure- and __Host- name prefixes hold.
 * Without a public suffix list, a Domain attribute needs an inner dot (as
 * curl without libpsl), "localhost" excepted.
 *
 * The jar is an array kept in the order the Cookie header wants: longer
 * paths first, then earlier creation.  A new cookie goes after every cookie
 * whose path is at least as long; a replaced one keeps its place (same
 * path) and its creation number.  So the header is written in one pass
 * without sorting.  Each cookie is one allocation, "name=value\0domain\0
 * path\0", and its pair is copied into the header as it is.  An empty jar
 * holds no array; a full one (COOKIE_MAX) drops its expired cookies, then
 * its oldest, to make room for a new one.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "base/buf.h"
#include "http/cookie.h"

#define COOKIE_MAX      300       /* cookies in a jar, RFC 6265 6.1's minimum */
#define COOKIE_PAIR_MAX 4096      /* bytes of a name and its value together */
#define COOKIE_ATTR_MAX 1024      /* bytes of an attribute's value (6265bis) */
#define COOKIE_HOST_MAX 65535     /* bytes of a host or a path, a sanity limit */
#define COOKIE_DATE_MAX 128       /* bytes of an Expires value worth parsing */
#define COOKIE_SESSION  INT64_MAX /* expiry of a cookie without one */
#define COOKIE_PAST     INT64_MIN /* expiry of Max-Age=0 and below */

struct cookie {
    char *text;        /* "name=value\0domain\0path\0", owned */
    int64_t expires;   /* expired once now >= expires */
    uint64_t created;  /* creation number, kept when the cookie is replaced */
    uint32_t domain;   /* offset of the domain in text, lower case */
    uint32_t path;     /* offset of the path in text */
    uint32_t plen;     /* length of the path */
    uint16_t nlen;     /* length of the name */
    uint8_t host_only; /* matches its domain only, not its subdomains */
    uint8_t secure;    /* sent over https only */
};

struct cookie_jar {
    struct buf store; /* the array's memory */
    struct cookie *v; /* cookies in header order, in store; NULL while empty */
    uint32_t n;       /* cookies in v */
    uint64_t next;    /* creation number of the next new cookie */
};

/* A Set-Cookie value taken apart; its strings point into the value. */
struct cookie_new {
    const char *name, *value, *domain, *path;
    size_t nlen, vlen, dlen, plen;
    int64_t expires; /* from Max-Age, else Expires, else COOKIE_SESSION */
    int64_t max_age; /* from the last valid Max-Age */
    int64_t date;    /* from the last valid Expires */
    int has_max_age; /* a valid Max-Age was seen */
    int has_date;    /* a valid Expires was seen */
    int has_path;    /* a Path attribute was seen, valid or not */
    int host_only;
    int secure;
};

/* ---- Helpers on bytes ---- */

static int cookie_wsp(char c)
{
    return c == ' ' || c == '\t';
}

static char cookie_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Drops the blanks (SP, HTAB) at both ends of s[0..n). */
static void cookie_trim(const char **s, size_t *n)
{
    while (*n && cookie_wsp(**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n && cookie_wsp((*s)[*n - 1]))
        (*n)--;
}

/* Whether s[0..n) holds a control character other than HTAB (6265bis). */
static int cookie_ctl(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return 1;
    }
    return 0;
}

/* Whether s[0..n) is the attribute name lit (lower case), in any case. */
static int cookie_is(const char *s, size_t n, const char *lit)
{
    return n == strlen(lit) && strncasecmp(s, lit, n) == 0;
}

/* Whether host is an IP address: IPv4 dotted, or anything with a colon. */
static int cookie_is_ip(const char *host)
{
    struct in_addr a;

    return strchr(host, ':') != NULL || inet_pton(AF_INET, host, &a) == 1;
}

/*
 * Whether the domain d[0..dn) is s[0..sn) or one of its parent domains, by
 * labels (the IP address clause of domain-match is left to the caller).
 */
static int cookie_tail(const char *s, size_t sn, const char *d, size_t dn)
{
    if (dn > sn || (dn < sn && s[sn - dn - 1] != '.'))
        return 0;
    return strncasecmp(s + sn - dn, d, dn) == 0;
}

/* RFC 6265 5.1.4: whether the request path r[0..rn) falls under cookie path p. */
static int cookie_path_match(const char *p, size_t pn, const char *r, size_t rn)
{
    if (pn > rn || memcmp(p, r, pn) != 0)
        return 0;
    return pn == rn || p[pn - 1] == '/' || r[pn] == '/';
}

/* ---- Parsing a Set-Cookie value (5.2) ---- */

/* Max-Age: digits, maybe after a '-'; anything else ignores the attribute. */
static void cookie_max_age(struct cookie_new *nc, const char *v, size_t n, int64_t now)
{
    size_t i = n && v[0] == '-' ? 1 : 0;
    int64_t delta = 0;

    if (i == n)
        return;
    for (; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return;
        if (delta < INT64_MAX / 10)
            delta = delta * 10 + (v[i] - '0');
    }
    nc->has_max_age = 1;
    if (v[0] == '-' || delta == 0)
        nc->max_age = COOKIE_PAST;
    else
        nc->max_age = now > INT64_MAX - delta ? INT64_MAX : now + delta;
}

/* Expires: a date curl_getdate() understands; anything else is ignored. */
static void cookie_date(struct cookie_new *nc, const char *v, size_t n)
{
    char s[COOKIE_DATE_MAX];
    time_t t;

    if (!n || n >= sizeof(s))
        return;
    memcpy(s, v, n);
    s[n] = '\0';
    t = curl_getdate(s, NULL);
    if (t == -1)
        return;
    nc->has_date = 1;
    nc->date = (int64_t)t;
}

/*
 * Domain: without its leading dot, lower-cased into dbuf.  An empty value
 * is ignored; a lone dot leaves an empty domain, which means host-only.
 */
static void cookie_domain(struct cookie_new *nc, const char *v, size_t n, char *dbuf)
{
    size_t i;

    if (!n)
        return;
    if (v[0] == '.') {
        v++;
        n--;
    }
    for (i = 0; i < n; i++)
        dbuf[i] = cookie_lower(v[i]);
    dbuf[n] = '\0';
    nc->domain = dbuf;
    nc->dlen = n;
}

/*
 * Takes in one cookie-av (a[0..n), between semicolons).  The last valid
 * instance of an attribute wins; unknown ones and HttpOnly do nothing.
 */
static void cookie_attr(struct cookie_new *nc, const char *a, size_t n, int64_t now,
                        char *dbuf)
{
    const char *eq = memchr(a, '=', n), *v = eq ? eq + 1 : a + n;
    size_t an = eq ? (size_t)(eq - a) : n, vn = (size_t)(a + n - v);

    cookie_trim(&a, &an);
    cookie_trim(&v, &vn);
    if (vn > COOKIE_ATTR_MAX)
        return;
    if (cookie_is(a, an, "expires")) {
        cookie_date(nc, v, vn);
    } else if (cookie_is(a, an, "max-age")) {
        cookie_max_age(nc, v, vn, now);
    } else if (cookie_is(a, an, "domain")) {
        cookie_domain(nc, v, vn, dbuf);
    } else if (cookie_is(a, an, "path")) {
        nc->has_path = 1;
        nc->path = vn && v[0] == '/' ? v : NULL;
        nc->plen = nc->path ? vn : 0;
    } else if (cookie_is(a, an, "secure")) {
        nc->secure = 1;
    }
}

/*
 * Takes the Set-Cookie value s[0..len) apart into nc, its Domain lower-cased
 * into dbuf (COOKIE_ATTR_MAX + 1 bytes).  Returns 0, or 1 when the RFC
 * says to ignore the cookie: no '=', an empty name, a pair too long, a
 * control character in the pair, or a NUL anywhere.
 */
static int cookie_parse(struct cookie_new *nc, const char *s, size_t len, int64_t now,
                        char *dbuf)
{
    const char *end = s + len, *semi, *eq;

    memset(nc, 0, sizeof(*nc));
    if (!len || memchr(s, '\0', len))
        return 1;
    semi = memchr(s, ';', len);
    if (!semi)
        semi = end;
    eq = memchr(s, '=', (size_t)(semi - s));
    if (!eq)
        return 1;
    nc->name = s;
    nc->nlen = (size_t)(eq - s);
    nc->value = eq + 1;
    nc->vlen = (size_t)(semi - eq - 1);
    cookie_trim(&nc->name, &nc->nlen);
    cookie_trim(&nc->value, &nc->vlen);
    if (!nc->nlen || nc->nlen + nc->vlen > COOKIE_PAIR_MAX ||
        cookie_ctl(nc->name, nc->nlen) || cookie_ctl(nc->value, nc->vlen))
        return 1;
    while (semi < end) {
        const char *a = semi + 1;

        semi = memchr(a, ';', (size_t)(end - a));
        if (!semi)
            semi = end;
        cookie_attr(nc, a, (size_t)(semi - a), now, dbuf);
    }
    nc->expires = nc->has_max_age ? nc->max_age
                  : nc->has_date  ? nc->date
                                  : COOKIE_SESSION;
    return 0;
}

/* ---- Checks against the origin (5.3) ---- */

/*
 * Settles the cookie's domain from its Domain attribute and the request
 * host.  Returns 0, or 1 when the host may not set a cookie for it.
 */
static int cookie_domain_attr(struct cookie_new *nc, const char *host, size_t hlen)
{
    const char *dot = memchr(nc->domain, '.', nc->dlen);
    int suffix = !dot || (size_t)(dot - nc->domain) == nc->dlen - 1;
    int ip = cookie_is_ip(host);

    if (suffix && cookie_is(nc->domain, nc->dlen, "localhost"))
        suffix = 0;
    if (nc->dlen == hlen && strncasecmp(nc->domain, host, hlen) == 0) {
        /* 5.3 step 5: a would-be public suffix equal to the host is host-only. */
        nc->host_only = ip || suffix;
        return 0;
    }
    if (ip || suffix || !cookie_tail(host, hlen, nc->domain, nc->dlen))
        return 1;
    nc->host_only = 0;
    return 0;
}

/* 6265bis 4.1.3: "__Secure-" needs Secure; "__Host-" also host-only and Path=/. */
static int cookie_prefix_ok(const struct cookie_new *nc)
{
    if (nc->nlen >= 9 && strncasecmp(nc->name, "__Secure-", 9) == 0)
        return nc->secure;
    if (nc->nlen >= 7 && strncasecmp(nc->name, "__Host-", 7) == 0)
        return nc->secure && nc->host_only && nc->has_path && nc->plen == 1 &&
               nc->path[0] == '/';
    return 1;
}

/*
 * Fills in the cookie's domain and path from the request, and checks what
 * the origin may set.  Returns 0, or 1 to ignore the cookie.
 */
static int cookie_origin(struct cookie_new *nc, const char *host, const char *path,
                         int secure)
{
    size_t hlen = strlen(host), rlen = strcspn(path, "?#");
    const char *slash;

    if ((nc->secure && !secure) || hlen > COOKIE_HOST_MAX || rlen > COOKIE_HOST_MAX)
        return 1;
    if (nc->domain && nc->dlen) {
        if (cookie_domain_attr(nc, host, hlen))
            return 1;
    } else {
        nc->domain = host;
        nc->dlen = hlen;
        nc->host_only = 1;
    }
    if (!nc->path) {
        /* 5.1.4's default-path: the request path up to its last '/'. */
        slash = rlen && path[0] == '/' ? memrchr(path, '/', rlen) : NULL;
        nc->path = slash && slash != path ? path : "/";
        nc->plen = slash && slash != path ? (size_t)(slash - path) : 1;
    }
    return cookie_prefix_ok(nc) ? 0 : 1;
}

/*
 * 6265bis 5.7 step 16: whether a non-secure cookie from an insecure origin
 * would shadow a Secure cookie of the same name (domains matching either
 * way, its path under the secure one's); such a cookie is ignored.
 */
static int cookie_shadows(const struct cookie_jar *j, const struct cookie_new *nc)
{
    uint32_t i;

    for (i = 0; i < j->n; i++) {
        const struct cookie *c = &j->v[i];
        const char *d = c->text + c->domain;
        size_t dlen = c->path - c->domain - 1;

        if (c->secure && c->nlen == nc->nlen &&
            memcmp(c->text, nc->name, nc->nlen) == 0 &&
            (cookie_tail(d, dlen, nc->domain, nc->dlen) ||
             cookie_tail(nc->domain, nc->dlen, d, dlen)) &&
            cookie_path_match(c->text + c->path, c->plen, nc->path, nc->plen))
            return 1;
    }
    return 0;
}

/* ---- The array ---- */

/* Removes cookie i, keeping the order; frees the array when it empties. */
static void cookie_remove(struct cookie_jar *j, uint32_t i)
{
    free(j->v[i].text);
    memmove(&j->v[i], &j->v[i + 1], (j->n - i - 1) * sizeof(*j->v));
    if (--j->n == 0) {
        buf_free(&j->store);
        j->v = NULL;
    }
}

/* Index of the cookie with nc's name, domain and path, or -1. */
static long cookie_find(const struct cookie_jar *j, const struct cookie_new *nc)
{
    uint32_t i;

    for (i = 0; i < j->n; i++) {
        const struct cookie *c = &j->v[i];

        if (c->nlen == nc->nlen && c->plen == nc->plen &&
            c->path - c->domain - 1 == nc->dlen &&
            memcmp(c->text, nc->name, nc->nlen) == 0 &&
            strncasecmp(c->text + c->domain, nc->domain, nc->dlen) == 0 &&
            memcmp(c->text + c->path, nc->path, nc->plen) == 0)
            return (long)i;
    }
    return -1;
}

/* Builds the stored form of nc in c, all but its creation number.  -1: no memory. */
static int cookie_make(struct cookie *c, const struct cookie_new *nc)
{
    size_t pair = nc->nlen + 1 + nc->vlen, i;
    char *t = malloc(pair + 1 + nc->dlen + 1 + nc->plen + 1);

    if (!t)
        return -1;
    memcpy(t, nc->name, nc->nlen);
    t[nc->nlen] = '=';
    memcpy(t + nc->nlen + 1, nc->value, nc->vlen);
    t[pair] = '\0';
    for (i = 0; i < nc->dlen; i++)
        t[pair + 1 + i] = cookie_lower(nc->domain[i]);
    t[pair + 1 + nc->dlen] = '\0';
    memcpy(t + pair + 2 + nc->dlen, nc->path, nc->plen);
    t[pair + 2 + nc->dlen + nc->plen] = '\0';
    c->text = t;
    c->expires = nc->expires;
    c->domain = (uint32_t)(pair + 1);
    c->path = (uint32_t)(pair + 2 + nc->dlen);
    c->plen = (uint32_t)nc->plen;
    c->nlen = (uint16_t)nc->nlen;
    c->host_only = (uint8_t)nc->host_only;
    c->secure = (uint8_t)nc->secure;
    return 0;
}

/* Drops the expired cookies, for room in a full jar. */
static void cookie_purge(struct cookie_jar *j, int64_t now)
{
    uint32_t i = j->n;

    while (i--)
        if (j->v[i].expires <= now)
            cookie_remove(j, i);
}

/* Drops the cookie created first, for room in a full jar. */
static void cookie_evict(struct cookie_jar *j)
{
    uint32_t i, old = 0;

    for (i = 1; i < j->n; i++)
        if (j->v[i].created < j->v[old].created)
            old = i;
    cookie_remove(j, old);
}

/* Makes room for one more cookie, up to COOKIE_MAX.  -1: no memory. */
static int cookie_grow(struct cookie_jar *j)
{
    j->store.len = j->n * sizeof(struct cookie);
    if (buf_reserve(&j->store, sizeof(struct cookie)) < 0)
        return -1;
    j->v = (struct cookie *)(void *)j->store.data;
    return 0;
}

/* Adds a new cookie c (owning its text) in header order.  -1: no memory. */
static int cookie_insert(struct cookie_jar *j, struct cookie *c, int64_t now)
{
    uint32_t pos;

    if (j->n == COOKIE_MAX) {
        cookie_purge(j, now);
        if (j->n == COOKIE_MAX)
            cookie_evict(j);
    }
    if (cookie_grow(j) < 0) {
        free(c->text);
        return -1;
    }
    pos = j->n;
    while (pos && j->v[pos - 1].plen < c->plen)
        pos--;
    memmove(&j->v[pos + 1], &j->v[pos], (j->n - pos) * sizeof(*j->v));
    c->created = j->next++;
    j->v[pos] = *c;
    j->n++;
    return 0;
}

/*
 * 5.3 steps 11-12: replaces the cookie with the same name, domain and path
 * (in its place, with its creation number) or adds a new one; an expired
 * cookie only deletes its namesake.
 */
static int cookie_store(struct cookie_jar *j, const struct cookie_new *nc, int64_t now)
{
    long i = cookie_find(j, nc);
    struct cookie c;

    if (nc->expires <= now) {
        if (i >= 0)
            cookie_remove(j, (uint32_t)i);
        return 0;
    }
    if (cookie_make(&c, nc) < 0)
        return -1;
    if (i < 0)
        return cookie_insert(j, &c, now);
    c.created = j->v[i].created;
    free(j->v[i].text);
    j->v[i] = c;
    return 0;
}

/* ---- The Cookie header (5.4) ---- */

/* Whether cookie c goes with a request to host, path r[0..rn); ip caches cookie_is_ip. */
static int cookie_sendable(const struct cookie *c, const char *host, size_t hlen,
                           const char *r, size_t rn, int secure, int *ip)
{
    const char *d = c->text + c->domain;
    size_t dlen = c->path - c->domain - 1;

    if ((c->secure && !secure) || !cookie_path_match(c->text + c->path, c->plen, r, rn))
        return 0;
    if (dlen == hlen && strncasecmp(d, host, hlen) == 0)
        return 1;
    if (c->host_only || dlen >= hlen || !cookie_tail(host, hlen, d, dlen))
        return 0;
    if (*ip < 0)
        *ip = cookie_is_ip(host);
    return !*ip;
}

/* Appends s[0..n) at len as snprintf would with cap; returns the new length. */
static size_t cookie_put(char *buf, size_t cap, size_t len, const char *s, size_t n)
{
    if (len + 1 < cap) {
        size_t m = cap - 1 - len < n ? cap - 1 - len : n;

        memcpy(buf + len, s, m);
        buf[len + m] = '\0';
    }
    return len + n;
}

/*
 * Writes the header of a non-empty jar, dropping expired cookies as it
 * goes: the array is compacted in the same pass.
 */
static size_t cookie_header(struct cookie_jar *j, const char *host, const char *path,
                            int secure, int64_t now, char *buf, size_t cap)
{
    size_t hlen = strlen(host), rn = strcspn(path, "?#"), len = 0;
    uint32_t i, k = 0;
    struct cookie *c;
    int ip = -1;

    for (i = 0; i < j->n; i++) {
        if (j->v[i].expires <= now) {
            free(j->v[i].text);
            continue;
        }
        c = &j->v[k++];
        if (c != &j->v[i])
            *c = j->v[i];
        if (!cookie_sendable(c, host, hlen, path, rn, secure, &ip))
            continue;
        if (len)
            len = cookie_put(buf, cap, len, "; ", 2);
        len = cookie_put(buf, cap, len, c->text, c->domain - 1);
    }
    j->n = k;
    if (!k) {
        buf_free(&j->store);
        j->v = NULL;
    }
    return len;
}

/* ---- The interface ---- */

const char *cookie_jar_get(const struct cookie_jar *j, const char *host, const char *path,
                           int secure, time_t now, const char *name)
{
    size_t hlen = strlen(host), rn = strcspn(path, "?#"), nlen = strlen(name);
    int ip = -1;

    for (uint32_t i = 0; j && i < j->n; i++) {
        const struct cookie *c = &j->v[i];

        if (c->expires > (int64_t)now && c->nlen == nlen &&
            memcmp(c->text, name, nlen) == 0 &&
            cookie_sendable(c, host, hlen, path, rn, secure, &ip))
            return c->text + nlen + 1;
    }
    return NULL;
}

struct cookie_jar *cookie_jar_new(void)
{
    struct cookie_jar *j = calloc(1, sizeof(struct cookie_jar));

    if (j)
        j->store.max = COOKIE_MAX * sizeof(struct cookie);
    return j;
}

void cookie_jar_free(struct cookie_jar *j)
{
    uint32_t i;

    if (!j)
        return;
    for (i = 0; i < j->n; i++)
        free(j->v[i].text);
    buf_free(&j->store);
    free(j);
}

size_t cookie_jar_count(const struct cookie_jar *j)
{
    return j->n;
}

int cookie_jar_set(struct cookie_jar *j, const char *host, const char *path, int secure,
                   const char *value, size_t len, time_t now)
{
    char dbuf[COOKIE_ATTR_MAX + 1];
    struct cookie_new nc;

    if (cookie_parse(&nc, value, len, (int64_t)now, dbuf) ||
        cookie_origin(&nc, host, path, secure))
        return 1;
    if (!secure && !nc.secure && cookie_shadows(j, &nc))
        return 1;
    return cookie_store(j, &nc, (int64_t)now);
}

size_t cookie_jar_header(struct cookie_jar *j, const char *host, const char *path,
                         int secure, time_t now, char *buf, size_t cap)
{
    if (cap)
        buf[0] = '\0';
    if (!j || !j->n)
        return 0;
    return cookie_header(j, host, path, secure, (int64_t)now, buf, cap);
}
