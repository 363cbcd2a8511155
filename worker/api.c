/*
 * The public API that is not about HTTP or web sockets: outcomes, checks,
 * custom metrics (counters, trends, gauges), think time.  Every function takes the running test.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/vu.h"
#include "worker/internal.h"

/* Keeps the last path component, so messages read "example.c:6". */
static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');

    return slash ? slash + 1 : path;
}

void *api_keep(struct loads_test *t, void *p)
{
    if (!p)
        run_stop(t, OUTCOME_ERROR, "out of memory");
    if (buf_append(&t->kept, &p, sizeof(p)) < 0) {
        free(p);
        run_stop(t, OUTCOME_ERROR, "out of memory");
    }
    return p;
}

void api_end_run(struct loads_test *t)
{
    void **p = (void **)(void *)t->kept.data;

    for (size_t i = 0; i < t->kept.len / sizeof(void *); i++)
        free(p[i]);
    buf_clear(&t->kept);
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

int loads_check(loads_test *t, int cond, const char *name)
{
    if (!name)
        run_stop(t, OUTCOME_ERROR, "loads_check: no check name (NULL)");
    if (record_check(t->w->rec, name, cond) < 0)
        run_stop(t, OUTCOME_ERROR, "too many checks (at most %d): %s", SHM_CHECKS, name);
    return cond ? 1 : 0;
}

void loads_trend(loads_test *t, const char *name, double value)
{
    if (!name)
        run_stop(t, OUTCOME_ERROR, "loads_trend: no trend name (NULL)");
    if (record_trend(t->w->rec, name, value) < 0)
        run_stop(t, OUTCOME_ERROR, "too many trends (at most %d): %s", SHM_TRENDS, name);
}

void loads_gauge(loads_test *t, const char *name, double value)
{
    if (!name)
        run_stop(t, OUTCOME_ERROR, "loads_gauge: no gauge name (NULL)");
    if (record_gauge(t->w->rec, name, value) < 0)
        run_stop(t, OUTCOME_ERROR, "too many gauges (at most %d): %s", SHM_GAUGES, name);
}

/*
 * Think time.  Once the run is ending (the end of a duration, a stop), a
 * sleep that would not end within the grace period cuts the run at once:
 * it is Interrupted, and waits for nothing.  (The worker cuts those already
 * asleep when the end comes.)
 */
void loads_sleep(loads_test *t, double seconds)
{
    struct worker *w = t->w;
    int64_t deadline = shm_mono_us() + (seconds > 0 ? (int64_t)(seconds * 1e6 + 0.5) : 0);
    int rc;

    if (w->stopping && deadline > w->hard_stop_us)
        run_stop(t, OUTCOME_INTERRUPTED, "loads_sleep: cut by the end of the run");
    t->idle_until = deadline;
    while ((rc = vu_wait(t->vu, deadline, "sleep")) == 0)
        ; /* a stale wake: sleep on */
    t->idle_until = 0;
    if (rc == -ECANCELED)
        run_stop(t, OUTCOME_INTERRUPTED, "loads_sleep: cut by the end of the run");
}

/* The column names of --data, for a message: "a, b, c". */
static void column_names(const struct csv *c, char *out, size_t len)
{
    size_t used = 0;

    out[0] = '\0';
    for (uint32_t i = 0; i < c->ncols && used < len; i++)
        used += (size_t)snprintf(out + used, len - used, "%s%s", i ? ", " : "",
                                 csv_name(c, i));
}

/*
 * A column of the row of --data this run (or this VU, --data-per vu)
 * took: the first call takes the next row.
 */
const char *loads_data(loads_test *t, const char *column)
{
    const struct worker_plan *p = t->w->plan;
    int col;

    if (!column)
        run_stop(t, OUTCOME_ERROR, "loads_data: no column name (NULL)");
    if (!p->data)
        run_stop(t, OUTCOME_ERROR, "loads_data(\"%.64s\"): no --data file given", column);
    col = csv_column(p->data, column);
    if (col < 0) {
        char names[160];

        column_names(p->data, names, sizeof(names));
        run_stop(t, OUTCOME_ERROR, "loads_data: no column '%.64s' in %.64s (columns: %s)",
                 column, p->data_name, names);
    }
    if (!t->has_row) {
        uint64_t n = record_data_row(t->w->rec);

        t->data_row = (n * p->data_stripes + p->data_stripe) % p->data->nrows;
        t->has_row = 1;
    }
    return csv_cell(p->data, t->data_row, (uint32_t)col);
}

const char *loads_env(loads_test *t, const char *name)
{
    const struct worker_plan *p = t->w->plan;
    size_t n;

    if (!name)
        run_stop(t, OUTCOME_ERROR, "loads_env: no name (NULL)");
    n = strlen(name);
    for (uint32_t i = 0; i < p->nenv; i++)
        if (strncmp(p->env[i], name, n) == 0 && p->env[i][n] == '=')
            return p->env[i] + n + 1;
    return NULL;
}

#define VALUE_NAME_MAX 64          /* bytes of a value's name, its NUL included */
#define VALUES_MAX     (64u << 20) /* bytes of a VU's values */

/* The VU's own value called name ("name\0value\0" in t->values), or NULL. */
static const char *own_value(const struct loads_test *t, const char *name)
{
    const char *v = t->values.data, *end = v ? v + t->values.len : NULL;

    for (; v && v < end; v += strlen(v) + 1) {
        const char *text = v + strlen(v) + 1;

        if (strcmp(v, name) == 0)
            return text;
        v = text;
    }
    return NULL;
}

void loads_set_value(loads_test *t, const char *name, const char *value)
{
    const char *old;
    size_t nlen, vlen;

    if (!name || !value)
        run_stop(t, OUTCOME_ERROR, "loads_set_value: no %s (NULL)", name ? "value" : "name");
    nlen = strlen(name) + 1;
    vlen = strlen(value) + 1;
    if (nlen > VALUE_NAME_MAX)
        run_stop(t, OUTCOME_ERROR, "loads_set_value: a name of more than %d bytes: %.64s...",
                 VALUE_NAME_MAX - 1, name);
    t->values.max = VALUES_MAX;
    old = own_value(t, name);
    if (old) {
        /* Out with the old pair, then the new one at the end. */
        char *start = (char *)old - nlen;
        size_t len = nlen + strlen(old) + 1;

        memmove(start, start + len, t->values.len - (size_t)(start - t->values.data) - len);
        t->values.len -= len;
    }
    if (buf_reserve(&t->values, nlen + vlen) < 0)
        run_stop(t, OUTCOME_ERROR, "loads_set_value: no room for %.64s (a VU's values take "
                 "at most %u MiB)", name, VALUES_MAX >> 20);
    buf_append(&t->values, name, nlen);
    buf_append(&t->values, value, vlen);
}

const char *loads_value(loads_test *t, const char *name)
{
    const struct worker_plan *p = t->w->plan;
    const char *v;

    if (!name)
        run_stop(t, OUTCOME_ERROR, "loads_value: no name (NULL)");
    if ((v = own_value(t, name)))
        return v;
    for (uint32_t i = 0; i < p->nvalues; i++)
        if (strcmp(p->value_names[i], name) == 0)
            return p->value_texts[i];
    return NULL;
}

const char *loads_server_url(const loads_test *t)
{
    return t->w->plan->server_url;
}

int loads_user(const loads_test *t)
{
    return (int)t->id;
}
