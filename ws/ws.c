/*
 * WebSockets over libwebsockets (see ws.h).
 *
 * One client context per worker, created on the first connect so that
 * runs without web sockets pay nothing for it (the evlib plugin, its
 * tables, its handles).  It runs on the worker's own loop as a foreign
 * loop, next to the HTTP clients: one VU may mix HTTP and web sockets.
 *
 * lws calls back from inside its own service code, and a wsi must not be
 * closed (nor lws re-entered in other ways) from there.  So lws callbacks
 * never run a VU: they record what happened on the socket and wake the
 * waiting VU "soon" (vu_wake_soon), which resumes it off lws' stack.  A VU
 * may then call lws directly: it writes its messages with lws_write at
 * once (lws keeps what the socket does not take and flushes it when
 * writable), which saves a trip through the loop per send.
 *
 * A socket (struct ws_conn) lives until both its run has released it and
 * lws has freed its wsi; whichever comes second frees it.
 *
 * Why a socket closed comes from what lws hands over (the server's close
 * frame, the connect error's text and the handshake's status), from this
 * file's own state (a message too large), or from the socket itself: when
 * lws drops an open connection with no close frame, the connection is
 * either at its end (the server went away) or still open (lws refused what
 * the server sent).  This file is the boundary where libwebsockets results
 * become messages for a person.
 */
#include <errno.h>
#include <libwebsockets.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/vu.h"
#include "shm/shm.h"
#include "ws/ws.h"

#define WS_QUEUE_HIGH  (4u * 1024 * 1024)  /* unreceived bytes: stop reading */
#define WS_QUEUE_LOW   (1u * 1024 * 1024)  /* ...and read again below this */
#define WS_WHY_LEN     200

enum ws_state {
    WS_CONNECTING = 0, /* handshake under way */
    WS_OPEN,           /* messages flow */
    WS_CLOSING,        /* our close frame is on its way */
    WS_CLOSED,         /* closed or failed; why says how */
};

struct ws_conn {
    struct ws_glue *g;
    struct vu *vu;         /* its VU; NULL once released */
    struct lws *wsi;       /* NULL once lws has freed it */
    enum ws_state state;
    int waiting;           /* the VU waits on it */
    int failed;            /* unusable (a message too large): calls fail at once */
    int close_code;        /* the status our close frame will carry, 0: 1000 */
    int rx_paused;         /* reading stopped: too much unreceived */
    int lws_done;          /* lws has freed the wsi (or never made one) */
    int opened;            /* the handshake completed */
    int peer_code;         /* status of the server's close frame, 0 none */
    struct buf headers;    /* extra handshake lines, until the handshake ends */
    struct ws_msg *head, *tail; /* messages not yet received, oldest first */
    struct ws_msg *rx;     /* message being reassembled */
    size_t queued;         /* payload bytes in head..tail */
    char why[WS_WHY_LEN];  /* why it closed or failed */
};

struct ws_glue {
    uv_loop_t *loop;
    struct lws_context *ctx;
    size_t max_message;    /* larger incoming messages are an error */
    int insecure;          /* no verification of the server */
    struct buf out;        /* LWS_PRE + outgoing payload, for lws_write */
    uint64_t opened;       /* sockets opened, not yet taken */
    uint64_t bytes;        /* bytes received, not yet taken */
};

static int ws_debug;

/* lws' log, under LOADS_DEBUG only. */
static void ws_log_emit(int level, const char *line)
{
    fprintf(stderr, "loads: lws: %s", line);
}

/* ------------------------------------------------------------- waiting */

/* Tells the VU waiting on c that something happened; from lws callbacks. */
static void ws_wake(struct ws_conn *c)
{
    if (c->vu && c->waiting)
        vu_wake_soon(c->vu);
}

/*
 * Suspends the VU until done(c) holds: 0 then, or the wait's -ETIMEDOUT
 * or -ECANCELED.  A stale wake is harmless: done is checked again.
 */
static int ws_wait(struct ws_conn *c, int64_t deadline, int (*done)(const struct ws_conn *c))
{
    int rc = 0;

    c->waiting = 1;
    while (!done(c) && rc == 0)
        rc = vu_wait(c->vu, deadline, "ws");
    c->waiting = 0;
    return rc;
}

static int ws_is_connected(const struct ws_conn *c)
{
    return c->state != WS_CONNECTING;
}

static int ws_has_news(const struct ws_conn *c)
{
    return c->head || c->state == WS_CLOSED || c->failed;
}

static int ws_is_closed(const struct ws_conn *c)
{
    return c->state == WS_CLOSED;
}

/* True once lws holds no output of ours that the socket has not taken. */
static int ws_is_drained(const struct ws_conn *c)
{
    return c->state == WS_CLOSED || !c->wsi || !lws_partial_buffered(c->wsi);
}

/* ------------------------------------------------------------ messages */

void ws_msg_free(struct ws_msg *m)
{
    if (!m)
        return;
    buf_free(&m->data);
    free(m);
}

static void ws_free_msgs(struct ws_msg *m)
{
    while (m) {
        struct ws_msg *next = m->next;

        ws_msg_free(m);
        m = next;
    }
}

/* Drops the messages not yet received and the handshake headers. */
static void ws_drop_data(struct ws_conn *c)
{
    ws_free_msgs(c->head);
    c->head = c->tail = NULL;
    c->queued = 0;
    ws_msg_free(c->rx);
    c->rx = NULL;
    buf_free(&c->headers);
}

static void ws_conn_free(struct ws_conn *c)
{
    ws_drop_data(c);
    free(c);
}

/* Marks the socket closed, keeping the first reason given. */
static void ws_set_closed(struct ws_conn *c, const char *why)
{
    if (c->state != WS_CLOSED && !c->why[0])
        snprintf(c->why, sizeof(c->why), "%s", why);
    c->state = WS_CLOSED;
    buf_free(&c->headers);
}

/*
 * Asks lws to drop the connection at its next service, from outside its
 * callbacks.  The wsi's destroy callback follows.
 */
static void ws_kill(struct ws_conn *c)
{
    if (c->wsi)
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
}

/*
 * Starts the closing handshake of an open socket, from outside lws'
 * callbacks: lws sends our close frame (1000, or the code a failure set)
 * when the socket is writable, and closes at the server's answer.  A
 * socket still connecting is dropped.
 *
 * Why a synchronous kill: lws closes politely (a close frame first) when a
 * close reason is set and the close does not come from its own service.
 * Returning -1 from the writable callback does come from there, and
 * Debian's build of lws (with _DEBUG and libuv) closes such a wsi a second
 * time at once, dropping the connection without its close frame.
 */
static void ws_start_close(struct ws_conn *c)
{
    if (c->state == WS_OPEN && c->wsi) {
        c->state = WS_CLOSING;
        lws_close_reason(c->wsi,
                         c->close_code ? (enum lws_close_status)c->close_code
                                       : LWS_CLOSE_STATUS_NORMAL,
                         NULL, 0);
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_SYNC);
    } else if (c->state == WS_CONNECTING) {
        ws_kill(c);
    }
}

/*
 * A message over the limit: the socket fails at once for the test, what
 * else comes is dropped, and the connection will close with 1009 when the
 * test closes it or its run ends.  (Returning -1 from lws' receive callback
 * in the middle of a frame would crash lws; closing from inside a callback
 * is not allowed.)
 */
static void ws_too_large(struct ws_conn *c)
{
    snprintf(c->why, sizeof(c->why), "message larger than %zu bytes (--ws-max-message)",
             c->g->max_message);
    c->failed = 1;
    c->close_code = LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE;
    ws_msg_free(c->rx);
    c->rx = NULL;
    ws_wake(c);
}

/*
 * Appends one piece of an incoming message, and queues the message once
 * its last piece is in.  Returns 0, or -1 when memory ran out.
 */
static int ws_receive_piece(struct ws_conn *c, struct lws *wsi, const void *in, size_t len)
{
    struct ws_msg *m = c->rx;
    size_t have = m ? m->data.len : 0;
    size_t left = lws_remaining_packet_payload(wsi);

    if (c->failed || c->state != WS_OPEN)
        return 0; /* the rest of a message too large, or after our close */
    if (len > c->g->max_message || have + len + left > c->g->max_message) {
        ws_too_large(c);
        return 0;
    }
    if (!m) {
        m = c->rx = calloc(1, sizeof(*m));
        if (!m)
            return -1;
        m->binary = lws_frame_is_binary(wsi);
        m->data.max = c->g->max_message;
    }
    /* The whole frame's room at once: one allocation for most messages. */
    if (buf_reserve(&m->data, len + left) < 0 || buf_append(&m->data, in, len) < 0)
        return -1;
    if (!lws_is_final_fragment(wsi))
        return 0;

    m->arrived_us = shm_mono_us();
    if (c->tail)
        c->tail->next = m;
    else
        c->head = m;
    c->tail = m;
    c->rx = NULL;
    c->queued += m->data.len;
    if (c->queued > WS_QUEUE_HIGH && !c->rx_paused) {
        c->rx_paused = 1;
        lws_rx_flow_control(wsi, 0);
    }
    ws_wake(c);
    return 0;
}

/* ---------------------------------------------------------- lws callback */

/* True for the errno values that say why a TCP connect failed. */
static int ws_connect_errno(int err)
{
    return err == ECONNREFUSED || err == ETIMEDOUT || err == EHOSTUNREACH ||
           err == ENETUNREACH || err == ECONNRESET || err == EADDRNOTAVAIL;
}

/*
 * Describes a failed connect or handshake.  lws says "Unable to connect"
 * or "Closed before conn" where a person wants "Connection refused": the
 * socket's pending error, or else the errno of lws' last connect call,
 * tells the real reason.
 */
static void ws_connect_error(struct ws_conn *c, struct lws *wsi, const char *in, int err)
{
    unsigned status = lws_http_client_http_response(wsi);
    int fd = lws_get_socket_fd(wsi), soerr = 0;
    socklen_t slen = sizeof(soerr);

    if (fd >= 0 && !getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &slen) &&
        ws_connect_errno(soerr))
        err = soerr;
    if (status && status != 101)
        snprintf(c->why, sizeof(c->why), "handshake refused: HTTP %u", status);
    else if (in && !strncmp(in, "HS: ", 4))
        snprintf(c->why, sizeof(c->why), "handshake failed: %s", in + 4);
    else if (in && !strncmp(in, "connect SSL err", 15))
        snprintf(c->why, sizeof(c->why),
                 "TLS handshake failed (certificate not trusted, or no common protocol)");
    else if (ws_connect_errno(err))
        snprintf(c->why, sizeof(c->why), "%s", strerror(err));
    else
        snprintf(c->why, sizeof(c->why), "%s", in && *in ? in : "connection failed");
}

/* Describes the server's close frame: status code, and reason when given. */
static void ws_peer_close(struct ws_conn *c, const unsigned char *in, size_t len)
{
    c->peer_code = len >= 2 ? (in[0] << 8) | in[1] : LWS_CLOSE_STATUS_NO_STATUS;
    if (len > 2)
        snprintf(c->why, sizeof(c->why), "closed by server (%d): %.*s", c->peer_code,
                 (int)(len - 2), (const char *)in + 2);
    else
        snprintf(c->why, sizeof(c->why), "closed by server (%d)", c->peer_code);
}

/*
 * Says why an open socket closed without a close frame from the server.
 * lws tells its user nothing when it drops a connection over bad input, so
 * the socket says it: at its end, the server went away; still open (or
 * with more to read), lws refused what the server sent.
 */
static void ws_lost(struct ws_conn *c, struct lws *wsi)
{
    int fd = lws_get_socket_fd(wsi);
    char b;
    ssize_t n = fd >= 0 ? recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) : 0;

    if (c->why[0])
        return;
    if (n == 0)
        snprintf(c->why, sizeof(c->why), "connection closed by server without a close frame");
    else if (n < 0 && errno != EAGAIN)
        snprintf(c->why, sizeof(c->why), "connection lost: %s", strerror(errno));
    else
        snprintf(c->why, sizeof(c->why),
                 "protocol error: the server sent a frame that is not valid (RFC 6455)");
}

/* Adds the test's extra handshake headers into lws' request buffer. */
static int ws_append_headers(struct ws_conn *c, char **p, size_t room)
{
    if (!c->headers.len)
        return 0;
    if (c->headers.len >= room) {
        snprintf(c->why, sizeof(c->why), "handshake headers too long (%zu bytes)",
                 c->headers.len);
        return -1;
    }
    memcpy(*p, c->headers.data, c->headers.len);
    *p += c->headers.len;
    return 0;
}

/* The one protocol of the client context: every wsi comes through here. */
static int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                       void *in, size_t len)
{
    int err = errno; /* a failed connect's reason, before anything else runs */
    struct ws_conn *c = lws_get_opaque_user_data(wsi);

    if (!c)
        return lws_callback_http_dummy(wsi, reason, user, in, len);

    switch (reason) {
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
        return ws_append_headers(c, in, len);
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        c->state = WS_OPEN;
        c->opened = 1;
        c->g->opened++;
        buf_free(&c->headers);
        ws_wake(c);
        return 0;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (c->state == WS_CONNECTING && !c->why[0])
            ws_connect_error(c, wsi, in, err);
        ws_set_closed(c, "connection failed");
        ws_wake(c);
        return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        c->g->bytes += len;
        if (!c->vu)
            return 0; /* released: count, but keep nothing */
        if (ws_receive_piece(c, wsi, in, len) < 0) {
            snprintf(c->why, sizeof(c->why), "out of memory for a message");
            c->failed = 1;
            ws_kill(c);
            ws_wake(c);
        }
        return 0;
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (c->state == WS_OPEN)
            ws_peer_close(c, in, len);
        return 0;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        ws_wake(c);
        return 0;
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (c->state == WS_OPEN && !c->peer_code)
            ws_lost(c, wsi);
        ws_set_closed(c, "connection closed");
        ws_wake(c);
        return 0;
    case LWS_CALLBACK_WSI_DESTROY:
        c->wsi = NULL;
        c->lws_done = 1;
        ws_set_closed(c, "connection lost");
        if (!c->vu) {
            ws_conn_free(c);
            return 0;
        }
        ws_wake(c);
        return 0;
    default:
        return 0;
    }
}

/*
 * lws writes at most tx_packet_size bytes per system call and keeps the
 * rest for the next writable event; its default (the 4 KiB read buffer)
 * would cut a large message into many trips through the loop.
 */
static const struct lws_protocols ws_protocols[] = {
    {
        .name = "loads",
        .callback = ws_callback,
        .tx_packet_size = 64 * 1024,
    },
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* ------------------------------------------------------------ the context */

struct ws_glue *ws_glue_create(uv_loop_t *loop, double timeout_s, size_t max_message,
                               int insecure)
{
    struct lws_context_creation_info info;
    struct ws_glue *g = calloc(1, sizeof(*g));
    void *loops[1] = {loop};
    unsigned secs = (unsigned)ceil(timeout_s);

    if (!g)
        return NULL;
    g->loop = loop;
    g->max_message = max_message;
    g->insecure = insecure;
    ws_debug = getenv("LOADS_DEBUG") != NULL;
    lws_set_log_level(ws_debug ? LLL_ERR | LLL_WARN | LLL_INFO : 0, ws_log_emit);
    memset(&info, 0, sizeof(info));
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = ws_protocols;
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.foreign_loops = loops;
    /* lws' own timeouts: --timeout in whole seconds; each call's deadline
     * is the precise bound. */
    info.timeout_secs = secs ? secs : 1;
    info.connect_timeout_secs = info.timeout_secs;
    info.user = g;
    g->ctx = lws_create_context(&info);
    if (!g->ctx) {
        free(g);
        return NULL;
    }
    return g;
}

/* True while a handle of the loop is being closed. */
static void on_walk_closing(uv_handle_t *h, void *arg)
{
    if (uv_is_closing(h))
        *(int *)arg = 1;
}

/*
 * With a foreign loop, lws closes its handles through the loop: the first
 * destroy starts closing every wsi, the loop runs until those closes and
 * the ones they start (lws' own timer and idle handles) have completed,
 * and the second destroy frees the rest.
 */
void ws_glue_destroy(struct ws_glue *g)
{
    int closing = 1;

    if (!g)
        return;
    lws_context_destroy(g->ctx);
    for (int i = 0; i < 100 && closing; i++) {
        uv_run(g->loop, UV_RUN_NOWAIT);
        closing = 0;
        uv_walk(g->loop, on_walk_closing, &closing);
    }
    lws_context_destroy(g->ctx);
    buf_free(&g->out);
    free(g);
}

void ws_glue_take_counts(struct ws_glue *g, uint64_t *opened, uint64_t *bytes)
{
    *opened = g ? g->opened : 0;
    *bytes = g ? g->bytes : 0;
    if (g)
        g->opened = g->bytes = 0;
}

/* -------------------------------------------------------------- sockets */

struct ws_conn *ws_conn_open(struct ws_glue *g, struct vu *vu, const struct ws_target *t,
                             const char *protocols, const char *const *headers,
                             int64_t deadline, int *rc, char *err, size_t errlen)
{
    struct lws_client_connect_info ci;
    struct ws_conn *c = calloc(1, sizeof(*c));
    int bad = 0;

    if (!c) {
        snprintf(err, errlen, "out of memory");
        *rc = -ENOMEM;
        return NULL;
    }
    c->g = g;
    c->vu = vu;
    for (const char *const *h = headers; h && *h && !bad; h++)
        bad = buf_append(&c->headers, *h, strlen(*h)) < 0 ||
              buf_append(&c->headers, "\r\n", 2) < 0;
    if (bad) {
        ws_conn_free(c);
        snprintf(err, errlen, "out of memory");
        *rc = -ENOMEM;
        return NULL;
    }
    memset(&ci, 0, sizeof(ci));
    ci.context = g->ctx;
    ci.address = t->host;
    ci.port = t->port;
    ci.ssl_connection = t->tls ? LCCSCF_USE_SSL : 0;
    if (t->tls && g->insecure)
        ci.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK |
                             LCCSCF_ALLOW_EXPIRED | LCCSCF_ALLOW_INSECURE;
    ci.path = t->path;
    ci.host = t->authority;
    ci.protocol = protocols && *protocols ? protocols : NULL;
    ci.local_protocol_name = ws_protocols[0].name;
    ci.ietf_version_or_minus_one = -1;
    ci.opaque_user_data = c;
    errno = 0;
    c->wsi = lws_client_connect_via_info(&ci);
    if (!c->wsi || c->lws_done) {
        /* Failed at once: lws has freed the wsi, or never made one. */
        c->wsi = NULL;
        c->lws_done = 1;
        ws_set_closed(c, "cannot start the connection");
    }
    *rc = ws_wait(c, deadline, ws_is_connected);
    if (*rc == 0 && !c->opened) {
        snprintf(err, errlen, "%s", c->why);
        *rc = -ENOTCONN;
    }
    if (*rc < 0) {
        ws_kill(c);
        ws_conn_release(c);
        return NULL;
    }
    /*
     * An open socket may have closed already (lws can read the handshake
     * and a bad first frame at once): the test's next call will say so.
     */
    return c;
}

int ws_conn_send(struct ws_conn *c, const void *data, size_t len, int binary,
                 int64_t deadline, char *err, size_t errlen)
{
    struct buf *out = &c->g->out;
    int rc;

    if (c->state != WS_OPEN || c->peer_code || !c->wsi || c->failed) {
        snprintf(err, errlen, "%s", c->why[0] ? c->why : "socket not open");
        return -ENOTCONN;
    }
    buf_clear(out);
    if (buf_reserve(out, LWS_PRE + len) < 0) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    memcpy(out->data + LWS_PRE, data, len);
    if (lws_write(c->wsi, (unsigned char *)out->data + LWS_PRE, len,
                  binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT) < 0) {
        ws_kill(c);
        ws_set_closed(c, "send failed");
        snprintf(err, errlen, "send failed, connection dropped");
        return -EIO;
    }
    if (!lws_partial_buffered(c->wsi))
        return 0;
    rc = ws_wait(c, deadline, ws_is_drained);
    if (rc < 0)
        return rc;
    if (c->state == WS_CLOSED) {
        snprintf(err, errlen, "%s", c->why);
        return -ENOTCONN;
    }
    return 0;
}

struct ws_msg *ws_conn_receive(struct ws_conn *c, int64_t deadline, int *rc, char *err,
                               size_t errlen)
{
    struct ws_msg *m;

    *rc = ws_wait(c, deadline, ws_has_news);
    if (*rc == -ECANCELED)
        return NULL;
    if (!c->head) {
        if (*rc == 0) {
            snprintf(err, errlen, "%s", c->why);
            *rc = -ENOTCONN;
        }
        return NULL;
    }
    *rc = 0;
    m = c->head;
    c->head = m->next;
    if (!c->head)
        c->tail = NULL;
    m->next = NULL;
    c->queued -= m->data.len;
    if (c->rx_paused && c->queued < WS_QUEUE_LOW && c->wsi) {
        c->rx_paused = 0;
        lws_rx_flow_control(c->wsi, 1);
    }
    return m;
}

int ws_conn_close(struct ws_conn *c, int64_t deadline)
{
    int rc;

    ws_drop_data(c);
    ws_start_close(c);
    rc = ws_wait(c, deadline, ws_is_closed);
    if (rc < 0)
        ws_kill(c); /* no answer: drop it */
    return rc;
}

void ws_conn_release(struct ws_conn *c)
{
    c->vu = NULL;
    c->waiting = 0;
    if (c->lws_done) {
        ws_conn_free(c);
        return;
    }
    ws_drop_data(c);
    ws_start_close(c);
}
