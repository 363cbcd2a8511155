/*
 * The open model's schedule: when each run of a --rate plan starts.  Pure
 * arithmetic, no I/O, no clock: the runner counts runs with it, each
 * worker computes its own runs' times with it.
 *
 * A schedule is a list of stages, each stage_us long, each with a rate
 * that goes linearly from `from` to `to` (equal for a constant rate), in
 * milli-runs per second so that a rate such as 0.5 or 33.333 is exact.
 * Its runs are numbered 0, 1, 2... over the whole schedule: run n starts
 * at the first microsecond at which the runs the rate has made so far
 * (the integral of the rate from the start) reach n, so run 0 starts at
 * 0.  The count of a stage is exact (integers, no rounding): a stage of
 * rate R for D seconds makes R x D runs, a ramp (A + B) / 2 x D; the
 * schedule makes the sum, rounded up when it is not whole (0.5/s for 3 s:
 * runs at 0 s and 2 s).
 *
 * Splitting without rounding: a worker (or an agent, or an agent's
 * worker) takes the runs n = offset, offset + stride, offset + 2 x
 * stride...  The stripes of offsets 0..stride-1 are disjoint and their
 * union is the whole schedule, whatever its rate; striping a stripe again
 * (an agent's workers) is a stripe of offset + stride_of_agents x i.
 */
#ifndef LOADS_WORKER_ARRIVAL_H
#define LOADS_WORKER_ARRIVAL_H

#include <stdint.h>

#define ARRIVAL_MAX_STAGES 32                    /* as the cycles of -u */
#define ARRIVAL_MAX_MRPS   UINT64_C(10000000000) /* 10,000,000 runs/s */

/* One stage: the rate at its start and at its end, in milli-runs per second. */
struct arrival_stage {
    uint64_t from_mrps;
    uint64_t to_mrps;
};

struct arrival {
    struct arrival_stage stages[ARRIVAL_MAX_STAGES];
    uint32_t nstages;
    uint64_t stage_us; /* each stage's length */
    /* Derived by arrival_init: twice the runs before stage k, in
       milli-runs x us (runs x 2e9). */
    unsigned __int128 before[ARRIVAL_MAX_STAGES + 1];
    uint64_t total; /* runs of the whole schedule */
};

/*
 * Makes a schedule of n stages, each stage_us long.  Returns 0, or
 * -EINVAL when n is 0 or above ARRIVAL_MAX_STAGES, stage_us is 0 or above
 * 366 days, or a rate is above ARRIVAL_MAX_MRPS.
 */
int arrival_init(struct arrival *a, const struct arrival_stage *stages, uint32_t n,
                 uint64_t stage_us);

/* Runs of the whole schedule. */
uint64_t arrival_total(const struct arrival *a);

/* The schedule's length, us. */
uint64_t arrival_length_us(const struct arrival *a);

/*
 * When run n starts, us from the schedule's start, its exact time rounded
 * up to the microsecond, or -1 when n >= arrival_total.
 */
int64_t arrival_time_us(const struct arrival *a, uint64_t n);

/*
 * How many runs are due by t us from the start: those whose time
 * (arrival_time_us) is at or before t; arrival_total past the end.  A stop
 * at t starts those and no later one.
 */
uint64_t arrival_due(const struct arrival *a, uint64_t t_us);

/* The rate at t us from the start, in milli-runs per second (0 past the end). */
uint64_t arrival_rate_at(const struct arrival *a, uint64_t t_us);

/* How many of runs 0..total-1 the stripe (offset, stride) holds. */
uint64_t arrival_stripe_count(uint64_t total, uint64_t offset, uint64_t stride);

/* The first run of the stripe (offset, stride) at or after run n. */
uint64_t arrival_stripe_next(uint64_t n, uint64_t offset, uint64_t stride);

#endif
