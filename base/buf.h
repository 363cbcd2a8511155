/*
 * The one growable byte buffer, with a hard cap (curl's dynbuf idea).
 * Whatever grows in Loads grows here: response bodies and headers, request
 * heads, a parser's split line, websocket messages, small tables.  The
 * contents are kept NUL-terminated, so text can be used as a string.
 *
 *     struct buf b = BUF_INIT(1 << 20);
 *     if (buf_append(&b, data, len) < 0) ...   -ENOMEM or -E2BIG past the cap
 *     use b.data, b.len;
 *     buf_free(&b);
 *
 * A zeroed struct is an empty buffer with no cap.
 */
#ifndef LOADS_BASE_BUF_H
#define LOADS_BASE_BUF_H

#include <stddef.h>

struct buf {
    char *data;   /* NULL until the first byte; then len bytes and a NUL */
    size_t len;   /* bytes in use */
    size_t cap;   /* bytes allocated, the NUL's included */
    size_t max;   /* len never exceeds this; 0: no cap */
};

#define BUF_INIT(max) {NULL, 0, 0, (max)}

/* The slow half of buf_reserve: allocates.  Call buf_reserve instead. */
int buf_grow(struct buf *b, size_t more);

/*
 * Makes room for more bytes after len (and the NUL).  Returns 0, -E2BIG
 * when len + more would pass the cap, or -ENOMEM.  Nothing changes on
 * failure.  Inline: the common case, room enough, is a comparison.
 */
static inline int buf_reserve(struct buf *b, size_t more)
{
    if (more < b->cap && b->len < b->cap - more && (!b->max || b->len + more <= b->max))
        return 0;
    return buf_grow(b, more);
}

/* Appends n bytes.  Returns 0, -E2BIG or -ENOMEM (then nothing is appended). */
int buf_append(struct buf *b, const void *p, size_t n);

/* Empties the buffer, keeping its memory. */
void buf_clear(struct buf *b);

/* Frees the memory; the buffer is empty and keeps its cap.  Safe on NULL data. */
void buf_free(struct buf *b);

#endif
