/*
 * ws_bad_server: a WebSocket server that breaks the protocol on purpose,
 * for tests/e2e/ws_errors.sh.  Not a test module: the test builds it with
 *     cc ws_bad_server.c -lcrypto -o ws_bad_server
 *
 * It listens on a free loopback port, prints "ws_bad_server: listening on
 * PORT", and answers each connection's handshake properly, then, by path:
 *   /bad-opcode   sends a frame with the reserved opcode 3 and waits;
 *   /drop         reads the first message, then closes the TCP connection
 *                 without a close frame;
 *   /big          sends one binary frame of 16 MiB + 1 bytes, then waits.
 * One connection at a time is plenty for the tests; it runs until killed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/* Reads the request head (up to the blank line) into buf.  Returns its length or -1. */
static int read_head(int fd, char *buf, size_t len)
{
    size_t n = 0;

    while (n + 1 < len) {
        ssize_t r = read(fd, buf + n, 1);

        if (r <= 0)
            return -1;
        n++;
        buf[n] = '\0';
        if (n >= 4 && !memcmp(buf + n - 4, "\r\n\r\n", 4))
            return (int)n;
    }
    return -1;
}

/* Answers the upgrade with 101 and the accept hash of the client's key. */
static int handshake(int fd, const char *head)
{
    const char *key = strcasestr(head, "\nSec-WebSocket-Key:");
    unsigned char md[SHA_DIGEST_LENGTH];
    char in[128], accept[64], out[512];
    size_t klen;
    int n;

    if (!key)
        return -1;
    key += strlen("\nSec-WebSocket-Key:");
    while (*key == ' ')
        key++;
    klen = strcspn(key, "\r\n");
    if (klen > 64)
        return -1;
    snprintf(in, sizeof(in), "%.*s%s", (int)klen, key, ws_guid);
    SHA1((const unsigned char *)in, strlen(in), md);
    EVP_EncodeBlock((unsigned char *)accept, md, SHA_DIGEST_LENGTH);
    n = snprintf(out, sizeof(out),
                 "HTTP/1.1 101 Switching Protocols\r\n"
                 "Upgrade: websocket\r\n"
                 "Connection: Upgrade\r\n"
                 "Sec-WebSocket-Accept: %s\r\n\r\n",
                 accept);
    return write(fd, out, (size_t)n) == n ? 0 : -1;
}

/* Serves one connection as its path says. */
static void serve(int fd)
{
    char head[8192], buf[4096];

    if (read_head(fd, head, sizeof(head)) < 0 || handshake(fd, head) < 0)
        return;
    if (strstr(head, "GET /bad-opcode ")) {
        static const unsigned char frame[] = {0x83, 0x00}; /* FIN, opcode 3 */

        if (write(fd, frame, sizeof(frame)) != (ssize_t)sizeof(frame))
            return;
        while (read(fd, buf, sizeof(buf)) > 0)
            ;
    } else if (strstr(head, "GET /big ")) {
        /* One binary frame of 16 MiB + 1 bytes, sent whole unless the
         * client closes first. */
        static const unsigned char frame[] = {0x82, 127, 0, 0, 0, 0, 1, 0, 0, 1};
        size_t left = (16u << 20) + 1;

        memset(buf, 'x', sizeof(buf));
        if (write(fd, frame, sizeof(frame)) != (ssize_t)sizeof(frame))
            return;
        while (left) {
            ssize_t n = write(fd, buf, left < sizeof(buf) ? left : sizeof(buf));

            if (n <= 0)
                return;
            left -= (size_t)n;
        }
        while (read(fd, buf, sizeof(buf)) > 0)
            ;
    } else if (strstr(head, "GET /drop ")) {
        if (read(fd, buf, sizeof(buf)) <= 0)
            return;
    }
}

int main(void)
{
    struct sockaddr_in sa;
    socklen_t slen = sizeof(sa);
    int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

    signal(SIGPIPE, SIG_IGN);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        listen(lfd, 64) < 0 || getsockname(lfd, (struct sockaddr *)&sa, &slen) < 0) {
        perror("ws_bad_server");
        return 1;
    }
    printf("ws_bad_server: listening on %d\n", ntohs(sa.sin_port));
    fflush(stdout);
    for (;;) {
        int fd = accept(lfd, NULL, NULL);

        if (fd < 0)
            continue;
        serve(fd);
        close(fd);
    }
}
