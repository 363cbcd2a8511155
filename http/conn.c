/*
 * The built-in HTTP/1.1 client: one exchange ("hop") of an http:// or
 * https:// request on a VU's own keep-alive connection.
 *
 * libcurl does everything, but its per-transfer work costs about as much
 * CPU as the kernel's part of a request; for the common case (HTTP/1.1 to a
 * loopback server) this client does what wrk does: one writev (or one TLS
 * record, with OpenSSL), one wait, one recv, no allocation.  The API sends
 * everything else (proxies, user:password@ URLs, targets curl would
 * rewrite) through curl.c.
 *
 * The code runs on the VU's coroutine and reads like blocking code: a wait
 * is the VU's one wait (vu_wait, with the request's deadline), and the
 * connection's watcher wakes the VU.  Each connection keeps one uv_poll for
 * its whole life, armed for reading; while the connection is idle, any
 * event on it (the server closing it) closes it.
 *
 * Private state: the worker's client (struct h1_client: buffers, the name
 * cache, the TLS context) and each VU's list of connections.
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

#include "base/buf.h"
#include "base/vu.h"
#include "http/h1.h"
#include "http/http.h"

#define RBUF_SIZE     (64 * 1024) /* the worker's receive buffer */
#define IDLE_MAX      4           /* idle connections a VU keeps */
#define DNS_ADDRS     4           /* addresses kept per host name */

struct h1_conn {
    uv_poll_t poll;
    struct h1_client *cl;
    struct vu *vu;                /* the VU that owns it */
    struct h1_conn **list;        /* the VU's list of connections */
    struct h1_conn *next;         /* in that list, most recently used first */
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

/* The worker's client. */
struct h1_client {
    uv_loop_t *loop;
    char *rbuf;                   /* receive buffer, RBUF_SIZE, made when needed */
    struct buf wbuf;              /* request heads, built here and sent at once */
    struct dns_entry *dns;        /* host names looked up */
    int ndns;
    SSL_CTX *ssl_ctx;             /* for https, made when needed */
    int insecure;                 /* no verification of the server */
};

struct h1_client *h1_client_create(uv_loop_t *loop, int insecure)
{
    struct h1_client *c = calloc(1, sizeof(*c));

    if (c) {
        c->loop = loop;
        c->insecure = insecure;
    }
    return c;
}

void h1_client_destroy(struct h1_client *c)
{
    if (!c)
        return;
    SSL_CTX_free(c->ssl_ctx);
    free(c->rbuf);
    buf_free(&c->wbuf);
    free(c->dns);
    free(c);
}

/* ------------------------------------------------------------ addresses */

/*
 * The addresses of host, looked up once per worker: targets are loopback
 * servers, so a name is "localhost" or one from /etc/hosts, and the lookup
 * is a file read.  Returns the entry's index (the table may move while a
 * VU waits: keep the index, not a pointer), or -1.
 */
static int resolve(struct h1_client *w, const char *host)
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
    struct h1_conn **p = c->list;

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
    vu_wake(c->vu);
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
 * Suspends the VU until the connection has one of events, the deadline
 * passes or the VU is cancelled.  Returns 0, -ETIMEDOUT, -ECANCELED, or
 * libuv's error if the watcher could not be armed.
 */
static int conn_wait(struct h1_conn *c, int events, int64_t deadline)
{
    int rc = conn_arm(c, events);

    if (rc < 0)
        return rc;
    c->events = 0;
    c->waiting = 1;
    do
        rc = vu_wait(c->vu, deadline, "http");
    while (rc == 0 && !c->events);
    c->waiting = 0;
    return rc;
}

static struct h1_conn *conn_new(struct h1_client *cl, struct vu *vu, struct h1_conn **list,
                                const struct url_parts *u, int fd)
{
    size_t hlen = strlen(u->host);
    struct h1_conn *c = calloc(1, sizeof(*c) + hlen + 1);

    if (!c)
        return NULL;
    if (uv_poll_init_socket(cl->loop, &c->poll, fd) < 0) {
        free(c);
        return NULL;
    }
    c->poll.data = c;
    c->cl = cl;
    c->vu = vu;
    c->list = list;
    c->fd = fd;
    c->port = u->port;
    memcpy(c->host, u->host, hlen + 1);
    c->next = *list;
    *list = c;
    return c;
}

/*
 * Connects to one address.  Returns the connection, or NULL with *err: a
 * negative errno, -ETIMEDOUT or -ECANCELED from the wait included.
 */
static struct h1_conn *connect_addr(struct h1_client *cl, struct vu *vu,
                                    struct h1_conn **list, const struct url_parts *u,
                                    const struct sockaddr *sa, socklen_t len,
                                    int64_t deadline, int *err)
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
    c = conn_new(cl, vu, list, u, fd);
    if (!c) {
        close(fd);
        *err = -ENOMEM;
        return NULL;
    }
    rc = connect(fd, (struct sockaddr *)&ss, len);
    if (rc < 0 && errno == EINPROGRESS) {
        rc = conn_wait(c, UV_READABLE | UV_WRITABLE, deadline);
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
 * SSL_CERT_DIR, as curl does here), peer verification unless --insecure,
 * HTTP/1.1 by ALPN.
 */
static SSL_CTX *tls_ctx(struct h1_client *cl)
{
    static const unsigned char alpn[] = "\x08http/1.1";
    SSL_CTX *ctx;

    if (cl->ssl_ctx)
        return cl->ssl_ctx;
    ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx)
        return NULL;
    SSL_CTX_set_default_verify_paths(ctx);
    SSL_CTX_set_verify(ctx, cl->insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
    /* An idle connection gives its 2 x 17 KB of record buffers back: 36 ->
     * 25 KiB per https VU, and no CPU cost measured (malloc reuses them). */
    SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
    /* A server that closes without close_notify ends a body like plain TCP. */
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_alpn_protos(ctx, alpn, sizeof(alpn) - 1);
    cl->ssl_ctx = ctx;
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
 * again, 1 when r is a real failure, or a negative errno from the wait.
 */
static int tls_wait(struct h1_conn *c, int r, int64_t deadline)
{
    switch (SSL_get_error(c->ssl, r)) {
    case SSL_ERROR_WANT_READ:
        return conn_wait(c, UV_READABLE, deadline);
    case SSL_ERROR_WANT_WRITE:
        return conn_wait(c, UV_READABLE | UV_WRITABLE, deadline);
    default:
        return 1;
    }
}

/*
 * Makes a new connection a TLS one: SNI and name verification for a host
 * name, address verification for an IP.  Returns 0, -EPROTO with a
 * message, or a negative errno from the wait.
 */
static int tls_start(struct h1_conn *c, const struct url_parts *u, int64_t deadline,
                     char *err, size_t errlen)
{
    SSL_CTX *ctx = tls_ctx(c->cl);
    struct in6_addr a;
    int ip = inet_pton(AF_INET, u->host, &a) == 1 || inet_pton(AF_INET6, u->host, &a) == 1;

    if (!ctx || !(c->ssl = SSL_new(ctx)) || !SSL_set_fd(c->ssl, c->fd)) {
        snprintf(err, errlen, "TLS: cannot create a session (out of memory?)");
        return -ENOMEM;
    }
    if (!ip)
        SSL_set_tlsext_host_name(c->ssl, u->host);
    if (!c->cl->insecure && ip)
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), u->host);
    else if (!c->cl->insecure)
        SSL_set1_host(c->ssl, u->host);
    for (;;) {
        int r, rc;

        ERR_clear_error();
        r = SSL_connect(c->ssl);
        if (r == 1)
            return 0;
        rc = tls_wait(c, r, deadline);
        if (rc == 1) {
            tls_error(c, r, err, errlen);
            return -EPROTO;
        }
        if (rc < 0)
            return rc;
    }
}

/*
 * Sends len bytes at data over TLS.  head: data is in the worker's buffer,
 * which another VU may overwrite while this one waits, so it is copied
 * first (into *own).  Returns 0 or a negative errno.
 */
static int tls_send(struct h1_conn *c, const char *data, size_t len, int head, char **own,
                    int64_t deadline)
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
        rc = tls_wait(c, r, deadline);
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

/*
 * An idle connection of the VU to the URL's host and port, or a new one.
 * Returns NULL with *rc: a negative errno with a message, -ETIMEDOUT or
 * -ECANCELED.
 */
static struct h1_conn *conn_get(struct h1_client *cl, struct vu *vu, struct h1_conn **list,
                                const struct url_parts *u, int64_t deadline, int *reused,
                                int *rc, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    struct h1_conn *c = NULL;
    int d;

    for (struct h1_conn **p = list; (c = *p); p = &c->next) {
        if (c->port == u->port && !c->ssl == !u->https && strcmp(c->host, u->host) == 0) {
            /* To the front: the list runs from the most recently used. */
            *p = c->next;
            c->next = *list;
            *list = c;
            *reused = 1;
            return c;
        }
    }
    *reused = 0;
    *rc = -EADDRNOTAVAIL;
    memset(&ss, 0, sizeof(ss));
    if (inet_pton(AF_INET, u->host, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
        ss.ss_family = AF_INET;
        c = connect_addr(cl, vu, list, u, (struct sockaddr *)&ss, sizeof(struct sockaddr_in),
                         deadline, rc);
    } else if (inet_pton(AF_INET6, u->host, &((struct sockaddr_in6 *)&ss)->sin6_addr) ==
               1) {
        ss.ss_family = AF_INET6;
        c = connect_addr(cl, vu, list, u, (struct sockaddr *)&ss,
                         sizeof(struct sockaddr_in6), deadline, rc);
    } else if ((d = resolve(cl, u->host)) >= 0) {
        for (int i = 0; i < cl->dns[d].n && !c; i++) {
            /* A copy: connecting may yield, and the table move meanwhile. */
            struct dns_entry *e = &cl->dns[d];
            socklen_t len = e->len[i];

            memcpy(&ss, &e->addr[i], len);
            c = connect_addr(cl, vu, list, u, (struct sockaddr *)&ss, len, deadline, rc);
            if (*rc == -ETIMEDOUT || *rc == -ECANCELED)
                break;
            if (c && i > 0)
                dns_prefer(&cl->dns[d], i); /* "localhost" is ::1 first, say */
        }
    } else {
        snprintf(err, errlen, "Could not resolve host: %s", u->host);
        *rc = -EHOSTUNREACH;
        return NULL;
    }
    if (!c) {
        snprintf(err, errlen, "Failed to connect to %s port %u: %s", u->host, u->port,
                 strerror(-*rc));
        return NULL;
    }
    if (u->https && (*rc = tls_start(c, u, deadline, err, errlen)) < 0) {
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
static int user_overrides(const struct http_hop *h)
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

static char *put(char *o, const char *s, size_t n)
{
    memcpy(o, s, n);
    return o + n;
}

#define PUT_LIT(o, s) put((o), (s), sizeof(s) - 1)

/*
 * Writes the request's head into the client's send buffer, the way curl
 * writes it: Host, User-Agent, Accept, the jar's cookies, the user's
 * headers ("Name:" alone removes an internal header, "Name;" sends it
 * empty), and for a body its Content-Length and a form Content-Type.
 * Returns its length, or 0 when memory ran out.
 */
static size_t build_head(struct buf *wbuf, const struct http_hop *h)
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
    buf_clear(wbuf);
    if (buf_reserve(wbuf, need) < 0)
        return 0;
    o = wbuf->data;
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
    wbuf->len = (size_t)(o - wbuf->data);
    return wbuf->len;
}

/*
 * Sends head (in the client's buffer, which another VU may overwrite while
 * this one waits: the unsent part is copied first) and the body.  Returns 0
 * or a negative errno.
 */
static int send_request(struct h1_conn *c, size_t head_len, const void *body,
                        size_t body_len, int64_t deadline)
{
    struct buf *wbuf = &c->cl->wbuf;
    char *own = NULL;
    const char *head = wbuf->data;
    size_t hoff = 0, boff = 0;
    int rc = 0;

    if (c->ssl) {
        /* A small body goes in the head's TLS record. */
        if (body_len && body_len <= 16384 && buf_append(wbuf, body, body_len) == 0) {
            head_len += body_len;
            body_len = 0;
        }
        rc = tls_send(c, wbuf->data, head_len, 1, &own, deadline);
        if (rc == 0 && body_len)
            rc = tls_send(c, body, body_len, 0, &own, deadline);
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
        rc = conn_wait(c, UV_READABLE | UV_WRITABLE, deadline);
        if (rc < 0)
            break;
    }
    free(own);
    conn_arm(c, UV_READABLE);
    return rc;
}

static int on_h1_header(void *ud, const char *line, size_t len)
{
    return response_keep_header(ud, line, len) < 0 ? -1 : 0;
}

static int on_h1_body(void *ud, const char *data, size_t len)
{
    return response_keep_body(ud, data, len) < 0 ? -1 : 0;
}

static const struct h1_callbacks h1_cbs = {on_h1_header, on_h1_body};

/* What one try of a hop may end in, besides 0 and a negative errno. */
#define HOP_RETRY 1 /* a reused connection turned out closed: try a new one */

/*
 * Reads the response into r until the parser has it all.  Returns 0 with
 * *status and *keep, HOP_RETRY when a reused connection turned out closed
 * before any byte came (the server closed it while idle), or a negative
 * errno (with a message, but for -ETIMEDOUT and -ECANCELED).
 */
static int receive_response(struct h1_conn *c, const struct http_hop *h,
                            struct loads_response *r, int reused, int *status, int *keep,
                            char *err, size_t errlen)
{
    char *rbuf = c->cl->rbuf;
    struct h1_parser p;
    size_t got = 0;
    int rc = H1_MORE;

    h1_init(&p, strcmp(h->method, "HEAD") == 0);
    for (;;) {
        /* Wait first: right after sending, the answer is not there yet.
         * TLS may hold decrypted bytes already read from the socket. */
        ssize_t n = c->ssl && SSL_pending(c->ssl) ? 0 : conn_wait(c, UV_READABLE,
                                                                   h->deadline_us);

        if (n < 0) {
            h1_free(&p);
            snprintf(err, errlen, "%s", strerror((int)-n));
            return (int)n;
        }
        do {
            n = c->ssl ? tls_recv(c, rbuf, RBUF_SIZE, err, errlen)
                       : recv(c->fd, rbuf, RBUF_SIZE, 0);
        } while (n < 0 && errno == EINTR);

        if (n > 0) {
            size_t used = 0;

            got += (size_t)n;
            rc = h1_feed(&p, rbuf, (size_t)n, &used, &h1_cbs, r);
            if (rc == H1_DONE && used < (size_t)n)
                p.keep_alive = 0; /* bytes nobody asked for */
            if (rc != H1_MORE)
                break;
        } else if (n == 0) {
            if (reused && !got) {
                h1_free(&p);
                return HOP_RETRY;
            }
            rc = h1_eof(&p, &h1_cbs, r);
            break;
        } else if (errno != EAGAIN) {
            int e = errno;

            h1_free(&p);
            if (reused && !got && (e == ECONNRESET || e == EPIPE))
                return HOP_RETRY;
            if (e != EPROTO || !c->ssl) /* else tls_recv said why */
                snprintf(err, errlen, "Recv failure: %s", strerror(e));
            return -e;
        }
    }
    if (rc == H1_ERROR) {
        snprintf(err, errlen, "%s", p.error);
        h1_free(&p);
        return -EPROTO;
    }
    *status = p.status;
    *keep = p.keep_alive;
    h1_free(&p);
    return 0;
}

/* Closes the idle connections past IDLE_MAX, the least recently used. */
static void trim_idle(struct h1_conn **list)
{
    struct h1_conn *c = *list;

    for (int i = 1; c && i < IDLE_MAX; i++)
        c = c->next;
    while (c && c->next)
        conn_close(c->next);
}

int h1_hop(struct h1_client *cl, struct vu *vu, struct h1_conn **conns,
           const struct http_hop *h, struct loads_response *r, int *status, char *err,
           size_t errlen)
{
    int reused, keep = 0, rc = HOP_RETRY;

    if (!cl->rbuf && !(cl->rbuf = malloc(RBUF_SIZE))) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    for (int tries = 0; rc == HOP_RETRY && tries < 2; tries++) {
        struct h1_conn *c = conn_get(cl, vu, conns, h->u, h->deadline_us, &reused, &rc, err,
                                     errlen);
        size_t head_len;

        if (!c)
            break;
        response_begin_hop(r);
        head_len = build_head(&cl->wbuf, h);
        if (!head_len) {
            snprintf(err, errlen, "out of memory");
            rc = -ENOMEM;
        } else {
            rc = send_request(c, head_len, h->has_body ? h->body : NULL,
                              h->has_body ? h->body_len : 0, h->deadline_us);
            if (rc < 0 && rc != -ETIMEDOUT && rc != -ECANCELED) {
                /* A reused connection the server closed: send on a new one. */
                snprintf(err, errlen, "Send failure: %s", strerror(-rc));
                if (reused && (rc == -EPIPE || rc == -ECONNRESET))
                    rc = HOP_RETRY;
            } else if (rc == 0) {
                rc = receive_response(c, h, r, reused, status, &keep, err, errlen);
            }
        }
        if (rc != 0 || !keep)
            conn_close(c);
    }
    if (rc == HOP_RETRY)
        rc = -ECONNRESET; /* twice: err says how */
    if (rc == 0)
        trim_idle(conns);
    return rc;
}

void h1_close_all(struct h1_conn **conns)
{
    while (*conns)
        conn_close(*conns);
}
