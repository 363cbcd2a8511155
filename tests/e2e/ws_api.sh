#!/usr/bin/env bash
# The websocket API against loads-echo, whose own counts and socket
# lifetimes (--log) are the reference: several queued messages come back in
# order; the binary flag; loads_ws_connect_ex's subprotocols and headers (the
# server tells what it got); a send after the server closed, and any call
# after the test closed, are Errors; a receive timeout of 0 or less means
# --timeout (the socket lives 1.0 to 1.25 s at the server for --timeout 1).
source "$(dirname "$0")/../lib.sh"

use_module ws_cases.c
start_echo

# ok TEST: TEST runs once, succeeds, and its counts are loads-echo's.
ok() {
    step "$1"
    echo_mark
    run_loads "ws_cases.TestWsApi.$1" --server-url "$ECHO_URL"
    expect_status 0
    expect_out_line "Success: 1"
    expect_out_line "Errors: 0"
    expect_out_line "Failures: 0"
    expect_echo_counts
}

# error TEST MESSAGE [ARGS...]: TEST runs once and is one Error with
# MESSAGE; its counts are loads-echo's.
error() {
    local test=$1 message=$2
    shift 2
    step "$test"
    echo_mark
    run_loads "ws_cases.TestWsApi.$test" --server-url "$ECHO_URL" "$@"
    expect_status 1
    expect_out_line "Success: 0"
    expect_out_line "Errors: 1"
    expect_out_line "Failures: 0"
    expect_out_count "$message" 1
    expect_echo_counts
}

ok test_queued
expect_out_line "Bytes received via web sockets : 11"
expect_eq "$(echo_stat ws_messages_in)" 3 "messages loads-echo received"
ok test_binary_flag
expect_out_line "Bytes received via web sockets : 7"
ok test_connect_ex
expect_out_line "Opened web sockets: 2"

error test_send_after_server_close "WS send $ECHO_WS/close-after-1: closed by server (1000)"
error test_send_after_close "WS send $ECHO_WS/: the test closed this socket"
error test_receive_after_close "WS receive $ECHO_WS/: the test closed this socket"
error test_close_twice "WS close $ECHO_WS/: the test closed this socket"
error test_receive_zero "WS receive $ECHO_WS/: no message within 1 s" --timeout 1
expect_between "seconds the socket was open at loads-echo (--timeout 1)" 0.99 1.25 "$(echo_lifetimes)"
error test_receive_negative "WS receive $ECHO_WS/: no message within 1 s" --timeout 1
expect_between "seconds the socket was open at loads-echo (--timeout 1)" 0.99 1.25 "$(echo_lifetimes)"
