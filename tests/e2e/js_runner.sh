#!/usr/bin/env bash
# A client in another language: examples/js/loads-runner.js, a Node.js
# runner written from docs/protocol.md alone, drives a real broker and 2
# agents.  It pings the broker and lists its agents as loads-runner does;
# its run of -u 2 -c 5 on 2 agents reports the hits that nginx's access log
# has and that loads-runner --agents 2 reports for the same plan; a failing
# test is exit 1; Ctrl-C stops a duration run (exit 130) and the agents are
# idle again; a bad broker address is exit 2 with one line; with CURVE
# keys (zcert files of loads-broker --keygen) it runs on a keyed agent,
# and a runner with a key the broker does not allow is refused; a 7 s
# build of the module does not lose the runner.  The npm
# packages are installed with `npm ci` into the test's temp dir; only when
# the npm registry cannot be reached does the test SKIP.
source "$(dirname "$0")/../lib.sh"
source "$REPO/tests/e2e/cluster_lib.bash"

JS=$TMP_ROOT/js

# run_js ARGS...: the JS runner in TEST_DIR, as run_loads runs loads-runner.
run_js() {
    LAST_RUN="loads-runner.js ${*@Q}"
    echo "\$ $LAST_RUN"
    STATUS=0
    (cd "$TEST_DIR" && exec timeout 60 node "$JS/loads-runner.js" "$@") \
        </dev/null >"$OUT" 2>"$ERR" &
    RUN_PID=$!
    wait "$RUN_PID" || STATUS=$?
    RUN_PID=
    echo "  status $STATUS, $(grep -c '' "$OUT") lines on stdout, $(grep -c '' "$ERR") on stderr"
}

step "npm ci in the test's folder"
command -v node >/dev/null && command -v npm >/dev/null ||
    fail "no node or npm: scripts/deps installs them"
mkdir -p "$JS"
cp "$REPO"/examples/js/{package.json,package-lock.json,loads-runner.js} "$JS/"
if ! (cd "$JS" && timeout 120 npm ci --no-audit --no-fund --prefer-offline \
    --fetch-retries=1 --fetch-retry-mintimeout=1000 --fetch-retry-maxtimeout=2000) \
    >"$TMP_ROOT/npm.log" 2>&1; then
    if ! timeout 20 npm ping --fetch-retries=0 >/dev/null 2>&1; then
        echo "SKIP: npm ci cannot reach the npm registry ($(npm config get registry)):" \
            "$(grep -m1 -iE 'ERR|error' "$TMP_ROOT/npm.log" || true)"
        exit 0
    fi
    fail "npm ci failed with the registry reachable" "$(cat "$TMP_ROOT/npm.log")"
fi

use_module example.c
use_module failing.c
use_module js_sleep.c
start_nginx
start_broker
start_agent a1
start_agent a2
wait_agents 2

step "--ping-broker: the line loads-runner prints"
run_loads --ping-broker --broker "$BROKER"
expect_status 0
C_PING=$(<"$OUT")
run_js --ping-broker --broker "$BROKER"
expect_status 0
expect_out_line "$C_PING"

step "--check-cluster: both agents, idle"
run_js --check-cluster --broker "$BROKER"
expect_status 0
expect_out_line "Agents: 2"
expect_out_count " idle " 2
expect_out_contains "  a1 "
expect_out_contains "  a2 "

step "-u 2 -c 5 --agents 2: 2 x 10 hits, nginx's count, loads-runner's"
: >"$NGINX_LOG"
run_js example.TestWebSite.test_something --server-url "$NGINX_URL" -u 2 -c 5 --agents 2 \
    --broker "$BROKER"
expect_status 0
expect_out_line "Hits: 20"
expect_out_line "Runs: 20 of 20 planned"
expect_out_line "Success: 20"
expect_out_line "Failures: 0"
expect_out_line "Errors: 0"
expect_out_line "Agents: 2 (0 lost)"
expect_out_count ": done 10 hits" 2
expect_access_log 20
# The percentiles come from the merged histograms: a p50 no larger than
# the p99, both within [min, max].
read -r min p50 p99 max < <(awk '/^Latency \(ms\):/ { print $4, $8, $10, $12 }' "$OUT")
expect_num "$min" "<=" "$p50" "min <= p50"
expect_num "$p50" "<=" "$p99" "p50 <= p99"
expect_num "$p99" "<=" "$max" "p99 <= max"
sed "s/^/    > /" "$OUT"
JS_HITS=$(out_field Hits)
wait_agents 2
: >"$NGINX_LOG"
run_loads example.TestWebSite.test_something --server-url "$NGINX_URL" -u 2 -c 5 --agents 2 \
    --broker "$BROKER"
expect_status 0
expect_eq "$(out_field Hits)" "$JS_HITS" "loads-runner's hits against the JS runner's"
expect_access_log "$JS_HITS"

step "--attach: a run of loads-runner, its figures as loads-runner --attach reads them"
# The same deltas decoded by both runners: the hits, and the percentiles
# of the merged histograms, to the microsecond (3 ms responses: slots 2 us
# wide or more, whose value is their midpoint).
wait_agents 2
run_loads js_sleep.TestSleep.test_3ms --server-url "$NGINX_URL" -u 3 -c 100 \
    --agents 2 --broker "$BROKER" --detach
expect_status 0
RUN_ID=$(<"$OUT")
run_loads --attach "$RUN_ID" --broker "$BROKER" --json "$TMP_ROOT/attach.json"
expect_status 0
run_js --attach "$RUN_ID" --broker "$BROKER"
expect_status 0
expect_out_line "Hits: 600"
read -r min p50 p99 max < <(awk '/^Latency \(ms\):/ { print $4, $8, $10, $12 }' "$OUT")
for f in min p50 p99 max; do
    expect_num "${!f}" == "$(jq -r ".latency_ms.$f" "$TMP_ROOT/attach.json")" "$f against loads-runner's"
done

step "a failing test: its failures, exit 1"
wait_agents 2
run_js failing.TestFailing --server-url "$NGINX_URL" -c 2 --agents 2 --broker "$BROKER" --quiet
expect_status 1
expect_num "$(out_field Failures)" ">" 0 "failures"

step "Ctrl-C stops a duration run: exit 130, the agents idle again"
wait_agents 2
: >"$OUT"
: >"$NGINX_LOG"
(cd "$TEST_DIR" && exec timeout 60 node "$JS/loads-runner.js" example.TestWebSite.test_something \
    --server-url "$NGINX_URL" -u 1 -d 30s --agents 2 --broker "$BROKER") \
    </dev/null >"$OUT" 2>"$ERR" &
RUN_PID=$!
LAST_RUN="loads-runner.js -d 30s (Ctrl-C)"
for ((i = 0; i < 100; i++)); do
    grep -q '^  second ' "$OUT" && break
    sleep 0.1
done
grep -q '^  second ' "$OUT" || fail "no per-second line within 10 s"
NODE_PID=$(pgrep -P "$RUN_PID" -x node) || fail "no node process under timeout"
kill -INT "$NODE_PID"
STATUS=0
wait "$RUN_PID" || STATUS=$?
RUN_PID=
sed "s/^/    > /" "$OUT" "$ERR"
expect_status 130
expect_err_contains "stopping run"
expect_out_line "Agents: 2 (0 lost)"
expect_out_line "Stopped by: SIGINT (Ctrl-C)"
expect_eq "$(out_field Hits)" "$(access_log_lines)" "hits of the stopped run against nginx"
wait_agents 2

step "a bad broker address: exit 2, one line"
run_js --ping-broker --broker nonsense
expect_status 2
expect_err_one_line
expect_err_contains "invalid --broker 'nonsense'"
expect_out_empty
run_js example.TestWebSite.test_something --agents 2 --broker tcp://127.0.0.1
expect_status 2
expect_err_one_line
expect_out_empty

step "CURVE: the zcert files of loads-broker --keygen; a key not allowed is refused"
# The keyed agent's compiler takes 7 s, more than the 5 s after which the
# broker drops a silent watcher: the runner's heartbeats while it waits for
# the start keep the run alive.
cat >"$TMP_ROOT/slow-cc" <<'SH'
#!/bin/sh
sleep 7
exec cc "$@"
SH
chmod +x "$TMP_ROOT/slow-cc"
K=$TMP_ROOT/keys
mkdir -p "$K/allow"
for n in broker agent runner stranger; do
    "$BUILD/loads-broker" --keygen "$K/$n" >/dev/null || fail "--keygen $n"
done
cp "$K/agent" "$K/runner" "$K/allow/"
start_broker --key "$K/broker" --allow "$K/allow"
CC=$TMP_ROOT/slow-cc start_agent k1 --key "$K/agent" --broker-key "$K/broker"
wait_agents 1 --key "$K/runner" --broker-key "$K/broker"
: >"$NGINX_LOG"
run_js example.TestWebSite.test_something --server-url "$NGINX_URL" -c 3 --agents 1 \
    --broker "$BROKER" --key "$K/runner" --broker-key "$K/broker" --quiet
expect_status 0
expect_out_line "Hits: 3"
expect_access_log 3
grep -q "runner is gone" "$BROKER_LOG" && fail "the broker dropped the runner" "$(cat "$BROKER_LOG")"
run_js --ping-broker --broker "$BROKER" --key "$K/stranger" --broker-key "$K/broker"
expect_status 2
expect_err_one_line
expect_err_contains "the broker refused this runner's key (CURVE)"
run_js --ping-broker --broker "$BROKER"
expect_status 2
expect_err_one_line
expect_err_contains "no answer from the broker $BROKER in 10 s"
