/*
 * URLs, the one place that resolves them: a test's URL against
 * --server-url (for HTTP and for web sockets), a redirect's Location
 * against the URL it answered, the parts a request needs, and the forms
 * a person reads (the URL table's key, messages) without a password.
 * Plain string work, no I/O, so it can be fuzzed.
 *
 * Only http, https, ws and wss are ever resolved: any other scheme is
 * refused here, so that no client is ever handed one.
 */
#ifndef LOADS_HTTP_URL_H
#define LOADS_HTTP_URL_H

#include <stddef.h>

enum url_kind {
    URL_HTTP, /* http:// and https:// */
    URL_WS,   /* ws:// and wss://; http(s) URLs and bases mean ws(s) */
};

/*
 * The absolute URL of a test's request: url itself when it has a scheme
 * ("scheme://..."), else url appended to base (--server-url, "" when none)
 * without base's trailing slashes and with one slash between.  Returns a
 * string the caller frees, or NULL with *why set (a static string):
 * "unsupported protocol", "relative URL and no --server-url",
 * "--server-url is not an http:// or https:// URL", "out of memory".
 */
char *url_join(const char *base, const char *url, enum url_kind kind, const char **why);

/*
 * Resolves ref, the Location of a redirect, against base, the absolute
 * http(s) URL that answered, as RFC 3986 section 5.2 says: dot segments
 * removed, the fragment dropped.  Returns a string the caller frees, or
 * NULL with *why: "unsupported protocol" (a scheme other than http or
 * https), "bad Location" (a control character or a space, a malformed
 * authority), "out of memory".
 */
char *url_resolve(const char *base, const char *ref, const char **why);

/*
 * Writes "METHOD url" into key, the URL without its password, query
 * string or fragment: one row of the URL table per resource.
 */
void url_key(char *key, size_t len, const char *method, const char *url);

/* Writes url without its password (user:pw@ becomes user@), for messages. */
void url_show(char *out, size_t len, const char *url);

/*
 * Percent-encodes in (RFC 3986): every byte but the unreserved letters,
 * digits and "-._~" becomes %XX (upper-case hex), a blank too, so that the
 * result is safe in a path segment, a query or a form body.  Writes out
 * as snprintf does (truncated to cap, NUL-terminated when cap > 0) and
 * returns the whole length.
 */
size_t url_encode(char *out, size_t cap, const char *in);

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
int url_parse(const char *url, struct url_parts *u);

#endif
