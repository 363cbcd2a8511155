#!/usr/bin/env bash
# Test modules are compiled with -Wall: a warning is shown (on stderr, once,
# when the module is built) and the module runs.  The cache does not grow
# forever: a build whose source is gone is removed at the next build, and
# at most 4 builds of one module name stay (one per set of flags here).
source "$(dirname "$0")/../lib.sh"

CACHE=$XDG_CACHE_HOME/loads
use_module warn_module.c
start_nginx

step "-Wall: the unused variable is reported when the module is built"
run_loads warn_module.TestWarn.test_get --server-url "$NGINX_URL" -q
expect_status 0
expect_out_line "Success: 1"
expect_err_contains "warn_module.c built with warnings:"
expect_err_contains "unused_here"
expect_err_contains "[-Wunused-variable]"

step "the cached build is reused without a word"
run_loads warn_module.TestWarn.test_get --server-url "$NGINX_URL" -q
expect_status 0
[[ ! -s $ERR ]] || fail "stderr: expected nothing from a cached build"

step "six sets of flags: only the 4 last builds of the module stay"
for i in 1 2 3 4 5 6; do
    LOADS_CFLAGS="-DBUILD_NUMBER=$i" run_loads warn_module.TestWarn.test_get \
        --server-url "$NGINX_URL" -q
    expect_status 0
    sleep 1.1 # builds ordered by their mtime, one second apart
done
builds=$(find "$CACHE" -name 'warn_module-*.so' | wc -l)
expect_eq "$builds" 4 "builds of warn_module in the cache"
expect_eq "$(find "$CACHE" -name 'warn_module-*.deps' | wc -l)" 4 "their .deps files"
expect_eq "$(find "$CACHE" -name 'warn_module-*.lock' | wc -l)" 4 "their .lock files"
# The 4 kept are the last ones: their .deps name no -DBUILD_NUMBER, so find
# them by building 6 again (reused: no warning, nothing new).
cache_before=$(find "$CACHE" -type f | LC_ALL=C sort)
LOADS_CFLAGS="-DBUILD_NUMBER=6" run_loads warn_module.TestWarn.test_get \
    --server-url "$NGINX_URL" -q
expect_status 0
[[ ! -s $ERR ]] || fail "the last build was not kept (rebuilt with warnings)"
expect_eq "$(find "$CACHE" -type f | LC_ALL=C sort)" "$cache_before" "the cache after a reuse"

step "a build whose source is gone is removed at the next build"
mkdir gone
cp warn_module.c gone/other_module.c
(cd gone && LOADS_PATH='' "$BUILD/loads-runner" other_module.TestWarn.test_get \
    --server-url "$NGINX_URL" -q >/dev/null 2>&1) || fail "other_module did not run"
expect_eq "$(find "$CACHE" -name 'other_module-*.so' | wc -l)" 1 "builds of other_module"
rm -r gone
# Any build prunes: a new set of flags for warn_module.
LOADS_CFLAGS="-DBUILD_NUMBER=7" run_loads warn_module.TestWarn.test_get \
    --server-url "$NGINX_URL" -q
expect_status 0
expect_eq "$(find "$CACHE" -name 'other_module-*' | wc -l)" 0 "files of other_module left"
expect_eq "$(find "$CACHE" -name 'warn_module-*.so' | wc -l)" 4 "builds of warn_module"
