#!/usr/bin/env bash
# The websocket example (examples/ws_example.c) against loads-echo: one run
# opens one socket and receives "something" + "happened" (17 bytes); with
# -u 20 -c 5 the counts are exact (100 sockets, 1700 bytes).  One VU mixes
# HTTP and a socket it leaves open.
source "$(dirname "$0")/../lib.sh"

use_module ws_example.c
use_module ws_cases.c
start_echo

step "-u 1: the seed's summary"
echo_mark
run_loads ws_example.TestWebSocket.test_echo --server-url "$ECHO_URL"
expect_status 0
expect_echo_counts
expect_out_sequence \
    'Hits: 0' \
    'Opened web sockets: 1' \
    'Bytes received via web sockets : 17' \
    '' \
    'Success: 1' \
    'Errors: 0' \
    'Failures: 0'

step "-u 20 -c 5: 100 sockets, 1700 bytes, exactly"
echo_mark
run_loads ws_example.TestWebSocket.test_echo --server-url "$ECHO_URL" -u 20 -c 5
expect_status 0
expect_echo_counts
expect_out_line "Opened web sockets: 100"
expect_out_line "Bytes received via web sockets : 1700"
expect_out_line "Success: 100"
expect_out_line "Errors: 0"
expect_out_line "Failures: 0"

step "absolute ws:// URL is the same socket as the relative one"
sed -i "s|loads_ws_connect(t, \"/\"|loads_ws_connect(t, \"$ECHO_WS/\"|" ws_example.c
echo_mark
run_loads ws_example.TestWebSocket.test_echo -u 2 -c 2
expect_status 0
expect_echo_counts
expect_out_line "Opened web sockets: 4"
expect_out_line "Bytes received via web sockets : 68"

step "one VU mixes HTTP and a socket it leaves open; the socket's row"
echo_mark
run_loads ws_cases.TestWsEcho.test_mixed --server-url "$ECHO_URL" -u 5 -c 4
expect_status 0
expect_echo_counts
expect_out_line "Hits: 40"
expect_eq $(($(echo_stat http_requests) - ECHO_MARK_HTTP)) 40 "HTTP requests loads-echo served"
expect_out_line "Opened web sockets: 20"
expect_out_line "Bytes received via web sockets : 100"
expect_out_line "Success: 20"
# 20 handshakes + 20 messages, all successful.
expect_out_sequence "WS ws://127\.0\.0\.1:[0-9]+/ +40 +100\.0%.*"

step "binary and fragmented messages: 300000 bytes, back whole"
echo_mark
run_loads ws_cases.TestWsEcho.test_binary_large --server-url "$ECHO_URL" -u 2
expect_status 0
expect_echo_counts
expect_out_line "Opened web sockets: 2"
expect_out_line "Bytes received via web sockets : 600000"
expect_out_line "Success: 2"
