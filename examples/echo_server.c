/*
 * loads-echo: the small HTTP + WebSocket echo server that ships with Loads.
 * It is the local target of the README demo and the WebSocket peer of the
 * end-to-end tests.
 *
 *   GET /              a small HTML page
 *   GET /health        "ok"
 *   GET /stats         its own counts (see below), one "name value" a line
 *   anything else      404
 *   ws on any path     every message comes back unchanged, same type
 *   ws /close-after-1  echoes the first message, then closes with 1000
 *   ws /forbidden      the upgrade is refused with 403
 *   ws /handshake      first sends "protocol=[P] x-test=[V]": the
 *                      Sec-WebSocket-Protocol and X-Test headers it got
 *
 * It runs on libwebsockets' own poll loop, listens on loopback only and
 * prints "loads-echo: listening on http://HOST:PORT" once it accepts
 * connections; tests read that line to learn the port.
 *
 * It counts what it serves, so that a client's figures can be checked
 * against the server's: HTTP requests (but /stats), websockets opened and
 * closed, messages and payload bytes received and sent.  GET /stats shows
 * the counts; on exit it prints them in one line; with --log it prints a
 * line for each websocket when it closes, with its lifetime.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <libwebsockets.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define DEFAULT_PORT   9200
#define MAX_MESSAGE    (16u * 1024 * 1024)
#define QUEUE_HIGH     (4u * 1024 * 1024)
#define QUEUE_LOW      (256u * 1024)
#define MAX_OPEN_FILES 65536
#define URI_MAX        256

/* One WebSocket message, queued for sending or being reassembled. */
struct echo_msg {
    struct echo_msg *next;
    size_t len;
    size_t cap;
    bool binary;
    unsigned char buf[]; /* LWS_PRE bytes of room, then cap bytes of payload */
};

/* Per-connection state; libwebsockets allocates it zeroed. */
struct echo_session {
    struct echo_msg *head;
    struct echo_msg *tail;
    size_t queued;        /* payload bytes waiting in the queue */
    struct echo_msg *rx;  /* message being reassembled, or NULL */
    bool close_after_one; /* the /close-after-1 path */
    bool got_one;         /* ... and its first message has arrived */
    bool closing;         /* ... and has been echoed: close when writable */
    bool rx_paused;       /* reading stopped because the queue is full */
    struct timespec opened;   /* when the handshake completed (--log) */
    uint64_t msgs_in, bytes_in, msgs_out, bytes_out; /* this socket's, for --log */
    char path[64];            /* its path, for --log */
};

/* What the server has served since it started (GET /stats, and on exit). */
static struct {
    uint64_t http_requests;   /* HTTP requests answered, but those of /stats */
    uint64_t ws_opened;       /* websocket handshakes completed */
    uint64_t ws_closed;       /* ... and those sockets closed since */
    uint64_t msgs_in, bytes_in;   /* whole messages and payload bytes received */
    uint64_t msgs_out, bytes_out; /* ... and sent */
} counts;

static bool log_sockets; /* --log: a line per websocket when it closes */

static const char index_html[] =
    "<!DOCTYPE html>\n"
    "<html lang=\"en\">\n"
    "<head><meta charset=\"utf-8\"><title>Loads echo server</title></head>\n"
    "<body>\n"
    "<h1>Loads echo server</h1>\n"
    "<p>This is <code>loads-echo</code>, the small HTTP and WebSocket echo\n"
    "server that ships with Loads. It is the local target of the README demo\n"
    "and of the end-to-end tests.</p>\n"
    "<ul>\n"
    "<li><code>GET /health</code> answers <code>ok</code>.</li>\n"
    "<li>A WebSocket on any path (subprotocol <code>echo</code> or none) gets\n"
    "every message back unchanged.</li>\n"
    "<li><code>/close-after-1</code> echoes one message, then closes.</li>\n"
    "</ul>\n"
    "<form action=\"/\" method=\"get\">\n"
    "<input name=\"q\" placeholder=\"Search\"> <button>Search</button>\n"
    "</form>\n"
    "</body>\n"
    "</html>\n";

static const char health_body[] = "ok";
static const char not_found_body[] = "not found\n";
static const char forbidden_body[] = "forbidden\n";
static const char bad_method_body[] = "method not allowed\n";

/* The body of GET /stats. */
static size_t format_counts(char *buf, size_t len)
{
    int n = snprintf(buf, len,
                     "http_requests %llu\nws_opened %llu\nws_closed %llu\n"
                     "ws_messages_in %llu\nws_bytes_in %llu\n"
                     "ws_messages_out %llu\nws_bytes_out %llu\n",
                     (unsigned long long)counts.http_requests,
                     (unsigned long long)counts.ws_opened,
                     (unsigned long long)counts.ws_closed,
                     (unsigned long long)counts.msgs_in, (unsigned long long)counts.bytes_in,
                     (unsigned long long)counts.msgs_out,
                     (unsigned long long)counts.bytes_out);

    return n < 0 ? 0 : (size_t)n < len ? (size_t)n : len - 1;
}

#define BODY_MAX 2048
_Static_assert(sizeof(index_html) <= BODY_MAX, "index page too large");

static struct lws_context *volatile context;
static volatile sig_atomic_t stopping;

/*
 * Stops the service loop on SIGINT or SIGTERM.  Waking lws up through its
 * event pipe (a write, which is async-signal-safe) makes sure a signal that
 * arrives just before poll() is not missed.
 */
static void on_signal(int sig)
{
    stopping = 1;
    if (context)
        lws_cancel_service(context);
}

/*
 * Copies the request path (without the query string) into buf.  Returns
 * false when there is none, e.g. for a method other than GET.
 */
static bool request_path(struct lws *wsi, char *buf, int len)
{
    return lws_hdr_copy(wsi, buf, len, WSI_TOKEN_GET_URI) > 0;
}

/*
 * Writes a complete HTTP response with a fixed body: the status line and
 * common headers, then the body unless this is a HEAD request.  Returns
 * nonzero when the connection should be dropped.  The caller decides when
 * the transaction is completed.
 */
static int send_response(struct lws *wsi, unsigned int status, const char *type,
                         const char *body, size_t len)
{
    unsigned char hdr[LWS_PRE + 512], out[LWS_PRE + BODY_MAX];
    unsigned char *start = hdr + LWS_PRE, *p = start;
    unsigned char *end = hdr + sizeof(hdr) - 1;

    if (lws_add_http_common_headers(wsi, status, type, len, &p, end) ||
        lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    if (lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI))
        return 0;
    memcpy(out + LWS_PRE, body, len);
    if (lws_write(wsi, out + LWS_PRE, len, LWS_WRITE_HTTP_FINAL) < (int)len)
        return -1;
    return 0;
}

/*
 * Answers a plain HTTP request.  Only GET and HEAD are served; the request
 * is completed right away so that keep-alive connections carry on.
 */
static int serve_http(struct lws *wsi, const char *path)
{
    const char *type = "text/plain; charset=utf-8";
    const char *body = not_found_body;
    size_t len = sizeof(not_found_body) - 1;
    unsigned int status = HTTP_STATUS_NOT_FOUND;
    char stats[512];

    if (!lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) &&
        !lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI)) {
        status = HTTP_STATUS_METHOD_NOT_ALLOWED;
        body = bad_method_body;
        len = sizeof(bad_method_body) - 1;
    } else if (!strcmp(path, "/")) {
        status = HTTP_STATUS_OK;
        type = "text/html; charset=utf-8";
        body = index_html;
        len = sizeof(index_html) - 1;
    } else if (!strcmp(path, "/health")) {
        status = HTTP_STATUS_OK;
        body = health_body;
        len = sizeof(health_body) - 1;
    } else if (!strcmp(path, "/stats")) {
        status = HTTP_STATUS_OK;
        len = format_counts(stats, sizeof(stats));
        body = stats;
    }
    if (strcmp(path, "/stats") != 0)
        counts.http_requests++;
    if (send_response(wsi, status, type, body, len))
        return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/*
 * Decides whether a WebSocket upgrade may go ahead.  /forbidden gets a 403
 * and the connection is closed (lws shuts it down gracefully, so the
 * response is delivered).  The response is written by hand: lws has not
 * looked at the HTTP version of a request that asks for an upgrade, and its
 * header helpers would answer "HTTP/1.0", which some WebSocket clients
 * reject before they look at the status.  Everything else is allowed.
 */
static int confirm_upgrade(struct lws *wsi)
{
    unsigned char buf[LWS_PRE + 256];
    char path[URI_MAX];
    int n;

    if (!request_path(wsi, path, sizeof(path)) || strcmp(path, "/forbidden"))
        return 0;
    n = snprintf((char *)buf + LWS_PRE, sizeof(buf) - LWS_PRE,
                 "HTTP/1.1 403 Forbidden\r\n"
                 "content-type: text/plain; charset=utf-8\r\n"
                 "content-length: %zu\r\n"
                 "connection: close\r\n"
                 "\r\n%s",
                 sizeof(forbidden_body) - 1, forbidden_body);
    lws_write(wsi, buf + LWS_PRE, (size_t)n, LWS_WRITE_HTTP_FINAL);
    return -1;
}

/* Frees everything a session still holds once its connection is closed. */
static void session_free(struct echo_session *s)
{
    struct echo_msg *m, *next;

    for (m = s->head; m; m = next) {
        next = m->next;
        free(m);
    }
    free(s->rx);
    s->head = s->tail = s->rx = NULL;
    s->queued = 0;
}

/*
 * Makes room for need more payload bytes in the message being reassembled,
 * starting it if there is none.  hint is the size the message will reach at
 * least, so that a large frame arriving in pieces is allocated once.
 * Returns false when out of memory.
 */
static bool rx_reserve(struct echo_session *s, size_t need, size_t hint)
{
    struct echo_msg *m = s->rx;
    size_t len = m ? m->len : 0, cap;

    if (m && m->cap - len >= need)
        return true;
    cap = m ? m->cap * 2 : 0;
    if (cap < len + need)
        cap = len + need;
    if (cap < hint)
        cap = hint;
    if (cap > MAX_MESSAGE)
        cap = MAX_MESSAGE;
    m = realloc(m, sizeof(*m) + LWS_PRE + cap);
    if (!m)
        return false;
    if (!s->rx) {
        m->next = NULL;
        m->len = 0;
    }
    m->cap = cap;
    s->rx = m;
    return true;
}

/*
 * Takes one piece of an incoming message.  Pieces are appended until the
 * final one, then the whole message joins the send queue.  Reading stops
 * while the queue is over QUEUE_HIGH so that a client which writes but
 * never reads cannot make the server grow without bound.
 */
static int session_receive(struct lws *wsi, struct echo_session *s, const void *in,
                           size_t len)
{
    size_t remaining = lws_remaining_packet_payload(wsi);
    size_t have = s->rx ? s->rx->len : 0;
    bool first = !s->rx;
    struct echo_msg *m;

    if (s->close_after_one && s->got_one)
        return 0;
    if (have + len + remaining > MAX_MESSAGE) {
        lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
                         (unsigned char *)"message too large", 17);
        return -1;
    }
    if (!rx_reserve(s, len, have + len + remaining)) {
        lws_close_reason(wsi, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION,
                         (unsigned char *)"out of memory", 13);
        return -1;
    }
    m = s->rx;
    if (first)
        m->binary = lws_frame_is_binary(wsi);
    if (len)
        memcpy(m->buf + LWS_PRE + m->len, in, len);
    m->len += len;
    counts.bytes_in += len;
    s->bytes_in += len;
    if (!lws_is_final_fragment(wsi))
        return 0;
    counts.msgs_in++;
    s->msgs_in++;

    s->rx = NULL;
    if (s->tail)
        s->tail->next = m;
    else
        s->head = m;
    s->tail = m;
    s->queued += m->len;
    if (s->close_after_one)
        s->got_one = true;
    if (s->queued > QUEUE_HIGH && !s->rx_paused) {
        s->rx_paused = true;
        lws_rx_flow_control(wsi, 0);
    }
    lws_callback_on_writable(wsi);
    return 0;
}

/*
 * Sends the oldest queued message as one frame of its original type.  lws
 * keeps whatever the socket does not take and flushes it before the next
 * writable callback, so one write per callback keeps memory in check.
 */
static int session_writable(struct lws *wsi, struct echo_session *s)
{
    struct echo_msg *m = s->head;
    int n;

    if (s->closing) {
        lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, (unsigned char *)"bye", 3);
        return -1;
    }
    if (!m)
        return 0;

    n = lws_write(wsi, m->buf + LWS_PRE, m->len,
                  m->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
    if (n < (int)m->len)
        return -1;
    counts.msgs_out++;
    counts.bytes_out += m->len;
    s->msgs_out++;
    s->bytes_out += m->len;

    s->head = m->next;
    if (!s->head)
        s->tail = NULL;
    s->queued -= m->len;
    free(m);

    if (s->rx_paused && s->queued <= QUEUE_LOW) {
        s->rx_paused = false;
        lws_rx_flow_control(wsi, 1);
    }
    if (s->close_after_one && s->got_one && !s->head)
        s->closing = true;
    if (s->head || s->closing)
        lws_callback_on_writable(wsi);
    return 0;
}

/* Seconds from a to b. */
static double seconds_between(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

/*
 * A websocket is open: counted, timed for --log, and on /handshake given a
 * first message that tells the client which handshake headers came.
 */
static int session_open(struct lws *wsi, struct echo_session *s)
{
    char proto[128] = "", xtest[128] = "";
    struct echo_msg *m;
    int n;

    counts.ws_opened++;
    clock_gettime(CLOCK_MONOTONIC, &s->opened);
    if (!request_path(wsi, s->path, sizeof(s->path)))
        snprintf(s->path, sizeof(s->path), "?");
    if (!strcmp(s->path, "/close-after-1"))
        s->close_after_one = true;
    if (strcmp(s->path, "/handshake") != 0)
        return 0;
    if (lws_hdr_copy(wsi, proto, sizeof(proto), WSI_TOKEN_PROTOCOL) < 0)
        proto[0] = '\0';
    if (lws_hdr_custom_copy(wsi, xtest, sizeof(xtest), "x-test:", 7) < 0)
        xtest[0] = '\0';
    m = malloc(sizeof(*m) + LWS_PRE + 512);
    if (!m)
        return -1;
    n = snprintf((char *)m->buf + LWS_PRE, 512, "protocol=[%s] x-test=[%s]", proto, xtest);
    m->next = NULL;
    m->len = m->cap = (size_t)n;
    m->binary = false;
    s->head = s->tail = m;
    s->queued = m->len;
    lws_callback_on_writable(wsi);
    return 0;
}

/* A websocket has closed: counted, and a line for --log, with the time of
 * day (seconds since the epoch) and how long it was open. */
static void session_closed(struct echo_session *s)
{
    struct timespec now, wall;

    counts.ws_closed++;
    if (log_sockets) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        clock_gettime(CLOCK_REALTIME, &wall);
        printf("loads-echo: ws %s closed at %lld.%06ld after %.6f s: %llu messages (%llu "
               "bytes) in, %llu messages (%llu bytes) out\n",
               s->path, (long long)wall.tv_sec, wall.tv_nsec / 1000,
               seconds_between(&s->opened, &now), (unsigned long long)s->msgs_in,
               (unsigned long long)s->bytes_in, (unsigned long long)s->msgs_out,
               (unsigned long long)s->bytes_out);
        fflush(stdout);
    }
    session_free(s);
}

/*
 * The one protocol handler: plain HTTP, the upgrade check and the echo
 * sessions all come through here.
 */
static int echo_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                         void *in, size_t len)
{
    struct echo_session *s = user;

    switch (reason) {
    case LWS_CALLBACK_HTTP:
        return serve_http(wsi, in ? (const char *)in : "");
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        return confirm_upgrade(wsi);
    case LWS_CALLBACK_ESTABLISHED:
        return session_open(wsi, s);
    case LWS_CALLBACK_RECEIVE:
        return session_receive(wsi, s, in, len);
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return session_writable(wsi, s);
    case LWS_CALLBACK_CLOSED:
        session_closed(s);
        return 0;
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

static const struct lws_protocols protocols[] = {
    {
        .name = "echo",
        .callback = echo_callback,
        .per_session_data_size = sizeof(struct echo_session),
    },
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* Prints the usage text to f. */
static void usage(FILE *f)
{
    fprintf(f,
            "usage: loads-echo [--host 127.0.0.1] [--port %d] [--quiet] [--log]\n"
            "\n"
            "HTTP + WebSocket echo server for Loads' demo and tests.\n"
            "  --host ADDR  loopback address to listen on: 127.0.0.0/8,\n"
            "               localhost or ::1 (default 127.0.0.1)\n"
            "  --port N     TCP port, 0 lets the system pick one (default %d)\n"
            "  --quiet      no libwebsockets log output at all\n"
            "  --log        a line for each websocket when it closes\n"
            "  --help       this text\n",
            DEFAULT_PORT, DEFAULT_PORT);
}

/*
 * Checks that host is a loopback address and turns it into the numeric
 * form lws binds to (it does not resolve names).  Returns NULL when the
 * host is refused; *ipv6 tells which family it is.
 */
static const char *loopback_address(const char *host, bool *ipv6)
{
    struct in6_addr a6;
    struct in_addr a4;

    *ipv6 = false;
    if (!strcmp(host, "localhost"))
        return "127.0.0.1";
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127 ? host : NULL;
    if (inet_pton(AF_INET6, host, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6)) {
        *ipv6 = true;
        return host;
    }
    return NULL;
}

/*
 * Lets the server hold a few thousand connections even where the soft
 * limit on open files is the traditional 1024.  The raise is capped so
 * that lws, which sizes its tables from the limit, stays small.
 */
static void raise_fd_limit(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl))
        return;
    if (rl.rlim_cur >= MAX_OPEN_FILES || rl.rlim_cur == rl.rlim_max)
        return;
    rl.rlim_cur = rl.rlim_max < MAX_OPEN_FILES ? rl.rlim_max : MAX_OPEN_FILES;
    setrlimit(RLIMIT_NOFILE, &rl);
}

/*
 * Parses the command line into *host, *port and *quiet.  Returns -1 to go
 * on, otherwise the exit status (0 after --help, 2 after an error, which
 * has been reported in one line on stderr).
 */
static int parse_args(int argc, char **argv, const char **host, int *port, bool *quiet)
{
    static const struct option opts[] = {
        {"host", required_argument, NULL, 'H'},
        {"port", required_argument, NULL, 'p'},
        {"quiet", no_argument, NULL, 'q'},
        {"log", no_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    char *endp;
    long v;
    int c;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'H':
            *host = optarg;
            break;
        case 'p':
            errno = 0;
            v = strtol(optarg, &endp, 10);
            if (errno || endp == optarg || *endp || v < 0 || v > 65535) {
                fprintf(stderr, "loads-echo: invalid port '%s'\n", optarg);
                return 2;
            }
            *port = (int)v;
            break;
        case 'q':
            *quiet = true;
            break;
        case 'l':
            log_sockets = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case ':':
            fprintf(stderr, "loads-echo: option '%s' needs a value\n", argv[optind - 1]);
            return 2;
        default:
            fprintf(stderr, "loads-echo: unknown option '%s' (try --help)\n",
                    argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "loads-echo: unexpected argument '%s' (try --help)\n",
                argv[optind]);
        return 2;
    }
    return -1;
}

/*
 * Sets up the context and the one listening vhost, announces the port and
 * serves until SIGINT or SIGTERM.
 */
int main(int argc, char **argv)
{
    struct lws_context_creation_info info;
    struct lws_context *ctx;
    const char *host = "127.0.0.1", *addr;
    struct sigaction sa;
    struct lws_vhost *vh;
    int port = DEFAULT_PORT, rc;
    bool quiet = false, ipv6;

    rc = parse_args(argc, argv, &host, &port, &quiet);
    if (rc >= 0)
        return rc;
    addr = loopback_address(host, &ipv6);
    if (!addr) {
        fprintf(stderr, "loads-echo: refusing to listen on non-loopback host '%s'\n",
                host);
        return 2;
    }

    raise_fd_limit();

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    /*
     * lws logs setup failures in several lines of its own; one line from
     * us says it all, so it only speaks once the server is up.
     */
    lws_set_log_level(0, NULL);
    memset(&info, 0, sizeof(info));
    info.options =
        LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND;
    if (!ipv6)
        info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    info.port = CONTEXT_PORT_NO_LISTEN;
    context = lws_create_context(&info);
    if (!context) {
        fprintf(stderr, "loads-echo: cannot create the libwebsockets context\n");
        return 1;
    }

    info.port = port;
    info.iface = addr;
    info.vhost_name = "loads-echo";
    info.protocols = protocols;
    info.keepalive_timeout = 60;
    errno = 0;
    vh = lws_create_vhost(context, &info);
    if (!vh) {
        fprintf(stderr, "loads-echo: cannot listen on %s port %d: %s\n", addr, port,
                errno ? strerror(errno) : "unknown error");
        lws_context_destroy(context);
        return 1;
    }

    lws_set_log_level(quiet ? 0 : LLL_ERR | LLL_WARN, NULL);
    printf("loads-echo: listening on http://%s%s%s:%d\n", ipv6 ? "[" : "", addr,
           ipv6 ? "]" : "", lws_get_vhost_listen_port(vh));
    fflush(stdout);

    while (!stopping)
        if (lws_service(context, 0) < 0)
            break;

    ctx = context;
    context = NULL;
    lws_context_destroy(ctx);
    printf("loads-echo: served %llu HTTP requests; websockets: %llu opened, %llu closed, "
           "%llu messages (%llu bytes) in, %llu messages (%llu bytes) out\n",
           (unsigned long long)counts.http_requests, (unsigned long long)counts.ws_opened,
           (unsigned long long)counts.ws_closed, (unsigned long long)counts.msgs_in,
           (unsigned long long)counts.bytes_in, (unsigned long long)counts.msgs_out,
           (unsigned long long)counts.bytes_out);
    return 0;
}
