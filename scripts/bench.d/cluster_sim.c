/*
 * cluster_sim: simulated agents and runners for scripts/bench-cluster.
 *
 *     cluster_sim ENDPOINT AGENTS RUNS SECONDS BROKER_PID
 *
 * Registers AGENTS simulated agents with the broker at ENDPOINT (one
 * DEALER socket each, as real agents have), submits RUNS runs that share
 * them out (a run has at most 256 agents), answers the start barrier,
 * and then has every agent send one delta a second, spread over the
 * second, with the content of a busy real agent's: 2,000 requests on 3
 * URLs, their latency buckets, a per-second row.  The simulated runners
 * take the broker's merged stream.  After a warm-up it reads the broker's
 * CPU time from /proc for the rest of the run and prints the broker's
 * share of one core, and the bytes an agent sends a second.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "cluster/net.h"

#define WARMUP_S 3

struct sim_agent {
    void *sock;
    char run[CL_RUN_LEN];
    uint64_t seq;
    int started;
    int64_t next_ms;
};

static uint64_t rng_state = 42;

static double rng_unit(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return (double)(((z ^ (z >> 31)) >> 11) + 1) * 0x1p-53;
}

/* A log-normal latency around 2 ms, as a loaded server gives. */
static uint64_t latency(void)
{
    double n = sqrt(-2 * log(rng_unit())) * cos(2 * M_PI * rng_unit());

    return (uint64_t)(2000 * exp(0.6 * n)) + 50;
}

static void sparse_of(struct hist_sparse *s, const struct hist *h)
{
    s->count = h->count;
    s->sum_us = h->sum_us;
    s->min_plus1 = h->min_plus1;
    s->max_us = h->max_us;
    for (uint32_t i = 0; i < HIST_COUNTS; i++)
        if (h->counts[i])
            shm_sparse_push(s, i, h->counts[i]);
}

/* One second of a busy agent: 2,000 requests on 3 URLs. */
static void make_delta(struct shm_delta *d, uint64_t second)
{
    static const char *const urls[] = {"GET http://target/", "GET http://target/search",
                                       "POST http://target/login"};
    static struct hist all, per[3];

    memset(&all, 0, sizeof(all));
    memset(per, 0, sizeof(per));
    memset(d, 0, sizeof(*d));
    for (int i = 0; i < 2000; i++) {
        uint64_t v = latency();

        hist_record(&all, v);
        hist_record(&per[i % 3], v);
    }
    d->c.hits = d->c.runs = d->c.runs_started = d->c.successes = 2000;
    d->c.bytes = 2000 * 612;
    d->c.users_active = 50;
    sparse_of(&d->latency, &all);
    d->urls = calloc(3, sizeof(*d->urls));
    for (int u = 0; u < 3; u++) {
        snprintf(d->urls[u].key, sizeof(d->urls[u].key), "%s", urls[u]);
        d->urls[u].hits = d->urls[u].ok = per[u].count;
        sparse_of(&d->urls[u].latency, &per[u]);
    }
    d->nurls = 3;
    d->seconds = calloc(1, sizeof(*d->seconds));
    d->seconds[0] = (struct shm_second){second, 2000, 0, hist_percentile(&all, 50),
                                         hist_percentile(&all, 99)};
    d->nseconds = 1;
}

static int64_t broker_cpu_ticks(int pid)
{
    char path[64], buf[1024], *p;
    unsigned long long ut = 0, st = 0;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    if (!(f = fopen(path, "r")) || !fgets(buf, sizeof(buf), f)) {
        if (f)
            fclose(f);
        return -1;
    }
    fclose(f);
    p = strrchr(buf, ')');
    /* fields after the name: state(3) ... utime(14) stime(15) */
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    return (int64_t)(ut + st);
}

int main(int argc, char **argv)
{
    const char *ep;
    int nagents, nruns, secs, bpid;
    struct sim_agent *ag;
    void **runners;
    struct cl_keys keys = {0};
    char err[512];
    uint64_t sent_bytes = 0, sent_msgs = 0, recv_bytes = 0;
    int64_t t0_ms = 0, t1_ms = 0, c0 = 0, c1 = 0, start_ms = 0, next_hb_ms = 0;
    int started = 0, ended = 0;
    static struct shm_delta templates[8];   /* seconds of a busy agent, reused */

    if (argc != 6) {
        fprintf(stderr, "usage: cluster_sim ENDPOINT AGENTS RUNS SECONDS BROKER_PID\n");
        return 2;
    }
    ep = argv[1];
    nagents = atoi(argv[2]);
    nruns = atoi(argv[3]);
    secs = atoi(argv[4]);
    bpid = atoi(argv[5]);
    zmq_ctx_set(cl_ctx(), ZMQ_MAX_SOCKETS, nagents + nruns + 64);
    for (int k = 0; k < 8; k++)
        make_delta(&templates[k], 1);
    ag = calloc((size_t)nagents, sizeof(*ag));
    runners = calloc((size_t)nruns, sizeof(*runners));
    for (int i = 0; i < nagents; i++) {
        struct cl_msg m = {.type = CL_HELLO, .pid = 1000000 + i};

        ag[i].sock = cl_connect(ep, &keys, NULL, err, sizeof(err));
        if (!ag[i].sock) {
            fprintf(stderr, "cluster_sim: %s\n", err);
            return 1;
        }
        snprintf(m.host, sizeof(m.host), "sim");
        snprintf(m.sw, sizeof(m.sw), "sim");
        snprintf(m.state, sizeof(m.state), "idle");
        cl_send(ag[i].sock, NULL, &m);
    }
    sleep(2);
    for (int r = 0; r < nruns; r++) {
        static const uint8_t src[] = "/* simulated */\n";
        struct cl_msg m = {.type = CL_SUBMIT, .agents = (uint32_t)(nagents / nruns)};

        runners[r] = cl_connect(ep, &keys, NULL, err, sizeof(err));
        snprintf(m.spec.test, sizeof(m.spec.test), "sim.Sim.test");
        m.spec.users[0] = 50;
        m.spec.nusers = 1;
        m.spec.duration_us = (uint64_t)secs * 1000000;
        m.spec.timeout = 30;
        snprintf(m.files[0].name, sizeof(m.files[0].name), "sim.c");
        m.files[0].data = src;
        m.files[0].len = sizeof(src) - 1;
        m.nfiles = 1;
        cl_files_hash(m.files, 1, m.hash);
        cl_send(runners[r], NULL, &m);
    }
    for (;;) {
        int64_t now = cl_now_ms();

        for (int i = 0; i < nagents; i++) {
            struct cl_msg m;

            while (cl_recv(ag[i].sock, NULL, &m, err, sizeof(err)) == 0) {
                if (m.type == CL_RUN) {
                    struct cl_msg ready = {.type = CL_READY};

                    snprintf(ag[i].run, sizeof(ag[i].run), "%s", m.run);
                    snprintf(ready.run, sizeof(ready.run), "%s", m.run);
                    cl_send(ag[i].sock, NULL, &ready);
                } else if (m.type == CL_START) {
                    ag[i].started = 1;
                    ag[i].next_ms = now + 1000 * i / nagents;
                    if (!started++)
                        start_ms = now;
                }
                cl_msg_free(&m);
            }
            if (ag[i].started == 1 && now >= ag[i].next_ms) {
                struct cl_msg s = {.type = CL_STATS, .seq = ++ag[i].seq};
                uint8_t *buf;
                size_t len;

                snprintf(s.run, sizeof(s.run), "%s", ag[i].run);
                s.d = templates[(ag[i].seq + (uint64_t)i) % 8];
                s.d.seconds[0].second = ag[i].seq;
                if (cl_encode(&s, &buf, &len) == 0) {
                    cl_send_raw(ag[i].sock, NULL, buf, len);
                    sent_bytes += len;
                    sent_msgs++;
                    free(buf);
                }
                ag[i].next_ms += 1000;
                if (ag[i].seq >= (uint64_t)secs) {
                    struct cl_msg d = {.type = CL_DONE, .seq = ag[i].seq};

                    snprintf(d.run, sizeof(d.run), "%s", ag[i].run);
                    cl_send(ag[i].sock, NULL, &d);
                    ag[i].started = 2;
                }
            }
        }
        for (int r = 0; r < nruns; r++) {
            zmq_msg_t msg;

            if (now >= next_hb_ms) {
                struct cl_msg hb = {.type = CL_HB};

                snprintf(hb.state, sizeof(hb.state), "watching");
                cl_send(runners[r], NULL, &hb);
            }

            zmq_msg_init(&msg);
            while (zmq_msg_recv(&msg, runners[r], ZMQ_DONTWAIT) >= 0) {
                struct cl_msg m;

                recv_bytes += zmq_msg_size(&msg);
                if (cl_decode(&m, zmq_msg_data(&msg), zmq_msg_size(&msg), err, sizeof(err)) == 0 &&
                    m.type == CL_END)
                    ended++;
                if (m.type == CL_REFUSED)
                    fprintf(stderr, "cluster_sim: refused: %s\n", m.error);
                cl_msg_free(&m);
            }
            zmq_msg_close(&msg);
        }
        if (now >= next_hb_ms)
            next_hb_ms = now + 1000;
        if (started && !t0_ms && now - start_ms >= WARMUP_S * 1000) {
            t0_ms = now;
            c0 = broker_cpu_ticks(bpid);
            sent_bytes = sent_msgs = 0;
        }
        if (t0_ms && !t1_ms && now - start_ms >= (secs - 1) * 1000) {
            t1_ms = now;
            c1 = broker_cpu_ticks(bpid);
        }
        if (ended == nruns)
            break;
        if (start_ms && now - start_ms > (secs + 30) * 1000) {
            fprintf(stderr, "cluster_sim: the runs did not end\n");
            return 1;
        }
        usleep(2000);
    }
    {
        double window = (double)(t1_ms - t0_ms) / 1000;
        double cpu = (double)(c1 - c0) / (double)sysconf(_SC_CLK_TCK);

        printf("agents %d  runs %d  window %.1f s  broker CPU %.1f%% of a core  "
               "delta %.0f bytes/agent/s  stream in %.0f bytes/s\n",
               nagents, nruns, window, 100 * cpu / window,
               sent_msgs ? (double)sent_bytes / (double)sent_msgs : 0,
               recv_bytes / (double)(secs));
    }
    for (int i = 0; i < nagents; i++)
        cl_close(ag[i].sock);
    for (int r = 0; r < nruns; r++)
        cl_close(runners[r]);
    cl_ctx_close();
    return 0;
}
