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
    uint64_t events_dropped;   /* lost to full event rings */
    uint32_t crashes;          /* workers that crashed */
    double elapsed;            /* seconds since the start (to the end when done) */
};

/* Fills st from every slot of s.  Returns 0 or -ENOMEM.  Free with shm_stats_free. */
int shm_stats_collect(struct shm_stats *st, const struct shm *s);
void shm_stats_free(struct shm_stats *st);

#endif
