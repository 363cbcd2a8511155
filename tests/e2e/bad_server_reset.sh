#!/usr/bin/env bash
# A server that reads the request and resets the connection (SO_LINGER 0:
# a TCP RST instead of an answer) gives counted Errors that say so, as curl
# itself does: "Recv failure: Connection reset by peer".  At once: no wait
# for --timeout.
source "$(dirname "$0")/../lib.sh"

use_module bad_cases.c
test=TestBad.test_get
start_bad_http_server reset

step "reset after the request, -u 3 -c 2"
run_loads_timed "bad_cases.$test" --server-url "$BAD_URL" -u 3 -c 2 --timeout 2 \
    --json summary.json
expect_status 1
expect_no_core
expect_out_line "Success: 0"
expect_out_line "Failures: 0"
expect_out_line "Errors: 6"
expect_eq "$(grep -c ': reset, ' "$BAD_LOG")" 6 "connections reset by the server"
expect_num "$WALL" "<" 5 "wall-clock seconds of the run"
expect_json_errors summary.json 6 "$test" \
    "^GET ${BAD_URL//./\\.}/: Recv failure: Connection reset by peer\$"
