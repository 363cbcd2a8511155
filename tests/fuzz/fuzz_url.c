/* runner_parse_url: --server-url, http(s)://HOST[:PORT][/PATH]. */
#include <errno.h>
#include <strings.h>

#include "runner/runner.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size);
    char err[1024];
    int rc;

    err[0] = '\0';
    rc = runner_parse_url(s, err, sizeof(err));
    FUZZ_CHECK(rc == 0 || rc == -EINVAL);
    if (rc == 0) {
        /* Fits the segment's URL field, with a scheme, a host, no blanks. */
        size_t scheme = strncasecmp(s, "http://", 7) == 0 ? 7 : 8;

        FUZZ_CHECK(strncasecmp(s, "http://", 7) == 0 || strncasecmp(s, "https://", 8) == 0);
        FUZZ_CHECK(strlen(s) < SHM_URL_LEN);
        FUZZ_CHECK(s[scheme] != '\0' && s[scheme] != '/' && s[scheme] != ':');
        FUZZ_CHECK(strpbrk(s, " \t\r\n") == NULL);
    } else {
        fuzz_check_err(err, sizeof(err), strchr(s, '\n') != NULL);
        FUZZ_CHECK(strncmp(err, "invalid --server-url", 20) == 0);
    }
    /* A small error buffer truncates but stays terminated. */
    if (rc < 0) {
        char small[8];

        memset(small, 'x', sizeof(small));
        FUZZ_CHECK(runner_parse_url(s, small, sizeof(small)) == -EINVAL);
        FUZZ_CHECK(small[sizeof(small) - 1] == '\0');
    }
    free(s);
    return 0;
}
