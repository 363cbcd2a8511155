/*
 * Thresholds: what a run must meet to pass, for CI (--threshold
 * 'p99<200ms', repeatable).  threshold_parse is a pure parser (no I/O, no
 * allocation), unit-tested and fuzzed; threshold_eval measures one against
 * the merged snapshot that every view reads.
 *
 * Grammar (blanks may separate the parts):
 *
 *     threshold := metric [ "{" url "}" ] op number [ unit ]
 *     metric    := "p" number | "mean" | "min" | "max"       response times
 *                | "service_" ("p" number | "mean" | "min" | "max")
 *                                                          service times
 *                | "errors" | "rps" | "hits" | "dropped" | "runs"
 *                | "checks"                             loads_check's passes
 *     url       := [ METHOD " " ] ( "/path" | "http://host:port/path" )
 *                | a request's name                     loads_send's .name
 *                | a check's name                       after checks
 *                   (up to the last "}": a name may hold braces)
 *     op        := "<" | "<=" | ">" | ">=" | "==" | "!="
 *     number    := digits [ "." digits ]
 *     unit      := "us" | "ms" | "s"    required after a time
 *                | "%"                  errors, dropped: a share, not a count;
 *                                       checks: always (the share that passed)
 *                | "/s"                 rps (optional)
 *
 * Response times count from when a request would have been sent had its
 * run started at its scheduled time (--rate); service times from when it
 * was sent; without a schedule they are the same.  errors: runs that
 * failed or errored (of the runs that ended, interrupted ones aside); per
 * URL, requests without a response or with a status of 400 or more.  rps:
 * responses per second over the run.  dropped: runs of a --rate schedule
 * that found no free user (as a share: of those started and dropped).
 * checks: the share of loads_check calls that passed, of every check or
 * of the one named in {} (checks{status is 200}>=99%).
 * {url} selects rows of the URL table (without the query string): a path
 * matches every row of that path on any server, a METHOD only its rows;
 * the rows it matches are added together; anything else in {} is a
 * request's name, the key of its one row.  dropped and runs are the whole
 * run's only.
 */
#ifndef LOADS_SHM_THRESHOLD_H
#define LOADS_SHM_THRESHOLD_H

#include <stddef.h>

#include "shm/stats.h"

#define THRESHOLD_LEN    256      /* longest threshold text, with its NUL */
#define THRESHOLD_METHOD 16       /* longest method in {METHOD url}, with its NUL */

enum threshold_metric {
    THRESHOLD_PERCENTILE,
    THRESHOLD_MEAN,
    THRESHOLD_MIN,
    THRESHOLD_MAX,
    THRESHOLD_ERRORS,
    THRESHOLD_RPS,
    THRESHOLD_HITS,
    THRESHOLD_DROPPED,
    THRESHOLD_RUNS,
    THRESHOLD_CHECKS,
};

enum threshold_op {
    THRESHOLD_LT,
    THRESHOLD_LE,
    THRESHOLD_GT,
    THRESHOLD_GE,
    THRESHOLD_EQ,
    THRESHOLD_NE,
};

struct threshold {
    char text[THRESHOLD_LEN];        /* as written, without blanks around it */
    enum threshold_metric metric;
    int service;                     /* a time from the request sent */
    double percentile;               /* THRESHOLD_PERCENTILE: above 0, at most 100 */
    char method[THRESHOLD_METHOD];   /* {METHOD url}: upper case; "" for any */
    char url[THRESHOLD_LEN];         /* {url}, or a check's {name}; "" for the whole run */
    enum threshold_op op;
    double value;                    /* us for a time, % for a share, else as is */
    int share;                       /* errors or dropped given in % */
    int named;                       /* url is a request's name (loads_send's .name) */
};

struct threshold_result {
    int measured;                    /* 0: nothing to measure (no response, no
                                        such URL, no run): the threshold fails */
    double value;                    /* in the threshold's unit, as value */
    int pass;
};

/*
 * Parses s into t.  Returns 0, or -EINVAL with "column N: what is wrong"
 * in err (N counts from 1 in s).
 */
int threshold_parse(const char *s, struct threshold *t, char *err, size_t errlen);

/* Measures t on st into r. */
void threshold_eval(const struct threshold *t, const struct shm_stats *st,
                    struct threshold_result *r);

/* r's value for a person: "1.02 s", "0.52%", "512.3/s", "12"; "no data". */
void threshold_format(char *out, size_t len, const struct threshold *t,
                      const struct threshold_result *r);

#endif
