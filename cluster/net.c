/*
 * ZeroMQ and CZMQ glue for the cluster (see net.h).
 */
#include <czmq.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <zmq.h>

#include "cluster/net.h"

static void *ctx;

void *cl_ctx(void)
{
    if (!ctx) {
        /* CZMQ's own signal handlers would take SIGINT/SIGTERM from us. */
        zsys_handler_set(NULL);
        ctx = zmq_ctx_new();
    }
    return ctx;
}

void cl_ctx_close(void)
{
    if (ctx)
        zmq_ctx_term(ctx);
    ctx = NULL;
}

int cl_poll(void *const *socks, int n, long ms)
{
    zmq_pollitem_t items[4];
    int k = 0, rc;

    for (int i = 0; i < n && k < 4; i++)
        if (socks[i])
            items[k++] = (zmq_pollitem_t){socks[i], 0, ZMQ_POLLIN, 0};
    rc = zmq_poll(items, k, ms);
    return rc < 0 ? -zmq_errno() : rc;
}

int64_t cl_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int cl_keygen(const char *name, char *err, size_t errlen)
{
    char secret[4096];
    zcert_t *cert;
    mode_t old;
    int rc = 0;

    if (!zsys_has_curve()) {
        snprintf(err, errlen, "this ZeroMQ has no CURVE security (built without libsodium)");
        return -ENOTSUP;
    }
    snprintf(secret, sizeof(secret), "%s_secret", name);
    if (access(name, F_OK) == 0 || access(secret, F_OK) == 0) {
        snprintf(err, errlen, "%s or %s exists already: remove it first, or choose "
                              "another name", name, secret);
        return -EEXIST;
    }
    cert = zcert_new();
    if (!cert) {
        snprintf(err, errlen, "cannot make a key pair");
        return -ENOMEM;
    }
    zcert_set_meta(cert, "name", "%s", name);
    zcert_set_meta(cert, "made-by", "loads %s", LOADS_VERSION);
    old = umask(077);
    if (zcert_save(cert, name) < 0 || chmod(name, 0600) < 0 || chmod(secret, 0600) < 0) {
        rc = -errno ? -errno : -EIO;
        snprintf(err, errlen, "cannot write %s and %s: %s", name, secret, strerror(errno));
    }
    umask(old);
    zcert_destroy(&cert);
    return rc;
}

int cl_keys_load(struct cl_keys *k, const char *name, const char *server_file, char *err,
                 size_t errlen)
{
    char secret[4096];
    zcert_t *cert;
    struct stat st;

    memset(k, 0, sizeof(*k));
    snprintf(secret, sizeof(secret), "%s_secret", name);
    if (stat(secret, &st) < 0) {
        snprintf(err, errlen, "cannot read the key %s: %s (make one with loads-broker "
                              "--keygen %s)", secret, strerror(errno), name);
        return -ENOENT;
    }
    if (st.st_mode & 077) {
        snprintf(err, errlen, "the key %s may be read by others (mode %03o): chmod 600 it",
                 secret, st.st_mode & 0777);
        return -EPERM;
    }
    cert = zcert_load(secret);
    if (!cert || !strcmp(zcert_secret_txt(cert), "0000000000000000000000000000000000000000")) {
        snprintf(err, errlen, "%s is not a key pair made by loads-broker --keygen", secret);
        zcert_destroy(&cert);
        return -EINVAL;
    }
    snprintf(k->public_txt, sizeof(k->public_txt), "%s", zcert_public_txt(cert));
    snprintf(k->secret_txt, sizeof(k->secret_txt), "%s", zcert_secret_txt(cert));
    zcert_destroy(&cert);
    if (server_file) {
        cert = zcert_load(server_file);
        if (!cert) {
            snprintf(err, errlen, "cannot read the broker's public key %s", server_file);
            return -ENOENT;
        }
        snprintf(k->server_txt, sizeof(k->server_txt), "%s", zcert_public_txt(cert));
        zcert_destroy(&cert);
    }
    k->have = 1;
    return 0;
}

int cl_endpoint_local(const char *e)
{
    static const char *const local[] = {"ipc://", "inproc://", "tcp://127.",
                                        "tcp://localhost:", "tcp://[::1]:"};

    for (size_t i = 0; i < sizeof(local) / sizeof(local[0]); i++)
        if (strncmp(e, local[i], strlen(local[i])) == 0)
            return 1;
    return 0;
}

/* Sockets' monitors, kept by socket in a small table. */
#define MONITORS 8
static struct {
    void *sock, *mon;
} monitors[MONITORS];

static void *monitor_of(void *sock)
{
    for (int i = 0; i < MONITORS; i++)
        if (monitors[i].sock == sock)
            return monitors[i].mon;
    return NULL;
}

/* Watches sock's events (a table of MONITORS; past it, none). */
static void add_monitor(void *s, int events)
{
    char addr[64];
    void *mon;
    int slot = -1;

    for (int i = 0; i < MONITORS && slot < 0; i++)
        if (!monitors[i].sock)
            slot = i;
    snprintf(addr, sizeof(addr), "inproc://loads-monitor-%p", s);
    if (slot < 0 || zmq_socket_monitor(s, addr, events) < 0)
        return;
    mon = zmq_socket(cl_ctx(), ZMQ_PAIR);
    if (mon && zmq_connect(mon, addr) == 0) {
        monitors[slot].sock = s;
        monitors[slot].mon = mon;
    } else if (mon) {
        zmq_close(mon);
    }
}

/* Options every socket of ours gets. */
static void common_options(void *s)
{
    int linger = 200, hwm = 100000, max_ivl = 1000, ivl = 100;
    int64_t max = CL_MAX_MSG;

    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
    zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof(hwm));
    zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof(hwm));
    zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &max, sizeof(max));
    zmq_setsockopt(s, ZMQ_RECONNECT_IVL, &ivl, sizeof(ivl));
    zmq_setsockopt(s, ZMQ_RECONNECT_IVL_MAX, &max_ivl, sizeof(max_ivl));
}

void *cl_bind(const char *endpoint, const struct cl_keys *k, char *err, size_t errlen)
{
    void *s;
    int one = 1;

    if (!k->have && !cl_endpoint_local(endpoint)) {
        snprintf(err, errlen, "refusing to listen on %s without keys: anyone who reaches it "
                              "could run code on the agents; give --key and --allow, or "
                              "listen on 127.0.0.1 or ipc://", endpoint);
        return NULL;
    }
    s = zmq_socket(cl_ctx(), ZMQ_ROUTER);
    if (!s) {
        snprintf(err, errlen, "cannot make a socket: %s", zmq_strerror(zmq_errno()));
        return NULL;
    }
    common_options(s);
    zmq_setsockopt(s, ZMQ_ROUTER_HANDOVER, &one, sizeof(one));
    if (k->have) {
        zmq_setsockopt(s, ZMQ_CURVE_SERVER, &one, sizeof(one));
        zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, k->secret_txt, 40);
        zmq_setsockopt(s, ZMQ_ZAP_DOMAIN, "loads", 5);
    }
    if (zmq_bind(s, endpoint) < 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", endpoint, zmq_strerror(zmq_errno()));
        zmq_close(s);
        return NULL;
    }
    if (k->have)
        add_monitor(s, ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL);
    return s;
}

int cl_bind_failures(void *sock)
{
    void *mon = monitor_of(sock);
    int n = 0;

    while (mon) {
        zmq_msg_t ev, addr;

        zmq_msg_init(&ev);
        if (zmq_msg_recv(&ev, mon, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&ev);
            break;
        }
        zmq_msg_close(&ev);
        zmq_msg_init(&addr);
        zmq_msg_recv(&addr, mon, ZMQ_DONTWAIT);
        zmq_msg_close(&addr);
        n++;
    }
    return n;
}

void *cl_connect(const char *endpoint, const struct cl_keys *k, const char *id, char *err,
                 size_t errlen)
{
    void *s = zmq_socket(cl_ctx(), ZMQ_DEALER);

    if (!s) {
        snprintf(err, errlen, "cannot make a socket: %s", zmq_strerror(zmq_errno()));
        return NULL;
    }
    common_options(s);
    if (id)
        zmq_setsockopt(s, ZMQ_ROUTING_ID, id, strlen(id));
    if (k->have) {
        zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, k->server_txt, 40);
        zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, k->public_txt, 40);
        zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, k->secret_txt, 40);
    }
    add_monitor(s, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                       ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
    if (zmq_connect(s, endpoint) < 0) {
        snprintf(err, errlen, "cannot connect to %s: %s", endpoint, zmq_strerror(zmq_errno()));
        cl_close(s);
        return NULL;
    }
    return s;
}

void cl_close(void *sock)
{
    if (!sock)
        return;
    for (int i = 0; i < MONITORS; i++)
        if (monitors[i].sock == sock) {
            zmq_socket_monitor(sock, NULL, 0);
            zmq_close(monitors[i].mon);
            monitors[i].sock = monitors[i].mon = NULL;
        }
    zmq_close(sock);
}

int cl_auth_failure(void *sock, char *err, size_t errlen)
{
    void *mon = monitor_of(sock);
    int rc = 0;

    if (!mon)
        return 0;
    for (;;) {
        zmq_msg_t ev, addr;
        uint16_t event;
        uint32_t value;

        zmq_msg_init(&ev);
        if (zmq_msg_recv(&ev, mon, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&ev);
            break;
        }
        if (zmq_msg_size(&ev) < 6) {
            zmq_msg_close(&ev);
            continue;
        }
        memcpy(&event, zmq_msg_data(&ev), 2);
        memcpy(&value, (uint8_t *)zmq_msg_data(&ev) + 2, 4);
        zmq_msg_close(&ev);
        zmq_msg_init(&addr);
        zmq_msg_recv(&addr, mon, ZMQ_DONTWAIT);
        zmq_msg_close(&addr);
        if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
            snprintf(err, errlen, "the broker refused this side's key (ZAP status %u): add "
                                  "its public key to the broker's --allow folder", value);
            rc = -EACCES;
        } else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) {
            snprintf(err, errlen, "the broker and this side do not agree on security "
                                  "(keys on one side only?): give --key and --broker-key "
                                  "as the broker expects");
            rc = -EACCES;
        }
    }
    return rc;
}

int cl_send_raw(void *sock, const struct cl_id *id, const uint8_t *buf, size_t len)
{
    if (id && zmq_send(sock, id->b, id->len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return zmq_errno() == EHOSTUNREACH ? -EAGAIN : -zmq_errno();
    if (zmq_send(sock, buf, len, ZMQ_DONTWAIT) < 0)
        return -zmq_errno();
    return 0;
}

int cl_send(void *sock, const struct cl_id *id, const struct cl_msg *m)
{
    uint8_t *buf;
    size_t len;
    int rc = cl_encode(m, &buf, &len);

    if (rc < 0)
        return rc;
    rc = cl_send_raw(sock, id, buf, len);
    free(buf);
    return rc;
}

/* Drops the rest of a multipart message. */
static void drain_parts(void *sock)
{
    int more = 1;
    size_t sz = sizeof(more);

    while (zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &sz) == 0 && more) {
        zmq_msg_t part;

        zmq_msg_init(&part);
        if (zmq_msg_recv(&part, sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&part);
            break;
        }
        zmq_msg_close(&part);
    }
}

int cl_recv(void *sock, struct cl_id *id, struct cl_msg *m, char *err, size_t errlen)
{
    zmq_msg_t body;
    int rc;

    memset(m, 0, sizeof(*m));
    if (id) {
        int n = zmq_recv(sock, id->b, sizeof(id->b), ZMQ_DONTWAIT);

        if (n < 0)
            return zmq_errno() == EAGAIN ? -EAGAIN : -zmq_errno();
        id->len = (size_t)n < sizeof(id->b) ? (size_t)n : sizeof(id->b);
    }
    zmq_msg_init(&body);
    if (zmq_msg_recv(&body, sock, ZMQ_DONTWAIT) < 0) {
        rc = zmq_errno();
        zmq_msg_close(&body);
        return rc == EAGAIN ? -EAGAIN : -rc;
    }
    drain_parts(sock);
    rc = cl_decode(m, zmq_msg_data(&body), zmq_msg_size(&body), err, errlen);
    zmq_msg_close(&body);
    if (rc < 0)
        cl_msg_free(m);
    return rc;
}

/* ------------------------------------------------------------------ ZAP */

struct cl_zap {
    void *sock;
    zcertstore_t *store;
    char dir[4096];
};

struct cl_zap *cl_zap_open(const char *allow_dir, char *err, size_t errlen)
{
    struct cl_zap *z = calloc(1, sizeof(*z));
    struct stat st;

    if (!z) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (stat(allow_dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "--allow %s is not a folder of public keys", allow_dir);
        free(z);
        return NULL;
    }
    snprintf(z->dir, sizeof(z->dir), "%s", allow_dir);
    z->store = zcertstore_new(allow_dir);
    z->sock = zmq_socket(cl_ctx(), ZMQ_REP);
    if (!z->store || !z->sock || zmq_bind(z->sock, "inproc://zeromq.zap.01") < 0) {
        snprintf(err, errlen, "cannot start authentication: %s", zmq_strerror(zmq_errno()));
        cl_zap_close(z);
        return NULL;
    }
    return z;
}

void *cl_zap_socket(struct cl_zap *z)
{
    return z->sock;
}

void cl_zap_close(struct cl_zap *z)
{
    if (!z)
        return;
    if (z->sock)
        zmq_close(z->sock);
    zcertstore_destroy(&z->store);
    free(z);
}

/*
 * One ZAP request (RFC 27): version, request id, domain, address,
 * identity, mechanism, credentials; answered with version, request id,
 * status code, status text, user id, metadata.
 */
int cl_zap_handle(struct cl_zap *z)
{
    int refused = 0;

    for (;;) {
        char frames[7][256];
        size_t lens[7] = {0};
        int n = 0, more = 1;
        size_t sz = sizeof(more);
        const char *code = "400", *text = "not in the allow list";
        char key[41] = "";

        while (more && n < 7) {
            int got = zmq_recv(z->sock, frames[n], sizeof(frames[n]) - 1, ZMQ_DONTWAIT);

            if (got < 0)
                break;
            lens[n] = (size_t)got < sizeof(frames[n]) - 1 ? (size_t)got : sizeof(frames[n]) - 1;
            frames[n][lens[n]] = '\0';
            n++;
            zmq_getsockopt(z->sock, ZMQ_RCVMORE, &more, &sz);
        }
        if (n == 0)
            return refused;
        drain_parts(z->sock);
        if (n >= 7 && strcmp(frames[5], "CURVE") == 0 && lens[6] == 32) {
            zmq_z85_encode(key, (const uint8_t *)frames[6], 32);
            if (zcertstore_lookup(z->store, key)) {
                code = "200";
                text = "OK";
            }
        } else if (n >= 6) {
            text = "CURVE keys required";
        }
        if (strcmp(code, "200") != 0) {
            refused++;
            fprintf(stderr, "loads-broker: refused a client from %s: %s%s%s (allow list %s)\n",
                    n >= 4 ? frames[3] : "?", key[0] ? "public key " : "", key,
                    key[0] ? " is not in the allow list" : "no CURVE key", z->dir);
        }
        zmq_send(z->sock, "1.0", 3, ZMQ_SNDMORE);
        zmq_send(z->sock, frames[1], n > 1 ? lens[1] : 0, ZMQ_SNDMORE);
        zmq_send(z->sock, code, 3, ZMQ_SNDMORE);
        zmq_send(z->sock, text, strlen(text), ZMQ_SNDMORE);
        zmq_send(z->sock, key, strlen(key), ZMQ_SNDMORE);
        zmq_send(z->sock, "", 0, 0);
    }
}

/* ------------------------------------------------------------ programs */

volatile sig_atomic_t cl_stop_signal;
static const char *cl_name = "loads";

static void on_stop_signal(int sig)
{
    cl_stop_signal = sig;
}

void cl_daemon_start(const char *name)
{
    struct sigaction sa;

    cl_name = name;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

void cl_logf(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", cl_name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}
