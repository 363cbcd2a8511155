/*
 * Unit tests for cluster/proto.c and shm/delta.c: every message type
 * round-trips, malformed messages are refused with a reason, and figures
 * sent as deltas over the wire merge into exactly the histogram a single
 * machine would have recorded, bucket for bucket.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "cluster/proto.h"
#include "shm/stats.h"
#include "tests/unit/unit.h"

static void roundtrip(const struct cl_msg *in, struct cl_msg *out)
{
    uint8_t *buf;
    size_t len;
    char err[256] = "";

    CHECK_INT_EQ(cl_encode(in, &buf, &len), 0);
    if (cl_decode(out, buf, len, err, sizeof(err)) != 0)
        unit_fail(__FILE__, __LINE__, "decode: %s", err);
    free(buf);
    CHECK_INT_EQ(out->type, in->type);
}

UNIT_TEST(proto_every_type_roundtrips)
{
    for (int t = CL_NONE + 1; t < CL_NTYPES; t++) {
        struct cl_msg in = {.type = (enum cl_type)t}, out;

        snprintf(in.run, sizeof(in.run), "00000000000000ab");
        snprintf(in.spec.test, sizeof(in.spec.test), "example.TestWebSite");
        in.spec.users[0] = 3;
        in.spec.nusers = 1;
        in.spec.hits[0] = 2;
        in.spec.nhits = 1;
        in.spec.timeout = 30;
        roundtrip(&in, &out);
        CHECK_STR_EQ(cl_type_name(out.type), cl_type_name(in.type));
        cl_msg_free(&out);
    }
}

UNIT_TEST(proto_fields_survive)
{
    static const uint8_t src[] = "LOADS_TEST(A, b) {}\n";
    struct cl_agent agents[2] = {{.host = "h1", .pid = 42, .version = "0.1.0",
                                  .state = "lost", .run = "r", .at = 12.5, .status = 1},
                                 {.host = "h2", .pid = 7, .state = "done"}};
    struct cl_msg in = {.type = CL_SUBMIT, .agents = 5, .detach = 1}, out;
    struct cl_msg inf = {.type = CL_INFO, .list = agents, .nlist = 2, .at = 3.25,
                         .started_us = 1700000000123456};

    snprintf(in.spec.test, sizeof(in.spec.test), "example.TestWebSite.test_something");
    snprintf(in.spec.server_url, sizeof(in.spec.server_url), "http://127.0.0.1:9");
    in.spec.users[0] = 10, in.spec.users[1] = 20, in.spec.users[2] = 30;
    in.spec.nusers = 3;
    in.spec.hits[0] = 20;
    in.spec.nhits = 1;
    in.spec.timeout = 30;
    in.spec.grace = 5;
    in.spec.ramp_up = 0.5;
    in.spec.workers = 2;
    in.spec.max_body = 1 << 20;
    snprintf(in.files[0].name, sizeof(in.files[0].name), "example.c");
    in.files[0].data = src;
    in.files[0].len = sizeof(src) - 1;
    snprintf(in.files[1].name, sizeof(in.files[1].name), "lib/util.h");
    in.files[1].data = src;
    in.files[1].len = 0;
    in.nfiles = 2;
    cl_files_hash(in.files, in.nfiles, in.hash);
    roundtrip(&in, &out);
    CHECK_INT_EQ(out.agents, 5);
    CHECK_INT_EQ(out.detach, 1);
    CHECK_STR_EQ(out.spec.test, in.spec.test);
    CHECK_STR_EQ(out.spec.server_url, in.spec.server_url);
    CHECK_INT_EQ(out.spec.nusers, 3);
    CHECK_INT_EQ(out.spec.users[2], 30);
    CHECK_INT_EQ(out.spec.hits[0], 20);
    CHECK(out.spec.ramp_up == 0.5 && out.spec.timeout == 30 && out.spec.grace == 5);
    CHECK_INT_EQ(out.spec.workers, 2);
    CHECK_INT_EQ(out.spec.max_body, 1 << 20);
    CHECK_INT_EQ(out.nfiles, 2);
    CHECK_STR_EQ(out.files[1].name, "lib/util.h");
    CHECK_INT_EQ(out.files[0].len, sizeof(src) - 1);
    CHECK(memcmp(out.files[0].data, src, sizeof(src) - 1) == 0);
    CHECK_STR_EQ(out.hash, in.hash);
    cl_msg_free(&out);

    snprintf(inf.run, sizeof(inf.run), "r1");
    snprintf(inf.state, sizeof(inf.state), "running");
    inf.spec = in.spec;
    roundtrip(&inf, &out);
    CHECK_INT_EQ(out.nlist, 2);
    CHECK_STR_EQ(out.list[0].host, "h1");
    CHECK_INT_EQ(out.list[0].pid, 42);
    CHECK_STR_EQ(out.list[0].state, "lost");
    CHECK(out.list[0].at == 12.5);
    CHECK_INT_EQ(out.list[0].status, 1);
    CHECK_STR_EQ(out.list[1].host, "h2");
    CHECK_INT_EQ(out.started_us, 1700000000123456);
    CHECK(out.at == 3.25);
    cl_msg_free(&out);
}

/* Encodes a hand-made map of (key, value) string pairs plus v and t. */
static int decode_map(const char *type, int version, const char *key, const char *val,
                      char *err, size_t errlen)
{
    /* fixmap of 2 or 3, fixstr keys: small enough to write by hand. */
    uint8_t buf[512];
    size_t n = 0, l;
    struct cl_msg m;
    int rc;

    buf[n++] = key ? 0x83 : 0x82;
    buf[n++] = 0xa1, buf[n++] = 'v', buf[n++] = (uint8_t)version;
    buf[n++] = 0xa1, buf[n++] = 't';
    l = strlen(type);
    buf[n++] = (uint8_t)(0xa0 | l);
    memcpy(buf + n, type, l), n += l;
    if (key) {
        l = strlen(key);
        buf[n++] = (uint8_t)(0xa0 | l);
        memcpy(buf + n, key, l), n += l;
        l = strlen(val);
        buf[n++] = (uint8_t)(0xa0 | l);
        memcpy(buf + n, val, l), n += l;
    }
    rc = cl_decode(&m, buf, n, err, errlen);
    cl_msg_free(&m);
    return rc;
}

/* An open model's spec: its stages and pool; the start names the agent's stripe. */
UNIT_TEST(proto_rate_survives)
{
    struct cl_msg in = {.type = CL_RUN}, out, start = {.type = CL_START, .agents = 2,
                                                       .count = 3};
    static const uint8_t src[] = "x";

    snprintf(in.spec.test, sizeof(in.spec.test), "a.B");
    in.spec.users[0] = 5, in.spec.nusers = 1;
    in.spec.duration_us = 6000000;
    in.spec.timeout = 30;
    in.spec.rate[0] = (struct arrival_stage){0, 100000};
    in.spec.rate[1] = (struct arrival_stage){500, 500};
    in.spec.nrates = 2;
    in.spec.max_users = 700;
    snprintf(in.files[0].name, sizeof(in.files[0].name), "a.c");
    in.files[0].data = src;
    in.files[0].len = 1;
    in.nfiles = 1;
    roundtrip(&in, &out);
    CHECK_INT_EQ(out.spec.nrates, 2);
    CHECK_INT_EQ(out.spec.rate[0].from_mrps, 0);
    CHECK_INT_EQ(out.spec.rate[0].to_mrps, 100000);
    CHECK_INT_EQ(out.spec.rate[1].to_mrps, 500);
    CHECK_INT_EQ(out.spec.max_users, 700);
    cl_msg_free(&out);
    snprintf(start.run, sizeof(start.run), "r");
    roundtrip(&start, &out);
    CHECK_INT_EQ(out.agents, 2);
    CHECK_INT_EQ(out.count, 3);
    cl_msg_free(&out);

    /* A rate with hits, or with a pool below -u, is refused. */
    {
        uint8_t *buf;
        size_t len;
        char err[256] = "";

        in.spec.max_users = 4;
        CHECK_INT_EQ(cl_encode(&in, &buf, &len), 0);
        CHECK_INT_EQ(cl_decode(&out, buf, len, err, sizeof(err)), -EPROTO);
        CHECK(strncmp(err, "spec: a rate needs", 18) == 0);
        free(buf);
        cl_msg_free(&out);
    }
}

/*
 * An agent's runs due by a stop (du) travel in its last delta, land in its
 * slot as a value (not added up), and a watcher's snapshot carries them; a
 * delta without du changes nothing.
 */
UNIT_TEST(proto_due_by_the_stop)
{
    struct cl_msg in = {.type = CL_STATS, .seq = 1}, out;
    static struct shm_slot slot;
    struct shm_delta snap;

    snprintf(in.run, sizeof(in.run), "r");
    in.d.due_plus1 = 1 + 4999999999ull; /* past 32 bits */
    roundtrip(&in, &out);
    CHECK_INT_EQ(out.d.due_plus1, 5000000000ull);
    shm_delta_apply(&slot, &out.d);
    shm_delta_apply(&slot, &out.d);
    CHECK_INT_EQ(slot.due_plus1, 5000000000ull);
    cl_msg_free(&out);
    in.d.due_plus1 = 0;
    roundtrip(&in, &out);
    CHECK_INT_EQ(out.d.due_plus1, 0);
    shm_delta_apply(&slot, &out.d);
    CHECK_INT_EQ(slot.due_plus1, 5000000000ull);
    cl_msg_free(&out);
    CHECK_INT_EQ(shm_delta_snapshot(&snap, &slot), 0);
    CHECK_INT_EQ(snap.due_plus1, 5000000000ull);
    shm_delta_free(&snap);
}

UNIT_TEST(proto_refuses_with_a_reason)
{
    char err[256];
    struct cl_msg m;
    static const uint8_t junk[] = {0xc1, 0x00};
    static const uint8_t arr[] = {0x91, 0x01};

    CHECK_INT_EQ(decode_map("ping", CL_VERSION, NULL, NULL, err, sizeof(err)), 0);
    CHECK_INT_EQ(decode_map("ping", 1, NULL, NULL, err, sizeof(err)), -EPROTO);
    CHECK_STR_EQ(err, "protocol version 1, this side speaks 2");
    CHECK_INT_EQ(decode_map("jump", CL_VERSION, NULL, NULL, err, sizeof(err)), -EPROTO);
    CHECK_STR_EQ(err, "unknown message type 'jump'");
    CHECK_INT_EQ(decode_map("attach", CL_VERSION, NULL, NULL, err, sizeof(err)), -EPROTO);
    CHECK_STR_EQ(err, "attach: no 'run'");
    CHECK_INT_EQ(decode_map("attach", CL_VERSION, "run", "x", err, sizeof(err)), 0);
    /* An unknown key is skipped: a newer peer may send more. */
    CHECK_INT_EQ(decode_map("ping", CL_VERSION, "zz", "x", err, sizeof(err)), 0);
    CHECK_INT_EQ(cl_decode(&m, junk, sizeof(junk), err, sizeof(err)), -EPROTO);
    cl_msg_free(&m);
    CHECK_INT_EQ(cl_decode(&m, arr, sizeof(arr), err, sizeof(err)), -EPROTO);
    CHECK_STR_EQ(err, "not a map");
    cl_msg_free(&m);
    CHECK_INT_EQ(cl_decode(&m, arr, 1, err, sizeof(err)), -EPROTO);
    CHECK_STR_EQ(err, "not msgpack, or truncated");
    cl_msg_free(&m);
    {
        /* An array32 header claiming 2^32-1 items in 5 bytes: refused
         * before anything is allocated for it. */
        static const uint8_t huge[] = {0xdd, 0xff, 0xff, 0xff, 0xff};

        CHECK_INT_EQ(cl_decode(&m, huge, sizeof(huge), err, sizeof(err)), -EPROTO);
        cl_msg_free(&m);
    }
}

UNIT_TEST(proto_refuses_paths_that_leave_the_folder)
{
    static const char *const bad[] = {"/etc/passwd", "../x.c", "a/../../x.c", "a//b.c",
                                      "a/./b.c", "a b.c", "a/", ""};
    static const uint8_t data[] = "x";

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct cl_msg in = {.type = CL_RUN}, out;
        uint8_t *buf;
        size_t len;
        char err[256] = "";

        snprintf(in.spec.test, sizeof(in.spec.test), "a.B");
        in.spec.users[0] = 1, in.spec.nusers = 1;
        in.spec.hits[0] = 1, in.spec.nhits = 1;
        in.spec.timeout = 1;
        snprintf(in.files[0].name, sizeof(in.files[0].name), "%s", bad[i]);
        in.files[0].data = data;
        in.files[0].len = 1;
        in.nfiles = 1;
        CHECK_INT_EQ(cl_encode(&in, &buf, &len), 0);
        CHECK_INT_EQ(cl_decode(&out, buf, len, err, sizeof(err)), -EPROTO);
        CHECK(strncmp(err, "files: ", 7) == 0);
        free(buf);
        cl_msg_free(&out);
    }
}

/* splitmix64, fixed seed. */
static uint64_t rng(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/*
 * Three agents, each with two workers of its own segment, record values
 * for five "seconds"; after each second every agent sends the delta of
 * its merged segment through the encoder and decoder into its slot of a
 * runner's segment.  The runner's merged histogram must equal, bucket for
 * bucket, one histogram that recorded every value (a local run over the
 * same data), and so must every percentile, min, max, mean and count.
 */
UNIT_TEST(proto_merged_deltas_equal_the_union)
{
    enum { AGENTS = 3, WORKERS = 2, SECONDS = 5, PER_SECOND = 2000 };
    struct shm agent[AGENTS], runner;
    struct shm_stats prev[AGENTS], cur, total;
    struct hist *local = calloc(1, sizeof(*local)), *url_local = calloc(1, sizeof(*local));
    struct hist *resp_local = calloc(1, sizeof(*local));
    static const double ps[] = {1, 10, 50, 90, 99, 99.9, 99.99};
    uint64_t seed = 7, hits = 0;
    char err[256];

    CHECK(local && url_local && resp_local);
    /* The agents' segments are named after this process: one at a time. */
    CHECK_INT_EQ(shm_create(&runner, AGENTS, err, sizeof(err)), 0);
    for (int a = 0; a < AGENTS; a++) {
        memset(&prev[a], 0, sizeof(prev[a]));
        agent[a].hdr = calloc(1, shm_segment_size(WORKERS));
        CHECK(agent[a].hdr != NULL);
        agent[a].hdr->nslots = WORKERS;
        agent[a].owner = 0;
    }
    for (int sec = 0; sec < SECONDS; sec++)
        for (int a = 0; a < AGENTS; a++) {
            struct shm_delta d;
            struct cl_msg in = {.type = CL_STATS, .seq = (uint64_t)sec + 1}, out;
            uint8_t *buf;
            size_t len;

            for (int w = 0; w < WORKERS; w++) {
                struct shm_slot *slot = shm_slot(&agent[a], (uint32_t)w);

                for (int i = 0; i < PER_SECOND; i++) {
                    uint64_t late;
                    /* log-uniform from 1 us to ~17 s, plus a few heavy ones */
                    uint64_t v = 1ull << (rng(&seed) % 24);
                    const char *key = i % 3 ? "GET http://x/a" : "POST http://x/b";
                    struct shm_url *u = shm_url_get(slot, key, shm_hash(key, NULL));

                    v += rng(&seed) % v;
                    /* its response time: the service time and a lateness */
                    late = rng(&seed) % 5000;
                    hist_record(&slot->response, v + late);
                    hist_record(&u->response, v + late);
                    hist_record(resp_local, v + late);
                    hist_record(&slot->latency, v);
                    hist_record(local, v);
                    hist_record(&u->latency, v);
                    if (i % 3)
                        hist_record(url_local, v);
                    shm_add(&u->hits, 1);
                    shm_add(&slot->c.hits, 1);
                    hits++;
                }
                shm_add(&slot->c.dropped, 2);
                shm_msg_count(slot, SHM_FAILURE, "A.b", "no Search in body");
                CHECK_INT_EQ(shm_counter_add(slot, "pages", 3), 0);
            }
            CHECK_INT_EQ(shm_stats_collect(&cur, &agent[a]), 0);
            CHECK_INT_EQ(shm_delta_diff(&in.d, &prev[a], &cur), 0);
            shm_stats_free(&prev[a]);
            prev[a] = cur;
            CHECK_INT_EQ(cl_encode(&in, &buf, &len), 0);
            shm_delta_free(&in.d);
            if (cl_decode(&out, buf, len, err, sizeof(err)) != 0)
                unit_fail(__FILE__, __LINE__, "decode: %s", err);
            free(buf);
            d = out.d;
            shm_delta_apply(shm_slot(&runner, (uint32_t)a), &d);
            cl_msg_free(&out);
        }

    CHECK_INT_EQ(shm_stats_collect(&total, &runner), 0);
    CHECK_INT_EQ(total.c.hits, hits);
    CHECK_INT_EQ(total.latency.count, local->count);
    CHECK_INT_EQ(total.latency.sum_us, local->sum_us);
    for (uint32_t i = 0; i < HIST_COUNTS; i++)
        if (total.latency.counts[i] != local->counts[i])
            unit_fail(__FILE__, __LINE__, "bucket %u: %llu != %llu", i,
                      (unsigned long long)total.latency.counts[i],
                      (unsigned long long)local->counts[i]);
    for (size_t i = 0; i < sizeof(ps) / sizeof(ps[0]); i++)
        CHECK_INT_EQ(hist_percentile(&total.latency, ps[i]), hist_percentile(local, ps[i]));
    CHECK_INT_EQ(hist_min(&total.latency), hist_min(local));
    CHECK(memcmp(total.response.counts, resp_local->counts, sizeof(resp_local->counts)) == 0);
    CHECK_INT_EQ(total.response.sum_us, resp_local->sum_us);
    CHECK_INT_EQ(total.urls[0].response.count + total.urls[1].response.count,
                 resp_local->count);
    CHECK_INT_EQ(total.c.dropped, 2 * AGENTS * WORKERS * SECONDS);
    CHECK_INT_EQ(hist_max(&total.latency), hist_max(local));
    CHECK_INT_EQ(total.nurls, 2);
    CHECK_STR_EQ(total.urls[0].key, "GET http://x/a");
    CHECK_INT_EQ(total.urls[0].latency.count, url_local->count);
    CHECK(memcmp(total.urls[0].latency.counts, url_local->counts,
                 sizeof(url_local->counts)) == 0);
    CHECK_INT_EQ(total.nmsgs, 1);
    CHECK_INT_EQ(total.msgs[0].count, AGENTS * WORKERS * SECONDS);
    CHECK_INT_EQ(total.ncounters, 1);
    CHECK_INT_EQ(total.counters[0].value, 3 * AGENTS * WORKERS * SECONDS);

    /* A late watcher: each slot's snapshot, added into an empty segment,
     * gives the same figures. */
    {
        struct shm late = {0};
        struct shm_stats again;

        late.hdr = calloc(1, shm_segment_size(AGENTS));
        CHECK(late.hdr != NULL);
        late.hdr->nslots = AGENTS;
        for (uint32_t a = 0; a < AGENTS; a++) {
            struct shm_delta d;

            CHECK_INT_EQ(shm_delta_snapshot(&d, shm_slot(&runner, a)), 0);
            shm_delta_apply(shm_slot(&late, a), &d);
            shm_delta_free(&d);
        }
        CHECK_INT_EQ(shm_stats_collect(&again, &late), 0);
        CHECK(memcmp(&again.c, &total.c, sizeof(total.c)) == 0);
        CHECK(memcmp(&again.latency, &total.latency, sizeof(total.latency)) == 0);
        CHECK(memcmp(&again.response, &total.response, sizeof(total.response)) == 0);
        CHECK_INT_EQ(again.msgs[0].count, total.msgs[0].count);
        shm_stats_free(&again);
        free(late.hdr);
    }
    shm_stats_free(&total);
    for (int a = 0; a < AGENTS; a++) {
        shm_stats_free(&prev[a]);
        free(agent[a].hdr);
    }
    shm_destroy(&runner);
    free(local);
    free(url_local);
    free(resp_local);
}

/*
 * Checks, trends, gauges and per-test outcomes travel in deltas too: two
 * agents of two workers each record them over three seconds; the runner's
 * merged figures equal sums kept here, the merged trend equals one
 * histogram of every value, bucket for bucket, and each gauge is the
 * value set last.  A late watcher's snapshots give the same.
 */
UNIT_TEST(proto_metrics_travel)
{
    enum { AGENTS = 2, WORKERS = 2, SECONDS = 3 };
    struct shm agent[AGENTS], runner, late = {0};
    struct shm_stats prev[AGENTS], cur, total, again;
    struct hist *local = calloc(1, sizeof(*local));
    uint64_t seed = 11, passes = 0, fails = 0, runs_a = 0, fails_a = 0;
    uint64_t at = 0;
    double last = 0;
    char err[256];

    CHECK(local != NULL);
    CHECK_INT_EQ(shm_create(&runner, AGENTS, err, sizeof(err)), 0);
    for (int a = 0; a < AGENTS; a++) {
        memset(&prev[a], 0, sizeof(prev[a]));
        agent[a].hdr = calloc(1, shm_segment_size(WORKERS));
        CHECK(agent[a].hdr != NULL);
        agent[a].hdr->nslots = WORKERS;
    }
    for (int sec = 0; sec < SECONDS; sec++)
        for (int a = 0; a < AGENTS; a++) {
            struct cl_msg in = {.type = CL_STATS, .seq = (uint64_t)sec + 1}, out;
            uint8_t *buf;
            size_t len;

            for (int w = 0; w < WORKERS; w++) {
                struct shm_slot *slot = shm_slot(&agent[a], (uint32_t)w);
                struct shm_trend *tr = shm_trend_get(slot, "items");
                struct shm_test *ta = shm_test_get(slot, "S.test_a");

                CHECK(tr && ta);
                for (int i = 0; i < 500; i++) {
                    uint64_t v = rng(&seed) % 5000000;
                    int ok = rng(&seed) % 10 != 0;

                    hist_record(&tr->values, v);
                    hist_record(local, v);
                    CHECK_INT_EQ(shm_check_add(slot, "found", ok, !ok), 0);
                    passes += ok;
                    fails += !ok;
                }
                shm_add(&ta->runs, 3);
                shm_add(&ta->failures, 1);
                shm_add(&ta->successes, 2);
                runs_a += 3;
                fails_a += 1;
                /* Later seconds, later agents and workers set it last. */
                at = (uint64_t)(sec * 1000000 + a * 1000 + w);
                last = -1.5 * (double)(sec * 100 + a * 10 + w);
                CHECK_INT_EQ(shm_gauge_set(slot, "queue", last, at), 0);
            }
            CHECK_INT_EQ(shm_stats_collect(&cur, &agent[a]), 0);
            CHECK_INT_EQ(shm_delta_diff(&in.d, &prev[a], &cur), 0);
            shm_stats_free(&prev[a]);
            prev[a] = cur;
            CHECK_INT_EQ(cl_encode(&in, &buf, &len), 0);
            shm_delta_free(&in.d);
            if (cl_decode(&out, buf, len, err, sizeof(err)) != 0)
                unit_fail(__FILE__, __LINE__, "decode: %s", err);
            free(buf);
            shm_delta_apply(shm_slot(&runner, (uint32_t)a), &out.d);
            cl_msg_free(&out);
        }
    CHECK_INT_EQ(shm_stats_collect(&total, &runner), 0);
    CHECK_INT_EQ(total.nchecks, 1);
    CHECK_STR_EQ(total.checks[0].name, "found");
    CHECK_INT_EQ(total.checks[0].passes, passes);
    CHECK_INT_EQ(total.checks[0].fails, fails);
    CHECK_INT_EQ(total.ntrends, 1);
    CHECK_INT_EQ(total.trends[0].values.count, local->count);
    CHECK(memcmp(total.trends[0].values.counts, local->counts, sizeof(local->counts)) == 0);
    CHECK_INT_EQ(hist_percentile(&total.trends[0].values, 99), hist_percentile(local, 99));
    CHECK_INT_EQ(total.ngauges, 1);
    CHECK(total.gauges[0].value == last);
    CHECK_INT_EQ(total.gauges[0].at_us, at + 1);
    CHECK_INT_EQ(total.ntests, 1);
    CHECK_STR_EQ(total.tests[0].name, "S.test_a");
    CHECK_INT_EQ(total.tests[0].runs, runs_a);
    CHECK_INT_EQ(total.tests[0].failures, fails_a);
    CHECK_INT_EQ(total.tests[0].successes, runs_a - fails_a);

    late.hdr = calloc(1, shm_segment_size(AGENTS));
    CHECK(late.hdr != NULL);
    late.hdr->nslots = AGENTS;
    for (uint32_t a = 0; a < AGENTS; a++) {
        struct shm_delta d;

        CHECK_INT_EQ(shm_delta_snapshot(&d, shm_slot(&runner, a)), 0);
        shm_delta_apply(shm_slot(&late, a), &d);
        shm_delta_free(&d);
    }
    CHECK_INT_EQ(shm_stats_collect(&again, &late), 0);
    CHECK_INT_EQ(again.checks[0].passes, passes);
    CHECK(memcmp(again.trends[0].values.counts, local->counts, sizeof(local->counts)) == 0);
    CHECK(again.gauges[0].value == last);
    CHECK_INT_EQ(again.tests[0].runs, runs_a);
    shm_stats_free(&again);
    free(late.hdr);
    shm_stats_free(&total);
    for (int a = 0; a < AGENTS; a++) {
        shm_stats_free(&prev[a]);
        free(agent[a].hdr);
    }
    shm_destroy(&runner);
    free(local);
}

/* A spec's --env values and --data, and the start's share of the rows. */
UNIT_TEST(proto_spec_env_data_and_start)
{
    struct cl_msg in = {.type = CL_RUN}, out, st = {.type = CL_START, .agents = 2, .count = 5},
                  st_out;
    static const char env[] = "A=1\0GREETING=hello world\0EMPTY=\0";
    uint8_t *buf;
    size_t len;
    char err[256];

    snprintf(in.run, sizeof(in.run), "00000000000000ab");
    snprintf(in.spec.test, sizeof(in.spec.test), "data_cases.TestData");
    in.spec.users[0] = 1;
    in.spec.nusers = 1;
    in.spec.hits[0] = 1;
    in.spec.nhits = 1;
    in.spec.timeout = 30;
    memcpy(in.spec.env, env, sizeof(env) - 1);
    in.spec.env_len = sizeof(env) - 1;
    snprintf(in.spec.data, sizeof(in.spec.data), "data/items.csv");
    in.spec.data_per_vu = 1;
    roundtrip(&in, &out);
    CHECK_INT_EQ(out.spec.env_len, in.spec.env_len);
    CHECK(memcmp(out.spec.env, env, sizeof(env) - 1) == 0);
    CHECK_STR_EQ(out.spec.data, "data/items.csv");
    CHECK_INT_EQ(out.spec.data_per_vu, 1);
    cl_msg_free(&out);
    snprintf(st.run, sizeof(st.run), "r");
    roundtrip(&st, &st_out);
    CHECK_INT_EQ(st_out.agents, 2);
    CHECK_INT_EQ(st_out.count, 5);
    cl_msg_free(&st_out);
    /* A data file that would leave the run's folder is refused. */
    snprintf(in.spec.data, sizeof(in.spec.data), "../etc/passwd");
    CHECK_INT_EQ(cl_encode(&in, &buf, &len), 0);
    CHECK_INT_EQ(cl_decode(&out, buf, len, err, sizeof(err)), -EPROTO);
    CHECK(strstr(err, "../etc/passwd") != NULL);
    cl_msg_free(&out);
    free(buf);
}

/* setUpOnce's values travel in the spec, in order; more than 256 are refused. */
UNIT_TEST(proto_spec_once_values)
{
    struct cl_msg in = {.type = CL_SUBMIT, .agents = 2}, out;
    static const char values[] = "token\0item 42\0ids\0[7, 8, 9]\0empty\0\0";
    uint8_t *buf;
    size_t len;
    char err[256];

    snprintf(in.spec.test, sizeof(in.spec.test), "scope_cases.TestScopes");
    in.spec.users[0] = 1;
    in.spec.nusers = 1;
    in.spec.hits[0] = 1;
    in.spec.nhits = 1;
    in.spec.timeout = 30;
    roundtrip(&in, &out);
    CHECK_INT_EQ(out.spec.once, 0);
    CHECK_INT_EQ(out.spec.values_len, 0);
    cl_msg_free(&out);
    in.spec.once = 1;
    memcpy(in.spec.values, values, sizeof(values) - 1);
    in.spec.values_len = sizeof(values) - 1;
    roundtrip(&in, &out);
    CHECK_INT_EQ(out.spec.once, 1);
    CHECK_INT_EQ(out.spec.values_len, in.spec.values_len);
    CHECK(memcmp(out.spec.values, values, sizeof(values) - 1) == 0);
    cl_msg_free(&out);
    /* 257 values: one too many. */
    in.spec.values_len = 0;
    for (int i = 0; i < CL_MAX_VALUES + 1; i++)
        in.spec.values_len += (uint32_t)snprintf(in.spec.values + in.spec.values_len,
                                                 sizeof(in.spec.values) - in.spec.values_len,
                                                 "v%d%cx", i, 0) + 1;
    CHECK_INT_EQ(cl_encode(&in, &buf, &len), 0);
    CHECK_INT_EQ(cl_decode(&out, buf, len, err, sizeof(err)), -EPROTO);
    CHECK_STR_EQ(err, "spec.values: more than 256 items");
    cl_msg_free(&out);
    free(buf);
}
