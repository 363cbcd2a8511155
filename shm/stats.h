/*
 * A merged, private snapshot of every slot of a segment: what the summary,
 * the JSON output and the dashboard all show, computed in one place.
 */
#ifndef LOADS_SHM_STATS_H
#define LOADS_SHM_STATS_H

#include "shm/shm.h"

struct shm_stats_url {
    char key[SHM_URL_LEN];     /* "METHOD url" or "other" */
    uint64_t hits, ok, errors; /* summed over workers */
    struct hist latency;       /* service times, merged */
    struct hist response;      /* response times (from the scheduled start), merged */
};

struct shm_stats_msg {
    uint32_t kind;             /* enum shm_outcome */
    uint64_t count;            /* summed over workers */
    char test[SHM_NAME_LEN];
    char text[SHM_MSG_LEN];
};

struct shm_stats_counter {
    char name[SHM_COUNTER_LEN];
    uint64_t value;
};

struct shm_stats_check {
    char name[SHM_COUNTER_LEN];
    uint64_t passes, fails;    /* summed over workers */
};

struct shm_stats_trend {
    char name[SHM_COUNTER_LEN];
    struct hist values;        /* merged; values x SHM_TREND_SCALE */
};

struct shm_stats_gauge {
    char name[SHM_COUNTER_LEN];
    double value;              /* the latest value of any worker */
    uint64_t at_us;            /* when it was set, us since the run's start, + 1 */
};

struct shm_stats_test {
    char name[SHM_NAME_LEN];
    uint64_t runs, successes, failures, errors, interrupted; /* summed over workers */
};

struct shm_stats {
    struct shm_counters c;     /* summed over workers */
    struct hist latency;       /* service times (from the request sent), merged */
    struct hist response;      /* response times (from the scheduled start), merged;
                                  the same as latency without a --rate schedule */
    struct shm_stats_url *urls;  /* sorted by hits, most first */
    uint32_t nurls;
    struct shm_stats_msg *msgs;  /* sorted by count, most first */
    uint32_t nmsgs;
    uint64_t msgs_other;       /* messages past the tables' capacity */
    struct shm_stats_counter counters[SHM_COUNTERS];
    uint32_t ncounters;
    struct shm_stats_check checks[SHM_CHECKS];   /* in the order first seen */
    uint32_t nchecks;
    struct shm_stats_trend *trends;              /* SHM_TRENDS of them, allocated */
    uint32_t ntrends;
    struct shm_stats_gauge gauges[SHM_GAUGES];
    uint32_t ngauges;
    struct shm_stats_test tests[SHM_TESTS];      /* sorted by name */
    uint32_t ntests;
    uint64_t tests_other;      /* runs of tests past the tables: in the totals only */
    uint32_t crashes;          /* workers that crashed */
    double elapsed;            /* seconds since the start (to the end when done) */
};

/* Fills st from every slot of s.  Returns 0 or -ENOMEM.  Free with shm_stats_free. */
int shm_stats_collect(struct shm_stats *st, const struct shm *s);
void shm_stats_free(struct shm_stats *st);

/*
 * Second sec (seconds since the run's start) of every slot's per-second
 * series, merged into out: counts added up; p50_us and p99_us the highest
 * of the slots' (percentiles of a second do not add up: the dashboard's
 * and the web view's charts say so).  A worker rewrites an entry in place
 * (zeroes its tag, writes, publishes the new tag), so an entry whose tag
 * changed while it was read, or that holds another second, is left out.
 * out->second is sec + 1, as in the segment.
 */
void shm_stats_second(const struct shm *s, int64_t sec, struct shm_second *out);

#endif
