/*
 * Test modules: resolving a dotted name to a shared object, compiling a
 * module's .c into a cache when there is no .so, loading it, and picking
 * the suite and tests.
 *
 * A module registers its tests from constructors (the LOADS_TEST macro)
 * calling loads__register, which the runner exports: the module needs no
 * library of its own.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runner/runner.h"

static struct loads__def *registered;   /* defs of the module being loaded */

void loads__register(struct loads__def *def)
{
    struct loads__def **p = &registered;

    while (*p)
        p = &(*p)->next;
    def->next = NULL;
    *p = def;
}

static int file_exists(const char *path, struct stat *st)
{
    return stat(path, st) == 0 && S_ISREG(st->st_mode);
}

/* Whether a was modified before b, to the nanosecond. */
static int older(const struct stat *a, const struct stat *b)
{
    return a->st_mtim.tv_sec < b->st_mtim.tv_sec ||
           (a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec < b->st_mtim.tv_nsec);
}

/* The directory of cached builds: $XDG_CACHE_HOME/loads or ~/.cache/loads. */
static int cache_dir(char *out, size_t len)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    char parent[PATH_MAX];

    if (xdg && *xdg)
        snprintf(parent, sizeof(parent), "%s", xdg);
    else if (home && *home)
        snprintf(parent, sizeof(parent), "%s/.cache", home);
    else
        snprintf(parent, sizeof(parent), "/tmp/loads-cache-%d", (int)getuid());
    mkdir(parent, 0700);
    if ((size_t)snprintf(out, len, "%s/loads", parent) >= len)
        return -ENAMETOOLONG;
    if (mkdir(out, 0700) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}

/*
 * Finds the directory holding loads.h: LOADS_INCLUDE, else ../include next
 * to this executable (true both in the build tree, build/../include, and
 * when installed, bin/../include).
 */
static int include_dir(char *out, size_t len)
{
    const char *env = getenv("LOADS_INCLUDE");
    char exe[PATH_MAX], header[PATH_MAX + 16];
    struct stat st;
    ssize_t n;

    if (env && *env) {
        snprintf(out, len, "%s", env);
        return 0;
    }
    n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n < 0)
        return -errno;
    exe[n] = '\0';
    *strrchr(exe, '/') = '\0';
    snprintf(out, len, "%s/../include", exe);
    snprintf(header, sizeof(header), "%s/loads.h", out);
    return file_exists(header, &st) ? 0 : -ENOENT;
}

/* Keeps the first line of compiler output that names an error. */
static void first_error(const char *text, char *out, size_t len)
{
    const char *line = strstr(text, "error");
    const char *start, *end;

    if (!line)
        line = text;
    start = line;
    while (start > text && start[-1] != '\n')
        start--;
    end = strchr(start, '\n');
    snprintf(out, len, "%.*s", end ? (int)(end - start) : (int)strlen(start), start);
}

/*
 * Compiles src into so with the system's cc ($CC if set), through a
 * temporary file renamed into place, so that a failed or concurrent build
 * never leaves a broken module in the cache.
 */
static int compile(const char *src, const char *so, char *err, size_t errlen)
{
    char inc[PATH_MAX], incflag[PATH_MAX + 2], tmp[PATH_MAX + 32], out[8192];
    const char *cc = getenv("CC");
    int pipefd[2], status;
    size_t got = 0;
    ssize_t n;
    pid_t pid;

    if (include_dir(inc, sizeof(inc)) < 0) {
        snprintf(err, errlen, "cannot compile %s: loads.h not found (set LOADS_INCLUDE)",
                 src);
        return -ENOENT;
    }
    if (!cc || !*cc)
        cc = "cc";
    snprintf(incflag, sizeof(incflag), "-I%s", inc);
    snprintf(tmp, sizeof(tmp), "%s.%d.tmp", so, (int)getpid());
    if (pipe(pipefd) < 0)
        return -errno;
    pid = fork();
    if (pid < 0) {
        close(pipefd[0]);
        close(pipefd[1]);
        return -errno;
    }
    if (pid == 0) {
        dup2(pipefd[1], 2);
        dup2(pipefd[1], 1);
        close(pipefd[0]);
        close(pipefd[1]);
        execlp(cc, cc, "-shared", "-fPIC", "-O2", "-g", incflag, "-o", tmp, src,
               (char *)NULL);
        fprintf(stderr, "error: cannot run %s: %s\n", cc, strerror(errno));
        _exit(127);
    }
    close(pipefd[1]);
    while ((n = read(pipefd[0], out + got, sizeof(out) - 1 - got)) > 0 ||
           (n < 0 && errno == EINTR))
        if (n > 0)
            got += (size_t)n;
    out[got] = '\0';
    close(pipefd[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char line[1024];

        unlink(tmp);
        first_error(out, line, sizeof(line));
        snprintf(err, errlen, "cannot compile %s: %s", src, line[0] ? line : "cc failed");
        return -EINVAL;
    }
    if (rename(tmp, so) < 0) {
        snprintf(err, errlen, "cannot write %s: %s", so, strerror(errno));
        unlink(tmp);
        return -errno;
    }
    return 0;
}

/*
 * The cached build of src: rebuilt when missing or older than the source
 * or loads.h, reused otherwise.
 */
static int cached_build(const char *src, const char *module, char *so, size_t len,
                        char *err, size_t errlen)
{
    char dir[PATH_MAX], real[PATH_MAX], inc[PATH_MAX], header[PATH_MAX + 16];
    struct stat s_src, s_so, s_h;
    const char *base = strrchr(module, '/') ? strrchr(module, '/') + 1 : module;

    if (cache_dir(dir, sizeof(dir)) < 0 || !realpath(src, real)) {
        snprintf(err, errlen, "cannot compile %s: no cache directory (set "
                              "XDG_CACHE_HOME)", src);
        return -EINVAL;
    }
    if ((size_t)snprintf(so, len, "%s/%s-%016llx.so", dir, base,
                         (unsigned long long)shm_hash(real, LOADS_VERSION)) >= len)
        return -ENAMETOOLONG;
    snprintf(header, sizeof(header), "%s/loads.h",
             include_dir(inc, sizeof(inc)) == 0 ? inc : ".");
    if (stat(src, &s_src) == 0 && file_exists(so, &s_so) && !older(&s_so, &s_src) &&
        (stat(header, &s_h) < 0 || !older(&s_so, &s_h)))
        return 0;
    return compile(real, so, err, errlen);
}

/* Finds module.so, or module.c to compile, in . and the LOADS_PATH dirs. */
static int find_module(const char *module, char *so, size_t len, char *err,
                       size_t errlen)
{
    const char *path = getenv("LOADS_PATH");
    char dirs[4096], *dir, *save = NULL, cand[PATH_MAX];
    struct stat st;

    snprintf(dirs, sizeof(dirs), ".%s%s", path && *path ? ":" : "", path ? path : "");
    for (dir = strtok_r(dirs, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
        snprintf(cand, sizeof(cand), "%s/%s.so", dir, module);
        if (file_exists(cand, &st)) {
            if (!realpath(cand, so))
                snprintf(so, len, "%s", cand);
            return 0;
        }
        snprintf(cand, sizeof(cand), "%s/%s.c", dir, module);
        if (file_exists(cand, &st))
            return cached_build(cand, module, so, len, err, errlen);
    }
    snprintf(err, errlen, "no module '%s': found neither %s.so nor %s.c in the current "
                          "directory%s", module, module, module,
             path && *path ? " or LOADS_PATH" : " (set LOADS_PATH to look elsewhere)");
    return -ENOENT;
}

static int by_name(const void *a, const void *b)
{
    const struct worker_test *x = a, *y = b;

    return strcmp(x->name, y->name);
}

/* Lists the distinct names a kind of def has, for an error message. */
static void list_names(const char *suite, char *out, size_t len)
{
    size_t used = 0;

    out[0] = '\0';
    for (struct loads__def *d = registered; d && used < len; d = d->next) {
        const char *name = suite ? d->name : d->suite;
        int seen = 0;

        if (suite && (strcmp(d->suite, suite) != 0 || d->kind != LOADS__KIND_TEST))
            continue;
        for (struct loads__def *e = registered; e != d; e = e->next)
            if ((suite ? strcmp(e->name, name) == 0 && strcmp(e->suite, suite) == 0
                       : strcmp(e->suite, name) == 0))
                seen = 1;
        if (!seen)
            used += (size_t)snprintf(out + used, len - used, "%s%s", used ? ", " : "",
                                     name);
    }
}

int runner_load_tests(const char *dotted, struct runner_tests *out, char *err,
                      size_t errlen)
{
    char module[PATH_MAX], so[PATH_MAX], names[512];
    const char *suite, *test = NULL, *last, *prev;
    void (*setup)(loads_test *) = NULL, (*teardown)(loads_test *) = NULL;
    char buf[PATH_MAX];
    uint32_t n = 0;
    int rc;

    /* module[.more].Suite[.test]: three parts or more name a test. */
    if (strlen(dotted) >= sizeof(buf) || !strchr(dotted, '.') || dotted[0] == '.' ||
        dotted[strlen(dotted) - 1] == '.' || strstr(dotted, "..")) {
        snprintf(err, errlen, "invalid test name '%s': use module.Suite.test or "
                              "module.Suite", dotted);
        return -EINVAL;
    }
    strcpy(buf, dotted);
    last = strrchr(buf, '.');
    buf[last - buf] = '\0';
    prev = strrchr(buf, '.');
    if (prev) {
        buf[prev - buf] = '\0';
        suite = prev + 1;
        test = last + 1;
    } else {
        suite = last + 1;
    }
    snprintf(module, sizeof(module), "%s", buf);
    for (char *p = module; *p; p++)
        if (*p == '.')
            *p = '/';

    rc = find_module(module, so, sizeof(so), err, errlen);
    if (rc < 0)
        return rc;
    registered = NULL;
    if (!dlopen(so, RTLD_NOW | RTLD_LOCAL)) {
        snprintf(err, errlen, "cannot load module %s: %s", buf, dlerror());
        return -EINVAL;
    }
    for (struct loads__def *d = registered; d; d = d->next)
        if (strcmp(d->suite, suite) == 0) {
            if (d->kind == LOADS__KIND_SETUP)
                setup = d->fn;
            else if (d->kind == LOADS__KIND_TEARDOWN)
                teardown = d->fn;
            else if (!test || strcmp(d->name, test) == 0)
                n++;
        }
    if (n == 0) {
        int has_suite = 0;

        for (struct loads__def *d = registered; d; d = d->next)
            has_suite |= strcmp(d->suite, suite) == 0 && d->kind == LOADS__KIND_TEST;
        list_names(has_suite ? suite : NULL, names, sizeof(names));
        if (!has_suite)
            snprintf(err, errlen, "module %s has no suite %s (%s%s)", buf, suite,
                     names[0] ? "suites: " : "it defines no LOADS_TEST", names);
        else
            snprintf(err, errlen, "suite %s of module %s has no test %s (tests: %s)",
                     suite, buf, test, names);
        return -ENOENT;
    }
    out->tests = calloc(n, sizeof(*out->tests));
    if (!out->tests)
        return -ENOMEM;
    out->ntests = 0;
    for (struct loads__def *d = registered; d; d = d->next) {
        struct worker_test *t;

        if (strcmp(d->suite, suite) != 0 || d->kind != LOADS__KIND_TEST ||
            (test && strcmp(d->name, test) != 0))
            continue;
        t = &out->tests[out->ntests++];
        snprintf(t->name, sizeof(t->name), "%s.%s", d->suite, d->name);
        t->fn = d->fn;
        t->setup = setup;
        t->teardown = teardown;
    }
    qsort(out->tests, out->ntests, sizeof(*out->tests), by_name);
    return 0;
}
