#!/usr/bin/env bash
# `make install PREFIX=...` installs loads-runner, loads.h and loads.pc, so
# that a user builds a test by hand with pkg-config and runs it with the
# installed runner, which also finds loads.h to compile a .c on the fly.
source "$(dirname "$0")/../lib.sh"
start_nginx

prefix=$TMP_ROOT/prefix
step "make install PREFIX=$prefix"
make -s -C "$REPO" install PREFIX="$prefix" BUILD="$BUILD" >"$TMP_ROOT/install.log" 2>&1 ||
    fail "make install failed" "$(cat "$TMP_ROOT/install.log")"
for f in bin/loads-runner include/loads.h lib/pkgconfig/loads.pc; do
    [[ -f $prefix/$f ]] || fail "not installed: $f"
done

step "a module built by hand with pkg-config"
use_module example.c
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
cflags=$(pkg-config --cflags --libs loads) || fail "pkg-config does not know loads"
cflags=${cflags% }
expect_eq "$cflags" "-I$prefix/include" "pkg-config --cflags --libs loads"
# shellcheck disable=SC2086 # the flags are words
cc -shared -fPIC example.c $cflags -o example.so || fail "the example does not build"
rm example.c
BUILD=$prefix/bin run_loads example.TestWebSite.test_something --server-url "$NGINX_URL"
expect_status 0
expect_out_line "Success: 1"

step "the installed runner compiles a .c with the installed header"
rm example.so
use_module example.c
BUILD=$prefix/bin run_loads example.TestWebSite.test_something --server-url "$NGINX_URL"
expect_status 0
expect_out_line "Success: 1"
expect_access_log 2
