#!/usr/bin/env bash
# A VU's errors each keep their own reason, whatever client carried the one
# before: a request that timed out in the built-in client, then one refused
# at once through curl (a user:password@ URL), are "Operation timed out" and
# "Connection refused".  And the password shows nowhere: not in the URL
# table, not in a message, not in the JSON.
source "$(dirname "$0")/../lib.sh"

use_module errors_cases.c
start_bad_http_server silent
test=TestErrors.test_timeout_then_refused

# count_errors RE: the Errors of the test whose message matches RE, in the JSON.
count_errors() {
    jq --arg t "$test" --arg re "$1" \
        '[.error_messages[] | select(.test == $t and (.message | test($re))) | .count] | add // 0' \
        summary.json
}

run_loads "errors_cases.$test" --server-url "$BAD_URL" -u 1 -c 2 -w 1 --timeout 1 \
    --json summary.json
expect_status 1
expect_no_core
expect_out_line "Success: 0"
expect_out_line "Errors: 2"
expect_eq "$(jq .errors summary.json)" 2 ".errors"
expect_eq "$(count_errors "^GET ${BAD_URL//./\\.}/: Operation timed out \\(--timeout 1s\\)\$")" 1 \
    "the first run's timeout"
expect_eq "$(count_errors '^GET http://user@127\.0\.0\.1:1/private: .*Connection refused')" 1 \
    "the second run's refusal"
expect_eq "$(count_errors 'timed out.*timed out|refused.*timed out')" 0 "mixed reasons"
expect_out_contains "GET http://user@127.0.0.1:1/private"
expect_eq "$(cat "$OUT" summary.json | grep -c secret || true)" 0 "lines that show the password"

step "NULL for a URL or a counter's name: an Error that says so, no crash"
for case in "null_url:loads_request: no URL (NULL)" "null_counter:loads_add_counter: no counter name (NULL)" \
    "null_ws_url:loads_ws_connect: no URL (NULL)"; do
    run_loads "errors_cases.TestErrors.test_${case%%:*}" --server-url "$BAD_URL"
    expect_status 1
    expect_no_core
    expect_out_line "Errors: 1"
    expect_out_line "      ${case#*:}"
    if grep -q '^Crashes:' "$OUT"; then fail "a worker crashed"; fi
done
