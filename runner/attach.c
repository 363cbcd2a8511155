/*
 * loads-runner --attach [PID]: a read-only view of a run started
 * elsewhere, say a `-q` run in another terminal.  The run's segment is
 * mapped read-only, so nothing done here can change or stop the run: q
 * only detaches.  When the run ends while watched, its final figures stay
 * on screen until q, and its summary is printed as the run printed it.
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runner/runner.h"
#include "tui/tui.h"

#define POLL_MS       100
#define PLAIN_EVERY   5000000     /* us between plain progress lines */
#define MAX_LISTED    64

enum run_end {
    RUN_GOING = 0,                /* still running */
    RUN_DONE,                     /* its supervisor marked it done */
    RUN_GONE,                     /* its supervisor died without doing so */
};

static volatile sig_atomic_t detach_signals; /* SIGINT/SIGTERM/SIGHUP received */

/* Counts the signal; the watch loops see it within POLL_MS. */
static void on_detach_signal(int sig)
{
    detach_signals++;
}

/*
 * Ctrl-C, SIGTERM and SIGHUP detach through the normal path, which gives
 * the terminal back; the watched run is another process group and never
 * sees them.
 */
static void install_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_detach_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* A run's state in a word, for the list of runs. */
static const char *state_name(uint32_t state)
{
    switch (state) {
    case SHM_RUN_STARTING:
        return "starting";
    case SHM_RUN_RUNNING:
        return "running";
    case SHM_RUN_STOPPING:
        return "stopping";
    case SHM_RUN_DONE:
        return "done";
    }
    return "unknown";
}

/*
 * Lists the runs whose segment is in /dev/shm and whose supervisor is
 * alive (a dead one's segment is stale and the next run removes it).
 * Returns how many, at most max.
 */
static int list_runs(int32_t *pids, int max)
{
    DIR *dir = opendir("/dev/shm");
    struct dirent *e;
    int n = 0;

    if (!dir)
        return 0;
    while ((e = readdir(dir)) && n < max) {
        const char *digits = e->d_name + strlen(SHM_FILE_PREFIX);
        char *end;
        long pid;

        if (strncmp(e->d_name, SHM_FILE_PREFIX, strlen(SHM_FILE_PREFIX)) != 0 ||
            *digits < '1' || *digits > '9')
            continue;
        pid = strtol(digits, &end, 10);
        if (*end || pid <= 0 || pid > INT32_MAX)
            continue;
        if (kill((pid_t)pid, 0) < 0 && errno != EPERM)
            continue;
        pids[n++] = (int32_t)pid;
    }
    closedir(dir);
    return n;
}

/*
 * Picks the run to watch when no pid was given: the only one there is.
 * With none or several, says so on stderr (several: one line each with
 * pid, test and state) and returns -1.
 */
static int find_run(int32_t *pid)
{
    int32_t pids[MAX_LISTED];
    int n = list_runs(pids, MAX_LISTED);

    if (n == 0) {
        fprintf(stderr, "loads-runner: no run to attach to (no /dev/shm/%s* segment of "
                        "a running loads-runner)\n", SHM_FILE_PREFIX);
        return -1;
    }
    if (n == 1) {
        *pid = pids[0];
        return 0;
    }
    fprintf(stderr, "loads-runner: %d runs are going on; choose one with "
                    "--attach PID:\n", n);
    for (int i = 0; i < n; i++) {
        struct shm s;
        char err[256];
        int rc = shm_attach(&s, pids[i], err, sizeof(err));

        if (rc < 0) {
            fprintf(stderr, "  %8d  (%s)\n", (int)pids[i],
                    rc == -EACCES ? "another user's run" : "cannot be read");
            continue;
        }
        fprintf(stderr, "  %8d  %-10s %s\n", (int)pids[i], state_name(s.hdr->state),
                s.hdr->test);
        shm_destroy(&s);
    }
    return -1;
}

/*
 * Maps run pid's segment read-only.  Only the run's owner may watch it:
 * the segment's mode (0600) keeps other users out, and the owner recorded
 * in its header keeps out root too, whose figures would mix with a
 * stranger's run.
 */
static int open_run(struct shm *s, int32_t pid)
{
    char err[256];
    int rc = shm_attach(s, pid, err, sizeof(err));

    if (rc == -EACCES) {
        fprintf(stderr, "loads-runner: run %d belongs to another user; only its owner "
                        "can attach\n", (int)pid);
        return rc;
    }
    if (rc < 0) {
        fprintf(stderr, "loads-runner: %s\n", err);
        return rc;
    }
    if (s->hdr->uid != (uint32_t)getuid()) {
        fprintf(stderr, "loads-runner: run %d belongs to uid %u; only its owner can "
                        "attach\n", (int)pid, s->hdr->uid);
        shm_destroy(s);
        return -EPERM;
    }
    return 0;
}

/*
 * Whether the run is over.  The supervisor's liveness is read before the
 * state, so that a supervisor that marked its run done and then exited
 * is never taken for one that died.
 */
static enum run_end run_end(const struct shm *s)
{
    int gone = kill(s->hdr->supervisor, 0) < 0 && errno == ESRCH;

    if (__atomic_load_n(&s->hdr->state, __ATOMIC_ACQUIRE) == SHM_RUN_DONE)
        return RUN_DONE;
    return gone ? RUN_GONE : RUN_GOING;
}

/* The run's duration when its supervisor died: up to now; else its own. */
static double end_elapsed(const struct shm *s, enum run_end end)
{
    if (end != RUN_GONE)
        return -1;
    return (double)(shm_mono_us() - s->hdr->started_mono_us) / 1e6;
}

/* Sleeps up to POLL_MS, waking early for a key when stdin is a terminal. */
static void wait_a_little(void)
{
    struct pollfd in = {.fd = STDIN_FILENO, .events = POLLIN};

    poll(&in, isatty(STDIN_FILENO) ? 1 : 0, POLL_MS);
}

/*
 * Shows the dashboard until q or a signal detaches.  When the run ends
 * meanwhile, its final figures stay on screen with a line asking for q.
 * Returns how the run ended, RUN_GOING when detached before the end.
 */
static enum run_end watch_dashboard(struct tui_dash *d, const struct shm *s,
                                    double *elapsed)
{
    enum run_end end = RUN_GOING;

    while (!detach_signals) {
        if (end == RUN_GOING && (end = run_end(s)) != RUN_GOING) {
            *elapsed = end_elapsed(s, end);
            tui_dash_finished(d, *elapsed,
                              end == RUN_DONE ? "run finished"
                                              : "run ended: its loads-runner is gone");
        }
        if (tui_dash_tick(d) == TUI_DASH_QUIT)
            break;
        wait_a_little();
    }
    tui_dash_close(d);
    return end;
}

/*
 * Without a terminal on stdout: waits for the end, with a progress line
 * on stderr every few seconds when that is a terminal.  Returns as
 * watch_dashboard.
 */
static enum run_end watch_plain(const struct runner_opts *o, const struct shm *s,
                                double *elapsed)
{
    int progress = !o->quiet && isatty(STDERR_FILENO);
    int64_t next = 0;
    enum run_end end;

    while ((end = run_end(s)) == RUN_GOING && !detach_signals) {
        if (progress && shm_mono_us() >= next) {
            struct shm_stats st;

            if (shm_stats_collect(&st, s) == 0) {
                tui_progress_line(stderr, s->hdr, &st);
                shm_stats_free(&st);
            }
            next = shm_mono_us() + PLAIN_EVERY;
        }
        wait_a_little();
    }
    *elapsed = end_elapsed(s, end);
    return end;
}

/*
 * Finds and maps the run, watches it (dashboard on a terminal, plainly
 * otherwise), and prints its summary if it ended while watched.
 */
int runner_attach(const struct runner_opts *o)
{
    int32_t pid = o->attach_pid;
    struct tui_dash *d = NULL;
    enum run_end end;
    double elapsed = -1;
    struct shm s;
    struct web *web;
    int status;

    if (!pid && find_run(&pid) < 0)
        return RUNNER_USAGE;
    if (open_run(&s, pid) < 0)
        return RUNNER_USAGE;
    if (runner_web_open(o, &s, &web) != 0) {
        shm_destroy(&s);
        return RUNNER_USAGE;
    }
    install_signals();
    if (runner_wants_dashboard(o))
        d = tui_dash_open(&s, TUI_DASH_ATTACHED);
    end = d ? watch_dashboard(d, &s, &elapsed) : watch_plain(o, &s, &elapsed);
    if (end == RUN_GOING) {
        fprintf(stderr, "loads-runner: detached from run %d, which goes on\n", (int)pid);
        status = RUNNER_OK;
    } else {
        status = runner_report(o, &s, elapsed);
        if (end == RUN_GONE) {
            fprintf(stderr, "loads-runner: run %d ended before its end: its "
                            "loads-runner is gone\n", (int)pid);
            status = RUNNER_FAILED;
        }
    }
    runner_web_close(o, web);
    shm_destroy(&s);
    return status;
}
