/*
 * WebSockets, a transport of the middle layer: libwebsockets on the
 * worker's libuv loop, and a VU's blocking-style calls on one socket.
 *
 * Like the HTTP transports it keeps its state in its own file, suspends
 * the VU through its one wait (base/vu.h) and returns 0 or a negative
 * errno: -ETIMEDOUT at the deadline, -ECANCELED when the VU was cancelled,
 * anything else with a message for a person in err.  It never ends a run
 * and never touches shared memory; it counts sockets opened and bytes
 * received, and the API takes the counts.
 */
#ifndef LOADS_WS_WS_H
#define LOADS_WS_WS_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "base/buf.h"

struct vu;
struct ws_glue;
struct ws_conn;

/* Where a socket goes: the pieces of an absolute ws:// or wss:// URL. */
struct ws_target {
    int tls;                      /* wss */
    int port;
    const char *host;             /* name or address, without brackets */
    const char *authority;        /* host[:port] as written, for Host */
    const char *path;             /* "/..." with the query string */
};

/* One message received, whole (fragments reassembled). */
struct ws_msg {
    struct ws_msg *next;          /* the socket's queue */
    int64_t arrived_us;           /* CLOCK_MONOTONIC when its last byte came */
    int binary;                   /* 1 binary, 0 text */
    struct buf data;              /* the payload, NUL-terminated */
};

/*
 * The worker's client context on loop.  timeout_s bounds lws' own waits
 * (rounded up to seconds; each call's deadline is the precise bound);
 * max_message is the largest message accepted; insecure: any server
 * certificate is accepted.  NULL when lws cannot make one (the libuv
 * event-lib plugin is missing, or memory).
 */
struct ws_glue *ws_glue_create(uv_loop_t *loop, double timeout_s, size_t max_message,
                               int insecure);

/*
 * Destroys the context at the worker's end, running the loop until lws has
 * closed its handles.  Every socket must have been released.  Safe on NULL.
 */
void ws_glue_destroy(struct ws_glue *g);

/* Sockets opened and bytes received since the last call. */
void ws_glue_take_counts(struct ws_glue *g, uint64_t *opened, uint64_t *bytes);

/*
 * Opens a socket for the VU and waits for the handshake, offering the
 * subprotocols of protocols (NULL: none) and adding headers (NULL or
 * NULL-terminated "Name: value" strings).  Returns the socket, or NULL
 * with *rc (and err).
 */
struct ws_conn *ws_conn_open(struct ws_glue *g, struct vu *vu, const struct ws_target *t,
                             const char *protocols, const char *const *headers,
                             int64_t deadline, int *rc, char *err, size_t errlen);

/*
 * Sends one message; waits only while the connection is backed up.
 * Returns 0 or a negative errno (-ENOTCONN: the socket is not open).
 */
int ws_conn_send(struct ws_conn *c, const void *data, size_t len, int binary,
                 int64_t deadline, char *err, size_t errlen);

/*
 * The next message, waiting for it; the caller owns it (ws_msg_free).
 * NULL with *rc when none came: -ENOTCONN (closed, err says how) or a
 * wait's error.
 */
struct ws_msg *ws_conn_receive(struct ws_conn *c, int64_t deadline, int *rc, char *err,
                               size_t errlen);

void ws_msg_free(struct ws_msg *m);

/*
 * Closes with status 1000 and waits for the server's answer.  Messages not
 * received are dropped.  Returns 0, or -ETIMEDOUT / -ECANCELED (then the
 * connection is dropped).
 */
int ws_conn_close(struct ws_conn *c, int64_t deadline);

/*
 * The socket's run is over: it is closed if still open and freed once lws
 * is done with it.  The caller forgets c.
 */
void ws_conn_release(struct ws_conn *c);

#endif
