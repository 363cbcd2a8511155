/*
 * The live dashboard: a full-screen ncurses view of a run, redrawn about
 * four times a second from the shared-memory segment alone, so that the
 * supervisor and `loads-runner --attach` show the same thing.
 *
 * Reading and drawing are kept apart, as in htop: collect() turns the
 * segment into a frame (the merged shm_stats snapshot, the per-second
 * series merged over the workers, the worker table), and the draw_*
 * functions read only that frame.  Figures the summary also prints come
 * from the functions the summary uses (shm_stats_collect, tui_rps,
 * tui_run_fraction, tui_format_ms).
 */
#include <curses.h>
#include <langinfo.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "shm/recent.h"
#include "tui/tui.h"

#define FRAME_US       250000  /* a frame every 250 ms */
#define CPU_SHARE      50      /* a frame may cost at most 1/50 of its period */
#define FLUSH_SLACK_US 200000  /* workers close a second within 100 ms of its end */
#define RECENT_SECONDS 4       /* seconds re-read every frame, for late writers */
#define LAST_SECONDS   5       /* the "last seconds" latency window */
#define CHART_MAX_COLS 1000
#define CHART_MAX_ROWS 4
#define CHART_LABEL    7       /* columns left of a chart */
#define CHART_NOTE     16      /* columns right of a chart */
#define LINE_MAX_BYTES 4096

enum panel { PANEL_URLS, PANEL_METRICS, PANEL_MSGS, PANEL_WORKERS, NPANELS };

enum sort { SORT_HITS, SORT_P99 };

enum colour {
    PAIR_TITLE = 1,           /* title and status bars */
    PAIR_GOOD,                /* successes, running workers */
    PAIR_BAD,                 /* failures, errors, crashes */
    PAIR_WARN,                /* stopping, failures */
    PAIR_CHART,               /* the charts */
};

/* One second of the whole run, merged from every worker's series. */
struct dash_second {
    uint64_t tag;             /* second + 1 held here; 0: not read yet */
    uint64_t hits;            /* responses in that second */
    uint64_t p99_us;          /* highest of the workers' p99, for the chart */
    uint64_t runs;            /* runs started in that second */
    uint64_t dropped;         /* runs of the schedule dropped in that second */
};

/* One worker slot as the frame saw it. */
struct dash_worker {
    int32_t pid;              /* process, 0: slot never used */
    uint32_t users;           /* VUs in the current cycle */
    uint32_t state;           /* enum shm_worker_state */
    uint32_t crashes;         /* crashed processes of this slot */
};

/* Everything one frame draws, read from the segment at one moment. */
struct dash_frame {
    struct shm_stats st;      /* merged snapshot, as the summary has it */
    uint64_t *url_p99;        /* p99 of each row of st.urls, us */
    uint32_t state;           /* enum shm_run_state */
    uint32_t stop;            /* a stop was asked */
    uint32_t cycle;           /* current cycle, 0-based */
    uint32_t ncycles;         /* cycles planned */
    uint32_t users_planned;   /* users of the current cycle */
    double fraction;          /* 0..1, tui_run_fraction */
    int64_t last_second;      /* last complete second of the series, -1: none */
    uint64_t hits_now;        /* responses in last_second */
    uint64_t runs_now;        /* runs started in last_second (--rate) */
    uint64_t dropped_now;     /* runs dropped in last_second (--rate) */
    uint64_t recent_hits;     /* responses in the last LAST_SECONDS seconds */
    uint32_t recent_seconds;  /* seconds of data in that window */
    uint64_t recent_p50_us;   /* of the workers' last seconds, merged (exact) */
    uint64_t recent_p99_us;
    struct dash_worker workers[SHM_MAX_WORKERS];
    uint32_t nworkers;
};

struct tui_dash {
    const struct shm *shm;    /* the run's segment (not owned) */
    int flags;                /* enum tui_dash_flags */
    SCREEN *screen;           /* our curses screen */
    int utf8;                 /* the locale's charset is UTF-8 */
    int colour;               /* colours on (a colour terminal, no NO_COLOR) */
    int64_t next_frame_us;    /* CLOCK_MONOTONIC of the next collect */
    int64_t period_us;        /* between frames: FRAME_US, more if frames cost */
    int dirty;                /* the screen needs drawing */
    int help;                 /* the help overlay is shown */
    int finished;             /* the run is over: figures frozen */
    double end_elapsed;       /* elapsed seconds to show once finished, <0: the segment's */
    char why[128];            /* why it finished, for the status line */
    enum sort sort;           /* order of the URL table */
    enum panel focus;         /* panel the arrows scroll */
    int scroll[NPANELS];      /* first row shown of each panel */
    int page[NPANELS];        /* rows each panel showed last time */
    struct dash_frame fr;     /* the last frame */
    struct dash_second secs[SHM_SERIES]; /* indexed by second % SHM_SERIES */
    struct hist *recent;      /* the workers' last seconds merged; NULL until used */
    struct hist *recent_tmp;  /* one worker's, read consistently */
};

static pid_t screen_owner;    /* process whose terminal is in curses mode */

/* ------------------------------------------------------------- reading */

/* Second s of every worker's series, merged (shm_stats_second). */
static void merge_second(struct tui_dash *d, int64_t s)
{
    struct shm_second m;

    shm_stats_second(d->shm, s, &m);
    d->secs[s % SHM_SERIES] = (struct dash_second){.tag = m.second, .hits = m.hits,
                                                   .p99_us = m.p99_us, .runs = m.runs,
                                                   .dropped = m.dropped};
}

/*
 * The median and p99 of the last seconds: every worker's histogram of its
 * last SHM_RECENT seconds, merged.  A worker rewriting its histogram just
 * then is read again a little later, or left out of this frame.
 */
static void collect_recent(struct tui_dash *d, struct dash_frame *f)
{
    if (!d->recent && !(d->recent = malloc(sizeof(*d->recent))))
        return;
    if (!d->recent_tmp && !(d->recent_tmp = malloc(sizeof(*d->recent_tmp))))
        return;
    memset(d->recent, 0, sizeof(*d->recent));
    for (uint32_t w = 0; w < d->shm->hdr->nslots; w++)
        for (int tries = 0; tries < 3; tries++)
            if (shm_recent_read(shm_slot(d->shm, w), d->recent_tmp, d->recent) == 0)
                break;
    f->recent_p50_us = hist_percentile(d->recent, 50);
    f->recent_p99_us = hist_percentile(d->recent, 99);
}

/*
 * Brings the merged series up to the last complete second: every second
 * still held by the segment that was never read, and the last few again
 * (a busy worker may close its second late).  Older seconds never change,
 * so a frame costs a few slots' reads, not the whole series.
 */
static void collect_series(struct tui_dash *d, struct dash_frame *f)
{
    int64_t el = (int64_t)(f->st.elapsed * 1e6);
    int64_t last = el >= FLUSH_SLACK_US + 1000000 ? (el - FLUSH_SLACK_US) / 1000000 - 1 : -1;
    int64_t first = last - SHM_SERIES + 1 > 0 ? last - SHM_SERIES + 1 : 0;

    f->last_second = last;
    f->hits_now = f->recent_hits = f->recent_p50_us = f->recent_p99_us = 0;
    f->runs_now = f->dropped_now = 0;
    f->recent_seconds = 0;
    if (last < 0)
        return;
    for (int64_t s = first; s <= last; s++)
        if (d->secs[s % SHM_SERIES].tag != (uint64_t)s + 1 || s + RECENT_SECONDS > last)
            merge_second(d, s);
    f->hits_now = d->secs[last % SHM_SERIES].hits;
    f->runs_now = d->secs[last % SHM_SERIES].runs;
    f->dropped_now = d->secs[last % SHM_SERIES].dropped;
    for (int64_t s = last; s > last - LAST_SECONDS && s >= first; s--) {
        const struct dash_second *e = &d->secs[s % SHM_SERIES];

        f->recent_hits += e->hits;
        f->recent_seconds++;
    }
    collect_recent(d, f);
}

/*
 * Reads a new frame from the segment.  On a failed allocation the last
 * frame stays on screen; the next one will try again.
 */
static void collect(struct tui_dash *d)
{
    const struct shm_header *h = d->shm->hdr;
    struct dash_frame *f = &d->fr;
    struct shm_stats st;
    uint64_t *p99;

    if (shm_stats_collect(&st, d->shm) < 0)
        return;
    p99 = calloc(st.nurls ? st.nurls : 1, sizeof(*p99));
    if (!p99) {
        shm_stats_free(&st);
        return;
    }
    if (d->end_elapsed >= 0)
        st.elapsed = d->end_elapsed;
    for (uint32_t i = 0; i < st.nurls; i++)
        p99[i] = hist_percentile(&st.urls[i].response, 99);
    shm_stats_free(&f->st);
    free(f->url_p99);
    f->st = st;
    f->url_p99 = p99;

    f->state = __atomic_load_n(&h->state, __ATOMIC_RELAXED);
    f->stop = __atomic_load_n(&h->stop, __ATOMIC_RELAXED);
    f->cycle = __atomic_load_n(&h->cycle, __ATOMIC_RELAXED);
    f->ncycles = h->ncycles;
    f->users_planned = h->cycle_users[f->cycle < SHM_MAX_CYCLES ? f->cycle : 0];
    f->fraction = tui_run_fraction(h, st.c.runs);
    if (f->state == SHM_RUN_DONE && !f->stop)
        f->fraction = 1;
    f->nworkers = 0;
    for (uint32_t w = 0; w < h->nslots && w < SHM_MAX_WORKERS; w++) {
        const struct shm_slot *slot = shm_slot(d->shm, w);
        struct dash_worker *dw = &f->workers[f->nworkers];

        dw->pid = __atomic_load_n(&slot->pid, __ATOMIC_RELAXED);
        if (!dw->pid)
            continue;
        dw->users = __atomic_load_n(&slot->users, __ATOMIC_RELAXED);
        dw->state = __atomic_load_n(&slot->state, __ATOMIC_RELAXED);
        dw->crashes = __atomic_load_n(&slot->crashes, __ATOMIC_RELAXED);
        f->nworkers++;
    }
    collect_series(d, f);
}

/* ------------------------------------------------------------- drawing */

/* A colour's attribute, or none without colours: text stays readable in both. */
static attr_t pair(const struct tui_dash *d, enum colour c)
{
    return d->colour ? COLOR_PAIR(c) : A_NORMAL;
}

/* The title and status bars: a colour bar, or reverse video without colours. */
static attr_t bar_attr(const struct tui_dash *d)
{
    return d->colour ? COLOR_PAIR(PAIR_TITLE) | A_BOLD : A_REVERSE;
}

/*
 * Writes text at row y from column x, cut to width columns and to the
 * screen so that nothing wraps.  Control characters (a message may hold a
 * newline) become blanks, and so do bytes above 127 outside UTF-8, where
 * curses would spell them out in several columns.  A UTF-8 sequence
 * counts as one column, true of all this file draws; the rare wide
 * character of a user's URL may push a line's end off the screen.
 */
static void put(const struct tui_dash *d, int y, int x, int width, attr_t attr,
                const char *fmt, ...)
{
    char buf[LINE_MAX_BYTES];
    va_list ap;
    int cols = 0;
    size_t i;

    if (y < 0 || y >= LINES || x < 0 || x >= COLS || width <= 0)
        return;
    if (width > COLS - x)
        width = COLS - x;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    for (i = 0; buf[i]; i++) {
        unsigned char c = (unsigned char)buf[i];

        if (c < 0x20 || c == 0x7f || (c >= 0x80 && !d->utf8)) {
            buf[i] = ' ';
            c = ' ';
        }
        if ((c & 0xc0) != 0x80 && cols++ == width)
            break;
    }
    buf[i] = '\0';
    attron(attr);
    mvaddstr(y, x, buf);
    attroff(attr);
}

/* Draws "label value" at (y, *x) and moves *x past it and a gap. */
static void put_field(const struct tui_dash *d, int y, int *x, const char *label,
                      attr_t attr, const char *value)
{
    int n = (int)strlen(label);

    put(d, y, *x, n, A_NORMAL, "%s", label);
    put(d, y, *x + n + 1, COLS, attr | A_BOLD, "%s", value);
    *x += n + 1 + (int)strlen(value) + 3;
}

/* A count in full: the dashboard's figures must match the summary's. */
static void format_count(char *out, size_t len, uint64_t n)
{
    snprintf(out, len, "%llu", (unsigned long long)n);
}

/* Bytes with a unit of 1000s, as network tools count them. */
static void format_bytes(char *out, size_t len, uint64_t n)
{
    static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
    double v = (double)n;
    size_t u = 0;

    while (v >= 1000 && u + 1 < sizeof(units) / sizeof(units[0])) {
        v /= 1000;
        u++;
    }
    if (u == 0)
        snprintf(out, len, "%llu B", (unsigned long long)n);
    else
        snprintf(out, len, "%.1f %s", v, units[u]);
}

/* The run's state in a word; a stop asked but not yet seen is "stopping". */
static const char *run_state_name(const struct dash_frame *f)
{
    switch (f->state) {
    case SHM_RUN_STARTING:
        return "starting";
    case SHM_RUN_RUNNING:
        return f->stop ? "stopping" : "running";
    case SHM_RUN_STOPPING:
        return "stopping";
    default:
        return "done";
    }
}

/* Row 0: what runs against what, and in which state. */
static void draw_title(const struct tui_dash *d, int y)
{
    const struct shm_header *h = d->shm->hdr;
    char right[96];
    int rlen;

    if (d->flags & TUI_DASH_ATTACHED)
        snprintf(right, sizeof(right), " attached, read-only | %s ",
                 d->finished ? "finished" : run_state_name(&d->fr));
    else
        snprintf(right, sizeof(right), " %s ", run_state_name(&d->fr));
    rlen = (int)strlen(right);
    attron(bar_attr(d));
    mvhline(y, 0, ' ', COLS);
    attroff(bar_attr(d));
    put(d, y, 0, COLS - rlen - 1, bar_attr(d), " Loads  %s  %s  %s", h->test,
        d->utf8 ? "\u2192" : "->", h->server_url[0] ? h->server_url : "(full URLs)");
    put(d, y, COLS - rlen, rlen, bar_attr(d), "%s", right);
}

/* A progress bar of width columns, filled to fraction. */
static void draw_bar(const struct tui_dash *d, int y, int x, int width, double fraction)
{
    char buf[LINE_MAX_BYTES];
    size_t n = 0;
    int inner = d->utf8 ? width : width - 2, fill;

    if (inner < 1)
        return;
    fill = (int)(fraction * inner + 0.5);
    if (!d->utf8)
        buf[n++] = '[';
    for (int i = 0; i < inner && n + 4 < sizeof(buf); i++) {
        const char *g = d->utf8 ? (i < fill ? "\u2588" : "\u2591") : (i < fill ? "#" : ".");

        memcpy(buf + n, g, strlen(g));
        n += strlen(g);
    }
    if (!d->utf8)
        buf[n++] = ']';
    buf[n] = '\0';
    put(d, y, x, width, pair(d, PAIR_CHART), "%s", buf);
}

/* Row 1: cycle, users, time or runs, and the progress bar. */
static void draw_progress(const struct tui_dash *d, int y)
{
    const struct shm_header *h = d->shm->hdr;
    const struct dash_frame *f = &d->fr;
    char v[64], total[32];
    int x = 0, width;

    if (h->rate_stages) {
        /* The stage of the schedule the run is in, from the time alone. */
        uint64_t k = h->rate_stage_us ? (uint64_t)(f->st.elapsed * 1e6) / h->rate_stage_us : 0;

        snprintf(v, sizeof(v), "%u/%u", (unsigned)(k < h->rate_stages ? k : h->rate_stages - 1) + 1,
                 h->rate_stages);
        put_field(d, y, &x, "Stage", A_NORMAL, v);
    } else {
        snprintf(v, sizeof(v), "%u/%u", f->cycle + 1, f->ncycles);
        put_field(d, y, &x, "Cycle", A_NORMAL, v);
    }
    snprintf(v, sizeof(v), "%llu/%u", (unsigned long long)f->st.c.users_active,
             f->users_planned);
    put_field(d, y, &x, "Users", A_NORMAL, v);
    tui_format_clock(v, sizeof(v), f->st.elapsed);
    if (h->planned_runs) {
        put_field(d, y, &x, "Elapsed", A_NORMAL, v);
        snprintf(v, sizeof(v), "%llu/%llu", (unsigned long long)f->st.c.runs,
                 (unsigned long long)h->planned_runs);
        put_field(d, y, &x, "Runs", A_NORMAL, v);
    } else {
        tui_format_clock(total, sizeof(total), (double)h->duration_us * h->ncycles / 1e6);
        strncat(v, " / ", sizeof(v) - strlen(v) - 1);
        strncat(v, total, sizeof(v) - strlen(v) - 1);
        put_field(d, y, &x, "Elapsed", A_NORMAL, v);
    }
    width = COLS - x - 5;
    if (width > 60)
        width = 60;
    if (width >= 5) {
        draw_bar(d, y, x, width, f->fraction);
        put(d, y, x + width + 1, 4, A_BOLD, "%3d%%", (int)(f->fraction * 100));
    }
}

/* Rows 2-3: counts of hits and outcomes. */
static void draw_totals(const struct tui_dash *d, int y)
{
    const struct shm_counters *c = &d->fr.st.c;
    char v[64], b[32];
    int x = 0;

    format_count(v, sizeof(v), c->hits);
    put_field(d, y, &x, "Hits", A_NORMAL, v);
    if (d->fr.last_second >= 0)
        snprintf(v, sizeof(v), "%llu", (unsigned long long)d->fr.hits_now);
    else
        snprintf(v, sizeof(v), "-");
    put_field(d, y, &x, "Req/s now", A_NORMAL, v);
    snprintf(v, sizeof(v), "%.0f", tui_rps(&d->fr.st));
    put_field(d, y, &x, "avg", A_NORMAL, v);
    format_bytes(v, sizeof(v), c->bytes);
    put_field(d, y, &x, "Bytes", A_NORMAL, v);

    x = 0;
    format_count(v, sizeof(v), c->successes);
    put_field(d, y + 1, &x, "Success", pair(d, PAIR_GOOD), v);
    format_count(v, sizeof(v), c->failures);
    put_field(d, y + 1, &x, "Failures", c->failures ? pair(d, PAIR_WARN) : A_NORMAL, v);
    format_count(v, sizeof(v), c->errors);
    put_field(d, y + 1, &x, "Errors", c->errors ? pair(d, PAIR_BAD) : A_NORMAL, v);
    if (c->interrupted) {
        format_count(v, sizeof(v), c->interrupted);
        put_field(d, y + 1, &x, "Interrupted", A_NORMAL, v);
    }
    format_bytes(b, sizeof(b), c->ws_bytes);
    snprintf(v, sizeof(v), "%llu (%s)", (unsigned long long)c->ws_opened, b);
    put_field(d, y + 1, &x, "Web sockets", A_NORMAL, v);
    if (d->fr.st.crashes) {
        snprintf(v, sizeof(v), "%u", d->fr.st.crashes);
        put_field(d, y + 1, &x, "Crashes", pair(d, PAIR_BAD), v);
    }
}

/*
 * The rate the schedule asks for t us after the start, runs per second:
 * its stage's rate, linear from the stage's start to its end.
 */
static double schedule_rate(const struct shm_header *h, uint64_t t)
{
    uint64_t k;
    double from, to;

    if (!h->rate_stages || !h->rate_stage_us || (k = t / h->rate_stage_us) >= h->rate_stages)
        return 0;
    from = (double)h->rate_from_mrps[k];
    to = (double)h->rate_to_mrps[k];
    return (from + (to - from) * (double)(t - k * h->rate_stage_us) /
                       (double)h->rate_stage_us) / 1000;
}

/*
 * The open model's row: the rate the schedule asks for in the middle of
 * the last complete second (the schedule itself, not what was counted:
 * a worker that handles a run late on a busy machine moves it to the
 * next second), the runs started and dropped in that second; then the
 * whole run's dropped runs.
 */
static void draw_rate(const struct tui_dash *d, int y)
{
    const struct dash_frame *f = &d->fr;
    char v[64];
    int x = 0;

    put(d, y, 0, 10, A_NORMAL, "Rate/s");
    x = 10;
    if (f->last_second >= 0) {
        double target = schedule_rate(d->shm->hdr, (uint64_t)f->last_second * 1000000 + 500000);

        snprintf(v, sizeof(v), target < 10 ? "%.1f" : "%.0f", target);
        put_field(d, y, &x, "target", A_NORMAL, v);
        snprintf(v, sizeof(v), "%llu", (unsigned long long)f->runs_now);
        put_field(d, y, &x, "achieved", A_NORMAL, v);
        snprintf(v, sizeof(v), "%llu", (unsigned long long)f->dropped_now);
        put_field(d, y, &x, "dropped", f->dropped_now ? pair(d, PAIR_BAD) : A_NORMAL, v);
    } else {
        put_field(d, y, &x, "target", A_NORMAL, "-");
    }
    format_count(v, sizeof(v), f->st.c.runs_started);
    put_field(d, y, &x, "Runs started", A_NORMAL, v);
    format_count(v, sizeof(v), f->st.c.dropped);
    put_field(d, y, &x, "Dropped", f->st.c.dropped ? pair(d, PAIR_BAD) : A_NORMAL, v);
}

/* The chart step: seconds per column so that the run fits, in round numbers. */
static int chart_step(int64_t span, int width)
{
    static const int steps[] = {1, 2, 5, 10, 15, 30, 60};
    size_t i;

    for (i = 0; i + 1 < sizeof(steps) / sizeof(steps[0]); i++)
        if ((int64_t)steps[i] * width >= span)
            break;
    return steps[i];
}

/*
 * Rows 4-5: response times of the whole run, then of the last seconds
 * (from the scheduled start under --rate: a stalled server shows).
 */
static void draw_latency(const struct tui_dash *d, int y, int step)
{
    static const double pcts[] = {50, 90, 99};
    static const char *const names[] = {"p50", "p90", "p99"};
    const struct dash_frame *f = &d->fr;
    char v[32], label[32];
    int x = 0;

    put(d, y, 0, 10, A_NORMAL, d->shm->hdr->rate_stages ? "Response" : "Latency");
    x = 10;
    for (size_t i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++) {
        tui_format_ms(v, sizeof(v), hist_percentile(&f->st.response, pcts[i]));
        put_field(d, y, &x, names[i], A_NORMAL, v);
    }
    tui_format_ms(v, sizeof(v), hist_max(&f->st.response));
    put_field(d, y, &x, "max", A_NORMAL, v);

    snprintf(label, sizeof(label), "Last %u s", f->recent_seconds ? f->recent_seconds : 1);
    put(d, y + 1, 0, 10, A_NORMAL, "%s", label);
    x = 10;
    if (f->recent_hits) {
        tui_format_ms(v, sizeof(v), f->recent_p50_us);
        put_field(d, y + 1, &x, "p50", A_NORMAL, v);
        tui_format_ms(v, sizeof(v), f->recent_p99_us);
        put_field(d, y + 1, &x, "p99", A_NORMAL, v);
        snprintf(v, sizeof(v), "%.0f", (double)f->recent_hits / f->recent_seconds);
        put_field(d, y + 1, &x, "req/s", A_NORMAL, v);
    } else {
        put(d, y + 1, x, COLS, A_DIM, "no responses");
    }
    snprintf(v, sizeof(v), "charts: %d s/column", step);
    if (x < COLS - (int)strlen(v))
        put(d, y + 1, COLS - (int)strlen(v), (int)strlen(v), A_DIM, "%s", v);
}

/*
 * Fills a chart's columns from the merged series: each column is step
 * seconds, the last one ending at the last complete second.  rps gets the
 * mean responses per second, p99 the highest p99; -1 where no data.
 */
static void chart_values(const struct tui_dash *d, int width, int step, double *rps,
                         double *p99)
{
    int64_t last = d->fr.last_second;
    int64_t oldest = last - SHM_SERIES + 1 > 0 ? last - SHM_SERIES + 1 : 0;
    int64_t last_col = last >= 0 ? last / step : -1;

    for (int c = 0; c < width; c++) {
        int64_t b = last_col - (width - 1 - c);
        uint64_t hits = 0, worst = 0;
        int n = 0;

        rps[c] = p99[c] = -1;
        for (int64_t s = b * step; b >= 0 && s < (b + 1) * step && s <= last; s++) {
            const struct dash_second *e = &d->secs[s % SHM_SERIES];

            if (s < oldest || e->tag != (uint64_t)s + 1)
                continue;
            hits += e->hits;
            if (e->p99_us > worst)
                worst = e->p99_us;
            n++;
        }
        if (n) {
            rps[c] = (double)hits / n;
            p99[c] = (double)worst;
        }
    }
}

/*
 * Draws values as a block chart of rows lines: eighths of a cell in
 * Unicode blocks, or eight ASCII marks of rising weight elsewhere.
 */
static void draw_chart(const struct tui_dash *d, int y, int rows, int x, int width,
                       const double *v, double max)
{
    static const char *const blocks[] = {" ", "\u2581", "\u2582", "\u2583", "\u2584",
                                         "\u2585", "\u2586", "\u2587", "\u2588"};
    static const char *const marks[] = {" ", "_", ".", "-", "~", "=", "+", "*", "#"};
    const char *const *g = d->utf8 ? blocks : marks;
    char line[CHART_MAX_COLS * 3 + 1];

    for (int r = 0; r < rows; r++) {
        size_t n = 0;

        for (int c = 0; c < width; c++) {
            int level = v[c] > 0 && max > 0 ? (int)ceil(v[c] / max * rows * 8) : 0;
            int fill = level - (rows - 1 - r) * 8;
            const char *s = g[fill < 0 ? 0 : fill > 8 ? 8 : fill];

            memcpy(line + n, s, strlen(s));
            n += strlen(s);
        }
        line[n] = '\0';
        put(d, y + r, x, width, pair(d, PAIR_CHART), "%s", line);
    }
}

/* The two charts, requests per second and p99, each rows lines high. */
static void draw_charts(const struct tui_dash *d, int y, int rows, int step, int width)
{
    double rps[CHART_MAX_COLS], p99[CHART_MAX_COLS], max_rps = 0, max_p99 = 0;
    char v[32];

    chart_values(d, width, step, rps, p99);
    for (int c = 0; c < width; c++) {
        if (rps[c] > max_rps)
            max_rps = rps[c];
        if (p99[c] > max_p99)
            max_p99 = p99[c];
    }
    put(d, y, 0, CHART_LABEL, A_NORMAL, "Req/s");
    draw_chart(d, y, rows, CHART_LABEL, width, rps, max_rps);
    put(d, y, CHART_LABEL + width + 1, CHART_NOTE, A_DIM, "max %.0f", max_rps);
    y += rows;
    put(d, y, 0, CHART_LABEL, A_NORMAL, "p99");
    draw_chart(d, y, rows, CHART_LABEL, width, p99, max_p99);
    tui_format_ms(v, sizeof(v), (uint64_t)max_p99);
    put(d, y, CHART_LABEL + width + 1, CHART_NOTE, A_DIM, "max %s", v);
}

/* A panel's header line: reverse video when the arrows scroll it. */
static void draw_panel_header(const struct tui_dash *d, int y, enum panel p, int first,
                              int shown, int total, const char *title, const char *columns)
{
    attr_t attr = A_BOLD | (d->focus == p ? A_REVERSE : A_UNDERLINE);
    char where[48] = "";
    int cols = (int)strlen(columns);

    if (total > shown && shown > 0)
        snprintf(where, sizeof(where), " (%d-%d of %d)", first + 1, first + shown, total);
    attron(attr);
    mvhline(y, 0, ' ', COLS);
    attroff(attr);
    put(d, y, 0, COLS - cols, attr, "%s%s", title, where);
    if (COLS > cols)
        put(d, y, COLS - cols, cols, attr, "%s", columns);
}

/* Keeps a panel's first row within its rows; returns it. */
static int clamp_scroll(struct tui_dash *d, enum panel p, int total, int shown)
{
    int max = total > shown ? total - shown : 0;

    if (d->scroll[p] > max)
        d->scroll[p] = max;
    if (d->scroll[p] < 0)
        d->scroll[p] = 0;
    d->page[p] = shown;
    return d->scroll[p];
}

/* Orders URL rows by p99, slowest first, for qsort_r with the p99 array. */
static int by_p99(const void *a, const void *b, void *arg)
{
    const uint64_t *p99 = arg;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    uint64_t px = p99[x], py = p99[y];

    return px < py ? 1 : px > py ? -1 : x < y ? -1 : x > y;
}

/*
 * A URL row's key for a narrow column: "GET /path" rather than "GET
 * http://host:port/path" when the URL is under --server-url, which the
 * title shows already.
 */
static const char *short_key(const char *key, const char *base, char *buf, size_t len)
{
    const char *sp = strchr(key, ' ');
    size_t n = strlen(base);

    while (n && base[n - 1] == '/')
        n--;
    if (!sp || !n || strncmp(sp + 1, base, n) != 0 || sp[1 + n] != '/')
        return key;
    snprintf(buf, len, "%.*s %s", (int)(sp - key), key, sp + 1 + n);
    return buf;
}

/* The per-URL table, by hits (the snapshot's order) or by p99. */
static void draw_urls(struct tui_dash *d, int y, int rows)
{
    static const char columns[] = "     Hits    OK%  Errors       p50       p99 ";
    const struct dash_frame *f = &d->fr;
    int n = (int)f->st.nurls, first = clamp_scroll(d, PANEL_URLS, n, rows);
    int keyw = COLS - (int)strlen(columns) - 1;
    uint32_t *order = calloc(n ? (size_t)n : 1, sizeof(*order));

    draw_panel_header(d, y, PANEL_URLS, first, rows < n ? rows : n, n,
                      d->sort == SORT_HITS ? "URLs by hits" : "URLs by p99", columns);
    if (!order)
        return;
    for (int i = 0; i < n; i++)
        order[i] = (uint32_t)i;
    if (d->sort == SORT_P99)
        qsort_r(order, (size_t)n, sizeof(*order), by_p99, f->url_p99);
    if (n == 0 && rows > 0)
        put(d, y + 1, 0, COLS, A_DIM, "(no requests yet)");
    for (int r = 0; r < rows && first + r < n; r++) {
        const struct shm_stats_url *u = &f->st.urls[order[first + r]];
        uint64_t tries = u->hits + u->errors;
        char p50[32], p99[32], key[SHM_URL_LEN];

        tui_format_ms(p50, sizeof(p50), hist_percentile(&u->response, 50));
        tui_format_ms(p99, sizeof(p99), f->url_p99[order[first + r]]);
        put(d, y + 1 + r, 0, keyw, A_NORMAL, "%s",
            short_key(u->key, d->shm->hdr->server_url, key, sizeof(key)));
        put(d, y + 1 + r, keyw + 1, COLS, A_NORMAL, "%9llu %5.1f%% %7llu %9s %9s",
            (unsigned long long)u->hits,
            tries ? 100.0 * (double)u->ok / (double)tries : 0.0,
            (unsigned long long)u->errors, p50, p99);
    }
    free(order);
}

/* Rows of the metrics panel: counters, checks, trends, gauges. */
static int metric_rows(const struct dash_frame *f)
{
    return (int)(f->st.ncounters + f->st.nchecks + f->st.ntrends + f->st.ngauges);
}

/* One metric row: its kind, its name and its figures. */
static void draw_metric(const struct tui_dash *d, int y, int keyw, int i)
{
    const struct shm_stats *st = &d->fr.st;
    const char *kind, *name;
    char figures[128];

    if (i < (int)st->nchecks) {
        const struct shm_stats_check *c = &st->checks[i];
        uint64_t all = c->passes + c->fails;

        kind = "check";
        name = c->name;
        snprintf(figures, sizeof(figures), "%9llu pass %7llu fail %6.2f%%",
                 (unsigned long long)c->passes, (unsigned long long)c->fails,
                 all ? 100.0 * (double)c->passes / (double)all : 0.0);
    } else if ((i -= (int)st->nchecks) < (int)st->ntrends) {
        const struct hist *h = &st->trends[i].values;

        kind = "trend";
        name = st->trends[i].name;
        snprintf(figures, sizeof(figures), "%9llu   p50 %8.4g  p99 %8.4g",
                 (unsigned long long)h->count,
                 (double)hist_percentile(h, 50) / SHM_TREND_SCALE,
                 (double)hist_percentile(h, 99) / SHM_TREND_SCALE);
    } else if ((i -= (int)st->ntrends) < (int)st->ncounters) {
        kind = "counter";
        name = st->counters[i].name;
        snprintf(figures, sizeof(figures), "%9llu", (unsigned long long)st->counters[i].value);
    } else {
        i -= (int)st->ncounters;
        kind = "gauge";
        name = st->gauges[i].name;
        snprintf(figures, sizeof(figures), "%9.6g", st->gauges[i].value);
    }
    put(d, y, 0, 8, A_DIM, "%s", kind);
    put(d, y, 8, keyw - 8, A_NORMAL, "%s", name);
    put(d, y, keyw + 1, COLS, A_NORMAL, "%s", figures);
}

/* Checks, trends, counters and gauges, one to a row; nothing without any. */
static void draw_metrics(struct tui_dash *d, int y, int rows)
{
    static const char columns[] = "    count / passes, fails, rate / values         ";
    int n = metric_rows(&d->fr), first = clamp_scroll(d, PANEL_METRICS, n, rows);
    int keyw = COLS - (int)strlen(columns) - 1;

    draw_panel_header(d, y, PANEL_METRICS, first, rows < n ? rows : n, n,
                      "Checks, trends, counters, gauges", columns);
    for (int r = 0; r < rows && first + r < n; r++)
        draw_metric(d, y + 1 + r, keyw, first + r);
}

/* The most frequent failure, error and crash messages. */
static void draw_messages(struct tui_dash *d, int y, int rows)
{
    static const char columns[] = "    Count ";
    const struct dash_frame *f = &d->fr;
    int n = (int)f->st.nmsgs, first = clamp_scroll(d, PANEL_MSGS, n, rows);
    int textw = COLS - (int)strlen(columns) - 1;

    draw_panel_header(d, y, PANEL_MSGS, first, rows < n ? rows : n, n,
                      "Failures and errors, most frequent first", columns);
    if (n == 0 && rows > 0)
        put(d, y + 1, 0, COLS, A_DIM, "(none)");
    for (int r = 0; r < rows && first + r < n; r++) {
        const struct shm_stats_msg *m = &f->st.msgs[first + r];
        const char *kind = m->kind == SHM_FAILURE   ? "failure"
                           : m->kind == SHM_ERROR   ? "error"
                           : m->kind == SHM_WARNING ? "warning"
                                                    : "crash";
        attr_t attr = m->kind == SHM_FAILURE || m->kind == SHM_WARNING ? pair(d, PAIR_WARN)
                                                                       : pair(d, PAIR_BAD);

        put(d, y + 1 + r, 0, 8, attr, "%s", kind);
        put(d, y + 1 + r, 8, textw - 8, A_NORMAL, "%s: %s", m->test, m->text);
        put(d, y + 1 + r, textw + 1, COLS, A_BOLD, "%9llu", (unsigned long long)m->count);
    }
}

/* How many 40-column worker entries fit on a line. */
static int workers_per_line(void)
{
    return COLS / 40 > 0 ? COLS / 40 : 1;
}

/* The worker processes, several to a line: pid, users, state, crashes. */
static void draw_workers(struct tui_dash *d, int y, int rows)
{
    static const char *const states[] = {"idle", "running", "done", "crashed", "killed"};
    const struct dash_frame *f = &d->fr;
    int per = workers_per_line(), lines = ((int)f->nworkers + per - 1) / per;
    int first = clamp_scroll(d, PANEL_WORKERS, lines, rows);
    char title[64];

    snprintf(title, sizeof(title), "Workers: %u", f->nworkers);
    draw_panel_header(d, y, PANEL_WORKERS, first, rows < lines ? rows : lines, lines, title,
                      "");
    if (f->nworkers == 0 && rows > 0)
        put(d, y + 1, 0, COLS, A_DIM, "(none yet)");
    for (int r = 0; r < rows && first + r < lines; r++) {
        for (int c = 0; c < per; c++) {
            uint32_t i = (uint32_t)((first + r) * per + c);
            const struct dash_worker *w = &f->workers[i];
            const char *state = w->state < 5 ? states[w->state] : "?";
            attr_t attr = w->state == SHM_WORKER_RUNNING ? pair(d, PAIR_GOOD)
                          : w->state == SHM_WORKER_CRASHED || w->state == SHM_WORKER_KILLED
                              ? pair(d, PAIR_BAD)
                              : A_DIM;

            if (i >= f->nworkers)
                break;
            put(d, y + 1 + r, c * 40, 10, A_NORMAL, "pid %d", w->pid);
            put(d, y + 1 + r, c * 40 + 11, 10, A_NORMAL, "%5u VUs", w->users);
            put(d, y + 1 + r, c * 40 + 21, 8, attr, "%s", state);
            put(d, y + 1 + r, c * 40 + 29, 10, w->crashes ? pair(d, PAIR_BAD) : A_DIM,
                "%u crash%s", w->crashes, w->crashes == 1 ? "" : "es");
        }
    }
}

/* The last row: the keys, or what is going on when it matters more. */
static void draw_status(const struct tui_dash *d, int y)
{
    int attached = d->flags & TUI_DASH_ATTACHED;
    const char *arrows = d->utf8 ? "\u2191\u2193" : "Up/Down";

    attron(bar_attr(d));
    mvhline(y, 0, ' ', COLS);
    attroff(bar_attr(d));
    if (d->finished)
        put(d, y, 0, COLS, bar_attr(d) | A_BOLD, " %s %s press q", d->why,
            d->utf8 ? "\u2014" : "-");
    else if (d->fr.stop && !attached)
        put(d, y, 0, COLS, bar_attr(d), " Stopping: running tests get the grace period "
                                        "to end; q or Ctrl-C again kills them");
    else if (d->fr.stop)
        put(d, y, 0, COLS, bar_attr(d), " The run is stopping  |  q detach  ? help");
    else
        put(d, y, 0, COLS, bar_attr(d), " q %s  s sort  Tab panel  %s scroll  ? help",
            attached ? "detach" : "stop", arrows);
}

/* The help overlay, a box in the middle of the screen. */
static void draw_help(const struct tui_dash *d)
{
    int attached = d->flags & TUI_DASH_ATTACHED;
    const char *const lines[][2] = {
        {"q, Ctrl-C", attached ? "detach; the run goes on"
                               : "stop the run; running tests may end"},
        {"", attached ? "" : "(again: kill the workers at once)"},
        {"s", "sort the URLs by hits or by p99"},
        {"Tab, Left/Right", "choose the panel to scroll"},
        {"Up/Down", "scroll it (PgUp, PgDn, Home, End)"},
        {"Ctrl-L", "redraw the screen"},
        {"?", "this help; any key closes it"},
    };
    int n = (int)(sizeof(lines) / sizeof(lines[0])) + 2, w = 58, h = n + 2;
    int y0 = (LINES - h) / 2, x0 = (COLS - w) / 2;

    if (y0 < 0)
        y0 = 0;
    if (x0 < 0)
        x0 = 0;
    for (int r = 0; r < h && y0 + r < LINES; r++) {
        move(y0 + r, x0);
        for (int c = 0; c < w && x0 + c < COLS; c++) {
            chtype ch = ' ';

            if (r == 0 || r == h - 1)
                ch = c == 0 ? (r ? ACS_LLCORNER : ACS_ULCORNER)
                     : c == w - 1 ? (r ? ACS_LRCORNER : ACS_URCORNER)
                                  : ACS_HLINE;
            else if (c == 0 || c == w - 1)
                ch = ACS_VLINE;
            addch(ch | A_BOLD);
        }
        if (r == 1)
            put(d, y0 + r, x0 + 2, w - 4, A_BOLD, "Keys");
        else if (r > 2 && r < h - 1)
            put(d, y0 + r, x0 + 2, w - 4, A_NORMAL, "%-16s %s", lines[r - 3][0],
                lines[r - 3][1]);
    }
}

/*
 * Lays the screen out for its size and draws the last frame.  At 80x24
 * the three panels share 15 lines; taller screens get taller charts and
 * longer tables, wider ones longer charts and URLs.
 */
static void draw(struct tui_dash *d)
{
    int rows = LINES, chart_rows = 1 + (rows - 24) / 6, width, y, avail, got[NPANELS] = {0};
    int want[NPANELS], per = workers_per_line(), step, spare;
    int64_t span = d->fr.last_second + 1;

    if (chart_rows < 1)
        chart_rows = 1;
    if (chart_rows > CHART_MAX_ROWS)
        chart_rows = CHART_MAX_ROWS;
    width = COLS - CHART_LABEL - CHART_NOTE - 1;
    if (width > CHART_MAX_COLS)
        width = CHART_MAX_COLS;
    if (width < 1)
        width = 1;
    step = chart_step(span < SHM_SERIES ? span : SHM_SERIES, width);

    erase();
    draw_title(d, 0);
    draw_progress(d, 1);
    draw_totals(d, 2);
    y = 4;
    if (d->shm->hdr->rate_stages)
        draw_rate(d, y++);
    draw_latency(d, y, step);
    draw_charts(d, y + 2, chart_rows, step, width);
    y += 2 + 2 * chart_rows;

    want[PANEL_URLS] = d->fr.st.nurls ? (int)d->fr.st.nurls : 1;
    want[PANEL_METRICS] = metric_rows(&d->fr);
    want[PANEL_MSGS] = d->fr.st.nmsgs ? (int)d->fr.st.nmsgs : 1;
    want[PANEL_WORKERS] = d->fr.nworkers ? ((int)d->fr.nworkers + per - 1) / per : 1;
    /* The metrics panel, header included, only once there is a metric. */
    avail = rows - y - 1 - NPANELS + (want[PANEL_METRICS] ? 0 : 1);
    for (int more = 1; more && avail > 0;) {
        more = 0;
        for (int p = 0; p < NPANELS && avail > 0; p++)
            if (got[p] < want[p]) {
                got[p]++;
                avail--;
                more = 1;
            }
    }
    spare = avail >= NPANELS ? 1 : 0;
    y += spare;
    draw_urls(d, y, got[PANEL_URLS]);
    y += 1 + got[PANEL_URLS] + spare;
    if (want[PANEL_METRICS]) {
        draw_metrics(d, y, got[PANEL_METRICS]);
        y += 1 + got[PANEL_METRICS] + spare;
    }
    draw_messages(d, y, got[PANEL_MSGS]);
    y += 1 + got[PANEL_MSGS] + spare;
    draw_workers(d, y, got[PANEL_WORKERS]);
    draw_status(d, rows - 1);
    if (d->help)
        draw_help(d);
    wnoutrefresh(stdscr);
    doupdate();
}

/* ------------------------------------------------------------- keys */

/* Scrolls the panel in focus by delta rows (clamped when drawn). */
static void scroll_by(struct tui_dash *d, int delta)
{
    long v = (long)d->scroll[d->focus] + delta;

    d->scroll[d->focus] = v > 1000000 ? 1000000 : v < 0 ? 0 : (int)v;
}

/*
 * Acts on one key.  Returns TUI_DASH_QUIT for q (and for a Ctrl-C that
 * comes as a character, should the terminal not turn it into SIGINT).
 */
static int handle_key(struct tui_dash *d, int ch)
{
    if (ch == KEY_RESIZE) {
        d->dirty = 1;
        return TUI_DASH_NONE;
    }
    if (d->help) {
        d->help = 0;
        d->dirty = 1;
        return TUI_DASH_NONE;
    }
    switch (ch) {
    case 'q':
    case 'Q':
    case 3:
        return TUI_DASH_QUIT;
    case 's':
    case 'S':
        d->sort = d->sort == SORT_HITS ? SORT_P99 : SORT_HITS;
        d->scroll[PANEL_URLS] = 0;
        break;
    case '\t':
    case KEY_RIGHT:
        d->focus = (enum panel)((d->focus + 1) % NPANELS);
        if (d->focus == PANEL_METRICS && !metric_rows(&d->fr))
            d->focus = (enum panel)((d->focus + 1) % NPANELS);
        break;
    case KEY_BTAB:
    case KEY_LEFT:
        d->focus = (enum panel)((d->focus + NPANELS - 1) % NPANELS);
        if (d->focus == PANEL_METRICS && !metric_rows(&d->fr))
            d->focus = (enum panel)((d->focus + NPANELS - 1) % NPANELS);
        break;
    case KEY_UP:
    case 'k':
        scroll_by(d, -1);
        break;
    case KEY_DOWN:
    case 'j':
        scroll_by(d, 1);
        break;
    case KEY_PPAGE:
        scroll_by(d, -(d->page[d->focus] > 1 ? d->page[d->focus] : 1));
        break;
    case KEY_NPAGE:
    case ' ':
        scroll_by(d, d->page[d->focus] > 1 ? d->page[d->focus] : 1);
        break;
    case KEY_HOME:
        d->scroll[d->focus] = 0;
        break;
    case KEY_END:
        d->scroll[d->focus] = 1000000;
        break;
    case '?':
    case 'h':
        d->help = 1;
        break;
    case 12: /* Ctrl-L */
        clearok(curscr, TRUE);
        break;
    default:
        return TUI_DASH_NONE;
    }
    d->dirty = 1;
    return TUI_DASH_NONE;
}

/* ------------------------------------------------------------- life */

/* CPU time of this thread, us: what a frame costs, to pace the frames. */
static int64_t cpu_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/*
 * Gives the terminal back if the process exits with the dashboard open
 * (an exit() on an error path).  Workers forked meanwhile inherit the
 * registration, hence the pid check: only the process that drew may undo.
 */
static void restore_at_exit(void)
{
    if (screen_owner && screen_owner == getpid()) {
        endwin();
        screen_owner = 0;
    }
}

/*
 * Turns colours on when the terminal has them and NO_COLOR (no-color.org)
 * is unset or empty; the terminal's own background is kept.
 */
static void init_colours(struct tui_dash *d)
{
    const char *no = getenv("NO_COLOR");

    if ((no && *no) || !has_colors() || start_color() == ERR)
        return;
    use_default_colors();
    init_pair(PAIR_TITLE, COLOR_BLACK, COLOR_CYAN);
    init_pair(PAIR_GOOD, COLOR_GREEN, -1);
    init_pair(PAIR_BAD, COLOR_RED, -1);
    init_pair(PAIR_WARN, COLOR_YELLOW, -1);
    init_pair(PAIR_CHART, COLOR_CYAN, -1);
    d->colour = 1;
}

/*
 * Whether the terminal can move its cursor anywhere (TERM=dumb cannot): a
 * dashboard on one that cannot would scroll away line by line.
 */
static int has_cursor_address(void)
{
    const char *cup = tigetstr("cup");

    return cup && cup != (const char *)-1;
}

/*
 * The locale comes from the environment for the characters (curses needs
 * it to draw UTF-8), but numbers stay in the C locale: the summary and
 * the JSON printed after the dashboard must keep their decimal points.
 */
struct tui_dash *tui_dash_open(const struct shm *s, int flags)
{
    static int registered;
    struct tui_dash *d = calloc(1, sizeof(*d));
    const char *cs;

    if (!d)
        return NULL;
    setlocale(LC_ALL, "");
    setlocale(LC_NUMERIC, "C");
    cs = nl_langinfo(CODESET);
    d->utf8 = cs && strcmp(cs, "UTF-8") == 0;
    d->shm = s;
    d->flags = flags;
    d->period_us = FRAME_US;
    d->end_elapsed = -1;
    fflush(stdout);
    d->screen = newterm(NULL, stdout, stdin);
    if (!d->screen) {
        free(d);
        return NULL;
    }
    set_term(d->screen);
    if (!has_cursor_address()) {
        endwin();
        delscreen(d->screen);
        free(d);
        return NULL;
    }
    screen_owner = getpid();
    if (!registered++)
        atexit(restore_at_exit);
    cbreak();
    noecho();
    nonl();
    nodelay(stdscr, TRUE);
    keypad(stdscr, TRUE);
    set_escdelay(25);
    curs_set(0);
    init_colours(d);
    collect(d);
    d->next_frame_us = shm_mono_us() + d->period_us;
    draw(d);
    return d;
}

/*
 * Handles the keys, then collects and draws a frame when one is due.  A
 * frame's cost sets the period: at most 1/CPU_SHARE of a core goes to the
 * dashboard, however many workers and URLs there are to merge.
 */
int tui_dash_tick(struct tui_dash *d)
{
    int action = TUI_DASH_NONE, ch;
    int64_t now, cpu;

    while ((ch = getch()) != ERR)
        if (handle_key(d, ch) == TUI_DASH_QUIT)
            action = TUI_DASH_QUIT;
    if (action == TUI_DASH_QUIT) {
        d->next_frame_us = 0; /* the next tick shows the stop the caller asks */
        return action;
    }
    now = shm_mono_us();
    if (!d->finished && now >= d->next_frame_us) {
        cpu = cpu_us();
        collect(d);
        draw(d);
        d->dirty = 0;
        cpu = cpu_us() - cpu;
        d->period_us = cpu * CPU_SHARE > FRAME_US ? cpu * CPU_SHARE : FRAME_US;
        d->next_frame_us = now + d->period_us;
    }
    if (d->dirty) {
        draw(d);
        d->dirty = 0;
    }
    return action;
}

/* Reads the final figures once and keeps them: nothing changes any more. */
void tui_dash_finished(struct tui_dash *d, double elapsed, const char *why)
{
    d->end_elapsed = elapsed;
    collect(d);
    d->finished = 1;
    snprintf(d->why, sizeof(d->why), "%s", why);
    d->dirty = 1;
}

/*
 * Ends curses mode, which restores the terminal's modes and, on terminals
 * with an alternate screen, what was on screen before: the summary printed
 * next lands in the normal scrollback.
 */
void tui_dash_close(struct tui_dash *d)
{
    if (!d)
        return;
    endwin();
    delscreen(d->screen);
    screen_owner = 0;
    shm_stats_free(&d->fr.st);
    free(d->fr.url_p99);
    free(d->recent);
    free(d->recent_tmp);
    free(d);
}
