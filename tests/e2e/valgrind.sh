#!/usr/bin/env bash
# solo: valgrind takes a core for itself
# An end-to-end run is clean under valgrind: examples/example.c with -u 5
# -c 20 against nginx, then an https run with cookies and redirects; the supervisor and each worker it forks (valgrind
# follows the fork; one log per process) with no invalid access, no use of
# uninitialised memory, no definite leak, and the same figures as without
# valgrind.  The VU stacks are registered with valgrind (base/coro.c, when
# <valgrind/valgrind.h> was there at build time), so the coroutine switch
# is understood.  tests/valgrind.supp, when there, holds the suppressions
# of errors that are not in the project's code.
source "$(dirname "$0")/../lib.sh"
command -v valgrind >/dev/null || fail "valgrind is not installed (scripts/deps installs it)"
if grep -q __asan_init "$BUILD/loads-runner"; then
    echo "skipped: valgrind cannot run a sanitizer build ($BUILD); the plain build's suite runs it"
    exit 0
fi

use_module example.c
start_nginx
step "a first run without valgrind compiles the module (valgrind's run only forks workers)"
run_loads example.TestWebSite.test_something --server-url "$NGINX_URL" -q
expect_status 0
expect_out_line "Hits: 1"
: >"$NGINX_LOG"

# vg_report: the errors of every log, with their stacks, for a failure.
vg_report() {
    local f
    for f in "${logs[@]}"; do
        echo "== $(basename "$f"): $(head -n 4 "$f" | grep -o 'Command: .*' || true)"
        grep -E -A 25 "Invalid|uninitialised|definitely lost in loss record|Mismatched|Syscall param|Process terminating|Source and destination overlap|client switching stacks" "$f" |
            head -n 120 || true
    done
    [[ -f /usr/include/valgrind/valgrind.h ]] ||
        echo "(no /usr/include/valgrind/valgrind.h: the VU stacks were not registered)"
}

# vg_run DIR ARGS...: loads-runner ARGS under valgrind, one log per process
# in DIR; fails on any error or definite leak in any of them.
vg_run() {
    local vg=$1
    shift
    mkdir -p "$vg"
    supp=()
    [[ -f $REPO/tests/valgrind.supp ]] && supp=(--suppressions="$REPO/tests/valgrind.supp")
    LAST_RUN="valgrind ... loads-runner ${*@Q}"
    echo "\$ $LAST_RUN"
    STATUS=0
    (
        cd "$TEST_DIR" || exit 2
        exec timeout 50 valgrind --error-exitcode=99 --trace-children=yes \
            --child-silent-after-fork=no --leak-check=full --errors-for-leak-kinds=definite \
            --track-fds=no "${supp[@]}" --log-file="$vg/vg.%p" \
            "$BUILD/loads-runner" "$@"
    ) </dev/null >"$OUT" 2>"$ERR" &
    RUN_PID=$!
    wait "$RUN_PID" || STATUS=$?
    RUN_PID=
    echo "  status $STATUS"

    logs=("$vg"/vg.*)
    [[ -e ${logs[0]} ]] || fail "valgrind wrote no log in $vg"
    echo "  ${#logs[@]} valgrind logs (the supervisor and its workers):"
    grep -H "ERROR SUMMARY" "${logs[@]}" | sed "s|^$vg/|    |"
    expect_num "${#logs[@]}" ">=" 2 "valgrind logs (the supervisor and at least one worker)"
    if grep -qE "Invalid (read|write|free)|uninitialised|Mismatched free|Syscall param|Source and destination overlap|Process terminating" "${logs[@]}"; then
        fail "valgrind found errors" "$(vg_report)"
    fi
    if grep -qE "definitely lost in loss record|definitely lost: [1-9]" "${logs[@]}"; then
        fail "valgrind found definite leaks" "$(vg_report)"
    fi
    if grep -qF "client switching stacks" "${logs[@]}"; then
        fail "valgrind saw a stack switch it was not told about (VU stacks not registered)" "$(vg_report)"
    fi
    for f in "${logs[@]}"; do
        grep -qE "ERROR SUMMARY: 0 errors from 0 contexts" "$f" ||
            fail "valgrind counted errors in $(basename "$f")" "$(vg_report)"
    done
}

step "valgrind on loads-runner -u 5 -c 20"
vg_run "$TMP_ROOT/vg" example.TestWebSite.test_something --server-url "$NGINX_URL" -u 5 -c 20
expect_status 0
expect_out_line "Hits: 100"
expect_out_line "Success: 100"
expect_out_line "Errors: 0"
expect_out_line "Failures: 0"
expect_access_log 100

step "valgrind on https (the built-in client with OpenSSL): -u 3 -c 10, cookies and a redirect"
use_module http_cases.c
start_tls_nginx 'if ($cookie_session = "abc123") { return 200 "cookie ok\n"; }
            add_header Set-Cookie "session=abc123; Path=/; Secure";
            return 302 /again;'
export SSL_CERT_FILE=$TLS_CERT
run_loads http_cases.TestHttp.test_cookie_on_redirect --server-url "https://127.0.0.1:$TLS_PORT" -q
expect_status 0
vg_run "$TMP_ROOT/vg-tls" http_cases.TestHttp.test_cookie_on_redirect \
    --server-url "https://127.0.0.1:$TLS_PORT" -u 3 -c 10
expect_status 0
expect_out_line "Hits: 33"
expect_out_line "Success: 30"
