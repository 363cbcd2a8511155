/*
 * The web view's server (web.h): one thread, one poll over the listening
 * socket, a pipe that stops it and at most WEB_CLIENTS connections, each
 * answered once and closed.  The thread only reads the segment; the
 * supervisor's loop never waits for it, and a slow or hostile client
 * costs only its own connection (bounded bytes, bounded time).
 *
 * Workers forked while a connection is open inherit its descriptor, so a
 * connection is shut down before it is closed: the peer sees the end of
 * the answer whoever else still holds the descriptor.
 */
#include "web/web.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shm/stats.h"
#include "web/http.h"

#define FLUSH_SLACK_US 200000   /* workers close a second within 100 ms of its end */
#define RECENT_SECONDS 4        /* seconds merged again each time, for late writers */
#define MAX_SCRIPT     (4u << 20)

extern const char web_page[];   /* page.c */

struct web_client {
    int fd;                     /* -1: free */
    int64_t deadline_us;        /* CLOCK_MONOTONIC: closed then, answered or not */
    size_t inlen;
    char in[WEB_MAX_REQUEST];
    char *out;                  /* the whole answer, once the request is read */
    size_t outlen, outoff;
};

struct web {
    int lfd;                    /* listening socket */
    int wake[2];                /* a byte on wake[1] stops the thread */
    pthread_t thread;
    const struct shm *shm;      /* not owned; NULL until web_set_shm (atomic) */
    web_json_fn *json;
    void *arg;
    struct sockaddr_storage addr;
    struct web_client clients[WEB_CLIENTS];
    struct shm_second *secs;    /* the merged series, indexed by second % SHM_SERIES;
                                   a second is merged again while it may change */
    char *script;               /* dygraph.min.js, read once; NULL until then */
    size_t script_len;
};

static void drop(struct web_client *c)
{
    shutdown(c->fd, SHUT_RDWR);
    close(c->fd);
    free(c->out);
    c->fd = -1;
    c->out = NULL;
    c->inlen = c->outlen = c->outoff = 0;
}

/* -------------------------------------------------------------- series */

static const char *state_name(uint32_t state)
{
    static const char *const names[] = {"starting", "running", "stopping", "done"};

    return state < 4 ? names[state] : "unknown";
}

/*
 * /series.json: the run's state and its complete seconds from `from` on
 * (those the segment still holds), as [second, hits, errors, runs,
 * dropped, p50 ms, p99 ms].  While the run lasts a second is complete
 * FLUSH_SLACK_US after its end; once it is done, every second is.
 */
static void write_series(struct web *w, const struct shm *shm, FILE *f, long long from)
{
    const struct shm_header *h = shm->hdr;
    uint32_t state = __atomic_load_n(&h->state, __ATOMIC_ACQUIRE);
    int64_t end = state == SHM_RUN_DONE ? h->ended_mono_us : 0;
    int64_t el = (end ? end : shm_mono_us()) - h->started_mono_us;
    int64_t last, first;

    if (state == SHM_RUN_DONE)
        last = el > 0 ? (el - 1) / 1000000 : -1;
    else
        last = el >= FLUSH_SLACK_US + 1000000 ? (el - FLUSH_SLACK_US) / 1000000 - 1 : -1;
    first = last - SHM_SERIES + 1 > 0 ? last - SHM_SERIES + 1 : 0;
    if (from > first)
        first = from;
    fprintf(f, "{\"state\": \"%s\", \"elapsed\": %.3f, \"last\": %lld, \"seconds\": [",
            state_name(state), el > 0 ? (double)el / 1e6 : 0.0, (long long)last);
    for (int64_t s = first; s <= last; s++) {
        struct shm_second *e = &w->secs[s % SHM_SERIES];

        if (e->second != (uint64_t)s + 1 || s + RECENT_SECONDS > last)
            shm_stats_second(shm, s, e);
        fprintf(f, "%s\n[%lld, %llu, %llu, %llu, %llu, %.3f, %.3f]", s > first ? "," : "",
                (long long)s, (unsigned long long)e->hits, (unsigned long long)e->errors,
                (unsigned long long)e->runs, (unsigned long long)e->dropped,
                (double)e->p50_us / 1000.0, (double)e->p99_us / 1000.0);
    }
    fprintf(f, "]}\n");
}

/* ------------------------------------------------------------- answers */

/* Reads the chart library once; 0, or -1 when it is not installed. */
static int load_script(struct web *w)
{
    FILE *f;
    struct stat sb;

    if (w->script)
        return 0;
    f = fopen(WEB_DYGRAPHS, "rb");
    if (!f)
        return -1;
    if (fstat(fileno(f), &sb) < 0 || sb.st_size <= 0 || sb.st_size > (off_t)MAX_SCRIPT ||
        !(w->script = malloc((size_t)sb.st_size)) ||
        fread(w->script, 1, (size_t)sb.st_size, f) != (size_t)sb.st_size) {
        free(w->script);
        w->script = NULL;
        fclose(f);
        return -1;
    }
    w->script_len = (size_t)sb.st_size;
    fclose(f);
    return 0;
}

/*
 * Builds the whole answer to req (NULL: a bad request) into c->out.
 * Returns 0 or -ENOMEM.
 */
static int answer(struct web *w, struct web_client *c, const struct web_request *req)
{
    const char *status = "200 OK", *type = "text/plain; charset=utf-8";
    const char *cache = "no-store";
    char *body = NULL;
    size_t blen = 0;
    const char *fixed = NULL;
    const struct shm *shm = __atomic_load_n(&w->shm, __ATOMIC_ACQUIRE);
    FILE *f;

    if (!req) {
        status = "400 Bad Request";
        fixed = "bad request\n";
    } else if (req->method == WEB_OTHER) {
        status = "405 Method Not Allowed";
        fixed = "only GET and HEAD\n";
    } else if (strcmp(req->path, "/") == 0 || strcmp(req->path, "/index.html") == 0) {
        type = "text/html; charset=utf-8";
        fixed = web_page;
    } else if (strcmp(req->path, "/dygraph.min.js") == 0) {
        if (load_script(w) == 0) {
            type = "application/javascript";
            cache = "max-age=3600";
        } else {
            status = "404 Not Found";
            fixed = "no " WEB_DYGRAPHS ": install Debian's libjs-dygraphs\n";
        }
    } else if ((strcmp(req->path, "/stats.json") == 0 ||
                strcmp(req->path, "/series.json") == 0) && !shm) {
        /* A cluster run before the broker's start barrier: no figures yet. */
        status = "503 Service Unavailable";
        type = "application/json";
        fixed = "{\"state\": \"waiting\"}\n";
    } else if (strcmp(req->path, "/stats.json") == 0 ||
               strcmp(req->path, "/series.json") == 0) {
        type = "application/json";
        if (!(f = open_memstream(&body, &blen)))
            return -ENOMEM;
        if (strcmp(req->path, "/stats.json") == 0)
            w->json(f, shm, w->arg);
        else
            write_series(w, shm, f, web_query_number(req->query, "from", 0));
        if (fclose(f) != 0) {
            free(body);
            return -ENOMEM;
        }
    } else {
        status = "404 Not Found";
        fixed = "not found\n";
    }
    if (fixed) {
        body = NULL;
        blen = strlen(fixed);
    } else if (!body) {
        blen = w->script_len;
    }
    if (!(f = open_memstream(&c->out, &c->outlen))) {
        free(body);
        return -ENOMEM;
    }
    fprintf(f, "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
               "Cache-Control: %s\r\nX-Content-Type-Options: nosniff\r\n"
               "Connection: close\r\n\r\n", status, type, blen, cache);
    if (!req || req->method != WEB_HEAD)
        fwrite(fixed ? fixed : body ? body : w->script, 1, blen, f);
    free(body);
    if (fclose(f) != 0) {
        free(c->out);
        c->out = NULL;
        return -ENOMEM;
    }
    c->outoff = 0;
    return 0;
}

/* Sends what the socket takes of the answer; drops the client once it is all sent. */
static void client_write(struct web_client *c)
{
    while (c->outoff < c->outlen) {
        ssize_t n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            drop(c);
            return;
        }
        c->outoff += (size_t)n;
    }
    drop(c);
}

/* Reads the request; once it is whole (or bad), answers it. */
static void client_read(struct web *w, struct web_client *c)
{
    struct web_request req;
    ssize_t n = recv(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen, 0);
    int rc;

    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
        return;
    if (n <= 0) {
        drop(c);
        return;
    }
    c->inlen += (size_t)n;
    rc = web_parse_request(c->in, c->inlen, &req);
    if (rc == 0)
        return;
    if (rc == -E2BIG || answer(w, c, rc > 0 ? &req : NULL) < 0) {
        drop(c);
        return;
    }
    client_write(c);
}

static void accept_clients(struct web *w, int64_t now)
{
    for (;;) {
        int fd = accept4(w->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        uint32_t i;

        if (fd < 0)
            return;
        for (i = 0; i < WEB_CLIENTS && w->clients[i].fd >= 0; i++)
            ;
        if (i == WEB_CLIENTS) {
            /* Full: this one waits for nobody's sake; the page asks again in a second. */
            close(fd);
            continue;
        }
        w->clients[i].fd = fd;
        w->clients[i].deadline_us = now + WEB_CLIENT_US;
        w->clients[i].inlen = 0;
    }
}

static void *serve(void *arg)
{
    struct web *w = arg;
    struct pollfd p[2 + WEB_CLIENTS];
    struct web_client *pc[2 + WEB_CLIENTS];

    for (;;) {
        int64_t now = shm_mono_us(), next = now + 1000000;
        nfds_t n = 2;

        p[0] = (struct pollfd){.fd = w->wake[0], .events = POLLIN};
        p[1] = (struct pollfd){.fd = w->lfd, .events = POLLIN};
        for (uint32_t i = 0; i < WEB_CLIENTS; i++) {
            struct web_client *c = &w->clients[i];

            if (c->fd < 0)
                continue;
            if (now >= c->deadline_us) {
                drop(c);
                continue;
            }
            if (c->deadline_us < next)
                next = c->deadline_us;
            pc[n] = c;
            p[n++] = (struct pollfd){.fd = c->fd, .events = c->out ? POLLOUT : POLLIN};
        }
        if (poll(p, n, (int)((next - now + 999) / 1000)) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[0].revents)
            break;
        for (nfds_t i = 2; i < n; i++) {
            if (!p[i].revents)
                continue;
            if (pc[i]->out)
                client_write(pc[i]);
            else
                client_read(w, pc[i]);
        }
        if (p[1].revents & POLLIN)
            accept_clients(w, shm_mono_us());
    }
    return NULL;
}

/* ----------------------------------------------------------- life */

struct web *web_open(const char *addr, const struct shm *s, web_json_fn *json, void *arg,
                     char *err, size_t errlen)
{
    struct web *w = calloc(1, sizeof(*w));
    socklen_t alen;
    sigset_t all, old;
    int one = 1, rc;

    if (!w || !(w->secs = calloc(SHM_SERIES, sizeof(*w->secs)))) {
        snprintf(err, errlen, "out of memory for the web view");
        goto free_w;
    }
    w->shm = s;
    w->json = json;
    w->arg = arg;
    w->wake[0] = w->wake[1] = -1;
    for (uint32_t i = 0; i < WEB_CLIENTS; i++)
        w->clients[i].fd = -1;
    if (web_parse_addr(addr, &w->addr, &alen, err, errlen) < 0)
        goto free_w;
    w->lfd = socket(w->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (w->lfd < 0) {
        snprintf(err, errlen, "web view: socket: %s", strerror(errno));
        goto free_w;
    }
    setsockopt(w->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(w->lfd, (struct sockaddr *)&w->addr, alen) < 0 || listen(w->lfd, 64) < 0) {
        snprintf(err, errlen, "cannot serve the web view on %s: %s", addr, strerror(errno));
        goto close_lfd;
    }
    if (pipe2(w->wake, O_CLOEXEC) < 0) {
        snprintf(err, errlen, "web view: pipe: %s", strerror(errno));
        goto close_lfd;
    }
    /* Signals stay the supervisor's: its thread waits for SIGCHLD and handles stops. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&w->thread, NULL, serve, w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        snprintf(err, errlen, "web view: cannot start its thread: %s", strerror(rc));
        goto close_pipe;
    }
    return w;

close_pipe:
    close(w->wake[0]);
    close(w->wake[1]);
close_lfd:
    close(w->lfd);
free_w:
    if (w)
        free(w->secs);
    free(w);
    return NULL;
}

void web_set_shm(struct web *w, const struct shm *s)
{
    __atomic_store_n(&w->shm, s, __ATOMIC_RELEASE);
}

void web_address(const struct web *w, char *out, size_t len)
{
    char host[INET6_ADDRSTRLEN];

    if (w->addr.ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&w->addr;

        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
        snprintf(out, len, "[%s]:%u", host, ntohs(a->sin6_port));
    } else {
        const struct sockaddr_in *a = (const struct sockaddr_in *)&w->addr;

        inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
        snprintf(out, len, "%s:%u", host, ntohs(a->sin_port));
    }
}

void web_close(struct web *w)
{
    char b = 0;

    if (!w)
        return;
    while (write(w->wake[1], &b, 1) < 0 && errno == EINTR)
        ;
    pthread_join(w->thread, NULL);
    for (uint32_t i = 0; i < WEB_CLIENTS; i++)
        if (w->clients[i].fd >= 0)
            drop(&w->clients[i]);
    shutdown(w->lfd, SHUT_RDWR);
    close(w->lfd);
    close(w->wake[0]);
    close(w->wake[1]);
    free(w->script);
    free(w->secs);
    free(w);
}
