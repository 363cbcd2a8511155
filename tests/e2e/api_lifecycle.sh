#!/usr/bin/env bash
# The test API around a test, read from nginx's log (each step of
# tests/e2e/modules/api_cases.c requests /at/NAME): setUp and tearDown
# around each test; a suite's tests in name order; code after a failed
# loads_assert or loads_fail never runs; a failing setUp skips the test and
# its tearDown; a failing tearDown counts after a passing test, not over a
# failing one's message; loads_incr_counter, loads_add_counter; loads_elapsed
# against nginx's own time of the response.
source "$(dirname "$0")/../lib.sh"

use_module api_cases.c
start_nginx
AT=$NGINX_DIR/at.log

# at_names: the NAMEs of /at/NAME in at.log, space-separated, in order.
at_names() {
    awk '{ sub(/^\/at\//, "", $3); print $3 }' "$AT" | paste -sd ' '
}

step "a whole suite, -c 2: setUp/tearDown around each test, in name order"
: >"$AT"
run_loads api_cases.TestLife --server-url "$NGINX_URL" -c 2 --json summary.json
expect_status 1
expect_out_line "Success: 2"
expect_out_line "Failures: 4"
expect_out_line "Errors: 0"
one="setup a teardown setup b teardown setup c teardown"
expect_eq "$(at_names)" "$one $one" "steps in nginx's log"
expect_out_sequence 'Failures:' '  2 occurrences in TestLife\.test_b_fail:' \
    '      b: failed on purpose, run 7 \(api_cases\.c:[0-9]+\)' \
    '  2 occurrences in TestLife\.test_c_fails:' \
    '      c: arithmetic is broken \(api_cases\.c:[0-9]+\)'
expect_eq "$(jq -r '[.failure_messages[].count] | add' summary.json)" 4 "failures in JSON"
expect_eq "$(jq -r .runs summary.json)" 6 ".runs"

step "a failing setUp: the test and its tearDown do not run"
: >"$AT"
run_loads api_cases.TestBadSetup.test_skipped --server-url "$NGINX_URL" -u 2
expect_status 1
expect_out_line "Failures: 2"
expect_out_line "Success: 0"
expect_out_sequence '  2 occurrences in TestBadSetup\.test_skipped:' \
    '      setUp broke \(api_cases\.c:[0-9]+\)'
expect_eq "$(at_names)" "bad-setup bad-setup" "steps in nginx's log"

step "a failing tearDown: counted after a pass; after a failure the test's message stays"
: >"$AT"
run_loads api_cases.TestBadTeardown --server-url "$NGINX_URL"
expect_status 1
expect_out_line "Failures: 2"
expect_out_line "Success: 0"
expect_eq "$(at_names)" "fails bad-teardown passes bad-teardown" "steps in nginx's log"
expect_out_sequence '  1 occurrence in TestBadTeardown\.test_fails:' \
    '      the test broke \(api_cases\.c:[0-9]+\)'
expect_out_sequence '  1 occurrence in TestBadTeardown\.test_passes:' \
    '      tearDown broke \(api_cases\.c:[0-9]+\)'
expect_out_count "tearDown broke" 1

step "custom counters: -u 3 -c 2 -w 2, 6 runs"
run_loads api_cases.TestCounters.test_add -u 3 -c 2 -w 2 --json summary.json
expect_status 0
expect_out_sequence 'Custom counters:' '  (items: 30|visits: 6|zero: 0)' \
    '  (items: 30|visits: 6|zero: 0)' '  (items: 30|visits: 6|zero: 0)'
expect_eq "$(jq -c .counters summary.json)" '{"visits":6,"items":30,"zero":0}' ".counters"

step "loads_elapsed against nginx's time of the same response"
: >"$NGINX_DIR/stats.log"
: >"$AT"
run_loads api_cases.TestElapsed.test_elapsed --server-url "$NGINX_URL" -u 3
expect_status 0
expect_out_line "Success: 3"
mapfile -t said < <(sed -n 's|.* /at/elapsed?us=\([0-9]*\)$|\1|p' "$AT" | sort -n)
mapfile -t logged < <(awk '{ print $2 * 1e6 }' "$NGINX_DIR/stats.log" | sort -n)
expect_eq "${#said[@]}" 3 "elapsed values told to nginx"
expect_eq "${#logged[@]}" 3 "sleeps in stats.log"
for i in 0 1 2; do
    echo "  loads_elapsed ${said[i]} us, nginx ${logged[i]} us"
    # nginx's 1 ms resolution below; the client's own time above, which a
    # busy machine stretches (11.5 ms seen): 50 ms, far less than the 0.2 s
    # the test sleeps before the request, which a wrong start would add.
    expect_num "${said[i]}" ">=" "$((logged[i] - 1000))" "loads_elapsed in us (nginx: ${logged[i]})"
    expect_num "${said[i]}" "<=" "$((logged[i] + 50000))" "loads_elapsed in us (nginx: ${logged[i]})"
done
