/*
 * The run's shared-memory segment: plain data written by the workers (one
 * slot each, single writer) and read by the supervisor, the dashboard and
 * `--attach`.  Nothing in it is a pointer; every field is fixed width.
 *
 * Writers update 64-bit words with shm_add / shm_store (relaxed atomics,
 * no lock prefix needed with one writer); readers use shm_load.  Text
 * entries (URLs, messages, counter names) are written first and published
 * by a release store of the table's length; readers acquire the length.
 *
 * Single writer: the header is the supervisor's (but for data_next, which
 * workers take numbers from with an atomic add).  Slot i (0 <= i < nslots)
 * is written by its worker only, and by the supervisor only once that
 * worker is dead and reaped (to count its runs in progress as Errors).
 * One more slot follows the workers', index nslots, written by the
 * supervisor only: what it says about workers while they live (a test
 * holding a worker's loop) goes into its messages and events; its
 * counters stay zero.  shm_stats_collect merges it with the others.
 */
#ifndef LOADS_SHM_SHM_H
#define LOADS_SHM_SHM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "shm/hist.h"

#define SHM_MAGIC        0x314d485344414f4cull /* "LOADSHM1" little-endian */
#define SHM_VERSION      8
#define SHM_FILE_PREFIX  "loads-"              /* in /dev/shm: loads-<supervisor pid> */
#define SHM_PREFIX       "/" SHM_FILE_PREFIX   /* the POSIX name */
#define SHM_MAX_WORKERS  256
#define SHM_MAX_CYCLES   32
#define SHM_URLS         32                    /* distinct URLs per worker... */
#define SHM_URL_OTHER    SHM_URLS              /* ...then this "other" row */
#define SHM_URL_LEN      200
#define SHM_MSGS         64                    /* distinct messages per worker */
#define SHM_MSG_LEN      256
#define SHM_NAME_LEN     96
#define SHM_COUNTERS     64                    /* custom counters per worker */
#define SHM_COUNTER_LEN  64                    /* names of counters, checks, trends, gauges */
#define SHM_CHECKS       64                    /* distinct checks per worker */
#define SHM_TRENDS       16                    /* trends per worker */
#define SHM_GAUGES       32                    /* gauges per worker */
#define SHM_TESTS        64                    /* tests counted apart per worker */
#define SHM_TREND_SCALE  1000                  /* trend values are kept in thousandths */
#define SHM_SERIES       3600                  /* per-second samples kept */
#define SHM_DUE_UNKNOWN  UINT64_MAX            /* due_runs that are not known */
#define SHM_RECENT       5                     /* seconds of the recent histogram */

/*
 * Kinds of messages and events; the first three are outcomes of runs too.
 * An interrupted run (cut by the end of a duration or a stop) is an
 * outcome with no message.
 */
enum shm_outcome {
    SHM_FAILURE = 1,
    SHM_ERROR = 2,
    SHM_CRASH = 3,
    SHM_WARNING = 4,
    SHM_INTERRUPTED = 5,
};

/* Why a run ended before its plan did (header's stop_cause). */
enum shm_stop {
    SHM_STOP_NONE = 0,     /* it ran its whole plan (or has not stopped yet) */
    SHM_STOP_SIGNAL,       /* a signal to the supervisor: stop_signal says which */
    SHM_STOP_KEY,          /* q in the dashboard */
};

enum shm_run_state {
    SHM_RUN_STARTING = 0,  /* supervisor is forking the first workers */
    SHM_RUN_RUNNING,       /* tests are running */
    SHM_RUN_STOPPING,      /* stop asked: no new runs, running ones finish */
    SHM_RUN_DONE,          /* every worker has ended; figures are final */
};

enum shm_worker_state {
    SHM_WORKER_IDLE = 0,   /* slot not in use yet */
    SHM_WORKER_RUNNING,    /* process alive, running VUs */
    SHM_WORKER_DONE,       /* exited normally */
    SHM_WORKER_CRASHED,    /* died on a signal or exited abnormally */
    SHM_WORKER_KILLED,     /* killed by the supervisor after the grace period */
};

struct shm_counters {
    uint64_t hits;            /* HTTP responses received (each redirect hop too) */
    uint64_t runs_started;    /* test runs begun */
    uint64_t runs;            /* test runs ended (successes + failures + errors
                                 + interrupted) */
    uint64_t successes;       /* runs that returned normally */
    uint64_t failures;        /* runs stopped by a failed assertion */
    uint64_t errors;          /* runs stopped by a transport error, timeout or crash */
    uint64_t http_errors;     /* requests that got no response (transport errors) */
    uint64_t bytes;           /* HTTP body bytes received */
    uint64_t ws_opened;       /* web sockets opened */
    uint64_t ws_bytes;        /* bytes received on web sockets */
    uint64_t users_active;    /* VUs alive now (gauge) */
    uint64_t interrupted;     /* runs cut by the end of a duration or a stop */
    uint64_t dropped;         /* runs of a --rate schedule not started: no VU of
                                 the pool was free at their start time */
};

/* One row of the per-URL table: "METHOD url-without-query". */
struct shm_url {
    char key[SHM_URL_LEN];    /* NUL-terminated; "other" for the overflow row */
    uint64_t hash;            /* hash of key, for the writer's lookups */
    uint64_t hits;            /* responses received */
    uint64_t ok;              /* responses with a status below 400 */
    uint64_t errors;          /* requests without a response */
    struct hist latency;      /* service times, us: from the request sent */
    struct hist response;     /* response times, us: from when the request would
                                 have been sent had its run started at its
                                 scheduled time (--rate); the service time + how
                                 late the run started.  Without a schedule, the
                                 same as latency */
};

/* A distinct failure or error message and how often it happened. */
struct shm_msg {
    uint32_t kind;            /* enum shm_outcome */
    uint32_t pad;             /* keeps count aligned */
    uint64_t hash;            /* hash of kind+test+text, for the writer */
    uint64_t count;           /* occurrences */
    char test[SHM_NAME_LEN];  /* Suite.test that raised it */
    char text[SHM_MSG_LEN];   /* the message */
};

struct shm_counter {
    char name[SHM_COUNTER_LEN]; /* NUL-terminated */
    uint64_t value;             /* current value */
};

/* A check (loads_check): how often its condition held, and how often not. */
struct shm_check {
    char name[SHM_COUNTER_LEN]; /* NUL-terminated */
    uint64_t hash;              /* of name, for the writer's lookups */
    uint64_t passes;            /* conditions true */
    uint64_t fails;             /* conditions false */
};

/* A trend (loads_trend): the values a test recorded, as a histogram. */
struct shm_trend {
    char name[SHM_COUNTER_LEN]; /* NUL-terminated */
    uint64_t hash;              /* of name */
    struct hist values;         /* values x SHM_TREND_SCALE (0.001 .. 3.6e6) */
};

/* A gauge (loads_gauge): its last value and when it was set. */
struct shm_gauge {
    char name[SHM_COUNTER_LEN]; /* NUL-terminated */
    uint64_t hash;              /* of name */
    uint64_t value;             /* the last value: a double's bits (IEEE 754) */
    uint64_t at_us;             /* when it was set, us since the run's start, + 1;
                                   written after value (release) */
};

/* The outcomes of one test (Suite.name, or Suite.setUpVU...) of the plan. */
struct shm_test {
    char name[SHM_NAME_LEN];    /* NUL-terminated */
    uint64_t hash;              /* of name */
    uint64_t runs;              /* runs ended: the four below added */
    uint64_t successes;
    uint64_t failures;
    uint64_t errors;
    uint64_t interrupted;
};

/* One second of one worker, for charts. */
struct shm_second {
    uint64_t second;          /* seconds since the run started, + 1 (0: unused) */
    uint64_t hits;            /* responses in that second */
    uint64_t errors;          /* runs ended as errors or failures in that second */
    uint64_t p50_us;          /* median response time in that second */
    uint64_t p99_us;          /* 99th percentile in that second */
    uint64_t runs;            /* runs started in that second */
    uint64_t dropped;         /* runs of the schedule dropped in that second (runs +
                                 dropped: the runs the schedule asked for) */
};

/* Everything one worker writes.  Its writer is the worker owning the slot. */
struct shm_slot {
    int32_t pid;              /* worker process, 0 before the first fork */
    uint32_t state;           /* enum shm_worker_state */
    uint32_t users;           /* VUs this worker runs in the current cycle */
    uint32_t crashes;         /* workers of this slot that crashed */
    int32_t last_signal;      /* signal of the last crash */
    uint32_t nurls;           /* rows of urls[] in use (release/acquire) */
    uint32_t nmsgs;           /* rows of msgs[] in use (release/acquire) */
    uint32_t ncounters;       /* rows of counters[] in use (release/acquire) */
    uint32_t nchecks;         /* rows of checks[] in use (release/acquire) */
    uint32_t ntrends;         /* rows of trends[] in use (release/acquire) */
    uint32_t ngauges;         /* rows of gauges[] in use (release/acquire) */
    uint32_t ntests;          /* rows of tests[] in use (release/acquire) */
    uint64_t msgs_other;      /* messages past the table's capacity */
    uint64_t tests_other;     /* runs of tests past tests[] (counted in c only) */
    struct shm_counters c;    /* totals */
    struct hist latency;      /* every service time, us (shm_url's latency) */
    struct hist response;     /* every response time, us (shm_url's response) */
    struct shm_url urls[SHM_URLS + 1];
    struct shm_msg msgs[SHM_MSGS];
    struct shm_counter counters[SHM_COUNTERS];
    struct shm_check checks[SHM_CHECKS];
    struct shm_trend trends[SHM_TRENDS];
    struct shm_gauge gauges[SHM_GAUGES];
    struct shm_test tests[SHM_TESTS];
    struct shm_second series[SHM_SERIES]; /* indexed by second % SHM_SERIES */
    uint64_t rate_next;       /* --rate: the first run number of this slot's stripe
                                 of the schedule that its workers have neither
                                 started nor dropped (a replacement worker goes
                                 on from there); 0 before the first */
    uint64_t due_plus1;       /* a cluster runner's slot of an agent: the runs of
                                 that agent's stripe due by the stop, + 1 (its
                                 last delta's du); 0: not known */
    uint64_t recent_gen;      /* odd while recent is rewritten (shm/recent.h) */
    struct hist recent;       /* response times of the last SHM_RECENT seconds */
    /*
     * The heartbeat: how the supervisor sees that test code holds the
     * worker's loop (a busy loop, sleep(3), a blocking read), which
     * nothing inside the worker can notice while it lasts.  The worker
     * adds 1 to beat each time its loop hands the thread to a VU, sets
     * running to the test that VU runs, and sets running back to 0 when
     * the VU gives the thread back (it waits, or its coroutine ends).  A
     * test that begins while its VU holds the thread sets running too.
     * So running != 0 with beat unchanged means that one stretch of the
     * test's run has held the loop since beat last moved: its own code, or
     * a call into Loads that did not wait (under valgrind, creating the
     * TLS context takes over a second and shows as such a hold).
     */
    uint64_t beat;            /* VU resumes so far (worker) */
    uint32_t running;         /* 1 + index in the plan's tests of the test
                                 whose code holds the loop; 0: the loop has it */
    uint32_t pad2;            /* keeps the slot's size a multiple of 8 */
};

struct shm_header {
    uint64_t magic;           /* SHM_MAGIC */
    uint32_t version;         /* SHM_VERSION */
    uint32_t nslots;          /* worker slots that follow (then the supervisor's) */
    uint64_t size;            /* bytes of the whole segment */
    uint64_t slot_size;       /* sizeof(struct shm_slot) */
    int32_t supervisor;       /* pid of the supervisor */
    uint32_t uid;             /* owner */
    uint32_t state;           /* enum shm_run_state */
    uint32_t stop;            /* nonzero: workers start no new runs */
    uint32_t stop_cause;      /* enum shm_stop: set when a stop came before the
                                 plan's end, final once state is DONE */
    int32_t stop_signal;      /* the signal of SHM_STOP_SIGNAL (SIGINT...) */
    int64_t stop_mono_us;     /* CLOCK_MONOTONIC of the first stop asked, 0: none */
    int64_t started_us;       /* wall clock at start, us since the epoch */
    int64_t started_mono_us;  /* CLOCK_MONOTONIC at start, us */
    int64_t ended_mono_us;    /* CLOCK_MONOTONIC at the end, 0 while running */
    uint64_t planned_runs;    /* test runs planned; 0 for a duration run */
    uint64_t duration_us;     /* per-cycle duration; 0 for a hits run */
    uint32_t ncycles;         /* cycles planned */
    uint32_t cycle;           /* current cycle, 0-based */
    uint32_t cycle_users[SHM_MAX_CYCLES]; /* users of each cycle */
    int64_t cycle_started_mono_us;        /* CLOCK_MONOTONIC at cycle start */
    /*
     * The open model (--rate): a schedule of rate_stages stages, each
     * rate_stage_us long, whose rate goes linearly from rate_from_mrps to
     * rate_to_mrps (milli-runs per second; worker/arrival.h).  The run is
     * one cycle of rate_stages x rate_stage_us (duration_us, ncycles 1).
     */
    uint32_t rate_stages;     /* 0: the closed model (-u users loop on the test) */
    uint32_t pool_users;      /* -u: VUs ready at the start, summed over workers */
    uint32_t max_users;       /* --max-users: how far the pool may grow */
    uint32_t pad;             /* keeps what follows aligned */
    uint64_t rate_stage_us;   /* each stage's length, us */
    uint64_t scheduled_runs;  /* runs of the schedule for this machine: all of
                                 them, or an agent's stripe */
    uint64_t due_runs;        /* of those, the runs due by the stop: all of
                                 them unless a stop came before the schedule's
                                 end (worker/arrival.h, arrival_due), final
                                 once state is DONE; SHM_DUE_UNKNOWN where
                                 that is not known (a cluster's runner) */
    uint64_t rate_from_mrps[SHM_MAX_CYCLES]; /* each stage's rate at its start */
    uint64_t rate_to_mrps[SHM_MAX_CYCLES];   /* and at its end */
    char test[SHM_NAME_LEN * 2];          /* the dotted test name */
    char server_url[SHM_URL_LEN];         /* --server-url */
    /*
     * The one word of the header that workers write, each with an atomic
     * fetch-and-add (record_data_row): how many rows of --data have been
     * taken, so that no two runs (or VUs) of any worker take the same row.
     */
    uint64_t data_next;
};

struct shm {
    struct shm_header *hdr;   /* mapped segment */
    size_t size;              /* mapped bytes */
    char name[64];            /* POSIX shm name, for removal */
    int owner;                /* 1: this process created it and removes it */
};

/* ---- segment life ---- */

/*
 * Creates the segment for nslots workers, named after this process, with
 * O_EXCL and mode 0600, and maps it.  Returns 0 or a negative errno, with
 * a reason in err.
 */
int shm_create(struct shm *s, uint32_t nslots, char *err, size_t errlen);

/* Maps the segment of a run by supervisor pid, read-only; checks magic, version, size. */
int shm_attach(struct shm *s, pid_t pid, char *err, size_t errlen);

/* Unmaps; removes the name too when this process created it. */
void shm_destroy(struct shm *s);

/* Removes segments left by supervisors that no longer exist. */
void shm_clean_stale(void);

/* Bytes of a segment for nslots workers (their slots and the supervisor's). */
size_t shm_segment_size(uint32_t nslots);

/* Slot i of the workers; i == hdr->nslots is the supervisor's own slot. */
struct shm_slot *shm_slot(const struct shm *s, uint32_t i);

/* ---- atomics ---- */

static inline uint64_t shm_load(const uint64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline void shm_store(uint64_t *p, uint64_t v)
{
    __atomic_store_n(p, v, __ATOMIC_RELAXED);
}

/* Adds v to a word that only this process writes. */
static inline void shm_add(uint64_t *p, uint64_t v)
{
    __atomic_store_n(p, __atomic_load_n(p, __ATOMIC_RELAXED) + v, __ATOMIC_RELAXED);
}

/* ---- writer side (a worker, on its own slot) ---- */

uint64_t shm_hash(const char *a, const char *b);

/* The row for key in the URL table, added if new; the "other" row when full. */
struct shm_url *shm_url_get(struct shm_slot *slot, const char *key, uint64_t hash);

/* Counts one failure/error message, adding it to the table when new. */
void shm_msg_count(struct shm_slot *slot, enum shm_outcome kind, const char *test,
                   const char *text);

/* The same, count times at once (a merge of another slot's table; the
 * supervisor, for a dead worker's runs). */
void shm_msg_add(struct shm_slot *slot, enum shm_outcome kind, const char *test,
                 const char *text, uint64_t count);

/* Adds n to the custom counter name.  Returns -ENOSPC when the table is full. */
int shm_counter_add(struct shm_slot *slot, const char *name, int64_t n);

/*
 * Adds passes and fails to the check name, added if new.  Returns 0, or
 * -ENOSPC when the table is full.
 */
int shm_check_add(struct shm_slot *slot, const char *name, uint64_t passes, uint64_t fails);

/* The trend name, added if new; NULL when the table is full. */
struct shm_trend *shm_trend_get(struct shm_slot *slot, const char *name);

/*
 * Sets the gauge name to value at at_us (us since the run's start) unless
 * it holds a later value already.  Returns 0, or -ENOSPC when full.
 */
int shm_gauge_set(struct shm_slot *slot, const char *name, double value, uint64_t at_us);

/* The row of test name, added if new; NULL when the table is full. */
struct shm_test *shm_test_get(struct shm_slot *slot, const char *name);

/* A gauge's value (its bits are kept as a uint64_t). */
double shm_gauge_value(const struct shm_gauge *g);

/* ---- reader side ---- */

int64_t shm_now_us(void);       /* wall clock, us */
int64_t shm_mono_us(void);      /* CLOCK_MONOTONIC, us */

#endif
