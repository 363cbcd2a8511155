/*
 * A small unit-test harness.  Each file under tests/unit/ defines cases with
 * UNIT_TEST(name) { ... } and checks values with the CHECK* macros; main.c
 * runs every case (or those whose name contains argv[1]) in a child process
 * with a time limit, so a crash fails one case and not the suite.
 */
#ifndef LOADS_TESTS_UNIT_H
#define LOADS_TESTS_UNIT_H

#include <stdio.h>
#include <string.h>
#include <stdint.h>

struct unit_case {
    const char *name;          /* file:function, shown in the report */
    void (*fn)(void);          /* the case itself */
    struct unit_case *next;    /* registration list */
};

void unit_register(struct unit_case *c);
void unit_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define UNIT_TEST(name)                                                            \
    static void unit_fn_##name(void);                                              \
    __attribute__((constructor)) static void unit_reg_##name(void)                 \
    {                                                                              \
        static struct unit_case c = {#name, unit_fn_##name, NULL};                 \
        unit_register(&c);                                                         \
    }                                                                              \
    static void unit_fn_##name(void)

#define CHECK(cond)                                                                \
    do {                                                                           \
        if (!(cond))                                                               \
            unit_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);                     \
    } while (0)

#define CHECK_INT_EQ(a, b)                                                         \
    do {                                                                           \
        long long unit_a_ = (long long)(a), unit_b_ = (long long)(b);              \
        if (unit_a_ != unit_b_)                                                    \
            unit_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b,        \
                      unit_a_, unit_b_);                                           \
    } while (0)

#define CHECK_STR_EQ(a, b)                                                         \
    do {                                                                           \
        const char *unit_a_ = (a), *unit_b_ = (b);                                 \
        if (!unit_a_ || !unit_b_ || strcmp(unit_a_, unit_b_) != 0)                 \
            unit_fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", #a, #b,    \
                      unit_a_ ? unit_a_ : "(null)", unit_b_ ? unit_b_ : "(null)"); \
    } while (0)

#endif
