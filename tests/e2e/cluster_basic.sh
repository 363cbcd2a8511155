#!/usr/bin/env bash
# The seed's cluster example on one machine: a broker and 3 agents on
# loopback; `-u 10:20:30 -c 20 --agents 3` runs the whole plan on each
# agent, 3 x 1200 = 3600 hits, exactly the lines of nginx's access log;
# the summary has the local run's fields plus the agents; the JSON
# agrees; --ping-broker and --check-cluster tell the cluster's state.
source "$(dirname "$0")/../lib.sh"
source "$REPO/tests/e2e/cluster_lib.bash"


use_module example.c
start_nginx
start_broker
for n in a1 a2 a3; do
    start_agent "$n"
done
wait_agents 3

step "--ping-broker"
run_loads --ping-broker --broker "$BROKER"
expect_status 0
expect_out_line "broker $BROKER answers: Loads 0.1.0, 3 agents"

step "-u 10:20:30 -c 20 --agents 3: 3 x 1200 hits"
run_loads example.TestWebSite.test_something --server-url "$NGINX_URL" -u 10:20:30 -c 20 \
    --agents 3 --broker "$BROKER" --json "$TMP_ROOT/run.json"
expect_status 0
expect_out_line "Hits: 3600"
expect_out_line "Success: 3600"
expect_out_line "Errors: 0"
expect_out_line "Failures: 0"
expect_out_contains "Agents: 3 (0 lost)"
expect_out_count " done " 3
expect_access_log 3600
expect_eq "$(jq .hits "$TMP_ROOT/run.json")" 3600 ".hits in the JSON"
expect_eq "$(jq .planned_runs "$TMP_ROOT/run.json")" 3600 ".planned_runs in the JSON"
expect_eq "$(jq '[.agents[].hits] | add' "$TMP_ROOT/run.json")" 3600 "the agents' hits"
expect_eq "$(jq '[.agents[] | select(.state == "done")] | length' "$TMP_ROOT/run.json")" 3 \
    "agents done"
expect_eq "$(jq '.urls[0].hits' "$TMP_ROOT/run.json")" 3600 "hits of the URL"
expect_eq "$(jq '.latency_ms.count' "$TMP_ROOT/run.json")" 3600 "latencies counted"

step "--check-cluster: the 3 agents idle again, the run done"
cluster_check
echo "$CHECK_OUT"
expect_eq "$(grep -c ' idle ' <<<"$CHECK_OUT")" 3 "idle agents"
grep -q ' done ' <<<"$CHECK_OUT" || fail "no done run in" "$CHECK_OUT"

step "too many agents asked: a clear error, nothing runs"
: >"$NGINX_LOG"
run_loads example.TestWebSite.test_something --server-url "$NGINX_URL" --agents 4 \
    --broker "$BROKER"
expect_usage_error
expect_err_contains "4 agents asked for, 3 idle (3 connected to the broker)"
expect_access_log 0
