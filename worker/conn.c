/*
 * The built-in HTTP/1.1 client: one exchange ("hop") of an http:// or
 * https:// request on a VU's own keep-alive connection.
 *
 * libcurl does everything, but its per-transfer work costs about as much
 * CPU as the kernel's part of a request; for the common case (HTTP/1.1 to a
 * loopback server) this client does what wrk does: one writev (or one TLS
 * record, with OpenSSL), one wait, one recv, no allocation.  http.c sends
 * everything else (proxies, user:password@ URLs, targets curl would
 * rewrite) through curl.
 *
 * The code runs on the VU's coroutine and reads like blocking code: a wait
 * yields to the loop, and the connection's watcher resumes the VU.  Each
 * connection keeps one uv_poll for its whole life, armed for reading; while
 * the connection is idle, any event on it (the server closing it) closes it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "worker/cookie.h"
#include "worker/h1.h"
#include "worker/internal.h"
#include "worker/url.h"

#define RBUF_SIZE     (64 * 1024) /* the worker's receive buffer */
#define IDLE_MAX      4           /* idle connections a VU keeps */
#define DNS_ADDRS     4           /* addresses kept per host name */

struct h1_conn {
    uv_poll_t poll;
    struct loads_test *vu;
    struct h1_conn *next;         /* the VU's connections */
    int fd;
    int waiting;                  /* the VU is suspended on it */
    int events;                   /* what woke it: UV_READABLE, UV_WRITABLE */
    int armed;                    /* events the watcher is started with */
    unsigned port;
    SSL *ssl;                     /* https: the TLS session; NULL for http */
    char host[];                  /* as in struct url_parts */
};

struct dns_entry {
    char host[256];
    int n;
    socklen_t len[DNS_ADDRS];
    struct sockaddr_storage addr[DNS_ADDRS];
};

/* ------------------------------------------------------------ addresses */

/*
 * The addresses of host, looked up once per worker: targets are loopback
 * servers, so a name is "localhost" or one from /etc/hosts, and the lookup
 * is a file read.  Returns the entry's index (the table may move while a
 * VU waits: keep the index, not a pointer), or -1.
 */
static int resolve(struct worker *w, const char *host)
{
    struct dns_entry *e, *more;
    struct addrinfo hints = {0}, *res, *ai;

    for (int i = 0; i < w->ndns; i++)
        if (strcmp(w->dns[i].host, host) == 0)
            return i;
    more = realloc(w->dns, (size_t)(w->ndns + 1) * sizeof(*w->dns));
    if (!more)
        return -1;
    w->dns = more;
    e = &w->dns[w->ndns];
    memset(e, 0, sizeof(*e));
    snprintf(e->host, sizeof(e->host), "%s", host);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    if (getaddrinfo(host, "80", &hints, &res) != 0)
        return -1;
    for (ai = res; ai && e->n < DNS_ADDRS; ai = ai->ai_next) {
        memcpy(&e->addr[e->n], ai->ai_addr, ai->ai_addrlen);
        e->len[e->n++] = ai->ai_addrlen;
    }
    freeaddrinfo(res);
    if (!e->n)
        return -1;
    return w->ndns++;
}

/* Moves the address that answered to the front of its entry. */
static void dns_prefer(struct dns_entry *e, int i)
{
    struct sockaddr_storage a = e->addr[i];
    socklen_t len = e->len[i];

    e->addr[i] = e->addr[0];
    e->len[i] = e->len[0];
    e->addr[0] = a;
    e->len[0] = len;
}

/* ---------------------------------------------------------- connections */

static void on_conn_closed(uv_handle_t *h)
{
    free(h->data);
}

static void conn_close(struct h1_conn *c)
{
    struct h1_conn **p = &c->vu->conns;

    while (*p && *p != c)
        p = &(*p)->next;
    if (*p)
        *p = c->next;
    SSL_free(c->ssl);
    c->ssl = NULL;
    uv_close((uv_handle_t *)&c->poll, on_conn_closed);
    close(c->fd);
}

/*
 * Reads what arrived on an idle TLS connection: 1 when it was only TLS
 * housekeeping (the connection stays), 0 when it was data, the end, or an
 * error (the connection goes).
 */
static int tls_idle_ok(struct h1_conn *c)
{
    char b;
    int r;

    ERR_clear_error();
    r = SSL_read(c->ssl, &b, 1);
    return r <= 0 && SSL_get_error(c->ssl, r) == SSL_ERROR_WANT_READ;
}

/*
 * The watcher.  A VU waiting on the connection is resumed; an idle
 * connection that becomes readable was closed by the server (or sent
 * something unasked): it is closed.
 */
static void on_conn_poll(uv_poll_t *h, int status, int events)
{
    struct h1_conn *c = h->data;

    if (!c->waiting) {
        if (c->ssl && status == 0 && tls_idle_ok(c))
            return; /* a TLS record that carries no data (a session ticket) */
        conn_close(c);
        return;
    }
    if (status < 0) {
        /* libuv stops the watcher on POLLERR; the next syscall says why. */
        c->armed = 0;
        events = UV_READABLE | UV_WRITABLE;
    }
    c->events = events;
    vu_resume(c->vu);
}

/* Arms the watcher for events.  Returns 0 or a negative libuv error. */
static int conn_arm(struct h1_conn *c, int events)
{
    int rc = 0;

    if (c->armed != events) {
        rc = uv_poll_start(&c->poll, events, on_conn_poll);
        c->armed = rc < 0 ? 0 : events;
    }
    return rc;
}

/*
 * Suspends the VU until the connection has one of events, the request's
 * time is up or the run is stopped.  Returns 0, -ETIMEDOUT, -ECANCELED, or
 * libuv's error if the watcher could not be armed.  (http.c words the
 * first two for a person.)
 */
static int conn_wait(struct h1_conn *c, int events)
{
    struct loads_test *vu = c->vu;
    int rc = conn_arm(c, events);

    if (rc < 0)
        return rc;
    c->events = 0;
    c->waiting = 1;
    vu_yield(vu, VU_WAIT_HTTP);
    c->waiting = 0;
    if (vu->aborted)
        return -ECANCELED;
    if (vu->h1_timed_out)
        return -ETIMEDOUT;
    return 0;
}

/* Ends the wait of a VU whose request is past its deadline (from the tick). */
void worker_h1_check_timeouts(struct worker *w, int64_t now)
{
    for (uint32_t i = 0; i < w->nvus; i++) {
        struct loads_test *vu = &w->vus[i];

        if (vu->h1_deadline_us && now >= vu->h1_deadline_us &&
            vu->state == VU_WAIT_HTTP) {
            vu->h1_timed_out = 1;
            vu_resume(vu);
        }
    }
}

static struct h1_conn *conn_new(struct loads_test *vu, const struct url_parts *u, int fd)
{
    size_t hlen = strlen(u->host);
    struct h1_conn *c = calloc(1, sizeof(*c) + hlen + 1);

    if (!c)
        return NULL;
    if (uv_poll_init_socket(&vu->w->loop, &c->poll, fd) < 0) {
        free(c);
        return NULL;
    }
    c->poll.data = c;
    c->vu = vu;
    c->fd = fd;
    c->port = u->port;
    memcpy(c->host, u->host, hlen + 1);
    c->next = vu->conns;
    vu->conns = c;
    return c;
}

/*
 * Connects to one address.  Returns the connection, or NULL with errno-like
 * *err (a negative errno, or -ETIMEDOUT / -ECANCELED from the wait).
 */
static struct h1_conn *connect_addr(struct loads_test *vu, const struct url_parts *u,
                                    const struct sockaddr *sa, socklen_t len, int *err)
{
    static const int one = 1;
    struct sockaddr_storage ss;
    struct h1_conn *c;
    socklen_t elen = sizeof(int);
    int fd, rc, soerr = 0;

    memcpy(&ss, sa, len);
    if (ss.ss_family == AF_INET)
        ((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)u->port);
    else
        ((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)u->port);
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *err = -errno;
        return NULL;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c = conn_new(vu, u, fd);
    if (!c) {
        close(fd);
        *err = -ENOMEM;
        return NULL;
    }
    rc = connect(fd, (struct sockaddr *)&ss, len);
    if (rc < 0 && errno == EINPROGRESS) {
        rc = conn_wait(c, UV_READABLE | UV_WRITABLE);
        if (rc < 0) {
            conn_close(c);
            *err = rc;
            return NULL;
        }
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &elen);
        if (soerr) {
            errno = soerr;
            rc = -1;
        }
    }
    if (rc < 0) {
        *err = -errno;
        conn_close(c);
        return NULL;
    }
    conn_arm(c, UV_READABLE);
    return c;
}

/* ------------------------------------------------------------------ TLS */

/*
 * The worker's TLS context, made on the first https request: the system's
 * CA certificates (OpenSSL's default paths, which honour SSL_CERT_FILE and
 * SSL_CERT_DIR, as curl does here), peer verification, HTTP/1.1 by ALPN.
 */
static SSL_CTX *tls_ctx(struct worker *w)
{
    static const unsigned char alpn[] = "\x08http/1.1";
    SSL_CTX *ctx;

    if (w->ssl_ctx)
        return w->ssl_ctx;
    ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx)
        return NULL;
    SSL_CTX_set_default_verify_paths(ctx);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    /* An idle connection gives its 2 x 17 KB of record buffers back: 36 ->
     * 25 KiB per https VU, and no CPU cost measured (malloc reuses them). */
    SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
    /* A server that closes without close_notify ends a body like plain TCP. */
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_alpn_protos(ctx, alpn, sizeof(alpn) - 1);
    w->ssl_ctx = ctx;
    return ctx;
}

/*
 * Describes a failed TLS call in one line, with OpenSSL's words as curl
 * gives them: "SSL certificate problem: ..." when verification failed,
 * else the first error of OpenSSL's queue, else the system's.
 */
static void tls_error(struct h1_conn *c, int r, char *err, size_t errlen)
{
    int sys = errno;
    long verify = SSL_get_verify_result(c->ssl);
    unsigned long e = ERR_peek_error();
    int kind = SSL_get_error(c->ssl, r);
    char text[256];

    if (verify != X509_V_OK) {
        snprintf(err, errlen, "SSL certificate problem: %s",
                 X509_verify_cert_error_string(verify));
    } else if (e) {
        ERR_error_string_n(e, text, sizeof(text));
        snprintf(err, errlen, "TLS: %s", text);
    } else if (kind == SSL_ERROR_SYSCALL && sys) {
        snprintf(err, errlen, "TLS: %s", strerror(sys));
    } else {
        snprintf(err, errlen, "TLS: the server closed the connection");
    }
    ERR_clear_error();
}

/*
 * Waits for what an SSL call that returned r wants.  Returns 0 to call it
 * again, 1 when r is a real failure, or -ETIMEDOUT / -ECANCELED.
 */
static int tls_wait(struct h1_conn *c, int r)
{
    switch (SSL_get_error(c->ssl, r)) {
    case SSL_ERROR_WANT_READ:
        return conn_wait(c, UV_READABLE);
    case SSL_ERROR_WANT_WRITE:
        return conn_wait(c, UV_READABLE | UV_WRITABLE);
    default:
        return 1;
    }
}

/*
 * Makes a new connection a TLS one: SNI and name verification for a host
 * name, address verification for an IP.  Returns 0, or -1 with a message.
 */
static int tls_start(struct h1_conn *c, const struct url_parts *u, char *err, size_t errlen)
{
    SSL_CTX *ctx = tls_ctx(c->vu->w);
    struct in6_addr a;
    int ip = inet_pton(AF_INET, u->host, &a) == 1 || inet_pton(AF_INET6, u->host, &a) == 1;

    if (!ctx || !(c->ssl = SSL_new(ctx)) || !SSL_set_fd(c->ssl, c->fd)) {
        snprintf(err, errlen, "TLS: cannot create a session (out of memory?)");
        return -1;
    }
    if (ip) {
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), u->host);
    } else {
        SSL_set_tlsext_host_name(c->ssl, u->host);
        SSL_set1_host(c->ssl, u->host);
    }
    for (;;) {
        int r, rc;

        ERR_clear_error();
        r = SSL_connect(c->ssl);
        if (r == 1)
            return 0;
        rc = tls_wait(c, r);
        if (rc == 1)
            tls_error(c, r, err, errlen);
        else if (rc < 0)
            snprintf(err, errlen, "%s", strerror(-rc)); /* http.c words a timeout */
        if (rc)
            return -1;
    }
}

/*
 * Sends len bytes at data over TLS.  head: data is in the worker's buffer,
 * which another VU may overwrite while this one waits, so it is copied
 * first (into *own).  Returns 0 or a negative errno.
 */
static int tls_send(struct h1_conn *c, const char *data, size_t len, int head, char **own)
{
    while (len) {
        int r, rc;

        ERR_clear_error();
        r = SSL_write(c->ssl, data, (int)(len > INT32_MAX ? INT32_MAX : len));
        if (r > 0) {
            data += r;
            len -= (size_t)r;
            continue;
        }
        if (head && !*own) {
            if (!(*own = malloc(len)))
                return -ENOMEM;
            memcpy(*own, data, len);
            data = *own;
        }
        rc = tls_wait(c, r);
        if (rc == 1)
            return SSL_get_error(c->ssl, r) == SSL_ERROR_SYSCALL && errno ? -errno : -EPIPE;
        if (rc < 0)
            return rc;
    }
    return 0;
}

/*
 * Reads decrypted bytes: like recv, > 0 bytes, 0 at the end, or -1 with
 * errno (EAGAIN when more must arrive first; EPROTO for a TLS failure,
 * described in err).
 */
static ssize_t tls_recv(struct h1_conn *c, char *buf, size_t len, char *err, size_t errlen)
{
    int r, kind;

    ERR_clear_error();
    r = SSL_read(c->ssl, buf, (int)len);
    if (r > 0)
        return r;
    kind = SSL_get_error(c->ssl, r);
    if (kind == SSL_ERROR_ZERO_RETURN)
        return 0;
    if (kind == SSL_ERROR_WANT_READ || kind == SSL_ERROR_WANT_WRITE) {
        errno = EAGAIN;
        return -1;
    }
    if (kind == SSL_ERROR_SYSCALL && !ERR_peek_error() && errno) {
        ERR_clear_error();
        return -1;
    }
    tls_error(c, r, err, errlen);
    errno = EPROTO;
    return -1;
}

/* An idle connection of the VU to the URL's host and port, or a new one. */
static struct h1_conn *conn_get(struct loads_test *vu, const struct url_parts *u,
                                int *reused, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    struct h1_conn *c = NULL;
    int rc = -EADDRNOTAVAIL, d;

    for (struct h1_conn **p = &vu->conns; (c = *p); p = &c->next) {
        if (c->port == u->port && !c->ssl == !u->https && strcmp(c->host, u->host) == 0) {
            /* To the front: the list runs from the most recently used. */
            *p = c->next;
            c->next = vu->conns;
            vu->conns = c;
            *reused = 1;
            return c;
        }
    }
    *reused = 0;
    memset(&ss, 0, sizeof(ss));
    if (inet_pton(AF_INET, u->host, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
        ss.ss_family = AF_INET;
        c = connect_addr(vu, u, (struct sockaddr *)&ss, sizeof(struct sockaddr_in), &rc);
    } else if (inet_pton(AF_INET6, u->host, &((struct sockaddr_in6 *)&ss)->sin6_addr) ==
               1) {
        ss.ss_family = AF_INET6;
        c = connect_addr(vu, u, (struct sockaddr *)&ss, sizeof(struct sockaddr_in6), &rc);
    } else if ((d = resolve(vu->w, u->host)) >= 0) {
        for (int i = 0; i < vu->w->dns[d].n && !c; i++) {
            /* A copy: connecting may yield, and the table move meanwhile. */
            struct dns_entry *e = &vu->w->dns[d];

            memcpy(&ss, &e->addr[i], e->len[i]);
            c = connect_addr(vu, u, (struct sockaddr *)&ss, e->len[i], &rc);
            if (rc == -ETIMEDOUT || rc == -ECANCELED)
                break;
            if (c && i > 0)
                dns_prefer(&vu->w->dns[d], i); /* "localhost" is ::1 first, say */
        }
    } else {
        snprintf(err, errlen, "Could not resolve host: %s", u->host);
        return NULL;
    }
    if (!c) {
        snprintf(err, errlen, "Failed to connect to %s port %u: %s", u->host, u->port,
                 strerror(-rc));
        return NULL;
    }
    if (u->https && tls_start(c, u, err, errlen) < 0) {
        conn_close(c);
        return NULL;
    }
    return c;
}

/* ------------------------------------------------------------- requests */

/* Internal headers the user's headers may replace or remove. */
enum { H_HOST = 1, H_UA = 2, H_ACCEPT = 4, H_COOKIE = 8, H_CLEN = 16, H_CTYPE = 32 };

static const struct {
    const char *name;
    size_t len;
    int bit;
} internal_headers[] = {
    {"Host", 4, H_HOST},           {"User-Agent", 10, H_UA},
    {"Accept", 6, H_ACCEPT},       {"Cookie", 6, H_COOKIE},
    {"Content-Length", 14, H_CLEN}, {"Content-Type", 12, H_CTYPE},
};

/* The length of a user header's name: up to ':' or ';', 0 if neither. */
static size_t header_name_len(const char *h)
{
    size_t n = strcspn(h, ":;\r\n");

    return h[n] == ':' || h[n] == ';' ? n : 0;
}

/* Which internal headers the user's headers replace or remove. */
static int user_overrides(const struct hop *h)
{
    int mask = 0;

    for (const char *const *p = h->headers; p && *p; p++) {
        size_t n = header_name_len(*p);

        if (!n)
            continue;
        for (size_t i = 0; i < sizeof(internal_headers) / sizeof(internal_headers[0]); i++)
            if (n == internal_headers[i].len &&
                strncasecmp(*p, internal_headers[i].name, n) == 0)
                mask |= internal_headers[i].bit;
    }
    return mask;
}

/* Makes the worker's send buffer hold at least need bytes. */
static int wbuf_reserve(struct worker *w, size_t need)
{
    char *p;
    size_t n = w->wbuf_cap ? w->wbuf_cap : 4096;

    if (need <= w->wbuf_cap)
        return 0;
    while (n < need)
        n *= 2;
    p = realloc(w->wbuf, n);
    if (!p)
        return -ENOMEM;
    w->wbuf = p;
    w->wbuf_cap = n;
    return 0;
}

static char *put(char *o, const char *s, size_t n)
{
    memcpy(o, s, n);
    return o + n;
}

#define PUT_LIT(o, s) put((o), (s), sizeof(s) - 1)

/*
 * Writes the request's head into the worker's send buffer, the way curl
 * writes it: Host, User-Agent, Accept, the jar's cookies, the user's
 * headers ("Name:" alone removes an internal header, "Name;" sends it
 * empty), and for a body its Content-Length and a form Content-Type.
 * Returns its length, or 0 when memory ran out.
 */
static size_t build_head(struct worker *w, const struct hop *h)
{
    const struct url_parts *u = h->u;
    int mask = user_overrides(h);
    size_t need = strlen(h->method) + u->target_len + u->authority_len + 200;
    char clen[32], *o;
    int clen_n = 0;

    if (h->cookie)
        need += strlen(h->cookie) + 10;
    for (const char *const *p = h->headers; p && *p; p++)
        need += strlen(*p) + 4;
    if (wbuf_reserve(w, need) < 0)
        return 0;
    o = w->wbuf;
    o = put(o, h->method, strlen(h->method));
    o = PUT_LIT(o, " ");
    if (u->target_len == 0 || u->target[0] == '?')
        o = PUT_LIT(o, "/");
    o = put(o, u->target, u->target_len);
    o = PUT_LIT(o, " HTTP/1.1\r\n");
    if (!(mask & H_HOST)) {
        size_t alen = u->authority_len;

        /* curl leaves out the scheme's default port. */
        if (!u->https && alen > 3 && memcmp(u->authority + alen - 3, ":80", 3) == 0)
            alen -= 3;
        else if (u->https && alen > 4 && memcmp(u->authority + alen - 4, ":443", 4) == 0)
            alen -= 4;
        o = PUT_LIT(o, "Host: ");
        o = put(o, u->authority, alen);
        o = PUT_LIT(o, "\r\n");
    }
    if (!(mask & H_UA))
        o = PUT_LIT(o, "User-Agent: loads/" LOADS_VERSION "\r\n");
    if (!(mask & H_ACCEPT))
        o = PUT_LIT(o, "Accept: */*\r\n");
    if (h->cookie && !(mask & H_COOKIE)) {
        o = PUT_LIT(o, "Cookie: ");
        o = put(o, h->cookie, strlen(h->cookie));
        o = PUT_LIT(o, "\r\n");
    }
    for (const char *const *p = h->headers; p && *p; p++) {
        size_t n = header_name_len(*p), vlen;
        const char *v;

        if (!n)
            continue;
        v = *p + n + 1;
        vlen = strcspn(v, "\r\n");
        if ((*p)[n] == ':') {
            size_t b = strspn(v, " \t");

            if (b == vlen)
                continue; /* "Name:" removes the header */
            o = put(o, *p, (size_t)(v - *p) + vlen);
        } else {
            if (vlen)
                continue; /* "Name;value" is not a header */
            o = put(o, *p, n);
            o = PUT_LIT(o, ":");
        }
        o = PUT_LIT(o, "\r\n");
    }
    if (h->has_body) {
        if (!(mask & H_CLEN)) {
            clen_n = snprintf(clen, sizeof(clen), "Content-Length: %zu\r\n", h->body_len);
            o = put(o, clen, (size_t)clen_n);
        }
        if (!(mask & H_CTYPE))
            o = PUT_LIT(o, "Content-Type: application/x-www-form-urlencoded\r\n");
    }
    o = PUT_LIT(o, "\r\n");
    return (size_t)(o - w->wbuf);
}

/*
 * Sends head (in the worker's buffer, which another VU may overwrite while
 * this one waits: the unsent part is copied first) and the body.  Returns 0
 * or a negative errno.
 */
static int send_request(struct h1_conn *c, size_t head_len, const void *body,
                        size_t body_len)
{
    struct worker *w = c->vu->w;
    char *own = NULL;
    const char *head = w->wbuf;
    size_t hoff = 0, boff = 0;
    int rc = 0;

    if (c->ssl) {
        /* A small body goes in the head's TLS record. */
        if (body_len && body_len <= 16384 && wbuf_reserve(w, head_len + body_len) == 0) {
            memcpy(w->wbuf + head_len, body, body_len);
            head_len += body_len;
            body_len = 0;
        }
        rc = tls_send(c, w->wbuf, head_len, 1, &own);
        if (rc == 0 && body_len)
            rc = tls_send(c, body, body_len, 0, &own);
        free(own);
        conn_arm(c, UV_READABLE);
        return rc;
    }
    while (hoff < head_len || boff < body_len) {
        struct iovec iov[2];
        int n = 0;
        ssize_t sent;

        if (hoff < head_len)
            iov[n++] = (struct iovec){(void *)(head + hoff), head_len - hoff};
        if (boff < body_len)
            iov[n++] = (struct iovec){(char *)body + boff, body_len - boff};
        sent = writev(c->fd, iov, n);
        if (sent < 0 && errno == EINTR)
            continue;
        if (sent < 0 && errno != EAGAIN) {
            rc = -errno;
            break;
        }
        if (sent > 0) {
            size_t s = (size_t)sent, h = head_len - hoff < s ? head_len - hoff : s;

            hoff += h;
            boff += s - h;
            continue;
        }
        if (!own && hoff < head_len) {
            own = malloc(head_len - hoff);
            if (!own) {
                rc = -ENOMEM;
                break;
            }
            memcpy(own, head + hoff, head_len - hoff);
            head = own - hoff;
        }
        rc = conn_wait(c, UV_READABLE | UV_WRITABLE);
        if (rc < 0)
            break;
    }
    free(own);
    conn_arm(c, UV_READABLE);
    return rc;
}

static int on_h1_header(void *ud, const char *line, size_t len)
{
    return worker_http_keep_header(ud, line, len) < 0 ? -1 : 0;
}

static int on_h1_body(void *ud, const char *data, size_t len)
{
    return worker_http_keep_body(ud, data, len) < 0 ? -1 : 0;
}

static const struct h1_callbacks h1_cbs = {on_h1_header, on_h1_body};

/* Outcomes of one try of a hop. */
enum { HOP_OK = 0, HOP_FAILED = -1, HOP_RETRY = -2 };

/*
 * Reads the response until the parser has it all.  Returns HOP_OK,
 * HOP_FAILED with a message, or HOP_RETRY when a reused connection turned
 * out closed before any byte came (the server closed it while idle).
 */
static int receive_response(struct h1_conn *c, struct hop *h, int reused, int *keep)
{
    struct loads_test *vu = c->vu;
    struct worker *w = vu->w;
    struct h1_parser p;
    size_t got = 0;
    int rc = H1_MORE;

    h1_init(&p, strcmp(h->method, "HEAD") == 0);
    for (;;) {
        /* Wait first: right after sending, the answer is not there yet.
         * TLS may hold decrypted bytes already read from the socket. */
        ssize_t n = c->ssl && SSL_pending(c->ssl) ? 0 : conn_wait(c, UV_READABLE);

        if (n < 0) {
            h1_free(&p);
            snprintf(h->err, h->errlen, "%s", strerror((int)-n));
            return HOP_FAILED;
        }
        do {
            n = c->ssl ? tls_recv(c, w->rbuf, RBUF_SIZE, h->err, h->errlen)
                       : recv(c->fd, w->rbuf, RBUF_SIZE, 0);
        } while (n < 0 && errno == EINTR);

        if (n > 0) {
            size_t used = 0;

            got += (size_t)n;
            rc = h1_feed(&p, w->rbuf, (size_t)n, &used, &h1_cbs, vu);
            if (rc == H1_DONE && used < (size_t)n)
                p.keep_alive = 0; /* bytes nobody asked for */
            if (rc != H1_MORE)
                break;
        } else if (n == 0) {
            if (reused && !got) {
                h1_free(&p);
                return HOP_RETRY;
            }
            rc = h1_eof(&p, &h1_cbs, vu);
            break;
        } else if (errno != EAGAIN) {
            int e = errno;

            h1_free(&p);
            if (reused && !got && (e == ECONNRESET || e == EPIPE))
                return HOP_RETRY;
            if (e != EPROTO || !c->ssl) /* else tls_recv said why */
                snprintf(h->err, h->errlen, "Recv failure: %s", strerror(e));
            return HOP_FAILED;
        }
    }
    if (rc == H1_ERROR) {
        snprintf(h->err, h->errlen, "%s", p.error);
        h1_free(&p);
        return HOP_FAILED;
    }
    h->status = p.status;
    *keep = p.keep_alive;
    h1_free(&p);
    return HOP_OK;
}

/* Closes the idle connections past IDLE_MAX, the least recently used. */
static void trim_idle(struct loads_test *vu)
{
    struct h1_conn *c = vu->conns;

    for (int i = 1; c && i < IDLE_MAX; i++)
        c = c->next;
    while (c && c->next)
        conn_close(c->next);
}

/*
 * One exchange over the VU's connection to the URL's host: connect if
 * needed, send, receive.  A reused connection that the server had closed
 * is replaced once, as curl does.  Returns 0 with h->status, or -1 with a
 * message in h->err (vu->h1_timed_out or vu->aborted tell a deadline or a
 * stop).
 */
int worker_h1_hop(struct loads_test *vu, struct hop *h)
{
    struct worker *w = vu->w;
    size_t head_len;
    int reused, keep = 0, rc = HOP_RETRY;

    if (!w->rbuf && !(w->rbuf = malloc(RBUF_SIZE))) {
        snprintf(h->err, h->errlen, "out of memory");
        return -1;
    }
    vu->h1_timed_out = 0;
    vu->h1_deadline_us = h->deadline_us;
    for (int tries = 0; rc == HOP_RETRY && tries < 2; tries++) {
        struct h1_conn *c = conn_get(vu, h->u, &reused, h->err, h->errlen);

        rc = HOP_FAILED;
        if (!c)
            break;
        head_len = build_head(w, h);
        if (!head_len) {
            snprintf(h->err, h->errlen, "out of memory");
            break;
        }
        rc = send_request(c, head_len, h->has_body ? h->body : NULL,
                          h->has_body ? h->body_len : 0);
        if (rc == -ETIMEDOUT || rc == -ECANCELED) {
            snprintf(h->err, h->errlen, "%s", strerror(-rc));
            rc = HOP_FAILED;
        } else if (rc < 0) {
            /* A reused connection the server closed: send on a new one. */
            int e = -rc;

            rc = reused && (e == EPIPE || e == ECONNRESET) ? HOP_RETRY : HOP_FAILED;
            snprintf(h->err, h->errlen, "Send failure: %s", strerror(e));
        } else {
            rc = receive_response(c, h, reused, &keep);
        }
        if (rc != HOP_OK || !keep)
            conn_close(c);
    }
    vu->h1_deadline_us = 0;
    if (rc != HOP_OK)
        return -1;
    trim_idle(vu);
    return 0;
}

/* Closes a VU's connections, at the end of the worker. */
void worker_h1_vu_close(struct loads_test *vu)
{
    while (vu->conns)
        conn_close(vu->conns);
}

void worker_h1_close(struct worker *w)
{
    SSL_CTX_free(w->ssl_ctx);
    w->ssl_ctx = NULL;
    free(w->rbuf);
    free(w->wbuf);
    free(w->dns);
    w->rbuf = w->wbuf = NULL;
    w->dns = NULL;
    w->ndns = 0;
}
