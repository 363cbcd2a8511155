#!/usr/bin/env bash
# solo: the dashboard's target and achieved rates are read within a second
# When no user of the pool is free at a run's time, the run is dropped and
# counted, never started late: each run of test_slow holds its user 0.2 s
# (a GET /stamp, then think time), so a pool of at most 4 users starts at
# most 4 runs per 0.2 s of the 50 per second asked.  The summary, the JSON
# and the dashboard count the dropped runs; nginx's log has the started
# ones; dropped==0 fails the run with exit status 99.
source "$(dirname "$0")/../lib.sh"
source "$REPO/tests/e2e/tui_lib.bash"

use_module rate_cases.c
start_nginx
test=rate_cases.TestRate.test_slow
NGINX_LOG=$NGINX_DIR/stamps.log # GET /stamp is logged there only

step "--rate 50 -d 2s, 2 users ready, at most 4 (one worker)"
run_loads "$test" --server-url "$NGINX_URL" --rate 50 -d 2s -u 2 --max-users 4 -w 1 \
    --json "$TMP_ROOT/run.json" --threshold 'dropped==0'
expect_status 99
expect_no_core
started=$(jq .rate.started "$TMP_ROOT/run.json")
dropped=$(jq .dropped "$TMP_ROOT/run.json")
echo "  started $started, dropped $dropped"
expect_eq "$((started + dropped))" 100 "runs started + dropped"
expect_eq "$(jq .rate.dropped "$TMP_ROOT/run.json")" "$dropped" ".rate.dropped"
expect_access_log "$started"
# Each of the 4 users starts a run at most every 0.2 s of the 2 s: 11
# each; and takes the next run due (every 20 ms) once free: at least one
# per 0.3 s each (slack for a busy machine).
expect_num "$started" "<=" 44 "runs started by 4 users holding each run 0.2 s"
expect_num "$started" ">=" 24 "runs started by 4 users holding each run 0.2 s"
expect_eq "$(jq .success "$TMP_ROOT/run.json")" "$started" "successes"
expect_out_line "Dropped: $dropped (no free user at their start time: the pool is at most 4 users, --max-users)"
expect_out_line "Runs started: $started ($(awk -v s="$started" 'BEGIN { printf "%.1f", s / 2 }')/s)"
expect_out_contains "FAILED  dropped==0  measured $dropped"
expect_eq "$(jq -c '.thresholds[0] | [.threshold, .measured, .pass]' "$TMP_ROOT/run.json")" \
    "[\"dropped==0\",$dropped,false]" "the threshold in the JSON"

step "the dashboard: the rate asked for, achieved, dropped"
tui_start 110 30 env LANG=C.UTF-8 LC_ALL= "$BUILD/loads-runner" "$test" --rate 50 -d 4s \
    -u 2 --max-users 4 -w 1 --server-url "$NGINX_URL"
tui_wait "Rate/s"
tui_wait "Stage 1/1"
tui_wait "Users 4/4"
sleep 1.5 # a complete second with the pool full
screen=$(tui_screen)
echo "$screen" | head -n 8
line=$(grep -F "Rate/s" <<<"$screen")
read -r target achieved now total < <(sed -E 's/.*target ([0-9.]+) +achieved ([0-9]+) +dropped ([0-9]+) +Runs started [0-9]+ +Dropped ([0-9]+).*/\1 \2 \3 \4/' <<<"$line")
[[ $total =~ ^[0-9]+$ ]] || fail "no rate row: target, achieved, dropped, Dropped" "$screen"
# The target is the schedule's rate, not a count: exactly 50.  What was
# achieved and dropped in the last second is counted when each run was
# handled: about 50 in all, but a tick late on a busy machine moves runs
# across a second's edge (the whole run's counts, above, are exact).
expect_eq "$target" 50 "the target rate"
expect_num "$achieved" "<=" 24 "runs achieved in a second by 4 users"
expect_num "$now" ">" 0 "runs dropped in the last second"
expect_num "$total" ">" 0 "runs dropped so far"
tui_wait_end 15
tui_expect_summary
