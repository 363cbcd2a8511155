/* The segment's tables and the merged snapshot. */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shm/stats.h"
#include "tests/unit/unit.h"

UNIT_TEST(shm_create_mode_and_removal)
{
    struct shm s, r;
    struct stat st;
    char err[256], path[128];

    CHECK_INT_EQ(shm_create(&s, 2, err, sizeof(err)), 0);
    snprintf(path, sizeof(path), "/dev/shm%s", s.name);
    CHECK_INT_EQ(stat(path, &st), 0);
    CHECK_INT_EQ(st.st_mode & 0777, 0600);
    CHECK_INT_EQ(shm_attach(&r, getpid(), err, sizeof(err)), 0);
    CHECK_INT_EQ(r.hdr->nslots, 2);
    shm_destroy(&r);
    shm_destroy(&s);
    CHECK(stat(path, &st) < 0);
    CHECK(shm_attach(&r, getpid(), err, sizeof(err)) < 0);
}

UNIT_TEST(shm_url_table_overflows_to_other)
{
    struct shm_slot *slot = calloc(1, sizeof(*slot));
    char key[64];

    for (int i = 0; i < SHM_URLS + 5; i++) {
        snprintf(key, sizeof(key), "GET http://h/%d", i);
        shm_add(&shm_url_get(slot, key, shm_hash(key, NULL))->hits, 1);
    }
    shm_add(&shm_url_get(slot, "GET http://h/0", shm_hash("GET http://h/0", NULL))->hits,
            1);
    CHECK_INT_EQ(slot->nurls, SHM_URLS);
    CHECK_INT_EQ(slot->urls[0].hits, 2);
    CHECK_INT_EQ(slot->urls[SHM_URL_OTHER].hits, 5);
    CHECK_STR_EQ(slot->urls[SHM_URL_OTHER].key, "other");
    free(slot);
}

UNIT_TEST(shm_stats_merge_slots)
{
    struct shm s;
    struct shm_stats st;
    char err[256];

    CHECK_INT_EQ(shm_create(&s, 2, err, sizeof(err)), 0);
    for (uint32_t w = 0; w < 2; w++) {
        struct shm_slot *slot = shm_slot(&s, w);

        shm_add(&slot->c.hits, 10 + w);
        hist_record(&slot->latency, 100 * (w + 1));
        shm_add(&shm_url_get(slot, "GET /a", shm_hash("GET /a", NULL))->hits, 3);
        shm_msg_count(slot, SHM_FAILURE, "S.t", "same");
        shm_msg_count(slot, SHM_FAILURE, "S.t", "same");
        shm_msg_count(slot, SHM_ERROR, "S.t", w ? "only-1" : "only-0");
        CHECK_INT_EQ(shm_counter_add(slot, "logins", 2), 0);
    }
    CHECK_INT_EQ(shm_stats_collect(&st, &s), 0);
    CHECK_INT_EQ(st.c.hits, 21);
    CHECK_INT_EQ(st.latency.count, 2);
    CHECK_INT_EQ(st.nurls, 1);
    CHECK_INT_EQ(st.urls[0].hits, 6);
    CHECK_INT_EQ(st.nmsgs, 3);
    CHECK_STR_EQ(st.msgs[0].text, "same");
    CHECK_INT_EQ(st.msgs[0].count, 4);
    CHECK_INT_EQ(st.ncounters, 1);
    CHECK_INT_EQ(st.counters[0].value, 4);
    shm_stats_free(&st);
    shm_destroy(&s);
}

/*
 * The supervisor's slot (index nslots) is mapped, attached and merged like
 * a worker's: its warnings reach every view; shm_msg_add counts n at once.
 */
UNIT_TEST(shm_stats_merge_supervisor_slot)
{
    struct shm s, r;
    struct shm_stats st;
    char err[256];

    CHECK_INT_EQ(shm_create(&s, 1, err, sizeof(err)), 0);
    shm_msg_add(shm_slot(&s, 0), SHM_ERROR, "S.t", "cut", 3);
    shm_msg_count(shm_slot(&s, 0), SHM_ERROR, "S.t", "cut");
    shm_msg_count(shm_slot(&s, 1), SHM_WARNING, "S.t", "held");
    CHECK_INT_EQ(shm_attach(&r, getpid(), err, sizeof(err)), 0);
    CHECK_INT_EQ(shm_stats_collect(&st, &r), 0);
    CHECK_INT_EQ(st.nmsgs, 2);
    CHECK_STR_EQ(st.msgs[0].text, "cut");
    CHECK_INT_EQ(st.msgs[0].count, 4);
    CHECK_INT_EQ(st.msgs[1].kind, SHM_WARNING);
    CHECK_STR_EQ(st.msgs[1].text, "held");
    CHECK_INT_EQ(st.msgs[1].count, 1);
    shm_stats_free(&st);
    shm_destroy(&r);
    shm_destroy(&s);
}

/* shm_stats_second: counts of a second add up, its percentiles are the highest. */
UNIT_TEST(shm_stats_second_merges_slots)
{
    struct shm s;
    struct shm_second m;
    char err[256];

    CHECK_INT_EQ(shm_create(&s, 3, err, sizeof(err)), 0);
    for (uint32_t i = 0; i < 3; i++) {
        struct shm_second *e = &shm_slot(&s, i)->series[7 % SHM_SERIES];

        *e = (struct shm_second){.second = 8, .hits = 10 * (i + 1), .errors = i,
                                 .runs = 5, .dropped = 1, .p50_us = 100 + i,
                                 .p99_us = 900 - i};
    }
    /* Slot 2 holds the second SHM_SERIES later in the same place: left out. */
    shm_slot(&s, 2)->series[7 % SHM_SERIES].second = 8 + SHM_SERIES;
    shm_stats_second(&s, 7, &m);
    CHECK(m.second == 8);
    CHECK(m.hits == 30);
    CHECK(m.errors == 1);
    CHECK(m.runs == 10);
    CHECK(m.dropped == 2);
    CHECK(m.p50_us == 101);
    CHECK(m.p99_us == 900);
    shm_stats_second(&s, 6, &m);
    CHECK(m.second == 7 && m.hits == 0 && m.p99_us == 0);
    shm_destroy(&s);
}
