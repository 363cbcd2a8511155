#!/usr/bin/env bash
# The broker killed with SIGKILL in the middle of a run: the agents stop
# their load within a few seconds (nginx's log stops growing), the runner
# says it lost the broker and exits 1, the agents live on; a new broker on
# the same endpoint finds them registered again by themselves, and a run
# on them works.
source "$(dirname "$0")/../lib.sh"
source "$REPO/tests/e2e/cluster_lib.bash"

use_module sig_tests.c
start_nginx
start_broker
start_agent a1
start_agent a2
wait_agents 2

step "a 30 s run on 2 agents; the broker killed at ~2 s"
start_loads sig_tests.TestSig.test_browse --server-url "$NGINX_URL" -u 2 -d 30s \
    --agents 2 --broker "$BROKER" -q
for ((i = 0; i < 300; i++)); do
    (($(access_log_lines) > 20)) && break
    sleep 0.1
done
(($(access_log_lines) > 20)) || fail "the run did not start: $(access_log_lines) lines"
sleep 1
kill -KILL "$BROKER_PID"
t_kill=$(now)
wait "$BROKER_PID" 2>/dev/null || true

# Within CL_TIMEOUT_MS (5 s) and the stop's escalation (2 s), and a margin.
# The load has stopped when no agent has a run (a child) any more; a pause
# in nginx's log is no proof of it (a busy machine may pause the load).
stopped=
for ((i = 0; i < 300; i++)); do
    runs=
    for p in "${AGENT_PIDS[@]}"; do
        runs+=$(pgrep -P "$p" || true)
    done
    if [[ -z $runs ]]; then
        stopped=$(awk -v a="$t_kill" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
        break
    fi
    sleep 0.1
done
[[ -n $stopped ]] || fail "the agents still have a run 30 s after the broker died: $runs"
echo "  the load stopped within $stopped s of the broker's death"
expect_num "$stopped" "<" 10 "seconds until the load stopped"
n1=$(access_log_lines)
sleep 1
expect_eq "$(access_log_lines)" "$n1" "nginx's log lines 1 s after the agents' runs ended"
for p in "${AGENT_PIDS[@]}"; do
    alive "$p" || fail "agent $p died with the broker"
done
grep -q "no word from the broker" "$TMP_ROOT/agent-a1.log" ||
    fail "agent a1 did not say it lost the broker" "$(cat "$TMP_ROOT/agent-a1.log")"

wait_loads
expect_status 1
expect_err_contains "loads-runner: lost the broker $BROKER at "

step "a new broker on the same endpoint: the agents register again by themselves"
"$BUILD/loads-broker" --endpoint "$BROKER" </dev/null >>"$BROKER_LOG" 2>&1 &
BROKER_PID=$!
PIDS+=("$BROKER_PID")
for ((i = 0; i < 300; i++)); do
    cluster_check
    (($(grep -c ' idle ' <<<"$CHECK_OUT" || true) == 2)) && break
    sleep 0.1
done
(($(grep -c ' idle ' <<<"$CHECK_OUT" || true) == 2)) ||
    fail "the agents did not register with the new broker" "$CHECK_OUT"
: >"$NGINX_LOG"
run_loads sig_tests.TestSig.test_browse --server-url "$NGINX_URL" -u 2 -c 3 --agents 2 \
    --broker "$BROKER"
expect_status 0
expect_out_line "Hits: 12"
expect_access_log 12
