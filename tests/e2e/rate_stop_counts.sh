#!/usr/bin/env bash
# Exact counts at a stop in an open model (--rate): every run the schedule
# had due by the stop was started or counted as dropped (the JSON's
# rate.due, "N due by the stop" in the summary), none due after it was
# started, and nginx saw each run started.
# The trigger, deterministic: the first run holds the worker's loop (test
# code that blocks, TestRate.test_hold_loop) while the schedule's next runs
# fall due and the runner is stopped (SIGINT); then the loop sees the stop
# before those runs.  The worker used to start nothing more once it saw the
# stop, whatever was due before it: the runs due between its last wake-up
# and the stop (at most its 250 us tick, unless a run held its loop) were
# neither started nor dropped, so started + dropped < scheduled even when
# the stop came after the schedule's end.
source "$(dirname "$0")/../lib.sh"

use_module rate_cases.c
start_nginx
NGINX_LOG=$NGINX_DIR/stamps.log # GET /stamp is logged there only
test=rate_cases.TestRate.test_hold_loop

step "compile the module (so that no run below waits for cc)"
run_loads rate_cases.TestRate.test_stamp --server-url "$NGINX_URL" --rate 1 -d 0.1s -q
expect_status 0

# hold_and_stop AFTER NAME ARGS...: starts loads-runner ARGS with its first
# run holding the loop, sends SIGINT AFTER seconds after that run began,
# lets the run go on 0.5 s later, and waits for the end; the JSON is
# $TMP_ROOT/NAME.json.
hold_and_stop() {
    local after=$1 name=$2 i
    shift 2
    rm -f "$TMP_ROOT/held" "$TMP_ROOT/release"
    : >"$NGINX_LOG"
    start_loads "$test" --server-url "$NGINX_URL" --env "HELD=$TMP_ROOT/held" \
        --env "RELEASE=$TMP_ROOT/release" --json "$TMP_ROOT/$name.json" "$@"
    for ((i = 0; i < 200; i++)); do
        [[ -e $TMP_ROOT/held ]] || alive "$LOADS_PID" || break
        [[ -e $TMP_ROOT/held ]] && break
        sleep 0.05
    done
    [[ -e $TMP_ROOT/held ]] || fail "the first run did not start"
    RUNNER=$(runner_pid)
    sleep "$after"
    kill -INT "$RUNNER"
    # The runner sets the stop at once (it waits on signals); the worker's
    # loop is still held, so it sees the stop before the runs due since.
    sleep 0.5
    : >"$TMP_ROOT/release"
    wait_loads
    expect_no_core
}

step "--rate 4 -d 1s: the stop comes after the schedule's end, its 4 runs due meanwhile"
hold_and_stop 1.5 after --rate 4 -d 1s -w 1 --grace 5
# A stop after the schedule's end does not make a stopped run.
expect_status 0
json=$TMP_ROOT/after.json
expect_eq "$(jq .rate.scheduled "$json")" 4 "runs scheduled"
expect_eq "$(jq '.rate.started + .rate.dropped' "$json")" 4 "runs started + dropped"
expect_eq "$(jq .rate.dropped "$json")" 0 "runs dropped (the pool had room)"
expect_eq "$(jq .runs "$json")" 4 "runs ended"
expect_eq "$(jq .rate.due "$json")" 4 "runs due by the stop"
expect_out_line "Rate: 4/s, 1 s (4 runs scheduled)"
expect_out_line "Runs started: 4 (4.0/s)"
expect_access_log 4

# expect_stopped_early NAME MIN MAX: the run of $TMP_ROOT/NAME.json was
# stopped (SIGINT) before its schedule's end of MAX runs, with at least MIN
# due by then: every run due was started (the pool had room), none after,
# and nginx saw each.
expect_stopped_early() {
    local json=$TMP_ROOT/$1.json due started
    expect_status 130
    due=$(jq .rate.due "$json")
    started=$(jq .rate.started "$json")
    echo "  due by the stop $due, started $started, dropped $(jq .rate.dropped "$json")"
    expect_num "$due" ">=" "$2" "runs due by the stop"
    expect_num "$due" "<" "$3" "runs due by the stop"
    expect_eq "$(jq '.rate.started + .rate.dropped' "$json")" "$due" "runs started + dropped"
    expect_eq "$(jq .rate.dropped "$json")" 0 "runs dropped (the pool had room)"
    expect_eq "$(jq .runs "$json")" "$started" "runs ended"
    expect_out_line "Rate: $(jq .rate.stages[0].from "$json")/s, 10 s ($3 runs scheduled, $due due by the stop)"
    expect_access_log "$started"
}

step "--rate 4 -d 10s: the stop 1.5 s in, the runs due by then start, none after"
hold_and_stop 1.5 before --rate 4 -d 10s -w 1 --grace 5
# Runs 0 to 6 (0, 0.25... 1.5 s) were due by the stop, later ones only
# if the machine was slow to send it; the schedule has 40.
expect_stopped_early before 7 40

step "-w 2, --rate 8 -d 10s: each worker's stripe, the stop 1.5 s in"
# Each worker's first run holds its loop: each starts the runs of its
# stripe due by the stop late, and none after.
hold_and_stop 1.5 two --rate 8 -d 10s -w 2 --grace 5
expect_stopped_early two 13 80

step "--rate 10 -d 10s, setUpVU takes 2 s, SIGINT 1 s in, --grace 0.2: the logins are cut"
# Each run due meets a user still logging in, so the pool adds one for it;
# the stop's grace period cuts every login. A cut setUpVU is no run, so
# the runs those users were added for never started: they are dropped
# (they were neither, and started + dropped was less than due).
: >"$NGINX_LOG"
start_loads rate_cases.TestRateSlowLogin.test_stamp --server-url "$NGINX_URL" --rate 10 \
    -d 10s -u 1 -w 1 --grace 0.2 --json "$TMP_ROOT/login.json"
wait_workers_of_runner() {
    local i
    for ((i = 0; i < 100; i++)); do
        RUNNER=$(runner_pid || true)
        [[ -n $RUNNER ]] && pgrep -P "$RUNNER" -x loads-runner >/dev/null && return 0
        alive "$LOADS_PID" || break
        sleep 0.1
    done
    fail "loads-runner did not start its worker"
}
wait_workers_of_runner
sleep 1
kill -INT "$RUNNER"
wait_loads
expect_status 130
expect_no_core
json=$TMP_ROOT/login.json
due=$(jq .rate.due "$json")
echo "  due by the stop $due, started $(jq .rate.started "$json"), dropped $(jq .rate.dropped "$json")"
expect_num "$due" ">=" 1 "runs due by the stop"
expect_eq "$(jq .rate.started "$json")" 0 "runs started"
expect_eq "$(jq .rate.dropped "$json")" "$due" "runs dropped"
expect_access_log 0
