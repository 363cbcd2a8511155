#!/usr/bin/env bash
# An end-to-end run is clean under valgrind: the supervisor and each worker
# (traced across fork) show no invalid access and no definite leak.
source "$(dirname "$0")/../lib.sh"
command -v valgrind >/dev/null || fail "valgrind is not installed (scripts/deps installs it)"
if grep -q __asan_init "$BUILD/loads-runner"; then
    echo "skipped: valgrind cannot run a sanitizer build; the plain build's suite runs it"
    exit 0
fi
use_module example.c
start_nginx
run_loads example.TestWebSite.test_something --server-url "$NGINX_URL" -q # compile first
: >"$NGINX_LOG"

step "valgrind on loads-runner -u 5 -c 20 -w 2"
vg=$TMP_ROOT/vg
mkdir -p "$vg"
(
    cd "$TEST_DIR"
    exec timeout 120 valgrind --error-exitcode=99 --trace-children=yes \
        --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite \
        --log-file="$vg/vg.%p" \
        "$BUILD/loads-runner" example.TestWebSite.test_something \
        --server-url "$NGINX_URL" -u 5 -c 20 -w 2 -q
) </dev/null >"$OUT" 2>"$ERR" || STATUS=$?
STATUS=${STATUS:-0}
logs=("$vg"/vg.*)
expect_num "${#logs[@]}" ">=" 3 "valgrind logs (supervisor and two workers)"
if grep -lE "Invalid (read|write|free)|uninitialised|definitely lost: [1-9]|Process terminating" "${logs[@]}" >/dev/null; then
    fail "valgrind found errors" "$(grep -hE -A12 "Invalid|uninitialised|definitely lost|Process terminating" "${logs[@]}" | head -80)"
fi
expect_status 0
expect_out_line "Hits: 100"
expect_out_line "Success: 100"
expect_access_log 100
