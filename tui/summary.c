/*
 * The final summary: the original Loads fields in their order, then
 * latency percentiles, the per-URL table, custom counters, and the
 * failure and error messages with their counts.  And its JSON twin.
 */
#include <math.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "tui/tui.h"

#define BAR_WIDTH 70

void tui_progress(FILE *f, double fraction, int final)
{
    char bar[BAR_WIDTH + 1];
    int fill;

    if (fraction < 0)
        fraction = 0;
    if (fraction > 1)
        fraction = 1;
    fill = (int)(fraction * BAR_WIDTH);
    memset(bar, '=', (size_t)fill);
    memset(bar + fill, ' ', (size_t)(BAR_WIDTH - fill));
    bar[BAR_WIDTH] = '\0';
    fprintf(f, "\r[%s]  %3d%%%s", bar, (int)(fraction * 100), final ? "\n" : "");
    fflush(f);
}

/*
 * How far a run has gone, from 0 to 1: the share of the planned runs that
 * ended for a hits run, the share of the planned cycles' time for a
 * duration run.  The progress bar, the progress lines and the dashboard
 * all show this one figure.
 */
double tui_run_fraction(const struct shm_header *h, uint64_t runs)
{
    int64_t end = __atomic_load_n(&h->ended_mono_us, __ATOMIC_RELAXED);
    double f = 0;

    if (h->planned_runs) {
        f = (double)runs / (double)h->planned_runs;
    } else if (h->duration_us && h->ncycles && h->cycle_started_mono_us) {
        double in_cycle = (double)((end ? end : shm_mono_us()) - h->cycle_started_mono_us) /
                          (double)h->duration_us;

        f = (h->cycle + (in_cycle < 1 ? in_cycle : 1)) / h->ncycles;
    }
    return f < 0 ? 0 : f > 1 ? 1 : f;
}

/* A number of seconds as m:ss, or h:mm:ss from an hour on. */
void tui_format_clock(char *out, size_t len, double seconds)
{
    long s = seconds > 0 ? (long)seconds : 0;

    if (s >= 3600)
        snprintf(out, len, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    else
        snprintf(out, len, "%ld:%02ld", s / 60, s % 60);
}

/*
 * One plain line of progress, for a terminal on stderr while stdout goes
 * elsewhere: no cursor tricks, so that a log of it reads well.
 */
void tui_progress_line(FILE *f, const struct shm_header *h, const struct shm_stats *st)
{
    char elapsed[32], total[32];
    double frac = tui_run_fraction(h, st->c.runs);

    tui_format_clock(elapsed, sizeof(elapsed), st->elapsed);
    if (h->planned_runs)
        fprintf(f, "loads: %s  runs %llu/%llu", elapsed, (unsigned long long)st->c.runs,
                (unsigned long long)h->planned_runs);
    else {
        tui_format_clock(total, sizeof(total),
                         (double)h->duration_us * h->ncycles / 1e6);
        fprintf(f, "loads: %s / %s", elapsed, total);
    }
    fprintf(f, "  %3d%%  cycle %u/%u  users %llu  hits %llu (%d/s)  success %llu  "
               "failures %llu  errors %llu\n",
            (int)(frac * 100), h->cycle + 1, h->ncycles,
            (unsigned long long)st->c.users_active, (unsigned long long)st->c.hits,
            (int)tui_rps(st), (unsigned long long)st->c.successes,
            (unsigned long long)st->c.failures, (unsigned long long)st->c.errors);
    if (h->rate_stages)
        fprintf(f, "loads: %s  runs started %llu of %llu scheduled  dropped %llu\n", elapsed,
                (unsigned long long)st->c.runs_started, (unsigned long long)h->scheduled_runs,
                (unsigned long long)st->c.dropped);
    fflush(f);
}

/* "2026-11-25 08:13:17.802290", local time, as the original printed it. */
static void format_started(char *out, size_t len, int64_t us)
{
    time_t secs = (time_t)(us / 1000000);
    struct tm tm;
    char day[32];

    localtime_r(&secs, &tm);
    strftime(day, sizeof(day), "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(out, len, "%s.%06d", day, (int)(us % 1000000));
}

/* Hits per second on average since the start: the summary's and the dashboard's. */
double tui_rps(const struct shm_stats *st)
{
    return st->elapsed > 0 ? (double)st->c.hits / st->elapsed : 0;
}

/* Milliseconds with a precision that suits their size. */
void tui_format_ms(char *out, size_t len, uint64_t us)
{
    double ms = (double)us / 1000.0;

    if (ms < 10)
        snprintf(out, len, "%.2f ms", ms);
    else if (ms < 1000)
        snprintf(out, len, "%.1f ms", ms);
    else
        snprintf(out, len, "%.2f s", ms / 1000.0);
}

/* Seconds for a sentence: "2.1", "30" (no ".0"). */
static void format_seconds(char *out, size_t len, double s)
{
    snprintf(out, len, "%.1f", s);
    if (strlen(out) > 2 && strcmp(out + strlen(out) - 2, ".0") == 0)
        out[strlen(out) - 2] = '\0';
}

/* "SIGTERM", or "q in the dashboard": what stopped the run. */
static void stop_cause_name(char *out, size_t len, const struct shm_header *h)
{
    const char *abbrev = h->stop_cause == SHM_STOP_SIGNAL ? sigabbrev_np(h->stop_signal) : NULL;

    if (h->stop_cause == SHM_STOP_KEY)
        snprintf(out, len, "q in the dashboard");
    else if (abbrev)
        snprintf(out, len, "SIG%s", abbrev);
    else
        snprintf(out, len, "signal %d", h->stop_signal);
}

int tui_stop_text(char *out, size_t len, const struct shm_header *h,
                  const struct shm_stats *st)
{
    char by[64], after[32], of[32];

    if (h->stop_cause == SHM_STOP_NONE)
        return 0;
    stop_cause_name(by, sizeof(by), h);
    format_seconds(after, sizeof(after), (double)(h->stop_mono_us - h->started_mono_us) / 1e6);
    if (h->planned_runs) {
        snprintf(out, len, "Stopped by %s after %s s: %llu of %llu planned runs ended", by,
                 after, (unsigned long long)st->c.runs, (unsigned long long)h->planned_runs);
    } else {
        format_seconds(of, sizeof(of), (double)h->duration_us * h->ncycles / 1e6);
        snprintf(out, len, "Stopped by %s after %s s of %s s", by, after, of);
    }
    return 1;
}

static const struct shm_stats_url *slowest_url(const struct shm_stats *st)
{
    const struct shm_stats_url *slow = NULL;

    for (uint32_t i = 0; i < st->nurls; i++)
        if (st->urls[i].hits &&
            (!slow || hist_mean(&st->urls[i].response) > hist_mean(&slow->response)))
            slow = &st->urls[i];
    return slow;
}

/* "NAME: min 0.08 ms, p50 ..., max ..." of one histogram. */
static void print_times(FILE *f, const char *name, const struct hist *h)
{
    static const double pcts[] = {50, 90, 99, 99.9};
    static const char *const names[] = {"p50", "p90", "p99", "p99.9"};
    char v[32];

    tui_format_ms(v, sizeof(v), hist_min(h));
    fprintf(f, "%s: min %s", name, v);
    for (size_t i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++) {
        tui_format_ms(v, sizeof(v), hist_percentile(h, pcts[i]));
        fprintf(f, ", %s %s", names[i], v);
    }
    tui_format_ms(v, sizeof(v), hist_max(h));
    fprintf(f, ", max %s\n", v);
}

/*
 * Response times count from when a request would have been sent had its
 * run started on time, service times from when it was sent.  A closed
 * model has no schedule: the two are the same, and one line says so.
 */
static void print_latency(FILE *f, const struct shm_header *h, const struct shm_stats *st)
{
    if (!h->rate_stages) {
        print_times(f, "Response time", &st->response);
        return;
    }
    print_times(f, "Response time (from the scheduled start)", &st->response);
    print_times(f, "Service time (from the request sent)", &st->latency);
}

/* "10/s", "0.5/s", "0-100/s": a stage's rate in milli-runs per second. */
static void format_rate(char *out, size_t len, uint64_t from, uint64_t to)
{
    char a[32], b[32];

    snprintf(a, sizeof(a), "%llu.%03llu", (unsigned long long)(from / 1000),
             (unsigned long long)(from % 1000));
    snprintf(b, sizeof(b), "%llu.%03llu", (unsigned long long)(to / 1000),
             (unsigned long long)(to % 1000));
    for (char *p = a; p; p = p == a ? b : NULL) {
        size_t n = strlen(p);

        while (p[n - 1] == '0')
            p[--n] = '\0';
        if (p[n - 1] == '.')
            p[n - 1] = '\0';
    }
    if (from == to)
        snprintf(out, len, "%s/s", a);
    else
        snprintf(out, len, "%s-%s/s", a, b);
}

void tui_rate_text(char *out, size_t len, const struct shm_header *h)
{
    size_t n = 0;
    char r[80];

    out[0] = '\0';
    for (uint32_t k = 0; k < h->rate_stages && k < SHM_MAX_CYCLES && n + 1 < len; k++) {
        format_rate(r, sizeof(r), h->rate_from_mrps[k], h->rate_to_mrps[k]);
        n += (size_t)snprintf(out + n, len - n, "%s%s", k ? ", " : "", r);
    }
}

/*
 * Runs started per second over the schedule, up to a stop (not the grace
 * period after either: no run starts then).
 */
static double achieved_rate(const struct shm_header *h, const struct shm_stats *st)
{
    double secs = (double)h->duration_us / 1e6;

    if (st->elapsed < secs)
        secs = st->elapsed;
    if (h->stop_mono_us && (double)(h->stop_mono_us - h->started_mono_us) / 1e6 < secs)
        secs = (double)(h->stop_mono_us - h->started_mono_us) / 1e6;
    return secs > 0 ? (double)st->c.runs_started / secs : 0;
}

/* The open model's lines: the schedule, the runs it started and dropped. */
static void print_rate(FILE *f, const struct shm_header *h, const struct shm_stats *st)
{
    char rates[SHM_MAX_CYCLES * 48], each[32];

    tui_rate_text(rates, sizeof(rates), h);
    snprintf(each, sizeof(each), "%.1f", (double)h->rate_stage_us / 1e6);
    if (strcmp(each + strlen(each) - 2, ".0") == 0)
        each[strlen(each) - 2] = '\0';
    fprintf(f, "\nRate: %s, %s s%s (%llu runs scheduled", rates, each,
            h->rate_stages > 1 ? " each" : "", (unsigned long long)h->scheduled_runs);
    /* A stop before the schedule's end: what was due by then was started or dropped. */
    if (h->due_runs < h->scheduled_runs)
        fprintf(f, ", %llu due by the stop", (unsigned long long)h->due_runs);
    fputs(")\n", f);
    fprintf(f, "Runs started: %llu (%.1f/s)\n", (unsigned long long)st->c.runs_started,
            achieved_rate(h, st));
    fprintf(f, "Dropped: %llu", (unsigned long long)st->c.dropped);
    if (st->c.dropped)
        fprintf(f, " (no free user at their start time: the pool is at most %u users, "
                   "--max-users%s)", h->max_users,
                /* the runs due while a crashed worker was replaced had none */
                st->crashes ? "; or no worker, while a crashed one was replaced" : "");
    fputc('\n', f);
}

static void print_urls(FILE *f, const struct shm_stats *st)
{
    const struct shm_stats_url *slow = slowest_url(st);
    char mean[32], p50[32], p99[32];

    if (slow) {
        tui_format_ms(mean, sizeof(mean), (uint64_t)hist_mean(&slow->response));
        fprintf(f, "Slowest URL: %s (mean %s)\n", slow->key, mean);
    }
    fprintf(f, "\n%-48s %9s %8s %10s %10s %10s\n", "Request (name, or METHOD URL)", "Hits",
            "OK", "Mean", "p50", "p99");
    for (uint32_t i = 0; i < st->nurls; i++) {
        const struct shm_stats_url *u = &st->urls[i];
        uint64_t tries = u->hits + u->errors;

        tui_format_ms(mean, sizeof(mean), (uint64_t)hist_mean(&u->response));
        tui_format_ms(p50, sizeof(p50), hist_percentile(&u->response, 50));
        tui_format_ms(p99, sizeof(p99), hist_percentile(&u->response, 99));
        fprintf(f, "%-48.200s %9llu %7.1f%% %10s %10s %10s\n", u->key,
                (unsigned long long)u->hits,
                tries ? 100.0 * (double)u->ok / (double)tries : 0.0, mean, p50, p99);
    }
    fprintf(f, "OK: responses with an expected status (below 400 unless the request says "
               "which), of requests sent\n");
}

/* A trend's value as recorded: the histogram keeps thousandths. */
static double trend_value(uint64_t scaled)
{
    return (double)scaled / SHM_TREND_SCALE;
}

/* The outcomes of each test, when the plan has more than one. */
static void print_tests(FILE *f, const struct shm_stats *st)
{
    if (st->ntests < 2 && !st->tests_other)
        return;
    fprintf(f, "\n%-48s %9s %9s %9s %9s %11s\n", "Test", "Runs", "Success", "Failures",
            "Errors", "Interrupted");
    for (uint32_t i = 0; i < st->ntests; i++) {
        const struct shm_stats_test *t = &st->tests[i];

        fprintf(f, "%-48.96s %9llu %9llu %9llu %9llu %11llu\n", t->name,
                (unsigned long long)t->runs, (unsigned long long)t->successes,
                (unsigned long long)t->failures, (unsigned long long)t->errors,
                (unsigned long long)t->interrupted);
    }
    if (st->tests_other)
        fprintf(f, "%-48s %9llu\n", "(other tests)", (unsigned long long)st->tests_other);
    fprintf(f, "%-48s %9llu %9llu %9llu %9llu %11llu\n", "Total", (unsigned long long)st->c.runs,
            (unsigned long long)st->c.successes, (unsigned long long)st->c.failures,
            (unsigned long long)st->c.errors, (unsigned long long)st->c.interrupted);
}

/* Custom counters, checks, trends and gauges. */
static void print_metrics(FILE *f, const struct shm_stats *st)
{
    if (st->ncounters) {
        fprintf(f, "\nCustom counters:\n");
        for (uint32_t i = 0; i < st->ncounters; i++)
            fprintf(f, "  %s: %llu\n", st->counters[i].name,
                    (unsigned long long)st->counters[i].value);
    }
    if (st->nchecks) {
        fprintf(f, "\n%-48s %9s %9s %8s\n", "Check", "Passes", "Fails", "Rate");
        for (uint32_t i = 0; i < st->nchecks; i++) {
            const struct shm_stats_check *c = &st->checks[i];
            uint64_t all = c->passes + c->fails;

            fprintf(f, "%-48.64s %9llu %9llu %7.2f%%\n", c->name,
                    (unsigned long long)c->passes, (unsigned long long)c->fails,
                    all ? 100.0 * (double)c->passes / (double)all : 0.0);
        }
    }
    if (st->ntrends) {
        fprintf(f, "\n%-32s %9s %10s %10s %10s %10s %10s %10s\n", "Trend", "Count", "Mean",
                "Min", "p50", "p90", "p99", "Max");
        for (uint32_t i = 0; i < st->ntrends; i++) {
            const struct hist *h = &st->trends[i].values;

            fprintf(f, "%-32.64s %9llu %10.4g %10.4g %10.4g %10.4g %10.4g %10.4g\n",
                    st->trends[i].name, (unsigned long long)h->count,
                    hist_mean(h) / SHM_TREND_SCALE, trend_value(hist_min(h)),
                    trend_value(hist_percentile(h, 50)), trend_value(hist_percentile(h, 90)),
                    trend_value(hist_percentile(h, 99)), trend_value(hist_max(h)));
        }
    }
    if (st->ngauges) {
        fprintf(f, "\nGauges (last value):\n");
        for (uint32_t i = 0; i < st->ngauges; i++)
            fprintf(f, "  %s: %.10g\n", st->gauges[i].name, st->gauges[i].value);
    }
}

static void print_messages(FILE *f, const struct shm_stats *st, uint32_t kind,
                           const char *title)
{
    int any = 0;

    for (uint32_t i = 0; i < st->nmsgs; i++) {
        const struct shm_stats_msg *m = &st->msgs[i];

        if (m->kind != kind)
            continue;
        if (!any++)
            fprintf(f, "\n%s:\n", title);
        fprintf(f, "  %llu occurrence%s in %s:\n      %s\n", (unsigned long long)m->count,
                m->count == 1 ? "" : "s", m->test, m->text);
    }
}

void tui_summary_text(FILE *f, const struct shm_header *h, const struct shm_stats *st)
{
    char started[64], stopped[SHM_MSG_LEN];

    format_started(started, sizeof(started), h->started_us);
    fprintf(f, "\nHits: %llu\n", (unsigned long long)st->c.hits);
    fprintf(f, "Started: %s\n", started);
    fprintf(f, "Duration: %.2f seconds\n", st->elapsed);
    if (tui_stop_text(stopped, sizeof(stopped), h, st))
        fprintf(f, "%s\n", stopped);
    fprintf(f, "Approximate Average RPS: %d\n", (int)tui_rps(st));
    fprintf(f, "Average request time: %.2fs\n", hist_mean(&st->latency) / 1e6);
    fprintf(f, "Opened web sockets: %llu\n", (unsigned long long)st->c.ws_opened);
    fprintf(f, "Bytes received via web sockets : %llu\n",
            (unsigned long long)st->c.ws_bytes);
    fprintf(f, "\nSuccess: %llu\n", (unsigned long long)st->c.successes);
    fprintf(f, "Errors: %llu\n", (unsigned long long)st->c.errors);
    fprintf(f, "Failures: %llu\n", (unsigned long long)st->c.failures);
    if (st->c.interrupted)
        fprintf(f, "Interrupted: %llu (cut by the end of the run, not errors)\n",
                (unsigned long long)st->c.interrupted);
    if (h->rate_stages)
        print_rate(f, h, st);

    if (st->latency.count) {
        fputc('\n', f);
        print_latency(f, h, st);
    }
    if (st->nurls) {
        if (!st->latency.count)
            fputc('\n', f);
        print_urls(f, st);
    }
    print_tests(f, st);
    print_metrics(f, st);
    print_messages(f, st, SHM_CRASH, "Crashes");
    print_messages(f, st, SHM_FAILURE, "Failures");
    print_messages(f, st, SHM_ERROR, "Errors");
    print_messages(f, st, SHM_WARNING, "Warnings");
    if (st->msgs_other)
        fprintf(f, "\n%llu more messages were counted but not kept (too many distinct "
                   "messages).\n", (unsigned long long)st->msgs_other);
}

/* ----------------------------------------------------------------- JSON */

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c == '\t')
            fputs("\\t", f);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static double ms(uint64_t us)
{
    return (double)us / 1000.0;
}

static void json_latency(FILE *f, const struct hist *l)
{
    fprintf(f, "{\"count\": %llu, \"mean\": %.3f, \"min\": %.3f, \"p50\": %.3f, "
               "\"p90\": %.3f, \"p99\": %.3f, \"p99.9\": %.3f, \"max\": %.3f}",
            (unsigned long long)l->count, hist_mean(l) / 1000.0, ms(hist_min(l)),
            ms(hist_percentile(l, 50)), ms(hist_percentile(l, 90)),
            ms(hist_percentile(l, 99)), ms(hist_percentile(l, 99.9)), ms(hist_max(l)));
}

static void json_messages(FILE *f, const struct shm_stats *st, uint32_t kind)
{
    int n = 0;

    fputc('[', f);
    for (uint32_t i = 0; i < st->nmsgs; i++) {
        const struct shm_stats_msg *m = &st->msgs[i];

        if (m->kind != kind)
            continue;
        fprintf(f, "%s\n    {\"test\": ", n++ ? "," : "");
        json_string(f, m->test);
        fprintf(f, ", \"message\": ");
        json_string(f, m->text);
        fprintf(f, ", \"count\": %llu}", (unsigned long long)m->count);
    }
    fprintf(f, "%s]", n ? "\n  " : "");
}

/*
 * "stopped": null for a run that ran its plan; else what stopped it, when
 * (seconds from the start), the seconds planned (null for a hits plan,
 * whose planned_runs says it) and the summary's sentence.
 */
static void json_stopped(FILE *f, const struct shm_header *h, const struct shm_stats *st)
{
    char by[64], text[SHM_MSG_LEN];

    if (!tui_stop_text(text, sizeof(text), h, st)) {
        fprintf(f, "  \"stopped\": null,\n");
        return;
    }
    stop_cause_name(by, sizeof(by), h);
    fprintf(f, "  \"stopped\": {\"by\": ");
    json_string(f, h->stop_cause == SHM_STOP_KEY ? "q" : by);
    fprintf(f, ", \"signal\": %d, \"after\": %.3f, \"planned_duration\": ",
            h->stop_cause == SHM_STOP_KEY ? SIGINT : h->stop_signal,
            (double)(h->stop_mono_us - h->started_mono_us) / 1e6);
    if (h->planned_runs)
        fprintf(f, "null");
    else
        fprintf(f, "%.3f", (double)h->duration_us * h->ncycles / 1e6);
    fprintf(f, ", \"message\": ");
    json_string(f, text);
    fprintf(f, "},\n");
}

/*
 * "rate": null for the closed model; else its stages (runs per second at
 * each stage's start and end), their length, the pool, and the runs the
 * schedule made, those due by the stop (null where not known), started
 * and dropped.
 */
static void json_rate(FILE *f, const struct shm_header *h, const struct shm_stats *st)
{
    if (!h->rate_stages) {
        fprintf(f, "  \"rate\": null,\n");
        return;
    }
    fprintf(f, "  \"rate\": {\"stages\": [");
    for (uint32_t k = 0; k < h->rate_stages && k < SHM_MAX_CYCLES; k++)
        fprintf(f, "%s{\"from\": %.3f, \"to\": %.3f}", k ? ", " : "",
                (double)h->rate_from_mrps[k] / 1000, (double)h->rate_to_mrps[k] / 1000);
    fprintf(f, "], \"stage_duration\": %.6f, \"users\": %u, \"max_users\": %u, "
               "\"scheduled\": %llu, \"due\": ",
            (double)h->rate_stage_us / 1e6, h->pool_users, h->max_users,
            (unsigned long long)h->scheduled_runs);
    if (h->due_runs == SHM_DUE_UNKNOWN)
        fprintf(f, "null");
    else
        fprintf(f, "%llu", (unsigned long long)h->due_runs);
    fprintf(f, ", \"started\": %llu, \"dropped\": %llu, "
               "\"target_rate\": %.3f, \"achieved_rate\": %.3f},\n",
            (unsigned long long)st->c.runs_started, (unsigned long long)st->c.dropped,
            h->duration_us ? (double)h->scheduled_runs / ((double)h->duration_us / 1e6) : 0,
            achieved_rate(h, st));
}

void tui_summary_thresholds_text(FILE *f, const struct tui_checks *checks)
{
    uint32_t failed = 0;
    int width = 9;

    if (!checks || !checks->n)
        return;
    for (uint32_t i = 0; i < checks->n; i++) {
        int len = (int)strlen(checks->t[i].text);

        failed += !checks->r[i].pass;
        if (len > width)
            width = len < 48 ? len : 48;
    }
    if (failed)
        fprintf(f, "\nThresholds: %u of %u failed\n", failed, checks->n);
    else
        fprintf(f, "\nThresholds: all %u passed\n", checks->n);
    for (uint32_t i = 0; i < checks->n; i++) {
        char v[64];

        threshold_format(v, sizeof(v), &checks->t[i], &checks->r[i]);
        fprintf(f, "  %-6s  %-*s  measured %s\n", checks->r[i].pass ? "ok" : "FAILED", width,
                checks->t[i].text, v);
    }
}

/* "thresholds": [{"threshold": "p99<200ms", "measured": 1020.5, "unit": "ms", "pass": false}] */
static void json_thresholds(FILE *f, const struct tui_checks *checks)
{
    fprintf(f, "  \"thresholds\": [");
    for (uint32_t i = 0; checks && i < checks->n; i++) {
        const struct threshold *t = &checks->t[i];
        const struct threshold_result *r = &checks->r[i];
        const char *unit = t->metric <= THRESHOLD_MAX ? "ms"
                           : t->share                 ? "%"
                           : t->metric == THRESHOLD_RPS ? "/s"
                                                        : "";

        fprintf(f, "%s\n    {\"threshold\": ", i ? "," : "");
        json_string(f, t->text);
        if (r->measured)
            fprintf(f, ", \"measured\": %.3f", t->metric <= THRESHOLD_MAX ? r->value / 1000
                                                                           : r->value);
        else
            fprintf(f, ", \"measured\": null");
        fprintf(f, ", \"unit\": \"%s\", \"pass\": %s}", unit, r->pass ? "true" : "false");
    }
    fprintf(f, "%s],\n", checks && checks->n ? "\n  " : "");
}

void tui_summary_json(FILE *f, const struct shm_header *h, const struct shm_stats *st,
                      int exit_status, const struct tui_checks *checks)
{
    char started[64];

    format_started(started, sizeof(started), h->started_us);
    fprintf(f, "{\n  \"test\": ");
    json_string(f, h->test);
    fprintf(f, ",\n  \"server_url\": ");
    json_string(f, h->server_url);
    fprintf(f, ",\n  \"started\": \"%s\",\n", started);
    fprintf(f, "  \"duration\": %.6f,\n", st->elapsed);
    fprintf(f, "  \"hits\": %llu,\n", (unsigned long long)st->c.hits);
    fprintf(f, "  \"rps\": %.3f,\n", tui_rps(st));
    fprintf(f, "  \"average_request_time\": %.6f,\n", hist_mean(&st->latency) / 1e6);
    fprintf(f, "  \"opened_web_sockets\": %llu,\n", (unsigned long long)st->c.ws_opened);
    fprintf(f, "  \"bytes_received_via_web_sockets\": %llu,\n",
            (unsigned long long)st->c.ws_bytes);
    fprintf(f, "  \"success\": %llu,\n", (unsigned long long)st->c.successes);
    fprintf(f, "  \"errors\": %llu,\n", (unsigned long long)st->c.errors);
    fprintf(f, "  \"failures\": %llu,\n", (unsigned long long)st->c.failures);
    fprintf(f, "  \"interrupted\": %llu,\n", (unsigned long long)st->c.interrupted);
    fprintf(f, "  \"runs\": %llu,\n", (unsigned long long)st->c.runs);
    fprintf(f, "  \"planned_runs\": %llu,\n", (unsigned long long)h->planned_runs);
    fprintf(f, "  \"bytes_received\": %llu,\n", (unsigned long long)st->c.bytes);
    fprintf(f, "  \"crashes\": %u,\n", st->crashes);
    fprintf(f, "  \"dropped\": %llu,\n", (unsigned long long)st->c.dropped);
    json_rate(f, h, st);
    fprintf(f, "  \"latency_ms\": ");
    json_latency(f, &st->latency);
    fprintf(f, ",\n  \"response_time_ms\": ");
    json_latency(f, &st->response);
    fprintf(f, ",\n  \"urls\": [");
    for (uint32_t i = 0; i < st->nurls; i++) {
        const struct shm_stats_url *u = &st->urls[i];

        fprintf(f, "%s\n    {\"url\": ", i ? "," : "");
        json_string(f, u->key);
        fprintf(f, ", \"hits\": %llu, \"ok\": %llu, \"errors\": %llu, \"latency_ms\": ",
                (unsigned long long)u->hits, (unsigned long long)u->ok,
                (unsigned long long)u->errors);
        json_latency(f, &u->latency);
        fprintf(f, ", \"response_time_ms\": ");
        json_latency(f, &u->response);
        fputc('}', f);
    }
    fprintf(f, "%s],\n  \"counters\": {", st->nurls ? "\n  " : "");
    for (uint32_t i = 0; i < st->ncounters; i++) {
        fprintf(f, "%s", i ? ", " : "");
        json_string(f, st->counters[i].name);
        fprintf(f, ": %llu", (unsigned long long)st->counters[i].value);
    }
    fprintf(f, "},\n  \"checks\": [");
    for (uint32_t i = 0; i < st->nchecks; i++) {
        const struct shm_stats_check *c = &st->checks[i];
        uint64_t all = c->passes + c->fails;

        fprintf(f, "%s\n    {\"name\": ", i ? "," : "");
        json_string(f, c->name);
        fprintf(f, ", \"passes\": %llu, \"fails\": %llu, \"rate\": %.6f}",
                (unsigned long long)c->passes, (unsigned long long)c->fails,
                all ? (double)c->passes / (double)all : 0.0);
    }
    fprintf(f, "%s],\n  \"trends\": {", st->nchecks ? "\n  " : "");
    for (uint32_t i = 0; i < st->ntrends; i++) {
        const struct hist *v = &st->trends[i].values;

        fprintf(f, "%s\n    ", i ? "," : "");
        json_string(f, st->trends[i].name);
        fprintf(f, ": {\"count\": %llu, \"mean\": %.17g, \"min\": %.17g, \"p50\": %.17g, "
                   "\"p90\": %.17g, \"p99\": %.17g, \"p99.9\": %.17g, \"max\": %.17g}",
                (unsigned long long)v->count, hist_mean(v) / SHM_TREND_SCALE,
                trend_value(hist_min(v)), trend_value(hist_percentile(v, 50)),
                trend_value(hist_percentile(v, 90)), trend_value(hist_percentile(v, 99)),
                trend_value(hist_percentile(v, 99.9)), trend_value(hist_max(v)));
    }
    fprintf(f, "%s},\n  \"gauges\": {", st->ntrends ? "\n  " : "");
    for (uint32_t i = 0; i < st->ngauges; i++) {
        fprintf(f, "%s", i ? ", " : "");
        json_string(f, st->gauges[i].name);
        if (isfinite(st->gauges[i].value))
            fprintf(f, ": %.17g", st->gauges[i].value);
        else
            fprintf(f, ": null");
    }
    fprintf(f, "},\n  \"tests\": [");
    for (uint32_t i = 0; i < st->ntests; i++) {
        const struct shm_stats_test *t = &st->tests[i];

        fprintf(f, "%s\n    {\"test\": ", i ? "," : "");
        json_string(f, t->name);
        fprintf(f, ", \"runs\": %llu, \"success\": %llu, \"failures\": %llu, "
                   "\"errors\": %llu, \"interrupted\": %llu}",
                (unsigned long long)t->runs, (unsigned long long)t->successes,
                (unsigned long long)t->failures, (unsigned long long)t->errors,
                (unsigned long long)t->interrupted);
    }
    fprintf(f, "%s],\n  \"tests_other\": %llu", st->ntests ? "\n  " : "",
            (unsigned long long)st->tests_other);
    fprintf(f, ",\n  \"failure_messages\": ");
    json_messages(f, st, SHM_FAILURE);
    fprintf(f, ",\n  \"error_messages\": ");
    json_messages(f, st, SHM_ERROR);
    fprintf(f, ",\n  \"crash_messages\": ");
    json_messages(f, st, SHM_CRASH);
    fprintf(f, ",\n  \"warning_messages\": ");
    json_messages(f, st, SHM_WARNING);
    fprintf(f, ",\n  \"messages_not_kept\": %llu,\n", (unsigned long long)st->msgs_other);
    json_stopped(f, h, st);
    json_thresholds(f, checks);
    fprintf(f, "  \"exit_status\": %d\n}\n", exit_status);
}

/* ------------------------------------------------------------- cluster */

void tui_summary_agents_text(FILE *f, const struct tui_agent *a, uint32_t n)
{
    uint32_t lost = 0;

    for (uint32_t i = 0; i < n; i++)
        lost += a[i].lost;
    fprintf(f, "\nAgents: %u (%u lost)\n", n, lost);
    fprintf(f, "  %-40s %-10s %10s %10s %9s %9s\n", "Agent", "State", "Hits", "Runs",
            "Failures", "Errors");
    for (uint32_t i = 0; i < n; i++)
        fprintf(f, "  %-40.96s %-10s %10llu %10llu %9llu %9llu\n", a[i].name, a[i].state,
                (unsigned long long)a[i].hits, (unsigned long long)a[i].runs,
                (unsigned long long)a[i].failures, (unsigned long long)a[i].errors);
    for (uint32_t i = 0; i < n; i++)
        if (a[i].lost)
            fprintf(f, "agent %s lost at %.1f s\n", a[i].name, a[i].lost_at);
}

void tui_summary_json_agents(FILE *f, const struct shm_header *h, const struct shm_stats *st,
                             int exit_status, const struct tui_checks *checks,
                             const struct tui_agent *a, uint32_t n)
{
    char *doc = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&doc, &len);

    if (!mem) {
        tui_summary_json(f, h, st, exit_status, checks);
        return;
    }
    /* The local document, then the agents before its closing brace. */
    tui_summary_json(mem, h, st, exit_status, checks);
    fclose(mem);
    while (len && (doc[len - 1] == '\n' || doc[len - 1] == '}'))
        len--;
    fwrite(doc, 1, len, f);
    free(doc);
    fprintf(f, ",\n  \"agents\": [");
    for (uint32_t i = 0; i < n; i++) {
        fprintf(f, "%s\n    {\"agent\": ", i ? "," : "");
        json_string(f, a[i].name);
        fprintf(f, ", \"state\": ");
        json_string(f, a[i].state);
        if (a[i].lost)
            fprintf(f, ", \"lost_at\": %.3f", a[i].lost_at);
        else
            fprintf(f, ", \"lost_at\": null");
        fprintf(f, ", \"exit_status\": %lld, \"hits\": %llu, \"runs\": %llu, "
                   "\"failures\": %llu, \"errors\": %llu}",
                (long long)a[i].status, (unsigned long long)a[i].hits,
                (unsigned long long)a[i].runs, (unsigned long long)a[i].failures,
                (unsigned long long)a[i].errors);
    }
    fprintf(f, "%s]\n}\n", n ? "\n  " : "");
}
