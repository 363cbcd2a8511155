/* The open model's schedule: exact counts, run times, stripes. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "tests/unit/unit.h"
#include "worker/arrival.h"

#define S(us) ((uint64_t)(us)*1000000)

static void make(struct arrival *a, const char *what, uint32_t n, const uint64_t *from,
                 const uint64_t *to, uint64_t stage_us)
{
    struct arrival_stage st[ARRIVAL_MAX_STAGES];

    for (uint32_t k = 0; k < n; k++) {
        st[k].from_mrps = from[k];
        st[k].to_mrps = to[k];
    }
    if (arrival_init(a, st, n, stage_us) != 0)
        unit_fail(__FILE__, __LINE__, "arrival_init refused %s", what);
}

UNIT_TEST(arrival_constant)
{
    static struct arrival a;
    uint64_t r = 500000; /* 500/s */

    make(&a, "500/s", 1, &r, &r, S(6));
    CHECK_INT_EQ(arrival_total(&a), 3000);
    CHECK_INT_EQ(arrival_length_us(&a), S(6));
    CHECK_INT_EQ(arrival_time_us(&a, 0), 0);
    CHECK_INT_EQ(arrival_time_us(&a, 1), 2000);
    CHECK_INT_EQ(arrival_time_us(&a, 2999), 5998000);
    CHECK_INT_EQ(arrival_time_us(&a, 3000), -1);
    CHECK_INT_EQ(arrival_rate_at(&a, S(3)), 500000);
    CHECK_INT_EQ(arrival_rate_at(&a, S(6)), 0);
}

/* Every rate from 1 to 20,000/s over 10 s: exactly rate x 10 runs, each in time. */
UNIT_TEST(arrival_counts_exact)
{
    static struct arrival a;

    for (uint64_t rps = 1; rps <= 20000; rps += rps < 100 ? 1 : 997) {
        uint64_t r = rps * 1000;
        int64_t prev = -1;

        make(&a, "a rate", 1, &r, &r, S(10));
        CHECK_INT_EQ(arrival_total(&a), rps * 10);
        for (uint64_t n = 0; n < arrival_total(&a); n += 1 + n / 7) {
            int64_t t = arrival_time_us(&a, n);

            /* n / rate seconds, rounded up to the microsecond. */
            CHECK_INT_EQ(t, (int64_t)((n * 1000000 + rps - 1) / rps));
            CHECK(t > prev);
            prev = t;
        }
    }
}

/* Rates that are not whole: 0.5/s for 3 s is 1.5 runs: 2 (at 0 and 2 s); 33.333/s. */
UNIT_TEST(arrival_fractions)
{
    static struct arrival a;
    uint64_t half = 500, third = 33333;

    make(&a, "0.5/s", 1, &half, &half, S(3));
    CHECK_INT_EQ(arrival_total(&a), 2);
    CHECK_INT_EQ(arrival_time_us(&a, 1), S(2));
    make(&a, "33.333/s", 1, &third, &third, S(3));
    CHECK_INT_EQ(arrival_total(&a), 100); /* 99.999 */
    CHECK_INT_EQ(arrival_time_us(&a, 99),
                 2970030); /* 99 / 33.333 s = 2.9700297 s, rounded up */
}

/* Stages one after another: 10/s, 50/s, 100/s for 2 s each. */
UNIT_TEST(arrival_stages)
{
    static struct arrival a;
    uint64_t r[] = {10000, 50000, 100000};

    make(&a, "10:50:100", 3, r, r, S(2));
    CHECK_INT_EQ(arrival_total(&a), 320);
    CHECK_INT_EQ(arrival_time_us(&a, 19), 1900000);
    CHECK_INT_EQ(arrival_time_us(&a, 20), S(2)); /* the second stage's first */
    CHECK_INT_EQ(arrival_time_us(&a, 21), S(2) + 20000);
    CHECK_INT_EQ(arrival_time_us(&a, 120), S(4));
    CHECK_INT_EQ(arrival_time_us(&a, 319), S(6) - 10000);
    CHECK_INT_EQ(arrival_rate_at(&a, S(3)), 50000);
}

/* A pause (a stage of 0) makes no runs; the next stage starts on time. */
UNIT_TEST(arrival_pause)
{
    static struct arrival a;
    uint64_t r[] = {10000, 0, 10000};

    make(&a, "10:0:10", 3, r, r, S(1));
    CHECK_INT_EQ(arrival_total(&a), 20);
    CHECK_INT_EQ(arrival_time_us(&a, 9), 900000);
    CHECK_INT_EQ(arrival_time_us(&a, 10), S(2));
}

/*
 * A ramp 0-100 over 10 s: 500 runs, run n at sqrt(n / 5) s (the integral
 * of 10 t is 5 t^2); 100-0: the mirror image.
 */
UNIT_TEST(arrival_ramps)
{
    static struct arrival a;
    uint64_t lo = 0, hi = 100000;

    make(&a, "0-100", 1, &lo, &hi, S(10));
    CHECK_INT_EQ(arrival_total(&a), 500);
    for (uint64_t n = 0; n < 500; n++) {
        double exact = sqrt((double)n / 5) * 1e6;
        int64_t t = arrival_time_us(&a, n);

        if (t < exact - 1e-3 || t > exact + 1.001)
            unit_fail(__FILE__, __LINE__, "run %llu at %lld us, expected %.3f",
                      (unsigned long long)n, (long long)t, exact);
    }
    CHECK_INT_EQ(arrival_rate_at(&a, S(5)), 50000);
    make(&a, "100-0", 1, &hi, &lo, S(10));
    CHECK_INT_EQ(arrival_total(&a), 500);
    for (uint64_t n = 1; n < 500; n++) {
        /* run n when 100 t - 5 t^2 = n */
        double exact = (10 - sqrt(100 - (double)n / 5)) * 1e6;
        int64_t t = arrival_time_us(&a, n);

        if (t < exact - 1e-3 || t > exact + 1.001)
            unit_fail(__FILE__, __LINE__, "run %llu at %lld us, expected %.3f",
                      (unsigned long long)n, (long long)t, exact);
    }
    CHECK_INT_EQ(arrival_rate_at(&a, S(5)), 50000);
}

/* Stripes: disjoint, complete, and a stripe of a stripe is a stripe. */
UNIT_TEST(arrival_stripes)
{
    static struct arrival a;
    uint64_t r[] = {333333, 1000, 0}, to[] = {333333, 20000, 7000}; /* 333.333/s, ramps */

    make(&a, "stages", 3, r, to, S(3));
    for (uint64_t stride = 1; stride <= 7; stride++) {
        uint64_t sum = 0, seen = 0;

        for (uint64_t off = 0; off < stride; off++) {
            uint64_t c = arrival_stripe_count(arrival_total(&a), off, stride), k = 0;

            for (uint64_t n = arrival_stripe_next(0, off, stride); n < arrival_total(&a);
                 n += stride) {
                CHECK_INT_EQ(n % stride, off);
                k++;
            }
            CHECK_INT_EQ(k, c);
            sum += c;
        }
        CHECK_INT_EQ(sum, arrival_total(&a));
        /* Agents of 2 workers each: agent a, worker w takes a + stride x w (mod 2
         * stride). */
        for (uint64_t ag = 0; ag < stride; ag++)
            for (uint64_t w = 0; w < 2; w++)
                seen +=
                    arrival_stripe_count(arrival_total(&a), ag + stride * w, 2 * stride);
        CHECK_INT_EQ(seen, arrival_total(&a));
    }
    CHECK_INT_EQ(arrival_stripe_next(10, 3, 4), 11);
    CHECK_INT_EQ(arrival_stripe_next(11, 3, 4), 11);
    CHECK_INT_EQ(arrival_stripe_next(12, 3, 4), 15);
    CHECK_INT_EQ(arrival_stripe_next(0, 3, 4), 3);
    CHECK_INT_EQ(arrival_stripe_count(10, 3, 4), 2); /* 3, 7 */
    CHECK_INT_EQ(arrival_stripe_count(3, 3, 4), 0);
}

UNIT_TEST(arrival_bad)
{
    static struct arrival a;
    struct arrival_stage st = {1000, 1000}, big = {ARRIVAL_MAX_MRPS + 1, 0};

    CHECK_INT_EQ(arrival_init(&a, &st, 0, S(1)), -EINVAL);
    CHECK_INT_EQ(arrival_init(&a, &st, 1, 0), -EINVAL);
    CHECK_INT_EQ(arrival_init(&a, &big, 1, S(1)), -EINVAL);
    CHECK_INT_EQ(arrival_init(&a, &st, ARRIVAL_MAX_STAGES + 1, S(1)), -EINVAL);
}

/* The largest schedule: 10 million runs/s for 32 stages of 366 days, no overflow. */
UNIT_TEST(arrival_largest)
{
    static struct arrival a;
    struct arrival_stage st[ARRIVAL_MAX_STAGES];
    uint64_t day366 = S(366 * 86400);

    for (uint32_t k = 0; k < ARRIVAL_MAX_STAGES; k++)
        st[k].from_mrps = st[k].to_mrps = ARRIVAL_MAX_MRPS;
    st[1].from_mrps = 0; /* a ramp too */
    CHECK_INT_EQ(arrival_init(&a, st, ARRIVAL_MAX_STAGES, day366), 0);
    CHECK(arrival_total(&a) ==
          UINT64_C(10000000) * 366 * 86400 * 32 - UINT64_C(10000000) * 366 * 86400 / 2);
    /* 0.1 us before the end, rounded up */
    CHECK_INT_EQ(arrival_time_us(&a, arrival_total(&a) - 1), (int64_t)(day366 * 32));
    CHECK(arrival_time_us(&a, arrival_total(&a) / 2) > 0);
}

/*
 * Runs due by a time (a stop): those whose time is at or before it, in
 * agreement with arrival_time_us around every run of constant, fractional,
 * ramped and paused stages.
 */
UNIT_TEST(arrival_due_by)
{
    static struct arrival a;
    uint64_t from[3] = {500000, 0, 100000}, to[3] = {500000, 0, 0}, half = 500;

    make(&a, "500/s:0:100-0", 3, from, to, S(2));
    CHECK_INT_EQ(arrival_due(&a, 0), 1);
    CHECK_INT_EQ(arrival_due(&a, 1999), 1);
    CHECK_INT_EQ(arrival_due(&a, 2000), 2);
    CHECK_INT_EQ(arrival_due(&a, S(2)), 1000); /* the pause: none more */
    CHECK_INT_EQ(arrival_due(&a, S(4) - 1), 1000);
    CHECK_INT_EQ(arrival_due(&a, S(4)), 1001); /* the ramp's first, at its start */
    CHECK_INT_EQ(arrival_due(&a, S(6)), arrival_total(&a));
    CHECK_INT_EQ(arrival_due(&a, UINT64_MAX), arrival_total(&a));
    for (uint64_t n = 0; n < arrival_total(&a); n++) {
        uint64_t t = (uint64_t)arrival_time_us(&a, n);

        /* run n is due at t, not a microsecond before */
        if (arrival_due(&a, t) <= n || (t > 0 && arrival_due(&a, t - 1) > n))
            unit_fail(__FILE__, __LINE__, "run %llu at %llu us: %llu due then, %llu before",
                      (unsigned long long)n, (unsigned long long)t,
                      (unsigned long long)arrival_due(&a, t),
                      (unsigned long long)(t ? arrival_due(&a, t - 1) : 0));
    }
    make(&a, "0.5/s", 1, &half, &half, S(3)); /* runs at 0 and 2 s */
    CHECK_INT_EQ(arrival_due(&a, S(2) - 1), 1);
    CHECK_INT_EQ(arrival_due(&a, S(2)), 2);
    CHECK_INT_EQ(arrival_due(&a, S(3)), 2);
}
