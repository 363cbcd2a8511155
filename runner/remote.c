/*
 * loads-runner's side of the cluster: --agents N sends the test's source
 * to a broker, waits for the start barrier and shows the merged stream
 * with the same dashboard, summary, JSON and exit status as a local run.
 *
 * How: the runner makes a segment of its own with one slot per agent and
 * adds each agent's deltas into that agent's slot (it is the slots' only
 * writer), so shm_stats_collect, the dashboard and the summary read it as
 * they read a local run; a per-agent table follows the summary.
 *
 * Also here: --attach RUN_ID on a broker (the same loop, from snapshots),
 * --detach, --ping-broker, --check-cluster and --purge-broker.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/sigecho.h"
#include "cluster/net.h"
#include "runner/runner.h"
#include "tui/tui.h"
#include "web/web.h"

#define ANSWER_MS     10000   /* a broker that says nothing for this long is not there */
#define MAX_FILE      (8u << 20)
#define POLL_MS       50

struct files {
    struct cl_file f[CL_MAX_FILES];
    uint8_t *data[CL_MAX_FILES];
    uint32_t n;
};

struct remote {
    const struct runner_opts *o;
    const char *endpoint;
    struct cl_keys keys;
    void *sock;
    char run[CL_RUN_LEN];
    uint32_t nagents;
    /*
     * The web view's thread reads the agents table (agent_snapshot) while
     * this thread changes it: lock guards agents[] and lost_broker once the
     * segment is published to the view (web_set_shm, after setup_run).
     */
    pthread_mutex_t lock;
    struct web *web;
    struct tui_agent agents[CL_MAX_AGENTS];
    int32_t pids[CL_MAX_AGENTS];
    uint64_t seq[CL_MAX_AGENTS];  /* last delta added, per agent */
    struct shm_recent recent[CL_MAX_AGENTS];
    struct hist *scratch;         /* one delta's latency, for the recent window */
    struct shm shm;
    int have_shm;
    int64_t heard_ms;
    int64_t next_hb_ms;     /* waiting for the start: our next heartbeat (0: none) */
    int ended;
    int refused;                  /* the broker refused or the run failed: status */
    int lost_broker;
    struct tui_dash *dash;
    int progress, plain;
    int64_t plain_next_us;
    /* What submit sends (prepare). */
    struct files fs;
    struct cl_spec spec;
    /* LOADS_SETUP_ONCE, LOADS_TEARDOWN_ONCE: run here (load_once). */
    int once;
    struct runner_tests tests;
    struct csv data;
    struct runner_values values;
};

static volatile sig_atomic_t stop_signals, last_signal;
static struct sig_last last_seen; /* to tell an echo (base/sigecho.h) */

static void on_stop_signal(int sig, siginfo_t *si, void *uc)
{
    if (sig_is_echo(&last_seen, sig, si))
        return;
    last_signal = sig;
    stop_signals++;
}

/*
 * Records why the runner stopped its run, for the summary and the exit
 * status, as a local run's supervisor does (request_stop): a signal, or q
 * in the dashboard; a stop once a duration plan has run its time changes
 * nothing.
 */
static void record_stop(struct shm_header *h, int key)
{
    int64_t now = shm_mono_us();
    int ran_its_time = h->duration_us && h->cycle + 1 >= h->ncycles &&
                       h->cycle_started_mono_us &&
                       now >= h->cycle_started_mono_us + (int64_t)h->duration_us;

    if (h->stop_mono_us)
        return;
    h->stop_mono_us = now;
    /* Each agent's schedule began at its own time: which runs were due by
     * the stop is known there, not here. */
    if (!ran_its_time && h->rate_stages)
        h->due_runs = SHM_DUE_UNKNOWN;
    if (!ran_its_time) {
        h->stop_cause = key ? SHM_STOP_KEY : SHM_STOP_SIGNAL;
        h->stop_signal = key ? 0 : last_signal;
    }
}

static void install_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_stop_signal;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGINT);
    sigaddset(&sa.sa_mask, SIGTERM);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int runner_is_remote(const struct runner_opts *o)
{
    return o->agents || o->broker_cmd || (o->attach && o->broker_given);
}

/* ------------------------------------------------------------------ files */

static void files_free(struct files *fs)
{
    for (uint32_t i = 0; i < fs->n; i++)
        free(fs->data[i]);
    fs->n = 0;
}

/* Reads path (shipped as name) into fs, once.  Returns 0 or -1 with err. */
static int add_file(struct files *fs, const char *path, const char *name, char *err,
                    size_t errlen)
{
    struct stat st;
    FILE *f;
    uint8_t *buf;

    for (uint32_t i = 0; i < fs->n; i++)
        if (strcmp(fs->f[i].name, name) == 0)
            return 0;
    if (fs->n == CL_MAX_FILES) {
        snprintf(err, errlen, "more than %d files to send to the agents", CL_MAX_FILES);
        return -1;
    }
    if (strlen(name) >= CL_PATH_LEN || name[0] == '/' || strstr(name, "..")) {
        snprintf(err, errlen, "cannot send %s to the agents: use a relative path without "
                              "'..' under the current folder", name);
        return -1;
    }
    if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) || !(f = fopen(path, "rb"))) {
        snprintf(err, errlen, "cannot read %s: %s", path,
                 errno ? strerror(errno) : "not a file");
        return -1;
    }
    if ((size_t)st.st_size > MAX_FILE || !(buf = malloc((size_t)st.st_size + 1))) {
        snprintf(err, errlen, "%s is too large to send (%lld bytes, at most %u)", path,
                 (long long)st.st_size, MAX_FILE);
        fclose(f);
        return -1;
    }
    if (fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
        snprintf(err, errlen, "cannot read %s", path);
        free(buf);
        fclose(f);
        return -1;
    }
    fclose(f);
    snprintf(fs->f[fs->n].name, sizeof(fs->f[fs->n].name), "%s", name);
    fs->f[fs->n].data = buf;
    fs->f[fs->n].len = (size_t)st.st_size;
    fs->data[fs->n++] = buf;
    return 0;
}

/*
 * Adds the files that file idx includes with #include "...", found next
 * to it, and theirs in turn (fs grows while the loop runs).
 */
static int add_includes(struct files *fs, const char *root, char *err, size_t errlen)
{
    for (uint32_t i = 0; i < fs->n; i++) {
        const char *p = (const char *)fs->f[i].data, *end = p + fs->f[i].len;
        char dir[CL_PATH_LEN];
        const char *slash = strrchr(fs->f[i].name, '/');

        snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - fs->f[i].name + 1) : 0,
                 fs->f[i].name);
        while (p < end) {
            const char *line_end = memchr(p, '\n', (size_t)(end - p));
            const char *q = p, *open, *close;
            char name[CL_PATH_LEN * 2], path[PATH_MAX + CL_PATH_LEN * 2];
            struct stat st;

            if (!line_end)
                line_end = end;
            while (q < line_end && (*q == ' ' || *q == '\t'))
                q++;
            if (q < line_end && *q == '#' &&
                (open = memchr(q, '"', (size_t)(line_end - q))) &&
                (close = memchr(open + 1, '"', (size_t)(line_end - open - 1))) &&
                (size_t)(line_end - q) > 8 && memmem(q, (size_t)(open - q), "include", 7)) {
                snprintf(name, sizeof(name), "%s%.*s", dir, (int)(close - open - 1), open + 1);
                snprintf(path, sizeof(path), "%s/%s", root, name);
                if (!strstr(name, "..") && stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
                    add_file(fs, path, name, err, errlen) < 0)
                    return -1;
            }
            p = line_end + 1;
        }
    }
    return 0;
}

/*
 * The files of the test: module.c (in . or a LOADS_PATH folder), what it
 * includes with quotes, and the --include-file ones.
 */
static int collect_files(const struct runner_opts *o, struct files *fs, char *err,
                         size_t errlen)
{
    char module[PATH_MAX], dirs[4096], *dir, *save = NULL;
    const char *path = getenv("LOADS_PATH"), *last;
    int parts = 1;

    for (const char *p = o->test; *p; p++)
        parts += *p == '.';
    if (parts < 2 || strlen(o->test) >= sizeof(module)) {
        snprintf(err, errlen, "invalid test name '%s': use module.Suite.test or module.Suite",
                 o->test);
        return -1;
    }
    snprintf(module, sizeof(module), "%s", o->test);
    /* module[.more].Suite[.test]: drop the last part, and the one before
     * it when there are three or more. */
    for (int drop = parts >= 3 ? 2 : 1; drop > 0; drop--)
        *strrchr(module, '.') = '\0';
    for (char *p = module; *p; p++)
        if (*p == '.')
            *p = '/';
    last = module;
    snprintf(dirs, sizeof(dirs), ".%s%s", path && *path ? ":" : "", path ? path : "");
    for (dir = strtok_r(dirs, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
        char cand[PATH_MAX + 8], name[PATH_MAX + 4];
        struct stat st;

        snprintf(cand, sizeof(cand), "%s/%s.c", dir, last);
        if (stat(cand, &st) < 0)
            continue;
        snprintf(name, sizeof(name), "%s.c", last);
        if (add_file(fs, cand, name, err, errlen) < 0 ||
            add_includes(fs, dir, err, errlen) < 0)
            return -1;
        for (uint32_t i = 0; i < o->ninclude_files; i++)
            if (add_file(fs, o->include_files[i], o->include_files[i], err, errlen) < 0)
                return -1;
        return 0;
    }
    snprintf(err, errlen, "--agents sends the module's source: no %s.c in the current "
                          "folder%s (a .so cannot be built on the agents)", module,
             path && *path ? " or LOADS_PATH" : "");
    return -1;
}

/* ------------------------------------------------------------- connection */

static int open_broker(struct remote *r, char *err, size_t errlen)
{
    const struct runner_opts *o = r->o;

    r->endpoint = o->broker[0] ? o->broker : CL_DEFAULT_ENDPOINT;
    if (!o->key[0] != !o->broker_key[0]) {
        snprintf(err, errlen, "--key and --broker-key go together: this runner's keys and "
                              "the broker's public key");
        return -EINVAL;
    }
    if (o->key[0] && cl_keys_load(&r->keys, o->key, o->broker_key, err, errlen) < 0)
        return -EINVAL;
    r->sock = cl_connect(r->endpoint, &r->keys, NULL, err, errlen);
    return r->sock ? 0 : -EINVAL;
}

/*
 * Waits up to ms for one message, answering nothing.  Returns 0 with m,
 * -ETIMEDOUT, -EACCES (the handshake failed: err says why), -EINTR.
 */
static int wait_message(struct remote *r, struct cl_msg *m, int64_t ms, char *err,
                        size_t errlen)
{
    int64_t until = cl_now_ms() + ms;

    for (;;) {
        int rc;

        /* A watcher's heartbeats: a broker that hears nothing from it for
         * CL_TIMEOUT_MS drops it, and fails a run still building. */
        if (r->next_hb_ms && cl_now_ms() >= r->next_hb_ms) {
            struct cl_msg hb = {.type = CL_HB};

            snprintf(hb.state, sizeof(hb.state), "running");
            snprintf(hb.run, sizeof(hb.run), "%s", r->run);
            cl_send(r->sock, NULL, &hb);
            r->next_hb_ms = cl_now_ms() + CL_HB_MS;
        }
        rc = cl_recv(r->sock, NULL, m, err, errlen);
        if (rc == 0) {
            r->heard_ms = cl_now_ms();
            if (m->type != CL_HB)
                return 0;
            /* The broker is there: a long build is worth waiting for. */
            until = r->heard_ms + ms;
            cl_msg_free(m);
            continue;
        }
        if (rc == -EPROTO)
            return rc;
        if (cl_auth_failure(r->sock, err, errlen) < 0)
            return -EACCES;
        if (stop_signals)
            return -EINTR;
        if (cl_now_ms() >= until)
            return -ETIMEDOUT;
        cl_poll(&r->sock, 1, POLL_MS);
    }
}

/* The one line for a broker that did not answer. */
static void no_answer(struct remote *r, int rc, const char *err)
{
    if (rc == -EACCES || rc == -EPROTO)
        fprintf(stderr, "loads-runner: %s: %s\n", r->endpoint, err);
    else if (rc == -EINTR)
        fprintf(stderr, "loads-runner: interrupted while waiting for the broker %s\n",
                r->endpoint);
    else
        fprintf(stderr, "loads-runner: no answer from the broker %s in %d s: is it "
                        "running%s?\n", r->endpoint, ANSWER_MS / 1000,
                r->keys.have ? ", and is this runner's public key in its --allow folder"
                             : ", and does it want keys (--key, --broker-key)");
}

/* Sends m and waits for the answer of type want (or refused). */
static int ask(struct remote *r, struct cl_msg *m, enum cl_type want, struct cl_msg *answer)
{
    char err[1024];
    int rc;

    cl_send(r->sock, NULL, m);
    for (;;) {
        rc = wait_message(r, answer, ANSWER_MS, err, sizeof(err));
        if (rc < 0) {
            no_answer(r, rc, err);
            return RUNNER_USAGE;
        }
        if (answer->type == want)
            return 0;
        if (answer->type == CL_REFUSED) {
            char line[CL_ERROR_LEN];

            snprintf(line, sizeof(line), "%s", answer->error);
            runner_one_line(line);
            fprintf(stderr, "loads-runner: %s\n", line);
            rc = answer->status > 0 && answer->status < 256 ? (int)answer->status
                                                            : RUNNER_USAGE;
            cl_msg_free(answer);
            return rc;
        }
        cl_msg_free(answer);
    }
}

/* ------------------------------------------------------------- broker commands */

static int broker_command(struct remote *r)
{
    struct cl_msg m = {0}, a;
    int rc;

    m.type = r->o->broker_cmd == RUNNER_BROKER_PING    ? CL_PING
             : r->o->broker_cmd == RUNNER_BROKER_CHECK ? CL_LIST
                                                       : CL_PURGE;
    rc = ask(r, &m, m.type == CL_PING ? CL_PONG : m.type == CL_LIST ? CL_CLUSTER : CL_PURGED,
             &a);
    if (rc)
        return rc;
    if (a.type == CL_PONG) {
        printf("broker %s answers: Loads %s, %u agent%s\n", r->endpoint, a.sw, a.agents,
               a.agents == 1 ? "" : "s");
    } else if (a.type == CL_PURGED) {
        printf("broker %s: stopping %llu run%s\n", r->endpoint, (unsigned long long)a.count,
               a.count == 1 ? "" : "s");
    } else {
        printf("Agents: %u\n", a.nlist);
        if (a.nlist)
            printf("  %-32s %8s  %-8s %-9s %s\n", "Host", "Pid", "Version", "State", "Run");
        for (uint32_t i = 0; i < a.nlist; i++)
            printf("  %-32s %8lld  %-8s %-9s %s\n", a.list[i].host, (long long)a.list[i].pid,
                   a.list[i].version, a.list[i].state, a.list[i].run[0] ? a.list[i].run : "-");
        printf("Runs: %u\n", a.nruns);
        if (a.nruns)
            printf("  %-16s  %-9s %6s %9s  %s\n", "Run", "State", "Agents", "Elapsed", "Test");
        for (uint32_t i = 0; i < a.nruns; i++)
            printf("  %-16s  %-9s %6u %8.1fs  %s\n", a.runs[i].run, a.runs[i].state,
                   a.runs[i].agents, a.runs[i].elapsed, a.runs[i].test);
    }
    cl_msg_free(&a);
    return RUNNER_OK;
}

/* ------------------------------------------------------------- the run */

/* The local segment for the run that info describes. */
static int setup_run(struct remote *r, const struct cl_msg *info)
{
    const struct cl_spec *sp = &info->spec;
    struct shm_header *h;
    char err[256];

    r->nagents = info->nlist < CL_MAX_AGENTS ? info->nlist : CL_MAX_AGENTS;
    if (!r->nagents) {
        fprintf(stderr, "loads-runner: run %s has no agents\n", info->run);
        return -1;
    }
    shm_clean_stale();
    if (shm_create(&r->shm, r->nagents, err, sizeof(err)) < 0) {
        fprintf(stderr, "loads-runner: %s\n", err);
        return -1;
    }
    r->have_shm = 1;
    h = r->shm.hdr;
    h->started_us = info->started_us ? info->started_us : shm_now_us();
    h->started_mono_us = shm_mono_us() - (int64_t)(info->at * 1e6);
    h->planned_runs = info->count;
    h->duration_us = sp->duration_us;
    h->ncycles = sp->nusers;
    for (uint32_t k = 0; k < sp->nusers && k < SHM_MAX_CYCLES; k++)
        h->cycle_users[k] = sp->users[k] * r->nagents;
    h->cycle_started_mono_us = h->started_mono_us;
    if (sp->nrates) {
        /*
         * The open model: the rate is the whole run's, split among the
         * agents, each with a pool of its own: the pools add up.
         */
        struct arrival a;

        if (arrival_init(&a, sp->rate, sp->nrates, sp->duration_us) < 0) {
            fprintf(stderr, "loads-runner: run %s has an invalid --rate schedule\n",
                    info->run);
            return -1;
        }
        runner_rate_header(h, &a, sp->users[0] * r->nagents, sp->max_users * r->nagents, 0, 1);
    }
    snprintf(h->test, sizeof(h->test), "%s", sp->test);
    snprintf(h->server_url, sizeof(h->server_url), "%s", sp->server_url);
    for (uint32_t i = 0; i < r->nagents; i++) {
        struct shm_slot *slot = shm_slot(&r->shm, i);

        snprintf(r->agents[i].name, sizeof(r->agents[i].name), "%s:%lld", info->list[i].host,
                 (long long)info->list[i].pid);
        r->agents[i].state = "running";
        r->pids[i] = (int32_t)info->list[i].pid;
        slot->pid = r->pids[i];
        slot->users = sp->users[0];
        if (sp->nrates)
            slot->users = sp->max_users;
        slot->state = SHM_WORKER_RUNNING;
    }
    h->state = strcmp(info->state, "done") == 0 ? SHM_RUN_DONE : SHM_RUN_RUNNING;
    if (r->web)
        web_set_shm(r->web, &r->shm);
    return 0;
}

static void on_stats(struct remote *r, struct cl_msg *m)
{
    struct shm_header *h = r->shm.hdr;
    struct shm_slot *slot;
    uint32_t i = m->agents;

    if (i >= r->nagents)
        return;
    slot = shm_slot(&r->shm, i);
    if (m->reset) {
        uint32_t state = slot->state;

        memset(slot, 0, sizeof(*slot));
        slot->pid = r->pids[i];
        slot->state = state;
        shm_recent_free(&r->recent[i]);
    } else if (m->seq != r->seq[i] + 1) {
        /* A delta went missing on the way: ask for the whole run again. */
        struct cl_msg again = {.type = CL_ATTACH};

        snprintf(again.run, sizeof(again.run), "%s", r->run);
        cl_send(r->sock, NULL, &again);
        return;
    }
    shm_delta_apply(slot, &m->d);
    r->seq[i] = m->seq;
    if (!m->reset && r->scratch) {
        shm_sparse_add(r->scratch, &m->d.response);
        shm_recent_push(slot, &r->recent[i], r->scratch);
    }
    if (m->d.cycle < h->ncycles) {
        slot->users = h->rate_stages ? h->max_users / r->nagents
                                     : r->o->users[m->d.cycle < r->o->nusers ? m->d.cycle : 0];
        if (m->d.cycle >= h->cycle) {
            h->cycle_started_mono_us = h->started_mono_us + (int64_t)(m->d.cycle_started * 1e6);
            __atomic_store_n(&h->cycle, m->d.cycle, __ATOMIC_RELAXED);
        }
    }
}

static void on_lost(struct remote *r, const struct cl_msg *m)
{
    char text[SHM_MSG_LEN];
    struct shm_slot *slot;

    if (m->agents >= r->nagents)
        return;
    slot = shm_slot(&r->shm, m->agents);
    pthread_mutex_lock(&r->lock);
    r->agents[m->agents].lost = 1;
    r->agents[m->agents].lost_at = m->at;
    r->agents[m->agents].state = "lost";
    pthread_mutex_unlock(&r->lock);
    __atomic_store_n(&slot->state, SHM_WORKER_CRASHED, __ATOMIC_RELAXED);
    shm_store(&slot->c.users_active, 0);
    snprintf(text, sizeof(text), "agent %s lost at %.1f s", r->agents[m->agents].name, m->at);
    if (!r->dash && !r->o->quiet)
        fprintf(stderr, "loads-runner: %s\n", text);
}

static void on_end(struct remote *r, const struct cl_msg *m)
{
    struct shm_header *h = r->shm.hdr;

    pthread_mutex_lock(&r->lock);
    for (uint32_t i = 0; i < m->nlist && i < r->nagents; i++) {
        struct tui_agent *a = &r->agents[i];
        struct shm_slot *slot = shm_slot(&r->shm, i);

        a->status = m->list[i].status;
        if (strcmp(m->list[i].state, "lost") == 0) {
            a->lost = 1;
            a->lost_at = m->list[i].at;
            a->state = "lost";
        } else {
            a->state = strcmp(m->list[i].state, "done") == 0 ? "done" : "failed";
            __atomic_store_n(&slot->state, SHM_WORKER_DONE, __ATOMIC_RELAXED);
        }
        shm_store(&slot->c.users_active, 0);
    }
    pthread_mutex_unlock(&r->lock);
    /* The runs due by an early stop: each agent counted its stripe's (its
     * last delta's du); one that did not say (lost, or older) leaves the
     * whole unknown. */
    if (h->due_runs == SHM_DUE_UNKNOWN && r->nagents) {
        uint64_t due = 0;
        uint32_t i;

        for (i = 0; i < r->nagents; i++) {
            uint64_t d = shm_load(&shm_slot(&r->shm, i)->due_plus1);

            if (!d)
                break;
            due += d - 1;
        }
        if (i == r->nagents)
            h->due_runs = due;
    }
    h->ended_mono_us = h->started_mono_us + (int64_t)(m->at * 1e6);
    __atomic_store_n(&h->state, SHM_RUN_DONE, __ATOMIC_RELEASE);
    r->ended = 1;
}

/* Handles every message waiting; returns when none is left. */
static void drain(struct remote *r)
{
    struct cl_msg m;
    char err[256];
    int rc;

    while ((rc = cl_recv(r->sock, NULL, &m, err, sizeof(err))) != -EAGAIN) {
        if (rc < 0) {
            if (rc != -EPROTO)
                break;
            continue;
        }
        r->heard_ms = cl_now_ms();
        if (strcmp(m.run, r->run) == 0 || m.type == CL_HB) {
            switch (m.type) {
            case CL_STATS: on_stats(r, &m); break;
            case CL_LOST: on_lost(r, &m); break;
            case CL_END: on_end(r, &m); break;
            default: break;
            }
        }
        if (m.type == CL_REFUSED) {
            char line[CL_ERROR_LEN];

            snprintf(line, sizeof(line), "%s", m.error);
            runner_one_line(line);
            if (r->dash)
                tui_dash_close(r->dash);
            r->dash = NULL;
            fprintf(stderr, "loads-runner: %s\n", line);
            r->refused = m.status > 0 && m.status < 256 ? (int)m.status : RUNNER_FAILED;
            r->ended = 1;
        }
        cl_msg_free(&m);
    }
}

/* Each agent's counts, from its slot, into a (n agents). */
static void fill_agent_counts(const struct shm *s, struct tui_agent *a, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        const struct shm_slot *slot = shm_slot(s, i);

        a[i].hits = shm_load(&slot->c.hits);
        a[i].runs = shm_load(&slot->c.runs);
        a[i].failures = shm_load(&slot->c.failures);
        a[i].errors = shm_load(&slot->c.errors);
    }
}

/*
 * The exit status, as runner_report's, made worse by a lost agent or broker:
 * figures that stop short make a failed run (a failed threshold says more
 * and stays).
 */
static int remote_status(const struct runner_opts *o, const struct shm_header *h,
                         const struct shm_stats *st, struct threshold_result *res,
                         const struct tui_agent *a, uint32_t n, int lost_broker)
{
    int status = runner_exit_status(o, h, st, runner_thresholds(o, st, res));

    for (uint32_t i = 0; i < n; i++)
        if (a[i].lost && status == RUNNER_OK)
            status = RUNNER_FAILED;
    if (lost_broker && status == RUNNER_OK)
        status = RUNNER_FAILED;
    return status;
}

/*
 * web_json_fn of a cluster run: report's document as the run stands, on
 * the web view's thread.  The agents table is copied under the lock; the
 * counts come from the slots, as report's.
 */
static void web_json(FILE *f, const struct shm *s, void *arg)
{
    struct remote *r = arg;
    const struct runner_opts *o = r->o;
    struct threshold_result res[RUNNER_MAX_THRESHOLDS];
    struct tui_checks checks = {o->thresholds, res, o->nthresholds};
    struct tui_agent a[CL_MAX_AGENTS];
    struct shm_stats st;
    uint32_t n;
    int lost_broker;

    pthread_mutex_lock(&r->lock);
    n = r->nagents;
    memcpy(a, r->agents, n * sizeof(a[0]));
    lost_broker = r->lost_broker;
    pthread_mutex_unlock(&r->lock);
    if (shm_stats_collect(&st, s) < 0) {
        fprintf(f, "{\"error\": \"out of memory\"}\n");
        return;
    }
    fill_agent_counts(s, a, n);
    tui_summary_json_agents(f, s->hdr, &st,
                            remote_status(o, s->hdr, &st, res, a, n, lost_broker), &checks,
                            a, n);
    shm_stats_free(&st);
}

/* The summary and the exit status, as runner_report, plus the agents. */
static int report(struct remote *r)
{
    const struct runner_opts *o = r->o;
    const struct shm_header *h = r->shm.hdr;
    struct threshold_result res[RUNNER_MAX_THRESHOLDS];
    struct tui_checks checks = {o->thresholds, res, o->nthresholds};
    struct shm_stats st;
    int status;

    if (shm_stats_collect(&st, &r->shm) < 0) {
        fprintf(stderr, "loads-runner: out of memory for the summary\n");
        return RUNNER_USAGE;
    }
    pthread_mutex_lock(&r->lock);
    fill_agent_counts(&r->shm, r->agents, r->nagents);
    pthread_mutex_unlock(&r->lock);
    /* A hits plan whose every run ended despite a late stop ran its plan. */
    if (h->planned_runs && st.c.runs >= h->planned_runs)
        r->shm.hdr->stop_cause = SHM_STOP_NONE;
    status = remote_status(o, h, &st, res, r->agents, r->nagents, r->lost_broker);
    status = runner_print_summary(o, h, &st, status, &checks, r->agents, r->nagents);
    shm_stats_free(&st);
    return status;
}

static double fraction(struct remote *r)
{
    uint64_t runs = 0;

    for (uint32_t i = 0; i < r->nagents; i++)
        runs += shm_load(&shm_slot(&r->shm, i)->c.runs);
    return tui_run_fraction(r->shm.hdr, runs);
}

/*
 * Shows the run until its end, or until the user detaches (attached) or
 * the broker goes silent.  Ctrl-C or q stops a run this runner started
 * (a second time: at once); attached, they only detach.  Returns 1 when
 * detached before the end.
 */
static int follow(struct remote *r, int attached)
{
    int64_t next_hb = 0;
    int seen = 0, key = 0;

    if (runner_wants_dashboard(r->o))
        r->dash = tui_dash_open(&r->shm, attached ? TUI_DASH_ATTACHED : 0);
    r->progress = !r->dash && !r->o->quiet && isatty(2) && isatty(1);
    r->plain = !r->dash && !r->o->quiet && isatty(2) && !isatty(1);
    r->heard_ms = cl_now_ms();
    while (!r->ended) {
        int64_t now;

        cl_poll(&r->sock, 1, POLL_MS);
        drain(r);
        now = cl_now_ms();
        if (now >= next_hb) {
            struct cl_msg hb = {.type = CL_HB};

            snprintf(hb.state, sizeof(hb.state), "%s", attached ? "watching" : "running");
            snprintf(hb.run, sizeof(hb.run), "%s", r->run);
            cl_send(r->sock, NULL, &hb);
            next_hb = now + CL_HB_MS;
        }
        if (r->dash && tui_dash_tick(r->dash) == TUI_DASH_QUIT) {
            key = 1;
            stop_signals++;
        }
        if (stop_signals != seen) {
            struct cl_msg stop = {.type = CL_STOP, .hard = stop_signals >= 2};

            seen = stop_signals;
            if (attached)
                break;
            snprintf(stop.run, sizeof(stop.run), "%s", r->run);
            cl_send(r->sock, NULL, &stop);
            record_stop(r->shm.hdr, key);
            __atomic_store_n(&r->shm.hdr->stop, 1, __ATOMIC_RELAXED);
            __atomic_store_n(&r->shm.hdr->state, SHM_RUN_STOPPING, __ATOMIC_RELAXED);
        }
        if (now - r->heard_ms > CL_TIMEOUT_MS) {
            pthread_mutex_lock(&r->lock);
            r->lost_broker = 1;
            pthread_mutex_unlock(&r->lock);
            break;
        }
        if (r->progress)
            tui_progress(stderr, fraction(r), 0);
        else if (r->plain && shm_mono_us() >= r->plain_next_us) {
            struct shm_stats st;

            if (r->plain_next_us && shm_stats_collect(&st, &r->shm) == 0) {
                tui_progress_line(stderr, r->shm.hdr, &st);
                shm_stats_free(&st);
            }
            r->plain_next_us = shm_mono_us() + 5000000;
        }
    }
    if (r->dash)
        tui_dash_close(r->dash);
    r->dash = NULL;
    if (r->progress)
        tui_progress(stderr, fraction(r), 1);
    if (r->lost_broker) {
        struct shm_header *h = r->shm.hdr;

        h->ended_mono_us = shm_mono_us();
        h->state = SHM_RUN_DONE;
        fprintf(stderr, "loads-runner: lost the broker %s at %.1f s: the figures below "
                        "stop there\n", r->endpoint,
                (double)(h->ended_mono_us - h->started_mono_us) / 1e6);
    }
    return !r->ended && !r->lost_broker;
}

/* Waits for the info of the started run (after the start barrier). */
static int wait_start(struct remote *r, struct cl_msg *info)
{
    char err[1024];
    int rc;

    for (;;) {
        /* Building may take a while; the broker's heartbeats keep us patient. */
        rc = wait_message(r, info, CL_TIMEOUT_MS, err, sizeof(err));
        if (rc == -EINTR) {
            struct cl_msg stop = {.type = CL_STOP, .hard = 1};

            snprintf(stop.run, sizeof(stop.run), "%s", r->run);
            cl_send(r->sock, NULL, &stop);
            fprintf(stderr, "loads-runner: stopped before the start\n");
            return RUNNER_FAILED;
        }
        if (rc < 0) {
            no_answer(r, rc, err);
            return RUNNER_USAGE;
        }
        if (info->type == CL_INFO && strcmp(info->run, r->run) == 0 &&
            strcmp(info->state, "starting") != 0)
            return 0;
        if (info->type == CL_REFUSED) {
            char line[CL_ERROR_LEN];

            snprintf(line, sizeof(line), "%s", info->error);
            runner_one_line(line);
            fprintf(stderr, "loads-runner: %s\n", line);
            rc = info->status > 0 && info->status < 256 ? (int)info->status : RUNNER_USAGE;
            cl_msg_free(info);
            return rc;
        }
        cl_msg_free(info);
    }
}

/*
 * --env and --data for the agents: the values into the spec, the CSV file
 * (checked here first, as a local run checks it) sent with the module.
 */
static int spec_env_data(const struct runner_opts *o, struct cl_spec *spec, struct files *fs,
                         char *err, size_t errlen)
{
    struct csv data;

    for (uint32_t i = 0; i < o->nenv; i++) {
        size_t len = strlen(o->env[i]) + 1;

        if (spec->env_len + len > sizeof(spec->env)) {
            snprintf(err, errlen, "--env values take more than %zu bytes: too many to send "
                     "to the agents", sizeof(spec->env));
            return -1;
        }
        memcpy(spec->env + spec->env_len, o->env[i], len);
        spec->env_len += (uint32_t)len;
    }
    if (!o->data_file[0])
        return 0;
    if (runner_load_data(o, &data, err, errlen) < 0)
        return -1;
    csv_free(&data);
    if (add_file(fs, o->data_file, o->data_file, err, errlen) < 0)
        return -1;
    snprintf(spec->data, sizeof(spec->data), "%s", o->data_file);
    spec->data_per_vu = o->data_per_vu;
    return 0;
}

/*
 * LOADS_SETUP_ONCE and LOADS_TEARDOWN_ONCE of a cluster run run here, in
 * the runner, once for the whole run: the module is built here too when
 * its files name either (a module without them needs no compiler here).
 * Returns 0, with r->once set when the suite has either, or an exit
 * status.
 */
static int load_once(struct remote *r, const struct files *fs)
{
    const struct runner_opts *o = r->o;
    char err[1024];
    int named = 0;

    for (uint32_t i = 0; i < fs->n && !named; i++)
        named = memmem(fs->f[i].data, fs->f[i].len, "LOADS_SETUP_ONCE", 16) ||
                memmem(fs->f[i].data, fs->f[i].len, "LOADS_TEARDOWN_ONCE", 19);
    if (!named)
        return 0;
    if (runner_load_tests(o->test, &r->tests, err, sizeof(err)) < 0 ||
        runner_load_data(o, &r->data, err, sizeof(err)) < 0) {
        runner_one_line(err);
        fprintf(stderr, "loads-runner: %s\n", err);
        return RUNNER_USAGE;
    }
    r->once = r->tests.setup_once.fn || r->tests.teardown_once.fn;
    if (r->once && o->detach) {
        fprintf(stderr, "loads-runner: %s: a suite with LOADS_SETUP_ONCE or "
                        "LOADS_TEARDOWN_ONCE cannot run --detach (the runner runs them, "
                        "tearDownOnce after the agents)\n",
                r->tests.setup_once.fn ? r->tests.setup_once.name
                                       : r->tests.teardown_once.name);
        return RUNNER_USAGE;
    }
    return 0;
}

/* setUpOnce's values into the spec.  Returns 0, or -1 when they do not fit. */
static int spec_values(const struct remote *r, struct cl_spec *spec)
{
    const struct runner_values *v = &r->values;

    if (v->n > CL_MAX_VALUES)
        goto too_many;
    for (uint32_t i = 0; i < v->n; i++) {
        size_t nl = strlen(v->names[i]) + 1, tl = strlen(v->texts[i]) + 1;

        if (spec->values_len + nl + tl > sizeof(spec->values))
            goto too_many;
        memcpy(spec->values + spec->values_len, v->names[i], nl);
        memcpy(spec->values + spec->values_len + nl, v->texts[i], tl);
        spec->values_len += (uint32_t)(nl + tl);
    }
    return 0;
too_many:
    fprintf(stderr, "loads-runner: %s stored more values than a cluster takes (%d, "
                    "%d bytes in all)\n", r->tests.setup_once.name, CL_MAX_VALUES,
            CL_VALUES_LEN);
    return -1;
}

/*
 * Runs tearDownOnce, after every agent is done or lost (whenever setUpOnce
 * passed).  Returns 0 when it passed (or there is none), or its status.
 */
static int run_teardown_once(struct remote *r)
{
    int rc;

    if (!r->once || !r->tests.teardown_once.fn)
        return 0;
    /* The broker's part is over.  No ZeroMQ thread may run while the
     * supervisor forks: one holding a lock then would leave it held in the
     * worker (a worker of the runner hung so, 1 run in 5, under ASan). */
    cl_close(r->sock);
    r->sock = NULL;
    cl_ctx_close();
    rc = runner_once(r->o, &r->tests, &r->data, 1, &r->values);
    install_signals();
    return rc;
}

/* The run's exit status with tearDownOnce's: the run's, unless it was 0. */
static int teardown_once(struct remote *r, int status)
{
    int rc = run_teardown_once(r);

    return status == RUNNER_OK ? rc : status;
}

/*
 * What a submit sends, made before the broker is called: the files, the
 * spec, and setUpOnce run (so that no ZeroMQ thread exists when its
 * supervisor forks; see run_teardown_once).  When setUpOnce fails, no
 * agent starts: its summary says why.  Returns 0 or an exit status.
 */
static int prepare(struct remote *r)
{
    const struct runner_opts *o = r->o;
    struct cl_spec *spec = &r->spec;
    char err[1024];
    int rc;

    snprintf(spec->test, sizeof(spec->test), "%s", o->test);
    snprintf(spec->server_url, sizeof(spec->server_url), "%s", o->server_url);
    memcpy(spec->users, o->users, sizeof(spec->users));
    spec->nusers = o->nusers;
    memcpy(spec->hits, o->hits, sizeof(spec->hits));
    spec->nhits = o->duration_us ? 0 : o->nhits;
    spec->duration_us = o->duration_us;
    spec->workers = o->workers;
    spec->ramp_up = o->ramp_up;
    spec->timeout = o->timeout;
    spec->grace = o->grace;
    spec->max_body = o->max_body;
    memcpy(spec->rate, o->rate, sizeof(spec->rate));
    spec->nrates = o->nrates;
    spec->max_users = o->max_users;
    if (collect_files(o, &r->fs, err, sizeof(err)) < 0 ||
        spec_env_data(o, spec, &r->fs, err, sizeof(err)) < 0) {
        runner_one_line(err);
        fprintf(stderr, "loads-runner: %s\n", err);
        return RUNNER_USAGE;
    }
    if ((rc = load_once(r, &r->fs)) != 0)
        return rc;
    spec->once = r->once;
    if (r->once && r->tests.setup_once.fn) {
        rc = runner_once(o, &r->tests, &r->data, 0, &r->values);
        install_signals();
        if (rc)
            return rc;
        if (spec_values(r, spec) < 0)
            return teardown_once(r, RUNNER_USAGE);
    }
    return 0;
}

static int submit(struct remote *r)
{
    const struct runner_opts *o = r->o;
    struct cl_msg m = {.type = CL_SUBMIT, .agents = o->agents, .detach = o->detach};
    struct cl_msg ok, info;
    int rc, once_rc;

    m.spec = r->spec;
    memcpy(m.files, r->fs.f, sizeof(m.files));
    m.nfiles = r->fs.n;
    cl_files_hash(m.files, m.nfiles, m.hash);
    rc = ask(r, &m, CL_ACCEPTED, &ok);
    if (rc)
        return teardown_once(r, rc);
    snprintf(r->run, sizeof(r->run), "%s", ok.run);
    cl_msg_free(&ok);
    r->next_hb_ms = cl_now_ms();
    rc = wait_start(r, &info);
    r->next_hb_ms = 0;
    if (rc)
        return teardown_once(r, rc);
    if (o->detach) {
        printf("%s\n", r->run);
        fprintf(stderr, "loads-runner: run %s started on %u agent%s; watch it with "
                        "loads-runner --attach %s --broker %s\n", r->run, info.nlist,
                info.nlist == 1 ? "" : "s", r->run, r->endpoint);
        cl_msg_free(&info);
        return RUNNER_OK;
    }
    rc = setup_run(r, &info);
    cl_msg_free(&info);
    if (rc < 0)
        return teardown_once(r, RUNNER_USAGE);
    follow(r, 0);
    if (r->refused)
        return teardown_once(r, r->refused);
    /* Every agent is done or lost: tearDownOnce, then the summary (as a local run). */
    once_rc = run_teardown_once(r);
    rc = report(r);
    return rc == RUNNER_OK ? once_rc : rc;
}

static int attach(struct remote *r)
{
    struct cl_msg m = {.type = CL_ATTACH}, info;
    int rc;

    snprintf(m.run, sizeof(m.run), "%s", r->o->attach_run);
    rc = ask(r, &m, CL_INFO, &info);
    if (rc)
        return rc;
    snprintf(r->run, sizeof(r->run), "%s", info.run);
    rc = setup_run(r, &info);
    cl_msg_free(&info);
    if (rc < 0)
        return RUNNER_USAGE;
    if (follow(r, 1)) {
        fprintf(stderr, "loads-runner: detached from run %s, which goes on\n", r->run);
        return RUNNER_OK;
    }
    if (r->refused)
        return r->refused;
    return report(r);
}

int runner_remote(const struct runner_opts *o)
{
    static struct remote r;
    char err[1024];
    int status;

    r.o = o;
    pthread_mutex_init(&r.lock, NULL);
    install_signals();
    /* The web view answers "waiting" until the segment exists (setup_run);
     * a port in use is known before anything starts. */
    if (!o->broker_cmd &&
        (status = runner_web_open_with(o, NULL, web_json, &r, &r.web)) != 0)
        return status;
    if (!o->broker_cmd && !o->attach && (status = prepare(&r)) != 0)
        goto out;
    if (open_broker(&r, err, sizeof(err)) < 0) {
        runner_one_line(err);
        fprintf(stderr, "loads-runner: %s\n", err);
        status = teardown_once(&r, RUNNER_USAGE);
        goto out;
    }
    r.scratch = calloc(1, sizeof(*r.scratch));
    if (o->broker_cmd)
        status = broker_command(&r);
    else if (o->attach)
        status = attach(&r);
    else
        status = submit(&r);
out:
    /* --web-linger: the final figures stay served (the agents table is final). */
    runner_web_close(o, r.web);
    files_free(&r.fs);
    if (r.have_shm)
        shm_destroy(&r.shm);
    runner_values_free(&r.values);
    csv_free(&r.data);
    runner_free_tests(&r.tests);
    for (uint32_t i = 0; i < CL_MAX_AGENTS; i++)
        shm_recent_free(&r.recent[i]);
    free(r.scratch);
    cl_close(r.sock);
    cl_ctx_close();
    return status;
}
