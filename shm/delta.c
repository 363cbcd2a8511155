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
    for (uint32_t i = 0; i < d->ntrends; i++) {
        free(d->trends[i].values.idx);
        free(d->trends[i].values.cnt);
    }
    free(d->urls);
    free(d->msgs);
    free(d->counters);
    free(d->checks);
    free(d->trends);
    free(d->gauges);
    free(d->tests);
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

static const struct shm_stats_check *find_check(const struct shm_stats *st, const char *n)
{
    for (uint32_t i = 0; i < st->nchecks; i++)
        if (strcmp(st->checks[i].name, n) == 0)
            return &st->checks[i];
    return NULL;
}

static const struct shm_stats_trend *find_trend(const struct shm_stats *st, const char *n)
{
    for (uint32_t i = 0; i < st->ntrends; i++)
        if (strcmp(st->trends[i].name, n) == 0)
            return &st->trends[i];
    return NULL;
}

static const struct shm_stats_gauge *find_gauge(const struct shm_stats *st, const char *n)
{
    for (uint32_t i = 0; i < st->ngauges; i++)
        if (strcmp(st->gauges[i].name, n) == 0)
            return &st->gauges[i];
    return NULL;
}

static const struct shm_stats_test *find_test(const struct shm_stats *st, const char *n)
{
    for (uint32_t i = 0; i < st->ntests; i++)
        if (strcmp(st->tests[i].name, n) == 0)
            return &st->tests[i];
    return NULL;
}

/* The checks, trends, gauges and tests of cur that changed since prev. */
static int diff_metrics(struct shm_delta *d, const struct shm_stats *prev,
                        const struct shm_stats *cur)
{
    d->checks = calloc(cur->nchecks + 1, sizeof(*d->checks));
    d->trends = calloc(cur->ntrends + 1, sizeof(*d->trends));
    d->gauges = calloc(cur->ngauges + 1, sizeof(*d->gauges));
    d->tests = calloc(cur->ntests + 1, sizeof(*d->tests));
    if (!d->checks || !d->trends || !d->gauges || !d->tests)
        return -ENOMEM;
    for (uint32_t i = 0; i < cur->nchecks; i++) {
        const struct shm_stats_check *c = &cur->checks[i], *q = find_check(prev, c->name);
        struct shm_delta_check *dc = &d->checks[d->nchecks];

        if (q && q->passes == c->passes && q->fails == c->fails)
            continue;
        memcpy(dc->name, c->name, sizeof(dc->name));
        dc->passes = c->passes - (q ? q->passes : 0);
        dc->fails = c->fails - (q ? q->fails : 0);
        d->nchecks++;
    }
    for (uint32_t i = 0; i < cur->ntrends; i++) {
        const struct shm_stats_trend *t = &cur->trends[i], *q = find_trend(prev, t->name);
        struct shm_delta_trend *dt = &d->trends[d->ntrends];

        if (q && q->values.count == t->values.count)
            continue;
        memcpy(dt->name, t->name, sizeof(dt->name));
        d->ntrends++;
        if (hist_diff(&dt->values, q ? &q->values : NULL, &t->values) < 0)
            return -ENOMEM;
    }
    for (uint32_t i = 0; i < cur->ngauges; i++) {
        const struct shm_stats_gauge *g = &cur->gauges[i], *q = find_gauge(prev, g->name);
        struct shm_delta_gauge *dg = &d->gauges[d->ngauges];

        if (q && q->at_us == g->at_us)
            continue;
        memcpy(dg->name, g->name, sizeof(dg->name));
        dg->value = g->value;
        dg->at_us = g->at_us;
        d->ngauges++;
    }
    for (uint32_t i = 0; i < cur->ntests; i++) {
        const struct shm_stats_test *t = &cur->tests[i], *q = find_test(prev, t->name);
        struct shm_delta_test *dt = &d->tests[d->ntests];

        if (q && q->runs == t->runs)
            continue;
        memcpy(dt->name, t->name, sizeof(dt->name));
        dt->runs = t->runs - (q ? q->runs : 0);
        dt->successes = t->successes - (q ? q->successes : 0);
        dt->failures = t->failures - (q ? q->failures : 0);
        dt->errors = t->errors - (q ? q->errors : 0);
        dt->interrupted = t->interrupted - (q ? q->interrupted : 0);
        d->ntests++;
    }
    d->tests_other = cur->tests_other - prev->tests_other;
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
    if (diff_metrics(d, prev, cur) < 0)
        goto out_nomem;
    return 0;

out_nomem:
    shm_delta_free(d);
    return -ENOMEM;
}

/* The checks, trends, gauges and tests of slot, for shm_delta_snapshot. */
static int snapshot_metrics(struct shm_delta *d, const struct shm_slot *slot)
{
    uint32_t nchecks = __atomic_load_n(&slot->nchecks, __ATOMIC_ACQUIRE);
    uint32_t ntrends = __atomic_load_n(&slot->ntrends, __ATOMIC_ACQUIRE);
    uint32_t ngauges = __atomic_load_n(&slot->ngauges, __ATOMIC_ACQUIRE);
    uint32_t ntests = __atomic_load_n(&slot->ntests, __ATOMIC_ACQUIRE);

    nchecks = nchecks < SHM_CHECKS ? nchecks : SHM_CHECKS;
    ntrends = ntrends < SHM_TRENDS ? ntrends : SHM_TRENDS;
    ngauges = ngauges < SHM_GAUGES ? ngauges : SHM_GAUGES;
    ntests = ntests < SHM_TESTS ? ntests : SHM_TESTS;
    d->checks = calloc(nchecks + 1, sizeof(*d->checks));
    d->trends = calloc(ntrends + 1, sizeof(*d->trends));
    d->gauges = calloc(ngauges + 1, sizeof(*d->gauges));
    d->tests = calloc(ntests + 1, sizeof(*d->tests));
    if (!d->checks || !d->trends || !d->gauges || !d->tests)
        return -ENOMEM;
    for (uint32_t i = 0; i < nchecks; i++) {
        struct shm_delta_check *dc = &d->checks[d->nchecks++];

        memcpy(dc->name, slot->checks[i].name, sizeof(dc->name));
        dc->name[sizeof(dc->name) - 1] = '\0';
        dc->passes = shm_load(&slot->checks[i].passes);
        dc->fails = shm_load(&slot->checks[i].fails);
    }
    for (uint32_t i = 0; i < ntrends; i++) {
        struct shm_delta_trend *dt = &d->trends[d->ntrends++];

        memcpy(dt->name, slot->trends[i].name, sizeof(dt->name));
        dt->name[sizeof(dt->name) - 1] = '\0';
        if (hist_diff(&dt->values, NULL, &slot->trends[i].values) < 0)
            return -ENOMEM;
    }
    for (uint32_t i = 0; i < ngauges; i++) {
        const struct shm_gauge *g = &slot->gauges[i];
        uint64_t at = __atomic_load_n(&g->at_us, __ATOMIC_ACQUIRE);
        struct shm_delta_gauge *dg;

        if (!at)
            continue;
        dg = &d->gauges[d->ngauges++];
        memcpy(dg->name, g->name, sizeof(dg->name));
        dg->name[sizeof(dg->name) - 1] = '\0';
        dg->value = shm_gauge_value(g);
        dg->at_us = at;
    }
    for (uint32_t i = 0; i < ntests; i++) {
        const struct shm_test *t = &slot->tests[i];
        struct shm_delta_test *dt = &d->tests[d->ntests++];

        memcpy(dt->name, t->name, sizeof(dt->name));
        dt->name[sizeof(dt->name) - 1] = '\0';
        dt->runs = shm_load(&t->runs);
        dt->successes = shm_load(&t->successes);
        dt->failures = shm_load(&t->failures);
        dt->errors = shm_load(&t->errors);
        dt->interrupted = shm_load(&t->interrupted);
    }
    d->tests_other = shm_load(&slot->tests_other);
    return 0;
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
    d->crashes = __atomic_load_n(&slot->crashes, __ATOMIC_RELAXED);
    d->due_plus1 = shm_load(&slot->due_plus1);
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
    if (snapshot_metrics(d, slot) < 0)
        goto out_nomem;
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
    /* Past a table: dropped, as a worker would drop it (tests: counted apart). */
    for (uint32_t i = 0; i < d->nchecks; i++)
        (void)shm_check_add(slot, d->checks[i].name, d->checks[i].passes, d->checks[i].fails);
    for (uint32_t i = 0; i < d->ntrends; i++) {
        struct shm_trend *tr = shm_trend_get(slot, d->trends[i].name);

        if (tr)
            shm_sparse_add(&tr->values, &d->trends[i].values);
    }
    for (uint32_t i = 0; i < d->ngauges; i++)
        if (d->gauges[i].at_us)
            (void)shm_gauge_set(slot, d->gauges[i].name, d->gauges[i].value,
                                d->gauges[i].at_us - 1);
    for (uint32_t i = 0; i < d->ntests; i++) {
        const struct shm_delta_test *dt = &d->tests[i];
        struct shm_test *t = shm_test_get(slot, dt->name);

        if (!t) {
            shm_add(&slot->tests_other, dt->runs);
            continue;
        }
        shm_add(&t->runs, dt->runs);
        shm_add(&t->successes, dt->successes);
        shm_add(&t->failures, dt->failures);
        shm_add(&t->errors, dt->errors);
        shm_add(&t->interrupted, dt->interrupted);
    }
    shm_add(&slot->tests_other, d->tests_other);
    shm_add(&slot->msgs_other, d->msgs_other);
    __atomic_store_n(&slot->crashes, slot->crashes + d->crashes, __ATOMIC_RELAXED);
    if (d->due_plus1) /* a value, not a difference */
        shm_store(&slot->due_plus1, d->due_plus1);
}
