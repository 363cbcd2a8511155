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

step "--config: a file without a [loads] section"
printf '[other]\nusers = 5\n' >other.ini
run_loads "$test" --config other.ini
expect_usage_error
expect_err_contains "other.ini: no [loads] section"

step "--config: random bytes"
head -c 4096 /dev/urandom >random.ini
run_loads "$test" --config random.ini
expect_usage_error
expect_err_contains "random.ini:"

step "--config: a binary (loads-runner itself): its first line"
run_loads "$test" --config "$BUILD/loads-runner"
expect_usage_error
expect_err_contains "loads-runner:1: not a text line"

step "--config: a directory"
run_loads "$test" --config .
expect_usage_error
expect_err_contains "cannot read --config .: Is a directory"

step "--config: a bad value names its file and line"
printf '[loads]\n; ten users\nusers = 10\nworkers = many ; as many as can be\n' >bad.ini
run_loads "$test" --config bad.ini
expect_usage_error
expect_err_contains "bad.ini:4: invalid --workers 'many'"

step "--hits and --duration both on the command line"
run_loads "$test" -c 3 -d 2s
expect_usage_error
expect_err_contains "exclude each other"

step "--ramp-up longer than --duration"
run_loads "$test" -d 2s --ramp-up 5
expect_usage_error
expect_err_contains "--ramp-up 5 s is longer than --duration (2 s)"

step "--json in a directory that does not exist"
run_loads "$test" --json no/such/dir/summary.json
expect_usage_error
expect_err_contains "cannot write --json no/such/dir/summary.json: no directory no/such/dir"
