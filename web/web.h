/*
 * The web view: a small read-only HTTP server, on a thread of its own,
 * that shows a run's segment live in a browser.  It reads the segment as
 * every reader does (shm_stats_collect, the workers' per-second series);
 * the run itself never waits for it.
 *
 *   GET /                the page (HTML and script, no framework)
 *   GET /dygraph.min.js  the chart library, from Debian's libjs-dygraphs
 *   GET /stats.json      the figures: the caller's JSON summary document
 *   GET /series.json     the merged per-second series, ?from=SECOND
 *
 * Anything else is 404, a method other than GET or HEAD 405.  One request
 * per connection; a request longer than WEB_MAX_REQUEST or a connection
 * that has not been answered within WEB_CLIENT_US is closed.
 */
#ifndef LOADS_WEB_WEB_H
#define LOADS_WEB_WEB_H

#include <stdio.h>

#include "shm/shm.h"

#define WEB_CLIENTS   64          /* connections at once; more are closed at once */
#define WEB_CLIENT_US 5000000     /* a connection's whole life, request and answer */
#define WEB_DYGRAPHS  "/usr/share/javascript/dygraphs/dygraph.min.js"

struct web;

/*
 * Writes /stats.json's document for segment s to f (arg as given to
 * web_open).  Called on the web view's thread: it may only read.
 */
typedef void web_json_fn(FILE *f, const struct shm *s, void *arg);

/*
 * Binds addr (a --web value, web_parse_addr) and starts serving segment
 * s, which must stay mapped until web_close.  s may be NULL (a cluster run
 * before its agents start): /stats.json and /series.json then answer 503
 * {"state": "waiting"} until web_set_shm.  Returns the view, or NULL
 * with a one-line reason in err (a bad address, a port in use).
 */
struct web *web_open(const char *addr, const struct shm *s, web_json_fn *json, void *arg,
                     char *err, size_t errlen);

/* Serves s from now on (once; s stays mapped until web_close). */
void web_set_shm(struct web *w, const struct shm *s);

/* The address it listens on, "127.0.0.1:8089", into out. */
void web_address(const struct web *w, char *out, size_t len);

/* Stops the thread, closes every connection and frees w.  Safe on NULL. */
void web_close(struct web *w);

#endif
