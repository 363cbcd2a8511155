/*
 * The worker process: its libuv loop, its virtual users and their runs.
 *
 * Each VU is a coroutine.  Test code runs on the VU's stack until it makes a
 * blocking call (a request, a sleep); the call yields to the loop, and the
 * loop resumes the VU when the call completes.  Only one VU runs at a time,
 * so test code needs no locks, and everything the worker writes into its
 * slot has a single writer.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "worker/internal.h"

#define VU_STACK_SIZE (256 * 1024)
#define TICK_MS       100

static const char *const vu_state_names[] = {
    [VU_NEW] = "new",
    [VU_RUNNING] = "running",
    [VU_WAIT_HTTP] = "wait-http",
    [VU_WAIT_SLEEP] = "wait-sleep",
    [VU_WAIT_WS] = "wait-ws",
    [VU_FINISHED] = "finished",
};

/*
 * Every change of a VU's state goes through here, so that one line of
 * LOADS_DEBUG output shows a VU's whole life when something hangs.
 */
void vu_set_state(struct loads_test *vu, enum vu_state state)
{
    static int debug = -1;

    if (debug < 0)
        debug = getenv("LOADS_DEBUG") != NULL;
    if (debug)
        fprintf(stderr, "loads: worker %d vu %u: %s -> %s\n", (int)getpid(), vu->id,
                vu_state_names[vu->state], vu_state_names[state]);
    vu->state = state;
}

/* Suspends the running VU in the given wait state until vu_resume. */
void vu_yield(struct loads_test *vu, enum vu_state state)
{
    vu_set_state(vu, state);
    coro_yield();
    vu_set_state(vu, VU_RUNNING);
}

/*
 * The heartbeat the supervisor reads (shm.h, struct shm_slot): which test's
 * code holds the loop now, 0 when none does.  Single writer: this worker.
 */
static void publish_running(struct worker *w, const struct worker_test *test)
{
    uint32_t running = test ? (uint32_t)(test - w->plan->tests) + 1 : 0;

    __atomic_store_n(&w->slot->running, running, __ATOMIC_RELAXED);
}

/* Called from the loop: runs a VU until its next wait, or until it ends. */
void vu_resume(struct loads_test *vu)
{
    struct worker *w = vu->w;
    int ended;

    shm_add(&w->slot->beat, 1);
    publish_running(w, vu->test);
    ended = coro_resume(vu->co) == 1;
    publish_running(w, NULL);
    if (ended) {
        vu_set_state(vu, VU_FINISHED);
        shm_add(&w->slot->c.users_active, (uint64_t)-1);
        if (--w->vus_left == 0)
            uv_stop(&w->loop);
    }
}

/*
 * Ends the running test now with a failure or an error.  It jumps back to
 * run_test on the VU's own stack; the responses of the run are freed there.
 */
void vu_stop_run(struct loads_test *vu, enum vu_outcome outcome, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(vu->msg, sizeof(vu->msg), fmt, ap);
    va_end(ap);
    vu->outcome = outcome;
    longjmp(vu->jmp, 1);
}

/* Counts the outcome of one run in the slot and the current second. */
static void record_outcome(struct loads_test *vu)
{
    struct worker *w = vu->w;
    struct shm_counters *c = &w->slot->c;

    switch (vu->outcome) {
    case VU_SUCCESS:
        shm_add(&c->successes, 1);
        break;
    case VU_FAILURE:
        shm_add(&c->failures, 1);
        break;
    case VU_ERROR:
        shm_add(&c->errors, 1);
        break;
    }
    if (vu->outcome != VU_SUCCESS) {
        w->sec_errors++;
        shm_msg_count(w->slot, (enum shm_outcome)vu->outcome, vu->test->name, vu->msg);
        shm_ring_push(w->slot, (enum shm_outcome)vu->outcome, vu->test->name, vu->msg);
    }
    shm_add(&c->runs, 1);
}

/*
 * Runs one test with its suite's setUp and tearDown, as unittest does:
 * a failing setUp skips the test; tearDown runs whenever setUp passed, and
 * its failure counts when the test itself passed.
 */
static void run_test(struct loads_test *vu, const struct worker_test *test)
{
    volatile int setup_done = 0;

    vu->test = test;
    publish_running(vu->w, test);
    vu->outcome = VU_SUCCESS;
    vu->msg[0] = '\0';
    shm_add(&vu->w->slot->c.runs_started, 1);
    if (setjmp(vu->jmp) == 0) {
        if (test->setup)
            test->setup(vu);
        setup_done = 1;
        test->fn(vu);
    }
    if (setup_done && test->teardown && !vu->aborted) {
        enum vu_outcome outcome = vu->outcome;
        char msg[SHM_MSG_LEN];

        memcpy(msg, vu->msg, sizeof(msg));
        vu->outcome = VU_SUCCESS;
        if (setjmp(vu->jmp) == 0)
            test->teardown(vu);
        if (outcome != VU_SUCCESS || vu->outcome == VU_SUCCESS) {
            vu->outcome = outcome;
            memcpy(vu->msg, msg, sizeof(msg));
        }
    }
    worker_ws_end_run(vu);
    worker_http_free_responses(vu);
    record_outcome(vu);
}

/* Runs every test of the plan once: one "hit" of this VU. */
static void run_tests(struct loads_test *vu)
{
    const struct worker_plan *p = vu->w->plan;

    for (uint32_t i = 0; i < p->ntests && !vu->w->stopping; i++)
        run_test(vu, &p->tests[i]);
}

/* A VU's coroutine: its hits in turn, or runs until the deadline. */
static void vu_main(void *arg)
{
    struct loads_test *vu = arg;
    struct worker *w = vu->w;
    const struct worker_plan *p = w->plan;

    if (p->total_runs) {
        /* A replacement worker: the runs its crashed predecessor left. */
        uint32_t idx = vu->id - p->first_user;
        uint64_t quota = p->total_runs / p->users + (idx < p->total_runs % p->users);

        for (uint64_t r = 0; r < quota && !w->stopping; r++)
            run_test(vu, &p->tests[r % p->ntests]);
    } else if (p->nhits) {
        for (uint32_t k = 0; k < p->nhits; k++)
            for (uint64_t i = 0; i < p->hits[k] && !w->stopping; i++)
                run_tests(vu);
    } else {
        while (!w->stopping && shm_mono_us() < p->deadline_mono_us)
            run_tests(vu);
    }
}

/* Starts a VU when its ramp-up delay has passed. */
static void on_vu_start(uv_timer_t *timer)
{
    struct loads_test *vu = timer->data;

    if (vu->state == VU_NEW) {
        vu_set_state(vu, VU_RUNNING);
        vu_resume(vu);
    }
}

/* Ends the runs still going after the grace period: each is an Error. */
static void abort_runs(struct worker *w)
{
    for (uint32_t i = 0; i < w->nvus; i++) {
        struct loads_test *vu = &w->vus[i];

        switch (vu->state) {
        case VU_WAIT_HTTP:
            worker_http_abort(vu);
            vu->aborted = 1;
            vu_resume(vu);
            break;
        case VU_WAIT_SLEEP:
            uv_timer_stop(&vu->timer);
            vu->aborted = 1;
            vu_resume(vu);
            break;
        case VU_WAIT_WS:
            worker_ws_abort(vu);
            vu->aborted = 1;
            vu_resume(vu);
            break;
        case VU_NEW:
            uv_timer_stop(&vu->timer);
            vu_resume(vu); /* starts and ends at once: stopping is set */
            break;
        default:
            break;
        }
    }
}

/* Writes the finished second into the slot's series and starts the next. */
static void flush_second(struct worker *w, uint64_t now_second)
{
    struct shm_second *s = &w->slot->series[w->cur_second % SHM_SERIES];

    shm_store(&s->second, 0);
    shm_store(&s->hits, w->sec_hits);
    shm_store(&s->errors, w->sec_errors);
    shm_store(&s->p50_us, hist_percentile(w->second, 50));
    shm_store(&s->p99_us, hist_percentile(w->second, 99));
    __atomic_store_n(&s->second, w->cur_second + 1, __ATOMIC_RELEASE);
    shm_recent_push(w->slot, &w->recent, w->second); /* and resets it */
    w->sec_hits = w->sec_errors = 0;
    w->cur_second = now_second;
}

/*
 * Housekeeping, ten times a second: notices a stop asked by the supervisor
 * or the end of the duration, aborts runs past their grace period, and
 * closes the seconds of the per-second series.
 */
static void on_tick(uv_timer_t *timer)
{
    struct worker *w = timer->data;
    const struct worker_plan *p = w->plan;
    int64_t now = shm_mono_us();
    uint64_t second = (uint64_t)(now - w->hdr->started_mono_us) / 1000000;

    if (second != w->cur_second)
        flush_second(w, second);
    if (!w->stopping) {
        if (__atomic_load_n(&w->hdr->stop, __ATOMIC_RELAXED)) {
            w->stopping = 1;
            w->hard_stop_us = now + (int64_t)(p->grace * 1e6);
        } else if (!p->nhits && now >= p->deadline_mono_us) {
            w->stopping = 1;
            w->hard_stop_us = p->deadline_mono_us + (int64_t)(p->grace * 1e6);
        }
    }
    worker_h1_check_timeouts(w, now);
    if (w->stopping && now >= w->hard_stop_us)
        abort_runs(w);
}

/* Creates the VUs: coroutine, session, timer.  Returns 0 or -errno. */
static int create_vus(struct worker *w)
{
    const struct worker_plan *p = w->plan;

    w->vus = calloc(p->users, sizeof(*w->vus));
    if (!w->vus)
        return -ENOMEM;
    for (uint32_t i = 0; i < p->users; i++) {
        struct loads_test *vu = &w->vus[i];
        uint64_t delay_ms = 0;

        vu->w = w;
        vu->id = p->first_user + i;
        vu->co = coro_create(VU_STACK_SIZE, vu_main, vu);
        if (!vu->co)
            return -ENOMEM;
        uv_timer_init(&w->loop, &vu->timer);
        vu->timer.data = vu;
        if (p->ramp_up > 0 && p->users > 1)
            delay_ms = (uint64_t)(p->ramp_up * 1000.0 * i / p->users);
        uv_timer_start(&vu->timer, on_vu_start, delay_ms, 0);
        w->nvus++;
        w->vus_left++;
        shm_add(&w->slot->c.users_active, 1);
    }
    return 0;
}

/* Closes every handle left open so the loop can be closed cleanly. */
static void on_walk_close(uv_handle_t *h, void *arg)
{
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

/*
 * Frees everything of the worker.  The web sockets go first: lws closes
 * its handles through the loop, so it must be done with them before the
 * remaining handles are closed from outside.
 */
static void worker_cleanup(struct worker *w)
{
    worker_ws_close(w);
    for (uint32_t i = 0; i < w->nvus; i++) {
        worker_http_vu_close(&w->vus[i]);
        coro_destroy(w->vus[i].co);
    }
    worker_http_close(w);
    uv_walk(&w->loop, on_walk_close, NULL);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    uv_loop_close(&w->loop);
    free(w->vus);
    free(w->socks);
    free(w->second);
    shm_recent_free(&w->recent);
}

void worker_main(const struct worker_plan *plan)
{
    static struct worker w;
    sigset_t none;
    int rc;

    /* Die with the supervisor, even if it is killed with SIGKILL. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != plan->shm->hdr->supervisor)
        _exit(3);
    signal(SIGINT, SIG_IGN); /* the supervisor decides how a run stops */
    signal(SIGTERM, SIG_DFL);
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);

    w.plan = plan;
    w.hdr = plan->shm->hdr;
    w.slot = shm_slot(plan->shm, plan->slot);
    w.second = calloc(1, sizeof(*w.second));
    w.cur_second = (uint64_t)(shm_mono_us() - w.hdr->started_mono_us) / 1000000;
    if (!w.second || uv_loop_init(&w.loop) < 0)
        _exit(3);
    rc = worker_http_init(&w);
    if (rc == 0)
        rc = create_vus(&w);
    if (rc < 0)
        _exit(3);
    uv_timer_init(&w.loop, &w.tick);
    w.tick.data = &w;
    uv_timer_start(&w.tick, on_tick, TICK_MS, TICK_MS);

    uv_run(&w.loop, UV_RUN_DEFAULT);

    flush_second(&w, w.cur_second);
    worker_cleanup(&w);
    /* Only this path marks the slot done: an exit() in test code does not. */
    __atomic_store_n(&w.slot->state, SHM_WORKER_DONE, __ATOMIC_RELEASE);
    exit(0);
}
