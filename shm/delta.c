/*
 * Deltas of a run's figures (see delta.h): the difference of two merged
 * snapshots, the snapshot of one slot, and the addition of a delta into a
 * slot.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "shm/delta.h"

void shm_delta_free(struct shm_delta *d)
{
    free(d->latency.idx);
    free(d->latency.cnt);
    free(d->response.idx);
    free(d->response.cnt);
    for (uint32_t i = 0; i < d->nurls; i++) {
        free(d->urls[i].latency.idx);
        free(d->urls[i].latency.cnt);
        free(d->urls[i].response.idx);
        free(d->urls[i].response.cnt);
    }
    free(d->urls);
    free(d->msgs);
    free(d->counters);
    free(d->seconds);
    memset(d, 0, sizeof(*d));
}

/*
 * s = cur - prev, bucket by bucket (prev NULL: all of cur).  min and max
 * are cur's own: they only ever move outward, so the receiver keeps the
 * smallest min and the largest max it has seen.
 */
static int hist_diff(struct hist_sparse *s, const struct hist *prev, const struct hist *cur)
{
    uint64_t count = shm_load(&cur->count);

    s->count = count - (prev ? prev->count : 0);
    s->sum_us = shm_load(&cur->sum_us) - (prev ? prev->sum_us : 0);
    s->min_plus1 = shm_load(&cur->min_plus1);
    s->max_us = shm_load(&cur->max_us);
    if (!count)
        return 0;
    for (uint32_t i = 0; i < HIST_COUNTS; i++) {
        uint64_t c = shm_load(&cur->counts[i]), p = prev ? prev->counts[i] : 0;

        if (c != p && shm_sparse_push(s, i, c - p) < 0)
            return -ENOMEM;
    }
    return 0;
}

void shm_sparse_add(struct hist *h, const struct hist_sparse *s)
{
    uint64_t min1 = shm_load(&h->min_plus1);

    for (uint32_t k = 0; k < s->n; k++)
        if (s->idx[k] < HIST_COUNTS)
            shm_add(&h->counts[s->idx[k]], s->cnt[k]);
    shm_add(&h->sum_us, s->sum_us);
    if (s->min_plus1 && (!min1 || s->min_plus1 < min1))
        shm_store(&h->min_plus1, s->min_plus1);
    if (s->max_us > shm_load(&h->max_us))
        shm_store(&h->max_us, s->max_us);
    shm_add(&h->count, s->count);
}

static const struct shm_stats_url *find_url(const struct shm_stats *st, const char *key)
{
    for (uint32_t i = 0; i < st->nurls; i++)
        if (strcmp(st->urls[i].key, key) == 0)
            return &st->urls[i];
    return NULL;
}

static const struct shm_stats_msg *find_msg(const struct shm_stats *st,
                                            const struct shm_stats_msg *m)
{
    for (uint32_t i = 0; i < st->nmsgs; i++)
        if (st->msgs[i].kind == m->kind && strcmp(st->msgs[i].test, m->test) == 0 &&
            strcmp(st->msgs[i].text, m->text) == 0)
            return &st->msgs[i];
    return NULL;
}

static uint64_t counter_value(const struct shm_stats *st, const char *name)
{
    for (uint32_t i = 0; i < st->ncounters; i++)
        if (strcmp(st->counters[i].name, name) == 0)
            return st->counters[i].value;
    return 0;
}

int shm_delta_diff(struct shm_delta *d, const struct shm_stats *prev,
                   const struct shm_stats *cur)
{
    const uint64_t *p = (const uint64_t *)&prev->c, *c = (const uint64_t *)&cur->c;
    uint64_t *o = (uint64_t *)&d->c;

    memset(d, 0, sizeof(*d));
    for (size_t i = 0; i < sizeof(d->c) / sizeof(uint64_t); i++)
        o[i] = c[i] - p[i];
    d->c.users_active = cur->c.users_active;
    d->msgs_other = cur->msgs_other - prev->msgs_other;
    d->events_dropped = cur->events_dropped - prev->events_dropped;
    d->crashes = cur->crashes - prev->crashes;
    d->urls = calloc(cur->nurls ? cur->nurls : 1, sizeof(*d->urls));
    d->msgs = calloc(cur->nmsgs ? cur->nmsgs : 1, sizeof(*d->msgs));
    d->counters = calloc(cur->ncounters ? cur->ncounters : 1, sizeof(*d->counters));
    if (!d->urls || !d->msgs || !d->counters)
        goto out_nomem;
    if (hist_diff(&d->latency, &prev->latency, &cur->latency) < 0 ||
        hist_diff(&d->response, &prev->response, &cur->response) < 0)
        goto out_nomem;
    for (uint32_t i = 0; i < cur->nurls; i++) {
        const struct shm_stats_url *u = &cur->urls[i], *q = find_url(prev, u->key);
        struct shm_delta_url *du = &d->urls[d->nurls];

        if (q && q->hits == u->hits && q->ok == u->ok && q->errors == u->errors &&
            q->latency.count == u->latency.count && q->response.count == u->response.count)
            continue;
        memcpy(du->key, u->key, sizeof(du->key));
        du->hits = u->hits - (q ? q->hits : 0);
        du->ok = u->ok - (q ? q->ok : 0);
        du->errors = u->errors - (q ? q->errors : 0);
        d->nurls++;
        if (hist_diff(&du->latency, q ? &q->latency : NULL, &u->latency) < 0 ||
            hist_diff(&du->response, q ? &q->response : NULL, &u->response) < 0)
            goto out_nomem;
    }
    for (uint32_t i = 0; i < cur->nmsgs; i++) {
        const struct shm_stats_msg *m = &cur->msgs[i], *q = find_msg(prev, m);
        struct shm_delta_msg *dm = &d->msgs[d->nmsgs];

        if (q && q->count == m->count)
            continue;
        dm->kind = m->kind;
        dm->count = m->count - (q ? q->count : 0);
        memcpy(dm->test, m->test, sizeof(dm->test));
        memcpy(dm->text, m->text, sizeof(dm->text));
        d->nmsgs++;
    }
    for (uint32_t i = 0; i < cur->ncounters; i++) {
        uint64_t was = counter_value(prev, cur->counters[i].name);
        struct shm_delta_counter *dc = &d->counters[d->ncounters];

        if (was == cur->counters[i].value)
            continue;
        memcpy(dc->name, cur->counters[i].name, sizeof(dc->name));
        dc->n = (int64_t)(cur->counters[i].value - was);
        d->ncounters++;
    }
    return 0;

out_nomem:
    shm_delta_free(d);
    return -ENOMEM;
}

int shm_delta_snapshot(struct shm_delta *d, const struct shm_slot *slot)
{
    uint32_t nurls = __atomic_load_n(&slot->nurls, __ATOMIC_ACQUIRE);
    uint32_t nmsgs = __atomic_load_n(&slot->nmsgs, __ATOMIC_ACQUIRE);
    uint32_t ncnt = __atomic_load_n(&slot->ncounters, __ATOMIC_ACQUIRE);
    const uint64_t *c = (const uint64_t *)&slot->c;
    uint64_t *o = (uint64_t *)&d->c;

    memset(d, 0, sizeof(*d));
    nurls = nurls < SHM_URLS ? nurls : SHM_URLS;
    nmsgs = nmsgs < SHM_MSGS ? nmsgs : SHM_MSGS;
    ncnt = ncnt < SHM_COUNTERS ? ncnt : SHM_COUNTERS;
    for (size_t i = 0; i < sizeof(d->c) / sizeof(uint64_t); i++)
        o[i] = shm_load(&c[i]);
    d->msgs_other = shm_load(&slot->msgs_other);
    d->events_dropped = shm_load(&slot->ring.dropped);
    d->crashes = __atomic_load_n(&slot->crashes, __ATOMIC_RELAXED);
    d->urls = calloc(nurls + 1, sizeof(*d->urls));
    d->msgs = calloc(nmsgs + 1, sizeof(*d->msgs));
    d->counters = calloc(ncnt + 1, sizeof(*d->counters));
    d->seconds = calloc(SHM_SERIES, sizeof(*d->seconds));
    if (!d->urls || !d->msgs || !d->counters || !d->seconds)
        goto out_nomem;
    if (hist_diff(&d->latency, NULL, &slot->latency) < 0 ||
        hist_diff(&d->response, NULL, &slot->response) < 0)
        goto out_nomem;
    for (uint32_t i = 0; i <= SHM_URLS; i++) {
        const struct shm_url *u = &slot->urls[i];
        struct shm_delta_url *du = &d->urls[d->nurls];

        if (i == SHM_URLS ? !shm_load(&u->hits) && !shm_load(&u->errors) : i >= nurls)
            continue;
        memcpy(du->key, u->key, sizeof(du->key));
        du->key[sizeof(du->key) - 1] = '\0';
        du->hits = shm_load(&u->hits);
        du->ok = shm_load(&u->ok);
        du->errors = shm_load(&u->errors);
        d->nurls++;
        if (hist_diff(&du->latency, NULL, &u->latency) < 0 ||
            hist_diff(&du->response, NULL, &u->response) < 0)
            goto out_nomem;
    }
    for (uint32_t i = 0; i < nmsgs; i++) {
        struct shm_delta_msg *dm = &d->msgs[d->nmsgs++];

        dm->kind = slot->msgs[i].kind;
        dm->count = shm_load(&slot->msgs[i].count);
        memcpy(dm->test, slot->msgs[i].test, sizeof(dm->test));
        memcpy(dm->text, slot->msgs[i].text, sizeof(dm->text));
        dm->test[sizeof(dm->test) - 1] = dm->text[sizeof(dm->text) - 1] = '\0';
    }
    for (uint32_t i = 0; i < ncnt; i++) {
        struct shm_delta_counter *dc = &d->counters[d->ncounters++];

        memcpy(dc->name, slot->counters[i].name, sizeof(dc->name));
        dc->name[sizeof(dc->name) - 1] = '\0';
        dc->n = (int64_t)shm_load(&slot->counters[i].value);
    }
    for (uint32_t i = 0; i < SHM_SERIES; i++)
        if (shm_load(&slot->series[i].second))
            d->seconds[d->nseconds++] = slot->series[i];
    return 0;

out_nomem:
    shm_delta_free(d);
    return -ENOMEM;
}

void shm_delta_apply(struct shm_slot *slot, const struct shm_delta *d)
{
    const uint64_t *c = (const uint64_t *)&d->c;
    uint64_t *o = (uint64_t *)&slot->c;

    for (size_t i = 0; i < sizeof(d->c) / sizeof(uint64_t); i++)
        shm_add(&o[i], c[i]);
    shm_store(&slot->c.users_active, d->c.users_active);
    shm_sparse_add(&slot->latency, &d->latency);
    shm_sparse_add(&slot->response, &d->response);
    for (uint32_t i = 0; i < d->nurls; i++) {
        const struct shm_delta_url *du = &d->urls[i];
        struct shm_url *u = shm_url_get(slot, du->key, shm_hash(du->key, NULL));

        shm_add(&u->hits, du->hits);
        shm_add(&u->ok, du->ok);
        shm_add(&u->errors, du->errors);
        shm_sparse_add(&u->latency, &du->latency);
        shm_sparse_add(&u->response, &du->response);
    }
    for (uint32_t i = 0; i < d->nmsgs; i++)
        shm_msg_add(slot, (enum shm_outcome)d->msgs[i].kind, d->msgs[i].test,
                    d->msgs[i].text, d->msgs[i].count);
    /* A counter past the table is dropped, as a worker drops it. */
    for (uint32_t i = 0; i < d->ncounters; i++)
        (void)shm_counter_add(slot, d->counters[i].name, d->counters[i].n);
    for (uint32_t i = 0; i < d->nseconds; i++) {
        const struct shm_second *s = &d->seconds[i];
        struct shm_second *e;

        if (!s->second)
            continue;
        e = &slot->series[(s->second - 1) % SHM_SERIES]; /* tag = second + 1 */
        __atomic_store_n(&e->second, 0, __ATOMIC_RELAXED);
        __atomic_thread_fence(__ATOMIC_RELEASE);
        shm_store(&e->hits, s->hits);
        shm_store(&e->errors, s->errors);
        shm_store(&e->p50_us, s->p50_us);
        shm_store(&e->p99_us, s->p99_us);
        shm_store(&e->runs, s->runs);
        shm_store(&e->dropped, s->dropped);
        __atomic_store_n(&e->second, s->second, __ATOMIC_RELEASE);
    }
    shm_add(&slot->msgs_other, d->msgs_other);
    shm_add(&slot->ring.dropped, d->events_dropped);
    __atomic_store_n(&slot->crashes, slot->crashes + d->crashes, __ATOMIC_RELAXED);
}
