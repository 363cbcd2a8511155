/* runner_parse_rate: --rate 100, 0.5, 10:50:100, 0-100:100:100-0; and its schedule. */
#include <errno.h>

#include "runner/runner.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size);
    struct arrival_stage out[SHM_MAX_CYCLES];
    static struct arrival a;
    uint32_t n = 0, colons = 0;
    uint64_t any = 0;
    int rc = runner_parse_rate(s, out, &n);

    FUZZ_CHECK(rc == 0 || rc == -EINVAL);
    if (rc == 0) {
        for (const char *p = s; *p; p++) {
            FUZZ_CHECK((*p >= '0' && *p <= '9') || *p == ':' || *p == '.' || *p == '-');
            colons += *p == ':';
        }
        FUZZ_CHECK(n >= 1 && n <= SHM_MAX_CYCLES && colons + 1 == n);
        for (uint32_t i = 0; i < n; i++) {
            FUZZ_CHECK(out[i].from_mrps <= ARRIVAL_MAX_MRPS);
            FUZZ_CHECK(out[i].to_mrps <= ARRIVAL_MAX_MRPS);
            any |= out[i].from_mrps | out[i].to_mrps;
        }
        FUZZ_CHECK(any);
        /* Its schedule over 1 s a stage: run times never go back, never past the end. */
        FUZZ_CHECK(arrival_init(&a, out, n, 1000000) == 0);
        FUZZ_CHECK(arrival_total(&a) >= 1);
        {
            uint64_t total = arrival_total(&a), step = total / 64 + 1;
            int64_t prev = 0;

            for (uint64_t k = 0; k < total; k += step) {
                int64_t t = arrival_time_us(&a, k);

                FUZZ_CHECK(t >= prev && (uint64_t)t <= arrival_length_us(&a));
                prev = t;
            }
            FUZZ_CHECK(arrival_time_us(&a, total) == -1);
        }
    }
    free(s);
    return 0;
}
