/*
 * A VU's cookie jar, after RFC 6265 section 5: Set-Cookie values received
 * in responses go in, the Cookie header of each request comes out.  Ports
 * do not separate cookies (as in browsers and curl).  Plain string work,
 * no I/O, so it can be fuzzed.
 */
#ifndef LOADS_HTTP_COOKIE_H
#define LOADS_HTTP_COOKIE_H

#include <stddef.h>
#include <time.h>

struct cookie_jar;

/* An empty jar, or NULL when memory ran out. */
struct cookie_jar *cookie_jar_new(void);
void cookie_jar_free(struct cookie_jar *j);

/* Cookies in the jar (expired ones may still be counted until next use). */
size_t cookie_jar_count(const struct cookie_jar *j);

/*
 * Stores the cookie of one Set-Cookie header value (what follows
 * "Set-Cookie:" and its blanks, len bytes, not NUL-terminated), received in
 * the response to a request for host (lower case, no port; an IPv6 address
 * without brackets) and path (the request's path, "/" at least, without
 * the query; a '?' or '#' ends it anyway).  secure: the request went over
 * https.  now: seconds since the epoch.  Returns 0 when stored, or when it
 * came already expired (then it deleted its namesake, if any); 1 when the
 * value was ignored as the RFC says (or 6265bis: control characters, a
 * Secure cookie or one shadowing a Secure cookie from http, a broken
 * __Secure-/__Host- prefix); -1 when memory ran out.  A full jar (300
 * cookies) drops its expired cookies, then its oldest, for a new one.
 */
int cookie_jar_set(struct cookie_jar *j, const char *host, const char *path, int secure,
                   const char *value, size_t len, time_t now);

/*
 * Writes the value of the Cookie header for a request ("a=1; b=2", no
 * "Cookie:" prefix) into buf, NUL-terminated and truncated to cap as
 * snprintf does (buf may be NULL when cap is 0).  Returns the length of the
 * whole value (as snprintf), 0 when no cookie applies.  Expired cookies are
 * dropped from the jar here.  j may be NULL, as an empty jar; either costs
 * a test and a store.
 */
size_t cookie_jar_header(struct cookie_jar *j, const char *host, const char *path,
                         int secure, time_t now, char *buf, size_t cap);

/*
 * The value of the cookie called name that a request to host and path
 * (secure: over https) would send: the first of that name in the Cookie
 * header's order (longest path first).  NULL when none applies.  The value
 * points into the jar: valid until it next changes.
 */
const char *cookie_jar_get(const struct cookie_jar *j, const char *host, const char *path,
                           int secure, time_t now, const char *name);

#endif
