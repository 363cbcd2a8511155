#!/usr/bin/env bash
# solo: it times the supervisor's heartbeat watch (1 s)
# Test code that does not return to Loads (README "Running", --help): a busy
# loop or a blocking call holds its worker's loop, so the worker cannot end
# its runs itself.  The supervisor watches each worker's heartbeat:
# - a test holding the loop for more than 1 s is warned about once per
#   worker, by name (stderr, the summary's Warnings, the JSON);
# - when the grace period after the end of the duration or a stop is over,
#   the worker is killed and its runs in progress are Errors that name the
#   cause; the run ends with its summary within grace + about 1 s (the
#   supervisor polls every 0.1 s and kills once the hold has lasted 1 s).
source "$(dirname "$0")/../lib.sh"

use_module hold.c
start_nginx
step "compile the module (so that no timed run below waits for cc)"
run_loads hold.TestSpin.test_a_fine --server-url "$NGINX_URL" -q
expect_status 0
: >"$NGINX_LOG"

step "a busy loop, -u 2 -w 1 -d 2s --grace 2: ends at about 4 s, the runs in progress Errors"
# Suite TestSpin: each VU runs test_a_fine, then test_b_spin, which spins.
run_loads_timed hold.TestSpin --server-url "$NGINX_URL" -u 2 -w 1 -d 2s --grace 2 \
    --json hold.json
expect_status 1
expect_no_core
# 2 s of duration + 2 s of grace; at most ~1 s more to see the hold and kill,
# plus start-up and slack for a loaded machine.
expect_num "$WALL" "<" 7 "wall-clock seconds of a -d 2s --grace 2 run"
expect_num "$(out_field Duration)" ">=" 3.9 "Duration (2 s + 2 s of grace)"
expect_num "$(out_field Duration)" "<" 6.5 "Duration"
# Each VU runs test_a_fine (a GET), then test_b_spin (a GET, then the
# spin).  Once one VU spins, the other's request may be answered by nginx
# and never read: hits count responses received, so nginx logged the hits
# and at most that one request more.
hits=$(out_field Hits)
sleep 0.5 # nginx logs a request when its connection closes
expect_num "$(access_log_lines)" ">=" "$hits" "lines in nginx's log against Hits $hits"
expect_num "$(access_log_lines)" "<=" "$((hits + 1))" "lines in nginx's log against Hits $hits"
expect_out_line "Failures: 0"
expect_eq "$(jq -r '.error_messages[] | select(.message | test("^test code did not return to Loads for [0-9.]+ s: a busy loop or a blocking call\\?$")) | .test' hold.json)" \
    TestSpin.test_b_spin "test of the Error that names the hold"
expect_eq "$(jq -r '[.error_messages[] | select(.message | test("^test code did not return")) | .count] | add' hold.json)" \
    1 "Errors that name the hold (one spinner)"
held=$(jq -r '.error_messages[] | select(.message | test("^test code did not return")) | .message' hold.json |
    awk '{ print $9 }')
expect_num "$held" ">=" 1 "seconds the hold had lasted when the worker was killed"
errors=$(jq -r .errors hold.json)
expect_eq "$(jq -r '[.error_messages[] | .count] | add' hold.json)" "$errors" \
    "Errors accounted for by messages"
expect_eq "$(jq -r '.runs' hold.json)" "$(jq -r '.success + .errors + .failures' hold.json)" \
    "runs = success + errors + failures"
expect_eq "$(jq -r '.warning_messages | length' hold.json)" 1 "warnings"
expect_eq "$(jq -r '.warning_messages[0].test' hold.json)" TestSpin.test_b_spin \
    "the warning's test"
expect_eq "$(jq -r '.warning_messages[0].count' hold.json)" 1 "the warning's count (once)"
expect_out_sequence 'Warnings:' '  1 occurrence in TestSpin\.test_b_spin:' \
    '      a run held its worker for more than 1 s without waiting \(a busy loop or a blocking call in the test\?\): .*'
expect_err_contains "loads-runner: warning: TestSpin.test_b_spin in worker "
expect_eq "$(grep -c 'loads-runner: warning:' "$ERR")" 1 "warning lines on stderr"
expect_eq "$(jq -r .crashes hold.json)" 0 "crashes (a killed worker is not a crash)"

step "a blocking read, -u 3 -w 1 -d 1s --grace 1: the other VUs wait, all are Errors"
: >"$NGINX_LOG"
run_loads_timed hold.TestBlock.test_read --server-url "$NGINX_URL" -u 3 -w 1 -d 1s --grace 1 \
    --output json
expect_status 1
expect_no_core
expect_num "$WALL" "<" 5 "wall-clock seconds of a -d 1s --grace 1 run"
jq -e . "$OUT" >/dev/null || fail "stdout: not one JSON document"
expect_eq "$(jq -r .success "$OUT")" 0 ".success"
expect_eq "$(jq -r .errors "$OUT")" 3 ".errors (the reader and the 2 VUs it held)"
expect_eq "$(jq -r '.error_messages[] | select(.message | test("^test code did not return to Loads")) | .count' "$OUT")" \
    1 "Errors that name the hold"
expect_eq "$(jq -r '.error_messages[] | select(.message == "stopped after the grace period: test code of another VU (TestBlock.test_read) held the worker") | .count' "$OUT")" \
    2 "Errors of the VUs the hold kept waiting"
expect_eq "$(jq -r '.warning_messages[0].test' "$OUT")" TestBlock.test_read "the warning's test"
# As above: the 2 held VUs' requests may have been answered and never read.
hits=$(jq -r .hits "$OUT")
sleep 0.5
expect_num "$(access_log_lines)" ">=" "$hits" "lines in nginx's log against .hits $hits"
expect_num "$(access_log_lines)" "<=" "$((hits + 2))" "lines in nginx's log against .hits $hits"

step "a busy loop in a hits plan ends with one SIGINT: grace 1, status 130"
: >"$NGINX_LOG"
start_loads hold.TestSpin.test_b_spin --server-url "$NGINX_URL" -u 2 -w 2 -c 5 --grace 1
# The warning comes 1 s after a worker starts spinning; the wait allows
# for a sanitizer build's start on a loaded machine.
for ((i = 0; i < 150; i++)); do
    grep -q 'loads-runner: warning:' "$ERR" && break
    alive "$LOADS_PID" || break
    sleep 0.1
done
if ! grep -q 'loads-runner: warning:' "$ERR"; then
    alive "$LOADS_PID" || wait_loads
    fail "no warning on stderr within 15 s"
fi
RUNNER=$(runner_pid)
t0=$(now)
kill -INT "$RUNNER"
wait_loads
wall=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')
echo "  ended $wall s after SIGINT"
expect_status 130
expect_no_core
# 1 s of grace, then the holds (both over 1 s already) end at the next
# 0.1 s poll; the rest is reaping and the summary, and slack for a loaded
# machine.
expect_num "$wall" "<" 4 "seconds from SIGINT to the end (1 s of grace)"
expect_out_line "Errors: 2"
expect_out_line "Success: 0"
expect_out_line "Hits: 2"
grep -qE '^Stopped by SIGINT after [0-9.]+ s: 2 of 10 planned runs ended$' "$OUT" ||
    fail "stdout: no 'Stopped by SIGINT after T s: 2 of 10 planned runs ended'"
expect_out_sequence 'Errors:' '  2 occurrences in TestSpin\.test_b_spin:' \
    '      test code did not return to Loads for [0-9.]+ s: a busy loop or a blocking call\?'
expect_access_log 2

step "code that holds the loop 1.6 s per run, then returns: warned once, not an Error"
: >"$NGINX_LOG"
run_loads hold.TestBlock.test_slow_code --server-url "$NGINX_URL" -u 1 -c 2 --json slow.json
expect_status 0
expect_out_line "Success: 2"
expect_out_line "Errors: 0"
expect_eq "$(jq -r '.warning_messages | length' slow.json)" 1 "warnings"
expect_eq "$(jq -r '.warning_messages[0].count' slow.json)" 1 "the warning's count (once per worker)"
expect_eq "$(jq -r '.warning_messages[0].test' slow.json)" TestBlock.test_slow_code "the warning's test"
expect_access_log 2
