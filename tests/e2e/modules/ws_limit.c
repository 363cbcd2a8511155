/* tests/e2e/ws_limits.sh: one message received from /big. */
#include <loads.h>

LOADS_TEST(TestLimit, test_receive)
{
    loads_ws *ws = loads_ws_connect(t, "/big", NULL, NULL);

    loads_ws_receive(t, ws, 20);
}
