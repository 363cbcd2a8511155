/*
 * CSV files for --data (RFC 4180, as spreadsheets write it): fields
 * separated by commas, records by LF or CRLF, a field in double quotes may
 * hold commas, line ends and "" for a quote.  The first record is the
 * header: the columns' names, non-empty and distinct.  Every record after
 * it has as many fields.  Empty lines are skipped; a UTF-8 byte order mark
 * at the start is too.  A pure parser of a whole buffer: no I/O, so it
 * can be unit-tested and fuzzed.
 *
 *     struct csv c;
 *     if (csv_parse(text, len, &c, err, sizeof(err)) < 0) ...   "3:7: ..."
 *     col = csv_column(&c, "email");
 *     csv_cell(&c, row, col) ...                                 row 0: the first data row
 *     csv_free(&c);
 */
#ifndef LOADS_BASE_CSV_H
#define LOADS_BASE_CSV_H

#include <stddef.h>
#include <stdint.h>

#define CSV_MAX_COLUMNS 1024

struct csv {
    char *text;                /* every field, NUL-terminated, header first */
    const char **cells;        /* (nrows + 1) * ncols pointers into text */
    uint32_t ncols;            /* columns, from the header */
    uint64_t nrows;            /* data rows, the header not counted */
};

/*
 * Parses len bytes of data into c.  Returns 0, or -EINVAL with the
 * mistake in err as "LINE:COLUMN: what" (both from 1, the column in
 * bytes), or -ENOMEM.  c holds nothing on failure.
 */
int csv_parse(const char *data, size_t len, struct csv *c, char *err, size_t errlen);

/* Frees what c holds.  Safe on a zeroed or freed csv. */
void csv_free(struct csv *c);

/* The index of the column called name, or -1. */
int csv_column(const struct csv *c, const char *name);

/* The header's name of column col. */
const char *csv_name(const struct csv *c, uint32_t col);

/* The field of data row row (0-based, < nrows) in column col (< ncols). */
const char *csv_cell(const struct csv *c, uint64_t row, uint32_t col);

#endif
