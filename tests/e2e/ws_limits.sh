#!/usr/bin/env bash
# A websocket message over --ws-max-message (default 16 MiB) is an Error on
# its socket, never a crash of the worker: from python3-websockets (a
# third-party peer) whole and in fragments, and from a raw server of the
# tests' own; the socket is closed with 1009 (message too big), and the
# worker's other VUs and later runs go on.  A message at the limit passes.
source "$(dirname "$0")/../lib.sh"

use_module ws_limit.c
test=TestLimit.test_receive

# start_big SIZE [FRAGMENTS]: starts ws_big_server.py; sets BIG_URL and BIG_LOG.
start_big() {
    local i pid
    BIG_LOG=$TMP_ROOT/big.$1.${2:-1}.log
    : >"$BIG_LOG"
    /usr/bin/python3 "$REPO/tests/e2e/modules/ws_big_server.py" "$@" >"$BIG_LOG" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    for ((i = 0; i < 300; i++)); do
        [[ $(head -n 1 "$BIG_LOG") =~ listening\ on\ ([0-9]+) ]] && break
        alive "$pid" || break
        sleep 0.1
    done
    BIG_URL=http://127.0.0.1:${BASH_REMATCH[1]:?ws_big_server.py did not start: $(cat "$BIG_LOG")}
}

# expect_closes CODE N: the server logged N closes with CODE (waiting 20 s at
# most: python on a busy machine).
expect_closes() {
    local i
    for ((i = 0; i < 200; i++)); do
        [[ $(grep -c "^closed $1\$" "$BIG_LOG" || true) -ge $2 ]] && break
        sleep 0.1
    done
    expect_eq "$(grep -c "^closed $1\$" "$BIG_LOG" || true)" "$2" "closes with $1 at the server"
}

step "16 MiB + 1 from python3-websockets, -u 2 -c 2 -w 1: 4 Errors, no crash"
start_big $((16 * 1024 * 1024 + 1))
run_loads "ws_limit.$test" --server-url "$BIG_URL" -u 2 -c 2 -w 1
expect_status 1
expect_no_core
expect_out_line "Opened web sockets: 4"
expect_out_line "Success: 0"
expect_out_line "Errors: 4"
expect_out_count "message larger than 16777216 bytes (--ws-max-message)" 1
expect_out_line "  4 occurrences in $test:"
if grep -q '^Crashes:' "$OUT"; then fail "a worker crashed"; fi
expect_closes 1009 4

step "exactly 16 MiB: received"
start_big $((16 * 1024 * 1024))
run_loads "ws_limit.$test" --server-url "$BIG_URL"
expect_status 0
expect_out_line "Success: 1"
expect_out_line "Bytes received via web sockets : 16777216"
expect_closes 1000 1 # the socket left open by the test, closed politely at the run's end

step "--ws-max-message 1000: 1001 bytes in 3 fragments is too large, 1000 is not"
start_big 1001 3
run_loads "ws_limit.$test" --server-url "$BIG_URL" --ws-max-message 1000
expect_status 1
expect_out_line "Errors: 1"
expect_out_count "message larger than 1000 bytes (--ws-max-message)" 1
expect_closes 1009 1
start_big 1000 3
run_loads "ws_limit.$test" --server-url "$BIG_URL" --ws-max-message 1000
expect_status 0
expect_out_line "Success: 1"
expect_out_line "Bytes received via web sockets : 1000"

step "16 MiB + 1 in one frame from a raw server: an Error, no crash"
cc -O1 -o ws_bad_server "$REPO/tests/e2e/modules/ws_bad_server.c" -lcrypto
./ws_bad_server >bad.out 2>&1 &
PIDS+=("$!")
for ((i = 0; i < 300; i++)); do
    [[ -s bad.out && $(<bad.out) =~ listening\ on\ ([0-9]+) ]] && break
    sleep 0.1
done
bad=http://127.0.0.1:${BASH_REMATCH[1]:?ws_bad_server did not start}
run_loads "ws_limit.$test" --server-url "$bad" -u 1 -c 2
expect_status 1
expect_no_core
expect_out_line "Errors: 2"
expect_out_count "message larger than 16777216 bytes (--ws-max-message)" 1
if grep -q '^Crashes:' "$OUT"; then fail "a worker crashed"; fi

step "--ws-max-message 0 is bad usage"
run_loads "ws_limit.$test" --server-url "$bad" --ws-max-message 0
expect_status 2
expect_err_contains "invalid --ws-max-message '0'"
