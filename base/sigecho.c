#include "base/sigecho.h"

#include <time.h>

int sig_is_echo(struct sig_last *last, int sig, const siginfo_t *si)
{
    struct timespec ts;
    int64_t now;
    int code = si ? si->si_code : 0;
    pid_t pid = si ? si->si_pid : 0;

    clock_gettime(CLOCK_MONOTONIC, &ts); /* async-signal-safe (POSIX) */
    now = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
    /* A terminal's Ctrl-C comes from the kernel (not SI_USER): a user's
     * two presses are two stops, however fast. */
    if (last->sig == sig && code == SI_USER && last->code == SI_USER && last->pid == pid &&
        now - last->at_us < SIG_ECHO_US)
        return 1;
    last->sig = sig;
    last->code = code;
    last->pid = pid;
    last->at_us = now;
    return 0;
}
