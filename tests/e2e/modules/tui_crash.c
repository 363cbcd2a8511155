/*
 * A test whose worker crashes after printing on stdout and stderr, for
 * tests/e2e/tui_restore.sh: the dashboard must keep the screen clean and
 * give the terminal back in a sane state.
 */
#include <loads.h>
#include <signal.h>
#include <stdio.h>

LOADS_TEST(TestTuiCrash, test_crash)
{
    loads_get(t, "/");
    loads_sleep(t, 0.5);
    printf("tui_crash: a line on stdout\n");
    fflush(stdout);
    fprintf(stderr, "tui_crash: a line on stderr\n");
    raise(SIGSEGV);
}
