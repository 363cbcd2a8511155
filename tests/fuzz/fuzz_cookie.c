/*
 * http/cookie.c: each line of the input is a Set-Cookie value, stored in
 * turn from one of a few fixed origins (a clock that ticks once per line),
 * then the Cookie header is asked for each origin and a few paths.  The
 * header must keep snprintf's contract, hold no CR, LF or NUL, and carry
 * only name=value pairs that some line set; the jar never holds more than
 * 300 cookies nor sends more than it holds.
 */
#include <time.h>

#include "tests/fuzz/fuzz.h"
#include "http/cookie.h"

#define FUZZ_T0    ((time_t)1700000000)
#define FUZZ_MAX   300 /* the jar's cap */
#define FUZZ_SMALL 7   /* a buffer too small for most headers */

static const struct {
    const char *host, *path;
    int secure;
} origins[] = {
    {"www.example.com", "/dir/page", 1},
    {"example.com", "/", 0},
    {"192.168.0.1", "/a/b", 0},
    {"::1", "/", 1},
};

static const char *const paths[] = {"/", "/dir/page", "/a/b/c", "/dir"};

/* A line's name and value as the RFC reads them: trimmed, up to ';'. */
struct pair {
    const char *name, *value;
    size_t nlen, vlen;
};

static void trim(const char **s, size_t *n)
{
    while (*n && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*n)--;
    }
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
        (*n)--;
}

/* Fills p with the pair of line s[0..n); an unusable line gets nlen 0. */
static void line_pair(struct pair *p, const char *s, size_t n)
{
    const char *semi = memchr(s, ';', n), *eq;

    n = semi ? (size_t)(semi - s) : n;
    eq = memchr(s, '=', n);
    p->nlen = 0;
    if (!eq)
        return;
    p->name = s;
    p->nlen = (size_t)(eq - s);
    p->value = eq + 1;
    p->vlen = n - p->nlen - 1;
    trim(&p->name, &p->nlen);
    trim(&p->value, &p->vlen);
}

/* Whether the header item s[0..n) ("name=value") is the pair of some line. */
static int item_known(const struct pair *pairs, size_t npairs, const char *s, size_t n)
{
    const char *eq = memchr(s, '=', n);
    size_t nlen, i;

    if (!eq)
        return 0;
    nlen = (size_t)(eq - s);
    for (i = 0; i < npairs; i++) {
        const struct pair *p = &pairs[i];

        if (p->nlen && p->nlen == nlen && p->vlen == n - nlen - 1 &&
            memcmp(p->name, s, nlen) == 0 && memcmp(p->value, eq + 1, p->vlen) == 0)
            return 1;
    }
    return 0;
}

/* Checks one header (the whole value, len bytes) item by item; returns the items. */
static size_t check_items(const struct pair *pairs, size_t npairs, const char *h,
                          size_t len)
{
    const char *end = h + len, *semi;
    size_t items = 0;

    while (h < end) {
        semi = memchr(h, ';', (size_t)(end - h));
        if (!semi)
            semi = end;
        FUZZ_CHECK(item_known(pairs, npairs, h, (size_t)(semi - h)));
        items++;
        if (semi == end)
            break;
        FUZZ_CHECK(semi + 2 < end && semi[1] == ' ');
        h = semi + 2;
    }
    return items;
}

/* Asks for one header three ways (no buffer, exact, small) and checks them. */
static void check_header(struct cookie_jar *j, const struct pair *pairs, size_t npairs,
                         const char *host, const char *path, int secure, time_t now)
{
    size_t len = cookie_jar_header(j, host, path, secure, now, NULL, 0);
    char *full = malloc(len + 1), small[FUZZ_SMALL];

    FUZZ_CHECK(full != NULL);
    FUZZ_CHECK(cookie_jar_header(j, host, path, secure, now, full, len + 1) == len);
    FUZZ_CHECK(strlen(full) == len);
    FUZZ_CHECK(strpbrk(full, "\r\n") == NULL);
    FUZZ_CHECK(cookie_jar_header(j, host, path, secure, now, small, sizeof(small)) ==
               len);
    FUZZ_CHECK(strlen(small) == (len < sizeof(small) ? len : sizeof(small) - 1));
    FUZZ_CHECK(strncmp(small, full, sizeof(small) - 1) == 0);
    FUZZ_CHECK(check_items(pairs, npairs, full, len) <= cookie_jar_count(j));
    free(full);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data, *end = s + size, *nl;
    struct pair *pairs = calloc(size + 1, sizeof(*pairs));
    struct cookie_jar *j = cookie_jar_new();
    size_t n = 0, o, p;

    FUZZ_CHECK(pairs != NULL && j != NULL);
    for (;;) {
        nl = memchr(s, '\n', (size_t)(end - s));
        if (!nl)
            nl = end;
        line_pair(&pairs[n], s, (size_t)(nl - s));
        o = n % (sizeof(origins) / sizeof(origins[0]));
        int r = cookie_jar_set(j, origins[o].host, origins[o].path, origins[o].secure, s,
                               (size_t)(nl - s), FUZZ_T0 + (time_t)n);
        FUZZ_CHECK(r == 0 || r == 1);
        FUZZ_CHECK(cookie_jar_count(j) <= FUZZ_MAX);
        n++;
        if (nl == end)
            break;
        s = nl + 1;
    }
    for (o = 0; o < sizeof(origins) / sizeof(origins[0]); o++)
        for (p = 0; p < sizeof(paths) / sizeof(paths[0]); p++)
            check_header(j, pairs, n, origins[o].host, paths[p], origins[o].secure,
                         FUZZ_T0 + (time_t)n);
    cookie_jar_free(j);
    free(pairs);
    return 0;
}
