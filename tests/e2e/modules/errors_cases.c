/*
 * Errors that must each keep their own reason.  A VU's first run asks
 * --server-url (a server that never answers: a timeout); its second asks a
 * URL that goes through curl (user:password@) where nothing listens: it is
 * refused at once, and says so.
 */
#include <loads.h>

LOADS_TEST(TestErrors, test_timeout_then_refused)
{
    static int runs; /* one VU, one worker: its runs in turn */

    if (runs++ % 2 == 0)
        loads_get(t, "/");
    else
        loads_get(t, "http://user:secret@127.0.0.1:1/private");
}

/* Misuse that used to crash the worker: NULL where a string belongs. */
LOADS_TEST(TestErrors, test_null_url)
{
    loads_get(t, NULL);
}

LOADS_TEST(TestErrors, test_null_counter)
{
    loads_incr_counter(t, NULL);
}

LOADS_TEST(TestErrors, test_null_ws_url)
{
    loads_ws_connect(t, NULL, NULL, NULL);
}
