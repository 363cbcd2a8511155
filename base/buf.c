/*
 * The growable buffer (see buf.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"

#define BUF_FIRST 256 /* the first allocation */

int buf_grow(struct buf *b, size_t more)
{
    size_t need, cap;
    char *p;

    if (b->max && (more > b->max || b->len > b->max - more))
        return -E2BIG;
    if (more > (size_t)-1 - b->len - 1)
        return -ENOMEM;
    need = b->len + more + 1;
    if (need <= b->cap)
        return 0;
    cap = b->cap ? b->cap : BUF_FIRST;
    while (cap < need)
        cap = cap > (size_t)-1 / 2 ? need : cap * 2;
    if (b->max && cap > b->max + 1)
        cap = b->max + 1 > need ? b->max + 1 : need;
    p = realloc(b->data, cap);
    if (!p)
        return -ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

int buf_append(struct buf *b, const void *p, size_t n)
{
    int rc = buf_reserve(b, n);

    if (rc < 0)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

void buf_clear(struct buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void buf_free(struct buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
