/*
 * HTTP for the VUs: libcurl's multi_socket API on the worker's libuv loop,
 * and the request/response half of the public API.
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
#include <unistd.h>

#include "worker/internal.h"
#include "worker/url.h"

#define HEADERS_MAX (256 * 1024)  /* header bytes kept per response */

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
}

/* ------------------------------------------------------------- sessions */

static void set_session(struct loads_test *vu);

/* Each VU's share holds its own connections and cookie jar. */
int worker_http_vu_init(struct loads_test *vu)
{
    vu->share = curl_share_init();
    vu->easy = curl_easy_init();
    if (!vu->share || !vu->easy)
        return -ENOMEM;
    curl_share_setopt(vu->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    curl_share_setopt(vu->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_COOKIE);
    set_session(vu);
    return 0;
}

void worker_http_vu_close(struct loads_test *vu)
{
    worker_http_free_responses(vu);
    if (vu->easy)
        curl_easy_cleanup(vu->easy);
    if (vu->share)
        curl_share_cleanup(vu->share);
    vu->easy = NULL;
    vu->share = NULL;
}

/* Takes a VU's transfer out of the multi, for a run stopped from outside. */
void worker_http_abort(struct loads_test *vu)
{
    curl_multi_remove_handle(vu->w->multi, vu->easy);
}

void worker_http_free_responses(struct loads_test *vu)
{
    struct loads_response *r = vu->responses, *next;

    for (; r; r = next) {
        next = r->next;
        free(r->url);
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
 */
static size_t on_body(char *data, size_t size, size_t n, void *userp)
{
    struct loads_test *vu = userp;
    struct loads_response *r = vu->filling;
    size_t len = size * n, keep = len;
    size_t max = vu->w->plan->max_body;

    shm_add(&vu->w->slot->c.bytes, len);
    if (r->body_len + keep > max)
        keep = max > r->body_len ? max - r->body_len : 0;
    if (keep) {
        if (buf_reserve(&r->body, &r->body_cap, r->body_len, keep) < 0)
            return 0;
        memcpy(r->body + r->body_len, data, keep);
        r->body_len += keep;
        r->body[r->body_len] = '\0';
    }
    return len;
}

/*
 * Keeps the header lines of the last response (after redirects), each one
 * stripped of its line end and NUL-terminated, the block ending with an
 * empty string, so that loads_header can return values in place.
 */
static size_t on_header(char *data, size_t size, size_t n, void *userp)
{
    struct loads_test *vu = userp;
    struct loads_response *r = vu->filling;
    size_t len = size * n, keep = len;

    if (len >= 5 && memcmp(data, "HTTP/", 5) == 0)
        r->headers_len = 0; /* a new response begins */
    while (keep && (data[keep - 1] == '\n' || data[keep - 1] == '\r'))
        keep--;
    if (!keep || r->headers_len + keep > HEADERS_MAX)
        return len;
    if (buf_reserve(&r->headers, &r->headers_cap, r->headers_len, keep + 1) < 0)
        return 0;
    memcpy(r->headers + r->headers_len, data, keep);
    r->headers_len += keep;
    r->headers[r->headers_len++] = '\0';
    r->headers[r->headers_len] = '\0';
    return len;
}

/* --------------------------------------------------------------- requests */

/*
 * Sets the options that every request of a VU shares, once.  Curl looks up
 * the proxy variables of the environment on every transfer; when none is
 * set, saying so once saves that work on each request.
 */
static void set_session(struct loads_test *vu)
{
    CURL *e = vu->easy;
    const struct worker_plan *p = vu->w->plan;
    static const char *const proxy_vars[] = {"http_proxy", "HTTP_PROXY", "https_proxy",
                                              "HTTPS_PROXY", "all_proxy", "ALL_PROXY"};
    int proxy = 0;

    for (size_t i = 0; i < sizeof(proxy_vars) / sizeof(proxy_vars[0]); i++)
        proxy |= getenv(proxy_vars[i]) != NULL;
    if (!proxy)
        curl_easy_setopt(e, CURLOPT_PROXY, "");
    /* As the curl tool and OpenSSL do: a CA bundle of the user's choice. */
    if (getenv("SSL_CERT_FILE"))
        curl_easy_setopt(e, CURLOPT_CAINFO, getenv("SSL_CERT_FILE"));
    curl_easy_setopt(e, CURLOPT_SHARE, vu->share);
    curl_easy_setopt(e, CURLOPT_COOKIEFILE, "");
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
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, 30L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(p->timeout * 1000));
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)(p->timeout * 1000));
    curl_easy_setopt(e, CURLOPT_USERAGENT, "loads/" LOADS_VERSION);
}

/* Sets what differs between requests on the VU's reused handle. */
static void set_request(struct loads_test *vu, const char *method, const char *url,
                        struct curl_slist *headers, const void *body, size_t body_len)
{
    CURL *e = vu->easy;

    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(e, CURLOPT_NOBODY, 0L);
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L); /* forgets a previous POST */
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, NULL);
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (body || strcmp(method, "POST") == 0) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, body ? body : "");
        if (strcmp(method, "POST") != 0)
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    }
}

/* Counts a completed exchange: hits, latency, the URL's row, the second. */
static void record_response(struct loads_test *vu, const char *key,
                            struct loads_response *r)
{
    struct worker *w = vu->w;
    struct shm_url *u = shm_url_get(w->slot, key, shm_hash(key, NULL));
    curl_off_t total_us = 0;
    long status = 0, redirects = 0;
    uint64_t hits;

    curl_easy_getinfo(vu->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(vu->easy, CURLINFO_TOTAL_TIME_T, &total_us);
    curl_easy_getinfo(vu->easy, CURLINFO_REDIRECT_COUNT, &redirects);
    r->status = (int)status;
    r->elapsed = (double)total_us / 1e6;
    hits = 1 + (uint64_t)redirects;
    shm_add(&w->slot->c.hits, hits);
    shm_add(&u->hits, hits);
    if (status < 400)
        shm_add(&u->ok, 1);
    hist_record(&w->slot->latency, (uint64_t)total_us);
    hist_record(&u->latency, (uint64_t)total_us);
    hist_record(w->second, (uint64_t)total_us);
    w->sec_hits += hits;
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

loads_response *loads_request(loads_test *vu, const char *method, const char *url,
                              const char *const *headers, const void *body,
                              size_t body_len)
{
    struct worker *w = vu->w;
    struct curl_slist *list = NULL;
    struct loads_response *r;
    char key[SHM_URL_LEN], why[SHM_MSG_LEN];
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
    for (; headers && *headers; headers++) {
        struct curl_slist *more = curl_slist_append(list, *headers);

        if (!more) {
            curl_slist_free_all(list);
            vu_stop_run(vu, VU_ERROR, "out of memory");
        }
        list = more;
    }
    vu->filling = r;
    vu->errbuf[0] = '\0';
    set_request(vu, method, full, list, body, body_len);
    curl_multi_add_handle(w->multi, vu->easy);
    vu_yield(vu, VU_WAIT_HTTP);
    curl_slist_free_all(list);
    vu->filling = NULL;
    if (vu->aborted)
        vu_stop_run(vu, VU_ERROR, "%s %s: stopped, still running after the grace period",
                    method, full);
    if (vu->result != CURLE_OK) {
        struct shm_url *u = shm_url_get(w->slot, key, shm_hash(key, NULL));

        shm_add(&u->errors, 1);
        shm_add(&w->slot->c.http_errors, 1);
        transfer_error(vu, why, sizeof(why));
        vu_stop_run(vu, VU_ERROR, "%s %s: %s", method, full, why);
    }
    record_response(vu, key, r);
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
