/*
 * ws/ws.c's receive path against a hostile server: each input is what a
 * server sends after a proper handshake, byte for byte (frames of any
 * length, opcode, mask, fragmentation, close frames, garbage), then it
 * closes.  A VU on the worker's kind of loop connects with the glue,
 * sends a message when the first byte's low bit says so, and receives until
 * the socket fails.  Nothing may crash, leak or read out of bounds; a
 * message received is never over the limit.
 *
 * The server is a thread of this process on a loopback port; the client's
 * context is made once and kept, as a worker keeps it.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "base/vu.h"
#include "shm/shm.h"
#include "tests/fuzz/fuzz.h"
#include "ws/ws.h"

#define MAX_MESSAGE 1000 /* the client's limit: small, so inputs reach it */

static uv_loop_t loop;
static struct vu_sched *sched;
static struct ws_glue *glue;
static int port;
static int finished;

/* The input the server thread sends to the next connection: a copy of the
 * fuzzer's, which the server copies again at each accept (an old
 * connection may still be written to while the next input runs). */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t *to_send;
static size_t to_send_len;

/* Reads a request head; fills key with Sec-WebSocket-Key's value. */
static int read_key(int fd, char *key, size_t len)
{
    char head[4096], *k;
    size_t have = 0;

    while (have < sizeof(head) - 1) {
        ssize_t n = read(fd, head + have, sizeof(head) - 1 - have);

        if (n <= 0)
            return -1;
        have += (size_t)n;
        head[have] = '\0';
        if (strstr(head, "\r\n\r\n"))
            break;
    }
    k = strcasestr(head, "Sec-WebSocket-Key:");
    if (!k)
        return -1;
    k += 18;
    while (*k == ' ')
        k++;
    snprintf(key, len, "%.*s", (int)strcspn(k, "\r\n"), k);
    return 0;
}

static void *server(void *arg)
{
    int lfd = *(int *)arg;

    for (;;) {
        static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
        char key[128], in[256], resp[512];
        unsigned char md[SHA_DIGEST_LENGTH], acc[64], drain[4096];
        int fd = accept(lfd, NULL, NULL), n;
        uint8_t *data = NULL;
        size_t len;

        if (fd < 0)
            continue;
        pthread_mutex_lock(&lock);
        len = to_send_len;
        if (len && (data = malloc(len)))
            memcpy(data, to_send, len);
        pthread_mutex_unlock(&lock);
        if (read_key(fd, key, sizeof(key)) == 0) {
            snprintf(in, sizeof(in), "%s%s", key, guid);
            SHA1((const unsigned char *)in, strlen(in), md);
            EVP_EncodeBlock(acc, md, SHA_DIGEST_LENGTH);
            n = snprintf(resp, sizeof(resp),
                         "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                         "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
                         acc);
            if (send(fd, resp, (size_t)n, MSG_NOSIGNAL) == n && data)
                (void)!send(fd, data, len, MSG_NOSIGNAL);
            shutdown(fd, SHUT_WR);
            while (read(fd, drain, sizeof(drain)) > 0)
                ;
        }
        close(fd);
        free(data);
    }
    return NULL;
}

static void on_finished(struct vu *vu, void *arg)
{
    finished = 1;
    uv_stop(&loop);
}

static const struct vu_hooks hooks = {NULL, NULL, on_finished};

static int send_first;

/* The VU: connect, maybe send, receive until the socket fails. */
static void client(void *arg)
{
    struct vu *vu = *(struct vu **)arg;
    struct ws_target t = {0, port, "127.0.0.1", "127.0.0.1", "/"};
    char err[256];
    int rc;
    int64_t deadline = shm_mono_us() + 2000000;
    struct ws_conn *c = ws_conn_open(glue, vu, &t, NULL, NULL, deadline, &rc, err, sizeof(err));

    if (!c)
        return;
    if (send_first)
        ws_conn_send(c, "hello", 5, 0, deadline, err, sizeof(err));
    for (int i = 0; i < 64; i++) {
        struct ws_msg *m = ws_conn_receive(c, deadline, &rc, err, sizeof(err));

        if (!m) {
            FUZZ_CHECK(rc < 0 && err[0]);
            break;
        }
        FUZZ_CHECK(m->data.len <= MAX_MESSAGE);
        ws_msg_free(m);
    }
    ws_conn_release(c);
}

static void setup(void)
{
    static int lfd;
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t len = sizeof(a);
    pthread_t th;

    lfd = socket(AF_INET, SOCK_STREAM, 0);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(lfd, 16) < 0 ||
        getsockname(lfd, (struct sockaddr *)&a, &len) < 0)
        abort();
    port = ntohs(a.sin_port);
    pthread_create(&th, NULL, server, &lfd);
    uv_loop_init(&loop);
    sched = vu_sched_create(&loop, &hooks, NULL);
    glue = ws_glue_create(&loop, 2, MAX_MESSAGE, 0);
    if (!sched || !glue)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct vu *vu;

    if (!glue)
        setup();
    send_first = size && (data[0] & 1);
    pthread_mutex_lock(&lock);
    free(to_send);
    to_send_len = size ? size - 1 : 0;
    to_send = to_send_len ? malloc(to_send_len) : NULL;
    if (to_send)
        memcpy(to_send, data + 1, to_send_len);
    pthread_mutex_unlock(&lock);
    finished = 0;
    vu = vu_create(sched, 0, 64 * 1024, client, &vu);
    if (!vu)
        abort();
    vu_start(vu);
    while (!finished)
        uv_run(&loop, UV_RUN_ONCE);
    /* Let lws finish the closes the run started, then free the VU. */
    for (int i = 0; i < 20; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    vu_destroy(vu);
    uv_run(&loop, UV_RUN_NOWAIT);
    return 0;
}
