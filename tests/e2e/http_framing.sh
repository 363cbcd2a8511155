#!/usr/bin/env bash
# Response framings nginx does not send, from bad_http_server: a chunked
# body with an extension and a trailer, an HTTP/1.0 body ended by the
# close, a "100 Continue" before the answer.  Each gives the same body;
# keep-alive framings reuse one connection per VU, the close one opens one
# per request.
source "$(dirname "$0")/../lib.sh"

use_module http_cases.c

# framing MODE CONNECTIONS: -u 3 -c 5 against bad_http_server MODE.
framing() {
    step "$1: -u 3 -c 5"
    start_bad_http_server "$1"
    run_loads http_cases.TestHttp.test_hello --server-url "$BAD_URL" -u 3 -c 5 -w 1
    expect_status 0
    expect_out_line "Success: 15"
    expect_out_line "Hits: 15"
    expect_out_line "Errors: 0"
    expect_out_line "Failures: 0"
    expect_eq "$(grep -c ': request GET / HTTP/1.1$' "$BAD_LOG")" 15 "requests the server read"
    expect_eq "$(grep -c ': accepted$' "$BAD_LOG")" "$2" "connections the server accepted"
    stop_pid "$BAD_PID"
}

framing chunked 3
framing close 15
framing interim 3
