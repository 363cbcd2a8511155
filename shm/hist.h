/*
 * Latency histograms in the HdrHistogram manner: log-linear buckets with
 * three significant digits over 1 us .. 1 hour, in fixed memory, plain data
 * (they live in the shared-memory segment), mergeable by adding counts.
 *
 * One process writes a histogram (hist_record, single writer, atomic stores);
 * any process may read it at any time (hist_merge, hist_percentile...).
 * Memory that is all zero bytes is a valid empty histogram.
 */
#ifndef LOADS_SHM_HIST_H
#define LOADS_SHM_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS     11                     /* 2048 sub-buckets: 3 digits */
#define HIST_SUB_COUNT    (1u << HIST_SUB_BITS)
#define HIST_SUB_HALF     (HIST_SUB_COUNT / 2)
#define HIST_BUCKETS      22                     /* 2048 << 21 > 3.6e9 us */
#define HIST_COUNTS       ((HIST_BUCKETS + 1) * HIST_SUB_HALF)
#define HIST_MAX_US       3600000000ull          /* values above are clamped */

struct hist {
    uint64_t count;                /* values recorded */
    uint64_t sum_us;               /* their sum, for the mean */
    uint64_t min_plus1;            /* smallest value + 1; 0 when empty */
    uint64_t max_us;               /* largest value */
    uint64_t counts[HIST_COUNTS];  /* per-bucket counts, log-linear index */
};

/* Records one value in microseconds.  Single writer. */
void hist_record(struct hist *h, uint64_t us);

/* Adds every count of src into dst (dst is private to the caller). */
void hist_merge(struct hist *dst, const struct hist *src);

/* Resets h to empty (the writer only, or a private copy). */
void hist_reset(struct hist *h);

/*
 * The value at percentile p (0..100) in microseconds, within 0.1% of the
 * exact value of the recorded data, clamped to [min, max]; 0 when empty.
 */
uint64_t hist_percentile(const struct hist *h, double p);

uint64_t hist_min(const struct hist *h);
uint64_t hist_max(const struct hist *h);
double hist_mean(const struct hist *h);

#endif
