/*
 * bad_http_server: an HTTP server that misbehaves on purpose, for
 * tests/e2e/bad_server*.sh.  Not a test module: the test builds it with
 *     cc bad_http_server.c -o bad_http_server
 *
 *     bad_http_server MODE
 *
 * It listens on a free loopback port (127.0.0.1, port 0), prints
 * "bad_http_server: listening on PORT" and serves every connection, many at
 * once (one process, poll()), as MODE says:
 *   silent   reads the request, and whatever follows, and never answers;
 *   trickle  answers a valid 200 whose head and body arrive one byte per
 *            second (77 bytes: over a minute);
 *   reset    reads the request head, then closes with SO_LINGER 0: the
 *            client gets a TCP RST instead of an answer;
 *   garbage  answers the request with 256 random bytes that are not HTTP
 *            (never starting with "HTTP/"), then closes;
 *   huge     answers a valid 200 with Content-Length 1 TiB, or N for
 *            "GET /bytes/N", and streams zeros as fast as the client reads,
 *            until the body is complete or the client goes away; a
 *            complete response leaves the connection open for the next.
 *            (1 TiB: a body of 1 GiB comes in under a second over loopback.)
 *   chunked  answers "hello world\n" in chunks (with a chunk extension and
 *            a trailer), keeping the connection open for the next request;
 *   close    answers "hello world\n" as HTTP/1.0 without Content-Length,
 *            the end of the body being the close;
 *   interim  answers "100 Continue", then a 200 with "hello world\n" and
 *            Content-Length, keeping the connection open;
 *   full     never accepts: its listen queue (backlog 0) is kept full by a
 *            connection of its own, so the system drops every SYN and a
 *            client's connect hangs until the client gives up.
 *
 * It logs one line per event on stdout, flushed, each starting with the
 * time (CLOCK_MONOTONIC, in seconds with 6 decimals) and a space:
 *   "conn N: accepted", "conn N: request GET /path HTTP/1.1",
 *   "conn N: closed, sent B body bytes" (when it closes, whoever closed),
 *   "conn N: reset, sent 0 body bytes" (reset),
 *   "conn N: complete, sent B body bytes" (huge: the whole body went out).
 * It runs until killed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 512
#define HEAD_MAX  8192
#define TIB       (1024ULL * 1024 * 1024 * 1024)

enum mode { SILENT, TRICKLE, RESET, GARBAGE, HUGE, CHUNKED, CLOSE, INTERIM, FULL };
#define NMODES 9

enum state {
    READING, /* reading a request head */
    SENDING, /* writing out[], then the body (huge) */
};

struct conn {
    int fd;
    unsigned id;
    enum state state;
    char head[HEAD_MAX];
    size_t hlen;
    char out[512];
    size_t olen, opos;
    uint64_t body_left; /* huge: zeros still to send */
    uint64_t body_sent; /* body bytes sent on this connection */
    int64_t next_ms;    /* trickle: when the next byte may go */
    int close_after;    /* close once out[] is sent (garbage) */
};

static enum mode mode;
static struct conn *conns[MAX_CONNS];
static int nconns;
static unsigned next_id = 1;
static char zeros[256 * 1024];

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void say(const struct conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void say(const struct conn *c, const char *fmt, ...)
{
    struct timespec ts;
    va_list ap;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    printf("%lld.%06ld conn %u: ", (long long)ts.tv_sec, ts.tv_nsec / 1000, c->id);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

static void drop(int i, int rst)
{
    struct conn *c = conns[i];

    if (rst) {
        struct linger lg = {1, 0};

        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    }
    close(c->fd);
    say(c, "%s, sent %llu body bytes", rst ? "reset" : "closed",
        (unsigned long long)c->body_sent);
    free(c);
    conns[i] = conns[--nconns];
}

/* Fills out[] with bytes that are not an HTTP response. */
static void garbage(struct conn *c)
{
    static uint32_t x = 2463534242u; /* xorshift32, fixed seed */

    c->olen = 256;
    for (size_t i = 0; i < c->olen; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        c->out[i] = (char)(x & 0xff);
    }
    if (c->out[0] == 'H')
        c->out[0] = '\x01';
}

/* A complete request head is in head[]: starts the answer.  0, or -1 to drop (RST). */
static int answer(struct conn *c)
{
    unsigned long long n;
    char *eol = strstr(c->head, "\r\n");

    say(c, "request %.*s", eol ? (int)(eol - c->head) : 0, c->head);
    c->opos = 0;
    switch (mode) {
    case SILENT:
    case FULL: /* never gets here: it accepts nothing */
        return 0; /* stays READING, forever */
    case RESET:
        return -1;
    case GARBAGE:
        garbage(c);
        c->close_after = 1;
        break;
    case TRICKLE:
        c->olen = (size_t)snprintf(c->out, sizeof(c->out),
                                   "HTTP/1.1 200 OK\r\n"
                                   "Content-Type: text/plain\r\n"
                                   "Content-Length: 12\r\n\r\n"
                                   "hello world\n");
        c->next_ms = now_ms();
        break;
    case HUGE:
        n = TIB;
        if (sscanf(c->head, "GET /bytes/%llu ", &n) != 1)
            n = TIB;
        c->olen = (size_t)snprintf(c->out, sizeof(c->out),
                                   "HTTP/1.1 200 OK\r\n"
                                   "Content-Type: application/octet-stream\r\n"
                                   "Content-Length: %llu\r\n\r\n",
                                   n);
        c->body_left = n;
        break;
    case CHUNKED:
        c->olen = (size_t)snprintf(c->out, sizeof(c->out),
                                   "HTTP/1.1 200 OK\r\n"
                                   "Transfer-Encoding: chunked\r\n\r\n"
                                   "5\r\nhello\r\n"
                                   "1;ext=\"x\"\r\n \r\n"
                                   "6\r\nworld\n\r\n"
                                   "0\r\nX-Trailer: t\r\n\r\n");
        break;
    case CLOSE:
        c->olen = (size_t)snprintf(c->out, sizeof(c->out),
                                   "HTTP/1.0 200 OK\r\n"
                                   "Content-Type: text/plain\r\n\r\n"
                                   "hello world\n");
        c->close_after = 1;
        break;
    case INTERIM:
        c->olen = (size_t)snprintf(c->out, sizeof(c->out),
                                   "HTTP/1.1 100 Continue\r\n\r\n"
                                   "HTTP/1.1 200 OK\r\n"
                                   "Content-Length: 12\r\n\r\n"
                                   "hello world\n");
        break;
    }
    c->state = SENDING;
    return 0;
}

/* The socket is readable.  0, -1 to close it, or -2 to reset it. */
static int on_read(int i)
{
    struct conn *c = conns[i];
    ssize_t r;

    if (c->hlen + 1 >= sizeof(c->head))
        c->hlen = 0; /* silent: forget what was read, keep reading */
    r = recv(c->fd, c->head + c->hlen, sizeof(c->head) - 1 - c->hlen, 0);
    if (r < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    if (r <= 0)
        return -1;
    c->hlen += (size_t)r;
    c->head[c->hlen] = '\0';
    if (c->state == READING && strstr(c->head, "\r\n\r\n")) {
        if (answer(c) < 0)
            return -2;
        c->hlen = 0; /* pipelined requests are not needed by the tests */
    }
    return 0;
}

/* The socket is writable (or, trickling, the next byte is due).  0 or -1. */
static int on_write(int i)
{
    struct conn *c = conns[i];
    ssize_t w;

    while (c->opos < c->olen) {
        size_t len = c->olen - c->opos;

        if (mode == TRICKLE) {
            if (now_ms() < c->next_ms)
                return 0;
            len = 1;
            c->next_ms += 1000;
        }
        w = send(c->fd, c->out + c->opos, len, MSG_NOSIGNAL);
        if (w < 0)
            return errno == EAGAIN || errno == EINTR ? 0 : -1;
        c->opos += (size_t)w;
        if (mode == TRICKLE)
            return 0;
    }
    if (c->close_after) {
        shutdown(c->fd, SHUT_WR);
        return -1;
    }
    while (c->body_left) {
        size_t len = c->body_left < sizeof(zeros) ? (size_t)c->body_left : sizeof(zeros);

        w = send(c->fd, zeros, len, MSG_NOSIGNAL);
        if (w < 0)
            return errno == EAGAIN || errno == EINTR ? 0 : -1;
        c->body_left -= (uint64_t)w;
        c->body_sent += (uint64_t)w;
    }
    if (mode == HUGE)
        say(c, "complete, sent %llu body bytes", (unsigned long long)c->body_sent);
    c->state = READING;
    c->olen = c->opos = 0;
    return 0;
}

int main(int argc, char **argv)
{
    static const char *const names[NMODES] = {"silent",  "trickle", "reset",
                                              "garbage", "huge",    "chunked",
                                              "close",   "interim", "full"};
    struct sockaddr_in sa;
    socklen_t slen = sizeof(sa);
    int lfd, one = 1, m;

    for (m = 0; argc == 2 && m < NMODES; m++)
        if (strcmp(argv[1], names[m]) == 0)
            break;
    if (argc != 2 || m == NMODES) {
        fprintf(stderr, "usage: bad_http_server "
                        "silent|trickle|reset|garbage|huge|chunked|close|interim|full\n");
        return 2;
    }
    mode = (enum mode)m;
    signal(SIGPIPE, SIG_IGN);
    lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        listen(lfd, mode == FULL ? 0 : 128) < 0 ||
        getsockname(lfd, (struct sockaddr *)&sa, &slen) < 0) {
        perror("bad_http_server");
        return 1;
    }
    if (mode == FULL) {
        /* One connection the system completes and queues; nothing accepts
         * it, so the queue stays full and later SYNs are dropped. */
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
            perror("bad_http_server: filling the queue");
            return 1;
        }
        printf("bad_http_server: listening on %d\n", ntohs(sa.sin_port));
        fflush(stdout);
        for (;;)
            pause();
    }
    printf("bad_http_server: listening on %d\n", ntohs(sa.sin_port));
    fflush(stdout);

    for (;;) {
        struct pollfd pfd[MAX_CONNS + 1];
        int timeout = -1, n = nconns;
        int64_t now = now_ms();

        pfd[0] = (struct pollfd){.fd = lfd, .events = nconns < MAX_CONNS ? POLLIN : 0};
        for (int i = 0; i < n; i++) {
            struct conn *c = conns[i];
            short ev = POLLIN;

            if (c->state == SENDING) {
                if (mode == TRICKLE) {
                    int64_t wait = c->next_ms - now;

                    wait = wait < 0 ? 0 : wait;
                    if (timeout < 0 || wait < timeout)
                        timeout = (int)wait;
                    ev = wait ? POLLIN : POLLOUT;
                } else {
                    ev = POLLOUT;
                }
            }
            pfd[i + 1] = (struct pollfd){.fd = c->fd, .events = ev};
        }
        if (poll(pfd, (nfds_t)n + 1, timeout) < 0) {
            if (errno == EINTR)
                continue;
            perror("bad_http_server: poll");
            return 1;
        }
        /* Backwards: drop() moves the last connection into the freed place. */
        for (int i = n - 1; i >= 0; i--) {
            short re = pfd[i + 1].revents;
            int rc = 0;

            /* A reset or hang-up first, whatever the state: recv says which,
             * now (a trickle would see it only at its next byte). */
            if (re & (POLLERR | POLLHUP))
                rc = on_read(i);
            else if (conns[i]->state == SENDING &&
                     (re & POLLOUT || (mode == TRICKLE && now_ms() >= conns[i]->next_ms)))
                rc = on_write(i);
            else if (re & POLLIN)
                rc = on_read(i);
            if (rc < 0)
                drop(i, rc == -2);
        }
        if (pfd[0].revents & POLLIN) {
            int fd;

            while (nconns < MAX_CONNS &&
                   (fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                struct conn *c = calloc(1, sizeof(*c));

                if (!c) {
                    close(fd);
                    break;
                }
                c->fd = fd;
                c->id = next_id++;
                conns[nconns++] = c;
                say(c, "accepted");
            }
        }
    }
}
