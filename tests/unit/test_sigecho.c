/*
 * base/sigecho.c: a stop signal's echo (the same signal from the same
 * process within SIG_ECHO_US) is told from a second stop, with real
 * signals sent to this process and the handler's own siginfo.
 */
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/sigecho.h"
#include "tests/unit/unit.h"

static struct sig_last last;
static volatile sig_atomic_t counted, echoes;

static void on_usr1(int sig, siginfo_t *si, void *uc)
{
    if (sig_is_echo(&last, sig, si))
        echoes++;
    else
        counted++;
}

static void with_handler(struct sigaction *old)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_usr1;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGUSR1, &sa, old) == 0);
    memset(&last, 0, sizeof(last));
    counted = echoes = 0;
}

static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0)
        ;
}

static int64_t mono_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Waits (1 s at most) until n signals were handled: with another thread
 * in the process, one may take it a little later than kill returns. */
static void handled(int n)
{
    for (int i = 0; i < 1000 && counted + echoes < n; i++)
        pause_ms(1);
}

UNIT_TEST(sigecho_same_sender_at_once)
{
    struct sigaction old;

    int64_t t0, took;

    with_handler(&old);
    t0 = mono_us();
    kill(getpid(), SIGUSR1); /* delivered before kill returns */
    handled(1);
    kill(getpid(), SIGUSR1);
    took = mono_us() - t0;
    handled(2);
    /* A machine that held this process longer than the window between the
     * two sends makes them two stops, rightly. */
    CHECK_INT_EQ(counted, took < SIG_ECHO_US ? 1 : 2);
    CHECK_INT_EQ(echoes, took < SIG_ECHO_US ? 1 : 0);
    sigaction(SIGUSR1, &old, NULL);
}

UNIT_TEST(sigecho_apart_or_queued_counts)
{
    struct sigaction old;
    union sigval v = {0};

    with_handler(&old);
    kill(getpid(), SIGUSR1);
    handled(1);
    pause_ms(SIG_ECHO_US / 1000 + 20); /* later than an echo */
    kill(getpid(), SIGUSR1);
    handled(2);
    CHECK_INT_EQ(counted, 2);
    sigqueue(getpid(), SIGUSR1, v); /* not SI_USER: never an echo */
    handled(3);
    CHECK_INT_EQ(counted, 3);
    CHECK_INT_EQ(echoes, 0);
    sigaction(SIGUSR1, &old, NULL);
}
