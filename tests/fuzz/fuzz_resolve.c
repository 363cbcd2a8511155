/*
 * http/url.c's resolution: url_join (a test's URL against --server-url,
 * for HTTP and web sockets), url_resolve (a redirect's Location against
 * the URL it answered), url_key and url_show.  The input is "BASE\nURL";
 * without a newline it is a URL with no base.
 */
#include <ctype.h>
#include <strings.h>

#include "http/url.h"
#include "tests/fuzz/fuzz.h"

/* Whether s starts with one of the schemes kind may use, "://" after it. */
static int allowed(const char *s, enum url_kind kind)
{
    return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0 ||
           (kind == URL_WS && (strncmp(s, "ws://", 5) == 0 || strncmp(s, "wss://", 6) == 0));
}

/* Whether url starts with a scheme (a letter, then letters, digits, +-.) and "://". */
static const char *after_scheme(const char *url)
{
    const char *sep = strstr(url, "://");

    if (!sep || sep == url || !isalpha((unsigned char)url[0]))
        return NULL;
    for (const char *p = url; p < sep; p++)
        if (!isalnum((unsigned char)*p) && !strchr("+-.", *p))
            return NULL;
    return sep + 3;
}

/* A password never shows: what url_key and url_show write has no "user:pw@". */
static void check_shown(const char *url)
{
    char key[200], shown[400];
    const char *auth, *at;
    size_t alen;

    url_key(key, sizeof(key), "GET", url);
    FUZZ_CHECK(strncmp(key, "GET ", 4) == 0);
    FUZZ_CHECK(strlen(key) < sizeof(key));
    FUZZ_CHECK(strcspn(key, "?#") == strlen(key));
    url_show(shown, sizeof(shown), url);
    if (!after_scheme(url) || !(auth = after_scheme(shown)))
        return;
    alen = strcspn(auth, "/?#");
    at = memrchr(auth, '@', alen);
    FUZZ_CHECK(!at || !memchr(auth, ':', (size_t)(at - auth)));
}

/* Whether s has no control character and no space. */
static int clean(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || *s == 0x7f)
            return 0;
    return 1;
}

/* Dot segments never survive a resolution. */
static void check_no_dots(const char *url)
{
    const char *p = strstr(url, "://") + 3;
    size_t plen;

    p += strcspn(p, "/?#");
    plen = strcspn(p, "?#");
    for (size_t i = 0; i < plen; i++) {
        if (p[i] != '/')
            continue;
        if (i + 2 <= plen && p[i + 1] == '.' && (i + 2 == plen || p[i + 2] == '/'))
            FUZZ_CHECK(0);
        if (i + 3 <= plen && p[i + 1] == '.' && p[i + 2] == '.' &&
            (i + 3 == plen || p[i + 3] == '/'))
            FUZZ_CHECK(0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size), *nl = strchr(s, '\n');
    const char *base = "", *url = s, *why = NULL;
    struct url_parts u;
    char *out;

    if (nl) {
        *nl = '\0';
        base = s;
        url = nl + 1;
    }
    for (int kind = URL_HTTP; kind <= URL_WS; kind++) {
        out = url_join(base, url, (enum url_kind)kind, &why);
        FUZZ_CHECK(out || why);
        if (out) {
            FUZZ_CHECK(allowed(out, (enum url_kind)kind));
            check_shown(out);
        }
        free(out);
    }
    /* A redirect: base must be an absolute http(s) URL to begin with. */
    if (url_parse(base, &u) == 0 && allowed(base, URL_HTTP)) {
        out = url_resolve(base, url, &why);
        FUZZ_CHECK(out || why);
        if (out) {
            char *again;

            FUZZ_CHECK(allowed(out, URL_HTTP));
            FUZZ_CHECK(url_parse(out, &u) == 0);
            FUZZ_CHECK(!strchr(out, '#'));
            check_no_dots(out);
            check_shown(out);
            /* The result is absolute and final: resolving it again keeps it
             * (when it has no blank or control character from base, which
             * a Location may not have). */
            again = url_resolve(base, out, &why);
            if (clean(out))
                FUZZ_CHECK(again && strcmp(again, out) == 0);
            free(again);
        }
        free(out);
    }
    check_shown(url);
    free(s);
    return 0;
}
