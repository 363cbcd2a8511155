/* The command-line parsers: specs, options, the config file. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "runner/runner.h"
#include "tests/unit/unit.h"

UNIT_TEST(cli_users_cycles)
{
    uint32_t u[SHM_MAX_CYCLES], n;

    CHECK_INT_EQ(runner_parse_users("100", u, &n), 0);
    CHECK_INT_EQ(n, 1);
    CHECK_INT_EQ(u[0], 100);
    CHECK_INT_EQ(runner_parse_users("10:20:30", u, &n), 0);
    CHECK_INT_EQ(n, 3);
    CHECK_INT_EQ(u[0] + u[1] + u[2], 60);
    CHECK_INT_EQ(u[2], 30);
}

UNIT_TEST(cli_users_bad)
{
    static const char *const bad[] = {"0", "10:x", "", ":", "10:", ":10", "10::20",
                                      "-1", "1.5", " 5", "5 ", "abc", "99999999999"};
    uint32_t u[SHM_MAX_CYCLES], n;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (runner_parse_users(bad[i], u, &n) != -EINVAL)
            unit_fail(__FILE__, __LINE__, "users '%s' was accepted", bad[i]);
}

UNIT_TEST(cli_hits)
{
    uint64_t h[SHM_MAX_CYCLES];
    uint32_t n;

    CHECK_INT_EQ(runner_parse_hits("20", h, &n), 0);
    CHECK_INT_EQ(h[0], 20);
    CHECK_INT_EQ(runner_parse_hits("1:2:3:4", h, &n), 0);
    CHECK_INT_EQ(n, 4);
    CHECK_INT_EQ(runner_parse_hits("0", h, &n), -EINVAL);
}

UNIT_TEST(cli_duration)
{
    uint64_t us;

    CHECK_INT_EQ(runner_parse_duration("30s", &us), 0);
    CHECK_INT_EQ(us, 30000000);
    CHECK_INT_EQ(runner_parse_duration("5m", &us), 0);
    CHECK_INT_EQ(us, 300000000);
    CHECK_INT_EQ(runner_parse_duration("2h", &us), 0);
    CHECK_INT_EQ(us, 7200000000LL);
    CHECK_INT_EQ(runner_parse_duration("1h30m", &us), 0);
    CHECK_INT_EQ(us, 5400000000LL);
    CHECK_INT_EQ(runner_parse_duration("90", &us), 0);
    CHECK_INT_EQ(us, 90000000);
    CHECK_INT_EQ(runner_parse_duration("1.5s", &us), 0);
    CHECK_INT_EQ(us, 1500000);
    CHECK_INT_EQ(runner_parse_duration("5 minutes", &us), -EINVAL);
    CHECK_INT_EQ(runner_parse_duration("5x", &us), -EINVAL);
    CHECK_INT_EQ(runner_parse_duration("", &us), -EINVAL);
    CHECK_INT_EQ(runner_parse_duration("0s", &us), -EINVAL);
    CHECK_INT_EQ(runner_parse_duration("-3s", &us), -EINVAL);
    CHECK_INT_EQ(runner_parse_duration("s", &us), -EINVAL);
}

UNIT_TEST(cli_url)
{
    char err[256];

    CHECK_INT_EQ(runner_parse_url("http://127.0.0.1:9200", err, sizeof(err)), 0);
    CHECK_INT_EQ(runner_parse_url("https://localhost/base", err, sizeof(err)), 0);
    CHECK_INT_EQ(runner_parse_url("not a url", err, sizeof(err)), -EINVAL);
    CHECK(strstr(err, "not a url") != NULL);
    CHECK_INT_EQ(runner_parse_url("ftp://x", err, sizeof(err)), -EINVAL);
    CHECK_INT_EQ(runner_parse_url("http://", err, sizeof(err)), -EINVAL);
    CHECK_INT_EQ(runner_parse_url("http://a b", err, sizeof(err)), -EINVAL);
}

/* Parses a command line given as a NULL-terminated list of words. */
static int parse(struct runner_opts *o, char *err, const char **words)
{
    char *argv[32];
    int argc = 0;

    argv[argc++] = (char *)"loads-runner";
    for (; *words; words++)
        argv[argc++] = (char *)*words;
    argv[argc] = NULL;
    return runner_parse_args(o, argc, argv, err, 256);
}

UNIT_TEST(cli_planned_runs)
{
    static struct runner_opts o;
    char err[256];

    CHECK_INT_EQ(parse(&o, err, (const char *[]){"m.S.t", "-u", "100", "-c", "10", NULL}),
                 0);
    CHECK_INT_EQ(runner_planned_runs(&o, 1), 1000);
    CHECK_INT_EQ(parse(&o, err, (const char *[]){"m.S.t", "-u", "10:20:30", "--hits",
                                                 "20", NULL}),
                 0);
    CHECK_INT_EQ(runner_planned_runs(&o, 1), 1200);
    CHECK_INT_EQ(runner_planned_runs(&o, 2), 2400);
    CHECK_INT_EQ(parse(&o, err, (const char *[]){"m.S.t", "-d", "3s", NULL}), 0);
    CHECK_INT_EQ(runner_planned_runs(&o, 1), 0);
    CHECK_INT_EQ(o.duration_us, 3000000);
}

UNIT_TEST(cli_defaults_and_aliases)
{
    static struct runner_opts o;
    char err[256];

    CHECK_INT_EQ(parse(&o, err, (const char *[]){"--server_url", "http://127.0.0.1:1",
                                                 "m.S.t", NULL}),
                 0);
    CHECK_STR_EQ(o.server_url, "http://127.0.0.1:1");
    CHECK_STR_EQ(o.test, "m.S.t");
    CHECK_INT_EQ(o.nusers, 1);
    CHECK_INT_EQ(o.users[0], 1);
    CHECK_INT_EQ(o.hits[0], 1);
    CHECK(o.timeout == 30);
    CHECK(o.grace == 5);
}

UNIT_TEST(cli_bad_options)
{
    static struct runner_opts o;
    const char *const *cases[] = {
        (const char *[]){"m.S.t", "-u", "0", NULL},
        (const char *[]){"m.S.t", "-u", "10:x", NULL},
        (const char *[]){"m.S.t", "-c", "5", "-d", "5s", NULL},
        (const char *[]){"m.S.t", "-d", "5 minutes", NULL},
        (const char *[]){"m.S.t", "-w", "0", NULL},
        (const char *[]){"m.S.t", "--ramp-up", "-1", NULL},
        (const char *[]){"m.S.t", "--bogus", NULL},
        (const char *[]){"m.S.t", "--output", "xml", NULL},
        (const char *[]){"m.S.t", "--timeout", "0", NULL},
        (const char *[]){"m.S.t", "-u", NULL},
        (const char *[]){NULL},
        (const char *[]){"a.B.c", "d.E.f", NULL},
    };
    char err[256];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        err[0] = '\0';
        if (parse(&o, err, (const char **)cases[i]) != -EINVAL)
            unit_fail(__FILE__, __LINE__, "case %zu was accepted", i);
        if (!err[0] || strchr(err, '\n'))
            unit_fail(__FILE__, __LINE__, "case %zu: no one-line reason: '%s'", i, err);
    }
}

UNIT_TEST(cli_config_file)
{
    static struct runner_opts o;
    char path[] = "/tmp/loads-unit-XXXXXX", err[256];
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");

    fputs("# comment\n[other]\nusers = 99\n[loads]\nserver_url = http://127.0.0.1:7\n"
          "users = 4:8\nhits=3\nquiet = yes\n",
          f);
    fclose(f);
    CHECK_INT_EQ(parse(&o, err, (const char *[]){"--config", path, "m.S", "-c", "5", NULL}),
                 0);
    CHECK_STR_EQ(o.server_url, "http://127.0.0.1:7");
    CHECK_INT_EQ(o.nusers, 2);
    CHECK_INT_EQ(o.users[1], 8);
    CHECK_INT_EQ(o.hits[0], 5); /* the command line wins */
    CHECK_INT_EQ(o.quiet, 1);

    f = fopen(path, "w");
    fputs("[loads]\nspeed = 3\n", f);
    fclose(f);
    CHECK_INT_EQ(parse(&o, err, (const char *[]){"--config", path, "m.S", NULL}), -EINVAL);
    CHECK(strstr(err, "speed") != NULL);

    /* A long line is one line: its end is not read as a line of its own. */
    f = fopen(path, "w");
    fprintf(f, "[loads]\n# %02000d\nusers = 6\nserver_url = http://127.0.0.1:7/%0150d\n", 0,
            0);
    fclose(f);
    CHECK_INT_EQ(parse(&o, err, (const char *[]){"--config", path, "m.S", NULL}), 0);
    CHECK_INT_EQ(o.users[0], 6);
    CHECK_INT_EQ(strlen(o.server_url), strlen("http://127.0.0.1:7/") + 150);
    unlink(path);
}
