/*
 * CSV (see csv.h): one pass over the bytes, fields copied unquoted into
 * one buffer and their offsets into another (both struct buf), turned into
 * pointers at the end, when the buffers no longer move.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/csv.h"

/* Where the parser is: its position, and the line and column there. */
struct csv_pos {
    const char *p, *end;
    uint64_t line;             /* from 1 */
    const char *line_start;    /* for the column */
};

static unsigned long long csv_col(const struct csv_pos *s, const char *at)
{
    return (unsigned long long)(at - s->line_start) + 1;
}

__attribute__((format(printf, 5, 6))) static int csv_bad(char *err, size_t errlen,
                                                         uint64_t line,
                                                         unsigned long long col,
                                                         const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(err, errlen, "%llu:%llu: ", (unsigned long long)line, col);

    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < errlen)
        vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

/* A line end at p: its length (1 for LF, 2 for CRLF), or 0. */
static int csv_eol(const struct csv_pos *s, const char *p)
{
    if (p < s->end && *p == '\n')
        return 1;
    return p + 1 < s->end && p[0] == '\r' && p[1] == '\n' ? 2 : 0;
}

/*
 * One field at s->p into text (NUL-terminated), its offset into offs.
 * Leaves s->p on the separator, the line end or the end.
 */
static int csv_field(struct csv_pos *s, struct buf *text, struct buf *offs, char *err,
                     size_t errlen)
{
    size_t off = text->len;
    const char *start = s->p;

    if (buf_append(offs, &off, sizeof(off)) < 0)
        return -ENOMEM;
    if (s->p < s->end && *s->p == '"') {
        uint64_t line = s->line;
        unsigned long long col = csv_col(s, s->p);

        for (s->p++;; s->p++) {
            if (s->p >= s->end)
                return csv_bad(err, errlen, line, col, "a quoted field never ends (no "
                               "closing '\"')");
            if (*s->p == '"') {
                if (s->p + 1 < s->end && s->p[1] == '"') {
                    s->p++;
                } else {
                    s->p++;
                    break;
                }
            } else if (*s->p == '\n') {
                s->line++;
                s->line_start = s->p + 1;
            } else if (*s->p == '\0') {
                return csv_bad(err, errlen, s->line, csv_col(s, s->p), "a NUL byte (not "
                               "a text file?)");
            }
            if (buf_append(text, s->p, 1) < 0)
                return -ENOMEM;
        }
        if (s->p < s->end && *s->p != ',' && !csv_eol(s, s->p))
            return csv_bad(err, errlen, s->line, csv_col(s, s->p), "'%c' after a closing "
                           "quote: expected ',' or the line's end", *s->p);
    } else {
        while (s->p < s->end && *s->p != ',' && !csv_eol(s, s->p)) {
            if (*s->p == '"')
                return csv_bad(err, errlen, s->line, csv_col(s, s->p), "a quote inside "
                               "an unquoted field (quote the whole field, doubling the "
                               "quotes in it)");
            if (*s->p == '\0')
                return csv_bad(err, errlen, s->line, csv_col(s, s->p), "a NUL byte (not "
                               "a text file?)");
            if (*s->p == '\r')
                return csv_bad(err, errlen, s->line, csv_col(s, s->p), "a carriage "
                               "return without a line feed");
            s->p++;
        }
        if (buf_append(text, start, (size_t)(s->p - start)) < 0)
            return -ENOMEM;
    }
    /* buf keeps a NUL after its bytes: make it part of the text. */
    return buf_append(text, "", 1) < 0 ? -ENOMEM : 0;
}

/*
 * Checks the header's field just parsed (the last offset of offs, started
 * at col): a name, not one of those before it.
 */
static int csv_check_name(const struct buf *text, const struct buf *offs, uint64_t line,
                          unsigned long long col, char *err, size_t errlen)
{
    const size_t *o = (const size_t *)(void *)offs->data;
    size_t n = offs->len / sizeof(size_t) - 1;
    const char *name = text->data + o[n];

    if (!*name)
        return csv_bad(err, errlen, line, col, "column %zu of the header has no name", n + 1);
    for (size_t k = 0; k < n; k++)
        if (strcmp(name, text->data + o[k]) == 0)
            return csv_bad(err, errlen, line, col, "column '%.64s' twice in the header",
                           name);
    return 0;
}

int csv_parse(const char *data, size_t len, struct csv *c, char *err, size_t errlen)
{
    struct buf text = BUF_INIT(0), offs = BUF_INIT(0);
    struct csv_pos s = {data, data + len, 1, data};
    uint64_t records = 0;
    uint32_t ncols = 0;
    int rc = 0;

    memset(c, 0, sizeof(*c));
    if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
        s.p = s.line_start = data + 3;
    while (s.p < s.end && rc == 0) {
        uint32_t fields = 0;
        int eol;

        if ((eol = csv_eol(&s, s.p))) { /* an empty line */
            s.p += eol;
            s.line++;
            s.line_start = s.p;
            continue;
        }
        for (;;) {
            uint64_t line = s.line;
            unsigned long long col = csv_col(&s, s.p);

            if ((rc = csv_field(&s, &text, &offs, err, errlen)) < 0 ||
                (!records && (rc = csv_check_name(&text, &offs, line, col, err, errlen)) < 0))
                break;
            fields++;
            if (records && fields > ncols) {
                rc = csv_bad(err, errlen, line, col, "more fields than the header's %u "
                             "columns", ncols);
                break;
            }
            if (!records && fields > CSV_MAX_COLUMNS) {
                rc = csv_bad(err, errlen, s.line, csv_col(&s, s.p), "more than %d columns",
                             CSV_MAX_COLUMNS);
                break;
            }
            if (s.p < s.end && *s.p == ',') {
                s.p++;
                continue;
            }
            break;
        }
        if (rc < 0)
            break;
        if (!records) {
            ncols = fields;
        } else if (fields < ncols) {
            rc = csv_bad(err, errlen, s.line, csv_col(&s, s.p), "%u field%s, the header "
                         "has %u columns", fields, fields == 1 ? "" : "s", ncols);
        }
        records++;
        if ((eol = csv_eol(&s, s.p))) {
            s.p += eol;
            s.line++;
            s.line_start = s.p;
        }
    }
    if (rc == 0 && records == 0)
        rc = csv_bad(err, errlen, 1, 1, "no header (an empty file)");
    else if (rc == 0 && records == 1)
        rc = csv_bad(err, errlen, s.line, 1, "no rows after the header");
    if (rc == 0) {
        size_t n = offs.len / sizeof(size_t);
        const size_t *o = (const size_t *)(void *)offs.data;

        c->cells = malloc((n ? n : 1) * sizeof(*c->cells));
        if (!c->cells) {
            rc = -ENOMEM;
        } else {
            for (size_t i = 0; i < n; i++)
                c->cells[i] = text.data + o[i];
            c->text = text.data;
            c->ncols = ncols;
            c->nrows = records - 1;
            text.data = NULL;
        }
    }
    if (rc == -ENOMEM)
        snprintf(err, errlen, "out of memory");
    buf_free(&text);
    buf_free(&offs);
    return rc;
}

void csv_free(struct csv *c)
{
    free(c->text);
    free(c->cells);
    memset(c, 0, sizeof(*c));
}

int csv_column(const struct csv *c, const char *name)
{
    for (uint32_t i = 0; i < c->ncols; i++)
        if (strcmp(c->cells[i], name) == 0)
            return (int)i;
    return -1;
}

const char *csv_name(const struct csv *c, uint32_t col)
{
    return c->cells[col];
}

const char *csv_cell(const struct csv *c, uint64_t row, uint32_t col)
{
    return c->cells[(row + 1) * c->ncols + col];
}
