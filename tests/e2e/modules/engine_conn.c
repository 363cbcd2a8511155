/*
 * GET /conn, which nginx logs with its connection serial number in
 * conns.log (tests/e2e/engine_connections_per_vu.sh).
 */
#include <loads.h>

LOADS_TEST(TestConn, test_conn)
{
    loads_response *r = loads_get(t, "/conn");
    loads_assert(t, loads_status(r) == 200, "/conn: status %d", loads_status(r));
}
