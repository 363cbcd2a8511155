/*
 * WebSocket tests for tests/e2e/ws_*.sh, against loads-echo (and, for the
 * malformed frame, ws_bad_server).  Each URL is relative to --server-url.
 */
#include <loads.h>
#include <stdio.h>
#include <string.h>

/* Counts the messages and keeps the last one. */
struct seen {
    int count;
    size_t bytes;
    char last[64];
};

static void on_message(loads_test *t, loads_ws *ws, const void *data, size_t len,
                       int binary, void *user)
{
    struct seen *seen = user;

    seen->count++;
    seen->bytes += len;
    snprintf(seen->last, sizeof(seen->last), "%.*s", (int)len, (const char *)data);
}

/* 50 round trips on one socket, each echo checked. */
LOADS_TEST(TestWsEcho, test_roundtrips)
{
    struct seen seen = {0};
    loads_ws *ws = loads_ws_connect(t, "/", on_message, &seen);
    char msg[32];

    for (int i = 0; i < 50; i++) {
        snprintf(msg, sizeof(msg), "message %d", i);
        loads_ws_send(t, ws, msg);
        loads_ws_receive(t, ws, 10);
        loads_assert(t, !strcmp(seen.last, msg), "sent '%s', got '%s'", msg, seen.last);
    }
    loads_assert(t, seen.count == 50, "%d messages", seen.count);
    loads_ws_close(t, ws);
}

/* One VU mixing HTTP and a web socket, left open for the run's end to close. */
LOADS_TEST(TestWsEcho, test_mixed)
{
    struct seen seen = {0};
    loads_response *r = loads_get(t, "/");
    loads_ws *ws;

    loads_assert(t, loads_status(r) == 200, "status %d", loads_status(r));
    ws = loads_ws_connect(t, "/", on_message, &seen);
    loads_ws_send(t, ws, "hello");
    r = loads_get(t, "/health");
    loads_assert(t, loads_contains(r, "ok"), "no ok");
    loads_ws_receive(t, ws, 10);
    loads_assert(t, !strcmp(seen.last, "hello"), "got '%s'", seen.last);
}

/* Binary and fragmented (large) messages come back whole. */
LOADS_TEST(TestWsEcho, test_binary_large)
{
    static unsigned char big[300000];
    struct seen seen = {0};
    loads_ws *ws = loads_ws_connect_ex(t, "/", "echo", NULL, on_message, &seen);
    size_t n;

    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (unsigned char)(i * 7);
    loads_ws_send_binary(t, ws, big, sizeof(big));
    n = loads_ws_receive(t, ws, 10);
    loads_assert(t, n == sizeof(big), "received %zu bytes", n);
    loads_assert(t, seen.bytes == sizeof(big), "callback saw %zu bytes", seen.bytes);
    loads_ws_close(t, ws);
}

/* The server closes after one echo: the second receive is an Error. */
LOADS_TEST(TestWsErrors, test_closed_by_server)
{
    loads_ws *ws = loads_ws_connect(t, "/close-after-1", NULL, NULL);

    loads_ws_send(t, ws, "one");
    loads_ws_receive(t, ws, 5);
    loads_ws_receive(t, ws, 5);
}

/* Nothing is sent, so nothing comes back: an Error after 0.5 s. */
LOADS_TEST(TestWsErrors, test_receive_timeout)
{
    loads_ws *ws = loads_ws_connect(t, "/", NULL, NULL);

    loads_ws_receive(t, ws, 0.5);
}

/* The handshake is refused with 403. */
LOADS_TEST(TestWsErrors, test_forbidden)
{
    loads_ws_connect(t, "/forbidden", NULL, NULL);
}

/* The handshake on a path the server does not have (nginx: 404). */
LOADS_TEST(TestWsErrors, test_not_found)
{
    loads_ws_connect(t, "/no-such-socket", NULL, NULL);
}

/* Connects to --server-url, where nothing listens. */
LOADS_TEST(TestWsErrors, test_refused)
{
    loads_ws_connect(t, "/", NULL, NULL);
}

/* ws_bad_server sends a frame with a reserved opcode. */
LOADS_TEST(TestWsErrors, test_malformed)
{
    loads_ws *ws = loads_ws_connect(t, "/bad-opcode", NULL, NULL);

    loads_ws_receive(t, ws, 5);
}

/* ws_bad_server drops the connection without a close frame. */
LOADS_TEST(TestWsErrors, test_dropped)
{
    loads_ws *ws = loads_ws_connect(t, "/drop", NULL, NULL);

    loads_ws_send(t, ws, "bye");
    loads_ws_receive(t, ws, 5);
}

/* Waits far longer than the grace period: the abort must wake it. */
LOADS_TEST(TestWsErrors, test_long_receive)
{
    loads_ws *ws = loads_ws_connect(t, "/", NULL, NULL);

    loads_ws_receive(t, ws, 60);
}

/* Echo round trips until the run's end, for the killed-server test. */
LOADS_TEST(TestWsEcho, test_forever)
{
    loads_ws *ws = loads_ws_connect(t, "/", NULL, NULL);

    for (int i = 0; i < 20; i++) {
        loads_ws_send(t, ws, "ping");
        loads_ws_receive(t, ws, 5);
        loads_sleep(t, 0.01);
    }
    loads_ws_close(t, ws);
}

/* ---------------------------------------------- the API (ws_api.sh) */

/* Each message: its text (or bytes as hex when binary) and type, in order. */
struct log {
    int count;
    char text[4][64];
    int binary[4];
};

static void on_log(loads_test *t, loads_ws *ws, const void *data, size_t len, int binary,
                   void *user)
{
    struct log *log = user;
    char *out;

    if (log->count >= 4)
        return;
    out = log->text[log->count];
    if (binary)
        for (size_t i = 0; i < len && i < 20; i++)
            snprintf(out + 2 * i, 3, "%02x", ((const unsigned char *)data)[i]);
    else
        snprintf(out, 64, "%.*s", (int)len, (const char *)data);
    log->binary[log->count++] = binary;
}

/* Three messages sent before any receive come back queued, in order. */
LOADS_TEST(TestWsApi, test_queued)
{
    struct log log = {0};
    loads_ws *ws = loads_ws_connect(t, "/", on_log, &log);
    static const char *const want[] = {"one", "two", "three"};

    for (int i = 0; i < 3; i++)
        loads_ws_send(t, ws, want[i]);
    loads_sleep(t, 0.2); /* all three have arrived: they wait in the queue */
    for (int i = 0; i < 3; i++) {
        size_t n = loads_ws_receive(t, ws, 5);

        loads_assert(t, log.count == i + 1, "receive %d: %d messages seen", i, log.count);
        loads_assert(t, !strcmp(log.text[i], want[i]), "message %d: '%s'", i, log.text[i]);
        loads_assert(t, n == strlen(want[i]), "message %d: length %zu", i, n);
    }
    loads_ws_close(t, ws);
}

/* The binary flag of each message, as it was sent. */
LOADS_TEST(TestWsApi, test_binary_flag)
{
    static const unsigned char bytes[] = {0x00, 0x01, 0xfe};
    struct log log = {0};
    loads_ws *ws = loads_ws_connect(t, "/", on_log, &log);

    loads_ws_send(t, ws, "text");
    loads_ws_receive(t, ws, 5);
    loads_ws_send_binary(t, ws, bytes, sizeof(bytes));
    loads_ws_receive(t, ws, 5);
    loads_assert(t, log.binary[0] == 0 && !strcmp(log.text[0], "text"), "first: %d '%s'",
                 log.binary[0], log.text[0]);
    loads_assert(t, log.binary[1] == 1 && !strcmp(log.text[1], "0001fe"), "second: %d '%s'",
                 log.binary[1], log.text[1]);
    loads_ws_close(t, ws);
}

/* connect_ex: the offered subprotocols and a header reach the server,
 * which tells them in its first message on /handshake. */
LOADS_TEST(TestWsApi, test_connect_ex)
{
    static const char *const headers[] = {"X-Test: yes", NULL};
    struct log log = {0};
    loads_ws *ws = loads_ws_connect_ex(t, "/handshake", "chat, echo", headers, on_log, &log);

    loads_ws_receive(t, ws, 5);
    loads_assert(t, !strcmp(log.text[0], "protocol=[chat, echo] x-test=[yes]"), "got '%s'",
                 log.text[0]);
    loads_ws_close(t, ws);
    ws = loads_ws_connect_ex(t, "/handshake", NULL, NULL, on_log, &log);
    loads_ws_receive(t, ws, 5);
    loads_assert(t, !strcmp(log.text[1], "protocol=[] x-test=[]"), "got '%s'", log.text[1]);
}

/* A send after the server closed the socket is an Error. */
LOADS_TEST(TestWsApi, test_send_after_server_close)
{
    loads_ws *ws = loads_ws_connect(t, "/close-after-1", NULL, NULL);

    loads_ws_send(t, ws, "one");
    loads_ws_receive(t, ws, 5);
    loads_sleep(t, 0.3); /* the server's close arrives */
    loads_ws_send(t, ws, "two");
}

/* Any call on a socket the test closed is an Error. */
LOADS_TEST(TestWsApi, test_send_after_close)
{
    loads_ws *ws = loads_ws_connect(t, "/", NULL, NULL);

    loads_ws_close(t, ws);
    loads_ws_send(t, ws, "late");
}

LOADS_TEST(TestWsApi, test_receive_after_close)
{
    loads_ws *ws = loads_ws_connect(t, "/", NULL, NULL);

    loads_ws_close(t, ws);
    loads_ws_receive(t, ws, 1);
}

LOADS_TEST(TestWsApi, test_close_twice)
{
    loads_ws *ws = loads_ws_connect(t, "/", NULL, NULL);

    loads_ws_close(t, ws);
    loads_ws_close(t, ws);
}

/* A receive timeout of 0 or less means --timeout. */
LOADS_TEST(TestWsApi, test_receive_zero)
{
    loads_ws *ws = loads_ws_connect(t, "/", NULL, NULL);

    loads_ws_receive(t, ws, 0);
}

LOADS_TEST(TestWsApi, test_receive_negative)
{
    loads_ws *ws = loads_ws_connect(t, "/", NULL, NULL);

    loads_ws_receive(t, ws, -3);
}
