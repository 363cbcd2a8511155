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
 *
 * Two models.  Closed (-u, -c, -d): each VU loops on the test.  Open
 * (--rate): runs are due at the times of a schedule (worker/arrival.h),
 * this worker's stripe of its run numbers; a timer fires when the next is
 * due, and each due run goes to an idle VU of a pool, which grows up to
 * max_users; with none idle and none to add, the run is dropped and
 * counted, never kept to start late.  A run's lateness (the loop's own
 * delay, the timer's tick) is added to its response times.  The timer is a timerfd in the loop,
 * armed at the next run's microsecond (libuv's timers count whole
 * milliseconds, which would make every run up to 1 ms late), but never
 * sooner than ARRIVAL_TICK_US after it last fired.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "base/fdio.h"
#include "base/vu.h"
#include "worker/internal.h"

#define VU_STACK_SIZE (256 * 1024)
#define TICK_MS       100

/*
 * The open model's timer wakes the worker at most this often: runs due
 * closer together start together, up to this late (which their response
 * times show).  A wake-up costs far more than a run's own work, above all
 * in a VM (the timer's reprogramming and the sleep): measured here, at
 * 20,000 runs/s on one worker, a run that makes no request cost 29 us of
 * CPU with a wake-up for each, 6 us with this tick; one GET 42 us and 18
 * us.  Below 4,000 runs/s a worker, each run has its own microsecond.
 */
#define ARRIVAL_TICK_US 250

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

/*
 * The VU of a worker that runs setUpOnce or tearDownOnce alone: its
 * outcome and the values it stored go to the supervisor (worker.h).
 */
static void vu_once(struct loads_test *t)
{
    const struct worker_plan *p = t->w->plan;
    int ok = run_scope(t, p->once) == 0;
    const char *v = t->values.data, *end = v ? v + t->values.len : NULL;

    if (fd_write_all(p->once_fd, ok ? "S" : "F", 1) < 0)
        return;
    for (; ok && v && v < end; v += strlen(v) + 1) {
        uint32_t len = (uint32_t)strlen(v);

        if (fd_write_all(p->once_fd, &len, sizeof(len)) < 0 ||
            fd_write_all(p->once_fd, v, len) < 0)
            return;
    }
}

/*
 * A VU of the open model's pool: runs the run it was handed, then waits
 * idle on the pool's stack for the next, until the end.
 */
static void pool_vu_main(struct loads_test *t)
{
    struct worker *w = t->w;
    const struct worker_plan *p = w->plan;

    for (;;) {
        if (t->assigned) {
            int64_t late = shm_mono_us() - t->sched_us;

            t->late_us = late > 0 ? late : 0;
            run_test(t, p->schedule ? next_pick(t) : &p->tests[t->run_no % p->ntests]);
            t->assigned = 0;
            t->late_us = 0;
        }
        if (w->stopping)
            return;
        w->idle[w->nidle++] = t;
        while (!t->assigned) {
            t->idle_until = INT64_MAX;
            if (vu_wait(t->vu, 0, "idle") == -ECANCELED || w->stopping)
                return;
            t->idle_until = 0;
        }
    }
}

/* A VU's function: its start, then its hits in turn, or runs until the deadline. */
static void vu_main(void *arg)
{
    struct loads_test *t = arg;
    struct worker *w = t->w;
    const struct worker_plan *p = w->plan;

    /* The ramp-up: its start is a wait like any other (a pool's VUs have none). */
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
    if (p->setup_vu && p->setup_vu->fn && (w->stopping || run_scope(t, p->setup_vu) < 0)) {
        /*
         * A pool's VU added for a run, whose setUpVU was cut (a stop's
         * grace period): a cut setUpVU counts as no run, so that run,
         * due, would be neither started nor dropped.  One that failed
         * counted as a run.
         */
        if (t->assigned && t->outcome != OUTCOME_FAILURE && t->outcome != OUTCOME_ERROR)
            record_dropped(w->rec, 1);
        return;
    }
    if (p->arrival)
        pool_vu_main(t);
    else
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

/*
 * A VU's function returned: the worker ends with its last one.  Not an
 * open model's before its end: a pool whose VUs all ended (their setUpVU
 * failed) still has runs due, each to start on a new VU or be dropped.
 */
static void on_vu_finished(struct vu *vu, void *arg)
{
    struct worker *w = arg;

    record_users(w->rec, -1);
    if (--w->vus_left == 0 && (!w->plan->arrival || w->stopping))
        uv_stop(&w->loop);
}

static const struct vu_hooks vu_hooks = {on_vu_resume, on_vu_pause, on_vu_finished};

/* Makes the worker's next VU (not started yet).  Returns it, or NULL. */
static struct loads_test *add_vu(struct worker *w)
{
    const struct worker_plan *p = w->plan;
    struct loads_test *t = &w->vus[w->nvus];

    t->w = w;
    t->id = p->first_user + w->nvus;
    t->vu = vu_create(w->sched, t->id, VU_STACK_SIZE, vu_main, t);
    if (!t->vu)
        return NULL;
    w->nvus++;
    w->vus_left++;
    record_users(w->rec, 1);
    return t;
}

/* ------------------------------------------------------------ open model */

/* When run n of the schedule is due (CLOCK_MONOTONIC), or -1 past its end. */
static int64_t run_due(const struct worker *w, uint64_t n)
{
    int64_t t = arrival_time_us(w->plan->arrival, n);

    return t < 0 ? -1 : w->plan->start_mono_us + t;
}

/*
 * The stop the supervisor asked (shm.h: stop, stop_mono_us), as this
 * worker acts on it: 0 while none was asked; -1 while its time is not
 * written yet (start nothing, look again); else its time.  The runs due
 * by that time are started (or dropped), the later ones never.  The
 * supervisor sets the flag and then reads the clock for the stop's time
 * (request_stop); the worker reads the clock and then the flag: a worker
 * that sees no stop read a time before the stop's, so it cannot start a
 * run due after the stop either.
 */
static int64_t stop_at(const struct worker *w)
{
    int64_t at;

    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (!__atomic_load_n(&w->hdr->stop, __ATOMIC_SEQ_CST))
        return 0;
    at = __atomic_load_n(&w->hdr->stop_mono_us, __ATOMIC_ACQUIRE);
    return at > 0 ? at : -1;
}

/* Moves to the next run of the worker's stripe. */
static void next_arrival(struct worker *w)
{
    w->next_run += w->plan->rate_stride;
    w->next_at = run_due(w, w->next_run);
    record_rate_next(w->rec, w->next_run);
}

/*
 * Adds a VU to the pool.  One that cannot be made (its stack's mapping
 * refused: vm.max_map_count, two maps a VU, or memory) is not fatal: the
 * pool stays as it is, runs that find no VU free are dropped and counted,
 * and a warning says why, once.  Returns the VU, or NULL.
 */
static struct loads_test *grow_pool(struct worker *w)
{
    struct loads_test *t = NULL;
    char text[SHM_MSG_LEN];

    errno = ENOMEM;
    if (w->nvus < w->pool_cap)
        t = add_vu(w);

    if (t || w->pool_short)
        return t;
    w->pool_short = 1;
    snprintf(text, sizeof(text), "the pool of a worker could not grow past %u users "
             "(%s: a user's stack is two maps: vm.max_map_count, or a memory limit); "
             "runs that found no free user were dropped", w->nvus, strerror(errno));
    record_warning(w->rec, w->plan->tests[0].name, text);
    return NULL;
}

/*
 * Starts run n, due at at, on an idle VU of the pool, or on a new one
 * while the pool may grow; else drops it.
 */
static void start_arrival(struct worker *w, uint64_t n, int64_t at)
{
    struct loads_test *t = NULL;
    int fresh = 0;

    if (w->nidle)
        t = w->idle[--w->nidle];
    else if (w->nvus < w->plan->max_users && (t = grow_pool(w)) != NULL)
        fresh = 1;
    if (!t) {
        record_dropped(w->rec, 1);
        return;
    }
    t->assigned = 1;
    t->run_no = n;
    t->sched_us = at;
    if (fresh)
        vu_start(t->vu);
    else
        vu_wake(t->vu);
}

/*
 * Starts every run due by now (all that are left when all is set).  The
 * slot's place moves past a run before it starts: a run that crashes the
 * worker is not started again by its replacement.
 */
static void start_due(struct worker *w, int64_t now, int all)
{
    while (w->next_at >= 0 && (all || w->next_at <= now) && !w->stopping) {
        uint64_t n = w->next_run;
        int64_t at = w->next_at;

        next_arrival(w);
        start_arrival(w, n, at);
    }
}

/*
 * Sets the timerfd to the next run's time (CLOCK_MONOTONIC, absolute), or
 * ARRIVAL_TICK_US after the last wake-up when that is later.
 */
static void arm_arrivals(struct worker *w)
{
    struct itimerspec its = {{0, 0}, {0, 0}};
    int64_t at = w->next_at;

    if (w->next_at < 0 || w->stopping)
        return;
    if (at < w->woke_us + ARRIVAL_TICK_US)
        at = w->woke_us + ARRIVAL_TICK_US;
    its.it_value.tv_sec = at / 1000000;
    its.it_value.tv_nsec = (long)(at % 1000000) * 1000;
    if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
        its.it_value.tv_nsec = 1; /* 0 would disarm it */
    timerfd_settime(w->arrivals_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

/*
 * The timer fired: the runs due start after the loop has handled every
 * other event of this turn (on_arrivals_check), not before.  The answers
 * that came with the timer end their runs first and give their VUs back
 * to the pool: a run started before them would find none of those free
 * and add a VU (a new connection), and then the pool grows each time the
 * loop comes late (a busy machine), up to a VU and a connection for every
 * run of the delay.
 */
static void on_arrivals(uv_poll_t *poll, int status, int events)
{
    struct worker *w = poll->data;
    uint64_t expirations;

    if (read(w->arrivals_fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
        return;
    w->arrivals_due = 1;
}

static void on_arrivals_check(uv_check_t *check)
{
    struct worker *w = check->data;
    int64_t stop;

    if (!w->arrivals_due || w->stopping)
        return;
    w->arrivals_due = 0;
    w->woke_us = shm_mono_us();
    stop = stop_at(w);
    /*
     * A stop starts no run due after it, from the moment it is asked (the
     * tick that begins stopping comes up to TICK_MS later, by when a high
     * rate would have started thousands more), and the runs due before it
     * that this wake-up finds still start: they were due, as those of a
     * schedule's end are.  Its time not written yet: the next tick.
     */
    if (stop > 0) {
        start_due(w, stop, 0);
        return;
    }
    if (stop == 0)
        start_due(w, w->woke_us, 0);
    arm_arrivals(w);
}

/*
 * The pool at the start: users idle VUs, and the worker's place in the
 * schedule.  A worker that replaces a crashed one goes on where it was
 * left, and the runs that were due meanwhile are dropped: no VU was there.
 */
static int start_pool(struct worker *w)
{
    const struct worker_plan *p = w->plan;
    uint64_t from = p->resume ? record_rate_resume(w->rec) : 0;
    int64_t now = shm_mono_us();

    for (uint32_t i = 0; i < p->users && !w->pool_short; i++)
        grow_pool(w);
    w->next_run = arrival_stripe_next(from, p->rate_offset, p->rate_stride);
    w->next_at = run_due(w, w->next_run);
    record_rate_next(w->rec, w->next_run);
    if (p->resume) {
        uint64_t dropped = 0;
        int64_t stop = stop_at(w), upto = stop > 0 && stop < now ? stop + 1 : now;

        /* Not those due after a stop: they are not due at all. */
        for (; w->next_at >= 0 && w->next_at < upto; next_arrival(w))
            dropped++;
        if (dropped)
            record_dropped(w->rec, dropped);
    }
    /* Wake-ups within a microsecond of the time asked, not the default 50. */
    prctl(PR_SET_TIMERSLACK, 1000UL);
    w->arrivals_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (w->arrivals_fd < 0)
        return -errno;
    if (uv_poll_init(&w->loop, &w->arrivals, w->arrivals_fd) < 0)
        return -ENOMEM;
    w->arrivals.data = w;
    uv_poll_start(&w->arrivals, UV_READABLE, on_arrivals);
    uv_check_init(&w->loop, &w->arrivals_check);
    w->arrivals_check.data = w;
    uv_check_start(&w->arrivals_check, on_arrivals_check);
    arm_arrivals(w);
    return 0;
}

/*
 * The end has come (a stop, the end of the duration): no run starts any
 * more, and a VU asleep past the grace period, or not started yet, is cut
 * now rather than at the end of the grace period.
 */
static void begin_stopping(struct worker *w, int64_t hard_stop_us)
{
    if (w->plan->arrival && w->arrivals_fd >= 0) {
        uv_poll_stop(&w->arrivals);
        uv_check_stop(&w->arrivals_check);
    }
    w->stopping = 1;
    w->hard_stop_us = hard_stop_us;
    /*
     * The pool's idle VUs are woken, not cut: they end as a closed
     * model's VUs end their loop, with their tearDownVU (a logout) within
     * the grace period.
     */
    for (uint32_t i = 0; i < w->nidle; i++) {
        w->idle[i]->idle_until = 0;
        vu_wake(w->idle[i]->vu);
    }
    w->nidle = 0;
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
        int64_t stop = stop_at(w);

        /* An open model waits for the stop's time (stop_at); a closed one has no schedule. */
        if (stop > 0 || (stop < 0 && !p->arrival)) {
            /* Runs due by the stop and not started yet start now. */
            if (p->arrival)
                start_due(w, stop, 0);
            begin_stopping(w, now + (int64_t)(p->grace * 1e6));
        } else if (stop == 0 && !p->nhits && !p->once && now >= p->deadline_mono_us) {
            /* The schedule's last runs, due before its end: late, not dropped. */
            if (p->arrival)
                start_due(w, now, 1);
            begin_stopping(w, p->deadline_mono_us + (int64_t)(p->grace * 1e6));
        }
    }
    /* A pool may have no VU at all. */
    if (w->stopping && w->vus_left == 0)
        uv_stop(&w->loop);
    if (w->stopping && !w->cut && now >= w->hard_stop_us) {
        w->cut = 1;
        for (uint32_t i = 0; i < w->nvus; i++)
            vu_cancel(w->vus[i].vu);
    }
}

/*
 * Creates the VUs, each with its start time, or the open model's pool.
 * Returns 0 or -errno.
 */
static int create_vus(struct worker *w)
{
    const struct worker_plan *p = w->plan;
    int64_t now = shm_mono_us();

    if (p->arrival) {
        /*
         * A pool's arrays are --max-users long (some 700 bytes a VU,
         * touched only once used); under a memory limit, shorter ones are
         * a smaller pool (grow_pool warns when it is full), not a worker
         * that cannot start.
         */
        for (w->pool_cap = p->max_users ? p->max_users : 1;; w->pool_cap /= 2) {
            w->vus = calloc(w->pool_cap, sizeof(*w->vus));
            w->idle = calloc(w->pool_cap, sizeof(struct loads_test *));
            if (w->vus && w->idle)
                break;
            free(w->vus);
            free(w->idle);
            w->vus = NULL;
            w->idle = NULL;
            if (w->pool_cap == 1)
                return -ENOMEM;
        }
        return start_pool(w);
    }
    w->vus = calloc(p->users, sizeof(*w->vus));
    if (!w->vus)
        return -ENOMEM;
    for (uint32_t i = 0; i < p->users; i++) {
        struct loads_test *t = add_vu(w);

        if (!t)
            return -ENOMEM;
        if (p->ramp_up > 0 && p->users > 1)
            t->start_us = now + (int64_t)(p->ramp_up * 1e6 * i / p->users);
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
    if (w->arrivals_fd >= 0)
        close(w->arrivals_fd);
    free(w->vus);
    free(w->idle);
}

/* A stop signal in a worker: the supervisor's to act on (worker_main). */
static void on_stop_signal(int sig)
{
    (void)sig;
}

void worker_main(const struct worker_plan *plan)
{
    static struct worker w;
    sigset_t none;

    /* Die with the supervisor, even if it is killed with SIGKILL. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != plan->shm->hdr->supervisor)
        _exit(3);
    /*
     * The supervisor decides how a run stops.  A stop signal sent to the
     * whole process group (Ctrl-C or Ctrl-\ on a terminal, its hangup,
     * timeout(1), a CI job's kill) reaches the workers too: a worker that
     * died of it would turn its runs in progress into Errors of a crash.
     * A handler that does nothing rather than SIG_IGN: a program that a
     * test starts (exec resets handlers, not ignored signals) can still
     * be stopped by them.
     */
    {
        struct sigaction sa;

        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_stop_signal;
        sa.sa_flags = SA_RESTART;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
        sigaction(SIGQUIT, &sa, NULL);
    }
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);

    w.plan = plan;
    w.hdr = plan->shm->hdr;
    w.arrivals_fd = -1;
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
