/*
 * loads-agent: a long-running process that connects out to a broker,
 * registers, and runs what it is sent.  For each run it writes the
 * shipped files into a folder named by their hash, starts a child that
 * builds and loads the test module (its compiler's first error goes back
 * as the run's failure), waits for the start barrier, and then runs the
 * ordinary local supervisor (runner_supervise, quiet) with its own
 * workers and segment.
 *
 * The child is this program again (fork, then exec of /proc/self/exe
 * --child BRIEF), not a bare fork: the agent has ZeroMQ's threads, and a
 * fork while one of them holds a lock (an allocator's, under ASan) would
 * leave the child stuck on it; and the shipped code then runs in a
 * process that never held the agent's secret key.  The brief, a file in
 * the agent's own folder (0700), carries the run's spec and names.  Once a second the agent reads that segment
 * read-only, as --attach does, and sends the deltas since the last
 * message with a sequence number; a delta is kept until the broker acks
 * it, and resent when no ack comes.
 *
 * The child's supervisor writes its JSON summary into a FIFO that the
 * agent opens only once it has read the final figures, so the segment
 * outlives the agent's last look at it.
 *
 * No orphan load: the child dies with the agent (PR_SET_PDEATHSIG) and
 * its workers with it; an agent that hears nothing from its broker for
 * CL_TIMEOUT_MS stops its run (SIGTERM, again a second later, which kills
 * the workers, then SIGKILL) and keeps calling the broker, registering
 * again when it answers.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/fdio.h"
#include "cluster/net.h"
#include "runner/runner.h"

#define SERIES_SLACK_US 200000 /* us: see send_delta */
#define PENDING_MAX   256     /* deltas sent and not yet acked */
#define RESEND_MS     2000    /* an unacked delta is sent again after this */
#define TICK_MS       1000    /* deltas and heartbeats */

enum state { ST_IDLE, ST_BUILDING, ST_READY, ST_RUNNING, ST_FINISHING };
static const char *const state_names[] = {"idle", "building", "ready", "running",
                                          "finishing"};

struct pending {
    uint64_t seq;
    uint8_t *buf;
    size_t len;
    int64_t sent_ms;
};

struct agent {
    const char *endpoint;
    struct cl_keys keys;
    void *sock;
    char host[CL_HOST_LEN];
    char workdir[PATH_MAX];
    int64_t heard_ms;             /* last message from the broker; 0: never */
    int64_t hb_ms;                /* next heartbeat (or hello) */
    int welcomed;
    int broker_lost;              /* said so once; cleared when it answers */
    int64_t started_ms;           /* when the agent started, for the first warning */
    int warned_silent;

    /* the run */
    enum state state;
    char run[CL_RUN_LEN];
    struct cl_spec spec;
    pid_t child;
    int status_fd;                /* child -> agent: "R" ready, or "E" + error */
    int start_fd;                 /* agent -> child: "S" starts (struct go) */
    char status_buf[CL_ERROR_LEN];
    size_t status_len;
    char fifo[PATH_MAX + 32];
    int fifo_fd;
    struct shm seg;
    struct shm_stats prev;
    uint64_t seq;
    uint64_t seconds_sent;        /* series seconds sent: 0..seconds_sent-1 */
    int64_t next_delta_ms;
    struct pending q[PENDING_MAX];
    uint32_t nq;
    int stops;                    /* stop signals sent to the child */
    int64_t next_stop_ms;         /* when to escalate */
    int dropped;                  /* the run is given up: report nothing more */
};

static void send_msg(struct agent *a, struct cl_msg *m)
{
    cl_send(a->sock, NULL, m);
}

/*
 * The state its heartbeats and hellos say: "stopping" once a stop reached
 * it, which tells the broker not to send the stop again.
 */
static const char *state_name(const struct agent *a)
{
    return a->state == ST_RUNNING && a->stops ? "stopping" : state_names[a->state];
}

static void send_hello(struct agent *a)
{
    struct cl_msg m = {.type = CL_HELLO, .pid = getpid()};

    snprintf(m.host, sizeof(m.host), "%s", a->host);
    snprintf(m.sw, sizeof(m.sw), "%s", LOADS_VERSION);
    snprintf(m.state, sizeof(m.state), "%s", state_name(a));
    snprintf(m.run, sizeof(m.run), "%s", a->state == ST_IDLE || a->dropped ? "" : a->run);
    send_msg(a, &m);
}

/* ------------------------------------------------------------- the child */

/* The runs an agent makes of spec: sum(users) * sum(hits) * tests; 0 for a duration. */
static uint64_t planned_runs(const struct cl_spec *spec, uint32_t ntests)
{
    uint64_t users = 0, hits = 0;

    if (spec->duration_us)
        return 0;
    for (uint32_t i = 0; i < spec->nusers; i++)
        users += spec->users[i];
    for (uint32_t i = 0; i < spec->nhits; i++)
        hits += spec->hits[i];
    return users * hits * ntests;
}

/* Removes every "dir/" from s: the runner's user knows the files by their names. */
static void drop_prefix(char *s, const char *dir)
{
    char pre[PATH_MAX + 2], *p;
    size_t n;

    snprintf(pre, sizeof(pre), "%s/", dir);
    n = strlen(pre);
    while ((p = strstr(s, pre)) != NULL)
        memmove(p, p + n, strlen(p + n) + 1);
}

/*
 * What the agent tells its child at the start barrier: 'S', and which
 * stripe of a --rate schedule is this agent's (its index in the run, and
 * the run's number of agents).
 */
struct go {
    char start;
    uint32_t index;
    uint32_t agents;
};

/*
 * The child: builds and loads the module, says so, waits for the start,
 * runs the plan as a local run does, and exits with its status.
 */
/*
 * What the agent tells the child it execs: the run, where its files and
 * FIFO are, and its spec (plain data: the same program reads it back).
 */
struct brief {
    char magic[8];
    char run[CL_RUN_LEN];
    char dir[PATH_MAX];
    char fifo[PATH_MAX + 32];
    struct cl_spec spec;
};

static const char brief_magic[8] = "LOADSB1";

static void child_main(struct agent *a, const char *dir)
{
    static struct runner_opts o;
    static const char *names[CL_MAX_VALUES], *texts[CL_MAX_VALUES];
    uint32_t nvalues = 0;
    struct runner_tests tests = {0};
    struct csv data = {0};
    char err[CL_ERROR_LEN - 2], buf[CL_ERROR_LEN];
    struct go go = {0, 0, 0};
    size_t got = 0;
    ssize_t n;

    signal(SIGPIPE, SIG_DFL);
    unsetenv("LOADS_PATH");
    err[0] = '\0';
    if (chdir(dir) < 0)
        snprintf(err, sizeof(err), "cannot enter %s: %s", dir, strerror(errno));
    if (a->spec.data[0]) {
        snprintf(o.data_file, sizeof(o.data_file), "%s", a->spec.data);
        o.data_per_vu = a->spec.data_per_vu;
    }
    /* setUpOnce and tearDownOnce are the runner's: it ran setUpOnce, and its
     * values came in the spec.  A spec without "once" comes from an older
     * runner or broker, which would have them run once per agent. */
    if (!err[0] && runner_load_tests(a->spec.test, &tests, err, sizeof(err)) == 0 &&
        (tests.setup_once.fn || tests.teardown_once.fn) && !a->spec.once)
        snprintf(err, sizeof(err), "%s: LOADS_SETUP_ONCE and LOADS_TEARDOWN_ONCE run in the "
                 "runner, and this run's runner or broker is older than this agent (Loads "
                 "%s): upgrade them",
                 tests.setup_once.fn ? tests.setup_once.name : tests.teardown_once.name,
                 LOADS_VERSION);
    tests.setup_once.fn = NULL;
    tests.teardown_once.fn = NULL;
    for (uint32_t i = 0; i + 1 < a->spec.values_len && nvalues < CL_MAX_VALUES; nvalues++) {
        names[nvalues] = a->spec.values + i;
        i += (uint32_t)strlen(a->spec.values + i) + 1;
        texts[nvalues] = a->spec.values + i;
        i += (uint32_t)strlen(a->spec.values + i) + 1;
    }
    o.value_names = names;
    o.value_texts = texts;
    o.nvalues = nvalues;
    if (err[0] || runner_load_data(&o, &data, err, sizeof(err)) < 0) {
        drop_prefix(err, dir);
        runner_one_line(err);
        snprintf(buf, sizeof(buf), "E%s", err);
        fd_write_all(3, buf, strlen(buf));
        _exit(2);
    }
    snprintf(buf, sizeof(buf), "R%llu", (unsigned long long)planned_runs(&a->spec, tests.per_hit));
    fd_write_all(3, buf, strlen(buf));
    close(3);
    while (got < sizeof(go) &&
           ((n = read(4, (char *)&go + got, sizeof(go) - got)) > 0 || (n < 0 && errno == EINTR)))
        got += n > 0 ? (size_t)n : 0;
    if (got != sizeof(go) || go.start != 'S' || go.agents == 0 || go.index >= go.agents)
        _exit(0);
    close(4);
    for (uint32_t i = 0; i < a->spec.env_len && o.nenv < RUNNER_MAX_ENV;
         i += (uint32_t)strlen(a->spec.env + i) + 1)
        o.env[o.nenv++] = a->spec.env + i;
    snprintf(o.server_url, sizeof(o.server_url), "%s", a->spec.server_url);
    o.test = a->spec.test;
    memcpy(o.users, a->spec.users, sizeof(o.users));
    o.nusers = a->spec.nusers;
    memcpy(o.hits, a->spec.hits, sizeof(o.hits));
    o.nhits = a->spec.nhits;
    o.duration_us = a->spec.duration_us;
    o.workers = a->spec.workers;
    o.ramp_up = a->spec.ramp_up;
    o.timeout = a->spec.timeout;
    o.grace = a->spec.grace;
    o.max_body = (size_t)a->spec.max_body;
    memcpy(o.rate, a->spec.rate, sizeof(o.rate));
    o.nrates = a->spec.nrates;
    o.max_users = a->spec.max_users;
    o.rate_offset = go.index;
    o.rate_stride = go.agents;
    o.quiet = 1;
    o.no_tui = 1;
    o.output = RUNNER_TEXT;
    snprintf(o.json_file, sizeof(o.json_file), "%s", a->fifo);
    /* This agent's share of --data's rows and of a --rate schedule. */
    _exit(runner_supervise(&o, &tests, &data, go.index, go.agents));
}

/*
 * loads-agent --child BRIEF: the child the agent started for a run, with
 * fd 3 to tell it "R"/"E" and fd 4 to hear the start.  Reads the brief
 * (and removes it) and goes on as child_main.
 */
static int child_exec_main(const char *path)
{
    static struct agent a;
    static struct brief b;
    struct stat st3, st4;
    FILE *f;
    size_t got;

    if (fstat(3, &st3) < 0 || fstat(4, &st4) < 0 || !S_ISFIFO(st3.st_mode) ||
        !S_ISFIFO(st4.st_mode)) {
        fprintf(stderr, "loads-agent: --child is the agent's own: it starts its runs with it\n");
        return 2;
    }
    f = fopen(path, "rb");
    got = f ? fread(&b, 1, sizeof(b), f) : 0;
    if (f)
        fclose(f);
    unlink(path);
    if (got != sizeof(b) || memcmp(b.magic, brief_magic, sizeof(brief_magic)) != 0) {
        const char *why = "Ethe agent's brief of the run is missing or damaged";

        fd_write_all(3, why, strlen(why));
        return 2;
    }
    b.run[sizeof(b.run) - 1] = b.dir[sizeof(b.dir) - 1] = b.fifo[sizeof(b.fifo) - 1] = '\0';
    snprintf(a.run, sizeof(a.run), "%s", b.run);
    snprintf(a.fifo, sizeof(a.fifo), "%s", b.fifo);
    a.spec = b.spec;
    child_main(&a, b.dir);
    return 2; /* child_main exits */
}

/*
 * Starts the child of a run: fork, then at once exec this program with
 * --child BRIEF (between the two only system calls: the fork copied the
 * agent's locks, held or not).  Returns its pid, or -1.
 */
static pid_t start_child(struct agent *a, const char *dir, int status_fd, int start_fd,
                         char *err, size_t errlen)
{
    static struct brief b;
    char brief[PATH_MAX + 64], log[PATH_MAX + CL_RUN_LEN + 16], self[PATH_MAX];
    char *argv[] = {(char *)"loads-agent", (char *)"--child", brief, NULL};
    const char *fail = "Ecannot start the agent's child (exec /proc/self/exe)";
    ssize_t n;
    FILE *f;
    pid_t pid;

    memset(&b, 0, sizeof(b));
    memcpy(b.magic, brief_magic, sizeof(brief_magic));
    snprintf(b.run, sizeof(b.run), "%s", a->run);
    snprintf(b.dir, sizeof(b.dir), "%s", dir);
    snprintf(b.fifo, sizeof(b.fifo), "%s", a->fifo);
    b.spec = a->spec;
    snprintf(brief, sizeof(brief), "%s/%s.brief", a->workdir, a->run);
    snprintf(log, sizeof(log), "%s/%s.log", a->workdir, a->run);
    /* The program as it was started, even if its file was replaced since. */
    n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0) {
        snprintf(err, errlen, "cannot find this program (/proc/self/exe): %s", strerror(errno));
        return -1;
    }
    self[n] = '\0';
    f = fopen(brief, "wb");
    if (f) {
        int ok = fwrite(&b, 1, sizeof(b), f) == sizeof(b);

        if (fclose(f) != 0)
            ok = 0;
        f = ok ? f : NULL;
    }
    if (!f) {
        snprintf(err, errlen, "cannot write %s: %s", brief, strerror(errno));
        unlink(brief);
        return -1;
    }
    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        int fd;

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() == 1)
            _exit(1);
        /* Above 4 first, so that neither lands on the other's number;
         * dup2 leaves 3 and 4 open across the exec (the pipes are CLOEXEC). */
        status_fd = fcntl(status_fd, F_DUPFD, 10);
        start_fd = fcntl(start_fd, F_DUPFD, 10);
        if (status_fd < 0 || start_fd < 0 || dup2(status_fd, 3) < 0 || dup2(start_fd, 4) < 0)
            _exit(2);
        close_range(5, ~0u, 0);
        fd = open("/dev/null", O_RDONLY);
        if (fd >= 0) {
            dup2(fd, 0);
            close(fd);
        }
        fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execv("/proc/self/exe", argv);
        execv(self, argv);
        if (write(3, fail, strlen(fail)) < 0)
            _exit(2);
        _exit(2);
    }
    if (pid < 0) {
        snprintf(err, errlen, "cannot fork: %s", strerror(errno));
        unlink(brief);
    }
    return pid;
}

/* mkdir -p for the folders of path (not path itself). */
static int make_parents(const char *path)
{
    char buf[PATH_MAX];

    snprintf(buf, sizeof(buf), "%s", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0700) < 0 && errno != EEXIST)
                return -errno;
            *p = '/';
        }
    return 0;
}

/* Whether file path holds exactly data. */
static int same_content(const char *path, const uint8_t *data, size_t len)
{
    struct stat st;
    uint8_t *buf;
    FILE *f;
    int same;

    if (stat(path, &st) < 0 || (size_t)st.st_size != len || !(f = fopen(path, "rb")))
        return 0;
    buf = malloc(len ? len : 1);
    same = buf && fread(buf, 1, len, f) == len && (!len || memcmp(buf, data, len) == 0);
    free(buf);
    fclose(f);
    return same;
}

/*
 * Writes the run's files under workdir/HASH/, leaving a file that already
 * holds the same bytes untouched (its module's build stays cached).
 */
static int write_files(struct agent *a, const struct cl_msg *m, char *dir, size_t dirlen,
                       char *err, size_t errlen)
{
    snprintf(dir, dirlen, "%s/%s", a->workdir, m->hash);
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot make %s: %s", dir, strerror(errno));
        return -1;
    }
    for (uint32_t i = 0; i < m->nfiles; i++) {
        char path[PATH_MAX + CL_PATH_LEN];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", dir, m->files[i].name);
        if (same_content(path, m->files[i].data, m->files[i].len))
            continue;
        if (make_parents(path) < 0 || !(f = fopen(path, "wb"))) {
            snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
            return -1;
        }
        if (fwrite(m->files[i].data, 1, m->files[i].len, f) != m->files[i].len ||
            fclose(f) != 0) {
            snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
            return -1;
        }
    }
    return 0;
}

static void send_failed(struct agent *a, const char *run, int status, const char *why)
{
    struct cl_msg m = {.type = CL_FAILED, .status = status};

    snprintf(m.run, sizeof(m.run), "%s", run);
    snprintf(m.error, sizeof(m.error), "%s", why);
    send_msg(a, &m);
}

static void on_run(struct agent *a, struct cl_msg *m)
{
    char hash[CL_HASH_LEN], dir[PATH_MAX], err[CL_ERROR_LEN];
    int sp[2], gp[2];

    if (a->state != ST_IDLE) {
        /* The broker sends a run again when a heartbeat says it was missed. */
        if (strcmp(m->run, a->run) != 0)
            send_failed(a, m->run, 2, "this agent is busy with another run");
        return;
    }
    cl_files_hash(m->files, m->nfiles, hash);
    if (strcmp(hash, m->hash) != 0) {
        send_failed(a, m->run, 2, "the files arrived with another hash");
        return;
    }
    if (write_files(a, m, dir, sizeof(dir), err, sizeof(err)) < 0) {
        send_failed(a, m->run, 2, err);
        return;
    }
    snprintf(a->run, sizeof(a->run), "%s", m->run);
    a->spec = m->spec;
    snprintf(a->fifo, sizeof(a->fifo), "%s/%s.fifo", a->workdir, a->run);
    unlink(a->fifo);
    if (mkfifo(a->fifo, 0600) < 0 || pipe2(sp, O_CLOEXEC) < 0) {
        snprintf(err, sizeof(err), "cannot make %s: %s", a->fifo, strerror(errno));
        send_failed(a, m->run, 2, err);
        return;
    }
    if (pipe2(gp, O_CLOEXEC) < 0) {
        close(sp[0]);
        close(sp[1]);
        send_failed(a, m->run, 2, "cannot make a pipe");
        return;
    }
    a->child = start_child(a, dir, sp[1], gp[0], err, sizeof(err));
    close(sp[1]);
    close(gp[0]);
    if (a->child < 0) {
        close(sp[0]);
        close(gp[1]);
        a->child = 0;
        send_failed(a, m->run, 2, err);
        return;
    }
    a->status_fd = sp[0];
    a->start_fd = gp[1];
    fcntl(a->status_fd, F_SETFL, O_NONBLOCK);
    a->status_len = 0;
    a->state = ST_BUILDING;
    a->seq = 0;
    a->seconds_sent = 0;
    a->stops = 0;
    a->dropped = 0;
    memset(&a->prev, 0, sizeof(a->prev));
    cl_logf("run %s: building %s in %s", a->run, a->spec.test, dir);
}

/* Reads what the child says about its build. */
static void read_status(struct agent *a)
{
    ssize_t n;

    if (a->status_fd < 0)
        return;
    while ((n = read(a->status_fd, a->status_buf + a->status_len,
                     sizeof(a->status_buf) - 1 - a->status_len)) > 0)
        a->status_len += (size_t)n;
    a->status_buf[a->status_len] = '\0';
    if (n < 0 && errno == EAGAIN)
        return;
    /* "R" and the planned runs, or "E" and an error; then the end of the pipe. */
    if (a->status_buf[0] == 'R' && a->state == ST_BUILDING && !a->dropped) {
        struct cl_msg m = {.type = CL_READY};

        m.count = strtoull(a->status_buf + 1, NULL, 10);
        snprintf(m.run, sizeof(m.run), "%s", a->run);
        send_msg(a, &m);
        a->state = ST_READY;
        cl_logf("run %s: ready", a->run);
    } else if (n == 0 && a->status_buf[0] == 'E' && !a->dropped) {
        cl_logf("run %s: %s", a->run, a->status_buf + 1);
        send_failed(a, a->run, 2, a->status_buf + 1);
        a->dropped = 1;
    }
    if (n == 0) {
        close(a->status_fd);
        a->status_fd = -1;
    }
}

/* ------------------------------------------------------------- figures */

/* Seconds of the child's series from seconds_sent up to (not including) upto. */
static int add_seconds(struct agent *a, struct shm_delta *d, uint64_t upto)
{
    const struct shm_header *h = a->seg.hdr;
    uint64_t from = a->seconds_sent;

    if (upto > from + SHM_SERIES)
        from = upto - SHM_SERIES;
    if (upto <= from)
        return 0;
    d->seconds = calloc(upto - from, sizeof(*d->seconds));
    if (!d->seconds)
        return -ENOMEM;
    for (uint64_t s = from; s < upto; s++) {
        struct shm_second row = {.second = s + 1};
        int any = 0;

        for (uint32_t w = 0; w < h->nslots; w++) {
            const struct shm_second *e = &shm_slot(&a->seg, w)->series[s % SHM_SERIES];

            if (__atomic_load_n(&e->second, __ATOMIC_ACQUIRE) != s + 1)
                continue;
            any = 1;
            row.hits += shm_load(&e->hits);
            row.errors += shm_load(&e->errors);
            row.runs += shm_load(&e->runs);
            row.dropped += shm_load(&e->dropped);
            if (shm_load(&e->p50_us) > row.p50_us)
                row.p50_us = shm_load(&e->p50_us);
            if (shm_load(&e->p99_us) > row.p99_us)
                row.p99_us = shm_load(&e->p99_us);
        }
        if (any)
            d->seconds[d->nseconds++] = row;
    }
    a->seconds_sent = upto;
    return 0;
}

static void send_pending(struct agent *a, struct pending *p)
{
    cl_send_raw(a->sock, NULL, p->buf, p->len);
    p->sent_ms = cl_now_ms();
}

/*
 * Sends the deltas since the last message.  final: the run is over, every
 * second of its series goes too.  When the queue of unacked deltas is
 * full nothing is computed: the next delta covers this one's time too.
 */
static void send_delta(struct agent *a, int final)
{
    const struct shm_header *h = a->seg.hdr;
    struct cl_msg m = {.type = CL_STATS};
    struct shm_stats cur;
    struct pending *p;
    int64_t now_us, end;

    if (!h || a->dropped || a->nq == PENDING_MAX)
        return;
    if (shm_stats_collect(&cur, &a->seg) < 0)
        return;
    if (shm_delta_diff(&m.d, &a->prev, &cur) < 0) {
        shm_stats_free(&cur);
        return;
    }
    end = __atomic_load_n(&h->ended_mono_us, __ATOMIC_RELAXED);
    now_us = final && end ? end : shm_mono_us();
    /* A worker writes a second once it is over, up to 100 ms late (its loop's
     * tick), and a second is sent once: until the run is over, only those
     * SERIES_SLACK_US past their end (sent at once, a second missed the rows
     * of the workers that had not closed it: 14% of a 4 s run's hits). */
    if (!final)
        now_us = now_us - SERIES_SLACK_US > h->started_mono_us ? now_us - SERIES_SLACK_US
                                                                 : h->started_mono_us;
    add_seconds(a, &m.d, (uint64_t)((now_us - h->started_mono_us) / 1000000) + (final ? 1 : 0));
    m.d.cycle = __atomic_load_n(&h->cycle, __ATOMIC_RELAXED);
    /* The runs of this agent's stripe due by a stop: known here only, once
     * its supervisor has counted them (before the run is DONE). */
    if (final && h->rate_stages && __atomic_load_n(&h->state, __ATOMIC_ACQUIRE) == SHM_RUN_DONE &&
        h->due_runs != SHM_DUE_UNKNOWN)
        m.d.due_plus1 = h->due_runs + 1;
    if (h->cycle_started_mono_us > h->started_mono_us)
        m.d.cycle_started = (double)(h->cycle_started_mono_us - h->started_mono_us) / 1e6;
    m.seq = a->seq + 1;
    snprintf(m.run, sizeof(m.run), "%s", a->run);
    p = &a->q[a->nq];
    if (cl_encode(&m, &p->buf, &p->len) < 0) {
        shm_delta_free(&m.d);
        shm_stats_free(&cur);
        return;
    }
    shm_delta_free(&m.d);
    shm_stats_free(&a->prev);
    a->prev = cur;
    a->seq++;
    p->seq = a->seq;
    a->nq++;
    send_pending(a, p);
}

static void on_ack(struct agent *a, const struct cl_msg *m)
{
    uint32_t k = 0;

    if (strcmp(m->run, a->run) != 0)
        return;
    while (k < a->nq && a->q[k].seq <= m->seq)
        free(a->q[k++].buf);
    memmove(a->q, a->q + k, (a->nq - k) * sizeof(a->q[0]));
    a->nq -= k;
}

static void drop_pending(struct agent *a)
{
    for (uint32_t k = 0; k < a->nq; k++)
        free(a->q[k].buf);
    a->nq = 0;
}

/* ------------------------------------------------------------- the run's end */

/* Asks the child to stop: SIGTERM, a second SIGTERM (kills its workers), SIGKILL. */
static void stop_child(struct agent *a, int hard)
{
    int64_t now = cl_now_ms();

    if (a->child <= 0)
        return;
    if (a->state == ST_BUILDING || a->state == ST_READY) {
        kill(a->child, SIGKILL);
        return;
    }
    if (a->stops == 0 || (hard && a->stops == 1)) {
        kill(a->child, SIGTERM);
        a->stops++;
        a->next_stop_ms = now + 1000;
    }
    if (hard && a->stops == 1) {
        kill(a->child, SIGTERM);
        a->stops++;
        a->next_stop_ms = now + 1000;
    }
}

/* Escalates a stop that is taking too long. */
static void escalate_stop(struct agent *a)
{
    if (a->child <= 0 || !a->stops || cl_now_ms() < a->next_stop_ms)
        return;
    kill(a->child, a->stops >= 2 ? SIGKILL : SIGTERM);
    a->stops++;
    a->next_stop_ms = cl_now_ms() + 1000;
}

/* The child's segment, once it exists. */
static void try_attach(struct agent *a)
{
    char err[256];

    if (a->seg.hdr || a->child <= 0)
        return;
    if (shm_attach(&a->seg, a->child, err, sizeof(err)) < 0)
        a->seg.hdr = NULL;
}

/* Frees the run's resources and goes back to idle. */
static void end_run(struct agent *a)
{
    if (a->seg.hdr)
        shm_destroy(&a->seg);
    memset(&a->seg, 0, sizeof(a->seg));
    shm_stats_free(&a->prev);
    memset(&a->prev, 0, sizeof(a->prev));
    if (a->fifo_fd >= 0)
        close(a->fifo_fd);
    a->fifo_fd = -1;
    if (a->status_fd >= 0)
        close(a->status_fd);
    a->status_fd = -1;
    if (a->start_fd >= 0)
        close(a->start_fd);
    a->start_fd = -1;
    unlink(a->fifo);
    shm_clean_stale();
    a->child = 0;
    a->state = ST_IDLE;
}

/* The child exited with status: last figures, done, idle. */
static void child_exited(struct agent *a, int status)
{
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : RUNNER_FAILED;

    read_status(a);
    if (a->state == ST_RUNNING || a->state == ST_FINISHING) {
        try_attach(a);
        send_delta(a, 1);
        if (!a->dropped) {
            struct cl_msg m = {.type = CL_DONE, .seq = a->seq, .status = code};

            snprintf(m.run, sizeof(m.run), "%s", a->run);
            send_msg(a, &m);
        }
        cl_logf("run %s: done, status %d%s", a->run, code,
              WIFSIGNALED(status) ? " (its supervisor was killed)" : "");
    } else if (!a->dropped && a->state != ST_IDLE) {
        send_failed(a, a->run, code == 2 ? 2 : 1,
                    WIFSIGNALED(status) ? "the run was stopped before its start"
                                        : "the test could not be loaded");
    }
    end_run(a);
}

static void reap(struct agent *a)
{
    int status;
    pid_t pid;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
        if (pid == a->child)
            child_exited(a, status);
}

/* Once the run is marked done in its segment: final figures, then let the child go. */
static void check_finished(struct agent *a)
{
    char buf[4096];

    if (a->state == ST_RUNNING && a->seg.hdr &&
        __atomic_load_n(&a->seg.hdr->state, __ATOMIC_ACQUIRE) == SHM_RUN_DONE) {
        send_delta(a, 1);
        a->state = ST_FINISHING;
        /* O_RDWR: never blocks, and never reads an end of file meanwhile. */
        a->fifo_fd = open(a->fifo, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    }
    if (a->fifo_fd >= 0)
        while (read(a->fifo_fd, buf, sizeof(buf)) > 0)
            ;
}

/* ------------------------------------------------------------- messages */

static void on_message(struct agent *a, struct cl_msg *m)
{
    a->heard_ms = cl_now_ms();
    if (a->broker_lost) {
        cl_logf("the broker answers again");
        a->broker_lost = 0;
    }
    switch (m->type) {
    case CL_WELCOME:
        if (!a->welcomed)
            cl_logf("registered with %s", a->endpoint);
        a->welcomed = 1;
        break;
    case CL_WHO:
        a->welcomed = 0;
        send_hello(a);
        break;
    case CL_RUN:
        on_run(a, m);
        break;
    case CL_START:
        if (a->state == ST_READY && strcmp(m->run, a->run) == 0) {
            struct go go = {'S', m->agents, (uint32_t)m->count};

            fd_write_all(a->start_fd, &go, sizeof(go));
            close(a->start_fd);
            a->start_fd = -1;
            a->state = ST_RUNNING;
            a->next_delta_ms = cl_now_ms() + TICK_MS;
            cl_logf("run %s: started", a->run);
        }
        break;
    case CL_STOP:
        if (a->state != ST_IDLE && strcmp(m->run, a->run) == 0) {
            cl_logf("run %s: stop%s", a->run, m->hard ? " now" : "");
            stop_child(a, m->hard);
        }
        break;
    case CL_ACK:
        on_ack(a, m);
        break;
    default:
        break;
    }
}

static void tick(struct agent *a)
{
    int64_t now = cl_now_ms();

    if (a->heard_ms && now - a->heard_ms > CL_TIMEOUT_MS && !a->broker_lost) {
        a->broker_lost = 1;
        a->welcomed = 0;
        cl_logf("no word from the broker for %d s%s", CL_TIMEOUT_MS / 1000,
              a->state != ST_IDLE ? ": stopping the run" : "");
        if (a->state != ST_IDLE) {
            a->dropped = 1;
            drop_pending(a);
            stop_child(a, 1);
        }
    }
    if (!a->heard_ms && !a->warned_silent && now - a->started_ms > CL_TIMEOUT_MS) {
        char err[512];

        a->warned_silent = 1;
        if (cl_auth_failure(a->sock, err, sizeof(err)) < 0)
            cl_logf("%s", err);
        else
            cl_logf("no answer from %s yet: is the broker running%s? still trying",
                  a->endpoint, a->keys.have ? ", and is this agent's public key in its "
                                              "--allow folder" : "");
    }
    if (now >= a->hb_ms) {
        if (!a->welcomed) {
            send_hello(a);
        } else {
            struct cl_msg m = {.type = CL_HB};

            snprintf(m.state, sizeof(m.state), "%s", state_name(a));
            snprintf(m.run, sizeof(m.run), "%s",
                     a->state == ST_IDLE || a->dropped ? "" : a->run);
            send_msg(a, &m);
        }
        a->hb_ms = now + CL_HB_MS;
    }
    if (a->state == ST_RUNNING) {
        try_attach(a);
        if (now >= a->next_delta_ms) {
            send_delta(a, 0);
            a->next_delta_ms = now + TICK_MS;
        }
    }
    if (a->nq && now - a->q[0].sent_ms > RESEND_MS && !a->dropped) {
        cl_logf("run %s: sending %u unacknowledged delta%s again (from %llu)", a->run, a->nq,
              a->nq == 1 ? "" : "s", (unsigned long long)a->q[0].seq);
        for (uint32_t k = 0; k < a->nq; k++)
            send_pending(a, &a->q[k]);
    }
    check_finished(a);
    escalate_stop(a);
}

static void serve(struct agent *a)
{
    a->started_ms = cl_now_ms();
    send_hello(a);
    a->hb_ms = cl_now_ms() + CL_HB_MS;
    while (!cl_stop_signal) {
        struct cl_msg m;
        char err[256];
        int rc;

        cl_poll(&a->sock, 1, 100);
        while ((rc = cl_recv(a->sock, NULL, &m, err, sizeof(err))) != -EAGAIN) {
            if (rc == -EPROTO) {
                cl_logf("dropped a message from the broker: %s", err);
                continue;
            }
            if (rc < 0)
                break;
            on_message(a, &m);
            cl_msg_free(&m);
        }
        if (a->status_fd >= 0)
            read_status(a);
        reap(a);
        tick(a);
    }
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    remove(path); /* what cannot be removed stays; the rest goes */
    return 0;
}

/* Removes this agent's own folder (workdir/agent-PID) and what is in it. */
static void remove_own_folder(const struct agent *a)
{
    nftw(a->workdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The default work folder: $XDG_CACHE_HOME/loads/agent, or ~/.cache/loads/agent. */
static void default_workdir(char *out, size_t len)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");

    if (xdg && *xdg)
        snprintf(out, len, "%s/loads/agent", xdg);
    else if (home && *home)
        snprintf(out, len, "%s/.cache/loads/agent", home);
    else
        snprintf(out, len, "/tmp/loads-agent-%d", (int)getuid());
}

static const char usage[] =
    "Usage: loads-agent [--broker ENDPOINT] [--key NAME --broker-key FILE]\n"
    "\n"
    "An agent of a Loads cluster: connects out to the broker, registers, and\n"
    "runs the tests it is sent with its own workers, sending the figures back\n"
    "once a second.  It registers again by itself when the broker restarts, and\n"
    "stops a run within seconds when the broker goes silent.  It logs to stderr\n"
    "and stops on SIGTERM or SIGINT (and stops its run first).\n"
    "\n"
    "Options:\n"
    "  --broker E        the broker's endpoint (default " CL_DEFAULT_ENDPOINT ")\n"
    "  --key NAME        this agent's key pair, NAME_secret (loads-broker --keygen)\n"
    "  --broker-key FILE the broker's public key (the file NAME of its pair)\n"
    "  --name NAME       the name it registers under (default: the host name)\n"
    "  --work-dir DIR    where shipped tests are written and built, in a folder\n"
    "                    agent-PID of its own, removed when it stops (default\n"
    "                    $XDG_CACHE_HOME/loads/agent or ~/.cache/loads/agent)\n"
    "  --version, -h, --help\n";

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"broker", required_argument, NULL, 'b'},   {"key", required_argument, NULL, 'k'},
        {"broker-key", required_argument, NULL, 's'}, {"name", required_argument, NULL, 'n'},
        {"work-dir", required_argument, NULL, 'w'}, {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    static struct agent a;
    const char *key = NULL, *broker_key = NULL;
    char err[1024];
    int c;

    /* A run's child (start_child): not a command of its own. */
    if (argc == 3 && strcmp(argv[1], "--child") == 0)
        return child_exec_main(argv[2]);
    cl_daemon_start("loads-agent");

    a.endpoint = CL_DEFAULT_ENDPOINT;
    a.status_fd = a.start_fd = a.fifo_fd = -1;
    gethostname(a.host, sizeof(a.host) - 1);
    default_workdir(a.workdir, sizeof(a.workdir));
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'b': a.endpoint = optarg; break;
        case 'k': key = optarg; break;
        case 's': broker_key = optarg; break;
        case 'n': snprintf(a.host, sizeof(a.host), "%s", optarg); break;
        case 'w': snprintf(a.workdir, sizeof(a.workdir), "%s", optarg); break;
        case 'V': printf("loads-agent %s\n", LOADS_VERSION); return 0;
        case 'h': fputs(usage, stdout); return 0;
        default:
            cl_logf("unknown option or missing value: %s; see --help", argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        cl_logf("unexpected '%s'; see --help", argv[optind]);
        return 2;
    }
    if (!key != !broker_key) {
        cl_logf("--key and --broker-key go together: this agent's keys and the broker's");
        return 2;
    }
    if (key && cl_keys_load(&a.keys, key, broker_key, err, sizeof(err)) < 0) {
        cl_logf("%s", err);
        return 2;
    }
    /* A folder of its own: agents of one machine may share the work folder. */
    {
        size_t n = strlen(a.workdir);

        snprintf(a.workdir + n, sizeof(a.workdir) - n, "/agent-%d", (int)getpid());
    }
    if (make_parents(a.workdir) < 0 || (mkdir(a.workdir, 0700) < 0 && errno != EEXIST)) {
        cl_logf("cannot make the work folder %s: %s", a.workdir, strerror(errno));
        return 2;
    }
    /* One routing id for the agent's life: after a cut connection the
     * broker reaches it again under the same id.  Random, so that a
     * stranger cannot guess it; never starting with a 0 byte (ZeroMQ's
     * own ids do). */
    {
        char id[CL_HOST_LEN + 64];
        unsigned char rnd[8] = {0};
        FILE *f = fopen("/dev/urandom", "rb");

        if (!f || fread(rnd, 1, sizeof(rnd), f) != sizeof(rnd))
            snprintf((char *)rnd, sizeof(rnd), "%07x", (unsigned)cl_now_ms());
        if (f)
            fclose(f);
        snprintf(id, sizeof(id), "agent/%.64s/%d/%02x%02x%02x%02x%02x%02x%02x%02x", a.host,
                 (int)getpid(), rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
        a.sock = cl_connect(a.endpoint, &a.keys, id, err, sizeof(err));
    }
    if (!a.sock) {
        cl_logf("%s", err);
        cl_ctx_close();
        return 2;
    }
    cl_logf("%s:%d connecting to %s%s", a.host, (int)getpid(), a.endpoint,
          a.keys.have ? " with CURVE keys" : "");
    serve(&a);
    cl_logf("stopping on signal %d", (int)cl_stop_signal);
    if (a.child > 0) {
        a.dropped = 1;
        stop_child(&a, 1);
        for (int i = 0; i < 30 && a.child > 0; i++) {
            usleep(100000);
            reap(&a);
            escalate_stop(&a);
        }
        if (a.child > 0) {
            kill(a.child, SIGKILL);
            waitpid(a.child, NULL, 0);
            end_run(&a);
        }
    }
    drop_pending(&a);
    remove_own_folder(&a);
    cl_close(a.sock);
    cl_ctx_close();
    return 0;
}
