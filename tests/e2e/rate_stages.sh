#!/usr/bin/env bash
# solo: it checks each second's share of runs by nginx's clock
# --rate stages and ramps, each stage -d long, by the server's clock:
# --rate 0-100:100:100-0 -d 2s ramps up to 100/s over 2 s (100 runs, a
# quarter of them in its first second), holds 100/s for 2 s (200), ramps
# down (100, three quarters in its first second).  nginx logs each run's
# time ($msec in stamps.log).  And the open model's usage errors: exit 2,
# one line saying what to fix.
source "$(dirname "$0")/../lib.sh"

use_module rate_cases.c
start_nginx
test=rate_cases.TestRate.test_stamp
NGINX_LOG=$NGINX_DIR/stamps.log # GET /stamp is logged there only

step "--rate 0-100:100:100-0 -d 2s: 400 runs"
run_loads "$test" --server-url "$NGINX_URL" --rate 0-100:100:100-0 -d 2s --json "$TMP_ROOT/r.json"
expect_status 0
expect_no_core
expect_out_line "Rate: 0-100/s, 100/s, 100-0/s, 2 s each (400 runs scheduled)"
expect_out_line "Runs started: 400 (66.7/s)"
expect_out_line "Dropped: 0"
expect_access_log 400
expect_eq "$(jq -c '.rate.stages' "$TMP_ROOT/r.json")" \
    '[{"from":0,"to":100},{"from":100,"to":100},{"from":100,"to":0}]' "the stages in the JSON"
expect_eq "$(jq '.rate.stage_duration' "$TMP_ROOT/r.json")" 2 "stage duration"
# Requests per second of the server's clock, from the first (run 0, at 0 s):
# 25, 75, 100, 100, 75, 25.  A run at the edge of a second may fall on
# either side of it on a busy machine: 3 of slack.
sort -n "$NGINX_LOG" | awk 'NR == 1 { a = $1 } { n[int($1 - a)]++ }
    END { for (s = 0; s < 6; s++) printf "%d ", n[s]; print "" }' >"$TMP_ROOT/per_second"
read -r -a per <"$TMP_ROOT/per_second"
echo "  per second: ${per[*]}"
want=(25 75 100 100 75 25)
for s in 0 1 2 3 4 5; do
    expect_num "${per[s]:-0}" ">=" "$((want[s] - 3))" "requests in second $s"
    expect_num "${per[s]:-0}" "<=" "$((want[s] + 3))" "requests in second $s"
done

step "stages in milliseconds: --rate 40:20 -d 500ms is 20 + 10 runs"
: >"$NGINX_LOG"
run_loads "$test" --server-url "$NGINX_URL" --rate 40:20 -d 500ms -q
expect_status 0
expect_out_line "Runs started: 30 (30.0/s)"
expect_access_log 30

step "a fractional rate: --rate 0.5 -d 3s is 2 runs (at 0 and 2 s)"
: >"$NGINX_LOG"
run_loads "$test" --server-url "$NGINX_URL" --rate 0.5 -d 3s -q
expect_status 0
expect_out_line "Rate: 0.5/s, 3 s (2 runs scheduled)"
expect_access_log 2
spread=$(sort -n "$NGINX_LOG" | awk 'NR == 1 { a = $1 } { b = $1 } END { printf "%.2f", b - a }')
# Logged when each ends: a slow first request on a busy machine (its
# connection too) takes up to 0.3 s of it.
expect_num "$spread" ">=" 1.7 "seconds between the 2 runs (nginx)"
expect_num "$spread" "<=" 2.3 "seconds between the 2 runs (nginx)"

step "the rate in the config file"
printf '[loads]\nrate = 20\nduration = 1s\nmax_users = 5\n' >"$TMP_ROOT/r.ini"
: >"$NGINX_LOG"
run_loads "$test" --server-url "$NGINX_URL" --config "$TMP_ROOT/r.ini" -q
expect_status 0
expect_out_line "Rate: 20/s, 1 s (20 runs scheduled)"
expect_access_log 20

step "usage errors"
: >"$NGINX_LOG"
usage() {
    run_loads "$test" --server-url "$NGINX_URL" "${@:2}"
    expect_usage_error
    expect_err_contains "$1"
}
usage "--rate needs --duration: each stage of the rate lasts -d" --rate 10
usage "--rate and --hits exclude each other" --rate 10 -c 5
usage "with --rate, -u is how many users are ready at the start: one number" --rate 10 -d 1s -u 1:2
usage "--ramp-up is for -u cycles; with --rate, ramp the rate itself: --rate 0-100 -d 30s" \
    --rate 10 -d 5s --ramp-up 2
usage "--max-users goes with --rate" -u 2 --max-users 4
usage "--max-users 2 is below -u 3" --rate 10 -d 1s -u 3 --max-users 2
for bad in 0 0:0 abc 10::20 :10 10: -5 1.2345 10-20-30 1.5. "10 " 20000000; do
    usage "invalid --rate '$bad': use runs per second (100, 0.5), stages such as 10:50:100, or ramps such as 0-100:100:100-0" \
        --rate "$bad" -d 1s
done
expect_access_log 0
