/* threshold_parse: --threshold 'p99<200ms', 'errors{GET /a}<1%'... and measuring it. */
#include <errno.h>
#include <math.h>

#include "shm/threshold.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct shm_stats st; /* empty: nothing to measure */
    char *s = fuzz_cstr(data, size), err[256];
    struct threshold t, again;
    struct threshold_result r;
    int rc = threshold_parse(s, &t, err, sizeof(err));

    FUZZ_CHECK(rc == 0 || rc == -EINVAL);
    if (rc < 0) {
        int col = 0;

        fuzz_check_err(err, sizeof(err), 0);
        /* "column N: ..." with N a place in the input or just after it. */
        FUZZ_CHECK(sscanf(err, "column %d: ", &col) == 1);
        FUZZ_CHECK(col >= 1 && (size_t)col <= strlen(s) + 1);
    } else {
        FUZZ_CHECK(t.text[0] && strlen(t.text) < THRESHOLD_LEN);
        FUZZ_CHECK(strstr(s, t.text) != NULL);
        FUZZ_CHECK(isfinite(t.value) && t.value >= 0);
        if (t.metric == THRESHOLD_PERCENTILE)
            FUZZ_CHECK(t.percentile > 0 && t.percentile <= 100);
        FUZZ_CHECK(!t.share || t.metric == THRESHOLD_ERRORS || t.metric == THRESHOLD_DROPPED ||
                   t.metric == THRESHOLD_CHECKS);
        FUZZ_CHECK(t.metric != THRESHOLD_CHECKS || t.share);
        FUZZ_CHECK(!t.service || t.metric <= THRESHOLD_MAX);
        FUZZ_CHECK(!t.named || (t.metric != THRESHOLD_CHECKS && t.url[0] && !t.method[0]));
        for (const char *c = t.url; *c; c++)
            FUZZ_CHECK((unsigned char)*c >= 0x20 && *c != 0x7f);
        if (t.metric == THRESHOLD_CHECKS || t.named) {
            FUZZ_CHECK(!t.named || t.url[0]);
        } else {
            FUZZ_CHECK(!t.url[0] || t.url[0] == '/' || strstr(t.url, "://"));
            FUZZ_CHECK(!strchr(t.url, '?') && !strchr(t.url, '}'));
        }
        for (const char *m = t.method; *m; m++)
            FUZZ_CHECK(*m >= 'A' && *m <= 'Z');
        /* The text it kept means the same. */
        FUZZ_CHECK(threshold_parse(t.text, &again, err, sizeof(err)) == 0);
        FUZZ_CHECK(memcmp(&again, &t, sizeof(t)) == 0);
        threshold_eval(&t, &st, &r);
        FUZZ_CHECK(!r.pass || r.measured);
    }
    free(s);
    return 0;
}
