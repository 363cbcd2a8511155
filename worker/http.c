/*
 * HTTP for the VUs: the request/response half of the public API, the
 * redirects and cookies of a request, and libcurl's multi_socket API on the
 * worker's libuv loop for what the built-in HTTP/1.1 client (conn.c) does
 * not send: requests through a proxy, URLs curl would rewrite.
 *
 * Each socket curl opens gets one uv_poll for its whole life.  Curl removes
 * and re-adds a keep-alive socket around every request; closing the watcher
 * each time would cost several epoll_ctl calls per request, so the watcher
 * stays armed across CURL_POLL_REMOVE and is only stopped if it fires while
 * curl is not using the socket.  It is freed when curl closes the socket.
 *
 * This file is the boundary where CURLcode becomes a message for a person.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "worker/cookie.h"
#include "worker/internal.h"
#include "worker/url.h"

#define HEADERS_MAX   (256 * 1024) /* header bytes kept per response */
#define REDIRECTS_MAX 30           /* as curl's default for the tool */

/* ---------------------------------------------------------------- sockets */

static struct worker_sock *sock_get(struct worker *w, int fd)
{
    return fd >= 0 && fd < w->nsocks ? w->socks[fd] : NULL;
}

/* Makes room in the fd-indexed table for fd.  Returns 0 or -ENOMEM. */
static int sock_table_grow(struct worker *w, int fd)
{
    struct worker_sock **t;
    int n = w->nsocks ? w->nsocks : 64;

    if (fd < w->nsocks)
        return 0;
    while (n <= fd)
        n *= 2;
    t = realloc(w->socks, (size_t)n * sizeof(struct worker_sock *));
    if (!t)
        return -ENOMEM;
    memset(t + w->nsocks, 0, (size_t)(n - w->nsocks) * sizeof(struct worker_sock *));
    w->socks = t;
    w->nsocks = n;
    return 0;
}

static struct worker_sock *sock_new(struct worker *w, int fd, int ours)
{
    struct worker_sock *s;

    if (sock_table_grow(w, fd) < 0)
        return NULL;
    s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    if (uv_poll_init_socket(&w->loop, &s->poll, fd) < 0) {
        free(s);
        return NULL;
    }
    s->poll.data = s;
    s->w = w;
    s->fd = fd;
    s->ours = ours;
    w->socks[fd] = s;
    return s;
}

static void on_sock_closed(uv_handle_t *h)
{
    free(h->data);
}

static void sock_free(struct worker_sock *s)
{
    s->w->socks[s->fd] = NULL;
    uv_close((uv_handle_t *)&s->poll, on_sock_closed);
}

/*
 * Hands every finished transfer back to its VU.  Called from loop
 * callbacks only, after curl has returned, so a resumed VU may start its
 * next request at once.
 */
static void check_done(struct worker *w)
{
    CURLMsg *msg;
    int left;

    while ((msg = curl_multi_info_read(w->multi, &left))) {
        struct loads_test *vu = NULL;

        if (msg->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&vu);
        vu->result = msg->data.result;
        curl_multi_remove_handle(w->multi, msg->easy_handle);
        if (vu->state == VU_WAIT_HTTP)
            vu_resume(vu);
    }
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    struct worker_sock *s = h->data;
    int flags = 0, running;

    if (!s->wanted) {
        /* Curl is not using the socket (idle keep-alive): stop watching. */
        uv_poll_stop(h);
        s->armed = 0;
        return;
    }
    if (status < 0) {
        /*
         * libuv reports POLLERR (a reset, say) as UV_EBADF with no events
         * and stops the watcher.  Let curl try what it wanted, so that its
         * recv or send meets the real error and says "Connection reset".
         */
        s->armed = 0;
        events = s->wanted;
    }
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    curl_multi_socket_action(s->w->multi, s->fd, flags, &running);
    check_done(s->w);
}

/* CURLMOPT_SOCKETFUNCTION: what curl wants to know of a socket now. */
static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp,
                          void *socketp)
{
    struct worker *w = userp;
    struct worker_sock *s = sock_get(w, fd);

    if (what == CURL_POLL_REMOVE) {
        if (!s)
            return 0;
        s->wanted = 0;
        if (!s->ours)
            sock_free(s); /* not ours: no close callback will come */
        return 0;
    }
    if (!s && !(s = sock_new(w, fd, 0)))
        return -1;
    s->wanted = (what & CURL_POLL_IN ? UV_READABLE : 0) |
                (what & CURL_POLL_OUT ? UV_WRITABLE : 0);
    if (s->wanted != s->armed) {
        uv_poll_start(&s->poll, s->wanted, on_poll);
        s->armed = s->wanted;
    }
    return 0;
}

static void on_curl_timeout(uv_timer_t *t)
{
    struct worker *w = t->data;
    int running;

    curl_multi_socket_action(w->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(w);
}

/* CURLMOPT_TIMERFUNCTION: curl's one timeout, as a uv timer. */
static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
    struct worker *w = userp;

    if (timeout_ms < 0)
        uv_timer_stop(&w->curl_timer);
    else
        uv_timer_start(&w->curl_timer, on_curl_timeout, (uint64_t)timeout_ms, 0);
    return 0;
}

/* CURLOPT_OPENSOCKETFUNCTION: opens the socket and its watcher together. */
static curl_socket_t on_open_socket(void *clientp, curlsocktype purpose,
                                    struct curl_sockaddr *addr)
{
    struct worker *w = clientp;
    int fd = socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);

    if (fd < 0)
        return CURL_SOCKET_BAD;
    if (!sock_new(w, fd, 1)) {
        close(fd);
        return CURL_SOCKET_BAD;
    }
    return fd;
}

/* CURLOPT_CLOSESOCKETFUNCTION: the socket's end frees its watcher. */
static int on_close_socket(void *clientp, curl_socket_t fd)
{
    struct worker *w = clientp;
    struct worker_sock *s = sock_get(w, fd);

    if (s)
        sock_free(s);
    return close(fd);
}

int worker_http_init(struct worker *w)
{
    static const char *const proxy_vars[] = {"http_proxy", "HTTP_PROXY", "https_proxy",
                                              "HTTPS_PROXY", "all_proxy", "ALL_PROXY"};

    for (size_t i = 0; i < sizeof(proxy_vars) / sizeof(proxy_vars[0]); i++)
        w->proxy |= getenv(proxy_vars[i]) != NULL;
    /* A proxy is curl's to use.  LOADS_HTTP=curl: every request through
     * curl, to compare the two clients. */
    w->curl_only = w->proxy ||
                   (getenv("LOADS_HTTP") && strcmp(getenv("LOADS_HTTP"), "curl") == 0);
    w->multi = curl_multi_init();
    if (!w->multi)
        return -ENOMEM;
    uv_timer_init(&w->loop, &w->curl_timer);
    w->curl_timer.data = w;
    curl_multi_setopt(w->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl_multi_setopt(w->multi, CURLMOPT_SOCKETDATA, w);
    curl_multi_setopt(w->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(w->multi, CURLMOPT_TIMERDATA, w);
    return 0;
}

void worker_http_close(struct worker *w)
{
    curl_multi_cleanup(w->multi);
    w->multi = NULL;
    worker_h1_close(w);
    free(w->cbuf);
    w->cbuf = NULL;
}

/* ------------------------------------------------------------- sessions */

static void set_session(struct loads_test *vu);

/*
 * A VU's curl handle and share (of connections only: the jar is ours),
 * made when it first needs them: most VUs never use curl.
 */
static int curl_vu_init(struct loads_test *vu)
{
    vu->share = curl_share_init();
    vu->easy = curl_easy_init();
    if (!vu->share || !vu->easy)
        return -ENOMEM;
    curl_share_setopt(vu->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    set_session(vu);
    return 0;
}

void worker_http_vu_close(struct loads_test *vu)
{
    worker_http_free_responses(vu);
    worker_h1_vu_close(vu);
    if (vu->easy)
        curl_easy_cleanup(vu->easy);
    if (vu->share)
        curl_share_cleanup(vu->share);
    cookie_jar_free(vu->jar);
    vu->easy = NULL;
    vu->share = NULL;
    vu->jar = NULL;
}

/*
 * A run stopped from outside: takes the VU's transfer out of curl's multi.
 * A request of the built-in client ends when the VU resumes and sees it is
 * aborted.
 */
void worker_http_abort(struct loads_test *vu)
{
    if (vu->easy)
        curl_multi_remove_handle(vu->w->multi, vu->easy);
}

void worker_http_free_responses(struct loads_test *vu)
{
    struct loads_response *r = vu->responses, *next;

    for (; r; r = next) {
        next = r->next;
        free(r->url);
        free(r->hop_url);
        free(r->hop_headers);
        free(r->body);
        free(r->headers);
        free(r);
    }
    vu->responses = NULL;
    vu->filling = NULL;
}

/* ------------------------------------------------------------- receiving */

/* Grows buf to hold need more bytes plus a NUL.  Returns 0 or -ENOMEM. */
static int buf_reserve(char **buf, size_t *cap, size_t len, size_t need)
{
    size_t n = *cap ? *cap : 1024;
    char *p;

    if (len + need + 1 <= *cap)
        return 0;
    while (n < len + need + 1)
        n *= 2;
    p = realloc(*buf, n);
    if (!p)
        return -ENOMEM;
    *buf = p;
    *cap = n;
    return 0;
}

/*
 * Keeps the body up to --max-body bytes; the rest is counted in the
 * statistics but not stored, so a huge body cannot exhaust memory.
 * Returns 0 or -ENOMEM.
 */
int worker_http_keep_body(struct loads_test *vu, const char *data, size_t len)
{
    struct loads_response *r = vu->filling;
    size_t keep = len;
    size_t max = vu->w->plan->max_body;

    shm_add(&vu->w->slot->c.bytes, len);
    if (r->body_len + keep > max)
        keep = max > r->body_len ? max - r->body_len : 0;
    if (keep) {
        if (buf_reserve(&r->body, &r->body_cap, r->body_len, keep) < 0)
            return -ENOMEM;
        memcpy(r->body + r->body_len, data, keep);
        r->body_len += keep;
        r->body[r->body_len] = '\0';
    }
    return 0;
}

/*
 * Keeps the header lines of the last response, each one stripped of its
 * line end and NUL-terminated, the block ending with an empty string, so
 * that loads_header can return values in place.  A status line starts a
 * new block.  Returns 0 or -ENOMEM.
 */
int worker_http_keep_header(struct loads_test *vu, const char *line, size_t len)
{
    struct loads_response *r = vu->filling;

    if (len >= 5 && memcmp(line, "HTTP/", 5) == 0) {
        r->headers_len = 0;
        r->set_cookie = 0;
    }
    if (len > 11 && (line[0] | 0x20) == 's' && strncasecmp(line, "Set-Cookie:", 11) == 0)
        r->set_cookie = 1; /* saves a scan of every response for cookies */
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    if (!len || r->headers_len + len > HEADERS_MAX)
        return 0;
    if (buf_reserve(&r->headers, &r->headers_cap, r->headers_len, len + 1) < 0)
        return -ENOMEM;
    memcpy(r->headers + r->headers_len, line, len);
    r->headers_len += len;
    r->headers[r->headers_len++] = '\0';
    r->headers[r->headers_len] = '\0';
    return 0;
}

static size_t on_body(char *data, size_t size, size_t n, void *userp)
{
    return worker_http_keep_body(userp, data, size * n) < 0 ? 0 : size * n;
}

static size_t on_header(char *data, size_t size, size_t n, void *userp)
{
    return worker_http_keep_header(userp, data, size * n) < 0 ? 0 : size * n;
}

/* --------------------------------------------------------------- requests */

/*
 * Sets the options that every request of a VU shares, once.  Curl looks up
 * the proxy variables of the environment on every transfer; when none is
 * set, saying so once saves that work on each request.  Redirects and
 * cookies are http.c's, for both clients.
 */
static void set_session(struct loads_test *vu)
{
    CURL *e = vu->easy;
    const struct worker_plan *p = vu->w->plan;

    if (!vu->w->proxy)
        curl_easy_setopt(e, CURLOPT_PROXY, "");
    /* As the curl tool and OpenSSL do: a CA bundle of the user's choice. */
    if (getenv("SSL_CERT_FILE"))
        curl_easy_setopt(e, CURLOPT_CAINFO, getenv("SSL_CERT_FILE"));
    curl_easy_setopt(e, CURLOPT_SHARE, vu->share);
    curl_easy_setopt(e, CURLOPT_PRIVATE, vu);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, vu->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, vu->w);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, on_close_socket);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, vu->w);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, vu);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, vu);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)(p->timeout * 1000));
    curl_easy_setopt(e, CURLOPT_USERAGENT, "loads/" LOADS_VERSION);
}

/* Sets what differs between requests on the VU's reused handle. */
static void set_request(struct loads_test *vu, const struct hop *h,
                        struct curl_slist *headers)
{
    CURL *e = vu->easy;
    int64_t left_ms = (h->deadline_us - shm_mono_us()) / 1000;

    curl_easy_setopt(e, CURLOPT_URL, h->url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(e, CURLOPT_COOKIE, h->cookie);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(left_ms > 0 ? left_ms : 1));
    curl_easy_setopt(e, CURLOPT_NOBODY, 0L);
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L); /* forgets a previous POST */
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, NULL);
    if (strcmp(h->method, "HEAD") == 0) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (h->has_body) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)h->body_len);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, h->body ? h->body : "");
        if (strcmp(h->method, "POST") != 0)
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, h->method);
    } else if (strcmp(h->method, "GET") != 0) {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, h->method);
    }
}

/* Removes the first " after N ms" or " after N milliseconds" from text. */
static void drop_elapsed(char *text)
{
    char *p = strstr(text, " after ");
    char *q;

    if (!p)
        return;
    q = p + 7;
    while (*q >= '0' && *q <= '9')
        q++;
    if (q == p + 7)
        return;
    if (strncmp(q, " ms", 3) == 0)
        q += 3;
    else if (strncmp(q, " milliseconds", 13) == 0)
        q += 13;
    else
        return;
    memmove(p, q, strlen(q) + 1);
}

/*
 * Describes a failed transfer in one line: curl's message, and the
 * system's reason when curl had one (curl 7.88 says "Couldn't connect to
 * server" where a person wants "Connection refused").  Figures that change
 * from one occurrence to the next (elapsed times, bytes so far) are left
 * out, so that the summary counts one message many times instead of
 * listing many messages once.
 */
static void transfer_error(struct loads_test *vu, char *out, size_t len)
{
    long oserr = 0;
    char text[CURL_ERROR_SIZE];

    if (vu->result == CURLE_OPERATION_TIMEDOUT) {
        snprintf(out, len, "Operation timed out (--timeout %gs)", vu->w->plan->timeout);
        return;
    }
    snprintf(text, sizeof(text), "%s",
             vu->errbuf[0] ? vu->errbuf : curl_easy_strerror(vu->result));
    drop_elapsed(text);
    curl_easy_getinfo(vu->easy, CURLINFO_OS_ERRNO, &oserr);
    if (oserr && !strstr(text, strerror((int)oserr)))
        snprintf(out, len, "%s (%s)", text, strerror((int)oserr));
    else
        snprintf(out, len, "%s", text);
}

/* The user's headers as curl's list. */
static struct curl_slist *header_list(const struct hop *h, int *oom)
{
    struct curl_slist *list = NULL;

    *oom = 0;
    for (const char *const *p = h->headers; p && *p; p++) {
        struct curl_slist *more = curl_slist_append(list, *p);

        if (!more) {
            *oom = 1;
            break;
        }
        list = more;
    }
    return list;
}

/* One exchange through curl.  Returns 0 with h->status, or -1 and h->err. */
static int curl_hop(struct loads_test *vu, struct hop *h)
{
    struct curl_slist *list;
    long status = 0;
    int oom;

    if (!vu->easy && curl_vu_init(vu) < 0) {
        snprintf(h->err, h->errlen, "out of memory");
        return -1;
    }
    list = header_list(h, &oom);
    if (oom) {
        curl_slist_free_all(list);
        snprintf(h->err, h->errlen, "out of memory");
        return -1;
    }
    vu->errbuf[0] = '\0';
    set_request(vu, h, list);
    curl_multi_add_handle(vu->w->multi, vu->easy);
    vu_yield(vu, VU_WAIT_HTTP);
    curl_slist_free_all(list);
    if (vu->aborted)
        return -1;
    if (vu->result != CURLE_OK) {
        transfer_error(vu, h->err, h->errlen);
        return -1;
    }
    curl_easy_getinfo(vu->easy, CURLINFO_RESPONSE_CODE, &status);
    h->status = (int)status;
    return 0;
}

/* The request's path for the jar ("/" when empty), into path. */
static void cookie_path(const struct url_parts *u, char *path, size_t len)
{
    snprintf(path, len, "%.*s", (int)u->path_len, u->path_len ? u->target : "/");
}

/* Puts the Set-Cookie headers of the last response into the VU's jar. */
static void store_cookies(struct loads_test *vu, const struct loads_response *r,
                          const struct url_parts *u)
{
    char path[1024];
    time_t now = time(NULL);

    if (!r->headers || (!vu->jar && !(vu->jar = cookie_jar_new())))
        return;
    cookie_path(u, path, sizeof(path));
    for (const char *p = r->headers; *p; p += strlen(p) + 1) {
        const char *v;

        if (strncasecmp(p, "Set-Cookie:", 11) != 0)
            continue;
        for (v = p + 11; *v == ' ' || *v == '\t'; v++)
            ;
        cookie_jar_set(vu->jar, u->host, path, u->https, v, strlen(v), now);
    }
}

/* The Cookie header's value for a request to u from the VU's jar, or NULL. */
static const char *jar_cookies(struct loads_test *vu, const struct url_parts *u)
{
    struct worker *w = vu->w;
    char path[1024];
    time_t now;
    size_t n;

    if (!vu->jar || !cookie_jar_count(vu->jar))
        return NULL;
    now = time(NULL);
    cookie_path(u, path, sizeof(path));
    n = cookie_jar_header(vu->jar, u->host, path, u->https, now, w->cbuf, w->cbuf_cap);
    if (n && n >= w->cbuf_cap) {
        char *more = realloc(w->cbuf, n + 1);

        if (!more)
            return NULL;
        w->cbuf = more;
        w->cbuf_cap = n + 1;
        n = cookie_jar_header(vu->jar, u->host, path, u->https, now, w->cbuf, w->cbuf_cap);
    }
    return n ? w->cbuf : NULL;
}

/* The absolute URL of a Location header, resolved against url; NULL if none. */
static char *follow_location(const char *url, const char *location)
{
    CURLU *h = curl_url();
    char *out = NULL, *copy = NULL;

    if (h && curl_url_set(h, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_set(h, CURLUPART_URL, location, 0) == CURLUE_OK &&
        curl_url_get(h, CURLUPART_URL, &out, 0) == CURLUE_OK)
        copy = strdup(out);
    curl_free(out);
    curl_url_cleanup(h);
    return copy;
}

/*
 * Counts the hits of a request (each redirect hop is one), those of them
 * with a status below 400, and for a complete request its latency.
 */
static void record_response(struct loads_test *vu, const char *key, uint64_t hits,
                            uint64_t ok, int64_t elapsed_us)
{
    struct worker *w = vu->w;
    struct shm_url *u = shm_url_get(w->slot, key, shm_hash(key, NULL));

    shm_add(&w->slot->c.hits, hits);
    shm_add(&u->hits, hits);
    shm_add(&u->ok, ok);
    w->sec_hits += hits;
    if (elapsed_us < 0) {
        shm_add(&u->errors, 1);
        shm_add(&w->slot->c.http_errors, 1);
        return;
    }
    hist_record(&w->slot->latency, (uint64_t)elapsed_us);
    hist_record(&u->latency, (uint64_t)elapsed_us);
    hist_record(w->second, (uint64_t)elapsed_us);
}

/*
 * Where a redirect leads, as curl does by default: 301 and 302 turn a POST
 * into a GET, 303 turns anything but HEAD into a GET (both without the
 * body); 307 and 308 keep the method and the body.  Returns the next URL,
 * or NULL (the response is the last) with why set when it cannot follow.
 */
static char *next_hop(struct loads_response *r, struct hop *h, const char **why)
{
    const char *loc;
    char *next;

    *why = NULL;
    if (h->status != 301 && h->status != 302 && h->status != 303 && h->status != 307 &&
        h->status != 308)
        return NULL;
    loc = loads_header(r, "Location");
    if (!loc || !loc[0])
        return NULL;
    next = follow_location(h->url, loc);
    if (!next) {
        *why = "cannot follow the redirect: bad Location";
        return NULL;
    }
    if ((h->status == 303 && strcmp(h->method, "HEAD") != 0) ||
        ((h->status == 301 || h->status == 302) && strcmp(h->method, "POST") == 0)) {
        h->method = "GET";
        h->has_body = 0;
    }
    return next;
}

/* Counts a request that got no (last) response, and ends the run with why. */
static void stop_request(struct loads_test *vu, const char *key, uint64_t hits, uint64_t ok,
                         const char *method, const char *url, const char *why)
    __attribute__((noreturn));

static void stop_request(struct loads_test *vu, const char *key, uint64_t hits, uint64_t ok,
                         const char *method, const char *url, const char *why)
{
    record_response(vu, key, hits, ok, -1);
    vu->filling = NULL;
    vu_stop_run(vu, VU_ERROR, "%s %s: %s", method, url, why);
}

/* Whether next is on another server than u (another host or port). */
static int other_server(const struct url_parts *u, const char *next)
{
    struct url_parts nu;

    return worker_url_parse(next, &nu) < 0 || nu.port != u->port ||
           strcmp(nu.host, u->host) != 0;
}

/*
 * The user's headers without Authorization and Cookie, for a redirect to
 * another server (as curl does), kept in r so that they live as long as
 * the request.  On failure the run ends.
 */
static const char *const *drop_private(struct loads_test *vu, struct loads_response *r,
                                       const char *const *headers)
{
    size_t n = 0, k = 0;

    while (headers[n])
        n++;
    r->hop_headers = calloc(n + 1, sizeof(*r->hop_headers));
    if (!r->hop_headers)
        vu_stop_run(vu, VU_ERROR, "out of memory");
    for (size_t i = 0; i < n; i++) {
        size_t len = strcspn(headers[i], ":;");

        if (!((len == 13 && strncasecmp(headers[i], "Authorization", 13) == 0) ||
              (len == 6 && strncasecmp(headers[i], "Cookie", 6) == 0)))
            r->hop_headers[k++] = headers[i];
    }
    return r->hop_headers;
}

loads_response *loads_request(loads_test *vu, const char *method, const char *url,
                              const char *const *headers, const void *body,
                              size_t body_len)
{
    struct worker *w = vu->w;
    struct loads_response *r;
    char key[SHM_URL_LEN], why[SHM_MSG_LEN];
    struct hop h = {0};
    uint64_t hits = 0, ok = 0;
    int64_t start;
    const char *full;

    r = calloc(1, sizeof(*r));
    if (!r)
        vu_stop_run(vu, VU_ERROR, "out of memory");
    r->next = vu->responses;
    vu->responses = r;
    /* Off the VU's stack: every page a VU's stack touches stays resident. */
    r->url = worker_url_resolve(w->plan->server_url, url);
    if (!r->url)
        vu_stop_run(vu, VU_ERROR, "cannot request %s: %s", url,
                    w->plan->server_url[0] ? "out of memory"
                                           : "relative URL and no --server-url");
    full = r->url;
    worker_url_key(key, sizeof(key), method, full);
    start = shm_mono_us();
    h.method = method;
    h.url = full;
    h.headers = headers;
    h.has_body = strcmp(method, "HEAD") != 0 && (body || strcmp(method, "POST") == 0);
    h.body = body;
    h.body_len = body_len;
    h.deadline_us = start + (int64_t)(w->plan->timeout * 1e6);
    h.err = why;
    h.errlen = sizeof(why);
    vu->filling = r;
    for (;;) {
        struct url_parts u;
        int parsed = worker_url_parse(h.url, &u) == 0, rc;
        const char *stop;
        char *next;

        h.u = &u;
        h.cookie = parsed ? jar_cookies(vu, &u) : NULL;
        h.status = 0;
        why[0] = '\0';
        r->headers_len = 0;
        r->set_cookie = 0;
        r->body_len = 0;
        if (parsed && u.simple && !w->curl_only)
            rc = worker_h1_hop(vu, &h);
        else
            rc = curl_hop(vu, &h);
        if (rc < 0) {
            if (vu->aborted)
                snprintf(why, sizeof(why), "stopped, still running after the grace period");
            else if (vu->h1_timed_out)
                snprintf(why, sizeof(why), "Operation timed out (--timeout %gs)",
                         w->plan->timeout);
            stop_request(vu, key, hits, ok, method, full, why);
        }
        hits++;
        ok += h.status < 400;
        if (parsed && r->set_cookie)
            store_cookies(vu, r, &u);
        next = next_hop(r, &h, &stop);
        if (!next && stop)
            stop_request(vu, key, hits, ok, method, full, stop);
        if (!next)
            break;
        free(r->hop_url);
        r->hop_url = next; /* freed with the response, whatever happens next */
        if (hits > REDIRECTS_MAX) {
            snprintf(why, sizeof(why), "Maximum (%d) redirects followed", REDIRECTS_MAX);
            stop_request(vu, key, hits, ok, method, full, why);
        }
        if (parsed && !r->hop_headers && h.headers && other_server(&u, next))
            h.headers = drop_private(vu, r, h.headers);
        h.url = next;
    }
    vu->filling = NULL;
    start = shm_mono_us() - start;
    r->status = h.status;
    r->elapsed = (double)start / 1e6;
    record_response(vu, key, hits, ok, start);
    if (!r->body) {
        r->body = calloc(1, 1);
        if (!r->body)
            vu_stop_run(vu, VU_ERROR, "out of memory");
    }
    return r;
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

/* -------------------------------------------------------------- responses */

int loads_status(const loads_response *r)
{
    return r->status;
}

const char *loads_body(const loads_response *r)
{
    return r->body;
}

size_t loads_body_len(const loads_response *r)
{
    return r->body_len;
}

double loads_elapsed(const loads_response *r)
{
    return r->elapsed;
}

int loads_contains(const loads_response *r, const char *needle)
{
    return memmem(r->body, r->body_len, needle, strlen(needle)) != NULL;
}

/* Finds a header of the last response; the value points into its block. */
const char *loads_header(const loads_response *r, const char *name)
{
    size_t nlen = strlen(name);

    if (!r->headers)
        return NULL;
    for (const char *p = r->headers; *p; p += strlen(p) + 1) {
        if (strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
            const char *v = p + nlen + 1;

            while (*v == ' ' || *v == '\t')
                v++;
            return v;
        }
    }
    return NULL;
}
