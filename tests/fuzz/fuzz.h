/*
 * Shared helpers of the libFuzzer targets (tests/fuzz/fuzz_*.c): a
 * NUL-terminated copy of the input, and the checks every parser's error
 * line must pass.  A broken invariant aborts, which libFuzzer reports as a
 * crash with the input that caused it.
 */
#ifndef LOADS_TESTS_FUZZ_FUZZ_H
#define LOADS_TESTS_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Like assert(), but never compiled out, and says which invariant broke. */
#define FUZZ_CHECK(cond)                                                           \
    do {                                                                           \
        if (!(cond)) {                                                             \
            fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__,   \
                    #cond);                                                        \
            abort();                                                               \
        }                                                                          \
    } while (0)

/*
 * The input as a C string, in a buffer of exactly size + 1 bytes so that
 * ASan catches a read past its end.  The caller frees it.  An embedded NUL
 * ends the string early, as it would on a command line.
 */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);

    if (!s)
        abort();
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/*
 * An error line: non-empty, NUL-terminated inside the buffer, and one line.
 * Messages quote what they refuse, so a newline in the input (input_nl) may
 * be echoed; a newline that does not come from the input never may.
 */
static inline void fuzz_check_err(const char *err, size_t errlen, int input_nl)
{
    FUZZ_CHECK(memchr(err, '\0', errlen) != NULL);
    FUZZ_CHECK(err[0] != '\0');
    if (!input_nl)
        FUZZ_CHECK(strchr(err, '\n') == NULL);
}

#endif
