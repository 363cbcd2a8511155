/*
 * Merging the slots of a segment into one snapshot.  Readers only: the
 * workers may be writing while this runs, so every word is read once with
 * an atomic load and table lengths are acquired before their rows.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "shm/stats.h"

static void add_counters(struct shm_counters *dst, const struct shm_counters *src)
{
    const uint64_t *s = (const uint64_t *)src;
    uint64_t *d = (uint64_t *)dst;

    for (size_t i = 0; i < sizeof(*src) / sizeof(uint64_t); i++)
        d[i] += shm_load(&s[i]);
}

static void merge_url(struct shm_stats *st, const struct shm_url *u)
{
    struct shm_stats_url *m = NULL;

    for (uint32_t i = 0; i < st->nurls && !m; i++)
        if (strcmp(st->urls[i].key, u->key) == 0)
            m = &st->urls[i];
    if (!m) {
        m = &st->urls[st->nurls++];
        memcpy(m->key, u->key, sizeof(m->key));
        m->key[sizeof(m->key) - 1] = '\0';
    }
    m->hits += shm_load(&u->hits);
    m->ok += shm_load(&u->ok);
    m->errors += shm_load(&u->errors);
    hist_merge(&m->latency, &u->latency);
    hist_merge(&m->response, &u->response);
}

static void merge_msg(struct shm_stats *st, const struct shm_msg *g)
{
    struct shm_stats_msg *m = NULL;

    for (uint32_t i = 0; i < st->nmsgs && !m; i++)
        if (st->msgs[i].kind == g->kind && strcmp(st->msgs[i].test, g->test) == 0 &&
            strcmp(st->msgs[i].text, g->text) == 0)
            m = &st->msgs[i];
    if (!m) {
        m = &st->msgs[st->nmsgs++];
        m->kind = g->kind;
        memcpy(m->test, g->test, sizeof(m->test));
        memcpy(m->text, g->text, sizeof(m->text));
        m->test[sizeof(m->test) - 1] = m->text[sizeof(m->text) - 1] = '\0';
    }
    m->count += shm_load(&g->count);
}

static void merge_counter(struct shm_stats *st, const struct shm_counter *c)
{
    uint32_t i;

    for (i = 0; i < st->ncounters; i++)
        if (strncmp(st->counters[i].name, c->name, SHM_COUNTER_LEN) == 0)
            break;
    if (i == st->ncounters) {
        if (i == SHM_COUNTERS)
            return;
        memcpy(st->counters[i].name, c->name, SHM_COUNTER_LEN);
        st->counters[i].name[SHM_COUNTER_LEN - 1] = '\0';
        st->ncounters++;
    }
    st->counters[i].value += shm_load(&c->value);
}

/*
 * The index of the row called name among n rows of stride bytes whose
 * first member is their name (len bytes); n when there is none.
 */
static uint32_t find_row(const void *rows, uint32_t n, size_t stride, const char *name,
                         size_t len)
{
    uint32_t i = 0;

    while (i < n && strncmp((const char *)rows + i * stride, name, len) != 0)
        i++;
    return i;
}

#define FIND_ROW(rows, n, key, len) find_row((rows), (n), sizeof(*(rows)), (key), (len))

static void merge_check(struct shm_stats *st, const struct shm_check *c)
{
    uint32_t i = FIND_ROW(st->checks, st->nchecks, c->name, SHM_COUNTER_LEN);

    if (i == st->nchecks) {
        if (i == SHM_CHECKS)
            return;
        memcpy(st->checks[i].name, c->name, SHM_COUNTER_LEN);
        st->checks[i].name[SHM_COUNTER_LEN - 1] = '\0';
        st->nchecks++;
    }
    st->checks[i].passes += shm_load(&c->passes);
    st->checks[i].fails += shm_load(&c->fails);
}

static void merge_trend(struct shm_stats *st, const struct shm_trend *tr)
{
    uint32_t i = FIND_ROW(st->trends, st->ntrends, tr->name, SHM_COUNTER_LEN);

    if (i == st->ntrends) {
        if (i == SHM_TRENDS)
            return;
        memcpy(st->trends[i].name, tr->name, SHM_COUNTER_LEN);
        st->trends[i].name[SHM_COUNTER_LEN - 1] = '\0';
        st->ntrends++;
    }
    hist_merge(&st->trends[i].values, &tr->values);
}

/* The latest value of a gauge wins, whichever worker set it. */
static void merge_gauge(struct shm_stats *st, const struct shm_gauge *g)
{
    uint32_t i = FIND_ROW(st->gauges, st->ngauges, g->name, SHM_COUNTER_LEN);
    uint64_t at = __atomic_load_n(&g->at_us, __ATOMIC_ACQUIRE);

    if (!at)
        return;
    if (i == st->ngauges) {
        if (i == SHM_GAUGES)
            return;
        memcpy(st->gauges[i].name, g->name, SHM_COUNTER_LEN);
        st->gauges[i].name[SHM_COUNTER_LEN - 1] = '\0';
        st->ngauges++;
    }
    if (at >= st->gauges[i].at_us) {
        st->gauges[i].at_us = at;
        st->gauges[i].value = shm_gauge_value(g);
    }
}

static void merge_test(struct shm_stats *st, const struct shm_test *t)
{
    uint32_t i = FIND_ROW(st->tests, st->ntests, t->name, SHM_NAME_LEN);
    struct shm_stats_test *m;

    if (i == st->ntests) {
        if (i == SHM_TESTS) {
            st->tests_other += shm_load(&t->runs);
            return;
        }
        memcpy(st->tests[i].name, t->name, SHM_NAME_LEN);
        st->tests[i].name[SHM_NAME_LEN - 1] = '\0';
        st->ntests++;
    }
    m = &st->tests[i];
    m->runs += shm_load(&t->runs);
    m->successes += shm_load(&t->successes);
    m->failures += shm_load(&t->failures);
    m->errors += shm_load(&t->errors);
    m->interrupted += shm_load(&t->interrupted);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct shm_stats_test *)a)->name,
                  ((const struct shm_stats_test *)b)->name);
}

static int by_hits(const void *a, const void *b)
{
    const struct shm_stats_url *x = a, *y = b;

    return x->hits < y->hits ? 1 : x->hits > y->hits ? -1 : strcmp(x->key, y->key);
}

static int by_count(const void *a, const void *b)
{
    const struct shm_stats_msg *x = a, *y = b;

    return x->count < y->count ? 1 : x->count > y->count ? -1 : strcmp(x->text, y->text);
}

int shm_stats_collect(struct shm_stats *st, const struct shm *s)
{
    const struct shm_header *h = s->hdr;
    uint32_t n = h->nslots + 1; /* the workers' slots and the supervisor's */
    uint32_t nurls[SHM_MAX_WORKERS + 1];
    size_t rows = 0;
    int64_t end;

    memset(st, 0, sizeof(*st));
    if (n == 0 || n > SHM_MAX_WORKERS + 1)
        return -ENOMEM; /* more slots than any segment has */
    /*
     * Room for the rows in use, read once (a worker may add rows meanwhile:
     * they are in the next snapshot).  A row is two histograms, 370 KiB.
     */
    for (uint32_t w = 0; w < n; w++) {
        nurls[w] = __atomic_load_n(&shm_slot(s, w)->nurls, __ATOMIC_ACQUIRE);
        if (nurls[w] > SHM_URLS)
            nurls[w] = SHM_URLS;
        rows += nurls[w] + 1;
    }
    st->urls = calloc(rows ? rows : 1, sizeof(*st->urls));
    st->msgs = calloc((size_t)n * SHM_MSGS, sizeof(*st->msgs));
    st->trends = calloc(SHM_TRENDS, sizeof(*st->trends));
    if (!st->urls || !st->msgs || !st->trends) {
        shm_stats_free(st);
        return -ENOMEM;
    }
    for (uint32_t w = 0; w < n; w++) {
        const struct shm_slot *slot = shm_slot(s, w);
        uint32_t nmsgs = __atomic_load_n(&slot->nmsgs, __ATOMIC_ACQUIRE);
        uint32_t ncnt = __atomic_load_n(&slot->ncounters, __ATOMIC_ACQUIRE);
        uint32_t nchecks = __atomic_load_n(&slot->nchecks, __ATOMIC_ACQUIRE);
        uint32_t ntrends = __atomic_load_n(&slot->ntrends, __ATOMIC_ACQUIRE);
        uint32_t ngauges = __atomic_load_n(&slot->ngauges, __ATOMIC_ACQUIRE);
        uint32_t ntests = __atomic_load_n(&slot->ntests, __ATOMIC_ACQUIRE);

        add_counters(&st->c, &slot->c);
        hist_merge(&st->latency, &slot->latency);
        hist_merge(&st->response, &slot->response);
        for (uint32_t i = 0; i < nurls[w]; i++)
            merge_url(st, &slot->urls[i]);
        if (shm_load(&slot->urls[SHM_URL_OTHER].hits) ||
            shm_load(&slot->urls[SHM_URL_OTHER].errors))
            merge_url(st, &slot->urls[SHM_URL_OTHER]);
        for (uint32_t i = 0; i < nmsgs && i < SHM_MSGS; i++)
            merge_msg(st, &slot->msgs[i]);
        for (uint32_t i = 0; i < ncnt && i < SHM_COUNTERS; i++)
            merge_counter(st, &slot->counters[i]);
        for (uint32_t i = 0; i < nchecks && i < SHM_CHECKS; i++)
            merge_check(st, &slot->checks[i]);
        for (uint32_t i = 0; i < ntrends && i < SHM_TRENDS; i++)
            merge_trend(st, &slot->trends[i]);
        for (uint32_t i = 0; i < ngauges && i < SHM_GAUGES; i++)
            merge_gauge(st, &slot->gauges[i]);
        for (uint32_t i = 0; i < ntests && i < SHM_TESTS; i++)
            merge_test(st, &slot->tests[i]);
        st->tests_other += shm_load(&slot->tests_other);
        st->msgs_other += shm_load(&slot->msgs_other);
        st->crashes += __atomic_load_n(&slot->crashes, __ATOMIC_RELAXED);
    }
    qsort(st->urls, st->nurls, sizeof(*st->urls), by_hits);
    qsort(st->msgs, st->nmsgs, sizeof(*st->msgs), by_count);
    qsort(st->tests, st->ntests, sizeof(*st->tests), by_name);
    end = __atomic_load_n(&h->ended_mono_us, __ATOMIC_RELAXED);
    if (!end)
        end = shm_mono_us();
    st->elapsed = (double)(end - h->started_mono_us) / 1e6;
    return 0;
}

void shm_stats_free(struct shm_stats *st)
{
    free(st->urls);
    free(st->msgs);
    free(st->trends);
    st->urls = NULL;
    st->msgs = NULL;
    st->trends = NULL;
}

void shm_stats_second(const struct shm *s, int64_t sec, struct shm_second *out)
{
    memset(out, 0, sizeof(*out));
    out->second = (uint64_t)sec + 1;
    for (uint32_t i = 0; i < s->hdr->nslots; i++) {
        const struct shm_second *e = &shm_slot(s, i)->series[sec % SHM_SERIES];
        struct shm_second v;

        if (__atomic_load_n(&e->second, __ATOMIC_ACQUIRE) != out->second)
            continue;
        v.hits = shm_load(&e->hits);
        v.errors = shm_load(&e->errors);
        v.runs = shm_load(&e->runs);
        v.dropped = shm_load(&e->dropped);
        v.p50_us = shm_load(&e->p50_us);
        v.p99_us = shm_load(&e->p99_us);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (shm_load(&e->second) != out->second)
            continue;
        out->hits += v.hits;
        out->errors += v.errors;
        out->runs += v.runs;
        out->dropped += v.dropped;
        out->p50_us = v.p50_us > out->p50_us ? v.p50_us : out->p50_us;
        out->p99_us = v.p99_us > out->p99_us ? v.p99_us : out->p99_us;
    }
}
