#!/usr/bin/env bash
# --grace: at the end of a --duration, a run still going after the grace
# period is cut and counted as Interrupted (not an Error: the exit status
# stays 0), whatever it waits for, and the run ends then, not when the test
# would have.  A sleep that cannot end within the grace period is cut at the
# end of the duration, without waiting for the grace period.
#
# The cuts are timed against nginx's clock: a download of -d 1s --grace 1 is
# cut at most 3.5 s after a test's first request (which comes after the
# run's start; the worker checks the grace period ten times a second; the
# rest is slack for a machine shared with builds and ASan, where the end
# came 2.0 s after the first request), and at least 2.0 s after the test
# started loads-runner (the time of day, 10 ms for the clocks).  The sleeps
# are cut at the end of the duration, not of the grace period: with a
# grace of 5 s the two are far enough apart for a busy machine.
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

step "a 10 s loads_sleep, -u 2 -d 1s --grace 5: cut at 1 s, the duration's end"
run_timed engine_slow.TestSlow.test_sleep_long --server-url "$NGINX_URL" -u 2 -d 1s --grace 5
expect_status 0
expect_no_core
expect_out_line "Hits: 0"
expect_out_line "Success: 0"
expect_out_line "Errors: 0"
expect_out_line "Failures: 0"
expect_out_line "Interrupted: 2 (cut by the end of the run, not errors)"
duration=$(out_field Duration)
# The end is seen by the worker's tick, every 0.1 s; the rest is slack for a
# loaded machine, far below the end of the grace period (6 s).
expect_between "Duration (the end of the 1 s duration, no wait for the grace period)" \
    1.0 3.0 "$duration"
expect_num "$WALL" "<" 5 "wall-clock time of loads-runner"
expect_access_log 0

step "the same, timed: nginx stamps each run's start; the runner has ended 1.0-4 s later, not 6"
started=$(date +%s.%N)
run_timed engine_slow.TestSlow.test_stamp_sleep_long --server-url "$NGINX_URL" -u 2 -d 1s --grace 5
ended=$(date +%s.%N)
expect_status 0
expect_out_line "Errors: 0"
expect_out_line "Interrupted: 2 (cut by the end of the run, not errors)"
expect_eq "$(grep -c ' /at/start$' "$NGINX_DIR/at.log")" 2 "starts stamped in at.log"
took=$(awk -v end="$ended" 'NR == 1 { printf "%.3f", end - $1 }' "$NGINX_DIR/at.log")
expect_between "seconds from the first request to the end of loads-runner" 0 4 "$took"
expect_between "seconds from starting loads-runner to its end" 0.99 5 \
    "$(awk -v a="$started" -v b="$ended" 'BEGIN { printf "%.3f", b - a }')"
expect_access_log 2

step "a download of a minute, -u 2 -d 1s --grace 1: cut at 2 s"
started=$(date +%s.%N)
run_timed engine_slow.TestSlow.test_slow_download --server-url "$NGINX_URL" -u 2 -d 1s --grace 1
expect_status 0
expect_no_core
expect_out_line "Success: 0"
expect_out_line "Errors: 0"
expect_out_line "Failures: 0"
expect_out_line "Interrupted: 2 (cut by the end of the run, not errors)"
duration=$(out_field Duration)
expect_between "Duration (1 s + 1 s of grace)" 2.0 3.5 "$duration"
expect_num "$WALL" "<" 6 "wall-clock time of loads-runner"
# nginx logs each request when its connection closes: both were cut.
expect_access_log 4
mapfile -t times < <(awk '$1 == "/slow" { print $2 }' "$NGINX_DIR/stats.log")
expect_eq "${#times[@]}" 2 "/slow requests in stats.log"
expect_between "nginx's time of each cut /slow download" 0 3.5 "${times[@]}"
mapfile -t cuts < <(awk -v t="$started" '$1 == "/slow" { printf "%.3f\n", $3 - t }' "$NGINX_DIR/stats.log")
expect_between "seconds from starting loads-runner to each cut at nginx" 1.99 4 "${cuts[@]}"
