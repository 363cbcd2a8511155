/*
 * Tests for base/coro.c: the order of switches, many coroutines at once,
 * stack depth and the guard page, floating-point state, setjmp/longjmp on a
 * coroutine stack, and misuse.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/unit/unit.h"
#include "base/coro.h"

/* cppcheck cannot evaluate __has_include. */
#if defined(__has_include) && !defined(__CPPCHECK__)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

#define STACK_64K (64 * 1024)

/*
 * Runs body(arg) in a child process with stderr silenced and no core dump,
 * and returns its wait status, so that a test can expect a crash.
 */
static int run_in_child(void (*body)(void *), void *arg)
{
    struct rlimit no_core = {0, 0};
    int status = 0;
    pid_t pid;
    int fd;

    fflush(stdout);
    fflush(stderr);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        alarm(20);
        setrlimit(RLIMIT_CORE, &no_core);
        fd = open("/dev/null", O_WRONLY);
        if (fd >= 0)
            dup2(fd, 2);
        body(arg);
        _exit(0);
    }
    CHECK(waitpid(pid, &status, 0) == pid);
    return status;
}

/* ------------------------------------------------------------ ping-pong */

struct ping {
    int to_coro;   /* value the scheduler passes in */
    int from_coro; /* value the coroutine passes back */
    int log[64];   /* who did what, in order */
    int n;
};

/* Answers each value with 2 * v + 1, logging 200 + v, for ten rounds. */
static void ping_body(void *arg)
{
    struct ping *p = arg;

    for (int i = 0; i < 10; i++) {
        CHECK_INT_EQ(p->to_coro, i);
        p->log[p->n++] = 200 + p->to_coro;
        p->from_coro = 2 * p->to_coro + 1;
        coro_yield();
    }
    p->log[p->n++] = 999;
}

UNIT_TEST(coro_ping_pong)
{
    struct ping p = {0};
    struct coro *c = coro_create(STACK_64K, ping_body, &p);
    int k = 0;

    CHECK(c != NULL);
    for (int i = 0; i < 10; i++) {
        p.to_coro = i;
        p.log[p.n++] = 100 + i;
        CHECK_INT_EQ(coro_resume(c), 0);
        CHECK_INT_EQ(p.from_coro, 2 * i + 1);
        p.log[p.n++] = 300 + i;
    }
    CHECK_INT_EQ(coro_resume(c), 1);
    CHECK_INT_EQ(p.n, 31);
    for (int i = 0; i < 10; i++) {
        CHECK_INT_EQ(p.log[k++], 100 + i);
        CHECK_INT_EQ(p.log[k++], 200 + i);
        CHECK_INT_EQ(p.log[k++], 300 + i);
    }
    CHECK_INT_EQ(p.log[k], 999);
    coro_destroy(c);
}

/* ---------------------------------------------------------- round robin */

#define RR_COROS 1000
#define RR_STEPS 100

struct rr {
    int id;
    int count;
    long *total; /* shared by all the coroutines */
};

/*
 * Counts to RR_STEPS, yielding after each step, and checks that strict
 * round-robin scheduling interleaved it with the others exactly.
 */
static void rr_body(void *arg)
{
    struct rr *r = arg;

    for (int i = 0; i < RR_STEPS; i++) {
        CHECK_INT_EQ(*r->total, (long)i * RR_COROS + r->id);
        r->count++;
        (*r->total)++;
        coro_yield();
    }
}

UNIT_TEST(coro_round_robin_1000)
{
    static struct coro *c[RR_COROS];
    static struct rr r[RR_COROS];
    long total = 0, resumes = 0;
    int live = RR_COROS;

    for (int i = 0; i < RR_COROS; i++) {
        r[i] = (struct rr){.id = i, .total = &total};
        c[i] = coro_create(STACK_64K, rr_body, &r[i]);
        CHECK(c[i] != NULL);
    }
    while (live) {
        for (int i = 0; i < RR_COROS; i++) {
            if (!c[i])
                continue;
            resumes++;
            if (coro_resume(c[i])) {
                coro_destroy(c[i]);
                c[i] = NULL;
                live--;
            }
        }
    }
    CHECK_INT_EQ(total, (long)RR_COROS * RR_STEPS);
    CHECK_INT_EQ(resumes, (long)RR_COROS * (RR_STEPS + 1));
    for (int i = 0; i < RR_COROS; i++)
        CHECK_INT_EQ(r[i].count, RR_STEPS);
}

/* -------------------------------------------------------- coro_current */

struct cur {
    struct coro *self; /* set by the test once created */
    int checked;
};

/* Checks that coro_current() is this coroutine before and after a yield. */
static void cur_body(void *arg)
{
    struct cur *s = arg;

    CHECK(coro_current() == s->self);
    coro_yield();
    CHECK(coro_current() == s->self);
    s->checked++;
}

UNIT_TEST(coro_current_is_self)
{
    struct cur a = {0}, b = {0};

    CHECK(coro_current() == NULL);
    a.self = coro_create(STACK_64K, cur_body, &a);
    b.self = coro_create(STACK_64K, cur_body, &b);
    CHECK(a.self && b.self);
    CHECK_INT_EQ(coro_resume(a.self), 0);
    CHECK(coro_current() == NULL);
    CHECK_INT_EQ(coro_resume(b.self), 0);
    CHECK_INT_EQ(coro_resume(a.self), 1);
    CHECK(coro_current() == NULL);
    CHECK_INT_EQ(coro_resume(b.self), 1);
    CHECK(coro_current() == NULL);
    CHECK_INT_EQ(a.checked + b.checked, 2);
    coro_destroy(a.self);
    coro_destroy(b.self);
}

/* ------------------------------------------------------ deep recursion */

#define DEEP_FRAME  1024
#define DEEP_LEVELS 36

struct deep {
    uintptr_t top;    /* frame address at the coroutine's top */
    uintptr_t bottom; /* address of the deepest frame's buffer */
};

/*
 * Recurses DEEP_LEVELS times with a DEEP_FRAME-byte buffer per frame,
 * yields at the bottom, and checks on the way back up that every buffer
 * kept its contents.  Returns the number of intact frames.  Not
 * instrumented by ASan, which could otherwise move the buffers off the
 * real stack (detect_stack_use_after_return).
 */
__attribute__((noinline, no_sanitize_address)) static int deep_recurse(struct deep *d,
                                                                       int level)
{
    volatile unsigned char buf[DEEP_FRAME];
    int ok;

    for (int i = 0; i < DEEP_FRAME; i++)
        buf[i] = (unsigned char)(level * 31 + i);
    if (level == DEEP_LEVELS) {
        d->bottom = (uintptr_t)buf;
        coro_yield();
        ok = 0;
    } else {
        ok = deep_recurse(d, level + 1);
    }
    for (int i = 0; i < DEEP_FRAME; i++)
        if (buf[i] != (unsigned char)(level * 31 + i))
            return ok;
    return ok + 1;
}

/* Runs deep_recurse from the top of the stack and checks every frame. */
static void deep_body(void *arg)
{
    struct deep *d = arg;

    d->top = (uintptr_t)__builtin_frame_address(0);
    CHECK_INT_EQ(deep_recurse(d, 0), DEEP_LEVELS + 1);
}

UNIT_TEST(coro_deep_recursion)
{
    struct deep d = {0};
    struct coro *c = coro_create(STACK_64K, deep_body, &d);

    CHECK(c != NULL);
    CHECK_INT_EQ(coro_resume(c), 0);
    /* More than half of the 64 KiB is in use at the deepest point. */
    CHECK(d.top > d.bottom);
    CHECK(d.top - d.bottom > 32 * 1024);
    CHECK(d.top - d.bottom < STACK_64K);
    CHECK_INT_EQ(coro_resume(c), 1);
    coro_destroy(c);
}

/* ----------------------------------------------------- stack overflow */

/* Never set: keeps the compiler from proving the recursion infinite. */
static volatile int overflow_stop;

/* Recurses until the stack runs into the guard page. */
__attribute__((noinline)) static int recurse_forever(int depth)
{
    volatile char buf[256];

    buf[0] = (char)depth;
    if (overflow_stop)
        return buf[0];
    return recurse_forever(depth + 1) + buf[0];
}

/* Coroutine body that overflows its stack. */
static void overflow_body(void *arg)
{
    (void)arg;
    recurse_forever(0);
}

/*
 * In the child: runs overflow_body with default SIGSEGV handling (a
 * sanitizer runtime may have installed its own handler).
 */
static void overflow_child(void *arg)
{
    struct coro *c = coro_create(STACK_64K, overflow_body, NULL);

    (void)arg;
    if (!c)
        _exit(2);
    signal(SIGSEGV, SIG_DFL);
    coro_resume(c);
    _exit(3);
}

UNIT_TEST(coro_stack_overflow_faults)
{
    int status;

    status = run_in_child(overflow_child, NULL);
    CHECK(WIFSIGNALED(status));
    CHECK_INT_EQ(WTERMSIG(status), SIGSEGV);
}

/* ------------------------------------------------------- stack alignment */

/*
 * Returns how far a 16-byte-aligned local of the calling frame is off 16
 * bytes: the compiler places it assuming the ABI's stack alignment, so a
 * badly aligned stack shows here.  The volatile keeps the compiler from
 * answering 0 on the strength of that same assumption.
 */
__attribute__((noinline)) static unsigned int local_misalignment(void)
{
    _Alignas(16) char buf[16];
    volatile uintptr_t addr = (uintptr_t)buf;

    buf[0] = 0;
    return (unsigned int)(addr & 15);
}

/* Checks alignment in the coroutine's first frame and in a deeper one. */
static void align_body(void *arg)
{
    _Alignas(16) char here[16];
    volatile uintptr_t addr = (uintptr_t)here;
    unsigned int *off = arg;

    here[0] = 0;
    *off |= (unsigned int)(addr & 15);
    coro_yield();
    *off |= local_misalignment();
}

UNIT_TEST(coro_stack_alignment)
{
    unsigned int off = 0;
    struct coro *c = coro_create(STACK_64K, align_body, &off);

    CHECK(c != NULL);
    CHECK_INT_EQ(coro_resume(c), 0);
    CHECK_INT_EQ(coro_resume(c), 1);
    CHECK_INT_EQ(off, 0);
    coro_destroy(c);
}

/* --------------------------------------------------------- stack layout */

/* Records the coroutine's top frame address. */
static void layout_body(void *arg)
{
    *(uintptr_t *)arg = (uintptr_t)__builtin_frame_address(0);
}

/*
 * Finds in /proc/self/maps the mapping that contains addr and the one just
 * below it.  Returns 0 with their bounds and permissions, -1 if not found.
 */
static int find_maps(uintptr_t addr, uintptr_t *lo, uintptr_t *hi, char perms[5],
                     uintptr_t *below_hi, char below_perms[5])
{
    FILE *f = fopen("/proc/self/maps", "r");
    uintptr_t prev_hi = 0;
    char prev_perms[5] = "", line[4096];
    int found = -1;

    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f)) {
        unsigned long a, b;
        char p[5];

        if (sscanf(line, "%lx-%lx %4s", &a, &b, p) != 3)
            continue;
        if (a <= addr && addr < b) {
            *lo = a;
            *hi = b;
            memcpy(perms, p, 5);
            *below_hi = prev_hi;
            memcpy(below_perms, prev_perms, 5);
            found = 0;
            break;
        }
        prev_hi = b;
        memcpy(prev_perms, p, 5);
    }
    fclose(f);
    return found;
}

UNIT_TEST(coro_stack_layout)
{
    const size_t want = 1024 * 1024;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    uintptr_t frame = 0, lo = 0, hi = 0, below_hi = 0;
    char perms[5] = "", below_perms[5] = "";
    struct coro *c = coro_create(want - 100, layout_body, &frame);
    unsigned char *vec;
    size_t resident = 0;

    CHECK(c != NULL);
    CHECK_INT_EQ(coro_resume(c), 1);
    CHECK_INT_EQ(find_maps(frame, &lo, &hi, perms, &below_hi, below_perms), 0);
    /* A writable stack whose low end is the request rounded up to pages... */
    CHECK(perms[0] == 'r' && perms[1] == 'w');
    CHECK(frame < lo + want && frame > lo + want - page);
    CHECK(hi >= lo + want);
    /* ...and right below it an inaccessible guard page. */
    CHECK(below_hi == lo);
    CHECK_STR_EQ(below_perms, "---p");
    /* Only the pages the coroutine touched are resident. */
    vec = calloc(want / page, 1);
    CHECK(vec != NULL);
    CHECK_INT_EQ(mincore((void *)lo, want, vec), 0);
    for (size_t i = 0; i < want / page; i++)
        resident += vec[i] & 1;
    CHECK(resident >= 1);
    CHECK(resident <= 8);
    free(vec);
    coro_destroy(c);
}

/* ------------------------------------------------------ floating point */

/*
 * A floating-point series with several values live across each yield (in
 * callee-saved registers where the ABI has them).  It yields every step
 * when inside a coroutine.
 */
__attribute__((noinline)) static double fp_series(int steps)
{
    double a = 1.0, b = 0.5, s = 0.0, p = 1.0;

    for (int i = 1; i <= steps; i++) {
        a = a * 1.0000001 + 1.0 / i;
        b = b / 3.0 + a * 0.25;
        p *= 1.0 + 1.0 / (i * (double)i);
        s += a * b - p / (i + 0.5);
        if (coro_current())
            coro_yield();
    }
    return s + a + b + p;
}

/* Mixes two values; a call that the scheduler's live values must survive. */
__attribute__((noinline)) static double fp_mix(double u, double v)
{
    return u * 0.999 + v / 7.0 + 0.125;
}

/*
 * Does n steps of the scheduler's floating-point work, resuming c before
 * each step when c is not NULL, so that four values stay live across the
 * switches.  Returns their sum; with c, also the number of yields in *n.
 */
__attribute__((noinline)) static double fp_sched(struct coro *c, int *n)
{
    double x = 1.0, y = 2.0, z = 3.0, w = 4.0;

    for (int i = 0; c ? coro_resume(c) == 0 : i < *n; i++) {
        x = fp_mix(x, y);
        y = fp_mix(y, z);
        z = fp_mix(z, w);
        w = fp_mix(w, x);
        if (c)
            *n = i + 1;
    }
    return x + y + z + w;
}

/* Runs fp_series inside the coroutine. */
static void fp_body(void *arg)
{
    *(double *)arg = fp_series(200);
}

UNIT_TEST(coro_float)
{
    double in_coro = 0, in_sched;
    struct coro *c = coro_create(STACK_64K, fp_body, &in_coro);
    int n = 0;

    CHECK(c != NULL);
    in_sched = fp_sched(c, &n);
    CHECK_INT_EQ(n, 200);
    CHECK(in_coro == fp_series(200));
    CHECK(in_sched == fp_sched(NULL, &n));
    coro_destroy(c);
}

#if defined(__x86_64__)
/* Reads MXCSR, the SSE control and status register. */
static uint32_t get_mxcsr(void)
{
    uint32_t v;

    __asm__ volatile("stmxcsr %0" : "=m"(v));
    return v;
}

/* Writes MXCSR. */
static void set_mxcsr(uint32_t v)
{
    __asm__ volatile("ldmxcsr %0" : : "m"(v));
}

/* Reads the x87 control word. */
static uint16_t get_fcw(void)
{
    uint16_t v;

    __asm__ volatile("fnstcw %0" : "=m"(v));
    return v;
}

/* Writes the x87 control word. */
static void set_fcw(uint16_t v)
{
    __asm__ volatile("fldcw %0" : : "m"(v));
}

#define MXCSR_RC_UP 0x4000u /* round toward +infinity */
#define MXCSR_RC    0x6000u
#define FCW_RC_DOWN 0x0400u /* x87 round toward -infinity */
#define FCW_RC      0x0c00u

struct fpctl {
    double up_before, up_after; /* 1/3 computed under RC = up */
    uint32_t mxcsr_after;
    uint16_t fcw_after;
};

/* Computes 1/3 with SSE division. */
__attribute__((noinline)) static double third(void)
{
    volatile double one = 1.0, three = 3.0;

    return one / three;
}

/*
 * Sets non-default rounding modes, yields, and checks that they survived
 * the scheduler running with its own modes.
 */
static void fpctl_body(void *arg)
{
    struct fpctl *f = arg;
    uint32_t mxcsr = get_mxcsr();
    uint16_t fcw = get_fcw();

    set_mxcsr((mxcsr & ~MXCSR_RC) | MXCSR_RC_UP);
    set_fcw((uint16_t)((fcw & ~FCW_RC) | FCW_RC_DOWN));
    f->up_before = third();
    coro_yield();
    f->up_after = third();
    f->mxcsr_after = get_mxcsr();
    f->fcw_after = get_fcw();
    set_mxcsr(mxcsr);
    set_fcw(fcw);
}

UNIT_TEST(coro_float_control_state)
{
    struct fpctl f = {0};
    struct coro *c = coro_create(STACK_64K, fpctl_body, &f);
    uint32_t mxcsr = get_mxcsr();
    uint16_t fcw = get_fcw();
    double nearest;

    CHECK(c != NULL);
    CHECK_INT_EQ(coro_resume(c), 0);
    CHECK_INT_EQ(get_mxcsr(), mxcsr);
    CHECK_INT_EQ(get_fcw(), fcw);
    nearest = third();
    CHECK_INT_EQ(coro_resume(c), 1);
    CHECK_INT_EQ(f.mxcsr_after & MXCSR_RC, MXCSR_RC_UP);
    CHECK_INT_EQ(f.fcw_after & FCW_RC, FCW_RC_DOWN);
    CHECK(f.up_before == f.up_after);
    /* Valgrind does not emulate SSE rounding modes other than nearest. */
    if (!RUNNING_ON_VALGRIND)
        CHECK(f.up_after > nearest);
    coro_destroy(c);
}
#endif

/* ------------------------------------------------------ setjmp/longjmp */

struct jump {
    jmp_buf top; /* set at the top of the coroutine */
    int landed;  /* value longjmp delivered */
    int passes;  /* times the top was reached through setjmp */
};

/* Descends, yields at the bottom, then jumps back to the coroutine's top. */
__attribute__((noinline)) static void jump_descend(struct jump *j, int level)
{
    volatile char pad[128];

    if (level < 0)
        return;
    pad[0] = (char)level;
    if (level == 0) {
        coro_yield();
        longjmp(j->top, 40 + pad[0] + 2);
    }
    jump_descend(j, level - 1);
}

/*
 * Sets a jump target, descends and yields, and lands back at the target,
 * as a failing assertion in a test would; then yields once more to show the
 * coroutine goes on normally after the jump.
 */
static void jump_body(void *arg)
{
    struct jump *j = arg;
    int v;

    j->passes++;
    v = setjmp(j->top);
    if (v == 0)
        jump_descend(j, 20);
    j->landed = v;
    coro_yield();
}

UNIT_TEST(coro_setjmp_longjmp)
{
    struct jump a = {0}, b = {0};
    struct coro *ca = coro_create(STACK_64K, jump_body, &a);
    struct coro *cb = coro_create(STACK_64K, jump_body, &b);

    CHECK(ca && cb);
    /* Both suspended deep down, each with its own jump target. */
    CHECK_INT_EQ(coro_resume(ca), 0);
    CHECK_INT_EQ(coro_resume(cb), 0);
    CHECK_INT_EQ(a.landed + b.landed, 0);
    /* Each jumps back to its own top and yields there. */
    CHECK_INT_EQ(coro_resume(cb), 0);
    CHECK_INT_EQ(b.landed, 42);
    CHECK_INT_EQ(a.landed, 0);
    CHECK_INT_EQ(coro_resume(ca), 0);
    CHECK_INT_EQ(a.landed, 42);
    CHECK_INT_EQ(coro_resume(ca), 1);
    CHECK_INT_EQ(coro_resume(cb), 1);
    CHECK_INT_EQ(a.passes, 1);
    CHECK_INT_EQ(b.passes, 1);
    coro_destroy(ca);
    coro_destroy(cb);
}

/* -------------------------------------------------------- sanitizers */

#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif

#ifdef TEST_ASAN
/* Writes one byte past a local buffer after a yield: a bug ASan must see. */
static void asan_bug_body(void *arg)
{
    volatile char buf[16];
    int i = *(int *)arg;

    buf[0] = 0;
    coro_yield();
    buf[i] = 1;
    *(int *)arg = buf[0];
}

/* In the child: runs asan_bug_body to the out-of-bounds write. */
static void asan_bug_child(void *arg)
{
    struct coro *c = coro_create(STACK_64K, asan_bug_body, arg);

    if (!c || coro_resume(c) != 0)
        _exit(2);
    coro_resume(c);
}

UNIT_TEST(coro_asan_sees_stack_bugs)
{
    int past_end = 16;
    int status = run_in_child(asan_bug_child, &past_end);

    /* ASan reports and exits with status 1; status 0 means it missed it. */
    CHECK(WIFEXITED(status));
    CHECK_INT_EQ(WEXITSTATUS(status), 1);
}
#endif

/* ------------------------------------------------ lifetime and misuse */

/* Yields forever; destroyed while suspended. */
static void forever_body(void *arg)
{
    (void)arg;
    for (;;)
        coro_yield();
}

UNIT_TEST(coro_destroy_any_state)
{
    struct coro *never = coro_create(STACK_64K, forever_body, NULL);
    struct coro *suspended = coro_create(1, forever_body, NULL);

    CHECK(never && suspended);
    for (int i = 0; i < 3; i++)
        CHECK_INT_EQ(coro_resume(suspended), 0);
    coro_destroy(never);
    coro_destroy(suspended);
    coro_destroy(NULL);
}

UNIT_TEST(coro_create_errors)
{
    errno = 0;
    CHECK(coro_create(0, forever_body, NULL) == NULL);
    CHECK_INT_EQ(errno, EINVAL);
    errno = 0;
    CHECK(coro_create(STACK_64K, NULL, NULL) == NULL);
    CHECK_INT_EQ(errno, EINVAL);
    errno = 0;
    CHECK(coro_create(SIZE_MAX, forever_body, NULL) == NULL);
    CHECK_INT_EQ(errno, ENOMEM);
}

/* In the child: yields from the scheduler, which must abort. */
static void yield_outside_child(void *arg)
{
    (void)arg;
    coro_yield();
}

/* In the child: resumes a coroutine that has already finished. */
static void resume_finished_child(void *arg)
{
    struct coro *c = coro_create(STACK_64K, overflow_body, NULL);

    (void)arg;
    overflow_stop = 1;
    if (!c || coro_resume(c) != 1)
        _exit(2);
    coro_resume(c);
}

UNIT_TEST(coro_misuse_aborts)
{
    int status;

    status = run_in_child(yield_outside_child, NULL);
    CHECK(WIFSIGNALED(status));
    CHECK_INT_EQ(WTERMSIG(status), SIGABRT);
    status = run_in_child(resume_finished_child, NULL);
    CHECK(WIFSIGNALED(status));
    CHECK_INT_EQ(WTERMSIG(status), SIGABRT);
}
