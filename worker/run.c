/*
 * A test run's outcome: where a Failure or an Error stops it.  The API
 * files stop runs; worker.c starts them and records how they ended.
 */
#include <stdarg.h>
#include <stdio.h>

#include "worker/internal.h"

void run_stop(struct loads_test *t, enum outcome outcome, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(t->msg, sizeof(t->msg), fmt, ap);
    va_end(ap);
    t->outcome = outcome;
    longjmp(t->jmp, 1);
}
