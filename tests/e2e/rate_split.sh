#!/usr/bin/env bash
# The schedule is split without rounding: --rate 333.3 -d 3s is 999.9 runs,
# so 1,000 (runs 0..999), whether one worker runs them, two (runs 0, 2,
# 4... and 1, 3, 5...), or two agents of two workers each (4 stripes): the
# same count in nginx's log, each worker's share exactly (its pid is in
# X-Loads-Pid, which nginx logs in pids.log).  --rate is the whole run's
# with --agents (while -u is each agent's).  (The spread of a schedule over
# time, by nginx's clock, is rate_accuracy's and rate_stages'.)
source "$(dirname "$0")/../lib.sh"
source "$REPO/tests/e2e/cluster_lib.bash"

use_module engine_pid.c
start_nginx
test=engine_pid.TestPid.test_whoami
NGINX_LOG=$NGINX_DIR/pids.log # GET /whoami is logged there only: a pid a line

# expect_split SHARES...: pids.log has 1,000 lines, from as many pids as
# shares, each pid's count one of the shares (sorted).
expect_split() {
    local counts
    expect_access_log 1000
    counts=$(sort "$NGINX_LOG" | uniq -c | awk '{ print $1 }' | sort -n | tr '\n' ' ')
    expect_eq "$counts" "$* " "runs per worker pid"
}

split_run() {
    : >"$NGINX_LOG"
    run_loads "$test" --server-url "$NGINX_URL" --rate 333.3 -d 3s -u 2 --json "$TMP_ROOT/s.json" "$@"
    expect_status 0
    expect_no_core
    expect_eq "$(jq .rate.scheduled "$TMP_ROOT/s.json")" 1000 "runs scheduled"
    expect_eq "$(jq .rate.started "$TMP_ROOT/s.json")" 1000 "runs started"
    expect_eq "$(jq .dropped "$TMP_ROOT/s.json")" 0 "runs dropped"
    expect_out_line "Rate: 333.3/s, 3 s (1000 runs scheduled)"
}

step "one worker"
split_run -w 1
expect_split 1000

step "two workers: 500 each"
split_run -w 2
expect_split 500 500

step "three workers: 334, 333, 333 (runs 0, 3, 6... to 999)"
split_run -w 3
expect_split 333 333 334

step "two agents of two workers: 250 each, the rate the whole run's"
start_broker
start_agent a1
start_agent a2
wait_agents 2
split_run -w 2 --agents 2 --broker "$BROKER"
expect_split 250 250 250 250
expect_out_contains "Agents: 2 (0 lost)"
expect_eq "$(jq -c '[.agents[].runs] | sort' "$TMP_ROOT/s.json")" "[500,500]" "runs per agent"
expect_eq "$(jq .rate.users "$TMP_ROOT/s.json")" 4 "users ready: -u 2 on each agent"

step "three agents of one worker: 334, 333, 333"
start_agent a3
wait_agents 3
split_run -w 1 --agents 3 --broker "$BROKER"
expect_split 333 333 334

step "thresholds on a cluster's merged figures: exit 99"
: >"$NGINX_LOG"
run_loads "$test" --server-url "$NGINX_URL" --rate 100 -d 1s --agents 3 --broker "$BROKER" \
    --json "$TMP_ROOT/s.json" --threshold 'hits==100' --threshold 'p99<1us'
expect_status 99
expect_access_log 100
expect_out_line "Thresholds: 1 of 2 failed"
expect_eq "$(jq -c '[.thresholds[] | .pass]' "$TMP_ROOT/s.json")" "[true,false]" "passes"
expect_eq "$(jq '.agents | length' "$TMP_ROOT/s.json")" 3 "agents in the JSON"

step "a stop on three agents: each counts the runs of its stripe due by it, they add up"
# The runner cannot know which runs were due by its stop (each agent's
# schedule began at its own time): each agent's last delta says (du).
: >"$NGINX_LOG"
start_loads "$test" --server-url "$NGINX_URL" --rate 200 -d 30s -u 2 --agents 3 --broker "$BROKER" \
    --json "$TMP_ROOT/stop.json"
wait_access_log 100
runner=$(runner_pid) || fail "no loads-runner under timeout"
kill -INT "$runner"
wait_loads
expect_status 130
due=$(jq .rate.due "$TMP_ROOT/stop.json")
started=$(jq .rate.started "$TMP_ROOT/stop.json")
dropped=$(jq .rate.dropped "$TMP_ROOT/stop.json")
after=$(jq .stopped.after "$TMP_ROOT/stop.json")
echo "  stopped after $after s: $due due, $started started, $dropped dropped"
[[ $due =~ ^[0-9]+$ ]] || fail "rate.due: expected a number, got '$due'"
expect_eq "$((started + dropped))" "$due" "runs started + dropped"
expect_access_log "$started"
# The agents began their schedules after the runner's clock did.
expect_num "$due" "<=" "$(awk -v a="$after" 'BEGIN { printf "%d", 200 * a + 3 }')" \
    "runs due by the stop"
expect_out_contains "$due due by the stop"
