/* runner_parse_duration: -d 30s, 5m, 1h30m, 90, 1.5s... */
#include <errno.h>

#include "runner/runner.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size);
    uint64_t us = 0xdeadbeef, again = 0;
    int rc = runner_parse_duration(s, &us);

    FUZZ_CHECK(rc == 0 || rc == -EINVAL);
    if (rc == 0) {
        FUZZ_CHECK(us > 0);
        /* Every part is at most 366 days, and each part needs 1 byte. */
        FUZZ_CHECK(us / (UINT64_C(366) * 86400 * 1000000) <= strlen(s));
        /* Nothing but number characters and units. */
        FUZZ_CHECK(s[strspn(s, "0123456789.eE+-xXaAbBcCdDfFpPsmhd")] == '\0');
        FUZZ_CHECK(runner_parse_duration(s, &again) == 0 && again == us);
    } else {
        FUZZ_CHECK(us == 0xdeadbeef); /* untouched on failure */
    }
    free(s);
    return 0;
}
