#!/usr/bin/env bash
# --detach starts a run on the agents, prints its id and exits 0; --attach
# RUN_ID on the broker follows it to its end and prints its summary; a
# second --attach after the end prints the same summary at once.
# --purge-broker stops a detached run at once.  An unknown run id is a
# clear error.
source "$(dirname "$0")/../lib.sh"
source "$REPO/tests/e2e/cluster_lib.bash"

use_module sig_tests.c
start_nginx
start_broker
start_agent a1
start_agent a2
wait_agents 2

step "--detach"
run_loads sig_tests.TestSig.test_browse --server-url "$NGINX_URL" -u 3 -c 10 --agents 2 \
    --broker "$BROKER" --detach
expect_status 0
RUN=$(head -n 1 "$OUT")
[[ $RUN =~ ^[0-9a-f]{16}$ ]] || fail "stdout: expected a run id, got '$RUN'"
expect_err_contains "--attach $RUN --broker $BROKER"

step "--attach while it runs: the summary at its end"
run_loads --attach "$RUN" --broker "$BROKER" --json "$TMP_ROOT/first.json"
expect_status 0
expect_out_line "Hits: 60"
expect_out_line "Success: 60"
expect_out_contains "Agents: 2 (0 lost)"
expect_access_log 60
sed -e '/^Started: /d' "$OUT" >"$TMP_ROOT/first.txt"

step "--attach after the end: the same summary"
run_loads --attach "$RUN" --broker "$BROKER" --json "$TMP_ROOT/second.json"
expect_status 0
sed -e '/^Started: /d' "$OUT" >"$TMP_ROOT/second.txt"
diff "$TMP_ROOT/first.txt" "$TMP_ROOT/second.txt" ||
    fail "the two summaries differ"
diff <(jq -S 'del(.started)' "$TMP_ROOT/first.json") \
    <(jq -S 'del(.started)' "$TMP_ROOT/second.json") || fail "the two JSON summaries differ"
expect_eq "$(jq -r .started "$TMP_ROOT/first.json")" "$(jq -r .started "$TMP_ROOT/second.json")" \
    "start time"

step "--purge-broker stops a detached run"
run_loads sig_tests.TestSig.test_browse --server-url "$NGINX_URL" -u 2 -d 60s --agents 2 \
    --broker "$BROKER" --detach
expect_status 0
LONG=$(head -n 1 "$OUT")
run_loads --check-cluster --broker "$BROKER"
expect_out_count " running " 3 # 2 agents, 1 run
run_loads --purge-broker --broker "$BROKER"
expect_status 0
expect_out_line "broker $BROKER: stopping 1 run"
t0=$(now)
run_loads --attach "$LONG" --broker "$BROKER" --output json
# A purge stops at once: tests cut in the middle are Errors, so 0 or 1.
((STATUS == 0 || STATUS == 1)) || fail "exit status: expected 0 or 1, got $STATUS"
expect_eq "$(jq .exit_status "$OUT")" "$STATUS" "exit_status in the JSON"
took=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
expect_num "$took" "<" 10 "seconds until the purged run ended"
expect_eq "$(jq '[.agents[] | select(.state == "done")] | length' "$OUT")" 2 "agents done"
wait_agents 2

step "an unknown run"
run_loads --attach 00000000deadbeef --broker "$BROKER"
expect_usage_error
expect_err_contains "no run 00000000deadbeef on this broker"
