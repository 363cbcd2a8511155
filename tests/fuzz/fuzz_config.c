/*
 * The --config file reader: the input is the file, read through
 * runner_parse_args(loads-runner --config FILE m.S.t).  The file is a memfd,
 * rewritten for each input and opened by its /proc/self/fd path, so that
 * fuzzing writes nothing to disk.
 */
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "runner/runner.h"
#include "tests/fuzz/fuzz.h"

static int memfd = -1;
static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    memfd = memfd_create("loads-fuzz-config", MFD_CLOEXEC);
    if (memfd < 0) {
        perror("memfd_create");
        abort();
    }
    snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
    return 0;
}

static void write_file(const uint8_t *data, size_t size)
{
    size_t done = 0;

    if (ftruncate(memfd, 0) < 0)
        abort();
    while (done < size) {
        ssize_t n = pwrite(memfd, data + done, size - done, (off_t)done);

        if (n <= 0)
            abort();
        done += (size_t)n;
    }
}

/* What a successful parse promises the supervisor. */
static void check_opts(const struct runner_opts *o)
{
    char err[1024];

    FUZZ_CHECK(o->test && strcmp(o->test, "m.S.t") == 0);
    FUZZ_CHECK(o->nusers >= 1 && o->nusers <= SHM_MAX_CYCLES);
    for (uint32_t i = 0; i < o->nusers; i++)
        FUZZ_CHECK(o->users[i] >= 1 && o->users[i] <= 1000000);
    FUZZ_CHECK(o->nhits <= SHM_MAX_CYCLES);
    FUZZ_CHECK((o->duration_us > 0) != (o->nhits > 0)); /* one or the other */
    for (uint32_t i = 0; i < o->nhits; i++)
        FUZZ_CHECK(o->hits[i] >= 1 && o->hits[i] <= UINT64_C(1000000000000));
    FUZZ_CHECK(o->workers <= SHM_MAX_WORKERS);
    FUZZ_CHECK(o->timeout > 0 && o->timeout <= 86400);
    FUZZ_CHECK(o->ramp_up >= 0 && o->ramp_up <= 86400);
    FUZZ_CHECK(o->grace >= 0 && o->grace <= 86400);
    FUZZ_CHECK(o->max_body <= SIZE_MAX / 2);
    FUZZ_CHECK(o->output == RUNNER_TEXT || o->output == RUNNER_JSON);
    FUZZ_CHECK(o->quiet == 0 || o->quiet == 1);
    FUZZ_CHECK(o->no_tui == 0 || o->no_tui == 1);
    FUZZ_CHECK(memchr(o->server_url, '\0', sizeof(o->server_url)) != NULL);
    FUZZ_CHECK(memchr(o->json_file, '\0', sizeof(o->json_file)) != NULL);
    if (o->server_url[0])
        FUZZ_CHECK(runner_parse_url(o->server_url, err, sizeof(err)) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct runner_opts opts;
    char a0[] = "loads-runner", a1[] = "--config", a3[] = "m.S.t";
    char *argv[] = {a0, a1, path, a3, NULL};
    char err[1024];
    int rc;

    write_file(data, size);
    memset(err, 0, sizeof(err));
    rc = runner_parse_args(&opts, 4, argv, err, sizeof(err));
    /* --help and --version cannot come from a file. */
    FUZZ_CHECK(rc == 0 || rc == -EINVAL);
    if (rc == 0)
        check_opts(&opts);
    else
        /* Values come from one line of the file: a newline is never echoed. */
        fuzz_check_err(err, sizeof(err), 0);
    runner_opts_free(&opts);
    return 0;
}
