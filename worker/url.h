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
