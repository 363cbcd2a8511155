/*
 * The worker process: its libuv loop, its virtual users and their runs.
 *
 * Each VU is a coroutine (base/vu.h).  Test code runs on the VU's stack
 * until it makes a blocking call (a request, a sleep); the call waits with
 * the VU's one wait, and the loop resumes the VU when the wait ends.  Only
 * one VU runs at a time, so test code needs no locks, and everything the
 * worker writes into its slot (record.c) has a single writer.
 *
 * The end of a run: at a stop (the supervisor's flag) or at the end of a
 * duration no run starts any more, and runs still going after the grace
 * period are cancelled: each VU's wait, and every later one, returns
 * -ECANCELED, which the API turns into an Interrupted run (counted apart:
 * neither a success nor an error).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "base/vu.h"
#include "worker/internal.h"

#define VU_STACK_SIZE (256 * 1024)
#define TICK_MS       100

/*
 * 1 + the index in the plan of the test t runs, 0 before its first run;
 * past the tests (ntests + 1) while a setUp or tearDown of a wider scope
 * runs, so that the heartbeat sees its code too.
 */
static uint32_t test_index(const struct loads_test *t)
{
    if (t->in_scope)
        return t->w->plan->ntests + 1;
    return t->test ? (uint32_t)(t->test - t->w->plan->tests) + 1 : 0;
}

/* The run's (or scope's) responses, sockets and kept strings go. */
static void end_run(struct loads_test *t)
{
    api_ws_end_run(t);
    api_http_end_run(t);
    api_text_end_run(t);
    api_end_run(t);
}

/*
 * Runs a setUp or tearDown wider than a run (setUpVU, tearDownVU,
 * setUpOnce, tearDownOnce) in the VU.  One that passes is no test run;
 * one that fails (a Failure or an Error) counts as one, under its name,
 * with its message; one that was cut is not counted.  Returns 0 when it
 * passed.
 */
static int run_scope(struct loads_test *t, const struct worker_scope *scope)
{
    t->test = NULL;
    t->in_scope = 1;
    record_running(t->w->rec, test_index(t));
    t->outcome = OUTCOME_SUCCESS;
    t->msg[0] = '\0';
    if (setjmp(t->jmp) == 0)
        scope->fn(t);
    end_run(t);
    t->in_scope = 0;
    if (t->outcome == OUTCOME_FAILURE || t->outcome == OUTCOME_ERROR) {
        record_run_started(t->w->rec);
        record_run_ended(t->w->rec, (int)t->outcome, scope->name, t->msg);
    }
    return t->outcome == OUTCOME_SUCCESS ? 0 : -1;
}

/*
 * Runs one test with its suite's setUp and tearDown, as unittest does:
 * a failing setUp skips the test; tearDown runs whenever setUp passed
 * (unless the run was cancelled), and its failure counts when the test
 * itself passed.
 */
static void run_test(struct loads_test *t, const struct worker_test *test)
{
    volatile int setup_done = 0;

    t->test = test;
    if (!t->w->plan->data_per_vu)
        t->has_row = 0; /* the run's first loads_data takes the next row */
    record_running(t->w->rec, test_index(t));
    t->outcome = OUTCOME_SUCCESS;
    t->msg[0] = '\0';
    record_run_started(t->w->rec);
    if (setjmp(t->jmp) == 0) {
        if (test->setup)
            test->setup(t);
        setup_done = 1;
        test->fn(t);
    }
    if (setup_done && test->teardown && !vu_cancelled(t->vu)) {
        enum outcome outcome = t->outcome;
        char msg[SHM_MSG_LEN];

        memcpy(msg, t->msg, sizeof(msg));
        t->outcome = OUTCOME_SUCCESS;
        if (setjmp(t->jmp) == 0)
            test->teardown(t);
        if (outcome != OUTCOME_SUCCESS || t->outcome == OUTCOME_SUCCESS) {
            t->outcome = outcome;
            memcpy(t->msg, msg, sizeof(msg));
        }
    }
    end_run(t);
    record_run_ended(t->w->rec, (int)t->outcome, test->name, t->msg);
}

/*
 * The test of the VU's next weighted pick: VU k's r-th pick is the
 * schedule's (k + r)-th, so that VUs start at different points of one
 * evenly spread order.
 */
static const struct worker_test *next_pick(struct loads_test *t)
{
    const struct worker_plan *p = t->w->plan;

    return &p->tests[p->schedule[(t->id + t->picks++) % p->nschedule]];
}

/*
 * One "hit" of this VU: every test of the plan once, in order; or, for a
 * weighted plan, one test picked by weight.
 */
static void run_tests(struct loads_test *t)
{
    const struct worker_plan *p = t->w->plan;

    if (p->schedule) {
        run_test(t, next_pick(t));
        return;
    }
    for (uint32_t i = 0; i < p->ntests && !t->w->stopping; i++)
        run_test(t, &p->tests[i]);
}

static void vu_runs(struct loads_test *t);

/* Writes all of len bytes to fd.  Returns 0 or -1. */
static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;

    while (len) {
        ssize_t n = write(fd, p, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/*
 * The VU of a worker that runs setUpOnce or tearDownOnce alone: its
 * outcome and the values it stored go to the supervisor (worker.h).
 */
static void vu_once(struct loads_test *t)
{
    const struct worker_plan *p = t->w->plan;
    int ok = run_scope(t, p->once) == 0;
    const char *v = t->values.data, *end = v ? v + t->values.len : NULL;

    if (write_all(p->once_fd, ok ? "S" : "F", 1) < 0)
        return;
    for (; ok && v && v < end; v += strlen(v) + 1) {
        uint32_t len = (uint32_t)strlen(v);

        if (write_all(p->once_fd, &len, sizeof(len)) < 0 || write_all(p->once_fd, v, len) < 0)
            return;
    }
}

/* A VU's function: its start, then its hits in turn, or runs until the deadline. */
static void vu_main(void *arg)
{
    struct loads_test *t = arg;
    struct worker *w = t->w;
    const struct worker_plan *p = w->plan;

    /* The ramp-up: its start is a wait like any other. */
    if (t->start_us) {
        t->idle_until = INT64_MAX; /* no run starts once the end has come */
        if (vu_wait(t->vu, t->start_us, "start") == -ECANCELED)
            return;
        t->idle_until = 0;
    }
    if (p->once) {
        vu_once(t);
        return;
    }
    if (p->setup_vu && p->setup_vu->fn && (w->stopping || run_scope(t, p->setup_vu) < 0))
        return;
    vu_runs(t);
    if (p->teardown_vu && p->teardown_vu->fn && !vu_cancelled(t->vu))
        run_scope(t, p->teardown_vu);
}

/* The VU's test runs: its hits in turn, its share of a replacement's, or a duration's. */
static void vu_runs(struct loads_test *t)
{
    struct worker *w = t->w;
    const struct worker_plan *p = w->plan;

    if (p->total_runs) {
        /* A replacement worker: the runs its crashed predecessor left. */
        uint32_t idx = t->id - p->first_user;
        uint64_t quota = p->total_runs / p->users + (idx < p->total_runs % p->users);

        for (uint64_t r = 0; r < quota && !w->stopping; r++)
            run_test(t, p->schedule ? next_pick(t) : &p->tests[r % p->ntests]);
    } else if (p->nhits) {
        for (uint32_t k = 0; k < p->nhits; k++)
            for (uint64_t i = 0; i < p->hits[k] && !w->stopping; i++)
                run_tests(t);
    } else {
        while (!w->stopping && shm_mono_us() < p->deadline_mono_us)
            run_tests(t);
    }
}

/* The loop hands the thread to a VU: the heartbeat says whose test runs. */
static void on_vu_resume(struct vu *vu, void *arg)
{
    struct worker *w = arg;

    record_beat(w->rec, test_index(vu_arg(vu)));
}

/* The loop has the thread back. */
static void on_vu_pause(struct vu *vu, void *arg)
{
    struct worker *w = arg;

    record_running(w->rec, 0);
}

/* A VU's function returned: the worker ends with its last one. */
static void on_vu_finished(struct vu *vu, void *arg)
{
    struct worker *w = arg;

    record_users(w->rec, -1);
    if (--w->vus_left == 0)
        uv_stop(&w->loop);
}

static const struct vu_hooks vu_hooks = {on_vu_resume, on_vu_pause, on_vu_finished};

/*
 * The end has come (a stop, the end of the duration): no run starts any
 * more, and a VU asleep past the grace period, or not started yet, is cut
 * now rather than at the end of the grace period.
 */
static void begin_stopping(struct worker *w, int64_t hard_stop_us)
{
    w->stopping = 1;
    w->hard_stop_us = hard_stop_us;
    for (uint32_t i = 0; i < w->nvus; i++)
        if (w->vus[i].idle_until > hard_stop_us)
            vu_cancel(w->vus[i].vu);
}

/*
 * Housekeeping, ten times a second: notices a stop asked by the supervisor
 * or the end of the duration, cancels runs past their grace period, takes
 * the web sockets' counts and closes the seconds of the per-second series.
 */
static void on_tick(uv_timer_t *timer)
{
    struct worker *w = timer->data;
    const struct worker_plan *p = w->plan;
    int64_t now = shm_mono_us();

    api_ws_take_counts(w);
    record_tick(w->rec, now);
    if (!w->stopping) {
        if (__atomic_load_n(&w->hdr->stop, __ATOMIC_RELAXED))
            begin_stopping(w, now + (int64_t)(p->grace * 1e6));
        else if (!p->nhits && !p->once && now >= p->deadline_mono_us)
            begin_stopping(w, p->deadline_mono_us + (int64_t)(p->grace * 1e6));
    }
    if (w->stopping && !w->cut && now >= w->hard_stop_us) {
        w->cut = 1;
        for (uint32_t i = 0; i < w->nvus; i++)
            vu_cancel(w->vus[i].vu);
    }
}

/* Creates the VUs, each with its start time.  Returns 0 or -errno. */
static int create_vus(struct worker *w)
{
    const struct worker_plan *p = w->plan;
    int64_t now = shm_mono_us();

    w->vus = calloc(p->users, sizeof(*w->vus));
    if (!w->vus)
        return -ENOMEM;
    for (uint32_t i = 0; i < p->users; i++) {
        struct loads_test *t = &w->vus[i];

        t->w = w;
        t->id = p->first_user + i;
        t->vu = vu_create(w->sched, t->id, VU_STACK_SIZE, vu_main, t);
        if (!t->vu)
            return -ENOMEM;
        if (p->ramp_up > 0 && p->users > 1)
            t->start_us = now + (int64_t)(p->ramp_up * 1e6 * i / p->users);
        w->nvus++;
        w->vus_left++;
        record_users(w->rec, 1);
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
    api_ws_close(w);
    for (uint32_t i = 0; i < w->nvus; i++) {
        api_http_vu_close(&w->vus[i]);
        api_text_vu_close(&w->vus[i]);
        api_end_run(&w->vus[i]);
        buf_free(&w->vus[i].kept);
        buf_free(&w->vus[i].values);
        vu_destroy(w->vus[i].vu);
    }
    api_http_close(w);
    api_text_close();
    vu_sched_destroy(w->sched);
    uv_walk(&w->loop, on_walk_close, NULL);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    uv_loop_close(&w->loop);
    free(w->vus);
}

void worker_main(const struct worker_plan *plan)
{
    static struct worker w;
    sigset_t none;

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
    w.rec = record_create(plan->shm, plan->slot);
    if (!w.rec || uv_loop_init(&w.loop) < 0)
        _exit(3);
    w.sched = vu_sched_create(&w.loop, &vu_hooks, &w);
    if (!w.sched || api_http_init(&w) < 0 || create_vus(&w) < 0)
        _exit(3);
    uv_timer_init(&w.loop, &w.tick);
    w.tick.data = &w;
    uv_timer_start(&w.tick, on_tick, TICK_MS, TICK_MS);
    for (uint32_t i = 0; i < w.nvus; i++)
        vu_start(w.vus[i].vu);

    /* Returns at once when every VU has ended already (and clears the stop). */
    uv_run(&w.loop, UV_RUN_DEFAULT);

    worker_cleanup(&w);
    record_flush(w.rec);
    /* Only this path marks the slot done: an exit() in test code does not. */
    record_done(w.rec);
    record_destroy(w.rec);
    exit(0);
}
