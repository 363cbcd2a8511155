/*
 * The cluster's ZeroMQ glue: sockets with CURVE, key files, the ZAP
 * handler that checks clients' keys against an allow list, and the
 * sending and receiving of protocol messages.  ZeroMQ's and CZMQ's error
 * codes are translated here and nowhere else.
 *
 * Key files are CZMQ certificates: NAME holds the public key, NAME_secret
 * both (mode 0600).  A program is given NAME and reads NAME_secret.
 */
#ifndef LOADS_CLUSTER_NET_H
#define LOADS_CLUSTER_NET_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster/proto.h"

#define CL_DEFAULT_ENDPOINT "tcp://127.0.0.1:7780"
#define CL_HB_MS            1000    /* heartbeat period, both ways */
#define CL_TIMEOUT_MS       5000    /* silence after which a peer is lost */
#define CL_ID_LEN           256     /* a ZeroMQ routing id */

/* A peer's routing id on the broker's ROUTER socket. */
struct cl_id {
    uint8_t b[CL_ID_LEN];
    size_t len;
};

/* Keys of one side: its own pair, and the broker's public key (clients). */
struct cl_keys {
    int have;                       /* 0: no keys, plain ZeroMQ */
    char public_txt[41];            /* Z85 */
    char secret_txt[41];
    char server_txt[41];            /* clients: the broker's public key */
};

/* The ZeroMQ context, made once per process. */
void *cl_ctx(void);
void cl_ctx_close(void);

/*
 * Writes a new key pair as NAME (public) and NAME_secret, both 0600.
 * Returns 0, or a negative errno with a one-line reason in err.
 */
int cl_keygen(const char *name, char *err, size_t errlen);

/*
 * Reads the pair NAME_secret into k and, for a client, the broker's
 * public key from server_file (NULL for the broker).  Returns 0 or -errno
 * with a reason in err.
 */
int cl_keys_load(struct cl_keys *k, const char *name, const char *server_file, char *err,
                 size_t errlen);

/* Whether endpoint stays on this machine: ipc://, inproc://, loopback tcp. */
int cl_endpoint_local(const char *endpoint);

/*
 * The broker's ROUTER socket bound to endpoint, with CURVE when k->have.
 * Without keys, only a local endpoint is accepted.  Returns the socket or
 * NULL with a reason in err.
 */
void *cl_bind(const char *endpoint, const struct cl_keys *k, char *err, size_t errlen);

/*
 * A client's DEALER socket connected to endpoint, with CURVE when k->have,
 * and a monitor that cl_auth_failure reads.  id, when not NULL, is the
 * socket's routing id, kept across reconnections (the broker reaches an
 * agent by it after its connection was cut); NULL lets the broker pick
 * one per connection.  Returns the socket or NULL with a reason in err.
 */
void *cl_connect(const char *endpoint, const struct cl_keys *k, const char *id, char *err,
                 size_t errlen);

/*
 * The broker's view of its handshakes: how many clients failed the CURVE
 * handshake (no keys, or not the broker's public key) since the last
 * call.  Those never reach the allow list, so ZAP cannot log them.
 */
int cl_bind_failures(void *sock);

/* Closes a socket from cl_bind or cl_connect (and its monitor).  Safe on NULL. */
void cl_close(void *sock);

/*
 * A client's view of its handshakes so far: a one-line reason in err and
 * -EACCES when the broker refused this side's key or the two sides'
 * security does not match; 0 otherwise.
 */
int cl_auth_failure(void *sock, char *err, size_t errlen);

/*
 * Sends m, to the peer id on a ROUTER (id NULL on a DEALER), without
 * blocking.  Returns 0, -EAGAIN when the peer's queue is full or it is
 * gone, or another negative errno.
 */
int cl_send(void *sock, const struct cl_id *id, const struct cl_msg *m);

/* Sends an already encoded message, as cl_send. */
int cl_send_raw(void *sock, const struct cl_id *id, const uint8_t *buf, size_t len);

/*
 * Receives one message without blocking into m (free it with
 * cl_msg_free), with the sender's id on a ROUTER.  Returns 0, -EAGAIN
 * when none is waiting, -EPROTO for a message that does not decode (err
 * says why; m is then empty), or another negative errno.
 */
int cl_recv(void *sock, struct cl_id *id, struct cl_msg *m, char *err, size_t errlen);

/* The broker's ZAP handler: the socket ZeroMQ asks, and the allow list. */
struct cl_zap;

/*
 * Starts answering ZeroMQ's authentication requests in this process:
 * CURVE clients whose public key is in a certificate of folder allow_dir
 * (re-read when it changes) are let in, others refused and logged on
 * stderr.  Returns NULL with a reason in err.
 */
struct cl_zap *cl_zap_open(const char *allow_dir, char *err, size_t errlen);

/* The socket to poll for requests. */
void *cl_zap_socket(struct cl_zap *z);

/* Answers every request waiting.  Returns how many clients were refused. */
int cl_zap_handle(struct cl_zap *z);

void cl_zap_close(struct cl_zap *z);

/*
 * Waits up to ms milliseconds until one of the n sockets (NULLs skipped)
 * has a message.  Returns how many have, 0 on the timeout, or -errno
 * (-EINTR for a signal).
 */
int cl_poll(void *const *socks, int n, long ms);

/* CLOCK_MONOTONIC in milliseconds. */
int64_t cl_now_ms(void);

/*
 * A long-running program's lines on stderr, "loads-agent: ..." (the name
 * given once to cl_daemon_start), and its stop: SIGTERM and SIGINT set
 * cl_stop_signal (SIGPIPE is ignored).
 */
void cl_daemon_start(const char *name);
void cl_logf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern volatile sig_atomic_t cl_stop_signal;

#endif
