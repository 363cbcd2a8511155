#!/usr/bin/env bash
# Each websocket failure is an Error with a clear message, counted once, and
# the run ends normally with exit status 1: connection refused, handshake
# refused (403 from loads-echo, 404 from nginx), closed by the server, a
# receive timeout, a malformed frame, a connection dropped without a close
# frame, and a receive cut by the grace period.  loads-echo times each
# socket (sub-second): a receive timeout of 0.5 s closes it 0.49 to 0.75 s
# after its handshake (libuv's timers count from the loop's cached time, up
# to a few ms early; the rest is slack for a machine shared with builds).
# The grace period of -d 1s --grace 1 cuts a socket 2.0 to 2.5 s after
# the run's start: at most 2.5 s after its handshake (which comes late: the
# first connect of a worker sets up libwebsockets, 0.7 s was seen under
# ASan on a loaded machine), and at least 2.0 s after the test started
# loads-runner (its time of day against loads-echo's, 10 ms for the clocks).
source "$(dirname "$0")/../lib.sh"

use_module ws_cases.c
start_echo

# expect_ws_error TEST SERVER MESSAGE [ARGS...]: running ws_cases.TEST once
# against SERVER gives one Error with MESSAGE, and nothing else.
expect_ws_error() {
    local test=$1 server=$2 message=$3
    shift 3
    echo_mark
    run_loads "ws_cases.TestWsErrors.$test" --server-url "$server" "$@"
    expect_status 1
    [[ $server != "$ECHO_URL" ]] || expect_echo_counts
    expect_no_core
    expect_out_line "Success: 0"
    expect_out_line "Errors: 1"
    expect_out_line "Failures: 0"
    expect_out_count "$message" 1
}

step "connection refused"
port=$(free_port)
expect_ws_error test_refused "http://127.0.0.1:$port" \
    "WS connect ws://127.0.0.1:$port/: Connection refused"
expect_out_line "Opened web sockets: 0"

step "handshake refused: 403"
expect_ws_error test_forbidden "$ECHO_URL" \
    "WS connect ${ECHO_WS}/forbidden: handshake refused: HTTP 403"
expect_out_line "Opened web sockets: 0"

step "handshake refused: 404 (nginx)"
start_nginx
expect_ws_error test_not_found "$NGINX_URL" \
    "WS connect ${NGINX_URL/http:/ws:}/no-such-socket: handshake refused: HTTP 404"

step "closed by the server after one message"
expect_ws_error test_closed_by_server "$ECHO_URL" \
    "WS receive ${ECHO_WS}/close-after-1: closed by server (1000)"
expect_out_line "Opened web sockets: 1"
expect_out_line "Bytes received via web sockets : 3"

step "receive timeout"
expect_ws_error test_receive_timeout "$ECHO_URL" \
    "WS receive ${ECHO_WS}/: no message within 0.5 s"
expect_between "seconds the socket was open at loads-echo" 0.49 0.75 "$(echo_lifetimes)"

step "the same, 3 VUs x 2 runs: counted 6 times, one message"
echo_mark
run_loads ws_cases.TestWsErrors.test_receive_timeout --server-url "$ECHO_URL" -u 3 -c 2
expect_status 1
expect_echo_counts
mapfile -t lives < <(echo_lifetimes)
expect_eq "${#lives[@]}" 6 "sockets closed at loads-echo"
expect_between "seconds each socket was open at loads-echo" 0.49 0.75 "${lives[@]}"
expect_out_line "Opened web sockets: 6"
expect_out_line "Errors: 6"
expect_out_sequence 'Errors:' '  6 occurrences in TestWsErrors\.test_receive_timeout:' \
    "      WS receive ws://127\.0\.0\.1:[0-9]+/: no message within 0\.5 s"

step "malformed frame and dropped connection (ws_bad_server)"
cc -O1 -o ws_bad_server "$REPO/tests/e2e/modules/ws_bad_server.c" -lcrypto
./ws_bad_server >bad.out 2>&1 &
PIDS+=("$!")
for ((i = 0; i < 50; i++)); do
    [[ -s bad.out && $(<bad.out) =~ listening\ on\ ([0-9]+) ]] && break
    sleep 0.1
done
bad=http://127.0.0.1:${BASH_REMATCH[1]:?ws_bad_server did not start}
expect_ws_error test_malformed "$bad" \
    "WS receive ${bad/http:/ws:}/bad-opcode: protocol error: the server sent a frame that is not valid (RFC 6455)"
expect_out_line "Opened web sockets: 1"
expect_ws_error test_dropped "$bad" \
    "WS receive ${bad/http:/ws:}/drop: connection closed by server without a close frame"

step "a receive of 60 s, -u 3 -d 1s --grace 1: cut by the grace period, Interrupted"
t0=$(date +%s)
echo_mark
started=$(date +%s.%N)
run_loads ws_cases.TestWsErrors.test_long_receive --server-url "$ECHO_URL" -u 3 -d 1s --grace 1
wall=$(($(date +%s) - t0))
expect_status 0
expect_echo_counts
mapfile -t lives < <(echo_lifetimes)
expect_eq "${#lives[@]}" 3 "sockets closed at loads-echo"
expect_between "seconds each socket was open at loads-echo (-d 1s, --grace 1)" 0 2.5 "${lives[@]}"
mapfile -t closed < <(echo_closed_since "$started")
expect_between "seconds from starting loads-runner to each close at loads-echo" 1.99 3 "${closed[@]}"
expect_no_core
expect_out_line "Opened web sockets: 3"
expect_out_line "Errors: 0"
expect_out_line "Interrupted: 3 (cut by the end of the run, not errors)"
expect_num "$(out_field Duration)" ">=" 2.0 "Duration (1 s + 1 s of grace)"
expect_num "$(out_field Duration)" "<" 2.5 "Duration (cut at the end of the grace period)"
expect_num "$wall" "<" 8 "wall-clock seconds of the run"
