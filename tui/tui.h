/*
 * What a person or a script reads of a run: the progress bar, the final
 * summary as text or JSON.  Everything here reads a shm_stats snapshot and
 * computes nothing that another view would need again.
 */
#ifndef LOADS_TUI_TUI_H
#define LOADS_TUI_TUI_H

#include <stdio.h>

#include "shm/stats.h"

/* The summary in the original Loads' words, plus percentiles and tables. */
void tui_summary_text(FILE *f, const struct shm_header *h, const struct shm_stats *st);

/* The same figures as one JSON document. */
void tui_summary_json(FILE *f, const struct shm_header *h, const struct shm_stats *st,
                      int exit_status);

/* One progress bar line, "[====   ]  42%", redrawn in place with \r. */
void tui_progress(FILE *f, double fraction, int final);

#endif
