/*
 * WebSockets for the VUs: a libwebsockets client context on the worker's
 * libuv loop, and the websocket half of the public API.
 *
 * The context is created on the first connect, so that runs without web
 * sockets pay nothing for it (the evlib plugin, its tables, its handles).
 * It runs on the worker's own loop as a foreign loop, next to curl: one
 * VU may mix HTTP and websockets freely.
 *
 * lws calls back from inside its own service code, and a wsi must not be
 * closed (nor lws re-entered in other ways) from there.  So lws callbacks
 * never run a VU: they only record what happened on the socket and queue
 * the waiting VU, and an idle handle resumes the queued VUs right after,
 * off lws' stack.  A VU may then call lws directly: it writes its messages
 * with lws_write at once (lws keeps what the socket does not take and
 * flushes it when writable), which saves a trip through the loop per send.
 *
 * A socket (struct loads_ws) lives until both its test run has ended and
 * lws has freed its wsi; whichever comes second frees it.  Sockets the
 * test leaves open are closed when the run ends.
 *
 * This file is the boundary where libwebsockets results become messages
 * for a person.
 */
#include <errno.h>
#include <libwebsockets.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "worker/internal.h"
#include "worker/url.h"

#define WS_MAX_MESSAGE (16u * 1024 * 1024) /* larger incoming messages: Error */
#define WS_QUEUE_HIGH  (4u * 1024 * 1024)  /* unreceived bytes: stop reading */
#define WS_QUEUE_LOW   (1u * 1024 * 1024)  /* ...and read again below this */
#define WS_URL_MAX     4096
#define WS_LOG_LINES   8 /* lws log lines kept, for messages */
#define WS_LOG_LEN     160

/* One message received, whole. */
struct ws_msg {
    struct ws_msg *next;
    int64_t arrived_us;   /* CLOCK_MONOTONIC when its last byte came */
    size_t len;           /* payload bytes */
    size_t cap;           /* room in data, without the NUL */
    int binary;           /* 1 binary, 0 text */
    unsigned char data[]; /* payload, then a NUL */
};

enum ws_state {
    WS_CONNECTING = 0, /* handshake under way */
    WS_OPEN,           /* messages flow */
    WS_CLOSING,        /* our close frame is on its way */
    WS_CLOSED,         /* closed or failed; why says how */
};

struct loads_ws {
    struct loads_ws *next; /* the run's list */
    struct worker *w;
    struct loads_test *vu; /* its VU, NULL once the run has ended */
    struct lws *wsi;       /* NULL once lws has freed it */
    enum ws_state state;
    int closed_by_test; /* loads_ws_close was called */
    int rx_paused;      /* reading stopped: too much unreceived */
    int lws_done;       /* lws has freed the wsi (or never made one) */
    int opened;         /* the handshake completed */
    int in_cb;          /* the test's callback is running (nested depth) */
    int peer_code;      /* status of the server's close frame, 0 none */
    loads_ws_callback cb;
    void *user;
    struct shm_url *row;        /* "WS url" in the URL table */
    char *headers;              /* extra handshake lines, until the handshake ends */
    struct ws_msg *head, *tail; /* messages not yet received, oldest first */
    struct ws_msg *rx;          /* message being reassembled */
    struct ws_msg *current;     /* message the callback saw last */
    struct ws_msg *retired;     /* older ones a running callback may still read */
    size_t queued;              /* payload bytes in head..tail */
    int64_t started_us;         /* when the connect began */
    char why[SHM_MSG_LEN];      /* why it closed or failed */
    char url[];                 /* absolute ws:// or wss:// URL */
};

/*
 * The last lines libwebsockets logged.  lws tells why it dropped a
 * connection (a malformed frame, say) only in its log; the close callback
 * that follows, on the same stack, reads the reason from here.  There is
 * one lws per process, so this is process-wide too.
 */
static char ws_log[WS_LOG_LINES][WS_LOG_LEN];
static unsigned ws_log_count;
static int ws_debug;

/* ------------------------------------------------------------ lws's log */

/* Keeps each line lws logs; prints it too under LOADS_DEBUG. */
static void ws_log_emit(int level, const char *line)
{
    char *dst = ws_log[ws_log_count++ % WS_LOG_LINES];
    size_t n;

    snprintf(dst, WS_LOG_LEN, "%s", line);
    n = strlen(dst);
    while (n && (dst[n - 1] == '\n' || dst[n - 1] == '\r'))
        dst[--n] = '\0';
    if (ws_debug)
        fprintf(stderr, "loads: lws: %s\n", dst);
}

/*
 * Finds lws' reason for dropping a connection on bad input: its frame
 * parser logs the reason ("illegal opcode"), then its caller logs
 * "client_rx_sm exited".  Copies the reason into out and returns 1, or
 * returns 0 when the log shows no such drop.  The log is forgotten at
 * every message received, around every send, and here, so that lines of
 * other doings are hardly ever taken for the reason.
 */
static int ws_log_protocol_error(char *out, size_t len)
{
    unsigned n = ws_log_count < WS_LOG_LINES ? ws_log_count : WS_LOG_LINES;
    int found = 0;

    for (unsigned i = 1; i <= n && !found; i++) {
        const char *line = ws_log[(ws_log_count - i) % WS_LOG_LINES];
        const char *reason, *colon;

        if (!strstr(line, "client_rx_sm exited"))
            continue;
        found = 1;
        if (i == n) {
            snprintf(out, len, "libwebsockets dropped the connection");
            break;
        }
        reason = ws_log[(ws_log_count - i - 1) % WS_LOG_LINES];
        /* Some lines start with the function's name: drop it. */
        colon = strstr(reason, ": ");
        if (colon && !memchr(reason, ' ', (size_t)(colon - reason)))
            reason = colon + 2;
        snprintf(out, len, "%s", reason);
    }
    ws_log_count = 0;
    return found;
}

/* ------------------------------------------------------------ waking VUs */

/* Resumes the VUs queued by lws callbacks, oldest first. */
static void on_ws_ready(uv_idle_t *idle)
{
    struct worker *w = idle->data;
    struct loads_test *vu = w->ws_ready;

    uv_idle_stop(idle);
    w->ws_ready = w->ws_ready_tail = NULL;
    while (vu) {
        struct loads_test *next = vu->ws_next;

        vu->ws_next = NULL;
        vu->ws_queued = 0;
        if (vu->state == VU_WAIT_WS)
            vu_resume(vu);
        vu = next;
    }
}

/*
 * Tells the VU waiting on ws that something happened to it.  Called from
 * lws callbacks: the VU runs later, from on_ws_ready.
 */
static void ws_wake(struct loads_ws *ws)
{
    struct loads_test *vu = ws->vu;
    struct worker *w = ws->w;

    if (!vu || vu->ws_waiting != ws || vu->ws_queued)
        return;
    vu->ws_queued = 1;
    vu->ws_next = NULL;
    if (w->ws_ready_tail)
        w->ws_ready_tail->ws_next = vu;
    else
        w->ws_ready = vu;
    w->ws_ready_tail = vu;
    uv_idle_start(&w->ws_idle, on_ws_ready);
}

static void on_ws_timeout(uv_timer_t *timer)
{
    struct loads_test *vu = timer->data;

    if (vu->state == VU_WAIT_WS) {
        vu->ws_timed_out = 1;
        vu_resume(vu);
    }
}

/*
 * Suspends the VU until done(ws) holds.  Returns 0 then, -ETIMEDOUT when
 * timeout_s passed first, -ECANCELED when the run was aborted (grace
 * period over).  The loop re-checks after every wake, so a stale wake is
 * harmless.
 */
static int ws_wait(struct loads_test *vu, struct loads_ws *ws, double timeout_s,
                   int (*done)(const struct loads_ws *ws))
{
    uint64_t ms = (uint64_t)ceil(timeout_s * 1000.0);

    if (done(ws))
        return 0;
    vu->ws_waiting = ws;
    vu->ws_timed_out = 0;
    uv_timer_start(&vu->timer, on_ws_timeout, ms, 0);
    while (!done(ws) && !vu->ws_timed_out && !vu->aborted)
        vu_yield(vu, VU_WAIT_WS);
    uv_timer_stop(&vu->timer);
    vu->ws_waiting = NULL;
    if (vu->aborted)
        return -ECANCELED;
    return done(ws) ? 0 : -ETIMEDOUT;
}

static int ws_is_connected(const struct loads_ws *ws)
{
    return ws->state != WS_CONNECTING;
}

static int ws_has_news(const struct loads_ws *ws)
{
    return ws->head || ws->state == WS_CLOSED;
}

static int ws_is_closed(const struct loads_ws *ws)
{
    return ws->state == WS_CLOSED;
}

/* True once lws holds no output of ours that the socket has not taken. */
static int ws_is_drained(const struct loads_ws *ws)
{
    return ws->state == WS_CLOSED || !ws->wsi || !lws_partial_buffered(ws->wsi);
}

/* ------------------------------------------------------------ messages */

static void ws_free_msgs(struct ws_msg *m)
{
    while (m) {
        struct ws_msg *next = m->next;

        free(m);
        m = next;
    }
}

/*
 * Drops the messages not yet received and the handshake headers.  The
 * message a callback may be reading stays until the socket is freed.
 */
static void ws_drop_data(struct loads_ws *ws)
{
    ws_free_msgs(ws->head);
    ws->head = ws->tail = NULL;
    ws->queued = 0;
    free(ws->rx);
    free(ws->headers);
    ws->rx = NULL;
    ws->headers = NULL;
}

static void ws_free(struct loads_ws *ws)
{
    ws_drop_data(ws);
    free(ws->current);
    ws_free_msgs(ws->retired);
    free(ws);
}

/* Marks the socket closed, keeping the first reason given. */
static void ws_set_closed(struct loads_ws *ws, const char *why)
{
    if (ws->state != WS_CLOSED && !ws->why[0])
        snprintf(ws->why, sizeof(ws->why), "%s", why);
    ws->state = WS_CLOSED;
    free(ws->headers);
    ws->headers = NULL;
}

/*
 * Appends one piece of an incoming message, and queues the message once
 * its last piece is in.  Returns 0, or -1 to drop the connection (too
 * large, out of memory), with the reason in ws->why.
 */
static int ws_receive_piece(struct loads_ws *ws, struct lws *wsi, const void *in,
                            size_t len)
{
    struct ws_msg *m = ws->rx;
    size_t have = m ? m->len : 0;
    size_t want = have + len + lws_remaining_packet_payload(wsi);

    if (want > WS_MAX_MESSAGE) {
        snprintf(ws->why, sizeof(ws->why), "message larger than %u MiB",
                 WS_MAX_MESSAGE >> 20);
        lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, NULL, 0);
        return -1;
    }
    if (!m || m->cap < have + len) {
        size_t cap = m ? m->cap * 2 : 64;

        while (cap < want)
            cap *= 2;
        m = realloc(m, sizeof(*m) + cap + 1);
        if (!m) {
            snprintf(ws->why, sizeof(ws->why), "out of memory for a message");
            return -1;
        }
        if (!ws->rx) {
            m->len = 0;
            m->binary = lws_frame_is_binary(wsi);
        }
        m->cap = cap;
        ws->rx = m;
    }
    memcpy(m->data + m->len, in, len);
    m->len += len;
    if (!lws_is_final_fragment(wsi))
        return 0;

    m->data[m->len] = '\0';
    m->next = NULL;
    m->arrived_us = shm_mono_us();
    if (ws->tail)
        ws->tail->next = m;
    else
        ws->head = m;
    ws->tail = m;
    ws->rx = NULL;
    ws->queued += m->len;
    if (ws->queued > WS_QUEUE_HIGH && !ws->rx_paused) {
        ws->rx_paused = 1;
        lws_rx_flow_control(wsi, 0);
    }
    ws_wake(ws);
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
 * Describes a failed connect or handshake in ws->why.  lws says "Unable to
 * connect" or "Closed before conn" where a person wants "Connection
 * refused": the socket's pending error, or else the errno of lws' last
 * connect call, tells the real reason.
 */
static void ws_connect_error(struct loads_ws *ws, struct lws *wsi, const char *in,
                             int err)
{
    unsigned status = lws_http_client_http_response(wsi);
    int fd = lws_get_socket_fd(wsi), soerr = 0;
    socklen_t slen = sizeof(soerr);

    if (fd >= 0 && !getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &slen) &&
        ws_connect_errno(soerr))
        err = soerr;
    if (status && status != 101)
        snprintf(ws->why, sizeof(ws->why), "handshake refused: HTTP %u", status);
    else if (in && !strncmp(in, "HS: ", 4))
        snprintf(ws->why, sizeof(ws->why), "handshake failed: %s", in + 4);
    else if (in && !strncmp(in, "connect SSL err", 15))
        snprintf(ws->why, sizeof(ws->why),
                 "TLS handshake failed (certificate not trusted, or no common protocol)");
    else if (ws_connect_errno(err))
        snprintf(ws->why, sizeof(ws->why), "%s", strerror(err));
    else
        snprintf(ws->why, sizeof(ws->why), "%s", in && *in ? in : "connection failed");
}

/* Describes the server's close frame: status code, and reason when given. */
static void ws_peer_close(struct loads_ws *ws, const unsigned char *in, size_t len)
{
    ws->peer_code = len >= 2 ? (in[0] << 8) | in[1] : LWS_CLOSE_STATUS_NO_STATUS;
    if (len > 2)
        snprintf(ws->why, sizeof(ws->why), "closed by server (%d): %.*s", ws->peer_code,
                 (int)(len - 2), (const char *)in + 2);
    else
        snprintf(ws->why, sizeof(ws->why), "closed by server (%d)", ws->peer_code);
}

/*
 * Says why an open socket closed when the server sent no close frame: a
 * reason of our own (a message too large), lws' protocol error, or else
 * the server just went away.
 */
static void ws_lost(struct loads_ws *ws)
{
    char reason[WS_LOG_LEN];
    int protocol_error = ws_log_protocol_error(reason, sizeof(reason));

    if (ws->why[0])
        return;
    if (protocol_error)
        snprintf(ws->why, sizeof(ws->why), "protocol error: %s", reason);
    else
        snprintf(ws->why, sizeof(ws->why),
                 "connection closed by server without a close frame");
}

/* Adds the test's extra handshake headers into lws' request buffer. */
static int ws_append_headers(struct loads_ws *ws, char **p, size_t room)
{
    size_t n;

    if (!ws->headers)
        return 0;
    n = strlen(ws->headers);
    if (n >= room) {
        snprintf(ws->why, sizeof(ws->why), "handshake headers too long (%zu bytes)", n);
        return -1;
    }
    memcpy(*p, ws->headers, n);
    *p += n;
    return 0;
}

/* The one protocol of the client context: every wsi comes through here. */
static int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                       void *in, size_t len)
{
    int err = errno; /* a failed connect's reason, before anything else runs */
    struct loads_ws *ws = lws_get_opaque_user_data(wsi);

    if (!ws)
        return lws_callback_http_dummy(wsi, reason, user, in, len);

    switch (reason) {
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
        return ws_append_headers(ws, in, len);
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        ws_log_count = 0;
        ws->state = WS_OPEN;
        ws->opened = 1;
        free(ws->headers);
        ws->headers = NULL;
        shm_add(&ws->w->slot->c.ws_opened, 1);
        ws_wake(ws);
        return 0;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (ws->state == WS_CONNECTING && !ws->why[0])
            ws_connect_error(ws, wsi, in, err);
        ws_set_closed(ws, "connection failed");
        ws_wake(ws);
        return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        ws_log_count = 0;
        shm_add(&ws->w->slot->c.ws_bytes, len);
        if (!ws->vu || ws->closed_by_test)
            return 0; /* nobody will receive it: count, but keep nothing */
        return ws_receive_piece(ws, wsi, in, len);
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (ws->state == WS_OPEN)
            ws_peer_close(ws, in, len);
        return 0;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        if (ws->state == WS_CLOSING)
            return -1; /* lws sends the close frame set by lws_close_reason */
        ws_wake(ws);
        return 0;
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (ws->state == WS_OPEN && !ws->peer_code)
            ws_lost(ws);
        else
            ws_log_count = 0;
        ws_set_closed(ws, "connection closed");
        ws_wake(ws);
        return 0;
    case LWS_CALLBACK_WSI_DESTROY:
        ws->wsi = NULL;
        ws->lws_done = 1;
        ws_set_closed(ws, "connection lost");
        if (!ws->vu) {
            ws_free(ws);
            return 0;
        }
        ws_wake(ws);
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

/*
 * Creates the worker's client context on its loop.  lws' timeouts follow
 * --timeout, rounded up to whole seconds, the VU's own timer being the
 * precise one.  Returns 0 or -1 (and then never tries again).
 */
static int ws_context_create(struct worker *w)
{
    struct lws_context_creation_info info;
    void *loops[1] = {&w->loop};
    unsigned secs = (unsigned)ceil(w->plan->timeout);

    if (w->lws)
        return 0;
    if (w->lws_failed)
        return -1;
    ws_debug = getenv("LOADS_DEBUG") != NULL;
    lws_set_log_level(LLL_ERR | LLL_WARN | LLL_INFO, ws_log_emit);
    memset(&info, 0, sizeof(info));
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = ws_protocols;
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.foreign_loops = loops;
    info.timeout_secs = secs ? secs : 1;
    info.connect_timeout_secs = info.timeout_secs;
    info.user = w;
    w->lws = lws_create_context(&info);
    if (!w->lws) {
        w->lws_failed = 1;
        return -1;
    }
    uv_idle_init(&w->loop, &w->ws_idle);
    w->ws_idle.data = w;
    return 0;
}

/* True while a handle of the loop is being closed. */
static void on_walk_closing(uv_handle_t *h, void *arg)
{
    if (uv_is_closing(h))
        *(int *)arg = 1;
}

/*
 * Destroys the context at the worker's end.  With a foreign loop, lws
 * closes its handles through the loop: the first destroy starts closing
 * every wsi, the loop runs until those closes and the ones they start
 * (lws' own timer and idle handles) have completed, and the second
 * destroy frees the rest.
 */
void worker_ws_close(struct worker *w)
{
    int closing = 1;

    if (!w->lws)
        return;
    uv_idle_stop(&w->ws_idle);
    lws_context_destroy(w->lws);
    for (int i = 0; i < 100 && closing; i++) {
        uv_run(&w->loop, UV_RUN_NOWAIT);
        closing = 0;
        uv_walk(&w->loop, on_walk_closing, &closing);
    }
    lws_context_destroy(w->lws);
    w->lws = NULL;
    free(w->ws_buf);
    w->ws_buf = NULL;
}

/* ------------------------------------------------------------------ URLs */

/*
 * Makes url absolute, with a ws:// or wss:// scheme, into out: http and
 * https map to ws and wss, and a relative url is taken relative to
 * --server-url.  Returns 0, or -EINVAL with the reason in why.
 */
static int ws_resolve(const char *base, const char *url, char *out, size_t len,
                      const char **why)
{
    static const char *const map[][2] = {{"ws://", "ws://"},
                                         {"wss://", "wss://"},
                                         {"http://", "ws://"},
                                         {"https://", "wss://"}};
    const char *rest = NULL, *scheme = NULL;
    size_t blen;

    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]) && !rest; i++) {
        if (!strncasecmp(url, map[i][0], strlen(map[i][0]))) {
            scheme = map[i][1];
            rest = url + strlen(map[i][0]);
        }
    }
    if (!rest && strstr(url, "://")) {
        *why = "not a ws://, wss://, http:// or https:// URL";
        return -EINVAL;
    }
    if (!rest) {
        for (size_t i = 0; i < sizeof(map) / sizeof(map[0]) && !rest; i++) {
            if (!strncasecmp(base, map[i][0], strlen(map[i][0]))) {
                scheme = map[i][1];
                rest = base + strlen(map[i][0]);
            }
        }
        if (!rest) {
            *why = base[0] ? "--server-url is not an http:// or https:// URL"
                           : "relative URL and no --server-url";
            return -EINVAL;
        }
        blen = strlen(rest);
        while (blen && rest[blen - 1] == '/')
            blen--;
        if ((size_t)snprintf(out, len, "%s%.*s%s%s", scheme, (int)blen, rest,
                             url[0] == '/' ? "" : "/", url) >= len)
            goto too_long;
        return 0;
    }
    if ((size_t)snprintf(out, len, "%s%s", scheme, rest) >= len)
        goto too_long;
    return 0;

too_long:
    *why = "URL too long";
    return -EINVAL;
}

/* The parts of an absolute ws URL that lws wants, NUL-terminated copies. */
struct ws_target {
    int tls;               /* wss */
    int port;
    char host[256];        /* name or address, without brackets */
    char *authority;       /* host[:port] as written, for Host:, in buf */
    char *path;            /* "/..." with the query string, in buf */
};

/*
 * Splits url (absolute, ws:// or wss://) into t, the authority and path
 * copied into buf, which must hold strlen(url) + 3 bytes.  Returns 0, or
 * -EINVAL with the reason in why.
 */
static int ws_split(const char *url, char *buf, size_t len, struct ws_target *t,
                    const char **why)
{
    struct url_parts u;

    if (strlen(url) + 3 > len) {
        *why = "URL too long";
        return -EINVAL;
    }
    if (worker_url_parse(url, &u) < 0) {
        *why = "bad host or port in URL";
        return -EINVAL;
    }
    t->tls = u.https;
    t->port = (int)u.port;
    memcpy(t->host, u.host, sizeof(t->host));
    t->authority = buf;
    buf += sprintf(buf, "%.*s", (int)u.authority_len, u.authority) + 1;
    /* The path, "/" when none, with its query but without the fragment. */
    t->path = buf;
    sprintf(buf, "%s%.*s", u.target_len && u.target[0] == '/' ? "" : "/",
            (int)u.target_len, u.target);
    return 0;
}

/* ------------------------------------------------------------------- API */

/* The per-URL key: "WS " and the URL without its query string or fragment. */
static struct shm_url *ws_row(struct worker *w, const char *url)
{
    char key[SHM_URL_LEN];

    snprintf(key, sizeof(key), "WS %.*s", (int)strcspn(url, "?#"), url);
    return shm_url_get(w->slot, key, shm_hash(key, NULL));
}

/* Counts one sample of the socket's row: a handshake or a message. */
static void ws_record(struct loads_ws *ws, int64_t us)
{
    shm_add(&ws->row->hits, 1);
    shm_add(&ws->row->ok, 1);
    hist_record(&ws->row->latency, us > 0 ? (uint64_t)us : 0);
}

/* Stops the run as an Error about ws, counting it on the socket's row. */
static void ws_error(struct loads_test *vu, struct loads_ws *ws, const char *op,
                     const char *why) __attribute__((noreturn));
static void ws_error(struct loads_test *vu, struct loads_ws *ws, const char *op,
                     const char *why)
{
    shm_add(&ws->row->errors, 1);
    vu_stop_run(vu, VU_ERROR, "WS %s %s: %s", op, ws->url, why);
}

/*
 * Asks lws to drop the connection at its next service, from outside its
 * callbacks.  The wsi's destroy callback follows.
 */
static void ws_kill(struct loads_ws *ws)
{
    if (ws->wsi)
        lws_set_timeout(ws->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
}

/*
 * Starts the closing handshake of an open socket: the close frame goes out
 * from the writable callback.  A socket still connecting is dropped.
 */
static void ws_start_close(struct loads_ws *ws)
{
    if (ws->state == WS_OPEN && ws->wsi) {
        ws->state = WS_CLOSING;
        lws_close_reason(ws->wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
        lws_callback_on_writable(ws->wsi);
    } else if (ws->state == WS_CONNECTING) {
        ws_kill(ws);
    }
}

/* Checks that the test may use ws: its own, and not closed by it. */
static void ws_check(struct loads_test *vu, struct loads_ws *ws, const char *op)
{
    if (!ws)
        vu_stop_run(vu, VU_ERROR, "loads_ws_%s: no socket (NULL)", op);
    if (ws->vu != vu)
        vu_stop_run(vu, VU_ERROR, "loads_ws_%s: the socket is not this run's", op);
    if (ws->closed_by_test)
        vu_stop_run(vu, VU_ERROR, "WS %s %s: the test closed this socket", op, ws->url);
}

loads_ws *loads_ws_connect_ex(loads_test *vu, const char *url, const char *protocols,
                              const char *const *headers, loads_ws_callback cb,
                              void *user)
{
    struct worker *w = vu->w;
    struct lws_client_connect_info ci;
    struct ws_target target;
    struct loads_ws *ws;
    char full[WS_URL_MAX], parts[WS_URL_MAX + 3];
    const char *why;
    size_t hlen = 0;
    int rc;

    if (ws_resolve(w->plan->server_url, url, full, sizeof(full), &why) < 0 ||
        ws_split(full, parts, sizeof(parts), &target, &why) < 0)
        vu_stop_run(vu, VU_ERROR, "WS connect %s: %s", url, why);
    if (ws_context_create(w) < 0)
        vu_stop_run(vu, VU_ERROR,
                    "WS connect %s: cannot create the libwebsockets context "
                    "(is libwebsockets-evlib-uv installed?)",
                    full);

    ws = calloc(1, sizeof(*ws) + strlen(full) + 1);
    for (const char *const *h = headers; h && *h; h++)
        hlen += strlen(*h) + 2;
    if (!ws || (hlen && !(ws->headers = malloc(hlen + 1)))) {
        free(ws);
        vu_stop_run(vu, VU_ERROR, "WS connect %s: out of memory", full);
    }
    if (hlen) {
        char *p = ws->headers;

        for (const char *const *h = headers; *h; h++)
            p += sprintf(p, "%s\r\n", *h);
    }
    strcpy(ws->url, full);
    ws->w = w;
    ws->vu = vu;
    ws->cb = cb;
    ws->user = user;
    ws->row = ws_row(w, full);
    ws->next = vu->ws;
    vu->ws = ws;

    memset(&ci, 0, sizeof(ci));
    ci.context = w->lws;
    ci.address = target.host;
    ci.port = target.port;
    ci.ssl_connection = target.tls ? LCCSCF_USE_SSL : 0;
    ci.path = target.path;
    ci.host = target.authority;
    ci.protocol = protocols && *protocols ? protocols : NULL;
    ci.local_protocol_name = ws_protocols[0].name;
    ci.ietf_version_or_minus_one = -1;
    ci.opaque_user_data = ws;
    ws->started_us = shm_mono_us();
    errno = 0;
    ws->wsi = lws_client_connect_via_info(&ci);
    if (!ws->wsi || ws->lws_done) {
        /* Failed at once: lws has freed the wsi, or never made one. */
        ws->wsi = NULL;
        ws->lws_done = 1;
        ws_set_closed(ws, "cannot start the connection");
    }

    rc = ws_wait(vu, ws, w->plan->timeout, ws_is_connected);
    if (rc == -ECANCELED)
        ws_error(vu, ws, "connect", "stopped, still connecting after the grace period");
    if (rc == -ETIMEDOUT) {
        char text[64];

        ws_kill(ws);
        ws_set_closed(ws, "timed out");
        snprintf(text, sizeof(text), "no handshake within %g s", w->plan->timeout);
        ws_error(vu, ws, "connect", text);
    }
    /*
     * An open socket may have closed already (lws can read the handshake
     * and a bad first frame at once): the test's next call will say so.
     */
    if (!ws->opened)
        ws_error(vu, ws, "connect", ws->why);
    ws_record(ws, shm_mono_us() - ws->started_us);
    return ws;
}

loads_ws *loads_ws_connect(loads_test *t, const char *url, loads_ws_callback cb,
                           void *user)
{
    return loads_ws_connect_ex(t, url, NULL, NULL, cb, user);
}

/* Makes room for LWS_PRE + len bytes in the worker's send buffer. */
static unsigned char *ws_send_buffer(struct worker *w, size_t len)
{
    size_t need = LWS_PRE + len;

    if (need > w->ws_buf_cap) {
        size_t cap = w->ws_buf_cap ? w->ws_buf_cap : 4096;
        char *p;

        while (cap < need)
            cap *= 2;
        p = realloc(w->ws_buf, cap);
        if (!p)
            return NULL;
        w->ws_buf = p;
        w->ws_buf_cap = cap;
    }
    return (unsigned char *)w->ws_buf + LWS_PRE;
}

/*
 * Sends one message.  lws_write takes it whole: what the socket does not
 * take now stays in lws' buffer and goes out when writable.  Only then
 * does the VU wait, so that a test cannot queue without bound.
 */
static void ws_send(struct loads_test *vu, struct loads_ws *ws, const void *data,
                    size_t len, int binary)
{
    unsigned char *buf;
    int rc;

    ws_check(vu, ws, "send");
    if (ws->state != WS_OPEN || ws->peer_code || !ws->wsi)
        ws_error(vu, ws, "send", ws->why[0] ? ws->why : "socket not open");
    buf = ws_send_buffer(vu->w, len);
    if (!buf)
        ws_error(vu, ws, "send", "out of memory");
    memcpy(buf, data, len);
    ws_log_count = 0;
    rc = lws_write(ws->wsi, buf, len, binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
    ws_log_count = 0;
    if (rc < 0) {
        ws_kill(ws);
        ws_set_closed(ws, "send failed");
        ws_error(vu, ws, "send", "send failed, connection dropped");
    }
    if (!lws_partial_buffered(ws->wsi))
        return;
    rc = ws_wait(vu, ws, vu->w->plan->timeout, ws_is_drained);
    if (rc == -ECANCELED)
        ws_error(vu, ws, "send", "stopped, still sending after the grace period");
    if (rc == -ETIMEDOUT) {
        char text[64];

        snprintf(text, sizeof(text), "not sent within %g s", vu->w->plan->timeout);
        ws_error(vu, ws, "send", text);
    }
    if (ws->state == WS_CLOSED)
        ws_error(vu, ws, "send", ws->why);
}

void loads_ws_send(loads_test *t, loads_ws *ws, const char *text)
{
    ws_send(t, ws, text, strlen(text), 0);
}

void loads_ws_send_binary(loads_test *t, loads_ws *ws, const void *data, size_t len)
{
    ws_send(t, ws, data, len, 1);
}

size_t loads_ws_receive(loads_test *vu, loads_ws *ws, double timeout_s)
{
    struct ws_msg *m;
    int64_t start;
    int rc;

    ws_check(vu, ws, "receive");
    if (timeout_s <= 0)
        timeout_s = vu->w->plan->timeout;
    start = shm_mono_us();
    rc = ws_wait(vu, ws, timeout_s, ws_has_news);
    if (rc == -ECANCELED)
        ws_error(vu, ws, "receive", "stopped, still waiting after the grace period");
    if (!ws->head) {
        char text[64];

        if (rc == 0)
            ws_error(vu, ws, "receive", ws->why);
        snprintf(text, sizeof(text), "no message within %g s", timeout_s);
        ws_error(vu, ws, "receive", text);
    }

    m = ws->head;
    ws->head = m->next;
    if (!ws->head)
        ws->tail = NULL;
    ws->queued -= m->len;
    if (ws->current && ws->in_cb) {
        ws->current->next = ws->retired; /* an outer callback still reads it */
        ws->retired = ws->current;
    } else {
        free(ws->current);
    }
    ws->current = m;
    if (ws->rx_paused && ws->queued < WS_QUEUE_LOW && ws->wsi) {
        ws->rx_paused = 0;
        lws_rx_flow_control(ws->wsi, 1);
    }
    ws_record(ws, m->arrived_us - start);
    if (ws->cb) {
        ws->in_cb++;
        ws->cb(vu, ws, m->data, m->len, m->binary, ws->user);
        if (--ws->in_cb == 0) {
            ws_free_msgs(ws->retired);
            ws->retired = NULL;
        }
    }
    return m->len;
}

void loads_ws_close(loads_test *vu, loads_ws *ws)
{
    ws_check(vu, ws, "close");
    ws->closed_by_test = 1;
    ws_drop_data(ws);
    ws_start_close(ws);
    switch (ws_wait(vu, ws, vu->w->plan->timeout, ws_is_closed)) {
    case -ECANCELED:
        ws_kill(ws);
        ws_error(vu, ws, "close", "stopped, still closing after the grace period");
    case -ETIMEDOUT:
        ws_kill(ws); /* no answer: drop it; the test has done its part */
        break;
    }
}

/* ------------------------------------------------------------- run's end */

/*
 * Closes what the ended run left open and lets go of its sockets: each is
 * freed now when lws is done with it, else by its destroy callback.
 */
void worker_ws_end_run(struct loads_test *vu)
{
    struct loads_ws *ws = vu->ws, *next;

    for (; ws; ws = next) {
        next = ws->next;
        ws->vu = NULL;
        ws->next = NULL;
        if (ws->lws_done) {
            ws_free(ws);
            continue;
        }
        ws_drop_data(ws);
        free(ws->current);
        ws_free_msgs(ws->retired);
        ws->current = ws->retired = NULL;
        ws_start_close(ws);
    }
    vu->ws = NULL;
}

/* Stops a VU's web socket wait, for a run aborted after the grace period. */
void worker_ws_abort(struct loads_test *vu)
{
    uv_timer_stop(&vu->timer);
}
