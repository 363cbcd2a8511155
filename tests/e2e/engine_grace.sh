#!/usr/bin/env bash
# --grace: at the end of a --duration, a run still going after the grace
# period is cut and counted as Interrupted (not an Error: the exit status
# stays 0), whatever it waits for, and the run ends then, not when the test
# would have.  A sleep that cannot end within the grace period is cut at the
# end of the duration, without waiting for the grace period.
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

step "a 10 s loads_sleep, -u 2 -d 1s --grace 1: cut at 1 s, the duration's end"
run_timed engine_slow.TestSlow.test_sleep_long --server-url "$NGINX_URL" -u 2 -d 1s --grace 1
expect_status 0
expect_no_core
expect_out_line "Hits: 0"
expect_out_line "Success: 0"
expect_out_line "Errors: 0"
expect_out_line "Failures: 0"
expect_out_line "Interrupted: 2 (cut by the end of the run, not errors)"
duration=$(out_field Duration)
# The end is seen by the worker's tick, every 0.1 s; 0.4 s of slack for a
# loaded machine.
expect_num "$duration" ">=" 1.0 "Duration (the end of the 1 s duration)"
expect_num "$duration" "<" 1.5 "Duration (no wait for the grace period)"
expect_num "$WALL" "<" 4 "wall-clock time of loads-runner"
expect_access_log 0

step "a download of a minute, -u 2 -d 1s --grace 1: cut at 2 s"
run_timed engine_slow.TestSlow.test_slow_download --server-url "$NGINX_URL" -u 2 -d 1s --grace 1
expect_status 0
expect_no_core
expect_out_line "Success: 0"
expect_out_line "Errors: 0"
expect_out_line "Failures: 0"
expect_out_line "Interrupted: 2 (cut by the end of the run, not errors)"
duration=$(out_field Duration)
expect_num "$duration" ">=" 2.0 "Duration (1 s + 1 s of grace)"
expect_num "$duration" "<" 2.5 "Duration (cut by the end of the grace period)"
expect_num "$WALL" "<" 6 "wall-clock time of loads-runner"
# nginx logs each request when its connection closes: both were cut.
expect_access_log 2
