/*
 * The run's outcome: its thresholds judged, its exit status, and its
 * summary printed where it was asked for.  The supervisor, --attach, the
 * cluster's runner and the web view all end a run with these, so that
 * every one of them prints and returns the same.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "runner/runner.h"
#include "tui/tui.h"

uint32_t runner_thresholds(const struct runner_opts *o, const struct shm_stats *st,
                           struct threshold_result *res)
{
    uint32_t failed = 0;

    for (uint32_t i = 0; i < o->nthresholds; i++) {
        threshold_eval(&o->thresholds[i], st, &res[i]);
        failed += !res[i].pass;
    }
    return failed;
}

/*
 * q counts as SIGINT, as Ctrl-C does.  A threshold on the whole run's
 * errors (errors<1%) says how many failed runs are acceptable: then they
 * do not make the status 1 by themselves.
 */
int runner_exit_status(const struct runner_opts *o, const struct shm_header *h,
                       const struct shm_stats *st, uint32_t failed_thresholds)
{
    int errors_judged = 0;

    if (h->stop_cause == SHM_STOP_KEY)
        return RUNNER_STOPPED + SIGINT;
    if (h->stop_cause == SHM_STOP_SIGNAL)
        return RUNNER_STOPPED + h->stop_signal;
    if (failed_thresholds)
        return RUNNER_THRESHOLDS;
    for (uint32_t i = 0; i < o->nthresholds; i++)
        errors_judged |= o->thresholds[i].metric == THRESHOLD_ERRORS && !o->thresholds[i].url[0];
    if (st->crashes || ((st->c.failures || st->c.errors) && !errors_judged))
        return RUNNER_FAILED;
    if (h->planned_runs && !h->stop && st->c.runs != h->planned_runs)
        return RUNNER_FAILED;
    return RUNNER_OK;
}

/*
 * Prints the summary where it was asked for and returns the exit status.
 * The supervisor calls it at the end of its run, --attach at the end of
 * the run it watched: both print the same figures.
 */
int runner_report(const struct runner_opts *o, const struct shm *s, double elapsed)
{
    const struct shm_header *h = s->hdr;
    struct threshold_result res[RUNNER_MAX_THRESHOLDS];
    struct tui_checks checks = {o->thresholds, res, o->nthresholds};
    struct shm_stats st;
    int status;

    if (shm_stats_collect(&st, s) < 0) {
        fprintf(stderr, "loads-runner: out of memory for the summary\n");
        return RUNNER_USAGE;
    }
    if (elapsed >= 0)
        st.elapsed = elapsed;
    status = runner_exit_status(o, h, &st, runner_thresholds(o, &st, res));
    status = runner_print_summary(o, h, &st, status, &checks, NULL, 0);
    shm_stats_free(&st);
    return status;
}

/* The JSON document, with the agents' table of a cluster's run. */
static void print_json(FILE *f, const struct shm_header *h, const struct shm_stats *st,
                       int status, const struct tui_checks *checks,
                       const struct tui_agent *agents, uint32_t nagents)
{
    if (agents)
        tui_summary_json_agents(f, h, st, status, checks, agents, nagents);
    else
        tui_summary_json(f, h, st, status, checks);
}

int runner_print_summary(const struct runner_opts *o, const struct shm_header *h,
                         const struct shm_stats *st, int status, const struct tui_checks *checks,
                         const struct tui_agent *agents, uint32_t nagents)
{
    if (o->output == RUNNER_JSON) {
        print_json(stdout, h, st, status, checks, agents, nagents);
    } else {
        tui_summary_text(stdout, h, st);
        if (agents)
            tui_summary_agents_text(stdout, agents, nagents);
        tui_summary_thresholds_text(stdout, checks);
    }
    if (o->json_file[0]) {
        FILE *f = fopen(o->json_file, "w");

        if (!f || (print_json(f, h, st, status, checks, agents, nagents), fclose(f)) != 0) {
            fprintf(stderr, "loads-runner: cannot write %s: %s\n", o->json_file,
                    strerror(errno));
            status = RUNNER_USAGE;
        }
    }
    fflush(stdout);
    return status;
}
