/*
 * The supervisor: creates the segment, forks the workers of each cycle,
 * watches them, turns signals into a graceful stop, enforces the end of
 * the grace period, and prints the summary.
 *
 * Cycles run one after another: the workers of a cycle are forked when the
 * previous cycle's have all ended, each with its share of the cycle's
 * users, and write into the same slots, so the counts add up.
 *
 * A worker ends its own runs at the end of the grace period, but only when
 * its loop turns: test code that never returns to Loads (a busy loop,
 * sleep(3), a blocking read) holds the loop, and with it every VU of the
 * worker.  The supervisor watches each worker's heartbeat (shm.h): a test
 * holding the loop for more than HOLD_WARN_US is warned about once; once
 * the grace period is over, a worker held that long is killed, and any
 * worker still alive END_MARGIN_US later is killed too.  Their runs in
 * progress become Errors that say why.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/sigecho.h"
#include "runner/runner.h"
#include "tui/tui.h"

#define POLL_MS       100
#define RUNNER_MAPS_SPARE 1000    /* maps of a worker besides its users' stacks */
#define DASH_POLL_MS  50          /* keys and frames of the dashboard */
#define PLAIN_EVERY   5000000     /* us between plain progress lines */
#define HOLD_WARN_US  1000000     /* test code holding a loop this long: a warning */
#define END_MARGIN_US 5000000     /* a worker alive this long past the grace: killed */

/* The signals that stop a run: the first one is the stop's cause. */
static const int stop_signal_list[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

static volatile sig_atomic_t stop_signals;   /* stop signals received */
static volatile sig_atomic_t first_signal;   /* the first one's number */
static struct sig_last last_signal;          /* to tell an echo (base/sigecho.h) */

static void on_stop_signal(int sig, siginfo_t *si, void *uc)
{
    if (sig_is_echo(&last_signal, sig, si))
        return;
    if (!stop_signals)
        first_signal = sig;
    stop_signals++;
}

/*
 * SIGINT, SIGTERM, SIGHUP (a closed terminal, a dropped ssh) and SIGQUIT
 * all stop the run the same way: gracefully, with a summary and the
 * segment removed.  SIGCHLD is blocked and waited for in wait_cycle.
 */
static void install_signals(void)
{
    struct sigaction sa;
    sigset_t chld;

    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_stop_signal;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof(stop_signal_list) / sizeof(stop_signal_list[0]); i++)
        sigaddset(&sa.sa_mask, stop_signal_list[i]);
    for (size_t i = 0; i < sizeof(stop_signal_list) / sizeof(stop_signal_list[0]); i++)
        sigaction(stop_signal_list[i], &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
}

/*
 * Each VU keeps a connection open, so a worker needs a descriptor per VU:
 * raise the soft limit to the hard one, as far as the system allows.
 */
static void raise_fd_limit(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

#define CRASH_LOOP 3   /* crashes in a row without a run ended: give up */

/* What the supervisor remembers of a slot within the current cycle. */
struct slot_plan {
    uint64_t planned;             /* runs the slot owes this cycle; 0 for durations */
    uint64_t runs_at_cycle;       /* its runs counter when the cycle began */
    uint64_t runs_at_spawn;       /* its runs counter when its worker was forked */
    uint32_t streak;              /* crashes in a row that ended no run */
    /* The heartbeat of its worker, as last seen (shm.h). */
    uint64_t beat;                /* the slot's beat */
    uint32_t held_by;             /* its running: 1 + test index, 0 none */
    int64_t held_since_us;        /* when this (beat, held_by) was first seen */
    int warned;                   /* the hold was reported for this worker */
    /* Set when the supervisor kills the worker after the grace period. */
    int killed;                   /* it did */
    uint32_t kill_held_by;        /* the test holding the loop then (as held_by) */
    double kill_hold_s;           /* for how long it had held it */
    double kill_late_s;           /* seconds past the end of the grace period */
};

struct supervisor {
    const struct runner_opts *opts;
    const struct runner_tests *tests;
    const struct csv *data;       /* --data, NULL when none */
    uint32_t stripe, stripes;     /* this machine's share of its rows */
    struct arrival arrival;       /* the --rate schedule (nrates > 0) */
    struct shm shm;
    struct worker_plan plans[SHM_MAX_WORKERS];
    struct slot_plan slots[SHM_MAX_WORKERS];
    uint32_t nslots;
    uint32_t alive;               /* workers of the current cycle still running */
    int progress;                 /* draw a progress bar on stderr */
    int plain;                    /* print progress lines on stderr */
    int64_t plain_next_us;        /* CLOCK_MONOTONIC of the next line */
    struct tui_dash *dash;        /* the dashboard, NULL when off */
    int worker_log;               /* memfd for workers' output under it, or -1 */
    int killed;                   /* workers were killed by a second signal */
    int gave_up;                  /* a crash loop stopped the run */
    int quit_keys;                /* q pressed in the dashboard */
    int64_t once_started_us;      /* while setUpOnce or tearDownOnce runs: its start */
    /* The values setUpOnce stored, for every VU (their text in one block). */
    char *values;
    const char **value_names, **value_texts;
    uint32_t nvalues;
};

/*
 * Asks every worker to start no new run; the first call records when, for
 * the end of the grace period, and why, for the summary and the exit
 * status.  A stop that comes once a duration plan has run its time (in
 * the last grace period) does not make the run a stopped one; for a hits
 * plan, that is decided at the end by the runs that ended.
 */
static void request_stop(struct supervisor *sv, enum shm_stop cause, int sig)
{
    struct shm_header *h = sv->shm.hdr;
    int64_t now;

    /*
     * The flag first, then the clock: a worker that reads the clock and
     * then sees no flag has a time before the stop's, so the runs of an
     * open model that it starts were all due by the stop (worker.c,
     * stop_at); one that sees the flag waits for the time.
     */
    __atomic_store_n(&h->stop, 1, __ATOMIC_SEQ_CST);
    now = shm_mono_us();
    if (!h->stop_mono_us) {
        int ran_its_time = h->duration_us && h->cycle + 1 >= h->ncycles &&
                           h->cycle_started_mono_us &&
                           now >= h->cycle_started_mono_us + (int64_t)h->duration_us;

        if (cause != SHM_STOP_NONE && !ran_its_time) {
            h->stop_signal = sig;
            h->stop_cause = cause;
        }
        __atomic_store_n(&h->stop_mono_us, now, __ATOMIC_RELEASE);
    }
}

/*
 * Records a worker that died on a signal or exited abnormally: the runs
 * it had started and not ended become Errors, so that every run is
 * accounted for, and the crash is counted with its reason.  The worker is
 * dead, so the supervisor may write its slot now.
 */
static void record_crash(struct supervisor *sv, struct shm_slot *slot, int status)
{
    uint64_t in_flight = shm_load(&slot->c.runs_started) - shm_load(&slot->c.runs);
    char text[SHM_MSG_LEN];

    if (WIFSIGNALED(status)) {
        slot->last_signal = WTERMSIG(status);
        snprintf(text, sizeof(text), "worker %d killed by signal %d (%s)%s", slot->pid,
                 WTERMSIG(status), strsignal(WTERMSIG(status)),
                 sv->killed ? " at a second stop signal" : "");
    } else {
        snprintf(text, sizeof(text), "worker %d exited with status %d before the end of "
                 "its runs (exit() in test code?)", slot->pid, WEXITSTATUS(status));
    }
    slot->crashes++;
    shm_add(&slot->c.errors, in_flight);
    shm_add(&slot->c.runs, in_flight);
    shm_store(&slot->c.users_active, 0);
    shm_msg_count(slot, SHM_CRASH, sv->opts->test, text);
    __atomic_store_n(&slot->state, SHM_WORKER_CRASHED, __ATOMIC_RELAXED);
}

/* The name of test 1 + idx of the plan, or the run's test when there is none. */
static const char *test_name(const struct supervisor *sv, uint32_t idx1)
{
    if (idx1 && idx1 <= sv->tests->ntests)
        return sv->tests->tests[idx1 - 1].name;
    if (sv->tests->ntests == 1)
        return sv->tests->tests[0].name;
    return sv->opts->test;
}

/*
 * Records a worker the supervisor killed after the grace period: not a
 * crash of the worker but the end of the run enforced.  Its runs in
 * progress become Errors that say why: the one whose code held the loop,
 * and those the hold kept waiting.  The worker is dead: its slot is ours.
 */
static void record_kill(struct supervisor *sv, struct shm_slot *slot,
                        const struct slot_plan *sp)
{
    uint64_t in_flight = shm_load(&slot->c.runs_started) - shm_load(&slot->c.runs);
    const char *others = test_name(sv, 0);
    char text[SHM_MSG_LEN];

    shm_add(&slot->c.errors, in_flight);
    shm_add(&slot->c.runs, in_flight);
    shm_store(&slot->c.users_active, 0);
    if (sp->kill_held_by && in_flight) {
        const char *holder = test_name(sv, sp->kill_held_by);

        snprintf(text, sizeof(text), "test code did not return to Loads for %.1f s: "
                 "a busy loop or a blocking call?", sp->kill_hold_s);
        shm_msg_add(slot, SHM_ERROR, holder, text, 1);
        in_flight--;
        snprintf(text, sizeof(text), "stopped after the grace period: test code of "
                 "another VU (%s) held the worker", holder);
    } else {
        snprintf(text, sizeof(text), "stopped after the grace period: the worker had not "
                 "ended %.1f s after it and was killed", sp->kill_late_s);
    }
    if (in_flight) {
        shm_msg_add(slot, SHM_ERROR, others, text, in_flight);
    }
    __atomic_store_n(&slot->state, SHM_WORKER_KILLED, __ATOMIC_RELAXED);
}

static int spawn_worker(struct supervisor *sv, uint32_t i, char *err, size_t errlen);

/*
 * Replaces a crashed worker so that the run goes on: in a hits run, the
 * replacement runs what the slot still owes (its predecessor's runs in
 * progress were counted as Errors), so that every planned run is
 * accounted for; in a duration run it runs until the same deadline.  A
 * worker that keeps crashing before it ends any run stops the whole run
 * instead of spinning.
 */
static void replace_worker(struct supervisor *sv, uint32_t i, uint64_t ended)
{
    struct shm_slot *slot = shm_slot(&sv->shm, i);
    struct slot_plan *sp = &sv->slots[i];
    struct worker_plan *p = &sv->plans[i];
    uint64_t runs = shm_load(&slot->c.runs);
    char err[256], text[SHM_MSG_LEN];

    if (ended > sp->runs_at_spawn)
        sp->streak = 0;
    if (++sp->streak >= CRASH_LOOP) {
        snprintf(text, sizeof(text), "stopping the run: a worker crashed %u times in a "
                 "row before ending any test run", sp->streak);
        shm_msg_count(slot, SHM_CRASH, sv->opts->test, text);
        sv->gave_up = 1;
        request_stop(sv, SHM_STOP_NONE, 0);
        return;
    }
    if (sp->planned) {
        uint64_t done = runs - sp->runs_at_cycle;

        if (done >= sp->planned)
            return;
        p->total_runs = sp->planned - done;
        if (p->users > p->total_runs)
            p->users = (uint32_t)p->total_runs;
    } else if (shm_mono_us() >= p->deadline_mono_us) {
        return;
    }
    p->resume = 1; /* an open model's worker goes on where this one was */
    if (spawn_worker(sv, i, err, sizeof(err)) < 0)
        request_stop(sv, SHM_STOP_NONE, 0);
}

/*
 * The open model's count at the end, once the workers have ended: the runs
 * of this machine's stripe due by a stop that came before the schedule's
 * end (shm.h: due_runs; none when it came before the schedule began).  A
 * worker starts or drops every run of its slot's stripe due by the stop,
 * and no later one; a slot whose last worker died (killed after the grace
 * period, or not replaced after a crash near the end) left some of its
 * runs due neither started nor dropped: they are dropped now, as those due
 * while a crashed worker is replaced are, so that every run due is
 * accounted for.  The workers are gone: their slots may be written.
 */
static void count_due(struct supervisor *sv)
{
    const struct runner_opts *o = sv->opts;
    struct shm_header *h = sv->shm.hdr;
    int64_t stop = h->stop_mono_us, start = h->cycle_started_mono_us;
    uint64_t stride = o->rate_stride ? o->rate_stride : 1, due = arrival_total(&sv->arrival);

    if (!o->nrates)
        return;
    if (stop)
        due = start && stop >= start ? arrival_due(&sv->arrival, (uint64_t)(stop - start)) : 0;
    h->due_runs = arrival_stripe_count(due, o->rate_offset, stride);
    for (uint32_t i = 0; start && i < sv->nslots; i++) {
        struct shm_slot *slot = shm_slot(&sv->shm, i);
        uint64_t off = o->rate_offset + stride * i, st = stride * sv->nslots;
        uint64_t owed = arrival_stripe_count(due, off, st);
        uint64_t done = arrival_stripe_count(shm_load(&slot->rate_next), off, st);

        if (owed > done)
            shm_add(&slot->c.dropped, owed - done);
    }
}

/* Reaps every worker that has ended, without blocking, and replaces crashed ones. */
static void reap(struct supervisor *sv)
{
    int status;
    pid_t pid;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (uint32_t i = 0; i < sv->nslots; i++) {
            struct shm_slot *slot = shm_slot(&sv->shm, i);
            uint32_t state = __atomic_load_n(&slot->state, __ATOMIC_ACQUIRE);
            uint64_t ended = shm_load(&slot->c.runs); /* by the worker itself */

            if (slot->pid != pid)
                continue;
            sv->alive--;

            if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && state == SHM_WORKER_DONE)
                break;
            if (sv->slots[i].killed) {
                record_kill(sv, slot, &sv->slots[i]);
                break;
            }
            record_crash(sv, slot, status);
            if (!sv->shm.hdr->stop)
                replace_worker(sv, i, ended);
            break;
        }
    }
}

/* The runs ended so far, in every slot. */
static uint64_t progress_runs(struct supervisor *sv)
{
    uint64_t runs = 0;

    for (uint32_t i = 0; i < sv->nslots; i++)
        runs += shm_load(&shm_slot(&sv->shm, i)->c.runs);
    return runs;
}

/* How far the run is, for the progress bar, from the runs ended so far. */
static double progress_fraction(struct supervisor *sv)
{
    return tui_run_fraction(sv->shm.hdr, progress_runs(sv));
}

/*
 * A plain progress line on stderr every PLAIN_EVERY from the start, and a
 * last one at the end, for a terminal on stderr while stdout goes to a file.
 */
static void plain_progress(struct supervisor *sv, int final)
{
    struct shm_stats st;
    int64_t now = shm_mono_us();

    if (!sv->plain_next_us)
        sv->plain_next_us = now + PLAIN_EVERY;
    if (!final && now < sv->plain_next_us)
        return;
    sv->plain_next_us = now + PLAIN_EVERY;
    if (shm_stats_collect(&st, &sv->shm) < 0)
        return;
    tui_progress_line(stderr, sv->shm.hdr, &st);
    shm_stats_free(&st);
}

/*
 * Opens the dashboard when wanted and possible.  Under it the workers'
 * stdout and stderr (test code may print, LOADS_DEBUG does) go to a
 * memory file instead of the screen, shown on stderr once it closes.
 */
static void open_dashboard(struct supervisor *sv)
{
    if (!runner_wants_dashboard(sv->opts))
        return;
    sv->dash = tui_dash_open(&sv->shm, 0);
    if (!sv->dash)
        return;
    sv->worker_log = memfd_create("loads-worker-output", MFD_CLOEXEC);
    if (sv->worker_log < 0)
        sv->worker_log = open("/dev/null", O_WRONLY | O_CLOEXEC);
}

/* Gives the terminal back, then shows what the workers printed meanwhile. */
static void close_dashboard(struct supervisor *sv)
{
    char buf[65536];
    off_t off = 0;
    ssize_t n;

    if (!sv->dash)
        return;
    tui_dash_close(sv->dash);
    sv->dash = NULL;
    if (sv->worker_log < 0)
        return;
    while ((n = pread(sv->worker_log, buf, sizeof(buf), off)) > 0) {
        if (fwrite(buf, 1, (size_t)n, stderr) != (size_t)n)
            break;
        off += n;
    }
    fflush(stderr);
    close(sv->worker_log);
    sv->worker_log = -1;
}

/*
 * Asks the workers to stop: on the first signal (or q) they start no new
 * run and let running ones finish within the grace period; on the second
 * they are killed at once.
 */
static void handle_stop(struct supervisor *sv, int *seen)
{
    struct shm_header *h = sv->shm.hdr;
    int signals = stop_signals, stops = signals + sv->quit_keys;

    if (stops == *seen)
        return;
    if (*seen == 0)
        request_stop(sv, signals ? SHM_STOP_SIGNAL : SHM_STOP_KEY, signals ? first_signal : 0);
    *seen = stops;
    __atomic_store_n(&h->state, SHM_RUN_STOPPING, __ATOMIC_RELAXED);
    if (*seen >= 2 && !sv->killed) {
        sv->killed = 1;
        for (uint32_t i = 0; i < sv->nslots; i++) {
            struct shm_slot *slot = shm_slot(&sv->shm, i);

            if (slot->state == SHM_WORKER_RUNNING)
                kill(slot->pid, SIGKILL);
        }
    }
}

/* Forks the worker of slot i with the plan in sv->plans[i]. */
static int spawn_worker(struct supervisor *sv, uint32_t i, char *err, size_t errlen)
{
    struct shm_slot *slot = shm_slot(&sv->shm, i);
    pid_t pid;

    sv->slots[i].runs_at_spawn = shm_load(&slot->c.runs);
    sv->slots[i].beat = shm_load(&slot->beat);
    sv->slots[i].held_by = 0;
    sv->slots[i].held_since_us = 0;
    sv->slots[i].warned = 0;
    sv->slots[i].killed = 0;
    /* Before the fork: a quick worker may be done before fork returns here. */
    slot->users = sv->plans[i].users;
    __atomic_store_n(&slot->state, SHM_WORKER_RUNNING, __ATOMIC_RELEASE);
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "cannot start a worker: %s", strerror(errno));
        __atomic_store_n(&slot->state, SHM_WORKER_IDLE, __ATOMIC_RELEASE);
        return -errno;
    }
    if (pid == 0) {
        /*
         * Test code may print.  Under the dashboard its output is kept and
         * shown after; with --output json, stdout carries the JSON alone,
         * so what the workers print goes to stderr.
         */
        if (sv->worker_log >= 0) {
            dup2(sv->worker_log, STDOUT_FILENO);
            dup2(sv->worker_log, STDERR_FILENO);
        } else if (sv->opts->output == RUNNER_JSON) {
            dup2(STDERR_FILENO, STDOUT_FILENO);
        }
        /* A hangup or Ctrl-\ reaches the whole group: the supervisor decides. */
        signal(SIGHUP, SIG_IGN);
        signal(SIGQUIT, SIG_IGN);
        worker_main(&sv->plans[i]);
    }
    slot->pid = pid;
    sv->alive++;
    return 0;
}

/* Forks the workers of cycle k, each with its share of the cycle's users. */
static int start_cycle(struct supervisor *sv, uint32_t k, char *err, size_t errlen)
{
    const struct runner_opts *o = sv->opts;
    struct shm_header *h = sv->shm.hdr;
    uint32_t users = o->users[k];
    uint32_t n = users < sv->nslots ? users : sv->nslots;
    uint64_t hits = 0, length = o->duration_us;
    uint32_t first = 0;
    int64_t now = shm_mono_us();

    if (o->nrates) {
        /* The open model: the pools share --max-users; each worker a stripe. */
        n = sv->nslots;
        length = arrival_length_us(&sv->arrival);
    }
    for (uint32_t j = 0; j < o->nhits; j++)
        hits += o->hits[j];
    h->cycle = k;
    h->cycle_started_mono_us = now;
    for (uint32_t i = 0; i < n; i++) {
        struct worker_plan *p = &sv->plans[i];
        struct slot_plan *sp = &sv->slots[i];

        memset(p, 0, sizeof(*p));
        p->shm = &sv->shm;
        p->slot = i;
        p->tests = sv->tests->tests;
        p->ntests = sv->tests->ntests;
        p->schedule = sv->tests->schedule;
        p->nschedule = sv->tests->nschedule;
        p->first_user = first;
        p->users = users / n + (i < users % n);
        p->hits = o->hits;
        p->nhits = o->duration_us ? 0 : o->nhits;
        p->deadline_mono_us = now + (int64_t)length;
        if (o->nrates) {
            p->arrival = &sv->arrival;
            p->max_users = o->max_users / n + (i < o->max_users % n);
            p->rate_offset = o->rate_offset + (uint64_t)o->rate_stride * i;
            p->rate_stride = (uint64_t)o->rate_stride * n;
            p->start_mono_us = now;
        }
        p->ramp_up = o->ramp_up;
        p->timeout = o->timeout;
        p->grace = o->grace;
        p->max_body = o->max_body;
        p->ws_max_message = o->ws_max_message;
        p->insecure = o->insecure;
        p->server_url = o->server_url;
        p->data = sv->data;
        p->data_name = o->data_file;
        p->data_per_vu = o->data_per_vu;
        p->data_stripe = sv->stripe;
        p->data_stripes = sv->stripes;
        p->env = (const char *const *)o->env;
        p->nenv = o->nenv;
        p->setup_vu = &sv->tests->setup_vu;
        p->teardown_vu = &sv->tests->teardown_vu;
        p->value_names = sv->value_names;
        p->value_texts = sv->value_texts;
        p->nvalues = sv->nvalues;
        first += o->nrates ? p->max_users : p->users;

        sp->planned = o->duration_us ? 0 : (uint64_t)p->users * hits * sv->tests->per_hit;
        sp->runs_at_cycle = shm_load(&shm_slot(&sv->shm, i)->c.runs);
        sp->streak = 0;
        if (spawn_worker(sv, i, err, errlen) < 0)
            return -1;
    }
    return 0;
}

/*
 * When the grace period of the current cycle ends: after the end of its
 * duration, or after the first stop, whichever comes first.  INT64_MAX
 * while neither is due (a hits run that was not stopped).
 */
static int64_t grace_end_us(const struct supervisor *sv)
{
    const struct shm_header *h = sv->shm.hdr;
    int64_t grace = (int64_t)(sv->opts->grace * 1e6), end = INT64_MAX;

    /* setUpOnce or tearDownOnce: no duration; a stop gives it the grace
     * period from the later of the stop and its start. */
    if (sv->once_started_us) {
        if (!h->stop_mono_us)
            return INT64_MAX;
        return (h->stop_mono_us > sv->once_started_us ? h->stop_mono_us
                                                      : sv->once_started_us) + grace;
    }

    if (h->duration_us)
        end = h->cycle_started_mono_us + (int64_t)h->duration_us + grace;
    if (h->stop_mono_us && h->stop_mono_us + grace < end)
        end = h->stop_mono_us + grace;
    return end;
}

/* Kills the worker of slot i after the grace period; reap records it. */
static void kill_late_worker(struct supervisor *sv, uint32_t i, int64_t now, int64_t end)
{
    struct shm_slot *slot = shm_slot(&sv->shm, i);
    struct slot_plan *sp = &sv->slots[i];

    sp->killed = 1;
    sp->kill_held_by = sp->held_by;
    sp->kill_hold_s = sp->held_by ? (double)(now - sp->held_since_us) / 1e6 : 0;
    sp->kill_late_s = (double)(now - end) / 1e6;
    kill(slot->pid, SIGKILL);
}

/*
 * Reads each live worker's heartbeat (shm.h).  Test code that has held a
 * worker's loop for more than HOLD_WARN_US is reported once per worker:
 * a warning in the supervisor's own slot (the worker's is not ours while
 * it lives), and a line on stderr when no dashboard owns the screen.
 * After the grace period, such a worker is killed, and so is any worker
 * still alive END_MARGIN_US after it.
 */
static void watch_heartbeats(struct supervisor *sv)
{
    struct shm_slot *own = shm_slot(&sv->shm, sv->nslots);
    int64_t now = shm_mono_us(), end = grace_end_us(sv);

    for (uint32_t i = 0; i < sv->nslots; i++) {
        struct shm_slot *slot = shm_slot(&sv->shm, i);
        struct slot_plan *sp = &sv->slots[i];
        uint64_t beat = shm_load(&slot->beat);
        uint32_t held_by = __atomic_load_n(&slot->running, __ATOMIC_RELAXED);
        int64_t held;

        if (__atomic_load_n(&slot->state, __ATOMIC_ACQUIRE) != SHM_WORKER_RUNNING ||
            sp->killed || !slot->pid)
            continue;
        if (beat != sp->beat || held_by != sp->held_by) {
            sp->beat = beat;
            sp->held_by = held_by;
            sp->held_since_us = now;
        }
        held = held_by ? now - sp->held_since_us : 0;
        if (held > HOLD_WARN_US && !sp->warned) {
            const char *name = test_name(sv, held_by);
            char text[SHM_MSG_LEN];

            sp->warned = 1;
            snprintf(text, sizeof(text), "a run held its worker for more than %.0f s "
                     "without waiting (a busy loop or a blocking call in the test?): the "
                     "worker's other VUs were stalled", HOLD_WARN_US / 1e6);
            shm_msg_count(own, SHM_WARNING, name, text);
            if (!sv->dash && !sv->opts->quiet)
                fprintf(stderr, "loads-runner: warning: %s in worker %d: %s\n", name,
                        (int)slot->pid, text);
        }
        if (now >= end && (held > HOLD_WARN_US || now >= end + END_MARGIN_US))
            kill_late_worker(sv, i, now, end);
    }
}

/*
 * Waits for the current cycle's workers, drawing progress meanwhile.
 * SIGCHLD is blocked and waited for, so a worker's end is noticed at once
 * (the run's duration is not rounded up to the poll interval).  A q in the
 * dashboard counts as one more stop signal: the same path as Ctrl-C.
 */
static void wait_cycle(struct supervisor *sv, int *seen)
{
    const struct timespec tick = {0, (sv->dash ? DASH_POLL_MS : POLL_MS) * 1000000L};
    sigset_t chld;

    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    while (sv->alive > 0) {
        sigtimedwait(&chld, NULL, &tick);
        if (sv->dash && tui_dash_tick(sv->dash) == TUI_DASH_QUIT)
            sv->quit_keys++;
        handle_stop(sv, seen);
        reap(sv);
        watch_heartbeats(sv);
        if (sv->progress)
            tui_progress(stderr, progress_fraction(sv), 0);
        else if (sv->plain)
            plain_progress(sv, 0);
    }
}

/*
 * Parses what a setUpOnce worker wrote (worker.h): 'S' then its values.
 * Returns 1 when it passed, 0 when it failed (or died), -ENOMEM.
 */
static int read_once(struct supervisor *sv, int fd)
{
    off_t size = lseek(fd, 0, SEEK_END);
    uint32_t n = 0;
    char *p, *end;

    if (size < 1)
        return 0;
    sv->values = malloc((size_t)size + 1);
    if (!sv->values)
        return -ENOMEM;
    if (pread(fd, sv->values, (size_t)size, 0) != size || sv->values[0] != 'S')
        return 0;
    /* Counts the strings, each after its 32-bit length (a length past the end:
     * not what a worker writes). */
    end = sv->values + size;
    for (p = sv->values + 1; p + 4 <= end; n++) {
        uint32_t len;

        memcpy(&len, p, 4);
        if (len > (size_t)(end - p) - 4)
            return 0;
        p += 4 + len;
    }
    sv->value_names = calloc(n / 2 + 1, sizeof(*sv->value_names));
    sv->value_texts = calloc(n / 2 + 1, sizeof(*sv->value_texts));
    if (!sv->value_names || !sv->value_texts)
        return -ENOMEM;
    /* Names and values in turn; each moves over its length, NUL-terminated. */
    p = sv->values + 1;
    for (uint32_t k = 0; k < n; k++) {
        char *text = p;
        uint32_t len;

        memcpy(&len, p, 4);
        memmove(text, p + 4, len);
        text[len] = '\0';
        p += 4 + len;
        if (k % 2 == 0) {
            sv->value_names[k / 2] = text;
        } else {
            sv->value_texts[k / 2] = text;
            sv->nvalues = k / 2 + 1;
        }
    }
    return 1;
}

/*
 * Runs setUpOnce or tearDownOnce alone, in one VU of a worker in slot 0,
 * before the first cycle or after the last; its requests are hits like
 * any other.  Returns 1 when it passed (setUpOnce's values are then in
 * sv for the cycles' plans), 0 when it failed.
 */
static int run_once(struct supervisor *sv, const struct worker_scope *scope, int *seen)
{
    struct worker_plan *p = &sv->plans[0];
    char err[256];
    int fd = memfd_create("loads-once", MFD_CLOEXEC), rc;

    if (fd < 0) {
        fprintf(stderr, "loads-runner: cannot run %s: %s\n", scope->name, strerror(errno));
        return 0;
    }
    memset(p, 0, sizeof(*p));
    p->shm = &sv->shm;
    p->slot = 0;
    p->tests = sv->tests->tests;
    p->ntests = sv->tests->ntests;
    p->users = 1;
    p->timeout = sv->opts->timeout;
    p->grace = sv->opts->grace;
    p->max_body = sv->opts->max_body;
    p->ws_max_message = sv->opts->ws_max_message;
    p->insecure = sv->opts->insecure;
    p->server_url = sv->opts->server_url;
    p->data = sv->data;
    p->data_name = sv->opts->data_file;
    p->data_per_vu = 1;
    p->data_stripe = sv->stripe;
    p->data_stripes = sv->stripes;
    p->env = (const char *const *)sv->opts->env;
    p->nenv = sv->opts->nenv;
    p->value_names = sv->value_names;
    p->value_texts = sv->value_texts;
    p->nvalues = sv->nvalues;
    p->once = scope;
    p->once_fd = fd;
    /* No replacement if it dies: nothing planned, its deadline long past. */
    sv->slots[0].planned = 0;
    sv->slots[0].runs_at_cycle = shm_load(&shm_slot(&sv->shm, 0)->c.runs);
    sv->slots[0].streak = 0;
    /* The worker inherits the descriptor by fork (close-on-exec is for cc). */
    sv->once_started_us = shm_mono_us();
    if (spawn_worker(sv, 0, err, sizeof(err)) < 0) {
        sv->once_started_us = 0;
        close(fd);
        fprintf(stderr, "loads-runner: %s\n", err);
        return 0;
    }
    wait_cycle(sv, seen);
    sv->once_started_us = 0;
    if (scope == &sv->tests->setup_once) {
        rc = read_once(sv, fd);
    } else {
        char c = 0;

        rc = pread(fd, &c, 1, 0) == 1 && c == 'S';
    }
    close(fd);
    if (rc < 0) {
        fprintf(stderr, "loads-runner: out of memory for the values of %s\n", scope->name);
        rc = 0;
    }
    return rc;
}

void runner_values_free(struct runner_values *v)
{
    free(v->block);
    free(v->names);
    free(v->texts);
    memset(v, 0, sizeof(*v));
}

int runner_once(const struct runner_opts *o, const struct runner_tests *tests,
                const struct csv *data, int teardown, struct runner_values *v)
{
    static struct supervisor sv;
    const struct worker_scope *scope = teardown ? &tests->teardown_once : &tests->setup_once;
    struct shm_header *h;
    sigset_t mask;
    char err[512];
    int seen = 0, passed, status = RUNNER_OK;

    memset(&sv, 0, sizeof(sv));
    sv.opts = o;
    sv.tests = tests;
    sv.data = data && data->nrows ? data : NULL;
    sv.stripes = 1;
    sv.nslots = 1;
    sv.worker_log = -1;
    if (teardown) {
        sv.value_names = v->names;
        sv.value_texts = v->texts;
        sv.nvalues = v->n;
    }
    shm_clean_stale();
    if (shm_create(&sv.shm, 1, err, sizeof(err)) < 0) {
        fprintf(stderr, "loads-runner: %s\n", err);
        return RUNNER_USAGE;
    }
    h = sv.shm.hdr;
    h->started_us = shm_now_us();
    h->started_mono_us = shm_mono_us();
    snprintf(h->test, sizeof(h->test), "%s", o->test);
    snprintf(h->server_url, sizeof(h->server_url), "%s", o->server_url);
    sigprocmask(SIG_SETMASK, NULL, &mask);
    install_signals();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    __atomic_store_n(&h->state, SHM_RUN_RUNNING, __ATOMIC_RELAXED);
    passed = run_once(&sv, scope, &seen);
    h->ended_mono_us = shm_mono_us();
    __atomic_store_n(&h->state, SHM_RUN_DONE, __ATOMIC_RELEASE);
    if (!passed || h->stop) {
        if (!teardown) {
            status = runner_report(o, &sv.shm, -1);
        } else {
            const struct shm_slot *slot = shm_slot(&sv.shm, 0);
            const struct shm_msg *msg = NULL;

            for (uint32_t i = 0; i < SHM_MSGS && !msg; i++)
                if (slot->msgs[i].count)
                    msg = &slot->msgs[i];
            if (msg)
                fprintf(stderr, "loads-runner: %s: %s\n", msg->test, msg->text);
            else
                fprintf(stderr, "loads-runner: %s did not pass\n", scope->name);
            status = runner_exit_status(o, h, &(struct shm_stats){0}, 0);
        }
        if (status == RUNNER_OK)
            status = RUNNER_FAILED;
    } else if (!teardown) {
        v->block = sv.values;
        v->names = sv.value_names;
        v->texts = sv.value_texts;
        v->n = sv.nvalues;
        sv.values = NULL;
        sv.value_names = sv.value_texts = NULL;
    }
    shm_destroy(&sv.shm);
    curl_global_cleanup();
    if (!teardown) {
        free(sv.values);
        free(sv.value_names);
        free(sv.value_texts);
    }
    sigprocmask(SIG_SETMASK, &mask, NULL);
    return status;
}

void runner_rate_header(struct shm_header *h, const struct arrival *a, uint32_t users,
                        uint32_t max_users, uint32_t offset, uint32_t stride)
{
    h->duration_us = arrival_length_us(a);
    h->ncycles = 1;
    memset(h->cycle_users, 0, sizeof(h->cycle_users));
    h->cycle_users[0] = max_users;
    h->rate_stages = a->nstages;
    h->pool_users = users;
    h->max_users = max_users;
    h->rate_stage_us = a->stage_us;
    h->scheduled_runs = arrival_stripe_count(arrival_total(a), offset, stride ? stride : 1);
    h->due_runs = h->scheduled_runs; /* until a stop says otherwise (count_due) */
    for (uint32_t k = 0; k < a->nstages && k < SHM_MAX_CYCLES; k++) {
        h->rate_from_mrps[k] = a->stages[k].from_mrps;
        h->rate_to_mrps[k] = a->stages[k].to_mrps;
    }
}

int runner_supervise(const struct runner_opts *o, const struct runner_tests *tests,
                     const struct csv *data, uint32_t stripe, uint32_t stripes)
{
    static struct supervisor sv;
    uint32_t max_users = 0, nslots;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    char err[512];
    int seen = 0, status, set_up;
    struct shm_header *h;
    struct web *web;

    for (uint32_t i = 0; i < o->nusers; i++)
        if (o->users[i] > max_users)
            max_users = o->users[i];
    if (o->nrates) {
        if (arrival_init(&sv.arrival, o->rate, o->nrates, o->duration_us) < 0) {
            fprintf(stderr, "loads-runner: invalid --rate schedule\n");
            return RUNNER_USAGE;
        }
        max_users = o->max_users;
    }
    nslots = o->workers ? o->workers : (uint32_t)(cores > 0 ? cores : 1);
    if (nslots > max_users)
        nslots = max_users;
    if (nslots > SHM_MAX_WORKERS)
        nslots = SHM_MAX_WORKERS;
    /*
     * A closed model's users are all made at the start of a cycle, each
     * with a stack of two maps: past vm.max_map_count a worker could not
     * start at all.  Said here, before anything runs (a pool, --rate,
     * stops growing there instead and counts the runs it drops).
     */
    if (!o->nrates && max_users) {
        uint32_t per_worker = max_users / nslots + (max_users % nslots != 0);
        long limit = 0;
        FILE *f = fopen("/proc/sys/vm/max_map_count", "r");

        if (f && fscanf(f, "%ld", &limit) != 1)
            limit = 0;
        if (f)
            fclose(f);
        if (limit > 0 && (long)per_worker * 2 + RUNNER_MAPS_SPARE > limit) {
            fprintf(stderr, "loads-runner: -u %u on %u worker%s is %u users a worker, and a "
                    "user's stack is two memory maps: vm.max_map_count (%ld) allows %ld; use "
                    "more workers (-w) or raise vm.max_map_count\n", max_users, nslots,
                    nslots == 1 ? "" : "s", per_worker, limit,
                    (limit - RUNNER_MAPS_SPARE) / 2);
            return RUNNER_USAGE;
        }
    }

    sv.opts = o;
    sv.tests = tests;
    sv.data = data && data->nrows ? data : NULL;
    sv.stripes = stripes ? stripes : 1;
    sv.stripe = stripe < sv.stripes ? stripe : 0;
    sv.nslots = nslots;
    sv.worker_log = -1;
    shm_clean_stale();
    if (shm_create(&sv.shm, nslots, err, sizeof(err)) < 0) {
        fprintf(stderr, "loads-runner: %s\n", err);
        return RUNNER_USAGE;
    }
    h = sv.shm.hdr;
    h->started_us = shm_now_us();
    h->started_mono_us = shm_mono_us();
    h->planned_runs = runner_planned_runs(o, tests->per_hit);
    h->duration_us = o->duration_us;
    h->ncycles = o->nusers;
    memcpy(h->cycle_users, o->users, sizeof(h->cycle_users));
    if (o->nrates)
        runner_rate_header(h, &sv.arrival, o->users[0], o->max_users, o->rate_offset,
                           o->rate_stride);
    snprintf(h->test, sizeof(h->test), "%s", o->test);
    snprintf(h->server_url, sizeof(h->server_url), "%s", o->server_url);
    if (runner_web_open(o, &sv.shm, &web) != 0) {
        shm_destroy(&sv.shm);
        return RUNNER_USAGE;
    }

    install_signals();
    open_dashboard(&sv);
    sv.progress = !sv.dash && !o->quiet && isatty(2) && isatty(1);
    sv.plain = !sv.dash && !o->quiet && isatty(2) && !isatty(1);
    raise_fd_limit();
    curl_global_init(CURL_GLOBAL_DEFAULT); /* before fork, as libcurl asks */
    __atomic_store_n(&h->state, SHM_RUN_RUNNING, __ATOMIC_RELAXED);
    /* An agent's: the cluster's runner ran setUpOnce; its values come along. */
    if (!tests->setup_once.fn && o->nvalues) {
        sv.value_names = calloc(o->nvalues, sizeof(*sv.value_names));
        sv.value_texts = calloc(o->nvalues, sizeof(*sv.value_texts));
        if (sv.value_names && sv.value_texts) {
            memcpy(sv.value_names, o->value_names, o->nvalues * sizeof(*sv.value_names));
            memcpy(sv.value_texts, o->value_texts, o->nvalues * sizeof(*sv.value_texts));
            sv.nvalues = o->nvalues;
        }
    }
    set_up = !tests->setup_once.fn || run_once(&sv, &tests->setup_once, &seen);
    for (uint32_t k = 0; k < o->nusers && !h->stop && set_up; k++) {
        if (start_cycle(&sv, k, err, sizeof(err)) < 0) {
            close_dashboard(&sv);
            fprintf(stderr, "loads-runner: %s\n", err);
            request_stop(&sv, SHM_STOP_NONE, 0);
        }
        wait_cycle(&sv, &seen);
    }
    /* After a stop too (within the grace period): it cleans up. */
    if (set_up && tests->teardown_once.fn && !sv.killed)
        run_once(&sv, &tests->teardown_once, &seen);
    count_due(&sv);
    h->ended_mono_us = shm_mono_us();
    /* A hits plan whose every run ended despite a late stop ran its plan. */
    if (h->planned_runs && progress_runs(&sv) >= h->planned_runs)
        h->stop_cause = SHM_STOP_NONE;
    /* Release: --attach reads the figures, stop_cause too, once it sees DONE. */
    __atomic_store_n(&h->state, SHM_RUN_DONE, __ATOMIC_RELEASE);
    close_dashboard(&sv);
    if (sv.progress)
        tui_progress(stderr, h->stop ? progress_fraction(&sv) : 1.0, 1);
    else if (sv.plain)
        plain_progress(&sv, 1);
    status = runner_report(o, &sv.shm, -1);
    if (sv.gave_up) {
        fprintf(stderr, "loads-runner: stopped early: a worker crashed %d times in a row "
                        "before ending any test run (see Crashes above)\n", CRASH_LOOP);
        if (status < RUNNER_STOPPED)
            status = RUNNER_FAILED;
    }
    runner_web_close(o, web);
    shm_destroy(&sv.shm);
    curl_global_cleanup();
    free(sv.values);
    free(sv.value_names);
    free(sv.value_texts);
    return status;
}
