#!/usr/bin/env bash
# Servers that never finish an answer end in counted Errors, "Operation timed
# out", once --timeout has passed, not later: a server that reads the request
# and never answers (-u 3 -c 2: 6 Errors, each run on its own connection,
# which the runner closes), and one whose valid answer comes one byte a
# second.  The server times each connection (sub-second): a 2 s timeout
# closes it 1.95 to 2.5 s after its accept (the runner checks deadlines ten
# times a second; the rest is slack for a machine shared with builds; the
# low end because the server stamps an accept when it gets to run, which
# under load was seen 13 ms after the client's connect).
source "$(dirname "$0")/../lib.sh"

use_module bad_cases.c
test=TestBad.test_get

step "silent server, -u 3 -c 2 --timeout 2: 6 timeouts"
start_bad_http_server silent
run_loads_timed "bad_cases.$test" --server-url "$BAD_URL" -u 3 -c 2 --timeout 2 \
    --json summary.json
expect_status 1
expect_no_core
expect_out_line "Success: 0"
expect_out_line "Failures: 0"
# One message for all six: the runner leaves out curl's varying figures.
expect_json_errors summary.json 6 "$test" \
    "^GET ${BAD_URL//./\\.}/: Operation timed out \\(--timeout 2s\\)\$"
expect_out_sequence "  6 occurrences in $test:" "      GET ${BAD_URL//./\\.}/: Operation timed out \\(--timeout 2s\\)"
# Two runs of 2 s one after the other.
expect_num "$WALL" ">=" 3.9 "wall-clock seconds of the run"
expect_num "$WALL" "<" 10 "wall-clock seconds of the run"
# Each run had its connection, closed by the runner when it timed out.
expect_eq "$(grep -c ': request GET / HTTP/1.1$' "$BAD_LOG")" 6 "requests the silent server read"
expect_eq "$(grep -c ': closed, sent 0 body bytes$' "$BAD_LOG")" 6 \
    "connections closed at the silent server"
mapfile -t lives < <(bad_lifetimes)
echo "  connection lifetimes: ${lives[*]}"
expect_between "seconds from accept to close at the silent server" 1.95 2.5 "${lives[@]}"
# Each VU's second run starts when its first ends: accepts in two waves.
mapfile -t accepts < <(bad_times accepted)
expect_eq "${#accepts[@]}" 6 "connections accepted"
for i in 0 1 2; do
    expect_between "seconds between the waves of accepts" 1.95 2.5 \
        "$(awk -v a="${accepts[i]}" -v b="${accepts[i + 3]}" 'BEGIN { printf "%.3f", b - a }')"
done

step "trickling server (one byte a second), --timeout 2"
start_bad_http_server trickle
run_loads_timed "bad_cases.$test" --server-url "$BAD_URL" --timeout 2 --json summary.json
expect_status 1
expect_no_core
expect_out_line "Success: 0"
expect_out_line "Failures: 0"
expect_json_errors summary.json 1 "$test" \
    "^GET ${BAD_URL//./\\.}/: Operation timed out \\(--timeout 2s\\)\$"
expect_num "$WALL" ">=" 1.9 "wall-clock seconds of the run"
expect_num "$WALL" "<" 8 "wall-clock seconds of the run"
for ((i = 0; i < 20; i++)); do
    grep -q ': closed, ' "$BAD_LOG" && break
    sleep 0.1
done
expect_eq "$(grep -c ': closed, ' "$BAD_LOG")" 1 "connections closed at the trickling server"
expect_between "seconds from accept to close at the trickling server" 1.95 2.5 "$(bad_lifetimes)"

step "a connect that never completes (the server's listen queue is full), --timeout 2"
start_bad_http_server full
start_nginx
for client in built-in curl; do
    : >"$NGINX_DIR/at.log"
    [[ $client == curl ]] && export LOADS_HTTP=curl
    NGINX_URL=$NGINX_URL FULL_URL=$BAD_URL run_loads bad_cases.TestConnect.test_full \
        --server-url "$BAD_URL" --timeout 2 --json summary.json
    unset LOADS_HTTP
    expect_status 1
    expect_out_line "Success: 0"
    expect_out_line "Failures: 0"
    expect_json_errors summary.json 1 TestConnect.test_full \
        "^GET ${BAD_URL//./\\.}/: Operation timed out \\(--timeout 2s\\)\$"
    # setUp's stamp, then tearDown's (it runs after an Error), in nginx's log
    # ($msec: its cached clock, 1 ms, hence 1.99).
    expect_eq "$(awk '{ print $3 }' "$NGINX_DIR/at.log" | paste -sd ' ')" \
        "/at/setup /at/teardown" "requests in at.log ($client)"
    took=$(awk 'NR == 1 { a = $1 } NR == 2 { printf "%.3f", $1 - a }' "$NGINX_DIR/at.log")
    echo "  $client: setUp to tearDown: $took s"
    expect_between "seconds from setUp to tearDown around the connect ($client)" 1.99 2.5 "$took"
done
expect_eq "$(grep -c ': accepted' "$BAD_LOG" || true)" 0 "connections the full server accepted"
