/*
 * HTTP for the test: loads_request and its friends, the redirects and
 * cookies of a request, and the choice of transport for each hop (the
 * built-in HTTP/1.1 client, or libcurl for proxies and URLs it must
 * rewrite).  Here a transport's error becomes the run's Error, and each
 * request is counted.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/vu.h"
#include "http/cookie.h"
#include "http/http.h"
#include "http/url.h"
#include "worker/internal.h"

#define REDIRECTS_MAX 30 /* as curl's default for the tool */

int api_http_init(struct worker *w)
{
    static const char *const proxy_vars[] = {"http_proxy", "HTTP_PROXY", "https_proxy",
                                              "HTTPS_PROXY", "all_proxy", "ALL_PROXY"};

    for (size_t i = 0; i < sizeof(proxy_vars) / sizeof(proxy_vars[0]); i++)
        w->proxy |= getenv(proxy_vars[i]) != NULL;
    /* A proxy is curl's to use.  LOADS_HTTP=curl: every request through
     * curl, to compare the two clients. */
    w->curl_only = w->proxy ||
                   (getenv("LOADS_HTTP") && strcmp(getenv("LOADS_HTTP"), "curl") == 0);
    w->h1 = h1_client_create(&w->loop, w->plan->insecure);
    return w->h1 ? 0 : -ENOMEM;
}

/* The run is over: its responses go. */
void api_http_end_run(struct loads_test *t)
{
    response_free_list(t->responses);
    t->responses = NULL;
}

/* The VU's session, at the end of the worker. */
void api_http_vu_close(struct loads_test *t)
{
    api_http_end_run(t);
    h1_close_all(&t->conns);
    curl_session_free(t->curl);
    cookie_jar_free(t->jar);
    t->curl = NULL;
    t->jar = NULL;
}

void api_http_close(struct worker *w)
{
    curl_glue_destroy(w->curl);
    h1_client_destroy(w->h1);
    buf_free(&w->cookie);
    w->curl = NULL;
    w->h1 = NULL;
}

/* ---------------------------------------------------------------- cookies */

/* The request's path for the jar ("/" when empty), into path. */
static void cookie_path(const struct url_parts *u, char *path, size_t len)
{
    snprintf(path, len, "%.*s", (int)u->path_len, u->path_len ? u->target : "/");
}

/* Puts the Set-Cookie headers of the hop's response into the VU's jar. */
static void store_cookies(struct loads_test *t, const struct loads_response *r,
                          const struct url_parts *u)
{
    const char *headers = response_headers(r);
    char path[1024];
    time_t now = time(NULL);

    if (!headers || (!t->jar && !(t->jar = cookie_jar_new())))
        return;
    cookie_path(u, path, sizeof(path));
    for (const char *p = headers; *p; p += strlen(p) + 1) {
        const char *v;

        if (strncasecmp(p, "Set-Cookie:", 11) != 0)
            continue;
        for (v = p + 11; *v == ' ' || *v == '\t'; v++)
            ;
        cookie_jar_set(t->jar, u->host, path, u->https, v, strlen(v), now);
    }
}

/* The Cookie header's value for a request to u from the VU's jar, or NULL. */
static const char *jar_cookies(struct loads_test *t, const struct url_parts *u)
{
    struct buf *b = &t->w->cookie;
    char path[1024];
    time_t now;
    size_t n;

    if (!t->jar || !cookie_jar_count(t->jar))
        return NULL;
    now = time(NULL);
    cookie_path(u, path, sizeof(path));
    n = cookie_jar_header(t->jar, u->host, path, u->https, now, b->data, b->cap);
    if (n && n >= b->cap) {
        buf_clear(b);
        if (buf_reserve(b, n) < 0)
            return NULL;
        n = cookie_jar_header(t->jar, u->host, path, u->https, now, b->data, b->cap);
    }
    return n ? b->data : NULL;
}

/*
 * The parts of url (relative to --server-url; NULL: "/"), for the jar
 * calls of the API; the joined URL is kept with the run.
 */
static void jar_origin(struct loads_test *t, const char *fn, const char *url,
                       struct url_parts *u)
{
    const char *why;
    char *full = url_join(t->w->plan->server_url, url ? url : "/", URL_HTTP, &why);

    if (!full)
        run_stop(t, OUTCOME_ERROR, "%s: cannot use %.100s: %s", fn, url ? url : "/", why);
    api_keep(t, full);
    if (url_parse(full, u) < 0)
        run_stop(t, OUTCOME_ERROR, "%s: cannot use %.100s: not an http(s) URL", fn,
                 url ? url : "/");
}

const char *loads_cookie(loads_test *t, const char *url, const char *name)
{
    struct url_parts u;
    char path[1024];
    const char *v;

    if (!name)
        run_stop(t, OUTCOME_ERROR, "loads_cookie: no cookie name (NULL)");
    jar_origin(t, "loads_cookie", url, &u);
    cookie_path(&u, path, sizeof(path));
    v = cookie_jar_get(t->jar, u.host, path, u.https, time(NULL), name);
    return v ? api_keep(t, strdup(v)) : NULL;
}

void loads_set_cookie(loads_test *t, const char *url, const char *set_cookie)
{
    struct url_parts u;
    char path[1024];
    int rc;

    if (!set_cookie)
        run_stop(t, OUTCOME_ERROR, "loads_set_cookie: no cookie (NULL)");
    jar_origin(t, "loads_set_cookie", url, &u);
    cookie_path(&u, path, sizeof(path));
    if (!t->jar && !(t->jar = cookie_jar_new()))
        run_stop(t, OUTCOME_ERROR, "out of memory");
    rc = cookie_jar_set(t->jar, u.host, path, u.https, set_cookie, strlen(set_cookie),
                        time(NULL));
    if (rc < 0)
        run_stop(t, OUTCOME_ERROR, "out of memory");
    if (rc > 0)
        run_stop(t, OUTCOME_ERROR, "loads_set_cookie: '%.100s' refused for %s (RFC 6265: "
                 "a bad name or value, a Secure cookie over http, a Domain it cannot set)",
                 set_cookie, u.host);
}

/* -------------------------------------------------------------- redirects */

/*
 * Where a redirect leads, as curl does by default: 301 and 302 turn a POST
 * into a GET, 303 turns anything but HEAD into a GET (both without the
 * body); 307 and 308 keep the method and the body.  Returns the next URL,
 * or NULL (the response is the last) with *why set when it cannot follow.
 */
static char *next_hop(const struct loads_response *r, struct http_hop *h, int status,
                      char *why, size_t whylen)
{
    const char *loc, *what;
    char *next;

    why[0] = '\0';
    if (status != 301 && status != 302 && status != 303 && status != 307 && status != 308)
        return NULL;
    loc = loads_header(r, "Location");
    if (!loc || !loc[0])
        return NULL;
    next = url_resolve(h->url, loc, &what);
    if (!next) {
        char shown[SHM_MSG_LEN / 2];

        url_show(shown, sizeof(shown), loc);
        if (strcmp(what, "unsupported protocol") == 0)
            snprintf(why, whylen, "unsupported protocol in redirect to %s", shown);
        else
            snprintf(why, whylen, "cannot follow the redirect: %s", what);
        return NULL;
    }
    if ((status == 303 && strcmp(h->method, "HEAD") != 0) ||
        ((status == 301 || status == 302) && strcmp(h->method, "POST") == 0)) {
        h->method = "GET";
        h->has_body = 0;
    }
    return next;
}

/* Whether next is on another server than u (another host or port). */
static int other_server(const struct url_parts *u, const char *next)
{
    struct url_parts nu;

    return url_parse(next, &nu) < 0 || nu.port != u->port || strcmp(nu.host, u->host) != 0;
}

/*
 * The user's headers without Authorization and Cookie, for a redirect to
 * another server (as curl does), kept with r so that they live as long as
 * the request.  NULL when memory ran out.
 */
static const char *const *drop_private(struct loads_response *r, const char *const *headers)
{
    size_t n = 0, k = 0;
    const char **kept;

    while (headers[n])
        n++;
    kept = calloc(n + 1, sizeof(*kept));
    if (!kept || response_own(r, kept) < 0)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        size_t len = strcspn(headers[i], ":;");

        if (!((len == 13 && strncasecmp(headers[i], "Authorization", 13) == 0) ||
              (len == 6 && strncasecmp(headers[i], "Cookie", 6) == 0)))
            kept[k++] = headers[i];
    }
    return kept;
}

/* ---------------------------------------------------------------- requests */

/*
 * Ends the run of a request that got no (last) response: an Error with why,
 * counted on row; or, when the run was cut (rc -ECANCELED), Interrupted.
 * The message names the request by its name when it has one (so that the
 * messages of /api/items/17 and /api/items/18 are one), else by method and
 * URL.
 */
static void stop_request(struct loads_test *t, uint32_t row, int rc, const char *method,
                         const char *url, const char *name, const char *why)
    __attribute__((noreturn));

static void stop_request(struct loads_test *t, uint32_t row, int rc, const char *method,
                         const char *url, const char *name, const char *why)
{
    char shown[SHM_MSG_LEN];

    if (name)
        snprintf(shown, sizeof(shown), "%s", name);
    else {
        int n = snprintf(shown, sizeof(shown), "%s ", method);

        url_show(shown + n, sizeof(shown) - (size_t)n, url);
    }
    if (rc == -ECANCELED)
        run_stop(t, OUTCOME_INTERRUPTED, "%s: cut by the end of the run", shown);
    record_http_error(t->w->rec, row);
    run_stop(t, OUTCOME_ERROR, "%s: %s", shown, why);
}

/* Sends one hop with the transport that can take it.  Returns as they do. */
static int send_hop(struct loads_test *t, const struct http_hop *h, int parsed,
                    struct loads_response *r, int *status, char *err, size_t errlen)
{
    struct worker *w = t->w;

    if (parsed && h->u->simple && !w->curl_only)
        return h1_hop(w->h1, t->vu, &t->conns, h, r, status, err, errlen);
    if (!w->curl && !(w->curl = curl_glue_create(&w->loop, w->proxy, w->plan->insecure))) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    return curl_glue_hop(w->curl, t->vu, &t->curl, h, r, status, err, errlen);
}

/* Words a transport's error for the run's message. */
static void hop_error(const struct loads_req *o, double timeout, int rc, char *err,
                      size_t errlen)
{
    if (rc == -ETIMEDOUT && o && o->timeout > 0)
        snprintf(err, errlen, "Operation timed out (the request's timeout, %gs)", timeout);
    else if (rc == -ETIMEDOUT)
        snprintf(err, errlen, "Operation timed out (--timeout %gs)", timeout);
    else if (!err[0])
        snprintf(err, errlen, "%s", strerror(-rc));
}

/* Whether status is one of expect (see struct loads_req); NULL: below 400. */
static int status_expected(const int *expect, int status)
{
    if (!expect)
        return status > 0 && status < 400;
    for (; *expect; expect++)
        if (*expect == status || (*expect >= 1 && *expect <= 5 && status / 100 == *expect))
            return 1;
    return 0;
}

/* "200, 201 or 2xx", or "below 400": the statuses expected, for a message. */
static void expected_text(const int *expect, char *out, size_t len)
{
    size_t used = 0;
    int n = 0;

    if (!expect || !*expect) {
        snprintf(out, len, "%s", expect ? "none" : "below 400");
        return;
    }
    while (expect[n])
        n++;
    out[0] = '\0';
    for (int i = 0; i < n && used < len; i++) {
        const char *sep = i == 0 ? "" : i == n - 1 ? " or " : ", ";

        used += (size_t)snprintf(out + used, len - used, expect[i] <= 5 ? "%s%dxx" : "%s%d",
                                 sep, expect[i]);
    }
}

/*
 * Sends a request and follows its redirects.  Each hop is a hit on its own
 * URL's row, with its own response time, as the server logs it (on the
 * name's row, every one, for a named request); the response's elapsed
 * time is the whole request's.  A redirect that is followed counts as OK;
 * the last response, as the request's options expect.
 */
loads_response *loads_send(loads_test *t, const char *method, const char *url,
                           const struct loads_req *o)
{
    static const struct loads_req defaults;
    struct worker *w = t->w;
    struct loads_response *r;
    char key[SHM_URL_LEN], err[SHM_MSG_LEN];
    struct http_hop h = {0};
    int64_t start, sent, now;
    uint64_t hops = 0;
    const char *why;
    char *full;
    double timeout;
    uint32_t row = 0;
    int status = 0, ok;

    if (!o)
        o = &defaults;
    if (!method || !url)
        run_stop(t, OUTCOME_ERROR, "loads_request: no %s (NULL)", method ? "URL" : "method");
    if (o->body_len && !o->body)
        run_stop(t, OUTCOME_ERROR, "loads_send: body_len %zu and no body (NULL)",
                 o->body_len);
    timeout = o->timeout > 0 ? o->timeout : w->plan->timeout;
    r = response_create(w->plan->max_body);
    if (!r)
        run_stop(t, OUTCOME_ERROR, "out of memory");
    response_link(r, &t->responses);
    full = url_join(w->plan->server_url, url, URL_HTTP, &why);
    if (!full || response_own(r, full) < 0) {
        url_show(err, sizeof(err), url);
        run_stop(t, OUTCOME_ERROR, "cannot request %s: %s", err, full ? "out of memory" : why);
    }
    if (o->name)
        row = record_url(w->rec, o->name);
    start = sent = shm_mono_us();
    h.method = method;
    h.url = full;
    h.headers = o->headers;
    h.has_body = strcmp(method, "HEAD") != 0 && (o->body || strcmp(method, "POST") == 0);
    h.body = o->body;
    h.body_len = o->body_len;
    h.deadline_us = start + (int64_t)(timeout * 1e6);
    for (;;) {
        struct url_parts u;
        int parsed = url_parse(h.url, &u) == 0, rc;
        char *next;

        if (!o->name) {
            url_key(key, sizeof(key), h.method, h.url);
            row = record_url(w->rec, key);
        }
        h.u = &u;
        h.cookie = parsed ? jar_cookies(t, &u) : NULL;
        status = 0;
        err[0] = '\0';
        rc = send_hop(t, &h, parsed, r, &status, err, sizeof(err));
        now = shm_mono_us();
        record_bytes(w->rec, response_take_bytes(r));
        if (rc < 0) {
            hop_error(o, timeout, rc, err, sizeof(err));
            stop_request(t, row, rc, method, full, o->name, err);
        }
        if (parsed && response_sets_cookies(r))
            store_cookies(t, r, &u);
        next = next_hop(r, &h, status, err, sizeof(err));
        record_response(w->rec, row, next || status_expected(o->expect, status), now - sent,
                        t->late_us);
        sent = now;
        hops++;
        if (!next && err[0])
            stop_request(t, row, -EINVAL, method, full, o->name, err);
        if (!next)
            break;
        if (response_own(r, next) < 0)
            stop_request(t, row, -ENOMEM, method, full, o->name, "out of memory");
        if (hops > REDIRECTS_MAX) {
            snprintf(err, sizeof(err), "Maximum (%d) redirects followed", REDIRECTS_MAX);
            stop_request(t, row, -ELOOP, method, full, o->name, err);
        }
        if (parsed && h.headers == o->headers && h.headers && other_server(&u, next) &&
            !(h.headers = drop_private(r, o->headers)))
            stop_request(t, row, -ENOMEM, method, full, o->name, "out of memory");
        h.url = next;
    }
    response_finish(r, status, (double)(now - start) / 1e6);
    ok = status_expected(o->expect, status);
    if (!ok && o->fail) {
        char shown[SHM_MSG_LEN / 2], want[64];

        url_show(shown, sizeof(shown), url);
        expected_text(o->expect, want, sizeof(want));
        if (o->name)
            run_stop(t, OUTCOME_FAILURE, "%s: status %d, expected %s", o->name, status, want);
        run_stop(t, OUTCOME_FAILURE, "%s %s: status %d, expected %s", method, shown, status,
                 want);
    }
    return r;
}

loads_response *loads_request(loads_test *t, const char *method, const char *url,
                              const char *const *headers, const void *body,
                              size_t body_len)
{
    struct loads_req o = {.headers = headers, .body = body, .body_len = body_len};

    return loads_send(t, method, url, &o);
}

loads_response *loads_get(loads_test *t, const char *url)
{
    return loads_request(t, "GET", url, NULL, NULL, 0);
}

loads_response *loads_post(loads_test *t, const char *url, const char *content_type,
                           const void *body, size_t body_len)
{
    char ctype[256];
    const char *headers[2] = {ctype, NULL};

    snprintf(ctype, sizeof(ctype), "Content-Type: %s",
             content_type ? content_type : "application/x-www-form-urlencoded");
    return loads_request(t, "POST", url, headers, body ? body : "", body_len);
}
