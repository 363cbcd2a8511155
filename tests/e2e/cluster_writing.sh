#!/usr/bin/env bash
# What tests write reaches a cluster run: --env values and the rows of
# --data (shared out over the agents: agent k takes every N-th row from
# its k-th, so no two agents take the same row until the file wraps);
# checks, trends, gauges and per-test outcomes travel in the agents'
# deltas.  (LOADS_SETUP_ONCE on a cluster: tests/e2e/cluster_scopes.sh.)
source "$(dirname "$0")/../lib.sh"
source "$REPO/tests/e2e/cluster_lib.bash"

use_module data_cases.c
use_module metrics_cases.c
start_nginx
start_broker
for n in a1 a2; do
    start_agent "$n"
done
wait_agents 2
{
    echo "id,name"
    for i in $(seq 1 30); do echo "$i,name $i"; done
} >items.csv
ids() { awk '{ print $7 }' "$NGINX_LOG" | sed -nE 's|^/api/items/([0-9]+)\?.*|\1|p'; }

step "--data on 2 agents of 2 VUs x 5 runs: 20 different rows of 30"
run_loads data_cases.TestData.test_row --server-url "$NGINX_URL" --data items.csv -u 2 -c 5 \
    --agents 2 --broker "$BROKER"
expect_status 0
expect_out_line "Success: 20"
expect_access_log 20
expect_eq "$(ids | sort -u | wc -l)" 20 "distinct rows over both agents"
expect_eq "$(ids | awk '$1 < 1 || $1 > 30' | wc -l)" 0 "rows outside the file"

step "--env on the agents"
: >"$NGINX_LOG"
run_loads data_cases.TestData.test_env --server-url "$NGINX_URL" --env GREETING=hi \
    --agents 2 --broker "$BROKER"
expect_status 0
expect_access_log 2
expect_eq "$(grep -c 'GET /search?q=hi&home=none ' "$NGINX_LOG")" 2 "requests with the value"

step "checks, trends, gauges and tests travel: twice a local run's counts"
: >"$NGINX_LOG"
run_loads metrics_cases.TestMetrics.test_items --server-url "$NGINX_URL" -u 2 -c 3 \
    --agents 2 --broker "$BROKER" --json s.json
expect_status 0
expect_access_log 60
expect_eq "$(jq -c '.checks[] | select(.name == "id not a multiple of 5") | [.passes, .fails]' s.json)" \
    "[48,12]" "the check over both agents"
expect_eq "$(jq '.trends["body bytes"].count' s.json)" 60 "values of the trend"
expect_eq "$(jq '.trends["body bytes"].max' s.json)" \
    "$(awk '{ print $10 }' "$NGINX_LOG" | sort -n | tail -n 1)" "the trend's max (nginx's log)"
expect_eq "$(jq '.gauges["last id"]' s.json)" 5 "the gauge"
expect_eq "$(jq -c '[.tests[] | [.test, .runs]]' s.json)" '[["TestMetrics.test_items",12]]' \
    "runs per test"

