/*
 * The open model's schedule (see arrival.h).  Counts are integers: a
 * stage's runs times 2e9 is (from + to) x stage_us exactly, in 128 bits.
 * Only the time of a run inside a ramp needs a square root, taken in long
 * double; which runs exist never depends on it.
 */
#include <errno.h>
#include <math.h>

#include "worker/arrival.h"

#define HALF_NANO    UINT64_C(2000000000) /* runs x 2e9 = milli-runs/s x us x 2 */
#define MAX_STAGE_US (UINT64_C(366) * 86400 * 1000000)

int arrival_init(struct arrival *a, const struct arrival_stage *stages, uint32_t n,
                 uint64_t stage_us)
{
    unsigned __int128 sum = 0, whole;

    if (n == 0 || n > ARRIVAL_MAX_STAGES || stage_us == 0 || stage_us > MAX_STAGE_US)
        return -EINVAL;
    for (uint32_t k = 0; k < n; k++)
        if (stages[k].from_mrps > ARRIVAL_MAX_MRPS ||
            stages[k].to_mrps > ARRIVAL_MAX_MRPS)
            return -EINVAL;
    a->nstages = n;
    a->stage_us = stage_us;
    for (uint32_t k = 0; k < n; k++) {
        a->stages[k] = stages[k];
        a->before[k] = sum;
        sum += (unsigned __int128)(stages[k].from_mrps + stages[k].to_mrps) * stage_us;
    }
    a->before[n] = sum;
    whole = sum / HALF_NANO;
    a->total = (uint64_t)whole + (sum % HALF_NANO != 0);
    return 0;
}

uint64_t arrival_total(const struct arrival *a)
{
    return a->total;
}

uint64_t arrival_length_us(const struct arrival *a)
{
    return a->stage_us * a->nstages;
}

int64_t arrival_time_us(const struct arrival *a, uint64_t n)
{
    unsigned __int128 x = (unsigned __int128)n * HALF_NANO, m;
    uint32_t lo = 0, hi = a->nstages;
    const struct arrival_stage *st;
    long double d = (long double)a->stage_us, tau;
    uint64_t t;

    if (n >= a->total)
        return -1;
    /* The stage k with before[k] <= x < before[k + 1] (empty stages skipped). */
    while (hi - lo > 1) {
        uint32_t mid = (lo + hi) / 2;

        if (a->before[mid] <= x)
            lo = mid;
        else
            hi = mid;
    }
    st = &a->stages[lo];
    m = x - a->before[lo]; /* runs into the stage, x 2e9 */
    if (m == 0) {
        t = 0;
    } else if (st->from_mrps == st->to_mrps) {
        /* 2 x rate x tau = m */
        unsigned __int128 two_r = (unsigned __int128)st->from_mrps * 2;

        t = (uint64_t)((m + two_r - 1) / two_r);
    } else {
        /*
         * (to - from) x tau^2 / d + 2 x from x tau = m; the root in the form
         * that loses no precision when to - from is small.
         */
        long double A = (long double)st->from_mrps, B = (long double)st->to_mrps;
        long double M = (long double)m;

        tau = M / (A + sqrtl(A * A + (B - A) * M / d));
        t = (uint64_t)ceill(tau);
    }
    if (t > a->stage_us)
        t = a->stage_us;
    return (int64_t)(a->stage_us * lo + t);
}

uint64_t arrival_due(const struct arrival *a, uint64_t t_us)
{
    uint64_t lo = 0, hi = a->total; /* the answer is in [lo, hi] */

    /* Times grow with n: the first run due after t, by bisection. */
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;

        if ((uint64_t)arrival_time_us(a, mid) <= t_us)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

uint64_t arrival_rate_at(const struct arrival *a, uint64_t t_us)
{
    uint64_t k = t_us / a->stage_us, tau = t_us % a->stage_us;
    const struct arrival_stage *st;

    if (k >= a->nstages)
        return 0;
    st = &a->stages[k];
    if (st->to_mrps >= st->from_mrps)
        return st->from_mrps +
               (uint64_t)((unsigned __int128)(st->to_mrps - st->from_mrps) * tau /
                          a->stage_us);
    return st->from_mrps - (uint64_t)((unsigned __int128)(st->from_mrps - st->to_mrps) *
                                      tau / a->stage_us);
}

uint64_t arrival_stripe_count(uint64_t total, uint64_t offset, uint64_t stride)
{
    return total > offset ? (total - offset - 1) / stride + 1 : 0;
}

uint64_t arrival_stripe_next(uint64_t n, uint64_t offset, uint64_t stride)
{
    if (n <= offset)
        return offset;
    return n + (stride - (n - offset) % stride) % stride;
}
