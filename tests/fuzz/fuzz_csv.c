/*
 * base/csv.c: any bytes either parse or are refused with "LINE:COL: ..."
 * on one line.  What parses has a header of distinct, non-empty names and
 * at least one row; written back out with quotes, it parses again to the
 * same cells.
 */
#include <errno.h>

#include "base/csv.h"
#include "tests/fuzz/fuzz.h"

/* Writes c out as CSV, quoting every field, into a new buffer. */
static char *write_out(const struct csv *c, size_t *len)
{
    size_t cap = 16, n = 0;
    char *out = malloc(cap);

    FUZZ_CHECK(out != NULL);
    for (uint64_t r = 0; r <= c->nrows; r++) {
        for (uint32_t k = 0; k < c->ncols; k++) {
            const char *v = r ? csv_cell(c, r - 1, k) : csv_name(c, k);
            size_t need = 2 * strlen(v) + 4;

            if (n + need + 2 > cap) {
                cap = 2 * (n + need + 2);
                out = realloc(out, cap);
                FUZZ_CHECK(out != NULL);
            }
            if (k)
                out[n++] = ',';
            out[n++] = '"';
            for (; *v; v++) {
                if (*v == '"')
                    out[n++] = '"';
                out[n++] = *v;
            }
            out[n++] = '"';
        }
        out[n++] = '\n';
    }
    *len = n;
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct csv c, again;
    char err[256] = "", err2[256] = "";
    int rc = csv_parse((const char *)data, size, &c, err, sizeof(err));

    FUZZ_CHECK(rc == 0 || rc == -EINVAL);
    if (rc < 0) {
        unsigned long line, col;

        fuzz_check_err(err, sizeof(err), 1);
        FUZZ_CHECK(sscanf(err, "%lu:%lu: ", &line, &col) == 2 && line >= 1);
        FUZZ_CHECK(c.cells == NULL && c.text == NULL);
        return 0;
    }
    FUZZ_CHECK(c.ncols >= 1 && c.ncols <= CSV_MAX_COLUMNS && c.nrows >= 1);
    for (uint32_t k = 0; k < c.ncols; k++) {
        FUZZ_CHECK(csv_name(&c, k)[0] != '\0');
        FUZZ_CHECK(csv_column(&c, csv_name(&c, k)) == (int)k);
    }
    {
        size_t len;
        char *out = write_out(&c, &len);

        rc = csv_parse(out, len, &again, err2, sizeof(err2));
        /* A row of one empty field is an empty line, skipped: "" is not. */
        FUZZ_CHECK(rc == 0);
        FUZZ_CHECK(again.ncols == c.ncols && again.nrows == c.nrows);
        for (uint64_t r = 0; r < c.nrows; r++)
            for (uint32_t k = 0; k < c.ncols; k++)
                FUZZ_CHECK(strcmp(csv_cell(&c, r, k), csv_cell(&again, r, k)) == 0);
        csv_free(&again);
        free(out);
    }
    csv_free(&c);
    return 0;
}
