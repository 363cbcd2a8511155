/*
 * The dotted test name (module[.more].Suite[.test]) that runner_load_tests
 * splits before it looks for module.so or module.c.
 *
 * Each input is tried from an empty temporary directory, with LOADS_PATH
 * unset, so no module can exist and the call must fail cleanly.  The name
 * may hold '/' (module "a/b" is looked up as ./a/b.so): without "..", which
 * the parser refuses, such names stay under the empty directory.  As a
 * guard all the same, XDG_CACHE_HOME is a temporary directory that must
 * stay empty (the cache is only created to compile a module found) and CC
 * is "false", so nothing would be compiled even if a .c were found.  The
 * harness returns to the fuzzer's own directory after each input, so that
 * libFuzzer's relative corpus and artifact paths still work.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runner/runner.h"
#include "tests/fuzz/fuzz.h"

static char base[256] = "";     /* mkdtemp'd: base/cwd and base/cache */
static char cwd[300], cache[300], cache_loads[320];
static int home = -1;          /* the fuzzer's own working directory */

static int remove_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(p);
}

static void cleanup(void)
{
    if (base[0])
        nftw(base, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *tmp = getenv("TMPDIR");

    snprintf(base, sizeof(base), "%s/loads-fuzz.XXXXXX",
             tmp && *tmp && strlen(tmp) < 200 ? tmp : "/tmp");
    if (!mkdtemp(base)) {
        perror("mkdtemp");
        abort();
    }
    atexit(cleanup);
    snprintf(cwd, sizeof(cwd), "%s/cwd", base);
    snprintf(cache, sizeof(cache), "%s/cache", base);
    snprintf(cache_loads, sizeof(cache_loads), "%s/loads", cache);
    if (mkdir(cwd, 0700) < 0 || mkdir(cache, 0700) < 0) {
        perror("mkdir");
        abort();
    }
    setenv("XDG_CACHE_HOME", cache, 1);
    setenv("CC", "false", 1);
    unsetenv("LOADS_PATH");
    home = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (home < 0) {
        perror("open .");
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *name = fuzz_cstr(data, size);
    struct runner_tests tests = {0};
    struct stat st;
    char err[1024];
    int rc;

    memset(err, 0, sizeof(err));
    if (chdir(cwd) < 0)
        abort();
    rc = runner_load_tests(name, &tests, err, sizeof(err));
    if (fchdir(home) < 0)
        abort();

    FUZZ_CHECK(rc == -EINVAL || rc == -ENOENT);
    FUZZ_CHECK(tests.tests == NULL && tests.ntests == 0);
    /* The name is echoed in the message, so its newlines may be too. */
    fuzz_check_err(err, sizeof(err), strchr(name, '\n') != NULL);
    /* Nothing was found to compile, so the cache was never made. */
    FUZZ_CHECK(stat(cache_loads, &st) < 0 && errno == ENOENT);
    free(name);
    return 0;
}
