/*
 * runner_parse_deps: the compiler's dependency output that the module
 * cache reads (cc -MD -MT loads-module).  Every path it yields is a
 * non-empty string inside the input's buffer, in order, and a callback's
 * error stops it at once.
 */
#include <errno.h>

#include "runner/runner.h"
#include "tests/fuzz/fuzz.h"

struct seen {
    const char *buf, *end;          /* the input, NUL-terminated at end */
    const char *last;               /* the previous path */
    int n;
};

static int check_path(const char *path, void *arg)
{
    struct seen *s = arg;

    FUZZ_CHECK(path >= s->buf && path < s->end);
    FUZZ_CHECK(path + strlen(path) <= s->end);
    FUZZ_CHECK(path[0] != '\0');
    FUZZ_CHECK(!s->last || path > s->last);
    FUZZ_CHECK(!strchr(path, '\n'));
    s->last = path;
    return ++s->n == 1000 ? -ECANCELED : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_cstr(data, size);
    struct seen s = {.buf = text, .end = text + strlen(text)};
    int rc = runner_parse_deps(text, check_path, &s);

    FUZZ_CHECK(rc == 0 || rc == -EINVAL || (rc == -ECANCELED && s.n == 1000));
    FUZZ_CHECK(rc != -EINVAL || s.n == 0);
    free(text);
    return 0;
}
