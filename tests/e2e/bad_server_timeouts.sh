#!/usr/bin/env bash
# Servers that never finish an answer end in counted Errors, "Operation timed
# out", once --timeout has passed, not later: a server that reads the request
# and never answers (-u 3 -c 2: 6 Errors, each run on its own connection,
# which the runner closes), and one whose valid answer comes one byte a
# second.
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
