/*
 * The command line and the --config file, and the parsers of the specs
 * they carry (users, hits, durations, URLs).  Every mistake becomes one
 * line that says what to fix.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runner/runner.h"
#include "web/http.h"

/* The pool of an open model (--rate) may grow to this many users by default. */
#define DEFAULT_MAX_USERS 1000

static const char usage[] =
    "Usage: loads-runner TEST [options]\n"
    "       loads-runner --attach [PID]\n"
    "       loads-runner TEST --agents N [--broker E] [options]\n"
    "       loads-runner --attach RUN_ID --broker E\n"
    "\n"
    "Runs TEST, a dotted name: module.Suite.test (one test) or module.Suite\n"
    "(every test of the suite).  The module is module.so, or module.c compiled\n"
    "on the fly, in the current directory or a directory of LOADS_PATH.  A\n"
    "compiled module is cached ($XDG_CACHE_HOME/loads) and rebuilt when a file\n"
    "the compiler read changes.  $CC compiles it with -Wall (warnings are shown\n"
    "when it is built), $LOADS_CFLAGS and $LOADS_LDLIBS (split at blanks; each\n"
    "set of flags has its own build; the 4 last builds of a module are kept, and\n"
    "builds whose source is gone are removed).\n"
    "\n"
    "Options:\n"
    "  --server-url URL     base of relative URLs (alias --server_url)\n"
    "  -u, --users N[:N..]  concurrent virtual users; N:N:N runs cycles (default 1)\n"
    "  -c, --hits N[:N..]   runs of the test per user, in turn (default 1)\n"
    "  -d, --duration D     run for a duration instead (30s, 5m, 2h, 1h30m, 500ms)\n"
    "  -w, --workers N      worker processes (default: one per core, at most users)\n"
    "      --ramp-up S      spread the start of a cycle's users over S seconds\n"
    "                       (at most the duration)\n"
    "      --timeout S      bound on connect and each whole request (default 30)\n"
    "      --grace S        time a running test gets to finish after the end of a\n"
    "                       duration or a stop (default 5)\n"
    "      --max-body BYTES response body kept per request (default 16777216);\n"
    "                       the rest is received and counted, not stored\n"
    "      --ws-max-message BYTES\n"
    "                       largest websocket message accepted (default 16777216);\n"
    "                       a larger one is an Error on its socket\n"
    "  -k, --insecure       accept any TLS certificate (self-signed, expired, for\n"
    "                       another name); by default it must be trusted\n"
    "      --data FILE      a CSV file whose header names its columns; each run\n"
    "                       takes the next row (loads_data reads a column), rows\n"
    "                       shared out so that no two take the same one until the\n"
    "                       file wraps (at most 256 MiB)\n"
    "      --data-per W     run (default): a row per test run; vu: a row per VU,\n"
    "                       kept for its life\n"
    "      --env NAME=VALUE a value loads_env(t, \"NAME\") reads (repeatable, at\n"
    "                       most 64)\n"
    "\n"
    "Open model (runs start on a schedule, whatever the server does):\n"
    "      --rate R         start R test runs per second (100, 0.5) for -d; stages\n"
    "                       10:50:100 run in turn, each for -d; A-B ramps linearly\n"
    "                       from A to B over its stage (0-100:100:100-0).  Each run\n"
    "                       takes a free user of a pool: -u users are ready at the\n"
    "                       start; a run due when none is free is dropped, counted\n"
    "      --max-users N    how far the pool may grow (default 1000, or -u if more)\n"
    "      --threshold EXPR the run passes only if EXPR holds; repeatable: p99<200ms,\n"
    "                       p50<=20ms, errors<1%, rps>500, dropped==0, per URL\n"
    "                       p99{GET /login}<1s; times count from the scheduled start\n"
    "                       (service_p99: from the request sent).  See README\n"
    "      --config FILE    read options from the [loads] section of an INI file\n"
    "                       (name = value, ; comments); the command line wins\n"
    "  -q, --quiet          print only the summary\n"
    "      --no-tui         no dashboard, even on a terminal\n"
    "      --attach [PID]   watch a run started elsewhere (by its pid; the only\n"
    "                       one when none is given) and print its summary at\n"
    "                       the end; q detaches and leaves the run alone\n"
    "      --output FORMAT  text (default) or json (stdout is the JSON alone; what\n"
    "                       test code prints goes to stderr)\n"
    "      --json FILE      also write the JSON summary to FILE\n"
    "      --web ADDRESS    serve a live web view of the run on ADDRESS: a PORT\n"
    "                       (on 127.0.0.1) or IP:PORT; the page, /stats.json (the\n"
    "                       --json document as it stands), /series.json; with\n"
    "                       --agents, 503 until the agents start.  Not with --detach\n"
    "      --web-linger S   keep serving the final figures S seconds after the end\n"
    "      --version        print the version and exit\n"
    "  -h, --help           print this help and exit\n"
    "\n"
    "A cluster (loads-broker and loads-agent; see README, Running a cluster):\n"
    "      --agents N       run the test on N idle agents of the broker; each runs\n"
    "                       the whole plan of -u and -c, while --rate is the whole\n"
    "                       run's, split among them; the module's source is sent\n"
    "      --broker E       the broker's endpoint (default tcp://127.0.0.1:7780)\n"
    "      --include-file F also send file F (a header or data the test reads);\n"
    "                       files the module includes with \"...\" go anyway\n"
    "      --detach         start the run on the agents, print its id and exit\n"
    "      --attach RUN_ID  with --broker: watch that run, or print its summary\n"
    "                       when it has ended\n"
    "      --ping-broker    say whether the broker answers, and how many agents\n"
    "      --check-cluster  list the agents (host, pid, version, state, run) and runs\n"
    "      --purge-broker   stop every run of the broker\n"
    "      --key NAME       this runner's key pair (NAME_secret; loads-broker --keygen)\n"
    "      --broker-key F   the broker's public key file\n"
    "\n"
    "On a terminal a dashboard shows the run live: q or Ctrl-C stops it (running\n"
    "tests get the grace period; press again to kill them), ? lists the keys.\n"
    "SIGINT, SIGTERM, SIGHUP and SIGQUIT stop a run the same way.  Test code that\n"
    "does not return to Loads (a busy loop, sleep(3)) is warned about after 1 s;\n"
    "once the grace period is over, its worker is killed and its runs are Errors.\n"
    "\n"
    "Exit status:\n"
    "  0    every test run succeeded\n"
    "  1    some failed or errored, or a worker crashed\n"
    "  2    bad usage or setup (the reason is printed on stderr)\n"
    "  99   a --threshold failed\n"
    "  130  stopped before the end of its plan by SIGINT (Ctrl-C) or q\n"
    "  143  stopped by SIGTERM (129 SIGHUP, 131 SIGQUIT: 128 + the signal)\n"
    "A stopped run prints its summary of the runs that ended, with a line such\n"
    "as \"Stopped by SIGTERM after 2.1 s of 30 s\" (\"stopped\" in the JSON).\n"
    "With --attach, the watched run's status, or 0 when detached before its end.\n"
    "With --agents, 1 also when an agent was lost or the broker went silent.  With a\n"
    "threshold on errors, failed runs do not make the status 1: the threshold says\n"
    "how many may fail.\n";

enum {
    OPT_SERVER_URL = 256,
    OPT_RAMP_UP,
    OPT_TIMEOUT,
    OPT_GRACE,
    OPT_MAX_BODY,
    OPT_WS_MAX_MESSAGE,
    OPT_CONFIG,
    OPT_NO_TUI,
    OPT_OUTPUT,
    OPT_JSON,
    OPT_ATTACH,
    OPT_VERSION,
    OPT_AGENTS,
    OPT_BROKER,
    OPT_DETACH,
    OPT_PING_BROKER,
    OPT_CHECK_CLUSTER,
    OPT_PURGE_BROKER,
    OPT_INCLUDE_FILE,
    OPT_KEY,
    OPT_BROKER_KEY,
    OPT_DATA,
    OPT_DATA_PER,
    OPT_ENV,
    OPT_RATE,
    OPT_MAX_USERS,
    OPT_THRESHOLD,
    OPT_WEB,
    OPT_WEB_LINGER,
};

static const struct option long_options[] = {
    {"server-url", required_argument, NULL, OPT_SERVER_URL},
    {"server_url", required_argument, NULL, OPT_SERVER_URL},
    {"users", required_argument, NULL, 'u'},
    {"hits", required_argument, NULL, 'c'},
    {"duration", required_argument, NULL, 'd'},
    {"workers", required_argument, NULL, 'w'},
    {"ramp-up", required_argument, NULL, OPT_RAMP_UP},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"grace", required_argument, NULL, OPT_GRACE},
    {"max-body", required_argument, NULL, OPT_MAX_BODY},
    {"ws-max-message", required_argument, NULL, OPT_WS_MAX_MESSAGE},
    {"insecure", no_argument, NULL, 'k'},
    {"config", required_argument, NULL, OPT_CONFIG},
    {"quiet", no_argument, NULL, 'q'},
    {"no-tui", no_argument, NULL, OPT_NO_TUI},
    {"output", required_argument, NULL, OPT_OUTPUT},
    {"json", required_argument, NULL, OPT_JSON},
    {"attach", optional_argument, NULL, OPT_ATTACH},
    {"version", no_argument, NULL, OPT_VERSION},
    {"agents", required_argument, NULL, OPT_AGENTS},
    {"broker", required_argument, NULL, OPT_BROKER},
    {"detach", no_argument, NULL, OPT_DETACH},
    {"ping-broker", no_argument, NULL, OPT_PING_BROKER},
    {"check-cluster", no_argument, NULL, OPT_CHECK_CLUSTER},
    {"purge-broker", no_argument, NULL, OPT_PURGE_BROKER},
    {"include-file", required_argument, NULL, OPT_INCLUDE_FILE},
    {"key", required_argument, NULL, OPT_KEY},
    {"broker-key", required_argument, NULL, OPT_BROKER_KEY},
    {"data", required_argument, NULL, OPT_DATA},
    {"data-per", required_argument, NULL, OPT_DATA_PER},
    {"env", required_argument, NULL, OPT_ENV},
    {"rate", required_argument, NULL, OPT_RATE},
    {"max-users", required_argument, NULL, OPT_MAX_USERS},
    {"threshold", required_argument, NULL, OPT_THRESHOLD},
    {"web", required_argument, NULL, OPT_WEB},
    {"web-linger", required_argument, NULL, OPT_WEB_LINGER},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* ------------------------------------------------------------ spec parsers */

/* Parses a whole decimal number in [min, max]; nothing may follow it. */
static int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end;
    unsigned long long v;

    if (!isdigit((unsigned char)*s))
        return -EINVAL;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -EINVAL;
    *out = v;
    return 0;
}

/* Parses "N" or "N:N:N" into at most SHM_MAX_CYCLES values in [1, max]. */
static int parse_cycles(const char *s, uint64_t max, uint64_t *out, uint32_t *n)
{
    char buf[256], *tok, *save = NULL;

    if (strlen(s) >= sizeof(buf) || !*s)
        return -EINVAL;
    strcpy(buf, s);
    *n = 0;
    if (buf[strlen(buf) - 1] == ':' || buf[0] == ':' || strstr(buf, "::"))
        return -EINVAL;
    for (tok = strtok_r(buf, ":", &save); tok; tok = strtok_r(NULL, ":", &save)) {
        if (*n == SHM_MAX_CYCLES || parse_uint(tok, 1, max, &out[*n]) < 0)
            return -EINVAL;
        (*n)++;
    }
    return *n ? 0 : -EINVAL;
}

int runner_parse_users(const char *s, uint32_t *out, uint32_t *n)
{
    uint64_t v[SHM_MAX_CYCLES];
    int rc = parse_cycles(s, 1000000, v, n);

    for (uint32_t i = 0; rc == 0 && i < *n; i++)
        out[i] = (uint32_t)v[i];
    return rc;
}

int runner_parse_hits(const char *s, uint64_t *out, uint32_t *n)
{
    return parse_cycles(s, UINT64_C(1000000000000), out, n);
}

/*
 * Parses a duration: a sequence of number+unit (ms, s, m, h, d), such as
 * 30s, 5m, 1h30m, 500ms, or a bare number of seconds.  Blanks and other words are
 * refused so that "5 minutes" is a clear error, not 5 seconds.
 */
int runner_parse_duration(const char *s, uint64_t *us)
{
    uint64_t total = 0;

    if (!*s)
        return -EINVAL;
    while (*s) {
        char *end;
        double v;
        uint64_t unit;

        if (!isdigit((unsigned char)*s))
            return -EINVAL;
        errno = 0;
        v = strtod(s, &end);
        if (errno || end == s || !isfinite(v))
            return -EINVAL;
        switch (*end) {
        case '\0':
            unit = 1000000;
            break;
        case 's':
            unit = 1000000;
            end++;
            break;
        case 'm':
            /* "ms" can only be milliseconds: an 's' alone has no number. */
            unit = end[1] == 's' ? 1000 : 60 * UINT64_C(1000000);
            end += end[1] == 's' ? 2 : 1;
            break;
        case 'h':
            unit = 3600 * UINT64_C(1000000);
            end++;
            break;
        case 'd':
            unit = 86400 * UINT64_C(1000000);
            end++;
            break;
        default:
            return -EINVAL;
        }
        if (v * (double)unit > 366.0 * 86400e6)
            return -EINVAL;
        total += (uint64_t)(v * (double)unit);
        s = end;
    }
    if (total == 0)
        return -EINVAL;
    *us = total;
    return 0;
}

/*
 * A rate in milli-runs per second: digits, then optionally '.' and one to
 * three digits ("0.5", "33.333").  Returns the end of the number, or NULL.
 */
static const char *parse_mrps(const char *s, uint64_t *out)
{
    uint64_t v = 0, scale = 100;
    int digits = 0;

    for (; isdigit((unsigned char)*s); s++, digits++) {
        if (v > ARRIVAL_MAX_MRPS)
            return NULL;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    if (!digits)
        return NULL;
    v *= 1000;
    if (*s == '.') {
        for (digits = 0, s++; isdigit((unsigned char)*s); s++, digits++, scale /= 10) {
            if (digits == 3)
                return NULL;
            v += (uint64_t)(*s - '0') * scale;
        }
        if (!digits)
            return NULL;
    }
    if (v > ARRIVAL_MAX_MRPS)
        return NULL;
    *out = v;
    return s;
}

/*
 * Parses --rate: stages separated by ':', each a rate in runs per second
 * ("100", "0.5") or a linear ramp from one rate to another over the stage
 * ("0-100", "100-0").  At most SHM_MAX_CYCLES stages, not all of them 0.
 */
int runner_parse_rate(const char *s, struct arrival_stage *out, uint32_t *n)
{
    struct arrival_stage st[SHM_MAX_CYCLES];
    uint32_t k = 0;
    uint64_t any = 0;

    for (;;) {
        if (k == SHM_MAX_CYCLES || !(s = parse_mrps(s, &st[k].from_mrps)))
            return -EINVAL;
        st[k].to_mrps = st[k].from_mrps;
        if (*s == '-' && !(s = parse_mrps(s + 1, &st[k].to_mrps)))
            return -EINVAL;
        any |= st[k].from_mrps | st[k].to_mrps;
        k++;
        if (!*s)
            break;
        if (*s++ != ':')
            return -EINVAL;
    }
    if (!any)
        return -EINVAL;
    memcpy(out, st, k * sizeof(*st));
    *n = k;
    return 0;
}

/* Checks that s is an http:// or https:// URL with a host. */
int runner_parse_url(const char *s, char *err, size_t errlen)
{
    const char *host;

    if (strncasecmp(s, "http://", 7) == 0)
        host = s + 7;
    else if (strncasecmp(s, "https://", 8) == 0)
        host = s + 8;
    else {
        snprintf(err, errlen, "invalid --server-url '%s': use http://HOST[:PORT] "
                              "or https://HOST[:PORT]", s);
        return -EINVAL;
    }
    if (!*host || *host == '/' || *host == ':' || strpbrk(s, " \t\r\n")) {
        snprintf(err, errlen, "invalid --server-url '%s': no host, use "
                              "http://HOST[:PORT]", s);
        return -EINVAL;
    }
    if (strlen(s) >= SHM_URL_LEN) {
        snprintf(err, errlen, "invalid --server-url: longer than %d characters",
                 SHM_URL_LEN - 1);
        return -EINVAL;
    }
    return 0;
}

static int parse_seconds(const char *s, double max, double *out)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < 0 || v > max)
        return -EINVAL;
    *out = v;
    return 0;
}

uint64_t runner_planned_runs(const struct runner_opts *o, uint32_t per_hit)
{
    uint64_t users = 0, hits = 0;

    if (o->duration_us)
        return 0;
    for (uint32_t i = 0; i < o->nusers; i++)
        users += o->users[i];
    for (uint32_t i = 0; i < o->nhits; i++)
        hits += o->hits[i];
    return users * hits * per_hit;
}

/*
 * The dashboard is for a person at a terminal: output meant for a file, a
 * pipe or a script (-q, --no-tui, --output json) keeps to plain text.
 */
int runner_wants_dashboard(const struct runner_opts *o)
{
    return isatty(STDOUT_FILENO) && !o->quiet && !o->no_tui && o->output != RUNNER_JSON;
}

/* Parses a run's pid for --attach; 0 is no pid. */
static int parse_pid(const char *s, int32_t *pid)
{
    uint64_t v;

    if (parse_uint(s, 1, INT32_MAX, &v) < 0)
        return -EINVAL;
    *pid = (int32_t)v;
    return 0;
}

/* ------------------------------------------------------------------ options */

/*
 * Applies one option by its long name (from the command line or the
 * config file).  Returns 0, or -EINVAL with a reason in err.
 */
static int set_option(struct runner_opts *o, int id, const char *name, const char *v,
                      char *err, size_t errlen)
{
    uint64_t n;

    switch (id) {
    case OPT_SERVER_URL:
        if (runner_parse_url(v, err, errlen) < 0)
            return -EINVAL;
        snprintf(o->server_url, sizeof(o->server_url), "%s", v);
        return 0;
    case 'u':
        if (runner_parse_users(v, o->users, &o->nusers) == 0)
            return 0;
        snprintf(err, errlen, "invalid --users '%s': use a number of users from 1, "
                              "or cycles such as 10:20:30", v);
        return -EINVAL;
    case 'c':
        if (runner_parse_hits(v, o->hits, &o->nhits) == 0)
            return 0;
        snprintf(err, errlen, "invalid --hits '%s': use a number of runs from 1, "
                              "or cycles such as 10:20", v);
        return -EINVAL;
    case 'd':
        if (runner_parse_duration(v, &o->duration_us) == 0)
            return 0;
        snprintf(err, errlen, "invalid --duration '%s': use a number with a unit, "
                              "such as 30s, 5m, 2h or 1h30m", v);
        return -EINVAL;
    case OPT_RATE:
        if (runner_parse_rate(v, o->rate, &o->nrates) == 0)
            return 0;
        snprintf(err, errlen, "invalid --rate '%s': use runs per second (100, 0.5), stages "
                              "such as 10:50:100, or ramps such as 0-100:100:100-0", v);
        return -EINVAL;
    case OPT_WEB: {
        struct sockaddr_storage a;
        socklen_t alen;

        if (strlen(v) >= sizeof(o->web) || web_parse_addr(v, &a, &alen, err, errlen) < 0) {
            snprintf(err, errlen, "invalid --web '%.100s': use PORT (on 127.0.0.1), "
                                  "ADDRESS:PORT or [IPV6]:PORT, the port from 1 to 65535", v);
            return -EINVAL;
        }
        snprintf(o->web, sizeof(o->web), "%s", v);
        return 0;
    }
    case OPT_WEB_LINGER:
        if (parse_seconds(v, 86400, &o->web_linger) == 0)
            return 0;
        break;
    case OPT_THRESHOLD: {
        char why[256];

        if (o->nthresholds == RUNNER_MAX_THRESHOLDS) {
            snprintf(err, errlen, "too many --threshold: at most %d", RUNNER_MAX_THRESHOLDS);
            return -EINVAL;
        }
        if (threshold_parse(v, &o->thresholds[o->nthresholds], why, sizeof(why)) == 0) {
            o->nthresholds++;
            return 0;
        }
        snprintf(err, errlen, "invalid --threshold '%s': %s", v, why);
        return -EINVAL;
    }
    case OPT_MAX_USERS:
        if (parse_uint(v, 1, 1000000, &n) == 0) {
            o->max_users = (uint32_t)n;
            return 0;
        }
        snprintf(err, errlen, "invalid --max-users '%s': use a number of users from 1", v);
        return -EINVAL;
    case 'w':
        if (parse_uint(v, 1, SHM_MAX_WORKERS, &n) == 0) {
            o->workers = (uint32_t)n;
            return 0;
        }
        snprintf(err, errlen, "invalid --workers '%s': use a number from 1 to %d", v,
                 SHM_MAX_WORKERS);
        return -EINVAL;
    case OPT_RAMP_UP:
        if (parse_seconds(v, 86400, &o->ramp_up) == 0)
            return 0;
        break;
    case OPT_TIMEOUT:
        if (parse_seconds(v, 86400, &o->timeout) == 0 && o->timeout > 0)
            return 0;
        break;
    case OPT_GRACE:
        if (parse_seconds(v, 86400, &o->grace) == 0)
            return 0;
        break;
    case OPT_MAX_BODY:
        if (parse_uint(v, 0, SIZE_MAX / 2, &n) == 0) {
            o->max_body = (size_t)n;
            return 0;
        }
        snprintf(err, errlen, "invalid --max-body '%s': use a number of bytes", v);
        return -EINVAL;
    case OPT_WS_MAX_MESSAGE:
        if (parse_uint(v, 1, SIZE_MAX / 2, &n) == 0) {
            o->ws_max_message = (size_t)n;
            return 0;
        }
        snprintf(err, errlen, "invalid --ws-max-message '%s': use a number of bytes from 1",
                 v);
        return -EINVAL;
    case 'k':
        o->insecure = 1;
        return 0;
    case 'q':
        o->quiet = 1;
        return 0;
    case OPT_NO_TUI:
        o->no_tui = 1;
        return 0;
    case OPT_OUTPUT:
        if (strcmp(v, "text") == 0 || strcmp(v, "json") == 0) {
            o->output = strcmp(v, "json") == 0 ? RUNNER_JSON : RUNNER_TEXT;
            return 0;
        }
        snprintf(err, errlen, "invalid --output '%s': use text or json", v);
        return -EINVAL;
    case OPT_JSON:
        if (*v && strlen(v) < sizeof(o->json_file)) {
            snprintf(o->json_file, sizeof(o->json_file), "%s", v);
            return 0;
        }
        snprintf(err, errlen, "invalid --json '%.200s': use the name of a file to write",
                 v);
        return -EINVAL;
    case OPT_AGENTS:
        if (parse_uint(v, 1, SHM_MAX_WORKERS, &n) == 0) {
            o->agents = (uint32_t)n;
            return 0;
        }
        snprintf(err, errlen, "invalid --agents '%s': use a number from 1 to %d", v,
                 SHM_MAX_WORKERS);
        return -EINVAL;
    case OPT_BROKER:
        if (strncmp(v, "tcp://", 6) != 0 && strncmp(v, "ipc://", 6) != 0) {
            snprintf(err, errlen, "invalid --broker '%s': use tcp://HOST:PORT or "
                                  "ipc://PATH", v);
            return -EINVAL;
        }
        if (strlen(v) >= sizeof(o->broker)) {
            snprintf(err, errlen, "invalid --broker: longer than %zu characters",
                     sizeof(o->broker) - 1);
            return -EINVAL;
        }
        snprintf(o->broker, sizeof(o->broker), "%s", v);
        o->broker_given = 1;
        return 0;
    case OPT_DETACH:
        o->detach = 1;
        return 0;
    case OPT_PING_BROKER:
    case OPT_CHECK_CLUSTER:
    case OPT_PURGE_BROKER:
        if (o->broker_cmd) {
            snprintf(err, errlen, "--ping-broker, --check-cluster and --purge-broker "
                                  "exclude each other: give one");
            return -EINVAL;
        }
        o->broker_cmd = id == OPT_PING_BROKER    ? RUNNER_BROKER_PING
                        : id == OPT_CHECK_CLUSTER ? RUNNER_BROKER_CHECK
                                                  : RUNNER_BROKER_PURGE;
        return 0;
    case OPT_INCLUDE_FILE:
        if (o->ninclude_files == sizeof(o->include_files) / sizeof(o->include_files[0])) {
            snprintf(err, errlen, "too many --include-file: at most %zu",
                     sizeof(o->include_files) / sizeof(o->include_files[0]));
            return -EINVAL;
        }
        /* Config values live in a buffer that is reused: keep a copy. */
        o->include_files[o->ninclude_files] = strdup(v);
        if (!o->include_files[o->ninclude_files]) {
            snprintf(err, errlen, "out of memory");
            return -EINVAL;
        }
        o->ninclude_files++;
        return 0;
    case OPT_DATA:
        if (*v && strlen(v) < sizeof(o->data_file)) {
            snprintf(o->data_file, sizeof(o->data_file), "%s", v);
            return 0;
        }
        snprintf(err, errlen, "invalid --data '%.200s': use the name of a CSV file", v);
        return -EINVAL;
    case OPT_DATA_PER:
        if (strcmp(v, "run") == 0 || strcmp(v, "vu") == 0) {
            o->data_per_vu = strcmp(v, "vu") == 0;
            o->data_per_given = 1;
            return 0;
        }
        snprintf(err, errlen, "invalid --data-per '%s': use run (a row per test run) or vu "
                              "(a row per virtual user)", v);
        return -EINVAL;
    case OPT_ENV: {
        const char *eq = strchr(v, '=');
        size_t nlen = eq ? (size_t)(eq - v) : 0;
        int ok = nlen > 0 && (isalpha((unsigned char)v[0]) || v[0] == '_');

        for (size_t i = 1; ok && i < nlen; i++)
            ok = isalnum((unsigned char)v[i]) || v[i] == '_';
        if (!ok) {
            snprintf(err, errlen, "invalid --env '%.200s': use NAME=VALUE, NAME made of "
                                  "letters, digits and _", v);
            return -EINVAL;
        }
        for (uint32_t i = 0; i < o->nenv; i++)
            if (strncmp(o->env[i], v, nlen + 1) == 0) {
                /* Given again (the command line after the file): the last wins. */
                free(o->env[i]);
                o->env[i] = o->env[--o->nenv];
                break;
            }
        if (o->nenv == RUNNER_MAX_ENV) {
            snprintf(err, errlen, "too many --env: at most %d", RUNNER_MAX_ENV);
            return -EINVAL;
        }
        if (!(o->env[o->nenv] = strdup(v))) {
            snprintf(err, errlen, "out of memory");
            return -EINVAL;
        }
        o->nenv++;
        return 0;
    }
    case OPT_KEY:
    case OPT_BROKER_KEY:
        snprintf(id == OPT_KEY ? o->key : o->broker_key, sizeof(o->key), "%s", v);
        return 0;
    case OPT_ATTACH:
        o->attach = 1;
        if (*v && strlen(v) < sizeof(o->attach_run))
            snprintf(o->attach_run, sizeof(o->attach_run), "%s", v);
        if (!*v || parse_pid(v, &o->attach_pid) == 0)
            return 0;
        if (o->attach_run[0])
            return 0; /* a run id, if --broker comes: checked at the end */
        snprintf(err, errlen, "invalid --attach '%s': use the pid of a run's "
                              "loads-runner, or no value", v);
        return -EINVAL;
    }
    snprintf(err, errlen, "invalid --%s '%s': use a number of seconds from 0%s", name, v,
             id == OPT_TIMEOUT ? " (above 0)" : "");
    return -EINVAL;
}

static const struct option *find_option(const char *name)
{
    for (const struct option *opt = long_options; opt->name; opt++)
        if (strcmp(opt->name, name) == 0)
            return opt;
    return NULL;
}

static char *trim(char *s)
{
    char *end;

    while (isspace((unsigned char)*s))
        s++;
    end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

/*
 * Whether a line is text: no control character but tab (and the CR of a
 * CRLF file, which trim removes).  Random bytes fail this at once.
 */
static int is_text(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f)
            return 0;
    }
    return 1;
}

/*
 * Cuts an inline comment: a ';' or '#' that follows a blank starts one, as
 * INI files allow ("users = 10  ; ten users").  A '#' inside a value, as in
 * a URL's fragment, is kept.
 */
static void cut_comment(char *s)
{
    for (char *p = s + 1; *p; p++)
        if ((*p == ';' || *p == '#') && (p[-1] == ' ' || p[-1] == '\t')) {
            *p = '\0';
            return;
        }
}

/*
 * Applies one "name = value" line of the [loads] section: names as the
 * long options (server_url or server-url); flags take yes/no, true/false
 * or 1/0.  Errors are the caller's to prefix with file:line.
 */
static int config_option(struct runner_opts *o, char *s, char *err, size_t errlen)
{
    char *eq = strchr(s, '='), *key, *val;
    const struct option *opt;

    if (!eq) {
        snprintf(err, errlen, "expected 'name = value'");
        return -EINVAL;
    }
    *eq = '\0';
    key = trim(s);
    val = trim(eq + 1);
    for (char *p = key; *p; p++)
        if (*p == '_')
            *p = '-';
    opt = find_option(key);
    if (!opt || opt->val == OPT_CONFIG || opt->val == 'h' || opt->val == OPT_VERSION ||
        opt->val == OPT_ATTACH) {
        snprintf(err, errlen, "unknown option '%s'", key);
        return -EINVAL;
    }
    if (opt->has_arg == no_argument) {
        if (strcasecmp(val, "no") == 0 || strcasecmp(val, "false") == 0 ||
            strcmp(val, "0") == 0)
            return 0;
        if (strcasecmp(val, "yes") != 0 && strcasecmp(val, "true") != 0 &&
            strcmp(val, "1") != 0) {
            snprintf(err, errlen, "%s takes yes or no", key);
            return -EINVAL;
        }
    }
    return set_option(o, opt->val, key, val, err, errlen);
}

/*
 * Reads the options of the [loads] section of an INI file.  Every line is
 * checked, whatever its section: a file that is not INI (random bytes, a
 * directory, a line outside any section), a file without [loads], an
 * unknown option or a bad value is an error naming file:line, never a
 * file silently ignored.  Other sections are left alone once they parse.
 */
static int read_config(struct runner_opts *o, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    char *line = NULL, why[512];
    size_t cap = 0;
    ssize_t len;
    int lineno = 0, section = 0, loads = 0, seen_loads = 0, rc = 0;
    struct stat st;

    if (!f || (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode))) {
        snprintf(err, errlen, "cannot read --config %s: %s", path,
                 f ? strerror(EISDIR) : strerror(errno));
        if (f)
            fclose(f);
        return -EINVAL;
    }
    /* getline: a line of any length is one line. */
    while (rc == 0 && (len = getline(&line, &cap, f)) >= 0) {
        char *s = line;

        lineno++;
        if (lineno == 1 && strncmp(s, "\xef\xbb\xbf", 3) == 0)
            s += 3; /* a UTF-8 byte order mark */
        if (!is_text(line, (size_t)len)) {
            snprintf(why, sizeof(why), "not a text line (binary data?)");
            rc = -EINVAL;
            break;
        }
        if (section && *s && isspace((unsigned char)*s) && !loads)
            continue; /* a continuation line of another section's value */
        s = trim(s);
        if (!*s || *s == '#' || *s == ';')
            continue;
        if (*s == '[') {
            char *end = strchr(s, ']');

            if (!end || end[1]) {
                snprintf(why, sizeof(why), "expected '[section]'");
                rc = -EINVAL;
                break;
            }
            *end = '\0';
            section = 1;
            loads = strcmp(trim(s + 1), "loads") == 0;
            seen_loads |= loads;
            continue;
        }
        if (!section) {
            snprintf(why, sizeof(why), "'%.64s' is outside any section: put the options "
                     "under a line [loads]", s);
            rc = -EINVAL;
            break;
        }
        if (!loads) {
            if (!strchr(s, '=') && !strchr(s, ':')) {
                snprintf(why, sizeof(why), "expected 'name = value'");
                rc = -EINVAL;
            }
            continue;
        }
        cut_comment(s);
        rc = config_option(o, s, why, sizeof(why));
    }
    if (rc < 0) {
        snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
    } else if (ferror(f)) {
        snprintf(err, errlen, "cannot read --config %s: %s", path, strerror(errno));
        rc = -EINVAL;
    } else if (!seen_loads) {
        snprintf(err, errlen, "%s: no [loads] section: put the options under a line "
                 "[loads]", path);
        rc = -EINVAL;
    }
    free(line);
    fclose(f);
    return rc;
}

/* Names the option that getopt stopped on, for an error line. */
static void bad_option(char **argv, int optopt_, char *err, size_t errlen)
{
    const char *arg = argv[optind - 1];

    if (optopt_ && strncmp(arg, "--", 2) != 0)
        snprintf(err, errlen, "option -%c %s; see --help", optopt_,
                 strchr("ucdw", optopt_) ? "needs a value" : "is unknown");
    else if (strchr(arg, '=') == NULL && find_option(arg + 2))
        snprintf(err, errlen, "option %s needs a value; see --help", arg);
    else
        snprintf(err, errlen, "unknown option %s; see --help", arg);
}

/*
 * Checks before the run that the --json file can be written: its directory
 * exists and is writable, and the file, if there, is a writable file.  A
 * mistake found after an hour of load would lose the summary.
 */
static int check_output_file(const char *path, char *err, size_t errlen)
{
    const char *slash = strrchr(path, '/');
    char dir[sizeof(((struct runner_opts *)0)->json_file)];
    struct stat st;

    if (stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            snprintf(err, errlen, "cannot write --json %s: it is a directory", path);
            return -EINVAL;
        }
        if (access(path, W_OK) < 0) {
            snprintf(err, errlen, "cannot write --json %s: %s", path, strerror(errno));
            return -EINVAL;
        }
        return 0;
    }
    if (errno != ENOENT) {
        snprintf(err, errlen, "cannot write --json %s: %s", path, strerror(errno));
        return -EINVAL;
    }
    if (!slash)
        snprintf(dir, sizeof(dir), ".");
    else
        snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "cannot write --json %s: no directory %s", path, dir);
        return -EINVAL;
    }
    if (access(dir, W_OK | X_OK) < 0) {
        snprintf(err, errlen, "cannot write --json %s: directory %s: %s", path, dir,
                 strerror(errno));
        return -EINVAL;
    }
    return 0;
}

/*
 * The open model's options together: --rate needs -d (each stage's
 * length), one -u (the VUs ready at the start), no -c and no --ramp-up;
 * --max-users goes with --rate and defaults to DEFAULT_MAX_USERS, or -u
 * when that is more.
 */
static int check_rate(struct runner_opts *o, int cli_hits, char *err, size_t errlen)
{
    if (!o->nrates) {
        if (o->max_users) {
            snprintf(err, errlen, "--max-users goes with --rate: it bounds the pool of "
                                  "users that --rate runs start on");
            return -EINVAL;
        }
        return 0;
    }
    if (o->nhits && !o->duration_us) {
        snprintf(err, errlen, "--rate and --hits exclude each other: --rate runs for -d%s",
                 cli_hits ? "" : " (the --config file has hits)");
        return -EINVAL;
    }
    if (!o->duration_us) {
        snprintf(err, errlen, "--rate needs --duration: each stage of the rate lasts -d "
                              "(--rate 100 -d 1m, --rate 10:50:100 -d 30s)");
        return -EINVAL;
    }
    if (o->nusers > 1) {
        snprintf(err, errlen, "with --rate, -u is how many users are ready at the start: "
                              "one number (stages are --rate 10:50:100)");
        return -EINVAL;
    }
    if (o->ramp_up > 0) {
        snprintf(err, errlen, "--ramp-up is for -u cycles; with --rate, ramp the rate "
                              "itself: --rate 0-100 -d 30s");
        return -EINVAL;
    }
    if (!o->nusers) {
        o->users[0] = 1;
        o->nusers = 1;
    }
    if (!o->max_users)
        o->max_users = o->users[0] > DEFAULT_MAX_USERS ? o->users[0] : DEFAULT_MAX_USERS;
    if (o->max_users < o->users[0]) {
        snprintf(err, errlen, "--max-users %u is below -u %u: the pool starts with -u users "
                              "and may grow to --max-users", o->max_users, o->users[0]);
        return -EINVAL;
    }
    return 0;
}

void runner_opts_free(struct runner_opts *o)
{
    for (uint32_t i = 0; i < o->ninclude_files; i++)
        free(o->include_files[i]);
    o->ninclude_files = 0;
    for (uint32_t i = 0; i < o->nenv; i++)
        free(o->env[i]);
    o->nenv = 0;
}

void runner_one_line(char *err)
{
    for (; *err; err++)
        if ((unsigned char)*err < 0x20 || *err == 0x7f)
            *err = '?';
}

int runner_parse_args(struct runner_opts *o, int argc, char **argv, char *err,
                      size_t errlen)
{
    int c, idx, cli_hits = 0, cli_duration = 0;

    memset(o, 0, sizeof(*o));
    o->rate_stride = 1;
    o->timeout = 30;
    o->grace = 5;
    o->max_body = 16u << 20;
    o->ws_max_message = 16u << 20;

    /* The config file first, so that the command line wins. */
    for (int i = 1; i < argc && argv[i]; i++) {
        const char *path = NULL;

        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            path = argv[i + 1];
        else if (strncmp(argv[i], "--config=", 9) == 0)
            path = argv[i] + 9;
        if (path && read_config(o, path, err, errlen) < 0)
            return -EINVAL;
    }

    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "u:c:d:w:qkh", long_options, &idx)) != -1) {
        switch (c) {
        case 'h':
            fputs(usage, stdout);
            return 1;
        case OPT_VERSION:
            printf("loads-runner %s\n", LOADS_VERSION);
            return 1;
        case OPT_CONFIG:
            break;
        case '?':
        case ':':
            bad_option(argv, optopt, err, errlen);
            return -EINVAL;
        default: {
            const char *name = "";

            for (const struct option *opt = long_options; opt->name; opt++)
                if (opt->val == c)
                    name = opt->name;
            if (set_option(o, c, name, optarg ? optarg : "", err, errlen) < 0)
                return -EINVAL;
            cli_hits |= c == 'c';
            cli_duration |= c == 'd';
        }
        }
    }
    if (o->web[0] && (o->broker_cmd || (o->agents && o->detach))) {
        snprintf(err, errlen, "--web goes with a run the runner follows: not with %s",
                 o->broker_cmd ? "--ping-broker, --check-cluster or --purge-broker"
                               : "--detach (watch it with --attach RUN_ID --broker --web)");
        return -EINVAL;
    }
    if (o->web_linger > 0 && !o->web[0]) {
        snprintf(err, errlen, "--web-linger goes with --web ADDRESS");
        return -EINVAL;
    }
    if (o->broker_cmd || (o->attach && o->broker_given)) {
        /* --attach RUN_ID: getopt may leave the id as an operand. */
        if (o->attach && !o->attach_run[0] && optind + 1 == argc &&
            strlen(argv[optind]) < sizeof(o->attach_run))
            snprintf(o->attach_run, sizeof(o->attach_run), "%s", argv[optind++]);
        if (optind < argc) {
            snprintf(err, errlen, "unexpected '%s' with a broker command; see --help",
                     argv[optind]);
            return -EINVAL;
        }
        if (o->attach && o->broker_cmd) {
            snprintf(err, errlen, "--attach and --%s exclude each other: give one",
                     o->broker_cmd == RUNNER_BROKER_PING    ? "ping-broker"
                     : o->broker_cmd == RUNNER_BROKER_CHECK ? "check-cluster"
                                                            : "purge-broker");
            return -EINVAL;
        }
        if (o->attach && !o->attach_run[0]) {
            snprintf(err, errlen, "--attach with --broker takes the id of a run: "
                                  "loads-runner --attach RUN_ID --broker E");
            return -EINVAL;
        }
        return 0;
    }
    if (o->attach && !o->attach_pid && o->attach_run[0]) {
        snprintf(err, errlen, "invalid --attach '%s': use the pid of a run's loads-runner, "
                              "or a run id with --broker", o->attach_run);
        return -EINVAL;
    }
    if (o->json_file[0] && check_output_file(o->json_file, err, errlen) < 0)
        return -EINVAL;
    if (o->attach) {
        /* --attach PID: getopt leaves the pid as an operand. */
        if (optind < argc && !o->attach_pid && optind + 1 == argc &&
            parse_pid(argv[optind], &o->attach_pid) == 0)
            return 0;
        if (optind < argc) {
            snprintf(err, errlen, "--attach takes the pid of a run, not '%s': "
                                  "loads-runner --attach [PID]", argv[optind]);
            return -EINVAL;
        }
        return 0;
    }
    if (optind >= argc) {
        snprintf(err, errlen, "no test given: loads-runner module.Suite.test "
                              "[options]; see --help");
        return -EINVAL;
    }
    if (optind + 1 < argc) {
        snprintf(err, errlen, "one test at a time: unexpected '%s'; see --help",
                 argv[optind + 1]);
        return -EINVAL;
    }
    o->test = argv[optind];
    if (!o->agents && (o->detach || o->ninclude_files)) {
        snprintf(err, errlen, "--%s goes with --agents: a local run needs no broker",
                 o->detach ? "detach" : "include-file");
        return -EINVAL;
    }
    if (o->data_per_given && !o->data_file[0]) {
        snprintf(err, errlen, "--data-per goes with --data FILE.csv");
        return -EINVAL;
    }
    /* The command line wins over the file, for this pair too. */
    if (o->duration_us && o->nhits && cli_duration != cli_hits) {
        if (cli_duration)
            o->nhits = 0;
        else
            o->duration_us = 0;
    }
    if (o->duration_us && o->nhits) {
        snprintf(err, errlen, "--hits and --duration exclude each other: give one%s",
                 cli_hits ? "" : " (the --config file has both)");
        return -EINVAL;
    }
    if (check_rate(o, cli_hits, err, errlen) < 0)
        return -EINVAL;
    if (o->duration_us && o->ramp_up * 1e6 > (double)o->duration_us) {
        snprintf(err, errlen, "--ramp-up %g s is longer than --duration (%g s): the last "
                 "users would start after its end; give a ramp-up up to the duration",
                 o->ramp_up, (double)o->duration_us / 1e6);
        return -EINVAL;
    }
    if (!o->nusers) {
        o->users[0] = 1;
        o->nusers = 1;
    }
    if (!o->duration_us && !o->nhits) {
        o->hits[0] = 1;
        o->nhits = 1;
    }
    return 0;
}

int runner_load_data(const struct runner_opts *o, struct csv *data, char *err,
                     size_t errlen)
{
    const char *path = o->data_file;
    char why[512];
    struct stat st;
    char *text;
    FILE *f;
    size_t got;
    int rc;

    memset(data, 0, sizeof(*data));
    if (!path[0])
        return 0;
    f = fopen(path, "r");
    if (!f || fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "cannot read --data %s: %s", path,
                 !f ? strerror(errno) : "not a file");
        if (f)
            fclose(f);
        return -EINVAL;
    }
    if ((uint64_t)st.st_size > RUNNER_MAX_DATA) {
        snprintf(err, errlen, "--data %s: %lld bytes, more than %u MiB", path,
                 (long long)st.st_size, RUNNER_MAX_DATA >> 20);
        fclose(f);
        return -EINVAL;
    }
    text = malloc((size_t)st.st_size + 1);
    if (!text) {
        snprintf(err, errlen, "--data %s: out of memory", path);
        fclose(f);
        return -EINVAL;
    }
    got = fread(text, 1, (size_t)st.st_size, f);
    if (ferror(f) || got != (size_t)st.st_size) {
        snprintf(err, errlen, "cannot read --data %s: %s", path,
                 ferror(f) ? strerror(errno) : "it changed while read");
        fclose(f);
        free(text);
        return -EINVAL;
    }
    fclose(f);
    rc = csv_parse(text, got, data, why, sizeof(why));
    free(text);
    if (rc < 0) {
        snprintf(err, errlen, "%s:%s", path, why);
        return -EINVAL;
    }
    return 0;
}
