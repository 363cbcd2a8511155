/*
 * base/csv.c: fields, quotes and line ends as RFC 4180 has them; every
 * mistake refused with its line and column; and a random table written
 * out with quoting comes back cell for cell.
 */
#include <errno.h>
#include <stdlib.h>

#include "base/csv.h"
#include "tests/unit/unit.h"

static int parse(const char *text, struct csv *c, char *err, size_t errlen)
{
    return csv_parse(text, strlen(text), c, err, errlen);
}

UNIT_TEST(csv_fields_and_quotes)
{
    struct csv c;
    char err[256] = "";
    const char *text = "\xef\xbb\xbfid,name,note\r\n"
                       "1,Ann,plain\r\n"
                       "\n"
                       "2,\"Smith, Bob\",\"say \"\"hi\"\"\"\n"
                       "3,,\"two\nlines\"\n"
                       "4,\"\",\n";

    if (parse(text, &c, err, sizeof(err)) != 0)
        unit_fail(__FILE__, __LINE__, "parse: %s", err);
    CHECK_INT_EQ(c.ncols, 3);
    CHECK_INT_EQ(c.nrows, 4);
    CHECK_STR_EQ(csv_name(&c, 0), "id");
    CHECK_STR_EQ(csv_name(&c, 2), "note");
    CHECK_INT_EQ(csv_column(&c, "name"), 1);
    CHECK_INT_EQ(csv_column(&c, "nothing"), -1);
    CHECK_STR_EQ(csv_cell(&c, 0, 2), "plain");
    CHECK_STR_EQ(csv_cell(&c, 1, 1), "Smith, Bob");
    CHECK_STR_EQ(csv_cell(&c, 1, 2), "say \"hi\"");
    CHECK_STR_EQ(csv_cell(&c, 2, 1), "");
    CHECK_STR_EQ(csv_cell(&c, 2, 2), "two\nlines");
    CHECK_STR_EQ(csv_cell(&c, 3, 0), "4");
    CHECK_STR_EQ(csv_cell(&c, 3, 1), "");
    CHECK_STR_EQ(csv_cell(&c, 3, 2), "");
    csv_free(&c);
    csv_free(&c);
    /* No final line end; one column. */
    CHECK_INT_EQ(parse("email\na@x\nb@x", &c, err, sizeof(err)), 0);
    CHECK_INT_EQ(c.nrows, 2);
    CHECK_STR_EQ(csv_cell(&c, 1, 0), "b@x");
    csv_free(&c);
}

UNIT_TEST(csv_mistakes_with_line_and_column)
{
    static const struct {
        const char *text, *err;
    } bad[] = {
        {"", "1:1: no header (an empty file)"},
        {"\n\n", "1:1: no header (an empty file)"},
        {"a,b\n", "2:1: no rows after the header"},
        {"a,b\n1,2,3\n", "2:5: more fields than the header's 2 columns"},
        {"a,b,c\n1,2\n", "2:4: 2 fields, the header has 3 columns"},
        {"a,b\n1,\"2\nx,y\n", "2:3: a quoted field never ends (no closing '\"')"},
        {"a,b\n1,\"2\"x\n", "2:6: 'x' after a closing quote: expected ',' or the line's end"},
        {"a,b\n1,2\"3\n", "2:4: a quote inside an unquoted field (quote the whole field, "
                          "doubling the quotes in it)"},
        {"a,b\n1,2\r3\n", "2:4: a carriage return without a line feed"},
        {"a,,c\n1,2,3\n", "1:3: column 2 of the header has no name"},
        {"id,name,id\n1,2,3\n", "1:9: column 'id' twice in the header"},
        {"a,b\n\"x\ny\",2\n3,\"4\"\"\n", "4:3: a quoted field never ends (no closing '\"')"},
    };
    char err[256];
    struct csv c;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        if (parse(bad[i].text, &c, err, sizeof(err)) != -EINVAL || strcmp(err, bad[i].err))
            unit_fail(__FILE__, __LINE__, "case %zu: expected '%s', got '%s'", i,
                      bad[i].err, err);
        CHECK(c.cells == NULL && c.text == NULL);
    }
    /* A NUL byte, which strlen would hide. */
    CHECK_INT_EQ(csv_parse("a\nx\0y\n", 6, &c, err, sizeof(err)), -EINVAL);
    CHECK_STR_EQ(err, "2:2: a NUL byte (not a text file?)");
}

static uint64_t rng(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Random tables, written with quotes where needed, parse back to themselves. */
UNIT_TEST(csv_random_tables_round_trip)
{
    static const char alphabet[] = "ab ,\"\n\r\t;xyz\xc3\xa9";
    uint64_t seed = 3;

    for (int round = 0; round < 200; round++) {
        uint32_t cols = 1 + (uint32_t)(rng(&seed) % 5), rows = 1 + (uint32_t)(rng(&seed) % 20);
        char **cell = calloc((size_t)(rows + 1) * cols, sizeof(*cell));
        size_t cap = 1 << 16, len = 0;
        char *out, err[256];
        struct csv c;

        CHECK(cell != NULL);
        for (uint32_t r = 0; r <= rows; r++)
            for (uint32_t k = 0; k < cols; k++) {
                size_t n = 1 + rng(&seed) % 8;
                char *v = calloc(n + 8, 1);

                for (size_t i = 0; i < n; i++)
                    v[i] = alphabet[rng(&seed) % (sizeof(alphabet) - 1)];
                if (r == 0) /* header names: distinct */
                    snprintf(v, n + 8, "c%u%.*s", k, (int)n, "name");
                cell[r * cols + k] = v;
            }
        /* Written out with line ends between records (CRLF or LF). */
        out = malloc(cap);
        CHECK(out != NULL);
        for (uint32_t r = 0; r <= rows; r++) {
            for (uint32_t k = 0; k < cols; k++) {
                const char *v = cell[r * cols + k];
                int quote = strpbrk(v, ",\"\n\r") != NULL;

                if (k)
                    out[len++] = ',';
                if (quote)
                    out[len++] = '"';
                for (const char *p = v; *p; p++) {
                    if (*p == '"')
                        out[len++] = '"';
                    out[len++] = *p;
                }
                if (quote)
                    out[len++] = '"';
            }
            if (rng(&seed) % 2)
                out[len++] = '\r';
            out[len++] = '\n';
        }
        if (csv_parse(out, len, &c, err, sizeof(err)) != 0)
            unit_fail(__FILE__, __LINE__, "round %d: %s", round, err);
        CHECK_INT_EQ(c.ncols, cols);
        CHECK_INT_EQ(c.nrows, rows);
        for (uint32_t r = 0; r <= rows; r++)
            for (uint32_t k = 0; k < cols; k++)
                CHECK_STR_EQ(r ? csv_cell(&c, r - 1, k) : csv_name(&c, k), cell[r * cols + k]);
        csv_free(&c);
        for (uint32_t i = 0; i < (rows + 1) * cols; i++)
            free(cell[i]);
        free(cell);
        free(out);
    }
}
