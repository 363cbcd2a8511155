/*
 * The worker's writes into its slot (see record.h).  Single writer: this
 * process, one VU at a time.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "shm/recent.h"
#include "worker/record.h"

struct record {
    struct shm_slot *slot;    /* written */
    struct shm_header *hdr;   /* its data_next only */
    int64_t started_mono_us;  /* the run's start: seconds count from it */
    struct hist second;       /* response times of the second going on */
    uint64_t cur_second;      /* that second, since the start */
    uint64_t sec_hits;        /* its hits */
    uint64_t sec_errors;      /* its failed and errored runs */
    uint64_t sec_runs;        /* its runs started */
    uint64_t sec_dropped;     /* its runs dropped */
    struct shm_recent recent; /* the last seconds, for the slot's recent */
};

struct record *record_create(const struct shm *shm, uint32_t i)
{
    struct record *r = calloc(1, sizeof(*r));

    if (!r)
        return NULL;
    r->slot = shm_slot(shm, i);
    r->hdr = shm->hdr;
    r->started_mono_us = shm->hdr->started_mono_us;
    r->cur_second = (uint64_t)(shm_mono_us() - r->started_mono_us) / 1000000;
    return r;
}

void record_destroy(struct record *r)
{
    if (!r)
        return;
    shm_recent_free(&r->recent);
    free(r);
}

uint32_t record_url(struct record *r, const char *key)
{
    return (uint32_t)(shm_url_get(r->slot, key, shm_hash(key, NULL)) - r->slot->urls);
}

void record_response(struct record *r, uint32_t row, int ok, int64_t elapsed_us,
                     int64_t late_us)
{
    struct shm_slot *slot = r->slot;
    struct shm_url *u = &slot->urls[row];
    uint64_t us = elapsed_us > 0 ? (uint64_t)elapsed_us : 0;
    uint64_t resp = us + (late_us > 0 ? (uint64_t)late_us : 0);

    shm_add(&slot->c.hits, 1);
    shm_add(&u->hits, 1);
    if (ok)
        shm_add(&u->ok, 1);
    r->sec_hits++;
    hist_record(&slot->latency, us);
    hist_record(&u->latency, us);
    hist_record(&slot->response, resp);
    hist_record(&u->response, resp);
    hist_record(&r->second, resp);
}

void record_http_error(struct record *r, uint32_t row)
{
    shm_add(&r->slot->urls[row].errors, 1);
    shm_add(&r->slot->c.http_errors, 1);
}

void record_bytes(struct record *r, uint64_t n)
{
    if (n)
        shm_add(&r->slot->c.bytes, n);
}

void record_ws_sample(struct record *r, uint32_t row, int64_t us, int64_t late_us)
{
    struct shm_url *u = &r->slot->urls[row];
    uint64_t v = us > 0 ? (uint64_t)us : 0;

    shm_add(&u->hits, 1);
    shm_add(&u->ok, 1);
    hist_record(&u->latency, v);
    hist_record(&u->response, v + (late_us > 0 ? (uint64_t)late_us : 0));
}

void record_ws_error(struct record *r, uint32_t row)
{
    shm_add(&r->slot->urls[row].errors, 1);
}

void record_ws_counts(struct record *r, uint64_t opened, uint64_t bytes)
{
    if (opened)
        shm_add(&r->slot->c.ws_opened, opened);
    if (bytes)
        shm_add(&r->slot->c.ws_bytes, bytes);
}

void record_run_started(struct record *r)
{
    shm_add(&r->slot->c.runs_started, 1);
    r->sec_runs++;
}

void record_dropped(struct record *r, uint64_t n)
{
    shm_add(&r->slot->c.dropped, n);
    r->sec_dropped += n;
}

void record_rate_next(struct record *r, uint64_t next)
{
    shm_store(&r->slot->rate_next, next);
}

uint64_t record_rate_resume(const struct record *r)
{
    return shm_load(&r->slot->rate_next);
}

void record_run_ended(struct record *r, int outcome, const char *test, const char *msg)
{
    struct shm_counters *c = &r->slot->c;
    struct shm_test *row = shm_test_get(r->slot, test);

    switch (outcome) {
    case 0:
        shm_add(&c->successes, 1);
        if (row)
            shm_add(&row->successes, 1);
        break;
    case SHM_FAILURE:
        shm_add(&c->failures, 1);
        if (row)
            shm_add(&row->failures, 1);
        break;
    case SHM_INTERRUPTED:
        shm_add(&c->interrupted, 1);
        if (row)
            shm_add(&row->interrupted, 1);
        break;
    default:
        shm_add(&c->errors, 1);
        if (row)
            shm_add(&row->errors, 1);
        break;
    }
    if (row)
        shm_add(&row->runs, 1);
    else
        shm_add(&r->slot->tests_other, 1);
    if (outcome && outcome != SHM_INTERRUPTED) {
        r->sec_errors++;
        shm_msg_count(r->slot, (enum shm_outcome)outcome, test, msg);
    }
    shm_add(&c->runs, 1);
}

void record_warning(struct record *r, const char *test, const char *msg)
{
    shm_msg_count(r->slot, SHM_WARNING, test, msg);
}

int record_counter(struct record *r, const char *name, long n)
{
    return shm_counter_add(r->slot, name, n);
}

int record_check(struct record *r, const char *name, int ok)
{
    return shm_check_add(r->slot, name, ok ? 1 : 0, ok ? 0 : 1);
}

int record_trend(struct record *r, const char *name, double value)
{
    struct shm_trend *tr = shm_trend_get(r->slot, name);
    double scaled = value * SHM_TREND_SCALE;

    if (!tr)
        return -ENOSPC;
    /* NaN and negatives are 0; the histogram clamps the top itself. */
    hist_record(&tr->values, scaled >= 1 ? (scaled < (double)HIST_MAX_US
                                                ? (uint64_t)llround(scaled)
                                                : HIST_MAX_US)
                                         : 0);
    return 0;
}

int record_gauge(struct record *r, const char *name, double value)
{
    int64_t at = shm_mono_us() - r->started_mono_us;

    return shm_gauge_set(r->slot, name, value, at > 0 ? (uint64_t)at : 0);
}

uint64_t record_data_row(struct record *r)
{
    return __atomic_fetch_add(&r->hdr->data_next, 1, __ATOMIC_RELAXED);
}

void record_users(struct record *r, int delta)
{
    shm_add(&r->slot->c.users_active, (uint64_t)(int64_t)delta);
}

void record_beat(struct record *r, uint32_t running)
{
    shm_add(&r->slot->beat, 1);
    __atomic_store_n(&r->slot->running, running, __ATOMIC_RELAXED);
}

void record_running(struct record *r, uint32_t running)
{
    __atomic_store_n(&r->slot->running, running, __ATOMIC_RELAXED);
}

/* Writes the second that ended into the slot's series and starts the next. */
static void record_close_second(struct record *r, uint64_t next)
{
    struct shm_second *s = &r->slot->series[r->cur_second % SHM_SERIES];

    shm_store(&s->second, 0);
    shm_store(&s->hits, r->sec_hits);
    shm_store(&s->errors, r->sec_errors);
    shm_store(&s->p50_us, hist_percentile(&r->second, 50));
    shm_store(&s->p99_us, hist_percentile(&r->second, 99));
    shm_store(&s->runs, r->sec_runs);
    shm_store(&s->dropped, r->sec_dropped);
    __atomic_store_n(&s->second, r->cur_second + 1, __ATOMIC_RELEASE);
    shm_recent_push(r->slot, &r->recent, &r->second); /* and resets it */
    r->sec_hits = r->sec_errors = r->sec_runs = r->sec_dropped = 0;
    r->cur_second = next;
}

void record_tick(struct record *r, int64_t now_us)
{
    uint64_t second = (uint64_t)(now_us - r->started_mono_us) / 1000000;

    if (second != r->cur_second)
        record_close_second(r, second);
}

void record_flush(struct record *r)
{
    record_close_second(r, r->cur_second);
}

void record_done(struct record *r)
{
    __atomic_store_n(&r->slot->state, SHM_WORKER_DONE, __ATOMIC_RELEASE);
}
