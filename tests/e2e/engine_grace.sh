#!/usr/bin/env bash
# --grace: at the end of a --duration, a run still going after the grace
# period is cut and counted as an Error, whatever it waits for (a sleep, a
# response), and the run ends then, not when the test would have.
source "$(dirname "$0")/../lib.sh"

use_module engine_slow.c
start_nginx

# run_timed ARGS...: run_loads, and sets WALL to its wall-clock seconds.
run_timed() {
    local t0 t1
    t0=$(date +%s.%N)
    run_loads "$@"
    t1=$(date +%s.%N)
    WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
    echo "  wall clock: $WALL s"
}

step "a 10 s loads_sleep, -u 2 -d 1s --grace 1: cut at about 2 s"
run_timed engine_slow.TestSlow.test_sleep_long --server-url "$NGINX_URL" -u 2 -d 1s --grace 1
expect_status 1
expect_no_core
expect_out_line "Hits: 0"
expect_out_line "Success: 0"
expect_out_line "Errors: 2"
expect_out_line "Failures: 0"
expect_out_sequence \
    'Errors:' \
    '  2 occurrences in TestSlow\.test_sleep_long:' \
    '      stopped in loads_sleep after the grace period'
duration=$(out_field Duration)
expect_num "$duration" ">=" 1.9 "Duration (1 s + 1 s of grace)"
expect_num "$duration" "<" 5 "Duration"
expect_num "$WALL" "<" 6 "wall-clock time of loads-runner"
expect_access_log 0

step "a download of a minute, -u 2 -d 1s --grace 1: cut at about 2 s"
run_timed engine_slow.TestSlow.test_slow_download --server-url "$NGINX_URL" -u 2 -d 1s --grace 1
expect_status 1
expect_no_core
expect_out_line "Success: 0"
expect_out_line "Errors: 2"
expect_out_line "Failures: 0"
expect_out_sequence \
    'Errors:' \
    '  2 occurrences in TestSlow\.test_slow_download:' \
    '      GET http://127\.0\.0\.1:[0-9]+/slow: .*grace period.*'
duration=$(out_field Duration)
expect_num "$duration" ">=" 1.9 "Duration (1 s + 1 s of grace)"
expect_num "$duration" "<" 5 "Duration"
expect_num "$WALL" "<" 6 "wall-clock time of loads-runner"
# nginx logs each request when its connection closes: both were cut.
expect_access_log 2
