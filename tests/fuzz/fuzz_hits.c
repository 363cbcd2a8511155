/* runner_parse_hits: -c N or N:N runs of the test per user, in turn. */
#include <errno.h>

#include "runner/runner.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size);
    uint64_t out[SHM_MAX_CYCLES];
    uint32_t n = 0, colons = 0;
    int rc = runner_parse_hits(s, out, &n);

    FUZZ_CHECK(rc == 0 || rc == -EINVAL);
    if (rc == 0) {
        for (const char *p = s; *p; p++) {
            FUZZ_CHECK((*p >= '0' && *p <= '9') || *p == ':');
            colons += *p == ':';
        }
        FUZZ_CHECK(n >= 1 && n <= SHM_MAX_CYCLES);
        FUZZ_CHECK(colons + 1 == n);
        for (uint32_t i = 0; i < n; i++)
            FUZZ_CHECK(out[i] >= 1 && out[i] <= UINT64_C(1000000000000));
        FUZZ_CHECK(strtoull(s, NULL, 10) == out[0]);
    }
    free(s);
    return 0;
}
