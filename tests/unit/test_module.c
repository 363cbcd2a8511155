/* The compiler's dependency output, as the module cache reads it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runner/runner.h"
#include "tests/unit/unit.h"

struct paths {
    char list[1024];                /* every path, each followed by '|' */
    int n;
    int stop_at;                    /* return -ECANCELED at this path (1-based) */
};

static int collect(const char *path, void *arg)
{
    struct paths *p = arg;

    p->n++;
    strncat(p->list, path, sizeof(p->list) - strlen(p->list) - 2);
    strcat(p->list, "|");
    return p->n == p->stop_at ? -ECANCELED : 0;
}

/* Parses a copy of text (the parser writes in place). */
static int parse_deps(const char *text, struct paths *p)
{
    static char buf[2048];

    memset(p->list, 0, sizeof(p->list));
    p->n = 0;
    snprintf(buf, sizeof(buf), "%s", text);
    return runner_parse_deps(buf, collect, p);
}

UNIT_TEST(module_deps_gcc_output)
{
    struct paths p = {0};

    CHECK_INT_EQ(parse_deps("loads-module: /w/t.c /usr/include/stdc-predef.h \\\n"
                            " /w/include/loads.h /usr/include/stdint.h \\\n"
                            " /w/my\\ header.h /w/a\\#b.h /w/cost$$.h\n",
                            &p),
                 0);
    CHECK_INT_EQ(p.n, 7);
    CHECK_STR_EQ(p.list, "/w/t.c|/usr/include/stdc-predef.h|/w/include/loads.h|"
                         "/usr/include/stdint.h|/w/my header.h|/w/a#b.h|/w/cost$.h|");
}

UNIT_TEST(module_deps_forms)
{
    struct paths p = {0};

    /* CRLF continuations, no final newline, tabs. */
    CHECK_INT_EQ(parse_deps("loads-module:\ta.c \\\r\n\tb.h", &p), 0);
    CHECK_STR_EQ(p.list, "a.c|b.h|");
    /* Only the first rule: -MP's phony targets would follow. */
    CHECK_INT_EQ(parse_deps("loads-module: a.c b.h\n\nb.h:\n", &p), 0);
    CHECK_STR_EQ(p.list, "a.c|b.h|");
    /* A path glued to a continuation, a lone backslash kept. */
    CHECK_INT_EQ(parse_deps("loads-module: a\\b.h c.h\\\n d.h", &p), 0);
    CHECK_STR_EQ(p.list, "a\\b.h|c.h|d.h|");
    /* No paths at all. */
    CHECK_INT_EQ(parse_deps("loads-module:\n", &p), 0);
    CHECK_INT_EQ(p.n, 0);
}

UNIT_TEST(module_deps_refused_and_stopped)
{
    struct paths p = {0};

    CHECK_INT_EQ(parse_deps("", &p), -EINVAL);
    CHECK_INT_EQ(parse_deps("other: a.c\n", &p), -EINVAL);
    CHECK_INT_EQ(parse_deps("loads-module a.c\n", &p), -EINVAL);
    p.stop_at = 2;
    CHECK_INT_EQ(parse_deps("loads-module: a.c b.h c.h\n", &p), -ECANCELED);
    CHECK_INT_EQ(p.n, 2);
}

/*
 * Weighted picks: each test appears as often as its weight in one round,
 * and spread evenly: in every prefix of the round, each test has been
 * picked within one of its share (so any VU's runs, from any starting
 * point, come close to the weights at once).
 */
UNIT_TEST(module_weighted_schedule_spreads)
{
    static const uint32_t sets[][4] = {{70, 20, 10, 0}, {1, 1, 1, 0}, {3, 1, 0, 0},
                                       {997, 1, 2, 1000}};
    static const uint32_t lens[] = {3, 3, 2, 4};

    for (size_t s = 0; s < sizeof(lens) / sizeof(lens[0]); s++) {
        uint32_t n = lens[s], total = 0, *sched, count[4] = {0};

        for (uint32_t i = 0; i < n; i++)
            total += sets[s][i];
        sched = calloc(total, sizeof(*sched));
        CHECK(sched != NULL);
        CHECK_INT_EQ(runner_weighted_schedule(sets[s], n, sched), 0);
        for (uint32_t k = 0; k < total; k++) {
            CHECK(sched[k] < n);
            count[sched[k]]++;
            for (uint32_t i = 0; i < n; i++) {
                double share = (double)(k + 1) * sets[s][i] / total;

                if (count[i] > share + 1 || count[i] + 1 < share)
                    unit_fail(__FILE__, __LINE__, "set %zu, after %u picks: test %u picked "
                              "%u times for a share of %.2f", s, k + 1, i, count[i], share);
            }
        }
        for (uint32_t i = 0; i < n; i++)
            CHECK_INT_EQ(count[i], sets[s][i]);
        free(sched);
    }
}
