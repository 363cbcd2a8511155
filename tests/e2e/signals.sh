#!/usr/bin/env bash
# SIGINT and SIGTERM stop a run gracefully: no new test starts, running ones
# finish within --grace, and the summary of what was done is printed.  A
# second SIGINT stops at once, still with a summary.  A supervisor killed
# with SIGKILL takes its workers with it, and the next run removes its
# segment.
source "$(dirname "$0")/../lib.sh"
use_module sig_tests.c
start_nginx
run_loads sig_tests.TestSig.test_browse --server-url "$NGINX_URL" -q # compile
: >"$NGINX_LOG"

for sig in INT TERM; do
    step "SIG$sig during a 30 s run: a graceful stop"
    : >"$NGINX_LOG"
    start_loads sig_tests.TestSig.test_browse --server-url "$NGINX_URL" -u 10 -d 30s
    sleep 2
    kill -"$sig" "$(runner_pid)"
    wait_loads
    expect_status 0 # every run that ended succeeded (README: a stopped run counts those)
    expect_num "$(out_field Duration)" "<" 8 "Duration after SIG$sig at 2 s"
    expect_out_line "Errors: 0"
    expect_out_line "Failures: 0"
    expect_access_log "$(out_field Hits)"
    expect_num "$(out_field Hits)" ">" 20 "hits before the stop"
done

step "runs longer than --grace are cut and counted as Errors"
start_loads sig_tests.TestSig.test_long --server-url "$NGINX_URL" -u 2 -d 30s --grace 1
sleep 1
kill -INT "$(runner_pid)"
wait_loads
expect_status 1
expect_out_line "Errors: 2"
expect_out_contains "stopped in loads_sleep after the grace period"
expect_num "$(out_field Duration)" "<" 5 "Duration with --grace 1"

step "a second SIGINT stops at once, with a summary"
start_loads sig_tests.TestSig.test_long --server-url "$NGINX_URL" -u 4 -w 2 -d 30s
sleep 1
runner=$(runner_pid)
workers=$(pgrep -P "$runner" | tr '\n' ' ')
kill -INT "$runner"
sleep 0.3
kill -INT "$runner"
wait_loads
expect_status 1
expect_num "$(out_field Duration)" "<" 3 "Duration after two SIGINTs (the grace is 5 s)"
expect_out_contains "at a second stop signal"
for w in $workers; do
    ! kill -0 "$w" 2>/dev/null || fail "worker $w outlived the run"
done

step "SIGKILL to the supervisor: its workers exit, the next run removes its segment"
start_loads sig_tests.TestSig.test_browse --server-url "$NGINX_URL" -u 4 -w 2 -d 30s
sleep 1
runner=$(runner_pid)
workers=$(pgrep -P "$runner" | tr '\n' ' ')
[[ -n $workers ]] || fail "no workers under loads-runner $runner"
[[ -e /dev/shm/loads-$runner ]] || fail "no segment /dev/shm/loads-$runner"
kill -KILL "$runner"
wait_loads
for ((i = 0; i < 30; i++)); do
    alive=0
    for w in $workers; do kill -0 "$w" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.1
done
((alive == 0)) || fail "workers $workers outlived their supervisor by 3 s"
[[ -e /dev/shm/loads-$runner ]] || fail "the killed run's segment should still be there"
run_loads sig_tests.TestSig.test_browse --server-url "$NGINX_URL" -q
expect_status 0
[[ ! -e /dev/shm/loads-$runner ]] || fail "the next run left the stale segment /dev/shm/loads-$runner"
