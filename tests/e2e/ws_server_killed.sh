#!/usr/bin/env bash
# The echo server dies in the middle of a run: the runs that lose their
# socket, or cannot connect any more, are counted Errors, and the run goes
# on to its normal end with a summary and exit status 1.
source "$(dirname "$0")/../lib.sh"

use_module ws_cases.c
start_echo

step "-u 10 -d 6s, loads-echo killed after 2 s"
(sleep 2 && kill -KILL "$ECHO_PID") &
killer=$!
t0=$(date +%s)
run_loads ws_cases.TestWsEcho.test_forever --server-url "$ECHO_URL" -u 10 -d 6s --timeout 2
wall=$(($(date +%s) - t0))
wait "$killer" || true
expect_status 1
expect_no_core
expect_out_sequence 'Hits: 0' 'Opened web sockets: [1-9][0-9]*' \
    'Bytes received via web sockets : [1-9][0-9]*' '' 'Success: [0-9]+' \
    'Errors: [1-9][0-9]*' 'Failures: 0'
expect_out_contains "Connection refused"
expect_num "$wall" "<" 15 "wall-clock seconds of the run"
