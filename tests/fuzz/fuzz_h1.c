/*
 * h1_feed and h1_eof: one HTTP/1.x response.  The input's first byte
 * steers the run (bit 0: the request was HEAD; bit 1: the connection
 * closes after the last byte; the other bits: where the two-piece parse
 * cuts); the rest is the response.  It is parsed in one feed, in two, one
 * byte at a time, and in pieces of pseudo-random sizes, each piece in its
 * own heap copy so that ASan catches a read past it; all four parses must
 * agree on the result and on the bytes handed to the callbacks.  A header
 * line beginning "X-Fail" makes the header callback fail.
 */
#include "tests/fuzz/fuzz.h"
#include "http/h1.h"

/* What one parse produced. */
struct parse {
    int rc, status, keep_alive;
    const char *error;
    size_t used;       /* bytes consumed over all feeds */
    char *hdr, *body;  /* the callbacks' bytes, each header line then '\n' */
    size_t hlen, blen; /* bytes in them */
    size_t cap;        /* the size of each of hdr and body */
};

static int on_header(void *ud, const char *line, size_t len)
{
    struct parse *r = ud;

    FUZZ_CHECK(len + 1 <= r->cap - r->hlen);
    FUZZ_CHECK(memchr(line, '\n', len) == NULL);
    if (len >= 6 && memcmp(line, "X-Fail", 6) == 0)
        return -1;
    memcpy(r->hdr + r->hlen, line, len);
    r->hlen += len;
    r->hdr[r->hlen++] = '\n';
    return 0;
}

static int on_body(void *ud, const char *data, size_t len)
{
    struct parse *r = ud;

    FUZZ_CHECK(len > 0);
    FUZZ_CHECK(len <= r->cap - r->blen);
    memcpy(r->body + r->blen, data, len);
    r->blen += len;
    return 0;
}

static const struct h1_callbacks cbs = {on_header, on_body};

/* Returns the next number of a xorshift sequence, for piece sizes. */
static uint32_t next_rand(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/*
 * The size of the next piece: mode 0 all of it, 1 up to cut then the
 * rest, 2 one byte, 3 between 1 and 16 bytes.
 */
static size_t piece_len(int mode, size_t pos, size_t len, size_t cut, uint32_t *seed)
{
    size_t n = len - pos;

    if (mode == 1 && pos < cut)
        n = cut - pos;
    else if (mode == 2)
        n = 1;
    else if (mode == 3)
        n = 1 + next_rand(seed) % 16;
    return n < len - pos ? n : len - pos;
}

/* Parses s[0, len) in the pieces of mode into r, r's buffers allocated. */
static void parse(const char *s, size_t len, int head, int eof, int mode, size_t cut,
                  uint32_t seed, struct parse *r)
{
    struct h1_parser p;
    size_t pos = 0;

    r->rc = H1_MORE;
    r->used = r->hlen = r->blen = 0;
    h1_init(&p, head);
    do {
        size_t n = piece_len(mode, pos, len, cut, &seed), used = 0;
        char *piece = malloc(n ? n : 1);

        FUZZ_CHECK(piece != NULL);
        if (n)
            memcpy(piece, s + pos, n);
        r->rc = h1_feed(&p, piece, n, &used, &cbs, r);
        free(piece);
        FUZZ_CHECK(used <= n);
        FUZZ_CHECK(r->rc == H1_DONE || r->rc == H1_MORE || r->rc == H1_ERROR);
        FUZZ_CHECK(r->rc != H1_MORE || used == n);
        r->used += used;
        pos += n;
    } while (r->rc == H1_MORE && pos < len);
    if (eof && r->rc == H1_MORE) {
        r->rc = h1_eof(&p, &cbs, r);
        FUZZ_CHECK(r->rc != H1_MORE);
        FUZZ_CHECK(r->rc == H1_ERROR || p.keep_alive == 0);
    }
    r->status = p.status;
    r->keep_alive = r->rc == H1_DONE ? p.keep_alive : -1;
    r->error = r->rc == H1_ERROR ? p.error : NULL;
    h1_free(&p);
}

/* The invariants of one parse of len bytes. */
static void check_one(const struct parse *r, size_t len, int head)
{
    FUZZ_CHECK(r->used <= len);
    FUZZ_CHECK(r->blen <= len);
    if (r->rc == H1_ERROR) {
        FUZZ_CHECK(r->error != NULL);
        fuzz_check_err(r->error, strlen(r->error) + 1, 0);
    }
    if (r->rc == H1_DONE) {
        FUZZ_CHECK(r->status >= 200 && r->status <= 999);
        FUZZ_CHECK(r->keep_alive == 0 || r->keep_alive == 1);
        FUZZ_CHECK(r->hlen > 0);
    }
    if (r->rc == H1_DONE && (head || r->status == 204 || r->status == 304))
        FUZZ_CHECK(r->blen == 0);
    if (r->rc == H1_MORE)
        FUZZ_CHECK(r->used == len);
}

/* Two parses of the same bytes must agree. */
static void check_same(const struct parse *a, const struct parse *b)
{
    FUZZ_CHECK(a->rc == b->rc);
    FUZZ_CHECK(a->status == b->status);
    FUZZ_CHECK(a->keep_alive == b->keep_alive);
    FUZZ_CHECK(a->error == b->error);
    FUZZ_CHECK(a->rc == H1_ERROR || a->used == b->used);
    FUZZ_CHECK(a->hlen == b->hlen && memcmp(a->hdr, b->hdr, a->hlen) == 0);
    FUZZ_CHECK(a->blen == b->blen && memcmp(a->body, b->body, a->blen) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct parse r[4];
    const char *s = (const char *)data + 1;
    size_t len, cut;
    int head, eof;

    if (size == 0)
        return 0;
    len = size - 1;
    head = data[0] & 1;
    eof = (data[0] >> 1) & 1;
    cut = len * (size_t)(data[0] >> 2) / 63;
    for (int mode = 0; mode < 4; mode++) {
        r[mode].cap = 2 * len + 1; /* each line adds at most one '\n' */
        r[mode].hdr = malloc(r[mode].cap);
        r[mode].body = malloc(r[mode].cap);
        FUZZ_CHECK(r[mode].hdr && r[mode].body);
        parse(s, len, head, eof, mode, cut, (uint32_t)len * 2654435761u + 1, &r[mode]);
        check_one(&r[mode], len, head);
        if (mode)
            check_same(&r[0], &r[mode]);
    }
    for (int mode = 0; mode < 4; mode++) {
        free(r[mode].hdr);
        free(r[mode].body);
    }
    return 0;
}
