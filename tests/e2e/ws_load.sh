#!/usr/bin/env bash
# Many VUs on web sockets: 200 VUs x 50 round trips each (10,000 echoes)
# end with no error and exact counts; a socket per VU, opened over a short
# ramp-up.
source "$(dirname "$0")/../lib.sh"

use_module ws_cases.c
start_echo

step "-u 200 -c 1, 50 round trips each, --ramp-up 1"
echo_mark
run_loads ws_cases.TestWsEcho.test_roundtrips --server-url "$ECHO_URL" -u 200 -c 1 --ramp-up 1
expect_status 0
expect_echo_counts
expect_no_core
expect_out_line "Opened web sockets: 200"
# "message 0".."message 9" are 9 bytes, "message 10".."message 49" 10.
expect_out_line "Bytes received via web sockets : $((200 * (10 * 9 + 40 * 10)))"
expect_out_line "Success: 200"
expect_out_line "Errors: 0"
expect_out_line "Failures: 0"

step "-u 200 -c 1 without ramp-up: all connect at once"
echo_mark
run_loads ws_cases.TestWsEcho.test_roundtrips --server-url "$ECHO_URL" -u 200 -c 1
expect_status 0
expect_echo_counts
expect_out_line "Opened web sockets: 200"
expect_out_line "Success: 200"
expect_out_line "Errors: 0"
