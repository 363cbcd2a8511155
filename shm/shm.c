/*
 * The run's shared-memory segment: creation, attachment, removal, and the
 * writer-side tables (URLs, messages, custom counters).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "shm/shm.h"

/* The header, the workers' slots, and the supervisor's slot after them. */
size_t shm_segment_size(uint32_t nslots)
{
    return sizeof(struct shm_header) + ((size_t)nslots + 1) * sizeof(struct shm_slot);
}

/*
 * Creates and maps the segment.  O_EXCL makes sure we never share a segment
 * with another run, and 0600 keeps other users out: the figures and messages
 * of a test may be private.
 */
int shm_create(struct shm *s, uint32_t nslots, char *err, size_t errlen)
{
    size_t size = shm_segment_size(nslots);
    struct shm_header *h;
    int fd, rc;

    memset(s, 0, sizeof(*s));
    snprintf(s->name, sizeof(s->name), SHM_PREFIX "%d", (int)getpid());
    fd = shm_open(s->name, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd < 0 && errno == EEXIST) {
        /* Our pid was reused since a killed run: its segment is stale. */
        shm_unlink(s->name);
        fd = shm_open(s->name, O_RDWR | O_CREAT | O_EXCL, 0600);
    }
    if (fd < 0) {
        rc = -errno;
        snprintf(err, errlen, "cannot create shared memory %s: %s", s->name,
                 strerror(errno));
        return rc;
    }
    if (ftruncate(fd, (off_t)size) < 0) {
        rc = -errno;
        snprintf(err, errlen, "cannot size shared memory %s to %zu bytes: %s", s->name,
                 size, strerror(errno));
        goto out_unlink;
    }
    h = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (h == MAP_FAILED) {
        rc = -errno;
        snprintf(err, errlen, "cannot map shared memory: %s", strerror(errno));
        goto out_unlink;
    }
    close(fd);
    h->magic = SHM_MAGIC;
    h->version = SHM_VERSION;
    h->nslots = nslots;
    h->size = size;
    h->slot_size = sizeof(struct shm_slot);
    h->supervisor = (int32_t)getpid();
    h->uid = (uint32_t)getuid();
    s->hdr = h;
    s->size = size;
    s->owner = 1;
    return 0;

out_unlink:
    close(fd);
    shm_unlink(s->name);
    return rc;
}

/*
 * Maps another run's segment read-only, after checking that it is a Loads
 * segment of this version and that its size is what its header says.
 */
int shm_attach(struct shm *s, pid_t pid, char *err, size_t errlen)
{
    struct shm_header *h;
    struct stat st;
    int fd, rc;

    memset(s, 0, sizeof(*s));
    snprintf(s->name, sizeof(s->name), SHM_PREFIX "%d", (int)pid);
    fd = shm_open(s->name, O_RDONLY, 0);
    if (fd < 0) {
        rc = -errno;
        snprintf(err, errlen, "no run with pid %d: %s", (int)pid, strerror(errno));
        return rc;
    }
    if (fstat(fd, &st) < 0 || (size_t)st.st_size < sizeof(*h)) {
        snprintf(err, errlen, "shared memory %s is not a Loads run", s->name);
        close(fd);
        return -EINVAL;
    }
    h = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (h == MAP_FAILED) {
        rc = -errno;
        snprintf(err, errlen, "cannot map %s: %s", s->name, strerror(errno));
        return rc;
    }
    if (h->magic != SHM_MAGIC || h->version != SHM_VERSION ||
        h->slot_size != sizeof(struct shm_slot) || h->size != (uint64_t)st.st_size ||
        h->size != shm_segment_size(h->nslots)) {
        snprintf(err, errlen, "shared memory %s is not a Loads run of this version",
                 s->name);
        munmap(h, (size_t)st.st_size);
        return -EINVAL;
    }
    s->hdr = h;
    s->size = (size_t)st.st_size;
    return 0;
}

void shm_destroy(struct shm *s)
{
    if (s->hdr)
        munmap(s->hdr, s->size);
    if (s->owner)
        shm_unlink(s->name);
    s->hdr = NULL;
    s->owner = 0;
}

/*
 * Removes the segments of runs whose supervisor is gone (killed with
 * SIGKILL, say).  Only our own segments can be removed; others are skipped.
 */
void shm_clean_stale(void)
{
    DIR *d = opendir("/dev/shm");
    struct dirent *e;
    char name[300];

    if (!d)
        return;
    while ((e = readdir(d))) {
        char *end;
        long pid;

        if (strncmp(e->d_name, SHM_FILE_PREFIX, strlen(SHM_FILE_PREFIX)) != 0)
            continue;
        pid = strtol(e->d_name + strlen(SHM_FILE_PREFIX), &end, 10);
        if (*end || pid <= 0)
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno == EPERM)
            continue;
        snprintf(name, sizeof(name), "/%s", e->d_name);
        shm_unlink(name);
    }
    closedir(d);
}

struct shm_slot *shm_slot(const struct shm *s, uint32_t i)
{
    return (struct shm_slot *)((char *)s->hdr + sizeof(struct shm_header)) + i;
}

/* FNV-1a over two strings, so that (method, url) or (test, text) hash as one. */
uint64_t shm_hash(const char *a, const char *b)
{
    uint64_t h = 0xcbf29ce484222325ull;

    for (; a && *a; a++)
        h = (h ^ (unsigned char)*a) * 0x100000001b3ull;
    h = (h ^ 0xff) * 0x100000001b3ull;
    for (; b && *b; b++)
        h = (h ^ (unsigned char)*b) * 0x100000001b3ull;
    return h;
}

/* Copies a string into a fixed field, cutting it and always terminating it. */
static void copy_text(char *dst, size_t size, const char *src)
{
    size_t n = strnlen(src, size - 1);

    memcpy(dst, src, n);
    dst[n] = '\0';
}

/*
 * Finds or adds the row of a URL.  A new row's key is written before the
 * table's length is published, so readers never see a half-written key.
 */
struct shm_url *shm_url_get(struct shm_slot *slot, const char *key, uint64_t hash)
{
    uint32_t n = slot->nurls;
    struct shm_url *u;

    for (uint32_t i = 0; i < n; i++)
        if (slot->urls[i].hash == hash && strncmp(slot->urls[i].key, key,
                                                  SHM_URL_LEN - 1) == 0)
            return &slot->urls[i];
    if (n == SHM_URLS) {
        u = &slot->urls[SHM_URL_OTHER];
        if (!u->key[0])
            copy_text(u->key, sizeof(u->key), "other");
        return u;
    }
    u = &slot->urls[n];
    copy_text(u->key, sizeof(u->key), key);
    u->hash = hash;
    __atomic_store_n(&slot->nurls, n + 1, __ATOMIC_RELEASE);
    return u;
}

void shm_msg_count(struct shm_slot *slot, enum shm_outcome kind, const char *test,
                   const char *text)
{
    shm_msg_add(slot, kind, test, text, 1);
}

void shm_msg_add(struct shm_slot *slot, enum shm_outcome kind, const char *test,
                 const char *text, uint64_t count)
{
    uint64_t hash = shm_hash(test, text) ^ (uint64_t)kind;
    uint32_t n = slot->nmsgs;
    struct shm_msg *m;

    for (uint32_t i = 0; i < n; i++) {
        m = &slot->msgs[i];
        if (m->hash == hash && m->kind == (uint32_t)kind &&
            strncmp(m->test, test, SHM_NAME_LEN - 1) == 0 &&
            strncmp(m->text, text, SHM_MSG_LEN - 1) == 0) {
            shm_add(&m->count, count);
            return;
        }
    }
    if (n == SHM_MSGS) {
        shm_add(&slot->msgs_other, count);
        return;
    }
    m = &slot->msgs[n];
    m->kind = (uint32_t)kind;
    m->hash = hash;
    copy_text(m->test, sizeof(m->test), test);
    copy_text(m->text, sizeof(m->text), text);
    shm_store(&m->count, count);
    __atomic_store_n(&slot->nmsgs, n + 1, __ATOMIC_RELEASE);
}

int shm_counter_add(struct shm_slot *slot, const char *name, int64_t n)
{
    uint32_t len = slot->ncounters;
    struct shm_counter *c;

    for (uint32_t i = 0; i < len; i++) {
        c = &slot->counters[i];
        if (strncmp(c->name, name, SHM_COUNTER_LEN - 1) == 0) {
            shm_add(&c->value, (uint64_t)n);
            return 0;
        }
    }
    if (len == SHM_COUNTERS)
        return -ENOSPC;
    c = &slot->counters[len];
    copy_text(c->name, sizeof(c->name), name);
    shm_store(&c->value, (uint64_t)n);
    __atomic_store_n(&slot->ncounters, len + 1, __ATOMIC_RELEASE);
    return 0;
}

int shm_check_add(struct shm_slot *slot, const char *name, uint64_t passes, uint64_t fails)
{
    uint64_t hash = shm_hash(name, NULL);
    uint32_t len = slot->nchecks;
    struct shm_check *c;

    for (uint32_t i = 0; i < len; i++) {
        c = &slot->checks[i];
        if (c->hash == hash && strncmp(c->name, name, SHM_COUNTER_LEN - 1) == 0)
            goto add;
    }
    if (len == SHM_CHECKS)
        return -ENOSPC;
    c = &slot->checks[len];
    copy_text(c->name, sizeof(c->name), name);
    c->hash = hash;
    __atomic_store_n(&slot->nchecks, len + 1, __ATOMIC_RELEASE);
add:
    if (passes)
        shm_add(&c->passes, passes);
    if (fails)
        shm_add(&c->fails, fails);
    return 0;
}

struct shm_trend *shm_trend_get(struct shm_slot *slot, const char *name)
{
    uint64_t hash = shm_hash(name, NULL);
    uint32_t len = slot->ntrends;
    struct shm_trend *tr;

    for (uint32_t i = 0; i < len; i++) {
        tr = &slot->trends[i];
        if (tr->hash == hash && strncmp(tr->name, name, SHM_COUNTER_LEN - 1) == 0)
            return tr;
    }
    if (len == SHM_TRENDS)
        return NULL;
    tr = &slot->trends[len];
    copy_text(tr->name, sizeof(tr->name), name);
    tr->hash = hash;
    __atomic_store_n(&slot->ntrends, len + 1, __ATOMIC_RELEASE);
    return tr;
}

double shm_gauge_value(const struct shm_gauge *g)
{
    uint64_t bits = shm_load(&g->value);
    double v;

    memcpy(&v, &bits, sizeof(v));
    return v;
}

int shm_gauge_set(struct shm_slot *slot, const char *name, double value, uint64_t at_us)
{
    uint64_t hash = shm_hash(name, NULL), bits;
    uint32_t len = slot->ngauges;
    struct shm_gauge *g = NULL;

    for (uint32_t i = 0; i < len && !g; i++)
        if (slot->gauges[i].hash == hash &&
            strncmp(slot->gauges[i].name, name, SHM_COUNTER_LEN - 1) == 0)
            g = &slot->gauges[i];
    if (!g) {
        if (len == SHM_GAUGES)
            return -ENOSPC;
        g = &slot->gauges[len];
        copy_text(g->name, sizeof(g->name), name);
        g->hash = hash;
        __atomic_store_n(&slot->ngauges, len + 1, __ATOMIC_RELEASE);
    }
    if (shm_load(&g->at_us) > at_us + 1)
        return 0;
    memcpy(&bits, &value, sizeof(bits));
    shm_store(&g->value, bits);
    __atomic_store_n(&g->at_us, at_us + 1, __ATOMIC_RELEASE);
    return 0;
}

struct shm_test *shm_test_get(struct shm_slot *slot, const char *name)
{
    uint64_t hash = shm_hash(name, NULL);
    uint32_t len = slot->ntests;
    struct shm_test *t;

    for (uint32_t i = 0; i < len; i++) {
        t = &slot->tests[i];
        if (t->hash == hash && strncmp(t->name, name, SHM_NAME_LEN - 1) == 0)
            return t;
    }
    if (len == SHM_TESTS)
        return NULL;
    t = &slot->tests[len];
    copy_text(t->name, sizeof(t->name), name);
    t->hash = hash;
    __atomic_store_n(&slot->ntests, len + 1, __ATOMIC_RELEASE);
    return t;
}

int64_t shm_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t shm_mono_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
