/*
 * Test code that prints on stdout in every way it can: stdio (buffered,
 * flushed at exit), stdio flushed at once, and write(2) on descriptor 1
 * (tests/e2e/engine_json.sh).  None of it may reach the JSON document.
 */
#include <loads.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

LOADS_TEST(TestPrint, test_chatty)
{
    static const char raw[] = "engine_print: write(1)\n";
    loads_response *r = loads_get(t, "/");

    printf("engine_print: printf, user %d\n", loads_user(t));
    puts("engine_print: puts {\"not\": \"json\"");
    fflush(stdout);
    if (write(1, raw, strlen(raw)) < 0)
        loads_fail(t, "write(1) failed");
    fprintf(stderr, "engine_print: stderr\n");
    loads_assert(t, loads_status(r) == 200, "/: status %d", loads_status(r));
}
