/* runner_parse_users: -u N or N:N:N cycles of virtual users. */
#include <errno.h>

#include "runner/runner.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size);
    uint32_t out[SHM_MAX_CYCLES], n = 0, colons = 0;
    int rc = runner_parse_users(s, out, &n);

    FUZZ_CHECK(rc == 0 || rc == -EINVAL);
    if (rc == 0) {
        /* Only digits and single colons, one value per field, each in range. */
        for (const char *p = s; *p; p++) {
            FUZZ_CHECK((*p >= '0' && *p <= '9') || *p == ':');
            colons += *p == ':';
        }
        FUZZ_CHECK(n >= 1 && n <= SHM_MAX_CYCLES);
        FUZZ_CHECK(colons + 1 == n);
        for (uint32_t i = 0; i < n; i++)
            FUZZ_CHECK(out[i] >= 1 && out[i] <= 1000000);
        /* The first value is the first field, read back. */
        FUZZ_CHECK(strtoull(s, NULL, 10) == out[0]);
    }
    free(s);
    return 0;
}
