#!/usr/bin/env bash
# The VUs are spread over the worker processes: each request carries the pid
# of the worker that sent it (X-Loads-Pid, which nginx logs in pids.log), so
# the log tells how many workers there were and how much each did.
source "$(dirname "$0")/../lib.sh"

use_module engine_pid.c
start_nginx
test=engine_pid.TestPid.test_whoami
PIDS_LOG=$NGINX_DIR/pids.log

# expect_workers RUNS WORKERS PER_WORKER: pids.log (emptied before each run)
# has RUNS lines, from WORKERS distinct pids that each sent PER_WORKER
# requests; none of them is the supervisor's and none is still running.
expect_workers() {
    local counts pid pids
    NGINX_LOG=$PIDS_LOG expect_access_log "$1"
    counts=$(sort "$PIDS_LOG" | uniq -c | awk '{ print $1 }' | sort -u | tr '\n' ' ')
    expect_eq "$(sort -u "$PIDS_LOG" | grep -c .)" "$2" "distinct worker pids in pids.log"
    expect_eq "$counts" "$3 " "requests per worker pid"
    mapfile -t pids < <(sort -u "$PIDS_LOG")
    for pid in "${pids[@]}"; do
        [[ $pid =~ ^[0-9]+$ ]] || fail "pids.log: '$pid' is not a pid"
        ! alive "$pid" || fail "worker $pid still runs after the run ended"
    done
}

run_workers() {
    : >"$PIDS_LOG" # nginx appends (O_APPEND): it goes on at the new end
    run_loads "$test" --server-url "$NGINX_URL" "$@"
    expect_status 0
    expect_no_core
}

step "-u 8 -c 50 -w 2: two workers of 4 VUs, 200 requests each"
run_workers -u 8 -c 50 -w 2
expect_out_line "Hits: 400"
expect_out_line "Success: 400"
expect_workers 400 2 200

step "-u 8 -c 50 -w 4: four workers of 2 VUs, 100 requests each"
run_workers -u 8 -c 50 -w 4
expect_out_line "Success: 400"
expect_workers 400 4 100

step "-u 2 -c 10 -w 4: no more workers than VUs"
run_workers -u 2 -c 10 -w 4
expect_out_line "Success: 20"
expect_workers 20 2 10

step "-u 8 -c 10, default: one worker per core, at most 8"
cores=$(getconf _NPROCESSORS_ONLN) # as the runner counts them (not nproc)
((cores > 8)) && cores=8
# 8 VUs over the cores: only an even split gives one count per worker.
run_workers -u 8 -c 10
expect_out_line "Success: 80"
if ((8 % cores == 0)); then
    expect_workers 80 "$cores" $((80 / cores))
else
    NGINX_LOG=$PIDS_LOG expect_access_log 80
    expect_eq "$(sort -u "$PIDS_LOG" | grep -c .)" "$cores" "distinct worker pids in pids.log"
fi
