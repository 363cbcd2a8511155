#!/usr/bin/env bash
# Each redirect hop is a hit on its own URL's row, with the method it was
# sent with (a 302 turns a POST into a GET): the URL table's hits per URL
# equal nginx's access log per URL, in the JSON and in the text table.
source "$(dirname "$0")/../lib.sh"

use_module login_flow.c
start_nginx

run_loads login_flow.TestLogin.test_flow --server-url "$NGINX_URL" -u 6 -c 5 --json summary.json
expect_status 0
expect_out_line "Success: 30"
expect_out_line "Hits: 120"
expect_access_log 120
for row in "POST /login" "GET /need-cookie" "GET /redirect" "GET /"; do
    method=${row%% *} path=${row#* }
    logged=$(grep -c "\"$method $path HTTP/1.1\"" "$NGINX_LOG" || true)
    counted=$(jq --arg k "$method $NGINX_URL$path" '[.urls[] | select(.url == $k) | .hits] | add // 0' \
        summary.json)
    expect_eq "$counted" "$logged" "hits of $row (JSON) against nginx's log"
    expect_eq "$logged" 30 "requests of $row in nginx's log"
    expect_out_contains "$(printf '%-48s %9s' "$method $NGINX_URL$path" 30)"
done
expect_eq "$(jq '[.urls[].hits] | add' summary.json)" 120 "hits of every row"
expect_eq "$(jq '.latency_ms.count' summary.json)" 120 "response times: one per hit"
