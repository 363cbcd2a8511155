/*
 * URLs of requests: resolution against --server-url and per-URL keys.
 */
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
