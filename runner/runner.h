/*
 * The runner: the command line, the run plan, test modules and the
 * supervisor that forks the workers.
 */
#ifndef LOADS_RUNNER_RUNNER_H
#define LOADS_RUNNER_RUNNER_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "base/csv.h"
#include "shm/shm.h"
#include "shm/stats.h"
#include "shm/threshold.h"
#include "worker/worker.h"

#define RUNNER_MAX_THRESHOLDS 32

enum runner_output { RUNNER_TEXT = 0, RUNNER_JSON };

#define RUNNER_MAX_ENV  64                  /* --env values */
#define RUNNER_MAX_DATA (256u << 20)        /* bytes of a --data file */

/* Exit statuses, documented in --help and README. */
enum {
    RUNNER_OK = 0,          /* every test run succeeded */
    RUNNER_FAILED = 1,      /* some run failed or errored */
    RUNNER_USAGE = 2,       /* bad usage or setup */
    RUNNER_THRESHOLDS = 99, /* a --threshold failed (k6's status for the same) */
    RUNNER_STOPPED = 128,   /* + the signal that stopped the run before its plan's
                               end: 130 SIGINT or q, 143 SIGTERM, 129 SIGHUP,
                               131 SIGQUIT, as a shell reports a killed command */
};

struct runner_opts {
    const char *test;                       /* dotted test name */
    char server_url[SHM_URL_LEN];           /* --server-url, "" if none */
    uint32_t users[SHM_MAX_CYCLES];         /* -u: users of each cycle */
    uint32_t nusers;
    uint64_t hits[SHM_MAX_CYCLES];          /* -c: hits of each user, in turn */
    uint32_t nhits;
    uint64_t duration_us;                   /* -d; 0 when counting hits; with --rate,
                                               each stage's length */
    /* The open model (--rate); nrates == 0: the closed model. */
    struct arrival_stage rate[SHM_MAX_CYCLES]; /* --rate stages */
    uint32_t nrates;
    uint32_t max_users;                     /* --max-users: the pool's limit */
    uint32_t rate_offset, rate_stride;      /* this machine's stripe of the schedule:
                                               an agent's index and the run's number
                                               of agents; 0 and 1 for a local run */
    uint32_t workers;                       /* -w; 0: one per core */
    double ramp_up;                         /* --ramp-up seconds */
    double timeout;                         /* --timeout seconds */
    double grace;                           /* --grace seconds */
    size_t max_body;                        /* --max-body bytes */
    size_t ws_max_message;                  /* --ws-max-message bytes */
    int insecure;                           /* -k: any TLS certificate */
    int quiet;                              /* -q */
    int no_tui;                             /* --no-tui */
    enum runner_output output;              /* --output */
    char json_file[4096];                   /* --json FILE, "" if none */
    int attach;                             /* --attach: watch another run */
    int32_t attach_pid;                     /* its supervisor's pid; 0: find it */
    /* The cluster (runner/remote.c); agents == 0 and no broker command: local. */
    uint32_t agents;                        /* --agents N */
    char broker[256];                       /* --broker ENDPOINT, "" for the default */
    int broker_given;                       /* --broker was given */
    int detach;                             /* --detach */
    char attach_run[32];                    /* --attach RUN_ID with --broker */
    enum { RUNNER_BROKER_NONE = 0, RUNNER_BROKER_PING, RUNNER_BROKER_CHECK,
           RUNNER_BROKER_PURGE } broker_cmd; /* --ping-broker... */
    char *include_files[32];                /* --include-file, in order (owned) */
    uint32_t ninclude_files;
    struct threshold thresholds[RUNNER_MAX_THRESHOLDS]; /* --threshold, in order:
                                               the config file's, then the command
                                               line's */
    uint32_t nthresholds;
    char key[4096];                         /* --key NAME (NAME_secret is read) */
    char broker_key[4096];                  /* --broker-key FILE */
    char data_file[4096];                   /* --data FILE.csv, "" if none */
    int data_per_vu;                        /* --data-per vu: a row per VU (else per run) */
    int data_per_given;                     /* --data-per was given */
    char *env[RUNNER_MAX_ENV];              /* --env NAME=VALUE, in order (owned) */
    uint32_t nenv;
    /* An agent's: the values the cluster's setUpOnce stored (its runner ran
     * it), for every VU when the suite runs no setUpOnce here. */
    const char *const *value_names, *const *value_texts;
    uint32_t nvalues;
    char web[128];                          /* --web ADDRESS, "" if none */
    double web_linger;                      /* --web-linger seconds */
};

/* What a setUpOnce stored: names[i] and texts[i], in block (owned). */
struct runner_values {
    char *block;
    const char **names, **texts;
    uint32_t n;
};

void runner_values_free(struct runner_values *v);

/*
 * Reads and parses --data into data (csv_free it).  Returns 0 (nothing to
 * do without --data), or -EINVAL with a one-line reason in err: the file
 * cannot be read, is larger than RUNNER_MAX_DATA, or is not CSV
 * ("users.csv:3:7: a quote inside an unquoted field ...").
 */
int runner_load_data(const struct runner_opts *opts, struct csv *data, char *err,
                     size_t errlen);

/*
 * Parses argv (and the --config file it names) into opts.  Returns 0 to
 * run, 1 when --help or --version was printed, or -EINVAL with a one-line
 * reason in err.
 */
int runner_parse_args(struct runner_opts *opts, int argc, char **argv, char *err,
                      size_t errlen);

/* Frees what runner_parse_args allocated in opts (--include-file names). */
void runner_opts_free(struct runner_opts *opts);

/*
 * Makes err one line for a person: a control character (a newline in a
 * quoted value, say) becomes '?'.
 */
void runner_one_line(char *err);

/* Spec parsers, exposed for the unit tests.  Each returns 0 or -EINVAL. */
int runner_parse_users(const char *s, uint32_t *out, uint32_t *n);
int runner_parse_hits(const char *s, uint64_t *out, uint32_t *n);
int runner_parse_duration(const char *s, uint64_t *us);
int runner_parse_rate(const char *s, struct arrival_stage *out, uint32_t *n);
int runner_parse_url(const char *s, char *err, size_t errlen);

/*
 * Test runs a plan makes: sum(users) * sum(hits) * per_hit (the tests of
 * a hit: all of them, or 1 for a weighted suite); 0 for durations.
 */
uint64_t runner_planned_runs(const struct runner_opts *opts, uint32_t per_hit);

/*
 * Whether to show the dashboard: stdout is a terminal and neither -q,
 * --no-tui nor --output json asked for plain output.
 */
int runner_wants_dashboard(const struct runner_opts *opts);

/* ---- modules (module.c) ---- */

struct runner_tests {
    struct worker_test *tests;  /* what each VU runs per hit */
    uint32_t ntests;
    uint32_t per_hit;           /* test runs per hit: ntests, or 1 when weighted */
    uint32_t *schedule;         /* weighted: the order of picks (worker_plan) */
    uint32_t nschedule;         /* the sum of the weights; 0: not weighted */
    struct worker_scope setup_vu, teardown_vu;      /* LOADS_SETUP_VU... */
    struct worker_scope setup_once, teardown_once;  /* LOADS_SETUP_ONCE... */
};

/*
 * The order of picks of weighted tests: n weights (each >= 1) into
 * schedule, their sum long, each test i appearing weights[i] times, as
 * evenly spread as a smooth weighted round robin spreads them.  Returns
 * 0 or -ENOMEM.  Exposed for the unit tests.
 */
int runner_weighted_schedule(const uint32_t *weights, uint32_t n, uint32_t *schedule);

/*
 * Resolves a dotted test name to loaded test functions: finds or compiles
 * the module, loads it, and picks the suite and test.  Returns 0 or a
 * negative errno with a one-line reason in err.  Free what it filled
 * with runner_free_tests.
 */
int runner_load_tests(const char *dotted, struct runner_tests *tests, char *err,
                      size_t errlen);
void runner_free_tests(struct runner_tests *tests);

/*
 * Parses the compiler's dependency output for a build (cc -MD -MT
 * loads-module): one rule, "loads-module: a.c b.h c.h", continued over
 * lines by a backslash before the newline; in a path, backslash-blank,
 * backslash-# and $$ stand for a blank, '#' and '$' and are unescaped in
 * place in text.  Calls each for every path in order; returns 0, -EINVAL
 * when text is not such a rule, or each's negative return, which stops
 * it.  Exposed for the unit tests and the fuzzer.
 */
int runner_parse_deps(char *text, int (*each)(const char *path, void *arg), void *arg);

/* ---- supervisor (supervisor.c) ---- */

/*
 * Writes an open model's run into the segment's header: one cycle as long
 * as the schedule a, its stages, the pool (users ready, max_users), and
 * the runs of the stripe (offset, stride) that this machine makes.
 */
void runner_rate_header(struct shm_header *h, const struct arrival *a, uint32_t users,
                        uint32_t max_users, uint32_t offset, uint32_t stride);

/*
 * A cluster's setUpOnce or tearDownOnce (teardown), run by its runner: the
 * scope alone, in a worker and a segment of its own, as a local run runs
 * it before its first cycle or after its last; tearDownOnce sees the
 * values in *v, and setUpOnce's go there when it passes.  Returns 0 when
 * it passed; else the summary of its own run is printed (setUpOnce: as a
 * local run prints it) or its first message (tearDownOnce), and the exit
 * status is returned (1, or 128 + a signal that stopped it).
 */
int runner_once(const struct runner_opts *opts, const struct runner_tests *tests,
                const struct csv *data, int teardown, struct runner_values *v);

/*
 * Runs the plan over forked workers; returns the exit status.  data is
 * --data, parsed (NULL or empty: none); stripe of stripes is this
 * machine's share of its rows (0 of 1 for a local run, agent k of N).
 */
int runner_supervise(const struct runner_opts *opts, const struct runner_tests *tests,
                     const struct csv *data, uint32_t stripe, uint32_t stripes);

/*
 * Measures opts' thresholds on st into res (opts->nthresholds of them).
 * Returns how many failed.
 */
uint32_t runner_thresholds(const struct runner_opts *opts, const struct shm_stats *st,
                           struct threshold_result *res);

/*
 * The exit status of a finished run, in this order: 128 + the signal that
 * stopped it before the end of its plan; RUNNER_THRESHOLDS when one of
 * its thresholds (failed_thresholds of them) failed; RUNNER_FAILED when a
 * worker crashed, the runs are not the planned ones, or some failed or
 * errored, unless a threshold on the whole run's errors judges those;
 * else RUNNER_OK.
 */
int runner_exit_status(const struct runner_opts *opts, const struct shm_header *h,
                       const struct shm_stats *st, uint32_t failed_thresholds);

/*
 * Prints the summary of the run in s where opts ask for it (stdout, text
 * or JSON; --json FILE) and returns the run's exit status.  elapsed, when
 * not negative, replaces the segment's duration (a run whose supervisor
 * died never recorded its end).
 */
int runner_report(const struct runner_opts *opts, const struct shm *s, double elapsed);

struct tui_checks;
struct tui_agent;

/*
 * Prints a summary whose figures st, exit status and judged thresholds
 * are known: stdout (text or JSON) and the --json file, with the agents'
 * table when agents is not NULL (a cluster's run).  Returns status, or
 * RUNNER_USAGE when the --json file could not be written.
 */
int runner_print_summary(const struct runner_opts *opts, const struct shm_header *h,
                         const struct shm_stats *st, int status, const struct tui_checks *checks,
                         const struct tui_agent *agents, uint32_t nagents);

/* ---- the web view (webview.c) ---- */

struct web;

/*
 * Starts the web view that opts ask for (--web) on segment s into *w (NULL
 * when not asked): its /stats.json is runner_report's JSON document, as
 * the run stands.  Returns 0, or RUNNER_USAGE having printed why (a port
 * in use).
 */
int runner_web_open(const struct runner_opts *opts, const struct shm *s, struct web **w);

/*
 * The same with the caller's /stats.json writer (a cluster run's, with its
 * agents) and a segment that may come later (s NULL, then web_set_shm).
 */
int runner_web_open_with(const struct runner_opts *opts, const struct shm *s,
                         void (*json)(FILE *f, const struct shm *s, void *arg), void *arg,
                         struct web **w);

/* Serves the final figures for --web-linger seconds more, then stops.  Safe on NULL. */
void runner_web_close(const struct runner_opts *opts, struct web *w);

/* ---- the cluster's client (remote.c) ---- */

/*
 * Whether opts ask for the cluster: --agents, a broker command, or
 * --attach RUN_ID on a broker.
 */
int runner_is_remote(const struct runner_opts *opts);

/*
 * Runs the test on a broker's agents, or attaches to a run there, or asks
 * the broker something (--ping-broker, --check-cluster, --purge-broker).
 * Returns the exit status.
 */
int runner_remote(const struct runner_opts *opts);

/* ---- attach (attach.c) ---- */

/*
 * loads-runner --attach [PID]: watches a run started elsewhere, read-only,
 * in the dashboard (or plainly without a terminal), and prints its summary
 * when it ends.  Returns the exit status.
 */
int runner_attach(const struct runner_opts *opts);

#endif
