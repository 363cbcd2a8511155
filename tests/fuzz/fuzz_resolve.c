/*
 * worker_url_resolve and worker_url_key: a request's URL against
 * --server-url.  The input is "BASE\nURL"; without a newline it is a URL
 * with no base.
 */
#include <strings.h>

#include "tests/fuzz/fuzz.h"
#include "worker/url.h"

static int absolute(const char *s)
{
    return strncasecmp(s, "http://", 7) == 0 || strncasecmp(s, "https://", 8) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size), *nl = strchr(s, '\n');
    const char *base = "", *url = s;
    char key[200], *out;
    size_t blen;

    if (nl) {
        *nl = '\0';
        base = s;
        url = nl + 1;
    }
    out = worker_url_resolve(base, url);
    if (absolute(url)) {
        FUZZ_CHECK(out && strcmp(out, url) == 0);
    } else if (!base[0]) {
        FUZZ_CHECK(out == NULL);
    } else {
        /* base without its trailing slashes, one slash, then url's path. */
        blen = strlen(base);
        while (blen && base[blen - 1] == '/')
            blen--;
        FUZZ_CHECK(out && strncmp(out, base, blen) == 0);
        FUZZ_CHECK(out[blen] == '/');
        FUZZ_CHECK(strcmp(out + blen + (url[0] == '/' ? 0 : 1), url) == 0);
    }
    if (out) {
        worker_url_key(key, sizeof(key), "GET", out);
        FUZZ_CHECK(strncmp(key, "GET ", 4) == 0);
        FUZZ_CHECK(strpbrk(key, "?#") == NULL);
        FUZZ_CHECK(strlen(key) < sizeof(key));
        FUZZ_CHECK(strncmp(key + 4, out, strlen(key) - 4) == 0);
    }
    free(out);
    free(s);
    return 0;
}
