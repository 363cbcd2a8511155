/*
 * The cluster's wire protocol: encoding and decoding of its messages, no
 * I/O.  docs/protocol.md is the contract (transport, framing, every
 * message and field); this header is its C form.
 *
 * A message is one msgpack map with short string keys.  Every message has
 * "v" (CL_VERSION) and "t" (its type, a string).  Decoding takes the keys
 * it knows, skips those it does not (a newer peer may add some), and
 * checks that the keys its type requires are there with the right types.
 */
#ifndef LOADS_CLUSTER_PROTO_H
#define LOADS_CLUSTER_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "shm/delta.h"
#include "worker/arrival.h"

#define CL_VERSION        2
#define CL_RUN_LEN        24        /* run ids: 16 hex digits */
#define CL_HOST_LEN       64
#define CL_WORD_LEN       32        /* versions, states */
#define CL_ERROR_LEN      1024
#define CL_HASH_LEN       24        /* module hashes: 16 hex digits */
#define CL_PATH_LEN       256       /* a shipped file's relative path */
#define CL_MAX_FILES      64
#define CL_MAX_AGENTS     SHM_MAX_WORKERS
#define CL_MAX_LIST       1024      /* rows of a cluster listing */
#define CL_MAX_MSG        (64u << 20) /* bytes of one message */
#define CL_ENV_LEN        16384     /* bytes of a spec's --env strings */
#define CL_MAX_ENV        64        /* --env strings of a spec */
#define CL_VALUES_LEN     65536     /* bytes of a spec's setUpOnce values */
#define CL_MAX_VALUES     256       /* setUpOnce values of a spec */

enum cl_type {
    CL_NONE = 0,
    /* agent -> broker */
    CL_HELLO, CL_READY, CL_FAILED, CL_STATS, CL_DONE,
    /* broker -> agent */
    CL_WELCOME, CL_WHO, CL_RUN, CL_START, CL_ACK,
    /* runner -> broker */
    CL_SUBMIT, CL_ATTACH, CL_PING, CL_LIST, CL_PURGE,
    /* broker -> runner */
    CL_ACCEPTED, CL_REFUSED, CL_INFO, CL_LOST, CL_END, CL_PONG, CL_CLUSTER, CL_PURGED,
    /* both ways */
    CL_HB, CL_STOP,
    CL_NTYPES
};

/* What to run: the runner's options that a plan needs. */
struct cl_spec {
    char test[SHM_NAME_LEN * 2];
    char server_url[SHM_URL_LEN];
    uint32_t users[SHM_MAX_CYCLES];
    uint32_t nusers;
    uint64_t hits[SHM_MAX_CYCLES];
    uint32_t nhits;
    uint64_t duration_us;
    uint32_t workers;                 /* 0: one per core of the agent */
    double ramp_up, timeout, grace;
    uint64_t max_body;
    char env[CL_ENV_LEN];             /* --env NAME=VALUE strings, each followed by
                                         its NUL, one after the other */
    uint32_t env_len;                 /* bytes of env in use */
    char data[CL_PATH_LEN];           /* --data: the name of a shipped file, "" none */
    int data_per_vu;                  /* --data-per vu */
    /* The open model: --rate stages (0: the closed model), --max-users. */
    struct arrival_stage rate[SHM_MAX_CYCLES];
    uint32_t nrates;
    uint32_t max_users;
    /* LOADS_SETUP_ONCE and LOADS_TEARDOWN_ONCE: the runner runs them, not the agents. */
    int once;
    char values[CL_VALUES_LEN];       /* what setUpOnce stored: a name and its text,
                                         each followed by its NUL, in turn */
    uint32_t values_len;              /* bytes of values in use */
};

/* A shipped file: its path relative to the run's folder, and its bytes. */
struct cl_file {
    char name[CL_PATH_LEN];
    const uint8_t *data;              /* decoded: points into the message */
    size_t len;
};

/* One agent as a listing shows it. */
struct cl_agent {
    char host[CL_HOST_LEN];
    int64_t pid;
    char version[CL_WORD_LEN];
    char state[CL_WORD_LEN];          /* idle, building, ready, running, done, lost */
    char run[CL_RUN_LEN];             /* its run, "" when idle */
    double at;                        /* lost: seconds since the run's start */
    int64_t status;                   /* its run's exit status, once done */
};

/* One run as a listing shows it. */
struct cl_runinfo {
    char run[CL_RUN_LEN];
    char test[SHM_NAME_LEN * 2];
    char state[CL_WORD_LEN];          /* starting, running, done */
    uint32_t agents;
    double elapsed;                   /* seconds since its start */
};

struct cl_msg {
    enum cl_type type;
    uint32_t version;                 /* the sender's CL_VERSION */
    char run[CL_RUN_LEN];
    char host[CL_HOST_LEN];
    int64_t pid;
    char sw[CL_WORD_LEN];             /* "version": the sender's Loads version */
    char state[CL_WORD_LEN];
    char error[CL_ERROR_LEN];
    char hash[CL_HASH_LEN];
    uint64_t seq;
    uint64_t count;                   /* ready, info: planned runs (0: a duration);
                                         purged: runs stopped; start: the run's agents */
    int64_t status;
    uint32_t agents;                  /* agents asked for / an agent's index (start) */
    uint32_t hb_ms;                   /* heartbeat period the broker wants */
    uint32_t timeout_ms;              /* silence after which a peer is lost */
    int hard;                         /* stop: kill running tests now */
    int detach;                       /* submit: the run outlives its runner */
    int reset;                        /* stats: empty the slot before adding */
    double at;                        /* seconds since the run's start */
    int64_t started_us;               /* wall clock of the run's start (display only) */
    struct cl_spec spec;
    struct cl_file files[CL_MAX_FILES];
    uint32_t nfiles;
    struct cl_agent *list;            /* agents: accepted, info, end, cluster */
    uint32_t nlist;
    struct cl_runinfo *runs;          /* cluster */
    uint32_t nruns;
    struct shm_delta d;               /* stats */
    void *unpacked;                   /* decoded: what files[].data point into */
};

/* The type's name on the wire ("hello"...), "?" for an unknown one. */
const char *cl_type_name(enum cl_type type);

/*
 * Encodes m (the fields its type carries) into a new buffer *out of *len
 * bytes, owned by the caller (free).  Returns 0 or -ENOMEM, -EINVAL (a
 * type or a field out of range).
 */
int cl_encode(const struct cl_msg *m, uint8_t **out, size_t *len);

/*
 * Decodes one message of len bytes into m (which the caller frees with
 * cl_msg_free, whatever the result).  Returns 0, or -EPROTO with a
 * one-line reason in err: not msgpack, not one map, another protocol
 * version, an unknown type, a missing or mistyped key, a value out of
 * range.  data need not outlive m, except for files[].data, which point
 * into m's own copy.
 */
int cl_decode(struct cl_msg *m, const uint8_t *data, size_t len, char *err, size_t errlen);

/* Frees what m holds (lists, delta, decoded buffers) and zeroes it. */
void cl_msg_free(struct cl_msg *m);

/* A 64-bit FNV-1a hash of the files' names and bytes, as 16 hex digits. */
void cl_files_hash(const struct cl_file *files, uint32_t n, char out[CL_HASH_LEN]);

#endif
