/*
 * http/conn.c, the built-in HTTP/1.1 client, driven alone: a VU on a loop
 * sends hops to a small server of the test's own (a child process on a
 * loopback port) that answers with keep-alive, closes each connection
 * after one answer without saying so, or never answers; and to a port
 * where nothing listens.  The server reports each connection it accepts
 * on a pipe, the independent count of connections.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include "base/vu.h"
#include "http/http.h"
#include "loads.h"
#include "shm/shm.h"
#include "tests/unit/unit.h"

#define MS 1000

enum mode { KEEP, CLOSE_AFTER_ONE, SILENT };

struct server {
    pid_t pid;
    int port;
    int accepts;   /* read end of the pipe: one byte per connection */
};

/* Answers every request of a connection until the client closes it. */
static void serve(int fd, enum mode mode)
{
    static const char answer[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Test: yes\r\n\r\nhello";
    char buf[4096];
    size_t have = 0;

    for (;;) {
        ssize_t n = read(fd, buf + have, sizeof(buf) - have - 1);
        char *end;

        if (n <= 0)
            return;
        have += (size_t)n;
        buf[have] = '\0';
        while ((end = strstr(buf, "\r\n\r\n"))) {
            size_t used = (size_t)(end + 4 - buf);

            if (mode == SILENT)
                break;
            if (write(fd, answer, sizeof(answer) - 1) < 0)
                return;
            if (mode == CLOSE_AFTER_ONE)
                return;
            memmove(buf, buf + used, have - used + 1);
            have -= used;
        }
    }
}

static void server_start(struct server *s, enum mode mode)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t len = sizeof(a);
    int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1, p[2];

    CHECK(lfd >= 0);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(bind(lfd, (struct sockaddr *)&a, sizeof(a)) == 0);
    CHECK(listen(lfd, 16) == 0);
    CHECK(getsockname(lfd, (struct sockaddr *)&a, &len) == 0);
    CHECK(pipe(p) == 0);
    s->port = ntohs(a.sin_port);
    s->pid = fork();
    CHECK(s->pid >= 0);
    if (s->pid == 0) {
        close(p[0]);
        for (;;) {
            int fd = accept(lfd, NULL, NULL);

            if (fd < 0)
                _exit(0);
            if (write(p[1], "a", 1) < 0)
                _exit(1);
            serve(fd, mode);
            close(fd);
        }
    }
    close(lfd);
    close(p[1]);
    s->accepts = p[0];
}

/*
 * Stops the server and returns how many connections it accepted.  A
 * connection the client made may still wait in the listen queue for the
 * server's accept (a silent server's, on a busy machine): first it waits,
 * 10 s at most, until `want` connections were reported.
 */
static int server_stop(struct server *s, int want)
{
    struct pollfd p = {.fd = s->accepts, .events = POLLIN};
    char b[64];
    ssize_t n;
    int count = 0, status;

    while (count < want && poll(&p, 1, 10000) > 0) {
        n = read(s->accepts, b, 1);
        if (n <= 0)
            break;
        count += (int)n;
    }
    kill(s->pid, SIGKILL);
    waitpid(s->pid, &status, 0);
    while ((n = read(s->accepts, b, sizeof(b))) > 0)
        count += (int)n;
    close(s->accepts);
    return count;
}

/* A loop, a client and one VU that runs the case. */
struct bench {
    uv_loop_t loop;
    struct vu_sched *sched;
    struct vu *vu;
    struct h1_client *client;
    struct h1_conn *conns;
    uv_timer_t timer;      /* cancels the VU, when the case asks */
    char url[64];
    int rc[3], status[3];
    int64_t took[3];
    char err[3][256];
    char body[3][16];
    char header[3][16];
    int64_t ended_at[3];   /* when each hop returned, us */
    int64_t cancelled_at;  /* when the timer cancelled the VU, us */
};

static void on_finished(struct vu *vu, void *arg);
static const struct vu_hooks hooks = {NULL, NULL, on_finished};

static void on_finished(struct vu *vu, void *arg)
{
    uv_stop(&((struct bench *)arg)->loop);
}

static void on_cancel(uv_timer_t *t)
{
    struct bench *b = t->data;

    b->cancelled_at = shm_mono_us();
    vu_cancel(b->vu);
}

/* One GET of b->url, with a deadline in deadline_ms, into slot i. */
static void get(struct bench *b, int i, int64_t deadline_ms)
{
    struct loads_response *r = response_create(1024);
    struct url_parts u;
    struct http_hop h = {0};
    int64_t t0 = shm_mono_us();
    const char *x;

    CHECK(r != NULL);
    CHECK(url_parse(b->url, &u) == 0);
    h.method = "GET";
    h.url = b->url;
    h.u = &u;
    h.deadline_us = t0 + deadline_ms * MS;
    b->rc[i] = h1_hop(b->client, b->vu, &b->conns, &h, r, &b->status[i], b->err[i],
                      sizeof(b->err[i]));
    b->ended_at[i] = shm_mono_us();
    b->took[i] = b->ended_at[i] - t0;
    snprintf(b->body[i], sizeof(b->body[i]), "%s", loads_body(r));
    x = loads_header(r, "X-Test");
    snprintf(b->header[i], sizeof(b->header[i]), "%s", x ? x : "");
    CHECK_INT_EQ(response_take_bytes(r), b->rc[i] == 0 ? 5 : 0);
    response_free_list(r);
}

static void two_gets(void *arg)
{
    struct bench *b = arg;

    get(b, 0, 5000);
    get(b, 1, 5000);
}

static void one_get_100ms(void *arg)
{
    get(arg, 0, 100);
}

static void one_get(void *arg)
{
    get(arg, 0, 5000);
}

/* Runs fn as a VU against port; cancel_ms > 0 cancels it then. */
static void run(struct bench *b, int port, void (*fn)(void *), int cancel_ms)
{
    CHECK(uv_loop_init(&b->loop) == 0);
    b->sched = vu_sched_create(&b->loop, &hooks, b);
    b->client = h1_client_create(&b->loop, 0);
    CHECK(b->sched && b->client);
    b->vu = vu_create(b->sched, 0, 64 * 1024, fn, b);
    CHECK(b->vu != NULL);
    snprintf(b->url, sizeof(b->url), "http://127.0.0.1:%d/x", port);
    uv_timer_init(&b->loop, &b->timer);
    b->timer.data = b;
    if (cancel_ms)
        uv_timer_start(&b->timer, on_cancel, (uint64_t)cancel_ms, 0);
    vu_start(b->vu);
    uv_run(&b->loop, UV_RUN_DEFAULT);
    h1_close_all(&b->conns);
    vu_destroy(b->vu);
    vu_sched_destroy(b->sched);
    uv_close((uv_handle_t *)&b->timer, NULL);
    uv_run(&b->loop, UV_RUN_DEFAULT);
    h1_client_destroy(b->client);
    CHECK(uv_loop_close(&b->loop) == 0);
}

UNIT_TEST(h1_client_keep_alive)
{
    struct server s;
    struct bench b = {0};

    server_start(&s, KEEP);
    run(&b, s.port, two_gets, 0);
    for (int i = 0; i < 2; i++) {
        CHECK_INT_EQ(b.rc[i], 0);
        CHECK_INT_EQ(b.status[i], 200);
        CHECK_STR_EQ(b.body[i], "hello");
        CHECK_STR_EQ(b.header[i], "yes");
    }
    CHECK_INT_EQ(server_stop(&s, 1), 1); /* one connection for both */
}

/* A reused connection the server closed while idle: replaced, not an error. */
UNIT_TEST(h1_client_retry_closed)
{
    struct server s;
    struct bench b = {0};

    server_start(&s, CLOSE_AFTER_ONE);
    run(&b, s.port, two_gets, 0);
    for (int i = 0; i < 2; i++) {
        CHECK_INT_EQ(b.rc[i], 0);
        CHECK_STR_EQ(b.body[i], "hello");
    }
    CHECK_INT_EQ(server_stop(&s, 2), 2);
}

UNIT_TEST(h1_client_deadline)
{
    struct server s;
    struct bench b = {0};

    server_start(&s, SILENT);
    run(&b, s.port, one_get_100ms, 0);
    CHECK_INT_EQ(b.rc[0], -ETIMEDOUT);
    CHECK(b.took[0] >= 100 * MS);
    CHECK(b.took[0] < 1100 * MS); /* loose: a noisy machine */
    CHECK_INT_EQ(server_stop(&s, 1), 1);
}

UNIT_TEST(h1_client_cancel)
{
    struct server s;
    struct bench b = {0};

    server_start(&s, SILENT);
    run(&b, s.port, one_get, 50);
    CHECK_INT_EQ(b.rc[0], -ECANCELED);
    /* It waited for the cancel: not 45 ms of its own (the hop starts some
     * time after the timer was armed, which a busy machine makes long). */
    CHECK(b.cancelled_at > 0 && b.ended_at[0] >= b.cancelled_at);
    CHECK(b.took[0] < 5000 * MS);
    server_stop(&s, 0);
}

UNIT_TEST(h1_client_refused)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;
    struct bench b = {0};
    char want[128];

    /* A port that was just free: nothing listens there now. */
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
    CHECK(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
    port = ntohs(a.sin_port);
    close(fd);
    run(&b, port, one_get, 0);
    CHECK_INT_EQ(b.rc[0], -ECONNREFUSED);
    snprintf(want, sizeof(want), "Failed to connect to 127.0.0.1 port %d: Connection refused",
             port);
    CHECK_STR_EQ(b.err[0], want);
}
