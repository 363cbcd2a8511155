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
    if (!st->urls || !st->msgs) {
        shm_stats_free(st);
        return -ENOMEM;
    }
    for (uint32_t w = 0; w < n; w++) {
        const struct shm_slot *slot = shm_slot(s, w);
        uint32_t nmsgs = __atomic_load_n(&slot->nmsgs, __ATOMIC_ACQUIRE);
        uint32_t ncnt = __atomic_load_n(&slot->ncounters, __ATOMIC_ACQUIRE);

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
        st->msgs_other += shm_load(&slot->msgs_other);
        st->events_dropped += shm_load(&slot->ring.dropped);
        st->crashes += __atomic_load_n(&slot->crashes, __ATOMIC_RELAXED);
    }
    qsort(st->urls, st->nurls, sizeof(*st->urls), by_hits);
    qsort(st->msgs, st->nmsgs, sizeof(*st->msgs), by_count);
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
    st->urls = NULL;
    st->msgs = NULL;
}
