#!/usr/bin/env bash
# The echo server dies in the middle of a run: the runs that lose their
# socket, or cannot connect any more, are counted Errors, and the run goes
# on to its normal end with a summary and exit status 1.  The end is timed
# with a sub-second clock from the start of loads-runner (its module built
# beforehand, so no compiler runs in that time): -d 6s ends 6.0 to 8.0 s
# after its start (a run in progress at 6 s is cut at once by the dead
# server; the rest is slack for a machine shared with builds, and for ASan,
# where 6.3 s was seen; a run that waited on its dead socket would wait
# for its 5 s receive and the 5 s grace, past 11 s), and the summary's
# Duration says the same.  The server is killed once the 10 VUs have their
# sockets (a fixed 2 s after the start could come before them on a busy
# machine).
source "$(dirname "$0")/../lib.sh"

use_module ws_cases.c
cc -shared -fPIC -O1 -I"$REPO/include" -o ws_cases.so ws_cases.c
start_echo

step "-u 10 -d 6s, loads-echo killed 1 s after the 10 sockets opened"
(
    for ((i = 0; i < 300; i++)); do
        n=$(curl -s --max-time 5 "$ECHO_URL/stats" | awk '$1 == "ws_opened" { print $2 }')
        ((${n:-0} >= 10)) && break
        sleep 0.1
    done
    sleep 1
    kill -KILL "$ECHO_PID"
) &
killer=$!
run_loads_timed ws_cases.TestWsEcho.test_forever --server-url "$ECHO_URL" -u 10 -d 6s --timeout 2
wait "$killer" || true
expect_status 1
expect_no_core
expect_out_sequence 'Hits: 0' 'Opened web sockets: [1-9][0-9]*' \
    'Bytes received via web sockets : [1-9][0-9]*' '' 'Success: [0-9]+' \
    'Errors: [1-9][0-9]*' 'Failures: 0'
expect_out_contains "Connection refused"
expect_between "Duration" 6.0 7.5 "$(out_field Duration)"
expect_between "wall-clock seconds of the run" 6.0 8.0 "$WALL"
