/*
 * Unit tests for http/h1.c: Content-Length, chunked (extensions,
 * trailers) and close-delimited bodies; the same answer whatever the
 * feeds' sizes; 1xx skipped; bodiless responses; keep-alive rules; bytes
 * past the end; every error message, the head size limit and overflowing
 * lengths.
 */
#include <stdlib.h>

#include "tests/unit/unit.h"
#include "http/h1.h"

/* What one parse produced, callbacks included. */
struct h1_res {
    int rc, status, keep_alive;
    const char *error;
    size_t used;        /* bytes consumed over all feeds */
    char hdr[4096];     /* the header lines, each followed by '\n' */
    size_t hlen;        /* bytes of header lines, newlines included */
    char body[4096];    /* the body (the first bytes if longer) */
    size_t blen;        /* bytes of body */
    int nheader, nbody; /* callback calls */
    int fail_header;    /* the header call (1-based) that returns -1, or 0 */
    int fail_body;      /* the same for the body */
};

/* Keeps a header line, as much of it as fits. */
static int h1_on_header(void *ud, const char *line, size_t len)
{
    struct h1_res *r = ud;

    if (++r->nheader == r->fail_header)
        return -1;
    for (size_t i = 0; i <= len; i++, r->hlen++)
        if (r->hlen < sizeof(r->hdr))
            r->hdr[r->hlen] = i < len ? line[i] : '\n';
    return 0;
}

/* Keeps body bytes, as many as fit. */
static int h1_on_body(void *ud, const char *data, size_t len)
{
    struct h1_res *r = ud;

    CHECK(len > 0);
    if (++r->nbody == r->fail_body)
        return -1;
    for (size_t i = 0; i < len; i++, r->blen++)
        if (r->blen < sizeof(r->body))
            r->body[r->blen] = data[i];
    return 0;
}

static const struct h1_callbacks h1_test_cbs = {h1_on_header, h1_on_body};

/*
 * Parses s[0, len) in the pieces that the ncuts ascending positions cut
 * it into, each piece in its own heap copy so that ASan catches a read past
 * it; then, if eof and the parser wants more, tells it the connection
 * closed.  r's fail_* fields are kept, the rest is filled.
 */
static void h1_run(const char *s, size_t len, int head, const size_t *cuts, size_t ncuts,
                   int eof, struct h1_res *r)
{
    int fh = r->fail_header, fb = r->fail_body;
    struct h1_parser p;
    size_t start = 0;

    memset(r, 0, sizeof(*r));
    r->fail_header = fh;
    r->fail_body = fb;
    h1_init(&p, head);
    r->rc = H1_MORE;
    for (size_t i = 0; i <= ncuts && r->rc == H1_MORE; i++) {
        size_t end = cuts && i < ncuts ? cuts[i] : len, used = 0;
        char *piece = malloc(end - start + 1);

        if (!piece)
            abort();
        memcpy(piece, s + start, end - start);
        r->rc = h1_feed(&p, piece, end - start, &used, &h1_test_cbs, r);
        free(piece);
        CHECK(used <= end - start);
        CHECK(r->rc != H1_MORE || used == end - start);
        r->used += used;
        start = end;
    }
    if (eof && r->rc == H1_MORE)
        r->rc = h1_eof(&p, &h1_test_cbs, r);
    r->status = p.status;
    r->keep_alive = r->rc == H1_DONE ? p.keep_alive : -1;
    r->error = r->rc == H1_ERROR ? p.error : NULL;
    h1_free(&p);
}

/* Parses the string s in one feed. */
static void h1_run_all(const char *s, int head, int eof, struct h1_res *r)
{
    h1_run(s, strlen(s), head, NULL, 0, eof, r);
}

/* Parses s in feeds of one byte. */
static void h1_run_bytes(const char *s, size_t len, int head, int eof, struct h1_res *r)
{
    size_t *cuts = malloc(len * sizeof(*cuts) + 1);

    if (!cuts)
        abort();
    for (size_t i = 0; i < len; i++)
        cuts[i] = i + 1;
    h1_run(s, len, head, cuts, len ? len - 1 : 0, eof, r);
    free(cuts);
}

/*
 * Checks that two parses gave the same results and callbacks' bytes.  The
 * bytes consumed before an error depend on the feeds, and nobody uses them.
 */
static void h1_check_same(const struct h1_res *a, const struct h1_res *b)
{
    CHECK_INT_EQ(a->rc, b->rc);
    CHECK_INT_EQ(a->status, b->status);
    CHECK_INT_EQ(a->keep_alive, b->keep_alive);
    if (a->rc != H1_ERROR)
        CHECK_INT_EQ(a->used, b->used);
    CHECK(a->error == b->error || (a->error && b->error && !strcmp(a->error, b->error)));
    CHECK_INT_EQ(a->hlen, b->hlen);
    CHECK_INT_EQ(a->blen, b->blen);
    CHECK(memcmp(a->hdr, b->hdr, a->hlen < sizeof(a->hdr) ? a->hlen : sizeof(a->hdr)) ==
          0);
    CHECK(memcmp(a->body, b->body,
                 a->blen < sizeof(a->body) ? a->blen : sizeof(a->body)) == 0);
}

/* Checks the body bytes received, as a string. */
static void h1_check_body(const struct h1_res *r, const char *body)
{
    CHECK_INT_EQ(r->blen, strlen(body));
    CHECK(memcmp(r->body, body, strlen(body)) == 0);
}

/* Checks the header lines received, each followed by '\n'. */
static void h1_check_hdr(const struct h1_res *r, const char *hdr)
{
    CHECK_INT_EQ(r->hlen, strlen(hdr));
    CHECK(memcmp(r->hdr, hdr, strlen(hdr)) == 0);
}

/* Parses s and checks that it fails with msg. */
static void h1_check_error(const char *s, int eof, const char *msg)
{
    struct h1_res r = {0};

    h1_run_all(s, 0, eof, &r);
    if (r.rc != H1_ERROR)
        fprintf(stderr, "    input: \"%s\"\n", s);
    CHECK_INT_EQ(r.rc, H1_ERROR);
    CHECK_STR_EQ(r.error, msg);
    h1_run_bytes(s, strlen(s), 0, eof, &r);
    CHECK_INT_EQ(r.rc, H1_ERROR);
    CHECK_STR_EQ(r.error, msg);
}

UNIT_TEST(h1_content_length)
{
    static const char s[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello";
    struct h1_res r = {0};

    h1_run_all(s, 0, 0, &r);
    CHECK_INT_EQ(r.rc, H1_DONE);
    CHECK_INT_EQ(r.status, 200);
    CHECK_INT_EQ(r.keep_alive, 1);
    CHECK_INT_EQ(r.used, strlen(s));
    h1_check_hdr(&r, "HTTP/1.1 200 OK\nContent-Length: 5\nX-A: b\n");
    h1_check_body(&r, "hello");
    CHECK_INT_EQ(r.nbody, 1);

    /* Bare LF line ends, names in any case, blanks around the value. */
    h1_run_all("HTTP/1.1 201 Created\ncontent-LENGTH: \t 3 \n\nabc", 0, 0, &r);
    CHECK_INT_EQ(r.rc, H1_DONE);
    CHECK_INT_EQ(r.status, 201);
    h1_check_hdr(&r, "HTTP/1.1 201 Created\ncontent-LENGTH: \t 3 \n");
    h1_check_body(&r, "abc");

    /* Equal values, in a list or repeated, and a zero length. */
    h1_run_all("HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\nContent-Length: 3\r\n\r\nabc",
               0, 0, &r);
    CHECK_INT_EQ(r.rc, H1_DONE);
    h1_check_body(&r, "abc");
    h1_run_all("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0, 0, &r);
    CHECK_INT_EQ(r.rc, H1_DONE);
    CHECK_INT_EQ(r.nbody, 0);

    /* No reason phrase, and a line without a colon is kept but ignored. */
    h1_run_all("HTTP/1.0 404\r\nnot a header\r\nContent-Length: 1\r\n\r\nx", 0, 0, &r);
    CHECK_INT_EQ(r.rc, H1_DONE);
    CHECK_INT_EQ(r.status, 404);
    h1_check_hdr(&r, "HTTP/1.0 404\nnot a header\nContent-Length: 1\n");
    h1_check_body(&r, "x");
}

/* Responses each parsed whole, byte by byte, and cut at every point. */
static const struct {
    const char *s;
    int head, eof;
} h1_split_cases[] = {
    {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: t\r\n\r\nhello", 0, 0},
    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
     "5;a=b\r\nhello\r\nA \r\n0123456789\r\n0\r\nT: x\r\n\r\n",
     0, 0},
    {"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 0, 0},
    {"HTTP/1.0 200 OK\nServer: t\n\nbody until close", 0, 1},
    {"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n", 1, 0},
    {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n", 0, 0},
    {"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", 0, 0},
    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloX", 0, 0},
    {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", 0, 1},
};

UNIT_TEST(h1_splits)
{
    for (size_t c = 0; c < sizeof(h1_split_cases) / sizeof(h1_split_cases[0]); c++) {
        const char *s = h1_split_cases[c].s;
        size_t len = strlen(s);
        int head = h1_split_cases[c].head, eof = h1_split_cases[c].eof;
        struct h1_res whole = {0}, r = {0};

        h1_run(s, len, head, NULL, 0, eof, &whole);
        CHECK(whole.rc != H1_MORE);
        h1_run_bytes(s, len, head, eof, &r);
        h1_check_same(&whole, &r);
        for (size_t cut = 0; cut <= len; cut++) {
            h1_run(s, len, head, &cut, 1, eof, &r);
            h1_check_same(&whole, &r);
        }
    }
}

UNIT_TEST(h1_chunked)
{
    static const char s[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n"
                            "5;name=value;x\r\nhello\r\n"
                            "6\r\n world\r\n"
                            "1a \r\nabcdefghijklmnopqrstuvwxyz\n"
                            "0; last\r\nExpires: never\r\nX-T: y\r\n\r\n";
    struct h1_res r = {0};

    h1_run_all(s, 0, 0, &r);
    CHECK_INT_EQ(r.rc, H1_DONE);
    CHECK_INT_EQ(r.keep_alive, 1);
    CHECK_INT_EQ(r.used, strlen(s));
    h1_check_body(&r, "hello worldabcdefghijklmnopqrstuvwxyz");
    CHECK_INT_EQ(r.nbody, 3);
    h1_check_hdr(&r, "HTTP/1.1 200 OK\nTransfer-Encoding: gzip, Chunked\n");

    /* No trailers, bare LFs, leading zeros and upper-case digits. */
    h1_run_all("HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n000B\nhello world\n0\n\n",
               0, 0, &r);
    CHECK_INT_EQ(r.rc, H1_DONE);
    h1_check_body(&r, "hello world");

    /* Content-Length is ignored, and the connection not reused. */
    h1_run_all(
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n"
        "3\r\nabc\r\n0\r\n\r\n",
        0, 0, &r);
    CHECK_INT_EQ(r.rc, H1_DONE);
    CHECK_INT_EQ(r.keep_alive, 0);
    h1_check_body(&r, "abc");

    /* Even an invalid one. */
    h1_run_all(
        "HTTP/1.1 200 OK\r\nContent-Length: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        "0\r\n\r\n",
        0, 0, &r);
    CHECK_INT_EQ(r.rc, H1_DONE);
    CHECK_INT_EQ(r.keep_alive, 0);

    /* chunked not last: the body ends with the connection. */
    h1_run_all(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n"
        "\r\n3\r\nabc",
        0, 1, &r);
    CHECK_INT_EQ(r.rc, H1_DONE);
    CHECK_INT_EQ(r.keep_alive, 0);
    h1_check_body(&r, "3\r\nabc");
}

UNIT_TEST(h1_interim)
{
    static const char s[] = "HTTP/1.1 100 Continue\r\n\r\n"
                            "HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n"
                            "Content-Length: 9\r\n\r\n"
                            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    struct h1_res r = {0};

    h1_run_all(s, 0, 0, &r);
    CHECK_INT_EQ(r.rc, H1_DONE);
    CHECK_INT_EQ(r.status, 200);
    h1_check_hdr(&r, "HTTP/1.1 200 OK\nContent-Length: 2\n");
    h1_check_body(&r, "ok");
    CHECK_INT_EQ(r.used, strlen(s));

    /* The status stays 0 until the final status line. */
    h1_run_all("HTTP/1.1 100 Continue\r\n\r\n", 0, 0, &r);
    CHECK_INT_EQ(r.rc, H1_MORE);
    CHECK_INT_EQ(r.status, 0);
    CHECK_INT_EQ(r.nheader, 0);
}

UNIT_TEST(h1_no_body)
{
    static const char *const heads[] = {
        "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        "HTTP/1.1 200 OK\r\n\r\n",
    };
    struct h1_res r = {0};
    char buf[256];

    /* A HEAD's answer ends with its head, whatever its headers say. */
    for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
        snprintf(buf, sizeof(buf), "%sNEXT", heads[i]);
        h1_run_all(buf, 1, 0, &r);
        CHECK_INT_EQ(r.rc, H1_DONE);
        CHECK_INT_EQ(r.keep_alive, 1);
        CHECK_INT_EQ(r.used, strlen(heads[i]));
        CHECK_INT_EQ(r.nbody, 0);
    }
    /* So do 204 and 304, even to a GET. */
    h1_run_all("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello", 0, 0, &r);
    CHECK_INT_EQ(r.rc, H1_DONE);
    CHECK_INT_EQ(r.status, 204);
    CHECK_INT_EQ(r.used, strlen("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n"));
    h1_run_all("HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n", 0, 0, &r);
    CHECK_INT_EQ(r.rc, H1_DONE);
    CHECK_INT_EQ(r.status, 304);
    CHECK_INT_EQ(r.keep_alive, 1);
    CHECK_INT_EQ(r.nbody, 0);
}

UNIT_TEST(h1_close_delimited)
{
    struct h1_res r = {0};

    h1_run_all("HTTP/1.1 200 OK\r\nServer: t\r\n\r\nabc", 0, 0, &r);
    CHECK_INT_EQ(r.rc, H1_MORE);
    h1_run_all("HTTP/1.1 200 OK\r\nServer: t\r\n\r\nabc", 0, 1, &r);
    CHECK_INT_EQ(r.rc, H1_DONE);
    CHECK_INT_EQ(r.keep_alive, 0);
    h1_check_body(&r, "abc");

    /* An empty body, and a Transfer-Encoding without chunked. */
    h1_run_all("HTTP/1.1 200 OK\r\n\r\n", 0, 1, &r);
    CHECK_INT_EQ(r.rc, H1_DONE);
    CHECK_INT_EQ(r.blen, 0);
    h1_run_all(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 1\r\n\r\nxyz", 0,
        1, &r);
    CHECK_INT_EQ(r.rc, H1_DONE);
    CHECK_INT_EQ(r.keep_alive, 0);
    h1_check_body(&r, "xyz");
}

UNIT_TEST(h1_keep_alive)
{
    static const struct {
        const char *head;
        int keep_alive;
    } cases[] = {
        {"HTTP/1.1 200 OK\r\n", 1},
        {"HTTP/1.1 200 OK\r\nConnection: close\r\n", 0},
        {"HTTP/1.1 200 OK\r\nConnection: Keep-Alive, CLOSE\r\n", 0},
        {"HTTP/1.1 200 OK\r\nConnection: Upgrade\r\nconnection: Close \r\n", 0},
        {"HTTP/1.1 200 OK\r\nConnection: closed\r\n", 1},
        {"HTTP/1.0 200 OK\r\n", 0},
        {"HTTP/1.0 200 OK\r\nconnection: keep-alive\r\n", 1},
        {"HTTP/1.0 200 OK\r\nConnection: foo,Keep-Alive\r\n", 1},
        {"HTTP/1.0 200 OK\r\nConnection: keep-alive, close\r\n", 0},
        {"HTTP/1.1 200 OK\r\nX-Connection: close\r\n", 1},
    };
    struct h1_res r = {0};
    char buf[256];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(buf, sizeof(buf), "%sContent-Length: 2\r\n\r\nok", cases[i].head);
        h1_run_all(buf, 0, 0, &r);
        CHECK_INT_EQ(r.rc, H1_DONE);
        if (r.keep_alive != cases[i].keep_alive)
            fprintf(stderr, "    head: \"%s\"\n", cases[i].head);
        CHECK_INT_EQ(r.keep_alive, cases[i].keep_alive);
    }
    /* Transfer-Encoding in an HTTP/1.0 response: framed by it, not reused. */
    h1_run_all(
        "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n"
        "\r\n2\r\nok\r\n0\r\n\r\n",
        0, 0, &r);
    CHECK_INT_EQ(r.rc, H1_DONE);
    CHECK_INT_EQ(r.keep_alive, 0);
    h1_check_body(&r, "ok");
}

UNIT_TEST(h1_extra_bytes)
{
    static const char s[] =
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nabc";
    size_t first = strlen("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    struct h1_res r = {0};

    h1_run_all(s, 0, 0, &r);
    CHECK_INT_EQ(r.rc, H1_DONE);
    CHECK_INT_EQ(r.used, first);
    h1_check_body(&r, "ok");
    h1_run_all(s + first, 0, 0, &r);
    CHECK_INT_EQ(r.rc, H1_DONE);
    CHECK_INT_EQ(r.used, strlen(s) - first - 3);
    CHECK_INT_EQ(r.blen, 0);
}

UNIT_TEST(h1_status_errors)
{
    struct h1_parser p;
    size_t used;

    h1_check_error("SSH-2.0-OpenSSH_9.6\r\n", 0, "Received HTTP/0.9 when not allowed");
    h1_check_error("<html>", 0, "Received HTTP/0.9 when not allowed");
    h1_check_error("HTTP\r\n", 0, "Received HTTP/0.9 when not allowed");
    h1_check_error("http/1.1 200 OK\r\n", 0, "Received HTTP/0.9 when not allowed");
    h1_check_error("\r\nHTTP/1.1 200 OK\r\n", 0, "Received HTTP/0.9 when not allowed");
    h1_check_error("HTTP/1.1 100 Continue\r\n\r\nX", 0,
                   "Received HTTP/0.9 when not allowed");
    h1_check_error("HTTP/2 200\r\n", 0, "Unsupported HTTP version in response");
    h1_check_error("HTTP/1.5 200 OK\r\n", 0, "Unsupported HTTP version in response");
    h1_check_error("HTTP/1.10 200 OK\r\n", 0, "Unsupported HTTP version in response");
    h1_check_error("HTTP/ 200 OK\r\n", 0, "Unsupported HTTP version in response");
    h1_check_error("HTTP/1.1\r\n", 0, "Weird server reply");
    h1_check_error("HTTP/1.1 OK\r\n", 0, "Weird server reply");
    h1_check_error("HTTP/1.1 20\r\n", 0, "Weird server reply");
    h1_check_error("HTTP/1.1 2000 OK\r\n", 0, "Weird server reply");
    h1_check_error("HTTP/1.1 099 Low\r\n", 0, "Weird server reply");
    h1_check_error("HTTP/1.1 101 Switching Protocols\r\n\r\n", 0, "Weird server reply");

    /* Garbage fails at once, without a line end; a good prefix waits. */
    h1_init(&p, 0);
    CHECK_INT_EQ(h1_feed(&p, "HTT", 3, &used, NULL, NULL), H1_MORE);
    CHECK_INT_EQ(h1_feed(&p, "X", 1, &used, NULL, NULL), H1_ERROR);
    CHECK_STR_EQ(p.error, "Received HTTP/0.9 when not allowed");
    h1_free(&p);
    h1_init(&p, 0);
    CHECK_INT_EQ(h1_feed(&p, "HTTP/1.1 2", 10, &used, NULL, NULL), H1_MORE);
    CHECK_INT_EQ(used, 10);
    h1_free(&p);
}

UNIT_TEST(h1_framing_errors)
{
    static const char *const lengths[] = {
        "abc",
        "5, 6",
        "5\r\nContent-Length: 6",
        "-1",
        "",
        "+5",
        "5 5",
        "0x5",
        "5,",
        "99999999999999999999999",
        "9223372036854775808",
    };
    char buf[256];

    for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
        snprintf(buf, sizeof(buf), "HTTP/1.1 200 OK\r\nContent-Length: %s\r\n\r\nhello",
                 lengths[i]);
        h1_check_error(buf, 0, "Invalid Content-Length value");
    }
    /* A folded Content-Length or Transfer-Encoding. */
    h1_check_error("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n 6\r\n\r\n", 0,
                   "Weird server reply");
    h1_check_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip,\r\n\tchunked\r\n\r\n", 0,
                   "Weird server reply");

#define CHUNKED "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    static const char *const chunks[] = {
        "zz\r\n",
        ";x\r\n",
        " 5\r\nhello\r\n",
        "5\r\nhelloXX",
        "5\r\nhello\rX",
        "5 x\r\n",
        "5\rX",
        "-1\r\n",
        "10000000000000000\r\nx",
        "8000000000000000\r\n",
    };
    for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
        snprintf(buf, sizeof(buf), CHUNKED "%s", chunks[i]);
        h1_check_error(buf, 0,
                       "Illegal or missing hexadecimal sequence in chunked-encoding");
    }
#undef CHUNKED
}

UNIT_TEST(h1_eof_errors)
{
    static const char partial[] = "Transfer closed with outstanding read data remaining";

    h1_check_error("", 1, "Empty reply from server");
    h1_check_error("H", 1, partial);
    h1_check_error("HTTP/1.1 200 OK\r\nContent-Len", 1, partial);
    h1_check_error("HTTP/1.1 100 Continue\r\n\r\n", 1, partial);
    h1_check_error("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", 1, partial);
    h1_check_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
                   1, partial);
    h1_check_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: x\r\n",
                   1, partial);
}

UNIT_TEST(h1_callback_errors)
{
    static const char s[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    struct h1_res r = {0};

    r.fail_header = 1;
    h1_run_all(s, 0, 0, &r);
    CHECK_INT_EQ(r.rc, H1_ERROR);
    CHECK_STR_EQ(r.error, "out of memory");
    r.fail_header = 2;
    h1_run_bytes(s, strlen(s), 0, 0, &r);
    CHECK_INT_EQ(r.rc, H1_ERROR);
    CHECK_STR_EQ(r.error, "out of memory");
    r.fail_header = 0;
    r.fail_body = 1;
    h1_run_all(s, 0, 0, &r);
    CHECK_INT_EQ(r.rc, H1_ERROR);
    CHECK_STR_EQ(r.error, "out of memory");
    h1_run_all("HTTP/1.1 200 OK\r\n\r\nabc", 0, 1, &r);
    CHECK_INT_EQ(r.rc, H1_ERROR);
    CHECK_STR_EQ(r.error, "out of memory");
}

/* Returns a response whose head is exactly size bytes, "ok" body after. */
static char *h1_head_of(size_t size, size_t *len)
{
    static const char start[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Big: ";
    char *s = malloc(size + 3);
    size_t n = strlen(start);

    if (!s || size <= n + 4)
        abort();
    strcpy(s, start);
    memset(s + n, 'a', size - n - 4);
    strcpy(s + size - 4, "\r\n\r\nok");
    *len = size + 2;
    return s;
}

UNIT_TEST(h1_too_large)
{
    struct h1_res r = {0}, b = {0};
    size_t len, ncuts, cuts[60];
    char *s;

    /* 100 KiB of head pass, one byte more does not, however it is fed. */
    s = h1_head_of(100 * 1024, &len);
    h1_run(s, len, 0, NULL, 0, 0, &r);
    CHECK_INT_EQ(r.rc, H1_DONE);
    CHECK_INT_EQ(r.hlen, 100 * 1024 - 8 + 3); /* 4 line ends, 3 lines */
    h1_check_body(&r, "ok");
    free(s);
    s = h1_head_of(100 * 1024 + 1, &len);
    h1_run(s, len, 0, NULL, 0, 0, &r);
    CHECK_INT_EQ(r.rc, H1_ERROR);
    CHECK_STR_EQ(r.error, "Too large response headers");
    h1_run_bytes(s, len, 0, 0, &b);
    h1_check_same(&r, &b);
    free(s);

    /* A 200 KiB header line, in 4 KiB reads: refused before its end. */
    s = h1_head_of(200 * 1024, &len);
    ncuts = len / 4096;
    CHECK(ncuts <= 60);
    for (size_t i = 0; i < ncuts; i++)
        cuts[i] = (i + 1) * 4096;
    h1_run(s, len, 0, cuts, ncuts, 0, &r);
    CHECK_INT_EQ(r.rc, H1_ERROR);
    CHECK_STR_EQ(r.error, "Too large response headers");
    CHECK(r.used <= 100 * 1024 + 4096);
    free(s);
}

UNIT_TEST(h1_length_limits)
{
    struct h1_parser p;
    size_t used;
    static const char max[] =
        "HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775807\r\n\r\n";
    static const char chunk[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                "7fffffffffffffff\r\nabc";

    h1_init(&p, 0);
    CHECK_INT_EQ(h1_feed(&p, max, strlen(max), &used, NULL, NULL), H1_MORE);
    CHECK_INT_EQ(h1_feed(&p, "abc", 3, &used, NULL, NULL), H1_MORE);
    CHECK_INT_EQ(used, 3);
    h1_free(&p);
    h1_init(&p, 0);
    CHECK_INT_EQ(h1_feed(&p, chunk, strlen(chunk), &used, NULL, NULL), H1_MORE);
    CHECK_INT_EQ(used, strlen(chunk));
    h1_free(&p);
    h1_check_error("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n",
                   0, "Invalid Content-Length value");
    h1_check_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "fffffffffffffffffffff\r\n",
                   0, "Illegal or missing hexadecimal sequence in chunked-encoding");
}

UNIT_TEST(h1_after_end)
{
    struct h1_parser p;
    size_t used = 99;
    static const char s[] = "HTTP/1.1 204 No Content\r\n\r\n";

    /* A finished parse stays finished and consumes nothing more. */
    h1_init(&p, 0);
    CHECK_INT_EQ(h1_feed(&p, s, strlen(s), &used, NULL, NULL), H1_DONE);
    CHECK_INT_EQ(h1_feed(&p, s, strlen(s), &used, NULL, NULL), H1_DONE);
    CHECK_INT_EQ(used, 0);
    CHECK_INT_EQ(h1_eof(&p, NULL, NULL), H1_DONE);
    h1_free(&p);
    h1_init(&p, 0);
    CHECK_INT_EQ(h1_feed(&p, "x", 1, &used, NULL, NULL), H1_ERROR);
    CHECK_INT_EQ(h1_feed(&p, s, strlen(s), &used, NULL, NULL), H1_ERROR);
    CHECK_INT_EQ(used, 0);
    CHECK_INT_EQ(h1_eof(&p, NULL, NULL), H1_ERROR);
    h1_free(&p);
}
