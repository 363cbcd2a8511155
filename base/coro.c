/*
 * Coroutines (see coro.h).
 *
 * Stacks: one anonymous mapping per coroutine, MAP_NORESERVE so that only
 * the pages a coroutine touches become resident, with its lowest page made
 * PROT_NONE.  Stacks grow down, so running off the end hits that guard page
 * and the process gets SIGSEGV instead of silently overwriting whatever lies
 * below.  Each coroutine therefore costs two memory maps (the guard and the
 * stack), which counts against vm.max_map_count.
 *
 * Switching: on x86_64 and aarch64, loads_coro_switch() below saves the
 * callee-saved registers on the current stack, stores the stack pointer,
 * loads the other one and pops that side's registers: no system call, unlike
 * glibc's swapcontext(), which saves and restores the signal mask.  A new
 * coroutine's stack is laid out as if it had called loads_coro_switch()
 * from the start of coro_entry(), so its first resume "returns" there.
 * Elsewhere, with -DLOADS_UCONTEXT, or when the compiler emits code for a
 * hardware shadow stack (which a hand-made return address would break), the
 * portable getcontext/makecontext/swapcontext path is used instead.
 *
 * Tools: under AddressSanitizer every switch is announced with
 * __sanitizer_start_switch_fiber / __sanitizer_finish_switch_fiber so that
 * ASan knows which stack is live; with <valgrind/valgrind.h> the stacks are
 * registered with Valgrind so that it does not mistake a switch for a huge
 * stack-pointer move.
 *
 * Threads: one thread only.  The running coroutine and the scheduler's saved
 * context are plain statics.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/coro.h"

#if defined(__SANITIZE_ADDRESS__)
#define CORO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CORO_ASAN 1
#endif
#endif

#ifdef CORO_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

/* cppcheck cannot evaluate __has_include. */
#if defined(__has_include) && !defined(__CPPCHECK__)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define CORO_VALGRIND 1
#endif
#endif

/* Hardware shadow stacks (x86 CET, arm64 GCS) reject our made-up returns. */
#if defined(__CET__)
#if __CET__ & 2
#define CORO_SHADOW_STACK 1
#endif
#endif
#if defined(__ARM_FEATURE_GCS_DEFAULT)
#define CORO_SHADOW_STACK 1
#endif

#if defined(LOADS_UCONTEXT) || defined(CORO_SHADOW_STACK)
#define CORO_UCONTEXT 1
#elif defined(__x86_64__)
#define CORO_ASM_X86_64 1
#elif defined(__aarch64__)
#define CORO_ASM_AARCH64 1
#else
#define CORO_UCONTEXT 1
#endif

#ifdef CORO_UCONTEXT
#include <ucontext.h>
#endif

struct coro {
#ifdef CORO_UCONTEXT
    ucontext_t ctx; /* saved context while suspended */
#else
    void *sp; /* saved stack pointer while suspended */
#endif
    coro_fn fn; /* the body and its argument */
    void *arg;
    void *map; /* the whole mapping, guard page first */
    size_t map_size;
    char *stack;       /* lowest usable byte, just above the guard */
    size_t stack_size; /* usable bytes, a whole number of pages */
    int finished;      /* fn has returned */
#ifdef CORO_VALGRIND
    unsigned int vg_stack; /* Valgrind's id for the stack */
#endif
};

/* The running coroutine; NULL while the scheduler runs. */
static struct coro *current;

/* Where the scheduler's context is saved while a coroutine runs. */
#ifdef CORO_UCONTEXT
static ucontext_t sched_ctx;
#else
static void *sched_sp;
#endif

/* The scheduler's stack, as ASan reported it when we left it (ASan only). */
static const void *sched_stack_bottom;
static size_t sched_stack_size;

#ifndef CORO_UCONTEXT
/*
 * Saves the callee-saved registers on the current stack, stores the stack
 * pointer in *save_sp, switches to new_sp and restores the registers that
 * were saved there, then returns on that stack.  Defined in assembly below;
 * hidden so that it never clashes with, nor is exported to, test modules.
 */
extern void loads_coro_switch(void **save_sp, void *new_sp)
    __attribute__((visibility("hidden")));
#endif

#ifdef CORO_ASM_X86_64
/*
 * The frame on a suspended stack, from the saved stack pointer up:
 *
 *     +0   MXCSR (4 bytes), x87 control word (2 bytes), padding
 *     +8   r15, r14, r13, r12, rbx, rbp
 *     +56  return address
 *
 * Everything else is caller-saved in the System V ABI, so the compiler has
 * already saved whatever it needs around the call.
 */
__asm__(".pushsection .text\n"
        ".p2align 4\n"
        ".globl loads_coro_switch\n"
        ".hidden loads_coro_switch\n"
        ".type loads_coro_switch, @function\n"
        "loads_coro_switch:\n"
        "    pushq %rbp\n"
        "    pushq %rbx\n"
        "    pushq %r12\n"
        "    pushq %r13\n"
        "    pushq %r14\n"
        "    pushq %r15\n"
        "    subq $8, %rsp\n"
        "    stmxcsr (%rsp)\n"
        "    fnstcw 4(%rsp)\n"
        "    movq %rsp, (%rdi)\n"
        "    movq %rsi, %rsp\n"
        "    ldmxcsr (%rsp)\n"
        "    fldcw 4(%rsp)\n"
        "    addq $8, %rsp\n"
        "    popq %r15\n"
        "    popq %r14\n"
        "    popq %r13\n"
        "    popq %r12\n"
        "    popq %rbx\n"
        "    popq %rbp\n"
        "    ret\n"
        ".size loads_coro_switch, .-loads_coro_switch\n"
        ".popsection\n");
#define CORO_FRAME_SIZE 64 /* bytes, return address included */
#endif

#ifdef CORO_ASM_AARCH64
/*
 * The frame on a suspended stack, from the saved stack pointer up:
 *
 *     +0   x19 .. x28
 *     +80  x29 (frame pointer), x30 (link register: where to return)
 *     +96  d8 .. d15
 *
 * 160 bytes keep sp 16-byte aligned as the architecture requires.  The
 * first instruction is "bti c" (a no-op without BTI) in case the call
 * arrives through a linker veneer.
 */
__asm__(".pushsection .text\n"
        ".p2align 4\n"
        ".globl loads_coro_switch\n"
        ".hidden loads_coro_switch\n"
        ".type loads_coro_switch, %function\n"
        "loads_coro_switch:\n"
        "    hint #34\n"
        "    sub sp, sp, #160\n"
        "    stp x19, x20, [sp, #0]\n"
        "    stp x21, x22, [sp, #16]\n"
        "    stp x23, x24, [sp, #32]\n"
        "    stp x25, x26, [sp, #48]\n"
        "    stp x27, x28, [sp, #64]\n"
        "    stp x29, x30, [sp, #80]\n"
        "    stp d8, d9, [sp, #96]\n"
        "    stp d10, d11, [sp, #112]\n"
        "    stp d12, d13, [sp, #128]\n"
        "    stp d14, d15, [sp, #144]\n"
        "    mov x9, sp\n"
        "    str x9, [x0]\n"
        "    mov sp, x1\n"
        "    ldp x19, x20, [sp, #0]\n"
        "    ldp x21, x22, [sp, #16]\n"
        "    ldp x23, x24, [sp, #32]\n"
        "    ldp x25, x26, [sp, #48]\n"
        "    ldp x27, x28, [sp, #64]\n"
        "    ldp x29, x30, [sp, #80]\n"
        "    ldp d8, d9, [sp, #96]\n"
        "    ldp d10, d11, [sp, #112]\n"
        "    ldp d12, d13, [sp, #128]\n"
        "    ldp d14, d15, [sp, #144]\n"
        "    add sp, sp, #160\n"
        "    ret\n"
        ".size loads_coro_switch, .-loads_coro_switch\n"
        ".popsection\n");
#define CORO_FRAME_SIZE 160
#endif

/*
 * Reports a programming error in the use of this API and aborts: these are
 * bugs in the caller, and carrying on would switch to a garbage stack.
 */
__attribute__((noreturn, cold)) static void coro_misuse(const char *what)
{
    fprintf(stderr, "coro: %s\n", what);
    abort();
}

/* Returns the page size, asking the kernel once. */
static size_t coro_page_size(void)
{
    static size_t page;

    if (!page) {
        long p = sysconf(_SC_PAGESIZE);

        page = p > 0 ? (size_t)p : 4096;
    }
    return page;
}

/*
 * Tells ASan that the stack in use is about to become [bottom, bottom +
 * size).  *fake receives the current stack's fake-stack handle, to be given
 * back to coro_asan_finish() when we return to it; fake is NULL when the
 * current stack will never run again, which lets ASan free its fake stack.
 */
static inline void coro_asan_start(void **fake, const void *bottom, size_t size)
{
#ifdef CORO_ASAN
    __sanitizer_start_switch_fiber(fake, bottom, size);
#else
    (void)fake;
    (void)bottom;
    (void)size;
#endif
}

/*
 * Tells ASan that the switch announced by coro_asan_start() has happened and
 * this stack runs again; fake is what that call stored for it (NULL on a
 * first entry).  The stack we came from is returned in *bottom and *size.
 */
static inline void coro_asan_finish(void *fake, const void **bottom, size_t *size)
{
#ifdef CORO_ASAN
    __sanitizer_finish_switch_fiber(fake, bottom, size);
#else
    (void)fake;
    (void)bottom;
    (void)size;
#endif
}

/*
 * Switches from the scheduler into c, and returns once c switches back
 * (by yielding or by finishing).
 */
static void coro_switch_in(struct coro *c)
{
    void *fake = NULL;

    coro_asan_start(&fake, c->stack, c->stack_size);
#ifdef CORO_UCONTEXT
    if (swapcontext(&sched_ctx, &c->ctx) != 0)
        coro_misuse("swapcontext into a coroutine failed");
#else
    loads_coro_switch(&sched_sp, c->sp);
#endif
    coro_asan_finish(fake, NULL, NULL);
}

/*
 * Switches from the running coroutine c back to the scheduler.  It returns
 * when the scheduler resumes c again, which never happens when last is set
 * (fn has returned and c is finished).
 */
static void coro_switch_out(struct coro *c, int last)
{
    void *fake = NULL;

    coro_asan_start(last ? NULL : &fake, sched_stack_bottom, sched_stack_size);
#ifdef CORO_UCONTEXT
    if (swapcontext(&c->ctx, &sched_ctx) != 0)
        coro_misuse("swapcontext out of a coroutine failed");
#else
    loads_coro_switch(&c->sp, sched_sp);
#endif
    coro_asan_finish(fake, &sched_stack_bottom, &sched_stack_size);
}

/*
 * The first code to run on a new coroutine's stack.  It is entered by the
 * first switch into the coroutine, with the stack aligned as at a function's
 * entry (and, on the assembly path, a null return address that ends
 * backtraces), and it cannot return: when fn does, it marks the coroutine
 * finished and hands control back to the scheduler for good.
 */
__attribute__((noreturn)) static void coro_entry(void)
{
    struct coro *c = current;

    coro_asan_finish(NULL, &sched_stack_bottom, &sched_stack_size);
    c->fn(c->arg);
    c->finished = 1;
    coro_switch_out(c, 1);
    coro_misuse("a finished coroutine was resumed");
}

/*
 * Lays out the start of c's stack so that the first switch into it lands at
 * the top of coro_entry() with fresh registers and the creator's floating
 * point control state.  Returns 0, or -1 with errno set.
 */
static int coro_init_context(struct coro *c)
{
#ifdef CORO_UCONTEXT
    if (getcontext(&c->ctx) != 0)
        return -1;
    c->ctx.uc_stack.ss_sp = c->stack;
    c->ctx.uc_stack.ss_size = c->stack_size;
    c->ctx.uc_link = NULL;
    makecontext(&c->ctx, coro_entry, 0);
#ifdef CORO_ASAN
    /*
     * makecontext has used uc_stack and nothing reads it again but ASan's
     * swapcontext interceptor, which would clear the shadow of the whole
     * stack on every switch into the coroutine and back: that erases the
     * redzones of its suspended frames and costs time.  The fiber
     * annotations tell ASan what it needs instead.
     */
    c->ctx.uc_stack.ss_sp = NULL;
    c->ctx.uc_stack.ss_size = 0;
#endif
#else
    /* The top is page-aligned, hence 16-byte aligned. */
    uintptr_t top = (uintptr_t)(c->stack + c->stack_size);
    uint64_t *frame;

#ifdef CORO_ASM_X86_64
    uint32_t mxcsr;
    uint16_t fcw;

    /*
     * The frame sits just below a null return address for coro_entry at
     * top - 8.  Its last slot, at top - 16, is the address of coro_entry,
     * which loads_coro_switch returns to; that leaves rsp at top - 8, so
     * coro_entry starts with rsp + 8 16-byte aligned, as after a call.
     */
    frame = (uint64_t *)(top - 8 - CORO_FRAME_SIZE);
    memset(frame, 0, CORO_FRAME_SIZE + 8);
    __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
    __asm__ volatile("fnstcw %0" : "=m"(fcw));
    frame[0] = mxcsr | (uint64_t)fcw << 32;
    frame[7] = (uintptr_t)coro_entry;
#else
    /*
     * Every register slot is zero, which ends frame-pointer chains at
     * coro_entry; x30 holds where loads_coro_switch returns to.  sp is back
     * at the aligned top once the frame is popped.
     */
    frame = (uint64_t *)(top - CORO_FRAME_SIZE);
    memset(frame, 0, CORO_FRAME_SIZE);
    frame[11] = (uintptr_t)coro_entry;
#endif
    c->sp = frame;
#endif
    return 0;
}

/*
 * Maps the stack and its guard page and prepares the first switch.  The
 * mapping is MAP_NORESERVE so that a large stack costs nothing until used.
 */
struct coro *coro_create(size_t stack_size, coro_fn fn, void *arg)
{
    size_t page = coro_page_size();
    struct coro *c;
    int err;

    if (!fn || !stack_size) {
        errno = EINVAL;
        return NULL;
    }
    if (stack_size > SIZE_MAX - 2 * page) {
        errno = ENOMEM;
        return NULL;
    }
    c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->fn = fn;
    c->arg = arg;
    c->stack_size = (stack_size + page - 1) & ~(page - 1);
    c->map_size = c->stack_size + page;
    c->map = mmap(NULL, c->map_size, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (c->map == MAP_FAILED) {
        err = errno;
        free(c);
        errno = err;
        return NULL;
    }
    if (mprotect(c->map, page, PROT_NONE) != 0)
        goto fail;
    c->stack = (char *)c->map + page;
    if (coro_init_context(c) != 0)
        goto fail;
#ifdef CORO_VALGRIND
    c->vg_stack = VALGRIND_STACK_REGISTER(c->stack, c->stack + c->stack_size);
#endif
    return c;

fail:
    err = errno;
    munmap(c->map, c->map_size);
    free(c);
    errno = err;
    return NULL;
}

/*
 * Unmaps c's stack and frees c.  Whatever was still on a suspended stack is
 * simply dropped: no destructors run.
 */
void coro_destroy(struct coro *c)
{
    if (!c)
        return;
    if (c == current)
        coro_misuse("coro_destroy of the running coroutine");
#ifdef CORO_VALGRIND
    VALGRIND_STACK_DEREGISTER(c->vg_stack);
#endif
#ifdef CORO_ASAN
    /*
     * Frames left on the stack keep their redzones poisoned; clear them so
     * that memory later mapped at the same address starts clean.
     */
    __asan_unpoison_memory_region(c->stack, c->stack_size);
#endif
    munmap(c->map, c->map_size);
    free(c);
}

/*
 * Runs c until it yields or finishes.  Misuse (nested resume, resuming a
 * finished coroutine) aborts, since it would switch to a dead stack.
 */
int coro_resume(struct coro *c)
{
    if (!c)
        coro_misuse("coro_resume(NULL)");
    if (current)
        coro_misuse("coro_resume called from inside a coroutine");
    if (c->finished)
        coro_misuse("coro_resume of a finished coroutine");
    current = c;
    coro_switch_in(c);
    current = NULL;
    return c->finished;
}

/* Suspends the running coroutine; yielding from the scheduler aborts. */
void coro_yield(void)
{
    if (!current)
        coro_misuse("coro_yield called outside any coroutine");
    coro_switch_out(current, 0);
}

/* Returns the running coroutine, NULL in the scheduler. */
struct coro *coro_current(void)
{
    return current;
}
