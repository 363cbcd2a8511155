#!/usr/bin/env bash
# A stop is never lost: in a -d 30s run on 2 agents, agent a1's TCP
# connection to the broker is destroyed (ss -K) and the runner gets SIGTERM
# right then, so that the broker's stop to a1 goes down the dead
# connection.  The broker repeats the stop to an agent of a stopped run
# whose heartbeat does not say "stopping", so a1 stops too: nginx's log
# stops growing long before the plan's end (it is checked at half of it),
# and the runner ends then, not after 30 s.  Skipped, with a message,
# where ss cannot destroy sockets.
source "$(dirname "$0")/../lib.sh"
source "$REPO/tests/e2e/cluster_lib.bash"

use_module sig_tests.c
start_nginx
start_broker
PORT=${BROKER##*:}
start_agent a1
A1=$AGENT_PID
start_agent a2
wait_agents 2

cut_or_skip "$A1"
wait_agents 2
: >"$NGINX_LOG"

step "-d 30s on 2 agents; at ~3 s a1's connection is destroyed and the runner gets SIGTERM"
LOADS_LIMIT=60 start_loads sig_tests.TestSig.test_browse --server-url "$NGINX_URL" -u 4 -d 30s \
    --grace 1 --agents 2 --broker "$BROKER" --json "$TMP_ROOT/run.json" -q
t0=$(now)
wait_access_log 21
sleep 2
RUNNER=$(runner_pid)
sport=$(agent_sport "$A1")
[[ -n $sport ]] || fail "a1 has no connection to the broker"
ss -K "sport = :$sport" "dport = :$PORT" >/dev/null 2>&1
kill -TERM "$RUNNER"
t_stop=$(now)
echo "  a1's connection from port $sport destroyed; SIGTERM to the runner" \
    "$(awk -v a="$t0" -v b="$t_stop" 'BEGIN { printf "%.1f", b - a }') s after its start"
# Half the plan after its start, and 2 s later: the load has stopped.
sleep "$(awk -v a="$t0" -v b="$(now)" 'BEGIN { d = a + 15 - b; print (d > 0 ? d : 0) }')"
lines1=$(access_log_lines)
sleep 2
lines2=$(access_log_lines)
echo "  nginx's lines at half the plan: $lines1, 2 s later: $lines2"
expect_eq "$lines2" "$lines1" "nginx's lines 2 s apart, after half of the 30 s plan"
wait_loads
expect_status 143
expect_out_contains "Stopped by SIGTERM"
expect_eq "$(jq '[.agents[] | select(.state == "done")] | length' "$TMP_ROOT/run.json")" 2 \
    "agents done"
expect_num "$(jq .duration "$TMP_ROOT/run.json")" "<" 15 "the run's duration (a 30 s plan)"
grep -q "stop" "$TMP_ROOT/agent-a1.log" || fail "a1 did not log a stop"
echo "  the broker sent a1 the stop again $(grep -c "sending the stop to agent a1:$A1 again" "$BROKER_LOG" || true) time(s)"
