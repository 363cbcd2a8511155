#!/usr/bin/env bash
# Named requests (one URL-table row for ids in the path, redirects
# included), expected statuses (OK in the table, a Failure with .fail that
# names the status and what was expected) and a request's own timeout;
# rows checked against nginx's access log.
source "$(dirname "$0")/../lib.sh"

use_module named_cases.c
start_nginx

step "ten ids in the path, one row named GET /api/items/{id}"
run_loads named_cases.TestNamed.test_items --server-url "$NGINX_URL" -u 3 -c 2 --json s.json
expect_status 0
expect_out_line "Success: 6"
logged=$(grep -c '"GET /api/items/[0-9]*?user=[0-9] HTTP/1.1" 200' "$NGINX_LOG" || true)
expect_eq "$logged" 60 "item requests in nginx's log"
expect_eq "$(jq '.urls | length' s.json)" 1 "rows of the URL table"
expect_eq "$(jq -r '.urls[0].url' s.json)" "GET /api/items/{id}" "the row's name"
expect_eq "$(jq '.urls[0].hits' s.json)" "$logged" "hits of the row against nginx's log"
expect_eq "$(jq '.urls[0].ok' s.json)" "$logged" "OK of the row"
expect_out_contains "$(printf '%-48s %9s %8s' "GET /api/items/{id}" 60 100.0%)"
expect_out_contains "OK: responses with an expected status"

step "a named request that is redirected: every hop on the name's row"
: >"$NGINX_LOG"
run_loads named_cases.TestNamed.test_login --server-url "$NGINX_URL" -c 3 --json s.json
expect_status 0
expect_access_log 6
expect_eq "$(jq -c '[.urls[] | {url, hits, ok}]' s.json)" '[{"url":"login","hits":6,"ok":6}]' \
    "the URL table"

step "thresholds on a named row: the name in {}, checked against nginx's log"
: >"$NGINX_LOG"
run_loads named_cases.TestNamed.test_items --server-url "$NGINX_URL" -u 2 -c 2 \
    --threshold "hits{GET /api/items/{id}}==40" --threshold 'p99{GET /api/items/{id}}<30s'
expect_status 0
expect_access_log 40
expect_out_sequence "Thresholds: all 2 passed" "  ok      hits\{GET /api/items/\{id\}\}==40 +measured 40"
run_loads named_cases.TestNamed.test_login --server-url "$NGINX_URL" -c 3 \
    --threshold 'hits{login}>6' --threshold 'errors{login}==0'
expect_status 99
expect_out_sequence "Thresholds: 1 of 2 failed" "  FAILED  hits\{login\}>6 +measured 6" \
    "  ok      errors\{login\}==0 +measured 0"

step "expected statuses"
: >"$NGINX_LOG"
run_loads named_cases.TestStatus --server-url "$NGINX_URL" --json s.json
expect_status 1
expect_out_line "Success: 3"
expect_out_line "Failures: 2"
expect_access_log 5
expect_eq "$(grep -c '"GET /status/404 HTTP/1.1" 404' "$NGINX_LOG")" 4 "404s in nginx's log"
expect_eq "$(grep -c '"GET /need-cookie HTTP/1.1" 403' "$NGINX_LOG")" 1 "403s in nginx's log"
# Hits per row against the log; OK: 404 expected once (test_expected) out of 4.
expect_eq "$(jq --arg k "GET $NGINX_URL/status/404" '.urls[] | select(.url == $k) | [.hits, .ok]' -c s.json)" \
    "[3,1]" "hits and OK of GET /status/404 (unnamed)"
expect_eq "$(jq '.urls[] | select(.url == "missing page") | [.hits, .ok]' -c s.json)" \
    "[1,0]" "hits and OK of the named one"
expect_eq "$(jq --arg k "GET $NGINX_URL/need-cookie" '.urls[] | select(.url == $k) | [.hits, .ok]' -c s.json)" \
    "[1,1]" "hits and OK of the expected 403"
expect_eq "$(jq -r '.failure_messages[] | select(.test == "TestStatus.test_fail_default") | .message' s.json)" \
    "GET /status/404: status 404, expected below 400" "the default's failure"
expect_eq "$(jq -r '.failure_messages[] | select(.test == "TestStatus.test_fail_named") | .message' s.json)" \
    "missing page: status 404, expected 201 or 2xx" "the named request's failure"

step "a request's own timeout (0.5 s) under --timeout 30"
run_loads_timed named_cases.TestTimeout.test_short --server-url "$NGINX_URL" --json s.json
expect_status 1
expect_json_errors s.json 1 TestTimeout.test_short \
    "^GET http://127.0.0.1:[0-9]+/slow: Operation timed out \\(the request's timeout, 0.5s\\)$"
expect_num "$WALL" "<" 10 "seconds the run took"
