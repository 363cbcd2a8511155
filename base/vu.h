/*
 * A virtual user at the bottom of the worker: its coroutine and its ONE
 * wait.  Everything that suspends a VU (the start of a ramp-up, think time,
 * an HTTP exchange, a websocket, the stop at the end of a run) is a
 * vu_wait: until an event (vu_wake), a deadline, or a cancellation
 * (vu_cancel), whichever comes first.  The caller knows what event it waits
 * for and checks its own condition after a 0: a wake can be stale, so
 * waiting is a loop:
 *
 *     while (!done(x))
 *         if ((rc = vu_wait(vu, deadline, "http")) < 0)
 *             return rc;                       -ETIMEDOUT or -ECANCELED
 *
 * Deadlines cost nothing per wait in the usual case: each VU has one
 * libuv timer, armed at or before its deadline and re-armed only when a
 * wait's deadline is earlier than the armed time (a later one is met when
 * the timer fires early and re-arms for the rest).  Requests with the same
 * --timeout have growing deadlines, so a request re-arms nothing.
 *
 * Single thread: the VUs of a worker run one at a time on its loop.
 */
#ifndef LOADS_BASE_VU_H
#define LOADS_BASE_VU_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct vu;
struct vu_sched;

/* What the scheduler tells its owner, each with the arg given at its creation. */
struct vu_hooks {
    void (*resume)(struct vu *vu, void *arg);   /* the loop hands the thread to vu */
    void (*pause)(struct vu *vu, void *arg);    /* and gets it back (a wait, the end) */
    void (*finished)(struct vu *vu, void *arg); /* vu's function has returned */
};

/*
 * A worker's VUs on loop; hooks (which must outlive it; any may be NULL)
 * are called with arg.  Returns NULL when memory ran out.
 */
struct vu_sched *vu_sched_create(uv_loop_t *loop, const struct vu_hooks *hooks, void *arg);

/* Stops and closes the scheduler's handles; frees it after the loop ran. */
void vu_sched_destroy(struct vu_sched *s);

/*
 * A VU numbered id that will run fn(arg) on a stack of stack_size bytes
 * (mmap'd: only the pages it touches cost memory).  It starts at vu_start.
 * Returns NULL with errno set.  Destroy it with vu_destroy (its timer is
 * closed through the loop).
 */
struct vu *vu_create(struct vu_sched *s, uint32_t id, size_t stack_size, void (*fn)(void *),
                     void *arg);
void vu_destroy(struct vu *vu);

/* From the loop: runs a new VU until its first wait or its end. */
void vu_start(struct vu *vu);

/*
 * From inside the VU: suspends it until vu_wake, the deadline (CLOCK_MONOTONIC
 * us, as vu_now_us; 0 for none) or vu_cancel.  Returns 0 when woken,
 * -ETIMEDOUT at the deadline, -ECANCELED once the VU is cancelled (at once
 * for every later wait).  what names the wait in the LOADS_DEBUG trace.
 */
int vu_wait(struct vu *vu, int64_t deadline_us, const char *what);

/*
 * From a loop callback: resumes the VU now if it is in a wait (else
 * nothing).  Never from inside a library that must not be re-entered:
 * use vu_wake_soon there.
 */
void vu_wake(struct vu *vu);

/*
 * From inside a library's callback (libwebsockets): the VU is resumed at
 * the loop's next turn, off the caller's stack.
 */
void vu_wake_soon(struct vu *vu);

/* Ends the VU's wait, and every later one, with -ECANCELED.  From the loop. */
void vu_cancel(struct vu *vu);

/* Whether the VU was cancelled. */
int vu_cancelled(const struct vu *vu);

/* The VU's number, and the arg its function was created with. */
uint32_t vu_id(const struct vu *vu);
void *vu_arg(const struct vu *vu);

#endif
