/*
 * libcurl on the worker's libuv loop (the multi_socket API), for what the
 * built-in client (conn.c) does not send: requests through a proxy, URLs
 * curl must rewrite.  Redirects and cookies are the API's, for both
 * clients: curl sends one hop at a time, FOLLOWLOCATION off, with the
 * Cookie header it is given.
 *
 * Each socket curl opens gets one uv_poll for its whole life.  Curl removes
 * and re-adds a keep-alive socket around every request; closing the watcher
 * each time would cost several epoll_ctl calls per request, so the watcher
 * stays armed across CURL_POLL_REMOVE and is only stopped if it fires while
 * curl is not using the socket.  It is freed when curl closes the socket.
 *
 * A hop waits with the VU's one wait, until curl says the transfer is done,
 * the hop's deadline or a cancellation; the last two take the transfer out
 * of the multi handle (curl's own timeouts are not used).
 *
 * This file is the boundary where CURLcode becomes a message for a person.
 */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/vu.h"
#include "http/http.h"

/* A socket curl opened, watched by one uv_poll for its whole life. */
struct curl_sock {
    uv_poll_t poll;
    struct curl_glue *g;
    int fd;
    int wanted;                   /* UV_READABLE|UV_WRITABLE curl asked for; 0 = none */
    int armed;                    /* events the poll handle is started with */
    int ours;                     /* opened by our opensocket callback */
};

/* The worker's glue: one multi handle on the loop. */
struct curl_glue {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;             /* curl's single timeout */
    struct curl_sock **socks;     /* by file descriptor */
    int nsocks;
    int proxy;                    /* a proxy variable is set */
    int insecure;                 /* no verification of the server */
};

/* A VU's handle, reused across its requests, and its transfer's end. */
struct curl_session {
    struct curl_glue *g;
    struct vu *vu;                /* waiting for the transfer, or NULL */
    CURL *easy;
    CURLSH *share;                /* its connections (the jar is the API's) */
    struct loads_response *r;     /* being filled */
    int done;                     /* the transfer ended */
    CURLcode result;              /* how */
    char errbuf[CURL_ERROR_SIZE]; /* curl's message for it */
};

/* ---------------------------------------------------------------- sockets */

static struct curl_sock *sock_get(struct curl_glue *g, int fd)
{
    return fd >= 0 && fd < g->nsocks ? g->socks[fd] : NULL;
}

static struct curl_sock *sock_new(struct curl_glue *g, int fd, int ours)
{
    struct curl_sock *s;

    if (fd >= g->nsocks) {
        /* The table grows to hold fd: twice, or more, its size. */
        int n = g->nsocks ? g->nsocks : 64;
        struct curl_sock **t;

        while (n <= fd)
            n *= 2;
        t = realloc(g->socks, (size_t)n * sizeof(struct curl_sock *));
        if (!t)
            return NULL;
        memset(t + g->nsocks, 0, (size_t)(n - g->nsocks) * sizeof(struct curl_sock *));
        g->socks = t;
        g->nsocks = n;
    }
    s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    if (uv_poll_init_socket(g->loop, &s->poll, fd) < 0) {
        free(s);
        return NULL;
    }
    s->poll.data = s;
    s->g = g;
    s->fd = fd;
    s->ours = ours;
    g->socks[fd] = s;
    return s;
}

static void on_sock_closed(uv_handle_t *h)
{
    free(h->data);
}

static void sock_free(struct curl_sock *s)
{
    s->g->socks[s->fd] = NULL;
    uv_close((uv_handle_t *)&s->poll, on_sock_closed);
}

/*
 * Hands every finished transfer back to its VU.  Called from loop
 * callbacks only, after curl has returned, so a woken VU may start its
 * next request at once.
 */
static void check_done(struct curl_glue *g)
{
    CURLMsg *msg;
    int left;

    while ((msg = curl_multi_info_read(g->multi, &left))) {
        struct curl_session *s = NULL;

        if (msg->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
        s->result = msg->data.result;
        s->done = 1;
        curl_multi_remove_handle(g->multi, msg->easy_handle);
        if (s->vu)
            vu_wake(s->vu);
    }
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    struct curl_sock *s = h->data;
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
    curl_multi_socket_action(s->g->multi, s->fd, flags, &running);
    check_done(s->g);
}

/* CURLMOPT_SOCKETFUNCTION: what curl wants to know of a socket now. */
static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp,
                          void *socketp)
{
    struct curl_glue *g = userp;
    struct curl_sock *s = sock_get(g, fd);

    if (what == CURL_POLL_REMOVE) {
        if (!s)
            return 0;
        s->wanted = 0;
        if (!s->ours)
            sock_free(s); /* not ours: no close callback will come */
        return 0;
    }
    if (!s && !(s = sock_new(g, fd, 0)))
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
    struct curl_glue *g = t->data;
    int running;

    curl_multi_socket_action(g->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(g);
}

/* CURLMOPT_TIMERFUNCTION: curl's one timeout, as a uv timer. */
static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
    struct curl_glue *g = userp;

    if (timeout_ms < 0)
        uv_timer_stop(&g->timer);
    else
        uv_timer_start(&g->timer, on_curl_timeout, (uint64_t)timeout_ms, 0);
    return 0;
}

/* CURLOPT_OPENSOCKETFUNCTION: opens the socket and its watcher together. */
static curl_socket_t on_open_socket(void *clientp, curlsocktype purpose,
                                    struct curl_sockaddr *addr)
{
    struct curl_glue *g = clientp;
    int fd = socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);

    if (fd < 0)
        return CURL_SOCKET_BAD;
    if (!sock_new(g, fd, 1)) {
        close(fd);
        return CURL_SOCKET_BAD;
    }
    return fd;
}

/* CURLOPT_CLOSESOCKETFUNCTION: the socket's end frees its watcher. */
static int on_close_socket(void *clientp, curl_socket_t fd)
{
    struct curl_glue *g = clientp;
    struct curl_sock *s = sock_get(g, fd);

    if (s)
        sock_free(s);
    return close(fd);
}

struct curl_glue *curl_glue_create(uv_loop_t *loop, int proxy, int insecure)
{
    struct curl_glue *g = calloc(1, sizeof(*g));

    if (!g)
        return NULL;
    g->loop = loop;
    g->proxy = proxy;
    g->insecure = insecure;
    g->multi = curl_multi_init();
    if (!g->multi) {
        free(g);
        return NULL;
    }
    uv_timer_init(loop, &g->timer);
    g->timer.data = g;
    curl_multi_setopt(g->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl_multi_setopt(g->multi, CURLMOPT_SOCKETDATA, g);
    curl_multi_setopt(g->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(g->multi, CURLMOPT_TIMERDATA, g);
    return g;
}

static void on_glue_closed(uv_handle_t *h)
{
    free(h->data);
}

/*
 * Frees the glue once every session is freed: curl closes its sockets
 * (their watchers close through the loop), then the timer goes.
 */
void curl_glue_destroy(struct curl_glue *g)
{
    if (!g)
        return;
    curl_multi_cleanup(g->multi);
    free(g->socks);
    uv_close((uv_handle_t *)&g->timer, on_glue_closed);
}

/* ------------------------------------------------------------- sessions */

static size_t on_body(char *data, size_t size, size_t n, void *userp)
{
    struct curl_session *s = userp;

    return response_keep_body(s->r, data, size * n) < 0 ? 0 : size * n;
}

static size_t on_header(char *data, size_t size, size_t n, void *userp)
{
    struct curl_session *s = userp;

    return response_keep_header(s->r, data, size * n) < 0 ? 0 : size * n;
}

/*
 * A VU's handle and share, made when it first needs them (most VUs never
 * use curl), with the options all its requests share.  Curl looks up the
 * proxy variables on every transfer; when none is set, saying so once
 * saves that work on each request.
 */
static struct curl_session *session_new(struct curl_glue *g)
{
    struct curl_session *s = calloc(1, sizeof(*s));
    CURL *e;

    if (!s)
        return NULL;
    s->g = g;
    s->share = curl_share_init();
    s->easy = e = curl_easy_init();
    if (!s->share || !s->easy) {
        curl_session_free(s);
        return NULL;
    }
    curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    if (!g->proxy)
        curl_easy_setopt(e, CURLOPT_PROXY, "");
    /* As the curl tool and OpenSSL do: a CA bundle of the user's choice. */
    if (getenv("SSL_CERT_FILE"))
        curl_easy_setopt(e, CURLOPT_CAINFO, getenv("SSL_CERT_FILE"));
    if (g->insecure) {
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    curl_easy_setopt(e, CURLOPT_SHARE, s->share);
    curl_easy_setopt(e, CURLOPT_PRIVATE, s);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, g);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, on_close_socket);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, g);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, s);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "loads/" LOADS_VERSION);
    /* Only these, also in a redirect curl itself would follow (it does not). */
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    return s;
}

void curl_session_free(struct curl_session *s)
{
    if (!s)
        return;
    if (s->easy)
        curl_easy_cleanup(s->easy);
    if (s->share)
        curl_share_cleanup(s->share);
    free(s);
}

/* Sets what differs between requests on the VU's reused handle. */
static void set_request(struct curl_session *s, const struct http_hop *h,
                        struct curl_slist *headers)
{
    CURL *e = s->easy;

    curl_easy_setopt(e, CURLOPT_URL, h->url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(e, CURLOPT_COOKIE, h->cookie);
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
 * listing many messages once.  Returns the negative errno that stands for
 * the failure.
 */
static int transfer_error(struct curl_session *s, char *out, size_t len)
{
    long oserr = 0;
    char text[CURL_ERROR_SIZE];

    snprintf(text, sizeof(text), "%s",
             s->errbuf[0] ? s->errbuf : curl_easy_strerror(s->result));
    drop_elapsed(text);
    curl_easy_getinfo(s->easy, CURLINFO_OS_ERRNO, &oserr);
    if (oserr && !strstr(text, strerror((int)oserr)))
        snprintf(out, len, "%s (%s)", text, strerror((int)oserr));
    else
        snprintf(out, len, "%s", text);
    switch (s->result) {
    case CURLE_OUT_OF_MEMORY:
        return -ENOMEM;
    case CURLE_UNSUPPORTED_PROTOCOL:
        return -EPROTONOSUPPORT;
    default:
        return oserr ? -(int)oserr : -EIO;
    }
}

/* The user's headers as curl's list; NULL and *oom when memory ran out. */
static struct curl_slist *header_list(const struct http_hop *h, int *oom)
{
    struct curl_slist *list = NULL;

    *oom = 0;
    for (const char *const *p = h->headers; p && *p; p++) {
        struct curl_slist *more = curl_slist_append(list, *p);

        if (!more) {
            *oom = 1;
            curl_slist_free_all(list);
            return NULL;
        }
        list = more;
    }
    return list;
}

int curl_glue_hop(struct curl_glue *g, struct vu *vu, struct curl_session **sp,
                  const struct http_hop *h, struct loads_response *r, int *status,
                  char *err, size_t errlen)
{
    struct curl_session *s = *sp;
    struct curl_slist *list;
    long code = 0;
    int oom, rc = 0;

    if (!s && !(s = *sp = session_new(g))) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    list = header_list(h, &oom);
    if (oom) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    response_begin_hop(r);
    s->errbuf[0] = '\0';
    s->r = r;
    s->done = 0;
    set_request(s, h, list);
    curl_multi_add_handle(g->multi, s->easy);
    s->vu = vu;
    while (!s->done && rc == 0)
        rc = vu_wait(vu, h->deadline_us, "http");
    s->vu = NULL;
    if (!s->done)
        curl_multi_remove_handle(g->multi, s->easy); /* timed out or cancelled */
    curl_slist_free_all(list);
    s->r = NULL;
    if (rc < 0)
        return rc;
    if (s->result != CURLE_OK)
        return transfer_error(s, err, errlen);
    curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &code);
    *status = (int)code;
    return 0;
}
