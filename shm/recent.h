/*
 * The latency histogram of a worker's last SHM_RECENT complete seconds, in
 * its slot, for the dashboard's "last seconds" percentiles: exact where
 * merging per-second percentiles could only approximate.
 *
 * The worker keeps each second as its non-zero buckets only (a second
 * holds a few hundred at most), and rewrites the slot's histogram once a
 * second from the last SHM_RECENT of them, under a generation count that
 * is odd while it writes; a reader that sees the count move retries later.
 */
#ifndef LOADS_SHM_RECENT_H
#define LOADS_SHM_RECENT_H

#include "shm/shm.h"

/* One second's histogram, its non-zero buckets only. */
struct hist_sparse {
    uint64_t count, sum_us, min_plus1, max_us;
    uint32_t n, cap;      /* buckets used, allocated */
    uint32_t *idx;        /* bucket indexes */
    uint64_t *cnt;        /* their counts */
};

/* Appends bucket i with count n to s, growing it.  Returns 0 or -ENOMEM. */
int shm_sparse_push(struct hist_sparse *s, uint32_t i, uint64_t n);

/* The writer's private state: the last SHM_RECENT seconds. */
struct shm_recent {
    struct hist_sparse secs[SHM_RECENT];
    uint32_t next;        /* the entry the next second replaces */
    int primed;           /* the slot's histogram was cleared once */
};

/*
 * Takes second (the histogram of the second that just ended) into r and
 * rewrites slot->recent from the last SHM_RECENT seconds; then resets
 * second, touching only its non-zero buckets.  Returns 0, or -ENOMEM (the
 * new second is left out of the window; second is reset all the same).
 */
int shm_recent_push(struct shm_slot *slot, struct shm_recent *r, struct hist *second);

void shm_recent_free(struct shm_recent *r);

/*
 * Adds slot's recent histogram into dst, through tmp (both private).
 * Returns 0, or -EAGAIN when the worker was rewriting it (dst unchanged).
 */
int shm_recent_read(const struct shm_slot *slot, struct hist *tmp, struct hist *dst);

#endif
