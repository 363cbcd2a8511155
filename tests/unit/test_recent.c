/* shm/recent.c: the last seconds' histogram of a slot. */
#include <errno.h>
#include <stdlib.h>

#include "shm/recent.h"
#include "tests/unit/unit.h"

/* Whether a and b hold the same values, bucket for bucket. */
static int hist_equal(const struct hist *a, const struct hist *b)
{
    return a->count == b->count && a->sum_us == b->sum_us && a->min_plus1 == b->min_plus1 &&
           a->max_us == b->max_us && memcmp(a->counts, b->counts, sizeof(a->counts)) == 0;
}

/* Records second k's values: k + 1 of them, spread from 50 us to seconds. */
static void fill_second(struct hist *h, int k)
{
    for (int i = 0; i <= k; i++)
        hist_record(h, (uint64_t)(50 + 977 * i * (k + 1)) * (uint64_t)(k % 3 + 1));
}

UNIT_TEST(recent_last_seconds_exact)
{
    struct shm_slot *slot = calloc(1, sizeof(*slot));
    struct hist *second = calloc(1, sizeof(*second));
    struct hist *secs = calloc(12, sizeof(*secs));
    struct hist *want = calloc(1, sizeof(*want));
    struct hist *tmp = calloc(1, sizeof(*tmp)), *got = calloc(1, sizeof(*got));
    struct hist *empty = calloc(1, sizeof(*empty));
    struct shm_recent r = {0};

    CHECK(slot && second && secs && want && tmp && got && empty);
    /* What a crashed worker of this slot left behind must not count. */
    hist_record(&slot->recent, 123456);
    for (int k = 0; k < 12; k++) {
        fill_second(second, k);
        fill_second(&secs[k], k);
        CHECK_INT_EQ(shm_recent_push(slot, &r, second), 0);
        CHECK(hist_equal(second, empty)); /* reset for the next second */
        memset(want, 0, sizeof(*want));
        for (int j = k - SHM_RECENT + 1; j <= k; j++)
            if (j >= 0)
                hist_merge(want, &secs[j]);
        if (!hist_equal(&slot->recent, want))
            unit_fail(__FILE__, __LINE__, "second %d: the slot's histogram differs", k);
        memset(got, 0, sizeof(*got));
        CHECK_INT_EQ(shm_recent_read(slot, tmp, got), 0);
        CHECK(hist_equal(got, want));
        CHECK_INT_EQ(slot->recent_gen % 2, 0);
    }
    /* An empty second still moves the window. */
    for (int k = 0; k < SHM_RECENT; k++)
        CHECK_INT_EQ(shm_recent_push(slot, &r, second), 0);
    CHECK(hist_equal(&slot->recent, empty));
    /* A reader that meets a rewrite in progress says so and adds nothing. */
    slot->recent_gen++;
    memset(got, 0, sizeof(*got));
    CHECK_INT_EQ(shm_recent_read(slot, tmp, got), -EAGAIN);
    CHECK(hist_equal(got, empty));
    shm_recent_free(&r);
    free(slot);
    free(second);
    free(secs);
    free(want);
    free(tmp);
    free(got);
    free(empty);
}
