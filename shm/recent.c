/*
 * The last seconds' latency histogram of a slot (see recent.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "shm/recent.h"

static uint64_t load(const uint64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void store(uint64_t *p, uint64_t v)
{
    __atomic_store_n(p, v, __ATOMIC_RELAXED);
}

/* Copies the non-zero buckets of h into s.  Returns 0 or -ENOMEM. */
static int sparse_set(struct hist_sparse *s, const struct hist *h)
{
    s->n = 0;
    s->count = load(&h->count);
    s->sum_us = load(&h->sum_us);
    s->min_plus1 = load(&h->min_plus1);
    s->max_us = load(&h->max_us);
    if (!s->count)
        return 0;
    for (uint32_t i = 0; i < HIST_COUNTS; i++) {
        uint64_t c = load(&h->counts[i]);

        if (!c)
            continue;
        if (s->n == s->cap) {
            uint32_t cap = s->cap ? s->cap * 2 : 64;
            uint32_t *idx = realloc(s->idx, cap * sizeof(*idx));
            uint64_t *cnt;

            if (!idx)
                return -ENOMEM;
            s->idx = idx;
            cnt = realloc(s->cnt, cap * sizeof(*cnt));
            if (!cnt)
                return -ENOMEM;
            s->cnt = cnt;
            s->cap = cap;
        }
        s->idx[s->n] = i;
        s->cnt[s->n++] = c;
    }
    return 0;
}

/* Zeroes the buckets of h that s has (h's writer only). */
static void zero_buckets(struct hist *h, const struct hist_sparse *s)
{
    for (uint32_t k = 0; k < s->n; k++)
        store(&h->counts[s->idx[k]], 0);
}

static void zero_all(struct hist *h)
{
    store(&h->count, 0);
    store(&h->sum_us, 0);
    store(&h->min_plus1, 0);
    store(&h->max_us, 0);
    for (uint32_t i = 0; i < HIST_COUNTS; i++)
        store(&h->counts[i], 0);
}

int shm_recent_push(struct shm_slot *slot, struct shm_recent *r, struct hist *second)
{
    struct hist_sparse *fresh = &r->secs[r->next];
    struct hist_sparse old = *fresh;
    struct hist *dst = &slot->recent;
    uint64_t gen = load(&slot->recent_gen);
    uint64_t count = 0, sum = 0, min_plus1 = 0, max = 0;
    int rc;

    /* The new second replaces the oldest; its buckets are needed to clear
     * what was published from it, so they are swapped out first. */
    *fresh = (struct hist_sparse){.cap = 0};
    rc = sparse_set(fresh, second);
    zero_buckets(second, fresh);
    store(&second->count, 0);
    store(&second->sum_us, 0);
    store(&second->min_plus1, 0);
    store(&second->max_us, 0);
    if (rc < 0) {
        /* Keep the old second: the slot stays as it was, and the
         * second's buckets were not all found, so clear it wholly. */
        free(fresh->idx);
        free(fresh->cnt);
        *fresh = old;
        zero_all(second);
        return rc;
    }
    __atomic_store_n(&slot->recent_gen, gen + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    if (!r->primed) {
        zero_all(dst); /* a previous worker of this slot may have left data */
        r->primed = 1;
    } else {
        zero_buckets(dst, &old);
        for (uint32_t i = 0; i < SHM_RECENT; i++)
            if (i != r->next)
                zero_buckets(dst, &r->secs[i]);
    }
    free(old.idx);
    free(old.cnt);
    for (uint32_t i = 0; i < SHM_RECENT; i++) {
        const struct hist_sparse *s = &r->secs[i];

        for (uint32_t k = 0; k < s->n; k++)
            store(&dst->counts[s->idx[k]], load(&dst->counts[s->idx[k]]) + s->cnt[k]);
        count += s->count;
        sum += s->sum_us;
        if (s->min_plus1 && (!min_plus1 || s->min_plus1 < min_plus1))
            min_plus1 = s->min_plus1;
        if (s->max_us > max)
            max = s->max_us;
    }
    store(&dst->count, count);
    store(&dst->sum_us, sum);
    store(&dst->min_plus1, min_plus1);
    store(&dst->max_us, max);
    __atomic_store_n(&slot->recent_gen, gen + 2, __ATOMIC_RELEASE);
    r->next = (r->next + 1) % SHM_RECENT;
    return 0;
}

void shm_recent_free(struct shm_recent *r)
{
    for (uint32_t i = 0; i < SHM_RECENT; i++) {
        free(r->secs[i].idx);
        free(r->secs[i].cnt);
    }
    memset(r, 0, sizeof(*r));
}

int shm_recent_read(const struct shm_slot *slot, struct hist *tmp, struct hist *dst)
{
    uint64_t gen = __atomic_load_n(&slot->recent_gen, __ATOMIC_ACQUIRE);

    if (gen & 1)
        return -EAGAIN;
    memset(tmp, 0, sizeof(*tmp));
    hist_merge(tmp, &slot->recent);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (__atomic_load_n(&slot->recent_gen, __ATOMIC_RELAXED) != gen)
        return -EAGAIN;
    hist_merge(dst, tmp);
    return 0;
}
