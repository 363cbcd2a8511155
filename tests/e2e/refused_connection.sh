#!/usr/bin/env bash
# A server that refuses connections: an Error with curl's message, counted
# once, exit 1.
source "$(dirname "$0")/../lib.sh"

use_module example.c
port=$(free_port)
run_loads example.TestWebSite.test_something --server-url "http://127.0.0.1:$port"
expect_status 1
expect_out_line "Success: 0"
expect_out_line "Errors: 1"
expect_out_line "Failures: 0"
expect_out_count "Connection refused" 1

# Its count (1) is on the message's line or on the line before it, once the
# numbers in the message itself are left out (libcurl 7.88 says "Failed to
# connect to 127.0.0.1 port N after N ms: Couldn't connect to server"; the
# runner adds "(Connection refused)" from CURLINFO_OS_ERRNO).
n=$(grep -n -m 1 -F "Connection refused" "$OUT" | cut -d: -f1)
around=$(sed -n "$((n > 1 ? n - 1 : 1)),${n}p" "$OUT" |
    sed -E 's/[0-9]+(\.[0-9]+){3}//g; s/port [0-9]+//g; s/after [0-9]+ ms//g')
[[ $around =~ (^|[^0-9.])1([^0-9.]|$) ]] ||
    fail "stdout: expected the count 1 with the 'Connection refused' message"
