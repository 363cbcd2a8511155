/*
 * The last seconds' latency histogram of a slot (see recent.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "shm/recent.h"

int shm_sparse_push(struct hist_sparse *s, uint32_t i, uint64_t n)
{
    if (s->n == s->cap) {
        uint32_t cap = s->cap ? s->cap * 2 : 32;
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
    s->cnt[s->n++] = n;
    return 0;
}

/* Copies the non-zero buckets of h into s.  Returns 0 or -ENOMEM. */
static int sparse_set(struct hist_sparse *s, const struct hist *h)
{
    s->n = 0;
    s->count = shm_load(&h->count);
    s->sum_us = shm_load(&h->sum_us);
    s->min_plus1 = shm_load(&h->min_plus1);
    s->max_us = shm_load(&h->max_us);
    if (!s->count)
        return 0;
    for (uint32_t i = 0; i < HIST_COUNTS; i++) {
        uint64_t c = shm_load(&h->counts[i]);

        if (c && shm_sparse_push(s, i, c) < 0)
            return -ENOMEM;
    }
    return 0;
}

/* Zeroes the buckets of h that s has (h's writer only). */
static void zero_buckets(struct hist *h, const struct hist_sparse *s)
{
    for (uint32_t k = 0; k < s->n; k++)
        shm_store(&h->counts[s->idx[k]], 0);
}

int shm_recent_push(struct shm_slot *slot, struct shm_recent *r, struct hist *second)
{
    struct hist *dst = &slot->recent;
    struct hist_sparse *fresh = &r->secs[r->next];
    uint64_t gen = shm_load(&slot->recent_gen);
    uint64_t count = 0, sum = 0, min_plus1 = 0, max = 0;
    int rc;

    __atomic_store_n(&slot->recent_gen, gen + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    /* Clears what was published: the buckets of the seconds held, or the
     * first time everything (a previous worker of the slot may have left
     * data). */
    if (!r->primed) {
        hist_reset(dst);
        r->primed = 1;
    } else {
        for (uint32_t i = 0; i < SHM_RECENT; i++)
            zero_buckets(dst, &r->secs[i]);
    }
    /* The new second replaces the oldest, in its arrays; then second is
     * reset by the buckets it used (a few hundred of 23,552). */
    rc = sparse_set(fresh, second);
    if (rc < 0) {
        *fresh = (struct hist_sparse){.cap = fresh->cap, .idx = fresh->idx, .cnt = fresh->cnt};
        hist_reset(second);
    } else {
        zero_buckets(second, fresh);
        shm_store(&second->count, 0);
        shm_store(&second->sum_us, 0);
        shm_store(&second->min_plus1, 0);
        shm_store(&second->max_us, 0);
    }
    r->next = (r->next + 1) % SHM_RECENT;
    for (uint32_t i = 0; i < SHM_RECENT; i++) {
        const struct hist_sparse *s = &r->secs[i];

        for (uint32_t k = 0; k < s->n; k++)
            shm_add(&dst->counts[s->idx[k]], s->cnt[k]);
        count += s->count;
        sum += s->sum_us;
        if (s->min_plus1 && (!min_plus1 || s->min_plus1 < min_plus1))
            min_plus1 = s->min_plus1;
        if (s->max_us > max)
            max = s->max_us;
    }
    shm_store(&dst->count, count);
    shm_store(&dst->sum_us, sum);
    shm_store(&dst->min_plus1, min_plus1);
    shm_store(&dst->max_us, max);
    __atomic_store_n(&slot->recent_gen, gen + 2, __ATOMIC_RELEASE);
    return rc;
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
