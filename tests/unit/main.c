/*
 * Runs the registered unit cases, each in its own child process with a time
 * limit, and ends with the line "N passed, N failed".
 */
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/unit/unit.h"

static struct unit_case *cases;

void unit_register(struct unit_case *c)
{
    struct unit_case **p = &cases;

    /* Keep registration order so the report reads in file order. */
    while (*p)
        p = &(*p)->next;
    *p = c;
}

void unit_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "    %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    _exit(1);
}

static int run_case(struct unit_case *c)
{
    int status;
    pid_t pid;

    fflush(stdout);
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        alarm(60);
        c->fn();
        /* exit(), not _exit(): under ASan, LeakSanitizer checks at exit, so a
         * case that leaks fails. */
        exit(0);
    }
    if (waitpid(pid, &status, 0) < 0)
        return -1;
    if (WIFSIGNALED(status))
        fprintf(stderr, "    killed by signal %d (%s)\n", WTERMSIG(status),
                WTERMSIG(status) == SIGALRM ? "time limit" : strsignal(WTERMSIG(status)));
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    const char *filter = argc > 1 ? argv[1] : NULL;
    int passed = 0, failed = 0;

    setvbuf(stdout, NULL, _IOLBF, 0); /* keep a case's details under its line */
    for (struct unit_case *c = cases; c; c = c->next) {
        if (filter && !strstr(c->name, filter))
            continue;
        if (run_case(c) == 0) {
            printf("ok   unit %s\n", c->name);
            passed++;
        } else {
            printf("FAIL unit %s\n", c->name);
            failed++;
        }
    }
    printf("unit: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

/*
 * The harness's own check that a leak fails a case under ASan: with
 * UNIT_LEAK_CANARY set this case leaks on purpose (tests/e2e/harness.sh
 * runs it so and expects a failure); otherwise it does nothing.
 */
UNIT_TEST(leak_canary)
{
    static char *volatile sink;

    if (getenv("UNIT_LEAK_CANARY")) {
        sink = malloc(4096);
        memset(sink, 1, 4096);
        sink = NULL;
    }
}
