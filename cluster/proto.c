/*
 * The cluster's messages to and from msgpack (see proto.h and
 * docs/protocol.md).  Pure: no I/O, no global state.  msgpack-c's results
 * are translated here and nowhere else.
 *
 * Each type has a set of keys; the encoder writes exactly those, the
 * decoder requires them and skips any key it does not know.
 */
#include <errno.h>
#include <msgpack.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/proto.h"

enum {
    F_RUN = 1u << 0, F_HOST = 1u << 1, F_PID = 1u << 2, F_SW = 1u << 3,
    F_STATE = 1u << 4, F_ERROR = 1u << 5, F_HASH = 1u << 6, F_SEQ = 1u << 7,
    F_STATUS = 1u << 8, F_AGENTS = 1u << 9, F_HB = 1u << 10, F_TIMEOUT = 1u << 11,
    F_HARD = 1u << 12, F_DETACH = 1u << 13, F_RESET = 1u << 14, F_AT = 1u << 15,
    F_STARTED = 1u << 16, F_SPEC = 1u << 17, F_FILES = 1u << 18, F_LIST = 1u << 19,
    F_RUNS = 1u << 20, F_DELTA = 1u << 21, F_COUNT = 1u << 22,
    F_NFIELDS = 23,
};

/* Key names, in bit order. */
static const char *const field_names[F_NFIELDS] = {
    "run", "host", "pid", "version", "state", "error", "hash", "seq", "status",
    "agents", "hb_ms", "timeout_ms", "hard", "detach", "reset", "at", "started_us",
    "spec", "files", "list", "runs", "d", "count",
};

static const struct {
    const char *name;
    uint32_t fields;
} types[CL_NTYPES] = {
    [CL_HELLO] = {"hello", F_HOST | F_PID | F_SW | F_STATE | F_RUN},
    [CL_READY] = {"ready", F_RUN | F_COUNT},
    [CL_FAILED] = {"failed", F_RUN | F_STATUS | F_ERROR},
    [CL_STATS] = {"stats", F_RUN | F_SEQ | F_AGENTS | F_RESET | F_DELTA},
    [CL_DONE] = {"done", F_RUN | F_SEQ | F_STATUS},
    [CL_WELCOME] = {"welcome", F_HB | F_TIMEOUT},
    [CL_WHO] = {"who", 0},
    [CL_RUN] = {"run", F_RUN | F_SPEC | F_FILES | F_HASH},
    [CL_START] = {"start", F_RUN | F_AGENTS | F_COUNT},
    [CL_ACK] = {"ack", F_RUN | F_SEQ},
    [CL_SUBMIT] = {"submit", F_AGENTS | F_DETACH | F_SPEC | F_FILES | F_HASH},
    [CL_ATTACH] = {"attach", F_RUN},
    [CL_PING] = {"ping", 0},
    [CL_LIST] = {"list", 0},
    [CL_PURGE] = {"purge", 0},
    [CL_ACCEPTED] = {"accepted", F_RUN | F_LIST},
    [CL_REFUSED] = {"refused", F_STATUS | F_ERROR},
    [CL_INFO] = {"info", F_RUN | F_SPEC | F_LIST | F_STARTED | F_AT | F_STATE | F_COUNT},
    [CL_LOST] = {"lost", F_RUN | F_AGENTS | F_AT},
    [CL_END] = {"end", F_RUN | F_LIST | F_AT},
    [CL_PONG] = {"pong", F_SW | F_AGENTS},
    [CL_CLUSTER] = {"cluster", F_LIST | F_RUNS},
    [CL_PURGED] = {"purged", F_COUNT},
    [CL_HB] = {"hb", F_STATE | F_RUN},
    [CL_STOP] = {"stop", F_RUN | F_HARD},
};

const char *cl_type_name(enum cl_type type)
{
    return type > CL_NONE && type < CL_NTYPES ? types[type].name : "?";
}

/* ------------------------------------------------------------------ encode */

static void pack_str(msgpack_packer *pk, const char *s)
{
    size_t n = strlen(s);

    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s, n);
}

static void pack_key(msgpack_packer *pk, const char *k)
{
    pack_str(pk, k);
}

/* [count, sum, min+1, max, first index, its count, gap, count, ...] */
static void pack_hist(msgpack_packer *pk, const struct hist_sparse *h)
{
    uint32_t prev = 0;

    msgpack_pack_array(pk, 4 + 2 * (size_t)h->n);
    msgpack_pack_uint64(pk, h->count);
    msgpack_pack_uint64(pk, h->sum_us);
    msgpack_pack_uint64(pk, h->min_plus1);
    msgpack_pack_uint64(pk, h->max_us);
    for (uint32_t k = 0; k < h->n; k++) {
        msgpack_pack_uint32(pk, k ? h->idx[k] - prev : h->idx[k]);
        msgpack_pack_uint64(pk, h->cnt[k]);
        prev = h->idx[k];
    }
}

static void pack_delta(msgpack_packer *pk, const struct shm_delta *d)
{
    const uint64_t *c = (const uint64_t *)&d->c;
    size_t nc = sizeof(d->c) / sizeof(uint64_t);

    msgpack_pack_map(pk, 16 + (d->due_plus1 != 0));
    if (d->due_plus1) {
        pack_key(pk, "du");
        msgpack_pack_uint64(pk, d->due_plus1 - 1);
    }
    pack_key(pk, "c");
    msgpack_pack_array(pk, nc);
    for (size_t i = 0; i < nc; i++)
        msgpack_pack_uint64(pk, c[i]);
    pack_key(pk, "l");
    pack_hist(pk, &d->latency);
    pack_key(pk, "r");
    pack_hist(pk, &d->response);
    pack_key(pk, "u");
    msgpack_pack_array(pk, d->nurls);
    for (uint32_t i = 0; i < d->nurls; i++) {
        msgpack_pack_array(pk, 6);
        pack_str(pk, d->urls[i].key);
        msgpack_pack_uint64(pk, d->urls[i].hits);
        msgpack_pack_uint64(pk, d->urls[i].ok);
        msgpack_pack_uint64(pk, d->urls[i].errors);
        pack_hist(pk, &d->urls[i].latency);
        pack_hist(pk, &d->urls[i].response);
    }
    pack_key(pk, "m");
    msgpack_pack_array(pk, d->nmsgs);
    for (uint32_t i = 0; i < d->nmsgs; i++) {
        msgpack_pack_array(pk, 4);
        msgpack_pack_uint32(pk, d->msgs[i].kind);
        pack_str(pk, d->msgs[i].test);
        pack_str(pk, d->msgs[i].text);
        msgpack_pack_uint64(pk, d->msgs[i].count);
    }
    pack_key(pk, "k");
    msgpack_pack_array(pk, d->ncounters);
    for (uint32_t i = 0; i < d->ncounters; i++) {
        msgpack_pack_array(pk, 2);
        pack_str(pk, d->counters[i].name);
        msgpack_pack_int64(pk, d->counters[i].n);
    }
    pack_key(pk, "s");
    msgpack_pack_array(pk, d->nseconds);
    for (uint32_t i = 0; i < d->nseconds; i++) {
        msgpack_pack_array(pk, 7);
        msgpack_pack_uint64(pk, d->seconds[i].second);
        msgpack_pack_uint64(pk, d->seconds[i].hits);
        msgpack_pack_uint64(pk, d->seconds[i].errors);
        msgpack_pack_uint64(pk, d->seconds[i].p50_us);
        msgpack_pack_uint64(pk, d->seconds[i].p99_us);
        msgpack_pack_uint64(pk, d->seconds[i].runs);
        msgpack_pack_uint64(pk, d->seconds[i].dropped);
    }
    pack_key(pk, "mo");
    msgpack_pack_uint64(pk, d->msgs_other);
    pack_key(pk, "x");
    msgpack_pack_uint32(pk, d->crashes);
    pack_key(pk, "cy");
    msgpack_pack_uint32(pk, d->cycle);
    pack_key(pk, "cs");
    msgpack_pack_double(pk, d->cycle_started);
    pack_key(pk, "ck");
    msgpack_pack_array(pk, d->nchecks);
    for (uint32_t i = 0; i < d->nchecks; i++) {
        msgpack_pack_array(pk, 3);
        pack_str(pk, d->checks[i].name);
        msgpack_pack_uint64(pk, d->checks[i].passes);
        msgpack_pack_uint64(pk, d->checks[i].fails);
    }
    pack_key(pk, "tr");
    msgpack_pack_array(pk, d->ntrends);
    for (uint32_t i = 0; i < d->ntrends; i++) {
        msgpack_pack_array(pk, 2);
        pack_str(pk, d->trends[i].name);
        pack_hist(pk, &d->trends[i].values);
    }
    pack_key(pk, "g");
    msgpack_pack_array(pk, d->ngauges);
    for (uint32_t i = 0; i < d->ngauges; i++) {
        msgpack_pack_array(pk, 3);
        pack_str(pk, d->gauges[i].name);
        msgpack_pack_double(pk, d->gauges[i].value);
        msgpack_pack_uint64(pk, d->gauges[i].at_us);
    }
    pack_key(pk, "ts");
    msgpack_pack_array(pk, d->ntests);
    for (uint32_t i = 0; i < d->ntests; i++) {
        msgpack_pack_array(pk, 6);
        pack_str(pk, d->tests[i].name);
        msgpack_pack_uint64(pk, d->tests[i].runs);
        msgpack_pack_uint64(pk, d->tests[i].successes);
        msgpack_pack_uint64(pk, d->tests[i].failures);
        msgpack_pack_uint64(pk, d->tests[i].errors);
        msgpack_pack_uint64(pk, d->tests[i].interrupted);
    }
    pack_key(pk, "to");
    msgpack_pack_uint64(pk, d->tests_other);
}

static void pack_spec(msgpack_packer *pk, const struct cl_spec *s)
{
    uint32_t nenv = 0;

    for (uint32_t i = 0; i < s->env_len && i < sizeof(s->env); i++)
        nenv += s->env[i] == '\0';
    uint32_t nvalues = 0;

    for (uint32_t i = 0; i < s->values_len && i < sizeof(s->values); i++)
        nvalues += s->values[i] == '\0';
    nvalues /= 2;
    msgpack_pack_map(pk, 17);
    pack_key(pk, "once");
    s->once ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
    pack_key(pk, "values");
    msgpack_pack_array(pk, nvalues);
    for (uint32_t i = 0, k = 0; k < nvalues; k++) {
        msgpack_pack_array(pk, 2);
        pack_str(pk, s->values + i);
        i += (uint32_t)strlen(s->values + i) + 1;
        pack_str(pk, s->values + i);
        i += (uint32_t)strlen(s->values + i) + 1;
    }
    pack_key(pk, "env");
    msgpack_pack_array(pk, nenv);
    for (uint32_t i = 0, k = 0; k < nenv; k++) {
        pack_str(pk, s->env + i);
        i += (uint32_t)strlen(s->env + i) + 1;
    }
    pack_key(pk, "data");
    pack_str(pk, s->data);
    pack_key(pk, "data_per");
    pack_str(pk, s->data_per_vu ? "vu" : "run");
    pack_key(pk, "test");
    pack_str(pk, s->test);
    pack_key(pk, "url");
    pack_str(pk, s->server_url);
    pack_key(pk, "users");
    msgpack_pack_array(pk, s->nusers);
    for (uint32_t i = 0; i < s->nusers; i++)
        msgpack_pack_uint32(pk, s->users[i]);
    pack_key(pk, "hits");
    msgpack_pack_array(pk, s->nhits);
    for (uint32_t i = 0; i < s->nhits; i++)
        msgpack_pack_uint64(pk, s->hits[i]);
    pack_key(pk, "duration_us");
    msgpack_pack_uint64(pk, s->duration_us);
    pack_key(pk, "workers");
    msgpack_pack_uint32(pk, s->workers);
    pack_key(pk, "ramp_up");
    msgpack_pack_double(pk, s->ramp_up);
    pack_key(pk, "timeout");
    msgpack_pack_double(pk, s->timeout);
    pack_key(pk, "grace");
    msgpack_pack_double(pk, s->grace);
    pack_key(pk, "max_body");
    msgpack_pack_uint64(pk, s->max_body);
    pack_key(pk, "rate");
    msgpack_pack_array(pk, s->nrates);
    for (uint32_t i = 0; i < s->nrates; i++) {
        msgpack_pack_array(pk, 2);
        msgpack_pack_uint64(pk, s->rate[i].from_mrps);
        msgpack_pack_uint64(pk, s->rate[i].to_mrps);
    }
    pack_key(pk, "max_users");
    msgpack_pack_uint32(pk, s->max_users);
}

static void pack_agent(msgpack_packer *pk, const struct cl_agent *a)
{
    msgpack_pack_map(pk, 7);
    pack_key(pk, "host");
    pack_str(pk, a->host);
    pack_key(pk, "pid");
    msgpack_pack_int64(pk, a->pid);
    pack_key(pk, "version");
    pack_str(pk, a->version);
    pack_key(pk, "state");
    pack_str(pk, a->state);
    pack_key(pk, "run");
    pack_str(pk, a->run);
    pack_key(pk, "at");
    msgpack_pack_double(pk, a->at);
    pack_key(pk, "status");
    msgpack_pack_int64(pk, a->status);
}

static void pack_runinfo(msgpack_packer *pk, const struct cl_runinfo *r)
{
    msgpack_pack_map(pk, 5);
    pack_key(pk, "run");
    pack_str(pk, r->run);
    pack_key(pk, "test");
    pack_str(pk, r->test);
    pack_key(pk, "state");
    pack_str(pk, r->state);
    pack_key(pk, "agents");
    msgpack_pack_uint32(pk, r->agents);
    pack_key(pk, "elapsed");
    msgpack_pack_double(pk, r->elapsed);
}

static void pack_field(msgpack_packer *pk, const struct cl_msg *m, uint32_t bit)
{
    switch (bit) {
    case F_RUN: pack_str(pk, m->run); break;
    case F_HOST: pack_str(pk, m->host); break;
    case F_PID: msgpack_pack_int64(pk, m->pid); break;
    case F_SW: pack_str(pk, m->sw); break;
    case F_STATE: pack_str(pk, m->state); break;
    case F_ERROR: pack_str(pk, m->error); break;
    case F_HASH: pack_str(pk, m->hash); break;
    case F_SEQ: msgpack_pack_uint64(pk, m->seq); break;
    case F_COUNT: msgpack_pack_uint64(pk, m->count); break;
    case F_STATUS: msgpack_pack_int64(pk, m->status); break;
    case F_AGENTS: msgpack_pack_uint32(pk, m->agents); break;
    case F_HB: msgpack_pack_uint32(pk, m->hb_ms); break;
    case F_TIMEOUT: msgpack_pack_uint32(pk, m->timeout_ms); break;
    case F_HARD: m->hard ? msgpack_pack_true(pk) : msgpack_pack_false(pk); break;
    case F_DETACH: m->detach ? msgpack_pack_true(pk) : msgpack_pack_false(pk); break;
    case F_RESET: m->reset ? msgpack_pack_true(pk) : msgpack_pack_false(pk); break;
    case F_AT: msgpack_pack_double(pk, m->at); break;
    case F_STARTED: msgpack_pack_int64(pk, m->started_us); break;
    case F_SPEC: pack_spec(pk, &m->spec); break;
    case F_FILES:
        msgpack_pack_array(pk, m->nfiles);
        for (uint32_t i = 0; i < m->nfiles; i++) {
            msgpack_pack_array(pk, 2);
            pack_str(pk, m->files[i].name);
            msgpack_pack_bin(pk, m->files[i].len);
            msgpack_pack_bin_body(pk, m->files[i].data, m->files[i].len);
        }
        break;
    case F_LIST:
        msgpack_pack_array(pk, m->nlist);
        for (uint32_t i = 0; i < m->nlist; i++)
            pack_agent(pk, &m->list[i]);
        break;
    case F_RUNS:
        msgpack_pack_array(pk, m->nruns);
        for (uint32_t i = 0; i < m->nruns; i++)
            pack_runinfo(pk, &m->runs[i]);
        break;
    case F_DELTA: pack_delta(pk, &m->d); break;
    }
}

/* The encoder's buffer, which remembers a failed write (out of memory). */
struct enc {
    msgpack_sbuffer sb;
    int failed;
};

static int enc_write(void *data, const char *buf, size_t len)
{
    struct enc *e = data;

    if (e->failed || msgpack_sbuffer_write(&e->sb, buf, len) < 0) {
        e->failed = 1;
        return -1;
    }
    return 0;
}

int cl_encode(const struct cl_msg *m, uint8_t **out, size_t *len)
{
    struct enc e = {.failed = 0};
    msgpack_packer pk;
    uint32_t fields;

    *out = NULL;
    *len = 0;
    if (m->type <= CL_NONE || m->type >= CL_NTYPES || m->nfiles > CL_MAX_FILES)
        return -EINVAL;
    fields = types[m->type].fields;
    msgpack_sbuffer_init(&e.sb);
    msgpack_packer_init(&pk, &e, enc_write);
    msgpack_pack_map(&pk, 2 + (size_t)__builtin_popcount(fields));
    pack_key(&pk, "v");
    msgpack_pack_uint32(&pk, CL_VERSION);
    pack_key(&pk, "t");
    pack_str(&pk, types[m->type].name);
    for (int b = 0; b < F_NFIELDS; b++)
        if (fields & (1u << b)) {
            pack_key(&pk, field_names[b]);
            pack_field(&pk, m, 1u << b);
        }
    if (e.failed || !e.sb.data) {
        msgpack_sbuffer_destroy(&e.sb);
        return -ENOMEM;
    }
    *out = (uint8_t *)e.sb.data;
    *len = e.sb.size;
    return 0;
}

/* ------------------------------------------------------------------ decode */

struct dec {
    char *err;
    size_t errlen;
};

__attribute__((format(printf, 2, 3))) static int bad(struct dec *x, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(x->err, x->errlen, fmt, ap);
    va_end(ap);
    return -EPROTO;
}

static int key_is(const msgpack_object *k, const char *name)
{
    size_t n = strlen(name);

    return k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
           memcmp(k->via.str.ptr, name, n) == 0;
}

static int get_uint(struct dec *x, const msgpack_object *o, uint64_t max, uint64_t *out,
                    const char *what)
{
    if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER || o->via.u64 > max)
        return bad(x, "%s: expected a whole number from 0 to %llu", what,
                   (unsigned long long)max);
    *out = o->via.u64;
    return 0;
}

static int get_int(struct dec *x, const msgpack_object *o, int64_t *out, const char *what)
{
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        *out = o->via.i64;
        return 0;
    }
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= INT64_MAX) {
        *out = (int64_t)o->via.u64;
        return 0;
    }
    return bad(x, "%s: expected a 64-bit integer", what);
}

static int get_u32(struct dec *x, const msgpack_object *o, uint32_t *out, const char *what)
{
    uint64_t v = 0;

    if (get_uint(x, o, UINT32_MAX, &v, what) < 0)
        return -EPROTO;
    *out = (uint32_t)v;
    return 0;
}

/* A finite number, integer or float, in [0, max]. */
static int get_double(struct dec *x, const msgpack_object *o, double max, double *out,
                      const char *what)
{
    double v;

    if (o->type == MSGPACK_OBJECT_FLOAT32 || o->type == MSGPACK_OBJECT_FLOAT64)
        v = o->via.f64;
    else if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        v = (double)o->via.u64;
    else
        return bad(x, "%s: expected a number", what);
    if (!(v >= 0 && v <= max))
        return bad(x, "%s: expected a number from 0 to %g", what, max);
    *out = v;
    return 0;
}

static int get_bool(struct dec *x, const msgpack_object *o, int *out, const char *what)
{
    if (o->type != MSGPACK_OBJECT_BOOLEAN)
        return bad(x, "%s: expected true or false", what);
    *out = o->via.boolean ? 1 : 0;
    return 0;
}

/* A string without NUL bytes that fits size (with its terminator). */
static int get_str(struct dec *x, const msgpack_object *o, char *buf, size_t size,
                   const char *what)
{
    if (o->type != MSGPACK_OBJECT_STR)
        return bad(x, "%s: expected a string", what);
    if (o->via.str.size >= size)
        return bad(x, "%s: longer than %zu bytes", what, size - 1);
    if (o->via.str.size && memchr(o->via.str.ptr, '\0', o->via.str.size))
        return bad(x, "%s: contains a NUL byte", what);
    if (o->via.str.size)
        memcpy(buf, o->via.str.ptr, o->via.str.size);
    buf[o->via.str.size] = '\0';
    return 0;
}

static int get_array(struct dec *x, const msgpack_object *o, uint32_t max, const char *what)
{
    if (o->type != MSGPACK_OBJECT_ARRAY)
        return bad(x, "%s: expected an array", what);
    if (o->via.array.size > max)
        return bad(x, "%s: more than %u items", what, max);
    return 0;
}

static int get_hist(struct dec *x, const msgpack_object *o, struct hist_sparse *h,
                    const char *what)
{
    const msgpack_object *a;
    uint64_t idx = 0, v = 0;
    uint32_t n;

    if (get_array(x, o, 4 + 2 * HIST_COUNTS, what) < 0)
        return -EPROTO;
    n = o->via.array.size;
    a = o->via.array.ptr;
    if (n < 4 || n % 2)
        return bad(x, "%s: expected count, sum, min+1, max and pairs", what);
    if (get_uint(x, &a[0], UINT64_MAX, &h->count, what) < 0 ||
        get_uint(x, &a[1], UINT64_MAX, &h->sum_us, what) < 0 ||
        get_uint(x, &a[2], HIST_MAX_US + 1, &h->min_plus1, what) < 0 ||
        get_uint(x, &a[3], HIST_MAX_US, &h->max_us, what) < 0)
        return -EPROTO;
    for (uint32_t k = 4; k < n; k += 2) {
        if (get_uint(x, &a[k], HIST_COUNTS, &v, what) < 0)
            return -EPROTO;
        if (k > 4 && v == 0)
            return bad(x, "%s: bucket indexes must increase", what);
        idx += v;
        if (idx >= HIST_COUNTS)
            return bad(x, "%s: bucket index past %u", what, HIST_COUNTS - 1);
        if (get_uint(x, &a[k + 1], UINT64_MAX, &v, what) < 0)
            return -EPROTO;
        if (shm_sparse_push(h, (uint32_t)idx, v) < 0)
            return bad(x, "out of memory");
    }
    return 0;
}

/* Any finite number: a float, or an integer of either sign. */
static int get_real(struct dec *x, const msgpack_object *o, double *out, const char *what)
{
    if (o->type == MSGPACK_OBJECT_FLOAT32 || o->type == MSGPACK_OBJECT_FLOAT64)
        *out = o->via.f64;
    else if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        *out = (double)o->via.u64;
    else if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        *out = (double)o->via.i64;
    else
        return bad(x, "%s: expected a number", what);
    return 0;
}

/* Starts a table of n rows of size bytes for one key of a delta. */
static void *get_rows(struct dec *x, const msgpack_object *v, void **rows, uint32_t *nrows,
                      size_t size, const char *what)
{
    uint32_t n;

    if (get_array(x, v, 4096, what) < 0)
        return NULL;
    n = v->via.array.size;
    free(*rows);
    *nrows = 0;
    if (!(*rows = calloc(n + 1, size))) {
        bad(x, "out of memory");
        return NULL;
    }
    return *rows;
}

/* The keys of a delta added with checks, trends, gauges and tests. */
static int get_delta_metrics(struct dec *x, const msgpack_object *k, const msgpack_object *v,
                             struct shm_delta *d)
{
    const msgpack_object *a = v->via.array.ptr;
    uint32_t n = v->type == MSGPACK_OBJECT_ARRAY ? v->via.array.size : 0;

    if (key_is(k, "ck")) {
        if (!get_rows(x, v, (void **)&d->checks, &d->nchecks, sizeof(*d->checks), "d.ck"))
            return -EPROTO;
        for (uint32_t j = 0; j < n; j++) {
            struct shm_delta_check *c = &d->checks[j];
            const msgpack_object *r = a[j].via.array.ptr;

            if (a[j].type != MSGPACK_OBJECT_ARRAY || a[j].via.array.size != 3)
                return bad(x, "d.ck: expected [name, passes, fails]");
            d->nchecks = j + 1;
            if (get_str(x, &r[0], c->name, sizeof(c->name), "d.ck name") < 0 ||
                get_uint(x, &r[1], UINT64_MAX, &c->passes, "d.ck passes") < 0 ||
                get_uint(x, &r[2], UINT64_MAX, &c->fails, "d.ck fails") < 0)
                return -EPROTO;
        }
    } else if (key_is(k, "tr")) {
        if (!get_rows(x, v, (void **)&d->trends, &d->ntrends, sizeof(*d->trends), "d.tr"))
            return -EPROTO;
        for (uint32_t j = 0; j < n; j++) {
            struct shm_delta_trend *t = &d->trends[j];
            const msgpack_object *r = a[j].via.array.ptr;

            if (a[j].type != MSGPACK_OBJECT_ARRAY || a[j].via.array.size != 2)
                return bad(x, "d.tr: expected [name, hist]");
            d->ntrends = j + 1;
            if (get_str(x, &r[0], t->name, sizeof(t->name), "d.tr name") < 0 ||
                get_hist(x, &r[1], &t->values, "d.tr values") < 0)
                return -EPROTO;
        }
    } else if (key_is(k, "g")) {
        if (!get_rows(x, v, (void **)&d->gauges, &d->ngauges, sizeof(*d->gauges), "d.g"))
            return -EPROTO;
        for (uint32_t j = 0; j < n; j++) {
            struct shm_delta_gauge *g = &d->gauges[j];
            const msgpack_object *r = a[j].via.array.ptr;

            if (a[j].type != MSGPACK_OBJECT_ARRAY || a[j].via.array.size != 3)
                return bad(x, "d.g: expected [name, value, at_us]");
            d->ngauges = j + 1;
            if (get_str(x, &r[0], g->name, sizeof(g->name), "d.g name") < 0 ||
                get_real(x, &r[1], &g->value, "d.g value") < 0 ||
                get_uint(x, &r[2], UINT64_MAX, &g->at_us, "d.g at_us") < 0)
                return -EPROTO;
        }
    } else if (key_is(k, "ts")) {
        if (!get_rows(x, v, (void **)&d->tests, &d->ntests, sizeof(*d->tests), "d.ts"))
            return -EPROTO;
        for (uint32_t j = 0; j < n; j++) {
            struct shm_delta_test *t = &d->tests[j];
            const msgpack_object *r = a[j].via.array.ptr;

            if (a[j].type != MSGPACK_OBJECT_ARRAY || a[j].via.array.size != 6)
                return bad(x, "d.ts: expected [test, runs, successes, failures, errors, "
                              "interrupted]");
            d->ntests = j + 1;
            if (get_str(x, &r[0], t->name, sizeof(t->name), "d.ts test") < 0 ||
                get_uint(x, &r[1], UINT64_MAX, &t->runs, "d.ts runs") < 0 ||
                get_uint(x, &r[2], UINT64_MAX, &t->successes, "d.ts successes") < 0 ||
                get_uint(x, &r[3], UINT64_MAX, &t->failures, "d.ts failures") < 0 ||
                get_uint(x, &r[4], UINT64_MAX, &t->errors, "d.ts errors") < 0 ||
                get_uint(x, &r[5], UINT64_MAX, &t->interrupted, "d.ts interrupted") < 0)
                return -EPROTO;
        }
    } else if (key_is(k, "to")) {
        if (get_uint(x, v, UINT64_MAX, &d->tests_other, "d.to") < 0)
            return -EPROTO;
    }
    return 0;
}

static int get_delta(struct dec *x, const msgpack_object *o, struct shm_delta *d)
{
    static const char *const keys[] = {"c", "l", "u", "m", "k", "s", "mo", "ed", "x",
                                       "cy", "cs", "ck", "tr", "g", "ts", "to", "r", "du"};
    uint32_t seen = 0;

    if (o->type != MSGPACK_OBJECT_MAP)
        return bad(x, "d: expected a map");
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object *k = &o->via.map.ptr[i].key, *v = &o->via.map.ptr[i].val;
        const msgpack_object *a = v->via.array.ptr;
        uint32_t n = v->type == MSGPACK_OBJECT_ARRAY ? v->via.array.size : 0;

        for (uint32_t j = 0; j < sizeof(keys) / sizeof(keys[0]); j++)
            if (key_is(k, keys[j])) {
                if (seen & (1u << j))
                    return bad(x, "d: '%s' twice", keys[j]);
                seen |= 1u << j;
            }

        if (key_is(k, "c")) {
            uint64_t *c = (uint64_t *)&d->c;
            size_t nc = sizeof(d->c) / sizeof(uint64_t);

            if (get_array(x, v, (uint32_t)nc, "d.c") < 0)
                return -EPROTO;
            /* Fewer counters than this side knows: the rest stay 0. */
            for (uint32_t j = 0; j < n; j++)
                if (get_uint(x, &a[j], UINT64_MAX, &c[j], "d.c") < 0)
                    return -EPROTO;
        } else if (key_is(k, "l")) {
            if (get_hist(x, v, &d->latency, "d.l") < 0)
                return -EPROTO;
        } else if (key_is(k, "r")) {
            if (get_hist(x, v, &d->response, "d.r") < 0)
                return -EPROTO;
        } else if (key_is(k, "u")) {
            if (get_array(x, v, 4096, "d.u") < 0)
                return -EPROTO;
            free(d->urls);
            d->nurls = 0;
            if (!(d->urls = calloc(n + 1, sizeof(*d->urls))))
                return bad(x, "out of memory");
            for (uint32_t j = 0; j < n; j++) {
                struct shm_delta_url *u = &d->urls[j];
                const msgpack_object *r = a[j].via.array.ptr;

                if (a[j].type != MSGPACK_OBJECT_ARRAY || a[j].via.array.size < 5)
                    return bad(x, "d.u: expected [key, hits, ok, errors, latency, "
                                  "response]");
                d->nurls = j + 1;
                if (get_str(x, &r[0], u->key, sizeof(u->key), "d.u key") < 0 ||
                    get_uint(x, &r[1], UINT64_MAX, &u->hits, "d.u hits") < 0 ||
                    get_uint(x, &r[2], UINT64_MAX, &u->ok, "d.u ok") < 0 ||
                    get_uint(x, &r[3], UINT64_MAX, &u->errors, "d.u errors") < 0 ||
                    get_hist(x, &r[4], &u->latency, "d.u latency") < 0 ||
                    (a[j].via.array.size > 5 &&
                     get_hist(x, &r[5], &u->response, "d.u response") < 0))
                    return -EPROTO;
            }
        } else if (key_is(k, "m")) {
            if (get_array(x, v, 4096, "d.m") < 0)
                return -EPROTO;
            free(d->msgs);
            d->nmsgs = 0;
            if (!(d->msgs = calloc(n + 1, sizeof(*d->msgs))))
                return bad(x, "out of memory");
            for (uint32_t j = 0; j < n; j++) {
                struct shm_delta_msg *m = &d->msgs[j];
                const msgpack_object *r = a[j].via.array.ptr;
                uint64_t kind = 0;

                if (a[j].type != MSGPACK_OBJECT_ARRAY || a[j].via.array.size != 4)
                    return bad(x, "d.m: expected [kind, test, text, count]");
                if (get_uint(x, &r[0], SHM_CRASH, &kind, "d.m kind") < 0 || kind == 0 ||
                    get_str(x, &r[1], m->test, sizeof(m->test), "d.m test") < 0 ||
                    get_str(x, &r[2], m->text, sizeof(m->text), "d.m text") < 0 ||
                    get_uint(x, &r[3], UINT64_MAX, &m->count, "d.m count") < 0)
                    return kind == 0 ? bad(x, "d.m kind: 1, 2 or 3") : -EPROTO;
                m->kind = (uint32_t)kind;
                d->nmsgs = j + 1;
            }
        } else if (key_is(k, "k")) {
            if (get_array(x, v, 4096, "d.k") < 0)
                return -EPROTO;
            free(d->counters);
            d->ncounters = 0;
            if (!(d->counters = calloc(n + 1, sizeof(*d->counters))))
                return bad(x, "out of memory");
            for (uint32_t j = 0; j < n; j++) {
                struct shm_delta_counter *c = &d->counters[j];
                const msgpack_object *r = a[j].via.array.ptr;

                if (a[j].type != MSGPACK_OBJECT_ARRAY || a[j].via.array.size != 2)
                    return bad(x, "d.k: expected [name, n]");
                if (get_str(x, &r[0], c->name, sizeof(c->name), "d.k name") < 0 ||
                    get_int(x, &r[1], &c->n, "d.k n") < 0)
                    return -EPROTO;
                d->ncounters = j + 1;
            }
        } else if (key_is(k, "s")) {
            if (get_array(x, v, SHM_SERIES, "d.s") < 0)
                return -EPROTO;
            free(d->seconds);
            d->nseconds = 0;
            if (!(d->seconds = calloc(n + 1, sizeof(*d->seconds))))
                return bad(x, "out of memory");
            for (uint32_t j = 0; j < n; j++) {
                struct shm_second *s = &d->seconds[j];
                const msgpack_object *r = a[j].via.array.ptr;

                if (a[j].type != MSGPACK_OBJECT_ARRAY || a[j].via.array.size < 5)
                    return bad(x, "d.s: expected [second, hits, errors, p50, p99, runs, "
                                  "dropped]");
                if (get_uint(x, &r[0], UINT32_MAX, &s->second, "d.s second") < 0 ||
                    get_uint(x, &r[1], UINT64_MAX, &s->hits, "d.s hits") < 0 ||
                    get_uint(x, &r[2], UINT64_MAX, &s->errors, "d.s errors") < 0 ||
                    get_uint(x, &r[3], HIST_MAX_US, &s->p50_us, "d.s p50") < 0 ||
                    get_uint(x, &r[4], HIST_MAX_US, &s->p99_us, "d.s p99") < 0 ||
                    (a[j].via.array.size > 5 &&
                     get_uint(x, &r[5], UINT64_MAX, &s->runs, "d.s runs") < 0) ||
                    (a[j].via.array.size > 6 &&
                     get_uint(x, &r[6], UINT64_MAX, &s->dropped, "d.s dropped") < 0))
                    return -EPROTO;
                d->nseconds = j + 1;
            }
        } else if (key_is(k, "mo")) {
            if (get_uint(x, v, UINT64_MAX, &d->msgs_other, "d.mo") < 0)
                return -EPROTO;
        } else if (key_is(k, "x")) {
            if (get_u32(x, v, &d->crashes, "d.x") < 0)
                return -EPROTO;
        } else if (key_is(k, "cy")) {
            if (get_u32(x, v, &d->cycle, "d.cy") < 0 || d->cycle >= SHM_MAX_CYCLES)
                return bad(x, "d.cy: expected a cycle from 0 to %d", SHM_MAX_CYCLES - 1);
        } else if (key_is(k, "cs")) {
            if (get_double(x, v, 1e9, &d->cycle_started, "d.cs") < 0)
                return -EPROTO;
        } else if (key_is(k, "du")) {
            uint64_t due = 0;

            if (get_uint(x, v, UINT64_MAX - 1, &due, "d.du") < 0)
                return -EPROTO;
            d->due_plus1 = due + 1;
        } else if (get_delta_metrics(x, k, v, d) < 0) {
            return -EPROTO;
        }
    }
    return 0;
}

static int check_path(struct dec *x, const char *p);

/* The --env strings of a spec: NAME=VALUE each, into s->env one after the other. */
static int get_env(struct dec *x, const msgpack_object *o, struct cl_spec *s)
{
    if (get_array(x, o, CL_MAX_ENV, "spec.env") < 0)
        return -EPROTO;
    s->env_len = 0;
    for (uint32_t j = 0; j < o->via.array.size; j++) {
        const msgpack_object *e = &o->via.array.ptr[j];
        char *at = s->env + s->env_len;

        if (get_str(x, e, at, sizeof(s->env) - s->env_len, "spec.env") < 0)
            return -EPROTO;
        if (at[0] == '=' || !strchr(at, '='))
            return bad(x, "spec.env: '%.64s' is not NAME=VALUE", at);
        s->env_len += (uint32_t)strlen(at) + 1;
    }
    return 0;
}

/* spec.values: [[name, text], ...], into s->values: name, NUL, text, NUL, in turn. */
static int get_values(struct dec *x, const msgpack_object *o, struct cl_spec *s)
{
    if (get_array(x, o, CL_MAX_VALUES, "spec.values") < 0)
        return -EPROTO;
    s->values_len = 0;
    for (uint32_t j = 0; j < o->via.array.size; j++) {
        const msgpack_object *e = &o->via.array.ptr[j];

        if (e->type != MSGPACK_OBJECT_ARRAY || e->via.array.size != 2)
            return bad(x, "spec.values: expected [name, text]");
        for (uint32_t k = 0; k < 2; k++) {
            char *at = s->values + s->values_len;

            if (get_str(x, &e->via.array.ptr[k], at, sizeof(s->values) - s->values_len,
                        "spec.values") < 0)
                return -EPROTO;
            s->values_len += (uint32_t)strlen(at) + 1;
        }
    }
    return 0;
}

/* spec.rate: [[from_mrps, to_mrps], ...], at most SHM_MAX_CYCLES stages. */
static int get_rate(struct dec *x, const msgpack_object *o, struct cl_spec *s)
{
    uint64_t any = 0;

    if (get_array(x, o, SHM_MAX_CYCLES, "spec.rate") < 0)
        return -EPROTO;
    s->nrates = o->via.array.size;
    for (uint32_t j = 0; j < s->nrates; j++) {
        const msgpack_object *st = &o->via.array.ptr[j];

        if (st->type != MSGPACK_OBJECT_ARRAY || st->via.array.size != 2)
            return bad(x, "spec.rate: expected [from_mrps, to_mrps]");
        if (get_uint(x, &st->via.array.ptr[0], ARRIVAL_MAX_MRPS, &s->rate[j].from_mrps,
                     "spec.rate") < 0 ||
            get_uint(x, &st->via.array.ptr[1], ARRIVAL_MAX_MRPS, &s->rate[j].to_mrps,
                     "spec.rate") < 0)
            return -EPROTO;
        any |= s->rate[j].from_mrps | s->rate[j].to_mrps;
    }
    if (s->nrates && !any)
        return bad(x, "spec.rate: every stage is 0 runs/s");
    return 0;
}

static int get_spec(struct dec *x, const msgpack_object *o, struct cl_spec *s)
{
    uint64_t v = 0;

    if (o->type != MSGPACK_OBJECT_MAP)
        return bad(x, "spec: expected a map");
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object *k = &o->via.map.ptr[i].key, *val = &o->via.map.ptr[i].val;
        int rc = 0;

        if (key_is(k, "test"))
            rc = get_str(x, val, s->test, sizeof(s->test), "spec.test");
        else if (key_is(k, "url"))
            rc = get_str(x, val, s->server_url, sizeof(s->server_url), "spec.url");
        else if (key_is(k, "users")) {
            if ((rc = get_array(x, val, SHM_MAX_CYCLES, "spec.users")) == 0) {
                s->nusers = val->via.array.size;
                for (uint32_t j = 0; j < s->nusers && rc == 0; j++) {
                    rc = get_uint(x, &val->via.array.ptr[j], 1000000, &v, "spec.users");
                    s->users[j] = (uint32_t)v;
                    if (rc == 0 && v == 0)
                        rc = bad(x, "spec.users: a cycle of 0 users");
                }
            }
        } else if (key_is(k, "hits")) {
            if ((rc = get_array(x, val, SHM_MAX_CYCLES, "spec.hits")) == 0) {
                s->nhits = val->via.array.size;
                for (uint32_t j = 0; j < s->nhits && rc == 0; j++) {
                    rc = get_uint(x, &val->via.array.ptr[j], UINT64_C(1000000000000),
                                  &s->hits[j], "spec.hits");
                    if (rc == 0 && s->hits[j] == 0)
                        rc = bad(x, "spec.hits: 0 hits");
                }
            }
        } else if (key_is(k, "duration_us"))
            rc = get_uint(x, val, UINT64_C(366) * 86400000000, &s->duration_us,
                          "spec.duration_us");
        else if (key_is(k, "workers")) {
            rc = get_uint(x, val, SHM_MAX_WORKERS, &v, "spec.workers");
            s->workers = (uint32_t)v;
        } else if (key_is(k, "ramp_up"))
            rc = get_double(x, val, 86400, &s->ramp_up, "spec.ramp_up");
        else if (key_is(k, "timeout"))
            rc = get_double(x, val, 86400, &s->timeout, "spec.timeout");
        else if (key_is(k, "grace"))
            rc = get_double(x, val, 86400, &s->grace, "spec.grace");
        else if (key_is(k, "max_body"))
            rc = get_uint(x, val, SIZE_MAX / 2, &s->max_body, "spec.max_body");
        else if (key_is(k, "env"))
            rc = get_env(x, val, s);
        else if (key_is(k, "data")) {
            rc = get_str(x, val, s->data, sizeof(s->data), "spec.data");
            if (rc == 0 && s->data[0])
                rc = check_path(x, s->data);
        }
        else if (key_is(k, "data_per")) {
            char per[8];

            rc = get_str(x, val, per, sizeof(per), "spec.data_per");
            if (rc == 0 && strcmp(per, "vu") != 0 && strcmp(per, "run") != 0)
                rc = bad(x, "spec.data_per: run or vu");
            s->data_per_vu = rc == 0 && strcmp(per, "vu") == 0;
        }
        else if (key_is(k, "rate"))
            rc = get_rate(x, val, s);
        else if (key_is(k, "once"))
            rc = get_bool(x, val, &s->once, "spec.once");
        else if (key_is(k, "values"))
            rc = get_values(x, val, s);
        else if (key_is(k, "max_users")) {
            rc = get_uint(x, val, 1000000, &v, "spec.max_users");
            s->max_users = (uint32_t)v;
        }
        if (rc < 0)
            return rc;
    }
    if (!s->test[0] || !s->nusers || (!s->nhits) == (!s->duration_us))
        return bad(x, "spec: needs test, users, and hits or duration_us");
    if (s->nrates && (s->nhits || s->nusers != 1 || s->max_users < s->users[0]))
        return bad(x, "spec: a rate needs duration_us, one users value and max_users "
                      "at least users");
    if (!(s->timeout > 0))
        return bad(x, "spec.timeout: must be above 0");
    return 0;
}

/*
 * A shipped file's name: a relative path of letters, digits, '.', '_',
 * '-' and '/', no empty, "." or ".." component: it cannot leave the
 * run's folder on the agent.
 */
static int check_path(struct dec *x, const char *p)
{
    const char *c = p;

    if (!*p || *p == '/')
        return bad(x, "files: '%s' is not a relative path", p);
    for (; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
              (*c >= '0' && *c <= '9') || strchr("._-/", *c)))
            return bad(x, "files: '%s' has a character other than letters, digits, "
                          "'.', '_', '-' and '/'", p);
    for (c = p; *c;) {
        size_t n = strcspn(c, "/");

        if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
            return bad(x, "files: '%s' has an empty, '.' or '..' component", p);
        c += n;
        if (*c == '/')
            c++;
        if (!*c && c[-1] == '/')
            return bad(x, "files: '%s' ends with '/'", p);
    }
    return 0;
}

static int get_files(struct dec *x, const msgpack_object *o, struct cl_msg *m)
{
    if (get_array(x, o, CL_MAX_FILES, "files") < 0)
        return -EPROTO;
    for (uint32_t i = 0; i < o->via.array.size; i++) {
        const msgpack_object *f = &o->via.array.ptr[i];
        struct cl_file *cf = &m->files[i];

        if (f->type != MSGPACK_OBJECT_ARRAY || f->via.array.size != 2 ||
            f->via.array.ptr[1].type != MSGPACK_OBJECT_BIN)
            return bad(x, "files: expected [name, bytes]");
        if (get_str(x, &f->via.array.ptr[0], cf->name, sizeof(cf->name), "files name") < 0 ||
            check_path(x, cf->name) < 0)
            return -EPROTO;
        for (uint32_t j = 0; j < i; j++)
            if (strcmp(m->files[j].name, cf->name) == 0)
                return bad(x, "files: '%s' twice", cf->name);
        cf->data = (const uint8_t *)f->via.array.ptr[1].via.bin.ptr;
        cf->len = f->via.array.ptr[1].via.bin.size;
        m->nfiles = i + 1;
    }
    return 0;
}

static int get_agent(struct dec *x, const msgpack_object *o, struct cl_agent *a)
{
    if (o->type != MSGPACK_OBJECT_MAP)
        return bad(x, "list: expected maps");
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object *k = &o->via.map.ptr[i].key, *v = &o->via.map.ptr[i].val;
        int rc = 0;

        if (key_is(k, "host"))
            rc = get_str(x, v, a->host, sizeof(a->host), "list.host");
        else if (key_is(k, "pid"))
            rc = get_int(x, v, &a->pid, "list.pid");
        else if (key_is(k, "version"))
            rc = get_str(x, v, a->version, sizeof(a->version), "list.version");
        else if (key_is(k, "state"))
            rc = get_str(x, v, a->state, sizeof(a->state), "list.state");
        else if (key_is(k, "run"))
            rc = get_str(x, v, a->run, sizeof(a->run), "list.run");
        else if (key_is(k, "at"))
            rc = get_double(x, v, 1e9, &a->at, "list.at");
        else if (key_is(k, "status"))
            rc = get_int(x, v, &a->status, "list.status");
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int get_runinfo(struct dec *x, const msgpack_object *o, struct cl_runinfo *r)
{
    if (o->type != MSGPACK_OBJECT_MAP)
        return bad(x, "runs: expected maps");
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object *k = &o->via.map.ptr[i].key, *v = &o->via.map.ptr[i].val;
        int rc = 0;

        if (key_is(k, "run"))
            rc = get_str(x, v, r->run, sizeof(r->run), "runs.run");
        else if (key_is(k, "test"))
            rc = get_str(x, v, r->test, sizeof(r->test), "runs.test");
        else if (key_is(k, "state"))
            rc = get_str(x, v, r->state, sizeof(r->state), "runs.state");
        else if (key_is(k, "agents"))
            rc = get_u32(x, v, &r->agents, "runs.agents");
        else if (key_is(k, "elapsed"))
            rc = get_double(x, v, 1e9, &r->elapsed, "runs.elapsed");
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int get_field(struct dec *x, struct cl_msg *m, uint32_t bit, const msgpack_object *v)
{
    uint64_t u = 0;

    switch (bit) {
    case F_RUN: return get_str(x, v, m->run, sizeof(m->run), "run");
    case F_HOST: return get_str(x, v, m->host, sizeof(m->host), "host");
    case F_PID: return get_int(x, v, &m->pid, "pid");
    case F_SW: return get_str(x, v, m->sw, sizeof(m->sw), "version");
    case F_STATE: return get_str(x, v, m->state, sizeof(m->state), "state");
    case F_ERROR: return get_str(x, v, m->error, sizeof(m->error), "error");
    case F_HASH: return get_str(x, v, m->hash, sizeof(m->hash), "hash");
    case F_SEQ: return get_uint(x, v, UINT64_MAX, &m->seq, "seq");
    case F_COUNT: return get_uint(x, v, UINT64_MAX, &m->count, "count");
    case F_STATUS: return get_int(x, v, &m->status, "status");
    case F_AGENTS: return get_u32(x, v, &m->agents, "agents");
    case F_HB:
        if (get_uint(x, v, 3600000, &u, "hb_ms") < 0)
            return -EPROTO;
        m->hb_ms = (uint32_t)u;
        return 0;
    case F_TIMEOUT:
        if (get_uint(x, v, 3600000, &u, "timeout_ms") < 0)
            return -EPROTO;
        m->timeout_ms = (uint32_t)u;
        return 0;
    case F_HARD: return get_bool(x, v, &m->hard, "hard");
    case F_DETACH: return get_bool(x, v, &m->detach, "detach");
    case F_RESET: return get_bool(x, v, &m->reset, "reset");
    case F_AT: return get_double(x, v, 1e9, &m->at, "at");
    case F_STARTED: return get_int(x, v, &m->started_us, "started_us");
    case F_SPEC: return get_spec(x, v, &m->spec);
    case F_FILES: return get_files(x, v, m);
    case F_DELTA: return get_delta(x, v, &m->d);
    case F_LIST:
        if (get_array(x, v, CL_MAX_LIST, "list") < 0)
            return -EPROTO;
        free(m->list);
        m->nlist = 0;
        if (!(m->list = calloc(v->via.array.size + 1, sizeof(*m->list))))
            return bad(x, "out of memory");
        for (uint32_t i = 0; i < v->via.array.size; i++) {
            if (get_agent(x, &v->via.array.ptr[i], &m->list[i]) < 0)
                return -EPROTO;
            m->nlist = i + 1;
        }
        return 0;
    case F_RUNS:
        if (get_array(x, v, CL_MAX_LIST, "runs") < 0)
            return -EPROTO;
        free(m->runs);
        m->nruns = 0;
        if (!(m->runs = calloc(v->via.array.size + 1, sizeof(*m->runs))))
            return bad(x, "out of memory");
        for (uint32_t i = 0; i < v->via.array.size; i++) {
            if (get_runinfo(x, &v->via.array.ptr[i], &m->runs[i]) < 0)
                return -EPROTO;
            m->nruns = i + 1;
        }
        return 0;
    }
    return 0;
}

/* Reads a big-endian number of n bytes. */
static uint64_t be(const uint8_t *p, unsigned int n)
{
    uint64_t v = 0;

    for (unsigned int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/*
 * Walks the msgpack bytes before msgpack-c sees them: msgpack-c allocates
 * a container for the count its header claims, so five bytes could ask
 * for 64 GiB.  Here every item still owed must have a byte of its own
 * left in the input, which bounds what decoding allocates by the
 * message's size.  Returns 0 when the bytes hold one well-formed value.
 */
static int mp_check(const uint8_t *p, size_t len)
{
    uint64_t owed = 1;
    size_t pos = 0;

    while (owed) {
        uint8_t b;
        uint64_t count = 0, skip = 0;
        unsigned int hdr = 0;

        if (pos >= len)
            return -1;
        b = p[pos++];
        owed--;
        if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) {
            /* fixint, nil, bool: nothing more */
        } else if (b >= 0x80 && b <= 0x8f) {
            count = 2u * (b & 0x0f);
        } else if (b >= 0x90 && b <= 0x9f) {
            count = b & 0x0f;
        } else if (b >= 0xa0 && b <= 0xbf) {
            skip = b & 0x1f;
        } else {
            switch (b) {
            case 0xc4: case 0xd9: hdr = 1; break;          /* bin8, str8 */
            case 0xc5: case 0xda: hdr = 2; break;          /* bin16, str16 */
            case 0xc6: case 0xdb: hdr = 4; break;          /* bin32, str32 */
            case 0xc7: hdr = 1, skip = 1; break;           /* ext8: + type */
            case 0xc8: hdr = 2, skip = 1; break;
            case 0xc9: hdr = 4, skip = 1; break;
            case 0xca: skip = 4; break;
            case 0xcb: skip = 8; break;
            case 0xcc: case 0xd0: skip = 1; break;
            case 0xcd: case 0xd1: skip = 2; break;
            case 0xce: case 0xd2: skip = 4; break;
            case 0xcf: case 0xd3: skip = 8; break;
            case 0xd4: skip = 2; break;                    /* fixext: type + data */
            case 0xd5: skip = 3; break;
            case 0xd6: skip = 5; break;
            case 0xd7: skip = 9; break;
            case 0xd8: skip = 17; break;
            case 0xdc: case 0xdd: case 0xde: case 0xdf: {
                unsigned int n = b == 0xdc || b == 0xde ? 2 : 4;

                if (len - pos < n)
                    return -1;
                count = be(p + pos, n) * (b >= 0xde ? 2 : 1);
                pos += n;
                break;
            }
            default:
                return -1;                                 /* 0xc1: never used */
            }
            if (hdr) {
                if (len - pos < hdr)
                    return -1;
                skip += be(p + pos, hdr);
                pos += hdr;
            }
        }
        if (skip > len - pos)
            return -1;
        pos += skip;
        owed += count;
        if (owed > len - pos)
            return -1;
    }
    return 0;
}

/* What cl_msg.unpacked holds: the decoded tree and the bytes it points into. */
struct unpacked {
    msgpack_unpacked u;
    uint8_t *copy;
};

int cl_decode(struct cl_msg *m, const uint8_t *data, size_t len, char *err, size_t errlen)
{
    struct dec x = {err, errlen};
    struct unpacked *up;
    const msgpack_object *o;
    uint32_t seen = 0, want;
    uint64_t version = 0;
    char tname[32] = "";
    size_t off = 0;
    int rc;

    memset(m, 0, sizeof(*m));
    if (len > CL_MAX_MSG)
        return bad(&x, "message of %zu bytes, above the limit of %u", len, CL_MAX_MSG);
    if (!(up = calloc(1, sizeof(*up))) || !(up->copy = malloc(len ? len : 1))) {
        free(up);
        return bad(&x, "out of memory");
    }
    m->unpacked = up;
    if (len)
        memcpy(up->copy, data, len);
    msgpack_unpacked_init(&up->u);
    if (mp_check(up->copy, len) < 0)
        return bad(&x, "not msgpack, or truncated");
    rc = msgpack_unpack_next(&up->u, (const char *)up->copy, len, &off);
    if (rc != MSGPACK_UNPACK_SUCCESS && rc != MSGPACK_UNPACK_EXTRA_BYTES)
        return bad(&x, rc == MSGPACK_UNPACK_CONTINUE ? "truncated msgpack"
                       : rc == MSGPACK_UNPACK_NOMEM_ERROR ? "out of memory"
                                                          : "not msgpack");
    if (off != len)
        return bad(&x, "%zu bytes after the message", len - off);
    o = &up->u.data;
    if (o->type != MSGPACK_OBJECT_MAP)
        return bad(&x, "not a map");
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object *k = &o->via.map.ptr[i].key, *v = &o->via.map.ptr[i].val;

        if (key_is(k, "v")) {
            if (get_uint(&x, v, UINT32_MAX, &version, "v") < 0)
                return -EPROTO;
        } else if (key_is(k, "t")) {
            if (get_str(&x, v, tname, sizeof(tname), "t") < 0)
                return -EPROTO;
        }
    }
    if (version != CL_VERSION)
        return bad(&x, "protocol version %llu, this side speaks %d",
                   (unsigned long long)version, CL_VERSION);
    m->version = (uint32_t)version;
    for (int t = CL_NONE + 1; t < CL_NTYPES; t++)
        if (types[t].name && strcmp(types[t].name, tname) == 0)
            m->type = (enum cl_type)t;
    if (m->type == CL_NONE)
        return bad(&x, "unknown message type '%s'", tname);
    want = types[m->type].fields;
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object *k = &o->via.map.ptr[i].key, *v = &o->via.map.ptr[i].val;

        for (int b = 0; b < F_NFIELDS; b++) {
            if (!(want & (1u << b)) || !key_is(k, field_names[b]))
                continue;
            if (seen & (1u << b))
                return bad(&x, "%s: '%s' twice", tname, field_names[b]);
            if (get_field(&x, m, 1u << b, v) < 0)
                return -EPROTO;
            seen |= 1u << b;
        }
    }
    if (seen != want)
        for (int b = 0; b < F_NFIELDS; b++)
            if ((want & ~seen) & (1u << b))
                return bad(&x, "%s: no '%s'", tname, field_names[b]);
    return 0;
}

void cl_msg_free(struct cl_msg *m)
{
    struct unpacked *up = m->unpacked;

    if (up) {
        msgpack_unpacked_destroy(&up->u);
        free(up->copy);
        free(up);
    }
    free(m->list);
    free(m->runs);
    shm_delta_free(&m->d);
    memset(m, 0, sizeof(*m));
}

void cl_files_hash(const struct cl_file *files, uint32_t n, char out[CL_HASH_LEN])
{
    uint64_t h = 0xcbf29ce484222325ull;

    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *p = (const uint8_t *)files[i].name;
        uint64_t len = files[i].len;

        for (size_t k = 0; k <= strlen(files[i].name); k++)
            h = (h ^ p[k]) * 0x100000001b3ull;
        for (int k = 0; k < 8; k++)
            h = (h ^ ((len >> (8 * k)) & 0xff)) * 0x100000001b3ull;
        for (size_t k = 0; k < files[i].len; k++)
            h = (h ^ files[i].data[k]) * 0x100000001b3ull;
    }
    snprintf(out, CL_HASH_LEN, "%016llx", (unsigned long long)h);
}
