/* The cluster's options of the command line (runner/cli.c). */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>

#include "runner/runner.h"
#include "tests/unit/unit.h"

/* Parses a NULL-terminated list of arguments after the program name. */
static int parse(struct runner_opts *o, char *err, size_t errlen, const char *first, ...)
{
    char *argv[32] = {"loads-runner"};
    int argc = 1;
    va_list ap;

    va_start(ap, first);
    for (const char *a = first; a && argc < 31; a = va_arg(ap, const char *))
        argv[argc++] = (char *)a;
    va_end(ap);
    err[0] = '\0';
    return runner_parse_args(o, argc, argv, err, errlen);
}

UNIT_TEST(cli_cluster_agents)
{
    static struct runner_opts o;
    char err[512];

    CHECK_INT_EQ(parse(&o, err, sizeof(err), "example.A.b", "-u", "10:20:30", "-c", "20",
                       "--agents", "5", "--broker", "tcp://10.1.2.3:7780", "--include-file",
                       "data.txt", NULL), 0);
    CHECK_INT_EQ(o.agents, 5);
    CHECK_STR_EQ(o.broker, "tcp://10.1.2.3:7780");
    CHECK_INT_EQ(o.ninclude_files, 1);
    CHECK_STR_EQ(o.include_files[0], "data.txt");
    CHECK(runner_is_remote(&o));
    runner_opts_free(&o);
    CHECK_INT_EQ(parse(&o, err, sizeof(err), "example.A.b", NULL), 0);
    CHECK(!runner_is_remote(&o));
    CHECK_INT_EQ(parse(&o, err, sizeof(err), "example.A.b", "--agents", "0", NULL), -EINVAL);
    CHECK_STR_EQ(err, "invalid --agents '0': use a number from 1 to 256");
    CHECK_INT_EQ(parse(&o, err, sizeof(err), "example.A.b", "--broker", "http://x", NULL),
                 -EINVAL);
    CHECK_STR_EQ(err, "invalid --broker 'http://x': use tcp://HOST:PORT or ipc://PATH");
    CHECK_INT_EQ(parse(&o, err, sizeof(err), "example.A.b", "--detach", NULL), -EINVAL);
    CHECK_STR_EQ(err, "--detach goes with --agents: a local run needs no broker");
}

UNIT_TEST(cli_cluster_commands)
{
    static struct runner_opts o;
    char err[512];

    CHECK_INT_EQ(parse(&o, err, sizeof(err), "--ping-broker", NULL), 0);
    CHECK_INT_EQ(o.broker_cmd, RUNNER_BROKER_PING);
    CHECK(runner_is_remote(&o));
    CHECK_INT_EQ(parse(&o, err, sizeof(err), "--check-cluster", "--broker", "ipc:///tmp/b",
                       NULL), 0);
    CHECK_INT_EQ(o.broker_cmd, RUNNER_BROKER_CHECK);
    CHECK_INT_EQ(parse(&o, err, sizeof(err), "--purge-broker", "--ping-broker", NULL), -EINVAL);
    CHECK_INT_EQ(parse(&o, err, sizeof(err), "--purge-broker", "extra", NULL), -EINVAL);
    CHECK_STR_EQ(err, "unexpected 'extra' with a broker command; see --help");
}

UNIT_TEST(cli_cluster_attach)
{
    static struct runner_opts o;
    char err[512];

    CHECK_INT_EQ(parse(&o, err, sizeof(err), "--attach", "00000001deadbeef", "--broker",
                       "tcp://127.0.0.1:1", NULL), 0);
    CHECK_STR_EQ(o.attach_run, "00000001deadbeef");
    CHECK(runner_is_remote(&o));
    CHECK_INT_EQ(parse(&o, err, sizeof(err), "--attach=0000000000000042", "--broker",
                       "tcp://127.0.0.1:1", NULL), 0);
    CHECK_STR_EQ(o.attach_run, "0000000000000042");
    /* Without --broker, --attach takes a local pid, as before. */
    CHECK_INT_EQ(parse(&o, err, sizeof(err), "--attach", "1234", NULL), 0);
    CHECK_INT_EQ(o.attach_pid, 1234);
    CHECK(!runner_is_remote(&o));
    CHECK_INT_EQ(parse(&o, err, sizeof(err), "--attach=abc", NULL), -EINVAL);
    CHECK_STR_EQ(err, "invalid --attach 'abc': use the pid of a run's loads-runner, or a "
                      "run id with --broker");
    CHECK_INT_EQ(parse(&o, err, sizeof(err), "--attach", "--broker", "tcp://127.0.0.1:1", NULL),
                 -EINVAL);
}
