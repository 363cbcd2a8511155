/*
 * Latency histograms (see hist.h), laid out as HdrHistogram does with a unit
 * of 1 us and 2048 sub-buckets.  Bucket 0 has one slot per value 0..2047;
 * bucket b >= 1 covers [1024 << b, 2048 << b) with 1024 slots of width
 * 1 << b.  A value v therefore lands in
 *
 *     b = 53 - clz(v | 2047),   slot = (b << 10) + (v >> b)
 *
 * and every slot is narrower than 1/1024 of the values it holds, so its
 * midpoint is within 1/2048 (0.05%) of any of them.
 *
 * Concurrency: one process writes a histogram, others read it through shared
 * memory at any time.  Each 64-bit word is written with a relaxed atomic
 * store of its new value (a read-modify-write without a lock prefix is
 * enough for a single writer) and read with a relaxed atomic load, so words
 * never tear; readers may see the words of one record at different moments,
 * and the read side copes with that (see hist_percentile).
 */
#include <math.h>
#include <stdint.h>

#include "shm/hist.h"

/* The shift that turns clz(v | (HIST_SUB_COUNT - 1)) into a bucket number. */
#define HIST_SHIFT (64 - HIST_SUB_BITS)

_Static_assert(HIST_COUNTS == (HIST_BUCKETS + 1) * HIST_SUB_HALF, "slot count");
_Static_assert((HIST_MAX_US >> (HIST_BUCKETS - 1)) < HIST_SUB_COUNT,
               "HIST_MAX_US must fall in the last bucket");

/* Reads one word that the writer may be updating concurrently. */
static inline uint64_t hist_load(const uint64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* Publishes one word so that concurrent readers never see it torn. */
static inline void hist_store(uint64_t *p, uint64_t v)
{
    __atomic_store_n(p, v, __ATOMIC_RELAXED);
}

/*
 * Adds v to a word.  Only the single writer calls this, so a plain load and
 * store are enough: no lock prefix, just no tearing for the readers.
 */
static inline void hist_add(uint64_t *p, uint64_t v)
{
    hist_store(p, hist_load(p) + v);
}

/*
 * Returns the midpoint of slot i, the value reported for anything recorded
 * there: HdrHistogram's "median equivalent value", exact in bucket 0.
 */
static uint64_t hist_slot_mid(unsigned int i)
{
    unsigned int b = i < HIST_SUB_COUNT ? 0 : (i >> (HIST_SUB_BITS - 1)) - 1;
    uint64_t lo = (uint64_t)(i - (b << (HIST_SUB_BITS - 1))) << b;

    return lo + ((1ull << b) >> 1);
}

/*
 * Returns the 1-based rank of percentile p (0 < p < 100) among count values:
 * ceil(p / 100 * count), at least 1 and at most count.  Like HdrHistogram, p
 * is first lowered by one ulp so that a p which is the rounded value of an
 * exact fraction (99.9, or 100.0 * r / count) does not round up into the
 * next rank: without it 99.9 of 1e6 values would be rank 999001.
 */
static uint64_t hist_rank(double p, uint64_t count)
{
    double x = ceil(nextafter(p, 0.0) * (double)count / 100.0);

    if (x <= 1.0)
        return 1;
    if (x >= (double)count)
        return count;
    return (uint64_t)x;
}

/*
 * Records one value.  This runs once per request, so it is branch-free and
 * loop-free: clamp, one clz for the slot, then five word updates, all in the
 * first cache line but the slot.  count is written last so that a reader
 * which sees it has, on x86 at least, also seen the slot.
 */
void hist_record(struct hist *h, uint64_t us)
{
    uint64_t v = us < HIST_MAX_US ? us : HIST_MAX_US;
    unsigned int b = HIST_SHIFT - __builtin_clzll(v | (HIST_SUB_COUNT - 1));
    uint64_t min1 = hist_load(&h->min_plus1);
    uint64_t max = hist_load(&h->max_us);

    hist_add(&h->counts[(b << (HIST_SUB_BITS - 1)) + (v >> b)], 1);
    hist_add(&h->sum_us, v);
    /* min_plus1 - 1 wraps an empty 0 to UINT64_MAX, above any value. */
    hist_store(&h->min_plus1, min1 - 1 < v ? min1 : v + 1);
    hist_store(&h->max_us, max > v ? max : v);
    hist_add(&h->count, 1);
}

/*
 * Adds src into dst.  src may be written concurrently by its owner, so it is
 * read word by word with atomic loads; dst is private, so plain stores do.
 * The min uses the same wrap as hist_record: an empty side never wins.
 */
void hist_merge(struct hist *dst, const struct hist *src)
{
    uint64_t smin1 = hist_load(&src->min_plus1);
    uint64_t smax = hist_load(&src->max_us);

    dst->count += hist_load(&src->count);
    dst->sum_us += hist_load(&src->sum_us);
    if (smin1 - 1 < dst->min_plus1 - 1)
        dst->min_plus1 = smin1;
    if (smax > dst->max_us)
        dst->max_us = smax;
    for (unsigned int i = 0; i < HIST_COUNTS; i++)
        dst->counts[i] += hist_load(&src->counts[i]);
}

/*
 * Empties h.  Every word is cleared with an atomic store, count first, so a
 * concurrent reader sees an empty histogram as early as possible and never a
 * torn word.
 */
void hist_reset(struct hist *h)
{
    hist_store(&h->count, 0);
    hist_store(&h->sum_us, 0);
    hist_store(&h->min_plus1, 0);
    hist_store(&h->max_us, 0);
    for (unsigned int i = 0; i < HIST_COUNTS; i++)
        hist_store(&h->counts[i], 0);
}

/*
 * Returns the value at percentile p: the smallest recorded value v such that
 * at least rank = ceil(p / 100 * count) values are <= v (rank >= 1), reported
 * as the midpoint of v's slot and clamped to [min, max].  Rank 1 is min and
 * rank count is max, both exact; p <= 0 (or NaN) gives min, p >= 100 max.
 *
 * count is read once and the slots are then summed until they reach rank.
 * With a concurrent writer the slots may lag count; should the walk run off
 * the end it answers max rather than anything out of range.
 */
uint64_t hist_percentile(const struct hist *h, double p)
{
    uint64_t count = hist_load(&h->count);
    uint64_t min = hist_min(h), max = hist_max(h);
    uint64_t rank, seen = 0;

    if (count == 0)
        return 0;
    if (!(p > 0.0))
        return min;
    if (p >= 100.0)
        return max;
    rank = hist_rank(p, count);
    if (rank == 1)
        return min;
    if (rank == count)
        return max;
    for (unsigned int i = 0; i < HIST_COUNTS; i++) {
        seen += hist_load(&h->counts[i]);
        if (seen >= rank) {
            uint64_t v = hist_slot_mid(i);

            if (v < min)
                return min;
            return v > max ? max : v;
        }
    }
    return max;
}

/* Returns the smallest value recorded, 0 when the histogram is empty. */
uint64_t hist_min(const struct hist *h)
{
    uint64_t min1 = hist_load(&h->min_plus1);

    return min1 ? min1 - 1 : 0;
}

/* Returns the largest value recorded (clamped to HIST_MAX_US), 0 when empty. */
uint64_t hist_max(const struct hist *h)
{
    return hist_load(&h->max_us);
}

/* Returns the mean of the recorded values, 0 when the histogram is empty. */
double hist_mean(const struct hist *h)
{
    uint64_t count = hist_load(&h->count);

    return count ? (double)hist_load(&h->sum_us) / (double)count : 0.0;
}
