/*
 * The websocket example of Loads: talk to the echo server and check that
 * both messages came back, in order.  Run it against loads-echo with
 *     loads-runner ws_example.TestWebSocket.test_echo --server-url http://127.0.0.1:9200
 * (the ws:// URL is made from --server-url).
 */
#include <loads.h>
#include <stdio.h>
#include <string.h>

/* What the message callback has seen. */
struct seen {
    int count;
    char messages[2][32];
};

/* Records each message echoed back; receive runs it before returning. */
static void on_message(loads_test *t, loads_ws *ws, const void *data, size_t len,
                       int binary, void *user)
{
    struct seen *seen = user;

    if (seen->count < 2)
        snprintf(seen->messages[seen->count], sizeof(seen->messages[0]), "%.*s", (int)len,
                 (const char *)data);
    seen->count++;
}

LOADS_TEST(TestWebSocket, test_echo)
{
    struct seen seen = {0};
    loads_ws *ws = loads_ws_connect(t, "/", on_message, &seen);

    loads_ws_send(t, ws, "something");
    loads_ws_receive(t, ws, 5);
    loads_ws_send(t, ws, "happened");
    loads_ws_receive(t, ws, 5);
    loads_assert(t, seen.count == 2, "%d messages instead of 2", seen.count);
    loads_assert(t, !strcmp(seen.messages[0], "something"), "first message: '%s'",
                 seen.messages[0]);
    loads_assert(t, !strcmp(seen.messages[1], "happened"), "second message: '%s'",
                 seen.messages[1]);
    loads_ws_close(t, ws);
}
