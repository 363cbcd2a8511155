#!/usr/bin/env bash
# Nothing lost: 100 VUs over 2 workers for KILL_DURATION seconds (12), one
# worker killed with SIGKILL every KILL_EVERY seconds (3).  Each kill is
# reported, the worker is replaced and the run goes on; the hits counted
# are nginx's lines minus at most the requests that were in flight in the
# killed workers, which are counted as errors.  KILL_DURATION=60
# KILL_EVERY=10 is the full check of the project's issue.
source "$(dirname "$0")/../lib.sh"
DURATION=${KILL_DURATION:-12}
EVERY=${KILL_EVERY:-3}
KILLS=$(((DURATION - 1) / EVERY))
LOADS_LIMIT=$((DURATION + 30))
use_module sig_tests.c
start_nginx
run_loads sig_tests.TestSig.test_busy --server-url "$NGINX_URL" -q # compile
: >"$NGINX_LOG"

step "100 VUs for ${DURATION}s, a worker killed every ${EVERY}s ($KILLS kills)"
start_loads sig_tests.TestSig.test_busy --server-url "$NGINX_URL" -u 100 -w 2 \
    -d "${DURATION}s" --output json
sleep 0.5
runner=$(runner_pid)
for ((k = 1; k <= KILLS; k++)); do
    sleep "$EVERY"
    victim=$(pgrep -P "$runner" | sed -n "$(((k % 2) + 1))p")
    [[ -n $victim ]] || victim=$(pgrep -P "$runner" | head -n 1)
    [[ -n $victim ]] || fail "no worker to kill at kill $k"
    echo "  kill $k: worker $victim"
    kill -KILL "$victim"
done
before_end=$(access_log_lines)
wait_loads
expect_status 1
hits=$(jq .hits "$OUT")
errors=$(jq .errors "$OUT")
logged=$(access_log_lines)
echo "  hits $hits, logged $logged, errors $errors, failures $(jq .failures "$OUT")"
expect_eq "$(jq .crashes "$OUT")" "$KILLS" "crashes"
expect_eq "$(jq .failures "$OUT")" 0 "failures"
expect_eq "$(jq '[.crash_messages[] | select(.message | contains("killed by signal 9"))] | map(.count) | add' "$OUT")" \
    "$KILLS" "crash messages naming signal 9"
expect_num "$logged" ">=" "$hits" "nginx's lines vs hits"
expect_num "$((logged - hits))" "<=" "$errors" "requests lost with the killed workers"
expect_num "$errors" "<=" "$((KILLS * 50))" "errors (at most the killed workers' VUs)"
expect_num "$((logged - before_end))" ">" 0 "requests after the last kill"
expect_num "$(jq .duration "$OUT")" "<" "$((DURATION + 6))" "duration"
