#!/usr/bin/env bash
# Deltas are never lost: in a -d 8s run on 2 agents, agent a1's TCP
# connection to the broker is destroyed twice (ss -K), so that deltas and
# acks in flight are lost; ZeroMQ reconnects, the broker knows a1 again by
# its host and pid, and a1 resends what was not acknowledged.  The run
# ends with both agents done and every hit counted: the hits equal nginx's
# lines exactly.  Skipped, with a message, where ss cannot destroy sockets.
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

step "-d 8s on 2 agents; a1's connection destroyed at ~2.5 s and ~5 s"
start_loads sig_tests.TestSig.test_browse --server-url "$NGINX_URL" -u 4 -d 8s --grace 2 \
    --agents 2 --broker "$BROKER" --json "$TMP_ROOT/run.json" -q
# Each cut comes once the load is under way (nginx's log grows) and a1 is
# connected again after the last cut: waiting for these, not for a fixed
# time, keeps both cuts in the run on a machine that is slow to start it.
wait_access_log 20
old=
for k in 1 2; do
    sleep 1.5
    for ((i = 0; i < 300; i++)); do
        sport=$(agent_sport "$A1")
        [[ -n $sport && $sport != "$old" ]] && break
        sleep 0.1
    done
    [[ -n $sport && $sport != "$old" ]] || fail "a1 has no new connection to the broker at cut $k"
    ss -K "sport = :$sport" "dport = :$PORT" >/dev/null 2>&1
    old=$sport
    echo "  cut $k: a1's connection from port $sport destroyed"
done
wait_loads
expect_status 0
expect_out_contains "Agents: 2 (0 lost)"
hits=$(jq .hits "$TMP_ROOT/run.json")
expect_access_log "$hits"
expect_eq "$(jq '[.agents[] | select(.state == "done")] | length' "$TMP_ROOT/run.json")" 2 \
    "agents done"
echo "  hits $hits = nginx's lines"
echo "  a1 sent deltas again $(grep -c 'unacknowledged delta' "$TMP_ROOT/agent-a1.log" || true)" \
    "time(s); the broker sent a run or start again" \
    "$(grep -c 'again$' "$BROKER_LOG" || true) time(s)"
