#!/usr/bin/env bash
# Checks (passes, fails, rate), trends (percentiles of the values a test
# recorded) and gauges (the last value), in the summary and the JSON, with
# several workers; body sizes checked against nginx's log of bytes sent.
source "$(dirname "$0")/../lib.sh"

use_module metrics_cases.c
start_nginx

step "4 VUs on 2 workers, 3 runs each: 60 items"
run_loads metrics_cases.TestMetrics.test_items --server-url "$NGINX_URL" -u 4 -c 3 -w 2 \
    --json s.json
expect_status 0
expect_out_line "Success: 12"
expect_access_log 60
check() { jq -c --arg n "$1" '.checks[] | select(.name == $n) | [.passes, .fails, .rate]' s.json; }
expect_eq "$(check "status is 200")" "[60,0,1]" "check status is 200"
expect_eq "$(check "the item asked for")" "[60,0,1]" "check the item asked for"
expect_eq "$(check "id not a multiple of 5")" "[48,12,0.8]" "check id not a multiple of 5"
expect_eq "$(jq '.counters["multiples of 5"]' s.json)" 12 "counter of the failed check"
expect_out_contains "$(printf '%-48s %9s %9s %8s' "id not a multiple of 5" 48 12 80.00%)"
# The trend against nginx's own count of body bytes ($body_bytes_sent, the
# 10th field of the combined log), sorted here.
mapfile -t sizes < <(awk '{ print $10 }' "$NGINX_LOG" | sort -n)
expect_eq "$(jq '.trends["body bytes"].count' s.json)" "${#sizes[@]}" "values of the trend"
# Values are kept with 3 significant digits: within 0.1% of the sorted log's.
near() {
    awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= b / 1000) }' ||
        fail "$3: expected $2 within 0.1%, got $1"
}
near "$(jq '.trends["body bytes"].min' s.json)" "${sizes[0]}" "the trend's min"
near "$(jq '.trends["body bytes"].max' s.json)" "${sizes[-1]}" "the trend's max"
near "$(jq '.trends["body bytes"].p50' s.json)" "${sizes[29]}" "the trend's p50 (30th of 60)"
near "$(jq '.trends["body bytes"].p90' s.json)" "${sizes[53]}" "the trend's p90 (54th of 60)"
# The mean is exact: the sum of the values kept over their count.
mean=$(awk '{ s += $10 } END { printf "%.3f", s / NR }' "$NGINX_LOG")
expect_eq "$(jq -r '.trends["body bytes"].mean | . * 1000 | round / 1000 | tostring' s.json | \
    awk '{ printf "%.3f", $1 }')" "$mean" "the trend's mean"
expect_eq "$(jq '.gauges["last id"]' s.json)" 5 "the gauge's last value"
expect_out_line "  last id: 5"

step "the gauge is the value set last, across workers; fractions in a trend"
run_loads metrics_cases.TestMetrics.test_gauge_order --server-url "$NGINX_URL" -u 2 -w 2 \
    --json s.json
expect_status 0
expect_eq "$(jq '.gauges["who was last"]' s.json)" 101 "the gauge"
expect_eq "$(jq -c '.trends.fractions | [.count, .min, .max, .mean]' s.json)" "[2,0.25,0.5,0.375]" \
    "the trend of fractions"

step "a NULL name is an Error"
run_loads metrics_cases.TestMetrics.test_null_name --json s.json
expect_status 1
expect_json_errors s.json 1 TestMetrics.test_null_name "^loads_check: no check name \\(NULL\\)$"

step "thresholds on checks: the share that passed, of all checks or of one by name"
run_loads metrics_cases.TestMetrics.test_items --server-url "$NGINX_URL" -u 4 -c 3 -w 2 \
    --threshold 'checks{id not a multiple of 5}>=80%' --threshold 'checks>=95%' --json s.json
expect_status 99 # 168 of 180 checks passed: 93.3%, not 95%
expect_eq "$(jq -c '[.thresholds[] | .pass]' s.json)" "[true,false]" "thresholds passed"
expect_eq "$(jq '.thresholds[0].measured' s.json)" 80 "the named check's rate, measured"
expect_eq "$(jq '.thresholds[1].measured * 100 | round' s.json)" 9333 "all checks' rate, measured"
