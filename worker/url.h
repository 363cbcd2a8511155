/*
 * URLs of requests: resolving them against --server-url, and the key of
 * the per-URL table.  Plain string work, kept apart so it can be fuzzed.
 */
#ifndef LOADS_WORKER_URL_H
#define LOADS_WORKER_URL_H

#include <stddef.h>

/*
 * Resolves url against base (--server-url, "" when none): an absolute
 * http(s) URL is kept, "/x" and "x" are appended to base without its
 * trailing slashes.  Returns a string the caller frees, or NULL when a
 * relative URL has no base or memory ran out.
 */
char *worker_url_resolve(const char *base, const char *url);

/* Writes "METHOD url" without the query string or fragment into key. */
void worker_url_key(char *key, size_t len, const char *method, const char *url);

#endif

/* The parts of an absolute http(s) or ws(s) URL that a request needs. */
struct url_parts {
    int https;              /* the scheme is https or wss */
    int simple;             /* http(s) with nothing for curl to rewrite: the
                               built-in HTTP/1.1 client can send it */
    unsigned port;          /* explicit or the scheme's default */
    char host[256];         /* lower case, an IPv6 address without brackets */
    const char *authority;  /* host[:port] as in the URL, for the Host header */
    size_t authority_len;
    const char *target;     /* path and query, no fragment; "" means "/" */
    size_t target_len;
    size_t path_len;        /* of target, up to the query */
};

/*
 * Splits url into u (pointers into url).  Returns 0, or -1 when url is not
 * an http(s) or ws(s) URL with a host that fits and a valid port.
 */
int worker_url_parse(const char *url, struct url_parts *u);
