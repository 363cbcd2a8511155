/*
 * HTTP, the middle layer of the worker: what the API (worker/api_http.c)
 * uses to send one exchange ("hop") of a request and keep its response.
 *
 *   - the built-in HTTP/1.1 client (conn.c): http:// and https:// on a VU's
 *     own keep-alive connections, OpenSSL for TLS, name lookup, the
 *     incremental parser of h1.c;
 *   - the libcurl glue (curl.c): requests through a proxy and URLs curl
 *     must rewrite;
 *   - response storage (response.c), which both fill.
 *
 * Each transport keeps its state in its own file: one object per worker
 * (its loop, buffers, caches) and one opaque session per VU.  A transport
 * suspends the VU through its one wait (base/vu.h) and returns 0 or a
 * negative errno: -ETIMEDOUT when the hop's deadline passed, -ECANCELED
 * when the VU was cancelled, anything else with a message for a person in
 * err.  It never ends a run and never touches shared memory: turning an
 * error into an outcome, and counting, is the API's.
 */
#ifndef LOADS_HTTP_HTTP_H
#define LOADS_HTTP_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "http/url.h"

struct vu;
struct loads_response;

/* One exchange of a request (each redirect is another). */
struct http_hop {
    const char *method;
    const char *url;              /* absolute */
    const struct url_parts *u;    /* its parts */
    const char *const *headers;   /* the user's, NULL-terminated; may be NULL */
    int has_body;
    const void *body;
    size_t body_len;
    const char *cookie;           /* the Cookie header's value, or NULL */
    int64_t deadline_us;          /* CLOCK_MONOTONIC end of the whole request */
};

/* ---- responses (response.c) ---- */

/*
 * An empty response that keeps at most max_body body bytes (the rest is
 * received and counted, not stored).  NULL when memory ran out.
 */
struct loads_response *response_create(size_t max_body);

/* Frees r and every response after it in its list.  Safe on NULL. */
void response_free_list(struct loads_response *r);

/* Puts r at the head of *list: the run's responses, freed together. */
void response_link(struct loads_response *r, struct loads_response **list);

/*
 * Ties p (malloc'd) to r: it is freed with r.  Returns 0, or -ENOMEM
 * having freed p.
 */
int response_own(struct loads_response *r, void *p);

/* Starts another hop: forgets the previous one's headers and body. */
void response_begin_hop(struct loads_response *r);

/*
 * A header line of the hop's final response, without its line end or
 * with it; a status line starts the block anew.  Returns 0 or -ENOMEM.
 * Lines past 256 KiB of headers are dropped.
 */
int response_keep_header(struct loads_response *r, const char *line, size_t len);

/* Body bytes of the hop's response.  Returns 0 or -ENOMEM. */
int response_keep_body(struct loads_response *r, const char *data, size_t len);

/*
 * The hop's header lines, each NUL-terminated, the block ending with an
 * empty string; NULL when none came.
 */
const char *response_headers(const struct loads_response *r);

/* Whether the hop's response has a Set-Cookie header. */
int response_sets_cookies(const struct loads_response *r);

/* Body bytes received since the last call (kept or not), for counting. */
uint64_t response_take_bytes(struct loads_response *r);

/* The request is over: its last status and its time, in seconds. */
void response_finish(struct loads_response *r, int status, double elapsed);

/* ---- the built-in HTTP/1.1 client (conn.c) ---- */

struct h1_client;
struct h1_conn;

/*
 * The worker's client on loop.  insecure: any server certificate is
 * accepted (-k); else it must be trusted and name the host.  NULL when
 * memory ran out.
 */
struct h1_client *h1_client_create(uv_loop_t *loop, int insecure);
void h1_client_destroy(struct h1_client *c);

/*
 * One hop on one of the VU's connections (*conns, its list, NULL at
 * first): connects if needed, sends, receives into r.  A reused
 * connection that the server had closed is replaced once, as curl does.
 * Returns 0 with *status, or a negative errno (see the top).
 */
int h1_hop(struct h1_client *c, struct vu *vu, struct h1_conn **conns,
           const struct http_hop *h, struct loads_response *r, int *status, char *err,
           size_t errlen);

/* Closes every connection of a VU. */
void h1_close_all(struct h1_conn **conns);

/* ---- libcurl (curl.c) ---- */

struct curl_glue;
struct curl_session;

/*
 * The worker's libcurl multi handle on loop.  proxy: a proxy variable is
 * set, so curl must look them up; insecure: as for h1_client_create.
 * NULL when memory ran out.
 */
struct curl_glue *curl_glue_create(uv_loop_t *loop, int proxy, int insecure);
void curl_glue_destroy(struct curl_glue *g);

/*
 * One hop through curl on the VU's session (*s, made on the first hop),
 * into r.  Returns 0 with *status, or a negative errno (see the top).
 */
int curl_glue_hop(struct curl_glue *g, struct vu *vu, struct curl_session **s,
                  const struct http_hop *h, struct loads_response *r, int *status,
                  char *err, size_t errlen);

/* Frees a VU's session.  Safe on NULL. */
void curl_session_free(struct curl_session *s);

#endif
