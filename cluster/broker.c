/*
 * loads-broker: the meeting point of runners and agents.  One ROUTER
 * socket on one endpoint; agents connect out to it and register, runners
 * submit runs, watch them and ask about the cluster.  For each run the
 * broker picks idle agents, ships them the test, starts them together
 * once all are ready (the start barrier), adds up the deltas they send
 * into one slot per agent, and forwards every delta to the runs' watchers.
 * It keeps the figures of finished runs for --attach.
 *
 * One thread, one poll loop: the ROUTER, the ZAP socket (CURVE keys), and
 * a tick each CL_HB_MS for heartbeats and timeouts.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cluster/net.h"

#define MAX_RUNS_KEPT  32      /* finished runs kept for --attach */
#define MAX_WATCHERS   16      /* runners watching one run */

enum agent_state { AG_IDLE, AG_BUILDING, AG_READY, AG_RUNNING };
static const char *const agent_states[] = {"idle", "building", "ready", "running"};

/* A run's view of one of its agents. */
enum ra_state { RA_BUILDING, RA_READY, RA_RUNNING, RA_DONE, RA_LOST, RA_FAILED };
static const char *const ra_states[] = {"building", "ready", "running", "done", "lost",
                                        "failed"};

struct run;

struct agent {
    struct cl_id id;
    char host[CL_HOST_LEN];
    int64_t pid;
    char version[CL_WORD_LEN];
    enum agent_state state;
    struct run *run;            /* the run it works for, NULL when idle */
    uint32_t index;             /* its place in that run */
    int64_t heard_ms;           /* last message from it */
    struct agent *next;
};

struct run_agent {
    struct agent *agent;        /* NULL once done, lost or failed */
    char host[CL_HOST_LEN];
    int64_t pid;
    enum ra_state state;
    uint64_t applied;           /* last delta added, by sequence number */
    uint64_t final_seq;         /* from its done message; 0 before */
    uint64_t planned;           /* its planned runs, from its ready message */
    int have_done;
    int64_t status;
    double lost_at;             /* seconds since the start */
    int64_t heard_ms;
    int64_t stop_sent_ms;       /* when the run's stop was last sent to it */
};

struct watcher {
    struct cl_id id;
    int64_t heard_ms;
};

enum run_state { RUN_STARTING, RUN_RUNNING, RUN_DONE };
static const char *const run_states[] = {"starting", "running", "done"};

struct run {
    char id[CL_RUN_LEN];
    struct cl_spec spec;
    enum run_state state;
    uint32_t nagents;
    struct run_agent *ra;
    struct shm seg;             /* private: header + one slot per agent */
    int64_t started_us;         /* wall clock at the start barrier, for display */
    int64_t started_ms;         /* monotonic, at the barrier */
    double elapsed;             /* once done */
    int detach;                 /* the run outlives its runner */
    uint8_t *run_buf;           /* the encoded run message, until the start */
    size_t run_len;
    int64_t sent_ms;            /* when run (or start) was last sent */
    int stopped;                /* 0, 1 stopped, 2 stopped at once: repeated until heard */
    struct watcher watchers[MAX_WATCHERS];
    uint32_t nwatchers;
    int64_t ended_ms;
    struct run *next;
};

struct broker {
    void *sock;
    struct cl_zap *zap;
    struct agent *agents;
    struct run *runs;
    uint64_t run_counter;
};

static int same_id(const struct cl_id *a, const struct cl_id *b)
{
    return a->len == b->len && memcmp(a->b, b->b, a->len) == 0;
}

static double run_elapsed(const struct run *r)
{
    if (r->state == RUN_DONE)
        return r->elapsed;
    if (r->state == RUN_STARTING)
        return 0;
    return (double)(cl_now_ms() - r->started_ms) / 1000.0;
}

static void send_to(struct broker *b, const struct cl_id *id, struct cl_msg *m)
{
    int rc = cl_send(b->sock, id, m);

    if (rc < 0 && rc != -EAGAIN)
        cl_logf("cannot send %s: %s", cl_type_name(m->type), strerror(-rc));
}

/* Sends m to every watcher of r. */
static void tell_watchers(struct broker *b, struct run *r, struct cl_msg *m)
{
    uint8_t *buf;
    size_t len;

    if (!r->nwatchers || cl_encode(m, &buf, &len) < 0)
        return;
    for (uint32_t i = 0; i < r->nwatchers; i++)
        cl_send_raw(b->sock, &r->watchers[i].id, buf, len);
    free(buf);
}

static void fill_list(const struct run *r, struct cl_agent *list)
{
    for (uint32_t i = 0; i < r->nagents; i++) {
        const struct run_agent *ra = &r->ra[i];

        memset(&list[i], 0, sizeof(list[i]));
        snprintf(list[i].host, sizeof(list[i].host), "%s", ra->host);
        list[i].pid = ra->pid;
        snprintf(list[i].state, sizeof(list[i].state), "%s", ra_states[ra->state]);
        snprintf(list[i].run, sizeof(list[i].run), "%s", r->id);
        list[i].at = ra->lost_at;
        list[i].status = ra->status;
    }
}

/* ------------------------------------------------------------------ runs */

static struct run *find_run(struct broker *b, const char *id)
{
    for (struct run *r = b->runs; r; r = r->next)
        if (strcmp(r->id, id) == 0)
            return r;
    return NULL;
}

static void free_run(struct run *r)
{
    free(r->run_buf);
    if (r->seg.hdr)
        munmap(r->seg.hdr, r->seg.size);
    free(r->ra);
    free(r);
}

/* Keeps at most MAX_RUNS_KEPT finished runs, dropping the oldest. */
static void prune_runs(struct broker *b)
{
    uint32_t done = 0;

    for (struct run *r = b->runs; r; r = r->next)
        done += r->state == RUN_DONE;
    while (done > MAX_RUNS_KEPT) {
        struct run **p, **oldest = NULL;

        for (p = &b->runs; *p; p = &(*p)->next)
            if ((*p)->state == RUN_DONE && (!oldest || (*p)->ended_ms <= (*oldest)->ended_ms))
                oldest = p;
        if (!oldest)
            break;
        {
            struct run *r = *oldest;

            *oldest = r->next;
            free_run(r);
            done--;
        }
    }
}

/* Sends the run's end to its watchers once no agent works for it any more. */
static void check_run_end(struct broker *b, struct run *r)
{
    struct cl_msg m = {.type = CL_END};
    uint32_t lost = 0;

    if (r->state == RUN_DONE)
        return;
    for (uint32_t i = 0; i < r->nagents; i++) {
        if (r->ra[i].state < RA_DONE)
            return;
        lost += r->ra[i].state == RA_LOST;
    }
    r->elapsed = run_elapsed(r);
    r->state = RUN_DONE;
    r->ended_ms = cl_now_ms();
    r->seg.hdr->ended_mono_us = r->seg.hdr->started_mono_us + (int64_t)(r->elapsed * 1e6);
    r->seg.hdr->state = SHM_RUN_DONE;
    cl_logf("run %s ended after %.2f s (%u agent%s, %u lost)", r->id, r->elapsed, r->nagents,
          r->nagents == 1 ? "" : "s", lost);
    snprintf(m.run, sizeof(m.run), "%s", r->id);
    m.at = r->elapsed;
    m.list = calloc(r->nagents, sizeof(*m.list));
    if (m.list) {
        fill_list(r, m.list);
        m.nlist = r->nagents;
    }
    tell_watchers(b, r, &m);
    free(m.list);
    prune_runs(b);
}

/* Frees an agent from its run, back to idle. */
static void release_agent(struct agent *a)
{
    a->run = NULL;
    a->state = AG_IDLE;
}

static void stop_agent(struct broker *b, struct agent *a, const char *run, int hard)
{
    struct cl_msg m = {.type = CL_STOP, .hard = hard};

    snprintf(m.run, sizeof(m.run), "%s", run);
    send_to(b, &a->id, &m);
}

/* Ends a run that cannot go on: every agent still at it is stopped. */
static void fail_run(struct broker *b, struct run *r, int status, const char *why)
{
    struct cl_msg m = {.type = CL_REFUSED, .status = status};

    for (uint32_t i = 0; i < r->nagents; i++) {
        struct run_agent *ra = &r->ra[i];

        if (ra->agent) {
            stop_agent(b, ra->agent, r->id, 1);
            release_agent(ra->agent);
            ra->agent = NULL;
        }
        if (ra->state < RA_DONE)
            ra->state = RA_FAILED;
    }
    snprintf(m.error, sizeof(m.error), "%s", why);
    tell_watchers(b, r, &m);
    cl_logf("run %s failed: %s", r->id, why);
    r->state = RUN_DONE;
    r->elapsed = 0;
    r->ended_ms = cl_now_ms();
    r->seg.hdr->state = SHM_RUN_DONE;
    prune_runs(b);
}

static void send_info(struct broker *b, struct run *r, const struct cl_id *to)
{
    struct cl_msg m = {.type = CL_INFO, .spec = r->spec, .started_us = r->started_us,
                       .count = r->seg.hdr->planned_runs};

    snprintf(m.run, sizeof(m.run), "%s", r->id);
    snprintf(m.state, sizeof(m.state), "%s", run_states[r->state]);
    m.at = run_elapsed(r);
    m.list = calloc(r->nagents, sizeof(*m.list));
    if (!m.list)
        return;
    fill_list(r, m.list);
    m.nlist = r->nagents;
    if (to)
        send_to(b, to, &m);
    else
        tell_watchers(b, r, &m);
    free(m.list);
}

/* All agents ready: start them together. */
static void start_run(struct broker *b, struct run *r)
{
    struct cl_msg m = {.type = CL_START};

    snprintf(m.run, sizeof(m.run), "%s", r->id);
    r->state = RUN_RUNNING;
    r->started_ms = cl_now_ms();
    r->sent_ms = r->started_ms;
    free(r->run_buf);
    r->run_buf = NULL;
    r->started_us = shm_now_us();
    r->seg.hdr->started_us = r->started_us;
    r->seg.hdr->started_mono_us = shm_mono_us();
    r->seg.hdr->state = SHM_RUN_RUNNING;
    r->seg.hdr->planned_runs = 0;
    for (uint32_t i = 0; i < r->nagents; i++)
        r->seg.hdr->planned_runs += r->ra[i].planned;
    m.count = r->nagents;
    for (uint32_t i = 0; i < r->nagents; i++) {
        r->ra[i].state = RA_RUNNING;
        r->ra[i].heard_ms = r->started_ms;
        r->ra[i].agent->state = AG_RUNNING;
        m.agents = i; /* its share of --data's rows, its stripe of a --rate schedule */
        send_to(b, &r->ra[i].agent->id, &m);
    }
    cl_logf("run %s started on %u agent%s: %s", r->id, r->nagents, r->nagents == 1 ? "" : "s",
          r->spec.test);
    send_info(b, r, NULL);
}

static void add_watcher(struct run *r, const struct cl_id *id)
{
    for (uint32_t i = 0; i < r->nwatchers; i++)
        if (same_id(&r->watchers[i].id, id)) {
            r->watchers[i].heard_ms = cl_now_ms();
            return;
        }
    if (r->nwatchers == MAX_WATCHERS)
        return;
    r->watchers[r->nwatchers].id = *id;
    r->watchers[r->nwatchers++].heard_ms = cl_now_ms();
}

static void refuse(struct broker *b, const struct cl_id *to, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void refuse(struct broker *b, const struct cl_id *to, int status, const char *fmt, ...)
{
    struct cl_msg m = {.type = CL_REFUSED, .status = status};
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(m.error, sizeof(m.error), fmt, ap);
    va_end(ap);
    send_to(b, to, &m);
}

/* A private segment: the same layout as a run's, in anonymous memory. */
static int make_segment(struct shm *s, uint32_t nslots)
{
    size_t size = shm_segment_size(nslots);
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS |
                                                        MAP_NORESERVE, -1, 0);

    if (p == MAP_FAILED)
        return -errno;
    memset(s, 0, sizeof(*s));
    s->hdr = p;
    s->size = size;
    s->hdr->magic = SHM_MAGIC;
    s->hdr->version = SHM_VERSION;
    s->hdr->nslots = nslots;
    s->hdr->size = size;
    s->hdr->slot_size = sizeof(struct shm_slot);
    return 0;
}

static void on_submit(struct broker *b, const struct cl_id *from, struct cl_msg *m)
{
    uint32_t idle = 0, total = 0, k = 0;
    struct cl_msg run_msg = {.type = CL_RUN};
    struct cl_msg ok = {.type = CL_ACCEPTED};
    char hash[CL_HASH_LEN];
    struct run *r;

    for (struct agent *a = b->agents; a; a = a->next) {
        total++;
        idle += a->state == AG_IDLE;
    }
    if (m->agents == 0 || m->agents > CL_MAX_AGENTS) {
        refuse(b, from, 2, "--agents must be from 1 to %d", CL_MAX_AGENTS);
        return;
    }
    if (idle < m->agents) {
        refuse(b, from, 2, "%u agent%s asked for, %u idle (%u connected to the broker)",
               m->agents, m->agents == 1 ? "" : "s", idle, total);
        return;
    }
    cl_files_hash(m->files, m->nfiles, hash);
    if (strcmp(hash, m->hash) != 0 || !m->nfiles) {
        refuse(b, from, 2, "the test's files do not match their hash (%s, sent %s)", hash,
               m->hash);
        return;
    }
    r = calloc(1, sizeof(*r));
    if (!r || !(r->ra = calloc(m->agents, sizeof(*r->ra))) ||
        make_segment(&r->seg, m->agents) < 0) {
        if (r)
            free(r->ra);
        free(r);
        refuse(b, from, 2, "the broker is out of memory");
        return;
    }
    snprintf(r->id, sizeof(r->id), "%08x%08x", (unsigned)getpid() & 0xffffffffu,
             (unsigned)(++b->run_counter));
    r->spec = m->spec;
    r->nagents = m->agents;
    r->detach = m->detach;
    r->state = RUN_STARTING;
    add_watcher(r, from);
    snprintf(r->seg.hdr->test, sizeof(r->seg.hdr->test), "%s", r->spec.test);
    snprintf(r->seg.hdr->server_url, sizeof(r->seg.hdr->server_url), "%s",
             r->spec.server_url);
    r->next = b->runs;
    b->runs = r;

    run_msg.spec = m->spec;
    memcpy(run_msg.files, m->files, sizeof(m->files));
    run_msg.nfiles = m->nfiles;
    snprintf(run_msg.hash, sizeof(run_msg.hash), "%s", hash);
    snprintf(run_msg.run, sizeof(run_msg.run), "%s", r->id);
    if (cl_encode(&run_msg, &r->run_buf, &r->run_len) < 0) {
        /* Nothing was sent: the run is given up at once. */
        r->run_buf = NULL;
    }
    r->sent_ms = cl_now_ms();
    for (struct agent *a = b->agents; a && k < r->nagents; a = a->next) {
        struct run_agent *ra = &r->ra[k];

        if (a->state != AG_IDLE)
            continue;
        a->state = AG_BUILDING;
        a->run = r;
        a->index = k;
        ra->agent = a;
        snprintf(ra->host, sizeof(ra->host), "%s", a->host);
        ra->pid = a->pid;
        ra->state = RA_BUILDING;
        shm_slot(&r->seg, k)->pid = (int32_t)a->pid;
        if (r->run_buf)
            cl_send_raw(b->sock, &a->id, r->run_buf, r->run_len);
        k++;
    }
    ok.list = calloc(r->nagents + 1, sizeof(*ok.list));
    snprintf(ok.run, sizeof(ok.run), "%s", r->id);
    if (ok.list) {
        fill_list(r, ok.list);
        ok.nlist = r->nagents;
    }
    send_to(b, from, &ok);
    free(ok.list);
    cl_logf("run %s: %s on %u agent%s%s", r->id, r->spec.test, r->nagents,
          r->nagents == 1 ? "" : "s", r->detach ? ", detached" : "");
}

/* Sends a watcher everything of the run so far: info, one snapshot per agent. */
static void on_attach(struct broker *b, const struct cl_id *from, struct cl_msg *m)
{
    struct run *r = find_run(b, m->run);

    if (!r) {
        refuse(b, from, 2, "no run %s on this broker (it keeps the last %d finished runs; "
                           "a restarted broker knows none)", m->run, MAX_RUNS_KEPT);
        return;
    }
    add_watcher(r, from);
    send_info(b, r, from);
    for (uint32_t i = 0; i < r->nagents; i++) {
        struct cl_msg s = {.type = CL_STATS, .agents = i, .reset = 1, .seq = r->ra[i].applied};

        snprintf(s.run, sizeof(s.run), "%s", r->id);
        if (shm_delta_snapshot(&s.d, shm_slot(&r->seg, i)) == 0) {
            send_to(b, from, &s);
            shm_delta_free(&s.d);
        }
    }
    if (r->state == RUN_DONE) {
        struct cl_msg e = {.type = CL_END, .at = r->elapsed};

        snprintf(e.run, sizeof(e.run), "%s", r->id);
        e.list = calloc(r->nagents, sizeof(*e.list));
        if (e.list) {
            fill_list(r, e.list);
            e.nlist = r->nagents;
        }
        send_to(b, from, &e);
        free(e.list);
    }
}

/*
 * Stops every agent still at the run.  The run stays stopped: a stop that
 * an agent missed (its connection was cut meanwhile) is sent again when
 * its heartbeat shows it (repeat_stop).
 */
static void stop_run(struct broker *b, struct run *r, int hard)
{
    if (r->stopped < 1 + !!hard)
        r->stopped = 1 + !!hard;
    for (uint32_t i = 0; i < r->nagents; i++)
        if (r->ra[i].agent) {
            stop_agent(b, r->ra[i].agent, r->id, hard);
            r->ra[i].stop_sent_ms = cl_now_ms();
        }
}

/*
 * An agent of a stopped run whose heartbeat (or hello) says it still
 * builds, waits or runs, rather than "stopping" or "finishing", missed
 * the stop: it is sent again, two seconds after the last time at the
 * soonest (a heartbeat sent before the stop arrived says "running" too;
 * a stop twice does no harm).
 */
static void repeat_stop(struct broker *b, struct agent *a, const char *state)
{
    struct run *r = a->run;
    struct run_agent *ra;
    int64_t now = cl_now_ms();

    if (!r || !r->stopped)
        return;
    ra = &r->ra[a->index];
    if (ra->agent != a || now - ra->stop_sent_ms < 2000 ||
        (strcmp(state, "building") != 0 && strcmp(state, "ready") != 0 &&
         strcmp(state, "running") != 0))
        return;
    cl_logf("run %s: sending the stop to agent %s:%lld again", r->id, a->host,
          (long long)a->pid);
    stop_agent(b, a, r->id, r->stopped == 2);
    ra->stop_sent_ms = now;
}

static void on_list(struct broker *b, const struct cl_id *from)
{
    struct cl_msg m = {.type = CL_CLUSTER};
    uint32_t na = 0, nr = 0;

    for (struct agent *a = b->agents; a; a = a->next)
        na++;
    for (struct run *r = b->runs; r; r = r->next)
        nr++;
    m.list = calloc(na + 1, sizeof(*m.list));
    m.runs = calloc(nr + 1, sizeof(*m.runs));
    if (!m.list || !m.runs)
        goto out;
    for (struct agent *a = b->agents; a && m.nlist < CL_MAX_LIST; a = a->next) {
        struct cl_agent *l = &m.list[m.nlist++];

        snprintf(l->host, sizeof(l->host), "%s", a->host);
        l->pid = a->pid;
        snprintf(l->version, sizeof(l->version), "%s", a->version);
        snprintf(l->state, sizeof(l->state), "%s", agent_states[a->state]);
        snprintf(l->run, sizeof(l->run), "%s", a->run ? a->run->id : "");
    }
    for (struct run *r = b->runs; r && m.nruns < CL_MAX_LIST; r = r->next) {
        struct cl_runinfo *ri = &m.runs[m.nruns++];

        snprintf(ri->run, sizeof(ri->run), "%s", r->id);
        snprintf(ri->test, sizeof(ri->test), "%s", r->spec.test);
        snprintf(ri->state, sizeof(ri->state), "%s", run_states[r->state]);
        ri->agents = r->nagents;
        ri->elapsed = run_elapsed(r);
    }
    send_to(b, from, &m);
out:
    free(m.list);
    free(m.runs);
}

static void on_runner(struct broker *b, const struct cl_id *from, struct cl_msg *m)
{
    struct run *r;

    switch (m->type) {
    case CL_PING: {
        struct cl_msg p = {.type = CL_PONG};

        for (struct agent *a = b->agents; a; a = a->next)
            p.agents++;
        snprintf(p.sw, sizeof(p.sw), "%s", LOADS_VERSION);
        send_to(b, from, &p);
        break;
    }
    case CL_LIST:
        on_list(b, from);
        break;
    case CL_PURGE: {
        struct cl_msg p = {.type = CL_PURGED};

        for (r = b->runs; r; r = r->next)
            if (r->state != RUN_DONE) {
                stop_run(b, r, 1);
                p.count++;
            }
        cl_logf("purge: stopping %llu run%s", (unsigned long long)p.count,
              p.count == 1 ? "" : "s");
        send_to(b, from, &p);
        break;
    }
    case CL_SUBMIT:
        on_submit(b, from, m);
        break;
    case CL_ATTACH:
        on_attach(b, from, m);
        break;
    case CL_STOP:
        if ((r = find_run(b, m->run)) != NULL) {
            cl_logf("run %s: stop asked%s", r->id, m->hard ? " (now)" : "");
            stop_run(b, r, m->hard);
        }
        break;
    case CL_HB:
        for (r = b->runs; r; r = r->next)
            for (uint32_t i = 0; i < r->nwatchers; i++)
                if (same_id(&r->watchers[i].id, from))
                    r->watchers[i].heard_ms = cl_now_ms();
        break;
    default:
        break;
    }
}

/* ---------------------------------------------------------------- agents */

static struct agent *find_agent(struct broker *b, const struct cl_id *id)
{
    for (struct agent *a = b->agents; a; a = a->next)
        if (same_id(&a->id, id))
            return a;
    return NULL;
}

static void on_hello(struct broker *b, const struct cl_id *from, struct cl_msg *m)
{
    struct cl_msg w = {.type = CL_WELCOME, .hb_ms = CL_HB_MS, .timeout_ms = CL_TIMEOUT_MS};
    struct agent *a = find_agent(b, from);

    if (!a) {
        /* The same agent on a new connection takes over its entry. */
        for (a = b->agents; a; a = a->next)
            if (a->pid == m->pid && strcmp(a->host, m->host) == 0)
                break;
    }
    if (!a) {
        a = calloc(1, sizeof(*a));
        if (!a)
            return;
        a->next = b->agents;
        b->agents = a;
        cl_logf("agent %s:%lld registered (Loads %s)", m->host, (long long)m->pid, m->sw);
    }
    a->id = *from;
    snprintf(a->host, sizeof(a->host), "%s", m->host);
    a->pid = m->pid;
    snprintf(a->version, sizeof(a->version), "%s", m->sw);
    a->heard_ms = cl_now_ms();
    send_to(b, from, &w);
    /* It works for a run this broker does not know (it restarted): stop it. */
    if (m->run[0] && (!a->run || strcmp(a->run->id, m->run) != 0))
        stop_agent(b, a, m->run, 1);
    else if (m->run[0])
        repeat_stop(b, a, m->state);
}

static void on_stats(struct broker *b, struct agent *a, struct cl_msg *m)
{
    struct run *r = a->run;
    struct run_agent *ra = &r->ra[a->index];
    struct cl_msg ack = {.type = CL_ACK};

    if (m->seq == ra->applied + 1) {
        struct shm_header *h = r->seg.hdr;

        shm_delta_apply(shm_slot(&r->seg, a->index), &m->d);
        if (m->d.cycle > h->cycle || !h->cycle_started_mono_us) {
            h->cycle = m->d.cycle;
            h->cycle_started_mono_us = h->started_mono_us + (int64_t)(m->d.cycle_started * 1e6);
        }
        ra->applied = m->seq;
        m->agents = a->index;
        m->reset = 0;
        tell_watchers(b, r, m);
    }
    /* A repeat or a gap: the ack says what was added; the agent resends the rest. */
    snprintf(ack.run, sizeof(ack.run), "%s", r->id);
    ack.seq = ra->applied;
    send_to(b, &a->id, &ack);
}

static void agent_done(struct broker *b, struct agent *a)
{
    struct run *r = a->run;
    struct run_agent *ra = &r->ra[a->index];

    ra->state = RA_DONE;
    ra->agent = NULL;
    release_agent(a);
    check_run_end(b, r);
}

/*
 * An agent's heartbeat shows that it missed the run or the start (its
 * connection was cut meanwhile): they are sent again, two seconds after
 * the last time at the soonest.
 */
static void catch_up(struct broker *b, struct agent *a, const struct cl_msg *hb)
{
    struct run *r = a->run;
    int64_t now = cl_now_ms();

    if (now - r->sent_ms < 2000)
        return;
    if (a->state == AG_BUILDING && strcmp(hb->state, "idle") == 0 && r->run_buf) {
        cl_logf("run %s: sending the run to agent %s:%lld again", r->id, a->host,
              (long long)a->pid);
        cl_send_raw(b->sock, &a->id, r->run_buf, r->run_len);
        r->sent_ms = now;
    } else if (a->state == AG_RUNNING && strcmp(hb->state, "ready") == 0) {
        struct cl_msg m = {.type = CL_START, .agents = a->index, .count = r->nagents};

        cl_logf("run %s: sending the start to agent %s:%lld again", r->id, a->host,
              (long long)a->pid);
        snprintf(m.run, sizeof(m.run), "%s", r->id);
        m.agents = a->index;
        m.count = r->nagents;
        send_to(b, &a->id, &m);
        r->sent_ms = now;
    }
}

static void on_agent(struct broker *b, const struct cl_id *from, struct cl_msg *m)
{
    struct agent *a = find_agent(b, from);
    struct run *r;

    if (m->type == CL_HELLO) {
        on_hello(b, from, m);
        return;
    }
    if (!a) {
        struct cl_msg who = {.type = CL_WHO};

        send_to(b, from, &who);
        return;
    }
    a->heard_ms = cl_now_ms();
    r = a->run;
    if (r)
        r->ra[a->index].heard_ms = a->heard_ms;
    /* A message about a run this agent no longer works for: stop it there. */
    if (m->type != CL_HB && (!r || strcmp(m->run, r->id) != 0)) {
        if (m->run[0] && m->type != CL_DONE)
            stop_agent(b, a, m->run, 1);
        return;
    }
    switch (m->type) {
    case CL_HB:
        if (m->run[0] && (!r || strcmp(m->run, r->id) != 0))
            stop_agent(b, a, m->run, 1);
        else if (r && r->stopped)
            repeat_stop(b, a, m->state);
        else if (r)
            catch_up(b, a, m);
        break;
    case CL_READY:
        if (r->ra[a->index].state == RA_BUILDING) {
            uint32_t ready = 0;

            r->ra[a->index].state = RA_READY;
            r->ra[a->index].planned = m->count;
            a->state = AG_READY;
            for (uint32_t i = 0; i < r->nagents; i++)
                ready += r->ra[i].state == RA_READY;
            if (ready == r->nagents)
                start_run(b, r);
        }
        break;
    case CL_FAILED: {
        char why[CL_ERROR_LEN + 128];

        snprintf(why, sizeof(why), "agent %s:%lld: %s", a->host, (long long)a->pid, m->error);
        r->ra[a->index].state = RA_FAILED;
        r->ra[a->index].agent = NULL;
        release_agent(a);
        fail_run(b, r, (int)m->status, why);
        break;
    }
    case CL_STATS:
        on_stats(b, a, m);
        break;
    case CL_DONE: {
        struct run_agent *ra = &r->ra[a->index];

        ra->have_done = 1;
        ra->final_seq = m->seq;
        ra->status = m->status;
        if (ra->applied >= ra->final_seq)
            agent_done(b, a);
        break;
    }
    default:
        break;
    }
    /* A done agent whose last deltas came after its done message. */
    if (r && a->run == r && r->ra[a->index].have_done &&
        r->ra[a->index].applied >= r->ra[a->index].final_seq)
        agent_done(b, a);
}

/* An agent silent for CL_TIMEOUT_MS: dropped, and lost to its run. */
static void lose_agent(struct broker *b, struct agent *a)
{
    struct agent **p;

    if (a->run) {
        struct run *r = a->run;
        struct run_agent *ra = &r->ra[a->index];
        struct cl_msg m = {.type = CL_LOST, .agents = a->index};

        ra->lost_at = r->state == RUN_RUNNING
                          ? (double)(ra->heard_ms - r->started_ms) / 1000.0 : 0;
        if (ra->lost_at < 0)
            ra->lost_at = 0;
        ra->state = RA_LOST;
        ra->agent = NULL;
        shm_slot(&r->seg, a->index)->state = SHM_WORKER_CRASHED;
        cl_logf("run %s: agent %s:%lld lost at %.1f s", r->id, a->host, (long long)a->pid,
              ra->lost_at);
        snprintf(m.run, sizeof(m.run), "%s", r->id);
        m.at = ra->lost_at;
        tell_watchers(b, r, &m);
        if (r->state == RUN_STARTING) {
            char why[256];

            snprintf(why, sizeof(why), "agent %s:%lld was lost before the start", a->host,
                     (long long)a->pid);
            fail_run(b, r, 2, why);
        } else {
            check_run_end(b, r);
        }
    } else {
        cl_logf("agent %s:%lld lost", a->host, (long long)a->pid);
    }
    for (p = &b->agents; *p; p = &(*p)->next)
        if (*p == a) {
            *p = a->next;
            break;
        }
    free(a);
}

/* Once a heartbeat period: heartbeats out, silent peers lost. */
static void tick(struct broker *b)
{
    int64_t now = cl_now_ms();
    struct cl_msg hb = {.type = CL_HB};
    struct agent *a, *next;

    snprintf(hb.state, sizeof(hb.state), "up");
    for (a = b->agents; a; a = next) {
        next = a->next;
        if (now - a->heard_ms > CL_TIMEOUT_MS) {
            lose_agent(b, a);
            continue;
        }
        send_to(b, &a->id, &hb);
    }
    for (struct run *r = b->runs; r; r = r->next) {
        uint32_t alive = 0;

        for (uint32_t i = 0; i < r->nwatchers;) {
            if (now - r->watchers[i].heard_ms > CL_TIMEOUT_MS) {
                r->watchers[i] = r->watchers[--r->nwatchers];
                continue;
            }
            send_to(b, &r->watchers[i].id, &hb);
            alive++;
            i++;
        }
        /* A run whose runner went away, and that was not detached, stops. */
        if (!alive && !r->detach && r->state != RUN_DONE) {
            cl_logf("run %s: its runner is gone; stopping it", r->id);
            r->detach = 1;
            stop_run(b, r, 0);
            if (r->state == RUN_STARTING)
                fail_run(b, r, 1, "its runner went away before the start");
        }
    }
}

static int is_watcher(struct broker *b, const struct cl_id *id)
{
    for (struct run *r = b->runs; r; r = r->next)
        for (uint32_t i = 0; i < r->nwatchers; i++)
            if (same_id(&r->watchers[i].id, id))
                return 1;
    return 0;
}

static int is_agent_type(enum cl_type t)
{
    return t == CL_HELLO || t == CL_READY || t == CL_FAILED || t == CL_STATS || t == CL_DONE;
}

static void serve(struct broker *b)
{
    int64_t next_tick = cl_now_ms() + CL_HB_MS;

    while (!cl_stop_signal) {
        void *socks[2] = {b->sock, b->zap ? cl_zap_socket(b->zap) : NULL};
        int64_t wait = next_tick - cl_now_ms();

        cl_poll(socks, 2, wait > 0 ? (long)wait : 0);
        if (b->zap) {
            int n = cl_bind_failures(b->sock);

            cl_zap_handle(b->zap);
            if (n)
                cl_logf("refused %d client%s that failed the CURVE handshake (no keys, or "
                      "not this broker's public key)", n, n == 1 ? "" : "s");
        }
        for (int n = 0; n < 10000; n++) {
            struct cl_msg m;
            struct cl_id from;
            char err[256];
            int rc = cl_recv(b->sock, &from, &m, err, sizeof(err));

            if (rc == -EAGAIN)
                break;
            if (rc == -EPROTO) {
                cl_logf("dropped a message: %s", err);
                continue;
            }
            if (rc < 0)
                break;
            if (is_agent_type(m.type) || (m.type == CL_HB && find_agent(b, &from)))
                on_agent(b, &from, &m);
            else if (m.type == CL_HB && !is_watcher(b, &from))
                on_agent(b, &from, &m); /* an agent this broker does not know: who */
            else
                on_runner(b, &from, &m);
            cl_msg_free(&m);
        }
        if (cl_now_ms() >= next_tick) {
            tick(b);
            next_tick = cl_now_ms() + CL_HB_MS;
        }
    }
}

static const char usage[] =
    "Usage: loads-broker [--endpoint ENDPOINT] [--key NAME --allow DIR]\n"
    "       loads-broker --keygen NAME\n"
    "\n"
    "The broker of a Loads cluster: agents (loads-agent) connect to it and\n"
    "register; runners (loads-runner --agents N) send it runs, which it starts\n"
    "on N idle agents at once, and whose figures it adds up and streams back.\n"
    "It logs to stderr and stops on SIGTERM or SIGINT.\n"
    "\n"
    "Options:\n"
    "  --endpoint E     where to listen (default " CL_DEFAULT_ENDPOINT "); without\n"
    "                   keys only a loopback address or ipc:// is accepted\n"
    "  --key NAME       the broker's key pair, NAME_secret (made by --keygen):\n"
    "                   CURVE security on every connection\n"
    "  --allow DIR      the public keys (files NAME made by --keygen) of the agents\n"
    "                   and runners let in; read again when the folder changes\n"
    "  --keygen NAME    write a new key pair as NAME and NAME_secret (mode 0600)\n"
    "                   and exit; give NAME to the broker, agent or runner that owns\n"
    "                   it, and copy NAME (the public half) where the others need it\n"
    "  --version, -h, --help\n";

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"endpoint", required_argument, NULL, 'e'}, {"key", required_argument, NULL, 'k'},
        {"allow", required_argument, NULL, 'a'},    {"keygen", required_argument, NULL, 'g'},
        {"version", no_argument, NULL, 'V'},        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *endpoint = CL_DEFAULT_ENDPOINT, *key = NULL, *allow = NULL;
    struct broker b = {0};
    struct cl_keys keys = {0};
    char err[1024];
    int c;

    cl_daemon_start("loads-broker");

    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'e': endpoint = optarg; break;
        case 'k': key = optarg; break;
        case 'a': allow = optarg; break;
        case 'g':
            if (cl_keygen(optarg, err, sizeof(err)) < 0) {
                cl_logf("%s", err);
                return 2;
            }
            printf("wrote %s (public key: give it to the others) and %s_secret (keep it "
                   "here)\n", optarg, optarg);
            return 0;
        case 'V': printf("loads-broker %s\n", LOADS_VERSION); return 0;
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
    if (!key != !allow) {
        cl_logf("--key and --allow go together: the broker's keys and the keys it lets in");
        return 2;
    }
    if (key && cl_keys_load(&keys, key, NULL, err, sizeof(err)) < 0) {
        cl_logf("%s", err);
        return 2;
    }
    if (allow && !(b.zap = cl_zap_open(allow, err, sizeof(err)))) {
        cl_logf("%s", err);
        return 2;
    }
    b.sock = cl_bind(endpoint, &keys, err, sizeof(err));
    if (!b.sock) {
        cl_logf("%s", err);
        cl_zap_close(b.zap);
        cl_ctx_close();
        return 2;
    }
    cl_logf("listening on %s (%s), pid %d", endpoint,
          keys.have ? "CURVE keys, allow list" : "no keys: this machine only", (int)getpid());
    serve(&b);
    cl_logf("stopping on signal %d", (int)cl_stop_signal);
    for (struct run *r = b.runs; r; r = r->next)
        if (r->state != RUN_DONE)
            stop_run(&b, r, 1);
    while (b.agents) {
        struct agent *a = b.agents;

        b.agents = a->next;
        free(a);
    }
    while (b.runs) {
        struct run *r = b.runs;

        b.runs = r->next;
        free_run(r);
    }
    cl_close(b.sock);
    cl_zap_close(b.zap);
    cl_ctx_close();
    return 0;
}
