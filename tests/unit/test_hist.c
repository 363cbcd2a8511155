/*
 * Unit tests for shm/hist.c: exact small values, slot precision, percentiles
 * of a million values against a sorted reference, merge, clamping, the empty
 * histogram, min/max/mean, and a reader in another process.
 */
#include <math.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shm/hist.h"
#include "tests/unit/unit.h"

#define HIST_TEST_N 1000000

/*
 * The percentiles checked against the reference and their 1-based ranks
 * among HIST_TEST_N values, worked out by hand from ceil(p / 100 * n).
 */
static const struct {
    double p;
    uint64_t rank;
} hist_test_ps[] = {
    {0, 1},       {1, 10000},     {10, 100000},    {50, 500000},       {90, 900000},
    {99, 990000}, {99.9, 999000}, {99.99, 999900}, {100, HIST_TEST_N},
};

/* Returns the next number of a splitmix64 sequence: fixed seed, no rand(). */
static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Returns a uniform double in (0, 1], never 0 so that logs and powers work. */
static double rng_unit(uint64_t *s)
{
    return (double)((rng_next(s) >> 11) + 1) * 0x1p-53;
}

/* Converts a sample to microseconds, clamped as hist_record clamps it. */
static uint64_t to_us(double x)
{
    return x >= (double)HIST_MAX_US ? HIST_MAX_US : (uint64_t)x;
}

/* Returns a zeroed histogram: all-zero memory must be a valid empty one. */
static struct hist *hist_new(void)
{
    struct hist *h = calloc(1, sizeof(*h));

    CHECK(h != NULL);
    return h;
}

/* Returns a zeroed array of n values for a reference copy. */
static uint64_t *values_new(size_t n)
{
    uint64_t *v = calloc(n, sizeof(*v));

    CHECK(v != NULL);
    return v;
}

/* Orders uint64_t values for qsort. */
static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* Tells whether got is within 0.1% of want (exactly equal when want is 0). */
static int within_0_1pct(uint64_t got, uint64_t want)
{
    uint64_t d = got > want ? got - want : want - got;

    return d * 1000 <= want;
}

/*
 * Records the HIST_TEST_N values of v, sorts v as the reference, and checks
 * every percentile of hist_test_ps, plus min, max and mean.
 */
static void check_against_sorted(uint64_t *v, const char *what)
{
    struct hist *h = hist_new();
    uint64_t sum = 0;

    for (size_t i = 0; i < HIST_TEST_N; i++) {
        hist_record(h, v[i]);
        sum += v[i];
    }
    qsort(v, HIST_TEST_N, sizeof(*v), cmp_u64);
    CHECK_INT_EQ(h->count, HIST_TEST_N);
    CHECK_INT_EQ(h->sum_us, sum);
    CHECK_INT_EQ(hist_min(h), v[0]);
    CHECK_INT_EQ(hist_max(h), v[HIST_TEST_N - 1]);
    CHECK(hist_mean(h) == (double)sum / HIST_TEST_N);
    for (size_t i = 0; i < sizeof(hist_test_ps) / sizeof(hist_test_ps[0]); i++) {
        double p = hist_test_ps[i].p;
        uint64_t want = v[hist_test_ps[i].rank - 1];
        uint64_t got = hist_percentile(h, p);

        if (!within_0_1pct(got, want))
            unit_fail(__FILE__, __LINE__, "%s p%g: got %llu, sorted reference %llu", what,
                      p, (unsigned long long)got, (unsigned long long)want);
    }
    free(h);
}

/*
 * Values 0..2047 each get a slot of their own: every rank gives back exactly
 * its value, and each slot holds a count of one.
 */
UNIT_TEST(hist_exact_small)
{
    struct hist *h = hist_new();

    for (uint64_t v = 0; v < HIST_SUB_COUNT; v++)
        hist_record(h, v);
    for (unsigned int i = 0; i < HIST_SUB_COUNT; i++)
        CHECK_INT_EQ(h->counts[i], 1);
    for (uint64_t r = 1; r <= HIST_SUB_COUNT; r++)
        CHECK_INT_EQ(hist_percentile(h, 100.0 * (double)r / HIST_SUB_COUNT), r - 1);
    CHECK_INT_EQ(hist_min(h), 0);
    CHECK_INT_EQ(hist_max(h), HIST_SUB_COUNT - 1);
    CHECK(hist_mean(h) == (HIST_SUB_COUNT - 1) / 2.0);

    /* A lone small value, and the same value many times, stay exact. */
    for (uint64_t v = 1; v < HIST_SUB_COUNT; v++) {
        hist_reset(h);
        hist_record(h, 0);
        hist_record(h, v);
        hist_record(h, v);
        hist_record(h, HIST_MAX_US);
        CHECK_INT_EQ(hist_percentile(h, 50), v);
    }
    free(h);
}

/*
 * Any value, reported alone between 0 and HIST_MAX_US (so that clamping to
 * [min, max] cannot help), comes back within half a slot: 1/2048 of itself.
 * Bucket edges are checked as well as log-uniform random values.
 */
UNIT_TEST(hist_slot_precision)
{
    struct hist *h = hist_new();
    uint64_t seed = 42;

    for (int i = 0; i < 3000; i++) {
        uint64_t v, got, d;

        if (i < 3 * 64) {
            uint64_t edge = 1ull << (i / 3);

            v = edge + (uint64_t)(i % 3) - 1;
        } else {
            v = to_us(exp(rng_unit(&seed) * log((double)HIST_MAX_US)));
        }
        if (v == 0 || v >= HIST_MAX_US)
            continue;
        hist_reset(h);
        hist_record(h, 0);
        hist_record(h, v);
        hist_record(h, HIST_MAX_US);
        got = hist_percentile(h, 50);
        d = got > v ? got - v : v - got;
        if (d * 2048 > v)
            unit_fail(__FILE__, __LINE__, "value %llu reported as %llu",
                      (unsigned long long)v, (unsigned long long)got);
    }
    free(h);
}

/*
 * The rank rule: the smallest value v with at least ceil(p / 100 * count)
 * values <= v, and rank 1 at least.
 */
UNIT_TEST(hist_percentile_rank)
{
    struct hist *h = hist_new();

    for (uint64_t v = 1; v <= 10; v++)
        hist_record(h, v * 1000);
    CHECK_INT_EQ(hist_percentile(h, 0), 1000);
    CHECK_INT_EQ(hist_percentile(h, 9), 1000);
    CHECK_INT_EQ(hist_percentile(h, 10), 1000);
    CHECK(within_0_1pct(hist_percentile(h, 10.5), 2000));
    CHECK(within_0_1pct(hist_percentile(h, 50), 5000));
    CHECK(within_0_1pct(hist_percentile(h, 51), 6000));
    CHECK(within_0_1pct(hist_percentile(h, 90), 9000));
    CHECK_INT_EQ(hist_percentile(h, 90.01), 10000);
    CHECK_INT_EQ(hist_percentile(h, 99.9), 10000);
    CHECK_INT_EQ(hist_percentile(h, 100), 10000);
    CHECK_INT_EQ(hist_percentile(h, -1), 1000);
    CHECK_INT_EQ(hist_percentile(h, 1000), 10000);
    CHECK_INT_EQ(hist_percentile(h, NAN), 1000);

    /*
     * With 1000 values, 16.1 * 1000 / 100 computes as 161.00000000000003 in
     * doubles: the rank must still be 161, not 162, and likewise 649.
     */
    hist_reset(h);
    for (uint64_t v = 1; v <= 1000; v++)
        hist_record(h, v);
    CHECK_INT_EQ(hist_percentile(h, 16.1), 161);
    CHECK_INT_EQ(hist_percentile(h, 64.9), 649);
    CHECK_INT_EQ(hist_percentile(h, 16.1001), 162);
    free(h);
}

/* A million values uniform over [0, 1e8) us agree with a sorted copy. */
UNIT_TEST(hist_percentile_uniform)
{
    uint64_t *v = values_new(HIST_TEST_N);
    uint64_t seed = 1;

    for (size_t i = 0; i < HIST_TEST_N; i++)
        v[i] = rng_next(&seed) % 100000000;
    check_against_sorted(v, "uniform");
    free(v);
}

/*
 * A million Pareto values (x_m = 1 us, alpha = 2/3) run from 1 us to about
 * 1e9 us: the median is ~3 us and p99.99 ~1e6 us, so the check crosses most
 * buckets, linear and logarithmic.
 */
UNIT_TEST(hist_percentile_pareto)
{
    uint64_t *v = values_new(HIST_TEST_N);
    uint64_t seed = 2;

    for (size_t i = 0; i < HIST_TEST_N; i++)
        v[i] = to_us(pow(rng_unit(&seed), -1.5));
    check_against_sorted(v, "pareto");
    free(v);
}

/*
 * A million lognormal values (median 10 ms, sigma 2) spread over about
 * 1 us .. 1e9 us, sampled with Box-Muller.
 */
UNIT_TEST(hist_percentile_lognormal)
{
    uint64_t *v = values_new(HIST_TEST_N);
    uint64_t seed = 3;

    for (size_t i = 0; i < HIST_TEST_N; i++) {
        double z = sqrt(-2.0 * log(rng_unit(&seed))) * cos(2.0 * M_PI * rng_unit(&seed));

        v[i] = to_us(exp(log(1e4) + 2.0 * z));
    }
    check_against_sorted(v, "lognormal");
    free(v);
}

/*
 * Merging two histograms gives, word for word, the histogram fed all their
 * values; merging an empty one changes nothing, and merging into an empty
 * one copies.
 */
UNIT_TEST(hist_merge)
{
    struct hist *a = hist_new(), *b = hist_new(), *all = hist_new();
    struct hist *dst = hist_new(), *empty = hist_new();
    uint64_t seed = 4;

    for (int i = 0; i < 200000; i++) {
        uint64_t v = to_us(pow(rng_unit(&seed), -1.5));

        hist_record(i % 3 ? a : b, v);
        hist_record(all, v);
    }
    hist_record(b, 0);
    hist_record(all, 0);
    hist_record(a, HIST_MAX_US + 7);
    hist_record(all, HIST_MAX_US + 7);

    hist_merge(dst, a);
    CHECK(memcmp(dst, a, sizeof(*dst)) == 0);
    hist_merge(dst, empty);
    CHECK(memcmp(dst, a, sizeof(*dst)) == 0);
    hist_merge(dst, b);
    CHECK(memcmp(dst, all, sizeof(*dst)) == 0);
    CHECK_INT_EQ(hist_min(dst), 0);
    CHECK_INT_EQ(hist_max(dst), HIST_MAX_US);
    CHECK_INT_EQ(hist_percentile(dst, 99.9), hist_percentile(all, 99.9));
    free(a);
    free(b);
    free(all);
    free(dst);
    free(empty);
}

/* Values above HIST_MAX_US are recorded as HIST_MAX_US, in the sum too. */
UNIT_TEST(hist_clamp)
{
    struct hist *h = hist_new();

    hist_record(h, 1);
    hist_record(h, HIST_MAX_US);
    hist_record(h, HIST_MAX_US + 1);
    hist_record(h, 1000000000000ull);
    hist_record(h, UINT64_MAX);
    CHECK_INT_EQ(h->count, 5);
    CHECK_INT_EQ(h->sum_us, 1 + 4 * HIST_MAX_US);
    CHECK_INT_EQ(hist_min(h), 1);
    CHECK_INT_EQ(hist_max(h), HIST_MAX_US);
    CHECK_INT_EQ(hist_percentile(h, 20), 1);
    CHECK(within_0_1pct(hist_percentile(h, 50), HIST_MAX_US));
    CHECK_INT_EQ(hist_percentile(h, 100), HIST_MAX_US);
    CHECK(hist_mean(h) == (1 + 4.0 * HIST_MAX_US) / 5);
    free(h);
}

/*
 * All-zero memory is an empty histogram: every query answers 0, whatever p.
 * hist_reset brings a used one back to all zero bytes.
 */
UNIT_TEST(hist_empty)
{
    struct hist *h = hist_new(), *zero = hist_new();
    const double ps[] = {-1, 0, 50, 99.99, 100, 1000, NAN};

    for (int round = 0; round < 2; round++) {
        CHECK(memcmp(h, zero, sizeof(*h)) == 0);
        CHECK_INT_EQ(hist_min(h), 0);
        CHECK_INT_EQ(hist_max(h), 0);
        CHECK(hist_mean(h) == 0.0);
        for (size_t i = 0; i < sizeof(ps) / sizeof(ps[0]); i++)
            CHECK_INT_EQ(hist_percentile(h, ps[i]), 0);
        for (uint64_t v = 0; v < 100000; v += 7)
            hist_record(h, v * v);
        hist_reset(h);
    }
    free(h);
    free(zero);
}

/*
 * min, max and mean are exact, not slot values: a value of 0 is a real
 * minimum (not "empty"), and a repeated large value comes back exactly.
 */
UNIT_TEST(hist_min_max_mean)
{
    struct hist *h = hist_new();

    hist_record(h, 7);
    hist_record(h, 3);
    hist_record(h, 1000003);
    hist_record(h, 250);
    CHECK_INT_EQ(hist_min(h), 3);
    CHECK_INT_EQ(hist_max(h), 1000003);
    CHECK(hist_mean(h) == 250065.75);

    hist_reset(h);
    hist_record(h, 0);
    CHECK_INT_EQ(h->count, 1);
    CHECK_INT_EQ(hist_min(h), 0);
    CHECK_INT_EQ(hist_max(h), 0);
    CHECK(hist_mean(h) == 0.0);
    CHECK_INT_EQ(hist_percentile(h, 50), 0);

    hist_reset(h);
    for (int i = 0; i < 5; i++)
        hist_record(h, 1000001);
    CHECK_INT_EQ(hist_min(h), 1000001);
    CHECK_INT_EQ(hist_max(h), 1000001);
    CHECK(hist_mean(h) == 1000001.0);
    CHECK_INT_EQ(hist_percentile(h, 50), 1000001);
    free(h);
}

/*
 * A child process records into shared memory while this one reads: count
 * and max never go backwards, percentiles stay within [min, max], and once
 * the child is done every total is exact.
 */
UNIT_TEST(hist_shared_reader)
{
    const uint64_t n = 2000000;
    struct hist *h =
        mmap(NULL, sizeof(*h), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    uint64_t last_count = 0, last_max = 0, sum = 0;
    int status, reads = 0;
    pid_t pid;

    CHECK(h != MAP_FAILED);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        for (uint64_t i = 0; i < n; i++)
            hist_record(h, i % 5000 + 1);
        _exit(0);
    }
    while (waitpid(pid, &status, WNOHANG) == 0) {
        uint64_t count = __atomic_load_n(&h->count, __ATOMIC_RELAXED);
        uint64_t max = hist_max(h), p99 = hist_percentile(h, 99);

        CHECK(count >= last_count);
        CHECK(max >= last_max);
        CHECK(p99 <= 5000);
        last_count = count;
        last_max = max;
        reads++;
    }
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    for (uint64_t i = 0; i < n; i++)
        sum += i % 5000 + 1;
    CHECK_INT_EQ(h->count, n);
    CHECK_INT_EQ(h->sum_us, sum);
    CHECK_INT_EQ(hist_min(h), 1);
    CHECK_INT_EQ(hist_max(h), 5000);
    CHECK(within_0_1pct(hist_percentile(h, 50), 2500));
    CHECK(reads > 0);
    munmap(h, sizeof(*h));
}
