/*
 * base/vu.c: the VU's one wait, alone on a loop: its deadline (never early,
 * re-armed when a later wait has an earlier deadline, ignored by a wait
 * without one), a wake, a wake from inside a callback, and a cancellation
 * that holds for every later wait.
 *
 * Lower bounds are the claim (a deadline never ends a wait early); upper
 * bounds are loose (a second more), because these machines are noisy.
 */
#include <errno.h>
#include <uv.h>

#include "base/vu.h"
#include "shm/shm.h"
#include "tests/unit/unit.h"

#define MS 1000
#define SLACK_US (1000 * MS)

struct bench {
    uv_loop_t loop;
    struct vu_sched *sched;
    struct vu *vu;
    uv_timer_t timer;       /* does what the case asks, from the loop */
    void (*at_timer)(struct bench *b);
    int rc[4];              /* what the VU's waits returned */
    int64_t took[4];        /* and how long they took, us */
    int64_t ended[4];       /* and when they returned, us */
    int64_t woke_at;        /* when the timer woke the VU, us */
    int step;               /* where the VU is */
    int loop_turns;         /* prepare callbacks so far */
    int in_callback;        /* the timer's callback is running */
    int ran_inside;         /* the VU ran while it was */
    int finished;
};

static void on_finished(struct vu *vu, void *arg);
static const struct vu_hooks hooks = {NULL, NULL, on_finished};

static void on_finished(struct vu *vu, void *arg)
{
    struct bench *b = arg;

    b->finished = 1;
    uv_stop(&b->loop);
}

static void on_timer(uv_timer_t *t)
{
    struct bench *b = t->data;

    b->in_callback = 1;
    b->at_timer(b);
    b->in_callback = 0;
}

static void on_prepare(uv_prepare_t *p)
{
    ((struct bench *)p->data)->loop_turns++;
}

/* Runs fn as a VU until it returns; the timer fires after timer_ms, if set. */
static void run(struct bench *b, void (*fn)(void *), int64_t timer_ms,
                void (*at_timer)(struct bench *b))
{
    uv_prepare_t prepare;

    CHECK(uv_loop_init(&b->loop) == 0);
    b->sched = vu_sched_create(&b->loop, &hooks, b);
    CHECK(b->sched != NULL);
    b->vu = vu_create(b->sched, 7, 64 * 1024, fn, b);
    CHECK(b->vu != NULL);
    CHECK_INT_EQ(vu_id(b->vu), 7);
    uv_prepare_init(&b->loop, &prepare);
    prepare.data = b;
    uv_prepare_start(&prepare, on_prepare);
    uv_timer_init(&b->loop, &b->timer);
    b->timer.data = b;
    b->at_timer = at_timer;
    if (at_timer)
        uv_timer_start(&b->timer, on_timer, (uint64_t)timer_ms, 0);
    vu_start(b->vu);
    uv_run(&b->loop, UV_RUN_DEFAULT); /* returns at once if it has finished */
    CHECK(b->finished);
    vu_destroy(b->vu);
    vu_sched_destroy(b->sched);
    uv_close((uv_handle_t *)&prepare, NULL);
    uv_close((uv_handle_t *)&b->timer, NULL);
    uv_run(&b->loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&b->loop) == 0);
}

/* One wait of the VU, timed, into b->rc[i] and b->took[i]. */
static void timed_wait(struct bench *b, int i, int64_t deadline)
{
    int64_t t0 = shm_mono_us();

    b->rc[i] = vu_wait(b->vu, deadline, "test");
    b->ended[i] = shm_mono_us();
    b->took[i] = b->ended[i] - t0;
}

static void wait_50ms(void *arg)
{
    struct bench *b = arg;

    timed_wait(b, 0, shm_mono_us() + 50 * MS);
}

UNIT_TEST(vu_wait_deadline)
{
    struct bench b = {0};

    run(&b, wait_50ms, 0, NULL);
    CHECK_INT_EQ(b.rc[0], -ETIMEDOUT);
    CHECK(b.took[0] >= 50 * MS);
    CHECK(b.took[0] < 50 * MS + SLACK_US);
}

static void wait_long(void *arg)
{
    struct bench *b = arg;

    timed_wait(b, 0, shm_mono_us() + 10000 * MS);
}

static void wake_it(struct bench *b)
{
    b->woke_at = shm_mono_us();
    vu_wake(b->vu);
    b->ran_inside = b->step; /* vu_wake resumed it here, at once */
}

static void wait_then_step(void *arg)
{
    struct bench *b = arg;

    wait_long(b);
    b->step = 1;
}

UNIT_TEST(vu_wait_wake)
{
    struct bench b = {0};

    run(&b, wait_then_step, 20, wake_it);
    CHECK_INT_EQ(b.rc[0], 0);
    /* It waited for the wake (not 19 ms of its own: the wait starts some
     * time after the timer was armed, which a busy machine makes long). */
    CHECK(b.woke_at > 0 && b.ended[0] >= b.woke_at);
    CHECK(b.took[0] < 10000 * MS);
    CHECK_INT_EQ(b.ran_inside, 1);
}

static void cancel_it(struct bench *b)
{
    vu_cancel(b->vu);
}

static void wait_cancelled(void *arg)
{
    struct bench *b = arg;
    int turns;

    wait_long(b);
    CHECK(vu_cancelled(b->vu));
    turns = b->loop_turns;
    timed_wait(b, 1, shm_mono_us() + 10000 * MS); /* at once */
    timed_wait(b, 2, 0);
    CHECK_INT_EQ(b->loop_turns, turns);
}

UNIT_TEST(vu_wait_cancel)
{
    struct bench b = {0};

    run(&b, wait_cancelled, 20, cancel_it);
    CHECK_INT_EQ(b.rc[0], -ECANCELED);
    CHECK_INT_EQ(b.rc[1], -ECANCELED);
    CHECK_INT_EQ(b.rc[2], -ECANCELED);
    CHECK(b.took[0] < 10000 * MS);
}

static void wait_past(void *arg)
{
    struct bench *b = arg;
    int turns = b->loop_turns;

    timed_wait(b, 0, shm_mono_us() - 1);
    CHECK_INT_EQ(b->loop_turns, turns); /* no trip through the loop */
    CHECK(!vu_cancelled(b->vu));
}

UNIT_TEST(vu_wait_deadline_passed)
{
    struct bench b = {0};

    run(&b, wait_past, 0, NULL);
    CHECK_INT_EQ(b.rc[0], -ETIMEDOUT);
}

/*
 * The timer armed for a wait's deadline serves later waits: a later
 * deadline re-arms nothing (the timer fires early and re-arms for the
 * rest), an earlier one re-arms it.
 */
static void wait_rearm(void *arg)
{
    struct bench *b = arg;
    int64_t now = shm_mono_us();

    timed_wait(b, 0, now + 1000 * MS);          /* woken at 10 ms */
    timed_wait(b, 1, shm_mono_us() + 30 * MS);   /* earlier: re-armed */
    timed_wait(b, 2, shm_mono_us() + 200 * MS);  /* later than the timer */
}

UNIT_TEST(vu_wait_rearm)
{
    struct bench b = {0};

    run(&b, wait_rearm, 10, wake_it);
    CHECK_INT_EQ(b.rc[0], 0);
    CHECK_INT_EQ(b.rc[1], -ETIMEDOUT);
    CHECK(b.took[1] >= 30 * MS);
    CHECK(b.took[1] < 1000 * MS); /* not at the first wait's deadline */
    CHECK_INT_EQ(b.rc[2], -ETIMEDOUT);
    CHECK(b.took[2] >= 200 * MS);
    CHECK(b.took[2] < 200 * MS + SLACK_US);
}

/* A wait without a deadline outlives the timer armed for an earlier one. */
static void wait_no_deadline(void *arg)
{
    struct bench *b = arg;

    timed_wait(b, 0, shm_mono_us() + 20 * MS); /* times out */
    timed_wait(b, 1, shm_mono_us() + 40 * MS); /* armed for 40 ms... */
    b->step = 2;
    timed_wait(b, 2, 0);                      /* ...then none: woken at 150 ms */
}

/*
 * Wakes the VU only once it is in its wait without a deadline: on a slow
 * machine (ASan, a busy CI) the first two waits may outlast 150 ms, and a
 * wake then would end one of them instead; the timer tries again later.
 */
static void wake_late(struct bench *b)
{
    if (b->step != 2) {
        uv_timer_start(&b->timer, on_timer, 50, 0);
        return;
    }
    b->woke_at = shm_mono_us();
    vu_wake(b->vu);
}

UNIT_TEST(vu_wait_without_deadline)
{
    struct bench b = {0};

    run(&b, wait_no_deadline, 150, wake_late);
    CHECK_INT_EQ(b.rc[0], -ETIMEDOUT);
    CHECK_INT_EQ(b.rc[1], -ETIMEDOUT);
    CHECK_INT_EQ(b.rc[2], 0);
    /* The wait without a deadline lasted until the wake, not until a time
     * of its own (the sum of the three waits against 150 ms depended on
     * how soon after the timer's start the VU began). */
    CHECK(b.woke_at > 0 && b.ended[2] >= b.woke_at);
    CHECK(b.took[0] >= 20 * MS && b.took[1] >= 40 * MS); /* deadlines, never early */
}

/* vu_wake_soon: the VU runs after the callback has returned, not inside it. */
static void wake_soon_it(struct bench *b)
{
    vu_wake_soon(b->vu);
    vu_wake_soon(b->vu); /* twice: queued once */
    b->ran_inside = b->step;
}

static void wait_soon(void *arg)
{
    struct bench *b = arg;

    wait_long(b);
    CHECK(!b->in_callback);
    b->step = 1;
    timed_wait(b, 1, shm_mono_us() + 30 * MS); /* no second wake comes */
}

UNIT_TEST(vu_wake_soon)
{
    struct bench b = {0};

    run(&b, wait_soon, 20, wake_soon_it);
    CHECK_INT_EQ(b.rc[0], 0);
    CHECK_INT_EQ(b.ran_inside, 0);
    CHECK_INT_EQ(b.rc[1], -ETIMEDOUT);
}
