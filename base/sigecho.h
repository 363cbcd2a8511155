/*
 * A stop signal's echo.  timeout(1), and other programs that stop a
 * process group, send their signal to the child and then to the whole
 * group: a runner started by them gets the same signal twice from the same
 * sender, microseconds apart.  To a runner a second stop signal means
 * "stop now, cut the runs" (a user's second Ctrl-C): the echo must not.
 */
#ifndef LOADS_BASE_SIGECHO_H
#define LOADS_BASE_SIGECHO_H

#include <signal.h>
#include <stdint.h>

/* Two signals closer than this, same number, same sending process: one. */
#define SIG_ECHO_US 50000

struct sig_last {
    int sig;       /* 0: none yet */
    int code;      /* si_code */
    pid_t pid;     /* si_pid */
    int64_t at_us; /* CLOCK_MONOTONIC */
};

/*
 * True when the signal sig with info si repeats the one in last (the same
 * signal sent by the same process, SI_USER, within SIG_ECHO_US); else
 * records it in last.  Async-signal-safe: call it from the handler.
 */
int sig_is_echo(struct sig_last *last, int sig, const siginfo_t *si);

#endif
