/*
 * Coroutines for virtual users.  Each coroutine runs on its own mmap'd stack
 * with a guard page below it (an overflow faults instead of corrupting
 * memory).  The switch is a few instructions of assembly on x86_64 and
 * aarch64; building with -DLOADS_UCONTEXT uses ucontext instead (slower, but
 * understood by valgrind and the sanitizers).
 *
 * Only one thread uses coroutines; a coroutine is always resumed from the
 * scheduler (the code that is not inside any coroutine), and yields back to
 * it.
 */
#ifndef LOADS_BASE_CORO_H
#define LOADS_BASE_CORO_H

#include <stddef.h>

struct coro;

typedef void (*coro_fn)(void *arg);

/*
 * Creates a coroutine that will run fn(arg) on a stack of stack_size bytes
 * (rounded up to pages, plus one guard page) when first resumed.
 * Returns NULL with errno set on failure.  The caller owns the result and
 * frees it with coro_destroy.
 */
struct coro *coro_create(size_t stack_size, coro_fn fn, void *arg);

/* Frees a coroutine that has finished or was never started or is suspended. */
void coro_destroy(struct coro *c);

/*
 * Switches from the scheduler into c until c yields or fn returns.
 * Returns 1 when fn has returned (c is finished), 0 when c yielded.
 */
int coro_resume(struct coro *c);

/* From inside a coroutine: switches back to the scheduler that resumed it. */
void coro_yield(void);

/* The running coroutine, or NULL in the scheduler. */
struct coro *coro_current(void);

#endif
