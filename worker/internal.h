/*
 * Internals shared by the top layer of the worker (worker/): the process
 * and its loop (worker.c), the public API (api.c, api_http.c, api_ws.c,
 * api_text.c with jpath.c), a run's stop (run.c) and the one writer of the
 * slot (record.c).  Nothing outside worker/ includes this.
 *
 * The layers, calls going downward only:
 *
 *     worker/   the worker process, the API, recording     (top)
 *     http/ ws/ transports: built-in HTTP/1.1, libcurl, libwebsockets
 *     base/     the VU's coroutine and its one wait, the growable buffer
 *
 * Only the top turns a transport's error into an outcome (Failure or
 * Error) and only record.c writes the slot.
 */
#ifndef LOADS_WORKER_INTERNAL_H
#define LOADS_WORKER_INTERNAL_H

#include <setjmp.h>
#include <uv.h>

#include "base/buf.h"
#include "loads.h"
#include "shm/shm.h"
#include "worker/record.h"
#include "worker/worker.h"

struct vu;
struct h1_client;
struct h1_conn;
struct curl_glue;
struct curl_session;
struct ws_glue;
struct cookie_jar;
struct api_text;

/* How a test run ends; the values are the segment's outcomes. */
enum outcome {
    OUTCOME_SUCCESS = 0,
    OUTCOME_FAILURE = SHM_FAILURE,         /* a failed assertion */
    OUTCOME_ERROR = SHM_ERROR,             /* a transport error, a timeout, misuse */
    OUTCOME_INTERRUPTED = SHM_INTERRUPTED, /* cut by the end of a duration or a stop */
};

/* A virtual user as the API sees it; the public API calls it loads_test. */
struct loads_test {
    struct worker *w;             /* owning worker */
    struct vu *vu;                /* its coroutine and its wait (base/vu.h) */
    uint32_t id;                  /* VU number, unique in the cycle */
    int64_t start_us;             /* CLOCK_MONOTONIC of its start (ramp-up) */
    int64_t late_us;              /* --rate: how late its run started after its
                                     scheduled time (added to response times) */
    int64_t sched_us;             /* --rate: CLOCK_MONOTONIC its run is due at */
    uint64_t run_no;              /* --rate: that run's number in the schedule */
    int assigned;                 /* --rate: it has a run to start */
    int64_t idle_until;           /* the end of the sleep (or of the wait for its
                                     start) it is in; 0 when in none */
    const struct worker_test *test; /* running test */
    uint64_t picks;               /* tests picked by weight so far (worker.c) */
    int in_scope;                 /* a setUpVU, tearDownVU... runs (worker.c) */
    struct buf values;            /* its loads_set_value values: "name\0value\0"... */
    uint64_t data_row;            /* its row of --data, when has_row */
    int has_row;                  /* a row was taken: for the run (or the VU's life) */
    jmp_buf jmp;                  /* where a failure or error lands */
    enum outcome outcome;         /* of the running test */
    char msg[SHM_MSG_LEN];        /* its message, when not a success */
    /* Its session, for its whole life, like a Requests Session. */
    struct h1_conn *conns;        /* the built-in client's connections */
    struct curl_session *curl;    /* NULL until it needs curl */
    struct cookie_jar *jar;       /* NULL until the first cookie */
    /* The running test's, freed when it ends. */
    struct loads_response *responses;
    struct loads_ws *ws;          /* its web sockets */
    struct buf kept;              /* pointers the API returned (api_keep) */
    struct api_text *text;        /* the last JSON document parsed (api_text.c) */
};

struct worker {
    const struct worker_plan *plan;
    const struct shm_header *hdr; /* the run's header (read: the stop flag) */
    uv_loop_t loop;
    uv_timer_t tick;              /* stop, deadline, grace, the seconds */
    struct vu_sched *sched;
    struct record *rec;           /* the one writer of the slot */
    struct loads_test *vus;       /* room for max_users in the open model */
    uint32_t nvus;
    uint32_t vus_left;            /* VUs whose function has not returned */
    /* The open model (--rate): the pool and this worker's place in the schedule. */
    uv_poll_t arrivals;           /* arrivals_fd is readable: a run is due */
    int arrivals_fd;              /* a timerfd set to the next run's time; -1: none */
    uv_check_t arrivals_check;    /* starts the runs due once the loop's turn is done */
    int arrivals_due;             /* the timerfd fired: runs are due */
    int64_t woke_us;              /* CLOCK_MONOTONIC of its last wake-up; 0: none */
    struct loads_test **idle;     /* VUs of the pool waiting for a run (a stack) */
    uint32_t nidle;
    uint32_t pool_cap;            /* VUs the pool's arrays hold: max_users, or less */
    int pool_short;               /* a VU of the pool could not be made (warned once) */
    uint64_t next_run;            /* the next run of this worker's stripe */
    int64_t next_at;              /* CLOCK_MONOTONIC it is due at; -1: none left */
    int stopping;                 /* no new runs */
    int cut;                      /* runs past the grace period were cancelled */
    int64_t hard_stop_us;         /* CLOCK_MONOTONIC: cancel runs still going */
    struct h1_client *h1;         /* the built-in HTTP/1.1 client */
    struct curl_glue *curl;       /* NULL until a request needs curl */
    int proxy;                    /* a proxy is set in the environment */
    int curl_only;                /* every request through curl */
    struct buf cookie;            /* a request's Cookie value */
    struct ws_glue *ws;           /* NULL until the first web socket */
    int ws_failed;                /* making it failed: do not retry */
};

/* run.c */

/*
 * Ends the running test now with a failure or an error: jumps back to the
 * run's start (worker.c) on the VU's own stack, where its responses and
 * sockets are freed.
 */
void run_stop(struct loads_test *t, enum outcome outcome, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));

/* api.c */

/*
 * Keeps p (malloc'd) until the run ends and returns it; NULL p (memory ran
 * out) stops the run as an Error.
 */
void *api_keep(struct loads_test *t, void *p);

/* The run is over: what api_keep kept goes. */
void api_end_run(struct loads_test *t);

/* api_text.c */
void api_text_end_run(struct loads_test *t);
void api_text_vu_close(struct loads_test *t);
void api_text_close(void);

/* api_http.c */
int api_http_init(struct worker *w);
void api_http_end_run(struct loads_test *t);
void api_http_vu_close(struct loads_test *t);
void api_http_close(struct worker *w);

/* api_ws.c */
void api_ws_end_run(struct loads_test *t);
void api_ws_take_counts(struct worker *w);
void api_ws_close(struct worker *w);

#endif
