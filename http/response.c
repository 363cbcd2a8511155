/*
 * Responses: what the transports receive, kept for the test (see
 * http.h), and the public calls that read them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "http/http.h"
#include "loads.h"

#define HEADERS_MAX  (256 * 1024) /* header bytes kept per response */
#define RESPONSE_OWN 2            /* pointers owned without an allocation: the
                                     URL, and a redirect's */

struct loads_response {
    struct loads_response *next; /* the run's list, freed together */
    int status;                  /* HTTP status of the last hop */
    double elapsed;              /* seconds, request to last byte */
    int set_cookie;              /* the hop's response sets cookies */
    size_t max_body;             /* body bytes kept at most */
    uint64_t bytes;              /* body bytes received, not yet taken */
    struct buf body;             /* the last hop's body, up to max_body */
    struct buf headers;          /* its header lines (see response_headers) */
    void *own[RESPONSE_OWN];     /* pointers freed with the response... */
    unsigned nown;
    struct buf owned;            /* ...and those past RESPONSE_OWN */
};

struct loads_response *response_create(size_t max_body)
{
    struct loads_response *r = calloc(1, sizeof(*r));

    if (!r)
        return NULL;
    r->max_body = max_body;
    r->headers.max = HEADERS_MAX;
    return r;
}

void response_free_list(struct loads_response *r)
{
    while (r) {
        struct loads_response *next = r->next;
        void **p = (void **)(void *)r->owned.data;

        for (size_t i = 0; i < r->owned.len / sizeof(void *); i++)
            free(p[i]);
        for (unsigned i = 0; i < r->nown; i++)
            free(r->own[i]);
        buf_free(&r->owned);
        buf_free(&r->body);
        buf_free(&r->headers);
        free(r);
        r = next;
    }
}

void response_link(struct loads_response *r, struct loads_response **list)
{
    r->next = *list;
    *list = r;
}

int response_own(struct loads_response *r, void *p)
{
    if (r->nown < RESPONSE_OWN) {
        r->own[r->nown++] = p;
        return 0;
    }
    if (buf_append(&r->owned, &p, sizeof(p)) < 0) {
        free(p);
        return -ENOMEM;
    }
    return 0;
}

void response_begin_hop(struct loads_response *r)
{
    buf_clear(&r->headers);
    buf_clear(&r->body);
    r->set_cookie = 0;
}

int response_keep_header(struct loads_response *r, const char *line, size_t len)
{
    int rc;

    if (len >= 5 && memcmp(line, "HTTP/", 5) == 0) {
        buf_clear(&r->headers);
        r->set_cookie = 0;
    }
    if (len > 11 && (line[0] | 0x20) == 's' && strncasecmp(line, "Set-Cookie:", 11) == 0)
        r->set_cookie = 1; /* saves a scan of every response for cookies */
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    if (!len)
        return 0;
    /* Each line and its NUL; the block's final NUL is the buffer's own. */
    rc = buf_reserve(&r->headers, len + 1);
    if (rc == -E2BIG)
        return 0;
    if (rc < 0)
        return rc;
    memcpy(r->headers.data + r->headers.len, line, len);
    r->headers.len += len;
    r->headers.data[r->headers.len++] = '\0';
    r->headers.data[r->headers.len] = '\0';
    return 0;
}

int response_keep_body(struct loads_response *r, const char *data, size_t len)
{
    size_t keep = len;

    r->bytes += len;
    if (r->body.len + keep > r->max_body)
        keep = r->max_body > r->body.len ? r->max_body - r->body.len : 0;
    return keep ? buf_append(&r->body, data, keep) : 0;
}

const char *response_headers(const struct loads_response *r)
{
    return r->headers.len ? r->headers.data : NULL;
}

int response_sets_cookies(const struct loads_response *r)
{
    return r->set_cookie;
}

uint64_t response_take_bytes(struct loads_response *r)
{
    uint64_t n = r->bytes;

    r->bytes = 0;
    return n;
}

void response_finish(struct loads_response *r, int status, double elapsed)
{
    r->status = status;
    r->elapsed = elapsed;
}

/* ------------------------------------------------------------ public API */

int loads_status(const loads_response *r)
{
    return r->status;
}

const char *loads_body(const loads_response *r)
{
    return r->body.data ? r->body.data : "";
}

size_t loads_body_len(const loads_response *r)
{
    return r->body.len;
}

double loads_elapsed(const loads_response *r)
{
    return r->elapsed;
}

int loads_contains(const loads_response *r, const char *needle)
{
    return memmem(loads_body(r), r->body.len, needle, strlen(needle)) != NULL;
}

/* Finds a header of the last response; the value points into its block. */
const char *loads_header(const loads_response *r, const char *name)
{
    size_t nlen = strlen(name);

    if (!r->headers.len)
        return NULL;
    for (const char *p = r->headers.data; *p; p += strlen(p) + 1) {
        if (strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
            const char *v = p + nlen + 1;

            while (*v == ' ' || *v == '\t')
                v++;
            return v;
        }
    }
    return NULL;
}
