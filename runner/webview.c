/*
 * The runner's side of the web view (web/): what /stats.json says is the
 * run's JSON summary, the document --json writes, made from the segment
 * as it stands.  Its exit_status is the status the run would have if it
 * ended now; once /series.json says "done", the document is the final one.
 */
#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "runner/runner.h"
#include "tui/tui.h"
#include "web/web.h"

/* web_json_fn: runs on the web view's thread, and only reads. */
static void write_json(FILE *f, const struct shm *s, void *arg)
{
    const struct runner_opts *o = arg;
    struct threshold_result res[RUNNER_MAX_THRESHOLDS];
    struct tui_checks checks = {o->thresholds, res, o->nthresholds};
    struct shm_stats st;
    int status;

    if (shm_stats_collect(&st, s) < 0) {
        fprintf(f, "{\"error\": \"out of memory\"}\n");
        return;
    }
    status = runner_exit_status(o, s->hdr, &st, runner_thresholds(o, &st, res));
    tui_summary_json(f, s->hdr, &st, status, &checks);
    shm_stats_free(&st);
}

int runner_web_open(const struct runner_opts *o, const struct shm *s, struct web **w)
{
    return runner_web_open_with(o, s, write_json, (void *)o, w);
}

int runner_web_open_with(const struct runner_opts *o, const struct shm *s,
                         void (*json)(FILE *f, const struct shm *s, void *arg), void *arg,
                         struct web **w)
{
    char err[256], addr[80];

    *w = NULL;
    if (!o->web[0])
        return 0;
    *w = web_open(o->web, s, json, arg, err, sizeof(err));
    if (!*w) {
        fprintf(stderr, "loads-runner: %s\n", err);
        return RUNNER_USAGE;
    }
    web_address(*w, addr, sizeof(addr));
    if (!o->quiet)
        fprintf(stderr, "loads-runner: web view on http://%s/\n", addr);
    return 0;
}

void runner_web_close(const struct runner_opts *o, struct web *w)
{
    struct timespec left = {(time_t)o->web_linger,
                            (long)((o->web_linger - (double)(time_t)o->web_linger) * 1e9)};

    if (!w)
        return;
    /* A stop signal (Ctrl-C) ends the wait early: its handler only sets a flag. */
    if (o->web_linger > 0)
        nanosleep(&left, NULL);
    web_close(w);
}
