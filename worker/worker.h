/*
 * A worker process: one libuv loop running a group of virtual users (VUs)
 * as coroutines, their requests going through the built-in HTTP/1.1
 * client, libcurl or libwebsockets, and what happens written into its own
 * slot of the shared-memory segment.  This is all the supervisor sees of
 * it: a plan, and a function that never returns.
 */
#ifndef LOADS_WORKER_WORKER_H
#define LOADS_WORKER_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include "base/csv.h"
#include "loads.h"
#include "shm/shm.h"
#include "worker/arrival.h"

/* One test to run, with its suite's optional setUp and tearDown. */
struct worker_test {
    char name[SHM_NAME_LEN];       /* "Suite.test", as messages show it */
    void (*fn)(loads_test *t);     /* the test body */
    void (*setup)(loads_test *t);  /* NULL when the suite has none */
    void (*teardown)(loads_test *t);
    uint32_t weight;               /* LOADS_TEST_WEIGHT's; 0: none */
};

/* A setUp or tearDown wider than a test run (per VU, or once per run). */
struct worker_scope {
    void (*fn)(loads_test *t);     /* NULL: the suite has none */
    char name[SHM_NAME_LEN];       /* "Suite.setUpVU"..., as messages show it */
};

/* What one worker does in one cycle; filled by the supervisor before fork. */
struct worker_plan {
    struct shm *shm;               /* the run's segment, mapped before fork */
    uint32_t slot;                 /* this worker's slot */
    const struct worker_test *tests; /* tests each VU runs, in order, per hit */
    uint32_t ntests;
    const uint32_t *schedule;      /* weighted: the order of the picks, indexes in
                                      tests; a hit runs ONE test, VU k's r-th run
                                      schedule[(k + r) % nschedule]; NULL: all */
    uint32_t nschedule;
    uint32_t first_user;           /* id of this worker's first VU */
    uint32_t users;                /* VUs to run */
    const uint64_t *hits;          /* each VU runs hits[0], then hits[1]... */
    uint32_t nhits;                /* 0 for a duration run */
    uint64_t total_runs;           /* nonzero: run exactly this many test runs,
                                      spread over the VUs (a replacement worker) */
    int64_t deadline_mono_us;      /* duration run: start no run after this */
    /*
     * The open model (--rate): the runs of arrival's schedule numbered
     * rate_offset, rate_offset + rate_stride... are this worker's; each
     * starts at its time on a free VU of a pool of users VUs that may grow
     * to max_users, or is dropped when none is free.
     */
    const struct arrival *arrival; /* NULL: the closed model */
    uint64_t rate_offset, rate_stride;
    uint32_t max_users;            /* VUs the pool may grow to (ids first_user..) */
    int64_t start_mono_us;         /* CLOCK_MONOTONIC of the schedule's time 0 */
    int resume;                    /* a replacement: go on where the slot's last
                                      worker was, dropping the runs due meanwhile */
    double ramp_up;                /* seconds over which VUs start */
    double timeout;                /* seconds a request may take */
    double grace;                  /* seconds a run may go on past a stop */
    size_t max_body;               /* body bytes kept per response */
    size_t ws_max_message;         /* largest websocket message accepted */
    int insecure;                  /* accept any TLS certificate */
    const char *server_url;        /* --server-url, "" when none */
    const struct csv *data;        /* --data, NULL when none */
    const char *data_name;         /* its file name, for messages */
    int data_per_vu;               /* a row per VU for its life (else per run) */
    uint32_t data_stripe;          /* this machine's share of the rows: the n-th */
    uint32_t data_stripes;         /* row taken here is n * stripes + stripe (1 local) */
    const char *const *env;        /* --env NAME=VALUE strings */
    uint32_t nenv;
    const struct worker_scope *setup_vu;    /* around each VU's runs */
    const struct worker_scope *teardown_vu;
    const char *const *value_names;         /* the values setUpOnce stored, */
    const char *const *value_texts;         /* for every VU (loads_value) */
    uint32_t nvalues;
    /*
     * Set: this worker runs only this scope (setUpOnce or tearDownOnce), in
     * one VU, and then writes to once_fd 'S' (it passed) or 'F', followed
     * by the values it stored, each as a 32-bit length and the name, then
     * a 32-bit length and the value (host byte order).
     */
    const struct worker_scope *once;
    int once_fd;
};

/* Runs the plan in this (forked) process and exits; never returns. */
void worker_main(const struct worker_plan *plan) __attribute__((noreturn));

#endif
