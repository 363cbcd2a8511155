/*
 * loads-runner: parses the command line, loads the tests, and hands them to
 * the supervisor.  Exit status: 0 every run succeeded, 1 some failed or
 * errored, 2 bad usage or setup.
 */
#include <stdio.h>
#include <stdlib.h>

#include "runner/runner.h"

/* What the options say to do, once parsed.  Returns the exit status. */
static int run(struct runner_opts *opts)
{
    struct runner_tests tests = {0};
    char err[1024];
    int rc;

    if (runner_is_remote(opts))
        return runner_remote(opts);
    if (opts->attach)
        return runner_attach(opts);
    if (runner_load_tests(opts->test, &tests, err, sizeof(err)) < 0) {
        runner_one_line(err);
        fprintf(stderr, "loads-runner: %s\n", err);
        return RUNNER_USAGE;
    }
    rc = runner_supervise(opts, &tests);
    free(tests.tests);
    return rc;
}

int main(int argc, char **argv)
{
    static struct runner_opts opts;
    char err[1024];
    int rc;

    rc = runner_parse_args(&opts, argc, argv, err, sizeof(err));
    if (rc == 1)
        rc = RUNNER_OK;
    else if (rc < 0) {
        runner_one_line(err);
        fprintf(stderr, "loads-runner: %s\n", err);
        rc = RUNNER_USAGE;
    } else {
        rc = run(&opts);
    }
    runner_opts_free(&opts);
    return rc;
}
