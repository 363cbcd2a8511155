#!/usr/bin/env bash
# Where a module is found, read from nginx's log (each variant of the module
# requests its own /at/NAME): the current directory first, then the
# directories of LOADS_PATH in order; in one directory a .so wins over a
# .c; without either, a usage error that names LOADS_PATH.
source "$(dirname "$0")/../lib.sh"

start_nginx
AT=$NGINX_DIR/at.log

# variant DIR NAME [so]: writes DIR/where.c whose test requests /at/NAME,
# or builds it as DIR/where.so.
variant() {
    mkdir -p "$1"
    cat >"$TMP_ROOT/where.c" <<C
#include <loads.h>
LOADS_TEST(TestWhere, test_it)
{
    loads_response *r = loads_get(t, "/at/$2");
    loads_assert(t, loads_status(r) == 200, "status %d", loads_status(r));
}
C
    if [[ ${3:-} == so ]]; then
        cc -shared -fPIC -I"$REPO/include" -o "$1/where.so" "$TMP_ROOT/where.c"
    else
        cp "$TMP_ROOT/where.c" "$1/where.c"
    fi
}

# ran NAME: the last run succeeded and requested /at/NAME, once.
ran() {
    expect_status 0
    expect_out_line "Success: 1"
    expect_eq "$(tail -n 1 "$AT" | awk '{ print $3 }')" "/at/$1" "the variant that ran"
}

step "none anywhere: a usage error naming LOADS_PATH"
run_loads where.TestWhere.test_it --server-url "$NGINX_URL"
expect_usage_error
expect_err_contains "set LOADS_PATH"

step "LOADS_PATH=one:two: the first directory that has it"
variant "$TMP_ROOT/one" one
variant "$TMP_ROOT/two" two
LOADS_PATH=$TMP_ROOT/missing:$TMP_ROOT/one:$TMP_ROOT/two run_loads where.TestWhere.test_it \
    --server-url "$NGINX_URL"
ran one
LOADS_PATH=$TMP_ROOT/two:$TMP_ROOT/one run_loads where.TestWhere.test_it --server-url "$NGINX_URL"
ran two

step "the current directory before LOADS_PATH"
variant "$TEST_DIR" cwd
LOADS_PATH=$TMP_ROOT/one run_loads where.TestWhere.test_it --server-url "$NGINX_URL"
ran cwd

step "a .so wins over a .c in the same directory"
variant "$TEST_DIR" so so
LOADS_PATH=$TMP_ROOT/one run_loads where.TestWhere.test_it --server-url "$NGINX_URL"
ran so
variant "$TMP_ROOT/two" two-so so
rm "$TEST_DIR/where.so" "$TEST_DIR/where.c"
LOADS_PATH=$TMP_ROOT/two run_loads where.TestWhere.test_it --server-url "$NGINX_URL"
ran two-so
expect_access_log 5
