/*
 * An incremental parser of one HTTP/1.x response: status line, header
 * lines, and the body framed by Content-Length, chunked encoding or the end
 * of the connection.  Pure byte work, no I/O, so it can be fuzzed; the
 * bytes may arrive split anywhere, and the caller's buffer need not outlive
 * a call (a header line split across reads is kept in the parser).
 */
#ifndef LOADS_HTTP_H1_H
#define LOADS_HTTP_H1_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

enum h1_result { H1_ERROR = -1, H1_MORE = 0, H1_DONE = 1 };

/* Either callback (or the whole struct) may be NULL: those bytes are dropped. */
struct h1_callbacks {
    /* Each line of the final response's head, the status line first,
     * without its line end (not NUL-terminated): also a line without a
     * colon, or a folded continuation, which the parser itself ignores.
     * Interim 1xx responses and chunked trailers are skipped.  Returns 0,
     * or -1 to stop the parse (out of memory). */
    int (*header)(void *ud, const char *line, size_t len);
    /* Body bytes, de-chunked.  Returns 0, or -1 to stop the parse. */
    int (*body)(void *ud, const char *data, size_t len);
};

struct h1_parser {
    /* Results. */
    int status;        /* of the final response, once its status line is read */
    int keep_alive;    /* at H1_DONE: the connection may carry another request */
    const char *error; /* at H1_ERROR: one line, a static string */
    /* Private. */
    int head;            /* the request was HEAD: no body */
    int state;           /* where the parse is (an H1S_* of h1.c) */
    int minor;           /* HTTP/1.minor */
    int interim;         /* the head being read is a 1xx one, skipped */
    int have_te;         /* a Transfer-Encoding header was seen */
    int chunked;         /* and its last coding so far is "chunked" */
    int have_length;     /* a Content-Length header was seen */
    int bad_length;      /* one was invalid, or they differed */
    int last_framing;    /* the last header was Content-Length or Transfer-Encoding */
    int conn_close;      /* Connection has the token "close" */
    int conn_keep_alive; /* Connection has the token "keep-alive" */
    int digits;          /* hex digits of the chunk size read so far */
    uint64_t length;     /* the Content-Length value */
    uint64_t remaining;  /* body or chunk bytes still to come */
    size_t head_bytes;   /* bytes of the heads so far (1xx too), for the limit */
    struct buf line;     /* a head line split across calls, so far */
};

/*
 * Prepares p for a response to a request; head: the request was HEAD.  p
 * is overwritten whole: h1_free it first if it was used before.
 */
void h1_init(struct h1_parser *p, int head);

/*
 * Parses len bytes of the response.  *used is set to the bytes consumed:
 * all of them unless the response ended (H1_DONE) before the end of data.
 * H1_MORE: feed more bytes; H1_DONE: the response is complete;
 * H1_ERROR: the response is broken, p->error says how (or a callback
 * returned -1, p->error "out of memory"; *used then says little).  After
 * H1_DONE or H1_ERROR, further calls return the same and consume nothing:
 * h1_free and h1_init the parser before another response.
 */
int h1_feed(struct h1_parser *p, const char *data, size_t len, size_t *used,
            const struct h1_callbacks *cb, void *ud);

/*
 * The peer closed the connection: H1_DONE when that ends a body delimited
 * by the close, else H1_ERROR with p->error.
 */
int h1_eof(struct h1_parser *p, const struct h1_callbacks *cb, void *ud);

/* Frees what the parser holds (its split-line buffer); p may be reused. */
void h1_free(struct h1_parser *p);

#endif
