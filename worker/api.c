/*
 * The public API that is not about HTTP or web sockets: outcomes, custom
 * counters, think time.  Every function takes the running test.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/vu.h"
#include "worker/internal.h"

/* Keeps the last path component, so messages read "example.c:6". */
static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');

    return slash ? slash + 1 : path;
}

void loads__fail(loads_test *t, const char *file, int line, const char *fmt, ...)
{
    char text[SHM_MSG_LEN];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    run_stop(t, OUTCOME_FAILURE, "%s (%s:%d)", text, base_name(file), line);
}

void loads_add_counter(loads_test *t, const char *name, long n)
{
    if (!name)
        run_stop(t, OUTCOME_ERROR, "loads_add_counter: no counter name (NULL)");
    if (record_counter(t->w->rec, name, n) < 0)
        run_stop(t, OUTCOME_ERROR, "too many custom counters (at most %d): %s",
                        SHM_COUNTERS, name);
}

void loads_incr_counter(loads_test *t, const char *name)
{
    loads_add_counter(t, name, 1);
}

void loads_sleep(loads_test *t, double seconds)
{
    int64_t deadline = shm_mono_us() + (seconds > 0 ? (int64_t)(seconds * 1e6 + 0.5) : 0);
    int rc;

    while ((rc = vu_wait(t->vu, deadline, "sleep")) == 0)
        ; /* a stale wake: sleep on */
    if (rc == -ECANCELED)
        run_stop(t, OUTCOME_ERROR, "stopped in loads_sleep after the grace period");
}

const char *loads_server_url(const loads_test *t)
{
    return t->w->plan->server_url;
}

int loads_user(const loads_test *t)
{
    return (int)t->id;
}
