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
    CHECK_INT_EQ(runner_parse_duration("500ms", &us), 0);
    CHECK(us == 500000);
    CHECK_INT_EQ(runner_parse_duration("1m30s250ms", &us), 0);
    CHECK(us == 90250000);
    CHECK_INT_EQ(runner_parse_duration("1mss", &us), -EINVAL);
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

/* Writes text (len bytes) to a new temporary file whose name goes to path. */
static void write_temp(char *path, const char *text, size_t len)
{
    int fd;
    FILE *f;

    strcpy(path, "/tmp/loads-unit-XXXXXX");
    fd = mkstemp(path);
    f = fdopen(fd, "w");
    fwrite(text, 1, len, f);
    fclose(f);
}

/* Parses "--config FILE m.S" plus more words with FILE holding text. */
static int parse_config(struct runner_opts *o, char *err, const char *text,
                        const char *more1, const char *more2)
{
    char path[32];
    int rc;

    write_temp(path, text, strlen(text));
    rc = parse(o, err, (const char *[]){"--config", path, "m.S", more1, more2, NULL});
    unlink(path);
    return rc;
}

/* A config that is not one fails loudly, with file:line where there is one. */
UNIT_TEST(cli_config_fails_loudly)
{
    static struct runner_opts o;
    static const unsigned char noise[] = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0x9c, '\n', 0xff};
    char path[32], err[256], expect[64];
    int rc;

    /* No [loads] section: the options would be ignored. */
    CHECK_INT_EQ(parse_config(&o, err, "[other]\nusers = 5\n", NULL, NULL), -EINVAL);
    CHECK(strstr(err, "no [loads] section") != NULL);
    CHECK_INT_EQ(parse_config(&o, err, "", NULL, NULL), -EINVAL);
    CHECK(strstr(err, "no [loads] section") != NULL);
    /* Options before any section. */
    CHECK_INT_EQ(parse_config(&o, err, "users = 5\n[loads]\n", NULL, NULL), -EINVAL);
    CHECK(strstr(err, ":1: 'users = 5' is outside any section") != NULL);
    /* Random bytes: the first line says so. */
    write_temp(path, (const char *)noise, sizeof(noise));
    rc = parse(&o, err, (const char *[]){"--config", path, "m.S", NULL});
    snprintf(expect, sizeof(expect), "%s:1: not a text line", path);
    unlink(path);
    CHECK_INT_EQ(rc, -EINVAL);
    CHECK(strstr(err, expect) != NULL);
    /* A directory. */
    CHECK_INT_EQ(parse(&o, err, (const char *[]){"--config", "/tmp", "m.S", NULL}), -EINVAL);
    CHECK(strstr(err, "/tmp: Is a directory") != NULL);
    /* A bad value names its line. */
    CHECK_INT_EQ(parse_config(&o, err, "# x\n[loads]\nusers = 2\nhits = 0\n", NULL, NULL),
                 -EINVAL);
    CHECK(strstr(err, ":4: invalid --hits '0'") != NULL);
    CHECK_INT_EQ(parse_config(&o, err, "[loads]\nquiet = maybe\n", NULL, NULL), -EINVAL);
    CHECK(strstr(err, ":2: quiet takes yes or no") != NULL);
    /* A broken section header, a line that is not INI in another section. */
    CHECK_INT_EQ(parse_config(&o, err, "[loads\nusers = 1\n", NULL, NULL), -EINVAL);
    CHECK(strstr(err, ":1: expected '[section]'") != NULL);
    CHECK_INT_EQ(parse_config(&o, err, "[loads]\n[other]\njust words\n", NULL, NULL),
                 -EINVAL);
    CHECK(strstr(err, ":3: expected 'name = value'") != NULL);
}

UNIT_TEST(cli_config_ini_forms)
{
    static struct runner_opts o;
    char err[256];

    /* Inline comments after a blank; a '#' inside a value stays. */
    CHECK_INT_EQ(parse_config(&o, err,
                              "\xef\xbb\xbf[loads]\r\nusers = 10 ; ten users\r\n"
                              "server_url = http://127.0.0.1:7/#top   # a fragment\n"
                              "quiet = yes\t; shh\n[ other ]\nname: value\n  continued\n",
                              NULL, NULL),
                 0);
    CHECK_INT_EQ(o.users[0], 10);
    CHECK_STR_EQ(o.server_url, "http://127.0.0.1:7/#top");
    CHECK_INT_EQ(o.quiet, 1);
}

/* The command line wins over the file, hits against duration too. */
UNIT_TEST(cli_command_line_wins)
{
    static struct runner_opts o;
    char err[256];

    CHECK_INT_EQ(parse_config(&o, err, "[loads]\nhits = 5\n", "-d", "2s"), 0);
    CHECK_INT_EQ(o.duration_us, 2000000);
    CHECK_INT_EQ(o.nhits, 0);
    CHECK_INT_EQ(parse_config(&o, err, "[loads]\nduration = 1h\n", "-c", "3"), 0);
    CHECK_INT_EQ(o.duration_us, 0);
    CHECK_INT_EQ(o.hits[0], 3);
    CHECK_INT_EQ(parse_config(&o, err, "[loads]\nduration = 1h\nhits = 3\n", NULL, NULL),
                 -EINVAL);
    CHECK(strstr(err, "exclude each other") != NULL);
    CHECK(strstr(err, "--config") != NULL);
}

UNIT_TEST(cli_ramp_up_within_duration)
{
    static struct runner_opts o;
    char err[256];

    CHECK_INT_EQ(parse(&o, err, (const char *[]){"m.S", "-d", "10s", "--ramp-up", "20",
                                                 NULL}),
                 -EINVAL);
    CHECK(strstr(err, "--ramp-up 20 s is longer than --duration (10 s)") != NULL);
    CHECK_INT_EQ(parse(&o, err, (const char *[]){"m.S", "-d", "10s", "--ramp-up", "10",
                                                 NULL}),
                 0);
    CHECK_INT_EQ(parse(&o, err, (const char *[]){"m.S", "-c", "2", "--ramp-up", "20", NULL}),
                 0);
}

UNIT_TEST(cli_json_file_checked_before_the_run)
{
    static struct runner_opts o;
    char err[256];

    CHECK_INT_EQ(parse(&o, err, (const char *[]){"m.S", "--json", "/nonexistent-dir/x.json",
                                                 NULL}),
                 -EINVAL);
    CHECK(strstr(err, "no directory /nonexistent-dir") != NULL);
    CHECK_INT_EQ(parse(&o, err, (const char *[]){"m.S", "--json", "/tmp", NULL}), -EINVAL);
    CHECK(strstr(err, "it is a directory") != NULL);
    CHECK_INT_EQ(parse(&o, err, (const char *[]){"m.S", "--json", "", NULL}), -EINVAL);
    CHECK_INT_EQ(parse(&o, err, (const char *[]){"m.S", "--json", "/tmp/loads-unit.json",
                                                 NULL}),
                 0);
    CHECK_INT_EQ(access("/tmp/loads-unit.json", F_OK), -1); /* checked, not created */
}

UNIT_TEST(cli_env_and_data)
{
    static struct runner_opts o;
    char err[256];

    CHECK_INT_EQ(parse(&o, err, (const char *[]){"m.S.t", "--env", "A=1", "--env", "B_2=x=y",
                                                 "--env", "A=", "--data", "u.csv",
                                                 "--data-per", "vu", NULL}),
                 0);
    CHECK_INT_EQ(o.nenv, 2);
    CHECK_STR_EQ(o.env[0], "B_2=x=y");
    CHECK_STR_EQ(o.env[1], "A=");
    CHECK_STR_EQ(o.data_file, "u.csv");
    CHECK_INT_EQ(o.data_per_vu, 1);
    runner_opts_free(&o);
    CHECK_INT_EQ(parse(&o, err, (const char *[]){"m.S.t", "--env", "=1", NULL}), -EINVAL);
    runner_opts_free(&o);
    CHECK_INT_EQ(parse(&o, err, (const char *[]){"m.S.t", "--env", "A-B=1", NULL}), -EINVAL);
    runner_opts_free(&o);
    CHECK_INT_EQ(parse(&o, err, (const char *[]){"m.S.t", "--env", "AB", NULL}), -EINVAL);
    CHECK(strstr(err, "use NAME=VALUE") != NULL);
    CHECK_INT_EQ(parse(&o, err, (const char *[]){"m.S.t", "--data-per", "hit", "--data",
                                                 "u.csv", NULL}),
                 -EINVAL);
    CHECK(strstr(err, "use run (a row per test run) or vu") != NULL);
    CHECK_INT_EQ(parse(&o, err, (const char *[]){"m.S.t", "--data-per", "run", NULL}),
                 -EINVAL);
    CHECK_STR_EQ(err, "--data-per goes with --data FILE.csv");
    runner_opts_free(&o);
}

/* --rate: stages and ramps in milli-runs per second, exactly. */
UNIT_TEST(cli_rate)
{
    struct arrival_stage st[SHM_MAX_CYCLES];
    uint32_t n = 0;

    CHECK_INT_EQ(runner_parse_rate("100", st, &n), 0);
    CHECK_INT_EQ(n, 1);
    CHECK_INT_EQ(st[0].from_mrps, 100000);
    CHECK_INT_EQ(st[0].to_mrps, 100000);
    CHECK_INT_EQ(runner_parse_rate("0.5:33.333:0-100.5", st, &n), 0);
    CHECK_INT_EQ(n, 3);
    CHECK_INT_EQ(st[0].from_mrps, 500);
    CHECK_INT_EQ(st[1].from_mrps, 33333);
    CHECK_INT_EQ(st[2].from_mrps, 0);
    CHECK_INT_EQ(st[2].to_mrps, 100500);
    CHECK_INT_EQ(runner_parse_rate("10:0:10", st, &n), 0); /* a pause */
    CHECK_INT_EQ(runner_parse_rate("10000000", st, &n), 0);
    {
        static const char *const bad[] = {"", "0", "0:0-0", "x", "1.", ".5", "1.2345",
                                          "10::20", ":1", "1:", "-1", "1-", "1-2-3",
                                          "10000000.001", "10 ", " 10", "1e3", "5/s"};

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
            if (runner_parse_rate(bad[i], st, &n) != -EINVAL)
                unit_fail(__FILE__, __LINE__, "rate '%s' was accepted", bad[i]);
    }
}

/* The open model's options together: defaults and refusals. */
UNIT_TEST(cli_rate_options)
{
    static struct runner_opts o;
    char err[256];

    CHECK_INT_EQ(parse(&o, err, (const char *[]){"m.S.t", "--rate", "50", "-d", "1m", NULL}), 0);
    CHECK_INT_EQ(o.nrates, 1);
    CHECK_INT_EQ(o.users[0], 1);
    CHECK_INT_EQ(o.max_users, 1000);
    CHECK_INT_EQ(o.rate_offset, 0);
    CHECK_INT_EQ(o.rate_stride, 1);
    CHECK_INT_EQ(o.duration_us, 60000000);
    CHECK_INT_EQ(runner_planned_runs(&o, 1), 0);
    CHECK_INT_EQ(parse(&o, err, (const char *[]){"m.S.t", "--rate", "50", "-d", "1s", "-u",
                                                 "2000", NULL}), 0);
    CHECK_INT_EQ(o.max_users, 2000);
    CHECK_INT_EQ(parse(&o, err, (const char *[]){"m.S.t", "--rate", "50", NULL}), -EINVAL);
    CHECK(strstr(err, "--rate needs --duration") != NULL);
    CHECK_INT_EQ(parse(&o, err, (const char *[]){"m.S.t", "--max-users", "5", NULL}), -EINVAL);
    CHECK(strstr(err, "--max-users goes with --rate") != NULL);
    CHECK_INT_EQ(parse(&o, err, (const char *[]){"m.S.t", "--rate", "5", "-d", "1s",
                                                 "--threshold", "p99<1s", "--threshold",
                                                 "errors<1%", NULL}), 0);
    CHECK_INT_EQ(o.nthresholds, 2);
    CHECK_STR_EQ(o.thresholds[1].text, "errors<1%");
    CHECK_INT_EQ(parse(&o, err, (const char *[]){"m.S.t", "--threshold", "p99<1", NULL}),
                 -EINVAL);
    CHECK_STR_EQ(err, "invalid --threshold 'p99<1': column 6: add a unit to the time: us, "
                      "ms or s (200ms)");
}
