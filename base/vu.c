/*
 * Virtual users: coroutines and their one wait (see vu.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/coro.h"
#include "base/vu.h"
#include "shm/shm.h"

enum vu_state {
    VU_NEW = 0, /* created, not started */
    VU_RUNNING, /* running its code */
    VU_WAITING, /* suspended in vu_wait */
    VU_FINISHED /* its function has returned */
};

struct vu {
    struct coro *co;
    struct vu_sched *s;
    uv_timer_t timer;     /* fires at or before the wait's deadline */
    int64_t deadline_us;  /* of the wait going on; 0: none */
    int64_t armed_us;     /* when the timer fires; 0: not armed */
    struct vu *next_soon; /* in the scheduler's wake-soon queue */
    void *arg;            /* its function's */
    const char *what;     /* the wait going on, for the trace */
    uint32_t id;
    uint8_t state;        /* enum vu_state, through vu_set_state */
    uint8_t woken;        /* the wait ended by vu_wake */
    uint8_t cancelled;    /* every wait returns -ECANCELED */
    uint8_t queued;       /* in the wake-soon queue */
};

struct vu_sched {
    uv_loop_t *loop;
    uv_idle_t idle;          /* runs the wake-soon queue off a library's stack */
    struct vu *soon, *soon_tail;
    const struct vu_hooks *hooks;
    void *arg;
    int debug;               /* LOADS_DEBUG: trace every state change */
};

/*
 * Every change of a VU's state goes through here, so that one line of
 * LOADS_DEBUG output shows a VU's whole life when something hangs.
 */
static void vu_set_state(struct vu *vu, enum vu_state state)
{
    static const char *const names[] = {"new", "running", "wait", "finished"};

    if (vu->s->debug)
        fprintf(stderr, "loads: worker %d vu %u: %s%s%s -> %s%s%s\n", (int)getpid(), vu->id,
                names[vu->state], vu->state == VU_WAITING ? "-" : "",
                vu->state == VU_WAITING ? vu->what : "", names[state],
                state == VU_WAITING ? "-" : "", state == VU_WAITING ? vu->what : "");
    vu->state = state;
}

/* Runs the VU until its next wait or its end. */
static void vu_resume(struct vu *vu)
{
    const struct vu_hooks *h = vu->s->hooks;
    int ended;

    vu_set_state(vu, VU_RUNNING);
    if (h->resume)
        h->resume(vu, vu->s->arg);
    ended = coro_resume(vu->co) == 1;
    if (h->pause)
        h->pause(vu, vu->s->arg);
    if (ended) {
        vu_set_state(vu, VU_FINISHED);
        if (h->finished)
            h->finished(vu, vu->s->arg);
    }
}

/* Runs the VUs whose wake came from inside a library, oldest first. */
static void on_soon(uv_idle_t *idle)
{
    struct vu_sched *s = idle->data;
    struct vu *vu = s->soon;

    uv_idle_stop(idle);
    s->soon = s->soon_tail = NULL;
    while (vu) {
        struct vu *next = vu->next_soon;

        vu->next_soon = NULL;
        vu->queued = 0;
        vu_wake(vu);
        vu = next;
    }
}

struct vu_sched *vu_sched_create(uv_loop_t *loop, const struct vu_hooks *hooks, void *arg)
{
    struct vu_sched *s = calloc(1, sizeof(*s));

    if (!s)
        return NULL;
    s->loop = loop;
    s->hooks = hooks;
    s->arg = arg;
    s->debug = getenv("LOADS_DEBUG") != NULL;
    uv_idle_init(loop, &s->idle);
    s->idle.data = s;
    return s;
}

static void on_sched_closed(uv_handle_t *h)
{
    free(h->data);
}

void vu_sched_destroy(struct vu_sched *s)
{
    if (s)
        uv_close((uv_handle_t *)&s->idle, on_sched_closed);
}

static void on_timer(uv_timer_t *t);

/* Arms the timer to fire in the ms that reach at_us, rounded up. */
static void vu_arm(struct vu *vu, int64_t at_us, int64_t now)
{
    int64_t us = at_us - now;
    uint64_t ms = us > 0 ? (uint64_t)(us + 999) / 1000 : 0;

    uv_timer_start(&vu->timer, on_timer, ms, 0);
    vu->armed_us = now + (int64_t)ms * 1000;
}

/*
 * The VU's deadline timer.  It may fire early (it was armed for an earlier
 * wait, or libuv's clock lags ours): then it re-arms for the rest.
 */
static void on_timer(uv_timer_t *t)
{
    struct vu *vu = t->data;
    int64_t now;

    vu->armed_us = 0;
    if (vu->state != VU_WAITING || !vu->deadline_us)
        return;
    now = shm_mono_us();
    if (now < vu->deadline_us) {
        vu_arm(vu, vu->deadline_us, now);
        return;
    }
    vu->woken = 0;
    vu_resume(vu);
}

struct vu *vu_create(struct vu_sched *s, uint32_t id, size_t stack_size, void (*fn)(void *),
                     void *arg)
{
    struct vu *vu = calloc(1, sizeof(*vu));

    if (!vu)
        return NULL;
    vu->co = coro_create(stack_size, fn, arg);
    if (!vu->co) {
        free(vu);
        return NULL;
    }
    vu->s = s;
    vu->id = id;
    vu->arg = arg;
    uv_timer_init(s->loop, &vu->timer);
    vu->timer.data = vu;
    return vu;
}

static void on_vu_closed(uv_handle_t *h)
{
    free(h->data);
}

void vu_destroy(struct vu *vu)
{
    struct vu **p;

    if (!vu)
        return;
    for (p = &vu->s->soon; *p; p = &(*p)->next_soon) {
        if (*p == vu) {
            *p = vu->next_soon;
            break;
        }
    }
    vu->s->soon_tail = NULL;
    for (struct vu *q = vu->s->soon; q; q = q->next_soon)
        vu->s->soon_tail = q;
    coro_destroy(vu->co);
    vu->co = NULL;
    uv_close((uv_handle_t *)&vu->timer, on_vu_closed);
}

void vu_start(struct vu *vu)
{
    if (vu->state == VU_NEW)
        vu_resume(vu);
}

int vu_wait(struct vu *vu, int64_t deadline_us, const char *what)
{
    if (vu->cancelled)
        return -ECANCELED;
    if (deadline_us && (!vu->armed_us || vu->armed_us > deadline_us)) {
        int64_t now = shm_mono_us();

        if (now >= deadline_us)
            return -ETIMEDOUT;
        vu_arm(vu, deadline_us, now);
    }
    vu->deadline_us = deadline_us;
    vu->woken = 0;
    vu->what = what;
    vu_set_state(vu, VU_WAITING);
    coro_yield();
    vu->deadline_us = 0;
    if (vu->cancelled)
        return -ECANCELED;
    return vu->woken ? 0 : -ETIMEDOUT;
}

void vu_wake(struct vu *vu)
{
    if (vu->state != VU_WAITING)
        return;
    vu->woken = 1;
    vu_resume(vu);
}

void vu_wake_soon(struct vu *vu)
{
    struct vu_sched *s = vu->s;

    if (vu->queued)
        return;
    vu->queued = 1;
    if (s->soon_tail)
        s->soon_tail->next_soon = vu;
    else
        s->soon = vu;
    s->soon_tail = vu;
    uv_idle_start(&s->idle, on_soon);
}

void vu_cancel(struct vu *vu)
{
    vu->cancelled = 1;
    if (vu->state == VU_WAITING)
        vu_resume(vu);
}

int vu_cancelled(const struct vu *vu)
{
    return vu->cancelled;
}

uint32_t vu_id(const struct vu *vu)
{
    return vu->id;
}

void *vu_arg(const struct vu *vu)
{
    return vu->arg;
}
