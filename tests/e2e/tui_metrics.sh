#!/usr/bin/env bash
# The dashboard shows checks, trends, counters and gauges in a panel of
# their own, live, with the figures of the summary's kinds.
source "$(dirname "$0")/../lib.sh"
source "$REPO/tests/e2e/tui_lib.bash"

use_module metrics_cases.c
start_nginx
test=metrics_cases.TestMetrics.test_items

step "a 3 s run of 2 users on a 120x40 terminal"
tui_start 120 40 env LANG=C.UTF-8 LC_ALL= "$BUILD/loads-runner" "$test" -u 2 -d 3s \
    --server-url "$NGINX_URL"
tui_wait "Checks, trends, counters, gauges"
tui_wait "id not a multiple of 5"
screen=$(tui_screen)
grep -qE '^check +status is 200 +[0-9]+ pass +0 fail 100\.00%' <<<"$screen" ||
    fail "no row for the check 'status is 200'" "$screen"
grep -qE '^check +id not a multiple of 5 +[0-9]+ pass +[0-9]+ fail +[0-9.]+%' <<<"$screen" ||
    fail "no row for the check 'id not a multiple of 5'" "$screen"
grep -qE '^trend +body bytes +[0-9]+ +p50 +6[0-9.]+ +p99 +6[0-9.]+' <<<"$screen" ||
    fail "no row for the trend 'body bytes'" "$screen"
grep -qE '^counter +multiples of 5 +[0-9]+' <<<"$screen" ||
    fail "no row for the counter" "$screen"
grep -qE '^gauge +last id +[1-5]$' <<<"$screen" || fail "no row for the gauge" "$screen"
tui_wait_end 15
tui_expect_summary
