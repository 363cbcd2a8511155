/*
 * The one writer of a worker's slot in the shared-memory segment: hits,
 * response times, URL rows, websocket counts, outcomes, custom counters,
 * messages, the per-second series.  No other file of the worker knows the
 * slot's layout; transports know nothing of it at all (they return what
 * they saw, and the API records it here).
 */
#ifndef LOADS_WORKER_RECORD_H
#define LOADS_WORKER_RECORD_H

#include <stdint.h>

#include "shm/shm.h"

struct record;

/*
 * A recorder for slot i of shm, whose seconds count from the run's start.
 * Returns NULL when memory ran out.  Free with record_destroy after
 * record_flush.
 */
struct record *record_create(const struct shm *shm, uint32_t i);
void record_destroy(struct record *r);

/*
 * The row of the URL table for key ("GET http://h/p", "WS ws://h/p"), added
 * if new; the "other" row once the table is full.  Rows do not move: a row
 * may be kept for the life of the worker.
 */
uint32_t record_url(struct record *r, const char *key);

/*
 * An HTTP response received on row (each redirect hop is one, on its own
 * URL's row): a hit, ok when its status is below 400, and its times: the
 * service time, from its request sent to its last byte, and the response
 * time, that plus late_us, how late its run started after its scheduled
 * time (--rate; 0 without a schedule).
 */
void record_response(struct record *r, uint32_t row, int ok, int64_t elapsed_us,
                     int64_t late_us);

/* An HTTP request on row that got no response: a transport error. */
void record_http_error(struct record *r, uint32_t row);

/* Body bytes received over HTTP. */
void record_bytes(struct record *r, uint64_t n);

/*
 * A websocket sample on row (a handshake, a message waited for): its time,
 * and late_us as for record_response.
 */
void record_ws_sample(struct record *r, uint32_t row, int64_t us, int64_t late_us);

/* A websocket call that failed, on row. */
void record_ws_error(struct record *r, uint32_t row);

/* Web sockets opened and bytes received on them, since the last call. */
void record_ws_counts(struct record *r, uint64_t opened, uint64_t bytes);

/* A test run begins. */
void record_run_started(struct record *r);

/* n runs of the --rate schedule were dropped: no VU was free at their time. */
void record_dropped(struct record *r, uint64_t n);

/* A warning of the worker's own, under the test's name (Warnings in the summary). */
void record_warning(struct record *r, const char *test, const char *msg);

/*
 * The slot's place in the schedule (shm.h: rate_next): record_rate_next
 * after each run started or dropped, record_rate_resume for a worker that
 * takes the slot over (0 for the first one).
 */
void record_rate_next(struct record *r, uint64_t next);
uint64_t record_rate_resume(const struct record *r);

/*
 * A test run ended: outcome is 0 (success), SHM_FAILURE or SHM_ERROR with
 * the test's name and its message, or SHM_INTERRUPTED (no message: the
 * run was cut by the end of a duration or a stop).  It counts in the
 * totals and in the test's own row.
 */
void record_run_ended(struct record *r, int outcome, const char *test, const char *msg);

/* Adds n to the custom counter name.  Returns 0, or -ENOSPC when full. */
int record_counter(struct record *r, const char *name, long n);

/* A check's pass (ok) or fail.  Returns 0, or -ENOSPC when the table is full. */
int record_check(struct record *r, const char *name, int ok);

/*
 * A value of the trend name: 0.001 to 3.6e6, kept with 3 significant
 * digits (below: 0; above: 3.6e6).  Returns 0, or -ENOSPC when full.
 */
int record_trend(struct record *r, const char *name, double value);

/* Sets the gauge name to value, now.  Returns 0, or -ENOSPC when full. */
int record_gauge(struct record *r, const char *name, double value);

/*
 * The next number of --data's rows, taken from the run's header with an
 * atomic add: unique over every worker of the run.
 */
uint64_t record_data_row(struct record *r);

/* VUs alive: +1 as one is created, -1 as one ends. */
void record_users(struct record *r, int delta);

/*
 * The heartbeat the supervisor reads (shm.h: the slot's beat and running):
 * record_beat as the loop hands the thread to a VU whose run is of test
 * running (1 + its index in the plan; 0: none yet), record_running(0) when
 * the loop has it back, and record_running at each run's start.
 */
void record_beat(struct record *r, uint32_t running);
void record_running(struct record *r, uint32_t running);

/* Closes the seconds of the per-second series up to now (CLOCK_MONOTONIC). */
void record_tick(struct record *r, int64_t now_us);

/* Closes the second going on, at the worker's end. */
void record_flush(struct record *r);

/* Marks the slot done: the worker ends normally (a crash never gets here). */
void record_done(struct record *r);

#endif
