/*
 * Test modules: resolving a dotted name to a shared object, compiling a
 * module's .c into a cache when there is no .so, loading it, and picking
 * the suite and tests.
 *
 * A module registers its tests from constructors (the LOADS_TEST macro)
 * calling loads__register, which the runner exports: the module needs no
 * library of its own.
 *
 * The cache: a build of src is NAME-KEY.so, where KEY hashes everything
 * that shapes it besides file contents (src's real path, the Loads
 * version, the compiler, LOADS_CFLAGS, LOADS_LDLIBS, the include
 * directory, and the working directory when flags are given, for their
 * relative paths).  Beside it, NAME-KEY.deps lists every file the
 * compiler read (its -MD output: the source, loads.h, every header, the
 * system's too) with its size, mtime and inode; the build is reused only
 * while each of them is unchanged.  NAME-KEY.lock serializes runners
 * building the same module.  Files edited while cc runs are caught: the
 * build's start is read on the coarse clock that file times come from, and
 * a file whose mtime is not older than it is not trusted (the next run
 * builds again); only a file edited within one clock tick before the build
 * starts is taken for one edited during it.
 *
 * Modules are compiled with -Wall; cc's warnings are shown when a module
 * is built.  The cache is pruned after each build (prune_cache): builds
 * whose source is gone go, and at most CACHE_KEEP builds of one module
 * name stay.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
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

/*
 * Keeps the first line of compiler output that names an error; for
 * collect2's "ld returned 1 exit status", the linker's own line before it
 * ("cannot find -lfoo", "undefined reference to ...").
 */
static void first_error(const char *text, char *out, size_t len)
{
    const char *line = strstr(text, "error");
    const char *start, *end;

    if (!line)
        line = text;
    start = line;
    while (start > text && start[-1] != '\n')
        start--;
    if (strncmp(start, "collect2:", 9) == 0 && start > text) {
        start--;
        while (start > text && start[-1] != '\n')
            start--;
    }
    end = strchr(start, '\n');
    snprintf(out, len, "%.*s", end ? (int)(end - start) : (int)strlen(start), start);
}

#define MAX_WORDS   64                /* words of LOADS_CFLAGS, of LOADS_LDLIBS */
#define DEPS_MAGIC  "loads-deps 1\n"      /* first line of a .deps file */
#define DEPS_MAX    (1 << 20)             /* bytes of cc's dependency output read */
#define DEPS_TARGET "loads-module"        /* the rule's target, by -MT */
#define CACHE_KEEP  4                     /* builds kept per module name */

/* How test modules are compiled: cc and its flags, from the environment. */
struct build {
    const char *cc;                       /* $CC or cc */
    const char *cflags, *ldlibs;          /* $LOADS_CFLAGS, $LOADS_LDLIBS or "" */
    char words[2048];                     /* both, split at blanks */
    char *cflag[MAX_WORDS], *ldlib[MAX_WORDS];
    int ncflags, nldlibs;
    char inc[PATH_MAX];                   /* the directory of loads.h */
};

/* Splits s at blanks into words copied to *buf; returns their count or -E2BIG. */
static int split_words(const char *s, char **buf, char *end, char **words)
{
    int n = 0;

    while (*s) {
        size_t len;

        while (*s == ' ' || *s == '\t' || *s == '\n')
            s++;
        if (!*s)
            break;
        len = strcspn(s, " \t\n");
        if (n == MAX_WORDS || *buf + len + 1 > end)
            return -E2BIG;
        memcpy(*buf, s, len);
        (*buf)[len] = '\0';
        words[n++] = *buf;
        *buf += len + 1;
        s += len;
    }
    return n;
}

/* Reads the compiler and its flags from the environment. */
static int build_init(struct build *b, const char *src, char *err, size_t errlen)
{
    char *buf = b->words, *end = b->words + sizeof(b->words);

    b->cc = getenv("CC");
    if (!b->cc || !*b->cc)
        b->cc = "cc";
    b->cflags = getenv("LOADS_CFLAGS");
    b->ldlibs = getenv("LOADS_LDLIBS");
    if (!b->cflags)
        b->cflags = "";
    if (!b->ldlibs)
        b->ldlibs = "";
    b->ncflags = split_words(b->cflags, &buf, end, b->cflag);
    b->nldlibs = b->ncflags < 0 ? 0 : split_words(b->ldlibs, &buf, end, b->ldlib);
    if (b->ncflags < 0 || b->nldlibs < 0) {
        snprintf(err, errlen, "cannot compile %s: LOADS_CFLAGS and LOADS_LDLIBS take at "
                 "most %d words and %zu bytes each", src, MAX_WORDS, sizeof(b->words) / 2);
        return -E2BIG;
    }
    if (include_dir(b->inc, sizeof(b->inc)) < 0) {
        snprintf(err, errlen, "cannot compile %s: loads.h not found (set LOADS_INCLUDE)",
                 src);
        return -ENOENT;
    }
    return 0;
}

/* A backslash-newline: the rule goes on on the next line.  Its length, or 0. */
static int continuation(const char *p)
{
    if (p[0] != '\\')
        return 0;
    if (p[1] == '\n')
        return 2;
    return p[1] == '\r' && p[2] == '\n' ? 3 : 0;
}

int runner_parse_deps(char *text, int (*each)(const char *path, void *arg), void *arg)
{
    size_t tlen = strlen(DEPS_TARGET ":");
    char *p = text;

    if (strncmp(p, DEPS_TARGET ":", tlen) != 0)
        return -EINVAL;
    p += tlen;
    for (;;) {
        char *word, *out;
        int end, rc;

        while (*p == ' ' || *p == '\t' || continuation(p))
            p += continuation(p) ? continuation(p) : 1;
        if (!*p || *p == '\n' || *p == '\r')
            return 0;
        /* A path, unescaped in place: "\ " is a blank, "\#" a '#', "$$" a '$'. */
        word = out = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r' &&
               !continuation(p)) {
            if (p[0] == '\\' && (p[1] == ' ' || p[1] == '\t' || p[1] == '#')) {
                *out++ = p[1];
                p += 2;
            } else if (p[0] == '$' && p[1] == '$') {
                *out++ = '$';
                p += 2;
            } else {
                *out++ = *p++;
            }
        }
        /* Past the separator before the word is terminated (out <= p). */
        end = !*p || *p == '\n' || *p == '\r';
        if (*p == ' ' || *p == '\t')
            p++;
        else if (!end)
            p += continuation(p);
        *out = '\0';
        rc = each(word, arg);
        if (rc < 0 || end)
            return rc < 0 ? rc : 0;
    }
}

/* Reads a whole small file into a NUL-terminated buffer (caller frees). */
static char *read_small_file(const char *path, size_t max)
{
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    size_t n;

    if (!f)
        return NULL;
    buf = malloc(max + 1);
    if (buf) {
        n = fread(buf, 1, max, f);
        if (ferror(f) || !feof(f)) {
            free(buf);
            buf = NULL;
        } else {
            buf[n] = '\0';
        }
    }
    fclose(f);
    return buf;
}

/* What one dependency of a build looked like, in a .deps line. */
static int deps_line(FILE *f, const char *path, const struct stat *st)
{
    return fprintf(f, "%lld %lld %ld %llu %s\n", (long long)st->st_size,
                   (long long)st->st_mtim.tv_sec, (long)st->st_mtim.tv_nsec,
                   (unsigned long long)st->st_ino, path) < 0
               ? -EIO
               : 0;
}

/* The state of writing a .deps file from cc's dependency output. */
struct deps_out {
    FILE *f;
    struct timespec started;              /* when cc was started */
};

/*
 * One file cc read: its real path and stat go to the .deps file.  A path
 * with a newline cannot be written, and a file changed since the build
 * began may not be what cc read: either makes the list untrustworthy.
 */
static int deps_add(const char *path, void *arg)
{
    struct deps_out *d = arg;
    char real[PATH_MAX];
    struct stat st;
    long long age_ns;

    if (!realpath(path, real) || strchr(real, '\n') || stat(real, &st) < 0)
        return -EINVAL;
    age_ns = (long long)(d->started.tv_sec - st.st_mtim.tv_sec) * 1000000000LL +
             (d->started.tv_nsec - st.st_mtim.tv_nsec);
    if (age_ns <= 0)
        return -EAGAIN;
    return deps_line(d->f, real, &st);
}

/*
 * Writes deps_path from cc's dependency output in depfile, through a
 * temporary file renamed into place.  Returns 0, or a negative errno when
 * the list could not be made (the build is then not reused).
 */
static int write_deps(const char *depfile, const char *deps_path,
                      const struct timespec *started)
{
    char tmp[PATH_MAX + 32], *text = read_small_file(depfile, DEPS_MAX);
    struct deps_out d = {.started = *started};
    int rc;

    if (!text)
        return -EIO;
    snprintf(tmp, sizeof(tmp), "%s.%d.tmp", deps_path, (int)getpid());
    d.f = fopen(tmp, "w");
    if (!d.f) {
        free(text);
        return -errno;
    }
    rc = fputs(DEPS_MAGIC, d.f) < 0 ? -EIO : runner_parse_deps(text, deps_add, &d);
    if (fclose(d.f) != 0 && rc == 0)
        rc = -EIO;
    if (rc == 0 && rename(tmp, deps_path) < 0)
        rc = -errno;
    if (rc < 0)
        unlink(tmp);
    free(text);
    return rc;
}

/*
 * Whether the build so is fresh: it exists, and every file its .deps
 * lists has the size, mtime and inode it had when cc read it.
 */
static int build_is_fresh(const char *so, const char *deps_path)
{
    char *text = read_small_file(deps_path, DEPS_MAX), *line, *save = NULL;
    struct stat st;
    int fresh, lines = 0;

    if (!text || strncmp(text, DEPS_MAGIC, strlen(DEPS_MAGIC)) != 0 ||
        !file_exists(so, &st)) {
        free(text);
        return 0;
    }
    fresh = 1;
    for (line = strtok_r(text + strlen(DEPS_MAGIC), "\n", &save); line && fresh;
         line = strtok_r(NULL, "\n", &save)) {
        long long size, sec;
        long nsec;
        unsigned long long ino;
        int at = 0;

        if (sscanf(line, "%lld %lld %ld %llu %n", &size, &sec, &nsec, &ino, &at) != 4 ||
            !at || stat(line + at, &st) < 0)
            fresh = 0;
        else
            fresh = st.st_size == size && st.st_mtim.tv_sec == sec &&
                    st.st_mtim.tv_nsec == nsec && st.st_ino == ino;
        lines++;
    }
    free(text);
    return fresh && lines > 0;
}

/*
 * Compiles src into so with b's compiler and flags, through a temporary
 * file renamed into place, so that a failed or concurrent build never
 * leaves a broken module in the cache; then records the files cc read in
 * deps_path.  The caller holds the module's lock.
 */
static int compile(const struct build *b, const char *src, const char *so,
                   const char *deps_path, char *err, size_t errlen)
{
    char incflag[PATH_MAX + 2], tmp[PATH_MAX + 32], depfile[PATH_MAX + 32], out[8192];
    const char *argv[32 + 2 * MAX_WORDS];
    struct timespec started;
    int pipefd[2], status, argc = 0;
    size_t got = 0;
    int cut = 0;
    ssize_t n;
    pid_t pid;

    snprintf(incflag, sizeof(incflag), "-I%s", b->inc);
    snprintf(tmp, sizeof(tmp), "%s.%d.tmp", so, (int)getpid());
    snprintf(depfile, sizeof(depfile), "%s.%d.d", so, (int)getpid());
    argv[argc++] = b->cc;
    argv[argc++] = "-shared";
    argv[argc++] = "-fPIC";
    argv[argc++] = "-O2";
    argv[argc++] = "-g";
    argv[argc++] = "-Wall";
    argv[argc++] = incflag;
    for (int i = 0; i < b->ncflags; i++)
        argv[argc++] = b->cflag[i];
    argv[argc++] = "-MD";
    argv[argc++] = "-MF";
    argv[argc++] = depfile;
    argv[argc++] = "-MT";
    argv[argc++] = DEPS_TARGET;
    argv[argc++] = "-o";
    argv[argc++] = tmp;
    argv[argc++] = src;
    for (int i = 0; i < b->nldlibs; i++)
        argv[argc++] = b->ldlib[i];
    argv[argc] = NULL;

    clock_gettime(CLOCK_REALTIME_COARSE, &started);
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
        execvp(b->cc, (char *const *)argv);
        fprintf(stderr, "error: cannot run %s: %s\n", b->cc, strerror(errno));
        _exit(127);
    }
    close(pipefd[1]);
    /* Everything cc says is read (past what is kept), or it would block. */
    for (;;) {
        char spill[4096];
        int full = got == sizeof(out) - 1;

        n = full ? read(pipefd[0], spill, sizeof(spill))
                 : read(pipefd[0], out + got, sizeof(out) - 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (!full)
            got += (size_t)n;
        else
            cut = 1;
    }
    out[got] = '\0';
    close(pipefd[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char line[1024];

        unlink(tmp);
        unlink(depfile);
        first_error(out, line, sizeof(line));
        snprintf(err, errlen, "cannot compile %s: %s", src, line[0] ? line : "cc failed");
        return -EINVAL;
    }
    /* The old list goes first: never a new module with an old list. */
    unlink(deps_path);
    if (rename(tmp, so) < 0) {
        snprintf(err, errlen, "cannot write %s: %s", so, strerror(errno));
        unlink(tmp);
        unlink(depfile);
        return -errno;
    }
    /* Without a list the module still loads; the next run builds it again. */
    write_deps(depfile, deps_path, &started);
    unlink(depfile);
    /* Warnings: shown once, when the module is built (cc's own lines). */
    if (got) {
        fprintf(stderr, "loads-runner: %s built with warnings:\n%s%s", src, out,
                out[got - 1] == '\n' ? "" : "\n");
        if (cut)
            fprintf(stderr, "loads-runner: (more warnings were cut)\n");
    }
    return 0;
}

/*
 * The source a build was made from: the first file of its .deps (cc lists
 * the source first), into out.  Returns 0, or -ENOENT without a list.
 */
static int build_source(const char *deps_path, char *out, size_t len)
{
    char *text = read_small_file(deps_path, DEPS_MAX), *line, *end;
    long long size, sec;
    long nsec;
    unsigned long long ino;
    int at = 0, rc = -ENOENT;

    if (text && strncmp(text, DEPS_MAGIC, strlen(DEPS_MAGIC)) == 0) {
        line = text + strlen(DEPS_MAGIC);
        end = strchr(line, '\n');
        if (end)
            *end = '\0';
        if (sscanf(line, "%lld %lld %ld %llu %n", &size, &sec, &nsec, &ino, &at) == 4 &&
            at) {
            snprintf(out, len, "%s", line + at);
            rc = 0;
        }
    }
    free(text);
    return rc;
}

/* One build of the cache, while it is pruned. */
struct cached {
    char stem[NAME_MAX + 1];              /* NAME-KEY, without .so */
    size_t name_len;                      /* of NAME */
    time_t mtime;                         /* of NAME-KEY.so: when it was built */
};

static int newest_first(const void *a, const void *b)
{
    const struct cached *x = a, *y = b;
    int names = x->name_len != y->name_len ? (int)x->name_len - (int)y->name_len
                                           : strncmp(x->stem, y->stem, x->name_len);

    if (names)
        return names;
    return x->mtime < y->mtime ? 1 : x->mtime > y->mtime ? -1 : strcmp(x->stem, y->stem);
}

/*
 * Removes one build (its .so, .deps and .lock) unless a runner holds its
 * lock (building it, or checking it before loading it).
 */
static void remove_build(const char *dir, const char *stem)
{
    char path[PATH_MAX + NAME_MAX + 16];
    int lock;

    snprintf(path, sizeof(path), "%s/%s.lock", dir, stem);
    lock = open(path, O_RDWR | O_CLOEXEC);
    if (lock >= 0 && flock(lock, LOCK_EX | LOCK_NB) < 0) {
        close(lock);
        return;
    }
    snprintf(path, sizeof(path), "%s/%s.so", dir, stem);
    unlink(path);
    snprintf(path, sizeof(path), "%s/%s.deps", dir, stem);
    unlink(path);
    snprintf(path, sizeof(path), "%s/%s.lock", dir, stem);
    unlink(path);
    if (lock >= 0)
        close(lock);
}

/*
 * Keeps the cache from growing forever; called after each compile, which
 * is rare, so a scan of the folder costs nothing that matters.  A build
 * whose source is gone (a deleted checkout, a CI job's temp folder) is
 * removed; of the builds of one module name (one per source path and set
 * of flags) the CACHE_KEEP last built stay; leftovers of builds that were
 * killed (.tmp, .d) go after an hour.  keep is the build just made.
 */
static void prune_cache(const char *dir, const char *keep)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    struct cached *all = NULL;
    size_t n = 0, cap = 0;
    time_t now = time(NULL);

    if (!d)
        return;
    while ((e = readdir(d))) {
        char path[PATH_MAX + NAME_MAX + 16], src[PATH_MAX];
        size_t len = strlen(e->d_name);
        const char *dash = strrchr(e->d_name, '-');
        struct stat st;

        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
            continue;
        if ((len > 4 && strcmp(e->d_name + len - 4, ".tmp") == 0) ||
            (len > 2 && strcmp(e->d_name + len - 2, ".d") == 0)) {
            if (now - st.st_mtime > 3600)
                unlink(path);
            continue;
        }
        if (len < 4 || strcmp(e->d_name + len - 3, ".so") != 0 || !dash)
            continue;
        if (n == cap) {
            struct cached *more = realloc(all, (cap = cap ? cap * 2 : 64) * sizeof(*all));

            if (!more)
                break;
            all = more;
        }
        snprintf(all[n].stem, sizeof(all[n].stem), "%.*s", (int)(len - 3), e->d_name);
        all[n].name_len = (size_t)(dash - e->d_name);
        all[n].mtime = st.st_mtime;
        if (strcmp(all[n].stem, keep) == 0)
            all[n].mtime = now + 1; /* the newest, whatever the clock says */
        snprintf(path, sizeof(path), "%s/%s.deps", dir, all[n].stem);
        if (strcmp(all[n].stem, keep) != 0 && build_source(path, src, sizeof(src)) == 0 &&
            access(src, F_OK) < 0 && errno == ENOENT) {
            remove_build(dir, all[n].stem);
            continue;
        }
        n++;
    }
    closedir(d);
    if (all)
        qsort(all, n, sizeof(*all), newest_first);
    for (size_t i = 0, kept = 0; i < n; i++) {
        kept = i && all[i].name_len == all[i - 1].name_len &&
                       strncmp(all[i].stem, all[i - 1].stem, all[i].name_len) == 0
                   ? kept + 1
                   : 1;
        if (kept > CACHE_KEEP && strcmp(all[i].stem, keep) != 0)
            remove_build(dir, all[i].stem);
    }
    free(all);
}

/*
 * The cached build of src (see the top of this file): reused while every
 * file cc read is unchanged, rebuilt otherwise.  Runners building the same
 * module wait for each other on its lock, so that the second reuses the
 * first's build.
 */
static int cached_build(const char *src, const char *module, char *so, size_t len,
                        char *err, size_t errlen)
{
    char dir[PATH_MAX], real[PATH_MAX], key[PATH_MAX * 2 + 4200], cwd[PATH_MAX];
    char deps_path[PATH_MAX + 8], lock_path[PATH_MAX + 8];
    const char *base = strrchr(module, '/') ? strrchr(module, '/') + 1 : module;
    static struct build b;
    int lock, rc;

    if (cache_dir(dir, sizeof(dir)) < 0 || !realpath(src, real)) {
        snprintf(err, errlen, "cannot compile %s: no cache directory (set "
                              "XDG_CACHE_HOME)", src);
        return -EINVAL;
    }
    rc = build_init(&b, src, err, errlen);
    if (rc < 0)
        return rc;
    /* Relative paths in the flags depend on where the run starts. */
    if (!(*b.cflags || *b.ldlibs) || !getcwd(cwd, sizeof(cwd)))
        cwd[0] = '\0';
    snprintf(key, sizeof(key), "%s\n%s\n%s\n%s\n%s\n%s", LOADS_VERSION, b.cc, b.cflags,
             b.ldlibs, b.inc, cwd);
    if ((size_t)snprintf(so, len, "%s/%s-%016llx.so", dir, base,
                         (unsigned long long)shm_hash(real, key)) >= len)
        return -ENAMETOOLONG;
    snprintf(deps_path, sizeof(deps_path), "%.*s.deps", (int)(strlen(so) - 3), so);
    snprintf(lock_path, sizeof(lock_path), "%.*s.lock", (int)(strlen(so) - 3), so);
    lock = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock >= 0)
        while (flock(lock, LOCK_EX) < 0 && errno == EINTR)
            ;
    if (build_is_fresh(so, deps_path)) {
        rc = 0;
    } else {
        rc = compile(&b, real, so, deps_path, err, errlen);
        if (rc == 0) {
            char stem[NAME_MAX + 1];

            snprintf(stem, sizeof(stem), "%.*s", (int)(strlen(so) - strlen(dir) - 4),
                     so + strlen(dir) + 1);
            prune_cache(dir, stem);
        }
    }
    if (lock >= 0)
        close(lock);
    return rc;
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

static int weigh(struct runner_tests *out, char *err, size_t errlen);

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
    memset(out, 0, sizeof(*out));
    for (struct loads__def *d = registered; d; d = d->next)
        if (strcmp(d->suite, suite) == 0) {
            struct worker_scope *scope = d->kind == LOADS__KIND_SETUP_VU ? &out->setup_vu
                                         : d->kind == LOADS__KIND_TEARDOWN_VU ? &out->teardown_vu
                                         : d->kind == LOADS__KIND_SETUP_ONCE ? &out->setup_once
                                         : d->kind == LOADS__KIND_TEARDOWN_ONCE
                                             ? &out->teardown_once
                                             : NULL;

            if (scope) {
                scope->fn = d->fn;
                snprintf(scope->name, sizeof(scope->name), "%s.%s", d->suite, d->name);
            } else if (d->kind == LOADS__KIND_SETUP) {
                setup = d->fn;
            } else if (d->kind == LOADS__KIND_TEARDOWN) {
                teardown = d->fn;
            } else if (d->kind == LOADS__KIND_TEST && (!test || strcmp(d->name, test) == 0)) {
                n++;
            }
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
        t->weight = d->weight > 0 && d->weight <= 1000 ? (uint32_t)d->weight : 0;
    }
    qsort(out->tests, out->ntests, sizeof(*out->tests), by_name);
    out->per_hit = out->ntests;
    return weigh(out, err, errlen);
}

void runner_free_tests(struct runner_tests *tests)
{
    free(tests->tests);
    free(tests->schedule);
    memset(tests, 0, sizeof(*tests));
}

int runner_weighted_schedule(const uint32_t *weights, uint32_t n, uint32_t *schedule)
{
    int64_t *current = calloc(n ? n : 1, sizeof(*current));
    uint32_t total = 0;

    if (!current)
        return -ENOMEM;
    for (uint32_t i = 0; i < n; i++)
        total += weights[i];
    /* Smooth weighted round robin: each step every test gains its weight,
     * the one ahead is picked and pays the total back. */
    for (uint32_t k = 0; k < total; k++) {
        uint32_t best = 0;

        for (uint32_t i = 0; i < n; i++) {
            current[i] += weights[i];
            if (current[i] > current[best])
                best = i;
        }
        current[best] -= total;
        schedule[k] = best;
    }
    free(current);
    return 0;
}

/*
 * When a test of the plan has a weight, the plan picks one test per hit
 * by weight (see LOADS_TEST_WEIGHT): its schedule.  A single test is run
 * as it is, whatever its weight.
 */
static int weigh(struct runner_tests *out, char *err, size_t errlen)
{
    uint32_t *weights, total = 0;
    int any = 0;

    for (uint32_t i = 0; i < out->ntests; i++)
        any |= out->tests[i].weight > 0;
    if (!any || out->ntests < 2)
        return 0;
    weights = calloc(out->ntests, sizeof(*weights));
    if (!weights)
        return -ENOMEM;
    for (uint32_t i = 0; i < out->ntests; i++) {
        weights[i] = out->tests[i].weight ? out->tests[i].weight : 1;
        total += weights[i];
    }
    out->schedule = calloc(total, sizeof(*out->schedule));
    if (!out->schedule ||
        runner_weighted_schedule(weights, out->ntests, out->schedule) < 0) {
        free(weights);
        snprintf(err, errlen, "out of memory for the weights of %u tests", out->ntests);
        return -ENOMEM;
    }
    out->nschedule = total;
    out->per_hit = 1;
    free(weights);
    return 0;
}
