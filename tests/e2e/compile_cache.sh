#!/usr/bin/env bash
# example.c is compiled once into $XDG_CACHE_HOME/loads and the build is
# reused while the source is unchanged; an edited source is recompiled, and
# so is an edited header (every file cc read is checked), and a build with
# other LOADS_CFLAGS or LOADS_LDLIBS is another build.
source "$(dirname "$0")/../lib.sh"

CACHE=$XDG_CACHE_HOME/loads

# cache_state: every file of the cache with its size and mtime (ns).
cache_state() {
    [[ -d $CACHE ]] || return 0
    find "$CACHE" -type f -printf '%P %s %T@\n' | LC_ALL=C sort
}

use_module example.c
start_nginx

step "first run compiles into $CACHE"
run_loads example.TestWebSite.test_something --server-url "$NGINX_URL"
expect_status 0
first=$(cache_state)
[[ -n $first ]] || fail "nothing was cached under $CACHE"
echo "$first"

step "second run reuses the build"
run_loads example.TestWebSite.test_something --server-url "$NGINX_URL"
expect_status 0
expect_out_line "Success: 1"
expect_eq "$(cache_state)" "$first" "the cache (files, sizes, mtimes) after the second run"

step "an edited source is recompiled (at once: same second, other size)"
grep -q '"Search"' example.c || fail "example.c does not look for \"Search\""
sed -i 's/"Search"/"NotThere"/' example.c
run_loads example.TestWebSite.test_something --server-url "$NGINX_URL"
expect_status 1
expect_out_line "Failures: 1"
[[ $(cache_state) != "$first" ]] || fail "the cache did not change after the edit"

# The build is keyed on every file the compiler read (its -MD output), and
# on LOADS_CFLAGS and LOADS_LDLIBS (README, --help).
use_module cache_inc.c
use_module cache_inc.h
test=cache_inc.TestCache.test_get

step "a module with a header of its own: its .deps lists it, loads.h and the system's"
run_loads "$test" --server-url "$NGINX_URL" -q
expect_status 0
expect_out_line "Success: 1"
deps=$(find "$CACHE" -name 'cache_inc-*.deps')
[[ $(wc -l <<<"$deps") == 1 && -n $deps ]] ||
    fail "expected one cache_inc-*.deps, got '$deps'" "$(cache_state)"
for f in "$TEST_DIR/cache_inc.c" "$TEST_DIR/cache_inc.h" "$(cd "$REPO/include" && pwd -P)/loads.h" \
    /usr/include/stdc-predef.h; do
    grep -q " $(realpath "$f")\$" "$deps" || fail "$deps does not list $f" "$(cat "$deps")"
done
first=$(cache_state)

step "the same run again reuses the build"
run_loads "$test" --server-url "$NGINX_URL" -q
expect_status 0
expect_eq "$(cache_state)" "$first" "the cache after a run with nothing changed"

step "an edited header is recompiled (at once: same second)"
sed -i 's|"/"|"/missing"|' cache_inc.h
run_loads "$test" --server-url "$NGINX_URL" -q
expect_status 1
expect_out_contains "/missing: status 404, expected 200"

step "a header edited to the same size and an OLDER mtime is recompiled too"
# Only its mtime tells: different, not newer (a checkout, an archive).
sed -i 's|"/missing"|"/nothere"|' cache_inc.h
touch -d '2 days ago' cache_inc.h
run_loads "$test" --server-url "$NGINX_URL" -q
expect_status 1
expect_out_contains "/nothere: status 404, expected 200"

sed -i 's|"/nothere"|"/"|' cache_inc.h
run_loads "$test" --server-url "$NGINX_URL" -q
expect_status 0
expect_out_line "Success: 1"
second=$(cache_state)

step "LOADS_CFLAGS is part of the build and of its key"
LOADS_CFLAGS="-DCACHE_EXPECT=204 -O0" run_loads "$test" --server-url "$NGINX_URL" -q
expect_status 1
expect_out_contains "/: status 200, expected 204"
expect_eq "$(find "$CACHE" -name 'cache_inc-*.so' | wc -l)" 2 "builds of cache_inc (one per flags)"
step "without it again: the first build, reused"
run_loads "$test" --server-url "$NGINX_URL" -q
expect_status 0
grep -qxF "$(grep 'cache_inc-.*\.so ' <<<"$second")" <(cache_state) ||
    fail "the build without flags was not reused" "before: $second" "after: $(cache_state)"

step "LOADS_LDLIBS reaches the link"
LOADS_LDLIBS="-lloads_no_such_library" run_loads "$test" --server-url "$NGINX_URL" -q
expect_usage_error
expect_err_contains "cannot find -lloads_no_such_library"
