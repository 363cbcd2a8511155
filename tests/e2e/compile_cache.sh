#!/usr/bin/env bash
# example.c is compiled once into $XDG_CACHE_HOME/loads and the build is
# reused while the source is unchanged; an edited source is recompiled.
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
