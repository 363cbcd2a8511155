/*
 * What changed in a run's figures between two moments: the unit an agent
 * sends its broker once a second, and the broker its runners.  Counters
 * and histogram buckets are differences (sparse: the buckets that moved),
 * so that adding every delta of an agent into an empty slot gives that
 * agent's totals, and adding every agent's gives the union of all requests,
 * bucket for bucket.
 *
 * A delta is private memory (no shared-memory rules): built by
 * shm_delta_diff or shm_delta_snapshot, or decoded from the wire
 * (cluster/proto.c), applied with shm_delta_apply, freed with
 * shm_delta_free.
 */
#ifndef LOADS_SHM_DELTA_H
#define LOADS_SHM_DELTA_H

#include "shm/recent.h"
#include "shm/stats.h"

struct shm_delta_url {
    char key[SHM_URL_LEN];     /* "METHOD url" or "other" */
    uint64_t hits, ok, errors; /* added since the last delta */
    struct hist_sparse latency;  /* service times */
    struct hist_sparse response; /* response times (from the scheduled start) */
};

struct shm_delta_msg {
    uint32_t kind;             /* enum shm_outcome */
    uint64_t count;            /* occurrences since the last delta */
    char test[SHM_NAME_LEN];
    char text[SHM_MSG_LEN];
};

struct shm_delta_counter {
    char name[SHM_COUNTER_LEN];
    int64_t n;                 /* added since the last delta (may be negative) */
};

struct shm_delta_check {
    char name[SHM_COUNTER_LEN];
    uint64_t passes, fails;    /* added since the last delta */
};

struct shm_delta_trend {
    char name[SHM_COUNTER_LEN];
    struct hist_sparse values; /* added since the last delta */
};

struct shm_delta_gauge {
    char name[SHM_COUNTER_LEN];
    double value;              /* its last value... */
    uint64_t at_us;            /* ...set then: us since the run's start, + 1 */
};

struct shm_delta_test {
    char name[SHM_NAME_LEN];
    uint64_t runs, successes, failures, errors, interrupted; /* added */
};

struct shm_delta {
    struct shm_counters c;     /* differences; users_active is the value now */
    struct hist_sparse latency;/* count, sum and buckets added; min/max so far */
    struct hist_sparse response;/* the same, of the response times */
    struct shm_delta_url *urls;
    uint32_t nurls;
    struct shm_delta_msg *msgs;
    uint32_t nmsgs;
    struct shm_delta_counter *counters;
    uint32_t ncounters;
    struct shm_delta_check *checks;
    uint32_t nchecks;
    struct shm_delta_trend *trends;
    uint32_t ntrends;
    struct shm_delta_gauge *gauges;  /* the gauges set since the last delta */
    uint32_t ngauges;
    struct shm_delta_test *tests;
    uint32_t ntests;
    uint64_t tests_other;      /* runs of tests past the tables, added */
    struct shm_second *seconds;/* per-second rows completed since the last delta */
    uint32_t nseconds;
    uint64_t msgs_other;       /* messages past the tables, added */
    uint32_t crashes;          /* worker crashes, added */
    uint32_t cycle;            /* the cycle running now, 0-based */
    double cycle_started;      /* when it began, seconds since the run's start */
    uint64_t due_plus1;        /* an agent's last delta of an open model: its runs
                                  due by the stop, + 1 (du); 0: none (a value) */
};

/* Frees what d holds and empties it.  Safe on an empty delta. */
void shm_delta_free(struct shm_delta *d);

/*
 * d = cur - prev, both snapshots of the same run (prev may be all zero
 * for the first delta).  Rows with no change are left out.  Returns 0 or
 * -ENOMEM (d then holds nothing).
 */
int shm_delta_diff(struct shm_delta *d, const struct shm_stats *prev,
                   const struct shm_stats *cur);

/*
 * d = everything in slot, as a delta from an empty slot: what a watcher
 * that starts late adds into an empty slot to catch up.  Returns 0 or
 * -ENOMEM.
 */
int shm_delta_snapshot(struct shm_delta *d, const struct shm_slot *slot);

/*
 * Adds d into slot, whose single writer the caller is: counters, the
 * histograms bucket by bucket, URL rows (a URL past the table goes to
 * "other"), messages, custom counters, checks, trends, gauges (a later
 * value wins), per-test outcomes, per-second rows.  The slot's
 * recent histogram is not touched (the caller pushes the latency of the
 * delta through shm_recent_push when it wants one).
 */
void shm_delta_apply(struct shm_slot *slot, const struct shm_delta *d);

/* Adds the sparse buckets s into h (private or single-writer). */
void shm_sparse_add(struct hist *h, const struct hist_sparse *s);


#endif
