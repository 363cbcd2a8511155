/*
 * GET /whoami with the worker's pid in X-Loads-Pid; nginx logs it in
 * pids.log (tests/e2e/engine_workers.sh).  Test code runs in the worker
 * process, so getpid() is the worker's.
 */
#include <loads.h>
#include <stdio.h>
#include <unistd.h>

LOADS_TEST(TestPid, test_whoami)
{
    char pid[64];
    const char *headers[] = {pid, NULL};
    loads_response *r;

    snprintf(pid, sizeof(pid), "X-Loads-Pid: %d", (int)getpid());
    r = loads_request(t, "GET", "/whoami", headers, NULL, 0);
    loads_assert(t, loads_status(r) == 200, "/whoami: status %d", loads_status(r));
}
