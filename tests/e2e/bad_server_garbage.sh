#!/usr/bin/env bash
# A server that answers random bytes that are not HTTP, then closes, gives
# counted Errors with curl's words for it: "Received HTTP/0.9 when not
# allowed" (a reply without an HTTP/1.x status line).  At once: no wait for
# --timeout.
source "$(dirname "$0")/../lib.sh"

use_module bad_cases.c
test=TestBad.test_get
start_bad_http_server garbage

step "garbage answer, -u 3 -c 2"
run_loads_timed "bad_cases.$test" --server-url "$BAD_URL" -u 3 -c 2 --timeout 2 \
    --json summary.json
expect_status 1
expect_no_core
expect_out_line "Success: 0"
expect_out_line "Failures: 0"
expect_json_errors summary.json 6 "$test" \
    "^GET ${BAD_URL//./\\.}/: Received HTTP/0\\.9 when not allowed\$"
expect_out_sequence 'Errors:' '  6 occurrences in TestBad\.test_get:' \
    "      GET http://127\\.0\\.0\\.1:[0-9]+/: Received HTTP/0\\.9 when not allowed"
expect_num "$WALL" "<" 5 "wall-clock seconds of the run"
expect_eq "$(grep -c ': request GET / HTTP/1.1$' "$BAD_LOG")" 6 "requests the server read"
