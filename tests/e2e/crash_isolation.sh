#!/usr/bin/env bash
# A test that crashes kills only its worker: the crash is reported with its
# signal, the runs in progress in that worker become Errors, every count
# made before the crash is kept, a replacement worker runs what was left,
# and every planned run is accounted for.
source "$(dirname "$0")/../lib.sh"
use_module crash.c
start_nginx

# check_crash TEST REASON: -u 4 -c 25 -w 2 with TEST crashing once.
check_crash() {
    local test=$1 reason=$2 runs success errors failures hits crashes logged
    step "$test: $reason"
    : >"$NGINX_LOG"
    run_loads "crash.TestCrash.$test" --server-url "$NGINX_URL" -u 4 -c 25 -w 2 \
        --output json --json "$TEST_DIR/summary.json"
    expect_status 1
    runs=$(jq .runs "$OUT")
    success=$(jq .success "$OUT")
    errors=$(jq .errors "$OUT")
    failures=$(jq .failures "$OUT")
    hits=$(jq .hits "$OUT")
    crashes=$(jq .crashes "$OUT")
    expect_eq "$runs" 100 "runs ended (planned 100)"
    expect_eq "$((success + errors + failures))" 100 "success + errors + failures"
    expect_eq "$crashes" 1 "crashes"
    expect_num "$errors" ">=" 1 "errors (the crashed run at least)"
    expect_num "$errors" "<=" 2 "errors (at most the crashed worker's 2 VUs)"
    jq -e --arg r "$reason" '.crash_messages | length == 1 and (.[0].message | contains($r))' \
        "$OUT" >/dev/null || fail "crash message should contain '$reason'" "$(cat "$OUT")"
    # Every response counted was logged; nginx may also have logged requests
    # whose responses the killed worker never counted: those runs are errors.
    logged=$(access_log_lines)
    expect_num "$logged" ">=" "$hits" "nginx's lines vs hits"
    expect_num "$((logged - hits))" "<=" "$errors" "requests lost with the worker"
    cmp -s "$OUT" "$TEST_DIR/summary.json" || fail "--json FILE differs from stdout"
}

check_crash test_segv "killed by signal 11 (Segmentation fault)"
check_crash test_abort "killed by signal 6 (Aborted)"
check_crash test_fpe "killed by signal 8 (Floating point exception)"
check_crash test_stack "killed by signal 11 (Segmentation fault)"
check_crash test_exit "exited with status 0 before the end of its runs"

step "the text summary names the crash"
rm -f crashed.*
run_loads crash.TestCrash.test_segv --server-url "$NGINX_URL" -u 4 -c 5 -w 2
expect_status 1
expect_out_line "Crashes:"
expect_out_contains "killed by signal 11 (Segmentation fault)"
rm -f core core.* # the crashed worker's, which a user debugging a test wants

step "a crash loop ends the run with a clear message"
run_loads crash.TestLoop.test_always --server-url "$NGINX_URL" -u 2 -c 1000 -w 1
expect_status 1
expect_err_contains "a worker crashed 3 times in a row before ending any test run"
expect_out_contains "stopping the run: a worker crashed 3 times in a row"
