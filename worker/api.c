/*
 * The public API that is not about HTTP: outcomes, custom counters, think
 * time.  Every function takes the running test (the VU).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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
    vu_stop_run(t, VU_FAILURE, "%s (%s:%d)", text, base_name(file), line);
}

void loads_add_counter(loads_test *t, const char *name, long n)
{
    if (shm_counter_add(t->w->slot, name, n) < 0)
        vu_stop_run(t, VU_ERROR, "too many custom counters (at most %d): %s",
                    SHM_COUNTERS, name);
}

void loads_incr_counter(loads_test *t, const char *name)
{
    loads_add_counter(t, name, 1);
}

static void on_sleep_done(uv_timer_t *timer)
{
    struct loads_test *vu = timer->data;

    if (vu->state == VU_WAIT_SLEEP)
        vu_resume(vu);
}

void loads_sleep(loads_test *t, double seconds)
{
    uint64_t ms = seconds > 0 ? (uint64_t)(seconds * 1000.0 + 0.5) : 0;

    uv_timer_start(&t->timer, on_sleep_done, ms, 0);
    vu_yield(t, VU_WAIT_SLEEP);
    if (t->aborted)
        vu_stop_run(t, VU_ERROR, "stopped in loads_sleep after the grace period");
}

const char *loads_server_url(const loads_test *t)
{
    return t->w->plan->server_url;
}

int loads_user(const loads_test *t)
{
    return (int)t->id;
}
