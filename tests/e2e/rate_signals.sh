#!/usr/bin/env bash
# Stop signals during an open model (--rate), as README "Running" says: a
# graceful stop, status 128 + the signal, the runs in progress cut after
# --grace and counted as Interrupted, not as Errors or dropped runs.
# - SIGTERM to the whole process group (what timeout(1) sends, as a CI
#   job's limit does): the workers used to die of it, their runs in
#   progress becoming Errors of two crashes.
# - no run starts after the stop: the workers used to go on starting the
#   runs due until their next housekeeping tick, up to 0.1 s later (100
#   runs at 1,000/s; thousands at high rates).
source "$(dirname "$0")/../lib.sh"

use_module rate_cases.c
start_nginx
test=rate_cases.TestRate.test_hold # no request, each run holds its user 1 s

step "compile the module (so that no run below waits for cc)"
run_loads "$test" --server-url "$NGINX_URL" --rate 1 -d 0.1s -q
expect_status 0

# wait_workers N: waits (10 s at most) until the loads-runner of
# start_loads runs N workers; sets RUNNER and WORKERS.
wait_workers() {
    local i
    for ((i = 0; i < 100; i++)); do
        RUNNER=$(runner_pid || true)
        if [[ -n $RUNNER ]]; then
            mapfile -t WORKERS < <(pgrep -P "$RUNNER" -x loads-runner || true)
            ((${#WORKERS[@]} == $1)) && return 0
        fi
        alive "$LOADS_PID" || break
        sleep 0.1
    done
    fail "loads-runner did not start $1 worker(s)"
}

step "--rate 50 -d 4s -w 2 --grace 0.2, SIGTERM to the process group 1 s in"
start_loads "$test" --server-url "$NGINX_URL" --rate 50 -d 4s -w 2 --grace 0.2 \
    --json "$TMP_ROOT/term.json"
wait_workers 2
sleep 1
# timeout(1) passes the signal on to its whole process group.
kill -TERM "$LOADS_PID"
wait_loads
expect_status 143
expect_no_core
expect_eq "$(jq .crashes "$TMP_ROOT/term.json")" 0 "crashes"
expect_eq "$(jq .errors "$TMP_ROOT/term.json")" 0 "errors"
expect_eq "$(jq .stopped.by "$TMP_ROOT/term.json")" '"SIGTERM"' "stopped by"
started=$(jq .rate.started "$TMP_ROOT/term.json")
interrupted=$(jq .interrupted "$TMP_ROOT/term.json")
echo "  started $started, interrupted $interrupted"
# The runs of the last second were still holding their users.
expect_num "$interrupted" ">" 0 "interrupted runs"
expect_eq "$(jq '.success + .interrupted' "$TMP_ROOT/term.json")" "$started" \
    "successes + interrupted"
expect_eq "$(jq .dropped "$TMP_ROOT/term.json")" 0 "dropped"
# The rate achieved is over the time to the stop, not the grace after it.
after=$(jq .stopped.after "$TMP_ROOT/term.json")
rate=$(awk -v s="$started" -v a="$after" 'BEGIN { printf "%.3f", s / a }')
achieved=$(jq .rate.achieved_rate "$TMP_ROOT/term.json")
shown=$(sed -nE "s|^Runs started: $started \(([0-9.]+)/s\)\$|\1|p" "$OUT")
echo "  stopped after $after s: $rate runs/s; JSON $achieved, summary $shown"
# after is rounded to the ms, the summary's rate to 0.1: 1% apart at most.
lo=$(awk -v r="$rate" 'BEGIN { print r * 0.99 - 0.05 }')
hi=$(awk -v r="$rate" 'BEGIN { print r * 1.01 + 0.05 }')
for v in "$achieved" "$shown"; do
    expect_num "$v" ">=" "$lo" "the achieved rate (runs started / the time to the stop)"
    expect_num "$v" "<=" "$hi" "the achieved rate (runs started / the time to the stop)"
done

step "--rate 1000 -d 10s -w 2, SIGINT 1 s in: no run starts after the stop"
NGINX_LOG=$NGINX_DIR/stamps.log # GET /stamp is logged there only
: >"$NGINX_LOG"
start_loads rate_cases.TestRate.test_stamp --server-url "$NGINX_URL" --rate 1000 -d 10s \
    -w 2 --json "$TMP_ROOT/int.json"
wait_workers 2
sleep 1
kill -INT "$RUNNER"
wait_loads
expect_status 130
expect_no_core
started=$(jq .rate.started "$TMP_ROOT/int.json")
after=$(jq .stopped.after "$TMP_ROOT/int.json")
# The schedule starts after the run's clock does: by the stop, at most
# 1000 x after + 1 runs were due.  The workers start the runs due by the
# stop's time, however late they see it, and none after it: started and
# dropped are exactly the runs due (rate.due).
most=$(awk -v a="$after" 'BEGIN { printf "%d", 1000 * a + 1 }')
due=$(jq .rate.due "$TMP_ROOT/int.json")
echo "  stopped after $after s: $started runs started, $due due, at most $most"
expect_num "$due" "<=" "$most" "runs due by the stop"
expect_eq "$((started + $(jq .rate.dropped "$TMP_ROOT/int.json")))" "$due" "runs started + dropped"
expect_eq "$(jq .runs "$TMP_ROOT/int.json")" "$started" "runs ended"
expect_access_log "$started"
