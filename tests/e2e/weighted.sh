#!/usr/bin/env bash
# A suite with weights runs one test per hit, picked by weight: with 2 VUs
# of 100 hits (a full round each), exactly 140 browse, 40 search,
# 18 buy and 2 rare, counted per test in the summary and the JSON, and
# each count equal to nginx's log of that test's URL.  On 2 workers too,
# and in a duration run the shares come close to the weights.
source "$(dirname "$0")/../lib.sh"

use_module weighted_cases.c
start_nginx

logged() { grep -c "\"$1 HTTP/1.1\" $2" "$NGINX_LOG" || true; }

for workers in 1 2; do
    step "-u 2 -c 100 on $workers worker(s)"
    : >"$NGINX_LOG"
    run_loads weighted_cases.TestShop --server-url "$NGINX_URL" -u 2 -c 100 -w $workers \
        --json s.json
    expect_status 1
    expect_out_line "Hits: 200"
    expect_out_line "Success: 198"
    expect_out_line "Failures: 2"
    expect_access_log 200
    expect_eq "$(jq .planned_runs s.json)" 200 "planned runs (one test per hit)"
    expect_eq "$(logged "GET /api/items/1" 200)" 140 "browse requests in nginx's log"
    expect_eq "$(logged "GET /search?q=shoes" 200)" 40 "search requests in nginx's log"
    expect_eq "$(logged "POST /post" 200)" 18 "buy requests in nginx's log"
    expect_eq "$(logged "GET /status/404" 404)" 2 "rare requests in nginx's log"
    expect_eq "$(jq -c '[.tests[] | [.test, .runs, .success, .failures]]' s.json)" \
        '[["TestShop.browse",140,140,0],["TestShop.buy",18,18,0],["TestShop.rare",2,0,2],["TestShop.search",40,40,0]]' \
        "runs per test"
    expect_out_sequence "Test +Runs +Success +Failures +Errors +Interrupted" \
        "TestShop.browse +140 +140 +0 +0 +0" "TestShop.buy +18 +18 +0 +0 +0" \
        "TestShop.rare +2 +0 +2 +0 +0" "TestShop.search +40 +40 +0 +0 +0" \
        "Total +200 +198 +2 +0 +0"
done

step "a duration run: shares near the weights"
: >"$NGINX_LOG"
run_loads weighted_cases.TestShop --server-url "$NGINX_URL" -u 3 -d 2s --json s.json
expect_status 1
runs=$(jq .runs s.json)
browse=$(jq '.tests[] | select(.test == "TestShop.browse") | .runs' s.json)
expect_num "$runs" ">" 300 "runs in 2 s"
expect_eq "$(logged "GET /api/items/1" 200)" "$browse" "browse runs against nginx's log"
# Each VU is within one round (100 runs) of the exact share.
expect_num "$(awk -v b="$browse" -v r="$runs" 'BEGIN { d = b - 0.7 * r; print (d < 0 ? -d : d) }')" \
    "<=" 300 "browse runs off 70% of $runs"
