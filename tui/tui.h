/*
 * What a person or a script reads of a run: the progress bar, the final
 * summary as text or JSON.  Everything here reads a shm_stats snapshot and
 * computes nothing that another view would need again.
 */
#ifndef LOADS_TUI_TUI_H
#define LOADS_TUI_TUI_H

#include <stdio.h>

#include "shm/stats.h"
#include "shm/threshold.h"

/* The thresholds of a run and what each measured; n == 0: none were given. */
struct tui_checks {
    const struct threshold *t;
    const struct threshold_result *r;
    uint32_t n;
};

/* The summary in the original Loads' words, plus percentiles and tables. */
void tui_summary_text(FILE *f, const struct shm_header *h, const struct shm_stats *st);

/*
 * The thresholds' lines, the summary's last ("Thresholds: 1 of 2 failed",
 * then each with its measured value); nothing when none were given.
 */
void tui_summary_thresholds_text(FILE *f, const struct tui_checks *checks);

/* The same figures as one JSON document, with "thresholds". */
void tui_summary_json(FILE *f, const struct shm_header *h, const struct shm_stats *st,
                      int exit_status, const struct tui_checks *checks);

/* One agent of a cluster run, for the per-agent table. */
struct tui_agent {
    char name[96];            /* host:pid */
    const char *state;        /* building, running, done, lost, failed */
    int lost;                 /* 1: lost at lost_at seconds */
    double lost_at;
    int64_t status;           /* its own exit status once done */
    uint64_t hits, runs, failures, errors;
};

/* The per-agent table after the summary, and one line per lost agent. */
void tui_summary_agents_text(FILE *f, const struct tui_agent *a, uint32_t n);

/* The JSON summary with an "agents" array (tui_summary_json's document plus it). */
void tui_summary_json_agents(FILE *f, const struct shm_header *h, const struct shm_stats *st,
                             int exit_status, const struct tui_checks *checks,
                             const struct tui_agent *a, uint32_t n);

/*
 * The sentence that says a run was stopped before its plan's end, "Stopped
 * by SIGTERM after 2.1 s of 30 s", into out.  Returns 1, or 0 (out
 * untouched) when the run was not stopped.
 */
int tui_stop_text(char *out, size_t len, const struct shm_header *h,
                  const struct shm_stats *st);

/* An open model's stages, "10/s, 0-100/s, 0.5/s", into out ("" for none). */
void tui_rate_text(char *out, size_t len, const struct shm_header *h);

/* One progress bar line, "[====   ]  42%", redrawn in place with \r. */
void tui_progress(FILE *f, double fraction, int final);

/* One plain progress line ending in a newline, for terminals on stderr. */
void tui_progress_line(FILE *f, const struct shm_header *h, const struct shm_stats *st);

/* How far the run is, 0 to 1: by runs for a hits run, by time otherwise. */
double tui_run_fraction(const struct shm_header *h, uint64_t runs);

/* Hits per second on average since the start. */
double tui_rps(const struct shm_stats *st);

/* "1.23 ms", "45.6 ms", "1.20 s": microseconds for a person to read. */
void tui_format_ms(char *out, size_t len, uint64_t us);

/* "4:05" or "1:02:03": seconds as a clock. */
void tui_format_clock(char *out, size_t len, double seconds);

/* ---- the live dashboard (dashboard.c) ---- */

struct tui_dash;

enum tui_dash_flags {
    TUI_DASH_ATTACHED = 1,    /* watching another process's run: read-only */
};

enum tui_dash_action {
    TUI_DASH_NONE = 0,        /* keep going */
    TUI_DASH_QUIT,            /* q: stop the run, or detach when attached */
};

/*
 * Takes over the terminal on stdout/stdin and draws the run of segment s,
 * which must stay mapped until tui_dash_close.  Returns NULL, having
 * written nothing, when the terminal cannot be driven (no terminfo entry);
 * the caller then falls back to plain output.
 */
struct tui_dash *tui_dash_open(const struct shm *s, int flags);

/*
 * Reads the keys typed since the last call and redraws when a frame is due
 * (about four times a second) or a key changed the view.  Call it at least
 * every 100 ms.  Returns TUI_DASH_QUIT when q was pressed.
 */
int tui_dash_tick(struct tui_dash *d);

/*
 * Marks the run as over (attach mode): the figures are read one last time
 * and frozen at elapsed seconds, and the status line asks for q.
 */
void tui_dash_finished(struct tui_dash *d, double elapsed, const char *why);

/* Gives the terminal back as it was and frees d.  Safe on NULL. */
void tui_dash_close(struct tui_dash *d);

#endif
