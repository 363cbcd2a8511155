#!/usr/bin/env bash
# Bad usage or setup: exit 2, one line on stderr ("loads-runner: ..."),
# nothing on stdout, no crash.
source "$(dirname "$0")/../lib.sh"

use_module example.c
test=example.TestWebSite.test_something

step "unknown option"
run_loads "$test" --bogus
expect_usage_error

step "no TEST argument"
run_loads
expect_usage_error

step "missing module"
run_loads nosuch.TestX.test_y
expect_usage_error

step "module without that suite"
run_loads example.TestNoSuch.test_something
expect_usage_error

step "suite without that test"
run_loads example.TestWebSite.test_nosuch
expect_usage_error

step "invalid --server-url: not a URL"
run_loads "$test" --server-url "not a url"
expect_usage_error

step "invalid --server-url: not http"
run_loads "$test" --server-url "ftp://x"
expect_usage_error

step "a module that does not compile: the compiler's first error"
cat >broken.c <<'C'
#include <loads.h>

LOADS_TEST(TestBroken, test_broken)
{
    loads_get(t, "/")   /* missing ; */
}
C
run_loads broken.TestBroken.test_broken
expect_usage_error
expect_err_contains "error"
expect_err_contains "broken.c"

step "a value with a newline in it: still one line on stderr"
run_loads examples.TestExample.test_x -u $'10\nx'
expect_usage_error
expect_err_contains "invalid --users '10?x'"
