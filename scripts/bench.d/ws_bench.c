/*
 * Websocket echo round trips for benchmarks (scripts/bench): each run
 * opens one socket to --server-url, does 1000 send/receive round trips of
 * a 32-byte text message, and closes it.  Round trips per second are
 * 1000 x runs / duration.
 */
#include <loads.h>

#define ROUND_TRIPS 1000

LOADS_TEST(TestWsBench, test_echo_1000)
{
    loads_ws *ws = loads_ws_connect(t, "/", NULL, NULL);
    size_t n;

    for (int i = 0; i < ROUND_TRIPS; i++) {
        loads_ws_send(t, ws, "0123456789abcdef0123456789abcdef");
        n = loads_ws_receive(t, ws, 10);
        loads_assert(t, n == 32, "received %zu bytes", n);
    }
    loads_ws_close(t, ws);
}
