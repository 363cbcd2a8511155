/*
 * The HTTP/1.x response parser (see h1.h), after RFC 9112 and, where the
 * RFC leaves room, what libcurl does (its error messages are reused word for
 * word, so that a run reports the same reasons through either client).
 *
 * Head lines are found with memchr and handed over where they lie in the
 * caller's buffer; only a line split across two feeds is copied, into a
 * buffer the parser owns.  Chunk-size lines and trailers are read byte by
 * byte by a small state machine and never copied, since nobody sees them.
 * The heads of one exchange (1xx ones included) may take 100 KiB at most,
 * so the copy stays bounded.
 *
 * Leniencies, chosen so that no framing is ever guessed: bare LF line ends;
 * several spaces between the version and the status code; a header line
 * without a colon, or a folded (obs-fold) continuation line, is passed to
 * the header callback and otherwise ignored, except that a continuation of
 * Content-Length or Transfer-Encoding is an error (its unfolded value would
 * change the framing); a chunk-size line may have blanks before its ";ext"
 * or its end.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/h1.h"

#define H1_MAX_HEAD   (100 * 1024) /* bytes of the heads of one exchange */
#define H1_MAX_LENGTH INT64_MAX    /* largest Content-Length or chunk size */

/* Where the parse is; 0 (a zeroed parser) is the start. */
enum h1_state {
    H1S_STATUS = 0,    /* the status line */
    H1S_HEADER,        /* header lines, until the empty one */
    H1S_BODY_LEN,      /* a body of Content-Length bytes */
    H1S_BODY_CLOSE,    /* a body that ends when the connection does */
    H1S_CHUNK_SIZE,    /* the hex digits of a chunk size */
    H1S_CHUNK_AFTER,   /* after them: blanks, ";ext" or the line end */
    H1S_CHUNK_EXT,     /* a chunk extension, skipped to the LF */
    H1S_CHUNK_LF,      /* the LF after the CR of a chunk-size line */
    H1S_CHUNK_DATA,    /* the data of a chunk */
    H1S_CHUNK_CR,      /* the line end after the data */
    H1S_CHUNK_DATA_LF, /* its LF after a CR */
    H1S_TRAILER,       /* the start of a trailer line or of the empty line */
    H1S_TRAILER_SKIP,  /* a trailer line, skipped to its LF */
    H1S_TRAILER_CR,    /* the LF of the final empty line */
    H1S_DONE,
    H1S_ERROR,
};

static const char h1_err_09[] = "Received HTTP/0.9 when not allowed";
static const char h1_err_version[] = "Unsupported HTTP version in response";
static const char h1_err_weird[] = "Weird server reply";
static const char h1_err_large[] = "Too large response headers";
static const char h1_err_length[] = "Invalid Content-Length value";
static const char h1_err_chunk[] =
    "Illegal or missing hexadecimal sequence in chunked-encoding";
static const char h1_err_empty[] = "Empty reply from server";
static const char h1_err_partial[] =
    "Transfer closed with outstanding read data remaining";
static const char h1_err_oom[] = "out of memory";

void h1_init(struct h1_parser *p, int head)
{
    memset(p, 0, sizeof(*p));
    p->head = head;
}

void h1_free(struct h1_parser *p)
{
    buf_free(&p->line);
}

/* Ends the parse with an error; msg is a static string. */
static int h1_fail(struct h1_parser *p, const char *msg)
{
    p->state = H1S_ERROR;
    p->error = msg;
    p->keep_alive = 0;
    return H1_ERROR;
}

/* Ends the parse: the response is complete. */
static int h1_done(struct h1_parser *p)
{
    p->state = H1S_DONE;
    return H1_DONE;
}

/*
 * Takes the next head line from data[*pos, len), which is not empty, and
 * counts its bytes against the head limit.  Returns 1 with the line, without
 * its CRLF or LF, in *l and *n (in data, or in p->line when it began in an
 * earlier feed); 0 when the line goes on in the next feed (its start is
 * kept); H1_ERROR when the heads grow too large or memory ran out.
 */
static int h1_line(struct h1_parser *p, const char *data, size_t len, size_t *pos,
                   const char **l, size_t *n)
{
    const char *s = data + *pos;
    const char *nl = memchr(s, '\n', len - *pos);
    size_t take = nl ? (size_t)(nl - s) + 1 : len - *pos;

    if (take > H1_MAX_HEAD - p->head_bytes)
        return h1_fail(p, h1_err_large);
    p->head_bytes += take;
    *pos += take;
    if (!nl || p->line.len) {
        if (buf_append(&p->line, s, take) < 0)
            return h1_fail(p, h1_err_oom);
        if (!nl)
            return 0;
        s = p->line.data;
        take = p->line.len;
        p->line.len = 0; /* the line stays there until the next append */
    }
    take--;
    if (take && s[take - 1] == '\r')
        take--;
    *l = s;
    *n = take;
    return 1;
}

/*
 * Whether the avail bytes at s can continue the status line begun in
 * p->line: its first five bytes must be "HTTP/".  Checking them as they
 * come rejects a server that is not speaking HTTP/1 without waiting for a
 * line end that may never come.
 */
static int h1_prefix_ok(const struct h1_parser *p, const char *s, size_t avail)
{
    static const char http[] = "HTTP/";

    for (size_t i = p->line.len, j = 0; i < 5 && j < avail; i++, j++)
        if (s[j] != http[i])
            return 0;
    return 1;
}

/* Whether c is a blank (SP or HTAB), the OWS of RFC 9110. */
static int h1_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Whether c is an ASCII digit. */
static int h1_digit(char c)
{
    return c >= '0' && c <= '9';
}

/*
 * Reads "HTTP/1.x SP NNN [SP reason]" (p->line.len bytes of it already
 * checked to begin with "HTTP/").  A 1xx response is marked interim and
 * skipped, but a 101 is refused: no request of ours asks to switch.
 */
static int h1_status_line(struct h1_parser *p, const char *l, size_t n)
{
    size_t i = 5, v = 5;
    int code;

    if (n < 5)
        return h1_fail(p, h1_err_09);
    while (i < n && l[i] != ' ')
        i++;
    if (i - v != 3 || l[v] != '1' || l[v + 1] != '.' ||
        (l[v + 2] != '0' && l[v + 2] != '1'))
        return h1_fail(p, h1_err_version);
    while (i < n && l[i] == ' ')
        i++;
    if (n - i < 3 || !h1_digit(l[i]) || !h1_digit(l[i + 1]) || !h1_digit(l[i + 2]) ||
        l[i] == '0' || (n - i > 3 && !h1_blank(l[i + 3])))
        return h1_fail(p, h1_err_weird);
    code = (l[i] - '0') * 100 + (l[i + 1] - '0') * 10 + (l[i + 2] - '0');
    if (code == 101)
        return h1_fail(p, h1_err_weird);
    p->minor = l[v + 2] - '0';
    p->interim = code < 200;
    if (!p->interim)
        p->status = code;
    p->state = H1S_HEADER;
    return H1_MORE;
}

/* Strips the blanks around the n bytes at *s. */
static void h1_trim(const char **s, size_t *n)
{
    while (*n && h1_blank(**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n && h1_blank((*s)[*n - 1]))
        (*n)--;
}

/*
 * Takes the next element of the comma-separated list v[*i, n), trimmed of
 * blanks (possibly empty), into *e and *en.  Returns 0 past the last one.
 */
static int h1_element(const char *v, size_t n, size_t *i, const char **e, size_t *en)
{
    const char *c;
    size_t j;

    if (*i > n)
        return 0;
    c = memchr(v + *i, ',', n - *i);
    j = c ? (size_t)(c - v) : n;
    *e = v + *i;
    *en = j - *i;
    h1_trim(e, en);
    *i = j + 1;
    return 1;
}

/* Reads one Content-Length value: digits only, at most H1_MAX_LENGTH. */
static int h1_length_value(const char *e, size_t en, uint64_t *out)
{
    uint64_t x = 0;

    if (!en)
        return -1;
    for (size_t k = 0; k < en; k++) {
        uint64_t d = (uint64_t)(e[k] - '0');

        if (!h1_digit(e[k]) || x > (H1_MAX_LENGTH - d) / 10)
            return -1;
        x = x * 10 + d;
    }
    *out = x;
    return 0;
}

/*
 * Content-Length.  A list of equal values, or a repeated header with the
 * same value, is accepted as RFC 9112 section 6.3 allows; anything else
 * marks the length bad, which is an error later only if the framing
 * depends on it.
 */
static void h1_content_length(struct h1_parser *p, const char *v, size_t n)
{
    const char *e;
    size_t en;
    uint64_t x;

    for (size_t i = 0; !p->bad_length && h1_element(v, n, &i, &e, &en);) {
        if (h1_length_value(e, en, &x) < 0 || (p->have_length && x != p->length)) {
            p->bad_length = 1;
            return;
        }
        p->length = x;
        p->have_length = 1;
    }
}

/* Transfer-Encoding: what counts is whether its last coding is "chunked". */
static void h1_transfer_encoding(struct h1_parser *p, const char *v, size_t n)
{
    const char *e;
    size_t en;

    p->have_te = 1;
    for (size_t i = 0; h1_element(v, n, &i, &e, &en);)
        if (en)
            p->chunked = en == 7 && strncasecmp(e, "chunked", 7) == 0;
}

/* Connection: the tokens "close" and "keep-alive", in any case. */
static void h1_connection(struct h1_parser *p, const char *v, size_t n)
{
    const char *e;
    size_t en;

    for (size_t i = 0; h1_element(v, n, &i, &e, &en);) {
        if (en == 5 && strncasecmp(e, "close", 5) == 0)
            p->conn_close = 1;
        else if (en == 10 && strncasecmp(e, "keep-alive", 10) == 0)
            p->conn_keep_alive = 1;
    }
}

/*
 * Looks at one header line of the final response (not empty) for the few
 * fields that frame the body or decide the connection's reuse.
 */
static int h1_field(struct h1_parser *p, const char *l, size_t n)
{
    int framing = p->last_framing;
    const char *colon, *v;
    size_t nlen, vlen;

    p->last_framing = 0;
    if (h1_blank(l[0]))
        return framing ? h1_fail(p, h1_err_weird) : H1_MORE;
    colon = memchr(l, ':', n);
    if (!colon)
        return H1_MORE;
    nlen = (size_t)(colon - l);
    v = colon + 1;
    vlen = n - nlen - 1;
    h1_trim(&v, &vlen);
    if (nlen == 14 && strncasecmp(l, "content-length", 14) == 0) {
        p->last_framing = 1;
        h1_content_length(p, v, vlen);
    } else if (nlen == 17 && strncasecmp(l, "transfer-encoding", 17) == 0) {
        p->last_framing = 1;
        h1_transfer_encoding(p, v, vlen);
    } else if (nlen == 10 && strncasecmp(l, "connection", 10) == 0) {
        h1_connection(p, v, vlen);
    }
    return H1_MORE;
}

/*
 * The head of the final response is complete: decides the connection's
 * reuse and how the body is framed, in the order of RFC 9112 section 6.3.
 * Transfer-Encoding with Content-Length, or in an HTTP/1.0 response, may
 * be an attempt at smuggling: the framing follows Transfer-Encoding, but
 * the connection is not reused.
 */
static int h1_head_end(struct h1_parser *p)
{
    int has_length = p->have_length || p->bad_length;

    p->keep_alive = p->minor ? !p->conn_close : p->conn_keep_alive && !p->conn_close;
    if (p->have_te && (has_length || !p->minor))
        p->keep_alive = 0;
    if (p->head || p->status == 204 || p->status == 304)
        return h1_done(p);
    if (p->have_te && p->chunked) {
        p->state = H1S_CHUNK_SIZE;
    } else if (p->have_te) {
        p->state = H1S_BODY_CLOSE;
        p->keep_alive = 0;
    } else if (p->bad_length) {
        return h1_fail(p, h1_err_length);
    } else if (p->have_length) {
        if (!p->length)
            return h1_done(p);
        p->remaining = p->length;
        p->state = H1S_BODY_LEN;
    } else {
        p->state = H1S_BODY_CLOSE;
        p->keep_alive = 0;
    }
    return H1_MORE;
}

/* Hands a line of the final head to the header callback. */
static int h1_emit_header(struct h1_parser *p, const char *l, size_t n,
                          const struct h1_callbacks *cb, void *ud)
{
    if (cb && cb->header && cb->header(ud, l, n) != 0)
        return h1_fail(p, h1_err_oom);
    return H1_MORE;
}

/* One complete head line: the status line, a header, or the empty line. */
static int h1_head_line(struct h1_parser *p, const char *l, size_t n,
                        const struct h1_callbacks *cb, void *ud)
{
    int r;

    if (p->state == H1S_STATUS) {
        r = h1_status_line(p, l, n);
        if (r != H1_MORE || p->interim)
            return r;
        return h1_emit_header(p, l, n, cb, ud);
    }
    if (n == 0) {
        if (!p->interim)
            return h1_head_end(p);
        p->interim = 0;
        p->state = H1S_STATUS;
        return H1_MORE;
    }
    if (p->interim)
        return H1_MORE;
    r = h1_emit_header(p, l, n, cb, ud);
    return r != H1_MORE ? r : h1_field(p, l, n);
}

/* Hands n > 0 body bytes to the body callback. */
static int h1_emit_body(struct h1_parser *p, const char *s, size_t n,
                        const struct h1_callbacks *cb, void *ud)
{
    if (cb && cb->body && cb->body(ud, s, n) != 0)
        return h1_fail(p, h1_err_oom);
    return H1_MORE;
}

/* Up to the remaining bytes of a Content-Length body or of a chunk. */
static int h1_body_part(struct h1_parser *p, const char *data, size_t len, size_t *pos,
                        const struct h1_callbacks *cb, void *ud)
{
    size_t n = len - *pos;

    if (n > p->remaining)
        n = (size_t)p->remaining;
    if (h1_emit_body(p, data + *pos, n, cb, ud) != H1_MORE)
        return H1_ERROR;
    *pos += n;
    p->remaining -= n;
    if (p->remaining)
        return H1_MORE;
    if (p->state == H1S_BODY_LEN)
        return h1_done(p);
    p->state = H1S_CHUNK_CR;
    return H1_MORE;
}

/* Returns the value of hex digit c, or -1. */
static int h1_hex(char c)
{
    if (h1_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The hex digits of a chunk size, as many as data holds. */
static int h1_chunk_size(struct h1_parser *p, const char *data, size_t len, size_t *pos)
{
    for (; *pos < len; (*pos)++) {
        int d = h1_hex(data[*pos]);

        if (d < 0) {
            if (!p->digits)
                return h1_fail(p, h1_err_chunk);
            p->state = H1S_CHUNK_AFTER;
            return H1_MORE;
        }
        if (p->remaining > (uint64_t)H1_MAX_LENGTH >> 4)
            return h1_fail(p, h1_err_chunk);
        p->remaining = p->remaining << 4 | (uint64_t)d;
        p->digits++;
    }
    return H1_MORE;
}

/* The chunk-size line ended: its data follow, or the trailers if it was 0. */
static int h1_chunk_line_end(struct h1_parser *p)
{
    p->state = p->remaining ? H1S_CHUNK_DATA : H1S_TRAILER;
    return H1_MORE;
}

/* The next chunk-size line begins. */
static int h1_chunk_next(struct h1_parser *p)
{
    p->state = H1S_CHUNK_SIZE;
    p->digits = 0;
    p->remaining = 0;
    return H1_MORE;
}

/* What follows the hex digits of a chunk size: one byte of it. */
static int h1_chunk_after(struct h1_parser *p, char c)
{
    if (h1_blank(c))
        return H1_MORE;
    if (c == ';')
        p->state = H1S_CHUNK_EXT;
    else if (c == '\r')
        p->state = H1S_CHUNK_LF;
    else if (c == '\n')
        return h1_chunk_line_end(p);
    else
        return h1_fail(p, h1_err_chunk);
    return H1_MORE;
}

/*
 * Skips to the next LF (consumed), as data allows.  Returns whether it was
 * found.
 */
static int h1_skip_line(const char *data, size_t len, size_t *pos)
{
    const char *nl = memchr(data + *pos, '\n', len - *pos);

    *pos = nl ? (size_t)(nl - data) + 1 : len;
    return nl != NULL;
}

/* The start of a trailer line, or the empty line that ends the response. */
static int h1_trailer(struct h1_parser *p, const char *data, size_t *pos)
{
    char c = data[*pos];

    if (c == '\n') {
        (*pos)++;
        return h1_done(p);
    }
    if (c == '\r') {
        (*pos)++;
        p->state = H1S_TRAILER_CR;
    } else {
        p->state = H1S_TRAILER_SKIP;
    }
    return H1_MORE;
}

/* The chunked body states, from data[*pos] on (at least one byte). */
static int h1_step_chunked(struct h1_parser *p, const char *data, size_t len, size_t *pos,
                           const struct h1_callbacks *cb, void *ud)
{
    switch (p->state) {
    case H1S_CHUNK_SIZE:
        return h1_chunk_size(p, data, len, pos);
    case H1S_CHUNK_AFTER:
        return h1_chunk_after(p, data[(*pos)++]);
    case H1S_CHUNK_EXT:
        return h1_skip_line(data, len, pos) ? h1_chunk_line_end(p) : H1_MORE;
    case H1S_CHUNK_LF:
        if (data[(*pos)++] != '\n')
            return h1_fail(p, h1_err_chunk);
        return h1_chunk_line_end(p);
    case H1S_CHUNK_DATA:
        return h1_body_part(p, data, len, pos, cb, ud);
    case H1S_CHUNK_CR:
        if (data[*pos] == '\r')
            (*pos)++;
        p->state = H1S_CHUNK_DATA_LF;
        return H1_MORE;
    case H1S_CHUNK_DATA_LF:
        if (data[(*pos)++] != '\n')
            return h1_fail(p, h1_err_chunk);
        return h1_chunk_next(p);
    case H1S_TRAILER:
        return h1_trailer(p, data, pos);
    case H1S_TRAILER_SKIP:
        if (h1_skip_line(data, len, pos))
            p->state = H1S_TRAILER;
        return H1_MORE;
    case H1S_TRAILER_CR:
        if (data[*pos] != '\n') {
            p->state = H1S_TRAILER_SKIP; /* a line that begins with a CR */
            return H1_MORE;
        }
        (*pos)++;
        return h1_done(p);
    default:
        return h1_fail(p, h1_err_weird);
    }
}

/*
 * Advances the parse over data[*pos, len), which is not empty: consumes at
 * least one byte or changes the state to one that will.
 */
static int h1_step(struct h1_parser *p, const char *data, size_t len, size_t *pos,
                   const struct h1_callbacks *cb, void *ud)
{
    const char *l;
    size_t n;
    int r;

    switch (p->state) {
    case H1S_STATUS:
        if (!h1_prefix_ok(p, data + *pos, len - *pos))
            return h1_fail(p, h1_err_09);
        /* fall through */
    case H1S_HEADER:
        r = h1_line(p, data, len, pos, &l, &n);
        return r == 1 ? h1_head_line(p, l, n, cb, ud) : r;
    case H1S_BODY_LEN:
        return h1_body_part(p, data, len, pos, cb, ud);
    case H1S_BODY_CLOSE:
        r = h1_emit_body(p, data + *pos, len - *pos, cb, ud);
        *pos = len;
        return r;
    default:
        return h1_step_chunked(p, data, len, pos, cb, ud);
    }
}

/* The result a parser in its current state stands at. */
static int h1_result(const struct h1_parser *p)
{
    if (p->state == H1S_DONE)
        return H1_DONE;
    return p->state == H1S_ERROR ? H1_ERROR : H1_MORE;
}

int h1_feed(struct h1_parser *p, const char *data, size_t len, size_t *used,
            const struct h1_callbacks *cb, void *ud)
{
    size_t pos = 0;
    int r = h1_result(p);

    while (r == H1_MORE && pos < len)
        r = h1_step(p, data, len, &pos, cb, ud);
    *used = pos;
    return r;
}

int h1_eof(struct h1_parser *p, const struct h1_callbacks *cb, void *ud)
{
    (void)cb;
    (void)ud;
    switch (p->state) {
    case H1S_DONE:
    case H1S_ERROR:
        return h1_result(p);
    case H1S_BODY_CLOSE:
        p->keep_alive = 0;
        return h1_done(p);
    case H1S_STATUS:
        if (!p->head_bytes)
            return h1_fail(p, h1_err_empty);
        /* fall through */
    default:
        return h1_fail(p, h1_err_partial);
    }
}
